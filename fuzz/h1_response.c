/* The HTTP/1.1 response parser of the sans-I/O engine (src/h1.c: framing by
 * libhttp-parser, chunked, gzip inflated by zlib as it arrives).
 * - Fed whole or in pieces chosen by the input, a response gives the same
 *   outcome: the same error (code and reason), or the same status, headers,
 *   body bytes and keep-alive.
 * - An error is sticky: feeding more repeats it.
 * - A response that completes by itself (Content-Length, chunked, no body)
 *   cut short anywhere and then closed is never a success: the prefix is
 *   accepted and the close is UnexpectedEOF (ConnectionReset when no byte of
 *   the final response arrived). A body delimited by the close may end
 *   early, but then it is a prefix of the whole body.
 * - The header block limit holds: headers kept never exceed it, and a block
 *   around the limit (padding mode) is refused the same way fed whole or split.
 *
 * Input: flags, a byte (low 4 bits: selector length, high 4 bits: padding),
 * the selector (piece sizes), a byte choosing where to cut, the response.
 */
// fuzz-flags: -max_len=16384
#include "fuzz.h"

#include <string.h>
#include "h1.h"

typedef struct {
	int rc;                 /* 0 or the first error */
	char reason[32];
	int done, done_before_eof, headers_done, keepalive;
	k8s_http_head head;     /* copied */
	k8s_buf body;
} outcome;

static void outcome_free(outcome *o)
{
	k8s__http_head_clear(&o->head);
	k8s_buf_free(&o->body);
}

static int record(outcome *o, int rc)
{
	if (rc < 0 && !o->rc) {
		o->rc = rc;
		snprintf(o->reason, sizeof(o->reason), "%s", k8s_error_last()->reason);
	}
	return rc;
}

/* Parse msg fed in pieces (sel_len 0 with max 0: whole), then close when it
 * is not done or always_eof. */
static void run(outcome *o, const char *msg, size_t n, int head_request, const uint8_t *sel, size_t sel_len,
		size_t max, int always_eof)
{
	k8s_h1_response *r;
	const k8s_http_head *h;
	size_t off = 0, i = 0;
	memset(o, 0, sizeof(*o));
	FUZZ_CHECK(k8s__h1_response_new(&r, head_request) == 0, "out of memory");
	while (off < n) {
		size_t k = max ? fuzz_piece(sel, sel_len, i++, max) : n;
		if (k > n - off)
			k = n - off;
		if (record(o, k8s__h1_feed(r, msg + off, k)) < 0) {
			/* sticky: a later feed or close repeats the error */
			FUZZ_CHECK(k8s__h1_feed(r, "x", 1) == o->rc, "an error was not repeated by feed");
			FUZZ_CHECK(k8s__h1_eof(r) == o->rc, "an error was not repeated by eof");
			FUZZ_CHECK(!k8s__h1_done(r), "done after an error");
			break;
		}
		off += k;
	}
	if (!o->rc) {
		o->done_before_eof = k8s__h1_done(r);
		if (!o->done_before_eof || always_eof)
			record(o, k8s__h1_eof(r));
	}
	o->done = k8s__h1_done(r);
	FUZZ_CHECK(!o->done || !o->rc, "done and failed");
	FUZZ_CHECK(o->rc || o->done, "no error, yet not done after the close");
	o->headers_done = k8s__h1_headers_done(r);
	o->keepalive = k8s__h1_keepalive(r);
	h = k8s__h1_head(r);
	o->head.status = h->status;
	for (i = 0; i + 1 < h->nrh; i += 2)
		FUZZ_CHECK(k8s__http_head_add(&o->head, h->rh[i], strlen(h->rh[i]), h->rh[i + 1],
					      strlen(h->rh[i + 1])) == 0, "out of memory");
	FUZZ_CHECK(k8s_buf_put(&o->body, k8s__h1_body(r)->ptr ? k8s__h1_body(r)->ptr : "", k8s__h1_body(r)->len) == 0,
		   "out of memory");
	if (o->done) {
		size_t total = 0;
		FUZZ_CHECK(o->headers_done && h->status >= 100 && h->status <= 999, "done with status %ld", h->status);
		FUZZ_CHECK(h->status / 100 != 1 || h->status == 101, "an interim status %ld is the answer", h->status);
		for (i = 0; i < h->nrh; i++)
			total += strlen(h->rh[i]);
		FUZZ_CHECK(total <= K8S_H1_MAX_HEADER, "%zu bytes of headers kept", total);
		if (!o->done_before_eof || always_eof)
			FUZZ_CHECK(k8s__h1_feed(r, "x", 1) == K8S_EINVALID && k8s__h1_done(r),
				   "bytes fed after the close were taken");
	}
	k8s__h1_response_free(r);
}

