/**
 * @file k8s/rest.h
 * @brief RESTClient, Request and Result: client-go's rest package.
 *
 * A request is built by chained setters (each returns 0 or K8S_EINVALID and
 * also remembers the first error, which k8s_request_do then reports, as
 * client-go's Request does), then executed with k8s_request_do (whole body),
 * k8s_request_stream (incremental body) or k8s_request_watch (events).
 *
 * Execution consults the client's rate limiter before every try (not for
 * watches), retries 429 and 5xx responses that carry an integer Retry-After
 * up to MaxRetries (default 10) times, and retries connection-level failures
 * of GET requests as if Retry-After were 1 second.
 *
 * Threading: a client and everything made from it is used by one thread at a
 * time. Different clients may run on different threads, also clients made
 * from one config, which share its credential callback's token cache (see
 * k8s_config_set_token_callback) and hooks.
 *
 * Environment, read when a client is built:
 * - K8S_LUA_V: debug log level on stderr (6: method, URL, status, timing;
 *   7: request headers, Authorization always "<masked>"; 8: selected
 *   response headers; 9: libcurl's connection messages).
 * - K8S_LUA_TOKEN_FILE_PERIOD: test-only. Seconds after which
 *   BearerTokenFile is re-read (default and maximum 50, client-go's one
 *   minute less 10 s of leeway). A 401 response always drops the cached
 *   token so that the next request re-reads the file.
 */
#ifndef K8S_REST_H
#define K8S_REST_H

#include "common.h"
#include "config.h"
#include "ratelimit.h"
#include "watch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct k8s_rest_client k8s_rest_client;
typedef struct k8s_request k8s_request;
typedef struct k8s_result k8s_result;
typedef struct k8s_stream k8s_stream;
typedef struct k8s_watch k8s_watch;

/** Patch types (apimachinery types.PatchType); the values are media types. */
#define K8S_JSON_PATCH "application/json-patch+json"
#define K8S_MERGE_PATCH "application/merge-patch+json"
#define K8S_STRATEGIC_MERGE_PATCH "application/strategic-merge-patch+json"
#define K8S_APPLY_PATCH "application/apply-patch+yaml"

/**
 * rest.RESTClientFor: a client for one group-version. The config must have
 * ContentConfig.GroupVersion and APIPath set; Host is defaulted and
 * validated, and the whole config is validated (k8s_config_validate).
 * @param[out] out the client
 * @return 0, K8S_EINVALID naming the field, or K8S_ENOMEM
 */
K8S_EXTERN(int) k8s_rest_client_for(k8s_rest_client **out, const k8s_config *cfg);

/**
 * rest.UnversionedRESTClientFor: as k8s_rest_client_for without requiring a
 * GroupVersion (for /version, /healthz, discovery and AbsPath requests).
 */
K8S_EXTERN(int) k8s_rest_client_unversioned(k8s_rest_client **out, const k8s_config *cfg);

/**
 * rest.SetKubernetesDefaults-style defaults for a group-version: copies cfg,
 * sets ContentConfig.GroupVersion to "group/version" ("version" for the core
 * group), APIPath to "/api" for the core group (group "") and "/apis"
 * otherwise, and a default UserAgent.
 */
K8S_EXTERN(int) k8s_rest_config_for_group_version(k8s_config **out, const k8s_config *cfg, const char *group,
					     const char *version);

/**
 * Turn on client-go's optional exponential backoff (its BackoffManager,
 * URLBackoff): after a connection failure or a 5xx answer the next request
 * first waits `base` seconds, doubling up to `max`; any other answer resets
 * it. Off by default; also turned on for every new client when the
 * environment has KUBE_CLIENT_BACKOFF_BASE and KUBE_CLIENT_BACKOFF_DURATION
 * (seconds), as client-go. base 0 turns it off.
 * @return 0 or K8S_EINVALID
 */
K8S_EXTERN(int) k8s_rest_client_set_backoff(k8s_rest_client *rc, double base, double max);

/** Add a reference to a client. @return rc */
K8S_EXTERN(k8s_rest_client *) k8s_rest_client_ref(k8s_rest_client *rc);

/** Drop a reference; freed with the last one (requests hold references). NULL is ignored. */
K8S_EXTERN(void) k8s_rest_client_free(k8s_rest_client *rc);

