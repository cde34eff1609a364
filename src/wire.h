/* The sans-I/O wire: one connection's TLS (OpenSSL memory BIOs, tls.c) and
 * HTTP/1.1 codec (h1.c), for a driver that only moves bytes (the nginx
 * cosocket driver). It knows where to connect and how to verify the server
 * from the request's client (kubeconfig TLS semantics per cluster). */
#ifndef K8S_WIRE_H
#define K8S_WIRE_H

#include "rest_internal.h"

typedef struct k8s_wire k8s_wire;

/* A new connection for a call's client: TLS state when the URL is https. */
int k8s__wire_new(k8s_wire **out, k8s_call *k);
/* Where to connect (the server, also when ServerName names it otherwise). */
const char *k8s__wire_host(const k8s_wire *w);
int k8s__wire_port(const k8s_wire *w);
/* Connections with equal keys are interchangeable: scheme, host, port, TLS identity. */
const char *k8s__wire_pool_key(const k8s_wire *w);
int k8s__wire_is_tls(const k8s_wire *w);
/* The TLS handshake: 1 done (always for http), 0 more input needed after
 * sending k8s__wire_pending(), <0 error. */
int k8s__wire_handshake(k8s_wire *w);
/* Bytes to send (borrowed), and how many were sent. */
const char *k8s__wire_pending(k8s_wire *w, size_t *n);
void k8s__wire_consume(k8s_wire *w, size_t n);
/* Start an exchange on this connection: the call's request becomes pending bytes. */
int k8s__wire_request(k8s_wire *w, k8s_call *k);
/* Bytes received: decrypted and parsed. 0 or <0 (protocol, TLS, decoding). */
int k8s__wire_feed(k8s_wire *w, const char *p, size_t n);
/* The peer closed the connection: 0 if the response is complete, else <0
 * (ConnectionReset before a status line, UnexpectedEOF in a body). */
int k8s__wire_eof(k8s_wire *w);
int k8s__wire_headers_done(const k8s_wire *w);
int k8s__wire_done(const k8s_wire *w);
int k8s__wire_keepalive(const k8s_wire *w);
const k8s_http_head *k8s__wire_head(const k8s_wire *w);
/* The decoded body received so far; the caller consumes it. */
k8s_buf *k8s__wire_body(k8s_wire *w);
int k8s__wire_session_reused(const k8s_wire *w);
void k8s__wire_free(k8s_wire *w);

#endif
