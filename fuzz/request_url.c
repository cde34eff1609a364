/* Request building under hostile input (a security property): src/rest.c
 * (path segments, query), the header set the sans-I/O engine sends
 * (src/call.c, k8s_call_header) and the request head for the wire
 * (src/h1.c). Either the request is refused (K8S_EINVALID), or
 * - the URL is base URL + path + optional query, no '#', at most one '?';
 * - every path segment percent-decodes back exactly to the segment expected
 *   from the inputs (Go's path.Join/Clean of the client's path, the prefix or
 *   AbsPath, "namespaces"/ns, lower(resource), name, subresource, suffix): no
 *   "..", "." or empty segment, nothing injected by "/", "?", "#" or "%";
 * - the query decodes to the parameters (keys sorted, values in order,
 *   timeout replaced, watch=true for a watch);
 * - the call's header lines are exactly the expected "Name: value" ones, no
 *   CR, LF or NUL in any;
 * - the wire head is the request line, Host, those lines (a Content-Length
 *   one dropped), Content-Length and Accept-Encoding, each ending in its own
 *   CRLF, then the blank line: an input never lands outside its own line.
 * Refusals are checked too: each one has a reason the model knows.
 *
 * Input: two flag bytes, then fields separated by NUL, in the order of the
 * enum below; a field missing at the end, or exactly "\x01", is not set.
 */
// fuzz-flags: -max_len=4096
#include "fuzz.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "k8s/call.h"
#include "k8s/config.h"
#include "k8s/rest.h"
#include "h1.h"
#include "reason.h"
#include "rest_internal.h"

enum {
	IN_NS, IN_RES, IN_NAME, IN_SUB, IN_PREFIX, IN_SUFFIX, IN_K1, IN_V1, IN_K2, IN_V2,
	IN_HNAME, IN_HVAL, IN_TOKEN, IN_IMPUSER, IN_IMPGROUP, IN_EXKEY, IN_EXVAL, IN_UA, NFIELDS
};

/* Hosts: the Host config, its base URL and path, the Host header sent. */
/* in an expected header list: the library's default User-Agent (an input's
 * own "User-Agent" header, even empty, is expected as it is) */
#define DEFAULT_UA "\001default User-Agent"

static const struct {
	const char *host, *base, *path, *authority;
} hosts[] = {
	{"https://k8s.example:6443", "https://k8s.example:6443", "", "k8s.example:6443"},
	{"http://127.0.0.1:8080/base/", "http://127.0.0.1:8080", "/base", "127.0.0.1:8080"},
	{"https://[::1]:6443/k8s/clusters/c-1", "https://[::1]:6443", "/k8s/clusters/c-1", "[::1]:6443"},
	{"k8s.example", "http://k8s.example", "", "k8s.example"},
};

/* Group-versions: ContentConfig.GroupVersion, APIPath, the versioned path. */
static const struct {
	const char *gv, *api, *vpath;
} gvs[] = {
	{"v1", "/api", "/api/v1"},
	{"apps/v1", "/apis", "/apis/apps/v1"},
	{NULL, NULL, ""}, /* unversioned */
	{"v1", "", "/v1"},
};

static const char *const verbs[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "get", "Patch"};
static const double timeouts[] = {30, 0.25, 90061.5};
static const char body[] = "{\"kind\":\"ConfigMap\"}";

typedef struct {
	char **v;
	size_t n, cap;
} list;

static void add(list *l, const char *s, size_t n)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		FUZZ_CHECK(l->v != NULL, "out of memory");
	}
	l->v[l->n] = malloc(n + 1);
	FUZZ_CHECK(l->v[l->n] != NULL, "out of memory");
	memcpy(l->v[l->n], s, n);
	l->v[l->n++][n] = 0;
}

static void addf(list *l, const char *a, const char *b, const char *c)
{
	size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
	char *s = malloc(na + nb + nc + 1);
	FUZZ_CHECK(s != NULL, "out of memory");
	memcpy(s, a, na);
	memcpy(s + na, b, nb);
	memcpy(s + na + nb, c, nc + 1);
	add(l, s, na + nb + nc);
	free(s);
}

