/* Live tests against the real control plane started by tools/control-plane.sh.
 * They need its env (K8S_LUA_SERVER, K8S_LUA_CA, tokens, certs), which
 * tools/run-tests.sh exports; without it every test fails (never skips). */
#include <jansson.h>
#include "k8s.h"
#include "test.h"
#include "k8s_test.h"

/* GET path through an unversioned client; returns the result or NULL. */
static int get_abs(k8s_config *cfg, const char *path, k8s_result **res)
{
	k8s_rest_client *rc = NULL;
	k8s_request *req = NULL;
	int code;
	*res = NULL;
	if (k8s_rest_client_unversioned(&rc, cfg) < 0) {
		fprintf(stderr, "  client: %s\n", k8s_error_last()->message);
		return -100;
	}
	k8s_rest_client_verb(&req, rc, "GET");
	k8s_request_abs_path(req, path);
	code = k8s_request_do(res, req);
	k8s_request_free(req);
	k8s_rest_client_free(rc);
	return code;
}

static void check_version(const char *who)
{
	k8s_config *cfg = identity(who);
	k8s_result *res = NULL;
	json_t *root;
	const char *want = env("K8S_LUA_K8S_VERSION");
	size_t len;
	int rc;
	CHECK(cfg != NULL);
	if (!cfg)
		return;
	rc = get_abs(cfg, "/version", &res);
	CHECK_INT(rc, 0);
	CHECK(res != NULL);
	if (res) {
		const char *body = k8s_result_body(res, &len);
		CHECK_INT(k8s_result_status_code(res), 200);
		root = json_loadb(body, len, 0, NULL);
		CHECK(root != NULL);
		if (root) {
			CHECK_STR(json_string_value(json_object_get(root, "gitVersion")), want);
			json_decref(root);
		}
	}
	k8s_result_free(res);
	k8s_config_free(cfg);
}

TEST(version_admin_cert) { check_version("admin-cert"); }
TEST(version_admin_token) { check_version("admin-token"); }
TEST(version_restricted) { check_version("restricted"); }

TEST(restricted_forbidden_on_namespaces)
{
	k8s_config *cfg = identity("restricted"), *gv = NULL;
	k8s_rest_client *rc = NULL;
	k8s_request *req = NULL;
	k8s_result *res = NULL;
	const k8s_status *st;
	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK_INT(k8s_rest_config_for_group_version(&gv, cfg, "", "v1"), 0);
	CHECK_INT(k8s_rest_client_for(&rc, gv), 0);
	CHECK_INT(k8s_rest_client_verb(&req, rc, "GET"), 0);
	CHECK_INT(k8s_request_resource(req, "namespaces"), 0);
	CHECK_INT(k8s_request_do(&res, req), K8S_ESTATUS);
	CHECK(res != NULL);
	if (res) {
		CHECK_INT(k8s_result_status_code(res), 403);
		st = k8s_result_status(res);
		CHECK(st != NULL);
		if (st) {
			CHECK_INT(st->code, 403);
			CHECK_STR(st->reason, "Forbidden");
			CHECK(strstr(st->message, "namespaces") != NULL);
			CHECK(st->status_json != NULL);
		}
	}
	k8s_result_free(res);
	k8s_request_free(req);
	k8s_rest_client_free(rc);
	k8s_config_free(gv);
	k8s_config_free(cfg);
}

TEST(admin_lists_namespaces)
{
	k8s_config *cfg = identity("admin-token"), *gv = NULL;
	k8s_rest_client *rc = NULL;
	k8s_request *req = NULL;
	k8s_result *res = NULL;
	CHECK(cfg != NULL);
	if (!cfg)
		return;
	k8s_rest_config_for_group_version(&gv, cfg, "", "v1");
	CHECK_INT(k8s_rest_client_for(&rc, gv), 0);
	k8s_rest_client_verb(&req, rc, "GET");
	k8s_request_resource(req, "namespaces");
	CHECK_INT(k8s_request_do(&res, req), 0);
	if (res) {
		size_t len;
		const char *body = k8s_result_body(res, &len);
		CHECK_INT(k8s_result_status_code(res), 200);
		CHECK(strstr(body, "\"kube-system\"") != NULL);
		CHECK(strstr(body, "\"NamespaceList\"") != NULL);
	}
	k8s_result_free(res);
	k8s_request_free(req);
	k8s_rest_client_free(rc);
	k8s_config_free(gv);
	k8s_config_free(cfg);
}

TEST(unknown_ca_fails_verification)
{
	k8s_config *cfg = NULL;
	k8s_result *res = NULL;
	const char *server = env("K8S_LUA_SERVER");
	int rc;
	CHECK(server != NULL);
	if (!server)
		return;
	k8s_config_new(&cfg);
	k8s_config_set_string(cfg, "Host", server);
	/* the system CA bundle does not know the throwaway CA */
	rc = get_abs(cfg, "/version", &res);
	CHECK_INT(rc, K8S_ECERTIFICATE);
	CHECK(res != NULL);
	if (res) {
		CHECK_INT(k8s_result_status_code(res), 0);
		CHECK_STR(k8s_result_status(res)->reason, "TLSVerifyFailed");
	}
	k8s_result_free(res);
	k8s_config_free(cfg);
}

/* libcurl's level-9 trace over HTTP/2 echoes request headers: the token
 * must still never appear. */
TEST(debug_trace_masks_token_over_http2)
{
	k8s_config *cfg = identity("admin-token");
	k8s_result *res = NULL;
	capture cap = {-1, NULL};
	char *log;
	const char *tok = env("K8S_LUA_ADMIN_TOKEN");
	CHECK(cfg != NULL && tok != NULL);
	if (!cfg || !tok)
		return;
	k8s_global_set_number(K8S_OPT_VERBOSITY, 9);
	capture_begin(&cap);
	CHECK_INT(get_abs(cfg, "/api/v1/namespaces", &res), 0);
	log = capture_end(&cap);
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	CHECK(strstr(log, "HTTP/2") != NULL);
	CHECK(strstr(log, "<masked>") != NULL);
	CHECK(strstr(log, tok) == NULL);
	free(log);
	k8s_result_free(res);
	k8s_config_free(cfg);
}

int main(void)
{
	RUN(version_admin_cert);
	RUN(version_admin_token);
	RUN(version_restricted);
	RUN(restricted_forbidden_on_namespaces);
	RUN(admin_lists_namespaces);
	RUN(unknown_ca_fails_verification);
	RUN(debug_trace_masks_token_over_http2);
	return TEST_SUMMARY();
}
