/* RESTClient integration tests against the real control plane started by
 * tools/control-plane.sh (env exported by tools/run-tests.sh): ConfigMap
 * CRUD, the server's 404/409/422 Statuses, watches (order, resourceVersions,
 * 410 Expired), token, client-certificate and token-file auth, TLS (wrong CA,
 * ServerName, Insecure), impersonation, Host defaulting, the timeout
 * parameter, gzip and Warning headers. Without the env every test fails
 * (never skips). Everything is created in a throwaway namespace (and one
 * throwaway CRD) that is deleted at the end. */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <time.h>
#include <unistd.h>
#include "k8s.h"
#include "test.h"
#include "k8s_test.h"

static char NS[64];
static int setup_ok;

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

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
	rename(tmp, path);
}

/* ---- identities and clients ---- */

/* A config for one of the control plane's identities: "admin-token",
 * "admin-cert", "restricted", or "none" (CA only). */

/* A core/v1 client for an identity. */
static k8s_rest_client *core(const char *who)
{
	k8s_config *c = identity(who);
	k8s_rest_client *rc = client_gv(c, "", "v1");
	k8s_config_free(c);
	return rc;
}

/* verb [namespaces/ns/]res[/name] [body]; extra query params as key, value, ..., NULL. */
static int call(k8s_rest_client *rc, const char *verb, const char *ns, const char *res, const char *name,
		const char *body, k8s_result **out, ...)
{
	k8s_request *r = NULL;
	va_list ap;
	const char *k;
	int code;
	*out = NULL;
	if (!rc || k8s_rest_client_verb(&r, rc, verb) < 0)
		return -100;
	if (ns)
		k8s_request_namespace(r, ns);
	if (res)
		k8s_request_resource(r, res);
	if (name)
		k8s_request_name(r, name);
	if (body)
		k8s_request_body(r, body, strlen(body));
	va_start(ap, out);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		k8s_request_param(r, k, v);
	}
	va_end(ap);
	code = k8s_request_do(out, r);
	k8s_request_free(r);
	return code;
}

static int get_abs(k8s_rest_client *rc, const char *path, k8s_result **out)
{
	k8s_request *r = NULL;
	int code;
	*out = NULL;
	if (!rc || k8s_rest_client_verb(&r, rc, "GET") < 0)
		return -100;
	k8s_request_abs_path(r, path);
	code = k8s_request_do(out, r);
	k8s_request_free(r);
	return code;
}

static json_t *body_json(const k8s_result *res)
{
	size_t len;
	const char *b;
	if (!res)
		return NULL;
	b = k8s_result_body(res, &len);
	return json_loadb(b, len, 0, NULL);
}

/* metadata.resourceVersion of a JSON body, copied into out. */
static void rv_of(const k8s_result *res, char *out, size_t n)
{
	json_t *j = body_json(res);
	const char *rv = j ? json_string_value(json_object_get(json_object_get(j, "metadata"), "resourceVersion")) : NULL;
	snprintf(out, n, "%s", rv ? rv : "");
	json_decref(j);
}

static char *cm_json(const char *name, const char *rv, const char *key, const char *value)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
			      "name", name, "data", key, value);
	char *s;
	if (rv)
		json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int status_is(const k8s_result *res, int code, const char *reason)
{
	const k8s_status *st = res ? k8s_result_status(res) : NULL;
	if (!st || st->code != code || strcmp(st->reason, reason) != 0) {
		fprintf(stderr, "  status: %d %s: %s\n", st ? st->code : -1, st ? st->reason : "(none)",
			st ? st->message : "");
		return 0;
	}
	return 1;
}

/* ==================================================================== */

