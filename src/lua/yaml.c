/*
 * yaml.c - YAML codec for the Lua C API (Lua 5.4 and LuaJIT, one source).
 * See yaml.h for the mapping rules.
 *
 * Decoder: libyaml's event parser.  Values are built on the Lua stack as
 * the events arrive (an open container's table and, in a mapping, its
 * pending key), so nesting needs no C recursion.  Anchored values are kept
 * in a table per document; an alias pushes a deep copy, counted against
 * go-yaml v2's alias budget.  The decode runs under lua_pcall while the
 * calling C frame owns libyaml's state, so a memory error raised by Lua
 * frees it.  Scalars resolve as go-yaml v2 resolve.go does (Go's ParseInt,
 * ParseUint and ParseFloat, restated here).
 *
 * Encoder: walks the value with raw access (no metamethods) and feeds
 * libyaml's emitter, also under lua_pcall.
 */
#include <yaml.h> /* libyaml; first, see yaml.h */

#include "compat.h"
#include "json.h"
#include "yaml.h"
#include "codec.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH K8S_LUA_JSON_MAX_DEPTH

#define TAG_PREFIX "tag:yaml.org,2002:"

/* ---------------------------------------------------------------- common */

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Go's utf8.ValidString: no overlong forms, surrogates or > U+10FFFF. */
static int utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + n;

	while (s < end) {
		unsigned c = *s;
		if (c < 0x80) {
			s++;
		} else if (c >= 0xC2 && c <= 0xDF) {
			if (end - s < 2 || (s[1] & 0xC0) != 0x80)
				return 0;
			s += 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
			if (end - s < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
				return 0;
			s += 3;
		} else if (c >= 0xF0 && c <= 0xF4) {
			unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
			if (end - s < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 ||
				(s[3] & 0xC0) != 0x80)
				return 0;
			s += 4;
		} else {
			return 0;
		}
	}
	return 1;
}

/* ------------------------------------------------------------ resolution */

/* What a scalar resolves to (go-yaml v2's resolve tags). */
enum { R_STR, R_NULL, R_BOOL, R_INT, R_UINT, R_FLOAT, R_TIMESTAMP, R_BINARY };

typedef struct {
	int kind;
	int b;
	int64_t i;
	uint64_t u;
	double f;
} rval;

static const char *const rtag_name[] = {"!!str",   "!!null",  "!!bool",
										"!!int",   "!!int",   "!!float",
										"!!timestamp", "!!binary"};

/* Explicit tags of scalars. */
enum { T_NONE, T_STR, T_NULL, T_BOOL, T_INT, T_FLOAT, T_TIMESTAMP, T_BINARY,
	   T_MERGE, T_OTHER };

static int tag_kind(const char *tag)
{
	static const struct { const char *name; int kind; } core[] = {
		{"str", T_STR},     {"null", T_NULL},   {"bool", T_BOOL},
		{"int", T_INT},     {"float", T_FLOAT}, {"timestamp", T_TIMESTAMP},
		{"binary", T_BINARY}, {"merge", T_MERGE},
	};
	size_t i;

	if (!tag)
		return T_NONE;
	if (strncmp(tag, TAG_PREFIX, sizeof TAG_PREFIX - 1) != 0)
		return T_OTHER;
	tag += sizeof TAG_PREFIX - 1;
	for (i = 0; i < sizeof core / sizeof *core; i++)
		if (strcmp(tag, core[i].name) == 0)
			return core[i].kind;
	return T_OTHER;
}

/* go-yaml v2's resolveMap: the words and symbols looked up as they are. */
static int resolve_word(const char *s, size_t n, rval *r)
{
	static const struct { const char *w; int kind, b; double f; } words[] = {
		{"y", R_BOOL, 1, 0}, {"Y", R_BOOL, 1, 0}, {"yes", R_BOOL, 1, 0},
		{"Yes", R_BOOL, 1, 0}, {"YES", R_BOOL, 1, 0}, {"true", R_BOOL, 1, 0},
		{"True", R_BOOL, 1, 0}, {"TRUE", R_BOOL, 1, 0}, {"on", R_BOOL, 1, 0},
		{"On", R_BOOL, 1, 0}, {"ON", R_BOOL, 1, 0},
		{"n", R_BOOL, 0, 0}, {"N", R_BOOL, 0, 0}, {"no", R_BOOL, 0, 0},
		{"No", R_BOOL, 0, 0}, {"NO", R_BOOL, 0, 0}, {"false", R_BOOL, 0, 0},
		{"False", R_BOOL, 0, 0}, {"FALSE", R_BOOL, 0, 0}, {"off", R_BOOL, 0, 0},
		{"Off", R_BOOL, 0, 0}, {"OFF", R_BOOL, 0, 0},
		{"", R_NULL, 0, 0}, {"~", R_NULL, 0, 0}, {"null", R_NULL, 0, 0},
		{"Null", R_NULL, 0, 0}, {"NULL", R_NULL, 0, 0},
		{".nan", R_FLOAT, 0, NAN}, {".NaN", R_FLOAT, 0, NAN}, {".NAN", R_FLOAT, 0, NAN},
		{".inf", R_FLOAT, 0, INFINITY}, {".Inf", R_FLOAT, 0, INFINITY},
		{".INF", R_FLOAT, 0, INFINITY}, {"+.inf", R_FLOAT, 0, INFINITY},
		{"+.Inf", R_FLOAT, 0, INFINITY}, {"+.INF", R_FLOAT, 0, INFINITY},
		{"-.inf", R_FLOAT, 0, -INFINITY}, {"-.Inf", R_FLOAT, 0, -INFINITY},
		{"-.INF", R_FLOAT, 0, -INFINITY},
	};
	size_t i;

	if (n > 5)
		return 0;
	for (i = 0; i < sizeof words / sizeof *words; i++) {
		if (words[i].w[0] == (n ? s[0] : 0) && strlen(words[i].w) == n &&
			memcmp(words[i].w, s, n) == 0) {
			r->kind = words[i].kind;
			r->b = words[i].b;
			r->f = words[i].f;
			return 1;
		}
	}
	return 0;
}

/* Go's strconv.ParseUint(s, 0, 64) without underscores. */
static int go_parse_uint(const char *s, size_t n, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	size_t i = 0;

	if (n == 0)
		return 0;
	if (s[0] == '0') {
		char c = n >= 3 ? (char)(s[1] | 0x20) : 0;
		if (c == 'b' || c == 'o' || c == 'x') {
			base = c == 'b' ? 2 : c == 'o' ? 8 : 16;
			i = 2;
		} else {
			base = 8;
			i = 1;
		}
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			d = (unsigned)((c | 0x20) - 'a' + 10);
		else
			return 0;
		if (d >= base)
			return 0;
		if (v > (UINT64_MAX - d) / base)
			return 0; /* out of range */
		v = v * base + d;
	}
    *out = v;
	return 1;
}

/* Go's strconv.ParseInt(s, 0, 64) without underscores. */
static int go_parse_int(const char *s, size_t n, int64_t *out)
{
	int neg = 0;
	uint64_t u;

	if (n && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		s++;
		n--;
	}
	if (!go_parse_uint(s, n, &u))
		return 0;
	if (!neg && u > (uint64_t)INT64_MAX)
		return 0;
	if (neg && u > (uint64_t)INT64_MAX + 1)
		return 0;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 1;
}

/* go-yaml's yamlStyleFloat:
 * ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int yaml_style_float(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < n && s[i] == '.') {
		i++;
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	} else {
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
		if (i < n && s[i] == '.')
			for (i++; i < n && is_digit(s[i]); i++)
				;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	return i == n;
}

/* Digits with single underscores between them, from s[*i]. */
static int digits_us(const char *s, size_t n, size_t *i)
{
	if (*i >= n || !is_digit(s[*i]))
		return 0;
	for ((*i)++; *i < n; (*i)++) {
		if (is_digit(s[*i]))
			continue;
		if (s[*i] == '_' && *i + 1 < n && is_digit(s[*i + 1]))
			continue;
		break;
	}
	return 1;
}

