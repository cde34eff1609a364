/* The layout of k8s_config, shared by the core's modules. */
#ifndef K8S_CONFIG_INTERNAL_H
#define K8S_CONFIG_INTERNAL_H

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

/* A shared, reference-counted payload with its destructor. */
typedef struct k8s_payload {
	int refs;
	void *ptr;
	void (*free_fn)(void *);
	/* for credential callbacks: the cached token, shared by every client
	 * made from copies of one config (a clientset's group clients) */
	char *token;
	double expiry; /* Unix seconds, 0 = none */
} k8s_payload;

k8s_payload *k8s__payload_new(void *ptr, void (*free_fn)(void *));
k8s_payload *k8s__payload_ref(k8s_payload *p);
void k8s__payload_unref(k8s_payload *p);

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
};

int k8s__field_index(const char *field);
int k8s__strlist_add(k8s_strlist *l, const char *s);
void k8s__strlist_free(k8s_strlist *l);
void k8s__strlist_wipe(k8s_strlist *l); /* items may be secrets: wiped first */

#endif
