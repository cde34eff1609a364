/* HTTP/1.1 codec of the sans-I/O engine: request bytes, and response bytes
 * fed whole, split at every boundary and byte by byte. No network. */
#define ZLIB_CONST
#include <http_parser.h>
#include <zlib.h>
#include "test.h"
#include "h1.h"

/* ---- helpers ---- */

/* Serialize a request; returns the bytes (malloc'd) or NULL with *rc set. */
static char *req(const char *method, const char *url, const char **hdrs, size_t nh, const char *body, size_t blen,
		 const char *host_override, int no_gzip, int *rc)
{
	k8s_buf b = K8S_BUF_INIT;
	k8s_http_request r = {method, url, (char **)hdrs, nh, body, blen, 0};
	*rc = k8s__h1_request(&b, &r, host_override, no_gzip);
	if (*rc < 0) {
		k8s_buf_free(&b);
		return NULL;
	}
	return k8s_buf_detach(&b);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (; hay && (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static const char *reason(void)
{
	return k8s_error_last()->reason;
}

/* gzip src into out (appends); level 1..9. */
static void gz(k8s_buf *out, const void *src, size_t n)
{
	z_stream s;
	size_t bound;
	memset(&s, 0, sizeof(s));
	if (deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	bound = deflateBound(&s, (uLong)n);
	if (k8s_buf_grow(out, bound) < 0)
		abort();
	s.next_in = src;
	s.avail_in = (uInt)n;
	s.next_out = (Bytef *)out->ptr + out->len;
	s.avail_out = (uInt)bound;
	if (deflate(&s, Z_FINISH) != Z_STREAM_END)
		abort();
	out->len += s.total_out;
	out->ptr[out->len] = 0;
	deflateEnd(&s);
}

/* Chunked encoding of data in pieces of size step, then "0\r\n" + trailer + "\r\n". */
static void chunked(k8s_buf *out, const void *data, size_t n, size_t step, const char *ext, const char *trailer)
{
	const char *d = data;
	size_t i, k;
	for (i = 0; i < n; i += k) {
		k = n - i < step ? n - i : step;
		k8s_buf_printf(out, "%zx%s\r\n", k, ext ? ext : "");
		k8s_buf_put(out, d + i, k);
		k8s_buf_puts(out, "\r\n");
	}
	k8s_buf_printf(out, "0%s\r\n%s\r\n", ext ? ext : "", trailer ? trailer : "");
}

/* Deterministic pseudo-random bytes (incompressible). */
static void noise(k8s_buf *out, size_t n, unsigned seed)
{
	size_t i;
	k8s_buf_grow(out, n);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		out->ptr[out->len++] = (char)(seed >> 16);
	}
	out->ptr[out->len] = 0;
}

static int heads_equal(const k8s_http_head *a, const k8s_http_head *b)
{
	size_t i;
	if (a->status != b->status || a->nrh != b->nrh)
		return 0;
	for (i = 0; i < a->nrh; i++)
		if (strcmp(a->rh[i], b->rh[i]) != 0)
			return 0;
	return 1;
}

typedef struct {
	int head_request;
	long status;
	const char *body;
	size_t body_len;
	int keepalive;
	int need_eof;       /* the body ends with the connection */
} expect;

/* Feed msg in pieces ending at cuts[0..ncuts) then the rest; check the result
 * against e and (if ref) its head. Returns 1 if all is well. */
static int run_pieces(const char *msg, size_t n, const size_t *cuts, size_t ncuts, const expect *e,
		      const k8s_http_head *ref, const char *what, size_t at)
{
	k8s_h1_response *r;
	size_t i, from = 0;
	int ok = 1, rc = 0;
	if (k8s__h1_response_new(&r, e->head_request) < 0)
		return 0;
	for (i = 0; i <= ncuts && rc == 0; i++) {
		size_t to = i < ncuts ? cuts[i] : n;
		rc = k8s__h1_feed(r, msg + from, to - from);
		from = to;
	}
	if (rc == 0 && e->need_eof) {
		if (k8s__h1_done(r))
			ok = 0;
		rc = k8s__h1_eof(r);
	}
	if (rc != 0 || !k8s__h1_done(r) || !k8s__h1_headers_done(r) || k8s__h1_head(r)->status != e->status ||
	    k8s__h1_body(r)->len != e->body_len ||
	    (e->body_len && memcmp(k8s__h1_body(r)->ptr, e->body, e->body_len) != 0) ||
	    k8s__h1_keepalive(r) != e->keepalive || (ref && !heads_equal(ref, k8s__h1_head(r))))
		ok = 0;
	if (!ok)
		fprintf(stderr, "  %s at %zu: rc %d (%s: %s) done %d status %ld body %zu keepalive %d\n", what, at, rc,
			k8s_error_last()->reason, k8s_error_last()->message, k8s__h1_done(r), k8s__h1_head(r)->status,
			k8s__h1_body(r)->len, k8s__h1_keepalive(r));
	k8s__h1_response_free(r);
	return ok;
}

/* The message fed whole, split in two at every boundary, byte by byte and in
 * runs of 2..7 bytes all give the same head and body. */
static int all_splits(const char *msg, size_t n, const expect *e)
{
	k8s_h1_response *ref;
	size_t i, k, *cuts;
	int ok = 1;
	if (k8s__h1_response_new(&ref, e->head_request) < 0)
		return 0;
	if (k8s__h1_feed(ref, msg, n) < 0 || (e->need_eof && k8s__h1_eof(ref) < 0)) {
		fprintf(stderr, "  whole: %s: %s\n", k8s_error_last()->reason, k8s_error_last()->message);
		k8s__h1_response_free(ref);
		return 0;
	}
	ok &= run_pieces(msg, n, NULL, 0, e, k8s__h1_head(ref), "whole", 0);
	for (i = 0; i <= n && ok; i++)
		ok &= run_pieces(msg, n, &i, 1, e, k8s__h1_head(ref), "split", i);
	cuts = malloc((n + 1) * sizeof(*cuts));
	for (k = 1; k <= 7 && ok; k++) {
		size_t nc = 0;
		for (i = k; i < n; i += k)
			cuts[nc++] = i;
		ok &= run_pieces(msg, n, cuts, nc, e, k8s__h1_head(ref), "step", k);
	}
	free(cuts);
	k8s__h1_response_free(ref);
	return ok;
}

/* Feed all of msg; returns the first error (or 0) and leaves the response in *out. */
static int parse(const char *msg, size_t n, int head_request, k8s_h1_response **out)
{
	if (k8s__h1_response_new(out, head_request) < 0)
		abort();
	return k8s__h1_feed(*out, msg, n);
}

static int parse_s(const char *msg, k8s_h1_response **out)
{
	return parse(msg, strlen(msg), 0, out);
}

/* ---- requests ---- */

TEST(request_get_with_query)
{
	const char *h[] = {"Accept: application/json", "Authorization: Bearer abc", "User-Agent: k8s-lua/0.1"};
	int rc;
	char *s = req("GET", "https://k8s.example.com/api/v1/namespaces/default/pods?limit=5&labelSelector=app%3Dweb",
		      h, 3, NULL, 0, NULL, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(s, "GET /api/v1/namespaces/default/pods?limit=5&labelSelector=app%3Dweb HTTP/1.1\r\n"
		     "Host: k8s.example.com\r\n"
		     "Accept: application/json\r\n"
		     "Authorization: Bearer abc\r\n"
		     "User-Agent: k8s-lua/0.1\r\n"
		     "Accept-Encoding: gzip\r\n"
		     "\r\n");
	free(s);
	/* no path: "/"; query without a path; the fragment is dropped */
	s = req("GET", "https://h", NULL, 0, NULL, 0, NULL, 1, &rc);
	CHECK_STR(s, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	free(s);
	s = req("GET", "https://h?watch=1#frag", NULL, 0, NULL, 0, NULL, 1, &rc);
	CHECK_STR(s, "GET /?watch=1 HTTP/1.1\r\nHost: h\r\n\r\n");
	free(s);
}

TEST(request_post_with_body)
{
	const char *h[] = {"Content-Type: application/json"};
	const char *body = "{\"kind\":\"Pod\"}";
	int rc;
	char *s = req("POST", "http://10.0.0.1:8080/api/v1/namespaces/default/pods", h, 1, body, strlen(body), NULL,
		      0, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(s, "POST /api/v1/namespaces/default/pods HTTP/1.1\r\n"
		     "Host: 10.0.0.1:8080\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: 14\r\n"
		     "Accept-Encoding: gzip\r\n"
		     "\r\n"
		     "{\"kind\":\"Pod\"}");
	free(s);
}

TEST(request_body_bytes_are_verbatim)
{
	/* a body with NUL and CRLF is sent as is, framed by Content-Length */
	const char body[] = {'a', 0, '\r', '\n', 'b'};
	k8s_buf b = K8S_BUF_INIT;
	k8s_http_request r = {"PUT", "https://h/x", NULL, 0, body, sizeof(body), 0};
	CHECK_INT(k8s__h1_request(&b, &r, NULL, 1), 0);
	CHECK(b.len > sizeof(body) && memcmp(b.ptr + b.len - sizeof(body), body, sizeof(body)) == 0);
	CHECK_HAS(b.ptr, "Content-Length: 5\r\n\r\n");
	k8s_buf_free(&b);
}

TEST(request_patch_content_type_from_caller)
{
	const char *h[] = {"Content-Type: application/merge-patch+json", "Accept: application/json"};
	const char *body = "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}";
	int rc;
	char *s = req("PATCH", "https://h:6443/api/v1/namespaces/default/configmaps/cm", h, 2, body, strlen(body),
		      NULL, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(s, "PATCH /api/v1/namespaces/default/configmaps/cm HTTP/1.1\r\n"
		     "Host: h:6443\r\n"
		     "Content-Type: application/merge-patch+json\r\n"
		     "Accept: application/json\r\n"
		     "Content-Length: 33\r\n"
		     "Accept-Encoding: gzip\r\n"
		     "\r\n"
		     "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
	CHECK_INT(count(s, "Content-Type"), 1);
	free(s);
}

TEST(request_content_length_rules)
{
	int rc;
	const char *h[] = {"Content-Length: 999"};
	char *s;
	/* POST, PUT, PATCH without a body: Content-Length: 0 */
	s = req("POST", "https://h/x", NULL, 0, NULL, 0, NULL, 1, &rc);
	CHECK_STR(s, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
	free(s);
	s = req("PUT", "https://h/x", NULL, 0, NULL, 0, NULL, 1, &rc);
	CHECK_HAS(s, "Content-Length: 0\r\n");
	free(s);
	s = req("PATCH", "https://h/x", NULL, 0, NULL, 0, NULL, 1, &rc);
	CHECK_HAS(s, "Content-Length: 0\r\n");
	free(s);
	/* GET, DELETE without a body: none */
	s = req("GET", "https://h/x", NULL, 0, NULL, 0, NULL, 1, &rc);
	CHECK_HASNT(s, "Content-Length");
	free(s);
	s = req("DELETE", "https://h/x", NULL, 0, NULL, 0, NULL, 1, &rc);
	CHECK_HASNT(s, "Content-Length");
	free(s);
	/* DELETE with DeleteOptions */
	s = req("DELETE", "https://h/x", NULL, 0, "{}", 2, NULL, 1, &rc);
	CHECK_STR(s, "DELETE /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}");
	free(s);
	/* the caller's Content-Length is not the one that frames the body */
	s = req("POST", "https://h/x", h, 1, "abc", 3, NULL, 1, &rc);
	CHECK_STR(s, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
	free(s);
	/* a length without a body */
	s = req("POST", "https://h/x", NULL, 0, NULL, 3, NULL, 1, &rc);
	CHECK(s == NULL);
	CHECK_INT(rc, K8S_EINVALID);
}

TEST(request_host_header)
{
	static const struct {
		const char *url, *host;
	} cases[] = {
		{"https://h:6443/x", "Host: h:6443\r\n"},
		{"https://h:443/x", "Host: h\r\n"},
		{"http://h:80/x", "Host: h\r\n"},
		{"http://h/x", "Host: h\r\n"},
		{"https://h:80/x", "Host: h:80\r\n"},
		{"http://h:443/x", "Host: h:443\r\n"},
		{"HTTPS://Kube.Example:443/x", "Host: Kube.Example\r\n"},
		{"https://[::1]:6443/x", "Host: [::1]:6443\r\n"},
		{"https://[fd00::10]/x", "Host: [fd00::10]\r\n"},
		{"http://[2001:db8::1]:80/x", "Host: [2001:db8::1]\r\n"},
		{"https://h:/x", "Host: h\r\n"},
	};
	size_t i;
	int rc;
	char *s;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = req("GET", cases[i].url, NULL, 0, NULL, 0, NULL, 1, &rc);
		CHECK_INT(rc, 0);
		CHECK_HAS(s, cases[i].host);
		CHECK_INT(count(s, "Host:"), 1);
		free(s);
	}
	/* tls-server-name: the override is the Host value, verbatim */
	s = req("GET", "https://10.96.0.1:6443/version", NULL, 0, NULL, 0, "kubernetes.default.svc", 1, &rc);
	CHECK_STR(s, "GET /version HTTP/1.1\r\nHost: kubernetes.default.svc\r\n\r\n");
	free(s);
	s = req("GET", "https://[::1]:6443/version", NULL, 0, NULL, 0, "api.example:6443", 1, &rc);
	CHECK_HAS(s, "\r\nHost: api.example:6443\r\n");
	free(s);
	/* a Host among the caller's headers replaces ours */
	{
		const char *h[] = {"host: other.example"};
		s = req("GET", "https://h/x", h, 1, NULL, 0, NULL, 1, &rc);
		CHECK_STR(s, "GET /x HTTP/1.1\r\nhost: other.example\r\n\r\n");
		free(s);
	}
}

TEST(request_accept_encoding)
{
	const char *h[] = {"accept-encoding: identity"};
	int rc;
	char *s = req("GET", "https://h/x", NULL, 0, NULL, 0, NULL, 0, &rc);
	CHECK_INT(count(s, "Accept-Encoding: gzip\r\n"), 1);
	free(s);
	s = req("GET", "https://h/x", NULL, 0, NULL, 0, NULL, 1, &rc);
	CHECK_HASNT(s, "Accept-Encoding");
	free(s);
	s = req("GET", "https://h/x", h, 1, NULL, 0, NULL, 0, &rc);
	CHECK_STR(s, "GET /x HTTP/1.1\r\nHost: h\r\naccept-encoding: identity\r\n\r\n");
	free(s);
}

TEST(request_rejects_injection)
{
	static const char *bad[] = {
		"X-A: b\r\nEvil: 1",
		"X-A: b\nEvil: 1",
		"X-A: b\rEvil: 1",
		"X-A: b\001",
		"Bad Name: x",
		"NoColon",
		": empty-name",
		"X\r\nY: z",
		"Transfer-Encoding: chunked",
	};
	const char *secret[] = {"Authorization: Bearer s3cr3t-token\r\nX-Injected: 1"};
	k8s_buf b = K8S_BUF_INIT;
	size_t i;
	k8s_buf_puts(&b, "previous bytes");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k8s_http_request r = {"GET", "https://h/x", (char **)&bad[i], 1, NULL, 0, 0};
		CHECK_INT(k8s__h1_request(&b, &r, NULL, 0), K8S_EINVALID);
		CHECK_STR(reason(), "Invalid");
		CHECK_STR(b.ptr, "previous bytes");
	}
	{
		k8s_http_request r = {"GET", "https://h/x", (char **)secret, 1, NULL, 0, 0};
		CHECK_INT(k8s__h1_request(&b, &r, NULL, 0), K8S_EINVALID);
		CHECK_HAS(k8s_error_last()->message, "Authorization");
		CHECK_HASNT(k8s_error_last()->message, "s3cr3t");
		CHECK_HASNT(k8s_error_last()->message, "Injected");
		CHECK_STR(b.ptr, "previous bytes");
	}
	{
		/* method, Host override and URL are checked too */
		k8s_http_request r1 = {"GE T", "https://h/x", NULL, 0, NULL, 0, 0};
		k8s_http_request r2 = {"GET", "https://h/x y", NULL, 0, NULL, 0, 0};
		k8s_http_request r3 = {"GET", "https://h/x\r\nEvil: 1", NULL, 0, NULL, 0, 0};
		k8s_http_request r4 = {"GET", "https://h/x", NULL, 0, NULL, 0, 0};
		k8s_http_request r5 = {"GET", "https://h\r\nEvil: 1/x", NULL, 0, NULL, 0, 0};
		k8s_http_request r6 = {NULL, "https://h/x", NULL, 0, NULL, 0, 0};
		CHECK_INT(k8s__h1_request(&b, &r1, NULL, 0), K8S_EINVALID);
		CHECK_INT(k8s__h1_request(&b, &r2, NULL, 0), K8S_EINVALID);
		CHECK_INT(k8s__h1_request(&b, &r3, NULL, 0), K8S_EINVALID);
		CHECK_INT(k8s__h1_request(&b, &r4, "h\r\nEvil: 1", 0), K8S_EINVALID);
		CHECK_INT(k8s__h1_request(&b, &r4, "", 0), K8S_EINVALID);
		CHECK_INT(k8s__h1_request(&b, &r5, NULL, 0), K8S_EINVALID);
		CHECK_INT(k8s__h1_request(&b, &r6, NULL, 0), K8S_EINVALID);
		CHECK_STR(b.ptr, "previous bytes");
		/* a tab in a value is fine; the bytes are appended */
		{
			const char *h[] = {"X-Tab: a\tb"};
			k8s_http_request r7 = {"GET", "https://h/x", (char **)h, 1, NULL, 0, 0};
			CHECK_INT(k8s__h1_request(&b, &r7, NULL, 1), 0);
			CHECK_STR(b.ptr, "previous bytesGET /x HTTP/1.1\r\nHost: h\r\nX-Tab: a\tb\r\n\r\n");
		}
	}
	k8s_buf_free(&b);
}

TEST(split_url)
{
	static const struct {
		const char *url, *scheme, *host;
		int port;
		const char *target;
	} ok[] = {
		{"https://k8s.example:6443/api/v1/pods?limit=1", "https", "k8s.example", 6443, "/api/v1/pods?limit=1"},
		{"https://k8s.example/api", "https", "k8s.example", 443, "/api"},
		{"http://k8s.example/api", "http", "k8s.example", 80, "/api"},
		{"HTTP://K8S.example", "http", "K8S.example", 80, "/"},
		{"https://h?x=1", "https", "h", 443, "/?x=1"},
		{"https://h/p#frag", "https", "h", 443, "/p"},
		{"https://h#frag", "https", "h", 443, "/"},
		{"https://[::1]:6443/x", "https", "::1", 6443, "/x"},
		{"https://[fe80::1%25eth0]/x", "https", "fe80::1%25eth0", 443, "/x"},
		{"http://[2001:db8::7]", "http", "2001:db8::7", 80, "/"},
		{"https://127.0.0.1:1/", "https", "127.0.0.1", 1, "/"},
		{"https://h:65535", "https", "h", 65535, "/"},
		{"https://h:", "https", "h", 443, "/"},
	};
	static const struct {
		const char *url, *part;
	} bad[] = {
		{"k8s.example/api", "scheme"},
		{"ftp://h/x", "scheme"},
		{"://h/x", "scheme"},
		{"https:///x", "host"},
		{"https://:6443/x", "host"},
		{"https://h:0/x", "port"},
		{"https://h:65536/x", "port"},
		{"https://h:123456/x", "port"},
		{"https://h:6a/x", "port"},
		{"https://h:-1/x", "port"},
		{"https://user:pw@h/x", "user"},
		{"https://::1/x", "IPv6"},
		{"https://[::1/x", "IPv6"},
		{"https://[::1]x/x", "IPv6"},
		{"https://[]/x", "host"},
		{"https://h h/x", "host"},
		{"https://h/a b", "path"},
		{"https://h/a\x80", "path"},
		{"https://h/a?b\tc", "path"},
	};
	size_t i;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *scheme, *host, *target;
		int port;
		CHECK_INT(k8s__h1_split_url(ok[i].url, &scheme, &host, &port, &target), 0);
		CHECK_STR(scheme, ok[i].scheme);
		CHECK_STR(host, ok[i].host);
		CHECK_INT(port, ok[i].port);
		CHECK_STR(target, ok[i].target);
		free(scheme);
		free(host);
		free(target);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *scheme = (char *)"x", *host = (char *)"x", *target = (char *)"x";
		int port = 7;
		CHECK_INT(k8s__h1_split_url(bad[i].url, &scheme, &host, &port, &target), K8S_EINVALID);
		CHECK_HAS(k8s_error_last()->message, bad[i].part);
		CHECK(scheme == NULL && host == NULL && target == NULL && port == 0);
	}
	/* the URL (which could hold a password) is not echoed */
	k8s__h1_split_url("https://user:hunter2@h/x", NULL, NULL, NULL, NULL);
	CHECK_HASNT(k8s_error_last()->message, "hunter2");
	/* outputs are optional */
	{
		int port = 0;
		CHECK_INT(k8s__h1_split_url("https://h:8443/x", NULL, NULL, &port, NULL), 0);
		CHECK_INT(port, 8443);
	}
	CHECK_INT(k8s__h1_split_url(NULL, NULL, NULL, NULL, NULL), K8S_EINVALID);
}

/* ---- responses ---- */

TEST(content_length_every_split)
{
	const char *msg = "HTTP/1.1 200 OK\r\n"
			  "Content-Type: application/json\r\n"
			  "Audit-Id: 5b7c\r\n"
			  "X-Empty:\r\n"
			  "X-Spaces:   padded value  \r\n"
			  "Content-Length: 29\r\n"
			  "\r\n"
			  "{\"kind\":\"Pod\",\"apiVersion\":1}";
	expect e = {0, 200, "{\"kind\":\"Pod\",\"apiVersion\":1}", 29, 1, 0};
	k8s_h1_response *r;
	CHECK(all_splits(msg, strlen(msg), &e));
	CHECK_INT(parse_s(msg, &r), 0);
	CHECK_INT(k8s__h1_head(r)->status, 200);
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "content-type"), "application/json");
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "Audit-Id"), "5b7c");
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "X-Empty"), "");
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "X-Spaces"), "padded value");
	CHECK_STR(k8s__h1_head(r)->rh[0], "Content-Type"); /* names as sent */
	CHECK_INT(k8s__h1_head(r)->nrh, 10);
	/* the caller may consume the body */
	k8s_buf_consume(k8s__h1_body(r), 8);
	CHECK_STR(k8s__h1_body(r)->ptr, "\"Pod\",\"apiVersion\":1}");
	k8s__h1_response_free(r);
}

