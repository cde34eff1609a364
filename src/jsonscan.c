#include <stdlib.h>
#include <string.h>
#include "jsonscan.h"

enum {
	S_VALUE,      /* expecting a value */
	S_ARR_FIRST,  /* after '[': a value or ']' */
	S_OBJ_FIRST,  /* after '{': a key or '}' */
	S_OBJ_KEY,    /* after ',' in an object: a key */
	S_COLON,      /* after a key */
	S_AFTER,      /* after a value in a container: ',' or the close */
	S_STR,
	S_STR_ESC,
	S_STR_U,
	S_NUM_MINUS,
	S_NUM_ZERO,
	S_NUM_INT,
	S_NUM_DOT,
	S_NUM_FRAC,
	S_NUM_E,
	S_NUM_ESIGN,
	S_NUM_EXP,
	S_LIT,
	S_DONE,
	S_ERR,
	S_VALUE_END   /* only as after_string: the string was a value */
};

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void k8s_json_scanner_init(k8s_json_scanner *s)
{
	s->state = S_VALUE;
	s->after_string = S_VALUE_END;
	s->depth = 0;
	s->aux = 0;
	s->lit = NULL;
}

size_t k8s_json_skip_ws(const char *p, size_t len, size_t i)
{
	while (i < len && is_ws((unsigned char)p[i]))
		i++;
	return i;
}

static int push(k8s_json_scanner *s, int is_object)
{
	unsigned d = s->depth;
	unsigned char m = (unsigned char)(1u << (d % 8));
	if (d >= K8S_JSON_MAX_DEPTH)
		return -1;
	if (is_object)
		s->stack[d / 8] |= m;
	else
		s->stack[d / 8] &= (unsigned char)~m;
	s->depth = d + 1;
	return 0;
}

static int top_is_object(const k8s_json_scanner *s)
{
	unsigned d = s->depth - 1;
	return (s->stack[d / 8] >> (d % 8)) & 1;
}

/* A value just ended: returns 1 if it was the top-level one. */
static int value_end(k8s_json_scanner *s)
{
	if (s->depth == 0) {
		s->state = S_DONE;
		return 1;
	}
	s->state = S_AFTER;
	return 0;
}

int k8s_json_scanner_run(k8s_json_scanner *s, const char *p, size_t len, size_t i, size_t *end)
{
	const unsigned char *u = (const unsigned char *)p;

	if (s->state == S_DONE) {
		*end = i;
		return 0;
	}
	if (s->state == S_ERR) {
		*end = i;
		return -1;
	}
	while (i < len) {
		unsigned char c = u[i];
		switch (s->state) {
		case S_ARR_FIRST:
			if (c == ']') {
				s->depth--;
				i++;
				if (value_end(s))
					goto done;
				break;
			}
			/* fall through */
		case S_VALUE:
			if (is_ws(c)) {
				i++;
				break;
			}
			switch (c) {
			case '{':
				if (push(s, 1) < 0)
					goto fail;
				s->state = S_OBJ_FIRST;
				break;
			case '[':
				if (push(s, 0) < 0)
					goto fail;
				s->state = S_ARR_FIRST;
				break;
			case '"':
				s->after_string = S_VALUE_END;
				s->state = S_STR;
				break;
			case '-':
				s->state = S_NUM_MINUS;
				break;
			case '0':
				s->state = S_NUM_ZERO;
				break;
			case 't':
			case 'f':
			case 'n':
				s->lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
				s->aux = 1;
				s->state = S_LIT;
				break;
			default:
				if (c >= '1' && c <= '9') {
					s->state = S_NUM_INT;
					break;
				}
				goto fail;
			}
			i++;
			break;
		case S_OBJ_FIRST:
		case S_OBJ_KEY:
			if (is_ws(c)) {
				i++;
				break;
			}
			if (c == '}' && s->state == S_OBJ_FIRST) {
				s->depth--;
				i++;
				if (value_end(s))
					goto done;
				break;
			}
			if (c != '"')
				goto fail;
			s->after_string = S_COLON;
			s->state = S_STR;
			i++;
			break;
		case S_COLON:
			if (is_ws(c)) {
				i++;
				break;
			}
			if (c != ':')
				goto fail;
			s->state = S_VALUE;
			i++;
			break;
		case S_AFTER:
			if (is_ws(c)) {
				i++;
				break;
			}
			if (c == ',') {
				s->state = top_is_object(s) ? S_OBJ_KEY : S_VALUE;
				i++;
				break;
			}
			if (c != (top_is_object(s) ? '}' : ']'))
				goto fail;
			s->depth--;
			i++;
			if (value_end(s))
				goto done;
			break;
		case S_STR:
			for (;;) {
				if (c == '"') {
					i++;
					if (s->after_string == S_COLON) {
						s->state = S_COLON;
					} else if (value_end(s)) {
						goto done;
					}
					break;
				}
				if (c == '\\') {
					i++;
					s->state = S_STR_ESC;
					break;
				}
				if (c < 0x20)
					goto fail;
				if (++i >= len)
					break;
				c = u[i];
			}
			break;
		case S_STR_ESC:
			switch (c) {
			case '"': case '\\': case '/': case 'b':
			case 'f': case 'n': case 'r': case 't':
				s->state = S_STR;
				break;
			case 'u':
				s->aux = 4;
				s->state = S_STR_U;
				break;
			default:
				goto fail;
			}
			i++;
			break;
		case S_STR_U:
			if (hex_val(c) < 0)
				goto fail;
			i++;
			if (--s->aux == 0)
				s->state = S_STR;
			break;
		case S_NUM_MINUS:
			if (c == '0')
				s->state = S_NUM_ZERO;
			else if (c >= '1' && c <= '9')
				s->state = S_NUM_INT;
			else
				goto fail;
			i++;
			break;
		case S_NUM_INT:
			while (is_digit(c)) {
				if (++i >= len)
					goto more;
				c = u[i];
			}
			/* fall through */
		case S_NUM_ZERO:
			if (c == '.') {
				s->state = S_NUM_DOT;
				i++;
			} else if (c == 'e' || c == 'E') {
				s->state = S_NUM_E;
				i++;
			} else if (value_end(s)) {
				goto done; /* the delimiter is not part of the number */
			}
			break;
		case S_NUM_DOT:
			if (!is_digit(c))
				goto fail;
			s->state = S_NUM_FRAC;
			i++;
			break;
		case S_NUM_FRAC:
			while (is_digit(c)) {
				if (++i >= len)
					goto more;
				c = u[i];
			}
			if (c == 'e' || c == 'E') {
				s->state = S_NUM_E;
				i++;
			} else if (value_end(s)) {
				goto done;
			}
			break;
		case S_NUM_E:
			if (c == '+' || c == '-')
				s->state = S_NUM_ESIGN;
			else if (is_digit(c))
				s->state = S_NUM_EXP;
			else
				goto fail;
			i++;
			break;
		case S_NUM_ESIGN:
			if (!is_digit(c))
				goto fail;
			s->state = S_NUM_EXP;
			i++;
			break;
		case S_NUM_EXP:
			while (is_digit(c)) {
				if (++i >= len)
					goto more;
				c = u[i];
			}
			if (value_end(s))
				goto done;
			break;
		case S_LIT:
			if (c != (unsigned char)s->lit[s->aux])
				goto fail;
			i++;
			if (s->lit[++s->aux] == 0 && value_end(s))
				goto done;
			break;
		default:
			goto fail;
		}
	}
more:
	*end = len;
	return 1;
done:
	*end = i;
	return 0;
fail:
	s->state = S_ERR;
	*end = i;
	return -1;
}

