/* The sans-I/O wire (wire.h): TLS over memory BIOs plus the HTTP/1.1 codec
 * for one connection, configured from the client's kubeconfig TLS fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wire.h"
#include "tls.h"
#include "h1.h"
#include "k8s/call.h"

struct k8s_wire {
	k8s_tls *tls;            /* NULL for http */
	k8s_h1_response *h1;     /* the current exchange */
	k8s_buf out;             /* plaintext to send (http) */
	k8s_buf plain;           /* decrypted, not yet parsed */
	char *host, *key;
	int port, no_gzip;
};

static int has(const k8s_config *cfg, int f)
{
	return cfg->f[f].s && *cfg->f[f].s;
}

/* The client's TLS context, built on first use from its config. */
static int client_tls_ctx(k8s_rest_client *c, k8s_tls_ctx **out)
{
	k8s_config *cfg = c->cfg;
	k8s_tls_options o;
	k8s_tls_ctx **slot = k8s__transport_tls_ctx(c->transport);
	int rc;
	if (!*slot) {
		memset(&o, 0, sizeof(o));
		o.insecure = cfg->f[F_TLS_INSECURE].flag.value;
		o.ca_file = has(cfg, F_TLS_CAFILE) ? cfg->f[F_TLS_CAFILE].s : NULL;
		o.cert_file = has(cfg, F_TLS_CERTFILE) ? cfg->f[F_TLS_CERTFILE].s : NULL;
		o.key_file = has(cfg, F_TLS_KEYFILE) ? cfg->f[F_TLS_KEYFILE].s : NULL;
		if (cfg->f[F_TLS_CADATA].b.set && cfg->f[F_TLS_CADATA].b.len) {
			o.ca_data = cfg->f[F_TLS_CADATA].b.data;
			o.ca_len = cfg->f[F_TLS_CADATA].b.len;
		}
		if (cfg->f[F_TLS_CERTDATA].b.set && cfg->f[F_TLS_CERTDATA].b.len) {
			o.cert_data = cfg->f[F_TLS_CERTDATA].b.data;
			o.cert_len = cfg->f[F_TLS_CERTDATA].b.len;
		}
		if (cfg->f[F_TLS_KEYDATA].b.set && cfg->f[F_TLS_KEYDATA].b.len) {
			o.key_data = cfg->f[F_TLS_KEYDATA].b.data;
			o.key_len = cfg->f[F_TLS_KEYDATA].b.len;
		}
		o.server_name = has(cfg, F_TLS_SERVERNAME) ? cfg->f[F_TLS_SERVERNAME].s : NULL;
		if ((rc = k8s__tls_ctx_new(slot, &o)) < 0)
			return rc;
		/* an exec plugin's certificate that arrived before the first connection */
		if (c->client_cert && (rc = k8s__tls_ctx_set_client_cert(*slot, c->client_cert, c->client_key)) < 0)
			return rc;
	}
	*out = *slot;
	return 0;
}

int k8s__rest_client_set_client_cert(k8s_rest_client *c, const char *cert_pem, const char *key_pem)
{
	char *cert, *key;
	int rc;
	if (c->client_cert && strcmp(c->client_cert, cert_pem) == 0 && c->client_key &&
	    strcmp(c->client_key, key_pem) == 0)
		return 0;
	if ((rc = k8s_transport_set_client_cert(c->transport, cert_pem, key_pem)) < 0)
		return rc;
	if (*k8s__transport_tls_ctx(c->transport) &&
	    (rc = k8s__tls_ctx_set_client_cert(*k8s__transport_tls_ctx(c->transport), cert_pem, key_pem)) < 0)
		return rc;
	/* copied before the old pair goes: without it a TLS context made
	 * later would connect with no client certificate */
	cert = k8s__strdup(cert_pem);
	key = k8s__strdup(key_pem);
	if (!cert || !key) {
		k8s__sfree(cert);
		k8s__sfree(key);
		return k8s__error_oom();
	}
	k8s__sfree(c->client_cert);
	k8s__sfree(c->client_key);
	c->client_cert = cert;
	c->client_key = key;
	return 0;
}

void k8s__wire_client_free(k8s_rest_client *c)
{
	k8s__sfree(c->client_cert);
	k8s__sfree(c->client_key);
	free(c->wire_host);
}

