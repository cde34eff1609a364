/* benchutil: OS measurements for the Lua benchmark peers (Lua 5.4 and LuaJIT).
 *   local u = require "benchutil"
 *   u.now()        monotonic clock, seconds (double)
 *   u.unix_us()    wall clock, microseconds since the epoch (exact in a double)
 *   u.rusage()     user, sys (seconds, getrusage(RUSAGE_SELF)), maxrss (KiB)
 *   u.vmrss()      current resident set (KiB, /proc/self/status VmRSS)
 *   u.sleep(s)     nanosleep
 *   u.touch(path)  create a file (the watch peer's "ready" signal)
 *   u.exists(path)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <lua.h>
#include <lauxlib.h>
#include "procstat.h"

static int l_now(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (double)ts.tv_sec + ts.tv_nsec / 1e9);
	return 1;
}

static int l_unix_us(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	lua_pushnumber(L, (double)ts.tv_sec * 1e6 + (double)(ts.tv_nsec / 1000));
	return 1;
}

static int l_rusage(lua_State *L)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	lua_pushnumber(L, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6);
	lua_pushnumber(L, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	lua_pushnumber(L, (double)ru.ru_maxrss);
	return 3;
}

static int l_vmrss(lua_State *L)
{
	lua_pushnumber(L, (double)proc_vmrss_kb());
	return 1;
}

static int l_sleep(lua_State *L)
{
	double s = luaL_checknumber(L, 1);
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
	return 0;
}

static int l_touch(lua_State *L)
{
	FILE *f = fopen(luaL_checkstring(L, 1), "w");
	if (f) {
		fputs("ready\n", f);
		fclose(f);
	}
	lua_pushboolean(L, f != NULL);
	return 1;
}

static int l_exists(lua_State *L)
{
	lua_pushboolean(L, access(luaL_checkstring(L, 1), F_OK) == 0);
	return 1;
}

static const luaL_Reg fns[] = {
	{"now", l_now}, {"unix_us", l_unix_us}, {"rusage", l_rusage}, {"vmrss", l_vmrss},
	{"sleep", l_sleep}, {"touch", l_touch}, {"exists", l_exists}, {NULL, NULL},
};

int luaopen_benchutil(lua_State *L)
{
	lua_newtable(L);
	for (const luaL_Reg *r = fns; r->name; r++) {
		lua_pushcfunction(L, r->func);
		lua_setfield(L, -2, r->name);
	}
	return 1;
}
