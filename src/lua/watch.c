/* watch.Interface for Lua (k8s.Watcher), what Request:Watch() returns:
 * Next, ResultChan and Stop as client-go's StreamWatcher behaves, events
 * decoded from JSON or protobuf; core.watch_step, watch_feed, watch_end and
 * watch_stall_in are the nginx driver's, which reads the bytes itself. */
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "core.h"
#include "rest_internal.h"

#define MT_WATCH "k8s.Watcher"

typedef struct { k8s_watch *w; } l_watch;

static void free_watch(void *p) { k8s_watch_free(p); }

int k8s_lua_watch_blocking(lua_State *L, k8s_call *k)
{
	k8s_watch *w = NULL;
	k8s_result *err = NULL;
	int rc = k8s__call_watch(&w, &err, k);
	if (rc < 0)
		return k8s_lua_fail_call(L, rc, err, "Watch");
	k8s_lua_push_watch(L, w);
	return 1;
}

void k8s_lua_push_watch(lua_State *L, k8s_watch *w)
{
	l_watch *lw = k8s_lua_newudata_or_free(L, sizeof(*lw), free_watch, w);
	lw->w = w;
	luaL_setmetatable(L, MT_WATCH);
}

/* The event client-go's StreamWatcher sends when an event cannot be decoded:
 * { type = "ERROR", object = <the core's ClientWatchDecoding Status> }. */
static void push_decoding_error_event(lua_State *L, const char *what)
{
	char err[128];
	char *st = k8s_watch_decoding_status(what);
	void *owner;
	if (!st)
		luaL_error(L, "watch: %s", k8s_error_last()->message);
	owner = k8s_lua_owned(L, st, free);
	lua_createtable(L, 0, 2);
	lua_pushliteral(L, "ERROR");
	lua_setfield(L, -2, "type");
	if (!k8s_lua_json_decode(L, st, strlen(st), err, sizeof(err)))
		luaL_error(L, "watch: the ClientWatchDecoding Status: %s", err);
	lua_setfield(L, -2, "object");
	free(k8s_lua_disown(owner));
	lua_remove(L, -2);
}

/* One step of a watch. With `chan` (the ResultChan loop) errors end the
 * loop as client-go's StreamWatcher ends its channel: silently for the end
 * of the connection (reset, timeout, a stream cut inside an event), and
 * with a last ERROR event for an event that cannot be decoded. */
static int watch_step(lua_State *L, l_watch *w, double timeout, int chan)
{
	k8s_watch_event ev;
	char err[256];
	int rc;
	if (!w->w) {
		lua_pushnil(L);
		return 1;
	}
	rc = k8s_watch_next(w->w, &ev, timeout);
	if (rc == K8S__WATCH_NEED) {
		k8s_lua_push_pending_marker(L);
		return 1;
	}
	if (rc == 0) {
		lua_pushnil(L);
		return 1;
	}
	if (rc < 0) {
		if (!chan)
			return k8s_lua_fail_last(L);
		if (rc == K8S_EDECODE)
			push_decoding_error_event(L, k8s_error_last()->message);
		else
			lua_pushnil(L);
		k8s_watch_free(w->w); /* the loop ends with this step */
		w->w = NULL;
		return 1;
	}
	lua_createtable(L, 0, 2);
	lua_pushstring(L, ev.type_name);
	lua_setfield(L, -2, "type");
	if (ev.protobuf ? !k8s_lua_pb_decode(L, ev.object, ev.object_len, 0, err, sizeof(err))
			: !k8s_lua_json_decode(L, ev.object, ev.object_len, err, sizeof(err))) {
		lua_pop(L, 1);
		if (chan) {
			push_decoding_error_event(L, err);
			k8s_watch_free(w->w);
			w->w = NULL;
			return 1;
		}
		lua_pushnil(L);
		k8s_lua_push_error(L, 0, "DecodeError", err, NULL, 0);
		return 2;
	}
	lua_setfield(L, -2, "object");
	return 1;
}

