/*
 * json.c - JSON codec for the Lua C API (Lua 5.4 and LuaJIT, one source).
 * See json.h for the mapping rules.
 *
 * Decoder: recursive descent straight from the input buffer.  Strings
 * without escapes are pushed directly from the input; escaped ones are
 * unescaped into a scratch buffer that starts on the C stack and grows as a
 * Lua userdata (so a memory error raised by Lua never leaks).  Containers
 * keep up to PEND_MAX entries on the Lua stack and create the table with the
 * exact size when the container closes (no rehash while filling; ~10% faster
 * on Lua 5.4); larger containers switch to filling the table directly.
 * Syntax errors are reported by return value (never by longjmp) and the
 * stack is restored.
 *
 * Encoder: writes to a growable malloc'd buffer; never calls metamethods.
 */
#include "compat.h"
#include "json.h"
#include "jsonscan.h"
#include "codec.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                           \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define K8S_JSON_SWAR 1
#endif

#if defined(__GNUC__)
#define K8S_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define K8S_LIKELY(x) (x)
#endif

/* ---------------------------------------------------------------- common */

/* Bytes that end a plain string run: '"', '\\' and control characters. */
static inline int is_special(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* First byte in [p, end) that is '"', '\\' or < 0x20, or end. */
static inline const char *scan_plain(const char *p, const char *end)
{
#ifdef K8S_JSON_SWAR
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;

	while (end - p >= 8) {
		uint64_t v, q, b, m;

		memcpy(&v, p, 8);
		q = v ^ (ones * '"');
		b = v ^ (ones * '\\');
		/* Classic "has zero byte" / "has byte less than" tricks: false
         * positives can only appear above a true hit, so the lowest flagged
         * byte is exact. */
		m = (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v)) &
			highs;
		if (m)
			return p + (__builtin_ctzll(m) >> 3);
		p += 8;
	}
#endif
	while (p < end && !is_special((unsigned char)*p))
		p++;
	return p;
}

/* --------------------------------------------------------------- decoder */

/* Entries kept on the Lua stack before a container's table is created. */
#define PEND_MAX 64
/* Stack slots (above the decoder's base) that pending entries may use;
 * beyond this, containers fill their table directly (3 slots per level), so
 * that MAX_DEPTH levels stay below LuaJIT's 8000-slot C stack limit. */
#define PEND_BUDGET 2000

typedef struct {
	lua_State *L;
	const char *start;
	const char *p;
	const char *end;
	int base;         /* stack top on entry */
	int mt;           /* absolute index of the array metatable */
	int scratch_slot; /* absolute index of the scratch userdata (or nil) */
	char *scratch;
	size_t scratch_cap;
	char *err;
	size_t errlen;
	char local[8192];
} decoder;

static int dec_fail(decoder *d, const char *at, const char *what)
{
	size_t off = (size_t)(at - d->start);

	if (at >= d->end)
		k8s_lua_set_err(d->err, d->errlen, "unexpected end of input at offset %zu",
				off);
	else if (what)
		k8s_lua_set_err(d->err, d->errlen, "%s at offset %zu", what, off);
	else {
		unsigned char c = (unsigned char)*at;
		if (c >= 0x20 && c < 0x7f)
			k8s_lua_set_err(d->err, d->errlen, "unexpected character '%c' at offset %zu",
					c, off);
		else
			k8s_lua_set_err(d->err, d->errlen,
					"unexpected byte 0x%02x at offset %zu", c, off);
	}
	return 0;
}

