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
#include "codec.h"
#include "core.h"

/* containers open at once: two a message level at most (a map or array of
 * messages), plus the envelope's */
#define MAX_OPEN (2 * K8S_PB_MAX_DEPTH + 8)
/* As json.c: a container's first entries wait on the Lua stack, so that its
 * table is created at its final size (no rehash); past PEND_MAX entries, or
 * when the stack grows past PEND_BUDGET slots, the table is made and filled
 * directly. */
#define PEND_MAX 64
#define PEND_BUDGET 2000

typedef struct {
	lua_State *L;
	int base;  /* stack top before the walk: the array metatable; base + 1: the key cache */
	int depth;
	int direct_levels; /* containers this shallow get their table at once (incremental) */
	struct {
		int slot;      /* the table, or nil while entries are pending */
		int n;         /* entries so far */
		unsigned char arr, direct;
	} open[MAX_OPEN];
} lsink;

/* Make the table of container c and move its pending entries into it. */
static void materialize(lua_State *L, lsink *s, int c)
{
	k8s_lua_table_from_pending(L, s->open[c].slot, s->open[c].n, s->open[c].arr, s->open[c].n);
	s->open[c].direct = 1;
}

/* Store the value on top of the stack in the open container (a key sits
 * below it in an object); a top-level value stays. */
static int place(lsink *s)
{
	lua_State *L = s->L;
	int c = s->depth - 1;
	if (c < 0)
		return 0;
	s->open[c].n++;
	if (s->open[c].direct) {
		if (s->open[c].arr)
			lua_rawseti(L, s->open[c].slot, s->open[c].n);
		else
			lua_rawset(L, s->open[c].slot);
	} else if (s->open[c].n >= PEND_MAX || lua_gettop(L) - s->base > PEND_BUDGET || !lua_checkstack(L, 8)) {
		materialize(L, s, c);
	}
	return 0;
}

static int open_container(lsink *s, int arr)
{
	lua_State *L = s->L;
	if (s->depth >= MAX_OPEN || !lua_checkstack(L, 8))
		return K8S_EDECODE;
	if (s->depth < s->direct_levels)
		lua_createtable(L, 0, 0);
	else
		lua_pushnil(L);
	s->open[s->depth].slot = lua_gettop(L);
	s->open[s->depth].n = 0;
	s->open[s->depth].arr = (unsigned char)arr;
	s->open[s->depth].direct = s->depth < s->direct_levels;
	s->depth++;
	return 0;
}

static int close_container(lsink *s)
{
	lua_State *L = s->L;
	int c = s->depth - 1;
	if (!s->open[c].direct)
		materialize(L, s, c);
	if (s->open[c].arr) {
		lua_pushvalue(L, s->base);
		lua_setmetatable(L, -2);
	}
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

/* Field names come from a per-state cache (a registry table indexed by the
 * field's index in the table): no hashing of the name for each object. */
#define KEY_CACHE "k8s.pb.keys"

static int l_field_key(void *u, unsigned fi, const char *json)
{
	lsink *s = u;
	lua_State *L = s->L;
	lua_rawgeti(L, s->base + 1, (int)fi + 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushstring(L, json);
		lua_pushvalue(L, -1);
		lua_rawseti(L, s->base + 1, (int)fi + 1);
	}
	return 0;
}

static void push_key_cache(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, KEY_CACHE);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_createtable(L, (int)k8s__pb_nfields, 0);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, KEY_CACHE);
	}
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

static const k8s_pb_sink lua_sink = {l_obj_begin, l_end, l_arr_begin, l_end, l_key, l_field_key, l_str, l_bytes,
				     l_i64,       l_u64, l_dbl,       l_bool, l_null, l_raw};

int k8s_lua_pb_decode(lua_State *L, const char *p, size_t n, int event, char *err, size_t errlen)
{
	lsink s;
	int top = lua_gettop(L), rc;
	if (!lua_checkstack(L, 8)) {
		snprintf(err, errlen, "protobuf: Lua stack overflow");
		return 0;
	}
	k8s_lua_json_push_array_mt(L);
	push_key_cache(L);
	s.L = L;
	s.base = top + 1;
	s.depth = 0;
	s.direct_levels = 0;
	rc = event ? k8s__pb_walk_event(&lua_sink, &s, p, n, err, errlen)
		   : k8s__pb_walk_body(&lua_sink, &s, p, n, err, errlen);
	if (rc < 0 || lua_gettop(L) != top + 3) {
		lua_settop(L, top);
		if (rc >= 0 && err && errlen)
			snprintf(err, errlen, "protobuf: no value");
		return 0;
	}
	lua_replace(L, top + 1);
	lua_settop(L, top + 1);
	return 1;
}

/* ---- incremental ---- */

void k8s_lua_pb_inc_init(k8s_lua_pb_inc *s)
{
	memset(s, 0, sizeof(*s));
	k8s__pb_inc_init(&s->pb);
}

int k8s_lua_pb_inc_feed(lua_State *L, k8s_lua_pb_inc *s, int slot, const char *buf, size_t len)
{
	lsink k;
	char err[256];
	int rc, c;
	if (s->failed || s->pb.phase == K8S_PB_INC_DONE)
		return !s->failed;
	if (lua_isnil(L, slot)) {
		k8s_lua_json_push_array_mt(L);
		lua_replace(L, slot);
		push_key_cache(L);
		lua_replace(L, slot + 1);
	}
	/* the containers kept between feeds: the object at slot + 2, and a
	 * repeated field's key and table at slot + 3 and slot + 4 */
	lua_settop(L, slot + 1 + (s->depth == 0 ? 0 : s->depth == 1 ? 1 : 3));
	k.L = L;
	k.base = slot;
	k.depth = s->depth;
	k.direct_levels = 2;
	for (c = 0; c < s->depth; c++) {
		k.open[c].slot = c == 0 ? slot + 2 : slot + 4;
		k.open[c].n = s->n[c];
		k.open[c].arr = s->arr[c];
		k.open[c].direct = 1;
	}
	rc = k8s__pb_inc_feed(&s->pb, &lua_sink, &k, buf, len, err, sizeof(err));
	if (rc < 0 || k.depth > 2) {
		s->failed = 1;
		return 0;
	}
	s->depth = k.depth;
	for (c = 0; c < k.depth; c++) {
		s->n[c] = k.open[c].n;
		s->arr[c] = k.open[c].arr;
	}
	lua_settop(L, slot + 4);
	return 1;
}

int k8s_lua_pb_inc_complete(const k8s_lua_pb_inc *s, const char *buf, size_t len)
{
	return !s->failed && k8s__pb_inc_complete(&s->pb, buf, len);
}