TEST(content_length_body_after_headers)
{
	/* headers first, then the body in two pieces: done only at the end */
	k8s_h1_response *r;
	CHECK_INT(parse_s("HTTP/1.1 404 Not Found\r\nContent-Length: 6\r\n\r\n", &r), 0);
	CHECK(k8s__h1_headers_done(r));
	CHECK_INT(k8s__h1_head(r)->status, 404);
	CHECK(!k8s__h1_done(r));
	CHECK(!k8s__h1_keepalive(r));
	CHECK_INT(k8s__h1_feed(r, "abc", 3), 0);
	CHECK(!k8s__h1_done(r));
	CHECK_STR(k8s__h1_body(r)->ptr, "abc");
	CHECK_INT(k8s__h1_feed(r, "def", 3), 0);
	CHECK(k8s__h1_done(r));
	CHECK(k8s__h1_keepalive(r));
	CHECK_STR(k8s__h1_body(r)->ptr, "abcdef");
	CHECK_INT(k8s__h1_eof(r), 0); /* closed after a complete response: fine */
	CHECK(k8s__h1_done(r));
	CHECK(!k8s__h1_keepalive(r));
	k8s__h1_response_free(r);
}

TEST(chunked_every_split)
{
	const char *msg = "HTTP/1.1 200 OK\r\n"
			  "Transfer-Encoding: chunked\r\n"
			  "Content-Type: text/plain\r\n"
			  "\r\n"
			  "5\r\nhello\r\n"
			  "1;ext=value\r\n,\r\n"
			  "A; name=\"quoted\"\r\n world 123\r\n"
			  "00010\r\n0123456789abcdef\r\n"
			  "0\r\n"
			  "X-Trailer: t1\r\n"
			  "Checksum: abc\r\n"
			  "\r\n";
	const char *body = "hello, world 1230123456789abcdef";
	expect e = {0, 200, body, strlen(body), 1, 0};
	k8s_h1_response *r;
	CHECK(all_splits(msg, strlen(msg), &e));
	CHECK_INT(parse_s(msg, &r), 0);
	CHECK_STR(k8s__h1_body(r)->ptr, body);
	CHECK(k8s__http_head_get(k8s__h1_head(r), "X-Trailer") == NULL); /* trailers are dropped */
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "Transfer-Encoding"), "chunked");
	k8s__h1_response_free(r);
}

