/* TLS over memory BIOs (src/tls.c) against an in-memory OpenSSL server:
 * certificates are made here with the OpenSSL API, bytes are pumped between
 * the two ends in a loop. No network, no sleeping. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "test.h"
#include "tls.h"

/* ---- certificates ---- */

static struct {
	EVP_PKEY *ca_key, *other_key, *srv_key, *cli_key, *cli2_key;
	X509 *ca, *other, *srv, *cli, *cli2;
	char *ca_pem, *other_pem, *cli_pem, *cli_key_pem, *cli2_pem, *cli2_key_pem;
	char key_line[41]; /* a piece of the client key's base64 */
} fx;

static void add_ext(X509 *x, X509V3_CTX *v, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v, nid, value);
	if (!e || !X509_add_ext(x, e, -1)) {
		fprintf(stderr, "cannot add extension %d=%s\n", nid, value);
		abort();
	}
	X509_EXTENSION_free(e);
}

/* A certificate for key, signed by issuer (self-signed when NULL). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca, const char *san,
		       const char *eku)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v;
	if (!x)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509V3_set_ctx_nodb(&v);
	X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
	add_ext(x, &v, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, &v, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	add_ext(x, &v, NID_subject_key_identifier, "hash");
	if (issuer)
		add_ext(x, &v, NID_authority_key_identifier, "keyid:always");
	if (san)
		add_ext(x, &v, NID_subject_alt_name, san);
	if (eku)
		add_ext(x, &v, NID_ext_key_usage, eku);
	if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
		abort();
	return x;
}

static char *bio_string(BIO *b)
{
	char *p, *s;
	long n = BIO_get_mem_data(b, &p);
	s = strndup(p, (size_t)n);
	BIO_free(b);
	if (!s)
		abort();
	return s;
}

static char *pem_cert(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	return bio_string(b);
}

static char *pem_key(EVP_PKEY *k, const char *pass)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (pass)
		PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)pass);
	else
		PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	return bio_string(b);
}

static EVP_PKEY *gen_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	if (!k)
		abort();
	return k;
}

static void fixtures_make(void)
{
	const char *nl;
	fx.ca_key = gen_key();
	fx.ca = make_cert("test-ca", fx.ca_key, NULL, NULL, 1, NULL, NULL);
	fx.other_key = gen_key();
	fx.other = make_cert("unrelated-ca", fx.other_key, NULL, NULL, 1, NULL, NULL);
	fx.srv_key = gen_key();
	fx.srv = make_cert("kube-apiserver", fx.srv_key, fx.ca, fx.ca_key, 0,
			   "DNS:kubernetes,DNS:localhost,IP:127.0.0.1,IP:::1", "serverAuth");
	fx.cli_key = gen_key();
	fx.cli = make_cert("user-one", fx.cli_key, fx.ca, fx.ca_key, 0, NULL, "clientAuth");
	fx.cli2_key = gen_key();
	fx.cli2 = make_cert("user-two", fx.cli2_key, fx.ca, fx.ca_key, 0, NULL, "clientAuth");
	fx.ca_pem = pem_cert(fx.ca);
	fx.other_pem = pem_cert(fx.other);
	fx.cli_pem = pem_cert(fx.cli);
	fx.cli_key_pem = pem_key(fx.cli_key, NULL);
	fx.cli2_pem = pem_cert(fx.cli2);
	fx.cli2_key_pem = pem_key(fx.cli2_key, NULL);
	nl = strchr(fx.cli_key_pem, '\n');
	snprintf(fx.key_line, sizeof(fx.key_line), "%s", nl + 1);
}

static void fixtures_free(void)
{
	EVP_PKEY_free(fx.ca_key);
	EVP_PKEY_free(fx.other_key);
	EVP_PKEY_free(fx.srv_key);
	EVP_PKEY_free(fx.cli_key);
	EVP_PKEY_free(fx.cli2_key);
	X509_free(fx.ca);
	X509_free(fx.other);
	X509_free(fx.srv);
	X509_free(fx.cli);
	X509_free(fx.cli2);
	free(fx.ca_pem);
	free(fx.other_pem);
	free(fx.cli_pem);
	free(fx.cli_key_pem);
	free(fx.cli2_pem);
	free(fx.cli2_key_pem);
}

/* A temporary file holding s; the caller unlinks it and frees the name. */
static char *temp_file(const char *s)
{
	char *path = strdup("/tmp/k8s-tls-test-XXXXXX");
	int fd = path ? mkstemp(path) : -1;
	size_t n = strlen(s);
	if (fd < 0 || write(fd, s, n) != (ssize_t)n)
		abort();
	close(fd);
	return path;
}

/* ---- the in-memory server ---- */

enum {
	SRV_REQUIRE_CERT = 1,   /* SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT */
	SRV_TLS12 = 2,          /* max TLS 1.2 */
	SRV_TLS11 = 4,          /* only TLS 1.1 */
	SRV_SEND_CA = 8,        /* the CA in the chain it sends */
};

typedef struct {
	SSL_CTX *ctx;
	int sni_calls, sni_null;
	char sni[256];
	char alpn[64];          /* the protocols the client offered, wire format */
} server;

static int on_alpn(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		   unsigned int inlen, void *arg)
{
	server *sv = arg;
	(void)s;
	snprintf(sv->alpn, sizeof(sv->alpn), "%.*s", (int)inlen, (const char *)in);
	if (inlen < 1 || in[0] + 1u > inlen)
		return SSL_TLSEXT_ERR_NOACK;
	*out = in + 1;
	*outlen = in[0];
	return SSL_TLSEXT_ERR_OK;
}

static int on_servername(SSL *s, int *al, void *arg)
{
	server *sv = arg;
	const char *n = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
	(void)al;
	sv->sni_calls++;
	sv->sni_null = n == NULL;
	snprintf(sv->sni, sizeof(sv->sni), "%s", n ? n : "");
	return SSL_TLSEXT_ERR_OK;
}

