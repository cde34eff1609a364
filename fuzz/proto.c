/* Fuzz target for the protobuf walker and its JSON sink (src/proto.c), and
 * the watch decoder on length-prefixed protobuf streams (src/watch.c).
 *
 * The watch decoder is included (as in fuzz/watch.c), so the harness can
 * tell a failed stream from a rejected frame; the link uses this copy
 * instead of watch.o from libk8s.a.
 *
 * Input: byte 0 picks the mode (b % 3); the rest is the data.
 *   0: k8s__pb_to_json of a body (k8s\0 + runtime.Unknown envelope), and
 *      the incremental walker (k8s__pb_inc_feed) given the body whole and
 *      growing by pieces of 1 + (b >> 2) % 16 bytes (at least len / 256);
 *   1: k8s__pb_to_json of a watch event (a metav1.WatchEvent);
 *   2: a watch stream (normally 4-byte big-endian lengths and WatchEvents):
 *      byte 1 picks where it is cut in two (b * len / 255) and bit 2 of
 *      byte 0 a 64-byte frame cap (else the default); the stream is the
 *      rest after byte 1.
 *
 * Properties:
 *   - rc is 0 or K8S_EDECODE; on success the output is exactly one JSON
 *     value (k8s_json_skip_value, then only whitespace), an object that
 *     starts with {"kind": (body) or {"type": (event; {"object": when the
 *     type is not on the wire), err is cleared, and
 *     a second run gives the same bytes; on failure the output buffer is
 *     empty, err says "protobuf: ..." and the last error is the same;
 *   - a body whose envelope k8s__pb_is_status says is a Status decodes to
 *     {"kind":"Status",... or fails, and a decoded {"kind":"Status",
 *     "apiVersion" body is one k8s__pb_is_status recognises; a decoded
 *     event's parts (k8s__pb_event_parts) can be taken;
 *   - the incremental walker reports the same calls to its sink, and ends
 *     the same way, whether the body comes whole or in pieces (each a
 *     fresh exact-size copy of all so far); when it took the whole body
 *     (k8s__pb_inc_complete), k8s__pb_walk_body succeeds with the same calls;
 *   - the watch decoder gives the same events whole or cut in two; each is
 *     one of the five types, its object a JSON object (skip_value spans it
 *     exactly) or, with keep_protobuf, a k8s\0 envelope or a JSON object;
 *     both modes consume the same frames; when both take a frame, the types
 *     agree and the kept envelope decoded as a body is the JSON object the
 *     transcoding decoder gave; when next() wants more, at most one frame
 *     header and max_frame bytes are pending; a stream failure is sticky.
 */
#include "../src/watch.c"
#include "fuzz.h"

#include "k8s.h"
#include "rest_internal.h"

static void check_json_value(const char *s, size_t n, const char *what)
{
	size_t end = 0;
	int r = k8s_json_skip_value(s, n, 0, &end);
	FUZZ_CHECK(r == 0 && k8s_json_skip_ws(s, n, end) == n, "%s is not one JSON value (r=%d, end %zu of %zu): %.*s",
		   what, r, end, n, (int)(n > 400 ? 400 : n), s);
}

static int starts(const char *s, size_t n, const char *prefix)
{
	size_t l = strlen(prefix);
	return n >= l && memcmp(s, prefix, l) == 0;
}

