/* The protobuf walker (src/proto.c) and its JSON sink, without a server:
 * handcrafted wire bytes in, the exact JSON out (what encoding/json writes
 * for the same Go struct, as the API server would), every malformed-input
 * error, and the watch decoder on length-prefixed protobuf streams.
 * Field numbers are those of src/proto_schema_gen.c (generated.proto). */
#include <math.h>
#include "k8s.h"
#include "test.h"
#include "internal.h"
#include "proto.h"
#include "rest_internal.h"

/* ---- wire builders ---- */

static void put(k8s_buf *b, const void *p, size_t n)
{
	if (k8s_buf_put(b, p, n) < 0)
		abort();
}

static void varint(k8s_buf *b, uint64_t v)
{
	unsigned char c;
	do {
		c = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			c |= 0x80;
		put(b, &c, 1);
	} while (v);
}

static void tag(k8s_buf *b, uint32_t num, int wt)
{
	varint(b, (uint64_t)num << 3 | (uint64_t)wt);
}

/* a varint field; negative int32/int64 values are 10-byte two's complement */
static void f_int(k8s_buf *b, uint32_t num, int64_t v)
{
	tag(b, num, 0);
	varint(b, (uint64_t)v);
}

static void f_bytes(k8s_buf *b, uint32_t num, const void *p, size_t n)
{
	tag(b, num, 2);
	varint(b, n);
	put(b, p, n);
}

static void f_str(k8s_buf *b, uint32_t num, const char *s)
{
	f_bytes(b, num, s, strlen(s));
}

/* a length-delimited field holding sub (freed; NULL: empty) */
static void f_msg(k8s_buf *b, uint32_t num, k8s_buf *sub)
{
	f_bytes(b, num, sub && sub->ptr ? sub->ptr : "", sub ? sub->len : 0);
	if (sub)
		k8s_buf_free(sub);
}

static void f_double(k8s_buf *b, uint32_t num, double d)
{
	uint64_t u;
	unsigned char c[8];
	int i;
	memcpy(&u, &d, 8);
	for (i = 0; i < 8; i++)
		c[i] = (unsigned char)(u >> (8 * i));
	tag(b, num, 1);
	put(b, c, 8);
}

/* a map<string,string> entry {key=1, value=2} */
static void f_entry(k8s_buf *b, uint32_t num, const char *k, const char *v)
{
	k8s_buf e = K8S_BUF_INIT;
	f_str(&e, 1, k);
	f_str(&e, 2, v);
	f_msg(b, num, &e);
}

/* a map entry whose value is a message (sub, freed) */
static void f_entry_msg(k8s_buf *b, uint32_t num, const char *k, k8s_buf *sub)
{
	k8s_buf e = K8S_BUF_INIT;
	f_str(&e, 1, k);
	f_msg(&e, 2, sub);
	f_msg(b, num, &e);
}

/* Timestamp{seconds=1, nanos=2} */
static k8s_buf ts(int64_t sec, int32_t nanos)
{
	k8s_buf t = K8S_BUF_INIT;
	f_int(&t, 1, sec);
	if (nanos)
		f_int(&t, 2, nanos);
	return t;
}

/* k8s\0 + runtime.Unknown{typeMeta=1{apiVersion=1, kind=2}, raw=2 (freed;
 * NULL: absent), contentEncoding=3 "", contentType=4 ""} as the server writes */
static void envelope(k8s_buf *out, const char *av, const char *kind, k8s_buf *raw)
{
	k8s_buf tm = K8S_BUF_INIT;
	put(out, "k8s\0", 4);
	f_str(&tm, 1, av);
	f_str(&tm, 2, kind);
	f_msg(out, 1, &tm);
	if (raw)
		f_msg(out, 2, raw);
	f_str(out, 3, "");
	f_str(out, 4, "");
}

/* metav1.WatchEvent{type=1, object=2 RawExtension{raw=1 the envelope}} */
static void watch_event(k8s_buf *out, const char *type, const k8s_buf *env)
{
	k8s_buf ext = K8S_BUF_INIT;
	f_str(out, 1, type);
	f_bytes(&ext, 1, env->ptr, env->len);
	f_msg(out, 2, &ext);
}

/* ---- running the walker ---- */

/* The JSON of in (freed), or NULL with the error printed. */
static char *to_json(k8s_buf *in, int event)
{
	k8s_buf out = K8S_BUF_INIT;
	char err[256] = "x", *s = NULL;
	int rc = k8s__pb_to_json(&out, in->ptr ? in->ptr : "", in->len, event, err, sizeof(err));
	if (rc == 0) {
		s = strndup(out.ptr ? out.ptr : "", out.len);
		if (!s)
			abort();
		CHECK_STR(err, ""); /* cleared on success */
	} else {
		fprintf(stderr, "  k8s__pb_to_json = %d: %s\n", rc, err);
	}
	k8s_buf_free(&out);
	k8s_buf_free(in);
	return s;
}

/* The error message for in (freed), checking the failure contract: rc
 * K8S_EDECODE, out empty again, err set and the last error the same. */
static int g_err_ok;
static char *to_err(k8s_buf *in, int event)
{
	k8s_buf out = K8S_BUF_INIT;
	char err[256] = "", *s;
	int rc;
	/* out must be empty but may own memory: reuse one that does */
	put(&out, "junk", 4);
	out.len = 0;
	out.ptr[0] = 0;
	rc = k8s__pb_to_json(&out, in->ptr ? in->ptr : "", in->len, event, err, sizeof(err));
	g_err_ok = rc == K8S_EDECODE && out.len == 0 && out.ptr[0] == 0 && err[0] &&
		   k8s_error_last()->code == K8S_EDECODE && strcmp(k8s_error_last()->message, err) == 0 &&
		   strcmp(k8s_error_last()->reason, "DecodeError") == 0;
	if (!g_err_ok)
		fprintf(stderr, "  rc %d, out \"%.*s\", err \"%s\", last \"%s\"\n", rc, (int)out.len, out.ptr, err,
			k8s_error_last()->message);
	s = strdup(err);
	k8s_buf_free(&out);
	k8s_buf_free(in);
	return s;
}

#define CHECK_JSON(in, event, want) do { char *j_ = to_json(in, event); CHECK_STR(j_, want); free(j_); } while (0)
/* the message of a failure: want exactly, or (_AT) starting with what and
 * naming the message type where (by its short or full Go name) */
#define CHECK_ERR(in, event, want) do { char *e_ = to_err(in, event); CHECK(g_err_ok); \
	CHECK_STR(e_, want); free(e_); } while (0)
#define CHECK_ERR_AT(in, event, what, where) do { char *e_ = to_err(in, event); CHECK(g_err_ok); \
	CHECK(e_ && strncmp(e_, what, strlen(what)) == 0); CHECK_HAS(e_, where); free(e_); } while (0)

/* A body of apiVersion/kind whose raw object is obj (freed). */
static k8s_buf body(const char *av, const char *kind, k8s_buf *obj)
{
	k8s_buf b = K8S_BUF_INIT;
	envelope(&b, av, kind, obj);
	return b;
}

static k8s_buf meta_name(const char *name)
{
	k8s_buf m = K8S_BUF_INIT;
	f_str(&m, 1, name);
	return m;
}

/* ==================================================================== */

TEST(configmap)
{
	k8s_buf cm = K8S_BUF_INIT, m = K8S_BUF_INIT, in;
	static const char bin[] = {0, 1, (char)0xff};
	k8s_buf e = K8S_BUF_INIT;
	/* ObjectMeta as gogo writes it: every non-pointer string, zero too */
	f_str(&m, 1, "cm1");
	f_str(&m, 2, "");
	f_str(&m, 3, "default");
	f_str(&m, 4, "");
	f_str(&m, 5, "");
	f_str(&m, 6, "42");
	f_int(&m, 7, 0);
	f_entry(&m, 11, "a", "1");
	f_entry(&m, 11, "b", "x\"\\\n\t\x01<>&");
	f_msg(&cm, 1, &m);
	f_entry(&cm, 2, "k", "v");
	f_entry(&cm, 2, "empty", "");
	f_str(&e, 1, "bin");
	f_bytes(&e, 2, bin, sizeof(bin));
	f_msg(&cm, 3, &e);
	f_str(&e, 1, "hello");
	f_str(&e, 2, "hello");
	f_msg(&cm, 3, &e);
	in = body("v1", "ConfigMap", &cm);
	/* immutable (a nil pointer) and the zero strings omitted */
	CHECK_JSON(&in, 0,
		   "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"cm1\",\"namespace\":\"default\","
		   "\"resourceVersion\":\"42\",\"labels\":{\"a\":\"1\",\"b\":\"x\\\"\\\\\\n\\t\\u0001<>&\"}},"
		   "\"data\":{\"k\":\"v\",\"empty\":\"\"},\"binaryData\":{\"bin\":\"AAH/\",\"hello\":\"aGVsbG8=\"}}");

	/* immutable: a non-nil pointer, false too */
	f_msg(&cm, 1, NULL);
	f_int(&cm, 4, 0);
	in = body("v1", "ConfigMap", &cm);
	CHECK_JSON(&in, 0, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{},\"immutable\":false}");
	f_msg(&cm, 1, NULL);
	f_int(&cm, 4, 1);
	in = body("v1", "ConfigMap", &cm);
	CHECK_JSON(&in, 0, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{},\"immutable\":true}");
}