TEST(chunked_watch_stream)
{
	static const char *events[] = {
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\"}}\n",
		"{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\"}}\n",
		"{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\"}}\n",
	};
	k8s_h1_response *r;
	k8s_buf chunk = K8S_BUF_INIT;
	size_t i, k;
	CHECK_INT(parse_s("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
			  &r), 0);
	CHECK(k8s__h1_headers_done(r));
	CHECK_INT(k8s__h1_body(r)->len, 0);
	for (i = 0; i < 3; i++) {
		chunk.len = 0;
		k8s_buf_printf(&chunk, "%zx\r\n%s\r\n", strlen(events[i]), events[i]);
		/* half a chunk: its first bytes are already there */
		k = chunk.len / 2;
		CHECK_INT(k8s__h1_feed(r, chunk.ptr, k), 0);
		CHECK(k8s__h1_body(r)->len > 0 && k8s__h1_body(r)->len < strlen(events[i]));
		CHECK_INT(k8s__h1_feed(r, chunk.ptr + k, chunk.len - k), 0);
		CHECK_STR(k8s__h1_body(r)->ptr, events[i]);
		CHECK(!k8s__h1_done(r));
		k8s_buf_consume(k8s__h1_body(r), k8s__h1_body(r)->len);
	}
	CHECK_INT(k8s__h1_feed(r, "0\r\n\r\n", 5), 0);
	CHECK(k8s__h1_done(r));
	CHECK_INT(k8s__h1_body(r)->len, 0);
	CHECK(k8s__h1_keepalive(r));
	k8s__h1_response_free(r);
	k8s_buf_free(&chunk);
}

