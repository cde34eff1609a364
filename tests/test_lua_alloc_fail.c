/* The Lua binding under allocation failure, two ways for each script:
 *  - "Lua allocations": the state's lua_Alloc fails its Nth allocation
 *    (curl's torture idea, applied to Lua). Lua meets a failed allocation
 *    with an emergency collection and one retry, so the retry (the next
 *    allocation) fails too: one "not enough memory" raised where the Nth
 *    allocation was asked for. (Failing every allocation from N on would
 *    also fail the calls of the finalizers the next collection runs, and
 *    Lua 5.4 then never calls them again, by design: C objects would be
 *    lost that no binding can keep.)
 *  - "C allocations": the Nth C allocation of the binding or the core
 *    fails (both are linked with their allocators renamed, as in
 *    test_alloc_fail.c).
 * For every N in 1..N_total (N_total counted by a clean run) a small script
 * builds a client and makes a request against the fake server; each run
 * must either fail with "not enough memory" / "out of memory" or return
 * exactly what the clean run returned; every request that reached the
 * server must be the clean run's (ns-x, the selector, the token); and once
 * the state is closed nothing the binding or the core allocated in C may be
 * left.
 *
 * The binding is linked into this program with Lua 5.4 (the Makefile), and
 * k8s.core is preloaded; lua/ is on package.path.
 * K8S_FA_N=n runs only that N; K8S_FA_STRIDE=k every k-th. */
#include <signal.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "k8s.h"
#include "test.h"
#include "fakeserver.h"
#include "alloc_fail.h"

#ifndef K8S_LUA_DIR
#define K8S_LUA_DIR "lua"
#endif

int luaopen_k8s_core(lua_State *L);

#define TOKEN "tok-0123456789abcdef"

static fakeserver FS;

/* ---- a lua_Alloc that fails the Nth growing allocation and its retry ---- */

static unsigned long l_count, l_fail_from;

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	(void)ud;
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	if (!ptr || nsize > osize) { /* Lua never lets a shrink fail */
		l_count++;
		if (l_fail_from && (l_count == l_fail_from || l_count == l_fail_from + 1))
			return NULL;
	}
	return realloc(ptr, nsize);
}

/* ---- one run ---- */

typedef struct {
	int status;         /* lua_pcall's, or LUA_ERRMEM when the state could not be made */
	char text[4096];    /* what the script returned, or the error */
} lrun;

static const char *run_script;
static const char *mode_name = "";

static int l_main(lua_State *L)
{
	luaL_openlibs(L);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaopen_k8s_core);
	lua_setfield(L, -2, "k8s.core");
	lua_pop(L, 1);
	lua_getglobal(L, "package");
	lua_pushstring(L, K8S_LUA_DIR "/?.lua;" K8S_LUA_DIR "/?/init.lua");
	lua_setfield(L, -2, "path");
	lua_pushstring(L, "");
	lua_setfield(L, -2, "cpath");
	lua_pop(L, 1);
	lua_pushstring(L, FS.url);
	lua_setglobal(L, "URL");
	lua_pushstring(L, TOKEN);
	lua_setglobal(L, "TOKEN");
	if (luaL_loadstring(L, run_script) != LUA_OK)
		return lua_error(L);
	lua_call(L, 0, 1);
	return 1;
}

/* mode 'l': Lua allocation n fails; 'c': C allocation n fails. *count is
 * the number of allocations of that kind the run made. */
static void run_lua(int mode, unsigned long n, lrun *o, unsigned long *count)
{
	lua_State *L;
	memset(o, 0, sizeof(*o));
	l_count = 0;
	l_fail_from = mode == 'l' ? n : 0;
	fa_arm(mode == 'c' ? n : 0);
	L = lua_newstate(l_alloc, NULL);
	if (!L) {
		fa_disarm();
		*count = mode == 'l' ? l_count : fa_count;
		o->status = LUA_ERRMEM;
		snprintf(o->text, sizeof(o->text), "not enough memory (lua_newstate)");
		return;
	}
	lua_pushcfunction(L, l_main);
	o->status = lua_pcall(L, 0, 1, 0);
	l_fail_from = 0;
	fa_disarm();
	*count = mode == 'l' ? l_count : fa_count;
	snprintf(o->text, sizeof(o->text), "%s", luaL_tolstring(L, -1, NULL));
	lua_close(L);
}

/* ---- checks ---- */

typedef struct {
	const char *name, *script;
	const char *method, *target; /* every request that reaches the server */
} lscenario;

/* What the run sent (its connections are closed with the state) has been
 * read and recorded by the server. */
static void quiesce(void)
{
	fs_quiesce(&FS);
}

static int is_oom_text(const char *s)
{
	return strstr(s, "not enough memory") || strstr(s, "out of memory");
}

static unsigned long stride(void)
{
	const char *s = getenv("K8S_FA_STRIDE");
	return s && atol(s) > 0 ? (unsigned long)atol(s) : 1;
}

static int check_server(const lscenario *sc, unsigned long n, size_t *nreq)
{
	size_t i, cnt = fs_count(&FS);
	int bad = 0;
	*nreq = 0;
	for (i = 0; i < cnt; i++) {
		const fs_request *q = fs_req(&FS, i);
		const char *auth = fs_header(q, "Authorization");
		if (!strcmp(q->method, "QUIESCE"))
			continue;
		(*nreq)++;
		if (strcmp(q->method, sc->method) || strcmp(q->target, sc->target) || !auth ||
		    strcmp(auth, "Bearer " TOKEN)) {
			fprintf(stderr, "  [%s%s N=%lu] a request reached the server as %s %s (Authorization %s)\n", sc->name, mode_name, n,
				q->method, q->target, auth ? (strcmp(auth, "Bearer " TOKEN) ? "other" : "ok") : "none");
			bad++;
		}
	}
	return bad;
}

