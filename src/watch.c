#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "jsonscan.h"
#include "proto.h"
#include "rest_internal.h"

/* Buffer capacity kept after a large frame has been consumed. */
#define KEEP_CAPACITY (1u << 20)

struct k8s_watch_decoder {
	k8s_buf buf;
	size_t off;          /* first byte not yet consumed */
	size_t max_frame;
	int in_frame;        /* a frame starts at frame_start */
	int complete;        /* ... and ends at frame_end */
	size_t frame_start, frame_end, scan_pos;
	int failed;          /* the stream is unusable; errmsg says why */
	char errmsg[256];
	k8s_json_scanner sc; /* resumable, so chunks are scanned once */
	int mode;            /* 0 until the first byte, then JSON or PROTOBUF */
	int keep_pb;         /* k8s__watch_decoder_keep_protobuf */
	k8s_buf event;       /* protobuf: the current event as JSON */
};

/* A protobuf watch stream (application/vnd.kubernetes.protobuf;stream=watch)
 * is a sequence of 4-byte big-endian lengths, each followed by a
 * metav1.WatchEvent; a JSON one starts with '{' or whitespace. The first
 * byte tells them apart: a frame under 16 MiB starts with 0x00. */
enum { MODE_UNKNOWN, MODE_JSON, MODE_PROTOBUF };

static const struct {
	const char *name;
	k8s_watch_event_type type;
} event_types[] = {
	{"ADDED", K8S_WATCH_ADDED},
	{"MODIFIED", K8S_WATCH_MODIFIED},
	{"DELETED", K8S_WATCH_DELETED},
	{"BOOKMARK", K8S_WATCH_BOOKMARK},
	{"ERROR", K8S_WATCH_ERROR},
};

int k8s_watch_decoder_new(k8s_watch_decoder **out, size_t max_frame)
{
	k8s_watch_decoder *d = calloc(1, sizeof(*d));
	*out = NULL;
	if (!d)
		return k8s__error_oom();
	d->max_frame = max_frame ? max_frame : K8S_WATCH_MAX_FRAME;
	*out = d;
	return 0;
}

void k8s_watch_decoder_free(k8s_watch_decoder *d)
{
	if (!d)
		return;
	k8s_buf_free(&d->buf);
	k8s_buf_free(&d->event);
	free(d);
}

static int broken(k8s_watch_decoder *d)
{
	return k8s__error(K8S_EDECODE, "DecodeError", "%s", d->errmsg);
}

static int fail(k8s_watch_decoder *d, const char *fmt, ...) K8S_PRINTF(2, 3);

static int fail(k8s_watch_decoder *d, const char *fmt, ...)
{
	va_list ap;
	d->failed = 1;
	va_start(ap, fmt);
	vsnprintf(d->errmsg, sizeof(d->errmsg), fmt, ap);
	va_end(ap);
	/* the rest of the stream cannot be framed; stop buffering it */
	k8s_buf_free(&d->buf);
	d->off = 0;
	d->in_frame = d->complete = 0;
	return broken(d);
}

static int fail_cap(k8s_watch_decoder *d)
{
	return fail(d, "watch event exceeds the maximum frame size of %zu bytes", d->max_frame);
}

/* Scan the current frame as far as the buffer goes. */
static int advance(k8s_watch_decoder *d)
{
	size_t end;
	int r;

	if (d->failed)
		return broken(d);
	if (d->complete)
		return 0;
	if (d->mode == MODE_UNKNOWN && d->off < d->buf.len)
		d->mode = d->buf.ptr[d->off] == 0 ? MODE_PROTOBUF : MODE_JSON;
	if (d->mode == MODE_PROTOBUF) {
		const unsigned char *h = (const unsigned char *)d->buf.ptr + d->off;
		size_t n;
		if (d->buf.len - d->off < 4)
			return 0;
		n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
		if (n > d->max_frame)
			return fail_cap(d);
		d->in_frame = 1;
		d->frame_start = d->off;
		if (d->buf.len - d->off - 4 < n)
			return 0;
		d->frame_end = d->off + 4 + n;
		d->complete = 1;
		return 0;
	}
	if (!d->in_frame) {
		size_t i = k8s_json_skip_ws(d->buf.ptr, d->buf.len, d->off);
		d->off = i;
		if (i >= d->buf.len)
			return 0;
		if (d->buf.ptr[i] != '{')
			return fail(d, "watch stream: expected a JSON object, got byte 0x%02x",
				(unsigned)(unsigned char)d->buf.ptr[i]);
		d->in_frame = 1;
		d->frame_start = d->scan_pos = i;
		k8s_json_scanner_init(&d->sc);
	}
	r = k8s_json_scanner_run(&d->sc, d->buf.ptr, d->buf.len, d->scan_pos, &end);
	if (r < 0)
		return fail(d, "watch stream: malformed JSON at byte %zu of an event",
			end - d->frame_start);
	if (r == 0) {
		d->frame_end = end;
		d->complete = 1;
		return end - d->frame_start > d->max_frame ? fail_cap(d) : 0;
	}
	d->scan_pos = d->buf.len;
	return d->buf.len - d->frame_start > d->max_frame ? fail_cap(d) : 0;
}

