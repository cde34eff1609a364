/* The Lua binding: module "k8s.core". One source for Lua 5.4 and LuaJIT.
 * Userdata wrap the C core's objects, one binding file for each (config.c,
 * rest_client.c, request.c, result.c, stream.c, watch.c, limiter.c,
 * errors.c; call.c, clientset.c and clientcmd.c add their own); the Lua
 * modules in lua/k8s build the public API on top. Invalid arguments raise;
 * network and server failures return nil, err where err is a table with
 * code, reason, message, status and retryAfterSeconds. This file: the
 * module's functions and luaopen_k8s_core, and what the binding files
 * share (C objects across Lua allocations, k8s_lua_new_class). */
#include <lua.h>
#include <lauxlib.h>
#include <openssl/evp.h>
#include "k8s.h"
#include "json.h"
#include "yaml.h"
#include "core.h"

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

/* A userdata type: the metatable name, its methods as __index and the
 * metamethods meta (each binding file's k8s_lua_open_*). */
void k8s_lua_new_class(lua_State *L, const char *name, const luaL_Reg *methods, const luaL_Reg *meta)
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

/* ---- the module ---- */

static int l_version(lua_State *L)
{
	lua_pushstring(L, k8s_version());
	return 1;
}

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
	{"rest_client_for", k8s_lua_l_rest_client_for},
	{"new_token_bucket", k8s_lua_l_new_token_bucket},
	{"json_decode", k8s_lua_json_l_decode},
	{"json_decode_pieces", k8s_lua_l_json_decode_pieces},
	{"protobuf_decode", k8s_lua_l_protobuf_decode},
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
	k8s_lua_options_from_env();
	k8s_lua_json_init(L);
	k8s_lua_open_rest_client(L);
	k8s_lua_open_request(L);
	k8s_lua_open_result(L);
	k8s_lua_open_stream(L);
	k8s_lua_open_watch(L);
	k8s_lua_open_limiter(L);
	k8s_lua_open_errors(L);
	luaL_newmetatable(L, MT_OWNED);
	lua_pushcfunction(L, owned_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	k8s_lua_open_config(L);

	lua_newtable(L);
	luaL_setfuncs(L, funcs, 0);
	lua_pushlightuserdata(L, NULL);
	lua_setfield(L, -2, "null");
	k8s_lua_json_push_array_mt(L);
	lua_setfield(L, -2, "array_mt");
	luaL_getmetatable(L, "k8s.Error");
	lua_setfield(L, -2, "error_mt");
	k8s_lua_register_extras(L);
	k8s_lua_register_clientcmd(L);
	k8s_lua_register_call(L);
	k8s_lua_register_watch(L);
	k8s_lua_register_sock(L);
	return 1;
}