TEST(setup_namespace)
{
	k8s_rest_client *rc = core("admin-token");
	k8s_result *res = NULL;
	char body[160];
	snprintf(NS, sizeof(NS), "k8s-lua-rest2-%d", (int)getpid());
	snprintf(body, sizeof(body), "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", NS);
	CHECK_INT(call(rc, "POST", NULL, "namespaces", NULL, body, &res, NULL), 0);
	if (res && k8s_result_status_code(res) == 201)
		setup_ok = 1;
	CHECK_INT(res ? k8s_result_status_code(res) : 0, 201);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

/* ---- Host defaulting ---- */

TEST(host_without_scheme_defaults_to_https)
{
	const char *server = env("K8S_LUA_SERVER");
	k8s_config *c = identity("admin-token");
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	if (!server || !c) {
		CHECK(0);
		k8s_config_free(c);
		return;
	}
	CHECK(strncmp(server, "https://", 8) == 0);
	k8s_config_set_string(c, "Host", server + 8); /* "127.0.0.1:PORT" with a CA */
	rc = client_gv(c, "", "v1");
	CHECK(rc != NULL);
	if (rc) {
		CHECK_STR(k8s_rest_client_base_url(rc), server);
		CHECK_INT(get_abs(rc, "/version", &res), 0);
		CHECK_INT(res ? k8s_result_status_code(res) : 0, 200);
	}
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

TEST(host_trailing_slash_and_prefix)
{
	const char *server = env("K8S_LUA_SERVER");
	k8s_config *c = identity("admin-token");
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	char host[256];
	if (!server || !c) {
		CHECK(0);
		k8s_config_free(c);
		return;
	}
	snprintf(host, sizeof(host), "%s/", server);
	k8s_config_set_string(c, "Host", host);
	rc = client_gv(c, "", "v1");
	CHECK_INT(call(rc, "GET", NULL, "namespaces", NULL, NULL, &res, "limit", "1", NULL), 0);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	/* a path prefix is applied: the API server has nothing at /prefix/... */
	snprintf(host, sizeof(host), "%s/prefix", server);
	k8s_config_set_string(c, "Host", host);
	rc = client_gv(c, "", "v1");
	CHECK_INT(get_abs(rc, "/version", &res), K8S_ESTATUS);
	CHECK_INT(res ? k8s_result_status_code(res) : 0, 404);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

/* ---- CRUD and the server's Statuses ---- */

TEST(configmap_crud)
{
	k8s_rest_client *rc = core("admin-token");
	k8s_result *res = NULL;
	char rv1[32], rv2[32], rv3[32], *body;
	const k8s_status *st;
	json_t *j;
	REQUIRE(setup_ok && rc);
	/* create */
	body = cm_json("crud", NULL, "k", "v1");
	CHECK_INT(call(rc, "POST", NS, "configmaps", NULL, body, &res, NULL), 0);
	free(body);
	CHECK_INT(res ? k8s_result_status_code(res) : 0, 201);
	rv_of(res, rv1, sizeof(rv1));
	CHECK(*rv1 != 0);
	k8s_result_free(res);
	/* get */
	CHECK_INT(call(rc, "GET", NS, "configmaps", "crud", NULL, &res, NULL), 0);
	j = body_json(res);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "data"), "k")), "v1");
	CHECK_STR(json_string_value(json_object_get(j, "kind")), "ConfigMap");
	json_decref(j);
	k8s_result_free(res);
	/* list */
	CHECK_INT(call(rc, "GET", NS, "configmaps", NULL, NULL, &res, NULL), 0);
	CHECK_HAS(res ? k8s_result_body(res, NULL) : NULL, "\"name\":\"crud\"");
	CHECK_HAS(res ? k8s_result_body(res, NULL) : NULL, "\"ConfigMapList\"");
	k8s_result_free(res);
	/* update */
	body = cm_json("crud", rv1, "k", "v2");
	CHECK_INT(call(rc, "PUT", NS, "configmaps", "crud", body, &res, NULL), 0);
	free(body);
	CHECK_INT(res ? k8s_result_status_code(res) : 0, 200);
	rv_of(res, rv2, sizeof(rv2));
	CHECK(strcmp(rv1, rv2) != 0);
	k8s_result_free(res);
	/* merge patch */
	{
		k8s_request *r = NULL;
		const char *patch = "{\"data\":{\"extra\":\"yes\"}}";
		k8s_rest_client_verb(&r, rc, "PATCH");
		k8s_request_namespace(r, NS);
		k8s_request_resource(r, "configmaps");
		k8s_request_name(r, "crud");
		k8s_request_set_header(r, "Content-Type", K8S_MERGE_PATCH);
		k8s_request_body(r, patch, strlen(patch));
		CHECK_INT(k8s_request_do(&res, r), 0);
		k8s_request_free(r);
		j = body_json(res);
		CHECK_STR(json_string_value(json_object_get(json_object_get(j, "data"), "k")), "v2");
		CHECK_STR(json_string_value(json_object_get(json_object_get(j, "data"), "extra")), "yes");
		json_decref(j);
		rv_of(res, rv3, sizeof(rv3));
		CHECK(strcmp(rv3, rv2) != 0);
		k8s_result_free(res);
	}
	/* delete, then 404 with the server's Status */
	CHECK_INT(call(rc, "DELETE", NS, "configmaps", "crud", NULL, &res, NULL), 0);
	CHECK_INT(res ? k8s_result_status_code(res) : 0, 200);
	k8s_result_free(res);
	CHECK_INT(call(rc, "GET", NS, "configmaps", "crud", NULL, &res, NULL), K8S_ESTATUS);
	CHECK(status_is(res, 404, "NotFound"));
	st = res ? k8s_result_status(res) : NULL;
	if (st) {
		CHECK_STR(st->message, "configmaps \"crud\" not found");
		CHECK(st->status_json != NULL);
		CHECK_HAS(st->details_json, "\"name\":\"crud\"");
		CHECK_HAS(st->details_json, "\"kind\":\"configmaps\"");
	}
	CHECK_INT(k8s_error_last()->code, K8S_ESTATUS);
	CHECK_STR(k8s_error_last()->reason, "NotFound");
	k8s_result_free(res);
	/* DoRaw of the same puts the Status in the last error */
	{
		k8s_request *r = NULL;
		char *raw = NULL;
		size_t len = 0;
		k8s_rest_client_verb(&r, rc, "GET");
		k8s_request_namespace(r, NS);
		k8s_request_resource(r, "configmaps");
		k8s_request_name(r, "crud");
		CHECK_INT(k8s_request_do_raw(&raw, &len, r), K8S_ESTATUS);
		CHECK(raw == NULL);
		CHECK_STR(k8s_error_last()->reason, "NotFound");
		CHECK_STR(k8s_error_last()->message, "configmaps \"crud\" not found");
		k8s_request_free(r);
	}
	k8s_rest_client_free(rc);
}

