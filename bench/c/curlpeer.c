/* The lower bound for this library's design: raw libcurl (one easy handle,
 * one reused connection, the same transport options as src/transport_curl.c:
 * HTTP/2 over TLS, gzip) and the same bytes decoded into Lua tables by
 * lua-cjson (cjson.decode called through the Lua C API). Nothing else: no
 * request building beyond a fixed URL, no error objects, no rate limiter.
 *
 *   curlpeer-lua5.4 WORKLOAD        (built against Lua 5.4 or LuaJIT)
 *
 * WORKLOAD and environment as the other peers (see bench/run.lua). Prints one
 * JSON object on stdout; CPU from getrusage(RUSAGE_SELF).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <curl/curl.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "procstat.h"

#if LUA_VERSION_NUM < 502
#define lua_rawlen lua_objlen
#endif

#define STAMP "bench.k8s-lua.io/t"

static lua_State *L;
static int decode_ref;
static CURL *h;
static struct curl_slist *hdrs;
static char *server, *ns;

typedef struct {
	char *p;
	size_t len, cap;
} buf;

static void fail(const char *msg, const char *detail)
{
	fprintf(stderr, "curlpeer: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
	printf("{\"ok\":false,\"error\":\"%s\"}\n", msg);
	exit(1);
}

static const char *env(const char *k, const char *d)
{
	const char *v = getenv(k);
	return v && *v ? v : d;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double unix_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e6 + (double)(ts.tv_nsec / 1000);
}

static void cpu(double *user, double *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long maxrss(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}


static void buf_add(buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 16384;
		while (c < b->len + n + 1)
			c *= 2;
		if (!(b->p = realloc(b->p, c)))
			fail("out of memory", NULL);
		b->cap = c;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	buf_add(ud, p, sz * n);
	return sz * n;
}

/* cjson.decode(bytes): leaves the table on the stack */
static void decode(const char *p, size_t n)
{
	lua_rawgeti(L, LUA_REGISTRYINDEX, decode_ref);
	lua_pushlstring(L, p, n);
	if (lua_pcall(L, 1, 1, 0) != 0)
		fail("cjson.decode failed", lua_tostring(L, -1));
}

