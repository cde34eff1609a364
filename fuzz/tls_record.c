/* The TLS record path of the sans-I/O engine (src/tls.c, OpenSSL over memory
 * BIOs). No network: a client connection sends its ClientHello into a buffer
 * and is fed bytes in pieces chosen by the input.
 *
 * Mode 0, garbage server: the input is what "the server" answers. The
 * handshake never completes, reading never yields plaintext, an error is
 * sticky, and the close is an error (TLSHandshakeFailed or a verification
 * failure), never a clean EOF.
 *
 * Mode 1, real server: an in-process OpenSSL server (a CA and server key made
 * once in LLVMFuzzerInitialize) completes the handshake (TLS 1.3, or 1.2),
 * then sends its session tickets, optionally a KeyUpdate, the plaintext from
 * the input in two records and optionally close_notify. The input then flips
 * bytes of that stream and/or cuts it. Properties:
 * - what is read is always a prefix of what the server wrote;
 * - untouched, all of it is read and the close is a clean EOF;
 * - cut inside a record, the close is TLSTruncated, never a clean EOF; cut
 *   at a record boundary it is a clean EOF with the records before the cut;
 * - a flipped byte before the cut always ends in an error.
 *
 * Input: flags, a byte (low 4 bits: selector length, high 4 bits: largest
 * piece / 64), the selector; mode 0: the server's bytes; mode 1: a count of
 * edits (low 3 bits), edits of 3 bytes (big-endian position, xor; xor 0 cuts
 * there), then the plaintext.
 */
// fuzz-flags: -max_len=16384
#include "fuzz.h"

#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "tls.h"

enum {
	FL_MODE = 1,       /* real server */
	FL_INSECURE = 2,
	FL_IP = 4,         /* connect to 127.0.0.1, not "kubernetes" */
	FL_READ = 8,       /* mode 0: drive with k8s__tls_read, not _handshake */
	FL_TLS12 = 16,     /* mode 1: the server stops at TLS 1.2 */
	FL_CLOSE = 32,     /* mode 1: the server sends close_notify */
	FL_KEYUPDATE = 64, /* mode 1: the server sends a KeyUpdate (TLS 1.3) */
	FL_WRITE = 128     /* mode 1: the client writes a request first */
};

static struct {
	SSL_CTX *srv;
	char *ca_pem;
} g;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v;
	X509_EXTENSION *e;
	X509V3_set_ctx_nodb(&v);
	X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
	FUZZ_CHECK(e && X509_add_ext(x, e, -1), "cannot add extension %d", nid);
	X509_EXTENSION_free(e);
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *san)
{
	X509 *x = X509_new();
	X509_NAME *name;
	FUZZ_CHECK(x != NULL, "out of memory");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), issuer ? 2 : 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	add_ext(x, issuer ? issuer : x, NID_basic_constraints, issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
	if (san)
		add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
	FUZZ_CHECK(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()), "cannot sign");
	return x;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256");
	X509 *ca, *srv;
	BIO *b;
	char *p;
	long n;
	(void)argc;
	(void)argv;
	FUZZ_CHECK(ca_key && srv_key, "cannot make keys");
	ca = make_cert("fuzz-ca", ca_key, NULL, NULL, NULL);
	srv = make_cert("kube-apiserver", srv_key, ca, ca_key, "DNS:kubernetes,IP:127.0.0.1");
	b = BIO_new(BIO_s_mem());
	FUZZ_CHECK(b && PEM_write_bio_X509(b, ca), "cannot write the CA");
	n = BIO_get_mem_data(b, &p);
	g.ca_pem = strndup(p, (size_t)n);
	BIO_free(b);
	g.srv = SSL_CTX_new(TLS_server_method());
	FUZZ_CHECK(g.ca_pem && g.srv, "out of memory");
	FUZZ_CHECK(SSL_CTX_use_certificate(g.srv, srv) == 1 && SSL_CTX_use_PrivateKey(g.srv, srv_key) == 1,
		   "cannot set the server key");
	SSL_CTX_set_min_proto_version(g.srv, TLS1_2_VERSION);
	/* no state kept across inputs: tickets are stateless, no server cache */
	SSL_CTX_set_session_cache_mode(g.srv, SSL_SESS_CACHE_OFF);
	X509_free(ca);
	X509_free(srv);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(srv_key);
	return 0;
}

static k8s_tls *client(int flags, k8s_tls_ctx **ctx)
{
	k8s_tls_options o;
	k8s_tls *t = NULL;
	memset(&o, 0, sizeof(o));
	o.insecure = (flags & FL_INSECURE) != 0;
	o.ca_data = o.insecure ? NULL : g.ca_pem;
	FUZZ_CHECK(k8s__tls_ctx_new(ctx, &o) == 0, "k8s__tls_ctx_new: %s", k8s_error_last()->message);
	FUZZ_CHECK(k8s__tls_new(&t, *ctx, flags & FL_IP ? "127.0.0.1" : "kubernetes") == 0, "k8s__tls_new: %s",
		   k8s_error_last()->message);
	return t;
}

