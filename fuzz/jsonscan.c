/* Fuzz target for the allocation-free JSON scanner (src/jsonscan.c).
 *
 * Input: byte 0 is a control byte
 *   bits 0-2  how many split selector bytes follow (0..7)
 *   bits 4-6  the largest piece is 1 << n bytes (1..64)
 *   bit 7     deep mode: the next byte picks a nesting depth around
 *             K8S_JSON_MAX_DEPTH and the text is wrapped in that many
 *             containers (opened as [ or {"": by the text's bytes)
 * then the selector bytes, then the JSON text.
 *
 * Properties:
 *   (a) scanning the text fed in pieces (a fresh buffer for every call)
 *       gives the same result and end as one call, and as skip_value;
 *   (b) object_next walks exactly the object the scanner accepted, and for
 *       every member key (nested objects too) string_dup succeeds and
 *       raw_equal(key, dup) == 1; object_get finds the last such member;
 *   (c) whatever jansson accepts (JSON_DECODE_ANY | JSON_ALLOW_NUL, depth at
 *       most JSON_PARSER_MAX_DEPTH) the scanner accepts with only whitespace
 *       after the value; a string decodes to jansson's bytes, and every key
 *       of an object is a key jansson has;
 *   (d) nesting deeper than K8S_JSON_MAX_DEPTH is rejected at the opener
 *       that goes too deep, without recursion; up to it is accepted.
 */
#include <string.h>
#include <jansson.h>
#include "jsonscan.h"
#include "fuzz.h"

#define MAX_KEYS_CHECKED 256
#define MAX_OBJ_DEPTH 16
#define MAX_GET_MEMBERS 64

struct split {
	const uint8_t *sel;
	size_t sel_len;
	size_t max;
};

/* A fresh copy of p[0..n) in a buffer of exactly n bytes, so ASan sees a
 * read past what the scanner was given. */
static char *exact_copy(const char *p, size_t n)
{
	char *c = malloc(n ? n : 1);
	FUZZ_CHECK(c != NULL, "out of memory");
	memcpy(c, p, n);
	return c;
}

/* (a): the text in pieces gives the one-shot result and end. */
static void check_resumable(const char *p, size_t len, const struct split *sp,
			    int want, size_t want_end)
{
	k8s_json_scanner *s = malloc(sizeof(*s));
	size_t have = 0, pos = 0, end = 0, i, budget = 64 * 1024;
	int r = 1;

	FUZZ_CHECK(s != NULL, "out of memory");
	k8s_json_scanner_init(s);
	for (i = 0; r == 1 && have < len; i++) {
		size_t n = fuzz_piece(sp->sel, sp->sel_len, i, sp->max);
		if (n > len - have)
			n = len - have;
		have += n;
		if (have <= budget) {
			/* the scanner keeps no pointer: move the text every call
			 * (while that stays cheap) */
			char *c = exact_copy(p, have);
			budget -= have;
			r = k8s_json_scanner_run(s, c, have, pos, &end);
			free(c);
		} else {
			r = k8s_json_scanner_run(s, p, have, pos, &end);
		}
		FUZZ_CHECK(end >= pos && end <= have, "end %zu outside [%zu, %zu]",
			   end, pos, have);
		if (r == 1)
			FUZZ_CHECK(end == have, "unfinished but end %zu != %zu", end, have);
		pos = end;
	}
	if (len == 0)
		r = k8s_json_scanner_run(s, p, 0, 0, &end);
	FUZZ_CHECK(r == want && end == want_end,
		   "pieces gave %d end %zu, one call %d end %zu", r, end, want, want_end);
	/* a finished or failed scanner stays so */
	if (r != 1) {
		size_t e2;
		int r2 = k8s_json_scanner_run(s, p, len, end, &e2);
		FUZZ_CHECK(r2 == r && e2 == end, "state not kept: %d %zu", r2, e2);
	}
	free(s);
}

/* Whether the raw string content decodes to something holding a NUL (a
 * \u0000 escape): raw_equal compares with a C string, so such keys cannot
 * be compared with their own decoding. */
static int raw_has_nul(const char *raw, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (raw[i] != '\\')
			continue;
		if (i + 5 < n && raw[i + 1] == 'u' && memcmp(raw + i + 2, "0000", 4) == 0)
			return 1;
		i++;
	}
	return 0;
}

/* (b) over the object in obj[0..len) (the scanner accepted it, end len)
 * and the objects nested in its member values. */
