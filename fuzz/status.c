/* Fuzz target for turning a response into a result (src/result.c): the
 * Warning and Retry-After headers and metav1.Status decoding.
 *
 * result.c is included to reach its static functions; the link uses this
 * copy instead of result.o from libk8s.a.
 *
 * Input: line 1 is the Warning value, line 2 the Retry-After value (a
 * missing line is a missing header), then one byte: bits 0-4 pick the HTTP
 * code (with verb, resource and name), bits 5-6 the Content-Type, bit 7
 * pads a body that starts with '{' past STATUS_SCAN_LIMIT with blanks;
 * the rest is the body.
 *
 * Properties:
 *   - parse_retry_after accepts exactly [+-]?[0-9]+ whose value is at most
 *     1e9 (leading zeros allowed), and the result's retry_after_seconds
 *     comes from the header only when that value is positive; otherwise it
 *     is 0 or a decoded Status's details.retryAfterSeconds, never negative;
 *   - every warning is a NUL-terminated string shorter than the header,
 *     there are at most half as many as the header has quotes, and
 *     re-quoting them (299 - "text", ...) parses back to the same list; the
 *     result holds the warnings of the stored header;
 *   - rc is 0 exactly for a 2xx/101 that is not a failure Status; a failed
 *     result has a status with non-NULL, non-empty reason and non-NULL
 *     message; a decoded Status is the body, has kind "Status" and the
 *     status rules of client-go, its message, and its code and
 *     retryAfterSeconds only when positive int32 (else the HTTP code, 0);
 *   - a 2xx body over STATUS_SCAN_LIMIT is never taken for a Status, and
 *     padding does not change how an error body decodes.
 */
#include <limits.h>
#include "../src/result.c"
#include "fuzz.h"

static const struct {
	int code;
	const char *verb, *resource, *name;
} codes[32] = {
	{200, "GET", NULL, NULL},         {201, "POST", "pods", NULL},
	{202, "DELETE", "pods", "web-0"}, {204, "DELETE", NULL, NULL},
	{206, "GET", NULL, NULL},         {101, "GET", "pods", "web-0"},
	{207, "GET", NULL, NULL},         {299, "PATCH", NULL, NULL},
	{100, "GET", NULL, NULL},         {304, "GET", "pods", NULL},
	{400, "POST", "pods", NULL},      {401, "GET", NULL, NULL},
	{403, "GET", "secrets", "token"}, {404, "GET", "pods", "nope"},
	{405, "PUT", NULL, NULL},         {406, "GET", NULL, NULL},
	{409, "POST", "pods", "web-0"},   {409, "PUT", "configmaps", "cfg"},
	{410, "GET", "pods", NULL},       {415, "PATCH", "deployments", "web"},
	{422, "POST", "deployments", NULL}, {429, "LIST", NULL, NULL},
	{500, "GET", "pods", NULL},       {502, "GET", NULL, NULL},
	{503, "GET", NULL, NULL},         {504, "GET", "pods", "web-0"},
	{505, "GET", NULL, NULL},         {599, "GET", NULL, NULL},
	{600, "GET", NULL, NULL},         {0, "GET", NULL, NULL},
	{1, "GET", NULL, NULL},           {418, "DELETE", "leases", "lock"},
};

static const char *const ctypes[4] = {
	NULL, "application/json", "text/plain; charset=utf-8", "application/vnd.kubernetes.protobuf",
};

/* The reference rule for Retry-After: 1 and *v if valid. */
static int retry_after_oracle(const char *s, long *v)
{
	long n = 0;
	int neg = 0, digits = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		digits++;
		if (n <= 1000000000L)
			n = n * 10 + (*s - '0');
	}
	if (!digits || n > 1000000000L)
		return 0;
	*v = neg ? -n : n;
	return 1;
}

static void check_retry_after(const char *s)
{
	long want = 0;
	int got = 12345;
	int ok = retry_after_oracle(s, &want);
	int r = k8s__parse_retry_after(s, &got);

	FUZZ_CHECK(r == ok, "k8s__parse_retry_after(\"%.40s\") = %d, want %d", s, r, ok);
	if (ok)
		FUZZ_CHECK(got == want, "k8s__parse_retry_after(\"%.40s\") gave %d, want %ld", s, got, want);
	else
		FUZZ_CHECK(got == 12345, "parse_retry_after wrote on failure");
}