TEST(absent_fields)
{
	k8s_buf cm = K8S_BUF_INIT, in, m = K8S_BUF_INIT;
	/* no raw at all, an empty raw: a struct (metadata) is never omitted */
	in = body("v1", "ConfigMap", NULL);
	CHECK_JSON(&in, 0, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{}}");
	in = body("v1", "ConfigMap", &cm);
	CHECK_JSON(&in, 0, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{}}");
	/* an empty ObjectMeta on the wire: {} too */
	f_msg(&cm, 1, NULL);
	in = body("v1", "ConfigMap", &cm);
	CHECK_JSON(&in, 0, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{}}");

	/* map entries without a key or a value: "" (string) and "" (gogo's
	 * []byte{} for bytes) */
	{
		k8s_buf e = K8S_BUF_INIT;
		f_str(&e, 2, "novalue-key-missing");
		f_msg(&cm, 2, &e);
		f_str(&e, 1, "k");
		f_msg(&cm, 2, &e);
		f_str(&e, 1, "b");
		f_msg(&cm, 3, &e);
		in = body("v1", "ConfigMap", &cm);
		CHECK_JSON(&in, 0,
			   "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"data\":{\"\":\"novalue-key-missing\",\"k\":\"\"},"
			   "\"binaryData\":{\"b\":\"\"},\"metadata\":{}}");
	}

	/* non-omitempty fields absent from the wire: their zero values (after
	 * the fields that were on the wire) */
	{
		k8s_buf cr = K8S_BUF_INIT;
		in = body("apps/v1", "ControllerRevision", &cr);
		CHECK_JSON(&in, 0,
			   "{\"kind\":\"ControllerRevision\",\"apiVersion\":\"apps/v1\",\"metadata\":{},\"data\":null,"
			   "\"revision\":0}");
	}
	/* an omitempty scalar written as zero (gogo writes them) is omitted;
	 * a pointer to zero is not */
	f_int(&m, 7, 0);
	f_int(&m, 10, 0);
	f_msg(&cm, 1, &m);
	in = body("v1", "ConfigMap", &cm);
	CHECK_JSON(&in, 0,
		   "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"deletionGracePeriodSeconds\":0}}");
}

TEST(list_without_items)
{
	k8s_buf l = K8S_BUF_INIT, lm = K8S_BUF_INIT, in;
	f_str(&lm, 1, "");
	f_str(&lm, 2, "77");
	f_str(&lm, 3, "");
	f_msg(&l, 1, &lm);
	in = body("v1", "ConfigMapList", &l);
	CHECK_JSON(&in, 0, "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"77\"},"
			   "\"items\":[]}");
	in = body("v1", "ConfigMapList", NULL);
	CHECK_JSON(&in, 0, "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[]}");
	/* with items */
	{
		k8s_buf cm = K8S_BUF_INIT, m = meta_name("a");
		f_msg(&cm, 1, &m);
		f_msg(&l, 2, &cm);
		m = meta_name("b");
		f_msg(&cm, 1, &m);
		f_msg(&l, 2, &cm);
		in = body("v1", "ConfigMapList", &l);
		CHECK_JSON(&in, 0, "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"items\":[{\"metadata\":{\"name\":"
				   "\"a\"}},{\"metadata\":{\"name\":\"b\"}}],\"metadata\":{}}");
	}
}

/* ObjectMeta with creationTimestamp (8) and deletionTimestamp (9) in a
 * ConfigMap; NULL: absent. */
static char *cm_times(k8s_buf *creation, k8s_buf *deletion)
{
	k8s_buf m = K8S_BUF_INIT, cm = K8S_BUF_INIT, in;
	if (creation)
		f_msg(&m, 8, creation);
	if (deletion)
		f_msg(&m, 9, deletion);
	f_msg(&cm, 1, &m);
	in = body("v1", "ConfigMap", &cm);
	return to_json(&in, 0);
}

#define CM_META(x) "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{" x "}}"
#define CHECK_TIMES(c, d, want) do { char *s_ = cm_times(c, d); CHECK_STR(s_, CM_META(want)); free(s_); } while (0)

TEST(time)
{
	k8s_buf t, empty = K8S_BUF_INIT;
	t = ts(1700000000, 0);
	CHECK_TIMES(&t, NULL, "\"creationTimestamp\":\"2023-11-14T22:13:20Z\"");
	/* seconds precision: nanos dropped */
	t = ts(1700000000, 999999999);
	CHECK_TIMES(&t, NULL, "\"creationTimestamp\":\"2023-11-14T22:13:20Z\"");
	/* zero length: the zero time, which omitzero drops */
	CHECK_TIMES(&empty, NULL, "");
	/* seconds 0 written: 1970, not the zero time */
	t = ts(0, 0);
	CHECK_TIMES(&t, NULL, "\"creationTimestamp\":\"1970-01-01T00:00:00Z\"");
	/* Go's zero time (0001-01-01) written out: omitzero drops it too */
	t = ts(-62135596800LL, 0);
	CHECK_TIMES(&t, NULL, "");
	/* a pointer: present even when zero; the zero time is null */
	t = ts(0, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"1970-01-01T00:00:00Z\"");
	CHECK_TIMES(NULL, &empty, "\"deletionTimestamp\":null");
	t = ts(-62135596800LL, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":null");
	/* before 1970, leap days, far future */
	t = ts(-1, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"1969-12-31T23:59:59Z\"");
	t = ts(951782400, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"2000-02-29T00:00:00Z\"");
	t = ts(-2203977600LL, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"1900-02-28T00:00:00Z\"");
	t = ts(-2203891200LL, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"1900-03-01T00:00:00Z\"");
	t = ts(253402300799LL, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"9999-12-31T23:59:59Z\"");
	t = ts(-62135596801LL, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"0000-12-31T23:59:59Z\"");
	t = ts(-62167219200LL, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"0000-01-01T00:00:00Z\"");
	t = ts(253402300800LL, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"10000-01-01T00:00:00Z\"");
	/* both */
	{
		k8s_buf c = ts(1700000000, 0), d = ts(1700000001, 0);
		CHECK_TIMES(&c, &d, "\"creationTimestamp\":\"2023-11-14T22:13:20Z\","
				    "\"deletionTimestamp\":\"2023-11-14T22:13:21Z\"");
	}
}

/* events.k8s.io/v1 Event with eventTime (MicroTime, not omitempty) = t */
static char *event_time(k8s_buf *t)
{
	k8s_buf ev = K8S_BUF_INIT, m = meta_name("e"), in;
	f_msg(&ev, 1, &m);
	if (t)
		f_msg(&ev, 2, t);
	in = body("events.k8s.io/v1", "Event", &ev);
	return to_json(&in, 0);
}

#define EVENT_JSON(t) "{\"kind\":\"Event\",\"apiVersion\":\"events.k8s.io/v1\",\"metadata\":{\"name\":\"e\"}," \
	"\"eventTime\":" t ",\"regarding\":{},\"deprecatedSource\":{},\"deprecatedFirstTimestamp\":null," \
	"\"deprecatedLastTimestamp\":null}"
#define CHECK_EVENT_TIME(t, want) do { char *s_ = event_time(t); CHECK_STR(s_, EVENT_JSON(want)); free(s_); } while (0)

TEST(microtime)
{
	k8s_buf t, empty = K8S_BUF_INIT;
	t = ts(1700000000, 123456789);
	/* 6 fraction digits, truncated (789 dropped, no rounding) */
	CHECK_EVENT_TIME(&t, "\"2023-11-14T22:13:20.123456Z\"");
	t = ts(1700000000, 999999);
	CHECK_EVENT_TIME(&t, "\"2023-11-14T22:13:20.000999Z\"");
	t = ts(1700000000, 0);
	CHECK_EVENT_TIME(&t, "\"2023-11-14T22:13:20.000000Z\"");
	t = ts(-1, 500000000);
	CHECK_EVENT_TIME(&t, "\"1969-12-31T23:59:59.500000Z\"");
	t = ts(-86401, 1);
	CHECK_EVENT_TIME(&t, "\"1969-12-30T23:59:59.000000Z\"");
	/* absent or empty: the zero MicroTime, null (not omitempty) */
	CHECK_EVENT_TIME(NULL, "null");
	CHECK_EVENT_TIME(&empty, "null");
}

/* intstr.IntOrString{type=1, intVal=2, strVal=3} */
static k8s_buf ios(int type, int32_t iv, const char *sv)
{
	k8s_buf v = K8S_BUF_INIT;
	f_int(&v, 1, type);
	f_int(&v, 2, iv);
	f_str(&v, 3, sv);
	return v;
}

/* policy/v1 PodDisruptionBudget whose spec (2) has minAvailable (1) and
 * maxUnavailable (3), both *IntOrString */
