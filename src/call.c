/* The sans-I/O request engine (include/k8s/call.h): throttling, credentials
 * and their refresh after a 401, headers, retries with Retry-After,
 * connection-reset retries and URLBackoff, as one state machine that answers
 * "what next?" with an action and never blocks. A Timeout bounds the whole
 * call, retries and waits included (client-go's context deadline). The
 * credentials themselves and the Authorization and Impersonate-* headers
 * are credentials.c's. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "k8s/call.h"
#include "rest_internal.h"
#include "proto.h"
#include "credentials.h"

/* First attempt: THROTTLE (outside the deadline, as client-go), BACKOFF
 * (the deadline starts), EXEC...; a retry: RETRY_SLEEP, BACKOFF, THROTTLE,
 * EXEC... (client-go's withRetry.Before: the wait, then the rate limiter). */
enum {
	S_BACKOFF,      /* URLBackoff wait before an attempt */
	S_THROTTLE,     /* client-side rate limiter */
	S_EXEC,         /* exec plugin credential */
	S_EXEC_WAIT,
	S_TOKEN,        /* auth provider callback token */
	S_TOKEN_WAIT,
	S_SEND,         /* headers built, request handed to the driver */
	S_SENDING,
	S_AUTH_EXEC,    /* 401: run the exec plugin again */
	S_AUTH_EXEC_WAIT,
	S_AUTH_TOKEN,   /* 401: ask the auth provider again */
	S_AUTH_TOKEN_WAIT,
	S_AUTH_DECIDE,
	S_DRAIN,        /* discard the body before a retry */
	S_DRAIN_WAIT,
	S_RETRY_SLEEP,  /* Retry-After or reset wait, then a new attempt */
	S_RETRY_WAIT,
	S_DONE
};

typedef struct {
	k8s_strlist lines; /* "Name: value" */
	int failed;
} header_set;

struct k8s_call {
	k8s_rest_client *c;
	k8s_call_mode mode;
	char *verb, *url, *resource, *name;
	k8s_strlist user_headers;     /* name, value, ... */
	char *body;
	size_t body_len;
	int has_body;
	double timeout;               /* Timeout: the whole call's, 0 for none */
	int max_retries;
	k8s_call_clock clock;         /* NULL: k8s__now */
	void *clock_payload;
	int has_deadline;             /* the deadline runs (from the end of the first throttle wait) */
	double deadline;              /* on the call's clock */
	int nsent;                    /* SEND actions so far */
	double watch_timeout;         /* a watch's timeoutSeconds, 0 for none */

	int state;
	int attempt, auth_retried, skip_backoff, auth_retry;
	int invalidate;               /* the credential step is a refresh after a 401 */
	int exec_ran;                 /* this call ran the exec plugin: use what it returned */
	char *token;                  /* the callback's answer to this call's TOKEN step: sent rather than
				       * the shared cache, which another thread may refresh meanwhile */
	double sleep_for, retry_wait;
	double t0;                    /* when the request was sent */
	header_set h;
	k8s_http_head head;           /* the last response */
	int rc;                       /* final error code, or 0 */
	int keep_pb;                  /* k8s__call_keep_protobuf */
	int json_fallback;            /* a 406 to the protobuf Accept: sent again asking for JSON */
};


/* ---- the deadline ---- */

/* Less than this left of the Timeout counts as none: every attempt gets at
 * least a millisecond (libcurl takes a 0 ms timeout for "no timeout"). */
#define MIN_LEFT 0.001

static double call_now(const k8s_call *k)
{
	return k->clock ? k->clock(k->clock_payload) : k8s__now();
}

/* Start the deadline (once): client-go sets the context timeout after the
 * first throttle wait, before the first backoff. */
static void deadline_start(k8s_call *k)
{
	if (k->timeout > 0 && !k->has_deadline) {
		k->deadline = call_now(k) + k->timeout;
		k->has_deadline = 1;
	}
}

