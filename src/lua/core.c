/* The Lua binding: module "k8s.core". One source for Lua 5.4 and LuaJIT.
 * Userdata wrap the C core's objects; the Lua modules in lua/k8s build the public API
 * on top. Invalid arguments raise; network and server failures return
 * nil, err where err is a table with code, reason, message, status and
 * retryAfterSeconds. */
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <openssl/evp.h>
#include "k8s.h"
#include "json.h"
#include "yaml.h"
#include "core.h"
#include "proto.h"
#include "rest_internal.h"

#define MT_CLIENT "k8s.RESTClient"
#define MT_REQUEST "k8s.Request"
#define MT_RESULT "k8s.Result"
#define MT_STREAM "k8s.Stream"
#define MT_WATCH "k8s.Watcher"
#define MT_LIMITER "k8s.RateLimiter"

typedef struct { k8s_rest_client *c; } l_client;
typedef struct { k8s_request *r; } l_request;
typedef struct { k8s_result *res; } l_result;
typedef struct { k8s_stream *s; } l_stream;
typedef struct { k8s_watch *w; } l_watch;
typedef struct { k8s_rate_limiter *rl; } l_limiter;

/* ---- C objects across Lua allocations ----
 * Almost any Lua API call may raise "not enough memory": a C object held
 * only in a local variable meanwhile would leak. A userdata that owns such
 * an object is made before anything else can raise; when even that fails
 * the object is freed and the error raised again. */

#define MT_OWNED "k8s.Owned"

typedef struct { void *p; void (*free_fn)(void *); } l_owned;

static int owned_gc(lua_State *L)
{
	l_owned *o = lua_touserdata(L, 1);
	if (o->p && o->free_fn)
		o->free_fn(o->p);
	o->p = NULL;
	return 0;
}

static int newudata_step(lua_State *L)
{
	lua_newuserdata(L, (size_t)lua_tointeger(L, 1));
	return 1;
}

void *k8s_lua_newudata_or_free(lua_State *L, size_t size, void (*free_fn)(void *), void *obj)
{
	lua_pushcfunction(L, newudata_step);
	lua_pushinteger(L, (lua_Integer)size);
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		if (free_fn && obj)
			free_fn(obj);
		lua_error(L); /* the error, on top */
	}
	return lua_touserdata(L, -1);
}

void *k8s_lua_owned(lua_State *L, void *obj, void (*free_fn)(void *))
{
	l_owned *o = k8s_lua_newudata_or_free(L, sizeof(*o), free_fn, obj);
	o->p = obj;
	o->free_fn = free_fn;
	luaL_setmetatable(L, MT_OWNED);
	return o;
}

void *k8s_lua_disown(void *owned)
{
	l_owned *o = owned;
	void *p = o->p;
	o->p = NULL;
	return p;
}

static void free_config(void *p) { k8s_config_free(p); }
static void free_client(void *p) { k8s_rest_client_free(p); }
static void free_request(void *p) { k8s_request_free(p); }
static void free_result(void *p) { k8s_result_free(p); }
static void free_stream(void *p) { k8s_stream_free(p); }
static void free_watch(void *p) { k8s_watch_free(p); }
static void free_limiter(void *p) { k8s_rate_limiter_free(p); }
static void free_call(void *p) { k8s_call_free(p); }

/* ---- errors ---- */

void k8s_lua_push_error(lua_State *L, int code, const char *reason, const char *message, const char *status_json,
			int retry_after)
{
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, code);
	lua_setfield(L, -2, "code");
	lua_pushstring(L, reason ? reason : "");
	lua_setfield(L, -2, "reason");
	lua_pushstring(L, message ? message : "");
	lua_setfield(L, -2, "message");
	lua_pushinteger(L, retry_after);
	lua_setfield(L, -2, "retryAfterSeconds");
	if (status_json) {
		char err[128];
		if (k8s_lua_json_decode(L, status_json, strlen(status_json), err, sizeof(err)))
			lua_setfield(L, -2, "status");
	}
	luaL_getmetatable(L, "k8s.Error");
	lua_setmetatable(L, -2);
}

int k8s_lua_fail_last(lua_State *L)
{
	const k8s_error *e = k8s_error_last();
	lua_pushnil(L);
	k8s_lua_push_error(L, 0, e->reason, e->message, NULL, 0);
	return 2;
}

int k8s_lua_fail_status(lua_State *L, const k8s_status *st)
{
	lua_pushnil(L);
	k8s_lua_push_error(L, st->code, st->reason, st->message, st->status_json, st->retry_after_seconds);
	return 2;
}

int k8s_lua_raise_last(lua_State *L, const char *where)
{
	const k8s_error *e = k8s_error_last();
	return luaL_error(L, "%s: %s", where, e->message);
}

static int error_tostring(lua_State *L)
{
	lua_Integer code;
	const char *reason, *msg;
	lua_getfield(L, 1, "code");
	code = lua_tointeger(L, -1);
	lua_getfield(L, 1, "reason");
	reason = lua_tostring(L, -1);
	lua_getfield(L, 1, "message");
	msg = lua_tostring(L, -1);
	if (code)
		lua_pushfstring(L, "k8s: %s (%d): %s", reason ? reason : "", (int)code, msg ? msg : "");
	else
		lua_pushfstring(L, "k8s: %s: %s", reason ? reason : "", msg ? msg : "");
	return 1;
}

/* ---- config from a Lua table ---- */

static int known_prefix(const char *path, size_t plen)
{
	size_t i;
	const char *f;
	for (i = 0; (f = k8s_config_field_name(i)); i++)
		if (strncmp(f, path, plen) == 0 && (f[plen] == 0 || f[plen] == '.'))
			return 1;
	return 0;
}

/* Reject keys the config does not know, naming them. */
static void check_keys(lua_State *L, int idx, const char *prefix)
{
	char path[256];
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "config%s%s: keys must be strings", *prefix ? "." : "", prefix);
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", lua_tostring(L, -1));
		if (!known_prefix(path, strlen(path))) {
			/* these are handled by the Lua layer or carry no C meaning */
			if (strcmp(path, "AuthConfigPersister") && strcmp(path, "AuthProvider.Plugin") &&
			    strcmp(path, "TokenSource") && strcmp(path, "AuthProvider.Source") &&
			    strcmp(path, "RateLimiter") && strcmp(path, "WarningHandler") &&
			    strcmp(path, "ExecProvider.Config") && strcmp(path, "ExecProvider.Cluster"))
				luaL_error(L, "config: unknown field %s", path);
		}
	}
}

static const char *tname(lua_State *L, int idx)
{
	return lua_typename(L, lua_type(L, idx));
}

/* Push tbl.a.b for "a.b"; pushes nil when absent. */
static void get_path(lua_State *L, int tidx, const char *field)
{
	char part[64];
	const char *p = field, *dot;
	lua_pushvalue(L, tidx);
	while ((dot = strchr(p, '.'))) {
		size_t n = (size_t)(dot - p);
		if (n >= sizeof(part))
			n = sizeof(part) - 1;
		memcpy(part, p, n);
		part[n] = 0;
		if (lua_type(L, -1) != LUA_TTABLE) {
			lua_pop(L, 1);
			lua_pushnil(L);
			return;
		}
		lua_getfield(L, -1, part);
		lua_remove(L, -2);
		p = dot + 1;
	}
	if (lua_type(L, -1) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_pushnil(L);
		return;
	}
	lua_getfield(L, -1, p);
	lua_remove(L, -2);
}

