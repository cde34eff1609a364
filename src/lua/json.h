/*
 * json.h - JSON codec for the Lua C API (Lua 5.4 and LuaJIT from one source).
 *
 * Decoding maps JSON to plain Lua tables:
 *   object -> table (no metatable)
 *   array  -> table with the shared array metatable (see below), always, so
 *             that [] and [1,2] survive a decode -> encode round trip
 *   null   -> lightuserdata(NULL)  (the same value as cjson.null)
 *   number -> integer when it has no fraction/exponent and fits in int64
 *             (Lua 5.3+), float otherwise; always a double on LuaJIT
 *   string -> string (escapes incl. \uXXXX surrogate pairs become UTF-8)
 *
 * Encoding rules for tables:
 *   - a table whose metatable is the array metatable (or any metatable with
 *     __jsontype == "array") -> array of t[1..#t], holes -> null
 *   - a metatable with __jsontype == "object" -> object (even when empty)
 *   - a table whose keys are exactly 1..n (n >= 1) -> array
 *   - an empty table without metatable -> {}
 *   - otherwise an object; keys must be strings or integral numbers (which
 *     are written as decimal strings); other key types are an error
 * lightuserdata NULL and nil -> null; integral floats within +-2^53 are
 * written as integers ("3", never "3.0"); NaN and infinities are an error;
 * nesting deeper than K8S_LUA_JSON_MAX_DEPTH (this also catches cycles) is an
 * error.  Error paths use Lua indices: ".spec.containers[1].name".
 * Encoding never calls metamethods or Lua code.
 */
#ifndef K8S_LUA_JSON_H
#define K8S_LUA_JSON_H

#include <stddef.h>
#include <lua.h>

#define K8S_LUA_JSON_MAX_DEPTH 1000

/* Registry name (luaL_newmetatable) of the array metatable. */
#define K8S_LUA_JSON_ARRAY_MT "k8s.array"

/* Creates the array metatable once per state: { __name = "k8s.array",
 * __jsontype = "array" }, stored in the registry under K8S_LUA_JSON_ARRAY_MT.
 * Safe to call more than once.  Decoding and encoding call it lazily. */
void k8s_lua_json_init(lua_State *L);

/* Pushes the array metatable (creating it if needed). */
void k8s_lua_json_push_array_mt(lua_State *L);

/* Decodes s[0..len) (need not be NUL-terminated).  On success pushes one
 * value and returns 1.  On malformed input pushes nothing, writes a short
 * message with the byte offset to err (if err != NULL) and returns 0.
 * May raise a Lua error only on memory exhaustion (nothing leaks). */
int k8s_lua_json_decode(lua_State *L, const char *s, size_t len, char *err,
                        size_t errlen);

/* Encodes the value at idx.  On success stores a malloc'd buffer (NUL
 * terminated, caller frees) in *out and its length (without the NUL) in
 * *outlen and returns 1.  On failure returns 0, *out = NULL and a message
 * such as "cannot encode function at .metadata.labels.app" is written to err.
 * Leaves the Lua stack unchanged.  Calls no Lua code; the only Lua API call
 * that could raise (LuaJIT's lua_checkstack, on memory exhaustion) would
 * leak the partial buffer. */
int k8s_lua_json_encode(lua_State *L, int idx, char **out, size_t *outlen,
                        char *err, size_t errlen);

/* Lua-facing functions for the binding:
 *   decode(string) -> value      raises "k8s.json.decode: <message>"
 *   encode(value)  -> string     raises "k8s.json.encode: <message>" */
int k8s_lua_json_l_decode(lua_State *L);
int k8s_lua_json_l_encode(lua_State *L);

#endif /* K8S_LUA_JSON_H */
