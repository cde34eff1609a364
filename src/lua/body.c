/* Response bodies as what the methods return: a typed call's object decoded
 * from JSON or protobuf (a large body while it arrives), DoRaw's bytes, and
 * core.json_decode_pieces and core.protobuf_decode, the decoders alone
 * for the specs and the benchmark. */
#include <string.h>
#include "json.h"
#include "core.h"
#include "proto.h"
#include "rest_internal.h"


/* Decode a body to a Lua value, or push nil, err. Returns values pushed. */
int k8s_lua_push_body(lua_State *L, const char *body, size_t len)
{
	char err[256];
	if (len == 0) {
		lua_pushnil(L);
		return 1;
	}
	if (!k8s_lua_json_decode(L, body, len, err, sizeof(err))) {
		lua_pushnil(L);
		k8s_lua_push_error(L, 0, "DecodeError", err, NULL, 0);
		return 2;
	}
	return 1;
}

/* A protobuf body (k8s_result kept it: k8s__call_keep_protobuf), or nil, err. */
static int push_pb_body(lua_State *L, const char *body, size_t len)
{
	char err[256];
	if (!k8s_lua_pb_decode(L, body, len, 0, err, sizeof(err))) {
		lua_pushnil(L);
		k8s_lua_push_error(L, 0, "DecodeError", err, NULL, 0);
		return 2;
	}
	return 1;
}

/* Decoding a large body while it arrives: the observer feeds what has come
 * so far to the incremental decoder, under lua_pcall (it runs inside
 * k8s_request_do). Bodies under INC_MIN bytes are decoded whole at the end,
 * as before: for them there is nothing to overlap. */
#define INC_MIN (64 * 1024)

/* JSON: the object at slot, the array being filled at slot + 1.
 * Protobuf (the body starts with k8s\0): slot..slot + 4, see k8s_lua_pb_inc. */
#define INC_SLOTS 5

typedef struct {
	lua_State *L;
	int slot;
	const char *buf;
	size_t len;
	int pb;                 /* -1 until the first bytes tell; then 0 JSON, 1 protobuf */
	k8s_lua_json_inc inc;
	k8s_lua_pb_inc pbinc;
} body_decoder;

static void body_decoder_init(body_decoder *o, lua_State *L)
{
	int i;
	for (i = 0; i < INC_SLOTS; i++)
		lua_pushnil(L);
	o->L = L;
	o->slot = lua_gettop(L) - INC_SLOTS + 1;
	o->pb = -1;
	k8s_lua_json_inc_init(&o->inc);
	k8s_lua_pb_inc_init(&o->pbinc);
}

static int inc_step(lua_State *L)
{
	body_decoder *o = lua_touserdata(L, INC_SLOTS + 1);
	lua_settop(L, INC_SLOTS);
	if (o->pb)
		k8s_lua_pb_inc_feed(L, &o->pbinc, 1, o->buf, o->len);
	else
		k8s_lua_json_inc_feed(L, &o->inc, 1, o->buf, o->len);
	lua_settop(L, INC_SLOTS);
	return INC_SLOTS;
}

static int inc_failed(const body_decoder *o)
{
	return o->pb == 1 ? o->pbinc.failed : o->inc.failed;
}

static void inc_feed(body_decoder *o, const char *body, size_t len)
{
	lua_State *L = o->L;
	int i;
	if (o->pb < 0)
		o->pb = len >= K8S_PB_MAGIC_LEN && memcmp(body, K8S_PB_MAGIC, K8S_PB_MAGIC_LEN) == 0;
	if (inc_failed(o))
		return;
	if (!lua_checkstack(L, INC_SLOTS + 4)) {
		o->inc.failed = o->pbinc.failed = 1;
		return;
	}
	o->buf = body;
	o->len = len;
	lua_pushcfunction(L, inc_step);
	for (i = 0; i < INC_SLOTS; i++)
		lua_pushvalue(L, o->slot + i);
	lua_pushlightuserdata(L, o);
	if (lua_pcall(L, INC_SLOTS + 1, INC_SLOTS, 0) != 0) {
		lua_pop(L, 1);
		o->inc.failed = o->pbinc.failed = 1;
		return;
	}
	for (i = INC_SLOTS - 1; i >= 0; i--)
		lua_replace(L, o->slot + i);
}

