/* Executing requests: headers and credentials, throttling, retries, and the
 * Do / DoRaw / Stream / Watch entry points. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "rest_internal.h"
#include "exec.h"

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read BearerTokenFile: trimmed contents, or NULL with an error. */
static char *read_token_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	k8s_buf b = K8S_BUF_INIT;
	char chunk[4096];
	size_t n, s = 0, e;
	char *tok;
	if (!f) {
		k8s__error(K8S_EAUTH, "TokenFileError", "cannot read BearerTokenFile %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (k8s_buf_put(&b, chunk, n) < 0) {
			fclose(f);
			k8s_buf_free(&b);
			return NULL;
		}
	}
	fclose(f);
	memset(chunk, 0, sizeof(chunk));
	e = b.len;
	while (s < e && isspace((unsigned char)b.ptr[s]))
		s++;
	while (e > s && isspace((unsigned char)b.ptr[e - 1]))
		e--;
	if (e == s) {
		k8s_buf_wipe_free(&b);
		k8s__error(K8S_EAUTH, "TokenFileError", "BearerTokenFile %s is empty", path);
		return NULL;
	}
	tok = k8s__strndup(b.ptr + s, e - s);
	k8s_buf_wipe_free(&b);
	return tok;
}

/* The bearer token to send, or NULL for none; <0 on a credential failure. */
static int current_token(k8s_rest_client *c, const char **tok)
{
	k8s_config *cfg = c->cfg;
	*tok = NULL;
	if (cfg->exec_payload) {
		const k8s_credential *cred;
		int rc = k8s__exec_provider_get(cfg->exec_payload->ptr, 0, &cred);
		if (rc < 0)
			return rc;
		if (cred->cert_pem && (rc = k8s_transport_set_client_cert(c->transport, cred->cert_pem, cred->key_pem)) < 0)
			return rc;
		if (cred->token && *cred->token) {
			*tok = cred->token;
			return 0;
		}
	}
	if (cfg->token_cb) {
		if (!c->cfg->token_payload->token || (c->cfg->token_payload->expiry > 0 && wall_now() >= c->cfg->token_payload->expiry)) {
			char *t = NULL;
			double exp = 0;
			int rc = cfg->token_cb(cfg->token_payload->ptr, 0, &t, &exp);
			if (rc < 0) {
				k8s__sfree(t);
				if (k8s_error_last()->code == 0)
					k8s__error(K8S_EAUTH, "AuthProviderError", "credential plugin failed");
				return rc;
			}
			k8s__sfree(c->cfg->token_payload->token);
			c->cfg->token_payload->token = t;
			c->cfg->token_payload->expiry = exp;
		}
		if (c->cfg->token_payload->token && *c->cfg->token_payload->token) {
			*tok = c->cfg->token_payload->token;
			return 0;
		}
	}
	if (cfg->f[F_TOKENFILE].s && *cfg->f[F_TOKENFILE].s) {
		double now = k8s__now();
		if (!c->file_token || now - c->file_token_at >= c->file_token_period) {
			char *t = read_token_file(cfg->f[F_TOKENFILE].s);
			if (t) {
				k8s__sfree(c->file_token);
				c->file_token = t;
				c->file_token_at = now;
			} else if (!c->file_token && !(cfg->f[F_TOKEN].s && *cfg->f[F_TOKEN].s)) {
				return K8S_EAUTH;
			} else {
				k8s__debug(c, 2, "BearerTokenFile could not be re-read; keeping the last good token");
			}
		}
		if (c->file_token) {
			*tok = c->file_token;
			return 0;
		}
	}
	if (cfg->f[F_TOKEN].s && *cfg->f[F_TOKEN].s)
		*tok = cfg->f[F_TOKEN].s;
	return 0;
}