/* Go's strconv.ParseFloat on a text that starts with '.' (".5", ".1_5e3"). */
static int dot_float_syntax(const char *s, size_t n)
{
	size_t i = 1;

	if (!digits_us(s, n, &i))
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!digits_us(s, n, &i))
			return 0;
	}
	return i == n;
}

/* Parses a decimal float (no underscores, already checked); overflow to
 * infinity is a failure, as in Go. */
static int parse_double(const char *s, size_t n, double *out)
{
	char tmp[128];
	char *buf = n < sizeof tmp ? tmp : (char *)malloc(n + 1);
	double v;

	if (!buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = k8s_lua_strtod_c(buf, NULL);
	if (buf != tmp)
		free(buf);
	if (isinf(v))
		return 0;
    *out = v;
	return 1;
}

static int num_run(const char *s, size_t n, size_t *i, size_t min, size_t max, int *v)
{
	size_t start = *i;
	int x = 0;

	while (*i < n && is_digit(s[*i]) && *i - start < max)
		x = x * 10 + (s[(*i)++] - '0');
	if (*i - start < min)
		return 0;
    *v = x;
	return 1;
}

/* A timestamp in one of go-yaml v2's formats (Go's time.Parse with
 * "2006-1-2T15:4:5.999999999Z07:00", the same with 't', "2006-1-2
 * 15:4:5.999999999" and "2006-1-2"), fields in range. */
static int is_timestamp(const char *s, size_t n)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t i = 0;
	int y, mo, d, h, mi, sec, zh, zm, leap;
	char sep;

	if (!num_run(s, n, &i, 4, 4, &y) || i >= n || s[i++] != '-' ||
		!num_run(s, n, &i, 1, 2, &mo) || i >= n || s[i++] != '-' ||
		!num_run(s, n, &i, 1, 2, &d))
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return 0;
	if (i == n)
		return 1;
	sep = s[i++];
	if (sep != 'T' && sep != 't' && sep != ' ')
		return 0;
	if (!num_run(s, n, &i, 1, 2, &h) || i >= n || s[i++] != ':' ||
		!num_run(s, n, &i, 1, 2, &mi) || i >= n || s[i++] != ':' ||
		!num_run(s, n, &i, 1, 2, &sec) || h > 23 || mi > 59 || sec > 59)
		return 0;
	if (i < n && s[i] == '.') {
		size_t f = ++i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == f)
			return 0;
	}
	if (sep == ' ')
		return i == n;
	if (i < n && s[i] == 'Z')
		return i + 1 == n;
	if (i < n && (s[i] == '+' || s[i] == '-')) {
		i++;
		if (!num_run(s, n, &i, 2, 2, &zh) || i >= n || s[i++] != ':' ||
			!num_run(s, n, &i, 2, 2, &zm) || zh > 24 || zm > 59)
			return 0;
		return i == n;
	}
	return 0;
}

/* go-yaml v2's resolve() of a scalar's text (tag "" or a core tag other
 * than !!str and !!binary): the tag it resolves to, the value in r.
 * with_ts: try timestamps (untagged or !!timestamp). */
static int resolve(const char *s, size_t n, int with_ts, rval *r)
{
	char hint, tmp[128];
	char *plain;
	size_t i, k;
	int ok;

	memset(r, 0, sizeof *r);
	r->kind = R_STR;
	if (n == 0) {
		hint = 'N';
	} else {
		unsigned char c = (unsigned char)s[0];
		if (c == '+' || c == '-')
			hint = 'S';
		else if (c >= '0' && c <= '9')
			hint = 'D';
		else if (strchr("yYnNtTfFoO~", c) && c)
			hint = 'M';
		else if (c == '.')
			hint = '.';
		else
			return R_STR;
	}
	if (resolve_word(s, n, r))
		return r->kind;
	if (hint == '.') {
		if (dot_float_syntax(s, n)) {
			/* drop the underscores */
			plain = n < sizeof tmp ? tmp : (char *)malloc(n);
			if (!plain)
				return R_STR;
			for (i = k = 0; i < n; i++)
				if (s[i] != '_')
					plain[k++] = s[i];
			ok = parse_double(plain, k, &r->f);
			if (plain != tmp)
				free(plain);
			if (ok) {
				r->kind = R_FLOAT;
				return R_FLOAT;
			}
		}
		return R_STR;
	}
	if (hint != 'D' && hint != 'S')
		return R_STR;
	if (with_ts && is_timestamp(s, n)) {
		r->kind = R_TIMESTAMP;
		return R_TIMESTAMP;
	}
	plain = n < sizeof tmp ? tmp : (char *)malloc(n);
	if (!plain)
		return R_STR;
	for (i = k = 0; i < n; i++)
		if (s[i] != '_')
			plain[k++] = s[i];
	if (go_parse_int(plain, k, &r->i)) {
		r->kind = R_INT;
	} else if (go_parse_uint(plain, k, &r->u)) {
		r->kind = R_UINT;
	} else if (yaml_style_float(plain, k) && parse_double(plain, k, &r->f)) {
		r->kind = R_FLOAT;
	}
	/* go-yaml's separate 0b/-0b cases parse what ParseInt(_, 0, 64) did */
	if (plain != tmp)
		free(plain);
	return r->kind;
}

/* go-yaml's isBase60Float: ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
 * (not read as numbers, but quoted on the way out). */
static int is_base60(const char *s, size_t n)
{
	size_t i = 0, d;
	int groups = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i >= n || !is_digit(s[i]))
		return 0;
	while (i < n && (is_digit(s[i]) || s[i] == '_'))
		i++;
	while (i < n && s[i] == ':') {
		i++;
		d = i;
		while (i < n && is_digit(s[i]) && i - d < 2)
			i++;
		if (i == d || (i - d == 2 && s[d] > '5'))
			return 0;
		groups++;
	}
	if (!groups)
		return 0;
	if (i < n && s[i] == '.')
		for (i++; i < n && (is_digit(s[i]) || s[i] == '_'); i++)
			;
	return i == n;
}

/* Go's base64.StdEncoding.DecodeString (CR and LF ignored) into out,
 * which has room for n bytes; the decoded length or -1. */
static long base64_decode(const char *s, size_t n, unsigned char *out)
{
	unsigned char q[4];
	size_t i, k = 0, o = 0;
	int pad = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int v;
		if (c == '\r' || c == '\n')
			continue;
		if (pad && c != '=')
			return -1;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=' && k >= 2) {
			pad++;
			v = 0;
		} else
			return -1;
		q[k++] = (unsigned char)v;
		if (k == 4) {
			if (pad > 2 || (pad == 1 && q[3] != 0))
				return -1;
			out[o++] = (unsigned char)(q[0] << 2 | q[1] >> 4);
			if (pad < 2)
				out[o++] = (unsigned char)(q[1] << 4 | q[2] >> 2);
			if (pad < 1)
				out[o++] = (unsigned char)(q[2] << 6 | q[3]);
			k = 0;
			if (pad)
				pad = 3; /* nothing may follow */
		}
	}
	if (k != 0)
		return -1;
	return (long)o;
}

/* Go's strconv.FormatFloat(float64(float32(x)), 'g', -1, 32), as
 * sigs.k8s.io/yaml writes a float mapping key, with .inf/-.inf/.nan. */