k8s_config *k8s_lua_check_config(lua_State *L, int idx)
{
	k8s_config *cfg;
	void *owner;
	size_t i;
	const char *f;
	int t = lua_gettop(L);
	if (idx < 0)
		idx = t + idx + 1;
	luaL_checktype(L, idx, LUA_TTABLE);
	check_keys(L, idx, "");
	/* nested tables */
	{
		static const char *const nested[] = {"Impersonate", "TLSClientConfig", "ContentConfig", "AuthProvider",
						     "ExecProvider", NULL};
		int k;
		for (k = 0; nested[k]; k++) {
			lua_getfield(L, idx, nested[k]);
			if (!lua_isnil(L, -1)) {
				if (lua_type(L, -1) != LUA_TTABLE)
					luaL_error(L, "config.%s must be a table, got %s", nested[k], tname(L, -1));
				check_keys(L, lua_gettop(L), nested[k]);
			}
			lua_pop(L, 1);
		}
	}
	if (k8s_config_new(&cfg) < 0)
		luaL_error(L, "out of memory");
	/* owned until returned: any raise below frees it */
	owner = k8s_lua_owned(L, cfg, free_config);
	for (i = 0; (f = k8s_config_field_name(i)); i++) {
		k8s_field_type ft = k8s_config_field_type(f);
		int rc = 0;
		get_path(L, idx, f);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			continue;
		}
		switch (ft) {
		case K8S_FIELD_STRING:
			if (lua_type(L, -1) != LUA_TSTRING)
				goto bad_type;
			rc = k8s_config_set_string(cfg, f, lua_tostring(L, -1));
			break;
		case K8S_FIELD_BYTES: {
			size_t len;
			const char *s;
			if (lua_type(L, -1) != LUA_TSTRING)
				goto bad_type;
			s = lua_tolstring(L, -1, &len);
			rc = k8s_config_set_bytes(cfg, f, s, len);
			break;
		}
		case K8S_FIELD_BOOL:
			if (lua_type(L, -1) != LUA_TBOOLEAN)
				goto bad_type;
			rc = k8s_config_set_bool(cfg, f, lua_toboolean(L, -1));
			break;
		case K8S_FIELD_NUMBER:
			if (lua_type(L, -1) != LUA_TNUMBER)
				goto bad_type;
			rc = k8s_config_set_number(cfg, f, lua_tonumber(L, -1));
			break;
		case K8S_FIELD_LIST: {
			int n, j;
			if (lua_type(L, -1) != LUA_TTABLE)
				goto bad_type;
			n = (int)K8S_LUA_RAWLEN(L, -1);
			for (j = 1; j <= n && rc == 0; j++) {
				lua_rawgeti(L, -1, j);
				if (lua_type(L, -1) != LUA_TSTRING) {
					luaL_error(L, "config.%s[%d] must be a string, got %s", f, j, tname(L, -1));
				}
				rc = k8s_config_add_string(cfg, f, lua_tostring(L, -1));
				lua_pop(L, 1);
			}
			break;
		}
		case K8S_FIELD_PAIRS: {
			int tix = lua_gettop(L);
			if (lua_type(L, -1) != LUA_TTABLE)
				goto bad_type;
			if (K8S_LUA_RAWLEN(L, tix) > 0) {
				/* list of { Name = ..., Value = ... } (ExecProvider.Env) */
				int n = (int)K8S_LUA_RAWLEN(L, tix), j;
				for (j = 1; j <= n && rc == 0; j++) {
					lua_rawgeti(L, tix, j);
					lua_getfield(L, -1, "Name");
					lua_getfield(L, -2, "Value");
					if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
						luaL_error(L, "config.%s[%d] must be { Name = string, Value = string }", f, j);
					}
					rc = k8s_config_add_pair(cfg, f, lua_tostring(L, -2), lua_tostring(L, -1));
					lua_pop(L, 3);
				}
				break;
			}
			lua_pushnil(L);
			while (rc == 0 && lua_next(L, tix)) {
				if (lua_type(L, -2) != LUA_TSTRING) {
					luaL_error(L, "config.%s: keys must be strings", f);
				}
				if (lua_type(L, -1) == LUA_TTABLE) {
					int n = (int)K8S_LUA_RAWLEN(L, -1), j;
					for (j = 1; j <= n && rc == 0; j++) {
						lua_rawgeti(L, -1, j);
						if (lua_type(L, -1) != LUA_TSTRING) {
							luaL_error(L, "config.%s.%s[%d] must be a string", f, lua_tostring(L, -3), j);
						}
						rc = k8s_config_add_pair(cfg, f, lua_tostring(L, -3), lua_tostring(L, -1));
						lua_pop(L, 1);
					}
				} else if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ||
					   lua_type(L, -1) == LUA_TBOOLEAN) {
					const char *v = lua_type(L, -1) == LUA_TBOOLEAN
								? (lua_toboolean(L, -1) ? "true" : "false")
								: lua_tostring(L, -1); /* converts a number in place: value slot only */
					rc = k8s_config_add_pair(cfg, f, lua_tostring(L, -2), v);
				} else {
					luaL_error(L, "config.%s.%s must be a string or a list of strings, got %s", f,
						   lua_tostring(L, -2), tname(L, -1));
				}
				lua_pop(L, 1);
			}
			break;
		}
		default:
			break;
		}
		lua_pop(L, 1);
		if (rc < 0) {
			char msg[512];
			snprintf(msg, sizeof(msg), "%s", k8s_error_last()->message);
			luaL_error(L, "%s", msg);
		}
		continue;
bad_type:
		{
			const char *want = ft == K8S_FIELD_STRING ? "a string" : ft == K8S_FIELD_BYTES ? "a string"
					   : ft == K8S_FIELD_BOOL ? "a boolean" : ft == K8S_FIELD_NUMBER ? "a number" : "a table";
			const char *got = tname(L, -1);
			luaL_error(L, "config.%s must be %s, got %s", f, want, got);
		}
	}
	lua_getfield(L, idx, "RateLimiter");
	if (!lua_isnil(L, -1)) {
		l_limiter *lim = luaL_testudata(L, -1, MT_LIMITER);
		if (!lim) {
			luaL_error(L, "config.RateLimiter must be a rate limiter (from GetRateLimiter or k8s.flowcontrol), got %s",
				   tname(L, -1));
		}
		k8s_config_set_rate_limiter(cfg, lim->rl);
	}
	lua_pop(L, 1);
	if (k8s_lua_config_hook(L, idx, cfg) < 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", k8s_error_last()->message);
		luaL_error(L, "%s", msg);
	}
	k8s_lua_disown(owner);
	lua_settop(L, t);
	return cfg;
}

/* Guarded config: a userdata that frees the config on GC, so that a later
 * raise does not leak it. */
typedef struct { k8s_config *cfg; } l_cfgguard;

static int cfgguard_gc(lua_State *L)
{
	l_cfgguard *g = lua_touserdata(L, 1);
	k8s_config_free(g->cfg);
	g->cfg = NULL;
	return 0;
}

