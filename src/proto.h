/*
 * proto.h - Kubernetes protobuf (application/vnd.kubernetes.protobuf) to the
 * JSON the API server would have written, driven by a schema table that
 * tools/gen-proto-schema.sh generates from client-go's scheme
 * (src/proto_schema_gen.c).
 *
 * The walker reads the wire format with the table and reports values to a
 * sink, in the shape Go's encoding/json gives the same Go struct: JSON names
 * from the json tags, omitempty/omitzero, pointers (absent -> omitted or
 * null), inline structs, and the types with their own JSON form (Time,
 * MicroTime, Duration, Quantity, IntOrString, RawExtension, FieldsV1,
 * apiextensions JSON and JSONSchemaPropsOr*). Two sinks exist: a JSON writer
 * here (k8s__pb_to_json), and the Lua table builder in the binding.
 *
 * Malformed input (bad varints, lengths past the end, wrong wire types,
 * nesting deeper than K8S_PB_MAX_DEPTH, a field repeated out of place) is an
 * error with a short message; the sink may have seen part of the value, so
 * a caller discards what it built.
 */
#ifndef K8S_PROTO_H
#define K8S_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* The 4 bytes before a runtime.Unknown envelope in a protobuf body. */
#define K8S_PB_MAGIC "k8s\0"
#define K8S_PB_MAGIC_LEN 4
#define K8S_PB_CONTENT_TYPE "application/vnd.kubernetes.protobuf"
#define K8S_PB_MAX_DEPTH 100

/* What a field's Go type is, for its JSON form (for a map: its values). */
enum {
	K8S_PB_STRING = 1,      /* string (named string types too); wire 2 */
	K8S_PB_BYTES,           /* []byte: a base64 string; wire 2 */
	K8S_PB_BOOL,            /* varint */
	K8S_PB_INT32,           /* varint (negative: 10-byte two's complement) */
	K8S_PB_INT64,           /* varint */
	K8S_PB_UINT32,          /* varint */
	K8S_PB_UINT64,          /* varint */
	K8S_PB_DOUBLE,          /* fixed64 */
	K8S_PB_FLOAT,           /* fixed32 */
	K8S_PB_MESSAGE,         /* a struct: .msg */
	K8S_PB_TIME,            /* metav1.Time: Timestamp{seconds=1,nanos=2} -> RFC 3339 or null */
	K8S_PB_MICROTIME,       /* metav1.MicroTime: same wire, 6 fraction digits */
	K8S_PB_DURATION,        /* metav1.Duration{duration=1 int64 ns} -> "1h0m0s" */
	K8S_PB_QUANTITY,        /* resource.Quantity{string=1} -> its string */
	K8S_PB_INTORSTRING,     /* intstr.IntOrString{type=1,intVal=2,strVal=3} */
	K8S_PB_RAWEXT,          /* runtime.RawExtension{raw=1}: raw JSON, or a
				   k8s\0 envelope (watch events) */
	K8S_PB_RAWJSON,         /* metav1.FieldsV1{Raw=1}, apiextensions JSON{raw=1}:
				   raw JSON, null when absent */
	K8S_PB_SCHEMA_OR_ARRAY, /* JSONSchemaPropsOrArray{schema=1,jSONSchemas=2}; .msg: JSONSchemaProps */
	K8S_PB_SCHEMA_OR_BOOL,  /* JSONSchemaPropsOrBool{allows=1,schema=2} */
	K8S_PB_SCHEMA_OR_STRINGS /* JSONSchemaPropsOrStringArray{schema=1,property=2} */
};

/* Field flags (from the Go type and the json tag). */
#define K8S_PBF_OMITEMPTY 0x01 /* json ",omitempty" */
#define K8S_PBF_POINTER 0x02   /* Go pointer: absent is nil */
#define K8S_PBF_REPEATED 0x04  /* Go slice other than []byte */
#define K8S_PBF_MAP 0x08       /* Go map[string]V: entries {key=1, value=2} */
#define K8S_PBF_INLINE 0x10    /* json ",inline" (or embedded): fields go to the parent */
#define K8S_PBF_OMITZERO 0x20  /* json ",omitzero" */
#define K8S_PBF_ZIGZAG 0x40    /* sint32/sint64 */

/* Message flags. */
#define K8S_PBM_ARRAY 0x01 /* a named slice type (metav1.Verbs, ExtraValue):
			      wire {items=1 repeated}, JSON the array itself */

typedef struct {
	const char *json; /* JSON name; "" when inline */
	uint32_t num;     /* protobuf field number */
	uint16_t msg;     /* index in k8s__pb_messages for message-like kinds */
	uint8_t kind;     /* K8S_PB_* */
	uint8_t flags;    /* K8S_PBF_* */
} k8s_pb_field;

typedef struct {
	const char *name; /* Go type, "k8s.io/api/core/v1.Pod" */
	uint16_t first;   /* its fields: k8s__pb_fields[first .. first+count), by number */
	uint8_t count;
	uint8_t flags;    /* K8S_PBM_* */
} k8s_pb_message;

typedef struct {
	const char *api_version; /* "v1", "apps/v1" */
	const char *kind;
	uint16_t msg;
} k8s_pb_type;

/* The state of a message walk between two of its fields. */
typedef struct {
	unsigned char seen[32];     /* fields met (by index in the message) */
	const k8s_pb_field *run;    /* the repeated field or map being written */
	unsigned hint;              /* where the last field was found */
} k8s_pb_fields_state;