static int is_error(int rc)
{
	return rc < 0 && rc != K8S_EOF;
}

/* Mode 0: the input is the server. */
static void garbage(int flags, const uint8_t *sel, size_t sel_len, size_t max, const uint8_t *p, size_t n)
{
	k8s_tls_ctx *ctx;
	k8s_tls *t = client(flags, &ctx);
	k8s_buf out = K8S_BUF_INIT;
	const char *hello;
	size_t len, off = 0, i = 0;
	int rc = 0;

	FUZZ_CHECK(k8s__tls_handshake(t) == 0, "the handshake did not wait for the server");
	hello = k8s__tls_pending(t, &len);
	FUZZ_CHECK(len > 5 && hello[0] == 0x16 && hello[1] == 3, "no ClientHello record");
	k8s__tls_consume(t, len);
	FUZZ_CHECK(k8s__tls_write(t, "x", 1) == K8S_EINVALID, "a write before the handshake");
	while (off < n) {
		size_t k = fuzz_piece(sel, sel_len, i++, max);
		if (k > n - off)
			k = n - off;
		FUZZ_CHECK(k8s__tls_feed(t, (const char *)p + off, k) == 0, "feed failed");
		off += k;
		rc = flags & FL_READ ? k8s__tls_read(t, &out) : k8s__tls_handshake(t);
		FUZZ_CHECK(rc != 1, "the handshake completed with garbage from the server");
		FUZZ_CHECK(out.len == 0, "plaintext from garbage");
		FUZZ_CHECK(rc == 0 || is_error(rc), "unexpected result %d", rc);
		k8s__tls_pending(t, &len); /* an alert, maybe */
		k8s__tls_consume(t, len);
		if (rc < 0) {
			int code = rc;
			FUZZ_CHECK(k8s__tls_handshake(t) == code && k8s__tls_read(t, &out) == code, "an error was not sticky");
			break;
		}
	}
	rc = k8s__tls_eof(t);
	FUZZ_CHECK(rc == K8S_ETRANSPORT || rc == K8S_ECERTIFICATE, "the close after garbage was %d (%s)", rc,
		   k8s_error_last()->reason);
	FUZZ_CHECK(k8s__tls_shutdown(t) == 0, "shutdown");
	k8s_buf_free(&out);
	k8s__tls_free(t);
	k8s__tls_ctx_free(ctx);
}

/* Move what the server wrote to the client (or into *stream). */
static void server_out(SSL *srv, k8s_tls *t, k8s_buf *stream)
{
	char buf[16384];
	int r;
	while ((r = BIO_read(SSL_get_wbio(srv), buf, sizeof(buf))) > 0) {
		if (stream)
			FUZZ_CHECK(k8s_buf_put(stream, buf, (size_t)r) == 0, "out of memory");
		else
			FUZZ_CHECK(k8s__tls_feed(t, buf, (size_t)r) == 0, "feed failed");
	}
}

static void client_out(k8s_tls *t, SSL *srv)
{
	size_t n;
	const char *p = k8s__tls_pending(t, &n);
	if (n)
		FUZZ_CHECK(BIO_write(SSL_get_rbio(srv), p, (int)n) == (int)n, "out of memory");
	k8s__tls_consume(t, n);
}

/* Record boundaries of a well-formed stream: is off one? */
static int boundary(const char *s, size_t len, size_t off)
{
	size_t at = 0;
	while (at < off && at + 5 <= len)
		at += 5 + ((size_t)(unsigned char)s[at + 3] << 8 | (unsigned char)s[at + 4]);
	return at == off;
}