k8s_config **k8s_lua_guard_config(lua_State *L, k8s_config *cfg)
{
	l_cfgguard *g = k8s_lua_newudata_or_free(L, sizeof(*g), free_config, cfg);
	g->cfg = cfg;
	if (luaL_newmetatable(L, "k8s.ConfigGuard")) {
		lua_pushcfunction(L, cfgguard_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	return &g->cfg;
}

/* ---- RESTClient ---- */

static l_client *check_client(lua_State *L, int i)
{
	l_client *c = luaL_checkudata(L, i, MT_CLIENT);
	if (!c->c)
		luaL_argerror(L, i, "RESTClient is closed");
	return c;
}

void k8s_lua_push_client(lua_State *L, k8s_rest_client *rc)
{
	l_client *c = k8s_lua_newudata_or_free(L, sizeof(*c), free_client, rc);
	c->c = rc;
	luaL_setmetatable(L, MT_CLIENT);
}

/* core.rest_client_for(configTable, versioned) */
static int l_rest_client_for(lua_State *L)
{
	k8s_config **cfg = k8s_lua_guard_config(L, k8s_lua_check_config(L, 1));
	int versioned = lua_toboolean(L, 2);
	k8s_rest_client *rc;
	int r = versioned ? k8s_rest_client_for(&rc, *cfg) : k8s_rest_client_unversioned(&rc, *cfg);
	if (r < 0) {
		if (r == K8S_EINVALID)
			return luaL_error(L, "%s", k8s_error_last()->message);
		return k8s_lua_fail_last(L);
	}
	k8s_lua_push_client(L, rc);
	return 1;
}

static int client_gc(lua_State *L)
{
	l_client *c = luaL_checkudata(L, 1, MT_CLIENT);
	k8s_rest_client_free(c->c);
	c->c = NULL;
	return 0;
}

static int client_tostring(lua_State *L)
{
	l_client *c = luaL_checkudata(L, 1, MT_CLIENT);
	const char *g = "", *v = "";
	if (!c->c) {
		lua_pushstring(L, "k8s.RESTClient (closed)");
		return 1;
	}
	k8s_rest_client_api_version(c->c, &g, &v);
	lua_pushfstring(L, "k8s.RESTClient(%s %s%s%s)", k8s_rest_client_base_url(c->c), g, *g ? "/" : "", v);
	return 1;
}

static void push_request(lua_State *L, k8s_request *r)
{
	l_request *q = k8s_lua_newudata_or_free(L, sizeof(*q), free_request, r);
	q->r = r;
	luaL_setmetatable(L, MT_REQUEST);
}

static int client_verb(lua_State *L)
{
	l_client *c = check_client(L, 1);
	const char *verb = luaL_checkstring(L, 2);
	k8s_request *r;
	if (k8s_rest_client_verb(&r, c->c, verb) < 0)
		return k8s_lua_raise_last(L, "Verb");
	push_request(L, r);
	return 1;
}

static int verb_fixed(lua_State *L, const char *verb)
{
	l_client *c = check_client(L, 1);
	k8s_request *r;
	if (k8s_rest_client_verb(&r, c->c, verb) < 0)
		return k8s_lua_raise_last(L, verb);
	push_request(L, r);
	return 1;
}

static int client_get(lua_State *L) { return verb_fixed(L, "GET"); }
static int client_post(lua_State *L) { return verb_fixed(L, "POST"); }
static int client_put(lua_State *L) { return verb_fixed(L, "PUT"); }
static int client_delete(lua_State *L) { return verb_fixed(L, "DELETE"); }

static int client_patch(lua_State *L)
{
	const char *pt = luaL_checkstring(L, 2);
	l_request *q;
	verb_fixed(L, "PATCH");
	q = lua_touserdata(L, -1);
	if (k8s_request_set_header(q->r, "Content-Type", pt) < 0)
		return k8s_lua_raise_last(L, "Patch");
	return 1;
}

static int client_api_version(lua_State *L)
{
	l_client *c = check_client(L, 1);
	const char *g, *v;
	k8s_rest_client_api_version(c->c, &g, &v);
	lua_createtable(L, 0, 2);
	lua_pushstring(L, g);
	lua_setfield(L, -2, "Group");
	lua_pushstring(L, v);
	lua_setfield(L, -2, "Version");
	return 1;
}

static void push_limiter(lua_State *L, k8s_rate_limiter *rl)
{
	l_limiter *l = k8s_lua_newudata_or_free(L, sizeof(*l), free_limiter, rl);
	l->rl = rl;
	luaL_setmetatable(L, MT_LIMITER);
}

static int client_rate_limiter(lua_State *L)
{
	l_client *c = check_client(L, 1);
	k8s_rate_limiter *rl = k8s_rest_client_rate_limiter(c->c);
	if (!rl) {
		lua_pushnil(L);
		return 1;
	}
	push_limiter(L, k8s_rate_limiter_ref(rl));
	return 1;
}

static int client_base_url(lua_State *L)
{
	l_client *c = check_client(L, 1);
	lua_pushstring(L, k8s_rest_client_base_url(c->c));
	return 1;
}

/* ---- rate limiter ---- */

static int l_new_token_bucket(lua_State *L)
{
	k8s_rate_limiter *rl;
	double qps = luaL_checknumber(L, 1);
	lua_Integer burst = luaL_checkinteger(L, 2);
	if (k8s_rate_limiter_new_token_bucket(&rl, qps, (int)burst) < 0)
		return k8s_lua_raise_last(L, "NewTokenBucketRateLimiter");
	push_limiter(L, rl);
	return 1;
}

static int limiter_try_accept(lua_State *L)
{
	l_limiter *l = luaL_checkudata(L, 1, MT_LIMITER);
	lua_pushboolean(L, k8s_rate_limiter_try_accept(l->rl));
	return 1;
}

static int limiter_accept(lua_State *L)
{
	l_limiter *l = luaL_checkudata(L, 1, MT_LIMITER);
	lua_pushnumber(L, k8s_rate_limiter_accept(l->rl));
	return 1;
}

static int limiter_qps(lua_State *L)
{
	l_limiter *l = luaL_checkudata(L, 1, MT_LIMITER);
	lua_pushnumber(L, k8s_rate_limiter_qps(l->rl));
	return 1;
}

static int limiter_gc(lua_State *L)
{
	l_limiter *l = luaL_checkudata(L, 1, MT_LIMITER);
	k8s_rate_limiter_free(l->rl);
	l->rl = NULL;
	return 0;
}

/* ---- Request ---- */

static l_request *check_request(lua_State *L, int i)
{
	l_request *q = luaL_checkudata(L, i, MT_REQUEST);
	if (!q->r)
		luaL_argerror(L, i, "request was already executed");
	return q;
}

#define REQ_STRING_SETTER(lname, cfn, what)                                   \
	static int lname(lua_State *L)                                        \
	{                                                                     \
		l_request *q = check_request(L, 1);                           \
		const char *v = luaL_checkstring(L, 2);                       \
		if (cfn(q->r, v) < 0)                                         \
			return k8s_lua_raise_last(L, what);                   \
		lua_settop(L, 1);                                             \
		return 1;                                                     \
	}

REQ_STRING_SETTER(req_namespace, k8s_request_namespace, "Namespace")
REQ_STRING_SETTER(req_resource, k8s_request_resource, "Resource")
REQ_STRING_SETTER(req_name, k8s_request_name, "Name")

static int join_args(lua_State *L, int (*fn)(k8s_request *, const char *), const char *what)
{
	l_request *q = check_request(L, 1);
	int n = lua_gettop(L), i;
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (i = 2; i <= n; i++) {
		luaL_checkstring(L, i);
		if (i > 2)
			luaL_addchar(&b, '/');
		lua_pushvalue(L, i);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	if (fn(q->r, lua_tostring(L, -1)) < 0)
		return k8s_lua_raise_last(L, what);
	lua_settop(L, 1);
	return 1;
}

/* AbsPath(segments...): joined as client-go's path.Join, without doubled slashes. */
static int req_abs_path(lua_State *L)
{
	l_request *q = check_request(L, 1);
	int n = lua_gettop(L), i;
	luaL_Buffer b;
	char last = 0;
	luaL_checkstring(L, 2);
	luaL_buffinit(L, &b);
	for (i = 2; i <= n; i++) {
		size_t len;
		const char *seg = luaL_checklstring(L, i, &len);
		if (i > 2) {
			if (last != '/' && len && *seg != '/') {
				luaL_addchar(&b, '/');
			} else if (last == '/' && len && *seg == '/') {
				seg++;
				len--;
			}
		}
		if (len) {
			luaL_addlstring(&b, seg, len);
			last = seg[len - 1];
		}
	}
	luaL_pushresult(&b);
	if (k8s_request_abs_path(q->r, lua_tostring(L, -1)) < 0)
		return k8s_lua_raise_last(L, "AbsPath");
	lua_settop(L, 1);
	return 1;
}

static int req_subresource(lua_State *L) { return join_args(L, k8s_request_subresource, "SubResource"); }
static int req_prefix(lua_State *L) { return join_args(L, k8s_request_prefix, "Prefix"); }
static int req_suffix(lua_State *L) { return join_args(L, k8s_request_suffix, "Suffix"); }

static const char *param_string(lua_State *L, int idx, char *buf, size_t n)
{
	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		return lua_tostring(L, idx);
	case LUA_TBOOLEAN:
		return lua_toboolean(L, idx) ? "true" : "false";
	case LUA_TNUMBER: {
		lua_Number d = lua_tonumber(L, idx);
#if LUA_VERSION_NUM >= 503
		if (lua_isinteger(L, idx)) {
			snprintf(buf, n, "%lld", (long long)lua_tointeger(L, idx));
			return buf;
		}
#endif
		if (d == (lua_Number)(long long)d)
			snprintf(buf, n, "%lld", (long long)d);
		else
			snprintf(buf, n, "%.17g", (double)d);
		return buf;
	}
	default:
		return NULL;
	}
}

static int req_param(lua_State *L)
{
	l_request *q = check_request(L, 1);
	const char *k = luaL_checkstring(L, 2);
	char buf[64];
	const char *v = param_string(L, 3, buf, sizeof(buf));
	if (!v)
		return luaL_argerror(L, 3, "string, number or boolean expected");
	if (k8s_request_param(q->r, k, v) < 0)
		return k8s_lua_raise_last(L, "Param");
	lua_settop(L, 1);
	return 1;
}

/* VersionedParams(opts): every non-empty field becomes a query parameter;
 * list values repeat the parameter. Tables (preconditions) are not allowed. */
int k8s_lua_add_params(lua_State *L, k8s_request *r, int idx, const char *what)
{
	char buf[64];
	if (lua_isnoneornil(L, idx))
		return 0;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *k, *v;
		if (lua_type(L, -2) != LUA_TSTRING)
			return luaL_error(L, "%s: option keys must be strings", what);
		k = lua_tostring(L, -2);
		if (lua_type(L, -1) == LUA_TTABLE) {
			int n = (int)K8S_LUA_RAWLEN(L, -1), j;
			for (j = 1; j <= n; j++) {
				lua_rawgeti(L, -1, j);
				v = param_string(L, -1, buf, sizeof(buf));
				if (!v)
					return luaL_error(L, "%s: option %s[%d] must be a string, number or boolean", what, k, j);
				if (k8s_request_param(r, k, v) < 0)
					return k8s_lua_raise_last(L, what);
				lua_pop(L, 1);
			}
		} else {
			v = param_string(L, -1, buf, sizeof(buf));
			if (!v)
				return luaL_error(L, "%s: option %s must be a string, number or boolean, got %s", what, k,
						  lua_typename(L, lua_type(L, -1)));
			/* empty strings are left out, as VersionedParams omits empty fields */
			if (*v && k8s_request_param(r, k, v) < 0)
				return k8s_lua_raise_last(L, what);
		}
		lua_pop(L, 1);
	}
	return 0;
}

static int req_versioned_params(lua_State *L)
{
	l_request *q = check_request(L, 1);
	k8s_lua_add_params(L, q->r, 2, "VersionedParams");
	lua_settop(L, 1);
	return 1;
}

static int req_set_header(lua_State *L)
{
	l_request *q = check_request(L, 1);
	const char *k = luaL_checkstring(L, 2);
	const char *v = luaL_checkstring(L, 3);
	if (k8s_request_set_header(q->r, k, v) < 0)
		return k8s_lua_raise_last(L, "SetHeader");
	lua_settop(L, 1);
	return 1;
}

int k8s_lua_set_body(lua_State *L, k8s_request *r, int idx)
{
	if (lua_type(L, idx) == LUA_TSTRING) {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		if (k8s_request_body(r, s, len) < 0)
			return k8s_lua_raise_last(L, "Body");
	} else if (lua_type(L, idx) == LUA_TTABLE) {
		char *out = NULL, err[256];
		size_t len = 0;
		int rc;
		if (!k8s_lua_json_encode(L, idx, &out, &len, err, sizeof(err)))
			return luaL_error(L, "Body: %s", err);
		rc = k8s_request_body(r, out, len);
		free(out);
		if (rc < 0)
			return k8s_lua_raise_last(L, "Body");
	} else {
		return luaL_argerror(L, idx, "table or string expected");
	}
	return 0;
}

static int req_body(lua_State *L)
{
	l_request *q = check_request(L, 1);
	k8s_lua_set_body(L, q->r, 2);
	lua_settop(L, 1);
	return 1;
}

static int req_timeout(lua_State *L)
{
	l_request *q = check_request(L, 1);
	if (k8s_request_timeout(q->r, luaL_checknumber(L, 2)) < 0)
		return k8s_lua_raise_last(L, "Timeout");
	lua_settop(L, 1);
	return 1;
}

static int req_max_retries(lua_State *L)
{
	l_request *q = check_request(L, 1);
	k8s_request_max_retries(q->r, (int)luaL_checkinteger(L, 2));
	lua_settop(L, 1);
	return 1;
}

static int req_url(lua_State *L)
{
	l_request *q = check_request(L, 1);
	char *u = k8s_request_url(q->r);
	if (!u)
		return k8s_lua_raise_last(L, "URL");
	lua_pushstring(L, u);
	free(u);
	return 1;
}

static int req_gc(lua_State *L)
{
	l_request *q = luaL_checkudata(L, 1, MT_REQUEST);
	k8s_request_free(q->r);
	q->r = NULL;
	return 0;
}

/* Errors detected before sending (invalid request) raise; everything else is
 * a result. */
static int raise_if_invalid(lua_State *L, int rc, const char *what)
{
	if (rc == K8S_EINVALID)
		return k8s_lua_raise_last(L, what);
	return 0;
}

/* The outcome of Do: a Result, or nil, err below HTTP. */
int k8s_lua_do_outcome(lua_State *L, int rc, k8s_result *res)
{
	l_result *lr;
	if (!res) {
		raise_if_invalid(L, rc, "Do");
		return k8s_lua_fail_last(L);
	}
	lr = k8s_lua_newudata_or_free(L, sizeof(*lr), free_result, res);
	lr->res = res;
	luaL_setmetatable(L, MT_RESULT);
	return 1;
}

/* Start a call from a request; in the nginx driver's mode return it
 * pending (K8S_LUA_PENDING, call), else run it here. */
static int start_call(lua_State *L, k8s_request *r, k8s_call_mode mode, int kind, k8s_call **out)
{
	int rc = k8s_call_new(out, r, mode);
	if (rc < 0) {
		raise_if_invalid(L, rc, "request");
		return k8s_lua_fail_last(L);
	}
	if (kind == K8S_LUA_DECODE || kind == K8S_LUA_WATCH)
		k8s__call_keep_protobuf(*out); /* decoded here, straight to tables */
	if (k8s_lua_driver_on(L))
		return k8s_lua_push_pending(L, *out, kind);
	return 0;
}

int k8s_lua_call_blocking(lua_State *L, k8s_call *k, int kind)
{
	k8s_result *res = NULL;
	int rc;
	switch (kind) {
	case K8S_LUA_DO:
		rc = k8s__call_do(&res, k, NULL, NULL);
		return k8s_lua_do_outcome(L, rc, res);
	case K8S_LUA_DORAW:
		rc = k8s__call_do(&res, k, NULL, NULL);
		return k8s_lua_do_raw_outcome(L, rc, res);
	case K8S_LUA_STREAM:
		return k8s_lua_stream_blocking(L, k);
	case K8S_LUA_WATCH:
		return k8s_lua_watch_blocking(L, k);
	default:
		return k8s_lua_decode_blocking(L, k, kind == K8S_LUA_DECODE);
	}
}

static int run_kind(lua_State *L, k8s_request *r, k8s_call_mode mode, int kind)
{
	k8s_call *k = NULL;
	void *owner;
	int n = start_call(L, r, mode, kind, &k);
	if (n)
		return n;
	owner = k8s_lua_owned(L, k, free_call);
	n = k8s_lua_call_blocking(L, k, kind);
	k8s_call_free(k8s_lua_disown(owner));
	return n;
}

static int req_do(lua_State *L)
{
	l_request *q = check_request(L, 1);
	return run_kind(L, q->r, K8S_CALL_MODE_DO, K8S_LUA_DO);
}

/* Decode a body to a Lua value, or push nil, err. Returns values pushed. */
int k8s_lua_push_body(lua_State *L, const char *body, size_t len)
{
	char err[256];
	if (len == 0) {
		lua_pushnil(L);
		return 1;
	}
	if (!k8s_lua_json_decode(L, body, len, err, sizeof(err))) {
		lua_pushnil(L);
		k8s_lua_push_error(L, 0, "DecodeError", err, NULL, 0);
		return 2;
	}
	return 1;
}

/* A protobuf body (k8s_result kept it: k8s__call_keep_protobuf), or nil, err. */
static int push_pb_body(lua_State *L, const char *body, size_t len)
{
	char err[256];
	if (!k8s_lua_pb_decode(L, body, len, 0, err, sizeof(err))) {
		lua_pushnil(L);
		k8s_lua_push_error(L, 0, "DecodeError", err, NULL, 0);
		return 2;
	}
	return 1;
}

/* Decoding a large body while it arrives: the observer feeds what has come
 * so far to the incremental decoder, under lua_pcall (it runs inside
 * k8s_request_do). Bodies under INC_MIN bytes are decoded whole at the end,
 * as before: for them there is nothing to overlap. */
#define INC_MIN (64 * 1024)

/* JSON: the object at slot, the array being filled at slot + 1.
 * Protobuf (the body starts with k8s\0): slot..slot + 4, see k8s_lua_pb_inc. */
#define INC_SLOTS 5

typedef struct {
	lua_State *L;
	int slot;
	const char *buf;
	size_t len;
	int pb;                 /* -1 until the first bytes tell; then 0 JSON, 1 protobuf */
	k8s_lua_json_inc inc;
	k8s_lua_pb_inc pbinc;
} body_decoder;

static void body_decoder_init(body_decoder *o, lua_State *L)
{
	int i;
	for (i = 0; i < INC_SLOTS; i++)
		lua_pushnil(L);
	o->L = L;
	o->slot = lua_gettop(L) - INC_SLOTS + 1;
	o->pb = -1;
	k8s_lua_json_inc_init(&o->inc);
	k8s_lua_pb_inc_init(&o->pbinc);
}

static int inc_step(lua_State *L)
{
	body_decoder *o = lua_touserdata(L, INC_SLOTS + 1);
	lua_settop(L, INC_SLOTS);
	if (o->pb)
		k8s_lua_pb_inc_feed(L, &o->pbinc, 1, o->buf, o->len);
	else
		k8s_lua_json_inc_feed(L, &o->inc, 1, o->buf, o->len);
	lua_settop(L, INC_SLOTS);
	return INC_SLOTS;
}

static int inc_failed(const body_decoder *o)
{
	return o->pb == 1 ? o->pbinc.failed : o->inc.failed;
}

static void inc_feed(body_decoder *o, const char *body, size_t len)
{
	lua_State *L = o->L;
	int i;
	if (o->pb < 0)
		o->pb = len >= K8S_PB_MAGIC_LEN && memcmp(body, K8S_PB_MAGIC, K8S_PB_MAGIC_LEN) == 0;
	if (inc_failed(o))
		return;
	if (!lua_checkstack(L, INC_SLOTS + 4)) {
		o->inc.failed = o->pbinc.failed = 1;
		return;
	}
	o->buf = body;
	o->len = len;
	lua_pushcfunction(L, inc_step);
	for (i = 0; i < INC_SLOTS; i++)
		lua_pushvalue(L, o->slot + i);
	lua_pushlightuserdata(L, o);
	if (lua_pcall(L, INC_SLOTS + 1, INC_SLOTS, 0) != 0) {
		lua_pop(L, 1);
		o->inc.failed = o->pbinc.failed = 1;
		return;
	}
	for (i = INC_SLOTS - 1; i >= 0; i--)
		lua_replace(L, o->slot + i);
}

/* Whether the incremental decoder took the whole body; its object is then
 * pushed. */
static int inc_push_complete(body_decoder *o, const char *b, size_t len)
{
	if (o->pb == 1 ? !k8s_lua_pb_inc_complete(&o->pbinc, b, len)
		       : o->pb != 0 || !k8s_lua_json_inc_complete(&o->inc, b, len))
		return 0;
	lua_pushvalue(o->L, o->pb == 1 ? o->slot + 2 : o->slot);
	return 1;
}

static void inc_observer(void *payload, const char *body, size_t len)
{
	if (len >= INC_MIN)
		inc_feed(payload, body, len);
}

/* core._protobuf_decode(bytes[, event]): a protobuf body (or, with event
 * true, a metav1.WatchEvent) as tables, or nil, err. For the specs and the
 * benchmark of the decoder alone. */
static int l_protobuf_decode(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	char err[256];
	if (!k8s_lua_pb_decode(L, s, len, lua_toboolean(L, 2), err, sizeof(err))) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	return 1;
}

/* core._json_decode_pieces(text, step): feeds the incremental decoder (JSON,
 * or protobuf when text starts with k8s\0) the
 * prefixes of text that grow by `step` bytes, as a response would arrive,
 * and returns the object, or nil and "fallback" when the decoder gave up
 * (the request path then decodes the whole text). For the specs. */
static int l_json_decode_pieces(lua_State *L)
{
	size_t len, at = 0;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_Integer step = luaL_checkinteger(L, 2);
	body_decoder o;
	luaL_argcheck(L, step > 0, 2, "step must be positive");
	lua_settop(L, 2);
	body_decoder_init(&o, L);
	do {
		at = (size_t)step > len - at ? len : at + (size_t)step;
		inc_feed(&o, s, at);
	} while (at < len);
	if (!inc_push_complete(&o, s, len)) {
		lua_pushnil(L);
		lua_pushliteral(L, "fallback");
		return 2;
	}
	return 1;
}

/* The outcome of a typed call: the decoded object (or true), or nil, err.
 * o: the incremental decoder that saw the body arrive, or NULL. */
int k8s_lua_decode_outcome(lua_State *L, int rc, k8s_result *res, int want_body, void *inc)
{
	body_decoder *o = inc;
	void *owner;
	int n;
	if (!res) {
		raise_if_invalid(L, rc, "request");
		return k8s_lua_fail_last(L);
	}
	owner = k8s_lua_owned(L, res, free_result); /* decoding may raise */
	if (rc < 0) {
		n = k8s_lua_fail_status(L, k8s_result_status(res));
		k8s_result_free(k8s_lua_disown(owner));
		return n;
	}
	if (!want_body) {
		k8s_result_free(k8s_lua_disown(owner));
		lua_pushboolean(L, 1);
		return 1;
	}
	{
		size_t len;
		const char *b = k8s_result_body(res, &len);
		int pb = k8s__pb_is_content_type(k8s_result_content_type(res));
		if (o && len >= INC_MIN && o->pb == pb && inc_push_complete(o, b, len)) {
			n = 1;
		} else if (pb) {
			n = push_pb_body(L, b, len);
		} else {
			n = k8s_lua_push_body(L, b, len);
		}
	}
	k8s_result_free(k8s_lua_disown(owner));
	return n;
}

int k8s_lua_decode_blocking(lua_State *L, k8s_call *k, int want_body)
{
	k8s_result *res = NULL;
	body_decoder o;
	int rc;
	if (want_body)
		body_decoder_init(&o, L);
	rc = k8s__call_do(&res, k, want_body ? inc_observer : NULL, want_body ? &o : NULL);
	return k8s_lua_decode_outcome(L, rc, res, want_body, want_body ? &o : NULL);
}

/* Execute a request and return the decoded object, or nil, err. */
int k8s_lua_do_decode(lua_State *L, k8s_request *r, int want_body)
{
	return run_kind(L, r, K8S_CALL_MODE_DO, want_body ? K8S_LUA_DECODE : K8S_LUA_DECODE_NOBODY);
}

int k8s_lua_do_raw_outcome(lua_State *L, int rc, k8s_result *res)
{
	size_t len;
	const char *b;
	void *owner;
	int n;
	if (!res) {
		raise_if_invalid(L, rc, "DoRaw");
		return k8s_lua_fail_last(L);
	}
	owner = k8s_lua_owned(L, res, free_result);
	if (rc < 0) {
		n = k8s_lua_fail_status(L, k8s_result_status(res));
		k8s_result_free(k8s_lua_disown(owner));
		return n;
	}
	b = k8s_result_body(res, &len);
	lua_pushlstring(L, b, len);
	k8s_result_free(k8s_lua_disown(owner));
	return 1;
}

static int req_do_raw(lua_State *L)
{
	l_request *q = check_request(L, 1);
	return run_kind(L, q->r, K8S_CALL_MODE_DO, K8S_LUA_DORAW);
}

int k8s_lua_stream_blocking(lua_State *L, k8s_call *k)
{
	k8s_stream *st = NULL;
	k8s_result *err = NULL;
	int rc = k8s__call_stream(&st, &err, k);
	l_stream *ls;
	if (rc < 0) {
		raise_if_invalid(L, rc, "Stream");
		if (err) {
			void *owner = k8s_lua_owned(L, err, free_result);
			int n = k8s_lua_fail_status(L, k8s_result_status(err));
			k8s_result_free(k8s_lua_disown(owner));
			return n;
		}
		return k8s_lua_fail_last(L);
	}
	ls = k8s_lua_newudata_or_free(L, sizeof(*ls), free_stream, st);
	ls->s = st;
	luaL_setmetatable(L, MT_STREAM);
	return 1;
}

static int req_stream(lua_State *L)
{
	l_request *q = check_request(L, 1);
	return run_kind(L, q->r, K8S_CALL_MODE_STREAM, K8S_LUA_STREAM);
}

int k8s_lua_watch_blocking(lua_State *L, k8s_call *k)
{
	k8s_watch *w = NULL;
	k8s_result *err = NULL;
	int rc = k8s__call_watch(&w, &err, k);
	if (rc < 0) {
		raise_if_invalid(L, rc, "Watch");
		if (err) {
			void *owner = k8s_lua_owned(L, err, free_result);
			int n = k8s_lua_fail_status(L, k8s_result_status(err));
			k8s_result_free(k8s_lua_disown(owner));
			return n;
		}
		return k8s_lua_fail_last(L);
	}
	k8s_lua_push_watch(L, w);
	return 1;
}

void k8s_lua_push_watch(lua_State *L, k8s_watch *w)
{
	l_watch *lw = k8s_lua_newudata_or_free(L, sizeof(*lw), free_watch, w);
	lw->w = w;
	luaL_setmetatable(L, MT_WATCH);
}

int k8s_lua_start_watch(lua_State *L, k8s_request *r)
{
	return run_kind(L, r, K8S_CALL_MODE_WATCH, K8S_LUA_WATCH);
}

static int req_watch(lua_State *L)
{
	l_request *q = check_request(L, 1);
	return k8s_lua_start_watch(L, q->r);
}

/* ---- Result ---- */

static l_result *check_result(lua_State *L)
{
	return luaL_checkudata(L, 1, MT_RESULT);
}

static int result_get(lua_State *L)
{
	l_result *r = check_result(L);
	size_t len;
	const char *b;
	if (k8s_result_error_code(r->res) < 0)
		return k8s_lua_fail_status(L, k8s_result_status(r->res));
	b = k8s_result_body(r->res, &len);
	return k8s_lua_push_body(L, b, len);
}

static int result_raw(lua_State *L)
{
	l_result *r = check_result(L);
	size_t len;
	const char *b = k8s_result_body(r->res, &len);
	lua_pushlstring(L, b, len);
	return 1;
}

static int result_status_code(lua_State *L)
{
	l_result *r = check_result(L);
	lua_pushinteger(L, k8s_result_status_code(r->res));
	return 1;
}

static int result_error(lua_State *L)
{
	l_result *r = check_result(L);
	const k8s_status *st = k8s_result_status(r->res);
	if (k8s_result_error_code(r->res) == 0 || !st) {
		lua_pushnil(L);
		return 1;
	}
	k8s_lua_push_error(L, st->code, st->reason, st->message, st->status_json, st->retry_after_seconds);
	return 1;
}

static int result_content_type(lua_State *L)
{
	l_result *r = check_result(L);
	lua_pushstring(L, k8s_result_content_type(r->res));
	return 1;
}

static int result_warnings(lua_State *L)
{
	l_result *r = check_result(L);
	size_t i, n = k8s_result_warning_count(r->res);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_pushstring(L, k8s_result_warning(r->res, i));
		lua_rawseti(L, -2, (int)i + 1);
	}
	return 1;
}

