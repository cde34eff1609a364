/*
 * yaml.h - YAML codec for the Lua C API (Lua 5.4 and LuaJIT from one
 * source), on libyaml's event parser and emitter.  Exposed as k8s.yaml.
 *
 * Decoding reads every document of a stream and gives what Kubernetes
 * makes of it (sigs.k8s.io/yaml: go-yaml v2's YAML 1.1 rules, then JSON),
 * as the same Lua values as the JSON codec (json.h):
 *   mapping  -> table (no metatable); {} -> empty table
 *   sequence -> table with the array metatable ([] survives)
 *   null     -> lightuserdata(NULL) (k8s.null)
 *   int      -> integer on Lua 5.3+ (exact int64), double on LuaJIT;
 *               beyond int64 (go-yaml's uint64) -> double
 *   float    -> double; .inf and .nan are an error (JSON cannot carry them)
 *   bool     -> boolean
 *   string   -> string (timestamps stay strings; !!binary is base64-decoded)
 * Only plain scalars are resolved (y/yes/on/true..., ~/null, 0x1F, 010,
 * 0o10, 0b1, 1_000, 1e3, .5, .inf ...); quoted ones are strings.  Explicit
 * tags !!str !!int !!float !!bool !!null !!timestamp !!binary are checked
 * as go-yaml v2 does ("cannot decode !!str `x` as a !!int"); other tags,
 * and all tags on mappings and sequences, are ignored (go-yaml v2).
 * Mapping keys become strings: bool/int/float keys as sigs.k8s.io/yaml
 * writes them ("true", "1", "1.5"); null and complex keys are an error.
 * Duplicate keys: the last one wins.  Merge keys (<<) as go-yaml v2: the
 * merged keys are set where the << appears (a later key overrides them, an
 * earlier one is overridden); in a sequence of maps the first one wins.
 * Aliases are expanded (deep copies) under go-yaml v2's budget: past 1000
 * nodes, more than 99% of a document from alias expansion (falling to 10%
 * at 4M nodes) is "document contains excessive aliasing"; the same budget
 * holds for the whole stream.  An alias inside its own anchor is "anchor
 * 'a' value contains itself".  Nesting deeper than K8S_LUA_JSON_MAX_DEPTH
 * is an error.  Text whose first character is '{' or '[' and that is one
 * JSON value is decoded by the JSON codec (the same values, faster; and
 * JSON's \ud83d\ude00 pairs, which libyaml rejects), unless a number
 * overflows a double ("1e999": a string, as go-yaml reads it).
 *
 * Encoding follows the JSON encoder's table rules (json.h: array metatable
 * or __jsontype, 1..n arrays, empty table -> {}, null, integral floats as
 * integers, NaN/inf and depth errors, ".a.b[1]" paths) and writes what
 * go-yaml v2 writes for the same JSON: block style, 2-space indent, "- "
 * items at their mapping's indent, keys in go-yaml's order (digit runs
 * compare by value: "a9" < "a10"; made a total order), [] and {}, strings
 * quoted exactly when the plain form would read back as something else
 * ("true", "on", "1", "", "null", "2024-01-01", "1:20") or libyaml finds
 * plain unsafe, multi-line strings as literal blocks where libyaml allows
 * it, bytes that are not UTF-8 as !!binary.  Floats beyond 2^53 that are
 * integral keep a ".0".  No line wrapping.
 */
#ifndef K8S_LUA_YAML_H
#define K8S_LUA_YAML_H

/* This file shares its name with libyaml's header.  Where src/lua is on the
 * include path (the rockspec, the fuzz targets), <yaml.h> finds this file
 * first, so it brings libyaml's declarations along (from the directory
 * after this one; found next to the includer, from the start of the path,
 * which reaches libyaml or this file again, already guarded). */
#ifdef __clang__
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winclude-next-absolute-path"
#endif
#include_next <yaml.h>
#ifdef __clang__
#pragma clang diagnostic pop
#endif

#include <stddef.h>
#include <lua.h>

/* Decodes every document of s[0..len) (need not be NUL-terminated).  On
 * success pushes an array (array metatable) of one value per document, an
 * empty or null document being lightuserdata(NULL), and returns 1; an empty
 * text (or only comments) gives an empty array.  On malformed input pushes
 * nothing, writes a message such as "document 2, line 7: mapping values are
 * not allowed in this context" to err and returns 0.  May raise a Lua error
 * only on memory exhaustion (nothing leaks). */
int k8s_lua_yaml_decode(lua_State *L, const char *s, size_t len, char *err,
                        size_t errlen);

/* Encodes the value at idx as one YAML document (no "---"); with all != 0
 * the value at idx must be a table and each of t[1..#t] becomes a document,
 * joined by "---\n".  On success stores a malloc'd, NUL-terminated buffer
 * in *out (caller frees) and its length in *outlen and returns 1.  On
 * failure returns 0, *out = NULL, and writes a message such as "cannot
 * encode function at .spec.containers[1].name" (with all: "document 2:
 * ...") to err.  Leaves the Lua stack unchanged; calls no Lua code.  May
 * raise a Lua error only on memory exhaustion (nothing leaks). */
int k8s_lua_yaml_encode(lua_State *L, int idx, int all, char **out,
                        size_t *outlen, char *err, size_t errlen);

/* Lua-facing functions for the binding:
 *   decode(string)   -> docs | nil, "yaml: document N, line L: ..."
 *   encode(value)    -> string | nil, "yaml: ..."
 *   encode_all(list) -> string | nil, "yaml: document N: ..."
 * A wrong argument type raises. */
int k8s_lua_yaml_l_decode(lua_State *L);
int k8s_lua_yaml_l_encode(lua_State *L);
int k8s_lua_yaml_l_encode_all(lua_State *L);

#endif /* K8S_LUA_YAML_H */
