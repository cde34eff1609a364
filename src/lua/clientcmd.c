/* clientcmd for Lua: kubeconfig / in-cluster loading (core.clientcmd_load,
 * build_config_from_flags, in_cluster_config, persist_auth_provider),
 * rest.Config -> table (config.c makes a config of a table), and Lua
 * credential callbacks (config.TokenSource: auth provider plugins). A Lua
 * callback runs under lua_pcall on a thread of its own, so an error in it
 * becomes the request's error and never unwinds through the C core. */
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "internal.h"
#include "config_internal.h"
#include "k8s/clientcmd.h"

/* ---- config -> table ---- */

/* Find or create the nested table for "A.B" (pushes the parent of the leaf). */
static const char *nested_parent(lua_State *L, int root, const char *field)
{
	const char *dot = strchr(field, '.');
	lua_pushvalue(L, root);
	if (!dot)
		return field;
	lua_pushlstring(L, field, (size_t)(dot - field));
	lua_rawget(L, -2);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushlstring(L, field, (size_t)(dot - field));
		lua_pushvalue(L, -2);
		lua_rawset(L, -4);
	}
	lua_remove(L, -2);
	return dot + 1;
}

static void push_config_table(lua_State *L, const k8s_config *cfg)
{
	size_t i, j, n;
	const char *f;
	int root;
	lua_newtable(L);
	root = lua_gettop(L);
	for (i = 0; (f = k8s_config_field_name(i)); i++) {
		const char *leaf;
		if (!k8s_config_is_set(cfg, f))
			continue;
		leaf = nested_parent(L, root, f);
		switch (k8s_config_field_type(f)) {
		case K8S_FIELD_STRING:
			lua_pushstring(L, k8s_config_get_string(cfg, f));
			break;
		case K8S_FIELD_BYTES: {
			size_t len;
			const char *d = k8s_config_get_bytes(cfg, f, &len);
			lua_pushlstring(L, d, len);
			break;
		}
		case K8S_FIELD_BOOL:
			lua_pushboolean(L, k8s_config_get_bool(cfg, f));
			break;
		case K8S_FIELD_NUMBER:
			lua_pushnumber(L, k8s_config_get_number(cfg, f));
			break;
		case K8S_FIELD_LIST:
			n = k8s_config_count(cfg, f);
			lua_createtable(L, (int)n, 0);
			for (j = 0; j < n; j++) {
				lua_pushstring(L, k8s_config_get_item(cfg, f, j));
				lua_rawseti(L, -2, (int)j + 1);
			}
			break;
		case K8S_FIELD_PAIRS: {
			const char *k, *v;
			int is_env = strcmp(f, "ExecProvider.Env") == 0;
			int is_extra = strcmp(f, "Impersonate.Extra") == 0;
			n = k8s_config_count(cfg, f);
			lua_newtable(L);
			for (j = 0; j < n; j++) {
				k8s_config_get_pair(cfg, f, j, &k, &v);
				if (is_env) {
					lua_createtable(L, 0, 2);
					lua_pushstring(L, k);
					lua_setfield(L, -2, "Name");
					lua_pushstring(L, v);
					lua_setfield(L, -2, "Value");
					lua_rawseti(L, -2, (int)j + 1);
				} else if (is_extra) {
					lua_getfield(L, -1, k);
					if (lua_isnil(L, -1)) {
						lua_pop(L, 1);
						lua_newtable(L);
						lua_pushvalue(L, -1);
						lua_setfield(L, -3, k);
					}
					lua_pushstring(L, v);
					lua_rawseti(L, -2, (int)K8S_LUA_RAWLEN(L, -2) + 1);
					lua_pop(L, 1);
				} else {
					lua_pushstring(L, v);
					lua_setfield(L, -2, k);
				}
			}
			break;
		}
		default:
			lua_pushnil(L);
		}
		lua_setfield(L, -2, leaf);
		lua_pop(L, 1);
	}
}