static int result_gc(lua_State *L)
{
	l_result *r = luaL_checkudata(L, 1, MT_RESULT);
	k8s_result_free(r->res);
	r->res = NULL;
	return 0;
}

/* ---- Stream ---- */

static int stream_read(lua_State *L)
{
	l_stream *s = luaL_checkudata(L, 1, MT_STREAM);
	double timeout = luaL_optnumber(L, 2, -1);
	const char *data;
	size_t len;
	int rc;
	if (!s->s) {
		lua_pushnil(L);
		return 1;
	}
	rc = k8s_stream_read(s->s, &data, &len, timeout);
	if (rc == 1) {
		lua_pushlstring(L, data, len);
		return 1;
	}
	if (rc == 0) {
		lua_pushnil(L);
		return 1;
	}
	return k8s_lua_fail_last(L);
}

static int stream_close(lua_State *L)
{
	l_stream *s = luaL_checkudata(L, 1, MT_STREAM);
	k8s_stream_free(s->s);
	s->s = NULL;
	return 0;
}

/* ---- Watch ---- */

/* The event client-go's StreamWatcher sends when an event cannot be decoded
 * (apierrors.NewClientErrorReporter(500, verb, "ClientWatchDecoding")):
 * { type = "ERROR", object = <a v1 Status, InternalError, code 500> }. */
