/* TLS for the sans-I/O engine: OpenSSL over memory BIOs. The caller (a Lua
 * driver on nginx cosockets, or a test) moves ciphertext: it sends what
 * k8s__tls_pending() holds, then k8s__tls_consume()s it, and hands whatever
 * arrives from the peer to k8s__tls_feed(). Nothing here does I/O or blocks.
 *
 * A context and the connections made from it must be used by one thread at a
 * time (one nginx worker). */
#ifndef K8S_TLS_H
#define K8S_TLS_H

#include "internal.h"

typedef struct {
	int insecure;                       /* insecure-skip-tls-verify */
	const char *ca_file;                /* PEM bundle */
	const char *ca_data;                /* PEM; wins over ca_file if both */
	size_t ca_len;                      /* 0 = strlen(ca_data) */
	const char *cert_file, *key_file;   /* client certificate (PEM, may include a chain) and key */
	const char *cert_data, *key_data;   /* PEM; data wins over the file */
	size_t cert_len, key_len;           /* 0 = strlen */
	const char *server_name;            /* tls-server-name: overrides the name verified and sent as SNI */
} k8s_tls_options;

/* An SSL_CTX and its client-session cache; reference-counted. */
typedef struct k8s_tls_ctx k8s_tls_ctx;

/* One TLS client connection over memory BIOs. */
typedef struct k8s_tls k8s_tls;

/* Make a context: TLS 1.2 minimum, ALPN "http/1.1", peer verification
 * against the CA (the system default paths without one) unless insecure,
 * and the client certificate if given. Bad input fails with K8S_ECERTIFICATE
 * "TLSConfigError", naming the file or the field, never the key. */
int k8s__tls_ctx_new(k8s_tls_ctx **out, const k8s_tls_options *o);

/* Rotate the client certificate (PEM, NUL-terminated; from an exec plugin):
 * new connections use it, cached sessions made with the old identity are
 * dropped and the identity string changes. Connections already made keep
 * the old one. The same certificate again is a no-op. On error nothing
 * changes. */
int k8s__tls_ctx_set_client_cert(k8s_tls_ctx *c, const char *cert_pem, const char *key_pem);

/* Take one more reference; returns c. */
k8s_tls_ctx *k8s__tls_ctx_ref(k8s_tls_ctx *c);

/* Drop a reference (NULL-safe); the last one frees the context. */
void k8s__tls_ctx_free(k8s_tls_ctx *c);

/* A short stable hex digest (32 characters) of the CA, the client
 * certificate, the verify settings and server_name: part of a connection
 * pool key. Changes when the client certificate rotates. Borrowed. */
const char *k8s__tls_ctx_identity(k8s_tls_ctx *c);

/* Number of sessions cached for resumption (for tests and diagnostics). */
size_t k8s__tls_ctx_cached_sessions(const k8s_tls_ctx *c);

/* Start a connection to host, the URL host (IPv6 without brackets; brackets
 * and a "%zone" are tolerated). The name verified is server_name if set,
 * else host: an IP literal is checked against the IP SANs and sent as no
 * SNI; a DNS name is checked against the DNS SANs and sent as SNI. With
 * insecure nothing is verified. A session cached for (host, server_name) is
 * offered for resumption. The connection holds a reference on ctx. */
int k8s__tls_new(k8s_tls **out, k8s_tls_ctx *ctx, const char *host);

/* Advance the handshake: 1 = done; 0 = send k8s__tls_pending(), then feed
 * what arrives and call again; < 0 error: K8S_ECERTIFICATE "TLSVerifyFailed"
 * with OpenSSL's verify reason ("hostname mismatch", "self-signed
 * certificate in certificate chain"...), or K8S_ETRANSPORT
 * "TLSHandshakeFailed". After an error pending() may hold an alert. */
int k8s__tls_handshake(k8s_tls *t);

/* Encrypt all n bytes of plaintext into the pending output. The handshake
 * must be done. Returns 0 or < 0. */
int k8s__tls_write(k8s_tls *t, const char *p, size_t n);

/* The ciphertext waiting to be sent (borrowed until the next call on t);
 * *n = 0 and an empty string when none. */
const char *k8s__tls_pending(k8s_tls *t, size_t *n);

/* The driver sent the first n bytes of the pending output. */
void k8s__tls_consume(k8s_tls *t, size_t n);

/* Ciphertext received from the peer. Returns 0 or K8S_ENOMEM. */
int k8s__tls_feed(k8s_tls *t, const char *p, size_t n);

/* Decrypt everything fed so far and append it to out (finishing the
 * handshake first if needed): 1 = appended something; 0 = need more input;
 * K8S_EOF = the peer sent close_notify (after the data before it was
 * returned); < 0 error (K8S_ETRANSPORT "TLSError"). Reading may produce
 * output (a KeyUpdate reply, an alert): check k8s__tls_pending() after. */
int k8s__tls_read(k8s_tls *t, k8s_buf *out);

/* The peer closed TCP. Call once k8s__tls_read() returned 0 or K8S_EOF.
 * Returns K8S_EOF if a close_notify was received, or if the stream stopped
 * at a record boundary with nothing unread; otherwise (a record cut short,
 * unread ciphertext, an unfinished handshake) a K8S_ETRANSPORT error,
 * "TLSTruncated": a truncated stream never looks like a clean end. */
int k8s__tls_eof(k8s_tls *t);

/* Queue a close_notify in the pending output (once; no-op before the
 * handshake completed or after an error). Returns 0 or < 0. */
int k8s__tls_shutdown(k8s_tls *t);

/* 1 if the handshake resumed a cached session. */
int k8s__tls_session_reused(const k8s_tls *t);

/* The negotiated protocol, e.g. "TLSv1.3" (borrowed). */
const char *k8s__tls_version(const k8s_tls *t);

/* Free a connection (NULL-safe). Sessions it received stay cached in its
 * context for resumption. */
void k8s__tls_free(k8s_tls *t);

#endif
