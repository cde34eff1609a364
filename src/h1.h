/* The HTTP/1.1 codec of the sans-I/O engine: builds request bytes and parses
 * response bytes (plaintext, after TLS). It does no I/O: a driver (the
 * OpenResty cosocket one) moves the bytes. Parsing is libhttp-parser's;
 * gzip bodies are inflated with zlib as they arrive. */
#ifndef K8S_H1_H
#define K8S_H1_H

#include "transport.h"

/* The largest response header block accepted (status line to blank line). */
#define K8S_H1_MAX_HEADER 65536

/* Append the bytes of a request to out: "METHOD <path?query of req->url>
 * HTTP/1.1", "Host: <authority>" (host[:port], the port omitted when it is the
 * scheme's default, IPv6 in brackets; host_override, if non-NULL, is used as
 * the value instead), req->headers ("Name: value"; CR or LF in one is
 * K8S_EINVALID, a Host given there replaces ours, a Content-Length there is
 * dropped, a Transfer-Encoding rejected), "Content-Length" when there is a
 * body (also "Content-Length: 0" for POST, PUT and PATCH without one),
 * "Accept-Encoding: gzip" unless no_gzip or req->headers has Accept-Encoding,
 * then the body. On failure out is left as it was (the partial bytes wiped). */
int k8s__h1_request(k8s_buf *out, const k8s_http_request *req, const char *host_override, int no_gzip);

/* Split "scheme://host[:port][/path][?query][#fragment]": scheme lowercased
 * ("http" or "https"), host without brackets, port (default 443 or 80), and
 * the origin-form target "/path?query" ("/" when the path is empty; the
 * fragment dropped). Outputs may be NULL; the strings are malloc'd. Errors
 * (K8S_EINVALID) name the URL part at fault and never echo the URL. */
int k8s__h1_split_url(const char *url, char **scheme, char **host, int *port, char **target);

typedef struct k8s_h1_response k8s_h1_response;

/* A parser for one response; head_request: the request was HEAD (no body). */
int k8s__h1_response_new(k8s_h1_response **out, int head_request);

/* Feed received plaintext, split anywhere. Returns 0 (all consumed) or:
 * K8S_ETRANSPORT "ProtocolError" for a malformed response (the message is
 * http_errno_description's), a header block over K8S_H1_MAX_HEADER bytes or
 * bytes after the end of the response; K8S_EDECODE "DecodeError" for a
 * corrupt gzip body; K8S_EOF "UnexpectedEOF" when the message ends inside a
 * gzip stream. Body bytes (de-chunked, gzip inflated) accumulate in
 * k8s__h1_body(). 1xx interim responses (100 Continue) are skipped; trailers
 * are parsed and dropped. After an error every call returns it again; bytes
 * fed after k8s__h1_eof are K8S_EINVALID. */
int k8s__h1_feed(k8s_h1_response *r, const char *p, size_t n);

/* The peer closed the connection. A body delimited by close completes (0);
 * a truncated Content-Length or chunked body, a truncated gzip stream, or a
 * partial status line or header block is K8S_EOF "UnexpectedEOF"; no byte of
 * the (final) response at all is K8S_ETRANSPORT "ConnectionReset". */
int k8s__h1_eof(k8s_h1_response *r);

/* The final status line and headers are complete. */
int k8s__h1_headers_done(const k8s_h1_response *r);

/* Status and headers (names as sent); status 0 until headers_done. */
const k8s_http_head *k8s__h1_head(const k8s_h1_response *r);

/* The decoded body received so far; the caller may k8s_buf_consume() it. */
k8s_buf *k8s__h1_body(k8s_h1_response *r);

/* The message is complete (and no error came after it, such as stray bytes). */
int k8s__h1_done(const k8s_h1_response *r);

/* Done, and the connection may carry another request (http_should_keep_alive,
 * no "Connection: close", not delimited by close, no eof seen). */
int k8s__h1_keepalive(const k8s_h1_response *r);

/* Free the parser, its head and body; NULL-safe. */
void k8s__h1_response_free(k8s_h1_response *r);

#endif