static void server_init(server *sv, int flags)
{
	memset(sv, 0, sizeof(*sv));
	sv->ctx = SSL_CTX_new(TLS_server_method());
	if (!sv->ctx || SSL_CTX_use_certificate(sv->ctx, fx.srv) != 1 ||
	    SSL_CTX_use_PrivateKey(sv->ctx, fx.srv_key) != 1)
		abort();
	if (flags & SRV_SEND_CA)
		SSL_CTX_add1_chain_cert(sv->ctx, fx.ca);
	SSL_CTX_set_session_id_context(sv->ctx, (const unsigned char *)"k8s-test", 8);
	SSL_CTX_set_tlsext_servername_callback(sv->ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(sv->ctx, sv);
	SSL_CTX_set_alpn_select_cb(sv->ctx, on_alpn, sv);
	if (flags & SRV_REQUIRE_CERT) {
		X509_STORE_add_cert(SSL_CTX_get_cert_store(sv->ctx), fx.ca);
		SSL_CTX_set_verify(sv->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	if (flags & SRV_TLS12)
		SSL_CTX_set_max_proto_version(sv->ctx, TLS1_2_VERSION);
	if (flags & SRV_TLS11) {
		SSL_CTX_set_security_level(sv->ctx, 0);
		SSL_CTX_set_cipher_list(sv->ctx, "DEFAULT:@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(sv->ctx, TLS1_1_VERSION);
		SSL_CTX_set_max_proto_version(sv->ctx, TLS1_1_VERSION);
	}
}

static void server_free(server *sv)
{
	SSL_CTX_free(sv->ctx);
}

/* One client connection and the server's end of it. */
typedef struct {
	SSL *s;
	BIO *s_in, *s_out;
	k8s_tls *c;
	int onebyte;            /* move ciphertext one byte at a time */
	int s_done, s_failed, s_closed;
	char s_err[256];
	k8s_buf s_got;          /* plaintext the server received */
} pair;

static int pair_open(pair *p, server *sv, k8s_tls_ctx *ctx, const char *host)
{
	memset(p, 0, sizeof(*p));
	p->s = SSL_new(sv->ctx);
	p->s_in = BIO_new(BIO_s_mem());
	p->s_out = BIO_new(BIO_s_mem());
	if (!p->s || !p->s_in || !p->s_out)
		abort();
	SSL_set_bio(p->s, p->s_in, p->s_out);
	SSL_set_accept_state(p->s);
	return k8s__tls_new(&p->c, ctx, host);
}

static void pair_close(pair *p)
{
	k8s__tls_free(p->c);
	SSL_free(p->s);
	k8s_buf_free(&p->s_got);
}

static void server_fail(pair *p)
{
	unsigned long e = ERR_peek_error();
	p->s_failed = 1;
	snprintf(p->s_err, sizeof(p->s_err), "%s", e ? ERR_reason_error_string(e) : "?");
	ERR_clear_error();
}

/* Move ciphertext both ways; returns how many bytes moved. */
static size_t shuttle(pair *p)
{
	size_t n, moved = 0;
	const char *d = k8s__tls_pending(p->c, &n);
	if (n) {
		if (p->onebyte)
			n = 1;
		if (BIO_write(p->s_in, d, (int)n) != (int)n)
			abort();
		k8s__tls_consume(p->c, n);
		moved += n;
	}
	n = BIO_ctrl_pending(p->s_out);
	if (n) {
		char *buf;
		if (p->onebyte)
			n = 1;
		if (!(buf = malloc(n)) || BIO_read(p->s_out, buf, (int)n) != (int)n)
			abort();
		if (k8s__tls_feed(p->c, buf, n) < 0)
			abort();
		free(buf);
		moved += n;
	}
	return moved;
}

/* Let the server handshake, then read whatever plaintext it can. */
static void server_step(pair *p)
{
	char buf[16384];
	size_t n;
	int r, e;
	if (p->s_failed || p->s_closed)
		return;
	ERR_clear_error();
	if (!p->s_done) {
		r = SSL_do_handshake(p->s);
		if (r == 1)
			p->s_done = 1;
		else if (SSL_get_error(p->s, r) != SSL_ERROR_WANT_READ)
			server_fail(p);
		if (!p->s_done)
			return;
	}
	for (;;) {
		if (SSL_read_ex(p->s, buf, sizeof(buf), &n) == 1) {
			k8s_buf_put(&p->s_got, buf, n);
			continue;
		}
		e = SSL_get_error(p->s, 0);
		if (e == SSL_ERROR_ZERO_RETURN)
			p->s_closed = 1;
		else if (e != SSL_ERROR_WANT_READ)
			server_fail(p);
		break;
	}
	ERR_clear_error();
}

/* Move bytes and let the server work until nothing moves. */
static void pump(pair *p)
{
	int i;
	for (i = 0; i < 10000000; i++) {
		size_t moved = shuttle(p);
		server_step(p);
		if (!moved && !shuttle(p))
			return;
	}
	abort();
}

/* Run the handshake: the client's result, 1 or < 0. */
static int handshake(pair *p)
{
	int i, rc;
	for (i = 0; i < 1000000; i++) {
		size_t moved;
		rc = k8s__tls_handshake(p->c);
		moved = shuttle(p);
		server_step(p);
		moved += shuttle(p);
		if (rc < 0) {
			pump(p); /* the alert reaches the server */
			return rc;
		}
		if (rc == 1 && !moved && (p->s_done || p->s_failed))
			return 1;
	}
	return -999;
}

/* Client reads until `want` bytes are in out, or until nothing moves; returns
 * the last k8s__tls_read result that was not 0 (or 0). */
static int client_read(pair *p, k8s_buf *out, size_t want)
{
	int i, rc, last = 0;
	for (i = 0; i < 10000000; i++) {
		size_t moved = shuttle(p);
		server_step(p);
		moved += shuttle(p);
		rc = k8s__tls_read(p->c, out);
		if (rc < 0)
			return rc;
		if (rc)
			last = rc;
		if (want && out->len >= want)
			return last;
		if (!moved && rc == 0)
			return last;
	}
	return -999;
}

static void server_write(pair *p, const void *d, size_t n)
{
	size_t w;
	ERR_clear_error();
	if (n && SSL_write_ex(p->s, d, n, &w) != 1)
		abort();
}

/* The common name of the client certificate the server saw, or "". */
static const char *peer_cn(pair *p)
{
	static char cn[128];
	X509 *x = SSL_get0_peer_certificate(p->s);
	cn[0] = 0;
	if (x)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	return cn;
}

static k8s_tls_options ca_opts(const char *pem)
{
	k8s_tls_options o;
	memset(&o, 0, sizeof(o));
	o.ca_data = pem;
	o.ca_len = strlen(pem);
	return o;
}

/* Check the last error: code, reason, a piece of the message, and that the
 * message holds no key material. */
static void check_err(int rc, int code, const char *reason, const char *part)
{
	const k8s_error *e = k8s_error_last();
	CHECK_INT(rc, code);
	CHECK_INT(e->code, code);
	CHECK_STR(e->reason, reason);
	if (part)
		CHECK_HAS(e->message, part);
	CHECK_HASNT(e->message, "PRIVATE KEY");
	CHECK_HASNT(e->message, fx.key_line);
	if (test_cur_failed_ || getenv("TEST_VERBOSE"))
		fprintf(stderr, "  (%s: %s)\n", e->reason, e->message);
}

/* Connect ctx to host through a fresh server with flags; returns the
 * handshake result. The caller inspects p and closes it. */
static int connect_to(pair *p, server *sv, k8s_tls_ctx *ctx, const char *host)
{
	int rc = pair_open(p, sv, ctx, host);
	return rc < 0 ? rc : handshake(p);
}

/* Connect, then one request and one response: 1 on success or the first
 * error (TLS 1.3 client-certificate failures show only once reading). */
static int exchange(server *sv, k8s_tls_ctx *ctx, const char *host, pair *p)
{
	k8s_buf in = K8S_BUF_INIT;
	int rc = connect_to(p, sv, ctx, host);
	if (rc < 0)
		return rc;
	if ((rc = k8s__tls_write(p->c, "ping", 4)) < 0)
		return rc;
	pump(p);
	if (p->s_done && !p->s_failed)
		server_write(p, "pong", 4);
	rc = client_read(p, &in, 4);
	if (rc == 1 && (in.len != 4 || memcmp(in.ptr, "pong", 4) != 0))
		rc = -998;
	if (rc == 0)
		rc = -997;
	k8s_buf_free(&in);
	return rc;
}

/* ---- tests ---- */

TEST(ca_data_ip_san_no_sni)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	static const char *hosts[] = {"127.0.0.1", "::1", "[::1]"};
	size_t i;
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	for (i = 0; i < sizeof(hosts) / sizeof(*hosts); i++) {
		sv.sni_calls = 0;
		sv.sni_null = 0;
		CHECK_INT(exchange(&sv, ctx, hosts[i], &p), 1);
		CHECK(sv.sni_calls > 0);
		CHECK_INT(sv.sni_null, 1);
		CHECK_STR(k8s__tls_version(p.c), "TLSv1.3");
		CHECK_STR(p.s_got.ptr, "ping");
		CHECK_STR(sv.alpn, "\x08http/1.1");
		pair_close(&p);
	}
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(dns_names_send_sni)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	static const struct {
		const char *host, *sni;
	} cases[] = {{"kubernetes", "kubernetes"}, {"localhost", "localhost"}, {"kubernetes.", "kubernetes"},
		     {"KUBERNETES", "KUBERNETES"}};
	size_t i;
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CHECK_INT(exchange(&sv, ctx, cases[i].host, &p), 1);
		CHECK_INT(sv.sni_null, 0);
		CHECK_STR(sv.sni, cases[i].sni);
		pair_close(&p);
	}
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(name_not_in_sans_fails)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	check_err(connect_to(&p, &sv, ctx, "example.com"), K8S_ECERTIFICATE, "TLSVerifyFailed", "hostname mismatch");
	CHECK_HAS(k8s_error_last()->message, "example.com");
	CHECK(p.s_failed); /* the server got our alert */
	/* the failure is sticky */
	check_err(k8s__tls_handshake(p.c), K8S_ECERTIFICATE, "TLSVerifyFailed", "hostname mismatch");
	check_err(k8s__tls_write(p.c, "x", 1), K8S_ECERTIFICATE, "TLSVerifyFailed", "hostname mismatch");
	pair_close(&p);
	check_err(connect_to(&p, &sv, ctx, "10.9.9.9"), K8S_ECERTIFICATE, "TLSVerifyFailed", "IP address mismatch");
	pair_close(&p);
	/* a wildcard-looking or partial name does not match either */
	check_err(connect_to(&p, &sv, ctx, "kubernetes.default"), K8S_ECERTIFICATE, "TLSVerifyFailed", "mismatch");
	pair_close(&p);
	CHECK_INT(k8s__tls_ctx_cached_sessions(ctx), 0);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(wrong_ca_fails)
{
	server sv, sv_chain;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.other_pem);
	server_init(&sv, 0);
	server_init(&sv_chain, SRV_SEND_CA);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	check_err(connect_to(&p, &sv, ctx, "127.0.0.1"), K8S_ECERTIFICATE, "TLSVerifyFailed",
		  "TLS verification failed: ");
	CHECK_HAS(k8s_error_last()->message, "unable to get local issuer certificate");
	pair_close(&p);
	check_err(connect_to(&p, &sv_chain, ctx, "kubernetes"), K8S_ECERTIFICATE, "TLSVerifyFailed",
		  "self-signed certificate in certificate chain");
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	/* the system roots do not know the test CA either */
	o.ca_data = NULL;
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	check_err(connect_to(&p, &sv, ctx, "kubernetes"), K8S_ECERTIFICATE, "TLSVerifyFailed", NULL);
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
	server_free(&sv_chain);
}

TEST(insecure_skips_verification)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.other_pem);
	o.insecure = 1;
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
	pair_close(&p);
	CHECK_INT(exchange(&sv, ctx, "example.com", &p), 1);
	CHECK_STR(sv.sni, "example.com");
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	o.ca_data = NULL; /* and no CA at all */
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	CHECK_INT(exchange(&sv, ctx, "10.1.2.3", &p), 1);
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(server_name_overrides_host)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	o.server_name = "kubernetes";
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	CHECK_INT(exchange(&sv, ctx, "10.0.0.1", &p), 1);
	CHECK_INT(sv.sni_null, 0);
	CHECK_STR(sv.sni, "kubernetes");
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	o.server_name = "wrong.example";
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	check_err(connect_to(&p, &sv, ctx, "127.0.0.1"), K8S_ECERTIFICATE, "TLSVerifyFailed", "hostname mismatch");
	CHECK_HAS(k8s_error_last()->message, "wrong.example");
	CHECK_STR(sv.sni, "wrong.example");
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	/* an IP server name is checked against the IP SANs, without SNI */
	o.server_name = "127.0.0.1";
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	CHECK_INT(exchange(&sv, ctx, "kubernetes.example", &p), 1);
	CHECK_INT(sv.sni_null, 1);
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(ca_from_file)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL, *ctx2 = NULL;
	k8s_tls_options o, od = ca_opts(fx.ca_pem);
	char *path = temp_file(fx.ca_pem);
	memset(&o, 0, sizeof(o));
	o.ca_file = path;
	server_init(&sv, 0);
	CHECK_INT(k8s__tls_ctx_new(&ctx, &o), 0);
	if (ctx) {
		CHECK_INT(exchange(&sv, ctx, "kubernetes", &p), 1);
		pair_close(&p);
		/* the same CA by file or by data is the same identity */
		REQUIRE(k8s__tls_ctx_new(&ctx2, &od) == 0);
		CHECK_STR(k8s__tls_ctx_identity(ctx), k8s__tls_ctx_identity(ctx2));
		k8s__tls_ctx_free(ctx2);
	}
	k8s__tls_ctx_free(ctx);
	unlink(path);
	free(path);
	/* data with a length: what follows is not read */
	{
		size_t cl = strlen(fx.ca_pem), ccl = strlen(fx.cli_pem), kl = strlen(fx.cli_key_pem);
		char *ca = malloc(cl + 8), *cert = malloc(ccl + 8), *key = malloc(kl + 8);
		server sv2;
		k8s_tls_options ol;
		memcpy(ca, fx.ca_pem, cl);
		memcpy(ca + cl, "garbage!", 8);
		memcpy(cert, fx.cli_pem, ccl);
		memcpy(cert + ccl, "garbage!", 8);
		memcpy(key, fx.cli_key_pem, kl);
		memcpy(key + kl, "garbage!", 8);
		memset(&ol, 0, sizeof(ol));
		ol.ca_data = ca;
		ol.ca_len = cl;
		ol.cert_data = cert;
		ol.cert_len = ccl;
		ol.key_data = key;
		ol.key_len = kl;
		server_init(&sv2, SRV_REQUIRE_CERT);
		CHECK_INT(k8s__tls_ctx_new(&ctx, &ol), 0);
		if (ctx) {
			CHECK_INT(exchange(&sv2, ctx, "127.0.0.1", &p), 1);
			CHECK_STR(peer_cn(&p), "user-one");
			pair_close(&p);
		}
		k8s__tls_ctx_free(ctx);
		ctx = NULL;
		ol.ca_len = cl - 40; /* a cut PEM block: the length is what counts */
		check_err(k8s__tls_ctx_new(&ctx, &ol), K8S_ECERTIFICATE, "TLSConfigError", "CAData");
		server_free(&sv2);
		free(ca);
		free(cert);
		free(key);
	}
	/* data wins over the file: a missing file is not read */
	od.ca_file = "/nonexistent/k8s-tls-test/ca.crt";
	CHECK_INT(k8s__tls_ctx_new(&ctx, &od), 0);
	if (ctx) {
		CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
		pair_close(&p);
	}
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(bad_ca_input)
{
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o;
	char *path;
	memset(&o, 0, sizeof(o));
	o.ca_file = "/nonexistent/k8s-tls-test/ca.crt";
	check_err(k8s__tls_ctx_new(&ctx, &o), K8S_ECERTIFICATE, "TLSConfigError",
		  "CAFile /nonexistent/k8s-tls-test/ca.crt: ");
	CHECK_HAS(k8s_error_last()->message, "No such file");
	CHECK(ctx == NULL);
	o = ca_opts("this is not a certificate");
	check_err(k8s__tls_ctx_new(&ctx, &o), K8S_ECERTIFICATE, "TLSConfigError", "CAData");
	o = ca_opts("-----BEGIN CERTIFICATE-----\n@@@@not base64@@@@\n-----END CERTIFICATE-----\n");
	check_err(k8s__tls_ctx_new(&ctx, &o), K8S_ECERTIFICATE, "TLSConfigError", "CAData");
	o = ca_opts("-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n");
	check_err(k8s__tls_ctx_new(&ctx, &o), K8S_ECERTIFICATE, "TLSConfigError", "CAData");
	/* a private key pasted as the CA: named, and the key is not quoted */
	o = ca_opts(fx.cli_key_pem);
	check_err(k8s__tls_ctx_new(&ctx, &o), K8S_ECERTIFICATE, "TLSConfigError", "CAData");
	/* a good certificate followed by a broken one */
	{
		size_t n = strlen(fx.ca_pem);
		char *two = malloc(2 * n + 1);
		memcpy(two, fx.ca_pem, n);
		memcpy(two + n, fx.ca_pem, n + 1);
		two[n + 40] ^= 0x5a; /* inside the base64 of the second one */
		o = ca_opts(two);
		check_err(k8s__tls_ctx_new(&ctx, &o), K8S_ECERTIFICATE, "TLSConfigError", "CAData");
		free(two);
	}
	path = temp_file("garbage\n");
	memset(&o, 0, sizeof(o));
	o.ca_file = path;
	check_err(k8s__tls_ctx_new(&ctx, &o), K8S_ECERTIFICATE, "TLSConfigError", path);
	unlink(path);
	free(path);
	CHECK(ctx == NULL);
}

TEST(client_cert_required)
{
	server sv, sv12;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	char *cf, *kf;
	server_init(&sv, SRV_REQUIRE_CERT);
	server_init(&sv12, SRV_REQUIRE_CERT | SRV_TLS12);
	/* without a certificate: TLS 1.3 fails once reading, 1.2 in the handshake */
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	check_err(exchange(&sv, ctx, "127.0.0.1", &p), K8S_ETRANSPORT, "TLSError", "certificate required");
	CHECK(p.s_failed);
	pair_close(&p);
	check_err(exchange(&sv12, ctx, "127.0.0.1", &p), K8S_ETRANSPORT, "TLSHandshakeFailed", "handshake failure");
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	/* from data */
	o.cert_data = fx.cli_pem;
	o.key_data = fx.cli_key_pem;
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
	CHECK_STR(peer_cn(&p), "user-one");
	pair_close(&p);
	CHECK_INT(exchange(&sv12, ctx, "kubernetes", &p), 1);
	CHECK_STR(peer_cn(&p), "user-one");
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	/* from files */
	cf = temp_file(fx.cli2_pem);
	kf = temp_file(fx.cli2_key_pem);
	o.cert_data = o.key_data = NULL;
	o.cert_file = cf;
	o.key_file = kf;
	CHECK_INT(k8s__tls_ctx_new(&ctx, &o), 0);
	if (ctx) {
		CHECK_INT(exchange(&sv, ctx, "localhost", &p), 1);
		CHECK_STR(peer_cn(&p), "user-two");
		pair_close(&p);
	}
	k8s__tls_ctx_free(ctx);
	unlink(cf);
	unlink(kf);
	free(cf);
	free(kf);
	server_free(&sv);
	server_free(&sv12);
}

TEST(bad_client_cert_input)
{
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem), b;
	char *enc = pem_key(fx.cli_key, "secret-pass"), *kf;
	const char *garbage_key = "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n";
	o.cert_data = fx.cli_pem;
	b = o;
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError", "CertData/CertFile: set without");
	b = o;
	b.cert_data = NULL;
	b.key_data = fx.cli_key_pem;
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError", "KeyData/KeyFile: set without");
	b = o;
	b.key_data = fx.cli2_key_pem; /* another key */
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError", "does not match");
	CHECK_HAS(k8s_error_last()->message, "KeyData");
	b.key_data = garbage_key;
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError", "KeyData");
	b.key_data = "not a key at all";
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError", "KeyData");
	b.key_data = enc; /* encrypted: refused, never prompts */
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError",
		  "KeyData: the private key is encrypted");
	b.key_data = fx.cli_key_pem;
	b.cert_data = fx.cli_key_pem; /* certificate and key swapped */
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError", "CertData");
	b.cert_data = "garbage";
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError", "CertData");
	b = o;
	b.cert_data = NULL;
	b.cert_file = "/nonexistent/k8s-tls-test/client.crt";
	b.key_data = fx.cli_key_pem;
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError",
		  "CertFile /nonexistent/k8s-tls-test/client.crt: No such file");
	b = o;
	b.key_file = "/nonexistent/k8s-tls-test/client.key";
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError",
		  "KeyFile /nonexistent/k8s-tls-test/client.key: No such file");
	kf = temp_file(fx.cli2_key_pem);
	b.key_file = kf;
	check_err(k8s__tls_ctx_new(&ctx, &b), K8S_ECERTIFICATE, "TLSConfigError", kf);
	unlink(kf);
	free(kf);
	CHECK(ctx == NULL);
	free(enc);
}

