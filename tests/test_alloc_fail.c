/* Allocation-failure ("torture") tests of the C core, in the style of curl's
 * runtests.pl -t: each scenario runs once with nothing failing, counting the
 * allocations libk8s makes (tests/alloc_fail.h); then it is rerun once for
 * every N in 1..N_total with exactly the Nth allocation failing. Each rerun
 * must either fail with K8S_ENOMEM or succeed with exactly the outcome of
 * the clean run, never anything else; every request that reached the server
 * must mean what the clean run's did (the namespace, the query, the
 * credentials, the CA the transfer was verified with); and nothing our code
 * allocated may be left over.
 *
 * A fake server (tests/fakeserver.h, and a TLS front for it) stands in for
 * the API server: the real one cannot make our allocations fail.
 *
 * Every N runs, also under ASan and valgrind (tools/check-memory.sh):
 * about 7 s plain or under ASan, 25 s under valgrind (the TLS scenarios
 * take most of it). To debug: K8S_FA_N=n runs only that N, K8S_FA_STRIDE=k
 * every k-th, and an argument picks the scenarios whose name contains it. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "k8s.h"
#include "k8s/clientcmd.h"
#include "tls.h"
#include "wire.h"
#include "k8s/call.h"
#include "test.h"
#include "fakeserver.h"
#include "alloc_fail.h"

#define TOKEN "tok-0123456789abcdef"
#define NS "ns-x"
#define SELECTOR_Q "labelSelector=app%3Dx"

static fakeserver FS;
static char tmpdir[64];
static char ca_path[128], kubeconfig_path[128];
static char *ca_pem;

/* ---- certificates and a TLS front for the fake server ---- */

static EVP_PKEY *ca_key, *srv_key;
static X509 *ca_cert, *srv_cert;

static void add_ext(X509 *x, X509V3_CTX *v, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v, nid, value);
	if (!e || !X509_add_ext(x, e, -1))
		abort();
	X509_EXTENSION_free(e);
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *san)
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
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509V3_set_ctx_nodb(&v);
	X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
	add_ext(x, &v, NID_basic_constraints, issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
	add_ext(x, &v, NID_key_usage, issuer ? "critical,digitalSignature" : "critical,keyCertSign,cRLSign");
	add_ext(x, &v, NID_subject_key_identifier, "hash");
	if (issuer)
		add_ext(x, &v, NID_authority_key_identifier, "keyid:always");
	if (san)
		add_ext(x, &v, NID_subject_alt_name, san);
	if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
		abort();
	return x;
}

static void write_text(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(s, f) < 0 || fclose(f) != 0)
		abort();
}

/* One TLS connection relayed to the fake server, on its own thread. */
typedef struct {
	int cfd;
	SSL_CTX *ctx;
	int upstream_port;
} relay;

static atomic_int relays_active;
static atomic_ulong tls_handshakes;

static int connect_local(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)port);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *relay_thread(void *arg)
{
	relay *rl = arg;
	SSL *s = SSL_new(rl->ctx);
	int ufd = -1;
	char buf[16384];
	if (!s || SSL_set_fd(s, rl->cfd) != 1 || SSL_accept(s) != 1)
		goto out;
	atomic_fetch_add(&tls_handshakes, 1);
	if ((ufd = connect_local(rl->upstream_port)) < 0)
		goto out;
	for (;;) {
		struct pollfd pf[2] = {{rl->cfd, POLLIN, 0}, {ufd, POLLIN, 0}};
		if (SSL_pending(s) == 0 && poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (SSL_pending(s) > 0 || (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			int n = SSL_read(s, buf, sizeof(buf));
			if (n <= 0)
				break;
			fs_write_all(ufd, buf, (size_t)n);
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(ufd, buf, sizeof(buf), 0);
			if (n <= 0 || SSL_write(s, buf, (int)n) != (int)n)
				break;
		}
	}
out:
	ERR_clear_error();
	if (s)
		SSL_free(s);
	if (ufd >= 0)
		close(ufd);
	close(rl->cfd);
	free(rl);
	OPENSSL_thread_stop();
	atomic_fetch_sub(&relays_active, 1);
	return NULL;
}

static struct {
	int lfd, port, wake[2];
	pthread_t th;
	SSL_CTX *ctx;
	char url[64];
} TF;

static void *front_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pf[2] = {{TF.wake[0], POLLIN, 0}, {TF.lfd, POLLIN, 0}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents)
			break;
		if (pf[1].revents & POLLIN) {
			int cfd = accept(TF.lfd, NULL, NULL);
			relay *rl;
			pthread_t th;
			pthread_attr_t at;
			if (cfd < 0)
				continue;
			rl = fs_xmalloc(sizeof(*rl));
			rl->cfd = cfd;
			rl->ctx = TF.ctx;
			rl->upstream_port = FS.port;
			atomic_fetch_add(&relays_active, 1);
			pthread_attr_init(&at);
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			if (pthread_create(&th, &at, relay_thread, rl) != 0) {
				atomic_fetch_sub(&relays_active, 1);
				close(cfd);
				free(rl);
			}
			pthread_attr_destroy(&at);
		}
	}
	return NULL;
}

