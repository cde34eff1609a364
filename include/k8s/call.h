/**
 * @file k8s/call.h
 * @brief The sans-I/O request engine: one request's decisions, without I/O.
 *
 * A k8s_call executes one request the way client-go's Request does: client
 * side throttling, credentials (exec plugins, auth-provider callbacks, token
 * files) and their refresh after a 401, impersonation headers, retries with
 * Retry-After, connection-reset retries for GET and URLBackoff. It never
 * blocks and never sleeps: asked what next (k8s_call_next), it answers with
 * an action, and a driver carries it out and reports back.
 *
 * Timeout (the config's or the request's, K8S_CALL_MODE_DO only) bounds the
 * whole call, as client-go's context deadline over its retry loop: the
 * deadline starts once the first client-side throttle wait is over (a
 * throttled client does not time out before its first request); every SLEEP
 * asked for ends by the deadline; each SEND gets what is left as its attempt
 * timeout (k8s_call_timeout); a Retry-After (or backoff) wait that would
 * outlast the deadline ends the call at once with the server's answer (the
 * 429/5xx is decoded into its Status, k8s_call_status is 0), and a
 * connection reset that cannot be retried in time with its error; when the
 * deadline passes between actions the call ends with K8S_ETIMEOUT, reason
 * "Timeout" ("... context deadline exceeded ..."). Without a Timeout nothing
 * is bounded but each wait by its own length.
 *
 * Two drivers use it: the blocking one behind k8s_request_do, k8s_request_stream
 * and k8s_request_watch (libcurl, nanosleep), and the OpenResty one
 * (cosockets, ngx.sleep; TLS and HTTP/1.1 in C). Every decision is written
 * once, here.
 *
 * A driver's loop:
 * @code
 * for (;;) switch (k8s_call_next(call)) {
 * case K8S_CALL_SLEEP:  sleep(k8s_call_sleep_seconds(call)); k8s_call_slept(call); break;
 * case K8S_CALL_EXEC:   k8s_call_exec_done(call, k8s_call_exec_run(call)); break; // or start/poll without blocking
 * case K8S_CALL_TOKEN:  ...ask the auth provider...; k8s_call_token_done(call, rc, token, expiry); break;
 * case K8S_CALL_SEND:   ...send k8s_call_http(call)...; k8s_call_response(call, status, headers) or k8s_call_failed(call, rc); break;
 * case K8S_CALL_DRAIN:  ...discard the response body...; k8s_call_drained(call); break;
 * case K8S_CALL_DONE:   rc = k8s_call_status(call); ...read the body of the last response...; return;
 * }
 * @endcode
 */
#ifndef K8S_CALL_H
#define K8S_CALL_H

#include "common.h"
#include "rest.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a driver must do next. */
typedef enum {
	K8S_CALL_SLEEP = 1, /**< wait k8s_call_sleep_seconds(), then k8s_call_slept() */
	K8S_CALL_EXEC,      /**< run the exec credential plugin, then k8s_call_exec_done() */
	K8S_CALL_TOKEN,     /**< ask the auth provider for a token, then k8s_call_token_done() */
	K8S_CALL_SEND,      /**< send the request (k8s_call_method/url/header/body) and report the response head */
	K8S_CALL_DRAIN,     /**< discard the body of the last response (a retry follows), then k8s_call_drained() */
	K8S_CALL_DONE       /**< finished: k8s_call_status(); on 0 the last response is the answer */
} k8s_call_action;

/** How the response will be consumed. */
typedef enum {
	K8S_CALL_MODE_DO = 0, /**< the whole body (Do, DoRaw); Config.Timeout applies */
	K8S_CALL_MODE_STREAM, /**< a stream (GetLogs follow, Stream): no retries on reset */
	K8S_CALL_MODE_WATCH   /**< a watch: adds watch=true; not throttled */
} k8s_call_mode;

typedef struct k8s_call k8s_call;

/**
 * Start executing a request. The call copies what it needs (URL, verb,
 * headers, body) and holds a reference to the request's client, so the
 * request may be freed at once.
 * @param[out] out the call
 * @param r the request (for K8S_CALL_MODE_WATCH, watch=true is added to it)
 * @param mode how the response will be consumed
 * @return 0, or K8S_EINVALID when the request is invalid (builder errors, bad URL)
 */
K8S_EXTERN(int) k8s_call_new(k8s_call **out, k8s_request *r, k8s_call_mode mode);

/** The next action (never blocks). */
K8S_EXTERN(k8s_call_action) k8s_call_next(k8s_call *call);

