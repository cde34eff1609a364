/* Clientset, group-version clients, typed and dynamic resource clients for
 * Lua. The resource table and request building live in the C core
 * (k8s/clientset.h); this file only maps Lua arguments onto it. */
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "json.h"

#define MT_CLIENTSET "k8s.Clientset"
#define MT_GV "k8s.GroupVersionClient"
#define MT_RES "k8s.ResourceClient"
#define MT_DYN "k8s.DynamicClient"

typedef struct { k8s_clientset *cs; } l_clientset;
typedef struct { k8s_rest_client *rc; const char *gv_method; } l_gv;
typedef struct {
	k8s_rest_client *rc;
	const k8s_api_resource *res;  /* table row, or &dyn */
	k8s_api_resource dyn;         /* dynamic: owned strings */
	int dynamic;
	char *ns;
} l_res;

/* ---- clientset ---- */

static void free_clientset(void *p)
{
	k8s_clientset_free(p);
}

static void free_request(void *p)
{
	k8s_request_free(p);
}

static int l_new_clientset(lua_State *L)
{
	k8s_config **cfg = k8s_lua_guard_config(L, k8s_lua_check_config(L, 1));
	int dynamic = lua_toboolean(L, 2);
	const char *mt = dynamic ? MT_DYN : MT_CLIENTSET;
	k8s_clientset *cs;
	l_clientset *u;
	int rc;
	/* the dynamic client speaks JSON, as client-go's (dynamic.ConfigFor) */
	if (dynamic && k8s_config_set_string(*cfg, "ContentConfig.ContentType", "application/json") < 0)
		return luaL_error(L, "out of memory");
	rc = k8s_clientset_new(&cs, *cfg);
	if (rc < 0) {
		if (rc == K8S_EINVALID)
			return luaL_error(L, "%s", k8s_error_last()->message);
		return k8s_lua_fail_last(L);
	}
	u = k8s_lua_newudata_or_free(L, sizeof(*u), free_clientset, cs);
	u->cs = cs;
	luaL_setmetatable(L, mt);
	return 1;
}

static k8s_clientset *check_cs(lua_State *L, int i)
{
	l_clientset *u = luaL_testudata(L, i, MT_CLIENTSET);
	if (!u)
		u = luaL_checkudata(L, i, MT_DYN);
	return u->cs;
}

static int cs_gc(lua_State *L)
{
	l_clientset *u = lua_touserdata(L, 1);
	k8s_clientset_free(u->cs);
	u->cs = NULL;
	return 0;
}

static void free_client(void *p)
{
	k8s_rest_client_free(p);
}

/* Push a group-version client owning rc (freed if the push fails). */
static void push_gv(lua_State *L, k8s_rest_client *rc, const char *gv_method)
{
	l_gv *g = k8s_lua_newudata_or_free(L, sizeof(*g), free_client, rc);
	g->rc = rc;
	g->gv_method = gv_method;
	luaL_setmetatable(L, MT_GV);
}

/* cs:CoreV1() and friends: upvalue 1 is the method name (static storage in the table). */
static int cs_gv_method(lua_State *L)
{
	k8s_clientset *cs = check_cs(L, 1);
	const char *name = lua_touserdata(L, lua_upvalueindex(1));
	k8s_rest_client *rc;
	if (k8s_clientset_group_version(&rc, cs, name) < 0)
		return k8s_lua_raise_last(L, name);
	push_gv(L, rc, name);
	return 1;
}

static int cs_discovery_client(lua_State *L)
{
	k8s_clientset *cs = check_cs(L, 1);
	k8s_rest_client *rc;
	if (k8s_clientset_discovery(&rc, cs) < 0)
		return k8s_lua_raise_last(L, "Discovery");
	k8s_lua_push_client(L, rc);
	return 1;
}

/* cs:Discovery() and dc:Discovery(): the discovery client (k8s.discovery)
 * sharing the clientset's connections. k8s.discovery.new does no I/O. */
static int cs_discovery(lua_State *L)
{
	check_cs(L, 1);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "k8s.discovery");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "new");
	lua_pushcfunction(L, cs_discovery_client);
	lua_pushvalue(L, 1);
	lua_call(L, 1, 1);
	lua_call(L, 1, 1);
	return 1;
}

