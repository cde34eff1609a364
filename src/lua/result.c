/* rest.Result for Lua (k8s.Result), what Request:Do() returns: the body
 * (Get decodes it, Raw gives the bytes), the status code, the error, the
 * content type and the server's warnings. */
#include "core.h"

#define MT_RESULT "k8s.Result"

void k8s_lua_free_result(void *p) { k8s_result_free(p); }

typedef struct { k8s_result *res; } l_result;


/* The outcome of Do: a Result, or nil, err below HTTP. */
int k8s_lua_do_outcome(lua_State *L, int rc, k8s_result *res)
{
	l_result *lr;
	if (!res) {
		k8s_lua_raise_if_invalid(L, rc, "Do");
		return k8s_lua_fail_last(L);
	}
	lr = k8s_lua_newudata_or_free(L, sizeof(*lr), k8s_lua_free_result, res);
	lr->res = res;
	luaL_setmetatable(L, MT_RESULT);
	return 1;
}

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

static const luaL_Reg result_methods[] = {
	{"Get", result_get}, {"Raw", result_raw}, {"StatusCode", result_status_code}, {"Error", result_error},
	{"ContentType", result_content_type}, {"Warnings", result_warnings}, {NULL, NULL}};
static const luaL_Reg result_meta[] = {{"__gc", result_gc}, {NULL, NULL}};

void k8s_lua_open_result(lua_State *L)
{
	k8s_lua_new_class(L, MT_RESULT, result_methods, result_meta);
}