static void fmt_float_key(double x, char *out, size_t cap)
{
	char tmp[40], digs[16];
	int prec, nd = 0, e, dp, i, k = 0;
	float f;
	char *p;

	if (isnan(x)) {
		snprintf(out, cap, ".nan");
		return;
	}
	/* beyond FLT_MAX plus half an ulp rounds to infinity */
	if (fabs(x) >= 3.4028235677973366e38) {
		snprintf(out, cap, x > 0 ? ".inf" : "-.inf");
		return;
	}
	f = fabs(x) > FLT_MAX ? (x > 0 ? FLT_MAX : -FLT_MAX) : (float)x;
	if (f == 0) {
		snprintf(out, cap, signbit(f) ? "-0" : "0");
		return;
	}
	for (prec = 1; prec <= 9; prec++) {
		k8s_lua_snprintf_c(tmp, sizeof tmp, "%.*e", prec - 1, (double)f);
		if (k8s_lua_strtof_c(tmp) == f)
			break;
	}
	p = tmp;
	if (*p == '-')
		out[k++] = *p++;
	for (; *p && *p != 'e'; p++)
		if (is_digit(*p) && nd < (int)sizeof digs)
			digs[nd++] = *p;
	e = *p == 'e' ? atoi(p + 1) : 0;
	while (nd > 1 && digs[nd - 1] == '0')
		nd--;
	dp = e + 1;
	if (e < -4 || e >= 6) {
		out[k++] = digs[0];
		if (nd > 1) {
			out[k++] = '.';
			for (i = 1; i < nd; i++)
				out[k++] = digs[i];
		}
		snprintf(out + k, cap - (size_t)k, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
		return;
	}
	if (dp > 0) {
		for (i = 0; i < dp; i++)
			out[k++] = i < nd ? digs[i] : '0';
	} else {
		out[k++] = '0';
	}
	if (nd > dp) {
		out[k++] = '.';
		for (i = dp; i < nd; i++)
			out[k++] = i < 0 ? '0' : digs[i];
	}
	out[k] = '\0';
}

/* --------------------------------------------------------------- decoder */

/* Stack slots of decode_run (a fresh frame under lua_pcall). */
enum { S_CTX = 1, S_MT, S_DOCS, S_ANCHORS };

enum { F_SEQ, F_MAP };

/* Entries kept on the Lua stack until their container ends (then its
 * table is made with the exact size, as json.c does); beyond these, or with
 * a merge key, the table is made and filled directly. */
#define PEND_MAX 64
#define PEND_BUDGET 2000

typedef struct {
	int kind;
	int slot;         /* the table, or nil while its entries are pending */
	int n;            /* elements, or key/value pairs, so far */
	int direct;       /* the table exists and takes entries as they come */
	int want_value;   /* F_MAP: the key (or the merge marker) is on top */
	int merge;        /* F_MAP: the pending key is << */
	char *anchor;     /* malloc'd, or NULL */
} frame;

typedef struct {
	lua_State *L;
	const char *text;
	size_t len;
	yaml_parser_t parser;
	yaml_event_t ev;
	int ev_live;
	frame *frames;
	int nframes, cap;
	int doc;          /* documents started */
	int in_doc;
	size_t line;      /* 1-based line of the current event */
	long decode_count, alias_count; /* this document's */
	long stream_count, stream_alias; /* the whole stream's */
	int failed;
	char msg[200];
} ydec;

/* The value of an anchor whose node is still open. */
static const char open_anchor = 0;

#if defined(__GNUC__)
static int dfail(ydec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

static int dfail(ydec *d, const char *fmt, ...)
{
	char m[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	snprintf(d->msg, sizeof d->msg, "document %d, line %zu: %s", d->doc ? d->doc : 1,
			 d->line, m);
	d->failed = 1;
	return 0;
}

/* go-yaml v2's allowedAliasRatio and its check in decoder.unmarshal. */
static double allowed_alias_ratio(long count)
{
	if (count <= 400000)
		return 0.99;
	if (count >= 4000000)
		return 0.10;
	return 0.99 - 0.89 * ((double)(count - 400000) / 3600000.0);
}

static int excessive(long aliases, long count)
{
	return aliases > 100 && count > 1000 &&
		   (double)aliases / (double)count > allowed_alias_ratio(count);
}

/* Counts a node as go-yaml v2's decoder does; the same budget also holds
 * for the stream as a whole (kubectl decodes each document on its own, but
 * many documents must not multiply the bound). */
static int count_node(ydec *d, int alias)
{
	d->decode_count++;
	d->stream_count++;
	if (alias) {
		d->alias_count++;
		d->stream_alias++;
	}
	if (excessive(d->alias_count, d->decode_count) ||
		excessive(d->stream_alias, d->stream_count))
		return dfail(d, "document contains excessive aliasing");
	return 1;
}

static int is_seq(lua_State *L, int idx)
{
	int r;

	if (!lua_getmetatable(L, idx))
		return 0;
	r = lua_rawequal(L, -1, S_MT);
	lua_pop(L, 1);
	return r;
}

static int is_map(lua_State *L, int idx)
{
	return lua_type(L, idx) == LUA_TTABLE && !is_seq(L, idx);
}

static frame *top_frame(ydec *d)
{
	return d->nframes ? &d->frames[d->nframes - 1] : NULL;
}

static int at_key(ydec *d)
{
	frame *f = top_frame(d);
	return f && f->kind == F_MAP && !f->want_value;
}

/* Replaces the scalar value on top (resolved as r) with its mapping key,
 * as sigs.k8s.io/yaml converts keys. */
static int key_from_rval(ydec *d, const rval *r, const char *text)
{
	lua_State *L = d->L;
	char tmp[48];

	switch (r->kind) {
	case R_STR:
	case R_TIMESTAMP:
	case R_BINARY:
		return 1;
	case R_BOOL:
		lua_pop(L, 1);
		lua_pushstring(L, r->b ? "true" : "false");
		return 1;
	case R_INT:
		snprintf(tmp, sizeof tmp, "%lld", (long long)r->i);
		break;
	case R_FLOAT:
		fmt_float_key(r->f, tmp, sizeof tmp);
		break;
	case R_UINT:
		return dfail(d, "unsupported mapping key %.40s (beyond int64)", text);
	default:
		return dfail(d, "unsupported mapping key: null");
	}
	lua_pop(L, 1);
	lua_pushstring(L, tmp);
	return 1;
}

/* The same for a value that came from an alias. */
static int key_from_value(ydec *d)
{
	lua_State *L = d->L;
	char tmp[48];

	switch (lua_type(L, -1)) {
	case LUA_TSTRING:
		return 1;
	case LUA_TBOOLEAN:
		lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
		lua_remove(L, -2);
		return 1;
	case LUA_TNUMBER: {
		double v = (double)lua_tonumber(L, -1);
#if K8S_LUA_HAS_INTEGERS
		if (lua_isinteger(L, -1))
			snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointeger(L, -1));
		else
#endif
		if (v == floor(v) && fabs(v) < 9007199254740992.0)
			snprintf(tmp, sizeof tmp, "%lld", (long long)v);
		else
			fmt_float_key(v, tmp, sizeof tmp);
		lua_pop(L, 1);
		lua_pushstring(L, tmp);
		return 1;
	}
	case LUA_TTABLE:
		return dfail(d, "a mapping or sequence cannot be a mapping key");
	default:
		return dfail(d, "unsupported mapping key: null");
	}
}

/* A number that JSON cannot carry. */
static int check_finite(ydec *d)
{
	lua_State *L = d->L;

	if (lua_type(L, -1) == LUA_TNUMBER) {
		double v = (double)lua_tonumber(L, -1);
		if (isnan(v) || isinf(v))
			return dfail(d, "%s is not allowed (JSON has no infinity or NaN)",
						 isnan(v) ? ".nan" : v > 0 ? ".inf" : "-.inf");
	}
	return 1;
}

/* Sets the keys of the mapping at src into the mapping of f (later ones
 * replace earlier ones, as go-yaml v2's merge decodes into the map). */
static void merge_from(lua_State *L, int src, int dst)
{
	lua_pushnil(L);
	while (lua_next(L, src)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, dst);
	}
}

static int do_merge(ydec *d, frame *f, int from_alias)
{
	lua_State *L = d->L;
	int v = lua_gettop(L), i, n;

	if (!lua_checkstack(L, 6))
		return dfail(d, "Lua stack overflow");
	if (is_map(L, v)) {
		merge_from(L, v, f->slot);
	} else if (is_seq(L, v) && !from_alias) {
		/* backwards: earlier maps take precedence */
		n = (int)K8S_LUA_RAWLEN(L, v);
		for (i = n; i >= 1; i--) {
			lua_rawgeti(L, v, i);
			if (!is_map(L, -1))
				return dfail(d, "map merge requires map or sequence of maps as the value");
			merge_from(L, lua_gettop(L), f->slot);
			lua_pop(L, 1);
		}
	} else {
		return dfail(d, "map merge requires map or sequence of maps as the value");
	}
	lua_settop(L, f->slot);
	f->want_value = 0;
	f->merge = 0;
	return 1;
}

/* Makes the table of f from its pending entries (sized for them, or for
 * twice as many when more are to come), keeping the `extra` values above
 * them. */
static void make_table(ydec *d, frame *f, int extra, int final)
{
	lua_State *L = d->L;
	int n = f->n, size = final ? n : 2 * n, cnt, i;

	if (f->kind == F_SEQ) {
		cnt = n;
		lua_createtable(L, size, 0);
		lua_replace(L, f->slot);
		for (i = 1; i <= n; i++) {
			lua_pushvalue(L, f->slot + i);
			lua_rawseti(L, f->slot, i);
		}
		lua_pushvalue(L, S_MT);
		lua_setmetatable(L, f->slot);
	} else {
		cnt = 2 * n;
		lua_createtable(L, 0, size);
		lua_replace(L, f->slot);
		/* in document order, so that the last duplicate key wins */
		for (i = 0; i < n; i++) {
			lua_pushvalue(L, f->slot + 1 + 2 * i);
			lua_pushvalue(L, f->slot + 2 + 2 * i);
			lua_rawset(L, f->slot);
		}
	}
	for (i = 1; i <= extra; i++) {
		lua_pushvalue(L, f->slot + cnt + i);
		lua_replace(L, f->slot + i);
	}
	lua_settop(L, f->slot + extra);
	f->direct = 1;
}

/* The value on top of the stack is complete: hands it to its parent (a
 * key, already converted, stays on the stack until its value comes). */
static int deliver(ydec *d, int from_alias)
{
	lua_State *L = d->L;
	frame *f = top_frame(d);

	if (!f) {
		lua_rawseti(L, S_DOCS, d->doc);
		return 1;
	}
	if (f->kind == F_MAP && !f->want_value) {
		f->want_value = 1;
		return 1;
	}
	if (f->kind == F_MAP) {
		f->want_value = 0;
		if (f->merge) {
			if (!f->direct)
				make_table(d, f, 2, 0);
			return do_merge(d, f, from_alias);
		}
	}
	f->n++;
	if (f->direct) {
		if (f->kind == F_SEQ)
			lua_rawseti(L, f->slot, f->n);
		else
			lua_rawset(L, f->slot);
	} else if (f->n >= PEND_MAX || lua_gettop(L) > PEND_BUDGET) {
		make_table(d, f, 0, 0);
	}
	return 1;
}

static void set_anchor(ydec *d, const char *anchor, int idx)
{
	lua_State *L = d->L;

	idx = k8s_lua_absindex(L, idx);
	lua_pushstring(L, anchor);
	lua_pushvalue(L, idx);
	lua_rawset(L, S_ANCHORS);
}

/* Pushes the scalar's value (resolving plain scalars and core tags). */
static int push_scalar(ydec *d, const char *v, size_t n, rval *r)
{
	lua_State *L = d->L;
	const char *tag = (const char *)d->ev.data.scalar.tag;
	int tk = tag_kind(tag), rk;

	memset(r, 0, sizeof *r);
	if ((tk == T_NONE && !d->ev.data.scalar.plain_implicit) || tk == T_STR ||
		tk == T_MERGE || tk == T_OTHER) {
		r->kind = R_STR;
	} else if (tk == T_BINARY) {
		unsigned char *buf = (unsigned char *)lua_newuserdata(L, n + 1);
		long m = base64_decode(v, n, buf);
		if (m < 0)
			return dfail(d, "!!binary value contains invalid base64 data");
		lua_pushlstring(L, (const char *)buf, (size_t)m);
		lua_remove(L, -2);
		r->kind = R_BINARY;
		return 1;
	} else {
		rk = resolve(v, n, tk == T_NONE || tk == T_TIMESTAMP, r);
		if (tk == T_FLOAT && rk == R_INT) {
			r->kind = R_FLOAT;
			r->f = (double)r->i;
		} else if (tk != T_NONE &&
				   !((tk == T_NULL && rk == R_NULL) || (tk == T_BOOL && rk == R_BOOL) ||
					 (tk == T_INT && (rk == R_INT || rk == R_UINT)) ||
					 (tk == T_FLOAT && rk == R_FLOAT) ||
					 (tk == T_TIMESTAMP && rk == R_TIMESTAMP))) {
			static const char *const tname[] = {"", "!!str", "!!null", "!!bool", "!!int",
												"!!float", "!!timestamp"};
			return dfail(d, "cannot decode %s `%.40s` as a %s", rtag_name[rk], v,
						 tname[tk]);
		}
	}
	switch (r->kind) {
	case R_NULL:
		lua_pushlightuserdata(L, NULL);
		break;
	case R_BOOL:
		lua_pushboolean(L, r->b);
		break;
	case R_INT:
#if K8S_LUA_HAS_INTEGERS
		lua_pushinteger(L, (lua_Integer)r->i);
#else
		lua_pushnumber(L, (lua_Number)r->i);
#endif
		break;
	case R_UINT:
		lua_pushnumber(L, (lua_Number)r->u);
		break;
	case R_FLOAT:
		lua_pushnumber(L, (lua_Number)r->f);
		break;
	default:
		lua_pushlstring(L, v, n);
		break;
	}
	return 1;
}

static int on_scalar(ydec *d)
{
	lua_State *L = d->L;
	const char *v = (const char *)d->ev.data.scalar.value;
	const char *anchor = (const char *)d->ev.data.scalar.anchor;
	size_t n = d->ev.data.scalar.length;
	int key = at_key(d);
	rval r;

	if (!lua_checkstack(L, 4))
		return dfail(d, "Lua stack overflow");
	if (key && n == 2 && v[0] == '<' && v[1] == '<' &&
		(d->ev.data.scalar.plain_implicit ||
		 tag_kind((const char *)d->ev.data.scalar.tag) == T_MERGE)) {
		frame *f = top_frame(d);
		if (anchor) {
			lua_pushliteral(L, "<<");
			set_anchor(d, anchor, -1);
			lua_pop(L, 1);
		}
		lua_pushboolean(L, 0); /* placeholder for the key */
		f->want_value = 1;
		f->merge = 1;
		return 1;
	}
	if (!count_node(d, 0) || !push_scalar(d, v, n, &r))
		return 0;
	if (anchor)
		set_anchor(d, anchor, -1);
	if (key ? !key_from_rval(d, &r, v) : !check_finite(d))
		return 0;
	return deliver(d, 0);
}

static int on_start(ydec *d, int kind)
{
	lua_State *L = d->L;
	const char *anchor = (const char *)(kind == F_SEQ ? d->ev.data.sequence_start.anchor
													  : d->ev.data.mapping_start.anchor);
	frame *f;

	if (at_key(d))
		return dfail(d, "a mapping or sequence cannot be a mapping key");
	if (d->nframes >= MAX_DEPTH)
		return dfail(d, "nesting deeper than %d", MAX_DEPTH);
	if (!count_node(d, 0))
		return 0;
	if (!lua_checkstack(L, 6))
		return dfail(d, "Lua stack overflow");
	if (d->nframes == d->cap) {
		int cap = d->cap ? d->cap * 2 : 16;
		frame *nf = (frame *)realloc(d->frames, (size_t)cap * sizeof *nf);
		if (!nf)
			return dfail(d, "out of memory");
		d->frames = nf;
		d->cap = cap;
	}
	lua_pushnil(L); /* the table, once its entries are in */
	f = &d->frames[d->nframes];
	f->kind = kind;
	f->slot = lua_gettop(L);
	f->n = 0;
	f->direct = 0;
	f->want_value = 0;
	f->merge = 0;
	f->anchor = NULL;
	if (anchor && !(f->anchor = strdup(anchor)))
		return dfail(d, "out of memory");
	d->nframes++;
	if (anchor) {
		lua_pushlightuserdata(L, (void *)&open_anchor);
		set_anchor(d, anchor, -1);
		lua_pop(L, 1);
	}
	return 1;
}

static int on_end(ydec *d)
{
	lua_State *L = d->L;
	frame *f = top_frame(d);

	if (!f)
		return dfail(d, "unbalanced events");
	if (!f->direct)
		make_table(d, f, 0, 1);
	lua_settop(L, f->slot);
	if (f->anchor) {
		/* unless a node inside took the name over (go-yaml keeps the last
         * node created with it) */
		lua_pushstring(L, f->anchor);
		lua_rawget(L, S_ANCHORS);
		if (lua_touserdata(L, -1) == (void *)&open_anchor)
			set_anchor(d, f->anchor, f->slot);
		lua_pop(L, 1);
		free(f->anchor);
		f->anchor = NULL;
	}
	d->nframes--;
	return deliver(d, 0);
}

/* Pushes a deep copy of the value at src (absolute), nested `depth` deep,
 * each node counted as alias-driven. */
static int copy_value(ydec *d, int src, int depth)
{
	lua_State *L = d->L;
	int dst, i, n;

	if (!count_node(d, 1))
		return 0;
	if (lua_type(L, src) != LUA_TTABLE) {
		lua_pushvalue(L, src);
		return 1;
	}
	if (depth >= MAX_DEPTH)
		return dfail(d, "nesting deeper than %d", MAX_DEPTH);
	if (!lua_checkstack(L, 6))
		return dfail(d, "Lua stack overflow");
	if (is_seq(L, src)) {
		n = (int)K8S_LUA_RAWLEN(L, src);
		lua_createtable(L, n, 0);
		dst = lua_gettop(L);
		for (i = 1; i <= n; i++) {
			lua_rawgeti(L, src, i);
			if (!copy_value(d, dst + 1, depth + 1))
				return 0;
			lua_rawseti(L, dst, i);
			lua_pop(L, 1);
		}
		lua_pushvalue(L, S_MT);
		lua_setmetatable(L, dst);
		return 1;
	}
	n = 0;
	lua_pushnil(L);
	while (lua_next(L, src)) {
		lua_pop(L, 1);
		n++;
	}
	lua_createtable(L, 0, n);
	dst = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, src)) {
		/* the key counts as a node */
		if (!count_node(d, 1) || !copy_value(d, dst + 2, depth + 1))
			return 0;
		lua_pushvalue(L, dst + 1);
		lua_insert(L, -2);
		lua_rawset(L, dst);
		lua_pop(L, 1);
	}
	return 1;
}