/* k8s__pb_to_json with its contract checked; returns rc, *out the JSON. */
static int to_json(k8s_buf *out, const char *p, size_t n, int event)
{
	char err[256];
	int rc;
	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = 0;
	rc = k8s__pb_to_json(out, p, n, event, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == K8S_EDECODE, "k8s__pb_to_json returned %d", rc);
	if (rc == 0) {
		FUZZ_CHECK(err[0] == 0, "err not cleared on success: %s", err);
		FUZZ_CHECK(out->len > 0 && out->ptr && out->ptr[out->len] == 0, "empty or unterminated output");
		check_json_value(out->ptr, out->len, event ? "an event" : "a body");
		/* an event's type comes first unless it is not on the wire (then
		 * "" after the object, as absent fields are) */
		FUZZ_CHECK(starts(out->ptr, out->len, event ? "{\"type\":" : "{\"kind\":") ||
				   (event && starts(out->ptr, out->len, "{\"object\":")),
			   "output starts %.40s", out->ptr);
	} else {
		FUZZ_CHECK(out->len == 0 && (!out->ptr || out->ptr[0] == 0), "output left after a failure");
		FUZZ_CHECK(starts(err, strlen(err), "protobuf: ") && strlen(err) > 10, "err \"%s\"", err);
		FUZZ_CHECK(k8s_error_last()->code == K8S_EDECODE && strcmp(k8s_error_last()->message, err) == 0,
			   "last error \"%s\", err \"%s\"", k8s_error_last()->message, err);
	}
	return rc;
}

static void one_value(const char *p, size_t n, int event)
{
	k8s_buf a = K8S_BUF_INIT, b = K8S_BUF_INIT;
	int rc = to_json(&a, p, n, event), rc2 = to_json(&b, p, n, event);

	FUZZ_CHECK(rc == rc2 && a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0),
		   "a second run differs");
	if (!event) {
		int st = k8s__pb_is_status(p, n);
		if (rc == 0 && st)
			FUZZ_CHECK(starts(a.ptr, a.len, "{\"kind\":\"Status\","), "is_status but %.60s", a.ptr);
		if (rc == 0 && starts(a.ptr, a.len, "{\"kind\":\"Status\",\"apiVersion\""))
			FUZZ_CHECK(st, "a Status body is_status does not see");
	} else if (rc == 0) {
		const char *type, *obj;
		size_t tlen, olen;
		FUZZ_CHECK(k8s__pb_event_parts(p, n, &type, &tlen, &obj, &olen) == 0,
			   "a decoded event whose parts cannot be taken");
	}
	k8s_buf_free(&a);
	k8s_buf_free(&b);
}

/* ---- the incremental walker ---- */

/* A sink that records its calls (op, length, bytes). */
static int rec(void *u, char op, const void *p, size_t n)
{
	k8s_buf *b = u;
	FUZZ_CHECK(k8s_buf_put(b, &op, 1) == 0 && k8s_buf_put(b, &n, sizeof(n)) == 0 && k8s_buf_put(b, p, n) == 0,
		   "out of memory");
	return 0;
}
static int r_obj_begin(void *u) { return rec(u, '{', "", 0); }
static int r_obj_end(void *u) { return rec(u, '}', "", 0); }
static int r_arr_begin(void *u) { return rec(u, '[', "", 0); }
static int r_arr_end(void *u) { return rec(u, ']', "", 0); }
static int r_key(void *u, const char *k, size_t n) { return rec(u, 'k', k, n); }
static int r_str(void *u, const char *v, size_t n) { return rec(u, 's', v, n); }
static int r_bytes(void *u, const char *v, size_t n) { return rec(u, 'b', v, n); }
static int r_i64(void *u, int64_t v) { return rec(u, 'i', &v, sizeof(v)); }
static int r_u64(void *u, uint64_t v) { return rec(u, 'u', &v, sizeof(v)); }
static int r_dbl(void *u, double v) { return rec(u, 'd', &v, sizeof(v)); }
static int r_bool(void *u, int v) { return rec(u, 't', &v, sizeof(v)); }
static int r_null(void *u) { return rec(u, 'n', "", 0); }
/* raw JSON as the JSON sink takes it */
static int r_raw(void *u, const char *v, size_t n)
{
	size_t end;
	if (k8s_json_skip_value(v, n, 0, &end) != 0 || k8s_json_skip_ws(v, n, end) != n)
		return K8S_EDECODE;
	return rec(u, 'r', v, n);
}
static int r_field_key(void *u, unsigned fi, const char *json)
{
	FUZZ_CHECK(fi < k8s__pb_nfields && strcmp(k8s__pb_fields[fi].json, json) == 0, "field_key %u \"%s\"", fi,
		   json);
	return rec(u, 'k', json, strlen(json));
}
static const k8s_pb_sink rec_sink = {
	.obj_begin = r_obj_begin, .obj_end = r_obj_end, .arr_begin = r_arr_begin, .arr_end = r_arr_end,
	.key = r_key,		  .field_key = r_field_key, .str = r_str,	      .bytes = r_bytes,
	.i64 = r_i64,		  .u64 = r_u64,		    .dbl = r_dbl,	      .boolean = r_bool,
	.null = r_null,		  .raw_json = r_raw};

