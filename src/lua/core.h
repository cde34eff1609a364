/* Shared declarations of the Lua binding's C files. */
#ifndef K8S_LUA_CORE_H
#define K8S_LUA_CORE_H

#include <lua.h>
#include "proto.h"
#include <lauxlib.h>
#include "k8s.h"
#include "compat.h"

#define K8S_LUA_EXPORT __attribute__((visibility("default")))

/* Each binding file that wraps a type registers its metatable (luaopen
 * calls these): config.c (k8s.ConfigGuard), rest_client.c, request.c,
 * result.c, stream.c, watch.c, limiter.c, errors.c (k8s.Error). */
void k8s_lua_open_config(lua_State *L);
void k8s_lua_open_rest_client(lua_State *L);
void k8s_lua_open_request(lua_State *L);
void k8s_lua_open_result(lua_State *L);
void k8s_lua_open_stream(lua_State *L);
void k8s_lua_open_watch(lua_State *L);
void k8s_lua_open_limiter(lua_State *L);
void k8s_lua_open_errors(lua_State *L);
/* core.c: a metatable name with these methods (__index) and metamethods. */
void k8s_lua_new_class(lua_State *L, const char *name, const luaL_Reg *methods, const luaL_Reg *meta);
/* The module's functions defined in the binding files (core.c's table). */
int k8s_lua_l_rest_client_for(lua_State *L);
int k8s_lua_l_new_token_bucket(lua_State *L);
int k8s_lua_l_json_decode_pieces(lua_State *L);
int k8s_lua_l_protobuf_decode(lua_State *L);

/* errors.c */
void k8s_lua_push_error(lua_State *L, int code, const char *reason, const char *message, const char *status_json,
			int retry_after);
int k8s_lua_fail_last(lua_State *L);
int k8s_lua_fail_status(lua_State *L, const k8s_status *st);
int k8s_lua_raise_last(lua_State *L, const char *where);
/* A call that failed (rc < 0): raises for an invalid request (named what);
 * else pushes nil, err from the server's answer res (taken: freed) or,
 * without one, from the last error. Returns 2. */
int k8s_lua_fail_call(lua_State *L, int rc, k8s_result *res, const char *what);
/* Raises for K8S_EINVALID (an invalid request, found before sending);
 * returns 0 for any other rc. */
int k8s_lua_raise_if_invalid(lua_State *L, int rc, const char *what);
/* config.c */
k8s_config *k8s_lua_check_config(lua_State *L, int idx);
/* core.c: a C object across Lua calls that may raise (out of memory):
 * _newudata_or_free pushes a userdata of size bytes, or frees obj (free_fn)
 * and raises again; _owned pushes a userdata that frees obj when collected,
 * and _disown takes obj back from it (returned). */
void *k8s_lua_newudata_or_free(lua_State *L, size_t size, void (*free_fn)(void *), void *obj);
void *k8s_lua_owned(lua_State *L, void *obj, void (*free_fn)(void *));
void *k8s_lua_disown(void *owned);
/* config.c */
k8s_config **k8s_lua_guard_config(lua_State *L, k8s_config *cfg);
/* rest_client.c */
void k8s_lua_push_client(lua_State *L, k8s_rest_client *rc);
/* limiter.c: push a k8s.RateLimiter owning rl; the limiter of the
 * k8s.RateLimiter at idx, or NULL when it is not one. */
void k8s_lua_push_limiter(lua_State *L, k8s_rate_limiter *rl);
k8s_rate_limiter **k8s_lua_test_limiter(lua_State *L, int idx);
/* request.c: push a k8s.Request owning r; the request of the k8s.Request
 * at idx (unchecked). */
void k8s_lua_push_request(lua_State *L, k8s_request *r);
k8s_request *k8s_lua_to_request(lua_State *L, int idx);
/* The options table at idx (or none) as query parameters: each non-empty
 * value one parameter, a list's values repeated. With type (a v1 options
 * kind: "ListOptions", "GetOptions", "PodLogOptions", ...), a key that is
 * no field of it raises, named; keys in skip (NULL-terminated, or NULL) are
 * the caller's own and left out. */
int k8s_lua_add_params(lua_State *L, k8s_request *r, int idx, const char *what, const char *type,
		       const char *const *skip);
/* Raise unless key is a field of the v1 options type (what: the method). */
void k8s_lua_check_option(lua_State *L, const char *type, const char *key, const char *what);
int k8s_lua_set_body(lua_State *L, k8s_request *r, int idx);
/* body.c */
int k8s_lua_push_body(lua_State *L, const char *body, size_t len);
/* protobuf.c: a protobuf body (event = 0: k8s\0 envelope) or watch event
 * (event = 1: a metav1.WatchEvent) as the tables the server's JSON decodes
 * to. Pushes the value and returns 1, or returns 0 with err set and nothing
 * pushed. May raise on memory exhaustion (it holds no resources). */
