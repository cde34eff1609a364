/**
 * @file k8s/config.h
 * @brief rest.Config: how to reach and authenticate to an API server.
 *
 * Fields are named exactly as client-go's rest.Config, with dotted paths
 * for nested structs ("TLSClientConfig.CAFile", "Impersonate.UserName",
 * "ContentConfig.ContentType"). A single generic setter per value type keeps
 * the C API small and lets bindings map their own structures one to one.
 *
 * | field                             | type    | notes                              |
 * |-----------------------------------|---------|------------------------------------|
 * | Host                              | string  | "" = localhost; scheme defaulted   |
 * | APIPath                           | string  | "/api" or "/apis"                  |
 * | ContentConfig.GroupVersion        | string  | "v1", "apps/v1"                    |
 * | ContentConfig.AcceptContentTypes  | string  |                                    |
 * | ContentConfig.ContentType         | string  | default application/json           |
 * | Username, Password                | string  |                                    |
 * | BearerToken, BearerTokenFile      | string  | the file wins; re-read every minute|
 * | Impersonate.UserName, .UID        | string  |                                    |
 * | Impersonate.Groups                | list    | k8s_config_add_string              |
 * | Impersonate.Extra                 | pairs   | k8s_config_add_pair (repeatable)   |
 * | TLSClientConfig.Insecure          | bool    |                                    |
 * | TLSClientConfig.ServerName        | string  | SNI and verified name              |
 * | TLSClientConfig.CAFile/CertFile/KeyFile | string |                              |
 * | TLSClientConfig.CAData/CertData/KeyData | bytes  | PEM; Data beats File         |
 * | UserAgent                         | string  | default "k8s-lua/VER (os/arch) ..." |
 * | DisableCompression                | bool    | gzip is on by default              |
 * | QPS                               | number  | 0 = 5; negative = no limit         |
 * | Burst                             | number  | 0 = 10                             |
 * | Timeout                           | number  | seconds; 0 = none                  |
 * | Proxy                             | string  | URL; unset = environment           |
 * | Namespace                         | string  | not in rest.Config: the namespace a kubeconfig context or pod names |
 * | AuthProvider.Name                 | string  | a registered auth provider         |
 * | AuthProvider.Config               | pairs   |                                    |
 * | ExecProvider.Command, .APIVersion, .InteractiveMode, .InstallHint | string |    |
 * | ExecProvider.Args                 | list    |                                    |
 * | ExecProvider.Env                  | pairs   |                                    |
 * | ExecProvider.ProvideClusterInfo   | bool    |                                    |
 *
 * Setting a field that does not exist, or a value of the wrong type, fails
 * with K8S_EINVALID and a message naming the field. Invalid combinations
 * (CAFile with Insecure, BearerToken with Username, ExecProvider with
 * AuthProvider, ...) are rejected when a client is built from the config.
 */
#ifndef K8S_CONFIG_H
#define K8S_CONFIG_H

#include "common.h"
#include "ratelimit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct k8s_config k8s_config;

/** Field value types reported by k8s_config_field_type(). */
typedef enum {
	K8S_FIELD_NONE = 0, /**< no such field */
	K8S_FIELD_STRING,
	K8S_FIELD_BYTES,
	K8S_FIELD_BOOL,
	K8S_FIELD_NUMBER,
	K8S_FIELD_LIST,
	K8S_FIELD_PAIRS
} k8s_field_type;

/**
 * Create an empty config (every field unset).
 * @param[out] out the new config
 * @return 0 or K8S_ENOMEM
 */
K8S_EXTERN(int) k8s_config_new(k8s_config **out);

/**
 * Deep-copy a config (rest.CopyConfig). The rate limiter is shared by reference.
 * @param[out] out the copy
 * @return 0 or K8S_ENOMEM
 */
K8S_EXTERN(int) k8s_config_copy(k8s_config **out, const k8s_config *src);

/** Free a config. NULL is ignored. */
K8S_EXTERN(void) k8s_config_free(k8s_config *cfg);

/** The type of the named field, or K8S_FIELD_NONE if it does not exist. */
K8S_EXTERN(k8s_field_type) k8s_config_field_type(const char *field);

/**
 * The name of the i-th field (0-based) in documentation order, or NULL past
 * the end; lets bindings enumerate every field.
 */
K8S_EXTERN(const char *) k8s_config_field_name(size_t i);

/**
 * Set a string field; NULL unsets it.
 * @return 0, or K8S_EINVALID naming the field
 */
K8S_EXTERN(int) k8s_config_set_string(k8s_config *cfg, const char *field, const char *value);

/** Set a bytes field (PEM data); NULL unsets it. @return 0 or K8S_EINVALID */
K8S_EXTERN(int) k8s_config_set_bytes(k8s_config *cfg, const char *field, const void *data, size_t len);

/** Set a bool field. @return 0 or K8S_EINVALID */
K8S_EXTERN(int) k8s_config_set_bool(k8s_config *cfg, const char *field, int value);