static int on_alias(ydec *d)
{
	lua_State *L = d->L;
	const char *anchor = (const char *)d->ev.data.alias.anchor;
	int key = at_key(d);

	if (!count_node(d, 0))
		return 0;
	if (!lua_checkstack(L, 4))
		return dfail(d, "Lua stack overflow");
	lua_pushstring(L, anchor);
	lua_rawget(L, S_ANCHORS);
	if (lua_isnil(L, -1))
		return dfail(d, "unknown anchor '%.60s' referenced", anchor);
	if (lua_touserdata(L, -1) == (void *)&open_anchor)
		return dfail(d, "anchor '%.60s' value contains itself", anchor);
	if (!copy_value(d, lua_gettop(L), d->nframes))
		return 0;
	lua_remove(L, -2);
	if (key ? !key_from_value(d) : !check_finite(d))
		return 0;
	return deliver(d, 1);
}

static int on_event(ydec *d)
{
	lua_State *L = d->L;

	d->line = d->ev.start_mark.line + 1;
	switch (d->ev.type) {
	case YAML_DOCUMENT_START_EVENT:
		d->doc++;
		d->in_doc = 1;
		d->decode_count = 1; /* the document node */
		d->alias_count = 0;
		d->stream_count++;
		lua_newtable(L);
		lua_replace(L, S_ANCHORS);
		lua_pushlightuserdata(L, NULL);
		lua_rawseti(L, S_DOCS, d->doc);
		return 1;
	case YAML_DOCUMENT_END_EVENT:
		d->in_doc = 0;
		return 1;
	case YAML_SCALAR_EVENT:
		return on_scalar(d);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(d, F_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(d, F_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(d);
	case YAML_ALIAS_EVENT:
		return on_alias(d);
	default:
		return 1;
	}
}

/* The document a byte offset falls in: the documents a parser starts in
 * the text before it (a reader error is found ahead of the parse). */
static int doc_at_offset(const char *s, size_t off)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int docs = 0, done = 0;

	if (!yaml_parser_initialize(&p))
		return 1;
	yaml_parser_set_input_string(&p, (const unsigned char *)s, off);
	while (!done && yaml_parser_parse(&p, &ev)) {
		if (ev.type == YAML_DOCUMENT_START_EVENT)
			docs++;
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return docs ? docs : 1;
}

static void parser_fail(ydec *d)
{
	yaml_parser_t *p = &d->parser;
	const char *problem = p->problem ? p->problem : "unknown problem parsing YAML content";
	int doc = d->in_doc ? d->doc : d->doc + 1;
	size_t line;

	if (p->error == YAML_MEMORY_ERROR) {
		snprintf(d->msg, sizeof d->msg, "out of memory");
	} else if (p->error == YAML_READER_ERROR) {
		size_t off = p->problem_offset < d->len ? p->problem_offset : d->len, i;
		line = 1;
		for (i = 0; i < off; i++)
			line += d->text[i] == '\n';
		snprintf(d->msg, sizeof d->msg, "document %d, line %zu: %s",
				 doc_at_offset(d->text, off), line, problem);
	} else {
		if (p->problem_mark.line || p->problem_mark.column || p->problem_mark.index ||
			!(p->context_mark.line || p->context_mark.column))
			line = p->problem_mark.line + 1;
		else
			line = p->context_mark.line + 1;
		snprintf(d->msg, sizeof d->msg, "document %d, line %zu: %s", doc, line, problem);
	}
	d->failed = 1;
}

static int decode_run(lua_State *L)
{
	ydec *d = (ydec *)lua_touserdata(L, 1);
	int done = 0;

	d->L = L;
	lua_settop(L, S_CTX);
	k8s_lua_json_push_array_mt(L);       /* S_MT */
	lua_newtable(L);                     /* S_DOCS */
	lua_pushvalue(L, S_MT);
	lua_setmetatable(L, S_DOCS);
	lua_pushnil(L);                      /* S_ANCHORS */
	while (!done) {
		if (!yaml_parser_parse(&d->parser, &d->ev)) {
			parser_fail(d);
			break;
		}
		d->ev_live = 1;
		done = d->ev.type == YAML_STREAM_END_EVENT;
		if (!on_event(d))
			done = 1;
		yaml_event_delete(&d->ev);
		d->ev_live = 0;
	}
	if (d->failed)
		lua_pushnil(L);
	else
		lua_pushvalue(L, S_DOCS);
	return 1;
}

/* Whether the decoded value at idx holds an infinity (a JSON number beyond
 * the double range, which go-yaml reads as a string). */
static int has_inf(lua_State *L, int idx)
{
	int r = 0;

	if (lua_type(L, idx) == LUA_TNUMBER)
		return isinf((double)lua_tonumber(L, idx));
	if (lua_type(L, idx) != LUA_TTABLE || !lua_checkstack(L, 3))
		return 0;
	lua_pushnil(L);
	while (!r && lua_next(L, idx)) {
		r = has_inf(L, lua_gettop(L));
		lua_pop(L, 1);
	}
	if (r)
		lua_pop(L, 1);
	return r;
}

/* Text that may be one JSON value: its first non-blank byte opens one. */
static int looks_json(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i < len && (s[i] == '{' || s[i] == '[');
}

int k8s_lua_yaml_decode(lua_State *L, const char *s, size_t len, char *err,
						size_t errlen)
{
	ydec d;
	int rc, i;

	if (!lua_checkstack(L, 6)) {
		k8s_lua_set_err(err, errlen, "Lua stack overflow");
		return 0;
	}
	if (looks_json(s, len) && k8s_lua_json_decode(L, s, len, NULL, 0)) {
		if (has_inf(L, lua_gettop(L))) {
			lua_pop(L, 1);
			goto parse; /* as go-yaml reads it: "1e999" is a string */
		}
		lua_createtable(L, 1, 0);
		k8s_lua_json_push_array_mt(L);
		lua_setmetatable(L, -2);
		lua_insert(L, -2);
		lua_rawseti(L, -2, 1);
		return 1;
	}
parse:
	/* allocates on LuaJIT: before libyaml's state exists */
	lua_pushcfunction(L, decode_run);
	memset(&d, 0, sizeof d);
	d.text = s;
	d.len = len;
	if (!yaml_parser_initialize(&d.parser)) {
		lua_pop(L, 1);
		k8s_lua_set_err(err, errlen, "out of memory");
		return 0;
	}
	yaml_parser_set_input_string(&d.parser, (const unsigned char *)s, len);
	lua_pushlightuserdata(L, &d);
	rc = lua_pcall(L, 1, 1, 0);
	if (d.ev_live)
		yaml_event_delete(&d.ev);
	yaml_parser_delete(&d.parser);
	for (i = 0; i < d.nframes; i++)
		free(d.frames[i].anchor);
	free(d.frames);
	if (rc != 0)
		return lua_error(L); /* out of memory: raised again, nothing held */
	if (d.failed) {
		lua_pop(L, 1);
		k8s_lua_set_err(err, errlen, "%s", d.msg);
		return 0;
	}
	return 1;
}

int k8s_lua_yaml_l_decode(lua_State *L)
{
	size_t len;
	const char *s;
	char err[256];

	if (lua_type(L, 1) != LUA_TSTRING)
		return luaL_argerror(L, 1, lua_pushfstring(L, "string expected, got %s",
												   luaL_typename(L, 1)));
	s = lua_tolstring(L, 1, &len);
	if (!k8s_lua_yaml_decode(L, s, len, err, sizeof err)) {
		lua_pushnil(L);
		lua_pushfstring(L, "yaml: %s", err);
		return 2;
	}
	return 1;
}

/* --------------------------------------------------------------- encoder */

/* One key of an object being written. */
typedef struct {
	const char *s; /* a string key (the table's own string) */
	size_t n;
	int isnum;
	int64_t iv;    /* isnum: the key */
	char num[24];
} keyent;

/* The key's text (a number's lives in the entry, which sorting moves). */
#define KEY_TEXT(k) ((k)->isnum ? (k)->num : (k)->s)

typedef struct {
	keyent *v, *tmp;
	size_t cap;
} keyvec;

typedef struct {
	lua_State *L;
	int all;
	yaml_emitter_t em;
	int em_live;
	char *buf;
	size_t len, cap;
	keyvec *kv; /* one per depth */
	int mt;     /* stack slot of the array metatable */
	int jsontype;
	int doc;
	char msg[128];
	char path[256]; /* built from the innermost component outwards */
	size_t pathlen;
	int path_cut;
	int ok;
} yenc;

static int write_out(void *data, unsigned char *b, size_t n)
{
	yenc *e = (yenc *)data;

	if (e->cap - e->len < n + 1) {
		size_t cap = e->cap ? e->cap : 1024;
		char *nb;
		while (cap - e->len < n + 1) {
			if (cap > ((size_t)-1) / 2)
				return 0;
			cap *= 2;
		}
		nb = (char *)realloc(e->buf, cap);
		if (!nb)
			return 0;
		e->buf = nb;
		e->cap = cap;
	}
	memcpy(e->buf + e->len, b, n);
	e->len += n;
	return 1;
}

static int emit(yenc *e, yaml_event_t *ev, int made)
{
	if (!made) {
		snprintf(e->msg, sizeof e->msg, "out of memory");
		return 0;
	}
	if (!yaml_emitter_emit(&e->em, ev)) {
		snprintf(e->msg, sizeof e->msg, "%s",
				 e->em.problem ? e->em.problem : "cannot write YAML (out of memory?)");
		return 0;
	}
	return 1;
}

static int emit_plain(yenc *e, const char *s, size_t n)
{
	yaml_event_t ev;

	return emit(e, &ev,
				yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1,
											 1, YAML_PLAIN_SCALAR_STYLE));
}

/* go-yaml's encodeBase64: lines of 70, each ended by '\n' when there are
 * several (there are as soon as the text reaches 70). */
static char *base64_lines(const char *s, size_t n, size_t *outlen)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t enc = (n + 2) / 3 * 4, lines = enc / 70 + 1, i, k = 0, o = 0;
	char *b = (char *)malloc(enc * 2 + lines + 1), *line;

	if (!b)
		return NULL;
	line = b + enc + lines + 1;
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		line[k++] = abc[v >> 18];
		line[k++] = abc[(v >> 12) & 63];
		line[k++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		line[k++] = i + 2 < n ? abc[v & 63] : '=';
	}
	for (i = 0; i < enc; i += 70) {
		size_t m = enc - i < 70 ? enc - i : 70;
		memcpy(b + o, line + i, m);
		o += m;
		if (lines > 1)
			b[o++] = '\n';
	}
    *outlen = o;
	return b;
}

