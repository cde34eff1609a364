/* Fuzz target: the Lua JSON codec (src/lua/json.c), built against Lua 5.4
 * and LuaJIT. The input is the JSON text.
 *
 * Properties:
 *  - differential with the scanner (src/jsonscan.c): decode succeeds iff
 *    the scanner takes the text as one value followed only by whitespace,
 *    nesting is at most K8S_LUA_JSON_MAX_DEPTH containers and no \u escape
 *    is a lone surrogate (the decoder rejects those, the scanner does not);
 *    a failed decode pushes nothing and says why;
 *  - decode pushes exactly one value and never raises (no memory limit);
 *  - encode(x) fails iff x holds an infinity (a number beyond the double
 *    range decodes to +-inf, which JSON cannot carry);
 *  - decode(encode(x)) deep-equals x: the same types, the array metatable
 *    on exactly the arrays ([] stays [], {} stays {}), null as
 *    lightuserdata(NULL), strings byte for byte, numbers exactly; the only
 *    changes allowed are an integral float becoming the integer of the same
 *    value (it is written without '.' or exponent) and -0 becoming 0;
 *  - restyling x without changing what it means changes nothing in
 *    encode(x), byte for byte: a non-empty array without metatable or with
 *    another metatable whose __jsontype is "array" (or no known kind: its
 *    keys are 1..n), an object with a __jsontype "object" metatable (or
 *    one of no known kind); those metatables have __index, __newindex,
 *    __len, __pairs and __call traps, so encode must call no metamethod;
 *  - the encoding is a fixed point up to member order: e2 =
 *    encode(decode(e1)) with e1 = encode(x) has the same bytes as e1, in
 *    the same order when no object has two members or more, and
 *    decode(e2) is identical to decode(e1), number subtypes and -0
 *    included. (Members are written in the table's traversal order, which
 *    depends on how the table was built, not only on its contents: a
 *    table decoded from e1 may list them in another order than x.)
 */
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "compat.h"
#include "json.h"
#include "jsonscan.h"

#include "lua_compare.h"

/* ------------------------------------------------------------ reference */

/* Whether the scanner takes s[0..len) as exactly one value and whitespace.
 * A top-level number that reaches the end of the text is "unfinished" (1)
 * for the scanner: the text ends there, so a space is fed to end it. */
static int scan_whole(const char *s, size_t len)
{
	k8s_json_scanner sc;
	size_t end;
	int r = k8s_json_skip_value(s, len, 0, &end);

	if (r == 1) {
		k8s_json_scanner_init(&sc);
		r = k8s_json_scanner_run(&sc, s, len, 0, &end);
		FUZZ_CHECK(r == 1, "skip_value and scanner_run disagree (%d)", r);
		FUZZ_CHECK(end == len, "unfinished at %zu of %zu", end, len);
		return k8s_json_scanner_run(&sc, " ", 1, 0, &end) == 0;
	}
	return r == 0 && k8s_json_skip_ws(s, len, end) == len;
}

static int hex4v(const char *p, unsigned *v)
{
	unsigned r = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)p[i];
		r <<= 4;
		if (c >= '0' && c <= '9')
			r |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			r |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			r |= (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
	*v = r;
	return 1;
}

/* On text the scanner accepted: the deepest container nesting, and whether
 * some \u escape is a lone surrogate (a high one not directly followed by
 * a \u low one, or a low one on its own). */
static void shape(const char *s, size_t len, unsigned *maxdepth, int *lone)
{
	unsigned d = 0, m = 0, cp, lo;
	int in_str = 0;

	*lone = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '"') {
				in_str = 0;
			} else if (c == '\\') {
				i++;
				if (s[i] != 'u')
					continue;
				FUZZ_CHECK(i + 4 < len && hex4v(s + i + 1, &cp),
					   "scanner took a bad \\u at %zu", i);
				i += 4;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (i + 6 < len && s[i + 1] == '\\' && s[i + 2] == 'u' &&
					    hex4v(s + i + 3, &lo) && lo >= 0xDC00 && lo <= 0xDFFF)
						i += 6;
					else
						*lone = 1;
				} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
					*lone = 1;
				}
			}
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++d > m)
				m = d;
		} else if (c == ']' || c == '}') {
			d--;
		}
	}
	*maxdepth = m;
}