/* cs:RESTClientFor(group, version): the clientset's client for any group-version. */
static int cs_rest_client_for_gv(lua_State *L)
{
	k8s_clientset *cs = check_cs(L, 1);
	const char *g = luaL_checkstring(L, 2), *v = luaL_checkstring(L, 3);
	k8s_rest_client *rc;
	if (k8s_clientset_for_group_version(&rc, cs, g, v) < 0)
		return k8s_lua_raise_last(L, "RESTClientFor");
	k8s_lua_push_client(L, rc);
	return 1;
}

static int cs_index(lua_State *L)
{
	const char *key = luaL_checkstring(L, 2);
	size_t i;
	const k8s_api_resource *r;
	/* methods table first */
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "__methods");
	lua_getfield(L, -1, key);
	if (!lua_isnil(L, -1))
		return 1;
	lua_pop(L, 3);
	if (luaL_testudata(L, 1, MT_CLIENTSET)) {
		for (i = 0; (r = k8s_api_resource_at(i)); i++) {
			if (!strcmp(r->gv_method, key)) {
				lua_pushlightuserdata(L, (void *)r->gv_method);
				lua_pushcclosure(L, cs_gv_method, 1);
				return 1;
			}
		}
	}
	lua_pushnil(L);
	return 1;
}

static int cs_group_versions(lua_State *L)
{
	size_t i, n = 0;
	const k8s_api_resource *r;
	const char *last = NULL;
	lua_newtable(L);
	for (i = 0; (r = k8s_api_resource_at(i)); i++) {
		if (last && !strcmp(last, r->gv_method))
			continue;
		last = r->gv_method;
		lua_pushstring(L, r->gv_method);
		lua_rawseti(L, -2, (int)++n);
	}
	return 1;
}

/* ---- group-version client ---- */

static l_gv *check_gv(lua_State *L, int i)
{
	return luaL_checkudata(L, i, MT_GV);
}

static int gv_gc(lua_State *L)
{
	l_gv *g = lua_touserdata(L, 1);
	k8s_rest_client_free(g->rc);
	g->rc = NULL;
	return 0;
}

static void push_res(lua_State *L, k8s_rest_client *rc, const k8s_api_resource *res, const char *ns)
{
	l_res *u = lua_newuserdata(L, sizeof(*u));
	memset(u, 0, sizeof(*u));
	u->rc = k8s_rest_client_ref(rc);
	u->res = res;
	luaL_setmetatable(L, MT_RES);
	/* without its namespace the client would mean every namespace
	 * (a DeleteCollection!): out of memory raises instead */
	if (ns && !(u->ns = strdup(ns)))
		luaL_error(L, "not enough memory");
}

/* gv:Pods(ns): upvalue 1 = resource row */
static int gv_resource_method(lua_State *L)
{
	l_gv *g = check_gv(L, 1);
	const k8s_api_resource *r = lua_touserdata(L, lua_upvalueindex(1));
	const char *ns = NULL;
	if (r->namespaced) {
		if (!lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TSTRING)
			return luaL_error(L, "%s: namespace must be a string, got %s", r->method, luaL_typename(L, 2));
		ns = luaL_optstring(L, 2, "");
	} else if (!lua_isnoneornil(L, 2)) {
		return luaL_error(L, "%s is cluster-scoped: %s() takes no namespace", r->name, r->method);
	}
	push_res(L, g->rc, r, ns);
	return 1;
}

static int gv_index(lua_State *L)
{
	l_gv *g = check_gv(L, 1);
	const char *key = luaL_checkstring(L, 2);
	const k8s_api_resource *r;
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "__methods");
	lua_getfield(L, -1, key);
	if (!lua_isnil(L, -1))
		return 1;
	lua_pop(L, 3);
	if ((r = k8s_api_resource_lookup(g->gv_method, key))) {
		lua_pushlightuserdata(L, (void *)r);
		lua_pushcclosure(L, gv_resource_method, 1);
		return 1;
	}
	lua_pushnil(L);
	return 1;
}

static int gv_rest_client(lua_State *L)
{
	l_gv *g = check_gv(L, 1);
	k8s_lua_push_client(L, k8s_rest_client_ref(g->rc));
	return 1;
}