TEST(client_cert_rotation)
{
	server sv;
	pair p, old;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	char id1[64], id2[64];
	k8s_buf in = K8S_BUF_INIT;
	o.cert_data = fx.cli_pem;
	o.key_data = fx.cli_key_pem;
	server_init(&sv, SRV_REQUIRE_CERT);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	snprintf(id1, sizeof(id1), "%s", k8s__tls_ctx_identity(ctx));
	CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
	CHECK_STR(peer_cn(&p), "user-one");
	pair_close(&p);
	CHECK_INT(k8s__tls_ctx_cached_sessions(ctx), 1);
	/* a connection made before the rotation, whose tickets arrive after */
	CHECK_INT(connect_to(&old, &sv, ctx, "localhost"), 1);
	/* the same certificate again changes nothing */
	CHECK_INT(k8s__tls_ctx_set_client_cert(ctx, fx.cli_pem, fx.cli_key_pem), 0);
	CHECK_STR(k8s__tls_ctx_identity(ctx), id1);
	CHECK_INT(k8s__tls_ctx_cached_sessions(ctx), 1);
	/* a bad one fails and changes nothing */
	check_err(k8s__tls_ctx_set_client_cert(ctx, fx.cli2_pem, fx.cli_key_pem), K8S_ECERTIFICATE, "TLSConfigError",
		  "does not match");
	check_err(k8s__tls_ctx_set_client_cert(ctx, fx.cli2_pem, "junk"), K8S_ECERTIFICATE, "TLSConfigError",
		  "KeyData");
	CHECK_STR(k8s__tls_ctx_identity(ctx), id1);
	CHECK_INT(k8s__tls_ctx_set_client_cert(ctx, fx.cli2_pem, NULL), K8S_EINVALID);
	/* rotate */
	CHECK_INT(k8s__tls_ctx_set_client_cert(ctx, fx.cli2_pem, fx.cli2_key_pem), 0);
	snprintf(id2, sizeof(id2), "%s", k8s__tls_ctx_identity(ctx));
	CHECK(strcmp(id1, id2) != 0);
	CHECK_INT(strlen(id2), 32);
	CHECK_INT(k8s__tls_ctx_cached_sessions(ctx), 0);
	/* the old connection still works, and its tickets are not kept */
	CHECK_INT(k8s__tls_write(old.c, "ping", 4), 0);
	pump(&old);
	CHECK_STR(old.s_got.ptr, "ping");
	CHECK_STR(peer_cn(&old), "user-one");
	server_write(&old, "pong", 4);
	CHECK_INT(client_read(&old, &in, 4), 1);
	CHECK_STR(in.ptr, "pong");
	CHECK_INT(k8s__tls_ctx_cached_sessions(ctx), 0);
	pair_close(&old);
	/* new connections use the new certificate, with a full handshake */
	CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
	CHECK_STR(peer_cn(&p), "user-two");
	CHECK_INT(k8s__tls_session_reused(p.c), 0);
	pair_close(&p);
	CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
	CHECK_STR(peer_cn(&p), "user-two");
	CHECK_INT(k8s__tls_session_reused(p.c), 1);
	pair_close(&p);
	/* and back: the identity is a function of the certificate */
	CHECK_INT(k8s__tls_ctx_set_client_cert(ctx, fx.cli_pem, fx.cli_key_pem), 0);
	CHECK_STR(k8s__tls_ctx_identity(ctx), id1);
	CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
	CHECK_STR(peer_cn(&p), "user-one");
	CHECK_INT(k8s__tls_session_reused(p.c), 0);
	pair_close(&p);
	k8s_buf_free(&in);
	k8s__tls_ctx_free(ctx);
	/* a context without a client certificate can get one */
	o.cert_data = o.key_data = NULL;
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	snprintf(id1, sizeof(id1), "%s", k8s__tls_ctx_identity(ctx));
	CHECK_INT(k8s__tls_ctx_set_client_cert(ctx, fx.cli2_pem, fx.cli2_key_pem), 0);
	CHECK(strcmp(id1, k8s__tls_ctx_identity(ctx)) != 0);
	CHECK_INT(exchange(&sv, ctx, "kubernetes", &p), 1);
	CHECK_STR(peer_cn(&p), "user-two");
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

static void check_resumption(int flags, const char *version)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	o.cert_data = fx.cli_pem;
	o.key_data = fx.cli_key_pem;
	server_init(&sv, flags);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
	CHECK_STR(k8s__tls_version(p.c), version);
	CHECK_INT(k8s__tls_session_reused(p.c), 0);
	pair_close(&p);
	CHECK_INT(k8s__tls_ctx_cached_sessions(ctx), 1);
	CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
	CHECK_INT(k8s__tls_session_reused(p.c), 1);
	CHECK_INT(SSL_session_reused(p.s), 1);
	CHECK_STR(k8s__tls_version(p.c), version);
	CHECK_STR(p.s_got.ptr, "ping");
	pair_close(&p);
	/* sessions are per host: another name does a full handshake */
	CHECK_INT(exchange(&sv, ctx, "localhost", &p), 1);
	CHECK_INT(k8s__tls_session_reused(p.c), 0);
	pair_close(&p);
	CHECK_INT(k8s__tls_ctx_cached_sessions(ctx), 2);
	CHECK_INT(exchange(&sv, ctx, "localhost", &p), 1);
	CHECK_INT(k8s__tls_session_reused(p.c), 1);
	pair_close(&p);
	/* a session is only offered to the host it was made for */
	server_free(&sv);
	server_init(&sv, flags); /* a server that forgot it: full handshake, new session */
	CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
	CHECK_INT(k8s__tls_session_reused(p.c), 0);
	pair_close(&p);
	CHECK_INT(exchange(&sv, ctx, "127.0.0.1", &p), 1);
	CHECK_INT(k8s__tls_session_reused(p.c), 1);
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(resumption_tls13)
{
	check_resumption(0, "TLSv1.3");
	check_resumption(SRV_REQUIRE_CERT, "TLSv1.3");
}

TEST(resumption_tls12)
{
	check_resumption(SRV_TLS12, "TLSv1.2");
	check_resumption(SRV_TLS12 | SRV_REQUIRE_CERT, "TLSv1.2");
}

TEST(resumption_keyed_by_server_name)
{
	server sv;
	pair p;
	k8s_tls_ctx *a = NULL, *b = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&a, &o) == 0);
	o.server_name = "kubernetes";
	REQUIRE(k8s__tls_ctx_new(&b, &o) == 0);
	CHECK(strcmp(k8s__tls_ctx_identity(a), k8s__tls_ctx_identity(b)) != 0);
	CHECK_INT(exchange(&sv, b, "10.0.0.1", &p), 1);
	pair_close(&p);
	CHECK_INT(exchange(&sv, b, "10.0.0.1", &p), 1);
	CHECK_INT(k8s__tls_session_reused(p.c), 1);
	pair_close(&p);
	CHECK_INT(exchange(&sv, b, "10.0.0.2", &p), 1); /* another host, same name */
	CHECK_INT(k8s__tls_session_reused(p.c), 0);
	pair_close(&p);
	CHECK_INT(k8s__tls_ctx_cached_sessions(a), 0);
	k8s__tls_ctx_free(a);
	k8s__tls_ctx_free(b);
	server_free(&sv);
}

