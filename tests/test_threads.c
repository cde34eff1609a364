/* Clients made from one config on several threads (README "Threading"):
 * what copies of a config share (the credential callback's payload and its
 * token cache, the hooks' payload, a rate limiter) is reference-counted
 * atomically and locked, so threads may each make, use and free their own
 * clients at the same time, and the last one out frees the payloads once.
 * Live: real GETs against the control plane (tools/run-tests.sh exports its
 * env). Meant for ThreadSanitizer too:
 *   make BUILD=build-tsan OPT="-O1 -g -fsanitize=thread" tests
 * Iterations are few so that the valgrind run of tools/check-memory.sh stays
 * short; K8S_TEST_THREADS_ITER raises them for a stress run.
 * Also here: client-certificate rotation of the libcurl transport frees the
 * connection pool and share it replaces (a leak under ASan/valgrind if not). */
#include <pthread.h>
#include <stdatomic.h>
#include "k8s.h"
#include "test.h"
#include "k8s_test.h"
#include "internal.h"
#include "transport.h"

#define NTHREADS 2

static int iterations(void)
{
	const char *v = getenv("K8S_TEST_THREADS_ITER");
	int n = v ? atoi(v) : 0;
	return n > 0 ? n : 4;
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- what the payloads count (atomics: the callbacks run on any thread) ---- */

typedef struct {
	atomic_int token_calls, token_invalidations, token_frees;
	atomic_int req_hooks, resp_hooks, resp_ok, hook_frees;
	const char *good;          /* the admin token */
	int bogus_first;           /* the first callback answer is a bad token (a 401 and a refresh) */
	double expiry;             /* what the callback says: 0 none, <0 already expired */
} counters;

static int token_cb(void *payload, int invalidate, char **token, double *expiry)
{
	counters *c = payload;
	int n = atomic_fetch_add(&c->token_calls, 1);
	if (invalidate)
		atomic_fetch_add(&c->token_invalidations, 1);
	*token = k8s__strdup(n == 0 && c->bogus_first && !invalidate ? "not-a-valid-token" : c->good);
	/* expired (but set) makes every request ask again: the cache churns */
	*expiry = c->expiry < 0 ? 1.0 : c->expiry > 0 ? wall() + c->expiry : 0;
	return *token ? 0 : K8S_ENOMEM;
}

static void token_free(void *payload)
{
	counters *c = payload;
	atomic_fetch_add(&c->token_frees, 1);
}

static int req_hook(void *payload, const char *method, const char *url,
		    int (*add_header)(void *ctx, const char *name, const char *value), void *ctx)
{
	counters *c = payload;
	(void)method;
	(void)url;
	atomic_fetch_add(&c->req_hooks, 1);
	return add_header(ctx, "X-K8s-Test", "threads");
}

static void resp_hook(void *payload, const char *method, const char *url, long status, double seconds)
{
	counters *c = payload;
	(void)method;
	(void)url;
	(void)seconds;
	atomic_fetch_add(&c->resp_hooks, 1);
	if (status == 200)
		atomic_fetch_add(&c->resp_ok, 1);
}

static void hook_free(void *payload)
{
	counters *c = payload;
	atomic_fetch_add(&c->hook_frees, 1);
}

/* ---- the threads ---- */

typedef struct {
	const k8s_config *cfg;     /* shared, read only; NULL once freed */
	k8s_rest_client *own;      /* made on the main thread, freed here */
	pthread_barrier_t *bar;
	const char *auth;          /* an explicit Authorization header, or NULL */
	int iter;
	int failures;              /* counted here, checked on the main thread */
	char msg[256];
} worker;

static void fail(worker *w, const char *what, int rc)
{
	if (!w->failures++)
		snprintf(w->msg, sizeof(w->msg), "%s: rc %d: %s", what, rc, k8s_error_last()->message);
}

/* GET the default namespace through rc; 200 expected. */
static void get_default(worker *w, k8s_rest_client *rc)
{
	k8s_request *req = NULL;
	k8s_result *res = NULL;
	int rc_;
	if ((rc_ = k8s_rest_client_verb(&req, rc, "GET")) < 0 || (rc_ = k8s_request_resource(req, "namespaces")) < 0 ||
	    (rc_ = k8s_request_name(req, "default")) < 0 ||
	    (w->auth && (rc_ = k8s_request_set_header(req, "Authorization", w->auth)) < 0)) {
		fail(w, "request", rc_);
		k8s_request_free(req);
		return;
	}
	rc_ = k8s_request_do(&res, req);
	if (rc_ < 0 || !res || k8s_result_status_code(res) != 200)
		fail(w, "GET namespaces/default", res ? k8s_result_status_code(res) : rc_);
	k8s_result_free(res);
	k8s_request_free(req);
}

static void *work(void *arg)
{
	worker *w = arg;
	int i, rc;
	for (i = 0; i < w->iter; i++) {
		/* a client of its own, made from the shared config, used, freed */
		if (i % 2 == 0) {
			k8s_rest_client *rc_ = client_gv(w->cfg, "", "v1");
			if (!rc_) {
				fail(w, "client", -1);
				continue;
			}
			get_default(w, rc_);
			get_default(w, w->own);
			k8s_rest_client_free(rc_);
		} else {
			k8s_clientset *cs = NULL;
			k8s_rest_client *core = NULL;
			if ((rc = k8s_clientset_new(&cs, w->cfg)) < 0 ||
			    (rc = k8s_clientset_for_group_version(&core, cs, "", "v1")) < 0) {
				fail(w, "clientset", rc);
			} else {
				get_default(w, core);
			}
			k8s_rest_client_free(core);
			k8s_clientset_free(cs);
		}
	}
	/* the main thread frees the config; this client keeps what it shares */
	pthread_barrier_wait(w->bar);
	pthread_barrier_wait(w->bar);
	get_default(w, w->own);
	k8s_rest_client_free(w->own); /* the last one out frees the payloads */
	w->own = NULL;
	return NULL;
}

/* Run NTHREADS workers on cfg (taken: freed between the two phases). */
static void run_workers(k8s_config *cfg, const char *auth)
{
	pthread_t th[NTHREADS];
	worker w[NTHREADS];
	pthread_barrier_t bar;
	int i, started = 0;
	REQUIRE(pthread_barrier_init(&bar, NULL, NTHREADS + 1) == 0);
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].cfg = cfg;
		w[i].bar = &bar;
		w[i].auth = auth;
		w[i].iter = iterations();
		w[i].own = client_gv(cfg, "", "v1");
		CHECK(w[i].own != NULL);
	}
	for (i = 0; i < NTHREADS && w[0].own && w[NTHREADS - 1].own; i++) {
		if (pthread_create(&th[i], NULL, work, &w[i]) != 0)
			break;
		started++;
	}
	CHECK_INT(started, NTHREADS);
	if (started == NTHREADS) {
		pthread_barrier_wait(&bar);
		k8s_config_free(cfg); /* while the threads hold clients made from it */
		cfg = NULL;
		pthread_barrier_wait(&bar);
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NTHREADS; i++) {
		if (w[i].failures)
			fprintf(stderr, "  thread %d: %d failures, first: %s\n", i, w[i].failures, w[i].msg);
		CHECK_INT(w[i].failures, 0);
		k8s_rest_client_free(w[i].own); /* only if the thread did not run */
	}
	k8s_config_free(cfg);
	pthread_barrier_destroy(&bar);
}

