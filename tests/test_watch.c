/* Watch stream framing: bytes in any chunking, events out. */
#include <time.h>
#include "test.h"
#include "k8s/watch.h"
#include "k8s/common.h"

/* Append "TYPE object\n" for each event ready in d to out (size cap). */
static int drain(k8s_watch_decoder *d, char *out, size_t cap)
{
	k8s_watch_event ev;
	int r, n = 0;
	while ((r = k8s_watch_decoder_next(d, &ev)) == 1) {
		size_t len = strlen(out);
		if (len + strlen(ev.type_name) + ev.object_len + 3 < cap)
			snprintf(out + len, cap - len, "%s %.*s\n", ev.type_name,
				(int)ev.object_len, ev.object);
		n++;
	}
	return r < 0 ? r : n;
}

/* A stream with braces and escaped quotes inside strings, \u escapes,
 * multibyte UTF-8, no separators between some frames and CRLF elsewhere. */
static const char STREAM[] =
	"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a}{\\\"b\\\\\"}}}"
	"{\"object\":{\"x\":[1,2,{\"y\":\"]\"}],\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\u00e9\\uD83D\\uDE00\"},\"type\":\"MODIFIED\"}\r\n"
	"  {\"type\" : \"DELETED\" , \"object\" : {\"n\":-1.5e3,\"t\":true,\"f\":false,\"z\":null} }\n"
	"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"12345\"}}}\n"
	"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":410,\"reason\":\"Expired\"}}\n";

static const char EXPECT[] =
	"ADDED {\"kind\":\"Pod\",\"metadata\":{\"name\":\"a}{\\\"b\\\\\"}}\n"
	"MODIFIED {\"x\":[1,2,{\"y\":\"]\"}],\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\u00e9\\uD83D\\uDE00\"}\n"
	"DELETED {\"n\":-1.5e3,\"t\":true,\"f\":false,\"z\":null}\n"
	"BOOKMARK {\"metadata\":{\"resourceVersion\":\"12345\"}}\n"
	"ERROR {\"kind\":\"Status\",\"status\":\"Failure\",\"code\":410,\"reason\":\"Expired\"}\n";

TEST(several_events_one_chunk)
{
	k8s_watch_decoder *d;
	char out[4096] = "";
	k8s_watch_event ev;
	CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, STREAM, sizeof(STREAM) - 1), 0);
	CHECK_INT(drain(d, out, sizeof(out)), 5);
	CHECK_STR(out, EXPECT);
	CHECK_INT(k8s_watch_decoder_pending(d), 0);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), 0);
	k8s_watch_decoder_free(d);
}

TEST(event_fields)
{
	k8s_watch_decoder *d;
	k8s_watch_event ev;
	static const k8s_watch_event_type types[] = {K8S_WATCH_ADDED, K8S_WATCH_MODIFIED,
		K8S_WATCH_DELETED, K8S_WATCH_BOOKMARK, K8S_WATCH_ERROR};
	static const char *const names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
	int i;
	CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, STREAM, sizeof(STREAM) - 1), 0);
	for (i = 0; i < 5; i++) {
		CHECK_INT(k8s_watch_decoder_next(d, &ev), 1);
		CHECK_INT(ev.type, types[i]);
		CHECK_STR(ev.type_name, names[i]);
		CHECK(ev.object[0] == '{' && ev.object[ev.object_len - 1] == '}');
	}
	k8s_watch_decoder_free(d);
}

TEST(split_in_two_at_every_offset)
{
	size_t n = sizeof(STREAM) - 1, k;
	for (k = 0; k <= n; k++) {
		k8s_watch_decoder *d;
		char out[4096] = "";
		int a, b;
		CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
		CHECK_INT(k8s_watch_decoder_feed(d, STREAM, k), 0);
		a = drain(d, out, sizeof(out));
		CHECK_INT(k8s_watch_decoder_feed(d, STREAM + k, n - k), 0);
		b = drain(d, out, sizeof(out));
		CHECK_INT(a + b, 5);
		if (strcmp(out, EXPECT) != 0) {
			fprintf(stderr, "  split at %zu\n", k);
			CHECK_STR(out, EXPECT);
		}
		CHECK_INT(k8s_watch_decoder_pending(d), 0);
		k8s_watch_decoder_free(d);
	}
}