/* Forget cached credentials after a 401. Returns 1 if a retry may help. */
static int drop_credentials(k8s_rest_client *c)
{
	int retry = 0;
	if (c->cfg->exec_payload) {
		/* run the plugin again once; the request is retried with the new credential */
		const k8s_credential *cred;
		if (k8s__exec_provider_get(c->cfg->exec_payload->ptr, 1, &cred) == 0)
			retry = 1;
	}
	if (c->cfg->token_cb) {
		char *t = NULL;
		double exp = 0;
		k8s__sfree(c->cfg->token_payload->token);
		c->cfg->token_payload->token = NULL;
		if (c->cfg->token_cb(c->cfg->token_payload->ptr, 1, &t, &exp) == 0 && t) {
			c->cfg->token_payload->token = t;
			c->cfg->token_payload->expiry = exp;
			retry = 1;
		} else {
			k8s__sfree(t);
		}
	}
	if (c->file_token) {
		c->file_token_at = -1e9; /* re-read on next use */
	}
	return retry;
}


typedef struct {
	k8s_strlist lines; /* "Name: value" */
	int failed;
} header_set;

static int hs_add(void *ctx, const char *name, const char *value)
{
	header_set *h = ctx;
	k8s_buf b = K8S_BUF_INIT;
	if (!name || strpbrk(name, ":\r\n") || (value && strpbrk(value, "\r\n")))
		return k8s__error(K8S_EINVALID, "Invalid", "invalid header %s", name ? name : "(null)");
	if (k8s_buf_printf(&b, "%s: %s", name, value ? value : "") < 0 || k8s__strlist_add(&h->lines, b.ptr) < 0) {
		k8s_buf_free(&b);
		h->failed = 1;
		return K8S_ENOMEM;
	}
	k8s_buf_free(&b);
	return 0;
}

static void hs_free(header_set *h)
{
	k8s__strlist_wipe(&h->lines); /* Authorization lines */
}

static int user_set_header(k8s_request *r, const char *name)
{
	size_t i;
	for (i = 0; i + 1 < r->headers.n; i += 2)
		if (strcasecmp(r->headers.items[i], name) == 0)
			return 1;
	return 0;
}

/* Impersonate-Extra-<key>: the key is percent-escaped (legal header chars kept). */
static int extra_header(header_set *h, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	k8s_buf b = K8S_BUF_INIT;
	const unsigned char *p;
	int rc;
	if (k8s_buf_puts(&b, "Impersonate-Extra-") < 0)
		return K8S_ENOMEM;
	for (p = (const unsigned char *)key; *p; p++) {
		if (isalnum(*p) || strchr("!#$&'*+-.^_`|~", *p)) {
			if (k8s_buf_put(&b, p, 1) < 0)
				goto oom;
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			if (k8s_buf_put(&b, e, 3) < 0)
				goto oom;
		}
	}
	rc = hs_add(h, b.ptr, value);
	k8s_buf_free(&b);
	return rc;
oom:
	k8s_buf_free(&b);
	return K8S_ENOMEM;
}

