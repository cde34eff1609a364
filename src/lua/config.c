/* rest.Config from a Lua table: k8s_lua_check_config checks the table's keys
 * and value types against the C core's config fields and builds a
 * k8s_config; a k8s.ConfigGuard userdata frees one on GC, so that a later
 * raise does not leak it. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "core.h"

static void free_config(void *p) { k8s_config_free(p); }

static int known_prefix(const char *path, size_t plen)
{
	size_t i;
	const char *f;
	for (i = 0; (f = k8s_config_field_name(i)); i++)
		if (strncmp(f, path, plen) == 0 && (f[plen] == 0 || f[plen] == '.'))
			return 1;
	return 0;
}

/* Reject keys the config does not know, naming them. */
static void check_keys(lua_State *L, int idx, const char *prefix)
{
	char path[256];
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "config%s%s: keys must be strings", *prefix ? "." : "", prefix);
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", lua_tostring(L, -1));
		if (!known_prefix(path, strlen(path))) {
			/* these are handled by the Lua layer or carry no C meaning */
			if (strcmp(path, "AuthConfigPersister") && strcmp(path, "AuthProvider.Plugin") &&
			    strcmp(path, "TokenSource") && strcmp(path, "AuthProvider.Source") &&
			    strcmp(path, "RateLimiter") && strcmp(path, "WarningHandler") &&
			    strcmp(path, "ExecProvider.Config") && strcmp(path, "ExecProvider.Cluster"))
				luaL_error(L, "config: unknown field %s", path);
		}
	}
}

static const char *tname(lua_State *L, int idx)
{
	return lua_typename(L, lua_type(L, idx));
}

/* Push tbl.a.b for "a.b"; pushes nil when absent. */
static void get_path(lua_State *L, int tidx, const char *field)
{
	char part[64];
	const char *p = field, *dot;
	lua_pushvalue(L, tidx);
	while ((dot = strchr(p, '.'))) {
		size_t n = (size_t)(dot - p);
		if (n >= sizeof(part))
			n = sizeof(part) - 1;
		memcpy(part, p, n);
		part[n] = 0;
		if (lua_type(L, -1) != LUA_TTABLE) {
			lua_pop(L, 1);
			lua_pushnil(L);
			return;
		}
		lua_getfield(L, -1, part);
		lua_remove(L, -2);
		p = dot + 1;
	}
	if (lua_type(L, -1) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_pushnil(L);
		return;
	}
	lua_getfield(L, -1, p);
	lua_remove(L, -2);
}

