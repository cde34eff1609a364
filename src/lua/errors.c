/* The binding's errors: nil, err for failures below the API (err a k8s.Error
 * table: code, reason, message, status and retryAfterSeconds) and the raises
 * for invalid arguments and invalid requests. */
#include <string.h>
#include "json.h"
#include "core.h"

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

int k8s_lua_fail_call(lua_State *L, int rc, k8s_result *res, const char *what)
{
	void *owner;
	int n;
	if (!res) {
		k8s_lua_raise_if_invalid(L, rc, what);
		return k8s_lua_fail_last(L);
	}
	owner = k8s_lua_owned(L, res, k8s_lua_free_result); /* pushing may raise */
	n = k8s_lua_fail_status(L, k8s_result_status(res));
	k8s_result_free(k8s_lua_disown(owner));
	return n;
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

/* Errors detected before sending (invalid request) raise; everything else is
 * a result. */
int k8s_lua_raise_if_invalid(lua_State *L, int rc, const char *what)
{
	if (rc == K8S_EINVALID)
		return k8s_lua_raise_last(L, what);
	return 0;
}

static const luaL_Reg error_meta[] = {{"__tostring", error_tostring}, {NULL, NULL}};

void k8s_lua_open_errors(lua_State *L)
{
	luaL_newmetatable(L, "k8s.Error");
	lua_pushstring(L, "k8s.Error");
	lua_setfield(L, -2, "__name");
	luaL_setfuncs(L, error_meta, 0);
	lua_pop(L, 1); /* no __index: errors are plain tables */
}
