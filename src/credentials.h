/* A request's credentials (credentials.c), for the request engine (call.c):
 * the exec plugin's and the token callback's cached credentials, and the
 * Authorization and Impersonate-* headers. Internal; not installed. */
#ifndef K8S_CREDENTIALS_H
#define K8S_CREDENTIALS_H

#include "rest_internal.h"
#include "exec.h"

/* Adds one header (the shape of k8s_request_hook's add_header): < 0 on failure. */
typedef int (*k8s__header_add)(void *ctx, const char *name, const char *value);

/* The exec plugin's credential: the cached one while valid, or the one this
 * call's own run returned (used even if already expired, as client-go).
 * The plugin's cache may be shared with clients on other threads: call with
 * k8s__payload_lock(cfg->exec_payload) held, and copy what you need. */
const k8s_credential *k8s__exec_cred(k8s_rest_client *c, int ran);

/* The callback's token cache is shared by the clients made from one config,
 * possibly on other threads: it is read and written under its lock. */
int k8s__token_valid(k8s_rest_client *c);

/* The Authorization header, through add: "Bearer <token>" with the token
 * of the exec plugin (exec_ran: this call ran it), the callback (cb_token:
 * its answer to this call's TOKEN step, or NULL for the shared cache's),
 * BearerTokenFile or BearerToken, in that order; else "Basic" from
 * Username/Password; else none. < 0 on a credential failure. */
int k8s__auth_header(k8s_rest_client *c, int exec_ran, const char *cb_token, k8s__header_add add, void *ctx);

/* Impersonate-User, -Uid, -Group and -Extra-<key> (the key percent-escaped),
 * through add, when cfg impersonates a user. */
int k8s__impersonate_headers(const k8s_config *cfg, k8s__header_add add, void *ctx);

#endif