TEST(gzip_content_length_every_split)
{
	const char *text = "{\"kind\":\"PodList\",\"items\":"
			   "[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":\"b\"}}]}";
	k8s_buf z = K8S_BUF_INIT, msg = K8S_BUF_INIT;
	expect e = {0, 200, text, strlen(text), 1, 0};
	k8s_h1_response *r;
	gz(&z, text, strlen(text));
	k8s_buf_printf(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", z.len);
	k8s_buf_put(&msg, z.ptr, z.len);
	CHECK(all_splits(msg.ptr, msg.len, &e));
	/* the headers are as sent */
	CHECK_INT(parse(msg.ptr, msg.len, 0, &r), 0);
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "Content-Encoding"), "gzip");
	k8s__h1_response_free(r);
	k8s_buf_free(&z);
	k8s_buf_free(&msg);
}

TEST(gzip_chunked_every_split)
{
	const char *text = "line one\nline two\nline two\nline two\nline three, a longer one\n";
	k8s_buf z = K8S_BUF_INIT, msg = K8S_BUF_INIT;
	expect e = {0, 200, text, strlen(text), 1, 0};
	gz(&z, text, strlen(text));
	k8s_buf_puts(&msg, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: GZIP\r\n\r\n");
	chunked(&msg, z.ptr, z.len, 7, NULL, NULL);
	CHECK(all_splits(msg.ptr, msg.len, &e));
	k8s_buf_free(&z);
	k8s_buf_free(&msg);
}

TEST(gzip_large_streamed)
{
	/* 1 MiB of text (high ratio) and 300 KiB of noise, fed in odd pieces while
	 * the caller consumes the body */
	k8s_buf text = K8S_BUF_INIT, z = K8S_BUF_INIT, msg = K8S_BUF_INIT, got = K8S_BUF_INIT;
	k8s_h1_response *r;
	size_t i, k;
	int round;
	for (round = 0; round < 2; round++) {
		text.len = z.len = msg.len = got.len = 0;
		if (round == 0)
			while (text.len < 1 << 20)
				k8s_buf_printf(&text, "{\"type\":\"ADDED\",\"n\":%zu}\n", text.len);
		else
			noise(&text, 300 * 1024, 42);
		gz(&z, text.ptr, text.len);
		k8s_buf_puts(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
		chunked(&msg, z.ptr, z.len, 4000, NULL, NULL);
		REQUIRE(k8s__h1_response_new(&r, 0) == 0);
		for (i = 0; i < msg.len; i += k) {
			k = msg.len - i < 1237 ? msg.len - i : 1237;
			CHECK_INT(k8s__h1_feed(r, msg.ptr + i, k), 0);
			k8s_buf_put(&got, k8s__h1_body(r)->ptr, k8s__h1_body(r)->len);
			k8s_buf_consume(k8s__h1_body(r), k8s__h1_body(r)->len);
		}
		CHECK(k8s__h1_done(r));
		CHECK_INT(got.len, text.len);
		CHECK(got.len == text.len && memcmp(got.ptr, text.ptr, text.len) == 0);
		k8s__h1_response_free(r);
		/* the same, whole */
		CHECK_INT(parse(msg.ptr, msg.len, 0, &r), 0);
		CHECK(k8s__h1_body(r)->len == text.len && memcmp(k8s__h1_body(r)->ptr, text.ptr, text.len) == 0);
		k8s__h1_response_free(r);
	}
	k8s_buf_free(&text);
	k8s_buf_free(&z);
	k8s_buf_free(&msg);
	k8s_buf_free(&got);
}

TEST(gzip_multi_member_and_empty)
{
	k8s_buf z = K8S_BUF_INIT, msg = K8S_BUF_INIT;
	expect e = {0, 200, "first,second", 12, 1, 0};
	k8s_h1_response *r;
	gz(&z, "first,", 6);
	gz(&z, "second", 6);
	k8s_buf_printf(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", z.len);
	k8s_buf_put(&msg, z.ptr, z.len);
	CHECK(all_splits(msg.ptr, msg.len, &e));
	/* an empty body with Content-Encoding: gzip is an empty body */
	CHECK_INT(parse_s("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n", &r), 0);
	CHECK(k8s__h1_done(r));
	CHECK_INT(k8s__h1_body(r)->len, 0);
	k8s__h1_response_free(r);
	k8s_buf_free(&z);
	k8s_buf_free(&msg);
}

TEST(continue_then_ok)
{
	const char *msg = "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
			  "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
			  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nok";
	expect e = {0, 200, "ok", 2, 1, 0};
	k8s_h1_response *r;
	CHECK(all_splits(msg, strlen(msg), &e));
	CHECK_INT(parse_s(msg, &r), 0);
	CHECK_INT(k8s__h1_head(r)->nrh, 4); /* nothing from the interim heads */
	CHECK(k8s__http_head_get(k8s__h1_head(r), "X-Interim") == NULL);
	CHECK(k8s__http_head_get(k8s__h1_head(r), "Link") == NULL);
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "X-Final"), "yes");
	k8s__h1_response_free(r);
	/* after the 100 alone: no final headers yet */
	CHECK_INT(parse_s("HTTP/1.1 100 Continue\r\n\r\n", &r), 0);
	CHECK(!k8s__h1_headers_done(r));
	CHECK_INT(k8s__h1_head(r)->status, 0);
	CHECK(!k8s__h1_done(r));
	k8s__h1_response_free(r);
}

TEST(no_body_statuses)
{
	/* 204, and 304 with a Content-Length (the size it would have had) */
	expect e204 = {0, 204, "", 0, 1, 0}, e304 = {0, 304, "", 0, 1, 0};
	const char *m204 = "HTTP/1.1 204 No Content\r\nAudit-Id: x\r\n\r\n";
	const char *m304 = "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\nETag: \"1\"\r\n\r\n";
	k8s_h1_response *r;
	CHECK(all_splits(m204, strlen(m204), &e204));
	CHECK(all_splits(m304, strlen(m304), &e304));
	CHECK_INT(parse_s(m304, &r), 0);
	CHECK(k8s__h1_done(r));
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "ETag"), "\"1\"");
	/* and no more bytes belong to it */
	CHECK_INT(k8s__h1_feed(r, "x", 1), K8S_ETRANSPORT);
	CHECK_STR(reason(), "ProtocolError");
	k8s__h1_response_free(r);
}