TEST(byte_by_byte)
{
	size_t n = sizeof(STREAM) - 1, k;
	k8s_watch_decoder *d;
	char out[4096] = "";
	int total = 0;
	CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
	for (k = 0; k < n; k++) {
		int r;
		CHECK_INT(k8s_watch_decoder_feed(d, STREAM + k, 1), 0);
		r = drain(d, out, sizeof(out));
		CHECK(r >= 0);
		total += r;
	}
	CHECK_INT(total, 5);
	CHECK_STR(out, EXPECT);
	CHECK_INT(k8s_watch_decoder_pending(d), 0);
	k8s_watch_decoder_free(d);
}

TEST(every_split_of_a_single_event)
{
	/* escapes, a multibyte char and \u escapes straddle every boundary */
	static const char ev1[] = "{\"type\":\"ADDED\",\"object\":{\"a\":\"x\\\"\\\\\\u00e9\xe2\x82\xac{[\"}}";
	size_t n = sizeof(ev1) - 1, k, j;
	for (k = 1; k < n; k++) {
		k8s_watch_decoder *d;
		k8s_watch_event ev;
		CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
		CHECK_INT(k8s_watch_decoder_feed(d, ev1, k), 0);
		CHECK_INT(k8s_watch_decoder_next(d, &ev), 0);
		CHECK_INT(k8s_watch_decoder_pending(d), k);
		CHECK_INT(k8s_watch_decoder_feed(d, ev1 + k, n - k), 0);
		CHECK_INT(k8s_watch_decoder_next(d, &ev), 1);
		CHECK_INT(ev.type, K8S_WATCH_ADDED);
		CHECK_INT(ev.object_len, n - 26);
		CHECK(memcmp(ev.object, ev1 + 25, n - 26) == 0);
		CHECK_INT(k8s_watch_decoder_next(d, &ev), 0);
		k8s_watch_decoder_free(d);
	}
	/* and in 1..7-byte pieces */
	for (j = 1; j < 8; j++) {
		k8s_watch_decoder *d;
		k8s_watch_event ev;
		int got = 0;
		CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
		for (k = 0; k < n; k += j) {
			CHECK_INT(k8s_watch_decoder_feed(d, ev1 + k, k + j > n ? n - k : j), 0);
			while (k8s_watch_decoder_next(d, &ev) == 1)
				got++;
		}
		CHECK_INT(got, 1);
		k8s_watch_decoder_free(d);
	}
}

TEST(with_and_without_newlines)
{
	static const char *const streams[] = {
		"{\"type\":\"ADDED\",\"object\":{}}{\"type\":\"DELETED\",\"object\":{}}",
		"{\"type\":\"ADDED\",\"object\":{}}\n{\"type\":\"DELETED\",\"object\":{}}\n",
		"\n\n{\"type\":\"ADDED\",\"object\":{}}\r\n\t {\"type\":\"DELETED\",\"object\":{}}  \n ",
		"{\n \"type\": \"ADDED\",\n \"object\": {}\n}\n{\n \"type\": \"DELETED\",\n \"object\": {}\n}",
	};
	size_t i;
	for (i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		k8s_watch_decoder *d;
		char out[256] = "";
		CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
		CHECK_INT(k8s_watch_decoder_feed(d, streams[i], strlen(streams[i])), 0);
		CHECK_INT(drain(d, out, sizeof(out)), 2);
		CHECK_STR(out, "ADDED {}\nDELETED {}\n");
		CHECK_INT(k8s_watch_decoder_pending(d), 0);
		k8s_watch_decoder_free(d);
	}
}

TEST(pointers_valid_until_next_call)
{
	k8s_watch_decoder *d;
	k8s_watch_event a, b;
	const char *s = "{\"type\":\"ADDED\",\"object\":{\"n\":1}}{\"type\":\"ADDED\",\"object\":{\"n\":2}}";
	CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, s, strlen(s)), 0);
	CHECK_INT(k8s_watch_decoder_next(d, &a), 1);
	CHECK(a.object_len == 7 && memcmp(a.object, "{\"n\":1}", 7) == 0);
	CHECK_INT(k8s_watch_decoder_next(d, &b), 1);
	CHECK(b.object_len == 7 && memcmp(b.object, "{\"n\":2}", 7) == 0);
	k8s_watch_decoder_free(d);
}

