/*
 * codec.h - what the JSON (json.c) and YAML (yaml.c) codecs of the binding
 * share: numbers in the "C" locale, error text, the encoders' error paths
 * and the rules that make a Lua table an array or an object (json.h).
 */
#ifndef K8S_LUA_CODEC_H
#define K8S_LUA_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

/* strtod/strtof in the "C" numeric locale: os.setlocale() cannot change
 * how numbers are read. */
double k8s_lua_strtod_c(const char *s, char **endp);
float k8s_lua_strtof_c(const char *s);

/* snprintf in the "C" numeric locale. */
int k8s_lua_snprintf_c(char *out, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* The shortest of %.15g, %.16g and %.17g (in the "C" locale) that reads
 * back as v exactly, into out[0..cap); its length, or -1 when it does not
 * fit. v must be finite. */
int k8s_lua_fmt_double(char *out, size_t cap, double v);

/* The decoders' pending entries: n values (arr) or n key/value pairs above
 * stack index slot become a table of `size` preallocated slots, stored at
 * slot (in order, so a later duplicate key wins); the stack ends at slot. */
void k8s_lua_table_from_pending(lua_State *L, int slot, int n, int arr, int size);

/* Formats a message into err[0..errlen) (nothing when err is NULL). */
void k8s_lua_set_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* Prepends a component to an error path (path[0..*len) of cap bytes, built
 * from the innermost component outwards); when it does not fit, *cut is set
 * and the outer part is left out. */
void k8s_lua_path_prepend(char *path, size_t cap, size_t *len, int *cut, const char *comp, size_t n);

/* Integral double within +-2^53?  Then *iv is its exact value. */
static inline int k8s_lua_double_is_int53(double v, int64_t *iv)
{
	if (v >= -9007199254740992.0 && v <= 9007199254740992.0) {
		int64_t i = (int64_t)v;
		if ((double)i == v) {
			*iv = i;
			return 1;
		}
	}
	return 0;
}

/* Turning a malloc'd buffer into a Lua string without leaking it when Lua
 * raises a memory error: call k8s_lua_push_owned_prepare(L) before making
 * the buffer (it pushes one value), then k8s_lua_push_owned(L, out, n),
 * which replaces that value with the string, frees out in every case and
 * returns 1 (or raises, after freeing). */
void k8s_lua_push_owned_prepare(lua_State *L);
int k8s_lua_push_owned(lua_State *L, char *out, size_t n);

enum { K8S_LUA_KIND_AUTO, K8S_LUA_KIND_ARRAY, K8S_LUA_KIND_OBJECT };

/* How the table at idx encodes (json.h): K8S_LUA_KIND_ARRAY (the array
 * metatable, at stack slot mt, or __jsontype "array"; or keys exactly 1..n,
 * n >= 1) or K8S_LUA_KIND_OBJECT (__jsontype "object", an empty table, any
 * other keys). jsontype is the stack slot of the string "__jsontype". *np
 * is the array's length. Raw access only; uses two stack slots. */
int k8s_lua_table_kind(lua_State *L, int idx, int mt, int jsontype, size_t *np);

#endif /* K8S_LUA_CODEC_H */