/* Drop consumed bytes once they outweigh the live ones (amortised O(1)). */
static void compact(k8s_watch_decoder *d)
{
	size_t off = d->off, live = d->buf.len - off;

	if (off == 0)
		return;
	if (live == 0) {
		if (d->buf.cap > KEEP_CAPACITY)
			k8s_buf_free(&d->buf);
		d->buf.len = 0;
	} else if (off >= live) {
		memmove(d->buf.ptr, d->buf.ptr + off, live);
		d->buf.len = live;
		d->buf.ptr[live] = 0;
	} else {
		return;
	}
	if (d->in_frame) {
		d->frame_start -= off;
		d->frame_end -= off;
		d->scan_pos -= off;
	}
	d->off = 0;
}

int k8s_watch_decoder_feed(k8s_watch_decoder *d, const char *data, size_t len)
{
	int r;
	if (d->failed)
		return broken(d);
	if (len == 0)
		return 0;
	compact(d);
	if (k8s_buf_put(&d->buf, data, len) < 0)
		return K8S_ENOMEM;
	r = advance(d);
	return r < 0 ? r : 0;
}

static int decode_type(const char *v, size_t vlen, k8s_watch_event *ev)
{
	char *name = NULL;
	size_t k;
	int r;

	if (vlen == 4 && memcmp(v, "null", 4) == 0) {
		v = "\"\"";
		vlen = 2;
	}
	if (v[0] != '"')
		return k8s__error(K8S_EDECODE, "DecodeError",
			"watch event \"type\" is not a string");
	for (k = 0; k < sizeof(event_types) / sizeof(event_types[0]); k++) {
		if (k8s_json_raw_equal(v + 1, vlen - 2, event_types[k].name)) {
			ev->type = event_types[k].type;
			ev->type_name = event_types[k].name;
			return 0;
		}
	}
	if (k8s_json_string_dup(v, vlen, &name) < 0)
		return k8s__error(K8S_EDECODE, "DecodeError",
			"unknown watch event type %.*s", (int)(vlen > 128 ? 128 : vlen), v);
	r = k8s__error(K8S_EDECODE, "DecodeError", "unknown watch event type \"%.128s\"", name);
	free(name);
	return r;
}

void k8s__watch_decoder_keep_protobuf(k8s_watch_decoder *d)
{
	d->keep_pb = 1;
}

/* A protobuf event handed out as it is: the object a k8s\0 envelope. */
static int pb_event(const char *p, size_t n, k8s_watch_event *ev)
{
	const char *type, *obj;
	size_t tlen, olen, k;
	if (k8s__pb_event_parts(p, n, &type, &tlen, &obj, &olen) < 0)
		return k8s__error(K8S_EDECODE, "DecodeError", "watch stream: malformed protobuf event");
	ev->type_name = NULL;
	for (k = 0; k < sizeof(event_types) / sizeof(event_types[0]); k++) {
		if (type && strlen(event_types[k].name) == tlen && memcmp(type, event_types[k].name, tlen) == 0) {
			ev->type = event_types[k].type;
			ev->type_name = event_types[k].name;
			break;
		}
	}
	if (!ev->type_name)
		return k8s__error(K8S_EDECODE, "DecodeError", "unknown watch event type \"%.*s\"",
				  (int)(tlen > 128 ? 128 : tlen), type ? type : "");
	if (!obj || olen == 0)
		return k8s__error(K8S_EDECODE, "DecodeError", "%s watch event has no \"object\"", ev->type_name);
	ev->protobuf = olen >= K8S_PB_MAGIC_LEN && memcmp(obj, K8S_PB_MAGIC, K8S_PB_MAGIC_LEN) == 0;
	if (!ev->protobuf && obj[0] != '{')
		return k8s__error(K8S_EDECODE, "DecodeError", "%s watch event \"object\" is neither protobuf nor JSON",
				  ev->type_name);
	ev->object = obj;
	ev->object_len = olen;
	return 1;
}

