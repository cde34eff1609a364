/* rest.Request for Lua (k8s.Request): the builder's methods, and Do, DoRaw,
 * Stream and Watch, which make a call of the engine (src/call.c) and run it
 * here with the blocking driver or, when the nginx driver is on (call.c),
 * return it pending. What the calls return is made by result.c (Do),
 * body.c (DoRaw and typed calls), stream.c and watch.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "core.h"
#include "rest_internal.h"
#include "proto.h"

#define MT_REQUEST "k8s.Request"

typedef struct { k8s_request *r; } l_request;

static void free_request(void *p) { k8s_request_free(p); }
static void free_call(void *p) { k8s_call_free(p); }

void k8s_lua_push_request(lua_State *L, k8s_request *r)
{
	l_request *q = k8s_lua_newudata_or_free(L, sizeof(*q), free_request, r);
	q->r = r;
	luaL_setmetatable(L, MT_REQUEST);
}

/* The request of the k8s.Request at idx (one the caller just pushed). */
k8s_request *k8s_lua_to_request(lua_State *L, int idx)
{
	l_request *q = lua_touserdata(L, idx);
	return q->r;
}

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

void k8s_lua_check_option(lua_State *L, const char *type, const char *key, const char *what)
{
	const char *hint;
	int known = k8s__pb_options_field(type, key, &hint);
	if (known < 0)
		luaL_error(L, "%s: no options type %s", what, type);
	if (!known && hint)
		luaL_error(L, "%s: unknown option \"%s\" (%s has no such field; did you mean \"%s\"?)", what, key, type,
			   hint);
	if (!known)
		luaL_error(L, "%s: unknown option \"%s\" (%s has no such field)", what, key, type);
}

static int skipped(const char *const *skip, const char *k)
{
	for (; skip && *skip; skip++)
		if (strcmp(*skip, k) == 0)
			return 1;
	return 0;
}

/* VersionedParams(opts), and the typed methods' options: every non-empty
 * field becomes a query parameter; list values repeat the parameter.
 * Tables (preconditions) are not allowed. */
int k8s_lua_add_params(lua_State *L, k8s_request *r, int idx, const char *what, const char *type,
		       const char *const *skip)
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
		if (type)
			k8s_lua_check_option(L, type, k, what);
		if (skipped(skip, k)) {
			lua_pop(L, 1);
			continue;
		}
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
	k8s_lua_add_params(L, q->r, 2, "VersionedParams", NULL, NULL);
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

/* Start a call from a request; in the nginx driver's mode return it
 * pending (K8S_LUA_PENDING, call), else run it here. */
static int start_call(lua_State *L, k8s_request *r, k8s_call_mode mode, int kind, k8s_call **out)
{
	int rc = k8s_call_new(out, r, mode);
	if (rc < 0) {
		k8s_lua_raise_if_invalid(L, rc, "request");
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

/* Execute a request and return the decoded object, or nil, err. */
int k8s_lua_do_decode(lua_State *L, k8s_request *r, int want_body)
{
	return run_kind(L, r, K8S_CALL_MODE_DO, want_body ? K8S_LUA_DECODE : K8S_LUA_DECODE_NOBODY);
}

static int req_do_raw(lua_State *L)
{
	l_request *q = check_request(L, 1);
	return run_kind(L, q->r, K8S_CALL_MODE_DO, K8S_LUA_DORAW);
}

static int req_stream(lua_State *L)
{
	l_request *q = check_request(L, 1);
	return run_kind(L, q->r, K8S_CALL_MODE_STREAM, K8S_LUA_STREAM);
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

static const luaL_Reg request_methods[] = {
	{"Namespace", req_namespace}, {"Resource", req_resource}, {"Name", req_name},
	{"SubResource", req_subresource}, {"Prefix", req_prefix}, {"Suffix", req_suffix},
	{"AbsPath", req_abs_path}, {"Param", req_param}, {"VersionedParams", req_versioned_params},
	{"SetHeader", req_set_header}, {"Body", req_body}, {"Timeout", req_timeout},
	{"MaxRetries", req_max_retries}, {"URL", req_url}, {"Do", req_do}, {"DoRaw", req_do_raw},
	{"Stream", req_stream}, {"Watch", req_watch}, {NULL, NULL}};
static const luaL_Reg request_meta[] = {{"__gc", req_gc}, {NULL, NULL}};

void k8s_lua_open_request(lua_State *L)
{
	k8s_lua_new_class(L, MT_REQUEST, request_methods, request_meta);
}
