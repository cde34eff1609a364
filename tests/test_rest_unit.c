/* RESTClient unit tests without a Kubernetes server: URL building and
 * validation, Host defaulting, Go durations, the Status code table, Status
 * decoding, retries and Retry-After, rate limiting, headers, BearerTokenFile
 * re-reads, Warning headers and debug-log redaction. Faults the real API
 * server will not produce on demand come from an in-process fake HTTP/1.1
 * server (tests/fakeserver.h). Only lower bounds are asserted on timings. */
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "k8s.h"
#include "reason.h"
#include "test.h"
#include "k8s_test.h"
#include "fakeserver.h"
#include "internal.h"

static fakeserver FS;

/* ---- config and client helpers ---- */

static k8s_config *cfg_host(const char *host)
{
	k8s_config *c = NULL;
	if (k8s_config_new(&c) < 0)
		abort();
	if (host)
		k8s_config_set_string(c, "Host", host);
	k8s_config_set_number(c, "QPS", -1); /* no throttling unless a test asks */
	return c;
}

static k8s_rest_client *client_host(const char *host)
{
	k8s_config *c = cfg_host(host);
	k8s_rest_client *rc = client_gv(c, "", "v1");
	k8s_config_free(c);
	return rc;
}

/* A core/v1 client to the fake server. */
static k8s_rest_client *fake_client(void)
{
	return client_host(FS.url);
}

static k8s_request *req_new(k8s_rest_client *rc, const char *verb)
{
	k8s_request *r = NULL;
	if (!rc || k8s_rest_client_verb(&r, rc, verb) < 0)
		return NULL;
	return r;
}

/* verb [namespaces/ns/]res[/name]; body when not NULL; max_retries >= 0 sets it. */
static int do_req(k8s_rest_client *rc, const char *verb, const char *ns, const char *res, const char *name,
		  const char *body, int max_retries, k8s_result **out)
{
	k8s_request *r = req_new(rc, verb);
	int code;
	*out = NULL;
	if (!r)
		return -100;
	if (ns)
		k8s_request_namespace(r, ns);
	if (res)
		k8s_request_resource(r, res);
	if (name)
		k8s_request_name(r, name);
	if (body)
		k8s_request_body(r, body, strlen(body));
	if (max_retries >= 0)
		k8s_request_max_retries(r, max_retries);
	code = k8s_request_do(out, r);
	k8s_request_free(r);
	return code;
}

/* The URL of a built request; "" placeholders for unset parts. */
static char *url_for(k8s_rest_client *rc, const char *verb, const char *ns, const char *res, const char *name,
		     const char *sub)
{
	k8s_request *r = req_new(rc, verb);
	char *u;
	if (!r)
		return NULL;
	if (ns)
		k8s_request_namespace(r, ns);
	if (res)
		k8s_request_resource(r, res);
	if (name)
		k8s_request_name(r, name);
	if (sub)
		k8s_request_subresource(r, sub);
	u = k8s_request_url(r);
	k8s_request_free(r);
	return u;
}

#define CHECK_URL(expr, want) do { char *u_ = (expr); CHECK_STR(u_, want); free(u_); } while (0)

/* ==================================================================== */
/* URL building (no server)                                             */
/* ==================================================================== */

TEST(url_core_and_group_paths)
{
	k8s_config *c = cfg_host("https://example.com:6443");
	k8s_rest_client *core = client_gv(c, "", "v1"), *apps = client_gv(c, "apps", "v1");
	const char *g, *v;
	CHECK(core && apps);
	if (core && apps) {
		CHECK_URL(url_for(core, "GET", "default", "configmaps", "cm1", NULL),
			  "https://example.com:6443/api/v1/namespaces/default/configmaps/cm1");
		/* the resource is lower-cased, namespace and name are not */
		CHECK_URL(url_for(core, "GET", "Kube-System", "ConfigMaps", "MyName", NULL),
			  "https://example.com:6443/api/v1/namespaces/Kube-System/configmaps/MyName");
		CHECK_URL(url_for(core, "GET", NULL, "namespaces", NULL, NULL), "https://example.com:6443/api/v1/namespaces");
		/* an empty namespace on a list means all namespaces */
		CHECK_URL(url_for(core, "GET", "", "pods", NULL, NULL), "https://example.com:6443/api/v1/pods");
		CHECK_URL(url_for(apps, "PUT", "ns", "deployments", "web", "scale"),
			  "https://example.com:6443/apis/apps/v1/namespaces/ns/deployments/web/scale");
		CHECK_URL(url_for(apps, "GET", "ns", "deployments", "web", "status/"),
			  "https://example.com:6443/apis/apps/v1/namespaces/ns/deployments/web/status");
		k8s_rest_client_api_version(apps, &g, &v);
		CHECK_STR(g, "apps");
		CHECK_STR(v, "v1");
		k8s_rest_client_api_version(core, &g, &v);
		CHECK_STR(g, "");
		CHECK_STR(v, "v1");
		CHECK_STR(k8s_rest_client_base_url(core), "https://example.com:6443");
	}
	k8s_rest_client_free(core);
	k8s_rest_client_free(apps);
	k8s_config_free(c);
}

TEST(url_prefix_suffix_abs_path)
{
	k8s_rest_client *rc = client_host("https://example.com");
	k8s_request *r;
	CHECK(rc != NULL);
	if (!rc)
		return;
	r = req_new(rc, "GET");
	k8s_request_prefix(r, "watch");
	k8s_request_namespace(r, "ns");
	k8s_request_resource(r, "configmaps");
	CHECK_URL(k8s_request_url(r), "https://example.com/api/v1/watch/namespaces/ns/configmaps");
	k8s_request_free(r);

	r = req_new(rc, "GET");
	k8s_request_namespace(r, "ns");
	k8s_request_resource(r, "pods");
	k8s_request_name(r, "p");
	k8s_request_subresource(r, "proxy");
	k8s_request_suffix(r, "metrics/x");
	CHECK_URL(k8s_request_url(r), "https://example.com/api/v1/namespaces/ns/pods/p/proxy/metrics/x");
	k8s_request_free(r);

	r = req_new(rc, "GET");
	k8s_request_abs_path(r, "/version");
	CHECK_URL(k8s_request_url(r), "https://example.com/version");
	k8s_request_free(r);

	/* AbsPath keeps a trailing slash the caller asked for */
	r = req_new(rc, "GET");
	k8s_request_abs_path(r, "/apis/");
	CHECK_URL(k8s_request_url(r), "https://example.com/apis/");
	k8s_request_free(r);

	/* path escaping: characters outside the path set are percent-encoded */
	r = req_new(rc, "GET");
	k8s_request_abs_path(r, "/a b/c:d@e");
	CHECK_URL(k8s_request_url(r), "https://example.com/a%20b/c:d@e");
	k8s_request_free(r);

	/* paths are rooted as in client-go: no ".." reaches the wire, and
	 * ".." in a suffix backs up as path.Join does (fuzz/regress/request_url) */
	r = req_new(rc, "GET");
	k8s_request_abs_path(r, "../x");
	CHECK_URL(k8s_request_url(r), "https://example.com/x");
	k8s_request_free(r);
	r = req_new(rc, "GET");
	k8s_request_abs_path(r, "a");
	k8s_request_suffix(r, "../../b/../../c/d");
	CHECK_URL(k8s_request_url(r), "https://example.com/c/d");
	k8s_request_free(r);
	r = req_new(rc, "GET");
	k8s_request_namespace(r, "ns");
	k8s_request_resource(r, "pods");
	k8s_request_suffix(r, "../../x");
	CHECK_URL(k8s_request_url(r), "https://example.com/api/v1/namespaces/x");
	k8s_request_free(r);
	k8s_rest_client_free(rc);
}

TEST(url_host_path_prefix)
{
	k8s_rest_client *rc = client_host("https://example.com/prefix");
	k8s_request *r;
	CHECK(rc != NULL);
	if (!rc)
		return;
	CHECK_STR(k8s_rest_client_base_url(rc), "https://example.com");
	CHECK_URL(url_for(rc, "GET", "default", "pods", NULL, NULL), "https://example.com/prefix/api/v1/namespaces/default/pods");
	r = req_new(rc, "GET");
	k8s_request_abs_path(r, "/version");
	CHECK_URL(k8s_request_url(r), "https://example.com/prefix/version");
	k8s_request_free(r);
	k8s_rest_client_free(rc);

	rc = client_host("https://example.com/a/b/");
	CHECK(rc != NULL);
	if (rc)
		CHECK_URL(url_for(rc, "GET", NULL, "nodes", "n1", NULL), "https://example.com/a/b/api/v1/nodes/n1");
	k8s_rest_client_free(rc);

	/* a trailing slash alone is no prefix */
	rc = client_host("https://127.0.0.1:6443/");
	CHECK(rc != NULL);
	if (rc) {
		CHECK_STR(k8s_rest_client_base_url(rc), "https://127.0.0.1:6443");
		CHECK_URL(url_for(rc, "GET", NULL, "namespaces", NULL, NULL), "https://127.0.0.1:6443/api/v1/namespaces");
	}
	k8s_rest_client_free(rc);
}

TEST(url_query_parameters)
{
	k8s_rest_client *rc = client_host("http://h");
	k8s_request *r = req_new(rc, "GET");
	CHECK(r != NULL);
	if (!r) {
		k8s_rest_client_free(rc);
		return;
	}
	k8s_request_resource(r, "pods");
	k8s_request_param(r, "labelSelector", "app=web,tier in (a,b)");
	k8s_request_param(r, "fieldSelector", "");
	k8s_request_param(r, "b", "2");
	k8s_request_param(r, "a", "x y");
	k8s_request_param(r, "b", "1"); /* additive, kept in insertion order */
	CHECK_URL(k8s_request_url(r), "http://h/api/v1/pods?a=x+y&b=2&b=1&fieldSelector=&labelSelector=app%3Dweb%2Ctier+in+%28a%2Cb%29");
	CHECK_INT(k8s_request_param(r, "", "v"), K8S_EINVALID);
	k8s_request_free(r);
	k8s_rest_client_free(rc);
}

