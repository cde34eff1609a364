/* Non-blocking TCP sockets and poll() for the plain-Lua event loop
 * (lua/k8s/loop.lua, k8s.Run): the loop's tasks move bytes through these as
 * nginx's cosockets move them inside nginx, and the same driver
 * (lua/k8s/driver.lua) runs over both. Name resolution uses getaddrinfo. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "core.h"

#define MT_SOCK "k8s.Socket"

typedef struct {
	int fd;
} l_sock;

static l_sock *check_sock(lua_State *L)
{
	return luaL_checkudata(L, 1, MT_SOCK);
}

static int push_errno(lua_State *L, const char *what, int e)
{
	lua_pushnil(L);
	if (e == ECONNREFUSED)
		lua_pushfstring(L, "connection refused");
	else if (e == ECONNRESET || e == EPIPE)
		lua_pushfstring(L, "connection reset by peer");
	else
		lua_pushfstring(L, "%s: %s", what, strerror(e));
	return 2;
}

/* core.sock_connect(host, port) -> socket (connecting) | nil, err */
static int l_sock_connect(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	int port = (int)luaL_checkinteger(L, 2), rc, fd = -1, e = 0, one = 1;
	char ports[16];
	struct addrinfo hints, *res = NULL, *ai;
	l_sock *s;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ports, sizeof(ports), "%d", port);
	if ((rc = getaddrinfo(host, ports, &hints, &res)) != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "failed to resolve \"%s\": %s", host, gai_strerror(rc));
		return 2;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return push_errno(L, "connect", e ? e : ECONNREFUSED);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s = lua_newuserdata(L, sizeof(*s));
	s->fd = fd;
	luaL_setmetatable(L, MT_SOCK);
	return 1;
}

/* sock:fd() */
static int sock_fd(lua_State *L)
{
	lua_pushinteger(L, check_sock(L)->fd);
	return 1;
}

/* sock:connect_result() -> true | nil, err (after the socket became writable) */
static int sock_connect_result(lua_State *L)
{
	l_sock *s = check_sock(L);
	int err = 0;
	socklen_t len = sizeof(err);
	if (s->fd < 0)
		return push_errno(L, "connect", EBADF);
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		return push_errno(L, "connect", err);
	lua_pushboolean(L, 1);
	return 1;
}

/* sock:send(data, from) -> bytes sent (0: would block) | nil, err */
static int sock_send(lua_State *L)
{
	l_sock *s = check_sock(L);
	size_t len;
	const char *d = luaL_checklstring(L, 2, &len);
	lua_Integer from = luaL_optinteger(L, 3, 1);
	ssize_t n;
	if (s->fd < 0)
		return push_errno(L, "send", EBADF);
	if (from < 1 || (size_t)from > len + 1)
		return luaL_argerror(L, 3, "out of range");
	do
		n = send(s->fd, d + from - 1, len - (size_t)(from - 1), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			lua_pushinteger(L, 0);
			return 1;
		}
		return push_errno(L, "send", errno);
	}
	lua_pushinteger(L, n);
	return 1;
}

/* sock:recv(max) -> data | false (would block) | nil, "closed" | nil, err */
static int sock_recv(lua_State *L)
{
	l_sock *s = check_sock(L);
	lua_Integer max = luaL_optinteger(L, 2, 65536);
	char stack[65536];
	ssize_t n;
	if (s->fd < 0)
		return push_errno(L, "recv", EBADF);
	if (max < 1 || max > (lua_Integer)sizeof(stack))
		max = sizeof(stack);
	do
		n = recv(s->fd, stack, (size_t)max, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		lua_pushlstring(L, stack, (size_t)n);
		return 1;
	}
	if (n == 0) {
		lua_pushnil(L);
		lua_pushliteral(L, "closed");
		return 2;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		lua_pushboolean(L, 0);
		return 1;
	}
	return push_errno(L, "recv", errno);
}

static int sock_close(lua_State *L)
{
	l_sock *s = check_sock(L);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return 0;
}

/* core.poll(readfds, writefds, timeout) -> readable, writable (sets of fds).
 * readfds/writefds: arrays of fds; timeout seconds (negative: forever). */
static int l_poll(lua_State *L)
{
	size_t nr, nw, i, n;
	double timeout = luaL_optnumber(L, 3, -1);
	struct pollfd stackfds[64], *fds = stackfds;
	int rc, ms;
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TTABLE);
	nr = K8S_LUA_RAWLEN(L, 1);
	nw = K8S_LUA_RAWLEN(L, 2);
	n = nr + nw;
	if (n > 64 && !(fds = malloc(n * sizeof(*fds))))
		return luaL_error(L, "out of memory");
	for (i = 0; i < nr; i++) {
		lua_rawgeti(L, 1, (int)i + 1);
		fds[i].fd = (int)lua_tointeger(L, -1);
		fds[i].events = POLLIN;
		fds[i].revents = 0;
		lua_pop(L, 1);
	}
	for (i = 0; i < nw; i++) {
		lua_rawgeti(L, 2, (int)i + 1);
		fds[nr + i].fd = (int)lua_tointeger(L, -1);
		fds[nr + i].events = POLLOUT;
		fds[nr + i].revents = 0;
		lua_pop(L, 1);
	}
	ms = timeout < 0 ? -1 : (int)(timeout * 1000 + 0.999);
	do
		rc = poll(fds, (nfds_t)n, ms);
	while (rc < 0 && errno == EINTR);
	lua_newtable(L);
	lua_newtable(L);
	if (rc > 0) {
		for (i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			lua_pushinteger(L, fds[i].fd);
			lua_pushboolean(L, 1);
			lua_rawset(L, i < nr ? -4 : -3);
		}
	}
	if (fds != stackfds)
		free(fds);
	return 2;
}

/* core.monotonic() -> seconds */
static int l_monotonic(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	return 1;
}

/* AddressSanitizer's own count when it is loaded (its malloc is not glibc's). */
extern size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

/* core.heap_bytes() -> bytes of C heap in use (glibc mallinfo2, or the
 * sanitizer's count): for the soak's flat-heap check. */
static int l_heap_bytes(lua_State *L)
{
	if (__sanitizer_get_current_allocated_bytes)
		lua_pushnumber(L, (double)__sanitizer_get_current_allocated_bytes());
	else
		lua_pushnumber(L, (double)mallinfo2().uordblks);
	return 1;
}

/* core.walltime() -> Unix seconds with microseconds */
static int l_walltime(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	lua_pushnumber(L, (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) / 1e6);
	return 1;
}

static const luaL_Reg sock_methods[] = {{"fd", sock_fd},     {"connect_result", sock_connect_result},
					{"send", sock_send}, {"recv", sock_recv},
					{"close", sock_close}, {NULL, NULL}};
static const luaL_Reg sock_meta[] = {{"__gc", sock_close}, {NULL, NULL}};
static const luaL_Reg sock_funcs[] = {{"sock_connect", l_sock_connect}, {"poll", l_poll}, {"monotonic", l_monotonic},
				      {"walltime", l_walltime}, {"heap_bytes", l_heap_bytes}, {NULL, NULL}};

void k8s_lua_register_sock(lua_State *L)
{
	k8s_lua_new_class(L, MT_SOCK, sock_methods, sock_meta);
	luaL_setfuncs(L, sock_funcs, 0);
}
