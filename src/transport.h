/* The transport: sends an HTTP request built by the core and hands back the
 * status, headers and body bytes. It knows nothing of Kubernetes; request
 * building (rest.c) and decoding (result.c, watch.c) are separate so that a
 * different transport (an OpenResty cosocket one) can reuse them. */
#ifndef K8S_TRANSPORT_H
#define K8S_TRANSPORT_H

#include "internal.h"

typedef struct {
	const char *method;
	const char *url;
	char **headers;         /* "Name: value" */
	size_t nheaders;
	const char *body;       /* may be NULL */
	size_t body_len;
	double timeout;         /* whole transfer, seconds; 0 = none */
} k8s_http_request;

typedef struct {
	/* TLS */
	int insecure;
	const char *ca_file, *cert_file, *key_file;
	const char *ca_data, *cert_data, *key_data;
	size_t ca_len, cert_len, key_len;
	const char *connect_to;  /* "name:port:host:port" for ServerName, or NULL */
	const char *proxy;       /* NULL = environment */
	int disable_compression;
	int verbose;             /* debug level */
} k8s_transport_options;

/* A response's status line and headers, as any transport parsed them
 * (libcurl's header callback, the HTTP/1.1 codec of the sans-I/O engine). */
typedef struct {
	long status;
	char **rh;              /* name, value, name, value... (malloc'd) */
	size_t nrh;
} k8s_http_head;

/* Last value of a header (case-insensitive name), or NULL. */
const char *k8s__http_head_get(const k8s_http_head *h, const char *name);
/* The i-th value of a possibly repeated header, or NULL. */
const char *k8s__http_head_get_n(const k8s_http_head *h, const char *name, size_t i);
/* Append a header (copies both); value is trimmed of surrounding blanks. */
int k8s__http_head_add(k8s_http_head *h, const char *name, size_t nlen, const char *value, size_t vlen);
/* Free the headers; status becomes 0. */
void k8s__http_head_clear(k8s_http_head *h);

typedef struct k8s_transport k8s_transport;
typedef struct k8s_http_response k8s_http_response;

int k8s_transport_new(k8s_transport **out, const k8s_transport_options *opts);
/* Transports are reference-counted: a clientset's group clients share one. */
k8s_transport *k8s_transport_ref(k8s_transport *t);
/* Use a new client certificate (PEM) from now on: pooled connections and TLS
 * sessions made with the old one are not reused. */
int k8s_transport_set_client_cert(k8s_transport *t, const char *cert_pem, const char *key_pem);
void k8s_transport_free(k8s_transport *t);
/* The slot where the sans-I/O wire keeps its TLS context (sessions, client
 * certificate) for the clients sharing this transport; freed with it. */
struct k8s_tls_ctx **k8s__transport_tls_ctx(k8s_transport *t);

/* Send a request and wait until the response headers arrived (or failure).
 * On failure returns a negative code (K8S_ETRANSPORT, K8S_ETIMEOUT,
 * K8S_ECERTIFICATE) with the last error's reason naming the class. */
int k8s_transport_send(k8s_transport *t, const k8s_http_request *req, k8s_http_response **out);

long k8s_http_response_status(const k8s_http_response *r);
/* Connections this transfer opened (0: it reused one), for debugging and tests. */
long k8s__http_response_new_connections(const k8s_http_response *r);
/* Status and headers (borrowed). */
const k8s_http_head *k8s_http_response_head(const k8s_http_response *r);
/* Last value of a response header (case-insensitive name), or NULL. */
const char *k8s_http_response_header(const k8s_http_response *r, const char *name);
/* The i-th value of a possibly repeated header, or NULL. */
const char *k8s_http_response_header_n(const k8s_http_response *r, const char *name, size_t i);
/* Next chunk: 1 data (borrowed until next call), 0 end, K8S_ETIMEOUT, or an error. */
int k8s_http_response_read(k8s_http_response *r, const char **data, size_t *len, double timeout);
/* The rest of the body appended to out. */
int k8s_http_response_read_all(k8s_http_response *r, k8s_buf *out);
/* The same, calling obs(ud, body, len) with all of the body received so far
 * each time more of it arrives (obs may be NULL). The pointer is valid only
 * during the call. */
int k8s_http_response_read_all_observed(k8s_http_response *r, k8s_buf *out,
	void (*obs)(void *ud, const char *body, size_t len), void *ud);
/* Close (aborting the transfer if unfinished) and free. */
void k8s_http_response_free(k8s_http_response *r);

#endif