TEST(url_timeout_param_go_duration)
{
	k8s_config *c = cfg_host("http://h");
	k8s_rest_client *rc = client_gv(c, "", "v1"), *rc30 = NULL;
	k8s_request *r;
	struct { double s; const char *q; } cases[] = {
		{60, "timeout=1m0s"}, {1.5, "timeout=1.5s"}, {0.5, "timeout=500ms"},
		{3723, "timeout=1h2m3s"}, {32, "timeout=32s"}, {0.000001, "timeout=1%C2%B5s"},
	};
	size_t i;
	CHECK(rc != NULL);
	for (i = 0; rc && i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u;
		r = req_new(rc, "GET");
		k8s_request_resource(r, "pods");
		CHECK_INT(k8s_request_timeout(r, cases[i].s), 0);
		u = k8s_request_url(r);
		CHECK_HAS(u, cases[i].q);
		free(u);
		k8s_request_free(r);
	}
	if (rc) {
		/* no timeout, no parameter; a negative one is an error */
		r = req_new(rc, "GET");
		k8s_request_resource(r, "pods");
		CHECK_URL(k8s_request_url(r), "http://h/api/v1/pods");
		CHECK_INT(k8s_request_timeout(r, -1), K8S_EINVALID);
		k8s_request_free(r);
		/* the timeout replaces an explicit timeout parameter (query.Set) */
		r = req_new(rc, "GET");
		k8s_request_resource(r, "pods");
		k8s_request_param(r, "timeout", "5s");
		k8s_request_param(r, "watch", "true");
		k8s_request_timeout(r, 90);
		CHECK_URL(k8s_request_url(r), "http://h/api/v1/pods?timeout=1m30s&watch=true");
		k8s_request_free(r);
		/* without one, an explicit timeout parameter is sent as given */
		r = req_new(rc, "GET");
		k8s_request_resource(r, "pods");
		k8s_request_param(r, "timeout", "5s");
		CHECK_URL(k8s_request_url(r), "http://h/api/v1/pods?timeout=5s");
		k8s_request_free(r);
	}
	/* Config.Timeout is every request's default */
	k8s_config_set_number(c, "Timeout", 30);
	rc30 = client_gv(c, "", "v1");
	CHECK(rc30 != NULL);
	if (rc30)
		CHECK_URL(url_for(rc30, "GET", NULL, "pods", NULL, NULL), "http://h/api/v1/pods?timeout=30s");
	k8s_rest_client_free(rc30);
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

/* k8s__path_clean is Go's path.Clean: the cases of Go's path_test.go */
TEST(path_clean_as_go)
{
	static const char *const cases[][2] = {
		{"", "."}, {"abc", "abc"}, {"abc/def", "abc/def"}, {"a/b/c", "a/b/c"}, {".", "."}, {"..", ".."},
		{"../..", "../.."}, {"../../abc", "../../abc"}, {"/abc", "/abc"}, {"/", "/"}, {"abc/", "abc"},
		{"abc/def/", "abc/def"}, {"a/b/c/", "a/b/c"}, {"./", "."}, {"../", ".."}, {"../../", "../.."},
		{"/abc/", "/abc"}, {"abc//def//ghi", "abc/def/ghi"}, {"//abc", "/abc"}, {"///abc", "/abc"},
		{"//abc//", "/abc"}, {"abc//", "abc"}, {"abc/./def", "abc/def"}, {"/./abc/def", "/abc/def"},
		{"abc/.", "abc"}, {"abc/def/ghi/../jkl", "abc/def/jkl"}, {"abc/def/../ghi/../jkl", "abc/jkl"},
		{"abc/def/..", "abc"}, {"abc/def/../..", "."}, {"/abc/def/../..", "/"}, {"abc/def/../../..", ".."},
		{"/abc/def/../../..", "/"}, {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
		{"abc/./../def", "def"}, {"abc//./../def", "def"}, {"abc/../../././../def", "../../def"},
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = k8s__path_clean(cases[i][0]);
		CHECK(got != NULL);
		if (got && strcmp(got, cases[i][1]) != 0) {
			fprintf(stderr, "path.Clean(%s) = %s, want %s\n", cases[i][0], got, cases[i][1]);
			CHECK(0);
		}
		free(got);
	}
}

TEST(go_duration_format)
{
	struct { double s; const char *want; } cases[] = {
		{0, "0s"}, {1e-9, "1ns"}, {1.5e-6, "1.5\xc2\xb5s"}, {0.0015, "1.5ms"}, {0.25, "250ms"},
		{1, "1s"}, {1.5, "1.5s"}, {59.999, "59.999s"}, {60, "1m0s"}, {61.5, "1m1.5s"},
		{3600, "1h0m0s"}, {90061.5, "25h1m1.5s"}, {-1, "-1s"}, {-0.5, "-500ms"},
	};
	char buf[32];
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(k8s__format_go_duration(cases[i].s, buf, sizeof(buf)), (long long)strlen(cases[i].want));
		CHECK_STR(buf, cases[i].want);
	}
	CHECK_INT(k8s__format_go_duration(0.0 / 0.0, buf, sizeof(buf)), -1);
	CHECK_INT(k8s__format_go_duration(3600, buf, 4), -1);
	CHECK_STR(buf, "");
}

/* ==================================================================== */
/* Request validation (no server; the fake server proves nothing is sent) */
/* ==================================================================== */

static void check_invalid(k8s_request *r, int rc, const char *msg_part)
{
	CHECK_INT(rc, K8S_EINVALID);
	CHECK_HAS(k8s_error_last()->message, msg_part);
	(void)r;
}

TEST(validation_path_segments)
{
	k8s_rest_client *rc = client_host("http://h");
	const char *bad[] = {".", "..", "a/b", "a%2fb"};
	const char *why[] = {"may not be '.'", "may not be '..'", "may not contain '/'", "may not contain '%'"};
	size_t i;
	CHECK(rc != NULL);
	for (i = 0; rc && i < 4; i++) {
		k8s_request *r = req_new(rc, "GET");
		char *u;
		check_invalid(r, k8s_request_namespace(r, bad[i]), why[i]);
		k8s_request_free(r);
		r = req_new(rc, "GET");
		check_invalid(r, k8s_request_resource(r, bad[i]), why[i]);
		k8s_request_free(r);
		r = req_new(rc, "GET");
		k8s_request_resource(r, "pods");
		check_invalid(r, k8s_request_name(r, bad[i]), why[i]);
		/* the first error is remembered and reported by url/do */
		k8s_error_clear();
		u = k8s_request_url(r);
		CHECK(u == NULL);
		free(u);
		CHECK_INT(k8s_error_last()->code, K8S_EINVALID);
		CHECK_HAS(k8s_error_last()->message, why[i]);
		k8s_request_free(r);
	}
	if (rc) {
		k8s_request *r = req_new(rc, "GET");
		k8s_request_resource(r, "pods");
		k8s_request_name(r, "p");
		check_invalid(r, k8s_request_subresource(r, "status/.."), "may not be '..'");
		k8s_request_free(r);
	}
	k8s_rest_client_free(rc);
}

TEST(validation_set_once_and_empty_name)
{
	k8s_rest_client *rc = client_host("http://h");
	k8s_request *r = req_new(rc, "GET");
	CHECK(r != NULL);
	if (!r) {
		k8s_rest_client_free(rc);
		return;
	}
	check_invalid(r, k8s_request_name(r, ""), "resource name may not be empty");
	k8s_request_free(r);

	r = req_new(rc, "GET");
	CHECK_INT(k8s_request_namespace(r, "a"), 0);
	check_invalid(r, k8s_request_namespace(r, "b"), "namespace already set to \"a\"");
	CHECK_INT(k8s_request_resource(r, "pods"), 0);
	check_invalid(r, k8s_request_resource(r, "nodes"), "resource already set");
	CHECK_INT(k8s_request_name(r, "x"), 0);
	check_invalid(r, k8s_request_name(r, "y"), "resource name already set");
	CHECK_INT(k8s_request_subresource(r, "status"), 0);
	check_invalid(r, k8s_request_subresource(r, "scale"), "subresource already set");
	/* the remembered error is the first one */
	CHECK(k8s_request_url(r) == NULL);
	CHECK_HAS(k8s_error_last()->message, "namespace already set");
	k8s_request_free(r);

	r = req_new(rc, "GET");
	check_invalid(r, k8s_request_set_header(r, "Bad:Name", "v"), "invalid header name");
	k8s_request_free(r);
	r = req_new(rc, "GET");
	check_invalid(r, k8s_request_set_header(r, "X-Ok", "a\r\nInjected: 1"), "line break");
	k8s_request_free(r);
	CHECK_INT(k8s_rest_client_verb(&r, rc, ""), K8S_EINVALID);
	CHECK(r == NULL);
	k8s_rest_client_free(rc);
}

TEST(validation_empty_namespace_rules)
{
	k8s_rest_client *rc = client_host("http://h");
	const char *verbs[] = {"GET", "PUT", "DELETE"};
	size_t i;
	char *u;
	CHECK(rc != NULL);
	if (!rc)
		return;
	/* POST with an empty namespace */
	u = url_for(rc, "POST", "", "configmaps", NULL, NULL);
	CHECK(u == NULL);
	free(u);
	CHECK_INT(k8s_error_last()->code, K8S_EINVALID);
	CHECK_HAS(k8s_error_last()->message, "an empty namespace may not be set during creation");
	/* GET/PUT/DELETE of a named object with an empty namespace */
	for (i = 0; i < 3; i++) {
		u = url_for(rc, verbs[i], "", "configmaps", "x", NULL);
		CHECK(u == NULL);
		free(u);
		CHECK_HAS(k8s_error_last()->message, "an empty namespace may not be set when a resource name is provided");
	}
	/* PATCH of a named object and POST without a namespace are allowed */
	CHECK_URL(url_for(rc, "PATCH", "", "configmaps", "x", NULL), "http://h/api/v1/configmaps/x");
	CHECK_URL(url_for(rc, "POST", NULL, "namespaces", NULL, NULL), "http://h/api/v1/namespaces");
	k8s_rest_client_free(rc);
}

TEST(invalid_request_is_not_sent)
{
	k8s_rest_client *rc = fake_client();
	k8s_request *r = req_new(rc, "GET");
	k8s_result *res = (k8s_result *)1;
	char *body = (char *)1;
	size_t len = 7;
	fs_reset(&FS);
	CHECK(r != NULL);
	if (!r) {
		k8s_rest_client_free(rc);
		return;
	}
	k8s_request_namespace(r, "ns");
	k8s_request_resource(r, "configmaps");
	k8s_request_name(r, "");
	CHECK_INT(k8s_request_do(&res, r), K8S_EINVALID);
	CHECK(res == NULL);
	CHECK_INT(k8s_request_do_raw(&body, &len, r), K8S_EINVALID);
	CHECK(body == NULL);
	CHECK_INT(len, 0);
	CHECK_HAS(k8s_error_last()->message, "resource name may not be empty");
	CHECK_INT(fs_count(&FS), 0);
	k8s_request_free(r);
	k8s_rest_client_free(rc);
}

/* ==================================================================== */
/* Host defaulting and client construction (no server)                  */
/* ==================================================================== */

TEST(host_defaulting)
{
	struct {
		const char *host;
		int tls; /* 0 none, 1 CAFile, 2 Insecure, 3 CertData/KeyData */
		const char *want; /* NULL: EINVALID */
	} cases[] = {
		{"", 0, "http://localhost"},
		{NULL, 0, "http://localhost"},
		{"127.0.0.1:6443", 0, "http://127.0.0.1:6443"},
		{"127.0.0.1:6443", 1, "https://127.0.0.1:6443"},
		{"127.0.0.1:6443", 2, "https://127.0.0.1:6443"},
		{"127.0.0.1:6443", 3, "https://127.0.0.1:6443"},
		{"example.com", 1, "https://example.com"},
		{"example.com/", 0, "http://example.com"},
		{"[::1]:6443", 1, "https://[::1]:6443"},
		{"http://127.0.0.1:6443", 1, "http://127.0.0.1:6443"}, /* an explicit scheme wins */
		{"HTTPS://example.com", 0, "https://example.com"},
		{"https://example.com/prefix", 0, "https://example.com"},
		{"example.com/prefix", 0, NULL}, /* a path needs a scheme */
		{"ftp://example.com", 0, NULL},
		{"https://example.com:port", 0, NULL},
		{"https://example.com?x=1", 0, NULL},
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k8s_config *c = NULL, *gv = NULL;
		k8s_rest_client *rc = NULL;
		int code;
		k8s_config_new(&c);
		if (cases[i].host)
			k8s_config_set_string(c, "Host", cases[i].host);
		if (cases[i].tls == 1)
			k8s_config_set_string(c, "TLSClientConfig.CAFile", "/nonexistent/ca.crt");
		else if (cases[i].tls == 2)
			k8s_config_set_bool(c, "TLSClientConfig.Insecure", 1);
		else if (cases[i].tls == 3) {
			k8s_config_set_bytes(c, "TLSClientConfig.CertData", "cert", 4);
			k8s_config_set_bytes(c, "TLSClientConfig.KeyData", "key", 3);
		}
		k8s_rest_config_for_group_version(&gv, c, "", "v1");
		code = k8s_rest_client_for(&rc, gv);
		if (cases[i].want) {
			if (code != 0)
				fprintf(stderr, "  host \"%s\": %s\n", cases[i].host ? cases[i].host : "(unset)",
					k8s_error_last()->message);
			CHECK_INT(code, 0);
			if (rc)
				CHECK_STR(k8s_rest_client_base_url(rc), cases[i].want);
		} else {
			if (code != K8S_EINVALID)
				fprintf(stderr, "  host \"%s\" was accepted\n", cases[i].host);
			CHECK_INT(code, K8S_EINVALID);
			CHECK(rc == NULL);
			CHECK_HAS(k8s_error_last()->message, "Host");
		}
		k8s_rest_client_free(rc);
		k8s_config_free(gv);
		k8s_config_free(c);
	}
}

TEST(client_construction)
{
	k8s_config *c = cfg_host("http://h"), *gv = NULL;
	k8s_rest_client *rc = NULL;
	k8s_rate_limiter *rl = NULL;
	/* a versioned client needs a GroupVersion; an unversioned one does not */
	CHECK_INT(k8s_rest_client_for(&rc, c), K8S_EINVALID);
	CHECK_HAS(k8s_error_last()->message, "GroupVersion");
	CHECK_INT(k8s_rest_client_unversioned(&rc, c), 0);
	k8s_rest_client_free(rc);
	rc = NULL;
	/* for_group_version: APIPath and GroupVersion */
	CHECK_INT(k8s_rest_config_for_group_version(&gv, c, "", "v1"), 0);
	CHECK_STR(k8s_config_get_string(gv, "APIPath"), "/api");
	CHECK_STR(k8s_config_get_string(gv, "ContentConfig.GroupVersion"), "v1");
	k8s_config_free(gv);
	CHECK_INT(k8s_rest_config_for_group_version(&gv, c, "batch", "v1"), 0);
	CHECK_STR(k8s_config_get_string(gv, "APIPath"), "/apis");
	CHECK_STR(k8s_config_get_string(gv, "ContentConfig.GroupVersion"), "batch/v1");
	k8s_config_free(gv);
	gv = NULL;
	CHECK_INT(k8s_rest_config_for_group_version(&gv, c, "batch", ""), K8S_EINVALID);
	/* rate limiter choice: negative QPS = none, 0 = 5/10, a RateLimiter wins */
	rc = client_gv(c, "", "v1");
	CHECK(rc && k8s_rest_client_rate_limiter(rc) == NULL);
	k8s_rest_client_free(rc);
	k8s_config_set_number(c, "QPS", 0);
	rc = client_gv(c, "", "v1");
	CHECK(rc && k8s_rest_client_rate_limiter(rc) != NULL);
	if (rc && k8s_rest_client_rate_limiter(rc))
		CHECK(k8s_rate_limiter_qps(k8s_rest_client_rate_limiter(rc)) == 5.0);
	k8s_rest_client_free(rc);
	k8s_rate_limiter_new_token_bucket(&rl, 42, 3);
	k8s_config_set_rate_limiter(c, rl);
	k8s_config_set_number(c, "QPS", -1);
	rc = client_gv(c, "", "v1");
	CHECK(rc && k8s_rest_client_rate_limiter(rc) == rl);
	k8s_rest_client_free(rc);
	k8s_rate_limiter_free(rl);
	/* invalid combinations are refused when the client is built */
	k8s_config_set_rate_limiter(c, NULL);
	k8s_config_set_string(c, "BearerToken", "t");
	k8s_config_set_string(c, "Username", "u");
	rc = client_gv(c, "", "v1");
	CHECK(rc == NULL);
	CHECK_INT(k8s_error_last()->code, K8S_EINVALID);
	k8s_config_free(c);
}

TEST(reason_table)
{
	CHECK_STR(k8s__reason_for_code(409, "POST"), "AlreadyExists");
	CHECK_STR(k8s__reason_for_code(409, "PUT"), "Conflict");
	CHECK_STR(k8s__reason_for_code(409, NULL), "Conflict");
	CHECK_STR(k8s__reason_for_code(404, "GET"), "NotFound");
	CHECK_STR(k8s__reason_for_code(410, "GET"), "Unknown");
	CHECK_STR(k8s__reason_for_code(418, "GET"), "Unknown");
	CHECK_STR(k8s__reason_for_code(502, "GET"), "InternalError");
	CHECK_STR(k8s__reason_for_code(504, "GET"), "Timeout");
}

/* ==================================================================== */
/* The Status code table through the fake server                       */
/* ==================================================================== */

TEST(status_code_table)
{
	struct {
		int code;
		const char *verb, *name, *reason, *message;
	} tab[] = {
		{400, "GET", "x", "BadRequest", "the server rejected our request for an unknown reason (get configmaps x)"},
		{401, "GET", "x", "Unauthorized", "the server has asked for the client to provide credentials (get configmaps x)"},
		{403, "GET", "x", "Forbidden", "text from the server (get configmaps x)"},
		{404, "GET", "x", "NotFound", "the server could not find the requested resource (get configmaps x)"},
		{405, "DELETE", "x", "MethodNotAllowed",
		 "the server does not allow this method on the requested resource (delete configmaps x)"},
		{406, "GET", "x", "NotAcceptable", "text from the server (get configmaps x)"},
		{409, "POST", NULL, "AlreadyExists", "the server reported a conflict (post configmaps)"},
		{409, "PUT", "x", "Conflict", "the server reported a conflict (put configmaps x)"},
		{410, "GET", "x", "Unknown",
		 "the server responded with the status code 410 but did not return more information (get configmaps x)"},
		{415, "PATCH", "x", "UnsupportedMediaType", "text from the server (patch configmaps x)"},
		{418, "GET", "x", "Unknown",
		 "the server responded with the status code 418 but did not return more information (get configmaps x)"},
		{422, "POST", NULL, "Invalid", "the server rejected our request due to an error in our request (post configmaps)"},
		{429, "GET", "x", "TooManyRequests",
		 "the server has received too many requests and has asked us to try again later (get configmaps x)"},
		{500, "GET", "x", "InternalError",
		 "an error on the server (\"text from the server\") has prevented the request from succeeding (get configmaps x)"},
		{502, "GET", "x", "InternalError",
		 "an error on the server (\"text from the server\") has prevented the request from succeeding (get configmaps x)"},
		{503, "GET", "x", "ServiceUnavailable", "the server is currently unable to handle the request (get configmaps x)"},
		{504, "GET", "x", "Timeout",
		 "the server was unable to return a response in the time allotted, but may still be processing the request "
		 "(get configmaps x)"},
	};
	k8s_rest_client *rc = fake_client();
	size_t i, n = sizeof(tab) / sizeof(tab[0]);
	fs_reset(&FS);
	CHECK(rc != NULL);
	for (i = 0; i < n; i++)
		fs_push(&FS, tab[i].code, "text/plain; charset=utf-8", NULL, "  text from the server\n", FS_OK);
	for (i = 0; rc && i < n; i++) {
		k8s_result *res = NULL;
		const k8s_status *st;
		int code = do_req(rc, tab[i].verb, "default", "configmaps", tab[i].name,
				  strcmp(tab[i].verb, "GET") && strcmp(tab[i].verb, "DELETE") ? "{}" : NULL, -1, &res);
		if (code != K8S_ESTATUS)
			fprintf(stderr, "  code %d %s\n", tab[i].code, tab[i].verb);
		CHECK_INT(code, K8S_ESTATUS);
		CHECK(res != NULL);
		if (!res)
			continue;
		CHECK_INT(k8s_result_status_code(res), tab[i].code);
		CHECK_INT(k8s_result_error_code(res), K8S_ESTATUS);
		st = k8s_result_status(res);
		CHECK(st != NULL);
		if (st) {
			CHECK_INT(st->code, tab[i].code);
			CHECK_STR(st->reason, tab[i].reason);
			CHECK_STR(st->message, tab[i].message);
			CHECK(st->status_json == NULL);
			CHECK_INT(st->retry_after_seconds, 0);
		}
		CHECK_INT(k8s_error_last()->code, K8S_ESTATUS);
		CHECK_STR(k8s_error_last()->reason, tab[i].reason);
		k8s_result_free(res);
	}
	/* none of them was retried (no Retry-After) */
	CHECK_INT(fs_count(&FS), n);
	k8s_rest_client_free(rc);
}

TEST(status_message_group_and_no_resource)
{
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *apps = client_gv(c, "apps", "v1");
	k8s_request *r;
	k8s_result *res = NULL;
	fs_reset(&FS);
	fs_push(&FS, 404, "text/plain", NULL, "nope", FS_OK);
	fs_push(&FS, 404, "text/plain", NULL, "nope", FS_OK);
	CHECK_INT(do_req(apps, "GET", "ns", "deployments", "web", NULL, -1, &res), K8S_ESTATUS);
	if (res)
		CHECK_STR(k8s_result_status(res)->message,
			  "the server could not find the requested resource (get deployments.apps web)");
	k8s_result_free(res);
	res = NULL;
	/* an AbsPath request names no resource */
	r = req_new(apps, "GET");
	k8s_request_abs_path(r, "/healthz");
	CHECK_INT(k8s_request_do(&res, r), K8S_ESTATUS);
	if (res)
		CHECK_STR(k8s_result_status(res)->message, "the server could not find the requested resource");
	k8s_result_free(res);
	k8s_request_free(r);
	k8s_rest_client_free(apps);
	k8s_config_free(c);
}

TEST(status_text_body_limits)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	char big[3001], exact[2049], want[2600];
	const char *m;
	memset(big, 'a', 2048);
	memset(big + 2048, 'b', 952);
	big[3000] = 0;
	memset(exact, 'c', 2048);
	exact[2048] = 0;
	fs_reset(&FS);
	fs_push(&FS, 500, "text/plain", NULL, big, FS_OK);
	fs_push(&FS, 500, "text/html", NULL, exact, FS_OK);
	fs_push(&FS, 500, "application/json", NULL, "{\"not\":\"a status\"}", FS_OK);
	fs_push(&FS, 500, NULL, NULL, "no content type is text", FS_OK);
	fs_push(&FS, 500, "text/plain", NULL, "say \"hi\"\n\tthen\x01 stop\n", FS_OK);
	fs_push(&FS, 403, "text/plain", NULL, "User \"bob\" cannot GET \"x\"\n", FS_OK);
	fs_push(&FS, 406, "application/json", NULL, "{}", FS_OK);
	fs_push(&FS, 403, "application/json", NULL, "{}", FS_OK);
	CHECK(rc != NULL);
	if (!rc)
		return;

	/* over 2048 bytes: the first 2048 are kept (client-go's cap) */
	CHECK_INT(do_req(rc, "GET", NULL, NULL, NULL, NULL, -1, &res), K8S_ESTATUS);
	m = res ? k8s_result_status(res)->message : NULL;
	snprintf(want, sizeof(want), "an error on the server (\"%.2048s\") has prevented the request from succeeding", big);
	CHECK(m && strcmp(m, want) == 0);
	CHECK_HASNT(m, "b");
	if (res) {
		size_t len;
		k8s_result_body(res, &len);
		CHECK_INT(len, 3000); /* the body itself is whole */
	}
	k8s_result_free(res);

	/* exactly 2048 bytes: all of it */
	CHECK_INT(do_req(rc, "GET", NULL, NULL, NULL, NULL, -1, &res), K8S_ESTATUS);
	snprintf(want, sizeof(want), "an error on the server (\"%s\") has prevented the request from succeeding", exact);
	CHECK(res && strcmp(k8s_result_status(res)->message, want) == 0);
	k8s_result_free(res);

	/* not text: "unknown" */
	CHECK_INT(do_req(rc, "GET", NULL, NULL, NULL, NULL, -1, &res), K8S_ESTATUS);
	if (res)
		CHECK_STR(k8s_result_status(res)->message,
			  "an error on the server (\"unknown\") has prevented the request from succeeding");
	k8s_result_free(res);

	/* no Content-Type counts as text */
	CHECK_INT(do_req(rc, "GET", NULL, NULL, NULL, NULL, -1, &res), K8S_ESTATUS);
	if (res)
		CHECK_STR(k8s_result_status(res)->message,
			  "an error on the server (\"no content type is text\") has prevented the request from succeeding");
	k8s_result_free(res);

	/* quoted as Go's %q, after trimming */
	CHECK_INT(do_req(rc, "GET", NULL, NULL, NULL, NULL, -1, &res), K8S_ESTATUS);
	if (res)
		CHECK_STR(k8s_result_status(res)->message,
			  "an error on the server (\"say \\\"hi\\\"\\n\\tthen\\x01 stop\") has prevented the request from succeeding");
	k8s_result_free(res);

	/* 403 keeps the server's text as the message, verbatim; the verb in it is untouched */
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	if (res)
		CHECK_STR(k8s_result_status(res)->message, "User \"bob\" cannot GET \"x\" (get configmaps x)");
	k8s_result_free(res);

	/* 406 without text, and 403 without text */
	CHECK_INT(do_req(rc, "GET", NULL, NULL, NULL, NULL, -1, &res), K8S_ESTATUS);
	if (res)
		CHECK_STR(k8s_result_status(res)->message,
			  "the server was unable to respond with a content type that the client supports");
	k8s_result_free(res);
	CHECK_INT(do_req(rc, "GET", NULL, NULL, NULL, NULL, -1, &res), K8S_ESTATUS);
	if (res) {
		CHECK_STR(k8s_result_status(res)->reason, "Forbidden");
		CHECK_STR(k8s_result_status(res)->message, "unknown");
	}
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(status_body_decoded)
{
	static const char not_found[] =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"configmaps \\\"x\\\" not found\",\"reason\":\"NotFound\","
		"\"details\":{\"name\":\"x\",\"kind\":\"configmaps\"},\"code\":404}";
	static const char throttled[] =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"slow down\","
		"\"reason\":\"TooManyRequests\",\"details\":{\"retryAfterSeconds\":3},\"code\":429}";
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	const k8s_status *st;
	fs_reset(&FS);
	fs_push(&FS, 404, "application/json", NULL, not_found, FS_OK);
	fs_push(&FS, 429, "application/json", NULL, throttled, FS_OK);
	/* a Status without "Failure" on an error code does not win */
	fs_push(&FS, 404, "application/json", NULL, "{\"kind\":\"Status\",\"status\":\"Success\",\"message\":\"odd\"}", FS_OK);
	/* a 2xx carrying a failed Status is an error */
	fs_push(&FS, 200, "application/json", NULL,
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"it broke\","
		"\"reason\":\"InternalError\",\"code\":500}", FS_OK);
	/* a 2xx Status without a code takes the HTTP code */
	fs_push(&FS, 202, "application/json", NULL,
		"{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"no code\",\"reason\":\"Conflict\"}", FS_OK);
	/* a successful Status is a success */
	fs_push(&FS, 200, "application/json", NULL, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Success\"}", FS_OK);
	CHECK(rc != NULL);
	if (!rc)
		return;

	CHECK_INT(do_req(rc, "GET", "default", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	st = res ? k8s_result_status(res) : NULL;
	CHECK(st != NULL);
	if (st) {
		CHECK_INT(st->code, 404);
		CHECK_STR(st->reason, "NotFound");
		CHECK_STR(st->message, "configmaps \"x\" not found");
		CHECK_STR(st->status_json, not_found);
		CHECK_HAS(st->details_json, "\"name\":\"x\"");
		CHECK_HAS(st->details_json, "\"kind\":\"configmaps\"");
	}
	k8s_result_free(res);

	/* details.retryAfterSeconds without the header: kept, but not retried */
	CHECK_INT(do_req(rc, "GET", "default", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	st = res ? k8s_result_status(res) : NULL;
	if (st) {
		CHECK_STR(st->reason, "TooManyRequests");
		CHECK_STR(st->message, "slow down");
		CHECK_INT(st->retry_after_seconds, 3);
	}
	k8s_result_free(res);
	CHECK_INT(fs_count(&FS), 2);

	CHECK_INT(do_req(rc, "GET", "default", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	st = res ? k8s_result_status(res) : NULL;
	if (st) {
		CHECK_STR(st->reason, "NotFound");
		CHECK_STR(st->message, "the server could not find the requested resource (get configmaps x)");
		CHECK(st->status_json == NULL);
	}
	k8s_result_free(res);

	CHECK_INT(do_req(rc, "GET", "default", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	st = res ? k8s_result_status(res) : NULL;
	if (st) {
		CHECK_INT(k8s_result_status_code(res), 200);
		CHECK_INT(st->code, 500);
		CHECK_STR(st->reason, "InternalError");
		CHECK_STR(st->message, "it broke");
	}
	k8s_result_free(res);

	CHECK_INT(do_req(rc, "GET", "default", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	st = res ? k8s_result_status(res) : NULL;
	if (st) {
		CHECK_INT(st->code, 202);
		CHECK_STR(st->reason, "Conflict");
	}
	k8s_result_free(res);

	CHECK_INT(do_req(rc, "DELETE", "default", "configmaps", "x", NULL, -1, &res), 0);
	CHECK(res && k8s_result_status(res) == NULL);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

/* ==================================================================== */
/* Retries and Retry-After                                              */
/* ==================================================================== */

TEST(retry_429_then_success)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	fs_reset(&FS);
	fs_push(&FS, 429, "application/json", "Retry-After: 0\r\n", "{}", FS_OK);
	fs_push(&FS, 429, "application/json", "Retry-After: 0\r\n", "{}", FS_OK);
	fs_push(&FS, 200, "application/json", NULL, "{\"ok\":3}", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
	CHECK_INT(fs_count(&FS), 3);
	if (res) {
		CHECK_INT(k8s_result_status_code(res), 200);
		CHECK_STR(k8s_result_body(res, NULL), "{\"ok\":3}");
	}
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

/* k8s_request_observe_body: growing prefixes of the final 2xx body only */
typedef struct {
	int calls;
	size_t last;
	int shrank;
	char *seen;   /* copy of the longest prefix observed */
} observed;

static void observe(void *payload, const char *body, size_t len)
{
	observed *o = payload;
	char *n;
	o->calls++;
	if (len <= o->last)
		o->shrank = 1;
	if (o->seen && memcmp(o->seen, body, o->last < len ? o->last : len) != 0)
		o->shrank = 1; /* not a prefix of what came before */
	n = realloc(o->seen, len);
	if (!n)
		abort();
	memcpy(n, body, len);
	o->seen = n;
	o->last = len;
}

TEST(body_observer_sees_the_final_body_grow)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	k8s_request *r;
	observed o = {0, 0, 0, NULL};
	size_t big = 3 * 1024 * 1024, i, len = 0;
	char *body = malloc(big);
	const char *got;
	if (!body)
		abort();
	for (i = 0; i < big; i++)
		body[i] = (char)('a' + i % 26);
	body[0] = '"';
	body[big - 1] = '"';
	fs_reset(&FS);
	fs_push(&FS, 429, "application/json", "Retry-After: 0\r\n", "{\"kind\":\"Status\",\"code\":429}", FS_OK);
	fs_push_n(&FS, 200, "application/json", NULL, body, big, FS_OK);
	fs_push(&FS, 404, "application/json", NULL, "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}", FS_OK);
	r = req_new(rc, "GET");
	CHECK(r != NULL);
	if (!r) {
		free(body);
		return;
	}
	k8s_request_resource(r, "configmaps");
	k8s_request_observe_body(r, observe, &o);
	CHECK_INT(k8s_request_do(&res, r), 0);
	CHECK_INT(fs_count(&FS), 2); /* the 429 was retried: the observer saw only the 200 */
	CHECK(o.calls >= 1);
	CHECK(!o.shrank);
	got = res ? k8s_result_body(res, &len) : NULL;
	CHECK_INT(len, big);
	CHECK_INT(o.last, big);
	CHECK(got && o.seen && memcmp(o.seen, body, big) == 0 && memcmp(got, body, big) == 0);
	k8s_result_free(res);
	res = NULL;
	/* an error response is never observed */
	o.calls = 0;
	CHECK(k8s_request_do(&res, r) < 0);
	CHECK_INT(fs_count(&FS), 3);
	CHECK_INT(o.calls, 0);
	k8s_result_free(res);
	k8s_request_free(r);
	free(o.seen);
	free(body);
	k8s_rest_client_free(rc);
}

TEST(retry_503_waits_retry_after)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	double t0;
	fs_reset(&FS);
	fs_push(&FS, 503, "text/plain", "Retry-After: 1\r\n", "busy", FS_OK);
	fs_push(&FS, 200, "application/json", NULL, "{}", FS_OK);
	t0 = now_s();
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
	CHECK(now_s() - t0 >= 0.95);
	CHECK_INT(fs_count(&FS), 2);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(retry_post_replays_body)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	const char *body = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}";
	fs_reset(&FS);
	fs_push(&FS, 500, "text/plain", "Retry-After: 0\r\n", "hiccup", FS_OK);
	fs_push(&FS, 201, "application/json", NULL, "{}", FS_OK);
	CHECK_INT(do_req(rc, "POST", "ns", "configmaps", NULL, body, -1, &res), 0);
	CHECK_INT(fs_count(&FS), 2);
	if (fs_count(&FS) == 2) {
		CHECK_STR(fs_req(&FS, 0)->method, "POST");
		CHECK_STR(fs_req(&FS, 0)->body, body);
		CHECK_STR(fs_req(&FS, 1)->body, body);
		CHECK_STR(fs_header(fs_req(&FS, 1), "Content-Type"), "application/json");
	}
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(no_retry_without_retry_after)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	const char *bad[] = {"1.5", "abc", "Wed, 21 Oct 2015 07:28:00 GMT", "", "-1"};
	size_t i;
	fs_reset(&FS);
	/* 500 and 429 without Retry-After */
	fs_push(&FS, 500, "text/plain", NULL, "boom", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	CHECK_INT(fs_count(&FS), 1);
	if (res)
		CHECK_STR(k8s_result_status(res)->reason, "InternalError");
	k8s_result_free(res);
	fs_push(&FS, 429, "text/plain", NULL, "slow", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	CHECK_INT(fs_count(&FS), 2);
	k8s_result_free(res);
	/* a Retry-After that is not an integer is no Retry-After */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char hdr[96];
		size_t before = fs_count(&FS);
		snprintf(hdr, sizeof(hdr), "Retry-After: %s\r\n", bad[i]);
		fs_push(&FS, 503, "text/plain", hdr, "busy", FS_OK);
		CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
		if (fs_count(&FS) != before + 1)
			fprintf(stderr, "  Retry-After \"%s\" was retried\n", bad[i]);
		CHECK_INT(fs_count(&FS), before + 1);
		if (res) {
			CHECK_STR(k8s_result_status(res)->reason, "ServiceUnavailable");
			CHECK_INT(k8s_result_status(res)->retry_after_seconds, 0);
		}
		k8s_result_free(res);
	}
	/* only 429 and 5xx are retried, whatever the Retry-After */
	fs_push(&FS, 409, "text/plain", "Retry-After: 0\r\n", "conflict", FS_OK);
	CHECK_INT(do_req(rc, "PUT", "ns", "configmaps", "x", "{}", -1, &res), K8S_ESTATUS);
	k8s_result_free(res);
	fs_push(&FS, 404, "text/plain", "Retry-After: 0\r\n", "missing", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	k8s_result_free(res);
	CHECK_INT(fs_count(&FS), 2 + sizeof(bad) / sizeof(bad[0]) + 2);
	k8s_rest_client_free(rc);
}

TEST(retry_storm_exceeds_max_retries)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	fs_reset(&FS);
	fs_fallback(&FS, 429, "text/plain", "Retry-After: 0\r\n", "storm", FS_OK);
	/* default MaxRetries is 10: 11 tries, then the last 429 is the answer */
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	CHECK_INT(fs_count(&FS), 11);
	if (res) {
		CHECK_INT(k8s_result_status_code(res), 429);
		CHECK_STR(k8s_result_status(res)->reason, "TooManyRequests");
		CHECK_INT(k8s_result_status(res)->retry_after_seconds, 0);
	}
	k8s_result_free(res);
	/* MaxRetries 2: three tries; 0: one */
	fs_reset(&FS);
	fs_fallback(&FS, 503, "text/plain", "Retry-After: 0\r\n", "down", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, 2, &res), K8S_ESTATUS);
	CHECK_INT(fs_count(&FS), 3);
	k8s_result_free(res);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, 0, &res), K8S_ESTATUS);
	CHECK_INT(fs_count(&FS), 4);
	k8s_result_free(res);
	/* the final response's Retry-After is reported */
	fs_reset(&FS);
	fs_push(&FS, 429, "text/plain", "Retry-After: 7\r\n", "later", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, 0, &res), K8S_ESTATUS);
	if (res)
		CHECK_INT(k8s_result_status(res)->retry_after_seconds, 7);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(connection_reset_get_is_retried)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	double t0;
	fs_reset(&FS);
	fs_push(&FS, 0, NULL, NULL, NULL, FS_RESET);
	fs_push(&FS, 200, "application/json", NULL, "{\"after\":\"reset\"}", FS_OK);
	t0 = now_s();
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
	CHECK(now_s() - t0 >= 0.95); /* as if Retry-After were 1 */
	CHECK_INT(fs_count(&FS), 2);
	if (res)
		CHECK_STR(k8s_result_body(res, NULL), "{\"after\":\"reset\"}");
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(connection_reset_writes_not_retried)
{
	const char *verbs[] = {"POST", "PUT", "DELETE", "PATCH"};
	size_t i;
	for (i = 0; i < 4; i++) {
		k8s_rest_client *rc = fake_client(); /* a fresh connection each time */
		k8s_result *res = NULL;
		int code;
		fs_reset(&FS);
		fs_push(&FS, 0, NULL, NULL, NULL, FS_RESET);
		fs_push(&FS, 200, "application/json", NULL, "{}", FS_OK);
		code = do_req(rc, verbs[i], "ns", "configmaps", strcmp(verbs[i], "POST") ? "x" : NULL,
			      strcmp(verbs[i], "DELETE") ? "{}" : NULL, -1, &res);
		if (code != K8S_ETRANSPORT)
			fprintf(stderr, "  %s: %d\n", verbs[i], code);
		CHECK_INT(code, K8S_ETRANSPORT);
		CHECK_INT(fs_count(&FS), 1);
		CHECK(res != NULL);
		if (res) {
			CHECK_INT(k8s_result_status_code(res), 0);
			CHECK_STR(k8s_result_status(res)->reason, "ConnectionReset");
			CHECK_INT(k8s_result_status(res)->code, 0);
		}
		k8s_result_free(res);
		k8s_rest_client_free(rc);
	}
}

TEST(connection_reset_get_gives_up)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	fs_reset(&FS);
	fs_fallback(&FS, 0, NULL, NULL, NULL, FS_RESET);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, 1, &res), K8S_ETRANSPORT);
	CHECK_INT(fs_count(&FS), 2);
	if (res)
		CHECK_STR(k8s_result_status(res)->reason, "ConnectionReset");
	k8s_result_free(res);
	/* MaxRetries 0: not retried at all */
	fs_reset(&FS);
	fs_fallback(&FS, 0, NULL, NULL, NULL, FS_RESET);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, 0, &res), K8S_ETRANSPORT);
	CHECK_INT(fs_count(&FS), 1);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(truncated_and_reset_bodies)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	char *raw = (char *)1;
	/* the headers arrived, the body did not: an error, not retried (client-go
	 * retries only failures before the response) */
	fs_reset(&FS);
	fs_push(&FS, 200, "application/json", NULL, "{\"items\":[", FS_TRUNCATE);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", NULL, NULL, -1, &res), K8S_ETRANSPORT);
	CHECK_INT(fs_count(&FS), 1);
	if (res) {
		CHECK_INT(k8s_result_status_code(res), 0);
		CHECK_STR(k8s_result_status(res)->reason, "ConnectionReset");
	}
	k8s_result_free(res);
	k8s_rest_client_free(rc);

	rc = fake_client();
	fs_reset(&FS);
	fs_push(&FS, 200, "application/json", NULL, "{\"items\":[{", FS_RESET_MID);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", NULL, NULL, -1, &res), K8S_ETRANSPORT);
	CHECK_INT(fs_count(&FS), 1);
	k8s_result_free(res);
	k8s_rest_client_free(rc);

	/* DoRaw reports the same through the last error */
	rc = fake_client();
	fs_reset(&FS);
	fs_push(&FS, 200, "application/json", NULL, "{\"a\":", FS_TRUNCATE);
	{
		k8s_request *r = req_new(rc, "GET");
		size_t len = 9;
		k8s_request_abs_path(r, "/version");
		CHECK_INT(k8s_request_do_raw(&raw, &len, r), K8S_ETRANSPORT);
		CHECK(raw == NULL);
		CHECK_INT(len, 0);
		CHECK_STR(k8s_error_last()->reason, "ConnectionReset");
		k8s_request_free(r);
	}
	k8s_rest_client_free(rc);
}

TEST(client_side_timeout)
{
	k8s_rest_client *rc = fake_client();
	k8s_request *r = req_new(rc, "GET");
	k8s_result *res = NULL;
	double t0;
	fs_reset(&FS);
	fs_push_delayed(&FS, 600, 200, "application/json", "{}");
	CHECK(r != NULL);
	if (r) {
		k8s_request_namespace(r, "ns");
		k8s_request_resource(r, "configmaps");
		k8s_request_timeout(r, 0.2);
		t0 = now_s();
		CHECK_INT(k8s_request_do(&res, r), K8S_ETIMEOUT);
		CHECK(now_s() - t0 >= 0.15);
		CHECK_INT(fs_count(&FS), 1);
		if (fs_count(&FS) >= 1)
			CHECK_STR(fs_req(&FS, 0)->target, "/api/v1/namespaces/ns/configmaps?timeout=200ms");
		if (res) {
			CHECK_INT(k8s_result_status_code(res), 0);
			CHECK_STR(k8s_result_status(res)->reason, "Timeout");
		}
		k8s_result_free(res);
	}
	k8s_request_free(r);
	k8s_rest_client_free(rc);
}

TEST(connection_refused)
{
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	char url[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	/* a port that was free a moment ago */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &alen);
	port = ntohs(a.sin_port);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	rc = client_host(url);
	/* connection refused is not a reset: not retried, even for GET */
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), K8S_ETRANSPORT);
	if (res)
		CHECK_STR(k8s_result_status(res)->reason, "ConnectionRefused");
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

/* ==================================================================== */
/* Rate limiting                                                       */
/* ==================================================================== */

TEST(rate_limit_qps2_burst1)
{
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *rc;
	double t0;
	int i;
	k8s_config_set_number(c, "QPS", 2);
	k8s_config_set_number(c, "Burst", 1);
	rc = client_gv(c, "", "v1");
	fs_reset(&FS);
	t0 = now_s();
	for (i = 0; rc && i < 3; i++) {
		k8s_result *res = NULL;
		CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
		k8s_result_free(res);
	}
	/* the first is free, then one every 0.5 s */
	CHECK(now_s() - t0 >= 0.9);
	CHECK_INT(fs_count(&FS), 3);
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

typedef struct {
	int accepts;
} counting_limiter;

static int cl_try(void *p)
{
	(void)p;
	return 1;
}
static double cl_accept(void *p)
{
	((counting_limiter *)p)->accepts++;
	return 0;
}
static double cl_qps(void *p)
{
	(void)p;
	return 1;
}

TEST(limiter_per_try_and_not_for_watches)
{
	counting_limiter cl = {0};
	k8s_rate_limiter_ops ops = {cl_try, cl_accept, cl_qps, NULL};
	k8s_rate_limiter *rl = NULL;
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	k8s_request *r;
	k8s_watch *w = NULL;
	k8s_watch_event ev;
	CHECK_INT(k8s_rate_limiter_new_custom(&rl, &ops, &cl), 0);
	k8s_config_set_rate_limiter(c, rl);
	rc = client_gv(c, "", "v1");
	CHECK(rc && k8s_rest_client_rate_limiter(rc) == rl);
	fs_reset(&FS);
	fs_push(&FS, 429, "text/plain", "Retry-After: 0\r\n", "x", FS_OK);
	fs_push(&FS, 200, "application/json", NULL, "{}", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
	k8s_result_free(res);
	CHECK_INT(cl.accepts, 2); /* before every try, retries included */

	fs_push(&FS, 200, "application/json", NULL,
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}}\n", FS_CLOSE);
	r = req_new(rc, "GET");
	k8s_request_namespace(r, "ns");
	k8s_request_resource(r, "configmaps");
	CHECK_INT(k8s_request_watch(&w, NULL, r), 0);
	if (w) {
		CHECK_INT(k8s_watch_next(w, &ev, 5), 1);
		CHECK_STR(ev.type_name, "ADDED");
		CHECK_INT(k8s_watch_next(w, &ev, 5), 0);
	}
	k8s_watch_free(w);
	k8s_request_free(r);
	CHECK_INT(cl.accepts, 2); /* watches are not throttled */
	CHECK_INT(fs_count(&FS), 3);
	if (fs_count(&FS) == 3)
		CHECK_STR(fs_req(&FS, 2)->target, "/api/v1/namespaces/ns/configmaps?watch=true");
	k8s_rest_client_free(rc);
	k8s_rate_limiter_free(rl);
	k8s_config_free(c);
}

/* ==================================================================== */
/* Headers on the wire                                                  */
/* ==================================================================== */

TEST(default_headers_and_user_agent)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	const fs_request *q;
	char want[64];
	fs_reset(&FS);
	CHECK_INT(do_req(rc, "get", "ns", "configmaps", "x", NULL, -1, &res), 0);
	k8s_result_free(res);
	CHECK_INT(do_req(rc, "POST", "ns", "configmaps", NULL, "{}", -1, &res), 0);
	k8s_result_free(res);
	CHECK_INT(fs_count(&FS), 2);
	q = fs_req(&FS, 0);
	if (q) {
		const char *ua = fs_header(q, "User-Agent");
		CHECK_STR(q->method, "GET");
		CHECK_STR(q->target, "/api/v1/namespaces/ns/configmaps/x");
		/* "<command>/<version> (<os>/<arch>) kubernetes/<commit>" */
		snprintf(want, sizeof(want), "k8s-lua/v%s (linux/", k8s_version());
		CHECK(ua && strncmp(ua, want, strlen(want)) == 0);
		CHECK_HAS(ua, ") kubernetes/");
		CHECK_STR(fs_header(q, "Accept"), "application/json, */*");
		CHECK(fs_header(q, "Content-Type") == NULL);
		CHECK(fs_header(q, "Authorization") == NULL);
		CHECK(fs_header(q, "Impersonate-User") == NULL);
		CHECK_HAS(fs_header(q, "Accept-Encoding"), "gzip");
	}
	q = fs_req(&FS, 1);
	if (q) {
		CHECK_STR(q->method, "POST");
		CHECK_STR(fs_header(q, "Content-Type"), "application/json");
		CHECK(fs_header(q, "Expect") == NULL);
	}
	k8s_rest_client_free(rc);
}

TEST(configured_headers)
{
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *rc;
	k8s_request *r;
	k8s_result *res = NULL;
	const fs_request *q;
	k8s_config_set_string(c, "UserAgent", "my-controller/1.2");
	k8s_config_set_string(c, "ContentConfig.AcceptContentTypes", "application/vnd.kubernetes.protobuf,application/json");
	k8s_config_set_bool(c, "DisableCompression", 1);
	k8s_config_set_string(c, "BearerToken", "tok-123");
	rc = client_gv(c, "", "v1");
	fs_reset(&FS);
	r = req_new(rc, "PATCH");
	k8s_request_namespace(r, "ns");
	k8s_request_resource(r, "configmaps");
	k8s_request_name(r, "x");
	k8s_request_set_header(r, "Content-Type", K8S_MERGE_PATCH);
	k8s_request_set_header(r, "X-Custom", "one");
	k8s_request_set_header(r, "x-custom", "two"); /* replaces, case-insensitively */
	k8s_request_body(r, "{\"data\":{}}", 11);
	CHECK_INT(k8s_request_do(&res, r), 0);
	k8s_result_free(res);
	k8s_request_free(r);
	/* a user-set Authorization wins over the configured credentials */
	r = req_new(rc, "GET");
	k8s_request_abs_path(r, "/version");
	k8s_request_set_header(r, "Authorization", "Bearer from-request");
	CHECK_INT(k8s_request_do(&res, r), 0);
	k8s_result_free(res);
	k8s_request_free(r);
	CHECK_INT(fs_count(&FS), 2);
	q = fs_req(&FS, 0);
	if (q) {
		CHECK_STR(q->method, "PATCH");
		CHECK_STR(fs_header(q, "User-Agent"), "my-controller/1.2");
		CHECK_STR(fs_header(q, "Accept"), "application/vnd.kubernetes.protobuf,application/json");
		CHECK_STR(fs_header(q, "Content-Type"), K8S_MERGE_PATCH);
		CHECK_STR(fs_header(q, "X-Custom"), "two");
		CHECK(fs_header_n(q, "X-Custom", 1) == NULL);
		CHECK_STR(fs_header(q, "Authorization"), "Bearer tok-123");
		CHECK(fs_header(q, "Accept-Encoding") == NULL);
		CHECK_STR(q->body, "{\"data\":{}}");
	}
	q = fs_req(&FS, 1);
	if (q) {
		CHECK_STR(fs_header(q, "Authorization"), "Bearer from-request");
		CHECK(fs_header_n(q, "Authorization", 1) == NULL);
	}
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

TEST(basic_auth_header)
{
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	k8s_config_set_string(c, "Username", "alice");
	k8s_config_set_string(c, "Password", "s3cret:x");
	rc = client_gv(c, "", "v1");
	fs_reset(&FS);
	CHECK_INT(do_req(rc, "GET", NULL, "namespaces", NULL, NULL, -1, &res), 0);
	k8s_result_free(res);
	if (fs_count(&FS) == 1) /* base64("alice:s3cret:x") */
		CHECK_STR(fs_header(fs_req(&FS, 0), "Authorization"), "Basic YWxpY2U6czNjcmV0Ong=");
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

TEST(impersonation_headers)
{
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	const fs_request *q;
	k8s_config_set_string(c, "BearerToken", "admin");
	k8s_config_set_string(c, "Impersonate.UserName", "jane");
	k8s_config_set_string(c, "Impersonate.UID", "uid-7");
	k8s_config_add_string(c, "Impersonate.Groups", "devs");
	k8s_config_add_string(c, "Impersonate.Groups", "ops");
	k8s_config_add_pair(c, "Impersonate.Extra", "acme.com/project", "blue");
	k8s_config_add_pair(c, "Impersonate.Extra", "scopes", "read");
	k8s_config_add_pair(c, "Impersonate.Extra", "scopes", "write");
	k8s_config_add_pair(c, "Impersonate.Extra", "100%", "x");
	rc = client_gv(c, "", "v1");
	fs_reset(&FS);
	CHECK_INT(do_req(rc, "GET", NULL, "namespaces", NULL, NULL, -1, &res), 0);
	k8s_result_free(res);
	q = fs_req(&FS, 0);
	CHECK(q != NULL);
	if (q) {
		CHECK_STR(fs_header(q, "Authorization"), "Bearer admin");
		CHECK_STR(fs_header(q, "Impersonate-User"), "jane");
		CHECK_STR(fs_header(q, "Impersonate-Uid"), "uid-7");
		CHECK_STR(fs_header_n(q, "Impersonate-Group", 0), "devs");
		CHECK_STR(fs_header_n(q, "Impersonate-Group", 1), "ops");
		CHECK_STR(fs_header(q, "Impersonate-Extra-acme.com%2Fproject"), "blue");
		CHECK_STR(fs_header_n(q, "Impersonate-Extra-scopes", 0), "read");
		CHECK_STR(fs_header_n(q, "Impersonate-Extra-scopes", 1), "write");
		CHECK_STR(fs_header(q, "Impersonate-Extra-100%25"), "x");
	}
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

TEST(host_prefix_and_params_on_the_wire)
{
	char host[96];
	k8s_rest_client *rc;
	k8s_request *r;
	k8s_result *res = NULL;
	snprintf(host, sizeof(host), "%s/prefix/", FS.url);
	rc = client_host(host);
	fs_reset(&FS);
	CHECK_INT(do_req(rc, "GET", "default", "configmaps", "x", NULL, -1, &res), 0);
	k8s_result_free(res);
	r = req_new(rc, "GET");
	k8s_request_resource(r, "pods");
	k8s_request_param(r, "labelSelector", "app=web");
	k8s_request_timeout(r, 60);
	CHECK_INT(k8s_request_do(&res, r), 0);
	k8s_result_free(res);
	k8s_request_free(r);
	CHECK_INT(fs_count(&FS), 2);
	if (fs_count(&FS) == 2) {
		CHECK_STR(fs_req(&FS, 0)->target, "/prefix/api/v1/namespaces/default/configmaps/x");
		CHECK_STR(fs_req(&FS, 1)->target, "/prefix/api/v1/pods?labelSelector=app%3Dweb&timeout=1m0s");
	}
	k8s_rest_client_free(rc);
}

/* ==================================================================== */
/* Credentials: BearerTokenFile and the token callback                  */
/* ==================================================================== */

static void write_file(const char *path, const char *s)
{
	char tmp[512];
	FILE *f;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		abort();
	fputs(s, f);
	fclose(f);
	rename(tmp, path); /* atomic, as kubelet rotates projected tokens */
}

static const char *last_auth(void)
{
	size_t n = fs_count(&FS);
	return n ? fs_header(fs_req(&FS, n - 1), "Authorization") : NULL;
}

static int get_once(k8s_rest_client *rc)
{
	k8s_result *res = NULL;
	int code = do_req(rc, "GET", NULL, "namespaces", NULL, NULL, 0, &res);
	k8s_result_free(res);
	return code;
}

TEST(token_file_reread_and_401)
{
	char dir[] = "/tmp/k8s-rest-unit.XXXXXX", path[256];
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *rc = NULL;
	if (!mkdtemp(dir)) {
		CHECK(0);
		k8s_config_free(c);
		return;
	}
	snprintf(path, sizeof(path), "%s/token", dir);
	write_file(path, "  tok-A\n");
	k8s_config_set_string(c, "BearerTokenFile", path);
	k8s_config_set_string(c, "BearerToken", "static-token"); /* the file wins */
	k8s_global_set_number(K8S_OPT_TOKEN_FILE_PERIOD, 1);
	rc = client_gv(c, "", "v1");
	k8s_global_set_number(K8S_OPT_TOKEN_FILE_PERIOD, -1);
	fs_reset(&FS);
	CHECK(rc != NULL);
	if (!rc)
		goto out;
	CHECK_INT(get_once(rc), 0);
	CHECK_STR(last_auth(), "Bearer tok-A"); /* trimmed */
	write_file(path, "tok-B");
	CHECK_INT(get_once(rc), 0);
	CHECK_STR(last_auth(), "Bearer tok-A"); /* cached */
	sleep_s(1.1);
	CHECK_INT(get_once(rc), 0);
	CHECK_STR(last_auth(), "Bearer tok-B"); /* re-read after the period */
	/* a 401 drops the cache: the next request re-reads at once */
	write_file(path, "tok-C");
	fs_push(&FS, 401, "application/json", NULL,
		"{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Unauthorized\",\"code\":401,\"message\":\"Unauthorized\"}",
		FS_OK);
	CHECK_INT(get_once(rc), K8S_ESTATUS);
	CHECK_STR(last_auth(), "Bearer tok-B");
	CHECK_INT(fs_count(&FS), 4); /* the 401 itself is not retried */
	CHECK_INT(get_once(rc), 0);
	CHECK_STR(last_auth(), "Bearer tok-C");
	/* a failed re-read keeps the last good token (and is tried again on
	 * the next request): an empty file, then no file */
	write_file(path, " \n");
	sleep_s(1.1);
	CHECK_INT(get_once(rc), 0);
	CHECK_STR(last_auth(), "Bearer tok-C");
	unlink(path);
	CHECK_INT(get_once(rc), 0);
	CHECK_STR(last_auth(), "Bearer tok-C");
	write_file(path, "tok-D");
	CHECK_INT(get_once(rc), 0);
	CHECK_STR(last_auth(), "Bearer tok-D");
out:
	k8s_rest_client_free(rc);
	unlink(path);
	rmdir(dir);
	k8s_config_free(c);
}

TEST(token_file_default_period_and_missing_file)
{
	char dir[] = "/tmp/k8s-rest-unit.XXXXXX", path[256];
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *rc = NULL, *rc2 = NULL;
	k8s_result *res = NULL;
	if (!mkdtemp(dir)) {
		CHECK(0);
		k8s_config_free(c);
		return;
	}
	snprintf(path, sizeof(path), "%s/token", dir);
	k8s_config_set_string(c, "BearerTokenFile", path);
	/* a missing file with no other token: a credential error, nothing sent */
	rc = client_gv(c, "", "v1");
	fs_reset(&FS);
	CHECK_INT(do_req(rc, "GET", NULL, "namespaces", NULL, NULL, -1, &res), K8S_EAUTH);
	CHECK_INT(fs_count(&FS), 0);
	CHECK_HAS(k8s_error_last()->message, "BearerTokenFile");
	k8s_result_free(res);
	/* an unusable period is refused, naming the option, and the default
	 * 50 s stays (were 0 taken, every request would re-read the file) */
	write_file(path, "tok-1");
	CHECK_INT(k8s_global_set_number(K8S_OPT_TOKEN_FILE_PERIOD, 0), K8S_EINVALID);
	CHECK_HAS(k8s_error_last()->message, "K8S_OPT_TOKEN_FILE_PERIOD");
	k8s_rest_client_free(rc);
	rc = client_gv(c, "", "v1");
	CHECK_INT(k8s_global_set_number(K8S_OPT_TOKEN_FILE_PERIOD, 51), K8S_EINVALID);
	CHECK_INT(k8s_global_set_string(K8S_OPT_TOKEN_FILE_PERIOD, "soon"), K8S_EINVALID);
	CHECK_HAS(k8s_error_last()->message, "not a string option");
	rc2 = client_gv(c, "", "v1");
	CHECK_INT(get_once(rc), 0);
	CHECK_STR(last_auth(), "Bearer tok-1");
	CHECK_INT(get_once(rc2), 0);
	CHECK_STR(last_auth(), "Bearer tok-1");
	write_file(path, "tok-2");
	CHECK_INT(get_once(rc), 0);
	CHECK_STR(last_auth(), "Bearer tok-1");
	CHECK_INT(get_once(rc2), 0);
	CHECK_STR(last_auth(), "Bearer tok-1");
	k8s_rest_client_free(rc2);
	k8s_rest_client_free(rc);
	unlink(path);
	rmdir(dir);
	k8s_config_free(c);
}

typedef struct {
	int calls, invalidations;
} cb_state;

static int token_cb(void *payload, int invalidate, char **token, double *expiry)
{
	cb_state *s = payload;
	char buf[32];
	s->calls++;
	s->invalidations += invalidate;
	snprintf(buf, sizeof(buf), "cb-%d", s->calls);
	*token = strdup(buf);
	*expiry = 0;
	return 0;
}

TEST(token_callback_refreshed_once_after_401)
{
	cb_state s = {0, 0};
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	k8s_config_set_token_callback(c, token_cb, &s, NULL);
	rc = client_gv(c, "", "v1");
	fs_reset(&FS);
	fs_push(&FS, 401, "text/plain", NULL, "who are you", FS_OK);
	fs_push(&FS, 200, "application/json", NULL, "{}", FS_OK);
	fs_push(&FS, 401, "text/plain", NULL, "who are you", FS_OK);
	fs_push(&FS, 401, "text/plain", NULL, "still no", FS_OK);
	CHECK_INT(do_req(rc, "GET", NULL, "namespaces", NULL, NULL, -1, &res), 0);
	k8s_result_free(res);
	CHECK_INT(fs_count(&FS), 2);
	if (fs_count(&FS) == 2) {
		CHECK_STR(fs_header(fs_req(&FS, 0), "Authorization"), "Bearer cb-1");
		CHECK_STR(fs_header(fs_req(&FS, 1), "Authorization"), "Bearer cb-2");
	}
	CHECK_INT(s.invalidations, 1);
	/* a second 401 after the refresh is the answer */
	CHECK_INT(do_req(rc, "GET", NULL, "namespaces", NULL, NULL, -1, &res), K8S_ESTATUS);
	CHECK_INT(fs_count(&FS), 4);
	if (res) {
		CHECK_INT(k8s_result_status_code(res), 401);
		CHECK_STR(k8s_result_status(res)->reason, "Unauthorized");
	}
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

/* ==================================================================== */
/* Warnings, streams                                                    */
/* ==================================================================== */

TEST(warning_headers)
{
	k8s_rest_client *rc = fake_client();
	k8s_result *res = NULL;
	fs_reset(&FS);
	fs_push(&FS, 200, "application/json",
		"Warning: 299 - \"first warning\"\r\n"
		"Warning: 299 - \"second, with comma\", 299 k8s.io \"third \\\"quoted\\\"\" \"Sat, 01 Jan 2000 00:00:00 GMT\"\r\n"
		"Warning: garbage\r\n",
		"{}", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
	CHECK(res != NULL);
	if (res) {
		CHECK_INT(k8s_result_warning_count(res), 3);
		CHECK_STR(k8s_result_warning(res, 0), "first warning");
		CHECK_STR(k8s_result_warning(res, 1), "second, with comma");
		CHECK_STR(k8s_result_warning(res, 2), "third \"quoted\"");
		CHECK(k8s_result_warning(res, 3) == NULL);
	}
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(stream_reads_body_and_errors)
{
	k8s_rest_client *rc = fake_client();
	k8s_request *r;
	k8s_stream *s = NULL;
	k8s_result *err = NULL;
	{
		char got[64] = "";
		const char *data;
		size_t len;
		fs_reset(&FS);
		fs_push(&FS, 200, "text/plain", NULL, "line one\nline two\n", FS_OK);
		fs_push(&FS, 404, "application/json", NULL,
			"{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404,\"message\":\"pods \\\"p\\\" not found\"}",
			FS_OK);
		r = req_new(rc, "GET");
		k8s_request_namespace(r, "ns");
		k8s_request_resource(r, "pods");
		k8s_request_name(r, "p");
		k8s_request_subresource(r, "log");
		CHECK_INT(k8s_request_stream(&s, &err, r), 0);
		CHECK(err == NULL);
		while (s && k8s_stream_read(s, &data, &len, 5) == 1)
			if (strlen(got) + len < sizeof(got))
				strncat(got, data, len);
		CHECK_STR(got, "line one\nline two\n");
		k8s_stream_free(s);
		s = NULL;
		CHECK_INT(k8s_request_stream(&s, &err, r), K8S_ESTATUS);
		CHECK(s == NULL);
		CHECK(err != NULL);
		if (err) {
			CHECK_INT(k8s_result_status_code(err), 404);
			CHECK_STR(k8s_result_status(err)->message, "pods \"p\" not found");
		}
		k8s_result_free(err);
		k8s_request_free(r);
	}
	k8s_rest_client_free(rc);
}

/* ==================================================================== */
/* Debug log redaction                                                  */
/* ==================================================================== */

static k8s_rest_client *client_with_level(const char *level, const char *user, const char *pass, const char *token)
{
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *rc;
	if (token)
		k8s_config_set_string(c, "BearerToken", token);
	if (user)
		k8s_config_set_string(c, "Username", user);
	if (pass)
		k8s_config_set_string(c, "Password", pass);
	if (level)
		k8s_global_set_number(K8S_OPT_VERBOSITY, atof(level));
	rc = client_gv(c, "", "v1");
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	k8s_config_free(c);
	return rc;
}

TEST(debug_log_masks_credentials)
{
	const char *levels[] = {"8", "9"};
	size_t i;
	for (i = 0; i < 2; i++) {
		k8s_rest_client *rc = client_with_level(levels[i], NULL, NULL, "s3cr3t-t0ken-value");
		k8s_result *res = NULL;
		capture cap;
		char *log, want[160];
		fs_reset(&FS);
		fs_push(&FS, 404, "application/json", "Audit-Id: abc-123\r\n",
			"{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404,\"message\":\"gone\"}", FS_OK);
		if (capture_begin(&cap) < 0) {
			CHECK(0);
			k8s_rest_client_free(rc);
			return;
		}
		do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res);
		log = capture_end(&cap);
		k8s_result_free(res);
		snprintf(want, sizeof(want), "GET %s/api/v1/namespaces/ns/configmaps/x", FS.url);
		CHECK_HAS(log, want);
		CHECK_HAS(log, " 404 ");
		CHECK_HAS(log, "Authorization: <masked>");
		CHECK_HAS(log, "Audit-Id: abc-123"); /* a response header at level 8 */
		CHECK_HASNT(log, "s3cr3t-t0ken-value");
		CHECK_HASNT(log, "s3cr3t");
		/* and the real header did carry it */
		CHECK_STR(last_auth(), "Bearer s3cr3t-t0ken-value");
		free(log);
		k8s_rest_client_free(rc);
	}
}

TEST(debug_log_masks_basic_auth)
{
	k8s_rest_client *rc = client_with_level("9", "alice", "pa55word", NULL);
	k8s_result *res = NULL;
	capture cap;
	char *log;
	fs_reset(&FS);
	if (capture_begin(&cap) < 0) {
		CHECK(0);
		k8s_rest_client_free(rc);
		return;
	}
	do_req(rc, "POST", "ns", "configmaps", NULL, "{}", -1, &res);
	log = capture_end(&cap);
	k8s_result_free(res);
	CHECK_HAS(log, "POST ");
	CHECK_HAS(log, " 200 ");
	CHECK_HAS(log, "Authorization: <masked>");
	CHECK_HASNT(log, "pa55word");
	CHECK_HASNT(log, "YWxpY2U6cGE1NXdvcmQ="); /* base64("alice:pa55word") */
	CHECK_HASNT(log, "Basic ");
	free(log);
	k8s_rest_client_free(rc);
}

TEST(debug_level_read_at_client_creation)
{
	k8s_rest_client *rc = client_with_level(NULL, NULL, NULL, "tok");
	k8s_result *res = NULL;
	capture cap;
	char *log;
	fs_reset(&FS);
	k8s_global_set_number(K8S_OPT_VERBOSITY, 9); /* too late for this client */
	if (capture_begin(&cap) < 0) {
		CHECK(0);
		k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
		k8s_rest_client_free(rc);
		return;
	}
	do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res);
	log = capture_end(&cap);
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	k8s_result_free(res);
	CHECK_HASNT(log, "k8s: ");
	free(log);
	k8s_rest_client_free(rc);
}

/* ---- optional exponential backoff, proxy, hooks ---- */

TEST(backoff_waits_after_5xx_and_resets)
{
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	capture cap = {-1, NULL};
	char *log;
	double t0;
	fs_reset(&FS);
	k8s_global_set_number(K8S_OPT_VERBOSITY, 4); /* logs "backing off" before a delayed try */
	rc = fake_client();
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	CHECK_INT(k8s_rest_client_set_backoff(rc, 0.3, 1.0), 0);
	fs_push(&FS, 500, "text/plain", NULL, "down", FS_OK);  /* no Retry-After: not retried */
	fs_push(&FS, 200, "application/json", NULL, "{}", FS_OK);
	fs_push(&FS, 200, "application/json", NULL, "{}", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	k8s_result_free(res);
	t0 = now_s();
	capture_begin(&cap);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0); /* waits base */
	log = capture_end(&cap);
	CHECK(now_s() - t0 >= 0.28);
	CHECK(strstr(log, "backing off 0.300s") != NULL);
	free(log);
	k8s_result_free(res);
	capture_begin(&cap);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0); /* reset by the 200 */
	log = capture_end(&cap);
	CHECK(strstr(log, "backing off") == NULL);
	free(log);
	CHECK_INT(fs_count(&FS), 3);
	k8s_result_free(res);
	CHECK_INT(k8s_rest_client_set_backoff(rc, -1, 0), K8S_EINVALID);
	k8s_rest_client_free(rc);
}

TEST(backoff_from_environment)
{
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	double t0;
	fs_reset(&FS);
	setenv("KUBE_CLIENT_BACKOFF_BASE", "0.25", 1);
	setenv("KUBE_CLIENT_BACKOFF_DURATION", "2", 1);
	rc = fake_client();
	unsetenv("KUBE_CLIENT_BACKOFF_BASE");
	unsetenv("KUBE_CLIENT_BACKOFF_DURATION");
	fs_push(&FS, 503, "text/plain", NULL, "busy", FS_OK);
	fs_push(&FS, 503, "text/plain", NULL, "busy", FS_OK);
	fs_push(&FS, 200, "application/json", NULL, "{}", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS);
	k8s_result_free(res);
	t0 = now_s();
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), K8S_ESTATUS); /* 0.25 */
	k8s_result_free(res);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);         /* 0.5 */
	CHECK(now_s() - t0 >= 0.7);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(explicit_proxy_receives_the_request)
{
	/* the fake server acts as an HTTP proxy: it sees the absolute URL */
	k8s_config *c = cfg_host("http://cluster.invalid:8080");
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	const fs_request *q;
	fs_reset(&FS);
	k8s_config_set_string(c, "Proxy", FS.url);
	rc = client_gv(c, "", "v1");
	k8s_config_free(c);
	fs_push(&FS, 200, "application/json", NULL, "{\"via\":\"proxy\"}", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
	CHECK_INT(fs_count(&FS), 1);
	if ((q = fs_req(&FS, 0)))
		CHECK_STR(q->target, "http://cluster.invalid:8080/api/v1/namespaces/ns/configmaps/x");
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(proxy_from_environment_and_no_proxy)
{
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	const fs_request *q;
	fs_reset(&FS);
	setenv("http_proxy", FS.url, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	rc = client_host("http://cluster.invalid:8080");
	fs_push(&FS, 200, "application/json", NULL, "{}", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
	if ((q = fs_req(&FS, 0)))
		CHECK_STR(q->target, "http://cluster.invalid:8080/api/v1/namespaces/ns/configmaps/x");
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	/* NO_PROXY with a CIDR: the fake server is reached directly */
	fs_reset(&FS);
	setenv("no_proxy", "127.0.0.0/8", 1);
	rc = fake_client();
	fs_push(&FS, 200, "application/json", NULL, "{}", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
	if ((q = fs_req(&FS, 0)))
		CHECK_STR(q->target, "/api/v1/namespaces/ns/configmaps/x");
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	unsetenv("http_proxy");
	unsetenv("no_proxy");
}

TEST(host_with_credentials_is_not_echoed)
{
	k8s_config *c = cfg_host("https://admin:s3cretpw@127.0.0.1:1");
	k8s_rest_client *rc = client_gv(c, "", "v1");
	CHECK(rc == NULL);
	CHECK(strstr(k8s_error_last()->message, "Host") != NULL);
	CHECK(strstr(k8s_error_last()->message, "s3cretpw") == NULL);
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

TEST(trace_masks_proxy_credentials)
{
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	capture cap = {-1, NULL};
	char *log, proxy[256];
	const char *hostport = strstr(FS.url, "://") + 3;
	fs_reset(&FS);
	snprintf(proxy, sizeof(proxy), "http://proxyuser:pr0xysecret@%s", hostport);
	setenv("http_proxy", proxy, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	k8s_global_set_number(K8S_OPT_VERBOSITY, 9);
	rc = client_host("http://cluster.invalid:8080");
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	fs_push(&FS, 200, "application/json", NULL, "{}", FS_OK);
	capture_begin(&cap);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
	log = capture_end(&cap);
	unsetenv("http_proxy");
	CHECK(strstr(log, "<masked>") != NULL);
	CHECK(strstr(log, "pr0xysecret") == NULL);
	free(log);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

static int hook_calls, resp_calls;
static long hook_status;

static int test_req_hook(void *payload, const char *method, const char *url,
			 int (*add_header)(void *ctx, const char *name, const char *value), void *ctx)
{
	(void)url;
	hook_calls++;
	if (payload && !strcmp(payload, "fail"))
		return K8S_EAUTH;
	CHECK_STR(method, "GET");
	return add_header(ctx, "X-Hooked", "yes");
}

static void test_resp_hook(void *payload, const char *method, const char *url, long status, double seconds)
{
	(void)payload;
	(void)method;
	(void)url;
	(void)seconds;
	resp_calls++;
	hook_status = status;
}

TEST(request_and_response_hooks)
{
	k8s_config *c = cfg_host(FS.url);
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	const fs_request *q;
	fs_reset(&FS);
	hook_calls = resp_calls = 0;
	k8s_config_set_hooks(c, test_req_hook, test_resp_hook, NULL, NULL);
	rc = client_gv(c, "", "v1");
	fs_push(&FS, 201, "application/json", NULL, "{}", FS_OK);
	CHECK_INT(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res), 0);
	CHECK_INT(hook_calls, 1);
	CHECK_INT(resp_calls, 1);
	CHECK_INT(hook_status, 201);
	if ((q = fs_req(&FS, 0)))
		CHECK_STR(fs_header(q, "X-Hooked"), "yes");
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	/* a hook that fails fails the request before anything is sent */
	fs_reset(&FS);
	k8s_config_set_hooks(c, test_req_hook, NULL, "fail", NULL);
	rc = client_gv(c, "", "v1");
	CHECK(do_req(rc, "GET", "ns", "configmaps", "x", NULL, -1, &res) < 0);
	CHECK_INT(fs_count(&FS), 0);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

int main(void)
{
	if (fs_start(&FS) < 0) {
		fprintf(stderr, "cannot start the fake server\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	k8s_global_set_number(K8S_OPT_TOKEN_FILE_PERIOD, -1);
	/* URL building and validation */
	RUN(url_core_and_group_paths);
	RUN(url_prefix_suffix_abs_path);
	RUN(url_host_path_prefix);
	RUN(url_query_parameters);
	RUN(url_timeout_param_go_duration);
	RUN(path_clean_as_go);
	RUN(go_duration_format);
	RUN(validation_path_segments);
	RUN(validation_set_once_and_empty_name);
	RUN(validation_empty_namespace_rules);
	RUN(invalid_request_is_not_sent);
	RUN(host_defaulting);
	RUN(client_construction);
	RUN(reason_table);
	/* Status decoding and the code table */
	RUN(status_code_table);
	RUN(status_message_group_and_no_resource);
	RUN(status_text_body_limits);
	RUN(status_body_decoded);
	/* retries */
	RUN(retry_429_then_success);
	RUN(body_observer_sees_the_final_body_grow);
	RUN(retry_503_waits_retry_after);
	RUN(retry_post_replays_body);
	RUN(no_retry_without_retry_after);
	RUN(retry_storm_exceeds_max_retries);
	RUN(connection_reset_get_is_retried);
	RUN(connection_reset_writes_not_retried);
	RUN(connection_reset_get_gives_up);
	RUN(truncated_and_reset_bodies);
	RUN(client_side_timeout);
	RUN(connection_refused);
	/* throttling */
	RUN(rate_limit_qps2_burst1);
	RUN(limiter_per_try_and_not_for_watches);
	/* headers and credentials */
	RUN(default_headers_and_user_agent);
	RUN(configured_headers);
	RUN(basic_auth_header);
	RUN(impersonation_headers);
	RUN(host_prefix_and_params_on_the_wire);
	RUN(token_file_reread_and_401);
	RUN(token_file_default_period_and_missing_file);
	RUN(token_callback_refreshed_once_after_401);
	RUN(warning_headers);
	RUN(stream_reads_body_and_errors);
	/* debug log */
	RUN(debug_log_masks_credentials);
	RUN(debug_log_masks_basic_auth);
	RUN(debug_level_read_at_client_creation);
	RUN(backoff_waits_after_5xx_and_resets);
	RUN(backoff_from_environment);
	RUN(explicit_proxy_receives_the_request);
	RUN(proxy_from_environment_and_no_proxy);
	RUN(request_and_response_hooks);
	RUN(host_with_credentials_is_not_echoed);
	RUN(trace_masks_proxy_credentials);
	fs_stop(&FS);
	return TEST_SUMMARY();
}