int k8s_watch_decoder_next(k8s_watch_decoder *d, k8s_watch_event *ev)
{
	const char *frame, *key, *val, *type = NULL, *object = NULL;
	size_t flen, pos = 0, klen, vlen, type_len = 0, object_len = 0;
	int r;

	if ((r = advance(d)) < 0)
		return r;
	if (!d->complete)
		return 0;
	frame = d->buf.ptr + d->frame_start;
	flen = d->frame_end - d->frame_start;
	/* The frame is consumed even if it is rejected below: the stream
	 * stays in sync and the caller may go on. */
	d->off = d->frame_end;
	d->in_frame = d->complete = 0;
	if (d->mode == MODE_PROTOBUF && d->keep_pb)
		return pb_event(frame + 4, flen - 4, ev);
	if (d->mode == MODE_PROTOBUF) {
		char err[256];
		d->event.len = 0;
		if ((r = k8s__pb_to_json(&d->event, frame + 4, flen - 4, 1, err, sizeof(err))) < 0)
			return r;
		frame = d->event.ptr;
		flen = d->event.len;
	}

	while ((r = k8s_json_object_next(frame, flen, &pos, &key, &klen, &val, &vlen)) == 1) {
		if (k8s_json_raw_equal(key, klen, "type")) {
			type = val;
			type_len = vlen;
		} else if (k8s_json_raw_equal(key, klen, "object")) {
			object = val;
			object_len = vlen;
		}
	}
	if (r < 0)
		return k8s__error(K8S_EDECODE, "DecodeError", "watch stream: malformed event");
	if (!type) {
		type = "\"\"";
		type_len = 2;
	}
	if ((r = decode_type(type, type_len, ev)) < 0)
		return r;
	if (!object || (object_len == 4 && memcmp(object, "null", 4) == 0))
		return k8s__error(K8S_EDECODE, "DecodeError",
			"%s watch event has no \"object\"", ev->type_name);
	if (object[0] != '{')
		return k8s__error(K8S_EDECODE, "DecodeError",
			"%s watch event \"object\" is not a JSON object", ev->type_name);
	ev->object = object;
	ev->object_len = object_len;
	ev->protobuf = 0;
	return 1;
}

size_t k8s_watch_decoder_pending(const k8s_watch_decoder *d)
{
	size_t i;
	if (d->failed || !d->buf.ptr)
		return 0;
	if (d->in_frame)
		i = d->frame_start;
	else
		i = d->mode == MODE_PROTOBUF ? d->off : k8s_json_skip_ws(d->buf.ptr, d->buf.len, d->off);
	return d->buf.len - i;
}

char *k8s_watch_decoding_status(const char *what)
{
	k8s_buf msg = K8S_BUF_INIT, top = K8S_BUF_INIT, b = K8S_BUF_INIT;
	int bad = k8s_buf_printf(&msg, "unable to decode an event from the watch stream: %s", what ? what : "") < 0 ||
		  k8s_buf_printf(&top, "an error on the server (\"%s\") has prevented the request from succeeding",
				 msg.ptr) < 0 ||
		  k8s_buf_puts(&b, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
				   "\"message\":") < 0 ||
		  k8s_buf_put_json_string(&b, top.ptr, top.len) < 0 ||
		  k8s_buf_puts(&b, ",\"reason\":\"InternalError\",\"details\":{\"causes\":["
				   "{\"reason\":\"UnexpectedServerResponse\",\"message\":") < 0 ||
		  k8s_buf_put_json_string(&b, msg.ptr, msg.len) < 0 ||
		  k8s_buf_puts(&b, "},{\"reason\":\"ClientWatchDecoding\",\"message\":") < 0 ||
		  k8s_buf_put_json_string(&b, msg.ptr, msg.len) < 0 || k8s_buf_puts(&b, "}]},\"code\":500}") < 0;
	k8s_buf_free(&msg);
	k8s_buf_free(&top);
	if (bad) {
		k8s_buf_free(&b);
		k8s__error_oom();
		return NULL;
	}
	return k8s_buf_detach(&b);
}
