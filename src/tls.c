/* TLS over OpenSSL memory BIOs for the sans-I/O engine: the caller moves
 * ciphertext, this file never touches a socket. Sessions (TLS 1.3 tickets
 * arrive after the handshake) are kept per context, keyed by host and
 * server name, through the client new-session callback. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "tls.h"

#define TLS_CACHE_MAX 64          /* sessions kept per context */
#define TLS_CHUNK 16384           /* plaintext per SSL_write / SSL_read */
#define TLS_FILE_MAX (64 << 20)   /* largest CA/cert/key file read */

struct tls_session {
	char *key;                  /* host "\n" server_name */
	SSL_SESSION *sess;
};

struct k8s_tls_ctx {
	int refs;
	SSL_CTX *ssl;
	int insecure;
	char *server_name;
	unsigned long gen;          /* bumped when the client certificate changes */
	int has_ca, has_cert;
	unsigned char ca_digest[32], cert_digest[32];
	struct tls_session *cache;
	size_t ncache;
	char identity[33];
};

struct k8s_tls {
	k8s_tls_ctx *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;           /* owned by ssl */
	unsigned long gen;          /* ctx->gen when made */
	char *key;                  /* session cache key */
	char *name;                 /* the name verified, for messages */
	int ip;                     /* name is an IP literal */
	k8s_buf out;                /* ciphertext to send, from out_off */
	size_t out_off;
	int hs_done, peer_closed, sent_close;
	unsigned char first[5];     /* the first bytes received */
	unsigned nfirst;
	unsigned char rec_hdr[5];   /* framing of the received stream */
	unsigned rec_have;
	size_t rec_left;
	int err_code;               /* a fatal error, repeated by later calls */
	const char *err_reason;
	char err_msg[512];
};

static void cache_drop(k8s_tls_ctx *c, const char *key);

/* ---- errors ---- */

/* The reason of the first queued OpenSSL error (a static string, never data
 * from the input), and clear the queue. */
static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	return r ? r : "unknown error";
}

/* Bad CA, certificate or key input: name the file or the field, never
 * quote the data. */
static int K8S_PRINTF(2, 3) config_error(const char *what, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return k8s__error(K8S_ECERTIFICATE, "TLSConfigError", "%s: %s", what, why);
}

/* Record a fatal error of the connection: later calls repeat it. */
static int K8S_PRINTF(4, 5) fail(k8s_tls *t, int code, const char *reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->err_msg, sizeof(t->err_msg), fmt, ap);
	va_end(ap);
	t->err_code = code;
	t->err_reason = reason;
	ERR_clear_error();
	cache_drop(t->ctx, t->key); /* OpenSSL marks the session of a failed connection not resumable */
	return k8s__error(code, reason, "%s", t->err_msg);
}

static int refail(k8s_tls *t)
{
	return k8s__error(t->err_code, t->err_reason, "%s", t->err_msg);
}

/* ---- files and PEM ---- */

/* Read a whole file (what names it in errors, "KeyFile /path"); the buffer
 * is never realloc'd (a key leaves no copy behind), the caller wipes and
 * frees it. */
static int read_file(const char *what, const char *path, char **data, size_t *len)
{
	int e = k8s__read_file(path, TLS_FILE_MAX, data, len);
	if (e == -ENOMEM)
		return k8s__error_oom();
	if (e == -EFBIG)
		return config_error(what, "file too large");
	if (e < 0)
		return config_error(what, "%s", strerror(-e));
	return 0;
}

/* Never prompt for a passphrase: an encrypted key is an error. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static int end_of_pem(void)
{
	unsigned long e = ERR_peek_last_error();
	return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* NULL with the error recorded: K8S_ECERTIFICATE (too large) or K8S_ENOMEM,
 * which the caller returns (k8s_error_last()->code). */
