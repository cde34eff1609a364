/*
 * proto.c - the protobuf walker (see proto.h) and its JSON sink.
 *
 * The wire format is proto2 as gogo-protobuf writes it for Kubernetes:
 * non-pointer scalars are always written, repeated scalars unpacked (packed
 * is read too), a message's fields in number order. What is not on the wire
 * is the Go zero value, and Go's encoding/json writes zero values unless
 * omitempty (or omitzero) drops them; so after a message's fields, the ones
 * not seen are reported as encoding/json would write the zero value.
 */
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto.h"
#include "jsonscan.h"
#include "reason.h"

typedef struct {
	const k8s_pb_sink *s;
	void *u;
	char *err;
	size_t errlen;
	int depth;
} walker;

/* Go's time: seconds from 0001-01-01 to 1970-01-01. */
#define ZERO_TIME_UNIX (-62135596800LL)

static int fail(walker *w, const char *fmt, ...) K8S_PRINTF(2, 3);

static int fail(walker *w, const char *fmt, ...)
{
	va_list ap;
	if (w->err && w->errlen) {
		int n = snprintf(w->err, w->errlen, "protobuf: ");
		va_start(ap, fmt);
		if (n > 0 && (size_t)n < w->errlen)
			vsnprintf(w->err + n, w->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return K8S_EDECODE;
}

/* A sink call: K8S_EDECODE from a sink (a value it could not take) becomes
 * a message; any other failure is out of memory. */
#define SINK(call)                                      \
	do {                                            \
		int r_ = (call);                        \
		if (r_ < 0)                             \
			return sink_failed(w, r_);      \
	} while (0)
#define TRY(call)                           \
	do {                                \
		int rc_ = (call);           \
		if (rc_ < 0)                \
			return rc_;         \
	} while (0)

static int sink_failed(walker *w, int r)
{
	if (r == K8S_EDECODE)
		return fail(w, "a value could not be stored (nesting too deep or malformed embedded JSON)");
	return K8S_ENOMEM;
}

static int emit_null(walker *w)
{
	SINK(w->s->null(w->u));
	return 0;
}

static const char *short_name(const k8s_pb_message *m)
{
	const char *slash = strrchr(m->name, '/');
	return slash ? slash + 1 : m->name;
}

/* ---- wire ---- */

typedef struct {
	const unsigned char *p, *end;
} span;

static int rd_varint(span *s, uint64_t *v)
{
	uint64_t r = 0;
	unsigned shift = 0;
	while (s->p < s->end) {
		unsigned char b = *s->p++;
		if (shift == 63 && b > 1)
			return -1;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
		shift += 7;
		if (shift > 63)
			return -1;
	}
	return -1;
}

/* A field's value: a varint/fixed in v, or bytes in sub. */
typedef struct {
	uint32_t num;
	int wt;
	uint64_t v;
	span sub;
} wire_field;

static int rd_field(walker *w, span *s, wire_field *f, const char *where)
{
	uint64_t key, n;
	if (rd_varint(s, &key) < 0)
		return fail(w, "truncated or overlong varint in %s", where);
	f->num = (uint32_t)(key >> 3);
	f->wt = (int)(key & 7);
	if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
		return fail(w, "invalid field number %llu in %s", (unsigned long long)(key >> 3), where);
	switch (f->wt) {
	case 0:
		if (rd_varint(s, &f->v) < 0)
			return fail(w, "truncated or overlong varint in %s", where);
		return 0;
	case 1:
	case 5: {
		size_t k = f->wt == 1 ? 8 : 4, i;
		if ((size_t)(s->end - s->p) < k)
			return fail(w, "fixed%zu value past the end of %s", k * 8, where);
		f->v = 0;
		for (i = 0; i < k; i++)
			f->v |= (uint64_t)s->p[i] << (8 * i);
		s->p += k;
		return 0;
	}
	case 2:
		if (rd_varint(s, &n) < 0)
			return fail(w, "truncated or overlong length in %s", where);
		if (n > (uint64_t)(s->end - s->p))
			return fail(w, "length %llu past the end of %s", (unsigned long long)n, where);
		f->sub.p = s->p;
		f->sub.end = s->p + n;
		s->p += n;
		return 0;
	default:
		return fail(w, "unsupported wire type %d (field %u) in %s", f->wt, f->num, where);
	}
}

static int want_wt(walker *w, const wire_field *f, int wt, const k8s_pb_message *m, const k8s_pb_field *fd)
{
	if (f->wt == wt)
		return 0;
	return fail(w, "field %u (%s) of %s has wire type %d, want %d", f->num, fd->json, short_name(m), f->wt,
		    wt);
}

/* ---- formatting ---- */

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	/* Howard Hinnant's algorithm */
	int64_t era, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *o, unsigned v, int n)
{
	while (n-- > 0) {
		o[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* RFC 3339 in UTC as Go's metav1.Time (micro = 0) or MicroTime (micro = 1). */
static int emit_time(walker *w, int64_t sec, int64_t nanos, int micro)
{
	char b[64];
	int64_t days, rem, y;
	unsigned mo, d;
	int n;
	int64_t carry;
	if (!micro) /* metav1.Time.Unmarshal: time.Unix(seconds, 0) */
		nanos = 0;
	carry = nanos / 1000000000;
	nanos %= 1000000000;
	if (nanos < 0) {
		nanos += 1000000000;
		carry--;
	}
	if ((carry > 0 && sec > INT64_MAX - carry) || (carry < 0 && sec < INT64_MIN - carry))
		return fail(w, "time %lld.%09lld out of range", (long long)sec, (long long)nanos);
	sec += carry;
	if (sec == ZERO_TIME_UNIX && nanos == 0)
		return emit_null(w);
	days = sec / 86400;
	rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	if (y < 0 || y > 9999) {
		n = snprintf(b, sizeof(b), "%s%04lld-%02u-%02uT%02d:%02d:%02d", y < 0 ? "-" : "",
			     (long long)(y < 0 ? -y : y), mo, d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	} else { /* the common case, without printf */
		put_digits(b, (unsigned)y, 4);
		b[4] = '-';
		put_digits(b + 5, mo, 2);
		b[7] = '-';
		put_digits(b + 8, d, 2);
		b[10] = 'T';
		put_digits(b + 11, (unsigned)(rem / 3600), 2);
		b[13] = ':';
		put_digits(b + 14, (unsigned)(rem / 60 % 60), 2);
		b[16] = ':';
		put_digits(b + 17, (unsigned)(rem % 60), 2);
		n = 19;
	}
	if (micro) {
		b[n++] = '.';
		put_digits(b + n, (unsigned)(nanos / 1000), 6);
		n += 6;
	}
	b[n++] = 'Z';
	SINK(w->s->str(w->u, b, (size_t)n));
	return 0;
}

static int emit_duration(walker *w, int64_t d)
{
	char buf[40];
	int n = k8s__format_go_duration_ns(d, buf, sizeof(buf));
	if (n < 0)
		return fail(w, "a duration could not be formatted");
	SINK(w->s->str(w->u, buf, (size_t)n));
	return 0;
}

static int emit_bytes(walker *w, const span *v)
{
	SINK(w->s->bytes(w->u, (const char *)v->p, (size_t)(v->end - v->p)));
	return 0;
}

/* Raw JSON inside protobuf: the sink checks it is one JSON value. */
static int emit_raw_json(walker *w, const span *v, const char *what)
{
	int r = w->s->raw_json(w->u, (const char *)v->p, (size_t)(v->end - v->p));
	if (r == K8S_EDECODE)
		return fail(w, "%s does not hold one JSON value", what);
	return r < 0 ? K8S_ENOMEM : 0;
}

/* ---- the walk ---- */

static int walk_fields(walker *w, const k8s_pb_message *m, span s, int list);
static int walk_envelope(walker *w, span s, int magic);

static int is_struct_kind(int kind)
{
	return kind >= K8S_PB_MESSAGE;
}

static int is_varint_kind(int kind)
{
	return kind == K8S_PB_BOOL || kind == K8S_PB_INT32 || kind == K8S_PB_INT64 || kind == K8S_PB_UINT32 ||
	       kind == K8S_PB_UINT64;
}

/* A scalar from its wire value. */
static int emit_scalar(walker *w, const k8s_pb_field *fd, uint64_t v)
{
	switch (fd->kind) {
	case K8S_PB_BOOL:
		SINK(w->s->boolean(w->u, v != 0));
		return 0;
	case K8S_PB_INT32:
		if (fd->flags & K8S_PBF_ZIGZAG)
			v = (v >> 1) ^ (0 - (v & 1));
		SINK(w->s->i64(w->u, (int32_t)(uint32_t)v));
		return 0;
	case K8S_PB_INT64:
		if (fd->flags & K8S_PBF_ZIGZAG)
			v = (v >> 1) ^ (0 - (v & 1));
		SINK(w->s->i64(w->u, (int64_t)v));
		return 0;
	case K8S_PB_UINT32:
		SINK(w->s->u64(w->u, (uint32_t)v));
		return 0;
	case K8S_PB_UINT64:
		SINK(w->s->u64(w->u, v));
		return 0;
	case K8S_PB_DOUBLE: {
		double d;
		memcpy(&d, &v, sizeof(d));
		if (!isfinite(d))
			return fail(w, "field %s is not a finite number", fd->json);
		SINK(w->s->dbl(w->u, d));
		return 0;
	}
	case K8S_PB_FLOAT: {
		float f;
		uint32_t u32 = (uint32_t)v;
		memcpy(&f, &u32, sizeof(f));
		if (!isfinite(f))
			return fail(w, "field %s is not a finite number", fd->json);
		SINK(w->s->dbl(w->u, (double)f));
		return 0;
	}
	}
	return fail(w, "field %s: kind %d is not a scalar", fd->json, fd->kind);
}

static int scalar_wt(int kind)
{
	return kind == K8S_PB_DOUBLE ? 1 : kind == K8S_PB_FLOAT ? 5 : 0;
}

static int is_zero_scalar(const k8s_pb_field *fd, uint64_t v)
{
	if (fd->kind == K8S_PB_DOUBLE) {
		double d;
		memcpy(&d, &v, sizeof(d));
		return d == 0;
	}
	if (fd->kind == K8S_PB_FLOAT) {
		float f;
		uint32_t u32 = (uint32_t)v;
		memcpy(&f, &u32, sizeof(f));
		return f == 0;
	}
	if (fd->kind == K8S_PB_INT32 || fd->kind == K8S_PB_UINT32)
		return (uint32_t)v == 0;
	return v == 0;
}

/* Reads a small message's fields 1..4 into v[] / sub[] (last wins). */
typedef struct {
	int has[5];
	uint64_t v[5];
	span sub[5];
} small_msg;

static int read_small(walker *w, span s, small_msg *sm, const char *what)
{
	memset(sm, 0, sizeof(*sm));
	while (s.p < s.end) {
		wire_field f;
		TRY(rd_field(w, &s, &f, what));
		if (f.num < 5) {
			sm->has[f.num] = 1 + f.wt;
			sm->v[f.num] = f.v;
			sm->sub[f.num] = f.sub;
		}
	}
	return 0;
}

static int small_wt(walker *w, const small_msg *sm, int num, int wt, const char *what)
{
	if (sm->has[num] && sm->has[num] != 1 + wt)
		return fail(w, "field %d of %s has wire type %d, want %d", num, what, sm->has[num] - 1, wt);
	return 0;
}

static const k8s_pb_message *msg_at(uint16_t i)
{
	return i < k8s__pb_nmessages ? &k8s__pb_messages[i] : NULL;
}

static int emit_repeated(walker *w, const k8s_pb_message *m, const k8s_pb_field *fd, const wire_field *f);

/* A named slice's wrapper {items = 1}: its elements, into the open array. */
static int walk_items(walker *w, const k8s_pb_message *m, span s)
{
	const k8s_pb_field *fd = m->count == 1 ? &k8s__pb_fields[m->first] : NULL;
	if (!fd || fd->num != 1 || !(fd->flags & K8S_PBF_REPEATED))
		return fail(w, "bad schema for the array type %s", short_name(m));
	while (s.p < s.end) {
		wire_field f;
		TRY(rd_field(w, &s, &f, m->name));
		if (f.num == 1)
			TRY(emit_repeated(w, m, fd, &f));
	}
	return 0;
}

/* The one nested object whose TypeMeta the server's JSON carries: a
 * StatefulSet's volumeClaimTemplates get apiVersion v1 and kind
 * PersistentVolumeClaim in the internal-to-external conversion
 * (pkg/apis/apps/v1/conversion.go, issue 87583), and protobuf has no field
 * for them. */
static int pvc_template(const k8s_pb_field *fd)
{
	static const char pvc[] = "k8s.io/api/core/v1.PersistentVolumeClaim";
	const k8s_pb_message *m = fd->kind == K8S_PB_MESSAGE && fd->msg < k8s__pb_nmessages ? &k8s__pb_messages[fd->msg] : NULL;
	return m && (fd->flags & K8S_PBF_REPEATED) && strcmp(fd->json, "volumeClaimTemplates") == 0 &&
	       strcmp(m->name, pvc) == 0;
}

static int walk_message_value(walker *w, const k8s_pb_message *m, span s, const k8s_pb_field *fd)
{
	int rc;
	if (++w->depth > K8S_PB_MAX_DEPTH)
		return fail(w, "nesting deeper than %d", K8S_PB_MAX_DEPTH);
	if (m->flags & K8S_PBM_ARRAY) {
		SINK(w->s->arr_begin(w->u));
		rc = walk_items(w, m, s);
		if (rc == 0 && (rc = w->s->arr_end(w->u)) < 0)
			rc = sink_failed(w, rc);
	} else {
		SINK(w->s->obj_begin(w->u));
		if (fd && pvc_template(fd)) {
			SINK(w->s->key(w->u, "apiVersion", 10));
			SINK(w->s->str(w->u, "v1", 2));
			SINK(w->s->key(w->u, "kind", 4));
			SINK(w->s->str(w->u, "PersistentVolumeClaim", 21));
		}
		rc = walk_fields(w, m, s, 0);
		if (rc == 0 && (rc = w->s->obj_end(w->u)) < 0)
			rc = sink_failed(w, rc);
	}
	w->depth--;
	return rc;
}

/* Whether a Time/MicroTime on the wire is Go's zero time (omitzero drops it). */
static int is_zero_time(walker *w, span s)
{
	small_msg sm;
	int64_t sec;
	int64_t nanos;
	if (s.p == s.end)
		return 1;
	if (read_small(w, s, &sm, "Time") < 0 || (sm.has[1] && sm.has[1] != 1) || (sm.has[2] && sm.has[2] != 1))
		return 0; /* the walk reports it */
	sec = (int64_t)sm.v[1];
	nanos = (int32_t)(uint32_t)sm.v[2];
	return sec == ZERO_TIME_UNIX && nanos == 0;
}

/* A length-delimited value of a message-like kind (present on the wire). */
static int emit_struct(walker *w, const k8s_pb_field *fd, span s)
{
	small_msg sm;
	const char *what = fd->json;
	switch (fd->kind) {
	case K8S_PB_MESSAGE: {
		const k8s_pb_message *m = msg_at(fd->msg);
		if (!m)
			return fail(w, "bad schema index for %s", fd->json);
		return walk_message_value(w, m, s, fd);
	}
	case K8S_PB_TIME:
	case K8S_PB_MICROTIME:
		if (s.p == s.end) /* Time.Marshal writes nothing for the zero time */
			return emit_null(w);
		TRY(read_small(w, s, &sm, what));
		TRY(small_wt(w, &sm, 1, 0, what));
		TRY(small_wt(w, &sm, 2, 0, what));
		return emit_time(w, (int64_t)sm.v[1], (int32_t)(uint32_t)sm.v[2], fd->kind == K8S_PB_MICROTIME);
	case K8S_PB_DURATION:
		TRY(read_small(w, s, &sm, what));
		TRY(small_wt(w, &sm, 1, 0, what));
		return emit_duration(w, (int64_t)sm.v[1]);
	case K8S_PB_QUANTITY:
		TRY(read_small(w, s, &sm, what));
		TRY(small_wt(w, &sm, 1, 2, what));
		if (!sm.has[1] || sm.sub[1].p == sm.sub[1].end)
			SINK(w->s->str(w->u, "0", 1));
		else
			SINK(w->s->str(w->u, (const char *)sm.sub[1].p, (size_t)(sm.sub[1].end - sm.sub[1].p)));
		return 0;
	case K8S_PB_INTORSTRING:
		TRY(read_small(w, s, &sm, what));
		TRY(small_wt(w, &sm, 1, 0, what));
		TRY(small_wt(w, &sm, 2, 0, what));
		TRY(small_wt(w, &sm, 3, 2, what));
		if (sm.v[1] == 0) {
			SINK(w->s->i64(w->u, (int32_t)(uint32_t)sm.v[2]));
		} else if (sm.v[1] == 1) {
			SINK(w->s->str(w->u, sm.has[3] ? (const char *)sm.sub[3].p : "",
				       sm.has[3] ? (size_t)(sm.sub[3].end - sm.sub[3].p) : 0));
		} else {
			return fail(w, "%s: impossible IntOrString.Type %llu", what, (unsigned long long)sm.v[1]);
		}
		return 0;
	case K8S_PB_RAWEXT:
	case K8S_PB_RAWJSON:
		TRY(read_small(w, s, &sm, what));
		TRY(small_wt(w, &sm, 1, 2, what));
		if (!sm.has[1] || sm.sub[1].p == sm.sub[1].end)
			return emit_null(w);
		if (fd->kind == K8S_PB_RAWEXT && (size_t)(sm.sub[1].end - sm.sub[1].p) >= K8S_PB_MAGIC_LEN &&
		    memcmp(sm.sub[1].p, K8S_PB_MAGIC, K8S_PB_MAGIC_LEN) == 0)
			return walk_envelope(w, sm.sub[1], 1);
		return emit_raw_json(w, &sm.sub[1], what);
	case K8S_PB_SCHEMA_OR_ARRAY:
	case K8S_PB_SCHEMA_OR_BOOL:
	case K8S_PB_SCHEMA_OR_STRINGS: {
		const k8s_pb_message *props = msg_at(fd->msg);
		k8s_pb_field item = {fd->json, 0, fd->msg, K8S_PB_MESSAGE, 0};
		span p;
		int n = 0, rc = 0;
		if (!props)
			return fail(w, "bad schema index for %s", fd->json);
		/* JSONSchemaPropsOrArray: {schema=1, jSONSchemas=2 repeated};
		 * OrBool: {allows=1 bool, schema=2}; OrStringArray: {schema=1, property=2 repeated} */
		if (fd->kind == K8S_PB_SCHEMA_OR_BOOL) {
			TRY(read_small(w, s, &sm, what));
			TRY(small_wt(w, &sm, 1, 0, what));
			TRY(small_wt(w, &sm, 2, 2, what));
			if (sm.has[2])
				return emit_struct(w, &item, sm.sub[2]);
			SINK(w->s->boolean(w->u, sm.v[1] != 0));
			return 0;
		}
		/* count the repeated field 2 first */
		p = s;
		while (p.p < p.end) {
			wire_field f;
			TRY(rd_field(w, &p, &f, what));
			if (f.num == 2) {
				if (f.wt != 2)
					return fail(w, "field 2 of %s has wire type %d, want 2", what, f.wt);
				n++;
			}
		}
		if (n > 0) {
			SINK(w->s->arr_begin(w->u));
			p = s;
			while (rc == 0 && p.p < p.end) {
				wire_field f;
				TRY(rd_field(w, &p, &f, what));
				if (f.num != 2)
					continue;
				if (fd->kind == K8S_PB_SCHEMA_OR_ARRAY)
					rc = emit_struct(w, &item, f.sub);
				else if ((rc = w->s->str(w->u, (const char *)f.sub.p, (size_t)(f.sub.end - f.sub.p))) < 0)
					rc = sink_failed(w, rc);
			}
			if (rc < 0)
				return rc;
			SINK(w->s->arr_end(w->u));
			return 0;
		}
		TRY(read_small(w, s, &sm, what));
		TRY(small_wt(w, &sm, 1, 2, what));
		if (!sm.has[1])
			return emit_null(w);
		return emit_struct(w, &item, sm.sub[1]);
	}
	}
	return fail(w, "field %s: kind %d is not a message", fd->json, fd->kind);
}

/* One value of field fd from the wire. */
static int emit_value(walker *w, const k8s_pb_message *m, const k8s_pb_field *fd, const wire_field *f)
{
	if (fd->kind == K8S_PB_STRING || fd->kind == K8S_PB_BYTES || is_struct_kind(fd->kind)) {
		TRY(want_wt(w, f, 2, m, fd));
		if (fd->kind == K8S_PB_STRING) {
			SINK(w->s->str(w->u, (const char *)f->sub.p, (size_t)(f->sub.end - f->sub.p)));
			return 0;
		}
		if (fd->kind == K8S_PB_BYTES)
			return emit_bytes(w, &f->sub);
		return emit_struct(w, fd, f->sub);
	}
	TRY(want_wt(w, f, scalar_wt(fd->kind), m, fd));
	return emit_scalar(w, fd, f->v);
}

/* The zero value of a field's Go type, as encoding/json writes it. */
static int emit_zero(walker *w, const k8s_pb_field *fd)
{
	static const unsigned char none[1];
	span empty = {none, none};
	if (fd->flags & (K8S_PBF_POINTER | K8S_PBF_REPEATED | K8S_PBF_MAP) || fd->kind == K8S_PB_BYTES)
		return emit_null(w);
	switch (fd->kind) {
	case K8S_PB_STRING:
		SINK(w->s->str(w->u, "", 0));
		return 0;
	case K8S_PB_BOOL:
		SINK(w->s->boolean(w->u, 0));
		return 0;
	case K8S_PB_DOUBLE:
	case K8S_PB_FLOAT:
	case K8S_PB_INT32:
	case K8S_PB_INT64:
	case K8S_PB_UINT32:
	case K8S_PB_UINT64:
		SINK(w->s->i64(w->u, 0));
		return 0;
	case K8S_PB_MESSAGE: {
		const k8s_pb_message *m = msg_at(fd->msg);
		if (m && (m->flags & K8S_PBM_ARRAY)) /* a nil named slice */
			return emit_null(w);
		break;
	}
	case K8S_PB_TIME:
	case K8S_PB_MICROTIME:
	case K8S_PB_RAWEXT:
	case K8S_PB_RAWJSON:
	case K8S_PB_SCHEMA_OR_ARRAY:
		return emit_null(w);
	}
	return emit_struct(w, fd, empty);
}

/* Whether encoding/json leaves out an absent (zero) field. */
static int omit_zero(const k8s_pb_field *fd)
{
	const k8s_pb_message *m;
	if (fd->flags & K8S_PBF_OMITZERO)
		return 1;
	if (!(fd->flags & K8S_PBF_OMITEMPTY))
		return 0;
	/* omitempty leaves out empty slices, maps, strings, numbers, false and
	 * nil pointers, never a struct value */
	if (fd->flags & (K8S_PBF_POINTER | K8S_PBF_REPEATED | K8S_PBF_MAP))
		return 1;
	if (fd->kind == K8S_PB_MESSAGE && (m = msg_at(fd->msg)) && (m->flags & K8S_PBM_ARRAY))
		return 1;
	return !is_struct_kind(fd->kind);
}

static int emit_key(walker *w, const k8s_pb_field *fd)
{
	SINK(w->s->field_key(w->u, (unsigned)(fd - k8s__pb_fields), fd->json));
	return 0;
}

/* The API server writes a List's items as [] when there are none (it sets
 * an empty slice); protobuf cannot tell empty from nil, so a top-level
 * object's absent "items" is [] (list = 1). */
static int emit_defaults(walker *w, const k8s_pb_message *m, const unsigned char *seen, int list)
{
	unsigned i;
	for (i = 0; i < m->count; i++) {
		const k8s_pb_field *fd = &k8s__pb_fields[m->first + i];
		if (seen && (seen[i >> 3] & (1u << (i & 7))))
			continue;
		if (fd->flags & K8S_PBF_INLINE) {
			const k8s_pb_message *sub = msg_at(fd->msg);
			if (!sub)
				return fail(w, "bad schema index for an inline field of %s", short_name(m));
			if (!(fd->flags & K8S_PBF_POINTER))
				TRY(emit_defaults(w, sub, NULL, 0));
			continue;
		}
		if (list && (fd->flags & K8S_PBF_REPEATED) && strcmp(fd->json, "items") == 0) {
			TRY(emit_key(w, fd));
			SINK(w->s->arr_begin(w->u));
			SINK(w->s->arr_end(w->u));
			continue;
		}
		if (omit_zero(fd))
			continue;
		TRY(emit_key(w, fd));
		TRY(emit_zero(w, fd));
	}
	return 0;
}

static const k8s_pb_field *find_field(const k8s_pb_message *m, uint32_t num, unsigned *hint)
{
	const k8s_pb_field *f = &k8s__pb_fields[m->first];
	unsigned lo = 0, hi = m->count;
	if (*hint < m->count && f[*hint].num == num)
		return &f[*hint];
	if (*hint + 1 < m->count && f[*hint + 1].num == num)
		return &f[++*hint];
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (f[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->count && f[lo].num == num) {
		*hint = lo;
		return &f[lo];
	}
	return NULL;
}

static int emit_map_entry(walker *w, const k8s_pb_message *m, const k8s_pb_field *fd, const wire_field *f)
{
	span s = f->sub, key = {NULL, NULL};
	wire_field val;
	int has_val = 0;
	TRY(want_wt(w, f, 2, m, fd));
	while (s.p < s.end) {
		wire_field e;
		TRY(rd_field(w, &s, &e, fd->json));
		if (e.num == 1) {
			if (e.wt != 2)
				return fail(w, "map %s of %s: key has wire type %d", fd->json, short_name(m), e.wt);
			key = e.sub;
		} else if (e.num == 2) {
			val = e;
			has_val = 1;
		}
	}
	SINK(w->s->key(w->u, key.p ? (const char *)key.p : "", key.p ? (size_t)(key.end - key.p) : 0));
	if (!has_val) {
		k8s_pb_field z = *fd;
		const k8s_pb_message *vm = fd->kind == K8S_PB_MESSAGE ? msg_at(fd->msg) : NULL;
		z.flags &= (uint8_t)~K8S_PBF_MAP;
		if (fd->kind == K8S_PB_BYTES) /* gogo: a missing []byte value is []byte{} */
			SINK(w->s->str(w->u, "", 0));
		else if (vm && (vm->flags & K8S_PBM_ARRAY)) { /* and a named slice's is T{} */
			SINK(w->s->arr_begin(w->u));
			SINK(w->s->arr_end(w->u));
		} else
			TRY(emit_zero(w, &z));
		return 0;
	}
	return emit_value(w, m, fd, &val);
}

static int emit_repeated(walker *w, const k8s_pb_message *m, const k8s_pb_field *fd, const wire_field *f)
{
	if (f->wt == 2 && (is_varint_kind(fd->kind) || fd->kind == K8S_PB_DOUBLE || fd->kind == K8S_PB_FLOAT)) {
		span s = f->sub; /* packed */
		while (s.p < s.end) {
			uint64_t v = 0;
			if (is_varint_kind(fd->kind)) {
				if (rd_varint(&s, &v) < 0)
					return fail(w, "truncated varint in packed %s of %s", fd->json, short_name(m));
			} else {
				size_t k = fd->kind == K8S_PB_DOUBLE ? 8 : 4, i;
				if ((size_t)(s.end - s.p) < k)
					return fail(w, "truncated packed %s of %s", fd->json, short_name(m));
				for (i = 0; i < k; i++)
					v |= (uint64_t)s.p[i] << (8 * i);
				s.p += k;
			}
			TRY(emit_scalar(w, fd, v));
		}
		return 0;
	}
	return emit_value(w, m, fd, f);
}

/* Closes the open repeated field or map. */
static int close_run(walker *w, const k8s_pb_field *run)
{
	if (run->flags & K8S_PBF_MAP)
		SINK(w->s->obj_end(w->u));
	else
		SINK(w->s->arr_end(w->u));
	return 0;
}

/* One field of a message being walked, and the state between fields. */
static int field_step(walker *w, k8s_pb_fields_state *st, const k8s_pb_message *m, const wire_field *f)
{
	const k8s_pb_field *fd = find_field(m, f->num, &st->hint);
	unsigned i;
	if (st->run && fd != st->run) {
		TRY(close_run(w, st->run));
		st->run = NULL;
	}
	if (!fd)
		return 0; /* a field this table does not know: skipped, as Go does */
	i = (unsigned)(fd - &k8s__pb_fields[m->first]);
	if (fd->flags & (K8S_PBF_REPEATED | K8S_PBF_MAP)) {
		if (!st->run) {
			if (st->seen[i >> 3] & (1u << (i & 7)))
				return fail(w, "repeated field %s of %s is not contiguous", fd->json, short_name(m));
			st->seen[i >> 3] |= (unsigned char)(1u << (i & 7));
			TRY(emit_key(w, fd));
			if (fd->flags & K8S_PBF_MAP)
				SINK(w->s->obj_begin(w->u));
			else
				SINK(w->s->arr_begin(w->u));
			st->run = fd;
		}
		if (fd->flags & K8S_PBF_MAP)
			return emit_map_entry(w, m, fd, f);
		return emit_repeated(w, m, fd, f);
	}
	if (st->seen[i >> 3] & (1u << (i & 7)))
		return fail(w, "field %s of %s appears twice", fd->json, short_name(m));
	st->seen[i >> 3] |= (unsigned char)(1u << (i & 7));
	if (fd->flags & K8S_PBF_INLINE) {
		const k8s_pb_message *sub = msg_at(fd->msg);
		int rc;
		TRY(want_wt(w, f, 2, m, fd));
		if (!sub || fd->kind != K8S_PB_MESSAGE)
			return fail(w, "bad schema for an inline field of %s", short_name(m));
		if (++w->depth > K8S_PB_MAX_DEPTH)
			return fail(w, "nesting deeper than %d", K8S_PB_MAX_DEPTH);
		rc = walk_fields(w, sub, f->sub, 0);
		w->depth--;
		return rc;
	}
	if (!(fd->flags & K8S_PBF_POINTER) && (fd->flags & (K8S_PBF_OMITEMPTY | K8S_PBF_OMITZERO))) {
		/* a zero scalar that omitempty drops (gogo writes it anyway) */
		if (!is_struct_kind(fd->kind) && f->wt != 2 && is_zero_scalar(fd, f->v))
			return 0;
		if ((fd->kind == K8S_PB_STRING || fd->kind == K8S_PB_BYTES) && f->wt == 2 && f->sub.p == f->sub.end)
			return 0;
		if ((fd->flags & K8S_PBF_OMITZERO) && (fd->kind == K8S_PB_TIME || fd->kind == K8S_PB_MICROTIME) &&
		    f->wt == 2 && is_zero_time(w, f->sub))
			return 0;
	}
	TRY(emit_key(w, fd));
	return emit_value(w, m, fd, f);
}

/* After a message's last field: close the open run, then the defaults. */
static int fields_end(walker *w, k8s_pb_fields_state *st, const k8s_pb_message *m, int list)
{
	if (st->run)
		TRY(close_run(w, st->run));
	st->run = NULL;
	return emit_defaults(w, m, st->seen, list);
}

static int walk_fields(walker *w, const k8s_pb_message *m, span s, int list)
{
	k8s_pb_fields_state st;
	memset(&st, 0, sizeof(st));
	while (s.p < s.end) {
		wire_field f;
		TRY(rd_field(w, &s, &f, m->name));
		TRY(field_step(w, &st, m, &f));
	}
	return fields_end(w, &st, m, list);
}

int k8s__pb_options_field(const char *type, const char *key, const char **hint)
{
	int m = k8s__pb_type_lookup("v1", 2, type, strlen(type));
	const k8s_pb_message *msg;
	unsigned i;
	*hint = NULL;
	if (m < 0)
		return -1;
	msg = &k8s__pb_messages[m];
	for (i = 0; i < msg->count; i++)
		if (strcmp(k8s__pb_fields[msg->first + i].json, key) == 0)
			return 1;
	/* not a field: only now look for the one it differs from in case */
	for (i = 0; i < msg->count; i++) {
		const char *json = k8s__pb_fields[msg->first + i].json;
		if (*json && strcasecmp(json, key) == 0)
			*hint = json;
	}
	return 0;
}

int k8s__pb_type_lookup(const char *api_version, size_t avlen, const char *kind, size_t klen)
{
	size_t lo = 0, hi = k8s__pb_ntypes;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const k8s_pb_type *t = &k8s__pb_types[mid];
		size_t tl = strlen(t->api_version);
		int c = memcmp(t->api_version, api_version, tl < avlen ? tl : avlen);
		if (c == 0)
			c = tl < avlen ? -1 : tl > avlen ? 1 : 0;
		if (c == 0) {
			tl = strlen(t->kind);
			c = memcmp(t->kind, kind, tl < klen ? tl : klen);
			if (c == 0)
				c = tl < klen ? -1 : tl > klen ? 1 : 0;
		}
		if (c == 0)
			return t->msg;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The envelope's contentEncoding (field 3) must be empty. */
static int no_encoding(walker *w, const span *enc)
{
	if (enc && enc->p != enc->end)
		return fail(w, "content encoding \"%.*s\" is not supported", (int)(enc->end - enc->p > 64 ? 64 : enc->end - enc->p),
			    (const char *)enc->p);
	return 0;
}

/* The message of an envelope's TypeMeta; the object is opened with kind
 * and apiVersion, as the server writes them. */
static int open_object(walker *w, span av, span kd, const k8s_pb_message **m)
{
	int idx;
	if (!av.p || !kd.p || av.p == av.end || kd.p == kd.end)
		return fail(w, "the envelope names no apiVersion and kind");
	idx = k8s__pb_type_lookup((const char *)av.p, (size_t)(av.end - av.p), (const char *)kd.p,
				  (size_t)(kd.end - kd.p));
	if (idx < 0 || !(*m = msg_at((uint16_t)idx)))
		return fail(w, "no schema for %.*s %.*s", (int)(av.end - av.p > 64 ? 64 : av.end - av.p),
			    (const char *)av.p, (int)(kd.end - kd.p > 64 ? 64 : kd.end - kd.p), (const char *)kd.p);
	SINK(w->s->obj_begin(w->u));
	SINK(w->s->key(w->u, "kind", 4));
	SINK(w->s->str(w->u, (const char *)kd.p, (size_t)(kd.end - kd.p)));
	SINK(w->s->key(w->u, "apiVersion", 10));
	SINK(w->s->str(w->u, (const char *)av.p, (size_t)(av.end - av.p)));
	return 0;
}

/* k8s\0 + runtime.Unknown{typeMeta=1 {apiVersion=1, kind=2}, raw=2,
 * contentEncoding=3, contentType=4}: the object, with kind and apiVersion. */
static int walk_envelope(walker *w, span s, int magic)
{
	small_msg u, tm;
	const k8s_pb_message *m;
	int rc;
	span av = {NULL, NULL}, kd = {NULL, NULL};
	if (magic) {
		if ((size_t)(s.end - s.p) < K8S_PB_MAGIC_LEN || memcmp(s.p, K8S_PB_MAGIC, K8S_PB_MAGIC_LEN) != 0)
			return fail(w, "missing the k8s\\0 prefix");
		s.p += K8S_PB_MAGIC_LEN;
	}
	TRY(read_small(w, s, &u, "runtime.Unknown"));
	TRY(small_wt(w, &u, 1, 2, "runtime.Unknown"));
	TRY(small_wt(w, &u, 2, 2, "runtime.Unknown"));
	TRY(small_wt(w, &u, 3, 2, "runtime.Unknown"));
	TRY(no_encoding(w, u.has[3] ? &u.sub[3] : NULL));
	if (u.has[1]) {
		TRY(read_small(w, u.sub[1], &tm, "TypeMeta"));
		TRY(small_wt(w, &tm, 1, 2, "TypeMeta"));
		TRY(small_wt(w, &tm, 2, 2, "TypeMeta"));
		if (tm.has[1])
			av = tm.sub[1];
		if (tm.has[2])
			kd = tm.sub[2];
	}
	if (++w->depth > K8S_PB_MAX_DEPTH)
		return fail(w, "nesting deeper than %d", K8S_PB_MAX_DEPTH);
	TRY(open_object(w, av, kd, &m));
	if (u.has[2])
		rc = walk_fields(w, m, u.sub[2], 1);
	else
		rc = emit_defaults(w, m, NULL, 1);
	if (rc < 0)
		return rc;
	SINK(w->s->obj_end(w->u));
	w->depth--;
	return 0;
}

static void walker_init(walker *w, const k8s_pb_sink *s, void *u, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->u = u;
	w->err = err;
	w->errlen = errlen;
	if (err && errlen)
		err[0] = 0;
}

int k8s__pb_walk_body(const k8s_pb_sink *s, void *u, const char *p, size_t n, char *err, size_t errlen)
{
	walker w;
	span sp = {(const unsigned char *)p, (const unsigned char *)p + n};
	walker_init(&w, s, u, err, errlen);
	return walk_envelope(&w, sp, 1);
}

/* ---- incremental: a body walked while it arrives ---- */

void k8s__pb_inc_init(k8s_pb_inc *s)
{
	memset(s, 0, sizeof(*s));
}

/* The envelope up to the start of its raw object: kind and apiVersion
 * reported. Returns 1 when past it, 0 to wait for more, < 0 on error. */
static int inc_head(walker *w, k8s_pb_inc *s, const char *buf, size_t len)
{
	span sp;
	if (len < K8S_PB_MAGIC_LEN)
		return 0;
	if (memcmp(buf, K8S_PB_MAGIC, K8S_PB_MAGIC_LEN) != 0)
		return fail(w, "missing the k8s\\0 prefix");
	if (s->pos < K8S_PB_MAGIC_LEN)
		s->pos = K8S_PB_MAGIC_LEN;
	for (;;) {
		wire_field f;
		const k8s_pb_message *m;
		sp.p = (const unsigned char *)buf + s->pos;
		sp.end = (const unsigned char *)buf + len;
		if (f.num = 0, s->pos >= len || rd_field(w, &sp, &f, "runtime.Unknown") < 0) {
			/* cut short: wait, unless this is the raw field's header */
			span h = {(const unsigned char *)buf + s->pos, (const unsigned char *)buf + len};
			uint64_t key, n;
			if (s->pos >= len || rd_varint(&h, &key) < 0 || key != ((2u << 3) | 2) || rd_varint(&h, &n) < 0)
				return 0;
			f.num = 2;
			f.wt = 2;
			f.sub.p = h.p;
			f.sub.end = h.p; /* what has come of it */
			s->raw_end = (size_t)(h.p - (const unsigned char *)buf) + (size_t)n;
		} else if (f.num == 2) {
			s->raw_end = (size_t)(f.sub.end - (const unsigned char *)buf);
		}
		if (f.num != 2) {
			if (f.num == 1) {
				small_msg tm;
				if (f.wt != 2)
					return fail(w, "field 1 of runtime.Unknown has wire type %d, want 2", f.wt);
				TRY(read_small(w, f.sub, &tm, "TypeMeta"));
				TRY(small_wt(w, &tm, 1, 2, "TypeMeta"));
				TRY(small_wt(w, &tm, 2, 2, "TypeMeta"));
				s->av_off = tm.has[1] ? (size_t)(tm.sub[1].p - (const unsigned char *)buf) : 0;
				s->av_len = tm.has[1] ? (size_t)(tm.sub[1].end - tm.sub[1].p) : 0;
				s->kd_off = tm.has[2] ? (size_t)(tm.sub[2].p - (const unsigned char *)buf) : 0;
				s->kd_len = tm.has[2] ? (size_t)(tm.sub[2].end - tm.sub[2].p) : 0;
			} else if (f.num == 3) { /* as walk_envelope */
				if (f.wt != 2)
					return fail(w, "field 3 of runtime.Unknown has wire type %d, want 2", f.wt);
				TRY(no_encoding(w, &f.sub));
			}
			s->pos = (size_t)(sp.p - (const unsigned char *)buf);
			continue;
		}
		if (f.wt != 2)
			return fail(w, "field 2 of runtime.Unknown has wire type %d, want 2", f.wt);
		{
			span av = {(const unsigned char *)buf + s->av_off, (const unsigned char *)buf + s->av_off + s->av_len};
			span kd = {(const unsigned char *)buf + s->kd_off, (const unsigned char *)buf + s->kd_off + s->kd_len};
			TRY(open_object(w, av, kd, &m));
		}
		s->msg = (uint16_t)(m - k8s__pb_messages);
		s->pos = (size_t)(f.sub.p - (const unsigned char *)buf);
		return 1;
	}
}

int k8s__pb_inc_feed(k8s_pb_inc *s, const k8s_pb_sink *sk, void *u, const char *buf, size_t len, char *err,
		     size_t errlen)
{
	walker w;
	const k8s_pb_message *m;
	int rc;
	walker_init(&w, sk, u, err, errlen);
	w.depth = 1;
	if (s->phase == K8S_PB_INC_DONE)
		return 1;
	if (s->phase == K8S_PB_INC_FAILED)
		return K8S_EDECODE;
	if (s->phase == K8S_PB_INC_HEAD) {
		rc = inc_head(&w, s, buf, len);
		if (rc <= 0) {
			if (rc < 0)
				s->phase = K8S_PB_INC_FAILED;
			return rc;
		}
		s->phase = K8S_PB_INC_FIELDS;
	}
	m = msg_at(s->msg);
	while (s->pos < s->raw_end) {
		size_t lim = len < s->raw_end ? len : s->raw_end;
		span sp = {(const unsigned char *)buf + s->pos, (const unsigned char *)buf + lim};
		wire_field f;
		if (s->pos >= lim)
			return 0;
		if (rd_field(&w, &sp, &f, m->name) < 0) {
			if (len < s->raw_end)
				return 0; /* not all here yet */
			s->phase = K8S_PB_INC_FAILED;
			return K8S_EDECODE;
		}
		if ((rc = field_step(&w, &s->st, m, &f)) < 0) {
			s->phase = K8S_PB_INC_FAILED;
			return rc;
		}
		s->pos = (size_t)(sp.p - (const unsigned char *)buf);
	}
	if ((rc = fields_end(&w, &s->st, m, 1)) < 0 || (rc = w.s->obj_end(w.u)) < 0) {
		s->phase = K8S_PB_INC_FAILED;
		return rc == K8S_EDECODE || rc == K8S_ENOMEM ? rc : K8S_ENOMEM;
	}
	s->phase = K8S_PB_INC_DONE;
	return 1;
}

int k8s__pb_inc_complete(const k8s_pb_inc *s, const char *buf, size_t len)
{
	walker w;
	small_msg u;
	span sp;
	if (s->phase != K8S_PB_INC_DONE || len < s->raw_end)
		return 0;
	/* after the raw object: only the envelope's contentEncoding (empty)
	 * and contentType */
	walker_init(&w, NULL, NULL, NULL, 0);
	sp.p = (const unsigned char *)buf + s->raw_end;
	sp.end = (const unsigned char *)buf + len;
	if (read_small(&w, sp, &u, "") < 0 || u.has[1] || u.has[2] || (u.has[3] && (u.has[3] != 3 || u.sub[3].p != u.sub[3].end)))
		return 0;
	return 1;
}

int k8s__pb_walk_event(const k8s_pb_sink *s, void *u, const char *p, size_t n, char *err, size_t errlen)
{
	walker w;
	span sp = {(const unsigned char *)p, (const unsigned char *)p + n};
	const k8s_pb_message *m = msg_at(k8s__pb_watch_event_msg);
	walker_init(&w, s, u, err, errlen);
	if (!m)
		return fail(&w, "no schema for WatchEvent");
	return walk_message_value(&w, m, sp, NULL);
}

/* The TypeMeta of a k8s\0 envelope, without walking the object. */
static int envelope_type(span s, span *av, span *kd)
{
	walker w;
	small_msg u, tm;
	walker_init(&w, NULL, NULL, NULL, 0);
	if ((size_t)(s.end - s.p) < K8S_PB_MAGIC_LEN || memcmp(s.p, K8S_PB_MAGIC, K8S_PB_MAGIC_LEN) != 0)
		return -1;
	s.p += K8S_PB_MAGIC_LEN;
	if (read_small(&w, s, &u, "") < 0 || u.has[1] != 3 || read_small(&w, u.sub[1], &tm, "") < 0 ||
	    tm.has[1] != 3 || tm.has[2] != 3)
		return -1;
	*av = tm.sub[1];
	*kd = tm.sub[2];
	return 0;
}

int k8s__pb_is_status(const char *p, size_t n)
{
	span s = {(const unsigned char *)p, (const unsigned char *)p + n}, av, kd;
	return envelope_type(s, &av, &kd) == 0 && kd.end - kd.p == 6 && memcmp(kd.p, "Status", 6) == 0;
}

int k8s__pb_event_parts(const char *p, size_t n, const char **type, size_t *tlen, const char **obj, size_t *olen)
{
	walker w;
	small_msg ev, raw;
	span s = {(const unsigned char *)p, (const unsigned char *)p + n};
	walker_init(&w, NULL, NULL, NULL, 0);
	*type = *obj = NULL;
	*tlen = *olen = 0;
	if (read_small(&w, s, &ev, "") < 0 || (ev.has[1] && ev.has[1] != 3) || (ev.has[2] && ev.has[2] != 3))
		return -1;
	if (ev.has[1]) {
		*type = (const char *)ev.sub[1].p;
		*tlen = (size_t)(ev.sub[1].end - ev.sub[1].p);
	}
	if (ev.has[2]) {
		if (read_small(&w, ev.sub[2], &raw, "") < 0 || (raw.has[1] && raw.has[1] != 3))
			return -1;
		if (raw.has[1]) {
			*obj = (const char *)raw.sub[1].p;
			*olen = (size_t)(raw.sub[1].end - raw.sub[1].p);
		}
	}
	return 0;
}

int k8s__pb_knows_group_version(const char *group, const char *version)
{
	size_t i, gl = strlen(group);
	for (i = 0; i < k8s__pb_ntypes; i++) {
		const char *av = k8s__pb_types[i].api_version;
		if (gl == 0 ? strcmp(av, version) == 0
			    : strncmp(av, group, gl) == 0 && av[gl] == '/' && strcmp(av + gl + 1, version) == 0)
			return 1;
	}
	return 0;
}

int k8s__pb_is_content_type(const char *ctype)
{
	size_t n = strlen(K8S_PB_CONTENT_TYPE);
	if (!ctype)
		return 0;
	while (*ctype == ' ')
		ctype++;
	return strncasecmp(ctype, K8S_PB_CONTENT_TYPE, n) == 0 &&
	       (ctype[n] == 0 || ctype[n] == ';' || ctype[n] == ' ');
}

/* ---- the JSON sink ---- */

static int j_sep(k8s_buf *b)
{
	if (b->len > 0) {
		char c = b->ptr[b->len - 1];
		if (c != '{' && c != '[' && c != ':')
			return k8s_buf_put(b, ",", 1);
	}
	return 0;
}

static int j_obj_begin(void *u)
{
	k8s_buf *b = u;
	return j_sep(b) < 0 ? -1 : k8s_buf_put(b, "{", 1);
}

static int j_obj_end(void *u) { return k8s_buf_put(u, "}", 1); }

static int j_arr_begin(void *u)
{
	k8s_buf *b = u;
	return j_sep(b) < 0 ? -1 : k8s_buf_put(b, "[", 1);
}

static int j_arr_end(void *u) { return k8s_buf_put(u, "]", 1); }

static int j_key(void *u, const char *k, size_t n)
{
	k8s_buf *b = u;
	if (j_sep(b) < 0 || k8s_buf_put_json_string(b, k, n) < 0)
		return -1;
	return k8s_buf_put(b, ":", 1);
}

static int j_field_key(void *u, unsigned fi, const char *json)
{
	(void)fi;
	return j_key(u, json, strlen(json));
}

static int j_str(void *u, const char *s, size_t n)
{
	k8s_buf *b = u;
	return j_sep(b) < 0 ? -1 : k8s_buf_put_json_string(b, s, n);
}

static int j_bytes(void *u, const char *s, size_t n)
{
	k8s_buf *b = u;
	if (j_sep(b) < 0 || k8s_buf_put(b, "\"", 1) < 0 || k8s__base64_encode(b, s, n) < 0)
		return -1;
	return k8s_buf_put(b, "\"", 1);
}

static int j_i64(void *u, int64_t v)
{
	k8s_buf *b = u;
	return j_sep(b) < 0 ? -1 : k8s_buf_printf(b, "%lld", (long long)v);
}

static int j_u64(void *u, uint64_t v)
{
	k8s_buf *b = u;
	return j_sep(b) < 0 ? -1 : k8s_buf_printf(b, "%llu", (unsigned long long)v);
}

/* A number printed in the current locale, with '.' for its decimal point. */
static char *c_locale(char *t)
{
	char dp = localeconv()->decimal_point[0], *q;
	if (dp != '.' && (q = strchr(t, dp)))
		*q = '.';
	return t;
}

/* Go's encoding/json float64: shortest repr, 'f' form for 1e-6 <= |v| < 1e21. */
static int j_dbl(void *u, double v)
{
	k8s_buf *b = u;
	char t[40];
	int prec;
	double a = fabs(v);
	if (j_sep(b) < 0)
		return -1;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(t, sizeof(t), "%.*g", prec, v);
		if (strtod(t, NULL) == v)
			break;
	}
	if (a != 0 && (a < 1e-6 || a >= 1e21)) {
		/* "1e+21", "1e-07" -> "1e-7" as Go writes */
		char *e = strchr(t, 'e');
		if (e && (e[1] == '-' || e[1] == '+') && e[2] == '0' && e[3])
			memmove(e + 2, e + 3, strlen(e + 3) + 1);
		return k8s_buf_puts(b, c_locale(t));
	}
	if (strchr(t, 'e')) {
		/* %g chose the exponent form (exp < -4 or >= prec): write the
		 * same shortest digits in the 'f' form, as strconv 'f', -1 */
		char dig[24], f[48];
		int nd = 0, exp, i, o = 0;
		const char *q = t;
		if (*q == '-')
			f[o++] = *q++;
		for (; *q && *q != 'e'; q++)
			if (*q >= '0' && *q <= '9')
				dig[nd++] = *q;
		exp = atoi(q + 1);
		while (nd > 1 && dig[nd - 1] == '0')
			nd--;
		if (exp < 0) {
			f[o++] = '0';
			f[o++] = '.';
			for (i = -1; i > exp; i--)
				f[o++] = '0';
			for (i = 0; i < nd; i++)
				f[o++] = dig[i];
		} else {
			for (i = 0; i < nd || i <= exp; i++) {
				if (i == exp + 1)
					f[o++] = '.';
				f[o++] = i < nd ? dig[i] : '0';
			}
		}
		f[o] = 0;
		return k8s_buf_puts(b, f);
	}
	return k8s_buf_puts(b, c_locale(t));
}

static int j_bool(void *u, int v)
{
	k8s_buf *b = u;
	return j_sep(b) < 0 ? -1 : k8s_buf_puts(b, v ? "true" : "false");
}

static int j_null(void *u)
{
	k8s_buf *b = u;
	return j_sep(b) < 0 ? -1 : k8s_buf_puts(b, "null");
}

static int j_raw(void *u, const char *s, size_t n)
{
	k8s_buf *b = u;
	size_t i = k8s_json_skip_ws(s, n, 0), end;
	int r = k8s_json_skip_value(s, n, 0, &end);
	if (r == 1) {
		/* a number running to the end of the text is complete here */
		k8s_json_scanner sc;
		k8s_json_scanner_init(&sc);
		if (k8s_json_scanner_run(&sc, s, n, 0, &end) == 1 && k8s_json_scanner_run(&sc, " ", 1, 0, &end) == 0) {
			r = 0;
			end = n;
		}
	}
	if (r != 0 || k8s_json_skip_ws(s, n, end) != n)
		return K8S_EDECODE;
	while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t'))
		n--;
	return j_sep(b) < 0 ? -1 : k8s_buf_put(b, s + i, n - i);
}

static const k8s_pb_sink json_sink = {j_obj_begin, j_obj_end, j_arr_begin, j_arr_end, j_key, j_field_key, j_str,
				      j_bytes,     j_i64,     j_u64,       j_dbl,      j_bool, j_null, j_raw};

int k8s__pb_to_json(k8s_buf *out, const char *p, size_t n, int event, char *err, size_t errlen)
{
	size_t start = out->len;
	int rc = event ? k8s__pb_walk_event(&json_sink, out, p, n, err, errlen)
		       : k8s__pb_walk_body(&json_sink, out, p, n, err, errlen);
	if (rc < 0) {
		out->len = start;
		if (out->ptr)
			out->ptr[start] = 0;
		if (rc == K8S_ENOMEM)
			return k8s__error_oom();
		return k8s__error(K8S_EDECODE, "DecodeError", "%s", err && *err ? err : "protobuf: malformed");
	}
	return 0;
}