/* Whether the value at idx holds an infinity. */
static int has_inf(int idx)
{
	int r = 0;

	switch (lua_type(L, idx)) {
	case LUA_TNUMBER:
#if K8S_LUA_HAS_INTEGERS
		if (lua_isinteger(L, idx))
			return 0;
#endif
		FUZZ_CHECK(!isnan((double)lua_tonumber(L, idx)), "decoded a NaN");
		return isinf((double)lua_tonumber(L, idx));
	case LUA_TTABLE:
		FUZZ_CHECK(lua_checkstack(L, 4), "Lua stack");
		lua_pushnil(L);
		while (!r && lua_next(L, idx)) {
			r = has_inf(lua_gettop(L));
			lua_pop(L, 1);
		}
		if (r)
			lua_pop(L, 1);
		return r;
	default:
		return 0;
	}
}

/* Whether some object in the value at idx has two members or more. */
static int has_multi(int idx)
{
	int r = 0;

	if (lua_type(L, idx) != LUA_TTABLE)
		return 0;
	if (!is_array(idx) && count_keys(idx) >= 2)
		return 1;
	FUZZ_CHECK(lua_checkstack(L, 4), "Lua stack");
	lua_pushnil(L);
	while (!r && lua_next(L, idx)) {
		r = has_multi(lua_gettop(L));
		lua_pop(L, 1);
	}
	if (r)
		lua_pop(L, 1);
	return r;
}

/* a and b hold the same bytes, in the same order if `ordered` */
static void same_text(const char *a, size_t na, const char *b, size_t nb, int ordered)
{
	size_t ha[256] = {0}, hb[256] = {0};

	FUZZ_CHECK(na == nb, "encode is no fixed point (length):\n%s\n%s", a, b);
	if (ordered) {
		FUZZ_CHECK(memcmp(a, b, na) == 0, "encode is no fixed point:\n%s\n%s", a, b);
		return;
	}
	for (size_t i = 0; i < na; i++) {
		ha[(unsigned char)a[i]]++;
		hb[(unsigned char)b[i]]++;
	}
	FUZZ_CHECK(memcmp(ha, hb, sizeof ha) == 0, "re-encoding changed bytes:\n%s\n%s", a, b);
}

/* ----------------------------------------------------------- restyling */

static int trap(lua_State *L1)
{
	(void)L1;
	FUZZ_CHECK(0, "encode called a metamethod");
	return 0;
}

/* registry keys of the trap metatables, by __jsontype */
static const char *const KINDS[] = {"array", "object", "other"};

static void new_trap_mt(const char *kind)
{
	static const char *const events[] = {"__index", "__newindex", "__len", "__pairs", "__call"};

	lua_newtable(L);
	lua_pushstring(L, kind);
	lua_setfield(L, -2, "__jsontype");
	for (size_t i = 0; i < sizeof events / sizeof *events; i++) {
		lua_pushcfunction(L, trap);
		lua_setfield(L, -2, events[i]);
	}
	lua_pushlightuserdata(L, (void *)kind);
	lua_insert(L, -2);
	lua_rawset(L, LUA_REGISTRYINDEX);
}

static void set_trap_mt(int idx, int kind)
{
	lua_pushlightuserdata(L, (void *)KINDS[kind]);
	lua_rawget(L, LUA_REGISTRYINDEX);
	lua_setmetatable(L, idx);
}

/* Gives the decoded tables in the value at idx metatables (or none) that
 * mean the same to the encoder; *h drives the choices. */
static void restyle(int idx, uint32_t *h)
{
	int arr;
	size_t n;
	unsigned pick;

	if (lua_type(L, idx) != LUA_TTABLE)
		return;
	arr = is_array(idx);
	n = count_keys(idx);
	FUZZ_CHECK(lua_checkstack(L, 4), "Lua stack");
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		restyle(lua_gettop(L), h);
		lua_pop(L, 1);
	}
	*h = *h * 1103515245u + 12345u;
	pick = (*h >> 16) & 3;
	if (arr) {
		/* an empty table without metatable is {}: [] needs one */
		if (n == 0 ? pick & 1 : pick == 2) {
			set_trap_mt(idx, 0);
		} else if (n > 0 && pick == 1) {
			lua_pushnil(L);
			lua_setmetatable(L, idx);
		} else if (n > 0 && pick == 3) {
			set_trap_mt(idx, 2);
		}
	} else if (pick == 1 || pick == 2) {
		set_trap_mt(idx, pick == 1 ? 1 : 2);
	}
}