#define PDB_JSON(spec) "{\"kind\":\"PodDisruptionBudget\",\"apiVersion\":\"policy/v1\",\"spec\":" spec "," \
	"\"metadata\":{},\"status\":{\"disruptionsAllowed\":0,\"currentHealthy\":0,\"desiredHealthy\":0," \
	"\"expectedPods\":0}}"

TEST(int_or_string)
{
	k8s_buf spec = K8S_BUF_INIT, pdb = K8S_BUF_INIT, v, in;
	v = ios(0, 2, "");
	f_msg(&spec, 1, &v);
	v = ios(1, 0, "25%");
	f_msg(&spec, 3, &v);
	f_msg(&pdb, 2, &spec);
	in = body("policy/v1", "PodDisruptionBudget", &pdb);
	CHECK_JSON(&in, 0, PDB_JSON("{\"minAvailable\":2,\"maxUnavailable\":\"25%\"}"));
	/* negative int, empty message (type 0: 0), string type without strVal */
	v = ios(0, -3, "");
	f_msg(&spec, 1, &v);
	f_msg(&spec, 3, NULL);
	f_msg(&pdb, 2, &spec);
	in = body("policy/v1", "PodDisruptionBudget", &pdb);
	CHECK_JSON(&in, 0, PDB_JSON("{\"minAvailable\":-3,\"maxUnavailable\":0}"));
	f_int(&v, 1, 1);
	f_msg(&spec, 1, &v);
	f_msg(&pdb, 2, &spec);
	in = body("policy/v1", "PodDisruptionBudget", &pdb);
	CHECK_JSON(&in, 0, PDB_JSON("{\"minAvailable\":\"\"}"));
	/* type 2 does not exist */
	v = ios(2, 1, "x");
	f_msg(&spec, 1, &v);
	f_msg(&pdb, 2, &spec);
	in = body("policy/v1", "PodDisruptionBudget", &pdb);
	CHECK_ERR(&in, 0, "protobuf: minAvailable: impossible IntOrString.Type 2");
	/* strVal with the wrong wire type */
	f_int(&v, 3, 1);
	f_msg(&spec, 1, &v);
	f_msg(&pdb, 2, &spec);
	in = body("policy/v1", "PodDisruptionBudget", &pdb);
	CHECK_ERR(&in, 0, "protobuf: field 3 of minAvailable has wire type 0, want 2");
}

TEST(time_map_values)
{
	/* PodDisruptionBudgetStatus.disruptedPods: map[string]metav1.Time */
	k8s_buf st = K8S_BUF_INIT, pdb = K8S_BUF_INIT, t = ts(1700000000, 0), in;
	f_entry_msg(&st, 2, "p1", &t);
	f_entry_msg(&st, 2, "p2", NULL);
	f_int(&st, 3, 1);
	f_int(&st, 4, -1);
	f_int(&st, 5, 2147483647);
	f_int(&st, 6, -2147483648LL);
	f_msg(&pdb, 3, &st);
	in = body("policy/v1", "PodDisruptionBudget", &pdb);
	CHECK_JSON(&in, 0,
		   "{\"kind\":\"PodDisruptionBudget\",\"apiVersion\":\"policy/v1\",\"status\":{\"disruptedPods\":{\"p1\":"
		   "\"2023-11-14T22:13:20Z\",\"p2\":null},\"disruptionsAllowed\":1,\"currentHealthy\":-1,"
		   "\"desiredHealthy\":2147483647,\"expectedPods\":-2147483648},\"metadata\":{},\"spec\":{}}");
}

TEST(quantity)
{
	/* core/v1 ResourceQuota spec.hard: map[string]resource.Quantity{string=1} */
	k8s_buf spec = K8S_BUF_INIT, rq = K8S_BUF_INIT, q = K8S_BUF_INIT, e = K8S_BUF_INIT, in;
	f_str(&q, 1, "500m");
	f_entry_msg(&spec, 1, "cpu", &q);
	f_str(&q, 1, "");
	f_entry_msg(&spec, 1, "memory", &q);
	f_entry_msg(&spec, 1, "pods", NULL);
	f_str(&e, 1, "services");
	f_msg(&spec, 1, &e);
	f_msg(&rq, 2, &spec);
	in = body("v1", "ResourceQuota", &rq);
	CHECK_JSON(&in, 0,
		   "{\"kind\":\"ResourceQuota\",\"apiVersion\":\"v1\",\"spec\":{\"hard\":{\"cpu\":\"500m\",\"memory\":\"0\","
		   "\"pods\":\"0\",\"services\":\"0\"}},\"metadata\":{},\"status\":{}}");
}

TEST(raw_extension_and_fields_v1)
{
	k8s_buf cr = K8S_BUF_INIT, ext = K8S_BUF_INIT, in;
	/* apps/v1 ControllerRevision.data: RawExtension{raw=1} with JSON */
	f_str(&ext, 1, " \n{\"spec\":{\"a\":[1,\"x\",null,true]}}\t ");
	f_msg(&cr, 2, &ext);
	f_int(&cr, 3, 7);
	in = body("apps/v1", "ControllerRevision", &cr);
	CHECK_JSON(&in, 0,
		   "{\"kind\":\"ControllerRevision\",\"apiVersion\":\"apps/v1\",\"data\":{\"spec\":{\"a\":[1,\"x\",null,"
		   "true]}},\"revision\":7,\"metadata\":{}}");
	/* an empty RawExtension or raw: null */
	f_msg(&cr, 2, NULL);
	in = body("apps/v1", "ControllerRevision", &cr);
	CHECK_JSON(&in, 0,
		   "{\"kind\":\"ControllerRevision\",\"apiVersion\":\"apps/v1\",\"data\":null,\"metadata\":{},"
		   "\"revision\":0}");
	/* metav1.FieldsV1 in managedFields, and its Time pointer */
	{
		k8s_buf m = K8S_BUF_INIT, mf = K8S_BUF_INIT, f = K8S_BUF_INIT, cm = K8S_BUF_INIT, t = ts(1700000000, 0);
		f_str(&mf, 1, "kubectl");
		f_str(&mf, 2, "Apply");
		f_str(&mf, 3, "v1");
		f_msg(&mf, 4, &t);
		f_str(&mf, 6, "FieldsV1");
		f_str(&f, 1, "{\"f:data\":{\".\":{},\"f:k\":{}}}");
		f_msg(&mf, 7, &f);
		f_str(&mf, 8, "");
		f_msg(&m, 17, &mf);
		f_str(&mf, 1, "m2");
		f_msg(&mf, 7, NULL); /* an empty FieldsV1: null */
		f_msg(&m, 17, &mf);
		f_msg(&cm, 1, &m);
		in = body("v1", "ConfigMap", &cm);
		CHECK_JSON(&in, 0,
			   CM_META("\"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"apiVersion\":"
				   "\"v1\",\"time\":\"2023-11-14T22:13:20Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":"
				   "{\"f:data\":{\".\":{},\"f:k\":{}}}},{\"manager\":\"m2\",\"fieldsV1\":null}]"));
	}
}

TEST(watch_event_nested_envelope)
{
	k8s_buf cm = K8S_BUF_INIT, env = K8S_BUF_INIT, ev = K8S_BUF_INIT, m = meta_name("cm1"), st = K8S_BUF_INIT;
	f_msg(&cm, 1, &m);
	f_entry(&cm, 2, "k", "v");
	envelope(&env, "v1", "ConfigMap", &cm);
	watch_event(&ev, "ADDED", &env);
	CHECK_JSON(&ev, 1,
		   "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
		   "\"cm1\"},\"data\":{\"k\":\"v\"}}}");
	/* a RawExtension holding a JSON object (the JSON watch's form) */
	{
		static const char obj[] = "{\"kind\":\"Status\",\"code\":410}";
		k8s_buf ext = K8S_BUF_INIT;
		f_str(&ev, 1, "ERROR");
		f_bytes(&ext, 1, obj, sizeof(obj) - 1);
		f_msg(&ev, 2, &ext);
		CHECK_JSON(&ev, 1, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}");
	}
	/* an ERROR event's Status envelope; no object: null, no type: "" */
	k8s_buf_free(&env);
	f_str(&st, 2, "Failure");
	f_str(&st, 3, "too old resource version: 1 (2)");
	f_str(&st, 4, "Expired");
	f_int(&st, 6, 410);
	envelope(&env, "v1", "Status", &st);
	watch_event(&ev, "ERROR", &env);
	CHECK_JSON(&ev, 1,
		   "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
		   "\"message\":\"too old resource version: 1 (2)\",\"reason\":\"Expired\",\"code\":410,\"metadata\":{}}}");
	k8s_buf_free(&env);
	CHECK_JSON(&ev, 1, "{\"type\":\"\",\"object\":null}");
	/* a body is not an event, nor an event a body */
	envelope(&env, "v1", "ConfigMap", NULL);
	CHECK_ERR_AT(&env, 1, "protobuf: unsupported wire type 3 (field 13) in ", "v1.WatchEvent");
	watch_event(&ev, "ADDED", &env);
	CHECK_ERR(&ev, 0, "protobuf: missing the k8s\\0 prefix");
}

