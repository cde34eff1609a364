/* Fuzz target: the Lua YAML codec (src/lua/yaml.c), built against Lua 5.4
 * and LuaJIT. The input is the YAML text (a stream of documents).
 *
 * Properties:
 *  - decode never raises (no memory limit); it pushes one array (the array
 *    metatable) of exactly one value per document, or nothing and a
 *    message "document N, line L: ..." with N and L >= 1;
 *  - the values are what the JSON codec can hold: tables with no metatable
 *    or the array one, string keys, no holes, no NaN or infinity, nesting
 *    within K8S_LUA_JSON_MAX_DEPTH;
 *  - each document encodes, and
 *    decode(encode(x)) is one document that deep-equals x (the array
 *    metatable on exactly the arrays, strings byte for byte, numbers
 *    exactly; an integral float may come back as the integer of the same
 *    value and -0 as 0);
 *  - the encoding is a fixed point, byte for byte (keys are sorted):
 *    encode(decode(encode(x))) == encode(x);
 *  - encode_all of the documents decodes to the same documents;
 *  - JSON is YAML: the JSON encoding of a document, read by the YAML
 *    parser (behind "--- ", so the JSON fast path is not taken), decodes to
 *    the same value, whenever the JSON text is made of what a YAML stream
 *    may hold (printable UTF-8 but for NEL, LS and PS, line breaks in YAML
 *    1.1, which a quoted scalar folds) and no key can reach libyaml's limit of
 *    1024 characters for a simple key once escaped (keys under 160 bytes).
 */
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "compat.h"
#include "json.h"
#include "yaml.h"

#include "lua_compare.h"


/* Checks the decoded value at idx: string keys, no holes, no NaN or
 * infinity; the longest key. */
static void check_value(int idx, int depth, size_t *maxkey)
{
	switch (lua_type(L, idx)) {
	case LUA_TNUMBER: {
		double v;
#if K8S_LUA_HAS_INTEGERS
		if (lua_isinteger(L, idx))
			return;
#endif
		v = (double)lua_tonumber(L, idx);
		FUZZ_CHECK(!isnan(v) && !isinf(v), "decoded %g", v);
		return;
	}
	case LUA_TSTRING:
	case LUA_TBOOLEAN:
		return;
	case LUA_TLIGHTUSERDATA:
		FUZZ_CHECK(lua_touserdata(L, idx) == NULL, "lightuserdata other than null");
		return;
	case LUA_TTABLE: {
		int arr = is_array(idx);
		size_t n = count_keys(idx);
		FUZZ_CHECK(depth < K8S_LUA_JSON_MAX_DEPTH, "nesting %d", depth);
		FUZZ_CHECK(lua_checkstack(L, 6), "Lua stack");
		if (arr)
			FUZZ_CHECK(n == (size_t)K8S_LUA_RAWLEN(L, idx), "array with holes");
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			if (!arr) {
				size_t kl;
				FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING, "key not a string");
				lua_tolstring(L, -2, &kl);
				if (kl > *maxkey)
					*maxkey = kl;
			}
			check_value(lua_gettop(L), depth + 1, maxkey);
			lua_pop(L, 1);
		}
		return;
	}
	default:
		FUZZ_CHECK(0, "decoded a %s", lua_typename(L, lua_type(L, idx)));
	}
}

/* Every code point is one libyaml reads in a stream (printable, tab, CR,
 * LF), in valid UTF-8 without surrogates. */