static int watch_next(lua_State *L)
{
	l_watch *w = luaL_checkudata(L, 1, MT_WATCH);
	double timeout = luaL_optnumber(L, 2, -1);
	return watch_step(L, w, timeout, 0);
}

/* Stop, __gc and __close: close the connection and free the watch; a
 * ResultChan loop then ends at once, events already buffered included. */
static int watch_gc(lua_State *L)
{
	l_watch *w = luaL_checkudata(L, 1, MT_WATCH);
	k8s_watch_free(w->w);
	w->w = NULL;
	return 0;
}

static int watch_iter(lua_State *L)
{
	return watch_step(L, luaL_checkudata(L, 1, MT_WATCH), -1, 1);
}

/* For the nginx driver, which reads the bytes itself:
 * core.watch_step(w, chan) is one step without reading (core.PENDING when
 * bytes are needed), core.watch_feed(w, bytes) hands it bytes and
 * core.watch_end(w[, reason, message]) ends the stream (no reason: the
 * server ended the watch). */
static int watch_step_fed(lua_State *L)
{
	return watch_step(L, luaL_checkudata(L, 1, MT_WATCH), 0, lua_toboolean(L, 2));
}

static int watch_feed(lua_State *L)
{
	l_watch *w = luaL_checkudata(L, 1, MT_WATCH);
	size_t len;
	const char *d = luaL_checklstring(L, 2, &len);
	if (w->w && k8s__watch_feed(w->w, d, len) < 0)
		k8s__watch_end(w->w, k8s_error_last()->code, k8s_error_last()->reason, k8s_error_last()->message);
	return 0;
}

/* core.watch_stall_in(w) -> seconds before the watch is presumed dead without data,
 * or nil: the driver bounds its reads by it (k8s__watch_stall_in). */
static int watch_stall_in(lua_State *L)
{
	l_watch *w = luaL_checkudata(L, 1, MT_WATCH);
	double left = w->w ? k8s__watch_stall_in(w->w) : -1;
	if (left < 0)
		lua_pushnil(L);
	else
		lua_pushnumber(L, left);
	return 1;
}

static int watch_end(lua_State *L)
{
	l_watch *w = luaL_checkudata(L, 1, MT_WATCH);
	const char *reason = luaL_optstring(L, 2, NULL);
	const char *msg = luaL_optstring(L, 3, NULL);
	int code = K8S_ETRANSPORT;
	if (reason && strcmp(reason, "Timeout") == 0)
		code = K8S_ETIMEOUT;
	if (w->w)
		k8s__watch_end(w->w, reason ? code : 0, reason, msg);
	return 0;
}

static int watch_result_chan(lua_State *L)
{
	luaL_checkudata(L, 1, MT_WATCH);
	/* for ev in w:ResultChan() do ... end: the loop ends when the server
	 * closes the watch, after w:Stop(), or when the connection fails (as
	 * client-go's StreamWatcher closes its channel); ERROR events from the
	 * server are delivered as events, and so is an event that cannot be
	 * decoded, as client-go's ClientWatchDecoding Status. w:Next() returns
	 * every error as nil, err. */
	lua_pushcfunction(L, watch_iter);
	lua_pushvalue(L, 1);
	return 2;
}

static const luaL_Reg watch_methods[] = {
	{"Next", watch_next}, {"Stop", watch_gc}, {"ResultChan", watch_result_chan}, {NULL, NULL}};
static const luaL_Reg watch_driver_funcs[] = {{"watch_step", watch_step_fed}, {"watch_feed", watch_feed},
					      {"watch_end", watch_end}, {"watch_stall_in", watch_stall_in},
					      {NULL, NULL}};
static const luaL_Reg watch_meta[] = {{"__gc", watch_gc},
#if LUA_VERSION_NUM >= 504
				      {"__close", watch_gc},
#endif
				      {NULL, NULL}};

void k8s_lua_open_watch(lua_State *L)
{
	k8s_lua_new_class(L, MT_WATCH, watch_methods, watch_meta);
}

void k8s_lua_register_watch(lua_State *L)
{
	luaL_setfuncs(L, watch_driver_funcs, 0);
}
