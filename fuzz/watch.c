/* Fuzz target for the watch stream decoder (src/watch.c).
 *
 * The decoder is included, so the harness can see whether the stream has
 * failed and how big its buffer is; the link uses this copy instead of
 * watch.o from libk8s.a.
 *
 * Input: byte 0 picks max_frame (16 * (b + 1) bytes; 255 = the 16 MiB
 * default), byte 1's low 4 bits how many split selector bytes follow, then
 * those bytes, then the stream.
 *
 * Properties:
 *   - the sequence of events and per-event errors is the same whether the
 *     stream is fed whole or in pieces chosen by the input, and so is the
 *     way it ends (failed, or the same bytes pending);
 *   - a stream failure (not an object, malformed JSON, a frame over the
 *     cap) is sticky: every later feed and next fails, nothing is pending
 *     and nothing stays buffered; a rejected event (unknown type, no
 *     object) is not: the frame is consumed and the stream goes on;
 *   - each event's type is one of the five, its object starts with '{'
 *     and skip_value(object) == object_len, inside the decoder's buffer;
 *   - when next() has nothing more, what is buffered is an unfinished
 *     frame of at most max_frame bytes (pending() <= max_frame), and a
 *     feed grows the buffer to at most twice that plus the piece;
 *   - after a frame over KEEP_CAPACITY is consumed, the next feed gives the
 *     big buffer back, and the stream after it decodes as on its own (once,
 *     in LLVMFuzzerInitialize: a 1 MiB frame per input would cost 70 ms).
 */
#include "../src/watch.c"
#include "fuzz.h"

enum { IT_EVENT, IT_REJECT };

struct item {
	int kind;
	k8s_watch_event_type type;
	char *object;
	size_t object_len;
};

struct run {
	struct item *items;
	size_t n, cap;
	int failed;
	size_t pending;
};

static void run_free(struct run *r)
{
	size_t i;
	for (i = 0; i < r->n; i++)
		free(r->items[i].object);
	free(r->items);
}

static void add(struct run *r, int kind, const k8s_watch_event *ev)
{
	struct item *it;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct item *ni = realloc(r->items, cap * sizeof(*ni));
		FUZZ_CHECK(ni != NULL, "out of memory");
		r->items = ni;
		r->cap = cap;
	}
	it = &r->items[r->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	if (kind == IT_EVENT) {
		it->type = ev->type;
		it->object_len = ev->object_len;
		it->object = malloc(ev->object_len ? ev->object_len : 1);
		FUZZ_CHECK(it->object != NULL, "out of memory");
		memcpy(it->object, ev->object, ev->object_len);
	}
}

static void check_event(const k8s_watch_decoder *d, const k8s_watch_event *ev)
{
	size_t e;
	int r;
	size_t k;

	FUZZ_CHECK(ev->type >= K8S_WATCH_ADDED && ev->type <= K8S_WATCH_ERROR, "type %d", (int)ev->type);
	for (k = 0; k < sizeof(event_types) / sizeof(event_types[0]); k++)
		if (event_types[k].type == ev->type)
			FUZZ_CHECK(ev->type_name && strcmp(ev->type_name, event_types[k].name) == 0,
				   "type_name does not match the type");
	FUZZ_CHECK(ev->object && ev->object_len >= 2 && ev->object[0] == '{',
		   "event object does not start with {");
	FUZZ_CHECK(ev->object >= d->buf.ptr && ev->object + ev->object_len <= d->buf.ptr + d->buf.len,
		   "event object outside the decoder's buffer");
	r = k8s_json_skip_value(ev->object, ev->object_len, 0, &e);
	FUZZ_CHECK(r == 0 && e == ev->object_len, "skip_value(object) = %d, %zu != %zu", r, e,
		   ev->object_len);
}

/* A failed decoder stays failed. */
static void check_failed(k8s_watch_decoder *d)
{
	k8s_watch_event ev;
	FUZZ_CHECK(d->failed, "not failed");
	FUZZ_CHECK(k8s_watch_decoder_pending(d) == 0, "a failed decoder has bytes pending");
	FUZZ_CHECK(d->buf.ptr == NULL && d->buf.len == 0, "a failed decoder keeps its buffer");
	FUZZ_CHECK(k8s_watch_decoder_next(d, &ev) == K8S_EDECODE, "next after failure");
	FUZZ_CHECK(k8s_watch_decoder_feed(d, "{}", 2) == K8S_EDECODE, "feed after failure");
	FUZZ_CHECK(k8s_watch_decoder_next(d, &ev) == K8S_EDECODE, "next after failure");
	FUZZ_CHECK(d->buf.ptr == NULL, "a failed decoder buffers again");
}