/* Feeds p[0..n) growing by `piece` bytes (n: whole); returns the last rc. */
static int inc_run(k8s_pb_inc *st, k8s_buf *log, const char *p, size_t n, size_t piece)
{
	char err[256];
	size_t len = 0;
	int rc = 0;
	k8s__pb_inc_init(st);
	do {
		char *copy;
		len = n - len < piece ? n : len + piece;
		copy = malloc(len ? len : 1);
		FUZZ_CHECK(copy != NULL, "out of memory");
		memcpy(copy, p, len);
		err[0] = 0;
		rc = k8s__pb_inc_feed(st, &rec_sink, log, copy, len, err, sizeof(err));
		memset(copy, 0xA5, len);
		free(copy);
		FUZZ_CHECK(rc == 0 || rc == 1 || rc == K8S_EDECODE, "k8s__pb_inc_feed returned %d", rc);
		FUZZ_CHECK(rc != K8S_EDECODE || err[0], "failed without a message");
	} while (rc == 0 && len < n);
	/* once done or failed, it stays so */
	if (rc != 0)
		FUZZ_CHECK(k8s__pb_inc_feed(st, &rec_sink, log, p, n, err, sizeof(err)) == rc, "not sticky");
	return rc;
}

static void incremental(const char *p, size_t n, unsigned sel)
{
	k8s_pb_inc whole, pieces;
	k8s_buf lw = K8S_BUF_INIT, lp = K8S_BUF_INIT, lb = K8S_BUF_INIT;
	size_t piece = 1 + sel % 16;
	char err[256];
	int rw, rp;
	if (piece < n / 256)
		piece = n / 256;
	rw = inc_run(&whole, &lw, p, n, n ? n : 1);
	rp = inc_run(&pieces, &lp, p, n, piece);
	FUZZ_CHECK(rw == rp && lw.len == lp.len && (lw.len == 0 || memcmp(lw.ptr, lp.ptr, lw.len) == 0),
		   "whole (%d) and in pieces of %zu (%d) differ", rw, piece, rp);
	FUZZ_CHECK(k8s__pb_inc_complete(&whole, p, n) == k8s__pb_inc_complete(&pieces, p, n), "complete differs");
	if (rw == 1 && k8s__pb_inc_complete(&whole, p, n)) {
		int rb = k8s__pb_walk_body(&rec_sink, &lb, p, n, err, sizeof(err));
		FUZZ_CHECK(rb == 0, "the incremental walker took a body the whole walk rejects: %s", err);
		FUZZ_CHECK(lb.len == lw.len && memcmp(lb.ptr, lw.ptr, lw.len) == 0,
			   "the incremental walker reported other values than the whole walk");
	}
	k8s_buf_free(&lw);
	k8s_buf_free(&lp);
	k8s_buf_free(&lb);
}

/* ---- the watch decoder ---- */

enum { IT_EVENT, IT_REJECT };

struct item {
	int kind, protobuf;
	k8s_watch_event_type type;
	char *object;
	size_t len;
};

struct run {
	struct item items[64];
	size_t n, total;
	int failed;
	size_t pending;
};

static void run_free(struct run *r)
{
	size_t i;
	for (i = 0; i < r->n; i++)
		free(r->items[i].object);
}