TEST(head_request)
{
	const char *m1 = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: application/json\r\n\r\n";
	const char *m2 = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n";
	expect e = {1, 200, "", 0, 1, 0};
	k8s_h1_response *r;
	CHECK(all_splits(m1, strlen(m1), &e));
	CHECK(all_splits(m2, strlen(m2), &e));
	CHECK_INT(parse(m1, strlen(m1), 1, &r), 0);
	CHECK(k8s__h1_done(r));
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "Content-Length"), "1234");
	k8s__h1_response_free(r);
	/* the same bytes for a GET: the body is awaited */
	CHECK_INT(parse(m1, strlen(m1), 0, &r), 0);
	CHECK(k8s__h1_headers_done(r));
	CHECK(!k8s__h1_done(r));
	k8s__h1_response_free(r);
}

TEST(read_until_close)
{
	const char *m1 = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until the close";
	const char *m2 = "HTTP/1.0 200 OK\r\n\r\nold";
	expect e1 = {0, 200, "all of this until the close", 27, 0, 1};
	expect e2 = {0, 200, "old", 3, 0, 1};
	k8s_buf z = K8S_BUF_INIT, msg = K8S_BUF_INIT;
	k8s_h1_response *r;
	CHECK(all_splits(m1, strlen(m1), &e1));
	CHECK(all_splits(m2, strlen(m2), &e2));
	CHECK_INT(parse_s(m1, &r), 0);
	CHECK(!k8s__h1_done(r));
	CHECK_INT(k8s__h1_eof(r), 0);
	CHECK(k8s__h1_done(r));
	CHECK(!k8s__h1_keepalive(r));
	CHECK_INT(k8s__h1_eof(r), 0); /* again: still fine */
	CHECK_INT(k8s__h1_feed(r, "more", 4), K8S_EINVALID); /* the driver's bug */
	k8s__h1_response_free(r);
	/* gzip until close: complete, then truncated */
	gz(&z, "compressed until close", 22);
	k8s_buf_puts(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n");
	k8s_buf_put(&msg, z.ptr, z.len);
	{
		expect e3 = {0, 200, "compressed until close", 22, 0, 1};
		CHECK(all_splits(msg.ptr, msg.len, &e3));
	}
	CHECK_INT(parse(msg.ptr, msg.len - 3, 0, &r), 0);
	CHECK_INT(k8s__h1_eof(r), K8S_EOF);
	CHECK_STR(reason(), "UnexpectedEOF");
	CHECK(!k8s__h1_done(r));
	k8s__h1_response_free(r);
	k8s_buf_free(&z);
	k8s_buf_free(&msg);
}

TEST(truncated_content_length)
{
	const char *msg = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345";
	k8s_h1_response *r;
	CHECK_INT(parse_s(msg, &r), 0);
	CHECK_INT(k8s__h1_eof(r), K8S_EOF);
	CHECK_STR(reason(), "UnexpectedEOF");
	CHECK(!k8s__h1_done(r));
	CHECK(!k8s__h1_keepalive(r));
	/* the error sticks */
	k8s_error_clear();
	CHECK_INT(k8s__h1_eof(r), K8S_EOF);
	CHECK_STR(reason(), "UnexpectedEOF");
	CHECK_INT(k8s__h1_feed(r, "67890", 5), K8S_EOF);
	CHECK(!k8s__h1_done(r));
	k8s__h1_response_free(r);
}

TEST(truncated_chunked)
{
	static const char *cuts[] = {
		/* before the terminating 0-chunk */
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
		/* inside a chunk, inside a size, after the 0-chunk but before its CRLF, in a trailer */
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	size_t i;
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		k8s_h1_response *r;
		CHECK_INT(parse_s(cuts[i], &r), 0);
		CHECK(!k8s__h1_done(r));
		CHECK_INT(k8s__h1_eof(r), K8S_EOF);
		CHECK_STR(reason(), "UnexpectedEOF");
		CHECK(!k8s__h1_done(r));
		k8s__h1_response_free(r);
	}
}

TEST(eof_before_status_line)
{
	static const char *reset[] = {"", "\r\n", "HTTP/1.1 100 Continue\r\n\r\n"};
	static const char *partial[] = {"H", "HTTP/1.1 20", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Le"};
	size_t i;
	for (i = 0; i < sizeof(reset) / sizeof(reset[0]); i++) {
		k8s_h1_response *r;
		CHECK_INT(parse_s(reset[i], &r), 0);
		CHECK_INT(k8s__h1_eof(r), K8S_ETRANSPORT);
		CHECK_STR(reason(), "ConnectionReset");
		CHECK(!k8s__h1_done(r));
		k8s__h1_response_free(r);
	}
	/* the server had started answering */
	for (i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		k8s_h1_response *r;
		CHECK_INT(parse_s(partial[i], &r), 0);
		CHECK_INT(k8s__h1_eof(r), K8S_EOF);
		CHECK_STR(reason(), "UnexpectedEOF");
		k8s__h1_response_free(r);
	}
}

TEST(retry_after_and_warnings)
{
	const char *m429 = "HTTP/1.1 429 Too Many Requests\r\n"
			   "Retry-After: 3\r\n"
			   "Content-Type: application/json\r\n"
			   "Content-Length: 2\r\n\r\n{}";
	const char *mw = "HTTP/1.1 200 OK\r\n"
			 "Warning: 299 - \"first deprecated\"\r\n"
			 "Content-Length: 0\r\n"
			 "warning: 299 - \"second\"\r\n"
			 "\r\n";
	k8s_h1_response *r;
	CHECK_INT(parse_s(m429, &r), 0);
	CHECK(k8s__h1_done(r));
	CHECK_INT(k8s__h1_head(r)->status, 429);
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "Retry-After"), "3");
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "retry-after"), "3");
	CHECK_STR(k8s__h1_body(r)->ptr, "{}");
	k8s__h1_response_free(r);
	CHECK_INT(parse_s(mw, &r), 0);
	CHECK_STR(k8s__http_head_get_n(k8s__h1_head(r), "Warning", 0), "299 - \"first deprecated\"");
	CHECK_STR(k8s__http_head_get_n(k8s__h1_head(r), "Warning", 1), "299 - \"second\"");
	CHECK(k8s__http_head_get_n(k8s__h1_head(r), "Warning", 2) == NULL);
	CHECK_STR(k8s__http_head_get(k8s__h1_head(r), "Warning"), "299 - \"second\"");
	k8s__h1_response_free(r);
}

