/*
 * protobuf.c (binding) - protobuf bodies and watch events straight into the
 * Lua tables the JSON decoder (json.c) gives for the server's JSON: the
 * walker of src/proto.c with a sink that builds tables on the Lua stack.
 * Arrays get the array metatable, null is lightuserdata NULL, []byte is a
 * base64 string, and numbers follow json.c: integers where the JSON text
 * would be an integer literal that fits (Lua 5.3+), doubles otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "proto.h"
#include "json.h"
#include "core.h"

/* containers open at once: two a message level at most (a map or array of
 * messages), plus the envelope's */
#define MAX_OPEN (2 * K8S_PB_MAX_DEPTH + 8)

typedef struct {
	lua_State *L;
	int depth;
	unsigned char is_arr[MAX_OPEN];
	lua_Integer n[MAX_OPEN];
} lsink;

/* Store the value on top of the stack in the open container (a key sits
 * below it in an object); a top-level value stays. */
static int place(lsink *s)
{
	lua_State *L = s->L;
	if (s->depth == 0)
		return 0;
	if (s->is_arr[s->depth - 1])
		lua_rawseti(L, -2, (int)++s->n[s->depth - 1]);
	else
		lua_rawset(L, -3);
	return 0;
}

static int open_container(lsink *s, int arr)
{
	lua_State *L = s->L;
	if (s->depth >= MAX_OPEN || !lua_checkstack(L, 4))
		return K8S_EDECODE;
	lua_createtable(L, 0, arr ? 0 : 4);
	if (arr) {
		k8s_lua_json_push_array_mt(L);
		lua_setmetatable(L, -2);
	}
	s->is_arr[s->depth] = (unsigned char)arr;
	s->n[s->depth] = 0;
	s->depth++;
	return 0;
}

static int close_container(lsink *s)
{
	s->depth--;
	return place(s);
}

static int l_obj_begin(void *u) { return open_container(u, 0); }
static int l_arr_begin(void *u) { return open_container(u, 1); }
static int l_end(void *u) { return close_container(u); }

static int l_key(void *u, const char *k, size_t n)
{
	lsink *s = u;
	lua_pushlstring(s->L, k, n);
	return 0;
}

static int l_str(void *u, const char *v, size_t n)
{
	lsink *s = u;
	lua_pushlstring(s->L, v, n);
	return place(s);
}

static int l_bytes(void *u, const char *v, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	lsink *s = u;
	const unsigned char *p = (const unsigned char *)v;
	luaL_Buffer b;
	char out[1024];
	size_t o = 0, i = 0;
	luaL_buffinit(s->L, &b);
	for (; i + 3 <= n; i += 3) {
		out[o++] = tbl[p[i] >> 2];
		out[o++] = tbl[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		out[o++] = tbl[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		out[o++] = tbl[p[i + 2] & 63];
		if (o == sizeof(out)) {
			luaL_addlstring(&b, out, o);
			o = 0;
		}
	}
	if (i < n) {
		out[o++] = tbl[p[i] >> 2];
		if (i + 1 < n) {
			out[o++] = tbl[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			out[o++] = tbl[(p[i + 1] & 15) << 2];
		} else {
			out[o++] = tbl[(p[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	luaL_addlstring(&b, out, o);
	luaL_pushresult(&b);
	return place(s);
}

static void push_int(lua_State *L, int64_t v)
{
#if LUA_VERSION_NUM >= 503
	lua_pushinteger(L, (lua_Integer)v);
#else
	lua_pushnumber(L, (lua_Number)v);
#endif
}

static int l_i64(void *u, int64_t v)
{
	lsink *s = u;
	push_int(s->L, v);
	return place(s);
}

static int l_u64(void *u, uint64_t v)
{
	lsink *s = u;
	if (v <= (uint64_t)INT64_MAX)
		push_int(s->L, (int64_t)v);
	else
		lua_pushnumber(s->L, (lua_Number)v);
	return place(s);
}

/* Go writes an integral double under 1e21 as digits, which json.c reads as
 * an integer when it fits in int64. */
static int l_dbl(void *u, double v)
{
	lsink *s = u;
	if (v == floor(v) && fabs(v) < 9223372036854775808.0)
		push_int(s->L, (int64_t)v);
	else
		lua_pushnumber(s->L, v);
	return place(s);
}

static int l_bool(void *u, int v)
{
	lsink *s = u;
	lua_pushboolean(s->L, v);
	return place(s);
}

static int l_null(void *u)
{
	lsink *s = u;
	lua_pushlightuserdata(s->L, NULL);
	return place(s);
}

static int l_raw(void *u, const char *v, size_t n)
{
	lsink *s = u;
	if (!lua_checkstack(s->L, 4) || !k8s_lua_json_decode(s->L, v, n, NULL, 0))
		return K8S_EDECODE;
	return place(s);
}

static const k8s_pb_sink lua_sink = {l_obj_begin, l_end, l_arr_begin, l_end, l_key, l_str,  l_bytes,
				     l_i64,       l_u64, l_dbl,       l_bool, l_null, l_raw};

int k8s_lua_pb_decode(lua_State *L, const char *p, size_t n, int event, char *err, size_t errlen)
{
	lsink s;
	int top = lua_gettop(L), rc;
	s.L = L;
	s.depth = 0;
	rc = event ? k8s__pb_walk_event(&lua_sink, &s, p, n, err, errlen)
		   : k8s__pb_walk_body(&lua_sink, &s, p, n, err, errlen);
	if (rc < 0 || lua_gettop(L) != top + 1) {
		lua_settop(L, top);
		if (rc >= 0 && err && errlen)
			snprintf(err, errlen, "protobuf: no value");
		return 0;
	}
	return 1;
}