static void check_object(const char *obj, size_t len, int depth, size_t *budget)
{
	size_t pos = 0, klen, vlen, nmem = 0, m;
	const char *key, *val;
	const char *keys[MAX_GET_MEMBERS], *vals[MAX_GET_MEMBERS];
	size_t klens[MAX_GET_MEMBERS], vlens[MAX_GET_MEMBERS];
	int r;

	while ((r = k8s_json_object_next(obj, len, &pos, &key, &klen, &val, &vlen)) == 1) {
		size_t e;
		int rv;
		FUZZ_CHECK(key > obj && key[-1] == '"' && key + klen < obj + len && key[klen] == '"',
			   "key not between quotes");
		FUZZ_CHECK(val >= obj && val + vlen <= obj + len && vlen > 0, "value outside the object");
		/* a number alone is unfinished (more digits could follow) */
		rv = k8s_json_skip_value(val, vlen, 0, &e);
		FUZZ_CHECK(e == vlen && (rv == 0 || (rv == 1 && (val[0] == '-' ||
								 (val[0] >= '0' && val[0] <= '9')))),
			   "member value is not one whole value: %d at %zu of %zu", rv, e, vlen);
		if (nmem < MAX_GET_MEMBERS) {
			keys[nmem] = key;
			klens[nmem] = klen;
			vals[nmem] = val;
			vlens[nmem] = vlen;
		}
		nmem++;
		if (*budget == 0)
			continue;
		(*budget)--;
		{
			char *dup = NULL;
			FUZZ_CHECK(k8s_json_string_dup(key - 1, klen + 2, &dup) == 0 && dup,
				   "string_dup failed on a scanned key");
			if (!raw_has_nul(key, klen)) {
				const char *gv = NULL;
				size_t gl = 0;
				FUZZ_CHECK(k8s_json_raw_equal(key, klen, dup) == 1,
					   "raw_equal(key, string_dup(key)) != 1 for key \"%.*s\"",
					   (int)klen, key);
				FUZZ_CHECK(k8s_json_object_get(obj, len, dup, &gv, &gl) == 1,
					   "object_get misses a key object_next gave");
			}
			free(dup);
		}
		if (depth < MAX_OBJ_DEPTH && val[0] == '{')
			check_object(val, vlen, depth + 1, budget);
	}
	FUZZ_CHECK(r == 0 && pos == len, "object_next ended with %d at %zu of %zu", r, pos, len);

	/* object_get: with duplicate keys the last one wins */
	if (nmem <= MAX_GET_MEMBERS) {
		for (m = 0; m < nmem && m < 16; m++) {
			char *dup = NULL;
			const char *gv = NULL;
			size_t gl = 0, j, last = m;
			if (raw_has_nul(keys[m], klens[m]) ||
			    k8s_json_string_dup(keys[m] - 1, klens[m] + 2, &dup) != 0)
				continue;
			for (j = m; j < nmem; j++)
				if (k8s_json_raw_equal(keys[j], klens[j], dup))
					last = j;
			FUZZ_CHECK(k8s_json_object_get(obj, len, dup, &gv, &gl) == 1 &&
					   gv == vals[last] && gl == vlens[last],
				   "object_get did not return the last member with the key");
			free(dup);
		}
	}
}

static int only_ws(const char *p, size_t len, size_t i)
{
	return k8s_json_skip_ws(p, len, i) == len;
}