static void push_decoding_error_event(lua_State *L, const char *what)
{
	static const char *const causes[] = {"UnexpectedServerResponse", "ClientWatchDecoding"};
	char msg[512];
	int i;
	snprintf(msg, sizeof(msg), "unable to decode an event from the watch stream: %s", what);
	lua_createtable(L, 0, 2);
	lua_pushliteral(L, "ERROR");
	lua_setfield(L, -2, "type");
	lua_createtable(L, 0, 8);
	lua_pushliteral(L, "Status");
	lua_setfield(L, -2, "kind");
	lua_pushliteral(L, "v1");
	lua_setfield(L, -2, "apiVersion");
	lua_newtable(L);
	lua_setfield(L, -2, "metadata");
	lua_pushliteral(L, "Failure");
	lua_setfield(L, -2, "status");
	lua_pushfstring(L, "an error on the server (\"%s\") has prevented the request from succeeding", msg);
	lua_setfield(L, -2, "message");
	lua_pushliteral(L, "InternalError");
	lua_setfield(L, -2, "reason");
	lua_pushinteger(L, 500);
	lua_setfield(L, -2, "code");
	lua_createtable(L, 0, 1); /* details */
	lua_createtable(L, 2, 0); /* causes */
	k8s_lua_json_push_array_mt(L);
	lua_setmetatable(L, -2);
	for (i = 0; i < 2; i++) {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, causes[i]);
		lua_setfield(L, -2, "reason");
		lua_pushstring(L, msg);
		lua_setfield(L, -2, "message");
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "causes");
	lua_setfield(L, -2, "details");
	lua_setfield(L, -2, "object");
}