int k8s_json_skip_value(const char *p, size_t len, size_t i, size_t *end)
{
	k8s_json_scanner s;
	k8s_json_scanner_init(&s);
	return k8s_json_scanner_run(&s, p, len, i, end);
}

int k8s_json_object_next(const char *obj, size_t len, size_t *pos,
	const char **key, size_t *klen, const char **val, size_t *vlen)
{
	size_t i = *pos, e;

	if (i == 0) {
		i = k8s_json_skip_ws(obj, len, 0);
		if (i >= len || obj[i] != '{')
			return -1;
		i = k8s_json_skip_ws(obj, len, i + 1);
		if (i < len && obj[i] == '}') {
			*pos = i + 1;
			return 0;
		}
	} else {
		i = k8s_json_skip_ws(obj, len, i);
		if (i >= len)
			return -1;
		if (obj[i] == '}') {
			*pos = i + 1;
			return 0;
		}
		if (obj[i] != ',')
			return -1;
		i = k8s_json_skip_ws(obj, len, i + 1);
	}
	if (i >= len || obj[i] != '"' || k8s_json_skip_value(obj, len, i, &e) != 0)
		return -1;
	*key = obj + i + 1;
	*klen = e - i - 2;
	i = k8s_json_skip_ws(obj, len, e);
	if (i >= len || obj[i] != ':')
		return -1;
	i = k8s_json_skip_ws(obj, len, i + 1);
	if (k8s_json_skip_value(obj, len, i, &e) != 0)
		return -1;
	*val = obj + i;
	*vlen = e - i;
	*pos = e;
	return 1;
}

int k8s_json_object_get(const char *obj, size_t len, const char *key,
	const char **val, size_t *vlen)
{
	size_t pos = 0, klen, vl;
	const char *k, *v;
	int r, found = 0;

	while ((r = k8s_json_object_next(obj, len, &pos, &k, &klen, &v, &vl)) == 1) {
		if (k8s_json_raw_equal(k, klen, key)) {
			*val = v;
			*vlen = vl;
			found = 1;
		}
	}
	return r < 0 ? -1 : found;
}