TEST(tls11_refused)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	server_init(&sv, SRV_TLS11);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	check_err(connect_to(&p, &sv, ctx, "127.0.0.1"), K8S_ETRANSPORT, "TLSHandshakeFailed", "127.0.0.1");
	CHECK(contains(k8s_error_last()->message, "protocol"));
	CHECK(!p.s_done);
	pair_close(&p);
	/* and even insecure does not lower the floor */
	k8s__tls_ctx_free(ctx);
	o.insecure = 1;
	o.ca_data = NULL;
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	check_err(connect_to(&p, &sv, ctx, "127.0.0.1"), K8S_ETRANSPORT, "TLSHandshakeFailed", "protocol");
	pair_close(&p);
	/* OpenSSL servers refuse a client that offers only 1.2+; a server that
	 * answers TLS 1.1 anyway is refused by the client */
	{
		static const unsigned char hello[] = {
			0x16, 0x03, 0x02, 0x00, 0x2a,   /* handshake record, TLS 1.1 */
			0x02, 0x00, 0x00, 0x26,         /* ServerHello */
			0x03, 0x02,                     /* TLS 1.1 */
			1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
			17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
			0x00,                           /* no session id */
			0xc0, 0x13,                     /* ECDHE-RSA-AES128-SHA */
			0x00,                           /* no compression */
		};
		REQUIRE(pair_open(&p, &sv, ctx, "127.0.0.1") == 0);
		CHECK_INT(k8s__tls_handshake(p.c), 0);
		CHECK_INT(k8s__tls_feed(p.c, (const char *)hello, sizeof(hello)), 0);
		check_err(k8s__tls_handshake(p.c), K8S_ETRANSPORT, "TLSHandshakeFailed", "unsupported protocol");
		pair_close(&p);
	}
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