static void list_free(list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Go's path.Clean of a rooted path, one part at a time: "" and "." are
 * dropped, ".." pops (never above the root). */
static void clean_add(list *segs, const char *part)
{
	while (part && *part) {
		size_t n = strcspn(part, "/");
		if (n == 2 && part[0] == '.' && part[1] == '.') {
			if (segs->n)
				free(segs->v[--segs->n]);
		} else if (n && !(n == 1 && part[0] == '.')) {
			add(segs, part, n);
		}
		part += n;
		if (*part)
			part++;
	}
}

/* Go's path.Clean of one part on its own: a rooted part absorbs its
 * leading "..", a relative one keeps it. */
static char *go_clean(const char *part)
{
	list segs = {0};
	size_t i, len = 2;
	int rooted = part[0] == '/';
	char *out;
	while (*part) {
		size_t n = strcspn(part, "/");
		int up = n == 2 && part[0] == '.' && part[1] == '.';
		if (up && segs.n && strcmp(segs.v[segs.n - 1], ".."))
			free(segs.v[--segs.n]);
		else if ((up && !rooted) || (!up && n && !(n == 1 && part[0] == '.')))
			add(&segs, part, n);
		part += n;
		if (*part)
			part++;
	}
	for (i = 0; i < segs.n; i++)
		len += strlen(segs.v[i]) + 1;
	out = malloc(len);
	FUZZ_CHECK(out != NULL, "out of memory");
	strcpy(out, rooted ? "/" : "");
	for (i = 0; i < segs.n; i++) {
		if (i)
			strcat(out, "/");
		strcat(out, segs.v[i]);
	}
	list_free(&segs);
	return out;
}

/* IsValidPathSegmentName, as the builder applies it. */
static int seg_bad(const char *s)
{
	return !strcmp(s, ".") || !strcmp(s, "..") || strchr(s, '/') || strchr(s, '%');
}

static int sub_bad(const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "/");
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') || memchr(s, '%', n))
			return 1;
		s += n;
		if (*s)
			s++;
	}
	return 0;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decode s[0..n) ('+' is a space in a query); the escapes are
 * uppercase and only what must be escaped is. */
static char *decode(const char *s, size_t n, int query)
{
	char *out = malloc(n + 1);
	size_t i, w = 0;
	FUZZ_CHECK(out != NULL, "out of memory");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			FUZZ_CHECK(i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0,
				   "a '%%' escape that is not two uppercase hex digits");
			c = (unsigned char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			FUZZ_CHECK(!(isalnum(c) || strchr("-_.~", c)), "an unreserved byte 0x%02x was escaped", c);
			i += 2;
		} else if (query && c == '+') {
			c = ' ';
		} else {
			FUZZ_CHECK(isalnum(c) || strchr("-_.~", c) || (!query && strchr("$&+,:;=@", c)),
				   "the byte 0x%02x is raw in the URL %s", c, query ? "query" : "path");
		}
		out[w++] = (char)c;
	}
	out[w] = 0;
	return out;
}

typedef struct {
	const char *f[NFIELDS];
	int fl, fl2;
	const char *verb; /* uppercased */
	int host, gv, abs, watch, has_body;
	double timeout;
} model;