/* Whether the incremental decoder took the whole body; its object is then
 * pushed. */
static int inc_push_complete(body_decoder *o, const char *b, size_t len)
{
	if (o->pb == 1 ? !k8s_lua_pb_inc_complete(&o->pbinc, b, len)
		       : o->pb != 0 || !k8s_lua_json_inc_complete(&o->inc, b, len))
		return 0;
	lua_pushvalue(o->L, o->pb == 1 ? o->slot + 2 : o->slot);
	return 1;
}

static void inc_observer(void *payload, const char *body, size_t len)
{
	if (len >= INC_MIN)
		inc_feed(payload, body, len);
}

/* core.protobuf_decode(bytes[, event]): a protobuf body (or, with event
 * true, a metav1.WatchEvent) as tables, or nil, err. For the specs and the
 * benchmark of the decoder alone. */
int k8s_lua_l_protobuf_decode(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	char err[256];
	if (!k8s_lua_pb_decode(L, s, len, lua_toboolean(L, 2), err, sizeof(err))) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	return 1;
}

/* core.json_decode_pieces(text, step): feeds the incremental decoder (JSON,
 * or protobuf when text starts with k8s\0) the
 * prefixes of text that grow by `step` bytes, as a response would arrive,
 * and returns the object, or nil and "fallback" when the decoder gave up
 * (the request path then decodes the whole text). For the specs. */
int k8s_lua_l_json_decode_pieces(lua_State *L)
{
	size_t len, at = 0;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_Integer step = luaL_checkinteger(L, 2);
	body_decoder o;
	luaL_argcheck(L, step > 0, 2, "step must be positive");
	lua_settop(L, 2);
	body_decoder_init(&o, L);
	do {
		at = (size_t)step > len - at ? len : at + (size_t)step;
		inc_feed(&o, s, at);
	} while (at < len);
	if (!inc_push_complete(&o, s, len)) {
		lua_pushnil(L);
		lua_pushliteral(L, "fallback");
		return 2;
	}
	return 1;
}

/* The outcome of a typed call: the decoded object (or true), or nil, err.
 * o: the incremental decoder that saw the body arrive, or NULL. */
int k8s_lua_decode_outcome(lua_State *L, int rc, k8s_result *res, int want_body, void *inc)
{
	body_decoder *o = inc;
	void *owner;
	int n;
	if (!res || rc < 0)
		return k8s_lua_fail_call(L, rc, res, "request");
	owner = k8s_lua_owned(L, res, k8s_lua_free_result); /* decoding may raise */
	if (!want_body) {
		k8s_result_free(k8s_lua_disown(owner));
		lua_pushboolean(L, 1);
		return 1;
	}
	{
		size_t len;
		const char *b = k8s_result_body(res, &len);
		int pb = k8s__pb_is_content_type(k8s_result_content_type(res));
		if (o && len >= INC_MIN && o->pb == pb && inc_push_complete(o, b, len)) {
			n = 1;
		} else if (pb) {
			n = push_pb_body(L, b, len);
		} else {
			n = k8s_lua_push_body(L, b, len);
		}
	}
	k8s_result_free(k8s_lua_disown(owner));
	return n;
}

int k8s_lua_decode_blocking(lua_State *L, k8s_call *k, int want_body)
{
	k8s_result *res = NULL;
	body_decoder o;
	int rc;
	if (want_body)
		body_decoder_init(&o, L);
	rc = k8s__call_do(&res, k, want_body ? inc_observer : NULL, want_body ? &o : NULL);
	return k8s_lua_decode_outcome(L, rc, res, want_body, want_body ? &o : NULL);
}

/* The outcome of DoRaw: the body's bytes, or nil, err. */
int k8s_lua_do_raw_outcome(lua_State *L, int rc, k8s_result *res)
{
	size_t len;
	const char *b;
	void *owner;
	if (!res || rc < 0)
		return k8s_lua_fail_call(L, rc, res, "DoRaw");
	owner = k8s_lua_owned(L, res, k8s_lua_free_result);
	b = k8s_result_body(res, &len);
	lua_pushlstring(L, b, len);
	k8s_result_free(k8s_lua_disown(owner));
	return 1;
}