/** Set a number field. @return 0 or K8S_EINVALID */
K8S_EXTERN(int) k8s_config_set_number(k8s_config *cfg, const char *field, double value);

/** Append to a list field. @return 0 or K8S_EINVALID */
K8S_EXTERN(int) k8s_config_add_string(k8s_config *cfg, const char *field, const char *value);

/** Append a key/value to a pairs field (keys may repeat). @return 0 or K8S_EINVALID */
K8S_EXTERN(int) k8s_config_add_pair(k8s_config *cfg, const char *field, const char *key, const char *value);

/** Empty a list or pairs field. @return 0 or K8S_EINVALID */
K8S_EXTERN(int) k8s_config_clear(k8s_config *cfg, const char *field);

/** Whether the field has been set (lists/pairs: non-empty). */
K8S_EXTERN(int) k8s_config_is_set(const k8s_config *cfg, const char *field);

/** A string field's value (borrowed), or NULL when unset. */
K8S_EXTERN(const char *) k8s_config_get_string(const k8s_config *cfg, const char *field);

/** A bytes field's value (borrowed) and length, or NULL when unset. */
K8S_EXTERN(const void *) k8s_config_get_bytes(const k8s_config *cfg, const char *field, size_t *len);

/** A bool field's value (0 when unset). */
K8S_EXTERN(int) k8s_config_get_bool(const k8s_config *cfg, const char *field);

/** A number field's value (0 when unset). */
K8S_EXTERN(double) k8s_config_get_number(const k8s_config *cfg, const char *field);

/** Number of entries of a list or pairs field. */
K8S_EXTERN(size_t) k8s_config_count(const k8s_config *cfg, const char *field);

/** The i-th entry of a list field (borrowed), or NULL. */
K8S_EXTERN(const char *) k8s_config_get_item(const k8s_config *cfg, const char *field, size_t i);

/** The i-th pair of a pairs field (borrowed). @return 0, or K8S_ENOTFOUND past the end */
K8S_EXTERN(int) k8s_config_get_pair(const k8s_config *cfg, const char *field, size_t i,
				    const char **key, const char **value);

/**
 * Use a specific rate limiter (rest.Config.RateLimiter); overrides QPS/Burst.
 * The config takes a reference; NULL unsets it.
 */
K8S_EXTERN(void) k8s_config_set_rate_limiter(k8s_config *cfg, k8s_rate_limiter *rl);

/** The configured rate limiter (borrowed), or NULL. */
K8S_EXTERN(k8s_rate_limiter *) k8s_config_get_rate_limiter(const k8s_config *cfg);

/**
 * A credential callback: the part client-go's AuthProvider and ExecProvider
 * plugins play. Called before a request when no valid token is cached
 * (`invalidate` 0), and after a 401 (`invalidate` 1), when the request is then
 * retried once. Return 0 and set *token (malloc'd, the library frees it) and
 * *expiry (monotonic-independent Unix seconds, 0 = none), or a negative code
 * after recording an error with a message (never containing the token).
 */
typedef int (*k8s_token_cb)(void *payload, int invalidate, char **token, double *expiry);

/**
 * Install a credential callback (replaces any). `free_payload`, if not NULL,
 * is called on the payload when the last config or client holding it is freed
 * (on the thread that frees it).
 *
 * Every client made from this config or its copies shares the token cache,
 * also across threads: the cache is locked, and the callback is called by
 * one thread at a time per cache (a thread that waited for another's refresh
 * uses the token it got, unless after a 401), so it need not be reentrant;
 * it may still be called from different threads.
 */
K8S_EXTERN(void) k8s_config_set_token_callback(k8s_config *cfg, k8s_token_cb cb, void *payload,
					       void (*free_payload)(void *));

/**
 * A request hook (the part of client-go's WrapTransport): called before every
 * try with the method, URL and a header adder. Return 0 to proceed or a
 * negative code to fail the request.
 */
typedef int (*k8s_request_hook)(void *payload, const char *method, const char *url,
				int (*add_header)(void *ctx, const char *name, const char *value), void *ctx);

/** A response hook: called with the status code after every try. */
typedef void (*k8s_response_hook)(void *payload, const char *method, const char *url, long status, double seconds);

/**
 * Install request/response hooks (either may be NULL). Clients made from
 * this config on different threads call them concurrently with the same
 * payload: they must be thread-safe then. `free_payload` runs once, when the
 * last config or client holding the payload is freed.
 */
K8S_EXTERN(void) k8s_config_set_hooks(k8s_config *cfg, k8s_request_hook req, k8s_response_hook resp,
				      void *payload, void (*free_payload)(void *));

/**
 * Check the config as a client would be built from it: returns 0, or
 * K8S_EINVALID with a message naming the offending field(s), or K8S_ENOMEM
 * when k8s_config_set_token_callback or k8s_config_set_hooks ran out of
 * memory (those return nothing: the config then refuses to make clients).
 */
K8S_EXTERN(int) k8s_config_validate(const k8s_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