/* Mode 1: a real server, then its records tampered with. */
static void server(int flags, const uint8_t *sel, size_t sel_len, size_t max, const uint8_t *p, size_t n)
{
	k8s_tls_ctx *ctx;
	k8s_tls *t = client(flags, &ctx);
	SSL *srv = SSL_new(g.srv);
	k8s_buf stream = K8S_BUF_INIT, out = K8S_BUF_INIT;
	char *orig;
	const uint8_t *edits = n ? p + 1 : p, *plain;
	size_t nedits = n ? p[0] & 7 : 0, plen, cut, i, off = 0, w;
	int cdone = 0, sdone = 0, rc = 0, flipped = 0, round;

	FUZZ_CHECK(srv != NULL, "out of memory");
	SSL_set_bio(srv, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	SSL_set_accept_state(srv);
	if (flags & FL_TLS12)
		SSL_set_max_proto_version(srv, TLS1_2_VERSION);
	if (n < 1 + 3 * nedits)
		nedits = n ? (n - 1) / 3 : 0;
	plain = edits + 3 * nedits;
	plen = n - (size_t)(plain - p);

	/* the handshake; what the server sends once the client is done is the stream */
	for (round = 0; round < 16 && !(cdone && sdone); round++) {
		if (!cdone) {
			int c = k8s__tls_handshake(t);
			FUZZ_CHECK(c >= 0, "the handshake with a real server failed: %s", k8s_error_last()->message);
			cdone = c == 1;
		}
		client_out(t, srv);
		if (!sdone) {
			int s = SSL_do_handshake(srv);
			FUZZ_CHECK(s == 1 || SSL_get_error(srv, s) == SSL_ERROR_WANT_READ, "the server failed");
			sdone = s == 1;
		}
		server_out(srv, t, cdone ? &stream : NULL);
	}
	FUZZ_CHECK(cdone && sdone, "no handshake after %d rounds", round);
	FUZZ_CHECK(!strcmp(k8s__tls_version(t), flags & FL_TLS12 ? "TLSv1.2" : "TLSv1.3"), "version %s",
		   k8s__tls_version(t));
	if (flags & FL_WRITE) {
		FUZZ_CHECK(k8s__tls_write(t, "GET /version HTTP/1.1\r\n\r\n", 25) == 0, "write failed");
		k8s__tls_pending(t, &w);
		FUZZ_CHECK(w > 25, "nothing to send after a write");
		client_out(t, srv);
	}
	if ((flags & FL_KEYUPDATE) && !(flags & FL_TLS12))
		FUZZ_CHECK(SSL_key_update(srv, SSL_KEY_UPDATE_REQUESTED) == 1 && SSL_do_handshake(srv) == 1, "key update");
	if (plen)
		FUZZ_CHECK(SSL_write(srv, plain, (int)(plen / 2 ? plen / 2 : plen)) > 0 &&
			   (plen < 2 || SSL_write(srv, plain + plen / 2, (int)(plen - plen / 2)) > 0), "server write");
	if (flags & FL_CLOSE)
		SSL_shutdown(srv);
	server_out(srv, t, &stream);
	ERR_clear_error();

	/* the edits */
	cut = stream.len;
	for (i = 0; i < nedits; i++) {
		size_t pos = (size_t)edits[3 * i] << 8 | edits[3 * i + 1];
		if (!edits[3 * i + 2] && pos % (stream.len + 1) < cut)
			cut = pos % (stream.len + 1);
	}
	orig = malloc(stream.len + 1);
	FUZZ_CHECK(orig != NULL, "out of memory");
	if (stream.len)
		memcpy(orig, stream.ptr, stream.len);
	for (i = 0; i < nedits && stream.len; i++) {
		size_t pos = ((size_t)edits[3 * i] << 8 | edits[3 * i + 1]) % stream.len;
		stream.ptr[pos] ^= (char)edits[3 * i + 2];
	}
	flipped = cut && memcmp(orig, stream.ptr, cut) != 0; /* two flips may cancel out */

	for (i = 0; off < cut; i++) {
		size_t k = fuzz_piece(sel, sel_len, i, max);
		if (k > cut - off)
			k = cut - off;
		FUZZ_CHECK(k8s__tls_feed(t, stream.ptr + off, k) == 0, "feed failed");
		off += k;
		rc = k8s__tls_read(t, &out);
		FUZZ_CHECK(out.len <= plen && (!out.len || !memcmp(out.ptr, plain, out.len)),
			   "read %zu bytes that the server did not write", out.len);
		k8s__tls_pending(t, &w); /* a KeyUpdate reply or an alert */
		k8s__tls_consume(t, w);
		if (is_error(rc))
			break;
	}
	if (!is_error(rc))
		rc = k8s__tls_eof(t);
	if (flipped) {
		FUZZ_CHECK(is_error(rc), "a flipped byte went unnoticed (%d)", rc);
	} else if (cut == stream.len) {
		FUZZ_CHECK(rc == K8S_EOF && out.len == plen, "an untouched stream: %d (%s), %zu of %zu bytes", rc,
			   k8s_error_last()->message, out.len, plen);
	} else if (boundary(orig, stream.len, cut)) {
		FUZZ_CHECK(rc == K8S_EOF, "a stream cut at a record boundary: %d (%s)", rc, k8s_error_last()->message);
	} else {
		FUZZ_CHECK(rc == K8S_ETRANSPORT && !strcmp(k8s_error_last()->reason, "TLSTruncated"),
			   "a stream cut inside a record at %zu of %zu: %d (%s)", cut, stream.len, rc,
			   k8s_error_last()->reason);
	}
	FUZZ_CHECK(k8s__tls_shutdown(t) == 0, "shutdown");
	free(orig);
	k8s_buf_free(&stream);
	k8s_buf_free(&out);
	SSL_free(srv);
	k8s__tls_free(t);
	k8s__tls_ctx_free(ctx);
	ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sel_len, max;
	if (size < 2)
		return 0;
	sel_len = data[1] & 15;
	max = (size_t)(data[1] >> 4) * 64 + 1;
	if (size < 2 + sel_len)
		return 0;
	if (data[0] & FL_MODE)
		server(data[0], data + 2, sel_len, max, data + 2 + sel_len, size - 2 - sel_len);
	else
		garbage(data[0], data + 2, sel_len, max, data + 2 + sel_len, size - 2 - sel_len);
	ERR_clear_error();
	return 0;
}