static BIO *mem_bio(const char *what, const char *p, size_t n)
{
	BIO *b;
	if (n > INT_MAX / 2) {
		config_error(what, "too large");
		return NULL;
	}
	b = BIO_new_mem_buf(p, (int)n);
	if (!b)
		k8s__error_oom();
	return b;
}

/* Add every certificate of a PEM bundle to the store. */
static int load_ca(X509_STORE *st, const char *what, const char *pem, size_t n)
{
	BIO *b = mem_bio(what, pem, n);
	X509 *x;
	int count = 0;
	if (!b)
		return k8s_error_last()->code;
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(b, NULL, no_password, NULL))) {
		int ok = X509_STORE_add_cert(st, x);
		X509_free(x);
		if (!ok) {
			BIO_free(b);
			return config_error(what, "cannot add a certificate: %s", ossl_reason());
		}
		count++;
	}
	BIO_free(b);
	if (count > 0 && end_of_pem()) {
		ERR_clear_error();
		return 0;
	}
	if (count == 0 && end_of_pem())
		return config_error(what, "no PEM certificate found");
	return config_error(what, "invalid PEM certificate: %s", ossl_reason());
}

typedef struct {
	X509 *leaf;
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
	unsigned char digest[32];
} client_id;

static void client_id_clear(client_id *id)
{
	X509_free(id->leaf);
	sk_X509_pop_free(id->chain, X509_free);
	EVP_PKEY_free(id->key);
	memset(id, 0, sizeof(*id));
}

/* Parse a client certificate (leaf, then its chain) and private key. */
static int client_id_load(client_id *id, const char *cwhat, const char *cert, size_t clen,
			  const char *kwhat, const char *key, size_t klen)
{
	BIO *b;
	X509 *x;
	unsigned int dlen = 0;
	memset(id, 0, sizeof(*id));
	if (!(b = mem_bio(cwhat, cert, clen)))
		return k8s_error_last()->code;
	ERR_clear_error();
	id->leaf = PEM_read_bio_X509(b, NULL, no_password, NULL);
	if (!id->leaf) {
		BIO_free(b);
		if (end_of_pem())
			return config_error(cwhat, "no PEM certificate found");
		return config_error(cwhat, "invalid PEM certificate: %s", ossl_reason());
	}
	id->chain = sk_X509_new_null();
	while (id->chain && (x = PEM_read_bio_X509(b, NULL, no_password, NULL))) {
		if (!sk_X509_push(id->chain, x)) {
			X509_free(x);
			break;
		}
	}
	BIO_free(b);
	if (!id->chain || !end_of_pem()) {
		client_id_clear(id);
		if (!id->chain)
			return k8s__error_oom();
		return config_error(cwhat, "invalid PEM certificate in the chain: %s", ossl_reason());
	}
	ERR_clear_error();
	if (!(b = mem_bio(kwhat, key, klen))) {
		client_id_clear(id);
		return k8s_error_last()->code;
	}
	id->key = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
	BIO_free(b);
	if (!id->key) {
		client_id_clear(id);
		if (end_of_pem())
			return config_error(kwhat, "no PEM private key found");
		if (memmem(key, klen, "ENCRYPTED", 9))
			return config_error(kwhat, "the private key is encrypted (no passphrase support)");
		return config_error(kwhat, "not a readable PEM private key: %s", ossl_reason());
	}
	if (!X509_check_private_key(id->leaf, id->key)) {
		client_id_clear(id);
		ERR_clear_error();
		return config_error(kwhat, "the private key does not match the certificate (%s)", cwhat);
	}
	if (!X509_digest(id->leaf, EVP_sha256(), id->digest, &dlen) || dlen != sizeof(id->digest)) {
		client_id_clear(id);
		return config_error(cwhat, "cannot digest the certificate: %s", ossl_reason());
	}
	return 0;
}