static void fill(char *p, size_t n, unsigned seed)
{
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = (char)((i * 131 + seed + (i >> 9)) & 0xff);
}

TEST(application_data_both_ways)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	k8s_buf in = K8S_BUF_INIT;
	const size_t big = 1 << 20;
	char *up = malloc(big), *down = malloc(big);
	REQUIRE(up && down);
	fill(up, big, 1);
	fill(down, big, 7);
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	REQUIRE(connect_to(&p, &sv, ctx, "kubernetes") == 1);
	/* a request */
	CHECK_INT(k8s__tls_write(p.c, "GET /api HTTP/1.1\r\n\r\n", 21), 0);
	pump(&p);
	CHECK_STR(p.s_got.ptr, "GET /api HTTP/1.1\r\n\r\n");
	/* a 1 MB upload, in one write */
	k8s_buf_free(&p.s_got);
	CHECK_INT(k8s__tls_write(p.c, up, big), 0);
	pump(&p);
	CHECK_INT(p.s_got.len, big);
	CHECK(p.s_got.len == big && memcmp(p.s_got.ptr, up, big) == 0);
	/* a 1 MB download, appended after what out already holds */
	k8s_buf_puts(&in, "prefix:");
	server_write(&p, down, big);
	CHECK_INT(client_read(&p, &in, big + 7), 1);
	CHECK_INT(in.len, big + 7);
	CHECK(in.len == big + 7 && memcmp(in.ptr, "prefix:", 7) == 0 && memcmp(in.ptr + 7, down, big) == 0);
	/* nothing more to read */
	CHECK_INT(k8s__tls_read(p.c, &in), 0);
	CHECK_INT(in.len, big + 7);
	/* a zero-length write is fine */
	CHECK_INT(k8s__tls_write(p.c, "", 0), 0);
	CHECK(!p.s_failed);
	pair_close(&p);
	k8s_buf_free(&in);
	free(up);
	free(down);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(one_byte_at_a_time)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	k8s_buf in = K8S_BUF_INIT;
	char data[40000];
	int i;
	fill(data, sizeof(data), 3);
	o.cert_data = fx.cli_pem;
	o.key_data = fx.cli_key_pem;
	server_init(&sv, SRV_REQUIRE_CERT);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	for (i = 0; i < 2; i++) { /* a full handshake, then a resumed one */
		REQUIRE(pair_open(&p, &sv, ctx, "127.0.0.1") == 0);
		p.onebyte = 1;
		CHECK_INT(handshake(&p), 1);
		CHECK_INT(k8s__tls_session_reused(p.c), i);
		CHECK_STR(peer_cn(&p), "user-one");
		CHECK_INT(k8s__tls_write(p.c, data, sizeof(data)), 0);
		pump(&p);
		CHECK(p.s_got.len == sizeof(data) && memcmp(p.s_got.ptr, data, sizeof(data)) == 0);
		server_write(&p, data, sizeof(data));
		server_write(&p, "tail", 4);
		SSL_shutdown(p.s);
		CHECK_INT(client_read(&p, &in, 0), K8S_EOF);
		CHECK(in.len == sizeof(data) + 4 && memcmp(in.ptr, data, sizeof(data)) == 0);
		CHECK_INT(k8s__tls_eof(p.c), K8S_EOF);
		in.len = 0;
		pair_close(&p);
	}
	k8s_buf_free(&in);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(close_notify_is_eof)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	k8s_buf in = K8S_BUF_INIT;
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	REQUIRE(connect_to(&p, &sv, ctx, "127.0.0.1") == 1);
	server_write(&p, "bye", 3);
	SSL_shutdown(p.s);
	/* both arrive together: first the data, then K8S_EOF */
	shuttle(&p);
	CHECK_INT(k8s__tls_read(p.c, &in), 1);
	CHECK_STR(in.ptr, "bye");
	check_err(k8s__tls_read(p.c, &in), K8S_EOF, "EOF", NULL);
	check_err(k8s__tls_read(p.c, &in), K8S_EOF, "EOF", NULL);
	CHECK_INT(in.len, 3);
	/* whatever the peer sends after close_notify is ignored */
	CHECK_INT(k8s__tls_feed(p.c, "\x17\x03\x03\x00\x05junk", 10), 0);
	CHECK_INT(k8s__tls_read(p.c, &in), K8S_EOF);
	CHECK_INT(k8s__tls_eof(p.c), K8S_EOF);
	/* our close_notify, once */
	CHECK_INT(k8s__tls_shutdown(p.c), 0);
	CHECK_INT(k8s__tls_shutdown(p.c), 0);
	pump(&p);
	CHECK(p.s_closed);
	CHECK_INT(k8s__tls_write(p.c, "x", 1), K8S_EINVALID);
	pair_close(&p);
	/* the client closes first */
	REQUIRE(connect_to(&p, &sv, ctx, "127.0.0.1") == 1);
	CHECK_INT(k8s__tls_shutdown(p.c), 0);
	pump(&p);
	CHECK(p.s_closed);
	SSL_shutdown(p.s);
	CHECK_INT(client_read(&p, &in, 0), K8S_EOF);
	pair_close(&p);
	k8s_buf_free(&in);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(tcp_eof_without_close_notify)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	k8s_buf in = K8S_BUF_INIT;
	char buf[64];
	size_t n;
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	/* cut in the middle of a record */
	REQUIRE(connect_to(&p, &sv, ctx, "127.0.0.1") == 1);
	CHECK_INT(client_read(&p, &in, 0), 0); /* the tickets */
	server_write(&p, "0123456789abcdef", 16);
	n = BIO_ctrl_pending(p.s_out);
	CHECK(n > 20);
	CHECK_INT(BIO_read(p.s_out, buf, 12), 12);
	CHECK_INT(k8s__tls_feed(p.c, buf, 12), 0);
	CHECK_INT(k8s__tls_read(p.c, &in), 0);
	check_err(k8s__tls_eof(p.c), K8S_ETRANSPORT, "TLSTruncated", "truncated");
	check_err(k8s__tls_read(p.c, &in), K8S_ETRANSPORT, "TLSTruncated", NULL);
	pair_close(&p);
	/* cut inside a record header */
	REQUIRE(connect_to(&p, &sv, ctx, "127.0.0.1") == 1);
	CHECK_INT(client_read(&p, &in, 0), 0);
	server_write(&p, "x", 1);
	CHECK_INT(BIO_read(p.s_out, buf, 3), 3);
	CHECK_INT(k8s__tls_feed(p.c, buf, 3), 0);
	CHECK_INT(k8s__tls_read(p.c, &in), 0);
	check_err(k8s__tls_eof(p.c), K8S_ETRANSPORT, "TLSTruncated", NULL);
	pair_close(&p);
	/* whole records fed but not read */
	REQUIRE(connect_to(&p, &sv, ctx, "127.0.0.1") == 1);
	CHECK_INT(client_read(&p, &in, 0), 0);
	server_write(&p, "unread", 6);
	shuttle(&p);
	check_err(k8s__tls_eof(p.c), K8S_ETRANSPORT, "TLSTruncated", "unread");
	pair_close(&p);
	/* at a record boundary: the end of the stream (the HTTP framing decides) */
	REQUIRE(connect_to(&p, &sv, ctx, "127.0.0.1") == 1);
	server_write(&p, "whole", 5);
	in.len = 0;
	CHECK_INT(client_read(&p, &in, 5), 1);
	CHECK_STR(in.ptr, "whole");
	check_err(k8s__tls_eof(p.c), K8S_EOF, "EOF", NULL);
	pair_close(&p);
	/* during the handshake */
	REQUIRE(pair_open(&p, &sv, ctx, "127.0.0.1") == 0);
	CHECK_INT(k8s__tls_handshake(p.c), 0);
	shuttle(&p);
	server_step(&p);
	shuttle(&p);
	check_err(k8s__tls_eof(p.c), K8S_ETRANSPORT, "TLSHandshakeFailed", "closed");
	pair_close(&p);
	k8s_buf_free(&in);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(key_update_produces_output)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	k8s_buf in = K8S_BUF_INIT;
	size_t n;
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	REQUIRE(connect_to(&p, &sv, ctx, "kubernetes") == 1);
	CHECK_INT(client_read(&p, &in, 0), 0);
	k8s__tls_pending(p.c, &n);
	CHECK_INT(n, 0);
	CHECK_INT(SSL_key_update(p.s, SSL_KEY_UPDATE_REQUESTED), 1);
	server_write(&p, "after", 5);
	shuttle(&p);
	CHECK_INT(k8s__tls_read(p.c, &in), 1);
	CHECK_STR(in.ptr, "after");
	k8s__tls_pending(p.c, &n);
	CHECK(n > 0); /* our KeyUpdate */
	CHECK_INT(k8s__tls_write(p.c, "more", 4), 0);
	pump(&p);
	CHECK(!p.s_failed);
	CHECK_STR(p.s_got.ptr, "more");
	pair_close(&p);
	k8s_buf_free(&in);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(tampered_record_fails)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	k8s_buf in = K8S_BUF_INIT;
	char buf[256];
	int n;
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	REQUIRE(connect_to(&p, &sv, ctx, "127.0.0.1") == 1);
	CHECK_INT(client_read(&p, &in, 0), 0);
	server_write(&p, "secret data", 11);
	n = BIO_read(p.s_out, buf, sizeof(buf));
	REQUIRE(n > 10);
	buf[n - 3] ^= 1;
	CHECK_INT(k8s__tls_feed(p.c, buf, (size_t)n), 0);
	check_err(k8s__tls_read(p.c, &in), K8S_ETRANSPORT, "TLSError", "127.0.0.1");
	check_err(k8s__tls_read(p.c, &in), K8S_ETRANSPORT, "TLSError", NULL);
	check_err(k8s__tls_eof(p.c), K8S_ETRANSPORT, "TLSError", NULL);
	CHECK_INT(in.len, 0);
	pump(&p);
	CHECK(p.s_failed); /* got our alert */
	pair_close(&p);
	/* garbage instead of a ServerHello */
	REQUIRE(pair_open(&p, &sv, ctx, "127.0.0.1") == 0);
	CHECK_INT(k8s__tls_handshake(p.c), 0);
	CHECK_INT(k8s__tls_feed(p.c, "HTTP/1.1 400 Bad Request\r\n\r\n", 28), 0);
	check_err(k8s__tls_handshake(p.c), K8S_ETRANSPORT, "TLSHandshakeFailed", "plain HTTP");
	pair_close(&p);
	/* not TLS at all, fed one byte at a time */
	REQUIRE(pair_open(&p, &sv, ctx, "127.0.0.1") == 0);
	CHECK_INT(k8s__tls_handshake(p.c), 0);
	{
		const char *junk = "SSH-2.0-OpenSSH_9.6\r\n";
		int rc = 0;
		for (; *junk && rc == 0; junk++) {
			CHECK_INT(k8s__tls_feed(p.c, junk, 1), 0);
			rc = k8s__tls_handshake(p.c);
		}
		check_err(rc, K8S_ETRANSPORT, "TLSHandshakeFailed", "127.0.0.1");
	}
	pair_close(&p);
	k8s_buf_free(&in);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(pending_and_consume)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	const char *d, *d2;
	char *copy;
	size_t n, n2;
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	REQUIRE(pair_open(&p, &sv, ctx, "127.0.0.1") == 0);
	d = k8s__tls_pending(p.c, &n);
	CHECK_INT(n, 0);
	CHECK_STR(d, "");
	/* writing before the handshake is refused */
	check_err(k8s__tls_write(p.c, "x", 1), K8S_EINVALID, "Invalid", "handshake");
	CHECK_INT(k8s__tls_handshake(p.c), 0);
	CHECK_INT(k8s__tls_handshake(p.c), 0); /* again: still waiting, nothing new */
	d = k8s__tls_pending(p.c, &n);
	REQUIRE(n > 100);
	CHECK_INT((unsigned char)d[0], 0x16); /* a handshake record */
	copy = malloc(n);
	memcpy(copy, d, n);
	k8s__tls_consume(p.c, 10);
	d2 = k8s__tls_pending(p.c, &n2);
	CHECK_INT(n2, n - 10);
	CHECK(memcmp(d2, copy + 10, n2) == 0);
	free(copy);
	k8s__tls_consume(p.c, n2 + 1000); /* more than there is */
	k8s__tls_pending(p.c, &n);
	CHECK_INT(n, 0);
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

