/* What the Lua fuzz targets (lua_json, lua_json_inc, lua_yaml, lua_proto)
 * share: their one lua_State with the binding's JSON metatables, the driver
 * that runs an input under lua_pcall (a raise is a finding) and collects
 * after it, and the deep comparison of decoded Lua values. */
#ifndef K8S_FUZZ_LUA_COMPARE_H
#define K8S_FUZZ_LUA_COMPARE_H

#include <math.h>
#include <string.h>

#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>

#include "compat.h"
#include "fuzz.h"
#include "json.h"

/* a full collection every GC_EVERY inputs keeps memory flat */
#define GC_EVERY 1

static lua_State *L;
static unsigned long runs;

/* LLVMFuzzerInitialize's part: the state, with the JSON metatables. */
static inline void lua_fuzz_init(void)
{
	L = luaL_newstate();
	if (!L)
		abort();
	k8s_lua_json_init(L);
}

/* After each input: the stack emptied, the collection. */
static inline void lua_fuzz_done(void)
{
	lua_settop(L, 0);
	if (++runs % GC_EVERY == 0)
		lua_gc(L, LUA_GCCOLLECT, 0);
}

/* One input: run(in) under lua_pcall; a raise is a finding. */
static inline void lua_fuzz_run(lua_CFunction run, void *in)
{
	int rc;
	lua_settop(L, 0);
	lua_pushcfunction(L, run);
	lua_pushlightuserdata(L, in);
	rc = lua_pcall(L, 1, 0, 0);
	FUZZ_CHECK(rc == 0, "raised: %s", lua_tostring(L, -1));
	lua_fuzz_done();
}

static int is_array(int idx)
{
	int r;

	if (!lua_getmetatable(L, idx))
		return 0;
	k8s_lua_json_push_array_mt(L);
	r = lua_rawequal(L, -1, -2);
	FUZZ_CHECK(r, "a decoded table has a metatable other than the array one");
	lua_pop(L, 2);
	return 1;
}

static size_t count_keys(int idx)
{
	size_t n = 0;

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		n++;
	}
	return n;
}

static void same_number(int a, int b, int strict, int depth)
{
	double x, y;

#if K8S_LUA_HAS_INTEGERS
	int ia = lua_isinteger(L, a), ib = lua_isinteger(L, b);
	if (ia || ib) {
		FUZZ_CHECK(ia == ib || (!strict && ib),
			   "number subtype changed at depth %d (%d -> %d)", depth, ia, ib);
		if (ia) {
			FUZZ_CHECK(lua_tointeger(L, a) == lua_tointeger(L, b),
				   "integer changed at depth %d", depth);
		} else {
			/* an integral float written as an integer */
			x = (double)lua_tonumber(L, a);
			FUZZ_CHECK(x == floor(x) && x >= -9223372036854775808.0 &&
					   x < 9223372036854775808.0 &&
					   (lua_Integer)x == lua_tointeger(L, b),
				   "float %.17g became integer %lld at depth %d", x,
				   (long long)lua_tointeger(L, b), depth);
		}
		return;
	}
#endif
	x = (double)lua_tonumber(L, a);
	y = (double)lua_tonumber(L, b);
	if (memcmp(&x, &y, sizeof x) == 0)
		return;
	FUZZ_CHECK(!strict && x == 0 && signbit(x) && y == 0 && !signbit(y),
		   "number %.17g became %.17g at depth %d", x, y, depth);
}

/* Deep equality of the decoded values at a and b (absolute indices). */
static void same(int a, int b, int strict, int depth)
{
	int t = lua_type(L, a);

	FUZZ_CHECK(t == lua_type(L, b), "type %s vs %s at depth %d", lua_typename(L, t),
		   lua_typename(L, lua_type(L, b)), depth);
	switch (t) {
	case LUA_TNUMBER:
		same_number(a, b, strict, depth);
		break;
	case LUA_TSTRING: {
		size_t la, lb;
		const char *sa = lua_tolstring(L, a, &la), *sb = lua_tolstring(L, b, &lb);
		FUZZ_CHECK(la == lb && memcmp(sa, sb, la) == 0, "string differs at depth %d", depth);
		break;
	}
	case LUA_TBOOLEAN:
		FUZZ_CHECK(lua_toboolean(L, a) == lua_toboolean(L, b), "boolean at depth %d", depth);
		break;
	case LUA_TLIGHTUSERDATA:
		FUZZ_CHECK(!lua_touserdata(L, a) && !lua_touserdata(L, b),
			   "lightuserdata other than null at depth %d", depth);
		break;
	case LUA_TTABLE: {
		int arr = is_array(a);
		size_t n = count_keys(a);
		FUZZ_CHECK(depth < K8S_LUA_JSON_MAX_DEPTH, "deeper than the limit");
		FUZZ_CHECK(lua_checkstack(L, 6), "Lua stack at depth %d", depth);
		FUZZ_CHECK(arr == is_array(b), "array metatable differs at depth %d", depth);
		FUZZ_CHECK(n == count_keys(b), "member count differs at depth %d", depth);
		if (arr) {
			/* null is not nil: an array has no holes */
			FUZZ_CHECK(n == (size_t)K8S_LUA_RAWLEN(L, a) && n == (size_t)K8S_LUA_RAWLEN(L, b),
				   "array length differs at depth %d", depth);
			for (size_t i = 1; i <= n; i++) {
				lua_rawgeti(L, a, (int)i);
				lua_rawgeti(L, b, (int)i);
				same(lua_gettop(L) - 1, lua_gettop(L), strict, depth + 1);
				lua_pop(L, 2);
			}
			break;
		}
		lua_pushnil(L);
		while (lua_next(L, a)) {
			FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING, "object key not a string");
			lua_pushvalue(L, -2);
			lua_rawget(L, b);
			same(lua_gettop(L) - 1, lua_gettop(L), strict, depth + 1);
			lua_pop(L, 2);
		}
		break;
	}
	default:
		FUZZ_CHECK(0, "decoded a %s", lua_typename(L, t));
	}
}

#endif