TEST(escaped_type_and_member_order)
{
	k8s_watch_decoder *d;
	k8s_watch_event ev;
	const char *s = "{\"object\":{\"type\":\"DELETED\"},\"other\":[1],\"\\u0074ype\":\"\\u0041DDED\"}";
	CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, s, strlen(s)), 0);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), 1);
	CHECK_INT(ev.type, K8S_WATCH_ADDED);
	CHECK_STR(ev.type_name, "ADDED");
	CHECK(ev.object_len == 18 && memcmp(ev.object, "{\"type\":\"DELETED\"}", 18) == 0);
	k8s_watch_decoder_free(d);
}

TEST(unknown_type_is_an_error)
{
	k8s_watch_decoder *d;
	k8s_watch_event ev;
	const char *s = "{\"type\":\"SYNC\",\"object\":{}}\n{\"object\":{}}\n{\"type\":\"added\",\"object\":{}}"
		"{\"type\":7,\"object\":{}}{\"type\":\"MODIFIED\",\"object\":{\"ok\":1}}";
	CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, s, strlen(s)), 0);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);
	CHECK_INT(k8s_error_last()->code, K8S_EDECODE);
	CHECK_STR(k8s_error_last()->reason, "DecodeError");
	CHECK_STR(k8s_error_last()->message, "unknown watch event type \"SYNC\"");
	CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);   /* no type */
	CHECK_STR(k8s_error_last()->message, "unknown watch event type \"\"");
	CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);   /* case matters */
	CHECK_STR(k8s_error_last()->message, "unknown watch event type \"added\"");
	CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);   /* not a string */
	CHECK(strstr(k8s_error_last()->message, "not a string") != NULL);
	/* a well-formed but rejected frame is dropped; the stream goes on */
	CHECK_INT(k8s_watch_decoder_next(d, &ev), 1);
	CHECK_INT(ev.type, K8S_WATCH_MODIFIED);
	k8s_watch_decoder_free(d);
}

TEST(missing_object_is_an_error)
{
	k8s_watch_decoder *d;
	k8s_watch_event ev;
	const char *s = "{\"type\":\"ADDED\"}{\"type\":\"ADDED\",\"object\":null}"
		"{\"type\":\"ADDED\",\"object\":\"x\"}{\"type\":\"ADDED\",\"objects\":{}}";
	CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, s, strlen(s)), 0);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);
	CHECK(strstr(k8s_error_last()->message, "object") != NULL);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), 0);
	k8s_watch_decoder_free(d);
}

TEST(malformed_stream_is_sticky)
{
	static const char *const bad[] = {
		"{\"type\":\"ADDED\",\"object\":{}]",
		"[{\"type\":\"ADDED\",\"object\":{}}]",
		"\"ADDED\"",
		"{\"type\":\"ADDED\",\"object\":{}} x",
		"{\"type\":\"ADDED\" \"object\":{}}",
	};
	size_t i;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k8s_watch_decoder *d;
		k8s_watch_event ev;
		int r, good = 0;
		const char *more = "{\"type\":\"ADDED\",\"object\":{}}";
		CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
		k8s_watch_decoder_feed(d, bad[i], strlen(bad[i]));
		while ((r = k8s_watch_decoder_next(d, &ev)) == 1)
			good++;
		CHECK_INT(r, K8S_EDECODE);
		CHECK_INT(good, i == 3 ? 1 : 0);
		CHECK_STR(k8s_error_last()->reason, "DecodeError");
		/* the stream cannot be re-synchronised */
		CHECK_INT(k8s_watch_decoder_feed(d, more, strlen(more)), K8S_EDECODE);
		CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);
		CHECK_INT(k8s_watch_decoder_pending(d), 0);
		k8s_watch_decoder_free(d);
	}
}

