/**
 * @file k8s/clientcmd.h
 * @brief clientcmd: kubeconfig loading, merging and in-cluster config.
 *
 * Modelled on client-go's tools/clientcmd and rest.InClusterConfig.
 *
 * Loading (ClientConfigLoadingRules): an explicit path must exist and is used
 * alone; otherwise the files of $KUBECONFIG (':'-separated, duplicates
 * dropped, missing files skipped), otherwise ~/.kube/config ($HOME). YAML and
 * JSON files are accepted. The first file that defines a named cluster, user
 * or context wins that whole entry, and the first file that sets
 * current-context wins it. Relative certificate-authority, client-certificate,
 * client-key, tokenFile and exec command (when it contains a '/') resolve
 * against the directory of the file that defined the entry. Anchors and
 * aliases (and `<<` merge keys) are followed.
 *
 * The chosen context, cluster and user are validated with clientcmd's rules;
 * every message names the file, the entry and the field, and never holds a
 * token, password, key or base64 data. Credentials and the CA are applied
 * only when the server URL is https (a bare host:port means http and then no
 * auth is sent); impersonation, proxy-url and disable-compression are always
 * applied. The resulting k8s_config carries `Namespace` (the context's, or
 * "default").
 */
#ifndef K8S_CLIENTCMD_H
#define K8S_CLIENTCMD_H

#include "common.h"
#include "config.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Command-line style overrides (clientcmd's ConfigOverrides, plus the
 * ExplicitPath of ClientConfigLoadingRules). NULL or "" means "not set".
 */
typedef struct {
	const char *context;    /**< use this context instead of current-context (--context) */
	const char *cluster;    /**< use this cluster instead of the context's (--cluster) */
	const char *user;       /**< use this user instead of the context's (--user) */
	const char *namespace_; /**< use this namespace (--namespace) */
	const char *server;     /**< use this server URL (--server); clears tls-server-name */
	const char *kubeconfig; /**< explicit kubeconfig path (--kubeconfig): must exist, used alone */
} k8s_config_overrides;

/** Static initialiser for k8s_config_overrides (nothing overridden). */
#define K8S_CONFIG_OVERRIDES_INIT {0}

/**
 * What k8s_clientcmd_load_ex() used. Caller-owned; release the members with
 * k8s_clientcmd_info_free(). Strings are NULL when not applicable.
 */
typedef struct {
	char *context;   /**< the context used */
	char *cluster;   /**< the cluster used */
	char *user;      /**< the user used */
	char *user_file; /**< the file that defined that user (where to persist auth-provider config) */
	char *namespace_;/**< the namespace chosen (also in the config's Namespace) */
	char **files;    /**< the kubeconfig files read, in precedence order, as named */
	size_t nfiles;   /**< number of entries in files */
	int in_cluster;  /**< 1 when the in-cluster config was used */
} k8s_clientcmd_info;

/** Static initialiser for k8s_clientcmd_info. */
#define K8S_CLIENTCMD_INFO_INIT {0}

/** Free the members of an info (not the struct itself) and zero it. NULL is ignored. */
K8S_EXTERN(void) k8s_clientcmd_info_free(k8s_clientcmd_info *info);

/**
 * Load a config with clientcmd's deferred loading rules
 * (NewNonInteractiveDeferredLoadingClientConfig(...).ClientConfig()).
 *
 * When the merged kubeconfig is empty (no context, no cluster, no server)
 * and the in-cluster environment is present (KUBERNETES_SERVICE_HOST,
 * KUBERNETES_SERVICE_PORT and the service-account token file), the in-cluster
 * config is returned instead (with the namespace override applied).
 *
 * @param[out] out the new config, owned by the caller
 * @param ov overrides, or NULL
 * @return 0; K8S_EINVALID for an invalid or empty configuration ("invalid
 *         configuration: no configuration has been provided"); K8S_ENOTFOUND
 *         for a missing explicit file, context, cluster, user or referenced
 *         file; K8S_ERROR for an unreadable file; K8S_ENOMEM
 */
K8S_EXTERN(int) k8s_clientcmd_load(k8s_config **out, const k8s_config_overrides *ov);