/* A string as go-yaml v2 writes it; key: a mapping key. */
static int emit_string(yenc *e, const char *s, size_t n, int key)
{
	yaml_event_t ev;
	yaml_scalar_style_t style;
	rval r;
	int plain;

	if (!utf8_valid(s, n)) {
		size_t bn;
		char *b = base64_lines(s, n, &bn);
		int ok;
		if (!b) {
			snprintf(e->msg, sizeof e->msg, "out of memory");
			return 0;
		}
		ok = emit(e, &ev,
				  yaml_scalar_event_initialize(
					  &ev, NULL, (yaml_char_t *)TAG_PREFIX "binary", (yaml_char_t *)b, (int)bn,
					  0, 0, memchr(b, '\n', bn) ? YAML_LITERAL_SCALAR_STYLE
												: YAML_PLAIN_SCALAR_STYLE));
		free(b);
		return ok;
	}
	/* plain only when it reads back as this string (and "<<" is no merge) */
	plain = resolve(s, n, 1, &r) == R_STR && !is_base60(s, n) &&
			!(key && n == 2 && s[0] == '<' && s[1] == '<');
	if (memchr(s, '\n', n))
		style = YAML_LITERAL_SCALAR_STYLE;
	else
		style = plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (n > (size_t)INT32_MAX) {
		snprintf(e->msg, sizeof e->msg, "string too long");
		return 0;
	}
	return emit(e, &ev,
				yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, plain,
											 1, style));
}

