/* JSON scanner, StatusReason table and Go duration format. */
#include <math.h>
#include "test.h"
#include "jsonscan.h"
#include "reason.h"

static int skip(const char *s, size_t *end)
{
	return k8s_json_skip_value(s, strlen(s), 0, end);
}

TEST(skip_ws)
{
	CHECK_INT(k8s_json_skip_ws(" \t\r\nx", 5, 0), 4);
	CHECK_INT(k8s_json_skip_ws("   ", 3, 1), 3);
	CHECK_INT(k8s_json_skip_ws("x", 1, 0), 0);
	CHECK_INT(k8s_json_skip_ws(NULL, 0, 0), 0);
}

TEST(skip_value_kinds)
{
	static const struct {
		const char *text;
		size_t end;
	} ok[] = {
		{"{}", 2},
		{"[]", 2},
		{"  {} ", 4},
		{"\"\"", 2},
		{"\"a\\\"b\\\\\" tail", 8},
		{"\"\\u00e9\\uD83D\\uDE00\\/\\b\\f\\n\\r\\t\"", 32},
		{"true,", 4},
		{"false]", 5},
		{"null}", 4},
		{"0,", 1},
		{"-0.5e+10]", 8},
		{"12E3 ", 4},
		{"[1,2.5,-3e2,\"x\",true,false,null,{},[]] x", 38},
		{"{\"a\":{\"b\":[{\"c\":\"}\"}]},\"d\":\"]\"}", 31},
		{"{\"k\" : 1 , \"l\" :[ ] }", 21},
		{"\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", 12},
	};
	size_t i, end;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		end = 0;
		CHECK_INT(skip(ok[i].text, &end), 0);
		if (end != ok[i].end)
			fprintf(stderr, "  text %s\n", ok[i].text);
		CHECK_INT(end, ok[i].end);
	}
}

TEST(skip_value_malformed)
{
	static const char *const bad[] = {
		"}", "]", ",", "x", "{,}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]",
		"[1 2]", "{\"a\" 1}", "{1:2}", "[}", "{]", "\"\\x\"", "\"\\u12g4\"",
		"\"a\nb\"", "tru e", "nul1", "-a", "01]" /* checked below */, "-]",
		"[01]", "1.]", "[1.e5]", "[1e]", "[1e+]", "[.5]", "[+1]", "{\"a\":1]",
		"[1}", "[nan]",
	};
	size_t i, end;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = skip(bad[i], &end);
		if (strcmp(bad[i], "01]") == 0) {
			/* a top-level 0 is complete before the '1' */
			CHECK_INT(r, 0);
			CHECK_INT(end, 1);
			continue;
		}
		if (r != -1)
			fprintf(stderr, "  text %s -> %d\n", bad[i], r);
		CHECK_INT(r, -1);
	}
}

TEST(skip_value_incomplete)
{
	const char *doc = "{\"a\":[1,-2.5e3,\"x\\\"\\u00e9y\",true,false,null,{\"b\":{}}],\"c\":\"}\"}";
	size_t n = strlen(doc), k, end;
	for (k = 0; k < n; k++) {
		int r = k8s_json_skip_value(doc, k, 0, &end);
		if (r != 1)
			fprintf(stderr, "  prefix %zu -> %d\n", k, r);
		CHECK_INT(r, 1);
	}
	CHECK_INT(k8s_json_skip_value(doc, n, 0, &end), 0);
	CHECK_INT(end, n);
	/* a top-level number at the end of the text may continue */
	CHECK_INT(k8s_json_skip_value("123", 3, 0, &end), 1);
	CHECK_INT(k8s_json_skip_value("-", 1, 0, &end), 1);
	CHECK_INT(k8s_json_skip_value("[\"\\\"]", 5, 0, &end), 1);
	CHECK_INT(k8s_json_skip_value("", 0, 0, &end), 1);
	CHECK_INT(k8s_json_skip_value("   ", 3, 0, &end), 1);
}

TEST(scanner_resumes_anywhere)
{
	const char *doc = "{\"a\":[1,-2.5e3,\"x\\\"\\uD83D\\uDE00y\",true,null],\"c\":\"}\",\"n\":10} rest";
	size_t n = strlen(doc), want, k, end;
	k8s_json_scanner s;
	CHECK_INT(k8s_json_skip_value(doc, n, 0, &want), 0);
	CHECK_INT(doc[want], ' ');
	/* one byte at a time */
	k8s_json_scanner_init(&s);
	for (k = 0; k < n; k++) {
		int r = k8s_json_scanner_run(&s, doc, k + 1, k, &end);
		if (r == 0)
			break;
		CHECK_INT(r, 1);
		CHECK_INT(end, k + 1);
	}
	CHECK_INT(end, want);
	/* two pieces, every split */
	for (k = 0; k < want; k++) {
		int r;
		k8s_json_scanner_init(&s);
		r = k8s_json_scanner_run(&s, doc, k, 0, &end);
		CHECK_INT(r, 1);
		r = k8s_json_scanner_run(&s, doc, n, k, &end);
		CHECK_INT(r, 0);
		CHECK_INT(end, want);
	}
}

