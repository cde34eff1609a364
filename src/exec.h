/* Exec credential plugins (client-go's plugin/pkg/client/auth/exec). */
#ifndef K8S_EXEC_H
#define K8S_EXEC_H

#include "config_internal.h"
#include "spawn.h"

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
 * valid until the next call. Blocks while the plugin runs: cached, or
 * start + k8s__spawn_poll until done + finish. */
int k8s__exec_provider_get(k8s_exec_provider *p, int invalidate, const k8s_credential **out);

/* The same in steps, for an event loop that must not block (nginx):
 *
 *   if (!k8s__exec_provider_cached(p, invalidate, &cred)) {
 *       k8s__exec_provider_start(p, &sp);
 *       while ((rc = k8s__spawn_poll(sp, 0)) == 0)
 *           yield (ngx.sleep) ;
 *       rc = k8s__exec_provider_finish(p, sp, rc, &cred);
 *       k8s__spawn_free(sp);
 *   }
 *
 * 1 and *out set when a cached credential is valid (not expired;
 * invalidate=1 means the caller had a 401 and wants a fresh run), 0 when the
 * plugin must run. */
int k8s__exec_provider_cached(k8s_exec_provider *p, int invalidate, const k8s_credential **out);
/* Start the plugin without blocking (environment and KUBERNETES_EXEC_INFO
 * as k8s__exec_provider_get). 0 and *out, or < 0 (ExecPluginError). */
/* The credential the plugin returned last, even if it has expired since (a
 * request uses what its own run returned, as client-go's getCreds), or NULL. */
const k8s_credential *k8s__exec_provider_last(k8s_exec_provider *p);
int k8s__exec_provider_start(k8s_exec_provider *p, k8s_spawn **out);
/* After k8s__spawn_poll returned 1 (or < 0: pass its rc): check the status,
 * parse the ExecCredential, cache it. 0 and *out (borrowed, as from _get),
 * or < 0: ExecPluginNotFound (with the install hint), ExecPluginError
 * ("... failed: exit status N", "signal N", "exit status unknown (lost)",
 * "timed out after Ns", "output exceeds 1048576 bytes", bad output). sp
 * stays the caller's to free; it may be NULL when poll_rc < 0
 * (k8s__exec_provider_start's error passes through unchanged). */
int k8s__exec_provider_finish(k8s_exec_provider *p, k8s_spawn *sp, int poll_rc, const k8s_credential **out);
/* The configured timeout in seconds (K8S_LUA_EXEC_TIMEOUT, default 60). */
double k8s__exec_provider_timeout(const k8s_exec_provider *p);

/* 1 and *out set when a cached credential is valid (invalidate=1: never), 0 when the plugin must run. */
int k8s__exec_provider_cached(k8s_exec_provider *p, int invalidate, const k8s_credential **out);

/* Give cfg a shared exec provider when it names a plugin and has no static
 * credentials or callback. */
int k8s__exec_attach(k8s_config *cfg);

#endif
