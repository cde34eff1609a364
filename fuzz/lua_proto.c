/* Fuzz target: the Lua sink of the protobuf walker (src/lua/protobuf.c),
 * built against Lua 5.4 and LuaJIT, cross-checked with the JSON sink of
 * src/proto.c and the Lua JSON decoder (src/lua/json.c).
 *
 * Input: byte 0 % 3 == 1 picks a watch event (a metav1.WatchEvent), else a
 * body (k8s\0 + runtime.Unknown); the rest is the data (the layout of
 * fuzz/proto.c's modes 0 and 1, so its corpus fits).
 *
 * Properties:
 *   - k8s_lua_pb_decode never raises (no memory limit) and returns 1 with
 *     exactly one value pushed, or 0 with nothing pushed and err set;
 *   - it succeeds exactly when the JSON sink (k8s__pb_to_json) does, except
 *     that it may also fail on embedded raw JSON (RawExtension, FieldsV1,
 *     apiextensions JSON) the Lua JSON decoder rejects (nesting deeper than
 *     K8S_LUA_JSON_MAX_DEPTH, a lone surrogate escape): then its message
 *     says so and the JSON decoder rejects the JSON sink's text too;
 *   - when both succeed and the JSON decoder takes the JSON sink's text,
 *     the decoded text deep-equals the Lua sink's value (types, array
 *     metatables, null, strings byte for byte, numbers; an integral float
 *     may be the integer of the same value, -0 may be 0);
 *   - a body fed to the incremental decoder (k8s_lua_pb_inc_feed) growing
 *     by pieces of 1 + (b >> 2) % 16 bytes (at least len / 256; each a
 *     fresh exact-size copy of all so far) keeps its five slots (a feed
 *     that gives up leaves the stack to the caller), and when
 *     it took the whole body (k8s_lua_pb_inc_complete) the whole decode
 *     succeeds with an identical value (number subtypes included).
 */
#include "fuzz.h"

#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "compat.h"
#include "core.h"
#include "json.h"
#include "proto.h"

#include "lua_compare.h"


typedef struct {
	const char *s;
	size_t len;
	int event;
	size_t piece;
} input;

/* The incremental decoder's stack slots from 1 (src/lua/core.h: the array
 * metatable, the key cache, the object, a repeated field's key and table),
 * and where the object is. */
#define INC_SLOTS 5
#define INC_OBJECT 3

/* The incremental decoder over the body in pieces: returns its object, or
 * nil when it gave up or did not take the whole body. */
static int inc_decode(lua_State *L1)
{
	const input *in = (const input *)lua_touserdata(L1, 1);
	k8s_lua_pb_inc st;
	size_t len = 0;
	int i, rc = 1;
	lua_settop(L1, 0);
	for (i = 0; i < INC_SLOTS; i++)
		lua_pushnil(L1);
	k8s_lua_pb_inc_init(&st);
	while (rc && len < in->len) {
		char *copy;
		len = in->len - len < in->piece ? in->len : len + in->piece;
		copy = malloc(len);
		FUZZ_CHECK(copy != NULL, "out of memory");
		memcpy(copy, in->s, len);
		rc = k8s_lua_pb_inc_feed(L1, &st, 1, copy, len);
		memset(copy, 0xA5, len);
		free(copy);
		FUZZ_CHECK(rc == 0 || rc == 1, "k8s_lua_pb_inc_feed returned %d", rc);
		/* going on, it keeps exactly its slots; giving up, it leaves
		 * the stack to the caller, which resets it (body.c's inc_step) */
		FUZZ_CHECK(rc == 0 || lua_gettop(L1) == INC_SLOTS, "the incremental decoder left %d slots",
			   lua_gettop(L1));
		lua_settop(L1, INC_SLOTS);
	}
	if (rc && k8s_lua_pb_inc_complete(&st, in->s, in->len)) {
		FUZZ_CHECK(lua_type(L1, INC_OBJECT) == LUA_TTABLE, "a complete body without its object");
		lua_pushvalue(L1, INC_OBJECT);
	} else {
		lua_pushnil(L1);
	}
	return 1;
}

/* The incremental decoder agrees with the whole decode (ok: whether it
 * succeeded; its value at top + 1). */
static void check_inc(const input *in, int ok, int top, const char *err)
{
	if (in->event)
		return;
	lua_pushcfunction(L, inc_decode);
	lua_pushlightuserdata(L, (void *)in);
	lua_call(L, 1, 1);
	if (!lua_isnil(L, -1)) {
		FUZZ_CHECK(ok, "the incremental decoder took a body the whole decode rejects: %s", err);
		same(top + 1, lua_gettop(L), 1, 0);
	}
	lua_pop(L, 1);
}

/* The Lua sink may stop before the JSON sink does: a container nested past
 * its limit, or embedded JSON its decoder refuses and the scanner takes (a
 * lone surrogate escape, "\ud800"; the decoded text then fails too). */
static int stopped_earlier(const char *err)
{
	return strstr(err, "could not be stored") || strstr(err, "does not hold one JSON value");
}

static int run(lua_State *L1)
{
	const input *in = (const input *)lua_touserdata(L1, 1);
	char err[256], jerr[256];
	k8s_buf out = K8S_BUF_INIT;
	int top, ok, c_rc, jok;

	lua_settop(L, 0);
	top = lua_gettop(L);
	err[0] = 0;
	ok = k8s_lua_pb_decode(L, in->s, in->len, in->event, err, sizeof(err));
	FUZZ_CHECK(ok == 0 || ok == 1, "k8s_lua_pb_decode returned %d", ok);
	FUZZ_CHECK(lua_gettop(L) == top + ok, "k8s_lua_pb_decode left %d values (ok=%d)", lua_gettop(L) - top, ok);
	FUZZ_CHECK(ok || err[0], "failed without a message");

	c_rc = k8s__pb_to_json(&out, in->s, in->len, in->event, jerr, sizeof(jerr));
	FUZZ_CHECK(c_rc == 0 || c_rc == K8S_EDECODE, "k8s__pb_to_json returned %d", c_rc);
	if (c_rc < 0) {
		FUZZ_CHECK(!ok, "the Lua sink took what the JSON sink rejects: %s", jerr);
		/* the same walk, unless the Lua sink stopped it earlier */
		FUZZ_CHECK(strcmp(err, jerr) == 0 || stopped_earlier(err),
			   "other messages: Lua \"%s\", JSON \"%s\"", err, jerr);
		k8s_buf_free(&out);
		check_inc(in, ok, top, err);
		return 0;
	}
	/* the JSON sink's text, decoded, at 2 (or nothing) */
	jerr[0] = 0;
	jok = k8s_lua_json_decode(L, out.ptr, out.len, jerr, sizeof(jerr));
	FUZZ_CHECK(lua_gettop(L) == top + ok + jok, "json decode left the stack unbalanced");
	if (!ok) {
		FUZZ_CHECK(stopped_earlier(err), "the Lua sink failed where the JSON one did not: %s", err);
		FUZZ_CHECK(!jok, "the Lua sink failed on embedded JSON the decoder takes: %s", err);
	} else if (jok) {
		same(top + 2, top + 1, 0, 0);
	}
	k8s_buf_free(&out);
	check_inc(in, ok, top, err);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	lua_fuzz_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input in;

	if (size < 1)
		return 0;
	in.s = (const char *)data + 1;
	in.len = size - 1;
	in.event = data[0] % 3 == 1;
	in.piece = 1 + (size_t)(data[0] >> 2) % 16;
	if (in.piece < in.len / 256)
		in.piece = in.len / 256;
	lua_fuzz_run(run, &in);
	return 0;
}