/* Reference counts of the shared payloads: every request carries its own
 * Authorization, so the callback is installed (and its payload shared) but
 * never called; the hooks run on both threads. */
TEST(clients_from_one_config_on_two_threads)
{
	counters c;
	k8s_config *cfg = identity("admin-token");
	const char *tok = env("K8S_LUA_ADMIN_TOKEN");
	char auth[4096];
	REQUIRE(cfg && tok);
	memset(&c, 0, sizeof(c));
	c.good = tok;
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	k8s_config_clear(cfg, "BearerToken");
	k8s_config_set_token_callback(cfg, token_cb, &c, token_free);
	k8s_config_set_hooks(cfg, req_hook, resp_hook, &c, hook_free);
	run_workers(cfg, auth);
	CHECK_INT(atomic_load(&c.token_calls), 0);
	CHECK_INT(atomic_load(&c.token_frees), 1);
	CHECK_INT(atomic_load(&c.hook_frees), 1);
	CHECK(atomic_load(&c.req_hooks) >= NTHREADS * (iterations() + 1));
	CHECK_INT(atomic_load(&c.resp_ok), atomic_load(&c.resp_hooks));
}

/* Both threads' clients share the token cache behind one credential
 * callback, whose answers expire after `expiry` seconds (-1: already
 * expired); bogus_first makes the very first answer a bad token (a 401: the
 * cache is dropped and refreshed with invalidate=1). */
static int token_cache_case(counters *c, int bogus_first, int expiry)
{
	k8s_config *cfg = identity("admin-token");
	const char *tok = env("K8S_LUA_ADMIN_TOKEN");
	memset(c, 0, sizeof(*c));
	if (!cfg || !tok) {
		k8s_config_free(cfg);
		return -1;
	}
	c->good = tok;
	c->bogus_first = bogus_first;
	c->expiry = expiry;
	k8s_config_clear(cfg, "BearerToken");
	k8s_config_set_token_callback(cfg, token_cb, c, token_free);
	run_workers(cfg, NULL);
	return 0;
}

/* Every answer has already expired: each request asks the callback again
 * and replaces the cached token while the other thread reads it. */
TEST(token_callback_cache_on_two_threads)
{
	counters c;
	REQUIRE(token_cache_case(&c, 1, -1) == 0);
	CHECK(atomic_load(&c.token_calls) >= NTHREADS * (iterations() + 1));
	CHECK(atomic_load(&c.token_invalidations) >= 1);
	CHECK_INT(atomic_load(&c.token_frees), 1);
}

/* A token that stays valid: the threads read the cache far more often than
 * anyone refreshes it. */
TEST(token_callback_valid_cache_on_two_threads)
{
	counters c;
	REQUIRE(token_cache_case(&c, 0, 3600) == 0);
	CHECK(atomic_load(&c.token_calls) >= 1);
	CHECK_INT(atomic_load(&c.token_frees), 1);
}

