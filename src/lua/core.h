/* Shared declarations of the Lua binding's C files. */
#ifndef K8S_LUA_CORE_H
#define K8S_LUA_CORE_H

#include <lua.h>
#include <lauxlib.h>
#include "k8s.h"
#include "compat.h"

#define K8S_LUA_EXPORT __attribute__((visibility("default")))

void k8s_lua_push_error(lua_State *L, int code, const char *reason, const char *message, const char *status_json,
			int retry_after);
int k8s_lua_fail_last(lua_State *L);
int k8s_lua_fail_status(lua_State *L, const k8s_status *st);
int k8s_lua_raise_last(lua_State *L, const char *where);
k8s_config *k8s_lua_check_config(lua_State *L, int idx);
k8s_config **k8s_lua_guard_config(lua_State *L, k8s_config *cfg);
void k8s_lua_push_client(lua_State *L, k8s_rest_client *rc);
int k8s_lua_add_params(lua_State *L, k8s_request *r, int idx, const char *what);
int k8s_lua_set_body(lua_State *L, k8s_request *r, int idx);
int k8s_lua_push_body(lua_State *L, const char *body, size_t len);
int k8s_lua_do_decode(lua_State *L, k8s_request *r, int want_body);
int k8s_lua_start_watch(lua_State *L, k8s_request *r);
/* Registers functions defined in other binding files into the module table at -1. */
void k8s_lua_register_extras(lua_State *L);
/* auth.c: clientcmd/in-cluster bindings and Lua credential callbacks. */
void k8s_lua_register_auth(lua_State *L);
/* Called at the end of k8s_lua_check_config: installs config.TokenSource
 * (a Lua function) as the config's credential callback. 0 or < 0 with the
 * last error set. */
int k8s_lua_config_hook(lua_State *L, int idx, k8s_config *cfg);

#endif