/* apiextensions.k8s.io/v1 CustomResourceDefinition with one version whose
 * schema.openAPIV3Schema is props (freed) */
static k8s_buf crd(k8s_buf *props)
{
	k8s_buf spec = K8S_BUF_INIT, ver = K8S_BUF_INIT, val = K8S_BUF_INIT, c = K8S_BUF_INIT;
	f_msg(&val, 1, props);
	f_str(&ver, 1, "v1");
	f_msg(&ver, 4, &val);
	f_str(&spec, 1, "example.com");
	f_msg(&spec, 7, &ver);
	f_msg(&c, 2, &spec);
	return body("apiextensions.k8s.io/v1", "CustomResourceDefinition", &c);
}

#define CRD_JSON(schema) "{\"kind\":\"CustomResourceDefinition\",\"apiVersion\":\"apiextensions.k8s.io/v1\"," \
	"\"spec\":{\"group\":\"example.com\",\"versions\":[{\"name\":\"v1\",\"schema\":{\"openAPIV3Schema\":" \
	schema "},\"served\":false,\"storage\":false}],\"names\":{\"plural\":\"\",\"kind\":\"\"},\"scope\":\"\"}," \
	"\"metadata\":{},\"status\":{\"conditions\":null,\"acceptedNames\":{\"plural\":\"\",\"kind\":\"\"}," \
	"\"storedVersions\":null}}"

static k8s_buf typed(const char *type)
{
	k8s_buf p = K8S_BUF_INIT;
	f_str(&p, 5, type);
	return p;
}

TEST(json_schema_props)
{
	k8s_buf p = K8S_BUF_INIT, or = K8S_BUF_INIT, s, in, j = K8S_BUF_INIT, e = K8S_BUF_INIT;
	/* items (JSONSchemaPropsOrArray{schema=1, jSONSchemas=2}): the schema form */
	f_str(&p, 5, "array");
	s = typed("string");
	f_msg(&or, 1, &s);
	f_msg(&p, 24, &or);
	in = crd(&p);
	CHECK_JSON(&in, 0, CRD_JSON("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}"));
	/* the array form */
	s = typed("string");
	f_msg(&or, 2, &s);
	s = typed("integer");
	f_msg(&or, 2, &s);
	f_msg(&p, 24, &or);
	in = crd(&p);
	CHECK_JSON(&in, 0, CRD_JSON("{\"items\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}"));
	/* neither: null */
	f_msg(&p, 24, NULL);
	in = crd(&p);
	CHECK_JSON(&in, 0, CRD_JSON("{\"items\":null}"));

	/* additionalProperties (JSONSchemaPropsOrBool{allows=1, schema=2}) */
	f_int(&or, 1, 0);
	f_msg(&p, 30, &or);
	f_int(&or, 1, 1);
	f_msg(&p, 33, &or);
	in = crd(&p);
	CHECK_JSON(&in, 0, CRD_JSON("{\"additionalProperties\":false,\"additionalItems\":true}"));
	f_int(&or, 1, 1);
	s = typed("string");
	f_msg(&or, 2, &s);
	f_msg(&p, 30, &or);
	f_msg(&p, 33, NULL);
	in = crd(&p);
	CHECK_JSON(&in, 0, CRD_JSON("{\"additionalProperties\":{\"type\":\"string\"},\"additionalItems\":false}"));

	/* dependencies: map of JSONSchemaPropsOrStringArray{schema=1, property=2} */
	f_str(&or, 2, "b");
	f_str(&or, 2, "c");
	f_entry_msg(&p, 32, "a", &or);
	s = typed("object");
	f_msg(&or, 1, &s);
	f_entry_msg(&p, 32, "x", &or);
	f_entry_msg(&p, 32, "y", NULL);
	in = crd(&p);
	CHECK_JSON(&in, 0, CRD_JSON("{\"dependencies\":{\"a\":[\"b\",\"c\"],\"x\":{\"type\":\"object\"},\"y\":null}}"));

	/* default and example (apiextensions JSON{raw=1}), enum (repeated JSON),
	 * maximum/minimum/multipleOf (*float64) */
	f_str(&j, 1, "{\"x\":[1,2.5,\"s\"]}");
	f_msg(&p, 8, &j);
	f_double(&p, 9, 1.5);
	f_double(&p, 11, 10.0);
	f_double(&p, 19, 0.1);
	f_str(&e, 1, "\"a\"");
	f_msg(&p, 20, &e);
	f_str(&e, 1, "[1] ");
	f_msg(&p, 20, &e);
	f_str(&e, 1, "null");
	f_msg(&p, 20, &e);
	f_str(&j, 1, "false");
	f_msg(&p, 36, &j);
	in = crd(&p);
	CHECK_JSON(&in, 0,
		   CRD_JSON("{\"default\":{\"x\":[1,2.5,\"s\"]},\"maximum\":1.5,\"minimum\":10,\"multipleOf\":0.1,"
			    "\"enum\":[\"a\",[1],null],\"example\":false}"));
	/* properties: map of JSONSchemaProps; required: repeated string */
	s = typed("string");
	f_entry_msg(&p, 29, "name", &s);
	s = typed("integer");
	f_entry_msg(&p, 29, "size", &s);
	f_str(&p, 23, "name");
	f_str(&p, 23, "size");
	in = crd(&p);
	CHECK_JSON(&in, 0, CRD_JSON("{\"properties\":{\"name\":{\"type\":\"string\"},\"size\":{\"type\":\"integer\"}},"
				    "\"required\":[\"name\",\"size\"]}"));
}

/* encoding/json's float64 form: shortest round-trip digits, 'f' form for
 * 1e-6 <= |v| < 1e21 */
static char *maximum(double d)
{
	k8s_buf p = K8S_BUF_INIT, in;
	f_double(&p, 9, d);
	in = crd(&p);
	return to_json(&in, 0);
}

#define CHECK_DOUBLE(d, want) do { char *s_ = maximum(d); CHECK_STR(s_, CRD_JSON("{\"maximum\":" want "}")); \
	free(s_); } while (0)

TEST(doubles)
{
	k8s_buf p = K8S_BUF_INIT, in;
	CHECK_DOUBLE(1.5, "1.5");
	CHECK_DOUBLE(10.0, "10");
	CHECK_DOUBLE(0.0, "0");
	CHECK_DOUBLE(-0.0, "-0");
	CHECK_DOUBLE(-2.25, "-2.25");
	CHECK_DOUBLE(0.1, "0.1");
	CHECK_DOUBLE(1.0 / 3, "0.3333333333333333");
	CHECK_DOUBLE(1e20, "100000000000000000000");
	CHECK_DOUBLE(123456789012345678.0, "123456789012345680");
	CHECK_DOUBLE(1e21, "1e+21");
	CHECK_DOUBLE(1.5e300, "1.5e+300");
	CHECK_DOUBLE(0.0001, "0.0001");
	CHECK_DOUBLE(0.00012345, "0.00012345");
	CHECK_DOUBLE(9.99e-7, "9.99e-7");
	CHECK_DOUBLE(1e-7, "1e-7");
	CHECK_DOUBLE(-2.5e-10, "-2.5e-10");
	CHECK_DOUBLE(5e-324, "5e-324");
	CHECK_DOUBLE(1.7976931348623157e308, "1.7976931348623157e+308");
	/* not finite: an error */
	f_double(&p, 9, INFINITY);
	in = crd(&p);
	CHECK_ERR(&in, 0, "protobuf: field maximum is not a finite number");
	f_double(&p, 9, NAN);
	in = crd(&p);
	CHECK_ERR(&in, 0, "protobuf: field maximum is not a finite number");
}