/* The path segments the URL must have; *trailing: a trailing '/' is kept. */
static void expect_path(const model *m, list *segs, int *trailing)
{
	const char *const *f = m->f;
	char *lower = NULL;
	clean_add(segs, hosts[m->host].path);
	if (m->abs && f[IN_PREFIX]) {
		clean_add(segs, f[IN_PREFIX]);
	} else {
		clean_add(segs, gvs[m->gv].vpath);
		clean_add(segs, f[IN_PREFIX]);
	}
	if (f[IN_NS] && *f[IN_NS]) {
		clean_add(segs, "namespaces");
		clean_add(segs, f[IN_NS]);
	}
	if (f[IN_RES] && *f[IN_RES]) {
		char *q;
		lower = strdup(f[IN_RES]);
		FUZZ_CHECK(lower != NULL, "out of memory");
		for (q = lower; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		clean_add(segs, lower);
		free(lower);
	}
	clean_add(segs, f[IN_NAME]);
	clean_add(segs, f[IN_SUB]);
	if (f[IN_SUFFIX]) {
		/* Suffix is cleaned on its own before it is joined */
		char *c = go_clean(f[IN_SUFFIX]);
		clean_add(segs, c);
		free(c);
	}
	/* AbsPath keeps a trailing slash while nothing is added after it */
	*trailing = m->abs && f[IN_PREFIX] && *f[IN_PREFIX] && f[IN_PREFIX][strlen(f[IN_PREFIX]) - 1] == '/' &&
		    !(f[IN_NS] && *f[IN_NS]) && !(f[IN_RES] && *f[IN_RES]) && !f[IN_NAME] && !f[IN_SUB] && !f[IN_SUFFIX];
}

static void param(list *q, const char *k, const char *v)
{
	add(q, k, strlen(k));
	add(q, v ? v : "", v ? strlen(v) : 0);
}

/* The query pairs (key, value, ...) the URL must have, in order. */
static void expect_query(const model *m, list *q, int watch)
{
	list raw = {0};
	size_t i, j;
	if (m->f[IN_K1])
		param(&raw, m->f[IN_K1], m->f[IN_V1]);
	if (m->f[IN_K2])
		param(&raw, m->f[IN_K2], m->f[IN_V2]);
	if (watch)
		param(&raw, "watch", "true");
	if (m->timeout > 0) {
		char dur[64];
		k8s__format_go_duration(m->timeout, dur, sizeof(dur));
		param(&raw, "timeout", dur);
	}
	/* a stable sort by key; a set timeout replaces the parameter */
	for (;;) {
		const char *best = NULL;
		for (i = 0; i + 1 < raw.n; i += 2)
			if (raw.v[i] && (!best || strcmp(raw.v[i], best) < 0))
				best = raw.v[i];
		if (!best)
			break;
		{
			char *key = strdup(best);
			int timeout_key = m->timeout > 0 && !strcmp(key, "timeout");
			FUZZ_CHECK(key != NULL, "out of memory");
			for (j = 0; j + 1 < raw.n; j += 2) {
				if (!raw.v[j] || strcmp(raw.v[j], key))
					continue;
				if (!timeout_key || j + 2 == raw.n)
					param(q, raw.v[j], raw.v[j + 1]);
				free(raw.v[j]);
				raw.v[j] = NULL;
			}
			free(key);
		}
	}
	list_free(&raw);
}

/* The URL: base, path segments as expected, query as expected. */
static void check_url(const model *m, const char *url, int watch)
{
	const char *base = hosts[m->host].base, *rest, *qm, *s;
	list want = {0}, wantq = {0}, got = {0};
	int trailing;
	size_t i, plen;

	FUZZ_CHECK(!strncmp(url, base, strlen(base)), "the URL does not start with the base URL");
	rest = url + strlen(base);
	FUZZ_CHECK(!strchr(rest, '#'), "a '#' in the URL");
	qm = strchr(rest, '?');
	FUZZ_CHECK(!qm || !strchr(qm + 1, '?'), "more than one '?' in the URL");
	plen = qm ? (size_t)(qm - rest) : strlen(rest);
	FUZZ_CHECK(plen == 0 || rest[0] == '/', "the path does not start with '/'");

	expect_path(m, &want, &trailing);
	if (plen) {
		const char *e = rest + plen, *sl;
		for (s = rest + 1;; s = sl + 1) {
			char *d;
			sl = memchr(s, '/', (size_t)(e - s));
			d = decode(s, sl ? (size_t)(sl - s) : (size_t)(e - s), 0);
			add(&got, d, strlen(d));
			free(d);
			if (!sl)
				break;
		}
	}
	if (got.n && !*got.v[got.n - 1]) {
		/* "/" alone, or a kept trailing slash */
		FUZZ_CHECK(trailing || got.n == 1, "a trailing '/' in the path");
		FUZZ_CHECK(trailing || want.n == 0, "the path is \"/\", expected segments");
		free(got.v[--got.n]);
	}
	FUZZ_CHECK(got.n == want.n, "the path of %s has %zu segments, expected %zu", url, got.n, want.n);
	for (i = 0; i < got.n; i++) {
		FUZZ_CHECK(*got.v[i], "an empty path segment");
		FUZZ_CHECK(strcmp(got.v[i], ".") && strcmp(got.v[i], ".."), "a dot segment in the path");
		FUZZ_CHECK(!strcmp(got.v[i], want.v[i]), "path segment %zu of %s decodes to \"%s\", expected \"%s\"", i,
			   url, got.v[i], want.v[i]);
	}

	expect_query(m, &wantq, watch);
	FUZZ_CHECK(!qm == !wantq.n, "a query %s", qm ? "that should not be there" : "is missing");
	list_free(&got);
	for (s = qm ? qm + 1 : NULL; s && *s;) {
		size_t n = strcspn(s, "&");
		const char *eq = memchr(s, '=', n);
		char *k, *v;
		FUZZ_CHECK(eq != NULL, "a query pair without '='");
		FUZZ_CHECK(!memchr(eq + 1, '=', n - (size_t)(eq + 1 - s)), "a raw '=' in a query value");
		k = decode(s, (size_t)(eq - s), 1);
		v = decode(eq + 1, n - (size_t)(eq + 1 - s), 1);
		add(&got, k, strlen(k));
		add(&got, v, strlen(v));
		free(k);
		free(v);
		s += n;
		FUZZ_CHECK(*s != '&' || s[1], "the query ends with '&'");
		if (*s)
			s++;
	}
	FUZZ_CHECK(got.n == wantq.n, "the query of %s has %zu pairs, expected %zu", url, got.n / 2, wantq.n / 2);
	for (i = 0; i < got.n; i++)
		FUZZ_CHECK(!strcmp(got.v[i], wantq.v[i]), "query item %zu is \"%s\", expected \"%s\"", i, got.v[i],
			   wantq.v[i]);
	list_free(&got);
	list_free(&want);
	list_free(&wantq);
}

/* Does the request carry a header of this name (case-insensitive)? */
static int user_header(const model *m, const char *name)
{
	return m->f[IN_HNAME] && !strcasecmp(m->f[IN_HNAME], name);
}

static int has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

/* The builder must refuse the request: why (NULL when it must not). */
static const char *builder_refusal(const model *m)
{
	const char *const *f = m->f;
	if (f[IN_NS] && seg_bad(f[IN_NS]))
		return "namespace";
	if (f[IN_RES] && seg_bad(f[IN_RES]))
		return "resource";
	if (f[IN_NAME] && (!*f[IN_NAME] || seg_bad(f[IN_NAME])))
		return "name";
	if (f[IN_SUB] && sub_bad(f[IN_SUB]))
		return "subresource";
	if ((f[IN_K1] && !*f[IN_K1]) || (f[IN_K2] && !*f[IN_K2]))
		return "empty parameter name";
	if (f[IN_HNAME] && (!*f[IN_HNAME] || strpbrk(f[IN_HNAME], ":\r\n") || has_crlf(f[IN_HVAL])))
		return "header";
	if (f[IN_NS] && !*f[IN_NS] &&
	    (!strcmp(m->verb, "POST") ||
	     (f[IN_NAME] && (!strcmp(m->verb, "GET") || !strcmp(m->verb, "PUT") || !strcmp(m->verb, "DELETE")))))
		return "empty namespace";
	return NULL;
}

static const char *imp_user(const model *m)
{
	return m->f[IN_IMPUSER] && *m->f[IN_IMPUSER] && !user_header(m, "Impersonate-User") ? m->f[IN_IMPUSER] : NULL;
}

/* The header lines the call must send, in order; 0, or -1 when a value the
 * config gave has a line break (the call must end in K8S_EINVALID). */
static int expect_headers(const model *m, list *h)
{
	const char *const *f = m->f;
	if (f[IN_HNAME])
		addf(h, f[IN_HNAME], ": ", f[IN_HVAL] ? f[IN_HVAL] : "");
	if (!user_header(m, "Accept"))
		addf(h, "Accept: ", "application/json, */*", "");
	if (m->has_body && !user_header(m, "Content-Type"))
		addf(h, "Content-Type: ", "application/json", "");
	if (!user_header(m, "User-Agent")) {
		if (f[IN_UA] && *f[IN_UA]) {
			if (has_crlf(f[IN_UA]))
				return -1;
			addf(h, "User-Agent: ", f[IN_UA], "");
		} else {
			addf(h, DEFAULT_UA, "", ""); /* the default: compared by prefix */
		}
	}
	if (!user_header(m, "Authorization") && f[IN_TOKEN] && *f[IN_TOKEN]) {
		if (has_crlf(f[IN_TOKEN]))
			return -1;
		addf(h, "Authorization: Bearer ", f[IN_TOKEN], "");
	}
	if (imp_user(m)) {
		if (has_crlf(f[IN_IMPUSER]))
			return -1;
		addf(h, "Impersonate-User: ", f[IN_IMPUSER], "");
		if (f[IN_IMPGROUP]) {
			if (has_crlf(f[IN_IMPGROUP]))
				return -1;
			addf(h, "Impersonate-Group: ", f[IN_IMPGROUP], "");
		}
		if (f[IN_EXKEY]) {
			static const char hex[] = "0123456789ABCDEF";
			char *k = malloc(strlen(f[IN_EXKEY]) * 3 + 32), *w;
			const unsigned char *p;
			FUZZ_CHECK(k != NULL, "out of memory");
			w = k + sprintf(k, "Impersonate-Extra-");
			for (p = (const unsigned char *)f[IN_EXKEY]; *p; p++) {
				if (isalnum(*p) || strchr("!#$&'*+-.^_`|~", *p)) {
					*w++ = (char)*p;
				} else {
					*w++ = '%';
					*w++ = hex[*p >> 4];
					*w++ = hex[*p & 15];
				}
			}
			strcpy(w, ": ");
			if (has_crlf(f[IN_EXVAL])) {
				free(k);
				return -1;
			}
			addf(h, k, f[IN_EXVAL] ? f[IN_EXVAL] : "", "");
			free(k);
		}
	}
	return 0;
}

static int is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Would the wire codec refuse this header line (no token name, a control
 * character in the value, Transfer-Encoding)? */
static int wire_refuses(const char *line)
{
	size_t n = 0;
	const char *c;
	while (is_tchar((unsigned char)line[n]))
		n++;
	if (!n || line[n] != ':')
		return 1;
	for (c = line + n + 1; *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			return 1;
	return n == 17 && !strncasecmp(line, "Transfer-Encoding", 17);
}

static int named(const char *line, const char *name)
{
	size_t n = strlen(name);
	return !strncasecmp(line, name, n) && line[n] == ':';
}

/* The request head the wire codec makes from the call. */
static void check_wire(const model *m, k8s_call *k, int no_gzip)
{
	k8s_http_request hr;
	k8s_buf out = K8S_BUF_INIT, want = K8S_BUF_INIT;
	const char *url = k8s_call_url(k), *target, *l;
	int rc, refuse = 0, has_host = 0, has_ae = 0, has_body;
	size_t i, headlen;
	k8s__call_http_request(k, &hr);
	rc = k8s__h1_request(&out, &hr, NULL, no_gzip);
	for (i = 0; (l = k8s_call_header(k, i)); i++) {
		refuse |= wire_refuses(l);
		has_host |= named(l, "Host");
		has_ae |= named(l, "Accept-Encoding");
	}
	if (rc < 0) {
		FUZZ_CHECK(rc == K8S_EINVALID && refuse, "the wire refused a valid request (%d: %s)", rc,
			   k8s_error_last()->message);
		k8s_buf_free(&out);
		return;
	}
	FUZZ_CHECK(!refuse, "the wire sent a header line it must refuse");
	target = url + strlen(hosts[m->host].base);
	has_body = hr.body || !strcmp(m->verb, "POST") || !strcmp(m->verb, "PUT") || !strcmp(m->verb, "PATCH");
	k8s_buf_printf(&want, "%s %s%s HTTP/1.1\r\n", m->verb, *target == '/' ? "" : "/", target);
	if (!has_host)
		k8s_buf_printf(&want, "Host: %s\r\n", hosts[m->host].authority);
	for (i = 0; (l = k8s_call_header(k, i)); i++)
		if (!named(l, "Content-Length"))
			k8s_buf_printf(&want, "%s\r\n", l);
	if (has_body)
		k8s_buf_printf(&want, "Content-Length: %zu\r\n", hr.body_len);
	if (!no_gzip && !has_ae)
		k8s_buf_puts(&want, "Accept-Encoding: gzip\r\n");
	k8s_buf_puts(&want, "\r\n");
	headlen = want.len;
	if (hr.body_len)
		k8s_buf_put(&want, hr.body, hr.body_len);
	FUZZ_CHECK(out.len == want.len && !memcmp(out.ptr, want.ptr, out.len), "the wire head differs:\n%s\n---\n%s",
		   out.ptr, want.ptr);
	/* and structurally: CR only in CRLF, the first blank line ends the head */
	for (i = 0; i < headlen; i++) {
		FUZZ_CHECK(out.ptr[i] != '\r' || (i + 1 < headlen && out.ptr[i + 1] == '\n'), "a bare CR in the head");
		FUZZ_CHECK(out.ptr[i] != '\n' || (i && out.ptr[i - 1] == '\r'), "a bare LF in the head");
		FUZZ_CHECK(out.ptr[i] != 0, "a NUL in the head");
	}
	FUZZ_CHECK((l = strstr(out.ptr, "\r\n\r\n")) && (size_t)(l - out.ptr) + 4 == headlen,
		   "the head ends early");
	k8s_buf_free(&out);
	k8s_buf_free(&want);
}

static void check_headers(const model *m, k8s_call *k, const list *want)
{
	const char *l;
	size_t i;
	for (i = 0; (l = k8s_call_header(k, i)); i++) {
		FUZZ_CHECK(!strpbrk(l, "\r\n"), "header line %zu has CR or LF", i);
		FUZZ_CHECK(i < want->n, "more header lines than expected: %s", l);
		if (!strcmp(want->v[i], DEFAULT_UA))
			FUZZ_CHECK(!strncmp(l, "User-Agent: k8s-lua/v", 21), "the default User-Agent differs: %s", l);
		else
			FUZZ_CHECK(!strcmp(l, want->v[i]), "header line %zu is \"%s\", expected \"%s\"", i, l, want->v[i]);
	}
	FUZZ_CHECK(i == want->n, "%zu header lines, expected %zu", i, want->n);
	(void)m;
}

static k8s_rest_client *make_client(const model *m)
{
	const char *const *f = m->f;
	k8s_config *cfg = NULL;
	k8s_rest_client *rc = NULL;
	int ok;
	if (k8s_config_new(&cfg) < 0)
		return NULL;
	ok = k8s_config_set_string(cfg, "Host", hosts[m->host].host) == 0 &&
	     k8s_config_set_number(cfg, "QPS", -1) == 0;
	if (ok && gvs[m->gv].gv)
		ok = k8s_config_set_string(cfg, "ContentConfig.GroupVersion", gvs[m->gv].gv) == 0 &&
		     k8s_config_set_string(cfg, "APIPath", gvs[m->gv].api) == 0;
	if (ok && f[IN_TOKEN])
		ok = k8s_config_set_string(cfg, "BearerToken", f[IN_TOKEN]) == 0;
	if (ok && f[IN_UA])
		ok = k8s_config_set_string(cfg, "UserAgent", f[IN_UA]) == 0;
	if (ok && f[IN_IMPUSER] && *f[IN_IMPUSER]) {
		ok = k8s_config_set_string(cfg, "Impersonate.UserName", f[IN_IMPUSER]) == 0;
		if (ok && f[IN_IMPGROUP])
			ok = k8s_config_add_string(cfg, "Impersonate.Groups", f[IN_IMPGROUP]) == 0;
		if (ok && f[IN_EXKEY])
			ok = k8s_config_add_pair(cfg, "Impersonate.Extra", f[IN_EXKEY], f[IN_EXVAL] ? f[IN_EXVAL] : "") == 0;
	}
	if (ok)
		ok = (gvs[m->gv].gv ? k8s_rest_client_for(&rc, cfg) : k8s_rest_client_unversioned(&rc, cfg)) == 0;
	k8s_config_free(cfg);
	return ok ? rc : NULL;
}

static void build(k8s_request *r, const model *m)
{
	const char *const *f = m->f;
	if (f[IN_NS])
		k8s_request_namespace(r, f[IN_NS]);
	if (f[IN_RES])
		k8s_request_resource(r, f[IN_RES]);
	if (f[IN_NAME])
		k8s_request_name(r, f[IN_NAME]);
	if (f[IN_SUB])
		k8s_request_subresource(r, f[IN_SUB]);
	if (f[IN_PREFIX])
		(m->abs ? k8s_request_abs_path : k8s_request_prefix)(r, f[IN_PREFIX]);
	if (f[IN_SUFFIX])
		k8s_request_suffix(r, f[IN_SUFFIX]);
	if (f[IN_K1])
		k8s_request_param(r, f[IN_K1], f[IN_V1]);
	if (f[IN_K2])
		k8s_request_param(r, f[IN_K2], f[IN_V2]);
	if (f[IN_HNAME])
		k8s_request_set_header(r, f[IN_HNAME], f[IN_HVAL]);
	if (m->timeout > 0)
		k8s_request_timeout(r, m->timeout);
	if (m->has_body)
		k8s_request_body(r, body, sizeof(body) - 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	unsetenv("KUBE_CLIENT_BACKOFF_BASE");
	unsetenv("KUBE_CLIENT_BACKOFF_DURATION");
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	k8s_global_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	model m;
	char *text, *p, verb[16];
	size_t i, n;
	k8s_rest_client *rc;
	k8s_request *r = NULL;
	k8s_call *k = NULL;
	char *url;
	const char *why;
	list want = {0};
	int hrc, crc;

	if (size < 2)
		return 0;
	memset(&m, 0, sizeof(m));
	m.fl = data[0];
	m.fl2 = data[1];
	snprintf(verb, sizeof(verb), "%s", verbs[m.fl & 7]);
	for (p = verb; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	m.verb = verb;
	m.host = (m.fl >> 3) & 3;
	m.gv = (m.fl >> 5) & 3;
	m.watch = (m.fl >> 7) & 1;
	m.abs = m.fl2 & 1;
	m.has_body = (m.fl2 >> 1) & 1;
	m.timeout = (m.fl2 >> 2) & 3 ? timeouts[((m.fl2 >> 2) & 3) - 1] : 0;
	n = size - 2;
	if (!(text = malloc(n + 1)))
		return 0;
	memcpy(text, data + 2, n);
	text[n] = 0;
	for (i = 0, p = text; n && i < NFIELDS; i++) {
		m.f[i] = strcmp(p, "\x01") ? p : NULL;
		p += strlen(p);
		if (p == text + n)
			break;
		p++;
	}

	if (!(rc = make_client(&m)))
		goto out;
	if (k8s_rest_client_verb(&r, rc, verbs[m.fl & 7]) < 0)
		goto out;
	build(r, &m);
	why = builder_refusal(&m);

	/* the URL of the request as built, then the call's (watch=true added) */
	url = k8s_request_url(r);
	FUZZ_CHECK(!url == !!why, "the URL was %s (model: %s; error: %s)", url ? "built" : "refused",
		   why ? why : "valid", k8s_error_last()->message);
	if (url)
		check_url(&m, url, 0);
	free(url);
	crc = k8s_call_new(&k, r, m.watch ? K8S_CALL_MODE_WATCH : K8S_CALL_MODE_DO);
	FUZZ_CHECK(!!k == !why, "k8s_call_new disagrees with k8s_request_url");
	if (!k) {
		FUZZ_CHECK(crc == K8S_EINVALID, "k8s_call_new failed with %d", crc);
		goto out;
	}
	check_url(&m, k8s_call_url(k), m.watch);

	hrc = expect_headers(&m, &want);
	if (k8s_call_next(k) != K8S_CALL_SEND) {
		FUZZ_CHECK(hrc < 0 && k8s_call_status(k) == K8S_EINVALID, "the call did not send (%d: %s)",
			   k8s_call_status(k), k8s_error_last()->message);
		goto out;
	}
	FUZZ_CHECK(hrc == 0, "a header value with a line break was accepted");
	check_headers(&m, k, &want);
	check_wire(&m, k, m.fl2 >> 4 & 1);
	k8s_call_response(k, 200, NULL, 0);
	FUZZ_CHECK(k8s_call_next(k) == K8S_CALL_DONE && k8s_call_status(k) == 0, "a 200 did not finish the call");
out:
	list_free(&want);
	k8s_call_free(k);
	k8s_request_free(r);
	k8s_rest_client_free(rc);
	free(text);
	return 0;
}