/* One step of a watch. With `chan` (the ResultChan loop) errors end the
 * loop as client-go's StreamWatcher ends its channel: silently for the end
 * of the connection (reset, timeout, a stream cut inside an event), and
 * with a last ERROR event for an event that cannot be decoded. */
static int watch_step(lua_State *L, l_watch *w, double timeout, int chan)
{
	k8s_watch_event ev;
	char err[256];
	int rc;
	if (!w->w) {
		lua_pushnil(L);
		return 1;
	}
	rc = k8s_watch_next(w->w, &ev, timeout);
	if (rc == K8S__WATCH_NEED) {
		k8s_lua_push_pending_marker(L);
		return 1;
	}
	if (rc == 0) {
		lua_pushnil(L);
		return 1;
	}
	if (rc < 0) {
		if (!chan)
			return k8s_lua_fail_last(L);
		if (rc == K8S_EDECODE)
			push_decoding_error_event(L, k8s_error_last()->message);
		else
			lua_pushnil(L);
		k8s_watch_free(w->w); /* the loop ends with this step */
		w->w = NULL;
		return 1;
	}
	lua_createtable(L, 0, 2);
	lua_pushstring(L, ev.type_name);
	lua_setfield(L, -2, "type");
	if (ev.protobuf ? !k8s_lua_pb_decode(L, ev.object, ev.object_len, 0, err, sizeof(err))
			: !k8s_lua_json_decode(L, ev.object, ev.object_len, err, sizeof(err))) {
		lua_pop(L, 1);
		if (chan) {
			push_decoding_error_event(L, err);
			k8s_watch_free(w->w);
			w->w = NULL;
			return 1;
		}
		lua_pushnil(L);
		k8s_lua_push_error(L, 0, "DecodeError", err, NULL, 0);
		return 2;
	}
	lua_setfield(L, -2, "object");
	return 1;
}

