#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "internal.h"

int k8s_buf_grow(k8s_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;
	char *p;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(b->ptr, cap);
	if (!p)
		return k8s__error_oom();
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int k8s_buf_put(k8s_buf *b, const void *data, size_t len)
{
	if (k8s_buf_grow(b, len) < 0)
		return K8S_ENOMEM;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = 0;
	return 0;
}

int k8s_buf_puts(k8s_buf *b, const char *s)
{
	return k8s_buf_put(b, s, strlen(s));
}

int k8s_buf_printf(k8s_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return k8s__error(K8S_ERROR, "Internal", "format error");
	if (k8s_buf_grow(b, (size_t)n) < 0)
		return K8S_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void k8s_buf_consume(k8s_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		if (b->ptr)
			b->ptr[0] = 0;
		return;
	}
	memmove(b->ptr, b->ptr + n, b->len - n);
	b->len -= n;
	b->ptr[b->len] = 0;
}

char *k8s_buf_detach(k8s_buf *b)
{
	char *p = b->ptr;
	if (!p)
		p = calloc(1, 1);
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

void k8s_buf_free(k8s_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

void k8s__wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

void k8s__sfree(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void k8s_buf_wipe_free(k8s_buf *b)
{
	k8s__wipe(b->ptr, b->cap);
	k8s_buf_free(b);
}

char *k8s__strdup(const char *s)
{
	return s ? k8s__strndup(s, strlen(s)) : NULL;
}

char *k8s__strndup(const char *s, size_t n)
{
	char *p;
	if (!s)
		return NULL;
	p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

double k8s__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double k8s__wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *k8s__path_clean(const char *in)
{
	size_t n = strlen(in), w = 0, r = 0, floor;
	int rooted = in[0] == '/';
	char *out = malloc(n + 2);
	if (!out)
		return NULL;
	if (rooted) {
		out[w++] = '/';
		r = 1;
	}
	floor = w;
	while (r < n) {
		if (in[r] == '/') {
			r++;
		} else if (in[r] == '.' && (r + 1 == n || in[r + 1] == '/')) {
			r++;
		} else if (in[r] == '.' && in[r + 1] == '.' && (r + 2 == n || in[r + 2] == '/')) {
			r += 2;
			if (w > floor) {
				while (w > floor && out[w - 1] != '/')
					w--;
				if (w > floor)
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				floor = w;
			}
		} else {
			if (w > 0 && out[w - 1] != '/')
				out[w++] = '/';
			while (r < n && in[r] != '/')
				out[w++] = in[r++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = 0;
	return out;
}

void k8s__sleep(double seconds)
{
	struct timespec ts;
	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0)
		;
}

int k8s__base64_encode(k8s_buf *b, const void *data, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = data;
	size_t i;
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
		char o[4] = {tbl[v >> 18 & 63], tbl[v >> 12 & 63], i + 1 < n ? tbl[v >> 6 & 63] : '=',
			     i + 2 < n ? tbl[v & 63] : '='};
		if (k8s_buf_put(b, o, 4) < 0)
			return K8S_ENOMEM;
	}
	return 0;
}

int k8s__read_file(const char *path, size_t max, char **data, size_t *len)
{
	struct stat st;
	size_t cap, n = 0;
	char *p, *q;
	int fd, e = 0;
	*data = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	if (e) {
		close(fd);
		return -e;
	}
	cap = st.st_size > 0 && (uint64_t)st.st_size < (uint64_t)max ? (size_t)st.st_size + 1 : 4096;
	p = malloc(cap);
	while (p) {
		ssize_t r = read(fd, p + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			e = EFBIG;
			break;
		}
		if (n == cap - 1) { /* full: a new buffer, the old one wiped */
			if ((q = malloc(cap * 2)))
				memcpy(q, p, n);
			k8s__wipe(p, cap);
			free(p);
			p = q;
			cap *= 2;
		}
	}
	close(fd);
	if (!p)
		return -ENOMEM;
	if (e) {
		k8s__wipe(p, cap);
		free(p);
		return -e;
	}
	p[n] = 0;
	*data = p;
	*len = n;
	return 0;
}

/* s[0..n) as a JSON string: quotes, backslash and control characters
 * escaped; other bytes (UTF-8 or not) are copied unchanged. */
int k8s_buf_put_json_string(k8s_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	if (k8s_buf_grow(b, n + 2) < 0 || k8s_buf_put(b, "\"", 1) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[6];
		size_t el;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (k8s_buf_put(b, s + start, i - start) < 0)
			return -1;
		start = i + 1;
		e[0] = '\\';
		el = 2;
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		default:
			memcpy(e + 1, "u00", 3);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			el = 6;
		}
		if (k8s_buf_put(b, e, el) < 0)
			return -1;
	}
	if (k8s_buf_put(b, s + start, n - start) < 0)
		return -1;
	return k8s_buf_put(b, "\"", 1);
}
