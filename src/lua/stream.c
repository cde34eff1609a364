/* A streamed response body for Lua (k8s.Stream), what Request:Stream()
 * returns: read() gives the body in chunks as they arrive (logs, exec
 * output), nil at its end; close() ends it. */
#include "core.h"
#include "rest_internal.h"

#define MT_STREAM "k8s.Stream"

typedef struct { k8s_stream *s; } l_stream;

static void free_stream(void *p) { k8s_stream_free(p); }

int k8s_lua_stream_blocking(lua_State *L, k8s_call *k)
{
	k8s_stream *st = NULL;
	k8s_result *err = NULL;
	int rc = k8s__call_stream(&st, &err, k);
	l_stream *ls;
	if (rc < 0)
		return k8s_lua_fail_call(L, rc, err, "Stream");
	ls = k8s_lua_newudata_or_free(L, sizeof(*ls), free_stream, st);
	ls->s = st;
	luaL_setmetatable(L, MT_STREAM);
	return 1;
}

static int stream_read(lua_State *L)
{
	l_stream *s = luaL_checkudata(L, 1, MT_STREAM);
	double timeout = luaL_optnumber(L, 2, -1);
	const char *data;
	size_t len;
	int rc;
	if (!s->s) {
		lua_pushnil(L);
		return 1;
	}
	rc = k8s_stream_read(s->s, &data, &len, timeout);
	if (rc == 1) {
		lua_pushlstring(L, data, len);
		return 1;
	}
	if (rc == 0) {
		lua_pushnil(L);
		return 1;
	}
	return k8s_lua_fail_last(L);
}

static int stream_close(lua_State *L)
{
	l_stream *s = luaL_checkudata(L, 1, MT_STREAM);
	k8s_stream_free(s->s);
	s->s = NULL;
	return 0;
}

static const luaL_Reg stream_methods[] = {{"read", stream_read}, {"close", stream_close}, {NULL, NULL}};
static const luaL_Reg stream_meta[] = {{"__gc", stream_close},
#if LUA_VERSION_NUM >= 504
				       {"__close", stream_close},
#endif
				       {NULL, NULL}};

void k8s_lua_open_stream(lua_State *L)
{
	k8s_lua_new_class(L, MT_STREAM, stream_methods, stream_meta);
}
