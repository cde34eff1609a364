/* Executing requests: the blocking driver of the request engine (call.c,
 * which does the throttling, headers and retries; the credentials are
 * credentials.c's), and the Do / DoRaw / Stream / Watch entry points. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "rest_internal.h"
#include "k8s/call.h"

/* Read and discard what is left of a small body before a retry, so the
 * connection can be reused (client-go's readAndCloseResponseBody); give up
 * after 64 KiB or a second (or what is left of the request's Timeout, when
 * less) and let the connection close instead. */
static void drain_and_free(k8s_http_response *resp, double budget)
{
	double deadline = k8s__now() + (budget > 0 && budget < 1.0 ? budget : 1.0);
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

int k8s_rest_client_set_backoff(k8s_rest_client *c, double base, double max)
{
	if (base < 0 || max < 0)
		return k8s__error(K8S_EINVALID, "Invalid", "backoff: base and max must not be negative");
	c->backoff_base = base;
	c->backoff_max = max > 0 ? max : base;
	c->backoff_cur = 0;
	return 0;
}

/* The blocking driver: carries out the engine's actions with libcurl and
 * nanosleep. On success *resp is the open response; its status may be any code.
 * Each SEND's attempt timeout is what is left of the request's Timeout
 * (k8s_call_timeout, via k8s__call_http_request): CURLOPT_TIMEOUT_MS bounds
 * the whole transfer, connect to the last byte of the body; the engine caps
 * every SLEEP at the deadline. */
int k8s__call_run(k8s_call *k, k8s_http_response **resp_out)
{
	k8s_rest_client *c = k8s__call_client(k);
	k8s_config *cfg = c->cfg;
	k8s_http_response *resp = NULL;
	int rc;
	*resp_out = NULL;
	for (;;) {
		switch (k8s_call_next(k)) {
		case K8S_CALL_SLEEP:
			k8s__sleep(k8s_call_sleep_seconds(k));
			k8s_call_slept(k);
			break;
		case K8S_CALL_EXEC:
			k8s_call_exec_done(k, k8s_call_exec_run(k));
			break;
		case K8S_CALL_TOKEN: {
			char *t = NULL;
			double exp = 0;
			k8s_error_clear();
			/* serialised with the other threads refreshing the same
			 * cache; a token one of them got meanwhile is reused */
			rc = k8s__payload_token_fetch(cfg->token_payload, cfg->token_cb, k8s_call_credential_invalidate(k),
						      &t, &exp);
			k8s_call_token_done(k, rc, t, exp);
			k8s__sfree(t);
			break;
		}
		case K8S_CALL_SEND: {
			k8s_http_request hr;
			k8s__call_http_request(k, &hr);
			k8s_http_response_free(resp);
			resp = NULL;
			rc = k8s_transport_send(c->transport, &hr, &resp);
			if (rc < 0) {
				k8s_call_failed(k, rc);
			} else {
				const k8s_http_head *h = k8s_http_response_head(resp);
				k8s_call_response(k, h->status, (const char *const *)h->rh, h->nrh);
			}
			break;
		}
		case K8S_CALL_DRAIN:
			drain_and_free(resp, k8s_call_timeout(k));
			resp = NULL;
			k8s_call_drained(k);
			break;
		case K8S_CALL_DONE:
			rc = k8s_call_status(k);
			if (rc < 0) {
				k8s_http_response_free(resp);
				return rc;
			}
			*resp_out = resp;
			return 0;
		}
	}
}

int k8s__call_do(k8s_result **out, k8s_call *k, k8s_body_observer obs, void *payload)
{
	k8s_http_response *resp = NULL;
	k8s_buf body = K8S_BUF_INIT;
	int rc;
	*out = NULL;
	rc = k8s__call_run(k, &resp);
	if (rc == K8S_EINVALID || rc == K8S_ENOMEM)
		return rc;
	if (rc < 0)
		return k8s__result_from_error(out, rc);
	{
		long status = k8s_http_response_status(resp);
		int ok = status >= 200 && status < 300;
		rc = k8s_http_response_read_all_observed(resp, &body, ok ? obs : NULL, payload);
	}
	k8s_http_response_free(resp);
	if (rc < 0) {
		k8s_buf_free(&body);
		return k8s__result_from_error(out, rc);
	}
	return k8s__call_result_buf(out, k, &body);
}

int k8s_request_do(k8s_result **out, k8s_request *r)
{
	k8s_call *k;
	int rc;
	*out = NULL;
	if ((rc = k8s_call_new(&k, r, K8S_CALL_MODE_DO)) < 0)
		return rc;
	rc = k8s__call_do(out, k, r->observer, r->observer_payload);
	k8s_call_free(k);
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

/* Run a STREAM or WATCH call to its answer: a 2xx/101 response stays open
 * in *out; anything else becomes an error (and *res_err its result). */
static int open_stream(k8s_http_response **out, k8s_result **res_err, k8s_call *k)
{
	k8s_http_response *resp = NULL;
	k8s_buf body = K8S_BUF_INIT;
	long status;
	int rc;
	*out = NULL;
	if (res_err)
		*res_err = NULL;
	rc = k8s__call_run(k, &resp);
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
	k8s_http_response_free(resp);
	if (rc < 0) {
		k8s_buf_free(&body);
		return rc;
	}
	{
		k8s_result *res = NULL;
		rc = k8s__call_result_buf(&res, k, &body);
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

int k8s__call_stream(k8s_stream **out, k8s_result **res_err, k8s_call *k)
{
	k8s_stream *s;
	k8s_http_response *resp;
	int rc;
	*out = NULL;
	if ((rc = open_stream(&resp, res_err, k)) < 0)
		return rc;
	if (!(s = calloc(1, sizeof(*s)))) {
		k8s_http_response_free(resp);
		return k8s__error_oom();
	}
	s->resp = resp;
	s->c = k8s_rest_client_ref(k8s__call_client(k));
	*out = s;
	return 0;
}

int k8s_request_stream(k8s_stream **out, k8s_result **res_err, k8s_request *r)
{
	k8s_call *k;
	int rc;
	*out = NULL;
	if (res_err)
		*res_err = NULL;
	if ((rc = k8s_call_new(&k, r, K8S_CALL_MODE_STREAM)) < 0)
		return rc;
	rc = k8s__call_stream(out, res_err, k);
	k8s_call_free(k);
	return rc;
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
	int fed;                /* bytes come from k8s__watch_feed (the nginx driver) */
	int end_rc;             /* fed: how the stream ended (0 = cleanly) */
	char *end_reason, *end_message;
	double stall, stall_at; /* k8s__call_watch_stall, and when (k8s__now) it passes; 0: none */
};

static void watch_stall_start(k8s_watch *w, const k8s_call *k)
{
	w->stall = k8s__call_watch_stall(k);
	w->stall_at = w->stall > 0 ? k8s__now() + w->stall : 0;
}

double k8s__watch_stall_in(const k8s_watch *w)
{
	double left;
	if (!w->stall_at || w->ended)
		return -1;
	left = w->stall_at - k8s__now();
	return left > 0 ? left : 0;
}

/* Neither data nor the end by the stall limit: the server ends a watch at
 * its timeoutSeconds, so a silent connection is dead (a blackhole, a hung
 * server or a lost peer that TCP keepalive cannot see). client-go finds it
 * with its HTTP/2 health check; here the watch ends with an error. */
static int watch_stalled(k8s_watch *w)
{
	k8s_http_response_free(w->resp);
	w->resp = NULL;
	w->ended = 1;
	w->end_rc = 0;
	return k8s__error(K8S_ETRANSPORT, "WatchStalled",
			  "watch: neither an event nor its end %.0f s after it started (timeoutSeconds plus grace): "
			  "the connection is presumed dead", w->stall);
}

int k8s__watch_new_fed(k8s_watch **out, const k8s_call *k)
{
	k8s_watch *w;
	*out = NULL;
	if (!(w = calloc(1, sizeof(*w))) || k8s_watch_decoder_new(&w->dec, 0) < 0) {
		free(w);
		return k8s__error_oom();
	}
	w->fed = 1;
	if (k8s__call_keep_protobuf_on(k))
		k8s__watch_decoder_keep_protobuf(w->dec);
	w->c = k8s_rest_client_ref(k8s__call_client(k));
	watch_stall_start(w, k);
	*out = w;
	return 0;
}

int k8s__watch_feed(k8s_watch *w, const char *data, size_t len)
{
	if (w->stopped || w->ended)
		return 0;
	return k8s_watch_decoder_feed(w->dec, data, len);
}

void k8s__watch_end(k8s_watch *w, int rc, const char *reason, const char *message)
{
	if (w->ended)
		return;
	w->ended = 1;
	w->end_rc = rc;
	if (rc < 0) {
		w->end_reason = k8s__strdup(reason ? reason : "ConnectionReset");
		w->end_message = k8s__strdup(message ? message : "the watch connection failed");
	}
}

int k8s__call_watch(k8s_watch **out, k8s_result **res_err, k8s_call *k)
{
	k8s_watch *w;
	k8s_http_response *resp;
	int rc;
	*out = NULL;
	if ((rc = open_stream(&resp, res_err, k)) < 0)
		return rc;
	if (!(w = calloc(1, sizeof(*w))) || k8s_watch_decoder_new(&w->dec, 0) < 0) {
		free(w);
		k8s_http_response_free(resp);
		return k8s__error_oom();
	}
	w->resp = resp;
	if (k8s__call_keep_protobuf_on(k))
		k8s__watch_decoder_keep_protobuf(w->dec);
	w->c = k8s_rest_client_ref(k8s__call_client(k));
	watch_stall_start(w, k);
	*out = w;
	return 0;
}

int k8s_request_watch(k8s_watch **out, k8s_result **res_err, k8s_request *r)
{
	k8s_call *k;
	int rc;
	*out = NULL;
	if (res_err)
		*res_err = NULL;
	if ((rc = k8s_call_new(&k, r, K8S_CALL_MODE_WATCH)) < 0)
		return rc;
	rc = k8s__call_watch(out, res_err, k);
	k8s_call_free(k);
	return rc;
}

int k8s_watch_next(k8s_watch *w, k8s_watch_event *ev, double timeout)
{
	double deadline = timeout >= 0 ? k8s__now() + timeout : 0;
	for (;;) {
		const char *data;
		size_t len;
		double wait, stall_in;
		int rc;
		if (w->stopped)
			return 0;
		rc = k8s_watch_decoder_next(w->dec, ev);
		if (rc != 0)
			return rc;
		if (w->fed) {
			if (!w->ended && w->stall_at && k8s__now() >= w->stall_at)
				return watch_stalled(w);
			if (!w->ended)
				return K8S__WATCH_NEED;
			if (w->end_rc < 0) {
				rc = w->end_rc;
				w->end_rc = 0;
				return k8s__error(rc, w->end_reason ? w->end_reason : "ConnectionReset", "%s",
						  w->end_message ? w->end_message : "the watch connection failed");
			}
			if (k8s_watch_decoder_pending(w->dec) > 0 && !w->stopped) {
				w->stopped = 1;
				return k8s__error(K8S_EOF, "UnexpectedEOF", "watch stream ended inside an event");
			}
			return 0;
		}
		if (w->ended || !w->resp)
			return 0;
		wait = timeout >= 0 ? (deadline - k8s__now() > 0 ? deadline - k8s__now() : 0) : -1;
		stall_in = k8s__watch_stall_in(w);
		if (stall_in >= 0 && (wait < 0 || stall_in < wait))
			wait = stall_in;
		rc = k8s_http_response_read(w->resp, &data, &len, wait);
		if (rc == K8S_ETIMEOUT && w->stall_at) {
			if (k8s__now() >= w->stall_at)
				return watch_stalled(w);
			if (timeout < 0 || deadline > k8s__now())
				continue; /* woke early for the stall check */
		}
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
	free(w->end_reason);
	free(w->end_message);
	k8s_watch_decoder_free(w->dec);
	k8s_rest_client_free(w->c);
	free(w);
}