/* src/proto_schema_gen.c */
extern const char k8s__pb_source[];            /* what it was generated from */
extern const k8s_pb_message k8s__pb_messages[];
extern const size_t k8s__pb_nmessages;
extern const k8s_pb_field k8s__pb_fields[];
extern const size_t k8s__pb_nfields;
extern const k8s_pb_type k8s__pb_types[];      /* sorted by api_version, kind (strcmp) */
extern const size_t k8s__pb_ntypes;
extern const uint16_t k8s__pb_watch_event_msg; /* metav1.WatchEvent */

/* The message for apiVersion/kind, or -1. */
int k8s__pb_type_lookup(const char *api_version, size_t avlen, const char *kind, size_t klen);

/* Whether key is the JSON name of a field of the v1 options type `type`
 * ("ListOptions", "GetOptions", "DeleteOptions", "PodLogOptions", ...): 1;
 * 0 when it is not (*hint is then the field whose name differs from key
 * only in case, or NULL); -1 when the schema has no such type. */
int k8s__pb_options_field(const char *type, const char *key, const char **hint);

/* Values reported by the walker. Each returns 0, or < 0 to stop (the walker
 * then returns K8S_ENOMEM). Strings are not NUL-terminated and valid only
 * during the call. The walker allocates nothing itself, so a sink may raise
 * a Lua error (under lua_pcall) without leaking. */
typedef struct {
	int (*obj_begin)(void *u);
	int (*obj_end)(void *u);
	int (*arr_begin)(void *u);
	int (*arr_end)(void *u);
	int (*key)(void *u, const char *k, size_t n);
	/* a field's JSON name: fi is its index in k8s__pb_fields (a sink may
	 * cache the key by it); json is fd->json */
	int (*field_key)(void *u, unsigned fi, const char *json);
	int (*str)(void *u, const char *s, size_t n);
	int (*bytes)(void *u, const char *s, size_t n); /* []byte: write as base64 */
	int (*i64)(void *u, int64_t v);
	int (*u64)(void *u, uint64_t v);
	int (*dbl)(void *u, double v);
	int (*boolean)(void *u, int b);
	int (*null)(void *u);
	int (*raw_json)(void *u, const char *s, size_t n); /* a JSON text (checked) */
} k8s_pb_sink;

/* Walks a protobuf body: the k8s\0 magic and a runtime.Unknown envelope
 * whose TypeMeta names the type. The object gets "kind" and "apiVersion"
 * as the server writes them. Returns 0, or K8S_EDECODE with err set, or
 * K8S_ENOMEM when a sink call failed. */
int k8s__pb_walk_body(const k8s_pb_sink *s, void *u, const char *p, size_t n, char *err, size_t errlen);

/* Walks one watch event (a metav1.WatchEvent message, no magic): reports
 * {"type": ..., "object": {...}}. */
int k8s__pb_walk_event(const k8s_pb_sink *s, void *u, const char *p, size_t n, char *err, size_t errlen);

/* Walking a body while it arrives (a large List): each top-level field of
 * the object is reported once it is complete, a repeated one ("items")
 * element by element; the value reported is the one k8s__pb_walk_body
 * reports for the whole body. */
enum { K8S_PB_INC_HEAD, K8S_PB_INC_FIELDS, K8S_PB_INC_DONE, K8S_PB_INC_FAILED };
typedef struct {
	int phase;
	size_t pos;                 /* next byte to read */
	size_t raw_end;             /* end of the envelope's raw object */
	size_t av_off, av_len, kd_off, kd_len; /* TypeMeta, by offset */
	uint16_t msg;
	k8s_pb_fields_state st;
} k8s_pb_inc;

void k8s__pb_inc_init(k8s_pb_inc *s);
/* Continue with buf[0..len), all of the body so far (it may have moved;
 * only offsets are kept). Returns 0: more is needed; 1: the object is
 * complete (obj_end reported); < 0: malformed (K8S_EDECODE, err set) or the
 * sink failed. Between calls the sink holds the object and, while a
 * repeated field or map is being filled, its key and container. */
int k8s__pb_inc_feed(k8s_pb_inc *s, const k8s_pb_sink *sk, void *u, const char *buf, size_t len, char *err,
		     size_t errlen);
/* Whether the whole body buf[0..len) was walked (and ends as it should). */
int k8s__pb_inc_complete(const k8s_pb_inc *s, const char *buf, size_t len);

/* Whether a protobuf body's envelope says kind Status. */
int k8s__pb_is_status(const char *p, size_t n);

/* A metav1.WatchEvent's type (field 1) and its object's raw bytes (field 2,
 * a RawExtension: normally a k8s\0 envelope). Returns 0, or -1 when the
 * event is malformed; absent parts are NULL. */
int k8s__pb_event_parts(const char *p, size_t n, const char **type, size_t *tlen, const char **obj, size_t *olen);

/* Whether the table has types of group/version ("" for the core group). */
int k8s__pb_knows_group_version(const char *group, const char *version);

/* Whether a Content-Type is the protobuf one (parameters ignored). */
int k8s__pb_is_content_type(const char *ctype);

/* The JSON text of a protobuf body (event = 0) or watch event (event = 1)
 * into out, which must be empty. Returns 0, K8S_EDECODE (err set, and the
 * last error) or K8S_ENOMEM; out is empty again on failure. */
int k8s__pb_to_json(k8s_buf *out, const char *p, size_t n, int event, char *err, size_t errlen);

#endif /* K8S_PROTO_H */
