/* Deep comparison of decoded Lua values, shared by fuzz/lua_json.c and
 * fuzz/lua_json_inc.c. The includer defines `static lua_State *L;` first. */
#ifndef K8S_FUZZ_LUA_COMPARE_H
#define K8S_FUZZ_LUA_COMPARE_H

#include <math.h>
#include <string.h>

#include <lua.h>

#include "compat.h"
#include "fuzz.h"
#include "json.h"

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