static int client_id_install(SSL_CTX *s, client_id *id)
{
	ERR_clear_error();
	if (SSL_CTX_use_certificate(s, id->leaf) != 1 || SSL_CTX_use_PrivateKey(s, id->key) != 1 ||
	    SSL_CTX_set1_chain(s, id->chain) != 1)
		return config_error("client certificate", "%s", ossl_reason());
	return 0;
}

/* Load the client identity of the options: data wins over the file. */
static int client_id_from_options(client_id *id, const k8s_tls_options *o)
{
	char cwhat[300], kwhat[300];
	char *cbuf = NULL, *kbuf = NULL;
	const char *cert = o->cert_data, *key = o->key_data;
	size_t clen = o->cert_len, klen = o->key_len;
	int rc;
	if (cert) {
		snprintf(cwhat, sizeof(cwhat), "CertData");
		clen = clen ? clen : strlen(cert);
	} else {
		snprintf(cwhat, sizeof(cwhat), "CertFile %s", o->cert_file);
		if ((rc = read_file(cwhat, o->cert_file, &cbuf, &clen)) < 0)
			return rc;
		cert = cbuf;
	}
	if (key) {
		snprintf(kwhat, sizeof(kwhat), "KeyData");
		klen = klen ? klen : strlen(key);
	} else {
		snprintf(kwhat, sizeof(kwhat), "KeyFile %s", o->key_file);
		if ((rc = read_file(kwhat, o->key_file, &kbuf, &klen)) < 0) {
			free(cbuf);
			return rc;
		}
		key = kbuf;
	}
	rc = client_id_load(id, cwhat, cert, clen, kwhat, key, klen);
	free(cbuf);
	if (kbuf) {
		k8s__wipe(kbuf, klen);
		free(kbuf);
	}
	return rc;
}

/* ---- the session cache ---- */

static int cache_find(k8s_tls_ctx *c, const char *key)
{
	size_t i;
	for (i = 0; i < c->ncache; i++)
		if (!strcmp(c->cache[i].key, key))
			return (int)i;
	return -1;
}

static void cache_drop_at(k8s_tls_ctx *c, size_t i)
{
	free(c->cache[i].key);
	SSL_SESSION_free(c->cache[i].sess);
	memmove(c->cache + i, c->cache + i + 1, (c->ncache - i - 1) * sizeof(*c->cache));
	c->ncache--;
}

static void cache_drop(k8s_tls_ctx *c, const char *key)
{
	int i = cache_find(c, key);
	if (i >= 0)
		cache_drop_at(c, (size_t)i);
}

static void cache_clear(k8s_tls_ctx *c)
{
	while (c->ncache)
		cache_drop_at(c, c->ncache - 1);
}

/* Keep sess (takes the reference) under key; the newest replaces the older. */
static int cache_put(k8s_tls_ctx *c, const char *key, SSL_SESSION *sess)
{
	int i = cache_find(c, key);
	char *k;
	if (i >= 0) {
		SSL_SESSION_free(c->cache[i].sess);
		c->cache[i].sess = sess;
		return 0;
	}
	if (c->ncache == TLS_CACHE_MAX)
		cache_drop_at(c, 0); /* the oldest */
	if (!(k = k8s__strdup(key)))
		return -1;
	c->cache[c->ncache].key = k;
	c->cache[c->ncache].sess = sess;
	c->ncache++;
	return 0;
}

/* OpenSSL hands over each resumable session (TLS 1.2 at the end of the
 * handshake, TLS 1.3 tickets when read): returning 1 keeps the reference. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	k8s_tls *t = SSL_get_app_data(ssl);
	/* a gen mismatch: made with a client certificate since rotated */
	if (!t || t->gen != t->ctx->gen || !SSL_SESSION_is_resumable(sess))
		return 0;
	return cache_put(t->ctx, t->key, sess) == 0;
}

/* ---- contexts ---- */

