/* Fuzz target: the incremental List decoder k8s_lua_json_inc_* (src/lua/
 * json.c), built against Lua 5.4 and LuaJIT.
 *
 * Input: byte 0 = c, then (c & 7) selector bytes, then the JSON text.
 * The text is fed as a response arrives: growing prefixes, each in a fresh
 * buffer of exactly its length (the decoder keeps offsets only). Piece i
 * is fuzz_piece(selectors, i, MAXP[k]) * UNIT[k] bytes with k = (c >> 3) &
 * 15 (k = 15: the whole text at once), at least len/128 so that a large
 * text takes a bounded number of feeds; bit 7 of c feeds the whole text a
 * second time. Each feed runs under lua_pcall, as in src/lua/body.c.
 *
 * Properties (json.h: the table built is the one k8s_lua_json_decode gives
 * for the whole text; on failure the caller decodes the whole text):
 *  - feed never raises (no memory limit) and returns 0 iff `failed` is set;
 *    not failed, it leaves the stack as it found it; once failed it stays
 *    failed;
 *  - complete => the whole text decodes, and the object deep-equals it
 *    (metatables, number subtypes and -0 included);
 *  - the whole text decodes to an object => complete (the decoder never
 *    gives up on a well-formed object, however it is cut);
 *  - the whole text decodes to something else => failed;
 *  - so complete <=> decode(whole) succeeds with an object.
 */
// fuzz-flags: -max_len=140000
#include "fuzz.h"

#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "compat.h"
#include "json.h"
#include "jsonscan.h"

/* L, the driver and is_array, same: the same text decoded twice compares
 * strictly (number subtypes and bits) */
#include "lua_compare.h"

/* piece sizes: k = 0 is plain fuzz_piece (1..256 bytes, 1 without
 * selectors), k = 1 byte by byte, k = 15 the whole text at once */
static const size_t UNIT[16] = {1, 1, 1, 1, 2, 8, 32, 128, 512, 1, 1, 4, 1024, 4096, 16384, 0};
static const size_t MAXP[16] = {256, 1, 4, 16, 256, 256, 256, 256, 256, 2, 64, 4, 64, 32, 8, 0};

/* ------------------------------------------------------------- feeding */

typedef struct {
	k8s_lua_json_inc inc;
	const char *buf;
	size_t len;
} feeder;

/* (obj, arr, feeder) -> obj, arr, as inc_step in src/lua/body.c */
static int feed_step(lua_State *L1)
{
	feeder *f = (feeder *)lua_touserdata(L1, 3);
	int was_failed, r;

	lua_settop(L1, 2);
	was_failed = f->inc.failed;
	r = k8s_lua_json_inc_feed(L1, &f->inc, 1, f->buf, f->len);
	FUZZ_CHECK(r == !f->inc.failed, "feed returned %d with failed %d", r, f->inc.failed);
	FUZZ_CHECK(!was_failed || f->inc.failed, "failed was cleared");
	if (!f->inc.failed)
		FUZZ_CHECK(lua_gettop(L1) == 2, "feed left %d values", lua_gettop(L1));
	lua_settop(L1, 2);
	return 2;
}

/* the object at 1 and the array member at 2, as k8s_lua_decode_blocking */
static void feed(feeder *f, const char *text, size_t len)
{
	char *b = malloc(len ? len : 1);
	int rc;

	FUZZ_CHECK(b, "out of memory");
	memcpy(b, text, len);
	f->buf = b;
	f->len = len;
	lua_pushcfunction(L, feed_step);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_pushlightuserdata(L, f);
	rc = lua_pcall(L, 3, 2, 0);
	FUZZ_CHECK(rc == 0, "feed raised: %s", lua_tostring(L, -1));
	lua_replace(L, 2);
	lua_replace(L, 1);
	FUZZ_CHECK(lua_gettop(L) == 2, "stack");
	free(b);
	f->buf = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	lua_fuzz_init();
	return 0;
}

typedef struct {
	feeder *f;
	const char *text;
	size_t len;
} whole;

/* (whole) -> nothing: decodes the whole text and checks the contract;
 * the object is at 1, the array member at 2 */
static int check_whole(lua_State *L1)
{
	whole *w = (whole *)lua_touserdata(L1, 3);
	const k8s_lua_json_inc *inc = &w->f->inc;
	int complete, whole_ok, is_obj = 0;
	char err[256];
	char *copy;

	lua_settop(L1, 2);
	/* the whole text, in a buffer of its exact size */
	copy = malloc(w->len ? w->len : 1);
	FUZZ_CHECK(copy, "out of memory");
	memcpy(copy, w->text, w->len);
	complete = k8s_lua_json_inc_complete(inc, copy, w->len);
	FUZZ_CHECK(!complete || !inc->failed, "complete and failed");
	err[0] = '\0';
	whole_ok = k8s_lua_json_decode(L1, copy, w->len, err, sizeof err);
	FUZZ_CHECK(lua_gettop(L1) == 2 + whole_ok, "decode left the stack at %d", lua_gettop(L1));
	if (whole_ok && lua_type(L1, 3) == LUA_TTABLE)
		is_obj = !is_array(3);
	if (complete) {
		FUZZ_CHECK(whole_ok, "complete but the whole text does not decode: %s", err);
		FUZZ_CHECK(lua_type(L1, 1) == LUA_TTABLE, "complete without an object");
		same(1, 3, 1, 0);
	}
	FUZZ_CHECK(complete == is_obj, "complete %d, failed %d, whole decode %d, object %d: %s",
		   complete, inc->failed, whole_ok, is_obj, err);
	if (whole_ok && !is_obj)
		FUZZ_CHECK(inc->failed, "not an object, but the decoder did not give up");
	free(copy);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	feeder f;
	whole w;
	const uint8_t *sel;
	const char *text;
	size_t nsel, len, at = 0, minp, i = 0;
	unsigned c, k;
	int rc;

	if (size < 1)
		return 0;
	c = data[0];
	nsel = c & 7;
	if (nsel > size - 1)
		nsel = size - 1;
	sel = data + 1;
	text = (const char *)data + 1 + nsel;
	len = size - 1 - nsel;
	k = (c >> 3) & 15;
	minp = len / 128;

	lua_settop(L, 0);
	FUZZ_CHECK(lua_checkstack(L, 8), "Lua stack");
	lua_pushnil(L);
	lua_pushnil(L);
	k8s_lua_json_inc_init(&f.inc);
	do {
		size_t p = MAXP[k] ? fuzz_piece(sel, nsel, i++, MAXP[k]) * UNIT[k] : len;
		if (p < minp)
			p = minp;
		at = p > len - at ? len : at + p;
		feed(&f, text, at);
	} while (at < len);
	if (c & 0x80)
		feed(&f, text, len);

	w.f = &f;
	w.text = text;
	w.len = len;
	lua_pushcfunction(L, check_whole);
	lua_insert(L, 1);
	lua_pushlightuserdata(L, &w);
	rc = lua_pcall(L, 3, 0, 0);
	FUZZ_CHECK(rc == 0, "raised: %s", lua_tostring(L, -1));
	lua_fuzz_done();
	return 0;
}