TEST(identity_and_refcount)
{
	server sv;
	pair p;
	k8s_tls_ctx *a = NULL, *b = NULL, *c = NULL;
	k8s_tls_options o = ca_opts(fx.ca_pem);
	const char *id;
	size_t i;
	REQUIRE(k8s__tls_ctx_new(&a, &o) == 0);
	REQUIRE(k8s__tls_ctx_new(&b, &o) == 0);
	id = k8s__tls_ctx_identity(a);
	CHECK_INT(strlen(id), 32);
	for (i = 0; i < 32; i++)
		CHECK(strchr("0123456789abcdef", id[i]) != NULL);
	CHECK_STR(id, k8s__tls_ctx_identity(b)); /* stable */
	k8s__tls_ctx_free(b);
	o.insecure = 1;
	REQUIRE(k8s__tls_ctx_new(&b, &o) == 0);
	CHECK(strcmp(id, k8s__tls_ctx_identity(b)) != 0);
	k8s__tls_ctx_free(b);
	o = ca_opts(fx.other_pem);
	REQUIRE(k8s__tls_ctx_new(&b, &o) == 0);
	CHECK(strcmp(id, k8s__tls_ctx_identity(b)) != 0);
	k8s__tls_ctx_free(b);
	o = ca_opts(fx.ca_pem);
	o.server_name = "kubernetes";
	REQUIRE(k8s__tls_ctx_new(&b, &o) == 0);
	CHECK(strcmp(id, k8s__tls_ctx_identity(b)) != 0);
	k8s__tls_ctx_free(b);
	memset(&o, 0, sizeof(o)); /* the system roots */
	REQUIRE(k8s__tls_ctx_new(&b, &o) == 0);
	CHECK(strcmp(id, k8s__tls_ctx_identity(b)) != 0);
	k8s__tls_ctx_free(b);
	o = ca_opts(fx.ca_pem);
	o.cert_data = fx.cli_pem;
	o.key_data = fx.cli_key_pem;
	REQUIRE(k8s__tls_ctx_new(&b, &o) == 0);
	CHECK(strcmp(id, k8s__tls_ctx_identity(b)) != 0);
	k8s__tls_ctx_free(b);
	/* references: the connection keeps the context alive */
	server_init(&sv, 0);
	c = k8s__tls_ctx_ref(a);
	CHECK(c == a);
	k8s__tls_ctx_free(c);
	REQUIRE(pair_open(&p, &sv, a, "127.0.0.1") == 0);
	k8s__tls_ctx_free(a);
	CHECK_INT(handshake(&p), 1);
	pair_close(&p);
	k8s__tls_ctx_free(NULL);
	k8s__tls_free(NULL);
	/* bad host */
	REQUIRE(k8s__tls_ctx_new(&a, &o) == 0);
	{
		k8s_tls *t = (k8s_tls *)&p;
		char longname[300];
		CHECK_INT(k8s__tls_new(&t, a, ""), K8S_EINVALID);
		CHECK(t == NULL);
		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = 0;
		check_err(k8s__tls_new(&t, a, longname), K8S_EINVALID, "Invalid", NULL);
		CHECK(t == NULL);
	}
	k8s__tls_ctx_free(a);
	server_free(&sv);
}