static void update_identity(k8s_tls_ctx *c)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char in[16 + 3 + 32 * 3], md[32];
	unsigned int mdlen = 0;
	size_t i;
	memset(in, 0, sizeof(in));
	memcpy(in, "k8s-tls-id/1", 12);
	in[16] = (unsigned char)(c->insecure != 0);
	in[17] = (unsigned char)c->has_ca;
	in[18] = (unsigned char)c->has_cert;
	memcpy(in + 19, c->ca_digest, 32);
	memcpy(in + 51, c->cert_digest, 32);
	if (c->server_name)
		EVP_Digest(c->server_name, strlen(c->server_name), in + 83, &mdlen, EVP_sha256(), NULL);
	if (!EVP_Digest(in, sizeof(in), md, &mdlen, EVP_sha256(), NULL))
		memset(md, 0, sizeof(md));
	for (i = 0; i < 16; i++) {
		c->identity[2 * i] = hex[md[i] >> 4];
		c->identity[2 * i + 1] = hex[md[i] & 15];
	}
	c->identity[32] = 0;
	ERR_clear_error();
}

/* A fresh SSL_CTX with the settings every context shares. */
static int ssl_ctx_build(k8s_tls_ctx *c, SSL_CTX **out)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX *s = SSL_CTX_new(TLS_client_method());
	*out = NULL;
	if (!s) {
		ERR_clear_error();
		return k8s__error_oom();
	}
	if (SSL_CTX_set_min_proto_version(s, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_alpn_protos(s, alpn, sizeof(alpn) - 1) != 0) {
		SSL_CTX_free(s);
		return config_error("TLS", "%s", ossl_reason());
	}
	SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(s, c->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	/* like curl and Go: any certificate of the CA bundle is a trust anchor */
	X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(s), X509_V_FLAG_PARTIAL_CHAIN);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(s, on_new_session);
	*out = s;
	return 0;
}

static int ctx_load_ca(k8s_tls_ctx *c, const k8s_tls_options *o)
{
	X509_STORE *st = SSL_CTX_get_cert_store(c->ssl);
	char what[300], *buf = NULL;
	const char *pem = o->ca_data;
	size_t n = o->ca_len;
	unsigned int dlen = 0;
	int rc;
	if (!o->ca_data && !o->ca_file) {
		if (!c->insecure && SSL_CTX_set_default_verify_paths(c->ssl) != 1)
			return config_error("system CA certificates", "%s", ossl_reason());
		ERR_clear_error();
		return 0;
	}
	if (pem) {
		snprintf(what, sizeof(what), "CAData");
		n = n ? n : strlen(pem);
	} else {
		snprintf(what, sizeof(what), "CAFile %s", o->ca_file);
		if ((rc = read_file(what, o->ca_file, &buf, &n)) < 0)
			return rc;
		pem = buf;
	}
	rc = load_ca(st, what, pem, n);
	if (rc == 0 && !EVP_Digest(pem, n, c->ca_digest, &dlen, EVP_sha256(), NULL))
		rc = config_error(what, "%s", ossl_reason());
	free(buf);
	c->has_ca = rc == 0;
	return rc;
}