/**
 * k8s_clientcmd_load(), also reporting what was used.
 * @param[out] out the new config
 * @param[out] info filled on success (may be NULL); release with k8s_clientcmd_info_free()
 * @param ov overrides, or NULL
 * @return as k8s_clientcmd_load()
 */
K8S_EXTERN(int) k8s_clientcmd_load_ex(k8s_config **out, k8s_clientcmd_info *info,
				      const k8s_config_overrides *ov);

/**
 * client-go's clientcmd.BuildConfigFromFlags. When both arguments are NULL or
 * empty the in-cluster config is tried first and returned if it succeeds.
 * Otherwise kubeconfig_path is loaded alone when given, else the default
 * loading rules apply ($KUBECONFIG list, then ~/.kube/config) — unlike
 * client-go, whose BuildConfigFromFlags reads neither; this follows the
 * project's API contract. master_url, when given, overrides the server. With
 * nothing to load this fails with K8S_EINVALID "invalid configuration: no
 * configuration has been provided".
 *
 * @param[out] out the new config
 * @param master_url API server URL, or NULL
 * @param kubeconfig_path kubeconfig file, or NULL
 * @return as k8s_clientcmd_load()
 */
K8S_EXTERN(int) k8s_clientcmd_build_config_from_flags(k8s_config **out, const char *master_url,
						      const char *kubeconfig_path);

/**
 * As k8s_clientcmd_build_config_from_flags(), also telling what was used
 * (the user's file, for persisting auth-provider config; in_cluster).
 * @param[out] info as k8s_clientcmd_load_ex(); may be NULL
 */
K8S_EXTERN(int) k8s_clientcmd_build_config_from_flags_ex(k8s_config **out, k8s_clientcmd_info *info,
							 const char *master_url, const char *kubeconfig_path);

/**
 * rest.InClusterConfig: Host https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
 * (an IPv6 host in brackets); <dir>/token as BearerTokenFile and, read once
 * now, as BearerToken; <dir>/ca.crt as TLSClientConfig.CAFile when it exists
 * and holds a PEM certificate; Namespace from $POD_NAMESPACE, else
 * <dir>/namespace, else "default".
 *
 * <dir> is /var/run/secrets/kubernetes.io/serviceaccount, or the value of the
 * environment variable K8S_LUA_SERVICEACCOUNT_DIR when set (for tests and
 * unusual mounts).
 *
 * @param[out] out the new config
 * @return 0; K8S_ENOTFOUND "unable to load in-cluster configuration,
 *         KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"
 *         (client-go's ErrNotInCluster) or when the token file is missing;
 *         K8S_ERROR when it cannot be read; K8S_ENOMEM
 */
K8S_EXTERN(int) k8s_clientcmd_in_cluster_config(k8s_config **out);

/**
 * Replace the `auth-provider.config` map of `user` in kubeconfig `file` with
 * the given pairs (clientcmd's PersisterForUser). The rest of the file's
 * keys and values are kept; the file is re-emitted through libyaml, so
 * comments are lost, formatting is normalised and anchors are renamed. The
 * write is atomic (temporary file in the same directory, fsync, rename) and
 * keeps the file's mode; a symlink is followed and its target rewritten.
 * Like client-go, `<file>.lock` is created exclusively for the duration.
 *
 * @param file the kubeconfig file that defined the user (k8s_clientcmd_info.user_file)
 * @param user the user entry's name
 * @param kv npairs key/value pairs: kv[2*i] is a key, kv[2*i+1] its value
 *           (a repeated key keeps its last value)
 * @param npairs number of pairs; 0 writes an empty map
 * @return 0; K8S_ENOTFOUND when the file, the user or its auth-provider does
 *         not exist (client-go silently ignores that case); K8S_EINVALID for
 *         bad arguments or a file that is not a kubeconfig; K8S_ERROR for an
 *         I/O failure or when the lock file exists
 */
K8S_EXTERN(int) k8s_clientcmd_persist_auth_provider(const char *file, const char *user,
						    const char *const *kv, size_t npairs);

#ifdef __cplusplus
}
#endif
#endif