static void same(const outcome *a, const outcome *b, const char *what)
{
	size_t i;
	FUZZ_CHECK(a->rc == b->rc && !strcmp(a->reason, b->reason), "whole: %d %s, %s: %d %s", a->rc, a->reason,
		   what, b->rc, b->reason);
	if (a->rc)
		return;
	FUZZ_CHECK(a->head.status == b->head.status, "status %ld, %s: %ld", a->head.status, what, b->head.status);
	FUZZ_CHECK(a->head.nrh == b->head.nrh, "%zu headers, %s: %zu", a->head.nrh / 2, what, b->head.nrh / 2);
	for (i = 0; i < a->head.nrh; i++)
		FUZZ_CHECK(!strcmp(a->head.rh[i], b->head.rh[i]), "header item %zu \"%s\", %s: \"%s\"", i, a->head.rh[i],
			   what, b->head.rh[i]);
	FUZZ_CHECK(a->body.len == b->body.len && (!a->body.len || !memcmp(a->body.ptr, b->body.ptr, a->body.len)),
		   "body of %zu bytes, %s: %zu", a->body.len, what, b->body.len);
	FUZZ_CHECK(a->keepalive == b->keepalive && a->done_before_eof == b->done_before_eof,
		   "keep-alive %d/%d, %s: %d/%d", a->keepalive, a->done_before_eof, what, b->keepalive,
		   b->done_before_eof);
}

/* Pad the first header block to near K8S_H1_MAX_HEADER: an "X-Pad" line
 * after the first line. */
static char *pad(const char *msg, size_t n, unsigned amount, size_t *out_n)
{
	const char *nl = memchr(msg, '\n', n);
	size_t first = nl ? (size_t)(nl - msg) + 1 : n, fill = K8S_H1_MAX_HEADER - 256 + amount * 24, w;
	char *p = malloc(n + fill + 16);
	FUZZ_CHECK(p != NULL, "out of memory");
	memcpy(p, msg, first);
	w = first;
	memcpy(p + w, "X-Pad: ", 7);
	w += 7;
	memset(p + w, 'a', fill);
	w += fill;
	memcpy(p + w, "\r\n", 2);
	w += 2;
	memcpy(p + w, msg + first, n - first);
	*out_n = w + n - first;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sel;
	size_t sel_len, n, max, cut;
	const char *msg;
	char *padded = NULL;
	int head_request, always_eof;
	outcome whole, split, bytes, pre;

	if (size < 3)
		return 0;
	head_request = data[0] & 1;
	always_eof = (data[0] >> 2) & 1;
	max = (size_t)(data[0] >> 3) * 8 + 1;
	sel_len = data[1] & 15;
	if (size < 3 + sel_len)
		return 0;
	sel = data + 2;
	cut = data[2 + sel_len];
	msg = (const char *)data + 3 + sel_len;
	n = size - 3 - sel_len;
	if (data[0] & 2) {
		msg = padded = pad(msg, n, data[1] >> 4, &n);
		cut = cut * 257 + 60000; /* around the end of the padding */
	}

	run(&whole, msg, n, head_request, NULL, 0, 0, always_eof);
	run(&split, msg, n, head_request, sel, sel_len, max, always_eof);
	same(&whole, &split, "split");
	if (!padded && n <= 2048) {
		run(&bytes, msg, n, head_request, NULL, 0, 1, always_eof);
		same(&whole, &bytes, "byte by byte");
		outcome_free(&bytes);
	}

	/* cut short, then closed */
	if (!whole.rc && n) {
		cut %= n;
		run(&pre, msg, cut, head_request, sel, sel_len, max, 1);
		if (whole.done_before_eof) {
			FUZZ_CHECK(pre.rc < 0, "a response cut at %zu of %zu bytes succeeded (%zu of %zu body bytes)", cut,
				   n, pre.body.len, whole.body.len);
			FUZZ_CHECK((pre.rc == K8S_EOF && !strcmp(pre.reason, "UnexpectedEOF")) ||
				   (pre.rc == K8S_ETRANSPORT && !strcmp(pre.reason, "ConnectionReset") && !pre.headers_done),
				   "a response cut at %zu of %zu bytes: %d %s", cut, n, pre.rc, pre.reason);
		} else if (!pre.rc) {
			FUZZ_CHECK(pre.head.status == whole.head.status, "the cut response has another status");
			FUZZ_CHECK(pre.body.len <= whole.body.len &&
				   (!pre.body.len || !memcmp(pre.body.ptr, whole.body.ptr, pre.body.len)),
				   "the body of the cut response is not a prefix of the whole one");
		}
		outcome_free(&pre);
	}
	outcome_free(&whole);
	outcome_free(&split);
	free(padded);
	return 0;
}