static void torture(const lscenario *sc, int mode)
{
	lrun base, o;
	unsigned long total, n, count, ran = 0, ooms = 0;
	size_t live0 = fa_live(), base_reqs, nreq;
	int bad = 0;
	double t0 = now_s();
	run_script = sc->script;
	mode_name = mode == 'l' ? " (Lua)" : " (C)";
	fs_reset(&FS);
	fs_fallback(&FS, 200, "application/json", NULL,
		    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\"}", FS_OK);
	run_lua(mode, 0, &base, &total);
	quiesce();
	bad += check_server(sc, 0, &base_reqs);
	if (base.status != LUA_OK) {
		fprintf(stderr, "  [%s] the clean run failed: %s\n", sc->name, base.text);
		CHECK(base.status == LUA_OK);
		return;
	}
	CHECK(base_reqs == 1);
	n = 1;
	if (getenv("K8S_FA_N"))
		n = total = (unsigned long)atol(getenv("K8S_FA_N"));
	for (; n <= total && bad <= 20; n += stride()) {
		fs_reset(&FS);
		fs_fallback(&FS, 200, "application/json", NULL,
			    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\"}", FS_OK);
		run_lua(mode, n, &o, &count);
		quiesce();
		ran++;
		if (o.status != LUA_OK) {
			if (o.status != LUA_ERRMEM && !is_oom_text(o.text)) {
				fprintf(stderr, "  [%s%s N=%lu] neither \"not enough memory\" nor the clean outcome: %s\n",
					sc->name, mode_name, n, o.text);
				bad++;
			}
			ooms++;
		} else if (strcmp(o.text, base.text) != 0) {
			fprintf(stderr, "  [%s%s N=%lu] a different outcome:\n    got  %s\n    want %s\n", sc->name, mode_name, n, o.text,
				base.text);
			bad++;
		}
		bad += check_server(sc, n, &nreq);
		if (nreq > base_reqs || (o.status == LUA_OK && nreq != base_reqs)) {
			fprintf(stderr, "  [%s%s N=%lu] %zu requests reached the server, the clean run made %zu\n", sc->name, mode_name, n,
				nreq, base_reqs);
			bad++;
		}
		if (fa_live() != live0) {
			fprintf(stderr, "  [%s%s N=%lu] %zu block(s) allocated in C were not freed when the state closed\n",
				sc->name, mode_name, n, fa_live() - live0);
			bad++;
			live0 = fa_live(); /* report each leak once */
		}
	}
	fprintf(stderr, "  %s, %s: %lu allocations, %lu runs (%lu out of memory, %lu identical), %.2fs\n", sc->name,
		mode == 'l' ? "Lua allocations" : "C allocations", total, ran, ooms, ran - ooms, now_s() - t0);
	CHECK(bad == 0);
}

/* The binding alone (k8s.core): a client from a config table, a
 * DeleteCollection in ns-x with a selector, the answer decoded. */
TEST(core_delete_collection)
{
	lscenario sc = {
		"core_delete_collection",
		"local core = require 'k8s.core'\n"
		"local c, err = core.rest_client_for({Host = URL, BearerToken = TOKEN, QPS = -1, APIPath = '/api',\n"
		"  ContentConfig = {GroupVersion = 'v1'}}, true)\n"
		"if not c then error(tostring(err.message or err)) end\n"
		"local res, derr = c:Verb('DELETE'):Namespace('ns-x'):Resource('configmaps'):Param('labelSelector', 'app=x'):Do()\n"
		"if not res then error(tostring(derr.message or derr)) end\n"
		"local obj, err = res:Get()\n"
		"if not obj then error(tostring(err and err.message or err)) end\n"
		"return res:StatusCode() .. ' ' .. obj.kind .. ' ' .. obj.status .. ' ' .. res:Raw()\n",
		"DELETE", "/api/v1/namespaces/ns-x/configmaps?labelSelector=app%3Dx"};
	torture(&sc, 'l');
	torture(&sc, 'c');
}

/* The library as applications use it: require "k8s", a clientset, a typed
 * DeleteCollection in ns-x (the Lua modules are loaded in every run). */
TEST(clientset_delete_collection)
{
	lscenario sc = {
		"clientset_delete_collection",
		"local k8s = require 'k8s'\n"
		"local cs = assert(k8s.kubernetes.NewForConfig({Host = URL, BearerToken = TOKEN, QPS = -1}))\n"
		"local ok, err = cs:CoreV1():ConfigMaps('ns-x'):DeleteCollection({}, {labelSelector = 'app=x'})\n"
		"if err then error(tostring(err.message or err)) end\n"
		"return tostring(ok)\n",
		"DELETE", "/api/v1/namespaces/ns-x/configmaps?labelSelector=app%3Dx"};
	torture(&sc, 'l');
	torture(&sc, 'c');
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	signal(SIGPIPE, SIG_IGN);
	fa_init();
	k8s_global_set_number(K8S_OPT_VERBOSITY, 0);
	setenv("NO_PROXY", "*", 1);
	if (fs_start(&FS) < 0)
		abort();
#define MAYBE(name) do { if (!only || strstr(#name, only)) RUN(name); } while (0)
	MAYBE(core_delete_collection);
	MAYBE(clientset_delete_collection);
	fs_stop(&FS);
	(void)fs_push_delayed;
	(void)fs_push;
	return TEST_SUMMARY();
}