TEST(create_twice_already_exists)
{
	k8s_rest_client *rc = core("admin-token");
	k8s_result *res = NULL;
	char *body = cm_json("dup", NULL, "k", "v");
	REQUIRE(setup_ok && rc);
	CHECK_INT(call(rc, "POST", NS, "configmaps", NULL, body, &res, NULL), 0);
	k8s_result_free(res);
	CHECK_INT(call(rc, "POST", NS, "configmaps", NULL, body, &res, NULL), K8S_ESTATUS);
	CHECK(status_is(res, 409, "AlreadyExists"));
	if (res) {
		CHECK_INT(k8s_result_status_code(res), 409);
		CHECK_STR(k8s_result_status(res)->message, "configmaps \"dup\" already exists");
	}
	k8s_result_free(res);
	free(body);
	k8s_rest_client_free(rc);
}

TEST(update_with_stale_resource_version_conflicts)
{
	k8s_rest_client *rc = core("admin-token");
	k8s_result *res = NULL;
	char rv1[32], *body;
	REQUIRE(setup_ok && rc);
	body = cm_json("stale", NULL, "k", "v0");
	CHECK_INT(call(rc, "POST", NS, "configmaps", NULL, body, &res, NULL), 0);
	free(body);
	rv_of(res, rv1, sizeof(rv1));
	k8s_result_free(res);
	body = cm_json("stale", rv1, "k", "v1");
	CHECK_INT(call(rc, "PUT", NS, "configmaps", "stale", body, &res, NULL), 0);
	free(body);
	k8s_result_free(res);
	/* the same resourceVersion again: it is stale now */
	body = cm_json("stale", rv1, "k", "v2");
	CHECK_INT(call(rc, "PUT", NS, "configmaps", "stale", body, &res, NULL), K8S_ESTATUS);
	free(body);
	CHECK(status_is(res, 409, "Conflict"));
	if (res)
		CHECK_STR(k8s_result_status(res)->message,
			  "Operation cannot be fulfilled on configmaps \"stale\": the object has been modified; "
			  "please apply your changes to the latest version and try again");
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(invalid_object_422)
{
	k8s_rest_client *rc = core("admin-token");
	k8s_result *res = NULL;
	char *body = cm_json("Not_A_Valid_Name", NULL, "k", "v");
	const k8s_status *st;
	REQUIRE(setup_ok && rc);
	CHECK_INT(call(rc, "POST", NS, "configmaps", NULL, body, &res, NULL), K8S_ESTATUS);
	free(body);
	CHECK(status_is(res, 422, "Invalid"));
	st = res ? k8s_result_status(res) : NULL;
	if (st) {
		CHECK_HAS(st->message, "ConfigMap \"Not_A_Valid_Name\" is invalid: metadata.name: Invalid value: \"Not_A_Valid_Name\"");
		CHECK_HAS(st->details_json, "\"causes\"");
		CHECK_HAS(st->details_json, "\"field\":\"metadata.name\"");
		CHECK_STR(k8s_error_last()->message, st->message);
	}
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(server_warning_headers)
{
	k8s_rest_client *rc = core("admin-token");
	k8s_result *res = NULL;
	const char *body = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"warned\"},"
			   "\"data\":{\"k\":\"v\"},\"bogusField\":1}";
	size_t i;
	int found = 0;
	REQUIRE(setup_ok && rc);
	CHECK_INT(call(rc, "POST", NS, "configmaps", NULL, body, &res, "fieldValidation", "Warn", NULL), 0);
	CHECK(res && k8s_result_warning_count(res) >= 1);
	for (i = 0; res && i < k8s_result_warning_count(res); i++)
		found |= contains(k8s_result_warning(res, i), "unknown field \"bogusField\"");
	if (!found && res && k8s_result_warning_count(res))
		fprintf(stderr, "  warning: %s\n", k8s_result_warning(res, 0));
	CHECK(found);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(timeout_parameter_accepted)
{
	k8s_rest_client *rc = core("admin-token");
	k8s_request *r = NULL;
	k8s_result *res = NULL;
	char *u;
	REQUIRE(setup_ok && rc);
	k8s_rest_client_verb(&r, rc, "GET");
	k8s_request_namespace(r, NS);
	k8s_request_resource(r, "configmaps");
	k8s_request_timeout(r, 60);
	u = k8s_request_url(r);
	CHECK_HAS(u, "?timeout=1m0s");
	free(u);
	CHECK_INT(k8s_request_do(&res, r), 0);
	CHECK_INT(res ? k8s_result_status_code(res) : 0, 200);
	k8s_result_free(res);
	k8s_request_free(r);
	k8s_rest_client_free(rc);
}

TEST(stream_a_list)
{
	k8s_rest_client *rc = core("admin-token");
	k8s_request *r = NULL;
	k8s_stream *s = NULL;
	k8s_result *err = NULL;
	REQUIRE(setup_ok && rc);
	{
		char *all = NULL;
		size_t n = 0;
		const char *d;
		size_t len;
		json_t *j;
		k8s_rest_client_verb(&r, rc, "GET");
		k8s_request_namespace(r, NS);
		k8s_request_resource(r, "configmaps");
		CHECK_INT(k8s_request_stream(&s, &err, r), 0);
		while (s && k8s_stream_read(s, &d, &len, 10) == 1) {
			char *p = realloc(all, n + len + 1);
			if (!p)
				abort();
			all = p;
			memcpy(all + n, d, len);
			n += len;
			all[n] = 0;
		}
		j = all ? json_loads(all, 0, NULL) : NULL;
		CHECK_STR(json_string_value(json_object_get(j, "kind")), "ConfigMapList");
		json_decref(j);
		free(all);
		k8s_stream_free(s);
		k8s_result_free(err);
		k8s_request_free(r);
	}
	k8s_rest_client_free(rc);
}

/* ---- watches ---- */

static unsigned long long rvnum(const char *s)
{
	return s ? strtoull(s, NULL, 10) : 0;
}

TEST(watch_create_update_delete_in_order)
{
	k8s_rest_client *rc = core("admin-token");
	k8s_request *r = NULL;
	k8s_watch *w = NULL;
	k8s_result *res = NULL, *err = NULL;
	k8s_watch_event ev;
	char list_rv[32], rv_create[32], rv_update[32], *body;
	const char *want[3] = {"ADDED", "MODIFIED", "DELETED"};
	unsigned long long last = 0;
	int i;
	REQUIRE(setup_ok && rc);
	CHECK_INT(call(rc, "GET", NS, "configmaps", NULL, NULL, &res, "fieldSelector", "metadata.name=watched", NULL), 0);
	rv_of(res, list_rv, sizeof(list_rv));
	k8s_result_free(res);
	k8s_rest_client_verb(&r, rc, "GET");
	k8s_request_namespace(r, NS);
	k8s_request_resource(r, "configmaps");
	k8s_request_param(r, "fieldSelector", "metadata.name=watched");
	k8s_request_param(r, "resourceVersion", list_rv);
	CHECK_INT(k8s_request_watch(&w, &err, r), 0);
	k8s_result_free(err);
	k8s_request_free(r);
	if (!w) {
		k8s_rest_client_free(rc);
		return;
	}
	body = cm_json("watched", NULL, "k", "1");
	CHECK_INT(call(rc, "POST", NS, "configmaps", NULL, body, &res, NULL), 0);
	free(body);
	rv_of(res, rv_create, sizeof(rv_create));
	k8s_result_free(res);
	body = cm_json("watched", rv_create, "k", "2");
	CHECK_INT(call(rc, "PUT", NS, "configmaps", "watched", body, &res, NULL), 0);
	free(body);
	rv_of(res, rv_update, sizeof(rv_update));
	k8s_result_free(res);
	CHECK_INT(call(rc, "DELETE", NS, "configmaps", "watched", NULL, &res, NULL), 0);
	k8s_result_free(res);
	for (i = 0; i < 3; i++) {
		json_t *o;
		const char *rv;
		int got = k8s_watch_next(w, &ev, 20);
		CHECK_INT(got, 1);
		if (got != 1)
			break;
		CHECK_STR(ev.type_name, want[i]);
		o = json_loadb(ev.object, ev.object_len, 0, NULL);
		CHECK_STR(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")), "watched");
		rv = json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
		CHECK(rvnum(rv) > last);
		CHECK(rvnum(rv) > rvnum(list_rv));
		if (i == 0)
			CHECK_STR(rv, rv_create);
		if (i == 1) {
			CHECK_STR(rv, rv_update);
			CHECK_STR(json_string_value(json_object_get(json_object_get(o, "data"), "k")), "2");
		}
		last = rvnum(rv);
		json_decref(o);
	}
	/* nothing more; the watch stays usable after a timeout */
	CHECK_INT(k8s_watch_next(w, &ev, 0.3), K8S_ETIMEOUT);
	k8s_watch_stop(w);
	CHECK_INT(k8s_watch_next(w, &ev, 1), 0);
	k8s_watch_free(w);
	k8s_rest_client_free(rc);
}

/* A fresh CRD's watch cache starts at the current resourceVersion, so a
 * watch from resourceVersion "1" is older than anything it can serve: the
 * server answers 200 and an ERROR event carrying a 410 Expired Status.
 * (Built-in resources' caches start with the empty etcd of a fresh control
 * plane, where "1" is still served.) */
TEST(watch_from_expired_resource_version)
{
	k8s_config *c = identity("admin-token");
	k8s_rest_client *ext = client_gv(c, "apiextensions.k8s.io", "v1"), *cr = NULL;
	k8s_result *res = NULL;
	char plural[48], crd_name[96], kind[48], body[1024];
	k8s_watch_event ev;
	double deadline;
	int got = 0;
	CHECK(setup_ok);
	snprintf(plural, sizeof(plural), "probes%d", (int)getpid());
	snprintf(kind, sizeof(kind), "Probe%d", (int)getpid());
	snprintf(crd_name, sizeof(crd_name), "%s.k8slua.example.com", plural);
	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
		 "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"group\":\"k8slua.example.com\",\"scope\":\"Namespaced\","
		 "\"names\":{\"plural\":\"%s\",\"kind\":\"%s\"},\"versions\":[{\"name\":\"v1\",\"served\":true,"
		 "\"storage\":true,\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\","
		 "\"x-kubernetes-preserve-unknown-fields\":true}}}]}}",
		 crd_name, plural, kind);
	CHECK_INT(call(ext, "POST", NULL, "customresourcedefinitions", NULL, body, &res, NULL), 0);
	k8s_result_free(res);
	cr = client_gv(c, "k8slua.example.com", "v1");
	/* until the resource is served (404) and its storage is ready (429) */
	deadline = now_s() + 30;
	while (cr && now_s() < deadline) {
		k8s_request *r = NULL;
		k8s_watch *w = NULL;
		k8s_result *err = NULL;
		int rc;
		k8s_rest_client_verb(&r, cr, "GET");
		k8s_request_namespace(r, NS);
		k8s_request_resource(r, plural);
		k8s_request_param(r, "resourceVersion", "1");
		k8s_request_max_retries(r, 0);
		rc = k8s_request_watch(&w, &err, r);
		k8s_request_free(r);
		if (rc == K8S_ESTATUS && err &&
		    (k8s_result_status_code(err) == 404 || k8s_result_status_code(err) == 429)) {
			k8s_result_free(err);
			sleep_s(0.1);
			continue;
		}
		CHECK_INT(rc, 0);
		if (rc != 0 && err)
			fprintf(stderr, "  watch: %d %s\n", k8s_result_status_code(err), k8s_result_status(err)->message);
		k8s_result_free(err);
		if (w) {
			got = k8s_watch_next(w, &ev, 10);
			CHECK_INT(got, 1);
			if (got == 1) {
				json_t *o = json_loadb(ev.object, ev.object_len, 0, NULL);
				const char *reason = json_string_value(json_object_get(o, "reason"));
				CHECK_INT(ev.type, K8S_WATCH_ERROR);
				CHECK_STR(ev.type_name, "ERROR");
				CHECK_STR(json_string_value(json_object_get(o, "kind")), "Status");
				CHECK_INT(json_integer_value(json_object_get(o, "code")), 410);
				CHECK(reason && (!strcmp(reason, "Expired") || !strcmp(reason, "Gone")));
				CHECK_HAS(json_string_value(json_object_get(o, "message")), "too old resource version: 1");
				json_decref(o);
			}
			k8s_watch_free(w);
		}
		break;
	}
	CHECK(got == 1);
	CHECK_INT(call(ext, "DELETE", NULL, "customresourcedefinitions", crd_name, NULL, &res, NULL), 0);
	k8s_result_free(res);
	k8s_rest_client_free(cr);
	k8s_rest_client_free(ext);
	k8s_config_free(c);
}

/* ---- authentication ---- */

static int list_namespaces(k8s_rest_client *rc, k8s_result **res)
{
	return call(rc, "GET", NULL, "namespaces", NULL, NULL, res, "limit", "1", NULL);
}

TEST(auth_token_and_restricted_403)
{
	k8s_rest_client *admin = core("admin-token"), *restricted = core("restricted");
	k8s_result *res = NULL;
	CHECK_INT(list_namespaces(admin, &res), 0);
	k8s_result_free(res);
	CHECK_INT(list_namespaces(restricted, &res), K8S_ESTATUS);
	CHECK(status_is(res, 403, "Forbidden"));
	if (res) {
		CHECK_STR(k8s_result_status(res)->message,
			  "namespaces is forbidden: User \"restricted\" cannot list resource \"namespaces\" in API group \"\" "
			  "at the cluster scope");
		CHECK_HAS(k8s_result_status(res)->details_json, "\"kind\":\"namespaces\"");
	}
	k8s_result_free(res);
	k8s_rest_client_free(admin);
	k8s_rest_client_free(restricted);
}

TEST(auth_wrong_token_401)
{
	k8s_config *c = identity("none");
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	REQUIRE(c);
	k8s_config_set_string(c, "BearerToken", "not-a-valid-token");
	rc = client_gv(c, "", "v1");
	CHECK_INT(list_namespaces(rc, &res), K8S_ESTATUS);
	CHECK(status_is(res, 401, "Unauthorized"));
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

/* username and groups from a SelfSubjectReview */
static json_t *whoami(k8s_config *c)
{
	k8s_rest_client *rc = client_gv(c, "authentication.k8s.io", "v1");
	k8s_result *res = NULL;
	json_t *j = NULL, *ui = NULL;
	const char *body = "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}";
	int code = call(rc, "POST", NULL, "selfsubjectreviews", NULL, body, &res, NULL);
	if (code == 0) {
		j = body_json(res);
		ui = json_object_get(json_object_get(j, "status"), "userInfo");
		if (ui)
			json_incref(ui);
	} else if (res) {
		fprintf(stderr, "  selfsubjectreview: %s\n", k8s_result_status(res)->message);
	}
	json_decref(j);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	return ui;
}

static int has_string(json_t *arr, const char *s)
{
	size_t i;
	for (i = 0; i < json_array_size(arr); i++)
		if (!strcmp(json_string_value(json_array_get(arr, i)) ? json_string_value(json_array_get(arr, i)) : "", s))
			return 1;
	return 0;
}

TEST(auth_client_certificate_files_and_data)
{
	k8s_config *c = identity("admin-cert");
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	json_t *ui;
	char *cert, *key;
	size_t clen = 0, klen = 0;
	CHECK(c != NULL);
	if (!c)
		return;
	ui = whoami(c);
	CHECK_STR(json_string_value(json_object_get(ui, "username")), "admin");
	CHECK(has_string(json_object_get(ui, "groups"), "system:masters"));
	json_decref(ui);
	/* the same identity from PEM data */
	cert = read_file(env("K8S_LUA_ADMIN_CERT"), &clen);
	key = read_file(env("K8S_LUA_ADMIN_KEY"), &klen);
	CHECK(cert && key);
	k8s_config_set_string(c, "TLSClientConfig.CertFile", NULL);
	k8s_config_set_string(c, "TLSClientConfig.KeyFile", NULL);
	k8s_config_set_bytes(c, "TLSClientConfig.CertData", cert, clen);
	k8s_config_set_bytes(c, "TLSClientConfig.KeyData", key, klen);
	rc = client_gv(c, "", "v1");
	CHECK_INT(list_namespaces(rc, &res), 0);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	free(cert);
	free(key);
	k8s_config_free(c);
}

TEST(auth_token_file_rewritten_mid_run)
{
	const char *admin = env("K8S_LUA_ADMIN_TOKEN"), *restricted = env("K8S_LUA_RESTRICTED_TOKEN");
	char dir[] = "/tmp/k8s-rest-live2.XXXXXX", path[256];
	k8s_config *c = identity("none");
	k8s_rest_client *rc = NULL, *slow = NULL, *fresh = NULL;
	k8s_result *res = NULL;
	if (!admin || !restricted || !c || !mkdtemp(dir)) {
		CHECK(0);
		k8s_config_free(c);
		return;
	}
	snprintf(path, sizeof(path), "%s/token", dir);
	write_file(path, restricted);
	k8s_config_set_string(c, "BearerTokenFile", path);
	/* Caching is checked only on clients with the default period (50 s),
	 * which no run of this test comes near; `rc` (period 1 s) is used only
	 * for "re-read once the period has passed", a lower-bound condition. */
	slow = client_gv(c, "", "v1");
	fresh = client_gv(c, "", "v1");
	k8s_global_set_number(K8S_OPT_TOKEN_FILE_PERIOD, 1);
	rc = client_gv(c, "", "v1");
	k8s_global_set_number(K8S_OPT_TOKEN_FILE_PERIOD, -1);
	CHECK(rc && slow && fresh);
	/* the restricted user: 403 */
	CHECK_INT(list_namespaces(rc, &res), K8S_ESTATUS);
	CHECK(status_is(res, 403, "Forbidden"));
	k8s_result_free(res);
	CHECK_INT(list_namespaces(slow, &res), K8S_ESTATUS);
	CHECK(status_is(res, 403, "Forbidden"));
	k8s_result_free(res);
	/* the admin token is written: slow still uses its cached token */
	write_file(path, admin);
	CHECK_INT(list_namespaces(slow, &res), K8S_ESTATUS);
	CHECK(status_is(res, 403, "Forbidden"));
	k8s_result_free(res);
	/* more than rc's period after its read the file is re-read: now admin */
	sleep_s(1.1);
	CHECK_INT(list_namespaces(rc, &res), 0);
	k8s_result_free(res);
	CHECK_INT(list_namespaces(slow, &res), K8S_ESTATUS); /* 50 s have not passed */
	CHECK(status_is(res, 403, "Forbidden"));
	k8s_result_free(res);
	/* a wrong token is written: slow's cached token is still served */
	write_file(path, "wrong-token");
	CHECK_INT(list_namespaces(slow, &res), K8S_ESTATUS);
	CHECK(status_is(res, 403, "Forbidden"));
	k8s_result_free(res);
	/* ... and rc re-reads it after its period */
	sleep_s(1.1);
	CHECK_INT(list_namespaces(rc, &res), K8S_ESTATUS);
	CHECK(status_is(res, 401, "Unauthorized"));
	k8s_result_free(res);
	/* the 401 drops the cache: fresh (50 s period) reads the wrong token,
	 * gets a 401, and picks up a good token at once */
	CHECK_INT(list_namespaces(fresh, &res), K8S_ESTATUS);
	CHECK(status_is(res, 401, "Unauthorized"));
	k8s_result_free(res);
	write_file(path, admin);
	CHECK_INT(list_namespaces(fresh, &res), 0);
	k8s_result_free(res);
	CHECK_INT(list_namespaces(rc, &res), 0);
	k8s_result_free(res);
	/* an unreadable file keeps the last good token */
	unlink(path);
	sleep_s(1.1);
	CHECK_INT(list_namespaces(rc, &res), 0);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	k8s_rest_client_free(slow);
	k8s_rest_client_free(fresh);
	rmdir(dir);
	k8s_config_free(c);
}

/* ---- TLS ---- */

/* A throwaway self-signed CA the server's certificate does not chain to. */
static char *wrong_ca_pem(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out = NULL;
	long len;
	if (!k || !x || !b)
		goto done;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"k8s-lua-wrong-ca", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	if (ext) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (!X509_sign(x, k, EVP_sha256()) || !PEM_write_bio_X509(b, x))
		goto done;
	len = BIO_get_mem_data(b, &p);
	out = malloc((size_t)len + 1);
	if (out) {
		memcpy(out, p, (size_t)len);
		out[len] = 0;
	}
done:
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	return out;
}

static void check_verify_failed(k8s_config *c)
{
	k8s_rest_client *rc = client_gv(c, "", "v1");
	k8s_result *res = NULL;
	CHECK(rc != NULL);
	CHECK_INT(get_abs(rc, "/version", &res), K8S_ECERTIFICATE);
	CHECK(res != NULL);
	if (res) {
		CHECK_INT(k8s_result_status_code(res), 0);
		CHECK_STR(k8s_result_status(res)->reason, "TLSVerifyFailed");
		CHECK_INT(k8s_result_error_code(res), K8S_ECERTIFICATE);
	}
	CHECK_INT(k8s_error_last()->code, K8S_ECERTIFICATE);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
}

TEST(tls_wrong_ca_is_refused)
{
	char *pem = wrong_ca_pem(), *good;
	char dir[] = "/tmp/k8s-rest-live2.XXXXXX", path[256];
	k8s_config *c = identity("admin-token");
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	size_t glen = 0;
	CHECK(pem != NULL && c != NULL);
	if (!pem || !c || !mkdtemp(dir)) {
		free(pem);
		k8s_config_free(c);
		return;
	}
	snprintf(path, sizeof(path), "%s/wrong-ca.crt", dir);
	write_file(path, pem);
	/* as CAData */
	k8s_config_set_string(c, "TLSClientConfig.CAFile", NULL);
	k8s_config_set_bytes(c, "TLSClientConfig.CAData", pem, strlen(pem));
	check_verify_failed(c);
	/* as CAFile */
	k8s_config_set_bytes(c, "TLSClientConfig.CAData", NULL, 0);
	k8s_config_set_string(c, "TLSClientConfig.CAFile", path);
	check_verify_failed(c);
	/* the right CA as data beats a wrong CAFile */
	good = read_file(env("K8S_LUA_CA"), &glen);
	CHECK(good != NULL);
	k8s_config_set_bytes(c, "TLSClientConfig.CAData", good, glen);
	rc = client_gv(c, "", "v1");
	CHECK_INT(get_abs(rc, "/version", &res), 0);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	/* Insecure skips verification altogether */
	k8s_config_set_bytes(c, "TLSClientConfig.CAData", NULL, 0);
	k8s_config_set_string(c, "TLSClientConfig.CAFile", NULL);
	k8s_config_set_bool(c, "TLSClientConfig.Insecure", 1);
	rc = client_gv(c, "", "v1");
	CHECK_INT(get_abs(rc, "/version", &res), 0);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	free(good);
	free(pem);
	unlink(path);
	rmdir(dir);
	k8s_config_free(c);
}

TEST(tls_server_name)
{
	k8s_config *c = identity("admin-token");
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	CHECK(c != NULL);
	if (!c)
		return;
	/* the serving certificate has DNS:localhost */
	k8s_config_set_string(c, "TLSClientConfig.ServerName", "localhost");
	rc = client_gv(c, "", "v1");
	CHECK_INT(get_abs(rc, "/version", &res), 0);
	k8s_result_free(res);
	CHECK_INT(list_namespaces(rc, &res), 0);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	k8s_config_set_string(c, "TLSClientConfig.ServerName", "wrong.example");
	check_verify_failed(c);
	k8s_config_free(c);
}

/* ---- impersonation ---- */

TEST(impersonation_of_restricted_is_forbidden)
{
	k8s_config *c = identity("admin-token");
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	REQUIRE(c);
	k8s_config_set_string(c, "Impersonate.UserName", "restricted");
	rc = client_gv(c, "", "v1");
	CHECK_INT(list_namespaces(rc, &res), K8S_ESTATUS);
	CHECK(status_is(res, 403, "Forbidden"));
	if (res)
		CHECK_HAS(k8s_result_status(res)->message, "User \"restricted\" cannot list resource \"namespaces\"");
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	k8s_config_free(c);
}

TEST(impersonation_selfsubjectreview)
{
	k8s_config *c = identity("admin-token");
	json_t *ui, *extra;
	REQUIRE(c);
	k8s_config_set_string(c, "Impersonate.UserName", "restricted");
	k8s_config_set_string(c, "Impersonate.UID", "uid-imp-1");
	k8s_config_add_string(c, "Impersonate.Groups", "team-a");
	k8s_config_add_string(c, "Impersonate.Groups", "team-b");
	k8s_config_add_pair(c, "Impersonate.Extra", "acme.com/project", "blue");
	k8s_config_add_pair(c, "Impersonate.Extra", "scopes", "read");
	k8s_config_add_pair(c, "Impersonate.Extra", "scopes", "write");
	ui = whoami(c);
	CHECK(ui != NULL);
	CHECK_STR(json_string_value(json_object_get(ui, "username")), "restricted");
	CHECK_STR(json_string_value(json_object_get(ui, "uid")), "uid-imp-1");
	CHECK(has_string(json_object_get(ui, "groups"), "team-a"));
	CHECK(has_string(json_object_get(ui, "groups"), "team-b"));
	CHECK(has_string(json_object_get(ui, "groups"), "system:authenticated"));
	CHECK(!has_string(json_object_get(ui, "groups"), "system:masters"));
	extra = json_object_get(ui, "extra");
	CHECK_INT(json_array_size(json_object_get(extra, "acme.com/project")), 1);
	CHECK(has_string(json_object_get(extra, "acme.com/project"), "blue"));
	CHECK_INT(json_array_size(json_object_get(extra, "scopes")), 2);
	CHECK(has_string(json_object_get(extra, "scopes"), "read"));
	CHECK(has_string(json_object_get(extra, "scopes"), "write"));
	json_decref(ui);
	/* the restricted user itself, for comparison */
	k8s_config_free(c);
	c = identity("restricted");
	ui = whoami(c);
	CHECK_STR(json_string_value(json_object_get(ui, "username")), "restricted");
	CHECK_STR(json_string_value(json_object_get(ui, "uid")), "uid-restricted");
	CHECK(!has_string(json_object_get(ui, "groups"), "team-a"));
	json_decref(ui);
	k8s_config_free(c);
}

/* ---- gzip ---- */

/* LIST the gzip test's ConfigMaps with K8S_LUA_V=8 (which logs the
 * response's Content-Encoding); returns the items (a new reference) and the
 * log in *log. */
static json_t *list_big(int disable_compression, char **log, size_t *body_len)
{
	k8s_config *c = identity("admin-token");
	k8s_rest_client *rc;
	k8s_result *res = NULL;
	capture cap;
	json_t *j, *items = NULL;
	*log = NULL;
	*body_len = 0;
	if (!c)
		return NULL;
	k8s_config_set_bool(c, "DisableCompression", disable_compression);
	k8s_global_set_number(K8S_OPT_VERBOSITY, 8);
	rc = client_gv(c, "", "v1");
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	if (capture_begin(&cap) < 0) {
		k8s_rest_client_free(rc);
		k8s_config_free(c);
		return NULL;
	}
	call(rc, "GET", NS, "configmaps", NULL, NULL, &res, "labelSelector", "k8s-lua-test=big", NULL);
	*log = capture_end(&cap);
	j = body_json(res);
	if (j && (items = json_object_get(j, "items")))
		json_incref(items);
	if (res)
		k8s_result_body(res, body_len);
	json_decref(j);
	k8s_result_free(res);
	k8s_rest_client_free(rc);
	k8s_config_free(c);
	return items;
}

TEST(gzip_large_list)
{
	k8s_rest_client *rc = core("admin-token");
	char *value = malloc(4097), *log = NULL;
	size_t len1 = 0, len2 = 0;
	json_t *items1, *items2;
	int i, made = 0;
	REQUIRE(setup_ok && rc);
	memset(value, 'x', 4096);
	value[4096] = 0;
	for (i = 0; i < 60; i++) {
		k8s_result *res = NULL;
		char name[32];
		json_t *o;
		char *body;
		snprintf(name, sizeof(name), "big-%02d", i);
		o = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
			      "name", name, "labels", "k8s-lua-test", "big", "data", "blob", value);
		body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		made += call(rc, "POST", NS, "configmaps", NULL, body, &res, NULL) == 0;
		free(body);
		k8s_result_free(res);
	}
	CHECK_INT(made, 60);
	/* > 128 KiB: the server compresses, the transport inflates */
	items1 = list_big(0, &log, &len1);
	CHECK_INT(json_array_size(items1), 60);
	CHECK_HAS(log, "Content-Encoding: gzip");
	free(log);
	CHECK(len1 > 60 * 4096);
	/* DisableCompression: no gzip asked for, none sent, the same items */
	items2 = list_big(1, &log, &len2);
	CHECK_INT(json_array_size(items2), 60);
	CHECK_HAS(log, " 200 ");
	CHECK_HASNT(log, "Content-Encoding");
	CHECK_HASNT(log, "gzip");
	free(log);
	CHECK(items1 && items2 && json_equal(items1, items2));
	json_decref(items1);
	json_decref(items2);
	free(value);
	k8s_rest_client_free(rc);
}

TEST(teardown_namespace)
{
	k8s_rest_client *rc = core("admin-token");
	k8s_result *res = NULL;
	CHECK(setup_ok);
	if (setup_ok) {
		CHECK_INT(call(rc, "DELETE", NULL, "namespaces", NS, NULL, &res, NULL), 0);
		CHECK_INT(res ? k8s_result_status_code(res) : 0, 200);
		k8s_result_free(res);
	}
	k8s_rest_client_free(rc);
}

int main(void)
{
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	k8s_global_set_number(K8S_OPT_TOKEN_FILE_PERIOD, -1);
	RUN(setup_namespace);
	RUN(host_without_scheme_defaults_to_https);
	RUN(host_trailing_slash_and_prefix);
	RUN(configmap_crud);
	RUN(create_twice_already_exists);
	RUN(update_with_stale_resource_version_conflicts);
	RUN(invalid_object_422);
	RUN(server_warning_headers);
	RUN(timeout_parameter_accepted);
	RUN(stream_a_list);
	RUN(watch_create_update_delete_in_order);
	RUN(watch_from_expired_resource_version);
	RUN(auth_token_and_restricted_403);
	RUN(auth_wrong_token_401);
	RUN(auth_client_certificate_files_and_data);
	RUN(auth_token_file_rewritten_mid_run);
	RUN(tls_wrong_ca_is_refused);
	RUN(tls_server_name);
	RUN(impersonation_of_restricted_is_forbidden);
	RUN(impersonation_selfsubjectreview);
	RUN(gzip_large_list);
	RUN(teardown_namespace);
	return TEST_SUMMARY();
}