static int watch_next(lua_State *L)
{
	l_watch *w = luaL_checkudata(L, 1, MT_WATCH);
	double timeout = luaL_optnumber(L, 2, -1);
	return watch_step(L, w, timeout, 0);
}

/* Stop, __gc and __close: close the connection and free the watch; a
 * ResultChan loop then ends at once, events already buffered included. */
static int watch_gc(lua_State *L)
{
	l_watch *w = luaL_checkudata(L, 1, MT_WATCH);
	k8s_watch_free(w->w);
	w->w = NULL;
	return 0;
}

static int watch_iter(lua_State *L)
{
	return watch_step(L, luaL_checkudata(L, 1, MT_WATCH), -1, 1);
}

/* For the nginx driver's watcher: w:_step(chan) is one step without
 * reading (K8S_LUA_PENDING when bytes are needed), w:_feed(bytes) and
 * w:_end(reason, message) (no reason: the server ended the watch). */
static int watch_step_fed(lua_State *L)
{
	return watch_step(L, luaL_checkudata(L, 1, MT_WATCH), 0, lua_toboolean(L, 2));
}

static int watch_feed(lua_State *L)
{
	l_watch *w = luaL_checkudata(L, 1, MT_WATCH);
	size_t len;
	const char *d = luaL_checklstring(L, 2, &len);
	if (w->w && k8s__watch_feed(w->w, d, len) < 0)
		k8s__watch_end(w->w, k8s_error_last()->code, k8s_error_last()->reason, k8s_error_last()->message);
	return 0;
}

/* w:_stall_in() -> seconds before the watch is presumed dead without data,
 * or nil: the driver bounds its reads by it (k8s__watch_stall_in). */