static void add(struct run *r, int kind, const k8s_watch_event *ev)
{
	struct item *it;
	r->total++;
	if (r->n == sizeof(r->items) / sizeof(r->items[0]))
		return; /* the first 64 are compared */
	it = &r->items[r->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	if (kind == IT_EVENT) {
		it->type = ev->type;
		it->protobuf = ev->protobuf;
		it->len = ev->object_len;
		it->object = malloc(ev->object_len + 1);
		FUZZ_CHECK(it->object != NULL, "out of memory");
		memcpy(it->object, ev->object, ev->object_len);
	}
}

static void check_event(const k8s_watch_event *ev, int keep)
{
	static const char *const names[] = {"", "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
	FUZZ_CHECK(ev->type >= K8S_WATCH_ADDED && ev->type <= K8S_WATCH_ERROR, "type %d", (int)ev->type);
	FUZZ_CHECK(ev->type_name && strcmp(ev->type_name, names[ev->type]) == 0, "type_name");
	FUZZ_CHECK(ev->object && ev->object_len > 0, "no object");
	FUZZ_CHECK(ev->protobuf == 0 || (keep && ev->protobuf == 1), "protobuf %d (keep %d)", ev->protobuf, keep);
	if (ev->protobuf) {
		FUZZ_CHECK(ev->object_len >= 4 && memcmp(ev->object, "k8s\0", 4) == 0,
			   "a protobuf object without the magic");
		return;
	}
	FUZZ_CHECK(ev->object[0] == '{', "object starts with 0x%02x", (unsigned char)ev->object[0]);
	if (!keep)
		check_json_value(ev->object, ev->object_len, "an event object");
}

static void drain(k8s_watch_decoder *d, struct run *run, int keep, size_t max_frame)
{
	k8s_watch_event ev;
	int r;
	for (;;) {
		memset(&ev, 0, sizeof(ev));
		r = k8s_watch_decoder_next(d, &ev);
		if (r == 1) {
			check_event(&ev, keep);
			add(run, IT_EVENT, &ev);
			continue;
		}
		if (r == 0) {
			FUZZ_CHECK(k8s_watch_decoder_pending(d) <= max_frame + 4, "%zu bytes pending, cap %zu",
				   k8s_watch_decoder_pending(d), max_frame);
			return;
		}
		FUZZ_CHECK(r == K8S_EDECODE, "next returned %d", r);
		if (d->failed) {
			/* a framing failure: sticky, nothing kept */
			FUZZ_CHECK(k8s_watch_decoder_next(d, &ev) == K8S_EDECODE, "a failure is not sticky");
			FUZZ_CHECK(k8s_watch_decoder_pending(d) == 0 && d->buf.ptr == NULL,
				   "a failed decoder keeps bytes");
			run->failed = 1;
			return;
		}
		/* a rejected frame: consumed, the stream goes on */
		FUZZ_CHECK(!d->complete, "a rejected frame left behind");
		add(run, IT_REJECT, NULL);
	}
}

static void run_stream(struct run *run, const char *s, size_t len, size_t cut, int keep, size_t max_frame)
{
	k8s_watch_decoder *d = NULL;
	size_t off = 0, pieces[2] = {cut, len - cut}, i;
	int r;
	memset(run, 0, sizeof(*run));
	FUZZ_CHECK(k8s_watch_decoder_new(&d, max_frame) == 0 && d, "decoder_new");
	if (keep)
		k8s__watch_decoder_keep_protobuf(d);
	for (i = 0; i < 2 && !run->failed; i++) {
		/* an exact-size copy: the decoder must copy what it keeps */
		char *piece = malloc(pieces[i] ? pieces[i] : 1);
		FUZZ_CHECK(piece != NULL, "out of memory");
		memcpy(piece, s + off, pieces[i]);
		r = k8s_watch_decoder_feed(d, piece, pieces[i]);
		memset(piece, 0xA5, pieces[i]);
		free(piece);
		off += pieces[i];
		if (r < 0) {
			FUZZ_CHECK(r == K8S_EDECODE, "feed returned %d", r);
			run->failed = 1;
			FUZZ_CHECK(k8s_watch_decoder_pending(d) == 0, "a failed decoder has bytes pending");
			break;
		}
		drain(d, run, keep, max_frame ? max_frame : K8S_WATCH_MAX_FRAME);
	}
	if (run->failed) {
		k8s_watch_event ev;
		FUZZ_CHECK(k8s_watch_decoder_feed(d, "\0\0\0\0", 4) == K8S_EDECODE, "feed after failure");
		FUZZ_CHECK(k8s_watch_decoder_next(d, &ev) == K8S_EDECODE, "next after failure");
	} else {
		run->pending = k8s_watch_decoder_pending(d);
	}
	k8s_watch_decoder_free(d);
}

static void same_runs(const struct run *a, const struct run *b, const char *what)
{
	size_t i;
	FUZZ_CHECK(a->total == b->total && a->failed == b->failed && a->pending == b->pending,
		   "%s: %zu items/failed %d/pending %zu vs %zu/%d/%zu", what, a->total, a->failed, a->pending,
		   b->total, b->failed, b->pending);
	for (i = 0; i < a->n; i++) {
		const struct item *x = &a->items[i], *y = &b->items[i];
		FUZZ_CHECK(x->kind == y->kind && x->type == y->type && x->len == y->len &&
				   (x->kind != IT_EVENT || memcmp(x->object, y->object, x->len) == 0),
			   "%s: item %zu differs", what, i);
	}
}

static void stream(const uint8_t *data, size_t size)
{
	struct run whole, split, kept;
	size_t len, cut, i, max_frame;
	const char *s;
	if (size < 2)
		return;
	max_frame = data[0] & 4 ? 64 : 0;
	s = (const char *)data + 2;
	len = size - 2;
	cut = (size_t)data[1] * len / 255;
	run_stream(&whole, s, len, len, 0, max_frame);
	run_stream(&split, s, len, cut, 0, max_frame);
	same_runs(&whole, &split, "whole vs cut");
	run_stream(&kept, s, len, cut, 1, max_frame);
	/* the same frames consumed: only what each does with a frame differs */
	FUZZ_CHECK(kept.total == whole.total && kept.failed == whole.failed && kept.pending == whole.pending,
		   "keep_protobuf framed differently: %zu/%d/%zu vs %zu/%d/%zu", kept.total, kept.failed,
		   kept.pending, whole.total, whole.failed, whole.pending);
	for (i = 0; i < kept.n; i++) {
		const struct item *k = &kept.items[i], *w = &whole.items[i];
		if (k->kind != IT_EVENT || w->kind != IT_EVENT)
			continue;
		FUZZ_CHECK(k->type == w->type, "frame %zu: type %d kept, %d transcoded", i, (int)k->type,
			   (int)w->type);
		if (k->protobuf) {
			/* the envelope as a body: the transcoded object (a body
			 * starts shallower, so it cannot fail where the event did not) */
			k8s_buf b = K8S_BUF_INIT;
			FUZZ_CHECK(to_json(&b, k->object, k->len, 0) == 0, "frame %zu: the kept envelope fails", i);
			FUZZ_CHECK(b.len == w->len && memcmp(b.ptr, w->object, b.len) == 0,
				   "frame %zu: the kept envelope decodes to something else", i);
			k8s_buf_free(&b);
		} else {
			/* the raw JSON as it is; transcoded, its ends are trimmed */
			size_t kl = k->len;
			while (kl > 0 && (k->object[kl - 1] == ' ' || k->object[kl - 1] == '\t' ||
					  k->object[kl - 1] == '\n' || k->object[kl - 1] == '\r'))
				kl--;
			FUZZ_CHECK(kl == w->len && memcmp(k->object, w->object, kl) == 0,
				   "frame %zu: a kept JSON object differs", i);
		}
	}
	run_free(&whole);
	run_free(&split);
	run_free(&kept);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		one_value((const char *)data + 1, size - 1, 0);
		incremental((const char *)data + 1, size - 1, data[0] >> 2);
		break;
	case 1:
		one_value((const char *)data + 1, size - 1, 1);
		break;
	default:
		stream(data, size);
	}
	return 0;
}