static int build_headers(k8s_request *r, const char *url, header_set *h)
{
	k8s_rest_client *c = r->c;
	k8s_config *cfg = c->cfg;
	const char *tok;
	size_t i;
	int rc;

	for (i = 0; i + 1 < r->headers.n; i += 2)
		if ((rc = hs_add(h, r->headers.items[i], r->headers.items[i + 1])) < 0)
			return rc;
	if (!user_set_header(r, "Accept") && (rc = hs_add(h, "Accept", c->accept)) < 0)
		return rc;
	if (r->has_body && !user_set_header(r, "Content-Type") && (rc = hs_add(h, "Content-Type", c->content_type)) < 0)
		return rc;
	if (!user_set_header(r, "User-Agent") && (rc = hs_add(h, "User-Agent", c->user_agent)) < 0)
		return rc;
	if (!user_set_header(r, "Authorization")) {
		if ((rc = current_token(c, &tok)) < 0)
			return rc;
		if (tok) {
			k8s_buf b = K8S_BUF_INIT;
			if (k8s_buf_printf(&b, "Bearer %s", tok) < 0)
				return K8S_ENOMEM;
			rc = hs_add(h, "Authorization", b.ptr);
			k8s_buf_wipe_free(&b);
			if (rc < 0)
				return rc;
		} else if (cfg->f[F_USERNAME].s || cfg->f[F_PASSWORD].s) {
			k8s_buf up = K8S_BUF_INIT, b = K8S_BUF_INIT;
			if (k8s_buf_printf(&up, "%s:%s", cfg->f[F_USERNAME].s ? cfg->f[F_USERNAME].s : "",
					   cfg->f[F_PASSWORD].s ? cfg->f[F_PASSWORD].s : "") < 0 ||
			    k8s_buf_puts(&b, "Basic ") < 0 || k8s__base64_encode(&b, up.ptr, up.len) < 0) {
				k8s_buf_free(&up);
				k8s_buf_free(&b);
				return K8S_ENOMEM;
			}
			rc = hs_add(h, "Authorization", b.ptr);
			k8s_buf_wipe_free(&up);
			k8s_buf_wipe_free(&b);
			if (rc < 0)
				return rc;
		}
	}
	if (cfg->f[F_IMP_USER].s && *cfg->f[F_IMP_USER].s) {
		k8s_strlist *g = &cfg->f[F_IMP_GROUPS].list, *x = &cfg->f[F_IMP_EXTRA].list;
		if ((rc = hs_add(h, "Impersonate-User", cfg->f[F_IMP_USER].s)) < 0)
			return rc;
		if (cfg->f[F_IMP_UID].s && *cfg->f[F_IMP_UID].s && (rc = hs_add(h, "Impersonate-Uid", cfg->f[F_IMP_UID].s)) < 0)
			return rc;
		for (i = 0; i < g->n; i++)
			if ((rc = hs_add(h, "Impersonate-Group", g->items[i])) < 0)
				return rc;
		for (i = 0; i + 1 < x->n; i += 2)
			if ((rc = extra_header(h, x->items[i], x->items[i + 1])) < 0)
				return rc;
	}
	if (cfg->req_hook) {
		rc = cfg->req_hook(cfg->hook_payload ? cfg->hook_payload->ptr : NULL, r->verb, url, hs_add, h);
		if (rc < 0) {
			if (k8s_error_last()->code == 0)
				k8s__error(rc, "HookError", "request hook failed");
			return rc;
		}
	}
	return h->failed ? K8S_ENOMEM : 0;
}

static void log_headers(k8s_rest_client *c, header_set *h)
{
	size_t i;
	if (c->verbose < 7)
		return;
	for (i = 0; i < h->lines.n; i++) {
		const char *l = h->lines.items[i];
		if (strncasecmp(l, "Authorization:", 14) == 0)
			k8s__debug(c, 7, "    Authorization: <masked>");
		else
			k8s__debug(c, 7, "    %s", l);
	}
}

/* Integer Retry-After, or -1. */
static int retry_after(k8s_http_response *resp)
{
	const char *v = resp ? k8s_http_response_header(resp, "Retry-After") : NULL;
	char *end;
	long n;
	if (!v || !*v)
		return -1;
	n = strtol(v, &end, 10);
	if (*end || n < 0 || n > 86400)
		return -1;
	return (int)n;
}

/* Read and discard what is left of a small body before a retry, so the
 * connection can be reused (client-go's readAndCloseResponseBody); give up
 * after 64 KiB or a second and let the connection close instead. */
static void drain_and_free(k8s_http_response *resp)
{
	double deadline = k8s__now() + 1.0;
	size_t total = 0;
	for (;;) {
		const char *d;
		size_t n;
		double left = deadline - k8s__now();
		if (left <= 0 || total > 65536 || k8s_http_response_read(resp, &d, &n, left) != 1)
			break;
		total += n;
	}
	k8s_http_response_free(resp);
}

/* URLBackoff.UpdateBackoff: connection errors (status 0) and 5xx double the
 * wait (from base up to max); any other answer resets it. */