/* ------------------------------------------------------------- the run */

typedef struct {
	const char *s;
	size_t len;
} input;

static int decode_checked(const char *s, size_t len, char *err, size_t errlen)
{
	int top = lua_gettop(L), ok;

	err[0] = '\0';
	ok = k8s_lua_json_decode(L, s, len, err, errlen);
	FUZZ_CHECK(ok == 0 || ok == 1, "decode returned %d", ok);
	FUZZ_CHECK(lua_gettop(L) == top + ok, "decode left %d values (ok=%d)",
		   lua_gettop(L) - top, ok);
	FUZZ_CHECK(ok || err[0], "decode failed without a message");
	return ok;
}

static int run(lua_State *L1)
{
	const input *in = (const input *)lua_touserdata(L1, 1);
	char err[256], err2[256];
	char *e1 = NULL, *e2 = NULL, *e3 = NULL;
	size_t n1, n2, n3;
	unsigned depth = 0;
	int lone = 0, scan_ok, ok, inf, multi;

	lua_settop(L, 0);
	scan_ok = scan_whole(in->s, in->len);
	if (scan_ok)
		shape(in->s, in->len, &depth, &lone);
	ok = decode_checked(in->s, in->len, err, sizeof err);
	FUZZ_CHECK(ok == (scan_ok && depth <= K8S_LUA_JSON_MAX_DEPTH && !lone),
		   "decode %d, scanner %d, depth %u, lone surrogate %d: %s", ok, scan_ok, depth,
		   lone, err);
	if (!ok) {
		if (scan_ok && !lone)
			FUZZ_CHECK(strstr(err, "nesting too deep"), "depth %u: %s", depth, err);
		if (scan_ok && depth <= K8S_LUA_JSON_MAX_DEPTH)
			FUZZ_CHECK(strstr(err, "unpaired surrogate"), "%s", err);
		return 0;
	}
	/* x at 1 */
	inf = has_inf(1);
	ok = k8s_lua_json_encode(L, 1, &e1, &n1, err, sizeof err);
	FUZZ_CHECK(lua_gettop(L) == 1, "encode changed the stack");
	FUZZ_CHECK(ok == !inf, "encode %d with inf %d: %s", ok, inf, ok ? "" : err);
	if (!ok) {
		FUZZ_CHECK(!e1 && strstr(err, "inf"), "%s", err);
		return 0;
	}
	FUZZ_CHECK(e1 && e1[n1] == '\0' && strlen(e1) == n1, "encode output not terminated");
	FUZZ_CHECK(scan_whole(e1, n1), "encode wrote what the scanner rejects: %s", e1);
	/* y = decode(e1) at 2 */
	FUZZ_CHECK(decode_checked(e1, n1, err, sizeof err), "decode(encode(x)): %s", err);
	same(1, 2, 0, 0);
	/* e2 = encode(y) */
	FUZZ_CHECK(k8s_lua_json_encode(L, 2, &e2, &n2, err, sizeof err), "%s", err);
	multi = has_multi(2);
	same_text(e1, n1, e2, n2, !multi);
	/* z = decode(e2) at 3: the canonical form decodes identically */
	FUZZ_CHECK(decode_checked(e2, n2, err2, sizeof err2), "%s", err2);
	same(2, 3, 1, 0);
	FUZZ_CHECK(k8s_lua_json_encode(L, 3, &e3, &n3, err, sizeof err), "%s", err);
	same_text(e2, n2, e3, n3, !multi);
	/* restyle x and encode it again */
	{
		uint32_t h = 2166136261u;
		char *e4 = NULL;
		size_t n4;
		for (size_t i = 0; i < in->len; i++)
			h = (h ^ (unsigned char)in->s[i]) * 16777619u;
		lua_settop(L, 1);
		restyle(1, &h);
		FUZZ_CHECK(k8s_lua_json_encode(L, 1, &e4, &n4, err, sizeof err), "restyled: %s", err);
		FUZZ_CHECK(n4 == n1 && memcmp(e1, e4, n1) == 0, "restyling changed the text:\n%s\n%s",
			   e1, e4);
		free(e4);
	}
	free(e1);
	free(e2);
	free(e3);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	lua_fuzz_init();
	for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
		new_trap_mt(KINDS[i]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input in = {(const char *)data, size};

	lua_fuzz_run(run, &in);
	return 0;
}