TEST(keepalive)
{
	static const struct {
		const char *msg;
		int keepalive;
	} cases[] = {
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 0},
		{"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n", 0},
		{"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", 0},
		{"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 1},
		{"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0},
		{"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 1},
		{"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", 1},
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k8s_h1_response *r;
		CHECK_INT(parse_s(cases[i].msg, &r), 0);
		CHECK(k8s__h1_done(r));
		if (k8s__h1_keepalive(r) != cases[i].keepalive)
			fprintf(stderr, "  keepalive case %zu\n", i);
		CHECK_INT(k8s__h1_keepalive(r), cases[i].keepalive);
		k8s__h1_response_free(r);
	}
}

TEST(protocol_errors)
{
	static const char *bad[] = {
		"GARBAGE\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS record */
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/9.9.9 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n", /* bytes after the end */
		"HTTP/1.1 204 No Content\r\n\r\nbody",
		"HTTP/1.1 2 204 No Content\r\n\r\n", /* a status under 100 (fuzz/regress/h1_response) */
		"HTTP/1.1 0 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 099 OK\r\n\r\n",
	};
	size_t i;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k8s_h1_response *r;
		int rc = parse_s(bad[i], &r);
		if (rc != K8S_ETRANSPORT)
			fprintf(stderr, "  protocol error case %zu\n", i);
		CHECK_INT(rc, K8S_ETRANSPORT);
		CHECK_STR(reason(), "ProtocolError");
		CHECK(!k8s__h1_done(r));
		CHECK(!k8s__h1_keepalive(r));
		/* sticky */
		CHECK_INT(k8s__h1_feed(r, "\r\n", 2), K8S_ETRANSPORT);
		CHECK_INT(k8s__h1_eof(r), K8S_ETRANSPORT);
		CHECK_STR(reason(), "ProtocolError");
		CHECK(!k8s__h1_done(r));
		k8s__h1_response_free(r);
	}
	/* the message is http-parser's description */
	{
		k8s_h1_response *r;
		CHECK_INT(parse_s("GARBAGE", &r), K8S_ETRANSPORT);
		CHECK_HAS(k8s_error_last()->message, http_errno_description(HPE_INVALID_CONSTANT));
		k8s__h1_response_free(r);
	}
	/* bytes after a complete response, fed later */
	{
		k8s_h1_response *r;
		CHECK_INT(parse_s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", &r), 0);
		CHECK(k8s__h1_done(r));
		CHECK_INT(k8s__h1_feed(r, "", 0), 0);
		CHECK_INT(k8s__h1_feed(r, "\r\n", 2), K8S_ETRANSPORT);
		CHECK_STR(reason(), "ProtocolError");
		k8s__h1_response_free(r);
	}
}

TEST(gzip_errors)
{
	const char *text = "some text that will be compressed, some text that will be compressed";
	k8s_buf z = K8S_BUF_INIT, msg = K8S_BUF_INIT;
	k8s_h1_response *r;
	size_t i;
	/* not gzip at all */
	CHECK_INT(parse_s("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!", &r),
		  K8S_EDECODE);
	CHECK_STR(reason(), "DecodeError");
	CHECK(!k8s__h1_done(r));
	CHECK_INT(k8s__h1_eof(r), K8S_EDECODE);
	k8s__h1_response_free(r);
	/* a corrupt byte anywhere after the gzip header: never a success; in the
	 * trailer (CRC-32, length) a DecodeError. (A corrupt deflate byte may also
	 * make the stream look longer than it is: then it is truncated.) */
	gz(&z, text, strlen(text));
	for (i = 10; i < z.len; i++) {
		int rc;
		msg.len = 0;
		k8s_buf_printf(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", z.len);
		k8s_buf_put(&msg, z.ptr, z.len);
		msg.ptr[msg.len - z.len + i] ^= 0x55;
		rc = parse(msg.ptr, msg.len, 0, &r);
		if (rc != K8S_EDECODE && (rc != K8S_EOF || i >= z.len - 8))
			fprintf(stderr, "  corrupt byte %zu: rc %d\n", i, rc);
		CHECK(rc == K8S_EDECODE || (rc == K8S_EOF && i < z.len - 8));
		CHECK(!k8s__h1_done(r));
		k8s__h1_response_free(r);
	}
	/* trailing garbage after the gzip stream */
	msg.len = 0;
	k8s_buf_printf(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", z.len + 4);
	k8s_buf_put(&msg, z.ptr, z.len);
	k8s_buf_puts(&msg, "junk");
	CHECK_INT(parse(msg.ptr, msg.len, 0, &r), K8S_EDECODE);
	k8s__h1_response_free(r);
	/* a complete HTTP message holding a truncated gzip stream */
	for (i = 1; i < z.len; i += 5) {
		msg.len = 0;
		k8s_buf_printf(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", i);
		k8s_buf_put(&msg, z.ptr, i);
		CHECK_INT(parse(msg.ptr, msg.len, 0, &r), K8S_EOF);
		CHECK_STR(reason(), "UnexpectedEOF");
		CHECK(!k8s__h1_done(r));
		k8s__h1_response_free(r);
	}
	k8s_buf_free(&z);
	k8s_buf_free(&msg);
}

/* A response whose header block (status line to blank line) is n bytes. */
static void head_of_size(k8s_buf *b, size_t n)
{
	const char *start = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: ";
	size_t fixed = strlen(start) + 4, i;
	b->len = 0;
	k8s_buf_puts(b, start);
	for (i = fixed; i < n; i++)
		k8s_buf_put(b, "a", 1);
	k8s_buf_puts(b, "\r\n\r\nok");
}

TEST(headers_too_large)
{
	k8s_buf b = K8S_BUF_INIT;
	k8s_h1_response *r;
	size_t i;
	/* exactly the limit: fine, whole and byte by byte */
	head_of_size(&b, K8S_H1_MAX_HEADER);
	CHECK_INT(b.len, K8S_H1_MAX_HEADER + 2);
	CHECK_INT(parse(b.ptr, b.len, 0, &r), 0);
	CHECK(k8s__h1_done(r));
	CHECK_STR(k8s__h1_body(r)->ptr, "ok");
	k8s__h1_response_free(r);
	REQUIRE(k8s__h1_response_new(&r, 0) == 0);
	for (i = 0; i < b.len; i++)
		if (k8s__h1_feed(r, b.ptr + i, 1) < 0)
			break;
	CHECK_INT(i, b.len);
	CHECK(k8s__h1_done(r));
	k8s__h1_response_free(r);
	/* one byte over */
	head_of_size(&b, K8S_H1_MAX_HEADER + 1);
	CHECK_INT(parse(b.ptr, b.len, 0, &r), K8S_ETRANSPORT);
	CHECK_STR(reason(), "ProtocolError");
	CHECK_HAS(k8s_error_last()->message, "headers too large");
	k8s__h1_response_free(r);
	/* far over, in pieces: fails once the limit is passed, before the end */
	head_of_size(&b, 200000);
	REQUIRE(k8s__h1_response_new(&r, 0) == 0);
	for (i = 0; i < b.len; i += 1000)
		if (k8s__h1_feed(r, b.ptr + i, b.len - i < 1000 ? b.len - i : 1000) < 0)
			break;
	CHECK(i >= K8S_H1_MAX_HEADER - 1000 && i <= K8S_H1_MAX_HEADER);
	CHECK_HAS(k8s_error_last()->message, "headers too large");
	k8s__h1_response_free(r);
	/* many small headers */
	b.len = 0;
	k8s_buf_puts(&b, "HTTP/1.1 200 OK\r\n");
	for (i = 0; b.len < 70000; i++)
		k8s_buf_printf(&b, "X-H%zu: v\r\n", i);
	k8s_buf_puts(&b, "\r\n");
	CHECK_INT(parse(b.ptr, b.len, 0, &r), K8S_ETRANSPORT);
	CHECK_HAS(k8s_error_last()->message, "headers too large");
	k8s__h1_response_free(r);
	/* the limit is per header block: a 100 Continue does not count */
	b.len = 0;
	k8s_buf_puts(&b, "HTTP/1.1 100 Continue\r\nX-Pad: ");
	for (i = 0; i < 60000; i++)
		k8s_buf_put(&b, "a", 1);
	k8s_buf_puts(&b, "\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ");
	for (i = 0; i < 60000; i++)
		k8s_buf_put(&b, "b", 1);
	k8s_buf_puts(&b, "\r\n\r\n");
	CHECK_INT(parse(b.ptr, b.len, 0, &r), 0);
	CHECK(k8s__h1_done(r));
	k8s__h1_response_free(r);
	k8s_buf_free(&b);
}

TEST(large_body_no_limit)
{
	k8s_buf b = K8S_BUF_INIT, body = K8S_BUF_INIT;
	k8s_h1_response *r;
	size_t i, k, total = 0;
	noise(&body, 4 << 20, 7);
	k8s_buf_printf(&b, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", body.len);
	k8s_buf_put(&b, body.ptr, body.len);
	REQUIRE(k8s__h1_response_new(&r, 0) == 0);
	for (i = 0; i < b.len; i += k) {
		k = b.len - i < 65536 ? b.len - i : 65536;
		CHECK_INT(k8s__h1_feed(r, b.ptr + i, k), 0);
		CHECK(memcmp(k8s__h1_body(r)->ptr, body.ptr + total, k8s__h1_body(r)->len) == 0);
		total += k8s__h1_body(r)->len;
		k8s_buf_consume(k8s__h1_body(r), k8s__h1_body(r)->len);
	}
	CHECK(k8s__h1_done(r));
	CHECK_INT(total, body.len);
	k8s__h1_response_free(r);
	k8s_buf_free(&b);
	k8s_buf_free(&body);
}

TEST(free_unfinished)
{
	/* freeing mid-body (gzip too) leaks nothing; NULL is fine */
	k8s_buf z = K8S_BUF_INIT, msg = K8S_BUF_INIT;
	k8s_h1_response *r;
	gz(&z, "abcdefabcdefabcdef", 18);
	k8s_buf_printf(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", z.len);
	k8s_buf_put(&msg, z.ptr, z.len / 2);
	CHECK_INT(parse(msg.ptr, msg.len, 0, &r), 0);
	CHECK(!k8s__h1_done(r));
	k8s__h1_response_free(r);
	CHECK_INT(parse_s("HTTP/1.1 200 OK\r\nX-Half: val", &r), 0);
	k8s__h1_response_free(r);
	k8s__h1_response_free(NULL);
	k8s_buf_free(&z);
	k8s_buf_free(&msg);
}

int main(void)
{
	RUN(request_get_with_query);
	RUN(request_post_with_body);
	RUN(request_body_bytes_are_verbatim);
	RUN(request_patch_content_type_from_caller);
	RUN(request_content_length_rules);
	RUN(request_host_header);
	RUN(request_accept_encoding);
	RUN(request_rejects_injection);
	RUN(split_url);
	RUN(content_length_every_split);
	RUN(content_length_body_after_headers);
	RUN(chunked_every_split);
	RUN(chunked_watch_stream);
	RUN(gzip_content_length_every_split);
	RUN(gzip_chunked_every_split);
	RUN(gzip_large_streamed);
	RUN(gzip_multi_member_and_empty);
	RUN(continue_then_ok);
	RUN(no_body_statuses);
	RUN(head_request);
	RUN(read_until_close);
	RUN(truncated_content_length);
	RUN(truncated_chunked);
	RUN(eof_before_status_line);
	RUN(retry_after_and_warnings);
	RUN(keepalive);
	RUN(protocol_errors);
	RUN(gzip_errors);
	RUN(headers_too_large);
	RUN(large_body_no_limit);
	RUN(free_unfinished);
	return TEST_SUMMARY();
}