static void backoff_update(k8s_rest_client *c, long status)
{
	if (c->backoff_base <= 0)
		return;
	if (status == 0 || status >= 500) {
		c->backoff_cur = c->backoff_cur > 0 ? c->backoff_cur * 2 : c->backoff_base;
		if (c->backoff_cur > c->backoff_max)
			c->backoff_cur = c->backoff_max;
	} else {
		c->backoff_cur = 0;
	}
}

int k8s_rest_client_set_backoff(k8s_rest_client *c, double base, double max)
{
	if (base < 0 || max < 0)
		return k8s__error(K8S_EINVALID, "Invalid", "backoff: base and max must not be negative");
	c->backoff_base = base;
	c->backoff_max = max > 0 ? max : base;
	c->backoff_cur = 0;
	return 0;
}

typedef enum { MODE_DO, MODE_STREAM, MODE_WATCH } exec_mode;

/* One request with throttling and retries. On success *resp is the open
 * response; its status may be any code. */
static int send_with_retries(k8s_request *r, const char *url, exec_mode mode, k8s_http_response **resp_out)
{
	k8s_rest_client *c = r->c;
	int attempt = 0, rc, auth_retried = 0, skip_backoff = 0;
	*resp_out = NULL;
	for (;;) {
		header_set h = {{NULL, 0}, 0};
		k8s_http_request hr;
		k8s_http_response *resp = NULL;
		double t0, waited;
		long status;
		int ra;

		if (c->backoff_cur > 0 && !skip_backoff) {
			k8s__debug(c, 4, "backing off %.3fs before %s %s", c->backoff_cur, r->verb, url);
			k8s__sleep(c->backoff_cur);
		}
		skip_backoff = 0;
		if (mode != MODE_WATCH && c->rl) {
			waited = k8s_rate_limiter_accept(c->rl);
			if (waited > 0.05)
				k8s__debug(c, waited > 1 ? 2 : 3,
					   "Waited for %.3fs due to client-side throttling, not priority and fairness, request: %s:%s",
					   waited, r->verb, url);
		}
		if ((rc = build_headers(r, url, &h)) < 0) {
			hs_free(&h);
			return rc;
		}
		k8s__debug(c, 6, "%s %s", r->verb, url);
		log_headers(c, &h);
		memset(&hr, 0, sizeof(hr));
		hr.method = r->verb;
		hr.url = url;
		hr.headers = h.lines.items;
		hr.nheaders = h.lines.n;
		hr.body = r->has_body ? r->body : NULL;
		hr.body_len = r->body_len;
		hr.timeout = (mode == MODE_DO) ? r->timeout : 0;
		t0 = k8s__now();
		rc = k8s_transport_send(c->transport, &hr, &resp);
		hs_free(&h);
		if (rc < 0) {
			const k8s_error *e = k8s_error_last();
			int retryable = strcmp(r->verb, "GET") == 0 && mode != MODE_STREAM &&
					strcmp(e->reason, "ConnectionReset") == 0;
			k8s__debug(c, 6, "%s %s failed after %.0f ms: %s", r->verb, url, (k8s__now() - t0) * 1000, e->message);
			if (c->cfg->resp_hook)
				c->cfg->resp_hook(c->cfg->hook_payload ? c->cfg->hook_payload->ptr : NULL, r->verb, url, 0,
						  k8s__now() - t0);
			backoff_update(c, 0);
			if (retryable && attempt < r->max_retries) {
				attempt++;
				k8s__sleep(1.0);
				continue;
			}
			return rc;
		}
		status = k8s_http_response_status(resp);
		backoff_update(c, status);
		k8s__debug(c, 6, "%s %s %ld in %.0f milliseconds", r->verb, url, status, (k8s__now() - t0) * 1000);
		if (c->verbose >= 8) {
			size_t i;
			const char *names[] = {"Content-Type", "Content-Encoding", "Retry-After", "Warning", "Audit-Id",
					       "X-Kubernetes-Pf-Flowschema-Uid", NULL};
			for (i = 0; names[i]; i++) {
				const char *v = k8s_http_response_header(resp, names[i]);
				if (v)
					k8s__debug(c, 8, "    %s: %s", names[i], v);
			}
		}
		if (c->cfg->resp_hook)
			c->cfg->resp_hook(c->cfg->hook_payload ? c->cfg->hook_payload->ptr : NULL, r->verb, url, status,
					  k8s__now() - t0);
		if (status == 401 && !auth_retried && drop_credentials(c)) {
			auth_retried = 1;
			drain_and_free(resp);
			continue;
		}
		ra = retry_after(resp);
		if ((status == 429 || status >= 500) && ra >= 0 && attempt < r->max_retries) {
			attempt++;
			k8s__debug(c, 4, "Got a Retry-After %ds response for attempt %d to %s", ra, attempt, url);
			drain_and_free(resp);
			/* the larger of Retry-After and the backoff, as client-go */
			k8s__sleep(ra > c->backoff_cur ? ra : c->backoff_cur);
			skip_backoff = 1;
			continue;
		}
		*resp_out = resp;
		return 0;
	}
}

