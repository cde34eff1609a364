/*
 * codec.c - what the JSON and YAML codecs share (codec.h).
 */
#include "compat.h"
#include "codec.h"

#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static locale_t c_numeric_locale;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void c_numeric_init(void)
{
	c_numeric_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static locale_t c_numeric(void)
{
	pthread_once(&c_numeric_once, c_numeric_init);
	return c_numeric_locale;
}

double k8s_lua_strtod_c(const char *s, char **endp)
{
	locale_t loc = c_numeric();
	return loc ? strtod_l(s, endp, loc) : strtod(s, endp);
}

float k8s_lua_strtof_c(const char *s)
{
	locale_t loc = c_numeric();
	return loc ? strtof_l(s, NULL, loc) : strtof(s, NULL);
}

int k8s_lua_snprintf_c(char *out, size_t n, const char *fmt, ...)
{
	locale_t loc = c_numeric(), old = (locale_t)0;
	va_list ap;
	int k;

	if (loc)
		old = uselocale(loc);
	va_start(ap, fmt);
	k = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (loc)
		uselocale(old);
	return k;
}

int k8s_lua_fmt_double(char *out, size_t cap, double v)
{
	locale_t loc = c_numeric(), old = (locale_t)0;
	int prec, k = 0;

	if (loc)
		old = uselocale(loc);
	for (prec = 15; prec <= 17; prec++) {
		k = snprintf(out, cap, "%.*g", prec, v);
		if (prec == 17 || k8s_lua_strtod_c(out, NULL) == v)
			break;
	}
	if (loc)
		uselocale(old);
	return k < 0 || (size_t)k >= cap ? -1 : k;
}

void k8s_lua_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void k8s_lua_path_prepend(char *path, size_t cap, size_t *len, int *cut, const char *comp, size_t n)
{
	if (*cut)
		return;
	if (n + *len >= cap) {
		*cut = 1;
		return;
	}
	memmove(path + n, path, *len);
	memcpy(path, comp, n);
	*len += n;
}

static int push_owned(lua_State *L)
{
	lua_pushlstring(L, (const char *)lua_touserdata(L, 1), (size_t)lua_tonumber(L, 2));
	return 1;
}

void k8s_lua_push_owned_prepare(lua_State *L)
{
	lua_pushcfunction(L, push_owned);
}

int k8s_lua_push_owned(lua_State *L, char *out, size_t n)
{
	int rc;

	lua_pushlightuserdata(L, out);
	lua_pushnumber(L, (lua_Number)n);
	rc = lua_pcall(L, 2, 1, 0);
	free(out);
	if (rc != 0)
		return lua_error(L);
	return 1;
}

/* Is the key at the top of the stack an integer in [1, n]? */
static int is_index_key(lua_State *L, size_t n)
{
	if (lua_type(L, -1) != LUA_TNUMBER)
		return 0;
#if K8S_LUA_HAS_INTEGERS
	if (lua_isinteger(L, -1)) {
		lua_Integer k = lua_tointeger(L, -1);
		return k >= 1 && (lua_Unsigned)k <= (lua_Unsigned)n;
	}
	return 0;
#else
	{
		double k = (double)lua_tonumber(L, -1);
		return k >= 1 && k <= (double)n && k == (double)(size_t)k;
	}
#endif
}

int k8s_lua_table_kind(lua_State *L, int idx, int mt, int jsontype, size_t *np)
{
	size_t n, count = 0;

	if (lua_getmetatable(L, idx)) {
		int kind = K8S_LUA_KIND_AUTO;
		if (lua_rawequal(L, -1, mt)) {
			lua_pop(L, 1);
			*np = K8S_LUA_RAWLEN(L, idx);
			return K8S_LUA_KIND_ARRAY;
		}
		lua_pushvalue(L, jsontype);
		lua_rawget(L, -2);
		if (lua_type(L, -1) == LUA_TSTRING) {
			const char *t = lua_tostring(L, -1);
			if (strcmp(t, "array") == 0)
				kind = K8S_LUA_KIND_ARRAY;
			else if (strcmp(t, "object") == 0)
				kind = K8S_LUA_KIND_OBJECT;
		}
		lua_pop(L, 2);
		if (kind != K8S_LUA_KIND_AUTO) {
			*np = kind == K8S_LUA_KIND_ARRAY ? K8S_LUA_RAWLEN(L, idx) : 0;
			return kind;
		}
	}
	n = K8S_LUA_RAWLEN(L, idx);
	*np = n;
	if (n == 0)
		return K8S_LUA_KIND_OBJECT;
	/* array iff the keys are exactly 1..n */
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (!is_index_key(L, n)) {
			lua_pop(L, 1);
			return K8S_LUA_KIND_OBJECT;
		}
		count++;
	}
	return count == n ? K8S_LUA_KIND_ARRAY : K8S_LUA_KIND_OBJECT;
}

void k8s_lua_table_from_pending(lua_State *L, int slot, int n, int arr, int size)
{
	int i;
	if (arr) {
		lua_createtable(L, size, 0);
		lua_replace(L, slot);
		for (i = n; i >= 1; i--)
			lua_rawseti(L, slot, i);
		return;
	}
	lua_createtable(L, 0, size);
	lua_replace(L, slot);
	for (i = 0; i < n; i++) {
		lua_pushvalue(L, slot + 1 + 2 * i);
		lua_pushvalue(L, slot + 2 + 2 * i);
		lua_rawset(L, slot);
	}
	lua_settop(L, slot);
}
