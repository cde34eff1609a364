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

#include "jsonscan.h"

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

/* Incremental decoding of one JSON object that arrives in pieces (a large
 * List response): each member is decoded as soon as its value is complete,
 * and a member whose value is an array ("items") element by element, so
 * that decoding overlaps the transfer. The table built is the one
 * k8s_lua_json_decode gives for the whole text. */
typedef struct {
	size_t pos;          /* bytes consumed */
	size_t vstart;       /* start of the value being scanned */
	size_t kstart, kend; /* the current member's key, quotes included */
	int phase;
	int n;               /* elements of the array member so far */
	int failed;          /* not decodable this way: decode the whole text */
	int scanning;        /* a large value: the scanner looks for its end */
	size_t scan_at;      /* where the scanner resumes */
	k8s_json_scanner sc;
} k8s_lua_json_inc;

void k8s_lua_json_inc_init(k8s_lua_json_inc *s);

/* Continue with buf[0..len), all of the text received so far (it may have
 * moved since the last call; only offsets are kept). The object being built
 * is at stack index `slot` (absolute; nil before the '{') and the array
 * member being filled at slot + 1. Returns 0 (and sets failed) when the text
 * is not an object this decoder can take or is malformed; the caller then
 * decodes the whole text, which reports the error. May raise on memory
 * exhaustion: call it under lua_pcall. */
int k8s_lua_json_inc_feed(lua_State *L, k8s_lua_json_inc *s, int slot,
						  const char *buf, size_t len);

/* Whether the whole text buf[0..len) was decoded (the object is at slot). */
int k8s_lua_json_inc_complete(const k8s_lua_json_inc *s, const char *buf, size_t len);

/* Lua-facing functions for the binding:
 *   decode(string) -> value      raises "k8s.json.decode: <message>"
 *   encode(value)  -> string     raises "k8s.json.encode: <message>" */
int k8s_lua_json_l_decode(lua_State *L);
int k8s_lua_json_l_encode(lua_State *L);

#endif /* K8S_LUA_JSON_H */