int k8s_request_do(k8s_result **out, k8s_request *r)
{
	char *url;
	k8s_http_response *resp = NULL;
	k8s_buf body = K8S_BUF_INIT;
	int rc;
	*out = NULL;
	if (!(url = k8s_request_url(r)))
		return k8s_error_last()->code ? k8s_error_last()->code : K8S_ERROR;
	rc = send_with_retries(r, url, MODE_DO, &resp);
	free(url);
	if (rc == K8S_EINVALID || rc == K8S_ENOMEM)
		return rc;
	if (rc < 0)
		return k8s__result_from_error(out, rc);
	{
		long status = k8s_http_response_status(resp);
		int ok = status >= 200 && status < 300;
		rc = k8s_http_response_read_all_observed(resp, &body, ok ? r->observer : NULL, r->observer_payload);
	}
	if (rc < 0) {
		k8s_buf_free(&body);
		k8s_http_response_free(resp);
		return k8s__result_from_error(out, rc);
	}
	rc = k8s__result_from_response(out, r, resp, &body, 0);
	k8s_http_response_free(resp);
	return rc;
}

int k8s_request_do_raw(char **body, size_t *len, k8s_request *r)
{
	k8s_result *res;
	int rc = k8s_request_do(&res, r);
	*body = NULL;
	if (len)
		*len = 0;
	if (!res)
		return rc;
	if (rc == 0) {
		if (len)
			*len = res->body.len;
		*body = k8s_buf_detach(&res->body);
	} else {
		const k8s_status *st = k8s_result_status(res);
		k8s__error(rc, st->reason, "%s", st->message);
	}
	k8s_result_free(res);
	return rc;
}

/* ---- streams ---- */

struct k8s_stream {
	k8s_rest_client *c;     /* the response uses the client's transport */
	k8s_http_response *resp;
	int ended;
};

static int open_stream(k8s_http_response **out, k8s_result **res_err, k8s_request *r, exec_mode mode)
{
	char *url;
	k8s_http_response *resp = NULL;
	k8s_buf body = K8S_BUF_INIT;
	long status;
	int rc;
	*out = NULL;
	if (res_err)
		*res_err = NULL;
	if (!(url = k8s_request_url(r)))
		return k8s_error_last()->code ? k8s_error_last()->code : K8S_ERROR;
	rc = send_with_retries(r, url, mode, &resp);
	free(url);
	if (rc < 0) {
		if (res_err && rc != K8S_EINVALID && rc != K8S_ENOMEM)
			return k8s__result_from_error(res_err, rc);
		return rc;
	}
	status = k8s_http_response_status(resp);
	if ((status >= 200 && status <= 206) || status == 101) {
		*out = resp;
		return 0;
	}
	rc = k8s_http_response_read_all(resp, &body);
	if (rc < 0) {
		k8s_buf_free(&body);
		k8s_http_response_free(resp);
		return rc;
	}
	{
		k8s_result *res = NULL;
		rc = k8s__result_from_response(&res, r, resp, &body, 0);
		k8s_http_response_free(resp);
		if (res) {
			const k8s_status *st = k8s_result_status(res);
			if (st)
				k8s__error(rc, st->reason, "%s", st->message);
			if (res_err)
				*res_err = res;
			else
				k8s_result_free(res);
		}
	}
	return rc < 0 ? rc : K8S_ESTATUS;
}