/* The most bytes one frame may hold: the cap is on the event; a protobuf
 * frame also has its 4-byte length in front. */
static size_t frame_bytes(const k8s_watch_decoder *d)
{
	return d->max_frame + (d->mode == MODE_PROTOBUF ? 4 : 0);
}

/* Take events until next() wants more bytes or the stream fails. */
static void drain(k8s_watch_decoder *d, struct run *run)
{
	k8s_watch_event ev;
	int r;

	for (;;) {
		memset(&ev, 0, sizeof(ev));
		r = k8s_watch_decoder_next(d, &ev);
		if (r == 1) {
			FUZZ_CHECK(!d->failed, "an event from a failed decoder");
			check_event(d, &ev);
			add(run, IT_EVENT, &ev);
			continue;
		}
		if (r == 0) {
			FUZZ_CHECK(!d->failed, "0 from a failed decoder");
			/* only an unfinished frame within the cap is buffered */
			FUZZ_CHECK(!d->complete, "a complete frame left behind");
			FUZZ_CHECK(k8s_watch_decoder_pending(d) <= frame_bytes(d),
				   "%zu bytes pending, max_frame %zu",
				   k8s_watch_decoder_pending(d), d->max_frame);
			return;
		}
		FUZZ_CHECK(r == K8S_EDECODE, "next returned %d", r);
		if (d->failed) {
			run->failed = 1;
			return;
		}
		/* a rejected event: the stream stays in sync */
		FUZZ_CHECK(strcmp(k8s_error_last()->message, "watch stream: malformed event") != 0,
			   "a scanned frame is not an object: %s", k8s_error_last()->message);
		add(run, IT_REJECT, NULL);
	}
}

static void run_stream(struct run *run, size_t max_frame, const char *s, size_t len,
		       const uint8_t *sel, size_t sel_len, int whole)
{
	k8s_watch_decoder *d = NULL;
	size_t off = 0, i, n, bound, maxbound = 0;
	char *piece;
	int r;

	FUZZ_CHECK(k8s_watch_decoder_new(&d, max_frame) == 0 && d, "decoder_new");
	for (i = 0; off < len; i++) {
		n = whole ? len : fuzz_piece(sel, sel_len, i, 64);
		if (n > len - off)
			n = len - off;
		/* a fresh exact-size copy: the decoder must copy what it keeps */
		piece = malloc(n);
		FUZZ_CHECK(piece != NULL, "out of memory");
		memcpy(piece, s + off, n);
		r = k8s_watch_decoder_feed(d, piece, n);
		memset(piece, 0xA5, n);
		free(piece);
		off += n;
		if (r < 0) {
			FUZZ_CHECK(r == K8S_EDECODE && d->failed, "feed returned %d", r);
			run->failed = 1;
			break;
		}
		/* before this feed at most an unfinished frame within the cap
		 * was live, with consumed bytes no more than that in front of it */
		bound = 2 * frame_bytes(d) + n;
		FUZZ_CHECK(d->buf.len <= bound, "buffer %zu bytes, bound %zu", d->buf.len, bound);
		/* capacity below KEEP_CAPACITY is kept: bounded by the largest
		 * length any feed so far could reach */
		if (bound > maxbound)
			maxbound = bound;
		FUZZ_CHECK(d->buf.cap <= 64 || d->buf.cap <= 2 * (maxbound + 1),
			   "buffer capacity %zu, bound %zu", d->buf.cap, 2 * (maxbound + 1));
		drain(d, run);
		if (run->failed)
			break;
	}
	if (run->failed)
		check_failed(d);
	else
		run->pending = k8s_watch_decoder_pending(d);
	k8s_watch_decoder_free(d);
}

/* A frame bigger than KEEP_CAPACITY, consumed: the next feed drops the
 * big buffer; then the stream in pieces gives the events of run a. */
