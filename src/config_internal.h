/* The layout of k8s_config, shared by the core's modules. */
#ifndef K8S_CONFIG_INTERNAL_H
#define K8S_CONFIG_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include "internal.h"

typedef struct {
	char **items;
	size_t n;
} k8s_strlist;

typedef struct {
	char *data;
	size_t len;
	int set;
} k8s_bytes;

typedef struct {
	int set;
	int value;
} k8s_opt_bool;

typedef struct {
	int set;
	double value;
} k8s_opt_num;

/* A shared, reference-counted payload with its destructor. Copies of a
 * config share it, and clients made from one config may run on different
 * threads (README "Threading"): the count is atomic, and the last release,
 * on whichever thread, frees it. */
typedef struct k8s_payload {
	atomic_int refs;
	void *ptr;
	void (*free_fn)(void *);
	/* A cache that threads read and refresh: a credential callback's token
	 * (below) or an exec plugin's credential (ptr). `mu` guards it; it is
	 * held briefly, except across an exec plugin's run (whose cache is
	 * written as the run ends), never across a credential callback. */
	pthread_mutex_t mu;
	/* Serialises running the credential callback (k8s__payload_token_fetch),
	 * so that threads waiting for a refresh reuse its result instead of each
	 * running their own. Taken before `mu`, never while holding it.
	 * Recursive: the callback may make requests with the same config. */
	pthread_mutex_t refresh_mu;
	/* for credential callbacks: the cached token, shared by every client
	 * made from copies of one config (a clientset's group clients, clients
	 * made from one config on different threads). Guarded by mu: read and
	 * write it only through the k8s__payload_token_* functions. */
	char *token;
	double expiry; /* Unix seconds, 0 = none */
} k8s_payload;

k8s_payload *k8s__payload_new(void *ptr, void (*free_fn)(void *));
k8s_payload *k8s__payload_ref(k8s_payload *p);
void k8s__payload_unref(k8s_payload *p);

/* The cache lock (NULL-safe): for an exec plugin's credential, whose
 * borrowed pointers (k8s__exec_provider_cached/_last) are valid only while
 * it is held; copy what is needed, then unlock. */
void k8s__payload_lock(k8s_payload *p);
void k8s__payload_unlock(k8s_payload *p);

/* The token cache of a credential callback's payload, locked:
 * _valid: 1 when a token is cached and has not expired at `now`
 *   (Unix seconds);
 * _get: a copy of the cached token in *out (k8s__sfree it), or NULL when
 *   none is cached; K8S_ENOMEM;
 * _set: cache token (NULL = none) and its expiry; K8S_ENOMEM leaves none;
 * _drop: forget the cached token (after a 401). */
int k8s__payload_token_valid(k8s_payload *p, double now);
int k8s__payload_token_get(k8s_payload *p, char **out);
int k8s__payload_token_set(k8s_payload *p, const char *token, double expiry);
void k8s__payload_token_drop(k8s_payload *p);
/* Ask the credential callback for a token, serialised with every other
 * thread refreshing the same cache: when invalidate is 0 and another thread
 * cached a valid token meanwhile, that one is returned without calling cb.
 * A token obtained is cached. Returns cb's result; *token is malloc'd. */
int k8s__payload_token_fetch(k8s_payload *p, int (*cb)(void *, int, char **, double *), int invalidate,
			     char **token, double *expiry);

enum {
	F_HOST, F_APIPATH, F_GROUPVERSION, F_ACCEPT, F_CONTENTTYPE,
	F_USERNAME, F_PASSWORD, F_TOKEN, F_TOKENFILE,
	F_IMP_USER, F_IMP_UID, F_IMP_GROUPS, F_IMP_EXTRA,
	F_TLS_INSECURE, F_TLS_SERVERNAME, F_TLS_CAFILE, F_TLS_CERTFILE, F_TLS_KEYFILE,
	F_TLS_CADATA, F_TLS_CERTDATA, F_TLS_KEYDATA,
	F_USERAGENT, F_DISABLECOMPRESSION, F_QPS, F_BURST, F_TIMEOUT, F_PROXY,
	F_NAMESPACE, F_AP_NAME, F_AP_CONFIG,
	F_EXEC_COMMAND, F_EXEC_APIVERSION, F_EXEC_INTERACTIVE, F_EXEC_HINT,
	F_EXEC_ARGS, F_EXEC_ENV, F_EXEC_CLUSTERINFO,
	F_COUNT
};

typedef union {
	char *s;
	k8s_bytes b;
	k8s_opt_bool flag;
	k8s_opt_num num;
	k8s_strlist list; /* pairs: key, value, key, value... */
} k8s_field_value;

struct k8s_config {
	k8s_field_value f[F_COUNT];
	k8s_rate_limiter *rate_limiter;
	k8s_token_cb token_cb;
	k8s_payload *token_payload;
	k8s_payload *exec_payload; /* k8s_exec_provider, shared by copies */
	k8s_request_hook req_hook;
	k8s_response_hook resp_hook;
	k8s_payload *hook_payload;
	/* a void setter ran out of memory (CFG_LOST_*): k8s_config_validate,
	 * so every client, refuses the config rather than run without what it
	 * lost (a credential callback, a request hook) */
	int lost;
};

enum { CFG_LOST_TOKEN_CB = 1, CFG_LOST_HOOKS = 2 };

int k8s__field_index(const char *field);
int k8s__strlist_add(k8s_strlist *l, const char *s);
void k8s__strlist_free(k8s_strlist *l);
void k8s__strlist_wipe(k8s_strlist *l); /* items may be secrets: wiped first */

#endif