TEST(frame_over_cap)
{
	k8s_watch_decoder *d;
	k8s_watch_event ev;
	char big[200];
	const char *head = "{\"type\":\"ADDED\",\"object\":{\"s\":\"";
	size_t i;
	memset(big, 'x', sizeof(big));
	memcpy(big, head, strlen(head));

	/* incomplete frame growing past the cap: feed reports it */
	CHECK_INT(k8s_watch_decoder_new(&d, 64), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, big, 60), 0);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, big + 60, 10), K8S_EDECODE);
	CHECK_INT(k8s_error_last()->code, K8S_EDECODE);
	CHECK(strstr(k8s_error_last()->message, "64") != NULL);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);
	k8s_watch_decoder_free(d);

	/* byte by byte: fails exactly when the 65th byte arrives */
	CHECK_INT(k8s_watch_decoder_new(&d, 64), 0);
	for (i = 0; i < 64; i++)
		CHECK_INT(k8s_watch_decoder_feed(d, big + i, 1), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, big + 64, 1), K8S_EDECODE);
	k8s_watch_decoder_free(d);

	/* a complete frame over the cap in one chunk is rejected too */
	{
		char frame[128];
		int n = snprintf(frame, sizeof(frame),
			"{\"type\":\"ADDED\",\"object\":{\"s\":\"%040d\"}}", 0);
		CHECK_INT(k8s_watch_decoder_new(&d, (size_t)n - 1), 0);
		k8s_watch_decoder_feed(d, frame, (size_t)n);
		CHECK_INT(k8s_watch_decoder_next(d, &ev), K8S_EDECODE);
		k8s_watch_decoder_free(d);
		/* exactly at the cap is fine */
		CHECK_INT(k8s_watch_decoder_new(&d, (size_t)n), 0);
		CHECK_INT(k8s_watch_decoder_feed(d, frame, (size_t)n), 0);
		CHECK_INT(k8s_watch_decoder_next(d, &ev), 1);
		k8s_watch_decoder_free(d);
	}
}

TEST(cap_is_per_frame)
{
	/* many small frames in one chunk larger than the cap are fine, and
	 * leading whitespace does not count */
	k8s_watch_decoder *d;
	k8s_watch_event ev;
	const char *one = "   \n{\"type\":\"ADDED\",\"object\":{}}";
	char buf[4096] = "";
	int i, got = 0;
	for (i = 0; i < 50; i++)
		strcat(buf, one);
	CHECK_INT(k8s_watch_decoder_new(&d, 40), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, buf, strlen(buf)), 0);
	while (k8s_watch_decoder_next(d, &ev) == 1)
		got++;
	CHECK_INT(got, 50);
	CHECK_INT(k8s_watch_decoder_pending(d), 0);
	k8s_watch_decoder_free(d);
}

TEST(pending)
{
	k8s_watch_decoder *d;
	k8s_watch_event ev;
	const char *s = "{\"type\":\"ADDED\",\"object\":{}}";
	CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
	CHECK_INT(k8s_watch_decoder_pending(d), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, " \n\r\t ", 5), 0);
	CHECK_INT(k8s_watch_decoder_pending(d), 0);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, s, 10), 0);
	CHECK_INT(k8s_watch_decoder_pending(d), 10);
	CHECK_INT(k8s_watch_decoder_feed(d, s + 10, strlen(s) - 10), 0);
	CHECK_INT(k8s_watch_decoder_pending(d), strlen(s));
	CHECK_INT(k8s_watch_decoder_next(d, &ev), 1);
	CHECK_INT(k8s_watch_decoder_pending(d), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, "\n  \n", 4), 0);
	CHECK_INT(k8s_watch_decoder_next(d, &ev), 0);
	CHECK_INT(k8s_watch_decoder_pending(d), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, NULL, 0), 0);
	k8s_watch_decoder_free(d);
	k8s_watch_decoder_free(NULL);
}

static char *big_event(size_t payload, size_t *len)
{
	const char *head = "{\"type\":\"MODIFIED\",\"object\":{\"data\":\"";
	const char *tail = "\",\"n\":[1,2,3]}}\n";
	size_t h = strlen(head), t = strlen(tail), i;
	char *p = malloc(h + payload + t + 1);
	memcpy(p, head, h);
	/* braces, brackets and escaped quotes: ab{}[]\"cd ... */
	payload -= payload % 10;
	for (i = 0; i < payload; i++)
		p[h + i] = "ab{}[]\\\"cd"[i % 10];
	memcpy(p + h + payload, tail, t + 1);
	*len = h + payload + t;
	return p;
}