/* ---- client-certificate rotation of the libcurl transport ---- */

static char *slurp(const char *path)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	k8s_buf b = K8S_BUF_INIT;
	char chunk[4096];
	size_t n;
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (k8s_buf_put(&b, chunk, n) < 0)
			break;
	fclose(f);
	return k8s_buf_detach(&b);
}

static long last_new_connections; /* of the last transport_get */

/* GET /version on t; returns the status, or the error code. With keep, the
 * response is left open (an active transfer) in *keep. */
static long transport_get(k8s_transport *t, const char *server, k8s_http_response **keep)
{
	k8s_http_request hr;
	k8s_http_response *resp = NULL;
	k8s_buf body = K8S_BUF_INIT;
	char url[512];
	long status;
	int rc;
	memset(&hr, 0, sizeof(hr));
	snprintf(url, sizeof(url), "%s/version", server);
	hr.method = "GET";
	hr.url = url;
	hr.timeout = 30;
	if ((rc = k8s_transport_send(t, &hr, &resp)) < 0)
		return rc;
	status = k8s_http_response_status(resp);
	last_new_connections = k8s__http_response_new_connections(resp);
	if (keep) {
		*keep = resp;
		return status;
	}
	if ((rc = k8s_http_response_read_all(resp, &body)) < 0)
		status = rc;
	k8s_buf_free(&body);
	k8s_http_response_free(resp);
	return status;
}

/* Rotating the client certificate replaces the connection pool and the
 * curl share (DNS, TLS sessions): the old ones must be freed, both when no
 * transfer is active (at once) and when one is (when it ends). Idle easy
 * handles stay attached to a share across curl_easy_reset, so the old share
 * was left "in use" and leaked; ASan and valgrind (check-memory) see it. */
TEST(transport_client_cert_rotation_frees_old_share)
{
	const char *server = env("K8S_LUA_SERVER"), *ca = env("K8S_LUA_CA");
	const char *certf = env("K8S_LUA_ADMIN_CERT"), *keyf = env("K8S_LUA_ADMIN_KEY");
	char *cert = slurp(certf), *key = slurp(keyf), *cert2 = NULL;
	k8s_transport_options o;
	k8s_transport *t = NULL;
	k8s_http_response *open = NULL;
	int i;
	REQUIRE(server && ca && cert && key);
	REQUIRE(k8s_global_init() == 0);
	memset(&o, 0, sizeof(o));
	o.ca_file = ca;
	o.cert_file = certf;
	o.key_file = keyf;
	REQUIRE(k8s_transport_new(&t, &o) == 0);
	CHECK_INT(transport_get(t, server, NULL), 200);
	CHECK_INT(transport_get(t, server, NULL), 200); /* an idle easy handle to reuse */
	/* no transfer active: the pool and share are replaced at once */
	CHECK_INT(k8s_transport_set_client_cert(t, cert, key), 0);
	CHECK_INT(transport_get(t, server, NULL), 200);
	/* the same certificate again changes nothing */
	CHECK_INT(k8s_transport_set_client_cert(t, cert, key), 0);
	CHECK_INT(transport_get(t, server, NULL), 200);
	/* a transfer active: replaced when it ends (the same certificate, other
	 * bytes, counts as a new one) */
	cert2 = malloc(strlen(cert) + 2);
	REQUIRE(cert2);
	sprintf(cert2, "%s\n", cert);
	for (i = 0; i < 2; i++) {
		CHECK_INT(transport_get(t, server, &open), 200);
		REQUIRE(open);
		CHECK_INT(k8s_transport_set_client_cert(t, i ? cert : cert2, key), 0);
		/* a fresh connection meanwhile, with the new certificate, and then
		 * that one again: the open transfer does not force a new
		 * connection for every request (it once did: FRESH_CONNECT for as
		 * long as a watch stayed open) */
		CHECK_INT(transport_get(t, server, NULL), 200);
		CHECK_INT(last_new_connections, 1);
		CHECK_INT(transport_get(t, server, NULL), 200);
		CHECK_INT(last_new_connections, 0);
		CHECK_INT(transport_get(t, server, NULL), 200);
		CHECK_INT(last_new_connections, 0);
		/* the open transfer, on its old connection, still works */
		{
			k8s_buf rest = K8S_BUF_INIT;
			CHECK_INT(k8s_http_response_read_all(open, &rest), 0);
			CHECK(rest.len > 0);
			k8s_buf_free(&rest);
		}
		k8s_http_response_free(open);
		open = NULL;
		CHECK_INT(transport_get(t, server, NULL), 200);
	}
	k8s_transport_free(t);
	k8s__sfree(key);
	free(cert);
	free(cert2);
}

int main(void)
{
	int rc;
	RUN(clients_from_one_config_on_two_threads);
	RUN(token_callback_cache_on_two_threads);
	RUN(token_callback_valid_cache_on_two_threads);
	RUN(transport_client_cert_rotation_frees_old_share);
	rc = TEST_SUMMARY();
	return rc;
}