int k8s__tls_ctx_new(k8s_tls_ctx **out, const k8s_tls_options *o)
{
	k8s_tls_ctx *c;
	client_id id;
	int rc, has_cert = o->cert_data || o->cert_file, has_key = o->key_data || o->key_file;
	*out = NULL;
	if (has_cert != has_key)
		return config_error(has_cert ? "CertData/CertFile" : "KeyData/KeyFile", "set without %s",
				    has_cert ? "a client key (KeyData/KeyFile)" :
					       "a client certificate (CertData/CertFile)");
	if (!(c = calloc(1, sizeof(*c))))
		return k8s__error_oom();
	c->refs = 1;
	c->gen = 1;
	c->insecure = o->insecure != 0;
	if (!(c->cache = calloc(TLS_CACHE_MAX, sizeof(*c->cache))) ||
	    (o->server_name && *o->server_name && !(c->server_name = k8s__strdup(o->server_name)))) {
		k8s__tls_ctx_free(c);
		return k8s__error_oom();
	}
	if ((rc = ssl_ctx_build(c, &c->ssl)) < 0 || (rc = ctx_load_ca(c, o)) < 0) {
		k8s__tls_ctx_free(c);
		return rc;
	}
	if (has_cert) {
		if ((rc = client_id_from_options(&id, o)) < 0) {
			k8s__tls_ctx_free(c);
			return rc;
		}
		rc = client_id_install(c->ssl, &id);
		memcpy(c->cert_digest, id.digest, sizeof(c->cert_digest));
		client_id_clear(&id);
		if (rc < 0) {
			k8s__tls_ctx_free(c);
			return rc;
		}
		c->has_cert = 1;
	}
	update_identity(c);
	*out = c;
	return 0;
}

int k8s__tls_ctx_set_client_cert(k8s_tls_ctx *c, const char *cert_pem, const char *key_pem)
{
	client_id id;
	SSL_CTX *s;
	int rc;
	if (!cert_pem || !key_pem)
		return k8s__error(K8S_EINVALID, "Invalid", "a client certificate needs the certificate and the key");
	rc = client_id_load(&id, "CertData", cert_pem, strlen(cert_pem), "KeyData", key_pem, strlen(key_pem));
	if (rc < 0)
		return rc;
	if (c->has_cert && !memcmp(id.digest, c->cert_digest, sizeof(id.digest))) {
		client_id_clear(&id);
		return 0;
	}
	/* a fresh SSL_CTX sharing the CA store: no slot of the old identity
	 * (an RSA certificate replaced by an EC one) can linger */
	if ((rc = ssl_ctx_build(c, &s)) < 0) {
		client_id_clear(&id);
		return rc;
	}
	SSL_CTX_set1_cert_store(s, SSL_CTX_get_cert_store(c->ssl));
	if ((rc = client_id_install(s, &id)) < 0) {
		client_id_clear(&id);
		SSL_CTX_free(s);
		return rc;
	}
	SSL_CTX_free(c->ssl); /* connections made from it keep their reference */
	c->ssl = s;
	memcpy(c->cert_digest, id.digest, sizeof(c->cert_digest));
	client_id_clear(&id);
	c->has_cert = 1;
	c->gen++;
	cache_clear(c);
	update_identity(c);
	return 0;
}

k8s_tls_ctx *k8s__tls_ctx_ref(k8s_tls_ctx *c)
{
	if (c)
		c->refs++;
	return c;
}

void k8s__tls_ctx_free(k8s_tls_ctx *c)
{
	if (!c || --c->refs > 0)
		return;
	if (c->cache)
		cache_clear(c);
	free(c->cache);
	SSL_CTX_free(c->ssl);
	free(c->server_name);
	free(c);
}

const char *k8s__tls_ctx_identity(k8s_tls_ctx *c)
{
	return c->identity;
}

size_t k8s__tls_ctx_cached_sessions(const k8s_tls_ctx *c)
{
	return c->ncache;
}

/* ---- connections ---- */