static void strlist_check_same(const k8s_strlist *a, const k8s_strlist *b, const char *what)
{
	size_t i;
	FUZZ_CHECK(a->n == b->n, "%s: %zu warnings, then %zu", what, a->n, b->n);
	for (i = 0; i < a->n; i++)
		FUZZ_CHECK(strcmp(a->items[i], b->items[i]) == 0, "%s: warning %zu differs", what, i);
}

static void check_warnings(const char *h)
{
	k8s_strlist list = {0}, again = {0};
	k8s_buf q = K8S_BUF_INIT;
	size_t i, quotes = 0, hl = strlen(h);
	const char *p;

	parse_warnings(&list, h);
	for (p = h; *p; p++)
		quotes += *p == '"';
	FUZZ_CHECK(list.n * 2 <= quotes, "%zu warnings from %zu quotes", list.n, quotes);
	for (i = 0; i < list.n; i++) {
		FUZZ_CHECK(list.items[i] != NULL, "NULL warning");
		FUZZ_CHECK(strlen(list.items[i]) < hl, "warning longer than its header");
		if (i)
			FUZZ_CHECK(k8s_buf_puts(&q, ", ") == 0, "out of memory");
		FUZZ_CHECK(k8s_buf_puts(&q, "299 - \"") == 0, "out of memory");
		for (p = list.items[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				FUZZ_CHECK(k8s_buf_put(&q, "\\", 1) == 0, "out of memory");
			FUZZ_CHECK(k8s_buf_put(&q, p, 1) == 0, "out of memory");
		}
		FUZZ_CHECK(k8s_buf_puts(&q, "\"") == 0, "out of memory");
	}
	parse_warnings(&again, q.ptr ? q.ptr : "");
	strlist_check_same(&list, &again, "re-quoted");
	k8s_buf_free(&q);
	k8s__strlist_free(&list);
	k8s__strlist_free(&again);
}

static k8s_result *make_result(const k8s_http_head *head, int pick, const char *body, size_t len,
			       k8s_rest_client *c)
{
	k8s_buf b = K8S_BUF_INIT;
	k8s_result *res = NULL;
	int rc;

	if (len)
		FUZZ_CHECK(k8s_buf_put(&b, body, len) == 0, "out of memory");
	rc = k8s__result_from_head(&res, c, codes[pick].verb, codes[pick].resource, codes[pick].name,
				   head, &b, 0);
	FUZZ_CHECK(res != NULL, "no result");
	FUZZ_CHECK(b.ptr == NULL, "body not taken");
	FUZZ_CHECK(rc == res->rc, "returned %d, result says %d", rc, res->rc);
	return res;
}

/* The properties of one result; body is what it was built from. */
static void check_result(const k8s_result *res, const k8s_http_head *head, const char *body,
			 size_t len)
{
	int code = (int)head->status;
	int success = (code >= 200 && code <= 206) || code == 101;
	const k8s_status *st = k8s_result_status(res);
	const char *ra = k8s__http_head_get(head, "Retry-After");
	const char *wh = k8s__http_head_get(head, "Warning");
	const char *ct = k8s__http_head_get(head, "Content-Type");
	long hv = 0;
	int from_header = ra && retry_after_oracle(ra, &hv) && hv > 0;
	size_t rlen;

	FUZZ_CHECK(k8s_result_status_code(res) == code, "status code");
	if (ct && k8s__pb_is_content_type(ct) && len > 0) {
		/* a protobuf body: the JSON the server would have written, or a
		 * DecodeError result (src/proto.c) */
		if (res->rc == K8S_EDECODE) {
			FUZZ_CHECK(st && st->reason && strcmp(st->reason, "DecodeError") == 0 && st->message &&
					   *st->message, "a protobuf body that failed without its DecodeError");
			return;
		}
		FUZZ_CHECK(res->content_type && strcmp(res->content_type, "application/json") == 0,
			   "a protobuf body turned into JSON says so");
		k8s_result_body(res, &rlen);
		FUZZ_CHECK(rlen > 0, "a protobuf body turned into nothing");
	} else {
		FUZZ_CHECK(memcmp(k8s_result_body(res, &rlen), body, len) == 0 && rlen == len, "body");
		FUZZ_CHECK((!ct && !res->content_type) || (ct && res->content_type &&
							   strcmp(ct, res->content_type) == 0),
			   "content type");
	}
	{
		k8s_strlist w = {0};
		size_t i;
		if (wh)
			parse_warnings(&w, wh);
		strlist_check_same(&w, &res->warnings, "result");
		FUZZ_CHECK(k8s_result_warning_count(res) == w.n, "warning count");
		for (i = 0; i < w.n; i++)
			FUZZ_CHECK(k8s_result_warning(res, i) == res->warnings.items[i], "warning %zu", i);
		FUZZ_CHECK(k8s_result_warning(res, w.n) == NULL, "warning past the end");
		k8s__strlist_free(&w);
	}

	FUZZ_CHECK(res->st.retry_after_seconds >= 0, "retry_after_seconds %d", res->st.retry_after_seconds);
	if (from_header)
		FUZZ_CHECK(res->st.retry_after_seconds == (int)hv, "Retry-After %ld, result %d", hv,
			   res->st.retry_after_seconds);

	if (res->rc == 0) {
		FUZZ_CHECK(success && !st && !res->has_status, "rc 0 for code %d", code);
		FUZZ_CHECK(res->st_json == NULL, "a Status on success");
		if (!from_header)
			FUZZ_CHECK(res->st.retry_after_seconds == 0, "retry after on success");
		return;
	}
	FUZZ_CHECK(res->rc == K8S_ESTATUS, "rc %d", res->rc);
	FUZZ_CHECK(st && st == &res->st, "a failed result without a status");
	FUZZ_CHECK(st->reason && st->message, "NULL reason or message");
	FUZZ_CHECK(*st->reason, "empty reason");
	FUZZ_CHECK(st->status_json == res->st_json && st->details_json == res->st_details, "json");

	if (!res->st_json) {
		/* built from the code table */
		FUZZ_CHECK(!success, "a generic error for a success code %d", code);
		FUZZ_CHECK(st->code == code, "generic code %d for %d", st->code, code);
		FUZZ_CHECK(st->details_json == NULL, "details without a Status");
		if (!from_header)
			FUZZ_CHECK(st->retry_after_seconds == 0, "retry after %d from nowhere",
				   st->retry_after_seconds);
		return;
	}

	/* a decoded Status */
	{
		json_error_t jerr;
		json_t *root, *v, *d;
		const char *kind, *status, *msg;
		long long want_ra = 0;

		FUZZ_CHECK(!(success && len > STATUS_SCAN_LIMIT), "a large 2xx body taken for a Status");
		FUZZ_CHECK(strlen(res->st_json) <= len && memcmp(res->st_json, body, strlen(res->st_json)) == 0,
			   "status_json is not the body");
		root = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, &jerr);
		FUZZ_CHECK(root != NULL, "a Status jansson cannot load");
		kind = json_string_value(json_object_get(root, "kind"));
		status = json_string_value(json_object_get(root, "status"));
		msg = json_string_value(json_object_get(root, "message"));
		FUZZ_CHECK(kind && strcmp(kind, "Status") == 0, "kind");
		FUZZ_CHECK(!status || strcmp(status, "Success") != 0, "a Success Status is an error");
		FUZZ_CHECK(success || (status && strcmp(status, "Failure") == 0),
			   "an error code with a non-Failure Status decoded");
		FUZZ_CHECK(strcmp(st->message, msg ? msg : "") == 0, "message");
		/* int32 in metav1.Status: out of range is not truncated */
		v = json_object_get(root, "code");
		if (v && json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= INT_MAX)
			FUZZ_CHECK(st->code == json_integer_value(v), "code %d, Status says %lld", st->code,
				   (long long)json_integer_value(v));
		else
			FUZZ_CHECK(st->code == code, "code %d, HTTP %d", st->code, code);
		d = json_object_get(root, "details");
		FUZZ_CHECK(!!st->details_json == (d && json_is_object(d)), "details_json");
		if (d && json_is_object(d)) {
			json_t *rv = json_object_get(d, "retryAfterSeconds");
			if (rv && json_is_integer(rv) && json_integer_value(rv) > 0 &&
			    json_integer_value(rv) <= INT_MAX)
				want_ra = json_integer_value(rv);
		}
		if (!from_header)
			FUZZ_CHECK(st->retry_after_seconds == want_ra, "retry after %d, details say %lld",
				   st->retry_after_seconds, want_ra);
		json_decref(root);
	}
}