/** The base URL (scheme://host[:port][/prefix]) after defaulting. Borrowed. */
K8S_EXTERN(const char *) k8s_rest_client_base_url(const k8s_rest_client *rc);

/** The group ("" for core) and version of the client; borrowed. */
K8S_EXTERN(void) k8s_rest_client_api_version(const k8s_rest_client *rc, const char **group, const char **version);

/** The client's rate limiter (borrowed), NULL when limiting is off. */
K8S_EXTERN(k8s_rate_limiter *) k8s_rest_client_rate_limiter(const k8s_rest_client *rc);

/** The config the client was built from (borrowed, after defaulting). */
K8S_EXTERN(const k8s_config *) k8s_rest_client_config(const k8s_rest_client *rc);

/**
 * Start a request with an HTTP verb ("GET", "POST", "PUT", "PATCH", "DELETE", ...).
 * @param[out] out the request; it holds a reference to the client
 */
K8S_EXTERN(int) k8s_rest_client_verb(k8s_request **out, k8s_rest_client *rc, const char *verb);

/** Free a request. NULL is ignored. */
K8S_EXTERN(void) k8s_request_free(k8s_request *req);

/** Namespace segment (`namespaces/<ns>`); "" means none. Set once. */
K8S_EXTERN(int) k8s_request_namespace(k8s_request *req, const char *ns);
/** Resource segment (lower-cased plural). Set once. */
K8S_EXTERN(int) k8s_request_resource(k8s_request *req, const char *resource);
/** Object name; must not be empty. Set once. */
K8S_EXTERN(int) k8s_request_name(k8s_request *req, const char *name);
/** Subresource segments, e.g. "status" or "scale". Set once. */
K8S_EXTERN(int) k8s_request_subresource(k8s_request *req, const char *sub);
/** Path segments added after the versioned API path and before namespace. */
K8S_EXTERN(int) k8s_request_prefix(k8s_request *req, const char *segments);
/** Path segments added at the end. */
K8S_EXTERN(int) k8s_request_suffix(k8s_request *req, const char *segments);
/** Replace the whole path (still under the Host's path prefix), e.g. "/version". */
K8S_EXTERN(int) k8s_request_abs_path(k8s_request *req, const char *path);
/** Add a query parameter (repeatable, values accumulate). */
K8S_EXTERN(int) k8s_request_param(k8s_request *req, const char *key, const char *value);
/** Set (replace) a header. */
K8S_EXTERN(int) k8s_request_set_header(k8s_request *req, const char *name, const char *value);
/** The request body (copied). Replayable on retries. */
K8S_EXTERN(int) k8s_request_body(k8s_request *req, const void *data, size_t len);
/** Server-side timeout: the `timeout` query parameter (Go duration) and the client deadline. */
K8S_EXTERN(int) k8s_request_timeout(k8s_request *req, double seconds);
/** Maximum retries (default 10; 0 disables). */
K8S_EXTERN(int) k8s_request_max_retries(k8s_request *req, int n);

/**
 * Called by k8s_request_do as the body of a successful (2xx) response
 * arrives: `body` is all of the body received so far (decompressed), valid
 * only during the call; `len` grows from call to call. It lets a caller
 * decode a large response while the rest is still on the way. It is called
 * only for the final response (not for attempts that are retried) and must
 * not use the request or its client.
 */
typedef void (*k8s_body_observer)(void *payload, const char *body, size_t len);

/** Set (or clear, with NULL) the body observer of k8s_request_do. */
K8S_EXTERN(int) k8s_request_observe_body(k8s_request *req, k8s_body_observer fn, void *payload);

/**
 * The URL the request would be sent to, or NULL with the last error set when
 * the request is invalid. Caller frees.
 */
K8S_EXTERN(char *) k8s_request_url(k8s_request *req);

/**
 * Execute and read the whole body.
 * @param[out] out the result; set on every outcome that reached the server
 *             and on transport failures (status code 0), NULL only on
 *             K8S_EINVALID/K8S_ENOMEM before sending
 * @return 0 for 2xx (and 101), K8S_ESTATUS for an error Status, or a
 *         transport code (K8S_ETRANSPORT, K8S_ETIMEOUT, K8S_ECERTIFICATE, K8S_EAUTH)
 */
K8S_EXTERN(int) k8s_request_do(k8s_result **out, k8s_request *req);