static void check_keep_capacity(const struct run *a, const char *s, size_t len,
				const uint8_t *sel, size_t sel_len)
{
	static const char head[] = "{\"type\":\"ADDED\",\"object\":{\"big\":\"";
	static const char tail[] = "\"}}\n";
	const size_t chunk = 64 * 1024, nchunks = KEEP_CAPACITY / chunk + 1;
	k8s_watch_decoder *d = NULL;
	k8s_watch_event ev;
	struct run c;
	char *x = malloc(chunk);
	size_t k, i, off = 0, n;

	FUZZ_CHECK(x != NULL, "out of memory");
	memset(x, 'x', chunk);
	memset(&c, 0, sizeof(c));
	FUZZ_CHECK(k8s_watch_decoder_new(&d, 0) == 0, "decoder_new");
	FUZZ_CHECK(k8s_watch_decoder_feed(d, head, sizeof(head) - 1) == 0, "feed");
	for (k = 0; k < nchunks; k++)
		FUZZ_CHECK(k8s_watch_decoder_feed(d, x, chunk) == 0, "feed");
	FUZZ_CHECK(k8s_watch_decoder_feed(d, tail, sizeof(tail) - 1) == 0, "feed");
	free(x);
	FUZZ_CHECK(k8s_watch_decoder_next(d, &ev) == 1 && ev.type == K8S_WATCH_ADDED &&
			   ev.object_len == nchunks * chunk + 10,
		   "the big event");
	check_event(d, &ev);
	FUZZ_CHECK(k8s_watch_decoder_next(d, &ev) == 0 && k8s_watch_decoder_pending(d) == 0,
		   "after the big event");
	FUZZ_CHECK(d->buf.cap > KEEP_CAPACITY, "capacity %zu", d->buf.cap);

	for (i = 0; off < len; i++) {
		n = fuzz_piece(sel, sel_len, i, 64);
		if (n > len - off)
			n = len - off;
		if (k8s_watch_decoder_feed(d, s + off, n) < 0) {
			c.failed = 1;
			break;
		}
		if (i == 0)
			FUZZ_CHECK(d->buf.cap <= 2 * (n + 1) || d->buf.cap <= 64,
				   "capacity %zu kept after a big frame", d->buf.cap);
		off += n;
		drain(d, &c);
		if (c.failed)
			break;
	}
	if (c.failed)
		check_failed(d);
	else
		c.pending = k8s_watch_decoder_pending(d);
	FUZZ_CHECK(c.n == a->n && c.failed == a->failed && c.pending == a->pending,
		   "a big frame first changed what follows");
	for (k = 0; k < a->n; k++)
		FUZZ_CHECK(c.items[k].kind == a->items[k].kind && c.items[k].type == a->items[k].type &&
				   c.items[k].object_len == a->items[k].object_len,
			   "item %zu differs after a big frame", k);
	run_free(&c);
	k8s_watch_decoder_free(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char events[] =
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}}\n"
		"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
		"{\"resourceVersion\":\"12\"}}}\n{\"type\":\"DELETED\",\"obj";
	static const uint8_t sel[] = {3, 40, 0, 63};
	struct run a;

	(void)argc;
	(void)argv;
	memset(&a, 0, sizeof(a));
	run_stream(&a, 0, events, sizeof(events) - 1, NULL, 0, 1);
	FUZZ_CHECK(a.n == 2 && !a.failed && a.pending == 22, "the fixed stream: %zu events, failed %d, %zu pending", a.n, a.failed, a.pending);
	check_keep_capacity(&a, events, sizeof(events) - 1, sel, sizeof(sel));
	run_free(&a);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a, b;
	size_t max_frame, sel_len, i;
	const char *s;
	size_t len;

	if (size < 2)
		return 0;
	max_frame = data[0] == 255 ? 0 : 16 * ((size_t)data[0] + 1);
	sel_len = data[1] & 15;
	if (size < 2 + sel_len)
		return 0;
	s = (const char *)data + 2 + sel_len;
	len = size - 2 - sel_len;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	run_stream(&a, max_frame, s, len, NULL, 0, 1);
	run_stream(&b, max_frame, s, len, data + 2, sel_len, 0);

	FUZZ_CHECK(a.n == b.n, "whole gave %zu items, pieces %zu", a.n, b.n);
	for (i = 0; i < a.n; i++) {
		const struct item *x = &a.items[i], *y = &b.items[i];
		FUZZ_CHECK(x->kind == y->kind && x->type == y->type && x->object_len == y->object_len &&
				   (x->kind != IT_EVENT ||
				    memcmp(x->object, y->object, x->object_len) == 0),
			   "item %zu differs between whole and pieces", i);
	}
	FUZZ_CHECK(a.failed == b.failed, "whole failed %d, pieces failed %d", a.failed, b.failed);
	FUZZ_CHECK(a.pending == b.pending, "whole leaves %zu pending, pieces %zu", a.pending, b.pending);
	run_free(&a);
	run_free(&b);
	return 0;
}