static inline const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* Makes room for `need` bytes in the scratch buffer (keeping `used`). */
static int scratch_reserve(decoder *d, size_t used, size_t need)
{
	size_t cap;
	char *nb;

	if (need <= d->scratch_cap)
		return 1;
	cap = d->scratch_cap;
	while (cap < need) {
		if (cap > ((size_t)-1) / 2)
			return dec_fail(d, d->p, "string too long");
		cap *= 2;
	}
	if (!lua_checkstack(d->L, 1))
		return dec_fail(d, d->p, "Lua stack overflow");
	nb = (char *)lua_newuserdata(d->L, cap);
	memcpy(nb, d->scratch, used);
	lua_replace(d->L, d->scratch_slot); /* old buffer becomes garbage */
	d->scratch = nb;
	d->scratch_cap = cap;
	return 1;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
    *out = v;
	return 1;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* d->p is just after the opening quote.  Pushes the string. */
static int parse_string(decoder *d)
{
	const char *p = d->p, *end = d->end, *q;
	size_t used = 0;

	q = scan_plain(p, end);
	if (K8S_LIKELY(q < end && *q == '"')) {
		lua_pushlstring(d->L, p, (size_t)(q - p));
		d->p = q + 1;
		return 1;
	}
	for (;;) {
		size_t run;
		unsigned cp;

		if (q >= end)
			return dec_fail(d, q, NULL);
		run = (size_t)(q - p);
		/* + 4: the longest output of one escape */
		if (!scratch_reserve(d, used, used + run + 4))
			return 0;
		memcpy(d->scratch + used, p, run);
		used += run;
		if (*q == '"')
			break;
		if ((unsigned char)*q < 0x20)
			return dec_fail(d, q, "control character in string");
		/* backslash */
		if (end - q < 2)
			return dec_fail(d, end, NULL);
		switch (q[1]) {
		case '"': d->scratch[used++] = '"'; q += 2; break;
		case '\\': d->scratch[used++] = '\\'; q += 2; break;
		case '/': d->scratch[used++] = '/'; q += 2; break;
		case 'b': d->scratch[used++] = '\b'; q += 2; break;
		case 'f': d->scratch[used++] = '\f'; q += 2; break;
		case 'n': d->scratch[used++] = '\n'; q += 2; break;
		case 'r': d->scratch[used++] = '\r'; q += 2; break;
		case 't': d->scratch[used++] = '\t'; q += 2; break;
		case 'u':
			if (end - q < 6 || !hex4(q + 2, &cp))
				return dec_fail(d, q, "invalid \\u escape");
			q += 6;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				unsigned lo;
				if (end - q < 6 || q[0] != '\\' || q[1] != 'u' ||
					!hex4(q + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
					return dec_fail(d, q - 6, "unpaired surrogate in \\u escape");
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				q += 6;
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				return dec_fail(d, q - 6, "unpaired surrogate in \\u escape");
			}
			used += put_utf8(d->scratch + used, cp);
			break;
		default:
			return dec_fail(d, q, "invalid escape");
		}
		p = q;
		q = scan_plain(p, end);
	}
	lua_pushlstring(d->L, d->scratch, used);
	d->p = q + 1;
	return 1;
}

#define IS_DIGIT(c) ((unsigned)((unsigned char)(c) - '0') < 10u)

static const double pow10_exact[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int parse_number(decoder *d)
{
	const char *s = d->p, *p = s, *end = d->end;
	const char *int_start, *int_end, *frac_start = NULL, *frac_end = NULL;
	int neg = 0, is_float = 0, exp_big = 0;
	long exp_val = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	int_start = p;
	if (p >= end || !IS_DIGIT(*p))
		return dec_fail(d, p, p >= end ? NULL : "invalid number");
	if (*p == '0')
		p++;
	else
		while (p < end && IS_DIGIT(*p))
			p++;
	int_end = p;
	if (p < end && *p == '.') {
		p++;
		frac_start = p;
		if (p >= end || !IS_DIGIT(*p))
			return dec_fail(d, p, p >= end ? NULL : "invalid number");
		while (p < end && IS_DIGIT(*p))
			p++;
		frac_end = p;
		is_float = 1;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-')) {
			eneg = *p == '-';
			p++;
		}
		if (p >= end || !IS_DIGIT(*p))
			return dec_fail(d, p, p >= end ? NULL : "invalid number");
		while (p < end && IS_DIGIT(*p)) {
			if (exp_val < 100000)
				exp_val = exp_val * 10 + (*p - '0');
			else
				exp_big = 1;
			p++;
		}
		if (eneg)
			exp_val = -exp_val;
		is_float = 1;
	}
	d->p = p;

	if (!is_float && int_end - int_start <= 19) {
		/* Plain integer of at most 19 digits: exact in uint64. */
		uint64_t u = 0;
		const char *c;
		for (c = int_start; c < int_end; c++)
			u = u * 10 + (uint64_t)(*c - '0');
#if K8S_LUA_HAS_INTEGERS
		if (!neg && u <= (uint64_t)INT64_MAX) {
			lua_pushinteger(d->L, (lua_Integer)u);
			return 1;
		}
		if (neg && u <= (uint64_t)INT64_MAX + 1) {
			lua_pushinteger(d->L, (lua_Integer)(0 - u)); /* two's complement */
			return 1;
		}
		/* does not fit: float below */
#else
		/* uint64 -> double conversion is correctly rounded */
		lua_pushnumber(d->L, neg ? -(double)u : (double)u);
		return 1;
#endif
	}

#if FLT_EVAL_METHOD == 0
	if (!exp_big) {
		/* Clinger's fast path: mantissa < 10^15 and |exponent| <= 22 give a
         * correctly rounded result with one IEEE operation. */
		uint64_t m = 0;
		int sig = 0;
		long e10;
		const char *c;

		for (c = int_start; c < int_end; c++) {
			if (sig || *c != '0')
				sig++;
			m = m * 10 + (uint64_t)(*c - '0');
			if (sig > 15)
				goto slow;
		}
		for (c = frac_start; c && c < frac_end; c++) {
			if (sig || *c != '0')
				sig++;
			m = m * 10 + (uint64_t)(*c - '0');
			if (sig > 15)
				goto slow;
		}
		e10 = exp_val - (frac_start ? (long)(frac_end - frac_start) : 0);
		if (e10 >= -22 && e10 <= 22) {
			double v = (double)m;
			if (e10 < 0)
				v /= pow10_exact[-e10];
			else
				v *= pow10_exact[e10];
			lua_pushnumber(d->L, neg ? -v : v);
			return 1;
		}
	}
slow:
#endif
	{
		size_t n = (size_t)(p - s);
		char *tmp;
		double v;

		if (!scratch_reserve(d, 0, n + 1))
			return 0;
		tmp = d->scratch;
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		v = k8s_lua_strtod_c(tmp, NULL);
		lua_pushnumber(d->L, v);
	}
	return 1;
}

static int parse_value(decoder *d, int depth);

static int parse_array(decoder *d, int depth)
{
	lua_State *L = d->L;
	int slot, direct = 0, n = 0;

	if (depth >= K8S_LUA_JSON_MAX_DEPTH)
		return dec_fail(d, d->p, "nesting too deep");
	if (!lua_checkstack(L, 8))
		return dec_fail(d, d->p, "Lua stack overflow");
	d->p = skip_ws(d->p + 1, d->end);
	if (d->p < d->end && *d->p == ']') {
		d->p++;
		lua_createtable(L, 0, 0);
		goto done;
	}
	/* slot holds the table once created; pending elements follow it */
	lua_pushnil(L);
	slot = lua_gettop(L);
	for (;;) {
		if (!parse_value(d, depth + 1))
			return 0;
		n++;
		if (direct) {
			lua_rawseti(L, slot, n);
		} else if (n >= PEND_MAX || slot - d->base > PEND_BUDGET ||
				   !lua_checkstack(L, 8)) {
			k8s_lua_table_from_pending(L, slot, n, 1, n * 2);
			direct = 1;
		}
		d->p = skip_ws(d->p, d->end);
		if (d->p >= d->end)
			return dec_fail(d, d->p, NULL);
		if (*d->p == ',') {
			d->p++;
			continue;
		}
		if (*d->p == ']') {
			d->p++;
			break;
		}
		return dec_fail(d, d->p, "expected ',' or ']'");
	}
	if (!direct)
		k8s_lua_table_from_pending(L, slot, n, 1, n);
done:
	lua_pushvalue(L, d->mt);
	lua_setmetatable(L, -2);
	return 1;
}

static int parse_object(decoder *d, int depth)
{
	lua_State *L = d->L;
	int slot, direct = 0, n = 0;

	if (depth >= K8S_LUA_JSON_MAX_DEPTH)
		return dec_fail(d, d->p, "nesting too deep");
	if (!lua_checkstack(L, 8))
		return dec_fail(d, d->p, "Lua stack overflow");
	d->p = skip_ws(d->p + 1, d->end);
	if (d->p < d->end && *d->p == '}') {
		d->p++;
		lua_createtable(L, 0, 0);
		return 1;
	}
	/* slot holds the table once created; pending key/value pairs follow */
	lua_pushnil(L);
	slot = lua_gettop(L);
	for (;;) {
		if (d->p >= d->end || *d->p != '"')
			return dec_fail(d, d->p, "expected string key");
		d->p++;
		if (!parse_string(d))
			return 0;
		d->p = skip_ws(d->p, d->end);
		if (d->p >= d->end || *d->p != ':')
			return dec_fail(d, d->p, "expected ':'");
		d->p++;
		if (!parse_value(d, depth + 1))
			return 0;
		n++;
		if (direct) {
			lua_rawset(L, slot);
		} else if (n >= PEND_MAX || slot - d->base > PEND_BUDGET ||
				   !lua_checkstack(L, 8)) {
			/* in document order, so that the last duplicate key wins */
			k8s_lua_table_from_pending(L, slot, n, 0, n * 2);
			direct = 1;
		}
		d->p = skip_ws(d->p, d->end);
		if (d->p >= d->end)
			return dec_fail(d, d->p, NULL);
		if (*d->p == ',') {
			d->p = skip_ws(d->p + 1, d->end);
			continue;
		}
		if (*d->p == '}') {
			d->p++;
			break;
		}
		return dec_fail(d, d->p, "expected ',' or '}'");
	}
	if (!direct)
		k8s_lua_table_from_pending(L, slot, n, 0, n);
	return 1;
}

static int parse_value(decoder *d, int depth)
{
	const char *p = skip_ws(d->p, d->end);
	size_t left = (size_t)(d->end - p);

	d->p = p;
	if (left == 0)
		return dec_fail(d, p, NULL);
	switch (*p) {
	case '"':
		d->p = p + 1;
		return parse_string(d);
	case '{':
		return parse_object(d, depth);
	case '[':
		return parse_array(d, depth);
	case 't':
		if (left >= 4 && memcmp(p, "true", 4) == 0) {
			lua_pushboolean(d->L, 1);
			d->p = p + 4;
			return 1;
		}
		break;
	case 'f':
		if (left >= 5 && memcmp(p, "false", 5) == 0) {
			lua_pushboolean(d->L, 0);
			d->p = p + 5;
			return 1;
		}
		break;
	case 'n':
		if (left >= 4 && memcmp(p, "null", 4) == 0) {
			lua_pushlightuserdata(d->L, NULL);
			d->p = p + 4;
			return 1;
		}
		break;
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(d);
	default:
		break;
	}
	return dec_fail(d, p, NULL);
}

void k8s_lua_json_init(lua_State *L)
{
	luaL_checkstack(L, 2, "k8s.json");
	if (luaL_newmetatable(L, K8S_LUA_JSON_ARRAY_MT)) {
		lua_pushliteral(L, K8S_LUA_JSON_ARRAY_MT);
		lua_setfield(L, -2, "__name");
		lua_pushliteral(L, "array");
		lua_setfield(L, -2, "__jsontype");
	}
	lua_pop(L, 1);
}

void k8s_lua_json_push_array_mt(lua_State *L)
{
	luaL_getmetatable(L, K8S_LUA_JSON_ARRAY_MT);
	if (K8S_LIKELY(lua_istable(L, -1)))
		return;
	lua_pop(L, 1);
	k8s_lua_json_init(L);
	luaL_getmetatable(L, K8S_LUA_JSON_ARRAY_MT);
}

/* Decode s[0..len) as a value nested `depth0` levels deep (so that the
 * nesting limit counts from the whole document). */
static int decode_at(lua_State *L, const char *s, size_t len, char *err,
					 size_t errlen, int depth0, size_t *used)
{
	decoder d;

	if (!lua_checkstack(L, 8)) {
		k8s_lua_set_err(err, errlen, "Lua stack overflow");
		return 0;
	}
	d.L = L;
	d.start = d.p = s;
	d.end = s + len;
	d.base = lua_gettop(L);
	d.err = err;
	d.errlen = errlen;
	d.scratch = d.local;
	d.scratch_cap = sizeof d.local;
	k8s_lua_json_push_array_mt(L);
	d.mt = d.base + 1;
	lua_pushnil(L);
	d.scratch_slot = d.base + 2;

	if (!parse_value(&d, depth0)) {
		lua_settop(L, d.base);
		return 0;
	}
	if (used) {
		/* one value at the start of the text; the rest is the caller's */
        *used = (size_t)(d.p - d.start);
		lua_replace(L, d.base + 1);
		lua_settop(L, d.base + 1);
		return 1;
	}
	d.p = skip_ws(d.p, d.end);
	if (d.p != d.end) {
		dec_fail(&d, d.p, "trailing garbage");
		lua_settop(L, d.base);
		return 0;
	}
	lua_replace(L, d.base + 1);
	lua_settop(L, d.base + 1);
	return 1;
}

int k8s_lua_json_decode(lua_State *L, const char *s, size_t len, char *err,
						size_t errlen)
{
	return decode_at(L, s, len, err, errlen, 0, NULL);
}

/* ------------------------------------------------------ incremental decoder */

/* Values up to this size are decoded from the text there is, and again
 * with more text if they were cut; larger ones are scanned to their end
 * first. */
#define INC_TRIAL_MAX (64 * 1024)

enum {
	INC_START, INC_FIRST_KEY, INC_KEY, INC_COLON, INC_VALUE, INC_SCAN,
	INC_AFTER, INC_ELEM_FIRST, INC_ELEM, INC_ELEM_SCAN, INC_ELEM_AFTER, INC_DONE
};

void k8s_lua_json_inc_init(k8s_lua_json_inc *s)
{
	/* every request with a body runs this: the scanner (1.3 KiB) is set up
     * only when a large value needs it */
	s->pos = s->vstart = s->kstart = s->kend = s->scan_at = 0;
	s->phase = INC_START;
	s->n = 0;
	s->failed = 0;
	s->scanning = 0;
}

static int inc_fail(k8s_lua_json_inc *s)
{
	s->failed = 1;
	return 0;
}

/* Push the current member's key (a JSON string) as a Lua string. */
static int inc_push_key(lua_State *L, k8s_lua_json_inc *s, const char *buf)
{
	return decode_at(L, buf + s->kstart, s->kend - s->kstart, NULL, 0, 1, NULL);
}

int k8s_lua_json_inc_feed(lua_State *L, k8s_lua_json_inc *s, int slot,
						  const char *buf, size_t len)
{
	size_t end;
	int r;

	if (s->failed)
		return 0;
	if (!lua_checkstack(L, 8))
		return inc_fail(s);
	for (;;) {
		switch (s->phase) {
		case INC_DONE:
			return 1;
		case INC_SCAN:
		case INC_ELEM_SCAN: {
			/* Decode the value from the text there is. Cut short, the
             * decode fails (or, for a number, may stop early): it is done
             * again with more text. Only a value followed by more text
             * counts, and the scanner tells a cut from a malformed value. */
			int member = s->phase == INC_SCAN;
			size_t used = 0;
			if (s->scanning || len - s->vstart > INC_TRIAL_MAX) {
				/* a large value: trying it again with each piece would cost
                 * O(n^2); the resumable scanner finds its end first */
				if (!s->scanning) {
					k8s_json_scanner_init(&s->sc);
					s->scan_at = s->vstart;
					s->scanning = 1;
				}
				r = k8s_json_scanner_run(&s->sc, buf, len, s->scan_at, &end);
				if (r == 1) {
					s->scan_at = len;
					return 1;
				}
				if (r < 0 || !decode_at(L, buf + s->vstart, end - s->vstart,
										NULL, 0, member ? 1 : 2, NULL))
					return inc_fail(s);
				s->scanning = 0;
			} else {
				if (!decode_at(L, buf + s->vstart, len - s->vstart, NULL, 0,
							   member ? 1 : 2, &used)) {
					r = k8s_json_skip_value(buf, len, s->vstart, &end);
					if (r == 1)
						return 1;
					return inc_fail(s);
				}
				end = s->vstart + used;
				if (k8s_json_skip_ws(buf, len, end) >= len) {
					lua_pop(L, 1);
					return 1;
				}
			}
			if (member) {
				if (!inc_push_key(L, s, buf))
					return inc_fail(s);
				lua_insert(L, -2);
				lua_rawset(L, slot);
				s->phase = INC_AFTER;
			} else {
				lua_rawseti(L, slot + 1, ++s->n);
				s->phase = INC_ELEM_AFTER;
			}
			s->pos = end;
			continue;
		}
		default:
			break;
		}
		s->pos = k8s_json_skip_ws(buf, len, s->pos);
		if (s->pos >= len)
			return 1; /* more text needed */
		switch (s->phase) {
		case INC_START:
			if (buf[s->pos] != '{')
				return inc_fail(s);
			lua_createtable(L, 0, 4);
			lua_replace(L, slot);
			s->pos++;
			s->phase = INC_FIRST_KEY;
			break;
		case INC_FIRST_KEY:
		case INC_KEY:
			if (s->phase == INC_FIRST_KEY && buf[s->pos] == '}') {
				s->pos++;
				s->phase = INC_DONE;
				break;
			}
			if (buf[s->pos] != '"')
				return inc_fail(s);
			r = k8s_json_skip_value(buf, len, s->pos, &end);
			if (r == 1)
				return 1; /* the key is cut: scanned again with more text */
			if (r < 0)
				return inc_fail(s);
			s->kstart = s->pos;
			s->kend = end;
			s->pos = end;
			s->phase = INC_COLON;
			break;
		case INC_COLON:
			if (buf[s->pos] != ':')
				return inc_fail(s);
			s->pos++;
			s->phase = INC_VALUE;
			break;
		case INC_VALUE:
			if (buf[s->pos] == '[') {
				/* an array member ("items"): element by element */
				lua_createtable(L, 0, 0);
				k8s_lua_json_push_array_mt(L);
				lua_setmetatable(L, -2);
				lua_replace(L, slot + 1);
				s->n = 0;
				s->pos++;
				s->phase = INC_ELEM_FIRST;
				break;
			}
			s->vstart = s->pos;
			s->phase = INC_SCAN;
			break;
		case INC_AFTER:
			if (buf[s->pos] == ',') {
				s->pos++;
				s->phase = INC_KEY;
			} else if (buf[s->pos] == '}') {
				s->pos++;
				s->phase = INC_DONE;
			} else {
				return inc_fail(s);
			}
			break;
		case INC_ELEM_FIRST:
		case INC_ELEM_AFTER:
			if (buf[s->pos] == ']') {
				s->pos++;
				if (!inc_push_key(L, s, buf))
					return inc_fail(s);
				lua_pushvalue(L, slot + 1);
				lua_rawset(L, slot);
				lua_pushnil(L);
				lua_replace(L, slot + 1);
				s->phase = INC_AFTER;
				break;
			}
			if (s->phase == INC_ELEM_AFTER) {
				if (buf[s->pos] != ',')
					return inc_fail(s);
				s->pos++;
			}
			s->phase = INC_ELEM;
			break;
		case INC_ELEM:
			s->vstart = s->pos;
			s->phase = INC_ELEM_SCAN;
			break;
		default:
			return inc_fail(s);
		}
	}
}

int k8s_lua_json_inc_complete(const k8s_lua_json_inc *s, const char *buf, size_t len)
{
	return !s->failed && s->phase == INC_DONE &&
		   k8s_json_skip_ws(buf, len, s->pos) == len;
}

int k8s_lua_json_l_decode(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	char err[160];

	if (!k8s_lua_json_decode(L, s, len, err, sizeof err))
		return luaL_error(L, "k8s.json.decode: %s", err);
	return 1;
}

/* --------------------------------------------------------------- encoder */

typedef struct {
	lua_State *L;
	char *buf;
	size_t len, cap;
	int mt;      /* absolute index of the array metatable */
	int jsontype; /* absolute index of the string "__jsontype" */
	char msg[128];
	char path[256]; /* built from the innermost component outwards */
	size_t pathlen;
	int path_cut;
} encoder;

static int enc_grow(encoder *e, size_t n)
{
	size_t cap = e->cap ? e->cap : 1024;
	char *nb;

	while (cap - e->len < n) {
		if (cap > ((size_t)-1) / 2)
			goto oom;
		cap *= 2;
	}
	nb = (char *)realloc(e->buf, cap);
	if (!nb)
		goto oom;
	e->buf = nb;
	e->cap = cap;
	return 1;
oom:
	snprintf(e->msg, sizeof e->msg, "out of memory");
	return 0;
}

static inline int enc_reserve(encoder *e, size_t n)
{
	if (K8S_LIKELY(e->cap - e->len >= n))
		return 1;
	return enc_grow(e, n);
}

static inline int enc_put(encoder *e, const char *s, size_t n)
{
	if (!enc_reserve(e, n))
		return 0;
	memcpy(e->buf + e->len, s, n);
	e->len += n;
	return 1;
}

static inline int enc_putc(encoder *e, char c)
{
	if (!enc_reserve(e, 1))
		return 0;
	e->buf[e->len++] = c;
	return 1;
}

/* Prepends a path component; if it does not fit, the outer part is cut. */
static void enc_path(encoder *e, const char *comp, size_t n)
{
	k8s_lua_path_prepend(e->path, sizeof e->path, &e->pathlen, &e->path_cut, comp, n);
}

static size_t fmt_u64(char *out, uint64_t u)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static size_t fmt_i64(char *out, int64_t v)
{
	if (v < 0) {
		out[0] = '-';
		return 1 + fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
	}
	return fmt_u64(out, (uint64_t)v);
}


static int enc_string(encoder *e, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	const char *p = s, *end = s + n;

	if (!enc_reserve(e, n + 2))
		return 0;
	e->buf[e->len++] = '"';
	while (p < end) {
		const char *q = scan_plain(p, end);
		size_t run = (size_t)(q - p);
		unsigned char c;
		char *o;

		/* run, the longest escape (6) and the closing quote */
		if (!enc_reserve(e, run + 7))
			return 0;
		memcpy(e->buf + e->len, p, run);
		e->len += run;
		if (q == end)
			break;
		c = (unsigned char)*q;
		o = e->buf + e->len;
		o[0] = '\\';
		switch (c) {
		case '"': o[1] = '"'; e->len += 2; break;
		case '\\': o[1] = '\\'; e->len += 2; break;
		case '\b': o[1] = 'b'; e->len += 2; break;
		case '\f': o[1] = 'f'; e->len += 2; break;
		case '\n': o[1] = 'n'; e->len += 2; break;
		case '\r': o[1] = 'r'; e->len += 2; break;
		case '\t': o[1] = 't'; e->len += 2; break;
		default:
			o[1] = 'u';
			o[2] = '0';
			o[3] = '0';
			o[4] = hexd[c >> 4];
			o[5] = hexd[c & 15];
			e->len += 6;
			break;
		}
		p = q + 1;
	}
	if (!enc_reserve(e, 1))
		return 0;
	e->buf[e->len++] = '"';
	return 1;
}

static int enc_double(encoder *e, double v)
{
	char tmp[40];
	int64_t iv;
	size_t n;

	if (k8s_lua_double_is_int53(v, &iv)) {
		n = fmt_i64(tmp, iv);
	} else if (isnan(v) || isinf(v)) {
		snprintf(e->msg, sizeof e->msg, "cannot encode %s",
				 isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf"));
		return 0;
	} else {
		int k = k8s_lua_fmt_double(tmp, sizeof tmp, v);
		if (k < 0) {
			snprintf(e->msg, sizeof e->msg, "cannot format number");
			return 0;
		}
		n = (size_t)k;
	}
	return enc_put(e, tmp, n);
}

static int enc_number(encoder *e, int idx)
{
#if K8S_LUA_HAS_INTEGERS
	if (lua_isinteger(e->L, idx)) {
		char tmp[24];
		return enc_put(e, tmp, fmt_i64(tmp, (int64_t)lua_tointeger(e->L, idx)));
	}
#endif
	return enc_double(e, (double)lua_tonumber(e->L, idx));
}

static int enc_value(encoder *e, int idx, int depth);

static int enc_table(encoder *e, int idx, int depth)
{
	lua_State *L = e->L;
	size_t n, i;
	int first = 1;

	if (depth >= K8S_LUA_JSON_MAX_DEPTH) {
		snprintf(e->msg, sizeof e->msg,
				 "nesting deeper than %d (reference cycle?)",
				 K8S_LUA_JSON_MAX_DEPTH);
		return 0;
	}
	if (!lua_checkstack(L, 6)) {
		snprintf(e->msg, sizeof e->msg, "Lua stack overflow");
		return 0;
	}
	if (k8s_lua_table_kind(e->L, idx, e->mt, e->jsontype, &n) == K8S_LUA_KIND_ARRAY) {
		if (!enc_putc(e, '['))
			return 0;
		for (i = 1; i <= n; i++) {
			if (i > 1 && !enc_putc(e, ','))
				return 0;
			lua_rawgeti(L, idx, (int)i);
			if (lua_isnil(L, -1)) {
				if (!enc_put(e, "null", 4))
					goto fail_elem;
			} else if (!enc_value(e, lua_gettop(L), depth + 1)) {
				char comp[32];
				comp[0] = '[';
				size_t k = 1 + fmt_u64(comp + 1, (uint64_t)i);
				comp[k++] = ']';
				enc_path(e, comp, k);
				goto fail_elem;
			}
			lua_pop(L, 1);
		}
		return enc_putc(e, ']');
	fail_elem:
		lua_pop(L, 1);
		return 0;
	}

	if (!enc_putc(e, '{'))
		return 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		/* key at -2, value at -1 */
		int kt = lua_type(L, -2);
		if (!first && !enc_putc(e, ','))
			goto fail_pair;
		first = 0;
		if (kt == LUA_TSTRING) {
			size_t kl;
			const char *ks = lua_tolstring(L, -2, &kl);
			if (!enc_string(e, ks, kl))
				goto fail_pair;
		} else if (kt == LUA_TNUMBER) {
			char tmp[32];
			size_t k;
			int64_t iv;
#if K8S_LUA_HAS_INTEGERS
			if (lua_isinteger(L, -2)) {
				iv = (int64_t)lua_tointeger(L, -2);
			} else
#endif
			if (!k8s_lua_double_is_int53((double)lua_tonumber(L, -2), &iv)) {
				snprintf(e->msg, sizeof e->msg,
						 "cannot encode non-integer number as object key");
				goto fail_pair;
			}
			tmp[0] = '"';
			k = 1 + fmt_i64(tmp + 1, iv);
			tmp[k++] = '"';
			if (!enc_put(e, tmp, k))
				goto fail_pair;
		} else {
			snprintf(e->msg, sizeof e->msg,
					 "cannot encode table key of type %s",
					 lua_typename(L, kt));
			goto fail_pair;
		}
		if (!enc_putc(e, ':'))
			goto fail_pair;
		if (!enc_value(e, lua_gettop(L), depth + 1)) {
			char comp[72];
			size_t k;
			comp[0] = '.';
			if (kt == LUA_TSTRING) {
				size_t kl;
				const char *ks = lua_tolstring(L, -2, &kl);
				if (kl > 64)
					kl = 64;
				memcpy(comp + 1, ks, kl);
				k = 1 + kl;
			} else {
				int64_t iv = 0;
#if K8S_LUA_HAS_INTEGERS
				if (lua_isinteger(L, -2))
					iv = (int64_t)lua_tointeger(L, -2);
				else
#endif
					k8s_lua_double_is_int53((double)lua_tonumber(L, -2), &iv);
				k = 1 + fmt_i64(comp + 1, iv);
			}
			enc_path(e, comp, k);
			goto fail_pair;
		}
		lua_pop(L, 1);
	}
	return enc_putc(e, '}');
fail_pair:
	lua_pop(L, 2);
	return 0;
}

static int enc_value(encoder *e, int idx, int depth)
{
	lua_State *L = e->L;

	switch (lua_type(L, idx)) {
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		return enc_string(e, s, n);
	}
	case LUA_TNUMBER:
		return enc_number(e, idx);
	case LUA_TTABLE:
		return enc_table(e, idx, depth);
	case LUA_TBOOLEAN:
		return lua_toboolean(L, idx) ? enc_put(e, "true", 4)
									 : enc_put(e, "false", 5);
	case LUA_TNIL:
		return enc_put(e, "null", 4);
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == NULL)
			return enc_put(e, "null", 4);
		snprintf(e->msg, sizeof e->msg,
				 "cannot encode lightuserdata (only NULL, i.e. null)");
		return 0;
	default:
		snprintf(e->msg, sizeof e->msg, "cannot encode %s",
				 lua_typename(L, lua_type(L, idx)));
		return 0;
	}
}