static int watch_stall_in(lua_State *L)
{
	l_watch *w = luaL_checkudata(L, 1, MT_WATCH);
	double left = w->w ? k8s__watch_stall_in(w->w) : -1;
	if (left < 0)
		lua_pushnil(L);
	else
		lua_pushnumber(L, left);
	return 1;
}

static int watch_end(lua_State *L)
{
	l_watch *w = luaL_checkudata(L, 1, MT_WATCH);
	const char *reason = luaL_optstring(L, 2, NULL);
	const char *msg = luaL_optstring(L, 3, NULL);
	int code = K8S_ETRANSPORT;
	if (reason && strcmp(reason, "Timeout") == 0)
		code = K8S_ETIMEOUT;
	if (w->w)
		k8s__watch_end(w->w, reason ? code : 0, reason, msg);
	return 0;
}

static int watch_result_chan(lua_State *L)
{
	luaL_checkudata(L, 1, MT_WATCH);
	/* for ev in w:ResultChan() do ... end: the loop ends when the server
	 * closes the watch, after w:Stop(), or when the connection fails (as
	 * client-go's StreamWatcher closes its channel); ERROR events from the
	 * server are delivered as events, and so is an event that cannot be
	 * decoded, as client-go's ClientWatchDecoding Status. w:Next() returns
	 * every error as nil, err. */
	lua_pushcfunction(L, watch_iter);
	lua_pushvalue(L, 1);
	return 2;
}

/* ---- misc ---- */

static int l_version(lua_State *L)
{
	lua_pushstring(L, k8s_version());
	return 1;
}

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, const luaL_Reg *meta)
{
	luaL_newmetatable(L, name);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "__name");
	luaL_setfuncs(L, meta, 0);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

static const luaL_Reg client_methods[] = {
	{"Verb", client_verb}, {"Get", client_get}, {"Post", client_post}, {"Put", client_put},
	{"Patch", client_patch}, {"Delete", client_delete}, {"APIVersion", client_api_version},
	{"GetRateLimiter", client_rate_limiter}, {"BaseURL", client_base_url}, {NULL, NULL}};
static const luaL_Reg client_meta[] = {{"__gc", client_gc}, {"__tostring", client_tostring}, {NULL, NULL}};

static const luaL_Reg request_methods[] = {
	{"Namespace", req_namespace}, {"Resource", req_resource}, {"Name", req_name},
	{"SubResource", req_subresource}, {"Prefix", req_prefix}, {"Suffix", req_suffix},
	{"AbsPath", req_abs_path}, {"Param", req_param}, {"VersionedParams", req_versioned_params},
	{"SetHeader", req_set_header}, {"Body", req_body}, {"Timeout", req_timeout},
	{"MaxRetries", req_max_retries}, {"URL", req_url}, {"Do", req_do}, {"DoRaw", req_do_raw},
	{"Stream", req_stream}, {"Watch", req_watch}, {NULL, NULL}};
static const luaL_Reg request_meta[] = {{"__gc", req_gc}, {NULL, NULL}};

static const luaL_Reg result_methods[] = {
	{"Get", result_get}, {"Raw", result_raw}, {"StatusCode", result_status_code}, {"Error", result_error},
	{"ContentType", result_content_type}, {"Warnings", result_warnings}, {NULL, NULL}};
static const luaL_Reg result_meta[] = {{"__gc", result_gc}, {NULL, NULL}};

static const luaL_Reg stream_methods[] = {{"read", stream_read}, {"close", stream_close}, {NULL, NULL}};
static const luaL_Reg stream_meta[] = {{"__gc", stream_close},
#if LUA_VERSION_NUM >= 504
				       {"__close", stream_close},
#endif
				       {NULL, NULL}};

static const luaL_Reg watch_methods[] = {
	{"Next", watch_next}, {"Stop", watch_gc}, {"ResultChan", watch_result_chan},
	{"_step", watch_step_fed}, {"_feed", watch_feed}, {"_end", watch_end},
	{"_stall_in", watch_stall_in}, {NULL, NULL}};
static const luaL_Reg watch_meta[] = {{"__gc", watch_gc},
#if LUA_VERSION_NUM >= 504
				      {"__close", watch_gc},
#endif
				      {NULL, NULL}};

static const luaL_Reg limiter_methods[] = {
	{"TryAccept", limiter_try_accept}, {"Accept", limiter_accept}, {"QPS", limiter_qps}, {NULL, NULL}};
static const luaL_Reg limiter_meta[] = {{"__gc", limiter_gc}, {NULL, NULL}};

static const luaL_Reg error_meta[] = {{"__tostring", error_tostring}, {NULL, NULL}};

/* core.sha256(s) -> the 32-byte SHA-256 digest of s (ApplySet ids). */
static int l_sha256(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL))
		return luaL_error(L, "sha256: digest failed");
	lua_pushlstring(L, (const char *)md, mdlen);
	return 1;
}

static const luaL_Reg funcs[] = {
	{"rest_client_for", l_rest_client_for},
	{"new_token_bucket", l_new_token_bucket},
	{"json_decode", k8s_lua_json_l_decode},
	{"_json_decode_pieces", l_json_decode_pieces},
	{"_protobuf_decode", l_protobuf_decode},
	{"json_encode", k8s_lua_json_l_encode},
	{"yaml_decode", k8s_lua_yaml_l_decode},
	{"yaml_encode", k8s_lua_yaml_l_encode},
	{"yaml_encode_all", k8s_lua_yaml_l_encode_all},
	{"version", l_version},
	{"sha256", l_sha256},
	{NULL, NULL}};

K8S_LUA_EXPORT int luaopen_k8s_core(lua_State *L)
{
	if (k8s_global_init() < 0)
		return luaL_error(L, "k8s: %s", k8s_error_last()->message);
	k8s_lua_json_init(L);
	new_class(L, MT_CLIENT, client_methods, client_meta);
	new_class(L, MT_REQUEST, request_methods, request_meta);
	new_class(L, MT_RESULT, result_methods, result_meta);
	new_class(L, MT_STREAM, stream_methods, stream_meta);
	new_class(L, MT_WATCH, watch_methods, watch_meta);
	new_class(L, MT_LIMITER, limiter_methods, limiter_meta);
	luaL_newmetatable(L, "k8s.Error");
	lua_pushstring(L, "k8s.Error");
	lua_setfield(L, -2, "__name");
	luaL_setfuncs(L, error_meta, 0);
	lua_pop(L, 1);
	luaL_newmetatable(L, MT_OWNED);
	lua_pushcfunction(L, owned_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	/* made here, not on first use: a guard must get its __gc without
	 * allocating (out of memory there would leak the config) */
	luaL_newmetatable(L, "k8s.ConfigGuard");
	lua_pushcfunction(L, cfgguard_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);

	lua_newtable(L);
	luaL_setfuncs(L, funcs, 0);
	lua_pushlightuserdata(L, NULL);
	lua_setfield(L, -2, "null");
	k8s_lua_json_push_array_mt(L);
	lua_setfield(L, -2, "array_mt");
	luaL_getmetatable(L, "k8s.Error");
	lua_setfield(L, -2, "error_mt");
	k8s_lua_register_extras(L);
	k8s_lua_register_auth(L);
	k8s_lua_register_call(L);
	k8s_lua_register_sock(L);
	return 1;
}