static int is_ip(const char *s)
{
	unsigned char a[16];
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* The URL host without [brackets] and without an IPv6 "%zone". */
static char *plain_host(const char *host)
{
	size_t n = strlen(host);
	char *h, *pct;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		h = k8s__strndup(host + 1, n - 2);
	else
		h = k8s__strdup(host);
	if (h && strchr(h, ':') && (pct = strchr(h, '%')))
		*pct = 0;
	return h;
}

int k8s__tls_new(k8s_tls **out, k8s_tls_ctx *ctx, const char *host)
{
	k8s_tls *t;
	k8s_buf key = K8S_BUF_INIT;
	char *h;
	size_t n;
	int i;
	*out = NULL;
	if (!host || !*host)
		return k8s__error(K8S_EINVALID, "Invalid", "TLS: no host");
	if (!(t = calloc(1, sizeof(*t))))
		return k8s__error_oom();
	t->ctx = k8s__tls_ctx_ref(ctx);
	t->gen = ctx->gen;
	if (!(h = plain_host(host)) || !(t->name = k8s__strdup(ctx->server_name ? ctx->server_name : h)) ||
	    k8s_buf_printf(&key, "%s\n%s", h, ctx->server_name ? ctx->server_name : "") < 0) {
		free(h);
		k8s_buf_free(&key);
		k8s__tls_free(t);
		return k8s__error_oom();
	}
	free(h);
	t->key = k8s_buf_detach(&key);
	t->ip = is_ip(t->name);
	n = strlen(t->name);
	if (!t->ip && n > 1 && t->name[n - 1] == '.')
		t->name[n - 1] = 0; /* "example.com." is example.com */
	ERR_clear_error();
	t->ssl = SSL_new(ctx->ssl);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio) {
		BIO_free(t->rbio); /* not owned by ssl yet */
		BIO_free(t->wbio);
		k8s__tls_free(t);
		ERR_clear_error();
		return k8s__error_oom();
	}
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_app_data(t->ssl, t);
	SSL_set_connect_state(t->ssl);
	if (!ctx->insecure) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
		int ok;
		if (t->ip) {
			ok = X509_VERIFY_PARAM_set1_ip_asc(vp, t->name);
		} else {
			X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			ok = X509_VERIFY_PARAM_set1_host(vp, t->name, 0);
		}
		if (ok != 1) {
			k8s__tls_free(t);
			ERR_clear_error();
			return k8s__error(K8S_EINVALID, "Invalid", "TLS: cannot verify the name %s", host);
		}
	}
	/* no SNI for an IP address (RFC 6066) */
	if (!t->ip && SSL_set_tlsext_host_name(t->ssl, t->name) != 1) {
		k8s__tls_free(t);
		ERR_clear_error();
		return k8s__error(K8S_EINVALID, "Invalid", "TLS: invalid server name %s", host);
	}
	if ((i = cache_find(ctx, t->key)) >= 0) {
		SSL_SESSION *s = ctx->cache[i].sess;
		if (!SSL_SESSION_is_resumable(s) ||
		    (time_t)SSL_SESSION_get_time(s) + (time_t)SSL_SESSION_get_timeout(s) < time(NULL))
			cache_drop_at(ctx, (size_t)i);
		else
			SSL_set_session(t->ssl, s);
	}
	ERR_clear_error();
	*out = t;
	return 0;
}

/* Move what OpenSSL wrote into the pending output. */
static int drain(k8s_tls *t)
{
	size_t n;
	int r;
	if (t->out_off && t->out_off == t->out.len) {
		t->out.len = t->out_off = 0;
	} else if (t->out_off > t->out.len / 2) {
		memmove(t->out.ptr, t->out.ptr + t->out_off, t->out.len - t->out_off);
		t->out.len -= t->out_off;
		t->out_off = 0;
	}
	while ((n = BIO_ctrl_pending(t->wbio)) > 0) {
		if (n > INT_MAX / 2)
			n = INT_MAX / 2;
		if (k8s_buf_grow(&t->out, n) < 0)
			return K8S_ENOMEM;
		if ((r = BIO_read(t->wbio, t->out.ptr + t->out.len, (int)n)) <= 0)
			break;
		t->out.len += (size_t)r;
		t->out.ptr[t->out.len] = 0;
	}
	return 0;
}