static int feed_in_chunks(size_t payload, size_t chunk, double *secs)
{
	k8s_watch_decoder *d;
	k8s_watch_event ev;
	size_t len, k;
	char *p = big_event(payload, &len);
	int got = 0, r;
	double t0 = now_s();
	CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
	for (k = 0; k < len; k += chunk) {
		r = k8s_watch_decoder_feed(d, p + k, k + chunk > len ? len - k : chunk);
		CHECK_INT(r, 0);
		while ((r = k8s_watch_decoder_next(d, &ev)) == 1) {
			got++;
			CHECK_INT(ev.object_len, len - 30);
			CHECK(ev.object_len > 10 && memcmp(ev.object + ev.object_len - 8, "[1,2,3]}", 8) == 0);
		}
		CHECK_INT(r, 0);
	}
	CHECK_INT(k8s_watch_decoder_pending(d), 0);
	*secs = now_s() - t0;
	k8s_watch_decoder_free(d);
	free(p);
	return got;
}

TEST(big_frame_in_small_chunks)
{
	double secs;
	/* a rescanning decoder is quadratic here: ~4096 rescans of up to 4 MiB */
	CHECK_INT(feed_in_chunks(4u << 20, 1024, &secs), 1);
	fprintf(stderr, "  4 MiB in 1 KiB chunks: %.3fs\n", secs);
	CHECK_INT(feed_in_chunks(1u << 20, 1, &secs), 1);
	fprintf(stderr, "  1 MiB in 1-byte chunks: %.3fs\n", secs);
}

TEST(default_cap_is_16_mib)
{
	k8s_watch_decoder *d;
	size_t chunk = 64 * 1024, sent = 0;
	char *p = malloc(chunk);
	const char *head = "{\"type\":\"ADDED\",\"object\":{\"s\":\"";
	int r = 0;
	memset(p, 'x', chunk);
	CHECK_INT(k8s_watch_decoder_new(&d, 0), 0);
	CHECK_INT(k8s_watch_decoder_feed(d, head, strlen(head)), 0);
	sent = strlen(head);
	while (sent <= K8S_WATCH_MAX_FRAME && (r = k8s_watch_decoder_feed(d, p, chunk)) == 0)
		sent += chunk;
	CHECK_INT(r, K8S_EDECODE);
	CHECK(sent > K8S_WATCH_MAX_FRAME - chunk);
	CHECK(strstr(k8s_error_last()->message, "16777216") != NULL);
	k8s_watch_decoder_free(d);
	free(p);
}

TEST(decoding_status_is_client_go_status)
{
	/* what client-go's StreamWatcher sends for an event it cannot decode;
	 * the cause quotes the decoder's message, escaped inside JSON strings */
	char *st = k8s_watch_decoding_status("unknown watch event type \"B\\\n\"");
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_STR(st, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		      "\"message\":\"an error on the server (\\\"unable to decode an event from the watch stream: "
		      "unknown watch event type \\\"B\\\\\\n\\\"\\\") has prevented the request from succeeding\","
		      "\"reason\":\"InternalError\",\"details\":{\"causes\":[{\"reason\":\"UnexpectedServerResponse\","
		      "\"message\":\"unable to decode an event from the watch stream: unknown watch event type "
		      "\\\"B\\\\\\n\\\"\"},{\"reason\":\"ClientWatchDecoding\",\"message\":\"unable to decode an event "
		      "from the watch stream: unknown watch event type \\\"B\\\\\\n\\\"\"}]},\"code\":500}");
	free(st);
	st = k8s_watch_decoding_status(NULL);
	CHECK(st != NULL && strstr(st, "\"message\":\"unable to decode an event from the watch stream: \"}") != NULL);
	free(st);
}

int main(void)
{
	RUN(several_events_one_chunk);
	RUN(event_fields);
	RUN(split_in_two_at_every_offset);
	RUN(byte_by_byte);
	RUN(every_split_of_a_single_event);
	RUN(with_and_without_newlines);
	RUN(pointers_valid_until_next_call);
	RUN(escaped_type_and_member_order);
	RUN(unknown_type_is_an_error);
	RUN(missing_object_is_an_error);
	RUN(malformed_stream_is_sticky);
	RUN(frame_over_cap);
	RUN(cap_is_per_frame);
	RUN(pending);
	RUN(big_frame_in_small_chunks);
	RUN(default_cap_is_16_mib);
	RUN(decoding_status_is_client_go_status);
	return TEST_SUMMARY();
}
