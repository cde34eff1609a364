/* rest.InClusterConfig and inClusterClientConfig.Possible: a pod's config
 * from KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT and the service
 * account directory (token, ca.crt, namespace; K8S_OPT_SERVICEACCOUNT_DIR). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "kubeconfig_internal.h"

#define ERR_NOT_IN_CLUSTER \
	"unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"

/* inClusterClientConfig.Possible */
int k8s__kc_in_cluster_possible(void)
{
	k8s_buf b = K8S_BUF_INIT;
	struct stat st;
	char *dir;
	int ok;
	if (empty(getenv("KUBERNETES_SERVICE_HOST")) || empty(getenv("KUBERNETES_SERVICE_PORT")))
		return 0;
	if (!(dir = k8s__opt_sa_dir()))
		return 0;
	ok = k8s_buf_printf(&b, "%s/token", dir) == 0 && stat(b.ptr, &st) == 0 && !S_ISDIR(st.st_mode);
	free(dir);
	k8s_buf_free(&b);
	return ok;
}

int k8s_clientcmd_in_cluster_config(k8s_config **out)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *pod_ns = getenv("POD_NAMESPACE");
	char *dir = NULL; /* K8S_OPT_SERVICEACCOUNT_DIR */
	k8s_buf path = K8S_BUF_INIT, url = K8S_BUF_INIT;
	k8s_config *cfg = NULL;
	char *data = NULL, *token = NULL, *ns = NULL;
	size_t len = 0;
	int rc, e;

	if (!out)
		return k8s__error(K8S_EINVALID, "Invalid", "clientcmd: out must not be NULL");
	*out = NULL;
	if (empty(host) || empty(port))
		return k8s__error(K8S_ENOTFOUND, "NotInCluster", ERR_NOT_IN_CLUSTER);
	if (!(dir = k8s__opt_sa_dir()))
		return k8s__error_oom();
	TRY(k8s_buf_printf(&path, "%s/token", dir));
	if ((e = slurp(path.ptr, &data, &len)) < 0) {
		rc = k8s__error(errno_code(-e), k8s__kc_reason_for(errno_code(-e)),
				"unable to load in-cluster configuration: service account token %s: %s", path.ptr,
				strerror(-e));
		goto fail;
	}
	token = k8s__kc_trim_dup(data, len);
	wipe_free(data, len);
	data = NULL;
	if (!token)
		TRY(k8s__error_oom());
	TRY(k8s_config_new(&cfg));
	TRY(k8s_buf_printf(&url, strchr(host, ':') && host[0] != '[' ? "https://[%s]:%s" : "https://%s:%s", host,
			   port));
	TRY(k8s_config_set_string(cfg, "Host", url.ptr));
	if (*token)
		TRY(k8s_config_set_string(cfg, "BearerToken", token));
	TRY(k8s_config_set_string(cfg, "BearerTokenFile", path.ptr));

	path.len = 0;
	TRY(k8s_buf_printf(&path, "%s/ca.crt", dir));
	if (slurp(path.ptr, &data, &len) == 0 && memmem(data, len, "-----BEGIN CERTIFICATE-----", 27))
		TRY(k8s_config_set_string(cfg, "TLSClientConfig.CAFile", path.ptr));
	free(data);
	data = NULL;

	if (!empty(pod_ns)) {
		TRY(k8s_config_set_string(cfg, "Namespace", pod_ns));
	} else {
		path.len = 0;
		TRY(k8s_buf_printf(&path, "%s/namespace", dir));
		if (slurp(path.ptr, &data, &len) == 0 && !(ns = k8s__kc_trim_dup(data, len)))
			TRY(k8s__error_oom());
		TRY(k8s_config_set_string(cfg, "Namespace", !empty(ns) ? ns : "default"));
	}
	*out = cfg;
	cfg = NULL;
	rc = 0;
fail:
	free(dir);
	free(data);
	free(ns);
	k8s__sfree(token);
	k8s_buf_free(&path);
	k8s_buf_free(&url);
	k8s_config_free(cfg);
	return rc;
}