static void front_start(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	TF.ctx = SSL_CTX_new(TLS_server_method());
	if (!TF.ctx || SSL_CTX_use_certificate(TF.ctx, srv_cert) != 1 || SSL_CTX_use_PrivateKey(TF.ctx, srv_key) != 1)
		abort();
	if (pipe(TF.wake) < 0 || (TF.lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		abort();
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(TF.lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(TF.lfd, 16) < 0 ||
	    getsockname(TF.lfd, (struct sockaddr *)&a, &alen) < 0)
		abort();
	TF.port = ntohs(a.sin_port);
	snprintf(TF.url, sizeof(TF.url), "https://127.0.0.1:%d", TF.port);
	if (pthread_create(&TF.th, NULL, front_thread, NULL) != 0)
		abort();
}

static void front_stop(void)
{
	char x = 'x';
	int i;
	if (write(TF.wake[1], &x, 1) != 1)
		abort();
	pthread_join(TF.th, NULL);
	for (i = 0; i < 500 && atomic_load(&relays_active) > 0; i++)
		sleep_s(0.01);
	close(TF.lfd);
	close(TF.wake[0]);
	close(TF.wake[1]);
	SSL_CTX_free(TF.ctx);
}

static void fixtures_make(void)
{
	BIO *b;
	char *p;
	long n;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/k8s-alloc-fail-XXXXXX");
	if (!mkdtemp(tmpdir))
		abort();
	ca_key = EVP_EC_gen("P-256");
	srv_key = EVP_EC_gen("P-256");
	if (!ca_key || !srv_key)
		abort();
	ca_cert = make_cert("alloc-fail-test-ca", ca_key, NULL, NULL, NULL);
	srv_cert = make_cert("kube-apiserver", srv_key, ca_cert, ca_key, "DNS:localhost,IP:127.0.0.1");
	b = BIO_new(BIO_s_mem());
	if (!b || PEM_write_bio_X509(b, ca_cert) != 1)
		abort();
	n = BIO_get_mem_data(b, &p);
	ca_pem = fs_xstrndup(p, (size_t)n);
	BIO_free(b);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", tmpdir);
	write_text(ca_path, ca_pem);
}

static void fixtures_free(void)
{
	char path[160];
	X509_free(ca_cert);
	X509_free(srv_cert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(srv_key);
	free(ca_pem);
	unlink(ca_path);
	unlink(kubeconfig_path);
	snprintf(path, sizeof(path), "%s", tmpdir);
	rmdir(path);
}

/* ---- outcomes ---- */

typedef struct {
	int rc;
	char fp[4096]; /* everything the caller can see of the outcome */
} outcome;

static void fp_add(outcome *o, const char *fmt, ...) K8S_PRINTF(2, 3);
static void fp_add(outcome *o, const char *fmt, ...)
{
	size_t n = strlen(o->fp);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->fp + n, sizeof(o->fp) - n, fmt, ap);
	va_end(ap);
}

/* The outcome of a step that failed: rc and the last error. */
static void out_error(outcome *o, const char *step, int rc)
{
	const k8s_error *e = k8s_error_last();
	o->rc = rc;
	fp_add(o, "%s: rc=%d error=%d/%s/%s", step, rc, e->code, e->reason, e->message);
}

/* The outcome of a request: rc and everything of the result. */
static void out_result(outcome *o, int rc, k8s_result *res)
{
	o->rc = rc;
	if (!res) {
		out_error(o, "do", rc);
		return;
	}
	{
		size_t blen, i;
		const char *body = k8s_result_body(res, &blen);
		const k8s_status *st = k8s_result_status(res);
		const char *ct = k8s_result_content_type(res);
		fp_add(o, "rc=%d result_rc=%d code=%d ctype=%s body=%.*s", rc, k8s_result_error_code(res),
		       k8s_result_status_code(res), ct ? ct : "(none)", (int)blen, body);
		for (i = 0; i < k8s_result_warning_count(res); i++)
			fp_add(o, " warning=%s", k8s_result_warning(res, i));
		if (st)
			fp_add(o, " status={%d %s %s json=%s details=%s retry=%d}", st->code, st->reason, st->message,
			       st->status_json ? st->status_json : "(none)", st->details_json ? st->details_json : "(none)",
			       st->retry_after_seconds);
	}
	k8s_result_free(res);
}

/* ---- what every request reaching the server must carry ---- */

typedef struct {
	const char *method, *target;
	const char *authorization;   /* NULL: must have none */
	const char *imp_user;        /* NULL: not checked */
	const char *imp_group;
	const char *header, *value;  /* one more header that must be there */
	const char *body;            /* the request body (NULL: not checked) */
} expect;

static int check_request(const fs_request *q, const expect *x, char *why, size_t n)
{
	const char *v;
	if (strcmp(q->method, x->method) != 0) {
		snprintf(why, n, "method %s, expected %s", q->method, x->method);
		return -1;
	}
	if (strcmp(q->target, x->target) != 0) {
		snprintf(why, n, "target %s, expected %s", q->target, x->target);
		return -1;
	}
	v = fs_header(q, "Authorization");
	if (x->authorization ? !v || strcmp(v, x->authorization) != 0 : v != NULL) {
		snprintf(why, n, "Authorization %s, expected %s", v ? "<other value>" : "(none)",
			 x->authorization ? "the bearer token" : "none");
		return -1;
	}
	if (fs_header_n(q, "Authorization", 1)) {
		snprintf(why, n, "two Authorization headers");
		return -1;
	}
	if (x->imp_user && (!(v = fs_header(q, "Impersonate-User")) || strcmp(v, x->imp_user) != 0)) {
		snprintf(why, n, "Impersonate-User %s, expected %s", v ? v : "(none)", x->imp_user);
		return -1;
	}
	if (x->imp_group && (!(v = fs_header(q, "Impersonate-Group")) || strcmp(v, x->imp_group) != 0)) {
		snprintf(why, n, "Impersonate-Group %s, expected %s", v ? v : "(none)", x->imp_group);
		return -1;
	}
	if (x->header && (!(v = fs_header(q, x->header)) || strcmp(v, x->value) != 0)) {
		snprintf(why, n, "%s %s, expected %s", x->header, v ? v : "(none)", x->value);
		return -1;
	}
	if (x->body && (q->body_len != strlen(x->body) || memcmp(q->body, x->body, q->body_len) != 0)) {
		snprintf(why, n, "the body %.*s, expected %s", (int)q->body_len, q->body, x->body);
		return -1;
	}
	return 0;
}

/* ---- the torture loop ---- */

typedef struct {
	const char *name;
	void (*script)(void);         /* the fake server's answers */
	void (*run)(outcome *o);      /* the scenario */
	expect x;                     /* every request that reached the server */
	const char *cainfo;           /* the CA file every transfer must be given */
	int ca_blob;                  /* every transfer must be given CAData */
	int tls;                      /* succeeds only with a verified TLS handshake */
	int want_rc;                  /* what the clean run returns */
} scenario;

static void script_none(void)
{
}

static unsigned long stride_for(unsigned long total)
{
	const char *s = getenv("K8S_FA_STRIDE");
	(void)total;
	if (s && atol(s) > 0)
		return (unsigned long)atol(s);
	return 1;
}

static unsigned long total_runs;

/* Wait until everything a run sent has reached the fake server's log: the
 * TLS relays have ended (the client closed its connections), then two
 * round trips of a marker request on a connection of our own (what was in
 * the server's sockets before them has been read and recorded by then). */
static void quiesce(void)
{
	int i;
	for (i = 0; i < 2000 && atomic_load(&relays_active) > 0; i++)
		sleep_s(0.005);
	if (atomic_load(&relays_active) > 0)
		fprintf(stderr, "  a TLS relay is still open\n");
	fs_quiesce(&FS);
}

/* The requests the run made (the markers left out). */
static size_t run_requests(const fs_request **out, size_t max)
{
	size_t i, n = fs_count(&FS), k = 0;
	for (i = 0; i < n; i++) {
		const fs_request *q = fs_req(&FS, i);
		if (strcmp(q->method, "QUIESCE") != 0 && k < max)
			out[k++] = q;
	}
	return k;
}

/* One run with allocation n failing (0: none). Returns the number of
 * problems found and prints them. */
static int run_once(const scenario *sc, unsigned long n, const outcome *base, size_t base_reqs, outcome *o,
		    unsigned long *count)
{
	size_t live0 = fa_live(), i, nreq;
	const fs_request *reqs[64];
	unsigned long hs0 = atomic_load(&tls_handshakes);
	char why[512];
	int bad = 0;
	fs_reset(&FS);
	sc->script();
	memset(o, 0, sizeof(*o));
	fa_transfers_checked = fa_bad_transfers = 0;
	fa_expect_cainfo = sc->cainfo;
	fa_expect_ca_blob = sc->ca_blob;
	k8s_error_clear();
	fa_arm(n);
	sc->run(o);
	*count = fa_count;
	fa_disarm();
	fa_expect_cainfo = NULL;
	fa_expect_ca_blob = 0;
	total_runs++;
	quiesce();
#define PROBLEM(...) do { fprintf(stderr, "  [%s N=%lu] ", sc->name, n); fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); bad++; } while (0)
	if (base) {
		if (o->rc != K8S_ENOMEM) {
			if (strcmp(o->fp, base->fp) != 0)
				PROBLEM("neither K8S_ENOMEM nor the clean outcome:\n    got  %.1500s\n    want %.1500s", o->fp,
					base->fp);
		}
		if (o->rc == K8S_ENOMEM && strcmp(k8s_error_last()->reason, "OutOfMemory") != 0)
			PROBLEM("K8S_ENOMEM with the reason %s", k8s_error_last()->reason);
	}
	nreq = run_requests(reqs, sizeof(reqs) / sizeof(reqs[0]));
	for (i = 0; i < nreq; i++)
		if (check_request(reqs[i], &sc->x, why, sizeof(why)) < 0)
			PROBLEM("request %zu reached the server with %s", i + 1, why);
	if (base && o->rc != K8S_ENOMEM && nreq != base_reqs)
		PROBLEM("%zu requests reached the server, the clean run made %zu", nreq, base_reqs);
	if (base && nreq > base_reqs)
		PROBLEM("%zu requests reached the server, the clean run made %zu", nreq, base_reqs);
	if (fa_bad_transfers)
		PROBLEM("%lu transfer(s) were not given the CA", fa_bad_transfers);
	if ((sc->cainfo || sc->ca_blob) && o->rc != K8S_ENOMEM && !fa_transfers_checked)
		PROBLEM("succeeded without a transfer");
	if (sc->tls && o->rc != K8S_ENOMEM && atomic_load(&tls_handshakes) == hs0 && nreq > 0)
		PROBLEM("succeeded without a TLS handshake");
	if (fa_live() != live0)
		PROBLEM("%zu block(s) allocated by libk8s were not freed", fa_live() - live0);
#undef PROBLEM
	return bad;
}

static void torture(const scenario *sc)
{
	outcome base, o;
	unsigned long total, n, stride, count, ran = 0, ooms = 0, oks = 0;
	size_t base_reqs;
	int bad = 0;
	double t0 = now_s();
	const fs_request *reqs[64];
	bad += run_once(sc, 0, NULL, 0, &base, &total);
	base_reqs = run_requests(reqs, sizeof(reqs) / sizeof(reqs[0]));
	if (base.rc != sc->want_rc) {
		fprintf(stderr, "  [%s] the clean run returned %d, expected %d: %s\n", sc->name, base.rc, sc->want_rc,
			base.fp);
		CHECK(base.rc == sc->want_rc);
		return;
	}
	CHECK(base_reqs > 0 || sc->script == script_none);
	CHECK(total > 0);
	stride = stride_for(total);
	n = 1;
	if (getenv("K8S_FA_N")) /* one N only, to debug it */
		n = total = (unsigned long)atol(getenv("K8S_FA_N"));
	for (; n <= total; n += stride) {
		int b = run_once(sc, n, &base, base_reqs, &o, &count);
		ran++;
		if (o.rc == K8S_ENOMEM)
			ooms++;
		else
			oks++;
		bad += b;
		if (bad > 20) {
			fprintf(stderr, "  [%s] too many problems, stopping\n", sc->name);
			break;
		}
	}
	fprintf(stderr, "  %s: %lu allocations, %lu runs (%lu K8S_ENOMEM, %lu identical), %.2fs\n", sc->name, total,
		ran, ooms, oks, now_s() - t0);
	CHECK(bad == 0);
}

/* ---- scenarios ---- */

static void script_status_success(void)
{
	fs_fallback(&FS, 200, "application/json", NULL,
		    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\"}", FS_OK);
}

static void script_list(void)
{
	fs_fallback(&FS, 200, "application/json", "Warning: 299 - \"a deprecated field\"\r\n",
		    "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"42\"},"
		    "\"items\":[{\"metadata\":{\"name\":\"cm-1\",\"namespace\":\"ns-x\"},\"data\":{\"k\":\"v\"}}]}",
		    FS_OK);
}

static void script_forbidden(void)
{
	fs_fallback(&FS, 403, "application/json", "Warning: 299 - \"first\", 299 - \"second\"\r\n",
		    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		    "\"message\":\"configmaps \\\"cm-1\\\" is forbidden: User \\\"jane\\\" cannot get resource\","
		    "\"reason\":\"Forbidden\",\"details\":{\"name\":\"cm-1\",\"kind\":\"configmaps\","
		    "\"retryAfterSeconds\":3},\"code\":403}",
		    FS_OK);
}

/* A config for the fake server, or NULL after out_error. */
static k8s_config *base_config(outcome *o, const char *host)
{
	k8s_config *cfg;
	int rc;
	if ((rc = k8s_config_new(&cfg)) < 0) {
		out_error(o, "config_new", rc);
		return NULL;
	}
	if ((rc = k8s_config_set_string(cfg, "Host", host)) < 0 ||
	    (rc = k8s_config_set_string(cfg, "BearerToken", TOKEN)) < 0) {
		out_error(o, "config_set", rc);
		k8s_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* verb on configmaps in NS through a clientset made from cfg (taken). */
static void clientset_request_body(outcome *o, k8s_config *cfg, const char *ns, k8s_verb verb, const char *name,
				   const char *selector, const char *body)
{
	k8s_clientset *cs = NULL;
	k8s_rest_client *rc = NULL;
	k8s_request *r = NULL;
	k8s_result *res = NULL;
	const k8s_api_resource *row = k8s_api_resource_lookup("CoreV1", "ConfigMaps");
	int code;
	if ((code = k8s_clientset_new(&cs, cfg)) < 0) {
		out_error(o, "clientset_new", code);
		goto done;
	}
	if ((code = k8s_clientset_group_version(&rc, cs, "CoreV1")) < 0) {
		out_error(o, "group_version", code);
		goto done;
	}
	if ((code = k8s_resource_request(&r, rc, row, ns, verb, name, NULL)) < 0) {
		out_error(o, "resource_request", code);
		goto done;
	}
	if (selector && (code = k8s_request_param(r, "labelSelector", selector)) < 0) {
		out_error(o, "param", code);
		goto done;
	}
	if (body && (code = k8s_request_body(r, body, strlen(body))) < 0) {
		out_error(o, "body", code);
		goto done;
	}
	code = k8s_request_do(&res, r);
	out_result(o, code, res);
done:
	k8s_request_free(r);
	k8s_rest_client_free(rc);
	k8s_clientset_free(cs);
	k8s_config_free(cfg);
}

static void clientset_request(outcome *o, k8s_config *cfg, const char *ns, k8s_verb verb, const char *name,
			      const char *selector)
{
	clientset_request_body(o, cfg, ns, verb, name, selector, NULL);
}

/* (a) DeleteCollection in NS, with impersonation, through a clientset. */
static void run_delete_collection(outcome *o)
{
	k8s_config *cfg = base_config(o, FS.url);
	int rc;
	if (!cfg)
		return;
	if ((rc = k8s_config_set_string(cfg, "Impersonate.UserName", "jane")) < 0 ||
	    (rc = k8s_config_add_string(cfg, "Impersonate.Groups", "devs")) < 0) {
		out_error(o, "config_set", rc);
		k8s_config_free(cfg);
		return;
	}
	clientset_request(o, cfg, NS, K8S_VERB_DELETECOLLECTION, NULL, "app=x");
}

/* (a) the same with the request built by a careless caller that ignores
 * what the setters return: a setter that ran out of memory must still fail
 * the request (the request remembers its first error). */
static void run_careless_builder(outcome *o)
{
	k8s_config *cfg = base_config(o, FS.url), *gv = NULL;
	k8s_rest_client *rc = NULL;
	k8s_request *r = NULL;
	k8s_result *res = NULL;
	int code;
	if (!cfg)
		return;
	if ((code = k8s_rest_config_for_group_version(&gv, cfg, "", "v1")) < 0) {
		out_error(o, "for_group_version", code);
		goto done;
	}
	if ((code = k8s_rest_client_for(&rc, gv)) < 0) {
		out_error(o, "rest_client_for", code);
		goto done;
	}
	if ((code = k8s_rest_client_verb(&r, rc, "DELETE")) < 0) {
		out_error(o, "verb", code);
		goto done;
	}
	(void)k8s_request_namespace(r, NS);
	(void)k8s_request_resource(r, "configmaps");
	(void)k8s_request_param(r, "labelSelector", "app=x");
	(void)k8s_request_set_header(r, "X-Request-Id", "req-1");
	code = k8s_request_do(&res, r);
	out_result(o, code, res);
done:
	k8s_request_free(r);
	k8s_rest_client_free(rc);
	k8s_config_free(gv);
	k8s_config_free(cfg);
}

/* (b) + (c) a List over TLS with a CAFile and a bearer token. */
static void run_tls_list(outcome *o)
{
	k8s_config *cfg = base_config(o, TF.url);
	int rc;
	if (!cfg)
		return;
	if ((rc = k8s_config_set_string(cfg, "TLSClientConfig.CAFile", ca_path)) < 0) {
		out_error(o, "config_set", rc);
		k8s_config_free(cfg);
		return;
	}
	clientset_request(o, cfg, NS, K8S_VERB_LIST, NULL, NULL);
}

/* An error Status: decoded whole, or K8S_ENOMEM, never a generic one. */
static void run_status_error(outcome *o)
{
	k8s_config *cfg = base_config(o, FS.url);
	if (cfg)
		clientset_request(o, cfg, NS, K8S_VERB_GET, "cm-1", NULL);
}

/* A credential callback's token on every request. */
static int token_cb(void *payload, int invalidate, char **token, double *expiry)
{
	(void)invalidate;
	if (!payload)
		return K8S_EAUTH;
	*token = fs_xstrdup((const char *)payload);
	*expiry = 0;
	return 0;
}

static void run_token_callback(outcome *o)
{
	k8s_config *cfg;
	int rc;
	if ((rc = k8s_config_new(&cfg)) < 0) {
		out_error(o, "config_new", rc);
		return;
	}
	if ((rc = k8s_config_set_string(cfg, "Host", FS.url)) < 0) {
		out_error(o, "config_set", rc);
		k8s_config_free(cfg);
		return;
	}
	k8s_config_set_token_callback(cfg, token_cb, fs_xstrdup(TOKEN), free);
	clientset_request(o, cfg, NS, K8S_VERB_DELETECOLLECTION, NULL, "app=x");
}

/* An exec credential plugin (a shell printing an ExecCredential), with
 * its environment and the cluster info: its token on every request. */
static void run_exec_plugin(outcome *o)
{
	k8s_config *cfg;
	int rc;
	if ((rc = k8s_config_new(&cfg)) < 0) {
		out_error(o, "config_new", rc);
		return;
	}
	if ((rc = k8s_config_set_string(cfg, "Host", FS.url)) < 0 ||
	    (rc = k8s_config_set_string(cfg, "ExecProvider.Command", "/bin/sh")) < 0 ||
	    (rc = k8s_config_add_string(cfg, "ExecProvider.Args", "-c")) < 0 ||
	    (rc = k8s_config_add_string(cfg, "ExecProvider.Args",
					"test \"$PLUGIN_MODE\" = ok || exit 3; "
					"case \"$KUBERNETES_EXEC_INFO\" in *'\"server\"'*) ;; *) exit 4;; esac; "
					"printf '%s' '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
					"\"kind\":\"ExecCredential\",\"status\":{\"token\":\"" TOKEN "\"}}'")) < 0 ||
	    (rc = k8s_config_add_pair(cfg, "ExecProvider.Env", "PLUGIN_MODE", "ok")) < 0 ||
	    (rc = k8s_config_set_string(cfg, "ExecProvider.APIVersion", "client.authentication.k8s.io/v1")) < 0 ||
	    (rc = k8s_config_set_string(cfg, "ExecProvider.InteractiveMode", "Never")) < 0 ||
	    (rc = k8s_config_set_bool(cfg, "ExecProvider.ProvideClusterInfo", 1)) < 0) {
		out_error(o, "config_set", rc);
		k8s_config_free(cfg);
		return;
	}
	clientset_request(o, cfg, NS, K8S_VERB_DELETECOLLECTION, NULL, "app=x");
}

#define CM_BODY "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-1\"},\"data\":{\"k\":\"v\"}}"

/* A Create with Basic auth: the body, its Content-Type, the credentials. */
static void run_create_basic(outcome *o)
{
	k8s_config *cfg;
	int rc;
	if ((rc = k8s_config_new(&cfg)) < 0) {
		out_error(o, "config_new", rc);
		return;
	}
	if ((rc = k8s_config_set_string(cfg, "Host", FS.url)) < 0 ||
	    (rc = k8s_config_set_string(cfg, "Username", "jane")) < 0 ||
	    (rc = k8s_config_set_string(cfg, "Password", "s3cr3t")) < 0) {
		out_error(o, "config_set", rc);
		k8s_config_free(cfg);
		return;
	}
	clientset_request_body(o, cfg, NS, K8S_VERB_CREATE, NULL, NULL, CM_BODY);
}

/* A request hook that adds a header (client-go's WrapTransport). */
static int add_hook_header(void *payload, const char *method, const char *url,
			   int (*add_header)(void *ctx, const char *name, const char *value), void *ctx)
{
	(void)method;
	(void)url;
	/* the result ignored on purpose: a failed add still fails the request */
	(void)add_header(ctx, "X-Hook", (const char *)payload);
	return 0;
}

static void run_hook(outcome *o)
{
	k8s_config *cfg = base_config(o, FS.url);
	if (!cfg)
		return;
	k8s_config_set_hooks(cfg, add_hook_header, NULL, fs_xstrdup("hook-value"), free);
	clientset_request(o, cfg, NS, K8S_VERB_DELETECOLLECTION, NULL, "app=x");
}

/* (b) the CA as data (CAData), over TLS. */
static void run_tls_cadata(outcome *o)
{
	k8s_config *cfg = base_config(o, TF.url);
	int rc;
	if (!cfg)
		return;
	if ((rc = k8s_config_set_bytes(cfg, "TLSClientConfig.CAData", ca_pem, strlen(ca_pem))) < 0) {
		out_error(o, "config_set", rc);
		k8s_config_free(cfg);
		return;
	}
	clientset_request(o, cfg, NS, K8S_VERB_LIST, NULL, NULL);
}

/* ---- the sans-I/O engine (call.c, wire.c, h1.c, tls.c) over a socket ---- */

static int sock_send_pending(k8s_wire *w, int fd)
{
	size_t n;
	const char *p;
	while ((p = k8s__wire_pending(w, &n)) && n) {
		ssize_t s = send(fd, p, n, MSG_NOSIGNAL);
		if (s <= 0)
			return k8s__error(K8S_ETRANSPORT, "ConnectionReset", "send failed");
		k8s__wire_consume(w, (size_t)s);
	}
	return 0;
}

/* Feed what arrives until cond(w) or the peer closes. */
static int sock_pump(k8s_wire *w, int fd, int (*cond)(const k8s_wire *))
{
	char buf[16384];
	int rc;
	while (!cond(w)) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return k8s__wire_eof(w);
		if ((rc = k8s__wire_feed(w, buf, (size_t)n)) < 0 || (rc = sock_send_pending(w, fd)) < 0)
			return rc;
	}
	return 0;
}

/* One exchange for a SEND action: connect, TLS, request, the whole response. */
static int engine_send(k8s_call *k, k8s_buf *body)
{
	k8s_wire *w = NULL;
	int fd = -1, rc;
	const k8s_http_head *h;
	if ((rc = k8s__wire_new(&w, k)) < 0)
		goto out;
	if ((fd = connect_local(k8s__wire_port(w))) < 0) {
		rc = k8s__error(K8S_ETRANSPORT, "ConnectionRefused", "connect failed");
		goto out;
	}
	while ((rc = k8s__wire_handshake(w)) == 0) {
		char buf[16384];
		ssize_t n;
		if ((rc = sock_send_pending(w, fd)) < 0)
			goto out;
		if ((n = recv(fd, buf, sizeof(buf), 0)) <= 0) {
			rc = k8s__wire_eof(w);
			goto out;
		}
		if ((rc = k8s__wire_feed(w, buf, (size_t)n)) < 0)
			goto out;
	}
	if (rc < 0 || (rc = k8s__wire_request(w, k)) < 0 || (rc = sock_send_pending(w, fd)) < 0 ||
	    (rc = sock_pump(w, fd, k8s__wire_done)) < 0)
		goto out;
	h = k8s__wire_head(w);
	if ((rc = k8s_call_response(k, h->status, (const char *const *)h->rh, h->nrh)) < 0)
		goto out;
	rc = k8s_buf_put(body, k8s__wire_body(w)->ptr ? k8s__wire_body(w)->ptr : "", k8s__wire_body(w)->len);
out:
	if (fd >= 0)
		close(fd);
	k8s__wire_free(w);
	return rc;
}

/* DeleteCollection in NS through the engine, on a connection of our own. */
static void run_engine(outcome *o, const char *host, const char *ca_file)
{
	k8s_config *cfg = base_config(o, host);
	k8s_clientset *cs = NULL;
	k8s_rest_client *rc = NULL;
	k8s_request *r = NULL;
	k8s_call *k = NULL;
	k8s_result *res = NULL;
	k8s_buf body = K8S_BUF_INIT;
	int code, done = 0;
	if (!cfg)
		return;
	if ((code = k8s_config_set_number(cfg, "QPS", -1)) < 0 ||
	    (ca_file && (code = k8s_config_set_string(cfg, "TLSClientConfig.CAFile", ca_file)) < 0)) {
		out_error(o, "config_set", code);
		goto end;
	}
	if ((code = k8s_clientset_new(&cs, cfg)) < 0 || (code = k8s_clientset_group_version(&rc, cs, "CoreV1")) < 0 ||
	    (code = k8s_resource_request(&r, rc, k8s_api_resource_lookup("CoreV1", "ConfigMaps"), NS,
					 K8S_VERB_DELETECOLLECTION, NULL, NULL)) < 0 ||
	    (code = k8s_request_param(r, "labelSelector", "app=x")) < 0 ||
	    (code = k8s_call_new(&k, r, K8S_CALL_MODE_DO)) < 0) {
		out_error(o, "build", code);
		goto end;
	}
	while (!done) {
		switch (k8s_call_next(k)) {
		case K8S_CALL_SLEEP:
			k8s_call_slept(k);
			break;
		case K8S_CALL_SEND:
			body.len = 0;
			if ((code = engine_send(k, &body)) < 0)
				k8s_call_failed(k, code);
			break;
		case K8S_CALL_DRAIN:
			k8s_call_drained(k);
			break;
		case K8S_CALL_DONE:
			done = 1;
			break;
		default:
			out_error(o, "unexpected action", K8S_ERROR);
			goto end;
		}
	}
	if ((code = k8s_call_status(k)) < 0) {
		out_error(o, "call", code);
		goto end;
	}
	code = k8s_call_result(&res, k, body.ptr, body.len);
	out_result(o, code, res);
end:
	k8s_buf_free(&body);
	k8s_call_free(k);
	k8s_request_free(r);
	k8s_rest_client_free(rc);
	k8s_clientset_free(cs);
	k8s_config_free(cfg);
}

static void run_engine_http(outcome *o)
{
	run_engine(o, FS.url, NULL);
}

static void run_engine_tls(outcome *o)
{
	run_engine(o, TF.url, ca_path);
}

/* The kubeconfig path: the namespace, CA and token come from the file. */
static void run_kubeconfig(outcome *o)
{
	k8s_config *cfg = NULL;
	k8s_config_overrides ov = K8S_CONFIG_OVERRIDES_INIT;
	const char *ns;
	int rc;
	ov.kubeconfig = kubeconfig_path;
	if ((rc = k8s_clientcmd_load(&cfg, &ov)) < 0) {
		out_error(o, "clientcmd_load", rc);
		return;
	}
	/* what a caller does with the config's namespace */
	ns = k8s_config_get_string(cfg, "Namespace");
	clientset_request(o, cfg, ns ? ns : "", K8S_VERB_DELETECOLLECTION, NULL, "app=x");
}

/* (b) the sans-I/O TLS context (src/tls.c) with a CAFile: the CA loaded
 * is the file's (its identity names the CA digest), never the system store. */
static void run_tls_ctx(outcome *o)
{
	k8s_tls_options opt;
	k8s_tls_ctx *ctx = NULL;
	k8s_tls *t = NULL;
	int rc;
	memset(&opt, 0, sizeof(opt));
	opt.ca_file = ca_path;
	if ((rc = k8s__tls_ctx_new(&ctx, &opt)) < 0) {
		out_error(o, "tls_ctx_new", rc);
		return;
	}
	if ((rc = k8s__tls_new(&t, ctx, "127.0.0.1")) < 0) {
		out_error(o, "tls_new", rc);
		k8s__tls_ctx_free(ctx);
		return;
	}
	o->rc = 0;
	fp_add(o, "identity=%s", k8s__tls_ctx_identity(ctx));
	k8s__tls_free(t);
	k8s__tls_ctx_free(ctx);
}

/* (c) the ClientWatchDecoding Status a watch loop hands on for an event it
 * cannot decode: NULL with K8S_ENOMEM, or the whole Status. */
static void run_decoding_status(outcome *o)
{
	char *st = k8s_watch_decoding_status("unknown watch event type \"BOGUS\"");
	if (!st) {
		out_error(o, "decoding_status", k8s_error_last()->code);
		return;
	}
	o->rc = 0;
	fp_add(o, "%s", st);
	k8s_fa_free(st); /* the caller's free of a block libk8s allocated, tracked */
}

static const char *DC_TARGET = "/api/v1/namespaces/" NS "/configmaps?" SELECTOR_Q;

TEST(delete_collection_namespace)
{
	scenario sc = {.name = "delete_collection", .script = script_status_success, .run = run_delete_collection,
		       .x = {"DELETE", DC_TARGET, "Bearer " TOKEN, "jane", "devs", NULL, NULL, NULL}};
	torture(&sc);
}

TEST(careless_builder)
{
	scenario sc = {.name = "careless_builder", .script = script_status_success, .run = run_careless_builder,
		       .x = {"DELETE", DC_TARGET, "Bearer " TOKEN, NULL, NULL, "X-Request-Id", "req-1", NULL}};
	torture(&sc);
}

TEST(tls_cafile_bearer)
{
	scenario sc = {.name = "tls_cafile_list", .script = script_list, .run = run_tls_list,
		       .x = {"GET", "/api/v1/namespaces/" NS "/configmaps", "Bearer " TOKEN, NULL, NULL, NULL, NULL, NULL},
		       .cainfo = ca_path, .tls = 1};
	torture(&sc);
}

TEST(status_error)
{
	scenario sc = {.name = "status_error", .script = script_forbidden, .run = run_status_error,
		       .x = {"GET", "/api/v1/namespaces/" NS "/configmaps/cm-1", "Bearer " TOKEN, NULL, NULL, NULL, NULL, NULL},
		       .want_rc = K8S_ESTATUS};
	torture(&sc);
}

TEST(token_callback)
{
	scenario sc = {.name = "token_callback", .script = script_status_success, .run = run_token_callback,
		       .x = {"DELETE", DC_TARGET, "Bearer " TOKEN, NULL, NULL, NULL, NULL, NULL}};
	torture(&sc);
}

TEST(create_basic_auth)
{
	scenario sc = {.name = "create_basic_auth", .script = script_status_success, .run = run_create_basic,
		       .x = {.method = "POST", .target = "/api/v1/namespaces/" NS "/configmaps",
			     .authorization = "Basic amFuZTpzM2NyM3Q=", .header = "Content-Type",
			     .value = "application/json", .body = CM_BODY}};
	torture(&sc);
}

TEST(request_hook)
{
	scenario sc = {.name = "request_hook", .script = script_status_success, .run = run_hook,
		       .x = {.method = "DELETE", .target = DC_TARGET, .authorization = "Bearer " TOKEN,
			     .header = "X-Hook", .value = "hook-value"}};
	torture(&sc);
}

TEST(tls_cadata)
{
	scenario sc = {.name = "tls_cadata_list", .script = script_list, .run = run_tls_cadata,
		       .x = {"GET", "/api/v1/namespaces/" NS "/configmaps", "Bearer " TOKEN, NULL, NULL, NULL, NULL, NULL},
		       .ca_blob = 1, .tls = 1};
	torture(&sc);
}

TEST(engine_http)
{
	scenario sc = {.name = "engine_http", .script = script_status_success, .run = run_engine_http,
		       .x = {"DELETE", DC_TARGET, "Bearer " TOKEN, NULL, NULL, NULL, NULL, NULL}};
	torture(&sc);
}

TEST(engine_tls_cafile)
{
	scenario sc = {.name = "engine_tls_cafile", .script = script_status_success, .run = run_engine_tls,
		       .x = {"DELETE", DC_TARGET, "Bearer " TOKEN, NULL, NULL, NULL, NULL, NULL}, .tls = 1};
	torture(&sc);
}

TEST(exec_plugin)
{
	scenario sc = {.name = "exec_plugin", .script = script_status_success, .run = run_exec_plugin,
		       .x = {"DELETE", DC_TARGET, "Bearer " TOKEN, NULL, NULL, NULL, NULL, NULL}};
	torture(&sc);
}

TEST(kubeconfig)
{
	char text[2048];
	scenario sc = {.name = "kubeconfig", .script = script_status_success, .run = run_kubeconfig,
		       .x = {"DELETE", DC_TARGET, "Bearer " TOKEN, NULL, NULL, NULL, NULL, NULL}, .cainfo = ca_path, .tls = 1};
	snprintf(kubeconfig_path, sizeof(kubeconfig_path), "%s/kubeconfig", tmpdir);
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Config\n"
		 "clusters:\n- name: c1\n  cluster:\n    server: %s\n    certificate-authority: %s\n"
		 "users:\n- name: u1\n  user:\n    token: %s\n"
		 "contexts:\n- name: ctx1\n  context:\n    cluster: c1\n    user: u1\n    namespace: %s\n"
		 "current-context: ctx1\n",
		 TF.url, ca_path, TOKEN, NS);
	write_text(kubeconfig_path, text);
	torture(&sc);
}

TEST(tls_ctx_cafile)
{
	scenario sc = {.name = "tls_ctx_cafile", .script = script_none, .run = run_tls_ctx};
	torture(&sc);
}

TEST(watch_decoding_status)
{
	scenario sc = {.name = "watch_decoding_status", .script = script_none, .run = run_decoding_status};
	torture(&sc);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	double t0 = now_s();
	(void)fs_push_delayed; /* the fake server's helpers this test does not use */
	(void)fs_push;
	signal(SIGPIPE, SIG_IGN);
	fa_init();
	/* no environment of the caller's shapes a client here */
	unsetenv("KUBECONFIG");
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	setenv("NO_PROXY", "*", 1);
	fixtures_make();
	if (fs_start(&FS) < 0)
		abort();
	front_start();
	if (k8s_global_init() < 0)
		abort();
#define MAYBE(name) do { if (!only || strstr(#name, only)) RUN(name); } while (0)
	MAYBE(delete_collection_namespace);
	MAYBE(careless_builder);
	MAYBE(tls_cafile_bearer);
	MAYBE(status_error);
	MAYBE(token_callback);
	MAYBE(create_basic_auth);
	MAYBE(request_hook);
	MAYBE(tls_cadata);
	MAYBE(engine_http);
	MAYBE(engine_tls_cafile);
	MAYBE(exec_plugin);
	MAYBE(kubeconfig);
	MAYBE(tls_ctx_cafile);
	MAYBE(watch_decoding_status);
	front_stop();
	fs_stop(&FS);
	fixtures_free();
	fprintf(stderr, "alloc_fail: %lu runs in %.1fs\n", total_runs, now_s() - t0);
	return TEST_SUMMARY();
}