/* Seconds left before the deadline (>= 0), or -1 when the call has none. */
static double time_left(const k8s_call *k)
{
	double left;
	if (!k->has_deadline)
		return -1;
	left = k->deadline - call_now(k);
	return left > 0 ? left : 0;
}

static int deadline_passed(const k8s_call *k)
{
	return k->has_deadline && time_left(k) < MIN_LEFT;
}

/* A wait of `seconds` the call can afford: shorter than the time left. */
static int wait_fits(const k8s_call *k, double seconds)
{
	double left = time_left(k);
	return left < 0 || seconds + MIN_LEFT <= left;
}

/* ---- headers ---- */

static int hs_add(void *ctx, const char *name, const char *value)
{
	header_set *h = ctx;
	k8s_buf b = K8S_BUF_INIT;
	if (!name || strpbrk(name, ":\r\n") || (value && strpbrk(value, "\r\n")))
		return k8s__error(K8S_EINVALID, "Invalid", "invalid header %s", name ? name : "(null)");
	if (k8s_buf_printf(&b, "%s: %s", name, value ? value : "") < 0 || k8s__strlist_add(&h->lines, b.ptr) < 0) {
		k8s_buf_wipe_free(&b);
		h->failed = 1;
		return K8S_ENOMEM;
	}
	k8s_buf_wipe_free(&b);
	return 0;
}

static void hs_free(header_set *h)
{
	k8s__strlist_wipe(&h->lines); /* Authorization lines */
	h->failed = 0;
}

static int user_set_header(k8s_call *k, const char *name)
{
	size_t i;
	for (i = 0; i + 1 < k->user_headers.n; i += 2)
		if (strcasecmp(k->user_headers.items[i], name) == 0)
			return 1;
	return 0;
}

static int build_headers(k8s_call *k)
{
	k8s_rest_client *c = k->c;
	k8s_config *cfg = c->cfg;
	header_set *h = &k->h;
	size_t i;
	int rc;

	hs_free(h);
	for (i = 0; i + 1 < k->user_headers.n; i += 2)
		if ((rc = hs_add(h, k->user_headers.items[i], k->user_headers.items[i + 1])) < 0)
			return rc;
	if (!user_set_header(k, "Accept") &&
	    (rc = hs_add(h, "Accept", k->json_fallback ? "application/json, */*" : c->accept)) < 0)
		return rc;
	if (k->has_body && !user_set_header(k, "Content-Type") && (rc = hs_add(h, "Content-Type", c->content_type)) < 0)
		return rc;
	if (!user_set_header(k, "User-Agent") && (rc = hs_add(h, "User-Agent", c->user_agent)) < 0)
		return rc;
	if (!user_set_header(k, "Authorization") && (rc = k8s__auth_header(c, k->exec_ran, k->token, hs_add, h)) < 0)
		return rc;
	/* a request that impersonates by itself is left as it is (client-go's
	 * impersonating round tripper) */
	if (!user_set_header(k, "Impersonate-User") && (rc = k8s__impersonate_headers(cfg, hs_add, h)) < 0)
		return rc;
	if (cfg->req_hook) {
		rc = cfg->req_hook(cfg->hook_payload ? cfg->hook_payload->ptr : NULL, k->verb, k->url, hs_add, h);
		if (rc < 0) {
			if (k8s_error_last()->code == 0)
				k8s__error(rc, "HookError", "request hook failed");
			return rc;
		}
	}
	return h->failed ? K8S_ENOMEM : 0;
}

static void log_headers(k8s_call *k)
{
	size_t i;
	if (k->c->verbose < 7)
		return;
	for (i = 0; i < k->h.lines.n; i++) {
		const char *l = k->h.lines.items[i];
		if (strncasecmp(l, "Authorization:", 14) == 0)
			k8s__debug(k->c, 7, "    Authorization: <masked>");
		else
			k8s__debug(k->c, 7, "    %s", l);
	}
}

