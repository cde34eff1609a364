/* Helpers of the C tests that build configs and clients: the control
 * plane's identities (env exported by tools/run-tests.sh) and per
 * group-version clients. */
#ifndef K8S_TEST_K8S_H
#define K8S_TEST_K8S_H
#include "k8s.h"
#include "test.h"

/* An environment variable of the control plane, or NULL with a message. */
static inline const char *env(const char *k)
{
	const char *v = getenv(k);
	if (!v || !*v) {
		fprintf(stderr, "  missing environment variable %s (run through tools/run-tests.sh)\n", k);
		return NULL;
	}
	return v;
}

/* A config for one of the control plane's three identities (no client-side
 * throttling): admin-cert, admin-token or restricted. */
static inline k8s_config *identity(const char *who)
{
	k8s_config *cfg = NULL;
	const char *server = env("K8S_LUA_SERVER"), *ca = env("K8S_LUA_CA");
	if (!server || !ca || k8s_config_new(&cfg) < 0)
		return NULL;
	k8s_config_set_string(cfg, "Host", server);
	k8s_config_set_string(cfg, "TLSClientConfig.CAFile", ca);
	k8s_config_set_number(cfg, "QPS", -1);
	if (!strcmp(who, "admin-cert")) {
		k8s_config_set_string(cfg, "TLSClientConfig.CertFile", env("K8S_LUA_ADMIN_CERT"));
		k8s_config_set_string(cfg, "TLSClientConfig.KeyFile", env("K8S_LUA_ADMIN_KEY"));
	} else if (!strcmp(who, "admin-token")) {
		k8s_config_set_string(cfg, "BearerToken", env("K8S_LUA_ADMIN_TOKEN"));
	} else if (!strcmp(who, "restricted")) {
		k8s_config_set_string(cfg, "BearerToken", env("K8S_LUA_RESTRICTED_TOKEN"));
	}
	return cfg;
}

/* A client for group/version built from base (not consumed), or NULL. */
static inline k8s_rest_client *client_gv(const k8s_config *base, const char *group, const char *version)
{
	k8s_config *gv = NULL;
	k8s_rest_client *rc = NULL;
	if (!base)
		return NULL;
	if (k8s_rest_config_for_group_version(&gv, base, group, version) < 0 || k8s_rest_client_for(&rc, gv) < 0) {
		fprintf(stderr, "  client: %s\n", k8s_error_last()->message);
		rc = NULL;
	}
	k8s_config_free(gv);
	return rc;
}

#endif