static int gv_resources(lua_State *L)
{
	l_gv *g = check_gv(L, 1);
	size_t i;
	int n = 0;
	const k8s_api_resource *r;
	lua_newtable(L);
	for (i = 0; (r = k8s_api_resource_at(i)); i++) {
		if (strcmp(r->gv_method, g->gv_method))
			continue;
		lua_createtable(L, 0, 6);
		lua_pushstring(L, r->name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, r->method);
		lua_setfield(L, -2, "method");
		lua_pushstring(L, r->kind);
		lua_setfield(L, -2, "kind");
		lua_pushboolean(L, r->namespaced);
		lua_setfield(L, -2, "namespaced");
		lua_pushstring(L, r->subresources);
		lua_setfield(L, -2, "subresources");
		lua_pushinteger(L, r->verbs);
		lua_setfield(L, -2, "verbs");
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

static int gv_tostring(lua_State *L)
{
	l_gv *g = check_gv(L, 1);
	lua_pushfstring(L, "k8s.%s", g->gv_method);
	return 1;
}

/* ---- resource client ---- */

static l_res *check_res(lua_State *L, int i)
{
	return luaL_checkudata(L, i, MT_RES);
}

static int res_gc(lua_State *L)
{
	l_res *u = lua_touserdata(L, 1);
	k8s_rest_client_free(u->rc);
	u->rc = NULL;
	free(u->ns);
	u->ns = NULL;
	if (u->dynamic) {
		free((char *)u->dyn.group);
		free((char *)u->dyn.version);
		free((char *)u->dyn.name);
		u->dynamic = 0;
	}
	return 0;
}

static int res_tostring(lua_State *L)
{
	l_res *u = check_res(L, 1);
	lua_pushfstring(L, "k8s.ResourceClient(%s%s%s, namespace \"%s\")", u->res->name, *u->res->group ? "." : "",
			u->res->group, u->ns ? u->ns : "");
	return 1;
}

/* Start a request, raising on invalid use. The request is anchored in a
 * userdata on the stack so that a later raise does not leak it. */
typedef struct { k8s_request *r; } l_anchor;

static int anchor_gc(lua_State *L)
{
	l_anchor *a = lua_touserdata(L, 1);
	k8s_request_free(a->r);
	a->r = NULL;
	return 0;
}

/* Push an anchor owning r (freed with it; r is freed if the push fails). */
static void anchor(lua_State *L, k8s_request *r)
{
	l_anchor *a = k8s_lua_newudata_or_free(L, sizeof(*a), free_request, r);
	a->r = r;
	luaL_setmetatable(L, "k8s.RequestAnchor");
}

static k8s_request *start(lua_State *L, l_res *u, k8s_verb verb, const char *name, const char *sub,
			  const char *what)
{
	k8s_request *r;
	if (k8s_resource_request(&r, u->rc, u->res, u->ns, verb, name, sub) < 0)
		k8s_lua_raise_last(L, what);
	anchor(L, r);
	return r;
}

/* Release the anchored request now (after execution). */
static void finish(lua_State *L, int anchor_idx)
{
	l_anchor *a = lua_touserdata(L, anchor_idx);
	k8s_request_free(a->r);
	a->r = NULL;
}

/* The name argument: a non-empty string (numbers are not names). */
static const char *check_name(lua_State *L, int idx, const char *what)
{
	if (lua_type(L, idx) != LUA_TSTRING)
		luaL_error(L, "%s: name must be a string, got %s", what, luaL_typename(L, idx));
	if (!*lua_tostring(L, idx))
		luaL_error(L, "%s: name must not be empty", what);
	return lua_tostring(L, idx);
}

/* A table argument (object, options), named in the message. */
static void check_table(lua_State *L, int idx, const char *what, const char *arg)
{
	if (lua_type(L, idx) != LUA_TTABLE)
		luaL_error(L, "%s: %s must be a table, got %s", what, arg, luaL_typename(L, idx));
}

/* An optional options table. */
static void opt_table(lua_State *L, int idx, const char *what, const char *arg)
{
	if (!lua_isnoneornil(L, idx))
		check_table(L, idx, what, arg);
}

static const char *object_name(lua_State *L, int idx, const char *what)
{
	const char *name = NULL;
	check_table(L, idx, what, "object");
	lua_getfield(L, idx, "metadata");
	if (lua_type(L, -1) == LUA_TTABLE) {
		lua_getfield(L, -1, "name");
		if (lua_type(L, -1) == LUA_TSTRING)
			name = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (!name || !*name)
		luaL_error(L, "%s: object has no metadata.name", what);
	return name; /* still referenced by the table */
}

/* The object body: the core fills apiVersion and kind when a typed
 * client's object lacks them (k8s_resource_set_object); the caller's table
 * is left as it was. */
static void set_object_body(lua_State *L, l_res *u, k8s_request *r, int idx, const char *sub)
{
	char *out = NULL, err[256];
	size_t len = 0;
	int rc;
	if (!k8s_lua_json_encode(L, idx, &out, &len, err, sizeof(err)))
		luaL_error(L, "Body: %s", err);
	rc = k8s_resource_set_object(r, u->res, sub, out, len);
	free(out);
	if (rc < 0)
		k8s_lua_raise_last(L, "Body");
}

static int exec_decode(lua_State *L, k8s_request *r, int anchor, int want_body)
{
	int n = k8s_lua_do_decode(L, r, want_body);
	finish(L, anchor);
	return n;
}

/* r:Get(name, opts) */
static int res_get(lua_State *L)
{
	lua_settop(L, 3);
	l_res *u = check_res(L, 1);
	const char *name = check_name(L, 2, "Get");
	k8s_request *r;
	int a;
	opt_table(L, 3, "Get", "opts");
	r = start(L, u, K8S_VERB_GET, name, NULL, "Get");
	a = lua_gettop(L);
	k8s_lua_add_params(L, r, 3, "Get", "GetOptions", NULL);
	return exec_decode(L, r, a, 1);
}

/* r:List(opts) */
static int res_list(lua_State *L)
{
	lua_settop(L, 2);
	l_res *u = check_res(L, 1);
	k8s_request *r;
	int a;
	opt_table(L, 2, "List", "opts");
	r = start(L, u, K8S_VERB_LIST, NULL, NULL, "List");
	a = lua_gettop(L);
	k8s_lua_add_params(L, r, 2, "List", "ListOptions", NULL);
	return exec_decode(L, r, a, 1);
}

/* r:Create(obj, opts) */
static int res_create(lua_State *L)
{
	lua_settop(L, 3);
	l_res *u = check_res(L, 1);
	k8s_request *r;
	int a;
	check_table(L, 2, "Create", "object");
	opt_table(L, 3, "Create", "opts");
	r = start(L, u, K8S_VERB_CREATE, NULL, NULL, "Create");
	a = lua_gettop(L);
	k8s_lua_add_params(L, r, 3, "Create", "CreateOptions", NULL);
	set_object_body(L, u, r, 2, NULL);
	return exec_decode(L, r, a, 1);
}

static int update_common(lua_State *L, const char *sub, const char *what)
{
	lua_settop(L, 3);
	l_res *u = check_res(L, 1);
	const char *name = object_name(L, 2, what);
	k8s_request *r;
	int a;
	opt_table(L, 3, what, "opts");
	r = start(L, u, K8S_VERB_UPDATE, name, sub, what);
	a = lua_gettop(L);
	k8s_lua_add_params(L, r, 3, what, "UpdateOptions", NULL);
	set_object_body(L, u, r, 2, sub);
	return exec_decode(L, r, a, 1);
}

static int res_update(lua_State *L) { return update_common(L, NULL, "Update"); }

static int res_update_status(lua_State *L) { return update_common(L, "status", "UpdateStatus"); }

/* DeleteOptions go in the body, as client-go sends them. */
/* DeleteOptions (a table) as the body, each key a field of it, or its
 * kind and apiVersion; an empty table sends none. */
static void delete_body(lua_State *L, k8s_request *r, int idx, const char *what)
{
	int empty = 1;
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *k;
		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "%s: option keys must be strings", what);
		k = lua_tostring(L, -2);
		if (strcmp(k, "kind") != 0 && strcmp(k, "apiVersion") != 0)
			k8s_lua_check_option(L, "DeleteOptions", k, what);
		empty = 0;
		lua_pop(L, 1);
	}
	if (!empty)
		k8s_lua_set_body(L, r, idx);
}

/* r:Delete(name, opts) */
static int res_delete(lua_State *L)
{
	lua_settop(L, 3);
	l_res *u = check_res(L, 1);
	const char *name = check_name(L, 2, "Delete");
	k8s_request *r;
	int a;
	opt_table(L, 3, "Delete", "opts");
	r = start(L, u, K8S_VERB_DELETE, name, NULL, "Delete");
	a = lua_gettop(L);
	delete_body(L, r, 3, "Delete");
	return exec_decode(L, r, a, 0);
}

/* r:DeleteCollection(opts, listOpts) */
static int res_delete_collection(lua_State *L)
{
	lua_settop(L, 3);
	l_res *u = check_res(L, 1);
	k8s_request *r;
	int a;
	opt_table(L, 2, "DeleteCollection", "opts");
	opt_table(L, 3, "DeleteCollection", "listOpts");
	r = start(L, u, K8S_VERB_DELETECOLLECTION, NULL, NULL, "DeleteCollection");
	a = lua_gettop(L);
	delete_body(L, r, 2, "DeleteCollection");
	k8s_lua_add_params(L, r, 3, "DeleteCollection", "ListOptions", NULL);
	return exec_decode(L, r, a, 0);
}

/* r:Patch(name, pt, data, opts, subresource...) */
static int res_patch(lua_State *L)
{
	l_res *u = check_res(L, 1);
	const char *name = check_name(L, 2, "Patch");
	const char *pt;
	if (lua_type(L, 3) != LUA_TSTRING)
		return luaL_error(L, "Patch: patch type must be a string (k8s.types.*PatchType), got %s",
				  luaL_typename(L, 3));
	pt = lua_tostring(L, 3);
	const char *sub = NULL;
	k8s_request *r;
	int a, n;
	if (lua_gettop(L) < 5)
		lua_settop(L, 5);
	n = lua_gettop(L);
	if (strcmp(pt, K8S_JSON_PATCH) && strcmp(pt, K8S_MERGE_PATCH) && strcmp(pt, K8S_STRATEGIC_MERGE_PATCH) &&
	    strcmp(pt, K8S_APPLY_PATCH))
		return luaL_error(L, "Patch: unknown patch type \"%s\" (use k8s.types.*PatchType)", pt);
	if (lua_type(L, 4) != LUA_TSTRING && lua_type(L, 4) != LUA_TTABLE)
		return luaL_error(L, "Patch: data must be a string or a table, got %s", luaL_typename(L, 4));
	opt_table(L, 5, "Patch", "opts");
	if (n >= 6) {
		int i;
		luaL_Buffer b;
		luaL_buffinit(L, &b);
		for (i = 6; i <= n; i++) {
			luaL_checkstring(L, i);
			if (i > 6)
				luaL_addchar(&b, '/');
			lua_pushvalue(L, i);
			luaL_addvalue(&b);
		}
		luaL_pushresult(&b);
		sub = lua_tostring(L, -1);
	}
	r = start(L, u, K8S_VERB_PATCH, name, sub, "Patch");
	a = lua_gettop(L);
	if (k8s_request_set_header(r, "Content-Type", pt) < 0)
		return k8s_lua_raise_last(L, "Patch");
	k8s_lua_add_params(L, r, 5, "Patch", "PatchOptions", NULL);
	k8s_lua_set_body(L, r, 4);
	return exec_decode(L, r, a, 1);
}

/* Apply's options the core's apply request has set */
static const char *const apply_own[] = {"fieldManager", "force", NULL};

static int apply_common(lua_State *L, const char *sub, const char *what)
{
	lua_settop(L, 3);
	l_res *u = check_res(L, 1);
	const char *name = object_name(L, 2, what), *fm;
	k8s_request *r;
	int a, force;
	check_table(L, 3, what, "opts");
	lua_getfield(L, 3, "fieldManager");
	fm = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL; /* held by opts */
	lua_getfield(L, 3, "force");
	force = lua_toboolean(L, -1);
	lua_pop(L, 2);
	if (k8s_resource_apply_request(&r, u->rc, u->res, u->ns, name, sub, fm, force) < 0)
		return k8s_lua_raise_last(L, what);
	anchor(L, r);
	a = lua_gettop(L);
	/* the other options as parameters (a list: repeated) */
	k8s_lua_add_params(L, r, 3, what, "PatchOptions", apply_own);
	set_object_body(L, u, r, 2, sub);
	return exec_decode(L, r, a, 1);
}

/* r:Apply(obj, opts) — server-side apply */
static int res_apply(lua_State *L) { return apply_common(L, NULL, "Apply"); }
static int res_apply_status(lua_State *L) { return apply_common(L, "status", "ApplyStatus"); }

/* r:Watch(opts) */
static int res_watch(lua_State *L)
{
	lua_settop(L, 2);
	l_res *u = check_res(L, 1);
	k8s_request *r;
	int a, n;
	opt_table(L, 2, "Watch", "opts");
	r = start(L, u, K8S_VERB_WATCH, NULL, NULL, "Watch");
	a = lua_gettop(L);
	k8s_lua_add_params(L, r, 2, "Watch", "ListOptions", NULL);
	n = k8s_lua_start_watch(L, r);
	finish(L, a);
	return n;
}

/* A subresource call with an object body: verb = create (POST) or update (PUT). */
static int sub_with_body(lua_State *L, k8s_verb verb, const char *name, const char *sub, int body_idx, int opts_idx,
			 const char *what)
{
	l_res *u = check_res(L, 1);
	k8s_request *r = start(L, u, verb, name, sub, what);
	int a = lua_gettop(L);
	if (opts_idx > 0)
		k8s_lua_add_params(L, r, opts_idx, what, verb == K8S_VERB_CREATE ? "CreateOptions" : "UpdateOptions",
				   NULL);
	luaL_checktype(L, body_idx, LUA_TTABLE);
	set_object_body(L, u, r, body_idx, sub);
	return exec_decode(L, r, a, 1);
}

/* Deployments(ns):GetScale(name, opts) */
static int res_get_scale(lua_State *L)
{
	lua_settop(L, 3);
	l_res *u = check_res(L, 1);
	const char *name = check_name(L, 2, "GetScale");
	k8s_request *r;
	int a;
	opt_table(L, 3, "GetScale", "opts");
	r = start(L, u, K8S_VERB_GET, name, "scale", "GetScale");
	a = lua_gettop(L);
	k8s_lua_add_params(L, r, 3, "GetScale", "GetOptions", NULL);
	return exec_decode(L, r, a, 1);
}

/* UpdateScale(name, scale, opts): the Scale kind is autoscaling/v1 */
static int res_update_scale(lua_State *L)
{
	lua_settop(L, 4);
	const char *name = check_name(L, 2, "UpdateScale");
	check_table(L, 3, "UpdateScale", "scale");
	opt_table(L, 4, "UpdateScale", "opts");
	return sub_with_body(L, K8S_VERB_UPDATE, name, "scale", 3, 4, "UpdateScale");
}

/* Pods(ns):EvictV1(eviction) */
static int res_evict(lua_State *L)
{
	lua_settop(L, 2);
	const char *name = object_name(L, 2, "EvictV1");
	return sub_with_body(L, K8S_VERB_CREATE, name, "eviction", 2, 0, "EvictV1");
}

/* ServiceAccounts(ns):CreateToken(name, tokenRequest, opts) */
static int res_create_token(lua_State *L)
{
	const char *name = check_name(L, 2, "CreateToken");
	lua_settop(L, 4);
	if (lua_isnil(L, 3)) {
		lua_newtable(L);
		lua_replace(L, 3);
	}
	check_table(L, 3, "CreateToken", "tokenRequest");
	opt_table(L, 4, "CreateToken", "opts");
	return sub_with_body(L, K8S_VERB_CREATE, name, "token", 3, 4, "CreateToken");
}

/* Pods(ns):GetLogs(name, opts) -> request (call :Stream() or :DoRaw()) */
static int res_get_logs(lua_State *L)
{
	lua_settop(L, 3);
	l_res *u = check_res(L, 1);
	const char *name = check_name(L, 2, "GetLogs");
	k8s_request *r;
	opt_table(L, 3, "GetLogs", "opts");
	if (k8s_resource_request(&r, u->rc, u->res, u->ns, K8S_VERB_GET, name, "log") < 0)
		return k8s_lua_raise_last(L, "GetLogs");
	k8s_lua_push_request(L, r); /* a k8s.Request of the binding's own making */
	k8s_lua_add_params(L, r, 3, "GetLogs", "PodLogOptions", NULL);
	return 1;
}

/* dynamic: r:Namespace(ns) -> a client for that namespace */
static int res_namespace(lua_State *L)
{
	l_res *u = check_res(L, 1);
	const char *ns;
	l_res *n;
	if (!u->dynamic)
		return luaL_error(L, "Namespace: only dynamic resource clients take a namespace this way");
	if (lua_type(L, 2) != LUA_TSTRING)
		return luaL_error(L, "Namespace: namespace must be a string, got %s", luaL_typename(L, 2));
	ns = lua_tostring(L, 2);
	n = lua_newuserdata(L, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->rc = k8s_rest_client_ref(u->rc);
	n->dynamic = 1;
	n->dyn = u->dyn;
	n->dyn.group = n->dyn.version = n->dyn.name = NULL;
	n->dyn.namespaced = 1;
	n->res = &n->dyn;
	luaL_setmetatable(L, MT_RES); /* from here its __gc frees what follows */
	n->dyn.group = strdup(u->dyn.group);
	n->dyn.version = strdup(u->dyn.version);
	n->dyn.name = strdup(u->dyn.name);
	n->ns = strdup(ns);
	/* a client without its namespace would mean every namespace */
	if (!n->dyn.group || !n->dyn.version || !n->dyn.name || !n->ns)
		return luaL_error(L, "not enough memory");
	return 1;
}

static int res_info(lua_State *L)
{
	l_res *u = check_res(L, 1);
	lua_createtable(L, 0, 6);
	lua_pushstring(L, u->res->group);
	lua_setfield(L, -2, "Group");
	lua_pushstring(L, u->res->version);
	lua_setfield(L, -2, "Version");
	lua_pushstring(L, u->res->name);
	lua_setfield(L, -2, "Resource");
	if (u->res->kind) {
		lua_pushstring(L, u->res->kind);
		lua_setfield(L, -2, "Kind");
	}
	lua_pushboolean(L, u->res->namespaced);
	lua_setfield(L, -2, "Namespaced");
	lua_pushstring(L, u->ns ? u->ns : "");
	lua_setfield(L, -2, "Namespace");
	return 1;
}

/* dc:Resource{ Group=, Version=, Resource= } */
static int dyn_resource(lua_State *L)
{
	k8s_clientset *cs = check_cs(L, 1);
	const char *g, *v, *res;
	k8s_rest_client *rc;
	l_res *u;
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_getfield(L, 2, "Group");
	lua_getfield(L, 2, "Version");
	lua_getfield(L, 2, "Resource");
	g = lua_isnil(L, -3) ? "" : lua_tostring(L, -3);
	v = lua_tostring(L, -2);
	res = lua_tostring(L, -1);
	if (!g || lua_type(L, -3) == LUA_TTABLE)
		return luaL_error(L, "Resource: Group must be a string");
	if (!v || !*v)
		return luaL_error(L, "Resource: Version is required");
	if (!res || !*res)
		return luaL_error(L, "Resource: Resource is required");
	if (k8s_clientset_for_group_version(&rc, cs, g, v) < 0)
		return k8s_lua_raise_last(L, "Resource");
	u = k8s_lua_newudata_or_free(L, sizeof(*u), free_client, rc);
	memset(u, 0, sizeof(*u));
	u->rc = rc;
	u->dynamic = 1;
	u->dyn.gv_method = "";
	u->dyn.method = "";
	u->dyn.kind = NULL;
	u->dyn.namespaced = 0;
	u->dyn.verbs = K8S_VERB_ALL;
	u->dyn.subresources = "*";
	u->res = &u->dyn;
	luaL_setmetatable(L, MT_RES); /* from here its __gc frees what follows */
	u->dyn.group = strdup(g);
	u->dyn.version = strdup(v);
	u->dyn.name = strdup(res);
	if (!u->dyn.group || !u->dyn.version || !u->dyn.name)
		return luaL_error(L, "not enough memory");
	return 1;
}

/* core.client_kind(x): "Clientset", "DynamicClient" or nil (for k8s.wait,
 * which takes either). */
static int l_client_kind(lua_State *L)
{
	if (luaL_testudata(L, 1, MT_CLIENTSET))
		lua_pushliteral(L, "Clientset");
	else if (luaL_testudata(L, 1, MT_DYN))
		lua_pushliteral(L, "DynamicClient");
	else
		lua_pushnil(L);
	return 1;
}

/* core.wrap_methods(wrap): every public method of the resource clients and
 * requests (those that can execute a call) becomes wrap(method). For
 * k8s.drive, whose wrapper carries a pending call out in Lua, where the
 * driver may yield (a C function could not yield across its own call). */
static int l_wrap_methods(lua_State *L)
{
	static const char *const types[] = {MT_RES, "k8s.Request"};
	size_t i;
	luaL_checktype(L, 1, LUA_TFUNCTION);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int t, n, k;
		luaL_getmetatable(L, types[i]);
		lua_getfield(L, -1, "__index");
		luaL_checktype(L, -1, LUA_TTABLE);
		t = lua_gettop(L);
		/* the names first: the table is not assigned to while traversed */
		lua_newtable(L);
		lua_pushnil(L);
		n = 0;
		while (lua_next(L, t)) {
			if (lua_type(L, -2) == LUA_TSTRING && lua_isfunction(L, -1) && lua_tostring(L, -2)[0] != '_') {
				lua_pushvalue(L, -2);
				lua_rawseti(L, t + 1, ++n);
			}
			lua_pop(L, 1);
		}
		for (k = 1; k <= n; k++) {
			lua_rawgeti(L, t + 1, k);         /* name */
			lua_pushvalue(L, 1);
			lua_pushvalue(L, -2);
			lua_rawget(L, t);                 /* name, wrap, method */
			lua_call(L, 1, 1);
			lua_rawset(L, t);                 /* t[name] = wrap(method) */
		}
		lua_pop(L, 3);
	}
	return 0;
}

static const luaL_Reg cs_methods[] = {{"Discovery", cs_discovery},
				      {"RESTClientForGroupVersion", cs_rest_client_for_gv},
				      {"GroupVersions", cs_group_versions},
				      {NULL, NULL}};
static const luaL_Reg dyn_methods[] = {{"Resource", dyn_resource},
				       {"Discovery", cs_discovery},
				       {"RESTClientForGroupVersion", cs_rest_client_for_gv},
				       {NULL, NULL}};
static const luaL_Reg gv_methods[] = {
	{"RESTClient", gv_rest_client}, {"Resources", gv_resources}, {NULL, NULL}};
static const luaL_Reg res_methods[] = {
	{"Get", res_get}, {"List", res_list}, {"Create", res_create}, {"Update", res_update},
	{"UpdateStatus", res_update_status}, {"Delete", res_delete}, {"DeleteCollection", res_delete_collection},
	{"Patch", res_patch}, {"Apply", res_apply}, {"ApplyStatus", res_apply_status}, {"Watch", res_watch},
	{"GetScale", res_get_scale}, {"UpdateScale", res_update_scale}, {"EvictV1", res_evict},
	{"CreateToken", res_create_token}, {"GetLogs", res_get_logs}, {"Namespace", res_namespace},
	{"Info", res_info}, {NULL, NULL}};

/* core.dynamic_resource(cs_or_dc, gvr) is dc:Resource(gvr), for a Clientset too */
static const luaL_Reg clientset_funcs[] = {{"new_clientset", l_new_clientset}, {"wrap_methods", l_wrap_methods},
					   {"client_kind", l_client_kind}, {"dynamic_resource", dyn_resource},
					   {NULL, NULL}};

static void class_with_index(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction index,
			     lua_CFunction gc, lua_CFunction tostr)
{
	luaL_newmetatable(L, name);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "__name");
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	if (index) {
		lua_setfield(L, -2, "__methods");
		lua_pushcfunction(L, index);
	}
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, gc);
	lua_setfield(L, -2, "__gc");
	if (tostr) {
		lua_pushcfunction(L, tostr);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pop(L, 1);
}

void k8s_lua_register_extras(lua_State *L)
{
	class_with_index(L, MT_CLIENTSET, cs_methods, cs_index, cs_gc, NULL);
	class_with_index(L, MT_DYN, dyn_methods, cs_index, cs_gc, NULL);
	class_with_index(L, MT_GV, gv_methods, gv_index, gv_gc, gv_tostring);
	class_with_index(L, MT_RES, res_methods, NULL, res_gc, res_tostring);
	luaL_newmetatable(L, "k8s.RequestAnchor");
	lua_pushcfunction(L, anchor_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_setfuncs(L, clientset_funcs, 0);
}