static int yaml_printable(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], cp, w, k;
		if (c < 0x80) {
			if (!(c == 9 || c == 10 || c == 13 || (c >= 0x20 && c <= 0x7E)))
				return 0;
			i++;
			continue;
		}
		w = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
		if (!w || c > 0xF4 || i + w > n)
			return 0;
		cp = c & (0x7F >> w);
		for (k = 1; k < w; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((w == 2 && cp < 0x80) || (w == 3 && cp < 0x800) || (w == 4 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		/* NEL, LS and PS are printable but YAML 1.1 line breaks: a
		 * quoted scalar folds them */
		if (!((cp >= 0xA0 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000) ||
		    cp == 0xFEFF || cp == 0x2028 || cp == 0x2029)
			return 0;
		i += w;
	}
	return 1;
}

/* Decodes and checks the shape of the outcome; returns whether it
 * succeeded (the array on top). */
static int decode_checked(const char *s, size_t len, char *err, size_t errlen)
{
	int top = lua_gettop(L), ok, doc, line;

	err[0] = '\0';
	ok = k8s_lua_yaml_decode(L, s, len, err, errlen);
	FUZZ_CHECK(ok == 0 || ok == 1, "decode returned %d", ok);
	FUZZ_CHECK(lua_gettop(L) == top + ok, "decode left %d values (ok=%d)",
		   lua_gettop(L) - top, ok);
	if (!ok) {
		FUZZ_CHECK(sscanf(err, "document %d, line %d: ", &doc, &line) == 2 && doc >= 1 &&
				   line >= 1,
			   "message without document and line: %s", err);
		return 0;
	}
	FUZZ_CHECK(lua_type(L, -1) == LUA_TTABLE && is_array(lua_gettop(L)),
		   "decode gave no array");
	return 1;
}

static void same_text(const char *a, size_t na, const char *b, size_t nb)
{
	FUZZ_CHECK(na == nb && memcmp(a, b, na) == 0, "encode is no fixed point:\n%s\n---\n%s",
		   a, b);
}

/* One decoded document at idx. */
static void check_doc(int idx)
{
	char err[256];
	char *e1 = NULL, *e2 = NULL, *j = NULL;
	size_t n1, n2, nj, maxkey = 0;
	int ok, top = lua_gettop(L);

	check_value(idx, 0, &maxkey);
	ok = k8s_lua_yaml_encode(L, idx, 0, &e1, &n1, err, sizeof err);
	FUZZ_CHECK(lua_gettop(L) == top, "encode changed the stack");
	FUZZ_CHECK(ok, "encode: %s", err);
	FUZZ_CHECK(e1 && e1[n1] == '\0' && strlen(e1) == n1, "encode output not terminated");
	/* y = decode(e1) */
	FUZZ_CHECK(decode_checked(e1, n1, err, sizeof err), "decode(encode(x)): %s\n%s", err, e1);
	FUZZ_CHECK(K8S_LUA_RAWLEN(L, -1) == 1, "encode wrote %d documents:\n%s",
		   (int)K8S_LUA_RAWLEN(L, -1), e1);
	lua_rawgeti(L, -1, 1);
	same(idx, lua_gettop(L), 0, 0);
	FUZZ_CHECK(k8s_lua_yaml_encode(L, -1, 0, &e2, &n2, err, sizeof err), "%s", err);
	same_text(e1, n1, e2, n2);
	lua_settop(L, top);

	/* the JSON text through the YAML parser */
	FUZZ_CHECK(k8s_lua_json_encode(L, idx, &j, &nj, err, sizeof err), "json: %s", err);
	if (maxkey < 160 && yaml_printable((const unsigned char *)j, nj)) {
		char *t = malloc(nj + 5);
		FUZZ_CHECK(t, "malloc");
		memcpy(t, "--- ", 4);
		memcpy(t + 4, j, nj + 1);
		ok = decode_checked(t, nj + 4, err, sizeof err);
		FUZZ_CHECK(ok, "JSON text rejected by the YAML path: %s\n%s", err, t);
		free(t);
		FUZZ_CHECK(K8S_LUA_RAWLEN(L, -1) == 1, "JSON text gave %d documents",
			   (int)K8S_LUA_RAWLEN(L, -1));
		lua_rawgeti(L, -1, 1);
		same(idx, lua_gettop(L), 0, 0);
		lua_settop(L, top);
	}
	free(j);
	free(e1);
	free(e2);
}

typedef struct {
	const char *s;
	size_t len;
} input;

static int run(lua_State *L1)
{
	const input *in = (const input *)lua_touserdata(L1, 1);
	char err[256];
	char *all = NULL;
	size_t n, i, nall;

	lua_settop(L, 0);
	if (!decode_checked(in->s, in->len, err, sizeof err))
		return 0;
	/* docs at 1 */
	n = (size_t)K8S_LUA_RAWLEN(L, 1);
	FUZZ_CHECK(n == count_keys(1), "documents with holes");
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, 1, (int)i);
		check_doc(lua_gettop(L));
		lua_pop(L, 1);
	}
	FUZZ_CHECK(k8s_lua_yaml_encode(L, 1, 1, &all, &nall, err, sizeof err), "all: %s", err);
	FUZZ_CHECK(decode_checked(all, nall, err, sizeof err), "decode(encode_all): %s", err);
	FUZZ_CHECK((size_t)K8S_LUA_RAWLEN(L, 2) == n, "encode_all: %d documents of %d",
		   (int)K8S_LUA_RAWLEN(L, 2), (int)n);
	same(1, 2, 0, -1); /* the documents sit one level below the array */
	free(all);
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
	input in = {(const char *)data, size};

	lua_fuzz_run(run, &in);
	return 0;
}