static size_t put_utf8(unsigned char *b, unsigned long r)
{
	if (r < 0x80) {
		b[0] = (unsigned char)r;
		return 1;
	}
	if (r < 0x800) {
		b[0] = (unsigned char)(0xC0 | (r >> 6));
		b[1] = (unsigned char)(0x80 | (r & 0x3F));
		return 2;
	}
	if (r < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (r >> 12));
		b[1] = (unsigned char)(0x80 | ((r >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (r & 0x3F));
		return 3;
	}
	b[0] = (unsigned char)(0xF0 | (r >> 18));
	b[1] = (unsigned char)(0x80 | ((r >> 12) & 0x3F));
	b[2] = (unsigned char)(0x80 | ((r >> 6) & 0x3F));
	b[3] = (unsigned char)(0x80 | (r & 0x3F));
	return 4;
}

size_t k8s_json_utf8_len(const unsigned char *u, size_t n)
{
	unsigned char c = u[0], lo = 0x80, hi = 0xBF;
	size_t need, k;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < need + 1 || u[1] < lo || u[1] > hi)
		return 0;
	for (k = 2; k <= need; k++)
		if (u[k] < 0x80 || u[k] > 0xBF)
			return 0;
	return need + 1;
}

static long hex4(const unsigned char *u, size_t n, size_t i)
{
	long r = 0;
	size_t k;
	if (i + 6 > n || u[i] != '\\' || u[i + 1] != 'u')
		return -1;
	for (k = 2; k < 6; k++) {
		int h = hex_val(u[i + k]);
		if (h < 0)
			return -1;
		r = r * 16 + h;
	}
	return r;
}

/* Decode the character of raw string content at *i into b (up to 4 bytes).
 * Returns its length, or -1 if malformed. */
static int next_char(const unsigned char *u, size_t n, size_t *i, unsigned char *b)
{
	unsigned char c = u[*i];
	long r, r2;
	size_t k;

	if (c == '\\') {
		if (*i + 1 >= n)
			return -1;
		switch (u[*i + 1]) {
		case '"': b[0] = '"'; break;
		case '\\': b[0] = '\\'; break;
		case '/': b[0] = '/'; break;
		case 'b': b[0] = '\b'; break;
		case 'f': b[0] = '\f'; break;
		case 'n': b[0] = '\n'; break;
		case 'r': b[0] = '\r'; break;
		case 't': b[0] = '\t'; break;
		case 'u':
			if ((r = hex4(u, n, *i)) < 0)
				return -1;
			*i += 6;
			if (r >= 0xD800 && r <= 0xDFFF) {
				r2 = hex4(u, n, *i);
				if (r < 0xDC00 && r2 >= 0xDC00 && r2 <= 0xDFFF) {
					r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
					*i += 6;
				} else {
					r = 0xFFFD;
				}
			}
			return (int)put_utf8(b, (unsigned long)r);
		default:
			return -1;
		}
		*i += 2;
		return 1;
	}
	if (c < 0x20 || c == '"')
		return -1;
	k = k8s_json_utf8_len(u + *i, n - *i);
	if (k == 0) {
		*i += 1;
		return (int)put_utf8(b, 0xFFFD);
	}
	memcpy(b, u + *i, k);
	*i += k;
	return (int)k;
}

int k8s_json_raw_equal(const char *raw, size_t rawlen, const char *s)
{
	const unsigned char *u = (const unsigned char *)raw;
	size_t i = 0, slen = strlen(s), j = 0;
	unsigned char b[4];
	int n;

	/* Bytes compare as they are only when nothing would be unescaped or
	 * replaced: no escape and no byte that may be invalid UTF-8. */
	while (i < rawlen && u[i] != '\\' && u[i] < 0x80)
		i++;
	if (i == rawlen)
		return rawlen == slen && memcmp(raw, s, slen) == 0;
	i = 0;
	while (i < rawlen) {
		if ((n = next_char(u, rawlen, &i, b)) < 0)
			return 0;
		if (j + (size_t)n > slen || memcmp(s + j, b, (size_t)n) != 0)
			return 0;
		j += (size_t)n;
	}
	return j == slen;
}

int k8s_json_string_dup(const char *val, size_t vlen, char **out)
{
	const unsigned char *u;
	size_t i, e, n = 0, raw;
	unsigned char b[4];
	char *s;
	int k;

	*out = NULL;
	i = k8s_json_skip_ws(val, vlen, 0);
	if (i >= vlen || val[i] != '"' || k8s_json_skip_value(val, vlen, i, &e) != 0)
		return -1;
	if (k8s_json_skip_ws(val, vlen, e) != vlen)
		return -1;
	u = (const unsigned char *)val + i + 1;
	raw = e - i - 2;
	for (i = 0; i < raw; n += (size_t)k)
		if ((k = next_char(u, raw, &i, b)) < 0)
			return -1;
	if (!(s = malloc(n + 1)))
		return -1;
	for (i = 0, n = 0; i < raw; n += (size_t)k)
		k = next_char(u, raw, &i, (unsigned char *)s + n);
	s[n] = 0;
	*out = s;
	return 0;
}