/* Split off the next line: returns its length, or -1 without a newline. */
static long take_line(const uint8_t **p, size_t *n, const char **line)
{
	const uint8_t *nl = memchr(*p, '\n', *n);
	long l;
	if (!nl)
		return -1;
	l = (long)(nl - *p);
	*line = (const char *)*p;
	*n -= (size_t)l + 1;
	*p = nl + 1;
	return l;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t n = size, len;
	const char *wline = NULL, *rline = NULL, *body;
	long wl, rl;
	int pick, pad;
	char *s;
	k8s_http_head head = {0};
	struct k8s_rest_client client;
	k8s_result *res;

	wl = take_line(&p, &n, &wline);
	if (wl < 0) {
		/* only a Warning value */
		s = k8s__strndup((const char *)data, size);
		FUZZ_CHECK(s != NULL, "out of memory");
		check_warnings(s);
		check_retry_after(s);
		free(s);
		return 0;
	}
	rl = take_line(&p, &n, &rline);
	if (n < 1)
		return 0;
	pick = p[0] & 31;
	pad = p[0] >> 7;
	body = (const char *)p + 1;
	len = n - 1;

	/* the parsers on the raw lines (as C strings, up to a NUL) */
	s = k8s__strndup(wline, (size_t)wl);
	FUZZ_CHECK(s != NULL, "out of memory");
	check_warnings(s);
	free(s);
	if (rl >= 0) {
		s = k8s__strndup(rline, (size_t)rl);
		FUZZ_CHECK(s != NULL, "out of memory");
		check_retry_after(s);
		free(s);
	}

	head.status = codes[pick].code;
	if (wl > 0)
		FUZZ_CHECK(k8s__http_head_add(&head, "Warning", 7, wline, (size_t)wl) == 0, "oom");
	if (rl >= 0)
		FUZZ_CHECK(k8s__http_head_add(&head, "Retry-After", 11, rline, (size_t)rl) == 0, "oom");
	if (ctypes[(p[0] >> 5) & 3])
		FUZZ_CHECK(k8s__http_head_add(&head, "Content-Type", 12, ctypes[(p[0] >> 5) & 3],
					      strlen(ctypes[(p[0] >> 5) & 3])) == 0, "oom");
	memset(&client, 0, sizeof(client));
	client.group = (char *)(pick & 1 ? "apps" : "");

	res = make_result(&head, pick, body, len, &client);
	check_result(res, &head, body, len);

	/* padding a JSON text: not for a protobuf Content-Type (the body is
	 * walked as protobuf, where blanks are not blank) */
	if (pad && !k8s__pb_is_content_type(ctypes[(p[0] >> 5) & 3])) {
		size_t i = k8s_json_skip_ws(body, len, 0), plen = len + STATUS_SCAN_LIMIT;
		char *pb;
		k8s_result *res2;
		if (i < len && body[i] == '{') {
			pb = malloc(plen);
			FUZZ_CHECK(pb != NULL, "out of memory");
			memcpy(pb, body, i + 1);
			memset(pb + i + 1, ' ', STATUS_SCAN_LIMIT);
			memcpy(pb + i + 1 + STATUS_SCAN_LIMIT, body + i + 1, len - i - 1);
			res2 = make_result(&head, pick, pb, plen, &client);
			check_result(res2, &head, pb, plen);
			if ((head.status >= 200 && head.status <= 206) || head.status == 101) {
				FUZZ_CHECK(res2->rc == 0, "a large 2xx body decoded");
			} else {
				/* blanks change nothing but status_json */
				FUZZ_CHECK(res2->rc == res->rc && !!res2->st_json == !!res->st_json &&
						   res2->st.code == res->st.code &&
						   strcmp(res2->st.reason, res->st.reason) == 0 &&
						   res2->st.retry_after_seconds == res->st.retry_after_seconds,
					   "padding changed the error");
				if (res->st_json)
					FUZZ_CHECK(strcmp(res2->st.message, res->st.message) == 0 &&
							   !!res2->st_details == !!res->st_details &&
							   (!res->st_details ||
							    strcmp(res2->st_details, res->st_details) == 0),
						   "padding changed the Status");
			}
			k8s_result_free(res2);
			free(pb);
		}
	}
	k8s_result_free(res);
	k8s__http_head_clear(&head);

	/* a transport error's result: the last error, a reason always */
	k8s__error(K8S_ETRANSPORT, len & 1 ? "" : "ConnectionRefused", "%.*s", (int)(len > 200 ? 200 : len), body);
	FUZZ_CHECK(k8s__result_from_error(&res, K8S_ETRANSPORT) == K8S_ETRANSPORT && res, "result_from_error");
	FUZZ_CHECK(k8s_result_error_code(res) == K8S_ETRANSPORT && k8s_result_status(res) &&
			   *k8s_result_status(res)->reason && k8s_result_status(res)->message &&
			   k8s_result_status(res)->code == 0,
		   "transport error status");
	k8s_result_free(res);
	return 0;
}