TEST(negative_varints)
{
	/* core/v1 Service spec.ports[] (ServicePort): port int32 (3, not
	 * omitempty), targetPort IntOrString (4), nodePort int32 omitempty (5) */
	k8s_buf raw = K8S_BUF_INIT, p1 = K8S_BUF_INIT, p2 = K8S_BUF_INIT, v = ios(0, -80, ""), sspec = K8S_BUF_INIT,
		svc = K8S_BUF_INIT, in, psc = K8S_BUF_INIT, spec = K8S_BUF_INIT, pod = K8S_BUF_INIT;
	char *s;
	/* -5 as an int32 on the wire: 10 bytes, fb ff ff ff ff ff ff ff ff 01 */
	f_int(&raw, 3, -5);
	CHECK_INT(raw.len, 11);
	CHECK(memcmp(raw.ptr, "\x18\xfb\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11) == 0);
	k8s_buf_free(&raw);
	f_str(&p1, 1, "p");
	f_int(&p1, 3, -5);
	f_msg(&p1, 4, &v);
	f_int(&p1, 5, 0);
	f_msg(&sspec, 1, &p1);
	/* an int32 written as a 5-byte varint (its uint32 bits) is the same */
	f_str(&p2, 1, "q");
	tag(&p2, 3, 0);
	varint(&p2, 0x80000000u);
	tag(&p2, 5, 0);
	varint(&p2, 0xffffffffu);
	f_msg(&sspec, 1, &p2);
	f_msg(&svc, 2, &sspec);
	in = body("v1", "Service", &svc);
	s = to_json(&in, 0);
	CHECK_HAS(s, "\"ports\":[{\"name\":\"p\",\"port\":-5,\"targetPort\":-80},"
		     "{\"name\":\"q\",\"port\":-2147483648,\"nodePort\":-1,\"targetPort\":0}]");
	free(s);
	/* core/v1 Pod spec.securityContext (14): runAsUser (2), fsGroup (5),
	 * runAsGroup (6), all *int64 */
	f_int(&psc, 2, -1);
	f_int(&psc, 5, INT64_MIN);
	f_int(&psc, 6, INT64_MAX);
	f_msg(&spec, 14, &psc);
	f_msg(&pod, 2, &spec);
	in = body("v1", "Pod", &pod);
	s = to_json(&in, 0);
	CHECK_HAS(s, "\"securityContext\":{\"runAsUser\":-1,\"fsGroup\":-9223372036854775808,"
		     "\"runAsGroup\":9223372036854775807}");
	free(s);
}

TEST(unknown_fields_skipped)
{
	k8s_buf cm = K8S_BUF_INIT, m = meta_name("cm1"), in;
	static const char fixed[8] = "\x01\x02\x03\x04\x05\x06\x07\x08";
	f_int(&cm, 99, -1);
	f_msg(&cm, 1, &m);
	f_str(&cm, 100, "ignored \"\\");
	tag(&cm, 101, 5);
	put(&cm, fixed, 4);
	tag(&cm, 102, 1);
	put(&cm, fixed, 8);
	f_entry(&cm, 2, "k", "v");
	f_int(&cm, 0x1fffffff, 1); /* the largest field number */
	in = body("v1", "ConfigMap", &cm);
	CHECK_JSON(&in, 0, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"cm1\"},"
			   "\"data\":{\"k\":\"v\"}}");
	/* unknown fields in the envelope, TypeMeta and nested messages too */
	{
		k8s_buf env = K8S_BUF_INIT, tm = K8S_BUF_INIT, obj = K8S_BUF_INIT, meta = K8S_BUF_INIT;
		put(&env, "k8s\0", 4);
		f_int(&env, 9, 1);
		f_str(&tm, 7, "x");
		f_str(&tm, 1, "v1");
		f_str(&tm, 2, "ConfigMap");
		f_msg(&env, 1, &tm);
		f_str(&meta, 50, "x");
		f_str(&meta, 1, "n");
		f_msg(&obj, 1, &meta);
		f_msg(&env, 2, &obj);
		f_str(&env, 4, "application/vnd.kubernetes.protobuf");
		CHECK_JSON(&env, 0, CM_META("\"name\":\"n\""));
	}
	/* a field number past 2^29 - 1 is invalid */
	f_int(&cm, 0x20000000, 1);
	in = body("v1", "ConfigMap", &cm);
	CHECK_ERR_AT(&in, 0, "protobuf: invalid field number 536870912 in ", "v1.ConfigMap");
}

/* core/v1 PodPortForwardOptions: ports repeated int32 (1) */
TEST(packed_repeated)
{
	k8s_buf o = K8S_BUF_INIT, pk = K8S_BUF_INIT, in;
	/* unpacked (as gogo writes it) */
	f_int(&o, 1, 80);
	f_int(&o, 1, -1);
	in = body("v1", "PodPortForwardOptions", &o);
	CHECK_JSON(&in, 0, "{\"kind\":\"PodPortForwardOptions\",\"apiVersion\":\"v1\",\"ports\":[80,-1]}");
	/* packed, and packed runs mixed with single values */
	varint(&pk, 80);
	varint(&pk, (uint64_t)-1);
	varint(&pk, 65536);
	f_msg(&o, 1, &pk);
	f_int(&o, 1, 3);
	f_msg(&o, 1, NULL);
	varint(&pk, 4);
	f_msg(&o, 1, &pk);
	in = body("v1", "PodPortForwardOptions", &o);
	CHECK_JSON(&in, 0, "{\"kind\":\"PodPortForwardOptions\",\"apiVersion\":\"v1\",\"ports\":[80,-1,65536,3,4]}");
	/* empty: omitted; a truncated packed varint is an error */
	in = body("v1", "PodPortForwardOptions", &o);
	CHECK_JSON(&in, 0, "{\"kind\":\"PodPortForwardOptions\",\"apiVersion\":\"v1\"}");
	put(&pk, "\x80", 1);
	f_msg(&o, 1, &pk);
	in = body("v1", "PodPortForwardOptions", &o);
	CHECK_ERR(&in, 0, "protobuf: truncated varint in packed ports of v1.PodPortForwardOptions");
	/* int64 packed: PodSecurityContext.supplementalGroups (4) in a Pod */
	{
		k8s_buf psc = K8S_BUF_INIT, spec = K8S_BUF_INIT, pod = K8S_BUF_INIT;
		char *s;
		varint(&pk, 1);
		varint(&pk, 2);
		varint(&pk, (uint64_t)-3);
		varint(&pk, 4294967296ULL);
		f_msg(&psc, 4, &pk);
		f_msg(&spec, 14, &psc);
		f_msg(&pod, 2, &spec);
		in = body("v1", "Pod", &pod);
		s = to_json(&in, 0);
		CHECK_HAS(s, "\"securityContext\":{\"supplementalGroups\":[1,2,-3,4294967296]}");
		free(s);
	}
}

/* ---- errors ---- */

static k8s_buf cm_raw(const char *bytes, size_t n)
{
	k8s_buf cm = K8S_BUF_INIT;
	put(&cm, bytes, n);
	return body("v1", "ConfigMap", &cm);
}

#define RAW(s) cm_raw(s, sizeof(s) - 1)

TEST(errors_framing)
{
	k8s_buf in = K8S_BUF_INIT;
	/* the magic */
	CHECK_ERR(&in, 0, "protobuf: missing the k8s\\0 prefix");
	put(&in, "k8s", 3);
	CHECK_ERR(&in, 0, "protobuf: missing the k8s\\0 prefix");
	put(&in, "k8s\x01\x0a\x00", 6);
	CHECK_ERR(&in, 0, "protobuf: missing the k8s\\0 prefix");
	put(&in, "{\"kind\":\"ConfigMap\"}", 20);
	CHECK_ERR(&in, 0, "protobuf: missing the k8s\\0 prefix");
	/* the magic alone: no type */
	put(&in, "k8s\0", 4);
	CHECK_ERR(&in, 0, "protobuf: the envelope names no apiVersion and kind");
	/* varints */
	put(&in, "k8s\0\x0a", 5);
	CHECK_ERR(&in, 0, "protobuf: truncated or overlong length in runtime.Unknown");
	put(&in, "k8s\0\x8a", 5);
	CHECK_ERR(&in, 0, "protobuf: truncated or overlong varint in runtime.Unknown");
	in = RAW("\x38\x80\x80");
	CHECK_ERR_AT(&in, 0, "protobuf: truncated or overlong varint in ", "v1.ConfigMap");
	/* 10 bytes is the most; the 10th carries one bit */
	in = RAW("\x38\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
	CHECK_JSON(&in, 0, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{}}");
	in = RAW("\x38\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02");
	CHECK_ERR_AT(&in, 0, "protobuf: truncated or overlong varint in ", "v1.ConfigMap");
	in = RAW("\x38\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00");
	CHECK_ERR_AT(&in, 0, "protobuf: truncated or overlong varint in ", "v1.ConfigMap");
	in = RAW("\x38\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00");
	CHECK_ERR_AT(&in, 0, "protobuf: truncated or overlong varint in ", "v1.ConfigMap");
	/* an overlong tag */
	in = RAW("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
	CHECK_ERR_AT(&in, 0, "protobuf: truncated or overlong varint in ", "v1.ConfigMap");
	/* lengths */
	in = RAW("\x0a\x05\x0a\x01");
	CHECK_ERR_AT(&in, 0, "protobuf: length 5 past the end of ", "v1.ConfigMap");
	in = RAW("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f");
	CHECK_ERR_AT(&in, 0, "protobuf: length 9223372036854775807 past the end of ", "v1.ConfigMap");
	in = RAW("\x0a\x03\x0a\x05x");
	CHECK_ERR_AT(&in, 0, "protobuf: length 5 past the end of ", "v1.ObjectMeta");
	/* fixed values past the end */
	in = RAW("\x39\x01\x02\x03\x04\x05\x06\x07");
	CHECK_ERR_AT(&in, 0, "protobuf: fixed64 value past the end of ", "v1.ConfigMap");
	in = RAW("\x3d\x01\x02\x03");
	CHECK_ERR_AT(&in, 0, "protobuf: fixed32 value past the end of ", "v1.ConfigMap");
}

TEST(errors_wire_types)
{
	k8s_buf in;
	/* a known field with the wrong wire type */
	in = RAW("\x08\x01");
	CHECK_ERR(&in, 0, "protobuf: field 1 (metadata) of v1.ConfigMap has wire type 0, want 2");
	in = RAW("\x22\x00");
	CHECK_ERR(&in, 0, "protobuf: field 4 (immutable) of v1.ConfigMap has wire type 2, want 0");
	in = RAW("\x12\x04\x0a\x00\x10\x01");
	CHECK_ERR(&in, 0, "protobuf: field 2 (data) of v1.ConfigMap has wire type 0, want 2");
	in = RAW("\x12\x02\x08\x01");
	CHECK_ERR(&in, 0, "protobuf: map data of v1.ConfigMap: key has wire type 0");
	in = RAW("\x0d\x00\x00\x00\x00");
	CHECK_ERR(&in, 0, "protobuf: field 1 (metadata) of v1.ConfigMap has wire type 5, want 2");
	/* groups (3, 4) and the undefined 6, 7: known or unknown fields alike */
	in = RAW("\x0b");
	CHECK_ERR_AT(&in, 0, "protobuf: unsupported wire type 3 (field 1) in ", "v1.ConfigMap");
	in = RAW("\x0c");
	CHECK_ERR_AT(&in, 0, "protobuf: unsupported wire type 4 (field 1) in ", "v1.ConfigMap");
	in = RAW("\x7e");
	CHECK_ERR_AT(&in, 0, "protobuf: unsupported wire type 6 (field 15) in ", "v1.ConfigMap");
	in = RAW("\x7f");
	CHECK_ERR_AT(&in, 0, "protobuf: unsupported wire type 7 (field 15) in ", "v1.ConfigMap");
	in = RAW("\x0a\x02\x0b\x00");
	CHECK_ERR_AT(&in, 0, "protobuf: unsupported wire type 3 (field 1) in ", "v1.ObjectMeta");
	/* field number 0 */
	in = RAW("\x02\x00");
	CHECK_ERR_AT(&in, 0, "protobuf: invalid field number 0 in ", "v1.ConfigMap");
	in = RAW("\x00\x00");
	CHECK_ERR_AT(&in, 0, "protobuf: invalid field number 0 in ", "v1.ConfigMap");
	/* in the envelope and TypeMeta */
	{
		k8s_buf e = K8S_BUF_INIT;
		put(&e, "k8s\0\x08\x01", 6);
		CHECK_ERR(&e, 0, "protobuf: field 1 of runtime.Unknown has wire type 0, want 2");
		put(&e, "k8s\0\x0a\x02\x08\x01", 8);
		CHECK_ERR(&e, 0, "protobuf: field 1 of TypeMeta has wire type 0, want 2");
		put(&e, "k8s\0\x0a\x02\x10\x01", 8);
		CHECK_ERR(&e, 0, "protobuf: field 2 of TypeMeta has wire type 0, want 2");
		put(&e, "k8s\0\x10\x01", 6);
		CHECK_ERR(&e, 0, "protobuf: field 2 of runtime.Unknown has wire type 0, want 2");
	}
}

TEST(errors_types_and_structure)
{
	k8s_buf in = K8S_BUF_INIT, cm = K8S_BUF_INIT, m;
	/* unknown apiVersion/kind, or none */
	envelope(&in, "v9", "ConfigMap", NULL);
	CHECK_ERR(&in, 0, "protobuf: no schema for v9 ConfigMap");
	envelope(&in, "v1", "Nope", NULL);
	CHECK_ERR(&in, 0, "protobuf: no schema for v1 Nope");
	envelope(&in, "v1", "configmap", NULL);
	CHECK_ERR(&in, 0, "protobuf: no schema for v1 configmap");
	envelope(&in, "apps/v1", "ConfigMap", NULL);
	CHECK_ERR(&in, 0, "protobuf: no schema for apps/v1 ConfigMap");
	envelope(&in, "", "ConfigMap", NULL);
	CHECK_ERR(&in, 0, "protobuf: the envelope names no apiVersion and kind");
	envelope(&in, "v1", "", NULL);
	CHECK_ERR(&in, 0, "protobuf: the envelope names no apiVersion and kind");
	/* content encoding */
	put(&in, "k8s\0\x0a\x0f\x0a\x02v1\x12\x09" "ConfigMap\x1a\x04gzip", 27);
	CHECK_ERR(&in, 0, "protobuf: content encoding \"gzip\" is not supported");

	/* a repeated field (a map) split by another field */
	f_entry(&cm, 2, "a", "1");
	m = meta_name("x");
	f_msg(&cm, 1, &m);
	f_entry(&cm, 2, "b", "2");
	in = body("v1", "ConfigMap", &cm);
	CHECK_ERR(&in, 0, "protobuf: repeated field data of v1.ConfigMap is not contiguous");
	/* ... by an unknown field too */
	f_str(&cm, 2, "");
	f_int(&cm, 77, 1);
	f_str(&cm, 2, "");
	in = body("v1", "ConfigMap", &cm);
	CHECK_ERR(&in, 0, "protobuf: repeated field data of v1.ConfigMap is not contiguous");
	/* a repeated list field */
	{
		k8s_buf o = K8S_BUF_INIT;
		f_int(&o, 1, 1);
		f_int(&o, 9, 1);
		f_int(&o, 1, 2);
		in = body("v1", "PodPortForwardOptions", &o);
		CHECK_ERR(&in, 0, "protobuf: repeated field ports of v1.PodPortForwardOptions is not contiguous");
	}
	/* a non-repeated field twice */
	m = meta_name("x");
	f_msg(&cm, 1, &m);
	m = meta_name("y");
	f_msg(&cm, 1, &m);
	in = body("v1", "ConfigMap", &cm);
	CHECK_ERR(&in, 0, "protobuf: field metadata of v1.ConfigMap appears twice");
	f_int(&cm, 4, 1);
	f_int(&cm, 4, 1);
	in = body("v1", "ConfigMap", &cm);
	CHECK_ERR(&in, 0, "protobuf: field immutable of v1.ConfigMap appears twice");
	/* RawExtension with something not JSON */
	{
		k8s_buf cr = K8S_BUF_INIT, ext = K8S_BUF_INIT;
		static const char *const bad[] = {"{bad", "{}{}", "{\"a\":1,}", "nul", " ", "\"\\x\""};
		size_t i;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			f_str(&ext, 1, bad[i]);
			f_msg(&cr, 2, &ext);
			in = body("apps/v1", "ControllerRevision", &cr);
			CHECK_ERR(&in, 0, "protobuf: data does not hold one JSON value");
		}
		/* a nested envelope that is bad */
		put(&ext, "\x0a\x06k8s\0\x08\x01", 8);
		f_msg(&cr, 2, &ext);
		in = body("apps/v1", "ControllerRevision", &cr);
		CHECK_ERR(&in, 0, "protobuf: field 1 of runtime.Unknown has wire type 0, want 2");
		/* the raw field of RawExtension with the wrong wire type */
		f_int(&ext, 1, 1);
		f_msg(&cr, 2, &ext);
		in = body("apps/v1", "ControllerRevision", &cr);
		CHECK_ERR(&in, 0, "protobuf: field 1 of data has wire type 0, want 2");
		/* FieldsV1 */
		{
			k8s_buf meta = K8S_BUF_INIT, mf = K8S_BUF_INIT, f = K8S_BUF_INIT;
			f_str(&f, 1, "{\"f:data\":");
			f_msg(&mf, 7, &f);
			f_msg(&meta, 17, &mf);
			f_msg(&cm, 1, &meta);
			in = body("v1", "ConfigMap", &cm);
			CHECK_ERR(&in, 0, "protobuf: fieldsV1 does not hold one JSON value");
		}
	}
	/* Time with the wrong wire types */
	{
		k8s_buf t = K8S_BUF_INIT, meta = K8S_BUF_INIT;
		f_str(&t, 1, "x");
		f_msg(&meta, 8, &t);
		f_msg(&cm, 1, &meta);
		in = body("v1", "ConfigMap", &cm);
		CHECK_ERR(&in, 0, "protobuf: field 1 of creationTimestamp has wire type 2, want 0");
		f_str(&t, 2, "x");
		f_msg(&meta, 9, &t);
		f_msg(&cm, 1, &meta);
		in = body("v1", "ConfigMap", &cm);
		CHECK_ERR(&in, 0, "protobuf: field 2 of deletionTimestamp has wire type 2, want 0");
	}
}

/* JSONSchemaProps nested n deep through `not` (28) or `items` (24, the
 * schema form), in a CRD: the envelope, spec, the version, its schema and
 * openAPIV3Schema are 5 levels, so 95 more are the most. */
static k8s_buf deep_schema(int n, int via_items)
{
	k8s_buf p = K8S_BUF_INIT;
	int i;
	f_str(&p, 5, "string");
	for (i = 0; i < n; i++) {
		k8s_buf outer = K8S_BUF_INIT;
		if (via_items) {
			k8s_buf or = K8S_BUF_INIT;
			f_msg(&or, 1, &p);
			f_msg(&outer, 24, &or);
		} else {
			f_msg(&outer, 28, &p);
		}
		p = outer;
	}
	return crd(&p);
}

TEST(nesting_limit)
{
	k8s_buf in;
	char *s;
	in = deep_schema(95, 0);
	s = to_json(&in, 0);
	CHECK(s != NULL);
	CHECK_HAS(s, "{\"not\":{\"not\":{\"type\":\"string\"}}}");
	free(s);
	in = deep_schema(96, 0);
	CHECK_ERR(&in, 0, "protobuf: nesting deeper than 100");
	in = deep_schema(150, 0);
	CHECK_ERR(&in, 0, "protobuf: nesting deeper than 100");
	in = deep_schema(95, 1);
	s = to_json(&in, 0);
	CHECK(s != NULL);
	CHECK_HAS(s, "{\"items\":{\"items\":{\"type\":\"string\"}}}");
	free(s);
	in = deep_schema(96, 1);
	CHECK_ERR(&in, 0, "protobuf: nesting deeper than 100");
	in = deep_schema(150, 1);
	CHECK_ERR(&in, 0, "protobuf: nesting deeper than 100");
	/* the limit counts the levels of an embedded envelope too: a watch
	 * event (1) whose ControllerRevision (2) data is an envelope (3)... */
	{
		k8s_buf ev = K8S_BUF_INIT, env = K8S_BUF_INIT;
		int i;
		envelope(&env, "v1", "ConfigMap", NULL);
		for (i = 0; i < 120; i++) {
			k8s_buf cr = K8S_BUF_INIT, ext = K8S_BUF_INIT;
			f_bytes(&ext, 1, env.ptr, env.len);
			f_msg(&cr, 2, &ext);
			k8s_buf_free(&env);
			envelope(&env, "apps/v1", "ControllerRevision", &cr);
		}
		watch_event(&ev, "ADDED", &env);
		CHECK_ERR(&ev, 1, "protobuf: nesting deeper than 100");
		k8s_buf_free(&env);
	}
}

TEST(helpers)
{
	k8s_buf st = K8S_BUF_INIT, in = K8S_BUF_INIT, ev = K8S_BUF_INIT;
	const char *type, *obj;
	size_t tlen, olen;
	f_int(&st, 6, 404);
	envelope(&in, "v1", "Status", &st);
	CHECK(k8s__pb_is_status(in.ptr, in.len));
	CHECK(!k8s__pb_is_status(in.ptr, 3));
	CHECK(!k8s__pb_is_status(in.ptr + 1, in.len - 1));
	watch_event(&ev, "MODIFIED", &in);
	CHECK_INT(k8s__pb_event_parts(ev.ptr, ev.len, &type, &tlen, &obj, &olen), 0);
	CHECK(tlen == 8 && memcmp(type, "MODIFIED", 8) == 0);
	CHECK(olen == in.len && memcmp(obj, in.ptr, olen) == 0);
	CHECK_INT(k8s__pb_event_parts("", 0, &type, &tlen, &obj, &olen), 0);
	CHECK(type == NULL && obj == NULL && tlen == 0 && olen == 0);
	CHECK_INT(k8s__pb_event_parts("\x08\x01", 2, &type, &tlen, &obj, &olen), -1);
	CHECK_INT(k8s__pb_event_parts("\x12\x02\x08\x01", 4, &type, &tlen, &obj, &olen), -1);
	k8s_buf_free(&in);
	envelope(&in, "v1", "ConfigMap", NULL);
	CHECK(!k8s__pb_is_status(in.ptr, in.len));
	k8s_buf_free(&in);
	k8s_buf_free(&ev);
	CHECK(k8s__pb_is_content_type("application/vnd.kubernetes.protobuf"));
	CHECK(k8s__pb_is_content_type(" Application/VND.Kubernetes.Protobuf;stream=watch"));
	CHECK(!k8s__pb_is_content_type("application/vnd.kubernetes.protobuf2"));
	CHECK(!k8s__pb_is_content_type("application/json"));
	CHECK(!k8s__pb_is_content_type(NULL));
	CHECK(k8s__pb_type_lookup("v1", 2, "ConfigMap", 9) >= 0);
	CHECK(k8s__pb_type_lookup("v1", 1, "ConfigMap", 9) < 0);
	CHECK(k8s__pb_type_lookup("v1", 2, "ConfigMa", 8) < 0);
}

/* ---- the watch decoder on a protobuf stream ---- */

/* A stream of two frames (4-byte big-endian length + WatchEvent): ADDED
 * cm1, DELETED cm2; env1 gets the first event's envelope. */
static void pb_stream(k8s_buf *out, k8s_buf *env1)
{
	int i;
	for (i = 0; i < 2; i++) {
		k8s_buf cm = K8S_BUF_INIT, env = K8S_BUF_INIT, ev = K8S_BUF_INIT, m = meta_name(i ? "cm2" : "cm1");
		unsigned char len[4];
		f_msg(&cm, 1, &m);
		f_entry(&cm, 2, "i", i ? "2" : "1");
		envelope(&env, "v1", "ConfigMap", &cm);
		watch_event(&ev, i ? "DELETED" : "ADDED", &env);
		len[0] = (unsigned char)(ev.len >> 24);
		len[1] = (unsigned char)(ev.len >> 16);
		len[2] = (unsigned char)(ev.len >> 8);
		len[3] = (unsigned char)ev.len;
		put(out, len, 4);
		put(out, ev.ptr, ev.len);
		if (i == 0 && env1)
			put(env1, env.ptr, env.len);
		k8s_buf_free(&env);
		k8s_buf_free(&ev);
	}
}

static const char *const WANT_OBJ[2] = {
	"{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"cm1\"},\"data\":{\"i\":\"1\"}}",
	"{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"cm2\"},\"data\":{\"i\":\"2\"}}",
};

/* Takes the ready events: checks them against WANT_OBJ from *n on. */
static int take(k8s_watch_decoder *d, int *n, int keep, const k8s_buf *env1)
{
	k8s_watch_event ev;
	int r, bad = 0;
	while ((r = k8s_watch_decoder_next(d, &ev)) == 1) {
		if (*n >= 2) {
			bad = 1;
			break;
		}
		if (ev.type != (*n ? K8S_WATCH_DELETED : K8S_WATCH_ADDED) ||
		    strcmp(ev.type_name, *n ? "DELETED" : "ADDED") != 0)
			bad = 1;
		if (keep) {
			if (ev.protobuf != 1 || ev.object_len < 4 || memcmp(ev.object, "k8s\0", 4) != 0)
				bad = 1;
			if (*n == 0 && (ev.object_len != env1->len || memcmp(ev.object, env1->ptr, env1->len) != 0))
				bad = 1;
		} else if (ev.protobuf != 0 || ev.object_len != strlen(WANT_OBJ[*n]) ||
			   memcmp(ev.object, WANT_OBJ[*n], ev.object_len) != 0) {
			fprintf(stderr, "  event %d: %.*s\n", *n, (int)ev.object_len, ev.object);
			bad = 1;
		}
		(*n)++;
	}
	return r < 0 || bad ? -1 : 0;
}

TEST(watch_decoder_protobuf_splits)
{
	k8s_buf s = K8S_BUF_INIT, env1 = K8S_BUF_INIT;
	size_t cut, i, frame1;
	int keep, failures = 0, pending_ok = 1;
	pb_stream(&s, &env1);
	frame1 = 4 + ((size_t)(unsigned char)s.ptr[2] << 8 | (unsigned char)s.ptr[3]);
	CHECK(s.ptr[0] == 0 && s.ptr[1] == 0);
	for (keep = 0; keep < 2; keep++) {
		/* two pieces, cut at every byte */
		for (cut = 0; cut <= s.len; cut++) {
			k8s_watch_decoder *d = NULL;
			int n = 0;
			if (k8s_watch_decoder_new(&d, 0) < 0)
				abort();
			if (keep)
				k8s__watch_decoder_keep_protobuf(d);
			if (k8s_watch_decoder_feed(d, s.ptr, cut) < 0 || take(d, &n, keep, &env1) < 0)
				failures++;
			/* a partial frame is pending, byte for byte */
			if (k8s_watch_decoder_pending(d) != (cut < frame1 ? cut : cut < s.len ? cut - frame1 : 0))
				pending_ok = 0;
			if (k8s_watch_decoder_feed(d, s.ptr + cut, s.len - cut) < 0 || take(d, &n, keep, &env1) < 0)
				failures++;
			if (n != 2 || k8s_watch_decoder_pending(d) != 0)
				failures++;
			k8s_watch_decoder_free(d);
		}
		/* byte by byte */
		{
			k8s_watch_decoder *d = NULL;
			int n = 0;
			if (k8s_watch_decoder_new(&d, 0) < 0)
				abort();
			if (keep)
				k8s__watch_decoder_keep_protobuf(d);
			for (i = 0; i < s.len; i++) {
				if (k8s_watch_decoder_feed(d, s.ptr + i, 1) < 0 || take(d, &n, keep, &env1) < 0)
					failures++;
				if (k8s_watch_decoder_pending(d) !=
				    (i + 1 < frame1 ? i + 1 : i + 1 < s.len ? i + 1 - frame1 : 0))
					pending_ok = 0;
				if (n != (i + 1 < frame1 ? 0 : i + 1 < s.len ? 1 : 2))
					failures++;
			}
			CHECK_INT(n, 2);
			k8s_watch_decoder_free(d);
		}
	}
	CHECK_INT(failures, 0);
	CHECK(pending_ok);
	k8s_buf_free(&s);
	k8s_buf_free(&env1);
}

TEST(watch_decoder_protobuf_errors)
{
	k8s_buf s = K8S_BUF_INIT, bad = K8S_BUF_INIT, ev = K8S_BUF_INIT, env = K8S_BUF_INIT, env1 = K8S_BUF_INIT;
	k8s_watch_decoder *d = NULL;
	k8s_watch_event e;
	int n = 0;
	pb_stream(&s, &env1);
	/* a frame length over max_frame: the stream fails for good */
	CHECK_INT(k8s_watch_decoder_new(&d, 16), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, "\x00\x00\x00\x11", 4), K8S_EDECODE);
	CHECK_STR(k8s_error_last()->message, "watch event exceeds the maximum frame size of 16 bytes");
	CHECK_INT(k8s_watch_decoder_next(d, &e), K8S_EDECODE);
	CHECK_INT(k8s_watch_decoder_pending(d), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, s.ptr, s.len), K8S_EDECODE);
	k8s_watch_decoder_free(d);
	/* exactly max_frame is fine; the cap is seen from the header alone */
	CHECK_INT(k8s_watch_decoder_new(&d, 16), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, "\x00\x00\x00\x10", 4), 0);
	CHECK_INT(k8s_watch_decoder_next(d, &e), 0);
	CHECK_INT(k8s_watch_decoder_pending(d), 4);
	k8s_watch_decoder_free(d);
	CHECK_INT(k8s_watch_decoder_new(&d, 16), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, "\x00\x00\x01", 3), 0);
	CHECK_INT(k8s_watch_decoder_pending(d), 3);
	CHECK_INT(k8s_watch_decoder_feed(d, "\x00", 1), K8S_EDECODE);
	k8s_watch_decoder_free(d);

	/* rejected events keep the stream in sync: an unknown type, a bad
	 * object, an empty frame, then the good two */
	{
		static const char hdr_a[4] = {0, 0, 0, 0};
		unsigned char len[4] = {0, 0, 0, 0};
		envelope(&env, "v1", "ConfigMap", NULL);
		watch_event(&ev, "SYNC", &env);
		len[3] = (unsigned char)ev.len;
		put(&bad, len, 4);
		put(&bad, ev.ptr, ev.len);
		k8s_buf_free(&ev);
		put(&ev, "\x0a\x05" "ADDED\x12\x03\x0a\x01x", 12);
		len[3] = (unsigned char)ev.len;
		put(&bad, len, 4);
		put(&bad, ev.ptr, ev.len);
		put(&bad, hdr_a, 4);
		put(&bad, s.ptr, s.len);
	}
	for (int keep = 0; keep < 2; keep++) {
		n = 0;
		CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
		if (keep)
			k8s__watch_decoder_keep_protobuf(d);
		CHECK_INT(k8s_watch_decoder_feed(d, bad.ptr, bad.len), 0);
		CHECK_INT(k8s_watch_decoder_next(d, &e), K8S_EDECODE);
		CHECK_STR(k8s_error_last()->message, "unknown watch event type \"SYNC\"");
		CHECK_INT(k8s_watch_decoder_next(d, &e), K8S_EDECODE);
		CHECK_STR(k8s_error_last()->message,
			  keep ? "ADDED watch event \"object\" is neither protobuf nor JSON"
			       : "protobuf: object does not hold one JSON value");
		CHECK_INT(k8s_watch_decoder_next(d, &e), K8S_EDECODE);
		CHECK_STR(k8s_error_last()->message,
			  keep ? "unknown watch event type \"\"" : "unknown watch event type \"\"");
		CHECK_INT(take(d, &n, keep, &env1), 0);
		CHECK_INT(n, 2);
		CHECK_INT(k8s_watch_decoder_pending(d), 0);
		k8s_watch_decoder_free(d);
	}
	k8s_buf_free(&s);
	k8s_buf_free(&bad);
	k8s_buf_free(&ev);
	k8s_buf_free(&env);
	k8s_buf_free(&env1);
}