/* (c) one way: jansson accepts => the scanner accepts. */
static void check_jansson(const char *p, size_t len, int r, size_t end)
{
	json_error_t err;
	json_t *root = json_loadb(p, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	char *padded;
	size_t e;
	int r2;

	if (!root)
		return;
	/* a number running to the end of the text is unfinished for the
	 * scanner (more digits could follow): end the text with a newline */
	padded = malloc(len + 1);
	FUZZ_CHECK(padded != NULL, "out of memory");
	memcpy(padded, p, len);
	padded[len] = '\n';
	r2 = k8s_json_skip_value(padded, len + 1, 0, &e);
	FUZZ_CHECK(r2 == 0 && only_ws(padded, len + 1, e),
		   "jansson accepts, the scanner gives %d at %zu", r2, e);
	FUZZ_CHECK(r == 0 || (r == 1 && json_is_number(root) && end == len),
		   "jansson accepts, one call gave %d", r);

	if (json_is_string(root)) {
		/* jansson accepted it: valid UTF-8, no lone surrogates, so the
		 * decoding must be byte-for-byte the same */
		char *dup = NULL;
		size_t jl = json_string_length(root);
		const char *jv = json_string_value(root);
		FUZZ_CHECK(k8s_json_string_dup(p, len, &dup) == 0, "string_dup failed");
		if (!memchr(jv, 0, jl))
			FUZZ_CHECK(strlen(dup) == jl && memcmp(dup, jv, jl) == 0,
				   "string_dup differs from jansson");
		else
			FUZZ_CHECK(strcmp(dup, jv) == 0, "string_dup differs from jansson before NUL");
		free(dup);
	} else if (json_is_object(root)) {
		size_t pos = 0, klen, vlen;
		const char *key, *val;
		size_t n = 0;
		while (k8s_json_object_next(padded, len + 1, &pos, &key, &klen, &val, &vlen) == 1) {
			char *dup = NULL;
			FUZZ_CHECK(k8s_json_string_dup(key - 1, klen + 2, &dup) == 0, "key dup");
			FUZZ_CHECK(json_object_get(root, dup) != NULL,
				   "key \"%s\" not in jansson's object", dup);
			free(dup);
			n++;
		}
		FUZZ_CHECK(n >= json_object_size(root), "fewer members than jansson");
	}
	free(padded);
	json_decref(root);
}

/* (d): depth containers around the text. Returns the malloc'd input. */
static char *build_deep(const char *t, size_t tlen, unsigned depth, size_t *out_len)
{
	size_t cap = (size_t)depth * 6 + tlen + 8, n = 0;
	char *b = malloc(cap);
	unsigned k;
	FUZZ_CHECK(b != NULL, "out of memory");
	for (k = 0; k < depth; k++) {
		int obj = tlen ? (unsigned char)t[k % tlen] & 1 : (int)(k & 1);
		if (obj) {
			memcpy(b + n, "{\"\":", 4);
			n += 4;
		} else {
			b[n++] = '[';
		}
	}
	b[n++] = '0';
	b[n++] = ' ';
	for (k = depth; k-- > 0;) {
		int obj = tlen ? (unsigned char)t[k % tlen] & 1 : (int)(k & 1);
		b[n++] = obj ? '}' : ']';
	}
	*out_len = n;
	return b;
}

static void check_deep(const char *t, size_t tlen, unsigned char pick, const struct split *sp)
{
	unsigned depth = K8S_JSON_MAX_DEPTH - 3 + pick % 7;
	size_t n, end;
	char *b = build_deep(t, tlen, depth, &n);
	int r = k8s_json_skip_value(b, n, 0, &end);

	if (depth <= K8S_JSON_MAX_DEPTH) {
		FUZZ_CHECK(r == 0 && end == n, "depth %u rejected: %d at %zu", depth, r, end);
	} else {
		/* the offending byte is the opener of level MAX_DEPTH + 1 */
		size_t at = 0;
		unsigned k;
		for (k = 0; k < K8S_JSON_MAX_DEPTH; k++)
			at += ((tlen ? (unsigned char)t[k % tlen] & 1 : (int)(k & 1))) ? 4 : 1;
		FUZZ_CHECK(r == -1 && end == at, "depth %u: %d at %zu, want -1 at %zu",
			   depth, r, end, at);
	}
	check_resumable(b, n, sp, r, end);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct split sp;
	const char *text;
	size_t len, end, e1;
	int r, r1;
	uint8_t ctl;

	if (size < 1)
		return 0;
	ctl = data[0];
	sp.sel_len = ctl & 7;
	sp.max = (size_t)1 << ((ctl >> 4) & 7);
	if (size < 1 + sp.sel_len)
		return 0;
	sp.sel = data + 1;
	text = (const char *)data + 1 + sp.sel_len;
	len = size - 1 - sp.sel_len;

	if (ctl & 0x80) {
		if (len < 1)
			return 0;
		check_deep(text + 1, len - 1, (unsigned char)text[0], &sp);
		return 0;
	}

	{
		k8s_json_scanner *s = malloc(sizeof(*s));
		FUZZ_CHECK(s != NULL, "out of memory");
		k8s_json_scanner_init(s);
		r = k8s_json_scanner_run(s, text, len, 0, &end);
		free(s);
	}
	FUZZ_CHECK(r >= -1 && r <= 1, "result %d", r);
	FUZZ_CHECK(end <= len, "end %zu past %zu", end, len);
	if (r == 1)
		FUZZ_CHECK(end == len, "unfinished but end %zu", end);
	r1 = k8s_json_skip_value(text, len, 0, &e1);
	FUZZ_CHECK(r1 == r && e1 == end, "skip_value %d %zu != run %d %zu", r1, e1, r, end);
	check_resumable(text, len, &sp, r, end);

	/* (b) on a complete object */
	{
		size_t i = k8s_json_skip_ws(text, len, 0);
		if (i < len && text[i] == '{') {
			size_t pos = 0, klen, vlen, budget = MAX_KEYS_CHECKED;
			const char *key, *val;
			int rn;
			if (r == 0) {
				check_object(text, end, 0, &budget);
			} else {
				/* a malformed or unfinished object: object_next fails */
				while ((rn = k8s_json_object_next(text, len, &pos, &key, &klen,
								  &val, &vlen)) == 1)
					;
				FUZZ_CHECK(rn == -1, "object_next accepts what the scanner does not");
			}
		}
	}

	/* the string helpers on text nobody validated */
	{
		char *dup = NULL;
		(void)k8s_json_raw_equal(text, len, "kind");
		if (k8s_json_string_dup(text, len, &dup) == 0) {
			size_t i = k8s_json_skip_ws(text, len, 0);
			FUZZ_CHECK(r == 0 && text[i] == '"' && only_ws(text, len, end),
				   "string_dup accepts what the scanner does not");
			if (!raw_has_nul(text + i + 1, end - i - 2))
				FUZZ_CHECK(k8s_json_raw_equal(text + i + 1, end - i - 2, dup) == 1,
					   "raw_equal(s, string_dup(s)) != 1");
			free(dup);
		} else {
			FUZZ_CHECK(dup == NULL, "string_dup failed but set *out");
		}
	}

	{
		/* jansson ends the text at a NUL byte (outside strings, where a
		 * raw NUL is invalid anyway): compare on the text before it */
		const char *nul = memchr(text, 0, len);
		if (nul) {
			len = (size_t)(nul - text);
			r = k8s_json_skip_value(text, len, 0, &end);
		}
	}
	check_jansson(text, len, r, end);
	return 0;
}