static void push_info(lua_State *L, const k8s_clientcmd_info *info)
{
	size_t i;
	lua_createtable(L, 0, 7);
#define S(name, val) do { if (val) { lua_pushstring(L, val); lua_setfield(L, -2, name); } } while (0)
	S("Context", info->context);
	S("Cluster", info->cluster);
	S("User", info->user);
	S("UserFile", info->user_file);
	S("Namespace", info->namespace_);
#undef S
	lua_pushboolean(L, info->in_cluster);
	lua_setfield(L, -2, "InCluster");
	lua_createtable(L, (int)info->nfiles, 0);
	for (i = 0; i < info->nfiles; i++) {
		lua_pushstring(L, info->files[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	lua_setfield(L, -2, "Files");
}

/* What a load gave: config table and info, or nil, err. Frees both. */
static int push_loaded(lua_State *L, int rc, k8s_config *cfg, k8s_clientcmd_info *info)
{
	if (rc < 0) {
		k8s_clientcmd_info_free(info);
		return k8s_lua_fail_last(L);
	}
	push_config_table(L, cfg);
	push_info(L, info);
	k8s_config_free(cfg);
	k8s_clientcmd_info_free(info);
	return 2;
}

static const char *opt_field(lua_State *L, int idx, const char *name)
{
	const char *v;
	lua_getfield(L, idx, name);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return NULL;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "overrides.%s must be a string, got %s", name, lua_typename(L, lua_type(L, -1)));
	v = lua_tostring(L, -1);
	lua_pop(L, 1); /* the string stays referenced by the table */
	return v;
}

/* core.clientcmd_load(overrides) -> config, info | nil, err */
static int l_clientcmd_load(lua_State *L)
{
	k8s_config_overrides ov = K8S_CONFIG_OVERRIDES_INIT;
	k8s_clientcmd_info info;
	k8s_config *cfg = NULL;
	int rc;
	if (!lua_isnoneornil(L, 1)) {
		luaL_checktype(L, 1, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, 1)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
			if (strcmp(k, "CurrentContext") && strcmp(k, "Context") && strcmp(k, "ClusterName") &&
			    strcmp(k, "AuthInfoName") && strcmp(k, "Namespace") && strcmp(k, "Server") &&
			    strcmp(k, "ExplicitPath"))
				return luaL_error(L, "overrides: unknown field %s (CurrentContext, ClusterName, AuthInfoName, "
						     "Namespace, Server, ExplicitPath)", k);
			lua_pop(L, 1);
		}
		ov.context = opt_field(L, 1, "CurrentContext");
		if (!ov.context)
			ov.context = opt_field(L, 1, "Context");
		ov.cluster = opt_field(L, 1, "ClusterName");
		ov.user = opt_field(L, 1, "AuthInfoName");
		ov.namespace_ = opt_field(L, 1, "Namespace");
		ov.server = opt_field(L, 1, "Server");
		ov.kubeconfig = opt_field(L, 1, "ExplicitPath");
	}
	memset(&info, 0, sizeof(info));
	k8s_lua_options_from_env();
	rc = k8s_clientcmd_load_ex(&cfg, &info, &ov);
	return push_loaded(L, rc, cfg, &info);
}

/* core.build_config_from_flags(masterUrl, kubeconfigPath) -> config, info | nil, err */
static int l_build_config_from_flags(lua_State *L)
{
	const char *master = luaL_optstring(L, 1, "");
	const char *path = luaL_optstring(L, 2, "");
	k8s_clientcmd_info info;
	k8s_config *cfg = NULL;
	int rc;
	memset(&info, 0, sizeof(info));
	k8s_lua_options_from_env();
	rc = k8s_clientcmd_build_config_from_flags_ex(&cfg, &info, master, path);
	return push_loaded(L, rc, cfg, &info);
}

/* core.in_cluster_config() -> config | nil, err */
static int l_in_cluster_config(lua_State *L)
{
	k8s_config *cfg = NULL;
	k8s_lua_options_from_env();
	if (k8s_clientcmd_in_cluster_config(&cfg) < 0)
		return k8s_lua_fail_last(L);
	push_config_table(L, cfg);
	k8s_config_free(cfg);
	return 1;
}

/* core.persist_auth_provider(file, user, { k = v }) -> true | nil, err.
 * Values may be numbers: their string forms are anchored in a table until
 * the write is done (a converted string only on the stack could be
 * collected while C still points at it). */
static int l_persist_auth_provider(lua_State *L)
{
	const char *file = luaL_checkstring(L, 1);
	const char *user = luaL_checkstring(L, 2);
	const char **kv;
	size_t n = 0, count = 0;
	int rc;
	luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	lua_pushnil(L);
	while (lua_next(L, 3)) {
		if (lua_type(L, -2) != LUA_TSTRING || (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER))
			return luaL_error(L, "Persist: config keys and values must be strings");
		count++;
		lua_pop(L, 1);
	}
	lua_newtable(L); /* 4: anchors for converted values */
	kv = lua_newuserdata(L, (count ? count : 1) * 2 * sizeof(char *)); /* 5: GC-owned scratch */
	lua_pushnil(L);
	while (n < count && lua_next(L, 3)) {
		lua_pushvalue(L, -1);
		lua_tostring(L, -1); /* a number becomes a string (in the copy only) */
		lua_pushvalue(L, -1);
		lua_rawseti(L, 4, (int)n + 1);
		kv[2 * n] = lua_tostring(L, -3);
		kv[2 * n + 1] = lua_tostring(L, -1);
		n++;
		lua_pop(L, 2);
	}
	rc = k8s_clientcmd_persist_auth_provider(file, user, kv, n);
	if (rc < 0)
		return k8s_lua_fail_last(L);
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- Lua credential callbacks ---- */

typedef struct {
	lua_State *T; /* a thread of its own, anchored in the registry */
	int thread_ref, fn_ref;
	int busy; /* a Token call is running on T */
	char *name;
} l_tokensrc;

static void tokensrc_free(void *p)
{
	l_tokensrc *ts = p;
	luaL_unref(ts->T, LUA_REGISTRYINDEX, ts->fn_ref);
	luaL_unref(ts->T, LUA_REGISTRYINDEX, ts->thread_ref);
	free(ts->name);
	free(ts);
}

static int call_tostring(lua_State *T)
{
	luaL_checkany(T, 1);
	lua_getglobal(T, "tostring");
	lua_insert(T, 1);
	lua_call(T, 1, 1);
	return 1;
}

/* A readable message for the error value at idx (left on T's stack, which
 * the caller clears): a string or number as is; a table's `message` field
 * (a k8s error, or { message = ... }); else __tostring, called protected. */
static const char *error_message(lua_State *T, int idx)
{
	int t = lua_type(T, idx);
	if (t == LUA_TSTRING || t == LUA_TNUMBER)
		return lua_tostring(T, idx);
	if (t == LUA_TTABLE) {
		lua_getfield(T, idx, "message");
		if (lua_type(T, -1) == LUA_TSTRING)
			return lua_tostring(T, -1);
		lua_pop(T, 1);
	}
	if (t != LUA_TNIL && luaL_getmetafield(T, idx, "__tostring")) {
		lua_pop(T, 1);
		lua_pushcfunction(T, call_tostring);
		lua_pushvalue(T, idx);
		if (lua_pcall(T, 1, 1, 0) == 0 && lua_type(T, -1) == LUA_TSTRING)
			return lua_tostring(T, -1);
	}
	return NULL;
}

/* What a TokenSource call returned, on T's stack from idx: failed (an
 * error value at idx), or token[, expiry] | nil, err. */
static int token_outcome(lua_State *T, const char *name, int failed, int idx, char **token, double *expiry)
{
	int rc = 0;
	*token = NULL;
	*expiry = 0;
	if (failed) {
		const char *msg = error_message(T, idx);
		rc = k8s__error(K8S_EAUTH, "AuthProviderError", "%s: %s", name, msg ? msg : "error object is not a string");
	} else if (lua_type(T, idx) == LUA_TSTRING) {
		*token = k8s__strdup(lua_tostring(T, idx));
		if (lua_type(T, idx + 1) == LUA_TNUMBER)
			*expiry = lua_tonumber(T, idx + 1);
		if (!*token)
			rc = k8s__error_oom();
	} else {
		const char *msg = lua_type(T, idx + 1) == LUA_TSTRING ? lua_tostring(T, idx + 1) : NULL;
		if (!msg && lua_type(T, idx + 1) == LUA_TTABLE) {
			lua_getfield(T, idx + 1, "message");
			msg = lua_tostring(T, -1);
		}
		rc = k8s__error(K8S_EAUTH, "AuthProviderError", "%s: %s", name,
				msg ? msg : "the token source returned no token");
	}
	return rc;
}

static int tokensrc_call(void *payload, int invalidate, char **token, double *expiry)
{
	l_tokensrc *ts = payload;
	lua_State *T = ts->T;
	int rc = 0;
	*token = NULL;
	*expiry = 0;
	if (ts->busy) /* the callback made a request needing its own token */
		return k8s__error(K8S_EAUTH, "AuthProviderError", "%s: Token was called again while it was running",
				  ts->name);
	lua_settop(T, 0);
	lua_rawgeti(T, LUA_REGISTRYINDEX, ts->fn_ref);
	lua_pushboolean(T, invalidate);
	ts->busy = 1;
	rc = lua_pcall(T, 1, 2, 0);
	ts->busy = 0;
	rc = token_outcome(T, ts->name, rc != 0, 1, token, expiry);
	lua_settop(T, 0);
	return rc;
}

/* The config's TokenSource function (the nginx driver calls it itself, so
 * that it may yield), or nil. */
int k8s_lua_push_token_source(lua_State *L, const k8s_config *cfg)
{
	if (cfg->token_cb != tokensrc_call) {
		lua_pushnil(L);
		return 1;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, ((l_tokensrc *)cfg->token_payload->ptr)->fn_ref);
	return 1;
}

int k8s_lua_token_result(lua_State *L, const k8s_config *cfg, int failed, int idx, char **token, double *expiry)
{
	const char *name = cfg->token_cb == tokensrc_call ? ((l_tokensrc *)cfg->token_payload->ptr)->name : "token source";
	return token_outcome(L, name, failed, idx, token, expiry);
}

int k8s_lua_config_hook(lua_State *L, int idx, k8s_config *cfg)
{
	l_tokensrc *ts;
	lua_getfield(L, idx, "TokenSource");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	if (lua_type(L, -1) != LUA_TFUNCTION) {
		lua_pop(L, 1);
		return k8s__error(K8S_EINVALID, "Invalid", "config.TokenSource must be a function");
	}
	if (!(ts = calloc(1, sizeof(*ts))))
		return k8s__error_oom();
	ts->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	ts->T = lua_newthread(L);
	ts->thread_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_getfield(L, idx, "AuthProvider");
	if (lua_type(L, -1) == LUA_TTABLE) {
		lua_getfield(L, -1, "Name");
		ts->name = k8s__strdup(lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (!ts->name)
		ts->name = k8s__strdup("token source");
	k8s_config_set_token_callback(cfg, tokensrc_call, ts, tokensrc_free);
	return 0;
}

static const luaL_Reg funcs[] = {
	{"clientcmd_load", l_clientcmd_load},
	{"build_config_from_flags", l_build_config_from_flags},
	{"in_cluster_config", l_in_cluster_config},
	{"persist_auth_provider", l_persist_auth_provider},
	{NULL, NULL}};

void k8s_lua_register_clientcmd(lua_State *L)
{
	luaL_setfuncs(L, funcs, 0);
}
