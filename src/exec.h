/* Exec credential plugins (client-go's plugin/pkg/client/auth/exec). */
#ifndef K8S_EXEC_H
#define K8S_EXEC_H

#include "config_internal.h"

typedef struct k8s_exec_provider k8s_exec_provider;

/* A credential obtained from a plugin; strings malloc'd (wipe + free with
 * k8s__credential_clear). */
typedef struct {
	char *token;
	char *cert_pem, *key_pem;
	double expiry; /* Unix seconds, 0 = none */
} k8s_credential;

void k8s__credential_clear(k8s_credential *c);

/* Build a provider from cfg's ExecProvider.* fields (and cluster info for
 * provideClusterInfo). Returns 0, or K8S_EINVALID. */
int k8s__exec_provider_new(k8s_exec_provider **out, const k8s_config *cfg);
void k8s__exec_provider_free(void *p);

/* The current credential: cached until it expires; invalidate=1 (after a
 * 401) runs the plugin again once. The returned pointer is borrowed and
 * valid until the next call. */
int k8s__exec_provider_get(k8s_exec_provider *p, int invalidate, const k8s_credential **out);

/* 1 and *out set when a cached credential is valid (invalidate=1: never), 0 when the plugin must run. */
int k8s__exec_provider_cached(k8s_exec_provider *p, int invalidate, const k8s_credential **out);

/* Give cfg a shared exec provider when it names a plugin and has no static
 * credentials or callback. */
int k8s__exec_attach(k8s_config *cfg);

#endif