int k8s_lua_json_encode(lua_State *L, int idx, char **out, size_t *outlen,
						char *err, size_t errlen)
{
	encoder e;
	int top, ok;

    *out = NULL;
    *outlen = 0;
	idx = k8s_lua_absindex(L, idx);
	if (!lua_checkstack(L, 8)) {
		k8s_lua_set_err(err, errlen, "Lua stack overflow");
		return 0;
	}
	top = lua_gettop(L);
	/* Everything that may allocate Lua memory happens before malloc. */
	k8s_lua_json_push_array_mt(L);
	lua_pushliteral(L, "__jsontype");
	memset(&e, 0, sizeof e);
	e.L = L;
	e.mt = top + 1;
	e.jsontype = top + 2;

	ok = enc_value(&e, idx, 0) && enc_reserve(&e, 1);
	lua_settop(L, top);
	if (!ok) {
		free(e.buf);
		if (e.pathlen == 0)
			k8s_lua_set_err(err, errlen, "%s", e.msg);
		else
			k8s_lua_set_err(err, errlen, "%s at %s%.*s", e.msg, e.path_cut ? "..." : "",
					(int)e.pathlen, e.path);
		return 0;
	}
	e.buf[e.len] = '\0';
    *out = e.buf;
    *outlen = e.len;
	return 1;
}

int k8s_lua_json_l_encode(lua_State *L)
{
	char err[512];
	char *out;
	size_t n;

	luaL_checkany(L, 1);
	lua_settop(L, 1);
	luaL_checkstack(L, 8, "k8s.json.encode");
	/* Pushed before encoding so nothing can raise while `out` is live
     * except inside the protected call below. */
	k8s_lua_push_owned_prepare(L);
	k8s_lua_json_push_array_mt(L);
	lua_pop(L, 1);
	if (!k8s_lua_json_encode(L, 1, &out, &n, err, sizeof err))
		return luaL_error(L, "k8s.json.encode: %s", err);
	return k8s_lua_push_owned(L, out, n);
}