k8s_config *k8s_lua_check_config(lua_State *L, int idx)
{
	k8s_config *cfg;
	void *owner;
	k8s_lua_options_from_env(); /* clients take the options when built */
	size_t i;
	const char *f;
	int t = lua_gettop(L);
	if (idx < 0)
		idx = t + idx + 1;
	luaL_checktype(L, idx, LUA_TTABLE);
	check_keys(L, idx, "");
	/* nested tables */
	{
		static const char *const nested[] = {"Impersonate", "TLSClientConfig", "ContentConfig", "AuthProvider",
						     "ExecProvider", NULL};
		int k;
		for (k = 0; nested[k]; k++) {
			lua_getfield(L, idx, nested[k]);
			if (!lua_isnil(L, -1)) {
				if (lua_type(L, -1) != LUA_TTABLE)
					luaL_error(L, "config.%s must be a table, got %s", nested[k], tname(L, -1));
				check_keys(L, lua_gettop(L), nested[k]);
			}
			lua_pop(L, 1);
		}
	}
	if (k8s_config_new(&cfg) < 0)
		luaL_error(L, "out of memory");
	/* owned until returned: any raise below frees it */
	owner = k8s_lua_owned(L, cfg, free_config);
	for (i = 0; (f = k8s_config_field_name(i)); i++) {
		k8s_field_type ft = k8s_config_field_type(f);
		int rc = 0;
		get_path(L, idx, f);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			continue;
		}
		switch (ft) {
		case K8S_FIELD_STRING:
			if (lua_type(L, -1) != LUA_TSTRING)
				goto bad_type;
			rc = k8s_config_set_string(cfg, f, lua_tostring(L, -1));
			break;
		case K8S_FIELD_BYTES: {
			size_t len;
			const char *s;
			if (lua_type(L, -1) != LUA_TSTRING)
				goto bad_type;
			s = lua_tolstring(L, -1, &len);
			rc = k8s_config_set_bytes(cfg, f, s, len);
			break;
		}
		case K8S_FIELD_BOOL:
			if (lua_type(L, -1) != LUA_TBOOLEAN)
				goto bad_type;
			rc = k8s_config_set_bool(cfg, f, lua_toboolean(L, -1));
			break;
		case K8S_FIELD_NUMBER:
			if (lua_type(L, -1) != LUA_TNUMBER)
				goto bad_type;
			rc = k8s_config_set_number(cfg, f, lua_tonumber(L, -1));
			break;
		case K8S_FIELD_LIST: {
			int n, j;
			if (lua_type(L, -1) != LUA_TTABLE)
				goto bad_type;
			n = (int)K8S_LUA_RAWLEN(L, -1);
			for (j = 1; j <= n && rc == 0; j++) {
				lua_rawgeti(L, -1, j);
				if (lua_type(L, -1) != LUA_TSTRING) {
					luaL_error(L, "config.%s[%d] must be a string, got %s", f, j, tname(L, -1));
				}
				rc = k8s_config_add_string(cfg, f, lua_tostring(L, -1));
				lua_pop(L, 1);
			}
			break;
		}
		case K8S_FIELD_PAIRS: {
			int tix = lua_gettop(L);
			if (lua_type(L, -1) != LUA_TTABLE)
				goto bad_type;
			if (K8S_LUA_RAWLEN(L, tix) > 0) {
				/* list of { Name = ..., Value = ... } (ExecProvider.Env) */
				int n = (int)K8S_LUA_RAWLEN(L, tix), j;
				for (j = 1; j <= n && rc == 0; j++) {
					lua_rawgeti(L, tix, j);
					lua_getfield(L, -1, "Name");
					lua_getfield(L, -2, "Value");
					if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
						luaL_error(L, "config.%s[%d] must be { Name = string, Value = string }", f, j);
					}
					rc = k8s_config_add_pair(cfg, f, lua_tostring(L, -2), lua_tostring(L, -1));
					lua_pop(L, 3);
				}
				break;
			}
			lua_pushnil(L);
			while (rc == 0 && lua_next(L, tix)) {
				if (lua_type(L, -2) != LUA_TSTRING) {
					luaL_error(L, "config.%s: keys must be strings", f);
				}
				if (lua_type(L, -1) == LUA_TTABLE) {
					int n = (int)K8S_LUA_RAWLEN(L, -1), j;
					for (j = 1; j <= n && rc == 0; j++) {
						lua_rawgeti(L, -1, j);
						if (lua_type(L, -1) != LUA_TSTRING) {
							luaL_error(L, "config.%s.%s[%d] must be a string", f, lua_tostring(L, -3), j);
						}
						rc = k8s_config_add_pair(cfg, f, lua_tostring(L, -3), lua_tostring(L, -1));
						lua_pop(L, 1);
					}
				} else if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ||
					   lua_type(L, -1) == LUA_TBOOLEAN) {
					const char *v = lua_type(L, -1) == LUA_TBOOLEAN
								? (lua_toboolean(L, -1) ? "true" : "false")
								: lua_tostring(L, -1); /* converts a number in place: value slot only */
					rc = k8s_config_add_pair(cfg, f, lua_tostring(L, -2), v);
				} else {
					luaL_error(L, "config.%s.%s must be a string or a list of strings, got %s", f,
						   lua_tostring(L, -2), tname(L, -1));
				}
				lua_pop(L, 1);
			}
			break;
		}
		default:
			break;
		}
		lua_pop(L, 1);
		if (rc < 0) {
			char msg[512];
			snprintf(msg, sizeof(msg), "%s", k8s_error_last()->message);
			luaL_error(L, "%s", msg);
		}
		continue;