static int emit_number(yenc *e, int idx)
{
	lua_State *L = e->L;
	char tmp[40];
	int64_t iv;
	double v;
	int k = 0;

#if K8S_LUA_HAS_INTEGERS
	if (lua_isinteger(L, idx)) {
		k = snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointeger(L, idx));
		return emit_plain(e, tmp, (size_t)k);
	}
#endif
	v = (double)lua_tonumber(L, idx);
	if (k8s_lua_double_is_int53(v, &iv)) {
		k = snprintf(tmp, sizeof tmp, "%lld", (long long)iv);
		return emit_plain(e, tmp, (size_t)k);
	}
	if (isnan(v) || isinf(v)) {
		snprintf(e->msg, sizeof e->msg, "cannot encode %s",
				 isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf"));
		return 0;
	}
	k = k8s_lua_fmt_double(tmp, sizeof tmp, v);
	if (k < 0 || (size_t)k + 2 >= sizeof tmp) {
		snprintf(e->msg, sizeof e->msg, "cannot format number");
		return 0;
	}
	/* an integral value beyond 2^53 may print as digits only: keep it a
     * float when read back */
	if (!strpbrk(tmp, ".e")) {
		memcpy(tmp + k, ".0", 3);
		k += 2;
	}
	return emit_plain(e, tmp, (size_t)k);
}

/* Prepends a path component; if it does not fit, the outer part is cut. */
static void enc_path(yenc *e, const char *comp, size_t n)
{
	k8s_lua_path_prepend(e->path, sizeof e->path, &e->pathlen, &e->path_cut, comp, n);
}