TEST(deep_nesting)
{
	size_t n = 200000, end, i;
	char *p = malloc(2 * n);
	for (i = 0; i < n; i++) {
		p[i] = '[';
		p[2 * n - 1 - i] = ']';
	}
	CHECK_INT(k8s_json_skip_value(p, 2 * n, 0, &end), -1);
	/* exactly the limit is fine */
	n = K8S_JSON_MAX_DEPTH;
	for (i = 0; i < n; i++) {
		p[i] = '[';
		p[2 * n - 1 - i] = ']';
	}
	CHECK_INT(k8s_json_skip_value(p, 2 * n, 0, &end), 0);
	CHECK_INT(end, 2 * n);
	p[0] = '{';
	CHECK_INT(k8s_json_skip_value(p, 2 * n, 0, &end), -1);
	free(p);
}

TEST(object_get)
{
	const char *o = " {\"kind\":\"Status\",\"metadata\":{\"name\":\"x\",\"code\":1},"
		"\"code\" : 404 , \"message\":\"a \\\"b\\\" {c}\", \"details\":null}\n";
	size_t len = strlen(o), vlen;
	const char *v;
	CHECK_INT(k8s_json_object_get(o, len, "code", &v, &vlen), 1);
	CHECK_INT(vlen, 3);
	CHECK(memcmp(v, "404", 3) == 0);
	CHECK_INT(k8s_json_object_get(o, len, "kind", &v, &vlen), 1);
	CHECK(vlen == 8 && memcmp(v, "\"Status\"", 8) == 0);
	CHECK_INT(k8s_json_object_get(o, len, "metadata", &v, &vlen), 1);
	CHECK(vlen == 21 && v[0] == '{' && v[20] == '}');
	CHECK_INT(k8s_json_object_get(o, len, "details", &v, &vlen), 1);
	CHECK(vlen == 4 && memcmp(v, "null", 4) == 0);
	CHECK_INT(k8s_json_object_get(o, len, "message", &v, &vlen), 1);
	CHECK_INT(vlen, 13);
	/* nested members are not top-level */
	CHECK_INT(k8s_json_object_get(o, len, "name", &v, &vlen), 0);
	CHECK_INT(k8s_json_object_get(o, len, "Code", &v, &vlen), 0);
	CHECK_INT(k8s_json_object_get("{}", 2, "a", &v, &vlen), 0);
	CHECK_INT(k8s_json_object_get(" { } ", 5, "a", &v, &vlen), 0);
}

TEST(object_get_edge_cases)
{
	const char *v;
	size_t vlen;
	/* last duplicate wins, as in encoding/json */
	const char *dup = "{\"a\":1,\"a\":22}";
	CHECK_INT(k8s_json_object_get(dup, strlen(dup), "a", &v, &vlen), 1);
	CHECK(vlen == 2 && memcmp(v, "22", 2) == 0);
	/* escaped keys are compared unescaped */
	const char *esc = "{\"\\u0074ype\":\"X\",\"a\\\"b\":2}";
	CHECK_INT(k8s_json_object_get(esc, strlen(esc), "type", &v, &vlen), 1);
	CHECK(vlen == 3 && memcmp(v, "\"X\"", 3) == 0);
	CHECK_INT(k8s_json_object_get(esc, strlen(esc), "a\"b", &v, &vlen), 1);
	CHECK(vlen == 1 && v[0] == '2');
	/* malformed or incomplete objects */
	CHECK_INT(k8s_json_object_get("[1]", 3, "a", &v, &vlen), -1);
	CHECK_INT(k8s_json_object_get("", 0, "a", &v, &vlen), -1);
	CHECK_INT(k8s_json_object_get("{\"a\":1", 6, "a", &v, &vlen), -1);
	CHECK_INT(k8s_json_object_get("{\"a\":1,}", 8, "a", &v, &vlen), -1);
	CHECK_INT(k8s_json_object_get("{\"a\" 1}", 7, "a", &v, &vlen), -1);
	CHECK_INT(k8s_json_object_get("{\"a\":1 \"b\":2}", 13, "a", &v, &vlen), -1);
	CHECK_INT(k8s_json_object_get("{\"a\":1,\"b\":[}", 13, "a", &v, &vlen), -1);
}