/* GET url into b (reset first); fails unless 200 */
static void fetch(const char *url, buf *b)
{
	long code = 0;
	CURLcode rc;
	b->len = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	if ((rc = curl_easy_perform(h)) != CURLE_OK)
		fail("request failed", curl_easy_strerror(rc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		fail("unexpected HTTP status", url);
}

static const char *field_str(int idx, const char *k)
{
	const char *s;
	lua_getfield(L, idx, k);
	s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
	lua_pop(L, 1); /* the string stays referenced by the table */
	return s;
}

static void setup(void)
{
	const char *v;
	char hdr[4096];
	L = luaL_newstate();
	luaL_openlibs(L);
	lua_getglobal(L, "require");
	lua_pushstring(L, "cjson");
	if (lua_pcall(L, 1, 1, 0) != 0)
		fail("require cjson failed", lua_tostring(L, -1));
	lua_getfield(L, -1, "decode");
	decode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pop(L, 1);

	curl_global_init(CURL_GLOBAL_ALL);
	h = curl_easy_init();
	server = strdup(env("BENCH_SERVER", "https://127.0.0.1:6443"));
	ns = strdup(env("BENCH_NS", "default"));
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if ((v = env("BENCH_TOKEN", NULL))) {
		snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", v);
		hdrs = curl_slist_append(hdrs, hdr);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	/* not "curl...": the API server pretty-prints JSON for user agents starting with curl */
	curl_easy_setopt(h, CURLOPT_USERAGENT, "k8s-lua-bench-lowerbound/1");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
	if ((v = env("BENCH_CA", NULL)))
		curl_easy_setopt(h, CURLOPT_CAINFO, v);
	if ((v = env("BENCH_CERT", NULL)))
		curl_easy_setopt(h, CURLOPT_SSLCERT, v);
	if ((v = env("BENCH_KEY", NULL)))
		curl_easy_setopt(h, CURLOPT_SSLKEY, v);
}

/* ------------------------------------------------------------ watch ---- */
typedef struct {
	buf line;
	long want_added, want_modified, added, modified, events;
	const char *ready;
	double t0, added_wall, u0, s0, added_user, added_sys;
	double *delays;
} watch_state;

static int watch_event(watch_state *w, const char *p, size_t n)
{
	const char *type, *stamp = NULL;
	double t = unix_us();
	decode(p, n);
	type = field_str(-1, "type");
	w->events++;
	if (!type)
		fail("watch: event without type", NULL);
	if (strcmp(type, "ADDED") == 0) {
		if (++w->added == w->want_added) {
			w->added_wall = now() - w->t0;
			cpu(&w->added_user, &w->added_sys);
			if (w->ready) {
				FILE *f = fopen(w->ready, "w");
				if (f)
					fclose(f);
			}
		}
	} else if (strcmp(type, "MODIFIED") == 0 && w->added >= w->want_added) {
		lua_getfield(L, -1, "object");
		if (lua_istable(L, -1)) {
			lua_getfield(L, -1, "metadata");
			if (lua_istable(L, -1)) {
				lua_getfield(L, -1, "annotations");
				if (lua_istable(L, -1))
					stamp = field_str(-1, STAMP);
				if (stamp && w->modified < w->want_modified)
					w->delays[w->modified++] = (t - atof(stamp)) / 1e6;
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	} else if (strcmp(type, "ERROR") == 0) {
		fail("watch: ERROR event", NULL);
	}
	lua_pop(L, 1);
	return w->added >= w->want_added && w->modified >= w->want_modified;
}

static size_t on_watch(char *p, size_t sz, size_t n, void *ud)
{
	watch_state *w = ud;
	size_t len = sz * n, i, start = 0;
	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		int done;
		if (w->line.len) { /* an event split across chunks */
			buf_add(&w->line, p + start, i - start);
			done = watch_event(w, w->line.p, w->line.len);
			w->line.len = 0;
		} else {
			done = watch_event(w, p + start, i - start);
		}
		start = i + 1;
		if (done)
			return 0; /* abort the transfer: we have every event */
	}
	if (start < len)
		buf_add(&w->line, p + start, len - start);
	return len;
}

static void print_delays(const double *d, long n)
{
	printf(",\"delays\":[");
	for (long i = 0; i < n; i++)
		printf("%s%.6f", i ? "," : "", d[i]);
	printf("]");
}

int main(int argc, char **argv)
{
	char url[8192];
	buf b = {0};
	double t0, t1, u0, s0, u1, s1;
	const char *wl = argc > 1 ? argv[1] : "";
	long n = atol(env("BENCH_N", "1000")), warm = atol(env("BENCH_WARMUP", "20"));

	setup();
	if (strcmp(wl, "get") == 0) {
		const char *name = env("BENCH_NAME", "");
		snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/configmaps/%s", server, ns, name);
		for (long i = 0; i < warm; i++) {
			fetch(url, &b);
			decode(b.p, b.len);
			lua_pop(L, 1);
		}
		t0 = now();
		cpu(&u0, &s0);
		for (long i = 0; i < n; i++) {
			const char *got;
			fetch(url, &b);
			decode(b.p, b.len);
			lua_getfield(L, -1, "metadata");
			got = field_str(-1, "name");
			if (!got || strcmp(got, name) != 0)
				fail("get: wrong object", got);
			lua_pop(L, 2);
		}
		t1 = now();
		cpu(&u1, &s1);
		printf("{\"ok\":true,\"n\":%ld,\"wall\":%.6f,\"user\":%.6f,\"sys\":%.6f}\n", n, t1 - t0, u1 - u0, s1 - s0);
	} else if (strcmp(wl, "list") == 0 || strcmp(wl, "pager") == 0) {
		long items = 0, rss0;
		snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/configmaps?limit=1", server, ns);
		fetch(url, &b); /* warm the connection */
		rss0 = proc_vmrss_kb();
		t0 = now();
		cpu(&u0, &s0);
		if (strcmp(wl, "list") == 0) {
			snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/configmaps", server, ns);
			fetch(url, &b);
			decode(b.p, b.len);
			lua_getfield(L, -1, "items");
			items = (long)lua_rawlen(L, -1);
			lua_pop(L, 1); /* the list stays on the stack: in memory until the end */
		} else {
			/* pages of BENCH_PAGE; items appended to the first page's list, as pager.List does */
			long page = atol(env("BENCH_PAGE", "500"));
			char *cont = NULL;
			int agg = 0;
			do {
				if (cont) {
					char *e = curl_easy_escape(h, cont, 0);
					snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/configmaps?limit=%ld&continue=%s",
						 server, ns, page, e);
					curl_free(e);
					free(cont);
					cont = NULL;
				} else {
					snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/configmaps?limit=%ld", server, ns, page);
				}
				fetch(url, &b);
				decode(b.p, b.len);
				lua_getfield(L, -1, "metadata");
				const char *c = field_str(-1, "continue");
				if (c && *c)
					cont = strdup(c);
				lua_pop(L, 1);
				if (!agg) {
					agg = lua_gettop(L); /* first page: the aggregate */
					lua_getfield(L, agg, "items");
					items = (long)lua_rawlen(L, -1);
					lua_pop(L, 1);
				} else {
					lua_getfield(L, agg, "items");  /* dst */
					lua_getfield(L, -2, "items");   /* src */
					long m = (long)lua_rawlen(L, -1);
					for (long i = 1; i <= m; i++) {
						lua_rawgeti(L, -1, (int)i);
						lua_rawseti(L, -3, (int)(++items));
					}
					lua_pop(L, 3); /* src, dst, page */
				}
			} while (cont);
		}
		t1 = now();
		cpu(&u1, &s1);
		printf("{\"ok\":true,\"n\":1,\"items\":%ld,\"wall\":%.6f,\"user\":%.6f,\"sys\":%.6f,\"rss0_kb\":%ld,\"maxrss_kb\":%ld}\n",
		       items, t1 - t0, u1 - u0, s1 - s0, rss0, maxrss());
	} else if (strcmp(wl, "watch") == 0) {
		watch_state w = {0};
		CURLcode rc;
		w.want_added = atol(env("BENCH_WATCH_ADDED", "0"));
		w.want_modified = atol(env("BENCH_WATCH_MODIFIED", "0"));
		w.ready = env("BENCH_READY_FILE", NULL);
		w.delays = calloc((size_t)w.want_modified + 1, sizeof(double));
		snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/configmaps?limit=1", server, ns);
		fetch(url, &b);
		snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/configmaps?watch=1", server, ns);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_watch);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &w);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 600L);
		t0 = w.t0 = now();
		cpu(&u0, &s0);
		rc = curl_easy_perform(h);
		t1 = now();
		cpu(&u1, &s1);
		if (w.added < w.want_added || w.modified < w.want_modified) {
			fprintf(stderr, "curlpeer: watch ended early (%s): %ld ADDED, %ld MODIFIED\n",
				curl_easy_strerror(rc), w.added, w.modified);
			fail("watch ended early", NULL);
		}
		printf("{\"ok\":true,\"n\":%ld,\"events\":%ld,\"wall\":%.6f,\"user\":%.6f,\"sys\":%.6f,"
		       "\"added_wall\":%.6f,\"added_user\":%.6f,\"added_sys\":%.6f",
		       w.events, w.events, t1 - t0, u1 - u0, s1 - s0, w.added_wall, w.added_user - u0, w.added_sys - s0);
		print_delays(w.delays, w.modified);
		printf("}\n");
	} else {
		fail("usage: curlpeer get|list|pager|watch", NULL);
	}
	return 0;
}