bad_type:
		{
			const char *want = ft == K8S_FIELD_STRING ? "a string" : ft == K8S_FIELD_BYTES ? "a string"
					   : ft == K8S_FIELD_BOOL ? "a boolean" : ft == K8S_FIELD_NUMBER ? "a number" : "a table";
			const char *got = tname(L, -1);
			luaL_error(L, "config.%s must be %s, got %s", f, want, got);
		}
	}
	lua_getfield(L, idx, "RateLimiter");
	if (!lua_isnil(L, -1)) {
		k8s_rate_limiter **lim = k8s_lua_test_limiter(L, -1);
		if (!lim) {
			luaL_error(L, "config.RateLimiter must be a rate limiter (from GetRateLimiter or k8s.flowcontrol), got %s",
				   tname(L, -1));
		}
		k8s_config_set_rate_limiter(cfg, *lim);
	}
	lua_pop(L, 1);
	if (k8s_lua_config_hook(L, idx, cfg) < 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", k8s_error_last()->message);
		luaL_error(L, "%s", msg);
	}
	k8s_lua_disown(owner);
	lua_settop(L, t);
	return cfg;
}

/* Guarded config: a userdata that frees the config on GC, so that a later
 * raise does not leak it. */
typedef struct { k8s_config *cfg; } l_cfgguard;

static int cfgguard_gc(lua_State *L)
{
	l_cfgguard *g = lua_touserdata(L, 1);
	k8s_config_free(g->cfg);
	g->cfg = NULL;
	return 0;
}

k8s_config **k8s_lua_guard_config(lua_State *L, k8s_config *cfg)
{
	l_cfgguard *g = k8s_lua_newudata_or_free(L, sizeof(*g), free_config, cfg);
	g->cfg = cfg;
	if (luaL_newmetatable(L, "k8s.ConfigGuard")) {
		lua_pushcfunction(L, cfgguard_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	return &g->cfg;
}

/* Made by luaopen, not on first use: a guard must get its __gc without
 * allocating (out of memory there would leak the config). */
void k8s_lua_open_config(lua_State *L)
{
	luaL_newmetatable(L, "k8s.ConfigGuard");
	lua_pushcfunction(L, cfgguard_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
}

/* The K8S_LUA_* environment variables onto the core's library-wide options
 * (the core reads no environment of its own; README "Environment
 * variables"). Values that are not usable numbers leave the default, as
 * before the options existed. Called when the module loads and whenever a
 * client or a kubeconfig/in-cluster config is made: nginx sets its workers'
 * `env` only after init_by_lua has loaded the module in the master. */
void k8s_lua_options_from_env(void)
{
	const char *v;
	char *end;
	double d;
	if ((v = getenv("K8S_LUA_V")) && *v)
		k8s_global_set_number(K8S_OPT_VERBOSITY, atoi(v));
	if ((v = getenv("K8S_LUA_EXEC_TIMEOUT")) && *v && (d = atof(v)) > 0)
		k8s_global_set_number(K8S_OPT_EXEC_TIMEOUT, d);
	if ((v = getenv("K8S_LUA_TOKEN_FILE_PERIOD")) && *v) {
		d = strtod(v, &end);
		if (!*end && d > 0)
			k8s_global_set_number(K8S_OPT_TOKEN_FILE_PERIOD, d); /* refused above 50 s */
	}
	if ((v = getenv("K8S_LUA_SERVICEACCOUNT_DIR")) && *v)
		k8s_global_set_string(K8S_OPT_SERVICEACCOUNT_DIR, v);
}
