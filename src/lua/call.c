/* The nginx driver's side of the engine: k8s.Call (a pending request, the
 * engine's actions as Lua values) and k8s.Wire (one connection's TLS and
 * HTTP/1.1 in C). lua/k8s/ngx.lua moves the bytes with cosockets and sleeps
 * with ngx.sleep; every decision stays in the C engine (src/call.c). */
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "json.h"
#include "rest_internal.h"
#include "exec.h"
#include "spawn.h"
#include "wire.h"

#define MT_CALL "k8s.Call"
#define MT_WIRE "k8s.Wire"

typedef struct {
	k8s_call *k;
	int kind;
	k8s_spawn *sp;   /* a running exec plugin */
} l_call;

typedef struct { k8s_wire *w; } l_wire;

static const char PENDING_KEY = 0;

void k8s_lua_push_pending_marker(lua_State *L)
{
	lua_pushlightuserdata(L, (void *)&PENDING_KEY);
	lua_rawget(L, LUA_REGISTRYINDEX);
}

static const char DRIVER_KEY = 0;

int k8s_lua_driver_on(lua_State *L)
{
	int on;
	lua_pushlightuserdata(L, (void *)&DRIVER_KEY);
	lua_rawget(L, LUA_REGISTRYINDEX);
	on = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return on;
}

/* core.set_driver(on): calls return pending instead of blocking (k8s.ngx). */
static int l_set_driver(lua_State *L)
{
	lua_pushlightuserdata(L, (void *)&DRIVER_KEY);
	lua_pushboolean(L, lua_toboolean(L, 1));
	lua_rawset(L, LUA_REGISTRYINDEX);
	return 0;
}