/* Integer Retry-After, or -1. */
static int retry_after(const k8s_http_head *h)
{
	int n;
	if (!k8s__parse_retry_after(k8s__http_head_get(h, "Retry-After"), &n) || n < 0 || n > 86400)
		return -1;
	return n;
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

/* ---- the call ---- */

int k8s_call_new(k8s_call **out, k8s_request *r, k8s_call_mode mode)
{
	k8s_call *k;
	size_t i;
	*out = NULL;
	if (mode == K8S_CALL_MODE_WATCH) {
		int rc = k8s_request_param(r, "watch", "true");
		if (rc < 0)
			return rc;
	}
	if (!(k = calloc(1, sizeof(*k))))
		return k8s__error_oom();
	if (!(k->url = k8s_request_url(r))) {
		free(k);
		return k8s_error_last()->code ? k8s_error_last()->code : K8S_EINVALID;
	}
	k->c = k8s_rest_client_ref(r->c);
	k->mode = mode;
	k->verb = k8s__strdup(r->verb);
	k->resource = k8s__strdup(r->resource);
	k->name = k8s__strdup(r->name);
	k->has_body = r->has_body;
	k->timeout = mode == K8S_CALL_MODE_DO ? r->timeout : 0;
	k->max_retries = r->max_retries;
	if (mode == K8S_CALL_MODE_WATCH)
		for (i = 0; i + 1 < r->params.n; i += 2)
			if (strcmp(r->params.items[i], "timeoutSeconds") == 0)
				k->watch_timeout = (double)strtol(r->params.items[i + 1], NULL, 10);
	if (r->has_body && r->body_len && !(k->body = malloc(r->body_len)))
		goto oom;
	if (k->body)
		memcpy(k->body, r->body, r->body_len);
	k->body_len = r->has_body ? r->body_len : 0;
	for (i = 0; i < r->headers.n; i++)
		if (k8s__strlist_add(&k->user_headers, r->headers.items[i]) < 0)
			goto oom;
	if (!k->verb || (r->resource && !k->resource) || (r->name && !k->name))
		goto oom;
	k->state = S_THROTTLE;
	*out = k;
	return 0;
oom:
	k8s_call_free(k);
	return k8s__error_oom();
}

static k8s_call_action finish(k8s_call *k, int rc)
{
	k->rc = rc;
	k->state = S_DONE;
	return K8S_CALL_DONE;
}

/* The deadline passed: client-go's context.DeadlineExceeded. */
static k8s_call_action timed_out(k8s_call *k)
{
	k8s__debug(k->c, 4, "%s %s: the request's Timeout (%gs) passed", k->verb, k->url, k->timeout);
	return finish(k, k8s__error(K8S_ETIMEOUT, "Timeout", "%s %s: context deadline exceeded (the request's Timeout of %gs passed)",
				    k->verb, k->url, k->timeout));
}

/* SLEEP for `seconds`, but not past the deadline (SleepWithContext). */
static k8s_call_action sleep_capped(k8s_call *k, double seconds)
{
	double left = time_left(k);
	k->sleep_for = left >= 0 && seconds > left ? left : seconds;
	return K8S_CALL_SLEEP;
}

k8s_call_action k8s_call_next(k8s_call *k)
{
	k8s_rest_client *c = k->c;
	k8s_config *cfg = c->cfg;
	int rc;
	for (;;) {
		switch (k->state) {
		case S_BACKOFF: {
			int skip = k->skip_backoff;
			if (!k->nsent)
				deadline_start(k);
			k->skip_backoff = 0;
			k->state = k->nsent ? S_THROTTLE : S_EXEC;
			if (deadline_passed(k))
				return timed_out(k);
			if (c->backoff_cur > 0 && !skip) {
				k8s__debug(c, 4, "backing off %.3fs before %s %s", c->backoff_cur, k->verb, k->url);
				return sleep_capped(k, c->backoff_cur);
			}
			break;
		}
		case S_THROTTLE:
			k->state = k->nsent ? S_EXEC : S_BACKOFF;
			if (deadline_passed(k))
				return timed_out(k);
			if (k->mode != K8S_CALL_MODE_WATCH && c->rl) {
				double w = k8s_rate_limiter_reserve(c->rl);
				if (w > 0.05)
					k8s__debug(c, w > 1 ? 2 : 3,
						   "Waited for %.3fs due to client-side throttling, not priority and fairness, request: %s:%s",
						   w, k->verb, k->url);
				if (w > 0) {
					/* a retry's throttle runs under the deadline: client-go's
					 * rate.Limiter.Wait fails at once when the wait would pass it */
					if (!wait_fits(k, w))
						return finish(k, k8s__error(K8S_ETIMEOUT, "Timeout",
									    "%s %s: client rate limiter Wait returned an error: "
									    "rate: Wait(n=1) would exceed context deadline",
									    k->verb, k->url));
					k->sleep_for = w;
					return K8S_CALL_SLEEP;
				}
			}
			break;
		case S_EXEC:
			if (deadline_passed(k))
				return timed_out(k);
			k->state = S_TOKEN;
			k->invalidate = 0;
			if (cfg->exec_payload && !user_set_header(k, "Authorization")) {
				const k8s_credential *cred;
				k8s__payload_lock(cfg->exec_payload);
				if (!(cred = k8s__exec_cred(c, k->exec_ran))) {
					k8s__payload_unlock(cfg->exec_payload);
					k->state = S_EXEC_WAIT;
					return K8S_CALL_EXEC;
				}
				/* this client's own transport takes a copy of the pair */
				rc = cred->cert_pem ? k8s__rest_client_set_client_cert(c, cred->cert_pem, cred->key_pem) : 0;
				k8s__payload_unlock(cfg->exec_payload);
				if (rc < 0)
					return finish(k, rc);
			}
			break;
		case S_TOKEN:
			k->state = S_SEND;
			if (cfg->token_cb && !user_set_header(k, "Authorization")) {
				if (k8s__token_valid(c)) {
					/* the shared cache's, perhaps newer than an earlier attempt's */
					k8s__sfree(k->token);
					k->token = NULL;
				} else {
					k->state = S_TOKEN_WAIT;
					return K8S_CALL_TOKEN;
				}
			}
			break;
		case S_SEND:
			if (deadline_passed(k))
				return timed_out(k);
			if ((rc = build_headers(k)) < 0)
				return finish(k, rc);
			k8s__debug(c, 6, "%s %s", k->verb, k->url);
			log_headers(k);
			k8s__http_head_clear(&k->head);
			k->t0 = k8s__now();
			k->nsent++;
			k->state = S_SENDING;
			return K8S_CALL_SEND;
		case S_AUTH_EXEC:
			k->state = S_AUTH_TOKEN;
			k->auth_retry = 0;
			if (cfg->exec_payload) {
				/* run the plugin again once; the request is retried with the new credential */
				k->invalidate = 1;
				k->state = S_AUTH_EXEC_WAIT;
				return K8S_CALL_EXEC;
			}
			break;
		case S_AUTH_TOKEN:
			k->state = S_AUTH_DECIDE;
			if (cfg->token_cb) {
				k8s__payload_token_drop(cfg->token_payload);
				k->invalidate = 1;
				k->state = S_AUTH_TOKEN_WAIT;
				return K8S_CALL_TOKEN;
			}
			break;
		case S_AUTH_DECIDE:
			k->invalidate = 0;
			if (c->file_token)
				c->file_token_at = -1e9; /* re-read on next use */
			if (!k->auth_retry || deadline_passed(k))
				return finish(k, 0); /* the 401 is the answer */
			k->auth_retried = 1;
			k->retry_wait = -1;
			k->state = S_DRAIN;
			break;
		case S_DRAIN:
			k->state = S_DRAIN_WAIT;
			return K8S_CALL_DRAIN;
		case S_RETRY_SLEEP:
			k->state = S_BACKOFF;
			if (deadline_passed(k))
				return timed_out(k);
			if (k->retry_wait >= 0) {
				k->state = S_RETRY_WAIT;
				return sleep_capped(k, k->retry_wait);
			}
			break;
		case S_DONE:
			return K8S_CALL_DONE;
		default: /* waiting for the driver: repeat the action */
			switch (k->state) {
			case S_EXEC_WAIT: case S_AUTH_EXEC_WAIT: return K8S_CALL_EXEC;
			case S_TOKEN_WAIT: case S_AUTH_TOKEN_WAIT: return K8S_CALL_TOKEN;
			case S_SENDING: return K8S_CALL_SEND;
			case S_DRAIN_WAIT: return K8S_CALL_DRAIN;
			default: return K8S_CALL_SLEEP;
			}
		}
	}
}

double k8s_call_sleep_seconds(const k8s_call *k)
{
	return k->sleep_for > 0 ? k->sleep_for : 0;
}

void k8s_call_slept(k8s_call *k)
{
	k->sleep_for = 0;
	if (k->state == S_RETRY_WAIT)
		k->state = S_BACKOFF;
}

int k8s_call_credential_invalidate(const k8s_call *k)
{
	return k->invalidate;
}

int k8s_call_exec_run(k8s_call *k)
{
	const k8s_credential *cred;
	k8s_payload *p = k->c->cfg->exec_payload;
	int rc;
	if (!p)
		return 0;
	/* the plugin's cache is written when the run ends: the lock is held
	 * throughout, and a thread that waited for it finds that credential
	 * cached (unless it wants a fresh one after a 401) */
	k8s__payload_lock(p);
	rc = k8s__exec_provider_get(p->ptr, k->invalidate, &cred);
	k8s__payload_unlock(p);
	return rc;
}

void k8s_call_exec_done(k8s_call *k, int rc)
{
	if (k->state == S_EXEC_WAIT) {
		if (rc < 0) {
			finish(k, rc);
			return;
		}
		k->exec_ran = 1;
		k->state = S_EXEC; /* apply the new credential */
	} else if (k->state == S_AUTH_EXEC_WAIT) {
		if (rc == 0) {
			k->auth_retry = 1;
			k->exec_ran = 1;
		}
		k->state = S_AUTH_TOKEN;
	}
}

void k8s_call_token_done(k8s_call *k, int rc, const char *token, double expiry)
{
	k8s_payload *p = k->c->cfg->token_payload;
	int ok = rc == 0;
	k8s__sfree(k->token);
	k->token = NULL;
	if (ok && token && !(k->token = k8s__strdup(token))) {
		finish(k, k8s__error_oom());
		return;
	}
	/* the clients sharing the cache use it until it expires */
	if (ok && p && k8s__payload_token_set(p, token, expiry) < 0) {
		finish(k, K8S_ENOMEM);
		return;
	}
	if (k->state == S_TOKEN_WAIT) {
		if (!ok) {
			if (k8s_error_last()->code == 0)
				k8s__error(K8S_EAUTH, "AuthProviderError", "credential plugin failed");
			finish(k, rc < 0 ? rc : K8S_EAUTH);
			return;
		}
		k->state = S_SEND;
	} else if (k->state == S_AUTH_TOKEN_WAIT) {
		if (ok && token)
			k->auth_retry = 1;
		k->state = S_AUTH_DECIDE;
	}
}

const char *k8s_call_method(const k8s_call *k) { return k->verb; }
const char *k8s_call_url(const k8s_call *k) { return k->url; }

double k8s_call_timeout(const k8s_call *k)
{
	double left;
	if (!k->has_deadline)
		return k->timeout;
	left = time_left(k);
	return left > MIN_LEFT ? left : MIN_LEFT;
}

void k8s_call_set_clock(k8s_call *k, k8s_call_clock clock, void *payload)
{
	if (k->has_deadline) /* keep the time left when the clock changes under a running call */
		k->deadline = k->deadline - call_now(k) + (clock ? clock(payload) : k8s__now());
	k->clock = clock;
	k->clock_payload = payload;
}

const char *k8s_call_header(const k8s_call *k, size_t i)
{
	return i < k->h.lines.n ? k->h.lines.items[i] : NULL;
}

size_t k8s__call_headers(const k8s_call *k, char ***lines)
{
	*lines = k->h.lines.items;
	return k->h.lines.n;
}

void k8s__call_http_request(const k8s_call *k, k8s_http_request *hr)
{
	memset(hr, 0, sizeof(*hr));
	hr->method = k->verb;
	hr->url = k->url;
	hr->headers = k->h.lines.items;
	hr->nheaders = k->h.lines.n;
	hr->body = k8s_call_body(k, &hr->body_len);
	hr->timeout = k8s_call_timeout(k); /* what is left of the Timeout */
}

const char *k8s_call_body(const k8s_call *k, size_t *len)
{
	if (len)
		*len = k->body_len;
	return k->has_body ? (k->body ? k->body : "") : NULL;
}

static void call_resp_hook(k8s_call *k, long status)
{
	k8s_config *cfg = k->c->cfg;
	if (cfg->resp_hook)
		cfg->resp_hook(cfg->hook_payload ? cfg->hook_payload->ptr : NULL, k->verb, k->url, status,
			       k8s__now() - k->t0);
}

void k8s_call_failed(k8s_call *k, int rc)
{
	const k8s_error *e = k8s_error_last();
	/* client-go retries a GET on IsConnectionReset or IsProbableEOF */
	int retryable = strcmp(k->verb, "GET") == 0 && k->mode != K8S_CALL_MODE_STREAM &&
			(strcmp(e->reason, "ConnectionReset") == 0 || strcmp(e->reason, "UnexpectedEOF") == 0);
	k8s_rest_client *c = k->c;
	hs_free(&k->h);
	k8s__debug(c, 6, "%s %s failed after %.0f ms: %s", k->verb, k->url, (k8s__now() - k->t0) * 1000, e->message);
	call_resp_hook(k, 0);
	backoff_update(c, 0);
	if (retryable && k->attempt < k->max_retries && !wait_fits(k, 1.0)) {
		/* client-go's artificial Retry-After: 1 does not fit in the time
		 * left: the error is the outcome (as a Retry-After that does not) */
		k8s__debug(c, 4, "not retrying %s %s: %.3fs left of the request's Timeout", k->verb, k->url, time_left(k));
		retryable = 0;
	}
	if (retryable && k->attempt < k->max_retries) {
		k->attempt++;
		k->retry_wait = 1.0;
		k->state = S_RETRY_SLEEP;
		return;
	}
	finish(k, rc);
}

int k8s_call_response(k8s_call *k, long status, const char *const *headers, size_t n)
{
	k8s_rest_client *c = k->c;
	size_t i;
	int ra;
	hs_free(&k->h);
	k8s__http_head_clear(&k->head);
	k->head.status = status;
	for (i = 0; i + 1 < n; i += 2)
		if (k8s__http_head_add(&k->head, headers[i], strlen(headers[i]), headers[i + 1], strlen(headers[i + 1])) < 0) {
			finish(k, k8s__error_oom());
			return K8S_ENOMEM;
		}
	backoff_update(c, status);
	k8s__debug(c, 6, "%s %s %ld in %.0f milliseconds", k->verb, k->url, status, (k8s__now() - k->t0) * 1000);
	if (c->verbose >= 8) {
		const char *names[] = {"Content-Type", "Content-Encoding", "Retry-After", "Warning", "Audit-Id",
				       "X-Kubernetes-Pf-Flowschema-Uid", NULL};
		for (i = 0; names[i]; i++) {
			const char *v = k8s__http_head_get(&k->head, names[i]);
			if (v)
				k8s__debug(c, 8, "    %s: %s", names[i], v);
		}
	}
	call_resp_hook(k, status);
	if (status == 401 && !k->auth_retried && !user_set_header(k, "Authorization") &&
	    (c->cfg->exec_payload || c->cfg->token_cb || c->file_token)) {
		k->state = S_AUTH_EXEC;
		return 0;
	}
	if (status == 406 && !k->json_fallback && !user_set_header(k, "Accept") &&
	    k8s__pb_is_content_type(c->accept)) {
		/* a server (an aggregated API) that cannot write protobuf for
		 * this type: ask again for JSON, as a client-go protobuf client
		 * falls back when the server says so */
		k8s__debug(c, 4, "%s %s: 406 Not Acceptable to protobuf, asking for JSON", k->verb, k->url);
		k->json_fallback = 1;
		k->retry_wait = 0;
		k->skip_backoff = 1;
		k->state = S_DRAIN;
		return 0;
	}
	ra = retry_after(&k->head);
	if ((status == 429 || status >= 500) && ra >= 0 && k->attempt < k->max_retries) {
		/* the larger of Retry-After and the backoff, as client-go */
		double wait = ra > c->backoff_cur ? ra : c->backoff_cur;
		if (!wait_fits(k, wait)) {
			/* the wait would outlast the request's Timeout: the server's
			 * answer is the outcome now, not a timeout after waiting */
			k8s__debug(c, 4, "Not retrying %s after a Retry-After %ds response: %.3fs left of the request's Timeout",
				   k->url, ra, time_left(k));
			finish(k, 0);
			return 0;
		}
		k->attempt++;
		k8s__debug(c, 4, "Got a Retry-After %ds response for attempt %d to %s", ra, k->attempt, k->url);
		k->retry_wait = wait;
		k->skip_backoff = 1;
		k->state = S_DRAIN;
		return 0;
	}
	finish(k, 0);
	return 0;
}

void k8s_call_drained(k8s_call *k)
{
	int skip = k->skip_backoff;
	k8s__http_head_clear(&k->head);
	k->state = S_RETRY_SLEEP;
	k->skip_backoff = skip;
}

int k8s_call_status(const k8s_call *k)
{
	return k->state == S_DONE ? k->rc : K8S_ERROR;
}

long k8s_call_response_status(const k8s_call *k)
{
	return k->head.status;
}

const char *k8s_call_response_header(const k8s_call *k, const char *name)
{
	return k8s__http_head_get(&k->head, name);
}

const k8s_http_head *k8s__call_head(const k8s_call *k)
{
	return &k->head;
}

k8s_rest_client *k8s__call_client(const k8s_call *k)
{
	return k->c;
}

int k8s__call_mode(const k8s_call *k)
{
	return k->mode;
}

double k8s__call_watch_stall(const k8s_call *k)
{
	double t = k->watch_timeout, grace;
	if (!(t > 0) || t > 1e9)
		return 0;
	grace = t < 5 ? 5 : t > 30 ? 30 : t;
	return t + grace;
}

int k8s_call_result(k8s_result **out, k8s_call *k, const char *body, size_t len)
{
	k8s_buf b = K8S_BUF_INIT;
	*out = NULL;
	if (k->state != S_DONE)
		return k8s__error(K8S_EINVALID, "Invalid", "k8s_call_result: the call is not done");
	if (k->rc < 0)
		return k8s__result_from_error(out, k->rc);
	if (len && k8s_buf_put(&b, body, len) < 0)
		return k8s__error_oom();
	return k8s__result_from_head(out, k->c, k->verb, k->resource, k->name, &k->head, &b, k->keep_pb);
}

void k8s__call_keep_protobuf(k8s_call *k)
{
	k->keep_pb = 1;
}

int k8s__call_keep_protobuf_on(const k8s_call *k)
{
	return k->keep_pb;
}

int k8s__call_result_buf(k8s_result **out, k8s_call *k, k8s_buf *body)
{
	*out = NULL;
	if (k->rc < 0) {
		k8s_buf_free(body);
		return k8s__result_from_error(out, k->rc);
	}
	return k8s__result_from_head(out, k->c, k->verb, k->resource, k->name, &k->head, body, k->keep_pb);
}

void k8s_call_free(k8s_call *k)
{
	if (!k)
		return;
	hs_free(&k->h);
	k8s__http_head_clear(&k->head);
	k8s__strlist_wipe(&k->user_headers);
	k8s__sfree(k->token);
	if (k->body)
		k8s__wipe(k->body, k->body_len);
	free(k->body);
	free(k->verb);
	free(k->url);
	free(k->resource);
	free(k->name);
	k8s_rest_client_free(k->c);
	free(k);
}