int k8s_request_stream(k8s_stream **out, k8s_result **res_err, k8s_request *r)
{
	k8s_stream *s;
	k8s_http_response *resp;
	int rc;
	*out = NULL;
	if ((rc = open_stream(&resp, res_err, r, MODE_STREAM)) < 0)
		return rc;
	if (!(s = calloc(1, sizeof(*s)))) {
		k8s_http_response_free(resp);
		return k8s__error_oom();
	}
	s->resp = resp;
	s->c = k8s_rest_client_ref(r->c);
	*out = s;
	return 0;
}

int k8s_stream_read(k8s_stream *s, const char **data, size_t *len, double timeout)
{
	int rc;
	*data = NULL;
	*len = 0;
	if (s->ended || !s->resp)
		return 0;
	rc = k8s_http_response_read(s->resp, data, len, timeout);
	if (rc == 0)
		s->ended = 1;
	return rc;
}

void k8s_stream_free(k8s_stream *s)
{
	if (!s)
		return;
	k8s_http_response_free(s->resp);
	k8s_rest_client_free(s->c);
	free(s);
}

/* ---- watch ---- */

struct k8s_watch {
	k8s_rest_client *c;
	k8s_http_response *resp;
	k8s_watch_decoder *dec;
	int ended;
	int stopped;            /* k8s_watch_stop: buffered events are dropped */
};

int k8s_request_watch(k8s_watch **out, k8s_result **res_err, k8s_request *r)
{
	k8s_watch *w;
	k8s_http_response *resp;
	int rc;
	*out = NULL;
	if (res_err)
		*res_err = NULL;
	if ((rc = k8s_request_param(r, "watch", "true")) < 0)
		return rc;
	if ((rc = open_stream(&resp, res_err, r, MODE_WATCH)) < 0)
		return rc;
	if (!(w = calloc(1, sizeof(*w))) || k8s_watch_decoder_new(&w->dec, 0) < 0) {
		free(w);
		k8s_http_response_free(resp);
		return k8s__error_oom();
	}
	w->resp = resp;
	w->c = k8s_rest_client_ref(r->c);
	*out = w;
	return 0;
}

int k8s_watch_next(k8s_watch *w, k8s_watch_event *ev, double timeout)
{
	double deadline = timeout >= 0 ? k8s__now() + timeout : 0;
	for (;;) {
		const char *data;
		size_t len;
		int rc;
		if (w->stopped)
			return 0;
		rc = k8s_watch_decoder_next(w->dec, ev);
		if (rc != 0)
			return rc;
		if (w->ended || !w->resp)
			return 0;
		rc = k8s_http_response_read(w->resp, &data, &len,
					    timeout >= 0 ? (deadline - k8s__now() > 0 ? deadline - k8s__now() : 0) : -1);
		if (rc == 0) {
			w->ended = 1;
			if (k8s_watch_decoder_pending(w->dec) > 0)
				return k8s__error(K8S_EOF, "UnexpectedEOF", "watch stream ended inside an event");
			return 0;
		}
		if (rc < 0) {
			if (rc != K8S_ETIMEOUT)
				w->ended = 1;
			return rc;
		}
		if ((rc = k8s_watch_decoder_feed(w->dec, data, len)) < 0)
			return rc;
	}
}

void k8s_watch_stop(k8s_watch *w)
{
	if (!w)
		return;
	k8s_http_response_free(w->resp);
	w->resp = NULL;
	w->ended = 1;
	w->stopped = 1;
}

void k8s_watch_free(k8s_watch *w)
{
	if (!w)
		return;
	k8s_watch_stop(w);
	k8s_watch_decoder_free(w->dec);
	k8s_rest_client_free(w->c);
	free(w);
}