TEST(session_cache_is_bounded)
{
	server sv;
	pair p;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls_options o;
	char host[32];
	int i;
	memset(&o, 0, sizeof(o));
	o.insecure = 1; /* any name will do */
	server_init(&sv, 0);
	REQUIRE(k8s__tls_ctx_new(&ctx, &o) == 0);
	for (i = 0; i < 70; i++) {
		snprintf(host, sizeof(host), "h%d.example", i);
		CHECK_INT(exchange(&sv, ctx, host, &p), 1);
		pair_close(&p);
	}
	CHECK_INT(k8s__tls_ctx_cached_sessions(ctx), 64);
	/* the oldest went first */
	CHECK_INT(exchange(&sv, ctx, "h0.example", &p), 1);
	CHECK_INT(k8s__tls_session_reused(p.c), 0);
	pair_close(&p);
	CHECK_INT(exchange(&sv, ctx, "h69.example", &p), 1);
	CHECK_INT(k8s__tls_session_reused(p.c), 1);
	pair_close(&p);
	k8s__tls_ctx_free(ctx);
	server_free(&sv);
}

int main(void)
{
	int rc;
	fixtures_make();
	RUN(ca_data_ip_san_no_sni);
	RUN(dns_names_send_sni);
	RUN(name_not_in_sans_fails);
	RUN(wrong_ca_fails);
	RUN(insecure_skips_verification);
	RUN(server_name_overrides_host);
	RUN(ca_from_file);
	RUN(bad_ca_input);
	RUN(client_cert_required);
	RUN(bad_client_cert_input);
	RUN(client_cert_rotation);
	RUN(resumption_tls13);
	RUN(resumption_tls12);
	RUN(resumption_keyed_by_server_name);
	RUN(tls11_refused);
	RUN(application_data_both_ways);
	RUN(one_byte_at_a_time);
	RUN(close_notify_is_eof);
	RUN(tcp_eof_without_close_notify);
	RUN(key_update_produces_output);
	RUN(tampered_record_fails);
	RUN(pending_and_consume);
	RUN(identity_and_refcount);
	RUN(session_cache_is_bounded);
	rc = TEST_SUMMARY();
	fixtures_free();
	return rc;
}