/* Decodes the rune at s[*i] (an invalid byte is U+FFFD, as Go's []rune). */
static uint32_t next_rune(const char *str, size_t n, size_t *i)
{
	const unsigned char *s = (const unsigned char *)str + *i;
	size_t left = n - *i, w;
	uint32_t r;

	if (s[0] < 0x80) {
		(*i)++;
		return s[0];
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		w = 2;
		r = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		w = 3;
		r = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		w = 4;
		r = s[0] & 0x07;
	} else {
		(*i)++;
		return 0xFFFD;
	}
	if (w > left || !utf8_valid((const char *)s, w)) {
		(*i)++;
		return 0xFFFD;
	}
	for (size_t k = 1; k < w; k++)
		r = r << 6 | (s[k] & 0x3F);
    *i += w;
	return r;
}

/* Go's unicode.IsLetter: exact in ASCII; beyond it, everything but the
 * common punctuation and symbol blocks (map keys are ASCII in practice). */
static int rune_is_letter(uint32_t r)
{
	if (r < 0x80)
		return (r | 0x20) >= 'a' && (r | 0x20) <= 'z';
	if (r <= 0xBF)
		return r == 0xAA || r == 0xB5 || r == 0xBA;
	if (r == 0xD7 || r == 0xF7 || r == 0xFFFD)
		return 0;
	if ((r >= 0x2000 && r <= 0x2BFF) || (r >= 0x3000 && r <= 0x303F) ||
		(r >= 0xFF00 && r <= 0xFF20) || (r >= 0xFE30 && r <= 0xFE4F))
		return 0;
	return 1;
}

/* Rune classes in go-yaml's key order: other < digit < letter. */
static int rune_class(uint32_t r)
{
	return rune_is_letter(r) ? 2 : (r >= '0' && r <= '9') ? 1 : 0;
}

/* The order of mapping keys: go-yaml v2's keyList.Less made a total order.
 * go-yaml compares at the first rune that differs: letters after other
 * runes, digits before letters, and a run of digits by its numeric value
 * ("a9" < "a10", "a1" < "a01").  That comparison is not transitive on some
 * keys ("16" < "1e+06" < "2.5" < "16"), which would make the output depend
 * on the table's order; here whole digit runs compare as numbers (then the
 * shorter run first) and everything else rune by rune, which agrees with
 * go-yaml wherever it is consistent. */
static int key_order(const keyent *ka, const keyent *kb)
{
	const char *a = KEY_TEXT(ka), *b = KEY_TEXT(kb);
	size_t na = ka->n, nb = kb->n, i = 0, j = 0;

	while (i < na && j < nb) {
		if (is_digit(a[i]) && is_digit(b[j])) {
			size_t ie = i, je = j, ia, jb, la, lb;
			while (ie < na && is_digit(a[ie]))
				ie++;
			while (je < nb && is_digit(b[je]))
				je++;
			for (ia = i; ia < ie - 1 && a[ia] == '0'; ia++)
				;
			for (jb = j; jb < je - 1 && b[jb] == '0'; jb++)
				;
			la = ie - ia;
			lb = je - jb;
			if (la != lb)
				return la < lb ? -1 : 1;
			for (; ia < ie; ia++, jb++)
				if (a[ia] != b[jb])
					return a[ia] < b[jb] ? -1 : 1;
			if (ie - i != je - j)
				return ie - i < je - j ? -1 : 1;
			i = ie;
			j = je;
		} else {
			uint32_t ra = next_rune(a, na, &i), rb = next_rune(b, nb, &j);
			int ca, cb;
			if (ra == rb)
				continue;
			ca = rune_class(ra);
			cb = rune_class(rb);
			if (ca != cb)
				return ca < cb ? -1 : 1;
			return ra < rb ? -1 : 1;
		}
	}
	if (i < na || j < nb)
		return i < na ? 1 : -1;
	return 0;
}

static int key_cmp(const keyent *a, const keyent *b)
{
	size_t m;
	int c = key_order(a, b);

	if (c)
		return c;
	/* the same to go-yaml (invalid UTF-8): bytes, then number keys last */
	m = a->n < b->n ? a->n : b->n;
	c = memcmp(KEY_TEXT(a), KEY_TEXT(b), m);
	if (c)
		return c;
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	return a->isnum - b->isnum;
}

/* A stable merge sort: never out of bounds, whatever the comparator. */
static void sort_keys(keyent *v, keyent *tmp, size_t n)
{
	size_t w, i, j, start, end;

	for (start = 0; start < n; start += 8) { /* runs of 8 by insertion */
		end = start + 8 < n ? start + 8 : n;
		for (i = start + 1; i < end; i++) {
			for (j = i; j > start && key_cmp(&v[j - 1], &v[j]) > 0; j--) {
				keyent t = v[j - 1];
				v[j - 1] = v[j];
				v[j] = t;
			}
		}
	}
	for (w = 8; w < n; w *= 2) {
		for (i = 0; i < n; i += 2 * w) {
			size_t mid = i + w < n ? i + w : n, hi = i + 2 * w < n ? i + 2 * w : n;
			size_t a = i, b = mid, k = i;
			while (a < mid && b < hi)
				tmp[k++] = key_cmp(&v[b], &v[a]) < 0 ? v[b++] : v[a++];
			while (a < mid)
				tmp[k++] = v[a++];
			while (b < hi)
				tmp[k++] = v[b++];
		}
		memcpy(v, tmp, n * sizeof *v);
	}
}

static int emit_value(yenc *e, int idx, int depth);

static int emit_array(yenc *e, int idx, size_t n, int depth)
{
	lua_State *L = e->L;
	yaml_event_t ev;
	size_t i;

	if (!emit(e, &ev,
			  yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
												   YAML_BLOCK_SEQUENCE_STYLE)))
		return 0;
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, (int)i);
		if (!emit_value(e, lua_gettop(L), depth + 1)) {
			char comp[32];
			int k = snprintf(comp, sizeof comp, "[%zu]", i);
			enc_path(e, comp, (size_t)k);
			return 0;
		}
		lua_pop(L, 1);
	}
	return emit(e, &ev, yaml_sequence_end_event_initialize(&ev));
}

static int emit_object(yenc *e, int idx, int depth)
{
	lua_State *L = e->L;
	yaml_event_t ev;
	keyvec *kv = &e->kv[depth];
	size_t n = 0, i;

	/* the keys, as strings */
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		keyent *k;
		lua_pop(L, 1);
		if (n == kv->cap) {
			size_t cap = kv->cap ? kv->cap * 2 : 8;
			keyent *nv = (keyent *)realloc(kv->v, cap * sizeof *nv);
			if (nv)
				kv->v = nv;
			nv = nv ? (keyent *)realloc(kv->tmp, cap * sizeof *nv) : NULL;
			if (!nv) {
				lua_pop(L, 1);
				snprintf(e->msg, sizeof e->msg, "out of memory");
				return 0;
			}
			kv->tmp = nv;
			kv->cap = cap;
		}
		k = &kv->v[n];
		k->isnum = 0;
		if (lua_type(L, -1) == LUA_TSTRING) {
			k->s = lua_tolstring(L, -1, &k->n);
		} else if (lua_type(L, -1) == LUA_TNUMBER) {
#if K8S_LUA_HAS_INTEGERS
			if (lua_isinteger(L, -1))
				k->iv = (int64_t)lua_tointeger(L, -1);
			else
#endif
			if (!k8s_lua_double_is_int53((double)lua_tonumber(L, -1), &k->iv)) {
				lua_pop(L, 1);
				snprintf(e->msg, sizeof e->msg,
						 "cannot encode non-integer number as object key");
				return 0;
			}
			k->isnum = 1;
			k->n = (size_t)snprintf(k->num, sizeof k->num, "%lld", (long long)k->iv);
		} else {
			snprintf(e->msg, sizeof e->msg, "cannot encode table key of type %s",
					 luaL_typename(L, -1));
			lua_pop(L, 1);
			return 0;
		}
		n++;
	}
	sort_keys(kv->v, kv->tmp, n);

	if (!emit(e, &ev,
			  yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
												  YAML_BLOCK_MAPPING_STYLE)))
		return 0;
	for (i = 0; i < n; i++) {
		keyent *k = &kv->v[i];
		if (!emit_string(e, KEY_TEXT(k), k->n, 1))
			return 0;
		if (k->isnum) {
#if K8S_LUA_HAS_INTEGERS
			lua_pushinteger(L, (lua_Integer)k->iv);
#else
			lua_pushnumber(L, (lua_Number)k->iv);
#endif
		} else {
			lua_pushlstring(L, k->s, k->n);
		}
		lua_rawget(L, idx);
		if (!emit_value(e, lua_gettop(L), depth + 1)) {
			char comp[72];
			size_t m = k->n > 64 ? 64 : k->n;
			comp[0] = '.';
			memcpy(comp + 1, KEY_TEXT(k), m);
			enc_path(e, comp, m + 1);
			return 0;
		}
		lua_pop(L, 1);
	}
	return emit(e, &ev, yaml_mapping_end_event_initialize(&ev));
}