/** K8S_CALL_SLEEP: seconds to wait. */
K8S_EXTERN(double) k8s_call_sleep_seconds(const k8s_call *call);
/** K8S_CALL_SLEEP done. */
K8S_EXTERN(void) k8s_call_slept(k8s_call *call);

/** K8S_CALL_EXEC and K8S_CALL_TOKEN: 1 when the cached credential must be dropped (after a 401). */
K8S_EXTERN(int) k8s_call_credential_invalidate(const k8s_call *call);
/** K8S_CALL_EXEC, blocking: run the plugin (fork, wait) and return its result code for k8s_call_exec_done. */
K8S_EXTERN(int) k8s_call_exec_run(k8s_call *call);
/** K8S_CALL_EXEC done: rc is 0, or the plugin's error code (the last error describes it). */
K8S_EXTERN(void) k8s_call_exec_done(k8s_call *call, int rc);
/**
 * K8S_CALL_TOKEN done.
 * @param rc 0, or an error code (the last error describes it, else "AuthProviderError")
 * @param token the token (copied; may be NULL)
 * @param expiry Unix seconds when it expires, 0 for never
 */
K8S_EXTERN(void) k8s_call_token_done(k8s_call *call, int rc, const char *token, double expiry);

/** K8S_CALL_SEND: the method. */
K8S_EXTERN(const char *) k8s_call_method(const k8s_call *call);
/** K8S_CALL_SEND: the full URL. */
K8S_EXTERN(const char *) k8s_call_url(const k8s_call *call);
/** K8S_CALL_SEND: the i-th header line "Name: value", or NULL after the last one. Borrowed. */
K8S_EXTERN(const char *) k8s_call_header(const k8s_call *call, size_t i);
/** K8S_CALL_SEND: the body, or NULL (len set to its length). */
K8S_EXTERN(const char *) k8s_call_body(const k8s_call *call, size_t *len);
/**
 * K8S_CALL_SEND (and K8S_CALL_DRAIN, DONE): this attempt's timeout in seconds,
 * 0 for none: what is left of the request's Timeout (at least 0.001). A
 * driver bounds the whole attempt by it (connect, send, response head and
 * body), not each read.
 */
K8S_EXTERN(double) k8s_call_timeout(const k8s_call *call);

/** A monotonic clock in seconds, for k8s_call_set_clock. */
typedef double (*k8s_call_clock)(void *payload);

/**
 * Measure the call's deadline (its Timeout) with another clock instead of
 * the process's monotonic one: for tests that drive the engine without
 * waiting, or a driver with an event loop's cached time. Set it before the
 * first k8s_call_next (a later change keeps the time left). NULL restores
 * the default.
 */
K8S_EXTERN(void) k8s_call_set_clock(k8s_call *call, k8s_call_clock clock, void *payload);

/**
 * K8S_CALL_SEND done: the response head arrived.
 * @param status the HTTP status
 * @param headers "name", "value" pairs (copied), n entries in all (2 per header)
 */
K8S_EXTERN(int) k8s_call_response(k8s_call *call, long status, const char *const *headers, size_t n);
/** K8S_CALL_SEND failed below HTTP: rc and the last error (reason ConnectionReset, Timeout, ...). */
K8S_EXTERN(void) k8s_call_failed(k8s_call *call, int rc);
/** K8S_CALL_DRAIN done. */
K8S_EXTERN(void) k8s_call_drained(k8s_call *call);

/** K8S_CALL_DONE: 0 when the last response is the answer (any status), else the error code (and k8s_error_last). */
K8S_EXTERN(int) k8s_call_status(const k8s_call *call);
/** The status of the last response, 0 if none. */
K8S_EXTERN(long) k8s_call_response_status(const k8s_call *call);
/** A header of the last response (last value, case-insensitive), or NULL. */
K8S_EXTERN(const char *) k8s_call_response_header(const k8s_call *call, const char *name);

/**
 * Build the result of a K8S_CALL_MODE_DO call from the body of its answer,
 * as k8s_request_do does: success, or the server's Status decoded.
 * @param[out] out the result
 * @param body the whole body (may be NULL with len 0)
 * @return 0, K8S_ESTATUS (with *out holding the Status), or an error code
 */
K8S_EXTERN(int) k8s_call_result(k8s_result **out, k8s_call *call, const char *body, size_t len);

/** Free a call. NULL is ignored. */
K8S_EXTERN(void) k8s_call_free(k8s_call *call);

#ifdef __cplusplus
}
#endif
#endif