int k8s_lua_push_pending(lua_State *L, k8s_call *k, int kind)
{
	l_call *c;
	k8s_lua_push_pending_marker(L);
	c = lua_newuserdata(L, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->k = k;
	c->kind = kind;
	luaL_setmetatable(L, MT_CALL);
	return 2;
}

static l_call *check_call(lua_State *L)
{
	l_call *c = luaL_checkudata(L, 1, MT_CALL);
	if (!c->k)
		luaL_error(L, "k8s.Call: already finished");
	return c;
}

static int call_gc(lua_State *L)
{
	l_call *c = luaL_checkudata(L, 1, MT_CALL);
	k8s__spawn_free(c->sp);
	c->sp = NULL;
	k8s_call_free(c->k);
	c->k = NULL;
	return 0;
}

/* call:next() -> "sleep", seconds | "exec", invalidate | "token", invalidate | "send" | "drain" | "done" */
static int call_next(lua_State *L)
{
	l_call *c = check_call(L);
	switch (k8s_call_next(c->k)) {
	case K8S_CALL_SLEEP:
		lua_pushliteral(L, "sleep");
		lua_pushnumber(L, k8s_call_sleep_seconds(c->k));
		return 2;
	case K8S_CALL_EXEC:
		lua_pushliteral(L, "exec");
		lua_pushboolean(L, k8s_call_credential_invalidate(c->k));
		return 2;
	case K8S_CALL_TOKEN:
		lua_pushliteral(L, "token");
		lua_pushboolean(L, k8s_call_credential_invalidate(c->k));
		return 2;
	case K8S_CALL_SEND:
		lua_pushliteral(L, "send");
		lua_pushnumber(L, k8s_call_timeout(c->k));
		return 2;
	case K8S_CALL_DRAIN:
		lua_pushliteral(L, "drain");
		return 1;
	default:
		lua_pushliteral(L, "done");
		lua_pushinteger(L, k8s_call_status(c->k));
		return 2;
	}
}

static int call_slept(lua_State *L)
{
	k8s_call_slept(check_call(L)->k);
	return 0;
}

/* call:exec_start() -> timeout seconds, or (done) nil when it failed to start */
static int call_exec_start(lua_State *L)
{
	l_call *c = check_call(L);
	k8s_config *cfg = k8s__call_client(c->k)->cfg;
	k8s_exec_provider *p = cfg->exec_payload ? cfg->exec_payload->ptr : NULL;
	int rc;
	if (!p) {
		k8s_call_exec_done(c->k, 0);
		return 0;
	}
	k8s__spawn_free(c->sp);
	c->sp = NULL;
	rc = k8s__exec_provider_start(p, &c->sp);
	if (rc < 0) {
		const k8s_credential *cred;
		rc = k8s__exec_provider_finish(p, NULL, rc, &cred);
		k8s_call_exec_done(c->k, rc);
		return 0;
	}
	lua_pushnumber(L, k8s__exec_provider_timeout(p));
	return 1;
}

/* call:exec_poll() -> true when the plugin finished (and its result was taken) */
static int call_exec_poll(lua_State *L)
{
	l_call *c = check_call(L);
	k8s_config *cfg = k8s__call_client(c->k)->cfg;
	k8s_exec_provider *p = cfg->exec_payload ? cfg->exec_payload->ptr : NULL;
	const k8s_credential *cred;
	int rc;
	if (!c->sp || !p) {
		lua_pushboolean(L, 1);
		return 1;
	}
	rc = k8s__spawn_poll(c->sp, 0);
	if (rc == 0) {
		lua_pushboolean(L, 0);
		return 1;
	}
	rc = k8s__exec_provider_finish(p, c->sp, rc, &cred);
	k8s__spawn_free(c->sp);
	c->sp = NULL;
	k8s_call_exec_done(c->k, rc);
	lua_pushboolean(L, 1);
	return 1;
}

/* call:token_source() -> the config's Lua TokenSource function, or nil */
static int call_token_source(lua_State *L)
{
	l_call *c = check_call(L);
	return k8s_lua_push_token_source(L, k8s__call_client(c->k)->cfg);
}

/* call:token_done(ok, r1, r2): what a pcall of the TokenSource returned */
static int call_token_done(lua_State *L)
{
	l_call *c = check_call(L);
	char *tok = NULL;
	double exp = 0;
	int rc;
	lua_settop(L, 4);
	k8s_error_clear();
	rc = k8s_lua_token_result(L, k8s__call_client(c->k)->cfg, lua_toboolean(L, 2) ? 0 : 1, 3, &tok, &exp);
	k8s_call_token_done(c->k, rc, tok, exp);
	k8s__sfree(tok);
	return 0;
}

/* call:failed(reason, message): the connection failed below HTTP */
static int call_failed(lua_State *L)
{
	l_call *c = check_call(L);
	const char *reason = luaL_checkstring(L, 2), *msg = luaL_optstring(L, 3, reason);
	int code = K8S_ETRANSPORT;
	if (strcmp(reason, "Timeout") == 0)
		code = K8S_ETIMEOUT;
	else if (strncmp(reason, "TLSVerify", 9) == 0 || strcmp(reason, "TLSConfigError") == 0)
		code = K8S_ECERTIFICATE;
	k8s__error(code, reason, "%s", msg);
	k8s_call_failed(c->k, code);
	return 0;
}

static l_wire *check_wire(lua_State *L, int idx)
{
	l_wire *w = luaL_checkudata(L, idx, MT_WIRE);
	if (!w->w)
		luaL_error(L, "k8s.Wire: closed");
	return w;
}

/* call:response(wire): the response head arrived */
static int call_response(lua_State *L)
{
	l_call *c = check_call(L);
	l_wire *w = check_wire(L, 2);
	const k8s_http_head *h = k8s__wire_head(w->w);
	k8s_call_response(c->k, h->status, (const char *const *)h->rh, h->nrh);
	return 0;
}

static int call_drained(lua_State *L)
{
	k8s_call_drained(check_call(L)->k);
	return 0;
}

/* call:finish([body]): what the method returns, from the answer's whole body */
static int call_finish(lua_State *L)
{
	l_call *c = check_call(L);
	size_t len = 0;
	const char *b = luaL_optlstring(L, 2, "", &len);
	k8s_result *res = NULL;
	k8s_buf body = K8S_BUF_INIT;
	int rc, n;
	if (len && k8s_buf_put(&body, b, len) < 0)
		return luaL_error(L, "out of memory");
	rc = k8s__call_result_buf(&res, c->k, &body);
	switch (c->kind) {
	case K8S_LUA_DO:
		n = k8s_lua_do_outcome(L, rc, res);
		break;
	case K8S_LUA_DORAW:
		n = k8s_lua_do_raw_outcome(L, rc, res);
		break;
	case K8S_LUA_STREAM:
	case K8S_LUA_WATCH: /* only for an answer that is not 2xx */
		if (res && rc == 0)
			rc = K8S_ESTATUS;
		n = k8s_lua_fail_call(L, rc, res, c->kind == K8S_LUA_STREAM ? "Stream" : "Watch");
		break;
	default:
		n = k8s_lua_decode_outcome(L, rc, res, c->kind == K8S_LUA_DECODE, NULL);
	}
	return n;
}

/* call:kind() -> "decode" | "do" | "doraw" | "stream" | "watch" */
static int call_kind(lua_State *L)
{
	static const char *const names[] = {"", "decode", "decode", "do", "doraw", "stream", "watch"};
	l_call *c = check_call(L);
	lua_pushstring(L, names[c->kind]);
	return 1;
}

/* call:method() -> the HTTP method ("GET", "POST", ...) */
static int call_method(lua_State *L)
{
	lua_pushstring(L, k8s_call_method(check_call(L)->k));
	return 1;
}

/* call:status() -> rc, HTTP status of the answer */
static int call_status(lua_State *L)
{
	l_call *c = check_call(L);
	lua_pushinteger(L, k8s_call_status(c->k));
	lua_pushinteger(L, k8s_call_response_status(c->k));
	return 2;
}

/* call:watcher() -> a k8s.Watcher fed by the driver */
static int call_watcher(lua_State *L)
{
	l_call *c = check_call(L);
	k8s_watch *w;
	if (k8s__watch_new_fed(&w, c->k) < 0)
		return k8s_lua_fail_last(L);
	k8s_lua_push_watch(L, w);
	return 1;
}

/* call:run_blocking(): the whole call with the blocking driver (init_by_lua) */
static int call_run_blocking(lua_State *L)
{
	l_call *c = check_call(L);
	int n;
	lua_settop(L, 1);
	n = k8s_lua_call_blocking(L, c->k, c->kind);
	return n;
}

/* call:wire() -> a new connection for this call: wire, host, port, pool key */
static int call_wire(lua_State *L)
{
	l_call *c = check_call(L);
	l_wire *w = lua_newuserdata(L, sizeof(*w));
	w->w = NULL;
	luaL_setmetatable(L, MT_WIRE);
	if (k8s__wire_new(&w->w, c->k) < 0)
		return k8s_lua_fail_last(L);
	lua_pushstring(L, k8s__wire_host(w->w));
	lua_pushinteger(L, k8s__wire_port(w->w));
	lua_pushstring(L, k8s__wire_pool_key(w->w));
	return 4;
}

/* ---- Wire ---- */

static int wire_gc(lua_State *L)
{
	l_wire *w = luaL_checkudata(L, 1, MT_WIRE);
	k8s__wire_free(w->w);
	w->w = NULL;
	return 0;
}

/* wire:handshake() -> true when done, false when it needs the peer's answer; nil, err */
static int wire_handshake(lua_State *L)
{
	l_wire *w = check_wire(L, 1);
	int rc = k8s__wire_handshake(w->w);
	if (rc < 0)
		return k8s_lua_fail_last(L);
	lua_pushboolean(L, rc == 1);
	return 1;
}

/* wire:pending() -> bytes to send (taken), or nil */
static int wire_pending(lua_State *L)
{
	l_wire *w = check_wire(L, 1);
	size_t n;
	const char *p = k8s__wire_pending(w->w, &n);
	if (!n) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushlstring(L, p, n);
	k8s__wire_consume(w->w, n);
	return 1;
}

/* wire:request(call): start an exchange; the request is then pending */
static int wire_request(lua_State *L)
{
	l_wire *w = check_wire(L, 1);
	l_call *c = luaL_checkudata(L, 2, MT_CALL);
	if (!c->k)
		return luaL_error(L, "k8s.Call: already finished");
	if (k8s__wire_request(w->w, c->k) < 0)
		return k8s_lua_fail_last(L);
	lua_pushboolean(L, 1);
	return 1;
}

/* wire:feed(bytes) -> headers done, message done; or nil, err */
static int wire_feed(lua_State *L)
{
	l_wire *w = check_wire(L, 1);
	size_t n;
	const char *p = luaL_checklstring(L, 2, &n);
	if (k8s__wire_feed(w->w, p, n) < 0)
		return k8s_lua_fail_last(L);
	lua_pushboolean(L, k8s__wire_headers_done(w->w));
	lua_pushboolean(L, k8s__wire_done(w->w));
	return 2;
}

/* wire:eof() -> true (the message ended with the connection), or nil, err */
static int wire_eof(lua_State *L)
{
	l_wire *w = check_wire(L, 1);
	if (k8s__wire_eof(w->w) < 0)
		return k8s_lua_fail_last(L);
	lua_pushboolean(L, 1);
	return 1;
}

/* wire:body() -> the decoded body received so far (taken), or nil */
static int wire_body(lua_State *L)
{
	l_wire *w = check_wire(L, 1);
	k8s_buf *b = k8s__wire_body(w->w);
	if (!b || !b->len) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushlstring(L, b->ptr, b->len);
	k8s_buf_consume(b, b->len);
	return 1;
}

static int wire_keepalive(lua_State *L)
{
	l_wire *w = check_wire(L, 1);
	lua_pushboolean(L, k8s__wire_keepalive(w->w));
	return 1;
}

static int wire_is_tls(lua_State *L)
{
	lua_pushboolean(L, k8s__wire_is_tls(check_wire(L, 1)->w));
	return 1;
}

static int wire_session_reused(lua_State *L)
{
	lua_pushboolean(L, k8s__wire_session_reused(check_wire(L, 1)->w));
	return 1;
}

static const luaL_Reg call_methods[] = {
	{"next", call_next}, {"slept", call_slept}, {"exec_start", call_exec_start}, {"exec_poll", call_exec_poll},
	{"token_source", call_token_source}, {"token_done", call_token_done}, {"failed", call_failed},
	{"response", call_response}, {"drained", call_drained}, {"finish", call_finish}, {"kind", call_kind},
	{"method", call_method},
	{"status", call_status}, {"watcher", call_watcher}, {"run_blocking", call_run_blocking},
	{"wire", call_wire}, {"close", call_gc}, {NULL, NULL}};

static const luaL_Reg wire_methods[] = {
	{"handshake", wire_handshake}, {"pending", wire_pending}, {"request", wire_request}, {"feed", wire_feed},
	{"eof", wire_eof}, {"body", wire_body}, {"keepalive", wire_keepalive}, {"is_tls", wire_is_tls},
	{"session_reused", wire_session_reused}, {"close", wire_gc}, {NULL, NULL}};

static const luaL_Reg call_meta[] = {{"__gc", call_gc}, {NULL, NULL}};
static const luaL_Reg wire_meta[] = {{"__gc", wire_gc}, {NULL, NULL}};

void k8s_lua_register_call(lua_State *L)
{
	k8s_lua_new_class(L, MT_CALL, call_methods, call_meta);
	k8s_lua_new_class(L, MT_WIRE, wire_methods, wire_meta);
	lua_pushlightuserdata(L, (void *)&PENDING_KEY);
	lua_newtable(L);
	lua_rawset(L, LUA_REGISTRYINDEX);
	k8s_lua_push_pending_marker(L);
	lua_setfield(L, -2, "PENDING");
	lua_pushcfunction(L, l_set_driver);
	lua_setfield(L, -2, "set_driver");
}