static int emit_value(yenc *e, int idx, int depth)
{
	lua_State *L = e->L;

	switch (lua_type(L, idx)) {
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		return emit_string(e, s, n, 0);
	}
	case LUA_TNUMBER:
		return emit_number(e, idx);
	case LUA_TBOOLEAN:
		return lua_toboolean(L, idx) ? emit_plain(e, "true", 4) : emit_plain(e, "false", 5);
	case LUA_TNIL:
		return emit_plain(e, "null", 4);
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == NULL)
			return emit_plain(e, "null", 4);
		snprintf(e->msg, sizeof e->msg,
				 "cannot encode lightuserdata (only NULL, i.e. null)");
		return 0;
	case LUA_TTABLE: {
		size_t n;
		if (depth >= MAX_DEPTH) {
			snprintf(e->msg, sizeof e->msg, "nesting deeper than %d (reference cycle?)",
					 MAX_DEPTH);
			return 0;
		}
		if (!lua_checkstack(L, 6)) {
			snprintf(e->msg, sizeof e->msg, "Lua stack overflow");
			return 0;
		}
		if (k8s_lua_table_kind(e->L, idx, e->mt, e->jsontype, &n) == K8S_LUA_KIND_ARRAY)
			return emit_array(e, idx, n, depth);
		return emit_object(e, idx, depth);
	}
	default:
		snprintf(e->msg, sizeof e->msg, "cannot encode %s",
				 lua_typename(L, lua_type(L, idx)));
		return 0;
	}
}

/* One document: a stream of its own, written after what is in e->buf. */
static int emit_doc(yenc *e, int idx)
{
	yaml_event_t ev;
	int ok;

	if (!yaml_emitter_initialize(&e->em)) {
		snprintf(e->msg, sizeof e->msg, "out of memory");
		return 0;
	}
	e->em_live = 1;
	yaml_emitter_set_output(&e->em, write_out, e);
	yaml_emitter_set_unicode(&e->em, 1);
	yaml_emitter_set_indent(&e->em, 2);
	yaml_emitter_set_width(&e->em, -1);
	yaml_emitter_set_break(&e->em, YAML_LN_BREAK);
	ok = emit(e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING)) &&
		 emit(e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1)) &&
		 emit_value(e, idx, 0) &&
		 emit(e, &ev, yaml_document_end_event_initialize(&ev, 1));
	if (ok) {
		/* as go-yaml: no "..." after an open-ended last scalar */
		e->em.open_ended = 0;
		ok = emit(e, &ev, yaml_stream_end_event_initialize(&ev)) &&
			 yaml_emitter_flush(&e->em);
		if (!ok && !e->msg[0])
			snprintf(e->msg, sizeof e->msg, "out of memory");
	}
	yaml_emitter_delete(&e->em);
	e->em_live = 0;
	return ok;
}

/* Under lua_pcall: 1 = the encoder, 2 = the value (or the list). */
static int encode_run(lua_State *L)
{
	yenc *e = (yenc *)lua_touserdata(L, 1);
	int n, i;

	e->L = L;
	lua_settop(L, 2);
	k8s_lua_json_push_array_mt(L);
	lua_pushliteral(L, "__jsontype");
	e->mt = 3;
	e->jsontype = 4;
	e->kv = (keyvec *)calloc(MAX_DEPTH + 1, sizeof *e->kv);
	if (!e->kv) {
		snprintf(e->msg, sizeof e->msg, "out of memory");
		return 0;
	}
	if (!e->all) {
		e->ok = emit_doc(e, 2);
		return 0;
	}
	n = (int)K8S_LUA_RAWLEN(L, 2);
	for (i = 1; i <= n; i++) {
		e->doc = i;
		lua_settop(L, 4);
		lua_rawgeti(L, 2, i);
		if (i > 1 && !write_out(e, (unsigned char *)"---\n", 4)) {
			snprintf(e->msg, sizeof e->msg, "out of memory");
			return 0;
		}
		if (!emit_doc(e, 5))
			return 0;
	}
	e->ok = 1;
	return 0;
}

int k8s_lua_yaml_encode(lua_State *L, int idx, int all, char **out,
						size_t *outlen, char *err, size_t errlen)
{
	yenc e;
	int rc, i;
	char where[24] = "";

    *out = NULL;
    *outlen = 0;
	idx = k8s_lua_absindex(L, idx);
	if (!lua_checkstack(L, 8)) {
		k8s_lua_set_err(err, errlen, "Lua stack overflow");
		return 0;
	}
	if (all && lua_type(L, idx) != LUA_TTABLE) {
		k8s_lua_set_err(err, errlen, "a list of documents (table) expected, got %s",
				luaL_typename(L, idx));
		return 0;
	}
	memset(&e, 0, sizeof e);
	e.all = all;
	lua_pushcfunction(L, encode_run);
	lua_pushlightuserdata(L, &e);
	lua_pushvalue(L, idx);
	rc = lua_pcall(L, 2, 0, 0);
	if (e.em_live)
		yaml_emitter_delete(&e.em);
	if (e.kv) {
		for (i = 0; i <= MAX_DEPTH; i++) {
			free(e.kv[i].v);
			free(e.kv[i].tmp);
		}
		free(e.kv);
	}
	if (rc != 0) {
		free(e.buf);
		return lua_error(L); /* out of memory: raised again, nothing held */
	}
	if (!e.ok) {
		free(e.buf);
		if (all)
			snprintf(where, sizeof where, "document %d: ", e.doc);
		if (e.pathlen == 0)
			k8s_lua_set_err(err, errlen, "%s%s", where, e.msg);
		else
			k8s_lua_set_err(err, errlen, "%s%s at %s%.*s", where, e.msg, e.path_cut ? "..." : "",
					(int)e.pathlen, e.path);
		return 0;
	}
	if (!e.buf && !write_out(&e, (unsigned char *)"", 0)) {
		k8s_lua_set_err(err, errlen, "out of memory");
		return 0;
	}
	e.buf[e.len] = '\0';
    *out = e.buf;
    *outlen = e.len;
	return 1;
}

static int l_encode(lua_State *L, int all)
{
	char err[512];
	char *out;
	size_t n;

	luaL_checkany(L, 1);
	if (all)
		luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	luaL_checkstack(L, 8, "k8s.yaml.encode");
	/* pushed before encoding: nothing can raise while `out` is live but
     * the protected call below */
	k8s_lua_push_owned_prepare(L);
	if (!k8s_lua_yaml_encode(L, 1, all, &out, &n, err, sizeof err)) {
		lua_pushnil(L);
		lua_pushfstring(L, "yaml: %s", err);
		return 2;
	}
	return k8s_lua_push_owned(L, out, n);
}

int k8s_lua_yaml_l_encode(lua_State *L)
{
	return l_encode(L, 0);
}

int k8s_lua_yaml_l_encode_all(lua_State *L)
{
	return l_encode(L, 1);
}