/* ---- found by fuzzing and the client-go cross-check ---- */

/* What encoding/json (and client-go's decoding) gives for these inputs:
 * bare numbers as raw JSON, doubles Go writes in the 'f' form, times at
 * the ends of int64, a content encoding before the raw object, years
 * before 0, a named slice map value without a value. */
TEST(fuzz_findings)
{
	k8s_buf p = K8S_BUF_INIT, j = K8S_BUF_INIT, in, t;
	char *s;
	/* raw JSON (apiextensions JSON, RawExtension) that is a bare number:
	 * the JSON sink rejects it ("does not hold one JSON value"), so any CRD
	 * with a numeric default, enum or example fails to decode */
	f_str(&j, 1, "1");
	f_msg(&p, 8, &j);
	f_str(&j, 1, "-5");
	f_msg(&p, 20, &j);
	f_str(&j, 1, "2.5e3");
	f_msg(&p, 20, &j);
	in = crd(&p);
	CHECK_JSON(&in, 0, CRD_JSON("{\"default\":1,\"enum\":[-5,2.5e3]}"));
	/* doubles with 1e-6 <= |v| < 1e-4 are written as 0 */
	CHECK_DOUBLE(0.000001, "0.000001");
	CHECK_DOUBLE(0.00005, "0.00005");
	CHECK_DOUBLE(-1.5e-5, "-0.000015");
	/* integral doubles 1e17 <= |v| < 1e21: Go writes the shortest digits */
	CHECK_DOUBLE(1.2345678901234567e20, "123456789012345670000");
	/* years before 0: Go writes at least 4 digits after the sign */
	t = ts(-62167219201LL, 0);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"-0001-12-31T23:59:59Z\"");
	/* metav1.Time drops nanos when decoding protobuf (time.Unix(sec, 0)) */
	t = ts(10, -1);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"1970-01-01T00:00:10Z\"");
	t = ts(10, 1500000000);
	CHECK_TIMES(NULL, &t, "\"deletionTimestamp\":\"1970-01-01T00:00:10Z\"");
	/* the zero-time check of an omitzero Time ignores wire types: seconds
	 * as fixed64 is accepted (and dropped) when it holds the zero time */
	{
		k8s_buf m = K8S_BUF_INIT, cm = K8S_BUF_INIT;
		static const unsigned char zero[8] = {0x00, 0x09, 0x6e, 0x88, 0xf1, 0xff, 0xff, 0xff}; /* -62135596800 */
		t = (k8s_buf)K8S_BUF_INIT;
		tag(&t, 1, 1);
		put(&t, zero, 8);
		f_msg(&m, 8, &t);
		f_msg(&cm, 1, &m);
		in = body("v1", "ConfigMap", &cm);
		CHECK_ERR(&in, 0, "protobuf: field 1 of creationTimestamp has wire type 1, want 0");
	}
	/* signed overflow (undefined behaviour; UBSan aborts) normalizing
	 * seconds and nanos near the int64 limits */
	t = ts(INT64_MAX, 2000000000);
	s = event_time(&t);
	free(s);
	t = ts(INT64_MIN, -1);
	s = event_time(&t);
	free(s);
	/* a map entry without its value of a named-slice type (ExtraValue):
	 * gogo gives ExtraValue{}, [] (certificates/v1 CSR spec.extra) */
	{
		k8s_buf spec = K8S_BUF_INIT, csr = K8S_BUF_INIT, e = K8S_BUF_INIT;
		f_str(&e, 1, "a");
		f_msg(&spec, 6, &e);
		f_str(&spec, 7, "s");
		f_msg(&csr, 2, &spec);
		in = body("certificates.k8s.io/v1", "CertificateSigningRequest", &csr);
		s = to_json(&in, 0);
		CHECK_HAS(s, "\"extra\":{\"a\":[]}");
		free(s);
	}
}

int main(void)
{
	RUN(configmap);
	RUN(absent_fields);
	RUN(list_without_items);
	RUN(time);
	RUN(microtime);
	RUN(int_or_string);
	RUN(time_map_values);
	RUN(quantity);
	RUN(raw_extension_and_fields_v1);
	RUN(watch_event_nested_envelope);
	RUN(json_schema_props);
	RUN(doubles);
	RUN(negative_varints);
	RUN(unknown_fields_skipped);
	RUN(packed_repeated);
	RUN(errors_framing);
	RUN(errors_wire_types);
	RUN(errors_types_and_structure);
	RUN(nesting_limit);
	RUN(helpers);
	RUN(watch_decoder_protobuf_splits);
	RUN(watch_decoder_protobuf_errors);
	RUN(fuzz_findings);
	return TEST_SUMMARY();
}