/** Free a result. NULL is ignored. */
K8S_EXTERN(void) k8s_result_free(k8s_result *res);
/** HTTP status code, 0 when no response was received. */
K8S_EXTERN(int) k8s_result_status_code(const k8s_result *res);
/** The body (borrowed, NUL-terminated) and its length. */
K8S_EXTERN(const char *) k8s_result_body(const k8s_result *res, size_t *len);
/** The response Content-Type (borrowed) or NULL. */
K8S_EXTERN(const char *) k8s_result_content_type(const k8s_result *res);
/** Number of Warning headers. */
K8S_EXTERN(size_t) k8s_result_warning_count(const k8s_result *res);
/** The text of the i-th Warning header (borrowed). */
K8S_EXTERN(const char *) k8s_result_warning(const k8s_result *res, size_t i);
/** 0 on success, else the code k8s_request_do returned. */
K8S_EXTERN(int) k8s_result_error_code(const k8s_result *res);

/** The decoded error of a failed result (metav1.Status or a built one). */
typedef struct {
	int code;                  /**< HTTP status, 0 below HTTP */
	const char *reason;        /**< StatusReason, or a transport class ("ConnectionRefused", "TLSVerifyFailed", "Timeout", ...) */
	const char *message;       /**< the Status's message; else built from the code table as
	                                client-go does, quoting at most 2048 bytes of a text body
	                                (403/406/415 use that text; 5xx codes other than 503/504 quote it) */
	const char *status_json;   /**< the Status object as JSON when the server sent one, else NULL */
	const char *details_json;  /**< Status.details as JSON, else NULL */
	int retry_after_seconds;   /**< Retry-After header or details.retryAfterSeconds, 0 if none */
} k8s_status;

/** The error of a failed result (borrowed), or NULL for success. */
K8S_EXTERN(const k8s_status *) k8s_result_status(const k8s_result *res);

/**
 * Execute and return the body only (rest.Request.DoRaw). On failure the last
 * error holds the message.
 * @param[out] body malloc'd, NUL-terminated; caller frees
 */
K8S_EXTERN(int) k8s_request_do_raw(char **body, size_t *len, k8s_request *req);

/**
 * Execute and return an incremental reader of the body (rest.Request.Stream).
 * A non-2xx response is read whole and returned as an error with *res_err set
 * (caller frees) when res_err is not NULL.
 */
K8S_EXTERN(int) k8s_request_stream(k8s_stream **out, k8s_result **res_err, k8s_request *req);

/**
 * Read the next chunk of a stream.
 * @param[out] data borrowed until the next call
 * @param timeout seconds to wait; < 0 waits forever
 * @return 1 with data, 0 at the end of the body, K8S_ETIMEOUT when nothing
 *         arrived in time (the stream stays usable), or a transport code
 */
K8S_EXTERN(int) k8s_stream_read(k8s_stream *s, const char **data, size_t *len, double timeout);

/** Close a stream and free it. NULL is ignored. */
K8S_EXTERN(void) k8s_stream_free(k8s_stream *s);

/**
 * Start a watch (rest.Request.Watch): adds watch=true to the query.
 * A non-2xx answer is returned as K8S_ESTATUS with *res_err set when not NULL.
 */
K8S_EXTERN(int) k8s_request_watch(k8s_watch **out, k8s_result **res_err, k8s_request *req);

/**
 * The next event of a watch.
 * @param[out] ev borrowed until the next call
 * @param timeout seconds; < 0 waits forever
 * @return 1 with an event, 0 when the watch ended (server closed or stopped),
 *         K8S_ETIMEOUT (watch still usable), K8S_EOF when the stream ended
 *         inside an event (reason "UnexpectedEOF"), K8S_EDECODE for a
 *         malformed or oversized event, or a transport code. A watch with
 *         timeoutSeconds that has neither data nor its end by timeoutSeconds
 *         plus a grace (as long again, 5 to 30 s) is presumed dead: it ends
 *         with K8S_ETRANSPORT, reason "WatchStalled"
 */
K8S_EXTERN(int) k8s_watch_next(k8s_watch *w, k8s_watch_event *ev, double timeout);

/** Stop a watch: close the connection; later k8s_watch_next returns 0. */
K8S_EXTERN(void) k8s_watch_stop(k8s_watch *w);

/** Stop and free a watch. NULL is ignored. */
K8S_EXTERN(void) k8s_watch_free(k8s_watch *w);

#ifdef __cplusplus
}
#endif
#endif
