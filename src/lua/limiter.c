/* flowcontrol.RateLimiter for Lua (k8s.RateLimiter): core.new_token_bucket,
 * RESTClient:GetRateLimiter() and config.RateLimiter (the C limiter is
 * reference counted). */
#include "core.h"

#define MT_LIMITER "k8s.RateLimiter"

typedef struct { k8s_rate_limiter *rl; } l_limiter;

static void free_limiter(void *p) { k8s_rate_limiter_free(p); }

void k8s_lua_push_limiter(lua_State *L, k8s_rate_limiter *rl)
{
	l_limiter *l = k8s_lua_newudata_or_free(L, sizeof(*l), free_limiter, rl);
	l->rl = rl;
	luaL_setmetatable(L, MT_LIMITER);
}

k8s_rate_limiter **k8s_lua_test_limiter(lua_State *L, int idx)
{
	l_limiter *lim = luaL_testudata(L, idx, MT_LIMITER);
	return lim ? &lim->rl : NULL;
}

int k8s_lua_l_new_token_bucket(lua_State *L)
{
	k8s_rate_limiter *rl;
	double qps = luaL_checknumber(L, 1);
	lua_Integer burst = luaL_checkinteger(L, 2);
	if (k8s_rate_limiter_new_token_bucket(&rl, qps, (int)burst) < 0)
		return k8s_lua_raise_last(L, "NewTokenBucketRateLimiter");
	k8s_lua_push_limiter(L, rl);
	return 1;
}

static int limiter_try_accept(lua_State *L)
{
	l_limiter *l = luaL_checkudata(L, 1, MT_LIMITER);
	lua_pushboolean(L, k8s_rate_limiter_try_accept(l->rl));
	return 1;
}

static int limiter_accept(lua_State *L)
{
	l_limiter *l = luaL_checkudata(L, 1, MT_LIMITER);
	lua_pushnumber(L, k8s_rate_limiter_accept(l->rl));
	return 1;
}

static int limiter_qps(lua_State *L)
{
	l_limiter *l = luaL_checkudata(L, 1, MT_LIMITER);
	lua_pushnumber(L, k8s_rate_limiter_qps(l->rl));
	return 1;
}

static int limiter_gc(lua_State *L)
{
	l_limiter *l = luaL_checkudata(L, 1, MT_LIMITER);
	k8s_rate_limiter_free(l->rl);
	l->rl = NULL;
	return 0;
}

static const luaL_Reg limiter_methods[] = {
	{"TryAccept", limiter_try_accept}, {"Accept", limiter_accept}, {"QPS", limiter_qps}, {NULL, NULL}};
static const luaL_Reg limiter_meta[] = {{"__gc", limiter_gc}, {NULL, NULL}};

void k8s_lua_open_limiter(lua_State *L)
{
	k8s_lua_new_class(L, MT_LIMITER, limiter_methods, limiter_meta);
}