int k8s_lua_pb_decode(lua_State *L, const char *p, size_t n, int event, char *err, size_t errlen);
/* Decoding a protobuf body while it arrives (k8s__pb_inc_feed): five stack
 * slots slot..slot+4 (nil at first) hold the array metatable, the key cache,
 * the object and the repeated field being filled (key, table) between
 * feeds; when complete, the object is at slot + 2. feed returns 0 once it gave up (malformed, or
 * not a body it can take: decode the whole body then, which reports the
 * error). feed may raise on memory exhaustion: run it under lua_pcall. */
typedef struct {
	k8s_pb_inc pb;
	int failed, depth;
	int n[2];
	unsigned char arr[2];
} k8s_lua_pb_inc;
void k8s_lua_pb_inc_init(k8s_lua_pb_inc *s);
int k8s_lua_pb_inc_feed(lua_State *L, k8s_lua_pb_inc *s, int slot, const char *buf, size_t len);
int k8s_lua_pb_inc_complete(const k8s_lua_pb_inc *s, const char *buf, size_t len);
/* request.c */
int k8s_lua_do_decode(lua_State *L, k8s_request *r, int want_body);
int k8s_lua_start_watch(lua_State *L, k8s_request *r);
/* call.c: the nginx driver's side of the engine. Kinds of pending calls: */
enum { K8S_LUA_DECODE = 1, K8S_LUA_DECODE_NOBODY, K8S_LUA_DO, K8S_LUA_DORAW, K8S_LUA_STREAM, K8S_LUA_WATCH };
/* 1 when k8s.ngx installed its driver: calls return pending instead of running. */
int k8s_lua_driver_on(lua_State *L);
/* Push K8S_LUA_PENDING and a k8s.Call owning k; returns 2. */
int k8s_lua_push_pending(lua_State *L, k8s_call *k, int kind);
void k8s_lua_register_call(lua_State *L);
/* sock.c: non-blocking sockets and poll() for the plain-Lua loop. */
void k8s_lua_register_sock(lua_State *L);
/* Push the K8S_LUA_PENDING marker (a table unique to the module). */
void k8s_lua_push_pending_marker(lua_State *L);
/* Run a call with the blocking driver and push what the method returns
 * (request.c; the kinds' own: body.c, stream.c, watch.c). */
int k8s_lua_call_blocking(lua_State *L, k8s_call *k, int kind);
int k8s_lua_decode_blocking(lua_State *L, k8s_call *k, int want_body);
int k8s_lua_stream_blocking(lua_State *L, k8s_call *k);
int k8s_lua_watch_blocking(lua_State *L, k8s_call *k);
/* The outcomes shared by both drivers (res is taken): result.c (Do), body.c. */
int k8s_lua_do_outcome(lua_State *L, int rc, k8s_result *res);
int k8s_lua_do_raw_outcome(lua_State *L, int rc, k8s_result *res);
int k8s_lua_decode_outcome(lua_State *L, int rc, k8s_result *res, int want_body, void *inc);
/* watch.c; _register_watch adds the nginx driver's watch_* functions to the
 * module table at -1. */
void k8s_lua_push_watch(lua_State *L, k8s_watch *w);
void k8s_lua_register_watch(lua_State *L);
/* result.c: k8s_result_free for k8s_lua_owned and k8s_lua_newudata_or_free. */
void k8s_lua_free_result(void *p);
/* clientset.c: registers its metatables, and its functions into the module
 * table at -1. */
void k8s_lua_register_extras(lua_State *L);
/* clientcmd.c: clientcmd/in-cluster bindings and Lua credential callbacks. */
void k8s_lua_register_clientcmd(lua_State *L);
/* Called at the end of k8s_lua_check_config: installs config.TokenSource
 * (a Lua function) as the config's credential callback. 0 or < 0 with the
 * last error set. */
int k8s_lua_config_hook(lua_State *L, int idx, k8s_config *cfg);
/* The config's Lua TokenSource, or nil; 1 value pushed. */
int k8s_lua_push_token_source(lua_State *L, const k8s_config *cfg);
/* Interpret a TokenSource's returns on L from idx (failed: the error value at idx). */
int k8s_lua_token_result(lua_State *L, const k8s_config *cfg, int failed, int idx, char **token, double *expiry);

/* config.c: the K8S_LUA_* environment onto the core's options (at load) */
void k8s_lua_options_from_env(void);

#endif