TEST(object_next)
{
	const char *o = "{\"x\":[1,{\"y\":2}], \"z\" : \"w\" }";
	size_t pos = 0, klen, vlen;
	const char *k, *v;
	CHECK_INT(k8s_json_object_next(o, strlen(o), &pos, &k, &klen, &v, &vlen), 1);
	CHECK(klen == 1 && k[0] == 'x');
	CHECK(vlen == 11 && v[0] == '[');
	CHECK_INT(k8s_json_object_next(o, strlen(o), &pos, &k, &klen, &v, &vlen), 1);
	CHECK(klen == 1 && k[0] == 'z');
	CHECK(vlen == 3 && memcmp(v, "\"w\"", 3) == 0);
	CHECK_INT(k8s_json_object_next(o, strlen(o), &pos, &k, &klen, &v, &vlen), 0);
}

static void check_dup(const char *json, const char *want)
{
	char *s = (char *)"unchanged";
	int r = k8s_json_string_dup(json, strlen(json), &s);
	CHECK_INT(r, 0);
	if (r == 0) {
		CHECK_STR(s, want);
		free(s);
	}
}

TEST(string_dup)
{
	char *s;
	check_dup("\"\"", "");
	check_dup("\"plain\"", "plain");
	check_dup(" \"ws\" ", "ws");
	check_dup("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "a\"b\\c/d\b\f\n\r\t");
	check_dup("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac");
	check_dup("\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80");            /* surrogate pair */
	check_dup("\"\\uD83Dx\"", "\xef\xbf\xbdx");                      /* lone high */
	check_dup("\"\\uDE00\"", "\xef\xbf\xbd");                        /* lone low */
	check_dup("\"\\uD83D\\u0041\"", "\xef\xbf\xbd" "A");             /* high + non-low */
	check_dup("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "caf\xc3\xa9 \xf0\x9f\x98\x80");
	check_dup("\"\xff\xc3(\"", "\xef\xbf\xbd\xef\xbf\xbd(");         /* invalid UTF-8 */
	check_dup("\"\xed\xa0\x80\"", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* encoded surrogate */
	check_dup("\"\xe2\x82\"", "\xef\xbf\xbd\xef\xbf\xbd");           /* truncated sequence */

	static const char *const bad[] = {
		"", "abc", "\"abc", "\"a\\qb\"", "\"\\u12\"", "\"a\tb\"", "\"a\" x",
		"\"a\"\"b\"", "1", "null",
	};
	size_t i;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = (char *)"unchanged";
		CHECK_INT(k8s_json_string_dup(bad[i], strlen(bad[i]), &s), -1);
		CHECK(s == NULL);
	}
}

TEST(raw_equal)
{
	CHECK(k8s_json_raw_equal("type", 4, "type"));
	CHECK(!k8s_json_raw_equal("typ", 3, "type"));
	CHECK(!k8s_json_raw_equal("types", 5, "type"));
	CHECK(k8s_json_raw_equal("\\u0074yp\\u0065", 14, "type"));
	CHECK(!k8s_json_raw_equal("\\u0074ype\\u0065", 15, "type"));
	CHECK(k8s_json_raw_equal("a\\nb", 4, "a\nb"));
	CHECK(!k8s_json_raw_equal("a\\qb", 4, "a\\qb"));
	CHECK(k8s_json_raw_equal("", 0, ""));
	/* invalid UTF-8 compares as U+FFFD, with or without an escape */
	CHECK(k8s_json_raw_equal("a\xff", 2, "a\xef\xbf\xbd"));
	CHECK(!k8s_json_raw_equal("a\xff", 2, "a\xff"));
	CHECK(k8s_json_raw_equal("caf\xc3\xa9", 5, "caf\xc3\xa9"));
}

TEST(reason_for_code)
{
	CHECK_STR(k8s__reason_for_code(409, "POST"), "AlreadyExists");
	CHECK_STR(k8s__reason_for_code(409, "PUT"), "Conflict");
	CHECK_STR(k8s__reason_for_code(409, NULL), "Conflict");
	CHECK_STR(k8s__reason_for_code(404, "GET"), "NotFound");
	CHECK_STR(k8s__reason_for_code(400, "GET"), "BadRequest");
	CHECK_STR(k8s__reason_for_code(401, "GET"), "Unauthorized");
	CHECK_STR(k8s__reason_for_code(403, "GET"), "Forbidden");
	CHECK_STR(k8s__reason_for_code(405, "GET"), "MethodNotAllowed");
	CHECK_STR(k8s__reason_for_code(406, "GET"), "NotAcceptable");
	CHECK_STR(k8s__reason_for_code(415, "GET"), "UnsupportedMediaType");
	CHECK_STR(k8s__reason_for_code(422, "GET"), "Invalid");
	CHECK_STR(k8s__reason_for_code(429, "GET"), "TooManyRequests");
	CHECK_STR(k8s__reason_for_code(500, "GET"), "InternalError");
	CHECK_STR(k8s__reason_for_code(502, "GET"), "InternalError");
	CHECK_STR(k8s__reason_for_code(503, "GET"), "ServiceUnavailable");
	CHECK_STR(k8s__reason_for_code(504, "GET"), "Timeout");
	CHECK_STR(k8s__reason_for_code(599, "GET"), "InternalError");
	/* not in apimachinery's table */
	CHECK_STR(k8s__reason_for_code(410, "GET"), "Unknown");
	CHECK_STR(k8s__reason_for_code(413, "POST"), "Unknown");
	CHECK_STR(k8s__reason_for_code(302, "GET"), "Unknown");
	CHECK_STR(k8s__reason_for_code(418, "GET"), "Unknown");
}

static void check_dur(double sec, const char *want)
{
	char buf[64];
	int n = k8s__format_go_duration(sec, buf, sizeof(buf));
	CHECK_INT(n, (long long)strlen(want));
	CHECK_STR(buf, want);
}

TEST(go_duration)
{
	char small[4];
	check_dur(0, "0s");
	check_dur(1, "1s");
	check_dur(1.5, "1.5s");
	check_dur(60, "1m0s");
	check_dur(90, "1m30s");
	check_dur(3600, "1h0m0s");
	check_dur(3723, "1h2m3s");
	check_dur(32, "32s");
	check_dur(300, "5m0s");
	check_dur(0.5, "500ms");
	check_dur(0.001, "1ms");
	check_dur(0.0015, "1.5ms");
	check_dur(0.0000015, "1.5\xc2\xb5s");
	check_dur(0.000001, "1\xc2\xb5s");
	check_dur(1e-9, "1ns");
	check_dur(999e-9, "999ns");
	check_dur(1.000001, "1.000001s");
	check_dur(1.000000001, "1.000000001s");
	check_dur(59.999, "59.999s");
	check_dur(86400, "24h0m0s");
	check_dur(-1.5, "-1.5s");
	check_dur(1e300, "2562047h47m16.854775807s");
	check_dur(-1e300, "-2562047h47m16.854775808s");
	CHECK_INT(k8s__format_go_duration(NAN, small, sizeof(small)), -1);
	CHECK_INT(k8s__format_go_duration(3723, small, sizeof(small)), -1);
	CHECK_STR(small, "");
	CHECK_INT(k8s__format_go_duration(1, small, sizeof(small)), 2);
	CHECK_STR(small, "1s");
	CHECK_INT(k8s__format_go_duration(60, small, sizeof(small)), -1); /* "1m0s" needs 5 */
}

static void check_dur_ns(int64_t ns, const char *want)
{
	char buf[64];
	int n = k8s__format_go_duration_ns(ns, buf, sizeof(buf));
	CHECK_INT(n, (long long)strlen(want));
	CHECK_STR(buf, want);
}

TEST(go_duration_ns)
{
	check_dur_ns(0, "0s");
	check_dur_ns(1, "1ns");
	check_dur_ns(1500, "1.5\xc2\xb5s");
	check_dur_ns(1500000000, "1.5s");
	check_dur_ns(1000000001, "1.000000001s");
	check_dur_ns(-90000000000LL, "-1m30s");
	check_dur_ns(INT64_MAX, "2562047h47m16.854775807s");
	check_dur_ns(INT64_MIN, "-2562047h47m16.854775808s");
}

int main(void)
{
	RUN(skip_ws);
	RUN(skip_value_kinds);
	RUN(skip_value_malformed);
	RUN(skip_value_incomplete);
	RUN(scanner_resumes_anywhere);
	RUN(deep_nesting);
	RUN(object_get);
	RUN(object_get_edge_cases);
	RUN(object_next);
	RUN(string_dup);
	RUN(raw_equal);
	RUN(reason_for_code);
	RUN(go_duration);
	RUN(go_duration_ns);
	return TEST_SUMMARY();
}