static int handshake_failed(k8s_tls *t, int err)
{
	long v = SSL_get_verify_result(t->ssl);
	if (!t->ctx->insecure && v != X509_V_OK)
		return fail(t, K8S_ECERTIFICATE, "TLSVerifyFailed", "TLS verification failed: %s (%s %s)",
			    X509_verify_cert_error_string(v), t->ip ? "IP address" : "server name", t->name);
	if (t->nfirst == sizeof(t->first) && !memcmp(t->first, "HTTP/", 5))
		return fail(t, K8S_ETRANSPORT, "TLSHandshakeFailed",
			    "TLS handshake with %s failed: the server answered in plain HTTP, not TLS", t->name);
	if (err == SSL_ERROR_ZERO_RETURN)
		return fail(t, K8S_ETRANSPORT, "TLSHandshakeFailed",
			    "TLS handshake with %s failed: the server closed the connection", t->name);
	return fail(t, K8S_ETRANSPORT, "TLSHandshakeFailed", "TLS handshake with %s failed: %s", t->name,
		    ossl_reason());
}

int k8s__tls_handshake(k8s_tls *t)
{
	int r, err;
	if (t->err_code)
		return refail(t);
	if (t->hs_done)
		return 1;
	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
	if (drain(t) < 0)
		return fail(t, K8S_ENOMEM, "OutOfMemory", "out of memory");
	if (r == 1) {
		t->hs_done = 1;
		return 1;
	}
	if (err == SSL_ERROR_WANT_READ)
		return 0;
	return handshake_failed(t, err);
}

int k8s__tls_write(k8s_tls *t, const char *p, size_t n)
{
	size_t w;
	if (t->err_code)
		return refail(t);
	if (!t->hs_done)
		return k8s__error(K8S_EINVALID, "Invalid", "TLS write before the handshake completed");
	if (t->sent_close)
		return k8s__error(K8S_EINVALID, "Invalid", "TLS write after close_notify");
	while (n) {
		ERR_clear_error();
		if (SSL_write_ex(t->ssl, p, n < TLS_CHUNK ? n : TLS_CHUNK, &w) != 1) {
			drain(t);
			return fail(t, K8S_ETRANSPORT, "TLSError", "TLS write to %s failed: %s", t->name,
				    ossl_reason());
		}
		p += w;
		n -= w;
		if (drain(t) < 0)
			return fail(t, K8S_ENOMEM, "OutOfMemory", "out of memory");
	}
	return 0;
}

const char *k8s__tls_pending(k8s_tls *t, size_t *n)
{
	*n = t->out.len - t->out_off;
	return *n ? t->out.ptr + t->out_off : "";
}

void k8s__tls_consume(k8s_tls *t, size_t n)
{
	size_t have = t->out.len - t->out_off;
	t->out_off += n < have ? n : have;
	if (t->out_off == t->out.len)
		t->out.len = t->out_off = 0;
}

/* Follow the record framing (5-byte header, 16-bit length) of the received
 * stream, to tell a close at a record boundary from a truncated record. */
static void track_records(k8s_tls *t, const unsigned char *p, size_t n)
{
	while (n) {
		if (t->rec_left) {
			size_t k = n < t->rec_left ? n : t->rec_left;
			t->rec_left -= k;
			p += k;
			n -= k;
			continue;
		}
		t->rec_hdr[t->rec_have++] = *p++;
		n--;
		if (t->rec_have == 5) {
			t->rec_left = (size_t)t->rec_hdr[3] << 8 | t->rec_hdr[4];
			t->rec_have = 0;
		}
	}
}

