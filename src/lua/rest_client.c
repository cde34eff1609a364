/* rest.RESTClient for Lua (k8s.RESTClient): core.rest_client_for and the
 * client's methods; Verb, Get, Post, Put, Patch and Delete return a new
 * k8s.Request (request.c). */
#include "core.h"

#define MT_CLIENT "k8s.RESTClient"

typedef struct { k8s_rest_client *c; } l_client;

static void free_client(void *p) { k8s_rest_client_free(p); }

static l_client *check_client(lua_State *L, int i)
{
	l_client *c = luaL_checkudata(L, i, MT_CLIENT);
	if (!c->c)
		luaL_argerror(L, i, "RESTClient is closed");
	return c;
}

void k8s_lua_push_client(lua_State *L, k8s_rest_client *rc)
{
	l_client *c = k8s_lua_newudata_or_free(L, sizeof(*c), free_client, rc);
	c->c = rc;
	luaL_setmetatable(L, MT_CLIENT);
}

/* core.rest_client_for(configTable, versioned) */
int k8s_lua_l_rest_client_for(lua_State *L)
{
	k8s_config **cfg = k8s_lua_guard_config(L, k8s_lua_check_config(L, 1));
	int versioned = lua_toboolean(L, 2);
	k8s_rest_client *rc;
	int r = versioned ? k8s_rest_client_for(&rc, *cfg) : k8s_rest_client_unversioned(&rc, *cfg);
	if (r < 0) {
		if (r == K8S_EINVALID)
			return luaL_error(L, "%s", k8s_error_last()->message);
		return k8s_lua_fail_last(L);
	}
	k8s_lua_push_client(L, rc);
	return 1;
}

static int client_gc(lua_State *L)
{
	l_client *c = luaL_checkudata(L, 1, MT_CLIENT);
	k8s_rest_client_free(c->c);
	c->c = NULL;
	return 0;
}

static int client_tostring(lua_State *L)
{
	l_client *c = luaL_checkudata(L, 1, MT_CLIENT);
	const char *g = "", *v = "";
	if (!c->c) {
		lua_pushstring(L, "k8s.RESTClient (closed)");
		return 1;
	}
	k8s_rest_client_api_version(c->c, &g, &v);
	lua_pushfstring(L, "k8s.RESTClient(%s %s%s%s)", k8s_rest_client_base_url(c->c), g, *g ? "/" : "", v);
	return 1;
}

static int client_verb(lua_State *L)
{
	l_client *c = check_client(L, 1);
	const char *verb = luaL_checkstring(L, 2);
	k8s_request *r;
	if (k8s_rest_client_verb(&r, c->c, verb) < 0)
		return k8s_lua_raise_last(L, "Verb");
	k8s_lua_push_request(L, r);
	return 1;
}

static int verb_fixed(lua_State *L, const char *verb)
{
	l_client *c = check_client(L, 1);
	k8s_request *r;
	if (k8s_rest_client_verb(&r, c->c, verb) < 0)
		return k8s_lua_raise_last(L, verb);
	k8s_lua_push_request(L, r);
	return 1;
}

static int client_get(lua_State *L) { return verb_fixed(L, "GET"); }
static int client_post(lua_State *L) { return verb_fixed(L, "POST"); }
static int client_put(lua_State *L) { return verb_fixed(L, "PUT"); }
static int client_delete(lua_State *L) { return verb_fixed(L, "DELETE"); }

static int client_patch(lua_State *L)
{
	const char *pt = luaL_checkstring(L, 2);
	verb_fixed(L, "PATCH");
	if (k8s_request_set_header(k8s_lua_to_request(L, -1), "Content-Type", pt) < 0)
		return k8s_lua_raise_last(L, "Patch");
	return 1;
}

static int client_api_version(lua_State *L)
{
	l_client *c = check_client(L, 1);
	const char *g, *v;
	k8s_rest_client_api_version(c->c, &g, &v);
	lua_createtable(L, 0, 2);
	lua_pushstring(L, g);
	lua_setfield(L, -2, "Group");
	lua_pushstring(L, v);
	lua_setfield(L, -2, "Version");
	return 1;
}

static int client_rate_limiter(lua_State *L)
{
	l_client *c = check_client(L, 1);
	k8s_rate_limiter *rl = k8s_rest_client_rate_limiter(c->c);
	if (!rl) {
		lua_pushnil(L);
		return 1;
	}
	k8s_lua_push_limiter(L, k8s_rate_limiter_ref(rl));
	return 1;
}

static int client_base_url(lua_State *L)
{
	l_client *c = check_client(L, 1);
	lua_pushstring(L, k8s_rest_client_base_url(c->c));
	return 1;
}

static const luaL_Reg client_methods[] = {
	{"Verb", client_verb}, {"Get", client_get}, {"Post", client_post}, {"Put", client_put},
	{"Patch", client_patch}, {"Delete", client_delete}, {"APIVersion", client_api_version},
	{"GetRateLimiter", client_rate_limiter}, {"BaseURL", client_base_url}, {NULL, NULL}};
static const luaL_Reg client_meta[] = {{"__gc", client_gc}, {"__tostring", client_tostring}, {NULL, NULL}};

void k8s_lua_open_rest_client(lua_State *L)
{
	k8s_lua_new_class(L, MT_CLIENT, client_methods, client_meta);
}
