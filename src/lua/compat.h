/*
 * compat.h - the few Lua C API differences between Lua 5.4 and LuaJIT 2.1
 * (Lua 5.1 API) that the binding needs.  One source compiles against both.
 */
#ifndef K8S_LUA_COMPAT_H
#define K8S_LUA_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM >= 502
#define K8S_LUA_RAWLEN(L, i) lua_rawlen((L), (i))
#define k8s_lua_absindex(L, i) lua_absindex((L), (i))
#else
#define K8S_LUA_RAWLEN(L, i) lua_objlen((L), (i))
#define k8s_lua_absindex(L, i)                                                \
    (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#endif

/* Lua 5.3+ has a distinct integer subtype; LuaJIT numbers are doubles. */
#if LUA_VERSION_NUM >= 503
#define K8S_LUA_HAS_INTEGERS 1
#else
#define K8S_LUA_HAS_INTEGERS 0
#endif

#endif /* K8S_LUA_COMPAT_H */
