/* RESTClient and Request internals shared by rest.c, result.c and the
 * stream/watch code. */
#ifndef K8S_REST_INTERNAL_H
#define K8S_REST_INTERNAL_H

#include "config_internal.h"
#include "transport.h"

struct k8s_rest_client {
	int refs;
	k8s_config *cfg;         /* defaulted copy */
	char *base_url;          /* scheme://host[:port] (no path) */
	char *base_path;         /* path prefix of Host, "" or "/a/b" */
	char *versioned_path;    /* "/api/v1", "/apis/apps/v1", or "" */
	char *group, *version;
	char *accept, *content_type, *user_agent;
	k8s_rate_limiter *rl;
	k8s_transport *transport;
	/* credentials */
	char *file_token;        /* last good BearerTokenFile contents */
	double file_token_at;    /* when it was read (monotonic) */
	double file_token_period;/* re-read after this many seconds (50, or K8S_LUA_TOKEN_FILE_PERIOD) */
	int verbose;
	/* optional exponential backoff (client-go URLBackoff): 0 base = off */
	double backoff_base, backoff_max, backoff_cur;
	/* the sans-I/O wire (wire.c): where to connect, and TLS in C */
	char *wire_host;         /* the server's host (not ServerName), no brackets */
	int wire_port;
	char *client_cert, *client_key; /* the exec plugin's certificate in use (PEM) */
};

struct k8s_request {
	k8s_rest_client *c;
	char *verb;
	char *path_prefix;
	char *subpath;
	char *ns;
	int ns_set;
	char *resource, *name, *subresource;
	k8s_strlist params;      /* key, value, ... */
	k8s_strlist headers;     /* name, value, ... */
	char *body;
	size_t body_len;
	int has_body;
	double timeout;
	int max_retries;
	k8s_body_observer observer; /* k8s_request_observe_body */
	void *observer_payload;
	int err;                 /* first builder error */
	char errmsg[512];
};

struct k8s_result {
	int code;                /* HTTP status */
	int rc;                  /* 0 or error code */
	k8s_buf body;
	char *content_type;
	k8s_strlist warnings;
	k8s_status st;
	int has_status;
	char *st_reason, *st_message, *st_json, *st_details;
};

/* Build a result from a finished response: its head and whole body (taken).
 * verb, resource and name shape client-go's messages for unstructured errors. */
int k8s__result_from_head(k8s_result **out, k8s_rest_client *c, const char *verb, const char *resource,
			  const char *name, const k8s_http_head *head, k8s_buf *body, int keep_pb);
/* A result carrying only a transport error (the last error). */
int k8s__result_from_error(k8s_result **out, int rc);
/* Build a client; with `shared`, reuse that transport (clientset). */
int k8s__rest_client_new(k8s_rest_client **out, const k8s_config *cfg, int versioned, k8s_transport *shared);
k8s_transport *k8s__rest_client_transport(k8s_rest_client *c);
/* wire.c: release the client's TLS state. */
void k8s__wire_client_free(k8s_rest_client *c);
/* Use an exec plugin's client certificate from now on (libcurl transport and sans-I/O TLS). */
int k8s__rest_client_set_client_cert(k8s_rest_client *c, const char *cert_pem, const char *key_pem);

/* The engine's internals shared with the drivers (call.c). */
typedef struct k8s_call k8s_call;
const k8s_http_head *k8s__call_head(const k8s_call *k);
k8s_rest_client *k8s__call_client(const k8s_call *k);
int k8s__call_mode(const k8s_call *k);
/* A watch call's stall limit: seconds after which a watch that has neither
 * sent data nor ended is presumed dead (its timeoutSeconds plus a grace of
 * the same, 5 to 30 s); 0 when the watch has no timeoutSeconds. */
double k8s__call_watch_stall(const k8s_call *k);
size_t k8s__call_headers(const k8s_call *k, char ***lines);
/* The request a K8S_CALL_SEND action asks for (borrowed strings). */
void k8s__call_http_request(const k8s_call *k, k8s_http_request *hr);
/* The blocking driver (libcurl, nanosleep): run a call to its answer. */
int k8s__call_run(k8s_call *k, k8s_http_response **resp);
int k8s__call_do(k8s_result **out, k8s_call *k, k8s_body_observer obs, void *payload);
int k8s__call_stream(k8s_stream **out, k8s_result **res_err, k8s_call *k);
int k8s__call_watch(k8s_watch **out, k8s_result **res_err, k8s_call *k);
/* A watch fed with bytes by a driver (nginx): k8s_watch_next returns
 * K8S__WATCH_NEED when it needs more; k8s__watch_end records how it ended
 * (rc 0 = the server ended it). */
#define K8S__WATCH_NEED 2
int k8s__watch_new_fed(k8s_watch **out, const k8s_call *k);
/* Seconds before the watch is presumed dead without data (see
 * k8s__call_watch_stall), -1 when it has no such limit: a driver bounds its
 * reads by it so that k8s_watch_next can end the watch in time. */
double k8s__watch_stall_in(const k8s_watch *w);
int k8s__watch_feed(k8s_watch *w, const char *data, size_t len);
void k8s__watch_end(k8s_watch *w, int rc, const char *reason, const char *message);
/* The result of a finished DO call from its whole body (taken). */
int k8s__call_result_buf(k8s_result **out, k8s_call *k, k8s_buf *body);
/* The caller decodes protobuf itself (the Lua binding): a protobuf success
 * body stays protobuf in the result (its Content-Type says so) and a
 * protobuf watch hands out events' objects as k8s\0 envelopes
 * (k8s_watch_event.protobuf); without it both become JSON. */
void k8s__call_keep_protobuf(k8s_call *k);
void k8s__watch_decoder_keep_protobuf(k8s_watch_decoder *d);
int k8s__call_keep_protobuf_on(const k8s_call *k);
void k8s__debug(k8s_rest_client *c, int level, const char *fmt, ...) K8S_PRINTF(3, 4);

#endif