int k8s__tls_feed(k8s_tls *t, const char *p, size_t n)
{
	size_t i;
	if (t->peer_closed)
		return 0; /* nothing may follow close_notify */
	for (i = 0; i < n && t->nfirst < sizeof(t->first); i++)
		t->first[t->nfirst++] = (unsigned char)p[i];
	track_records(t, (const unsigned char *)p, n);
	while (n) {
		int k = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n, r = BIO_write(t->rbio, p, k);
		if (r <= 0) {
			ERR_clear_error();
			return fail(t, K8S_ENOMEM, "OutOfMemory", "out of memory");
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int closed(k8s_tls *t)
{
	return k8s__error(K8S_EOF, "EOF", "the server closed the TLS connection to %s", t->name);
}

int k8s__tls_read(k8s_tls *t, k8s_buf *out)
{
	int got = 0, r, err;
	size_t n;
	if (t->err_code)
		return refail(t);
	if (t->peer_closed)
		return closed(t);
	if (!t->hs_done && (r = k8s__tls_handshake(t)) <= 0)
		return r;
	for (;;) {
		if (k8s_buf_grow(out, TLS_CHUNK) < 0)
			return K8S_ENOMEM;
		ERR_clear_error();
		if (SSL_read_ex(t->ssl, out->ptr + out->len, TLS_CHUNK, &n) == 1) {
			out->len += n;
			out->ptr[out->len] = 0;
			got = 1;
			continue;
		}
		err = SSL_get_error(t->ssl, 0);
		if (err == SSL_ERROR_WANT_READ)
			break;
		if (err == SSL_ERROR_ZERO_RETURN) {
			t->peer_closed = 1;
			break;
		}
		drain(t); /* the alert we send */
		return fail(t, K8S_ETRANSPORT, "TLSError", "TLS error on the connection to %s: %s", t->name,
			    ossl_reason());
	}
	/* the peer asked for a KeyUpdate: OpenSSL sends it with the next write */
	if (SSL_get_key_update_type(t->ssl) != SSL_KEY_UPDATE_NONE && !t->sent_close)
		SSL_write_ex(t->ssl, "", 0, &n);
	ERR_clear_error();
	if (drain(t) < 0)
		return fail(t, K8S_ENOMEM, "OutOfMemory", "out of memory");
	if (got)
		return 1;
	return t->peer_closed ? closed(t) : 0;
}

int k8s__tls_eof(k8s_tls *t)
{
	if (t->peer_closed)
		return closed(t);
	if (t->err_code)
		return refail(t);
	if (!t->hs_done)
		return fail(t, K8S_ETRANSPORT, "TLSHandshakeFailed",
			    "TLS handshake with %s failed: the server closed the connection", t->name);
	if (t->rec_have || t->rec_left)
		return fail(t, K8S_ETRANSPORT, "TLSTruncated",
			    "the connection to %s closed in the middle of a TLS record (truncated stream)", t->name);
	if (BIO_ctrl_pending(t->rbio) > 0 || SSL_pending(t->ssl) > 0)
		return fail(t, K8S_ETRANSPORT, "TLSTruncated", "the connection to %s closed with unread TLS data",
			    t->name);
	return k8s__error(K8S_EOF, "EOF", "the server closed the connection to %s", t->name);
}

int k8s__tls_shutdown(k8s_tls *t)
{
	if (!t->hs_done || t->err_code || t->sent_close)
		return 0;
	t->sent_close = 1;
	ERR_clear_error();
	SSL_shutdown(t->ssl);
	ERR_clear_error();
	return drain(t) < 0 ? fail(t, K8S_ENOMEM, "OutOfMemory", "out of memory") : 0;
}

int k8s__tls_session_reused(const k8s_tls *t)
{
	return t->ssl && SSL_session_reused(t->ssl) == 1;
}

const char *k8s__tls_version(const k8s_tls *t)
{
	return t->ssl ? SSL_get_version(t->ssl) : "";
}

void k8s__tls_free(k8s_tls *t)
{
	if (!t)
		return;
	/* OpenSSL takes a connection freed without close_notify for a bad one
	 * and makes its session not resumable: an idle HTTP connection that is
	 * dropped is not bad. A failed one already left the cache. */
	if (t->ssl && t->hs_done && !t->err_code)
		SSL_set_shutdown(t->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(t->ssl);
	k8s_buf_free(&t->out);
	free(t->key);
	free(t->name);
	k8s__tls_ctx_free(t->ctx);
	free(t);
}