int k8s__wire_new(k8s_wire **out, k8s_call *k)
{
	k8s_rest_client *c = k8s__call_client(k);
	k8s_wire *w;
	k8s_buf key = K8S_BUF_INIT;
	const char *host = c->wire_host ? c->wire_host : "localhost";
	size_t hl = strlen(host);
	int tls = strncmp(c->base_url, "https://", 8) == 0, rc;
	k8s_tls_ctx *ctx = NULL;
	*out = NULL;
	if (!(w = calloc(1, sizeof(*w))))
		return k8s__error_oom();
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
		w->host = k8s__strndup(host + 1, hl - 2);
	else /* nginx's resolver does not read /etc/hosts */
		w->host = k8s__strdup(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host);
	w->port = c->wire_port ? c->wire_port : (tls ? 443 : 80);
	w->no_gzip = c->cfg->f[F_DISABLECOMPRESSION].flag.value;
	if (!w->host) {
		rc = k8s__error_oom();
		goto fail;
	}
	if (tls) {
		if ((rc = client_tls_ctx(c, &ctx)) < 0 || (rc = k8s__tls_new(&w->tls, ctx, w->host)) < 0)
			goto fail;
	}
	/* the context too: a pooled connection's TLS sessions live in it */
	if (k8s_buf_printf(&key, "k8s:%s:%s:%d:%s:%p", tls ? "https" : "http", w->host, w->port,
			   ctx ? k8s__tls_ctx_identity(ctx) : "", (void *)ctx) < 0) {
		rc = k8s__error_oom();
		goto fail;
	}
	w->key = k8s_buf_detach(&key);
	*out = w;
	return 0;
fail:
	k8s__wire_free(w);
	return rc;
}

const char *k8s__wire_host(const k8s_wire *w) { return w->host; }
int k8s__wire_port(const k8s_wire *w) { return w->port; }
const char *k8s__wire_pool_key(const k8s_wire *w) { return w->key; }
int k8s__wire_is_tls(const k8s_wire *w) { return w->tls != NULL; }

int k8s__wire_handshake(k8s_wire *w)
{
	return w->tls ? k8s__tls_handshake(w->tls) : 1;
}

const char *k8s__wire_pending(k8s_wire *w, size_t *n)
{
	if (w->tls)
		return k8s__tls_pending(w->tls, n);
	*n = w->out.len;
	return w->out.ptr;
}

void k8s__wire_consume(k8s_wire *w, size_t n)
{
	if (w->tls)
		k8s__tls_consume(w->tls, n);
	else
		k8s_buf_consume(&w->out, n);
}

int k8s__wire_request(k8s_wire *w, k8s_call *k)
{
	k8s_http_request hr;
	k8s_buf req = K8S_BUF_INIT;
	int rc;
	k8s__call_http_request(k, &hr);
	k8s__h1_response_free(w->h1);
	w->h1 = NULL;
	k8s_buf_free(&w->plain);
	if ((rc = k8s__h1_response_new(&w->h1, strcmp(hr.method, "HEAD") == 0)) < 0)
		return rc;
	if ((rc = k8s__h1_request(&req, &hr, NULL, w->no_gzip)) < 0) {
		k8s_buf_wipe_free(&req);
		return rc;
	}
	if (w->tls)
		rc = k8s__tls_write(w->tls, req.ptr, req.len);
	else
		rc = k8s_buf_put(&w->out, req.ptr, req.len);
	k8s_buf_wipe_free(&req); /* holds the Authorization header */
	return rc < 0 ? rc : 0;
}

int k8s__wire_feed(k8s_wire *w, const char *p, size_t n)
{
	int rc;
	if (!w->tls)
		return w->h1 ? k8s__h1_feed(w->h1, p, n) : 0;
	if ((rc = k8s__tls_feed(w->tls, p, n)) < 0)
		return rc;
	if (!w->h1) /* handshake: the caller calls k8s__wire_handshake */
		return 0;
	rc = k8s__tls_read(w->tls, &w->plain);
	if (rc < 0 && rc != K8S_EOF)
		return rc;
	if (w->plain.len) {
		int frc = k8s__h1_feed(w->h1, w->plain.ptr, w->plain.len);
		k8s_buf_consume(&w->plain, w->plain.len);
		if (frc < 0)
			return frc;
	}
	if (rc == K8S_EOF)
		return k8s__h1_eof(w->h1);
	return 0;
}

int k8s__wire_eof(k8s_wire *w)
{
	int rc;
	if (w->tls && (rc = k8s__tls_eof(w->tls)) < 0 && rc != K8S_EOF) {
		if (w->h1 && !k8s__h1_headers_done(w->h1))
			return k8s__error(K8S_ETRANSPORT, "ConnectionReset", "the server closed the connection");
		return rc;
	}
	if (!w->h1)
		return k8s__error(K8S_ETRANSPORT, "ConnectionReset", "the server closed the connection");
	return k8s__h1_eof(w->h1);
}

int k8s__wire_headers_done(const k8s_wire *w) { return w->h1 && k8s__h1_headers_done(w->h1); }
int k8s__wire_done(const k8s_wire *w) { return w->h1 && k8s__h1_done(w->h1); }
int k8s__wire_keepalive(const k8s_wire *w) { return w->h1 && k8s__h1_keepalive(w->h1); }
const k8s_http_head *k8s__wire_head(const k8s_wire *w) { return k8s__h1_head(w->h1); }
k8s_buf *k8s__wire_body(k8s_wire *w) { return k8s__h1_body(w->h1); }
int k8s__wire_session_reused(const k8s_wire *w) { return w->tls && k8s__tls_session_reused(w->tls); }

void k8s__wire_free(k8s_wire *w)
{
	if (!w)
		return;
	k8s__tls_free(w->tls);
	k8s__h1_response_free(w->h1);
	k8s_buf_wipe_free(&w->out);
	k8s_buf_free(&w->plain);
	free(w->host);
	free(w->key);
	free(w);
}
