/* Go's time.Duration.String(), from seconds or whole nanoseconds. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "duration.h"

/* Go's fmtFrac: the fraction of v/10^prec, trailing zeros (and the point
 * when nothing is left) omitted, written backwards before buf[w]. */
static size_t fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	int print = 0, i;
	for (i = 0; i < prec; i++) {
		unsigned digit = (unsigned)(*v % 10);
		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

static size_t fmt_int(char *buf, size_t w, uint64_t v)
{
	if (v == 0)
		buf[--w] = '0';
	while (v > 0) {
		buf[--w] = (char)('0' + v % 10);
		v /= 10;
	}
	return w;
}

static int format_ns(uint64_t u, int neg, char *out, size_t n);

int k8s__format_go_duration(double seconds, char *out, size_t n)
{
	double ns;
	uint64_t u;
	int neg;

	if (n > 0)
		out[0] = 0;
	if (isnan(seconds))
		return -1;
	neg = seconds < 0;
	ns = (neg ? -seconds : seconds) * 1e9;
	if (ns >= 9223372036854775807.0)
		u = neg ? (uint64_t)1 << 63 : INT64_MAX;
	else
		u = (uint64_t)(ns + 0.5);
	return format_ns(u, neg, out, n);
}

int k8s__format_go_duration_ns(int64_t d, char *out, size_t n)
{
	if (n > 0)
		out[0] = 0;
	return d < 0 ? format_ns((uint64_t)0 - (uint64_t)d, 1, out, n) : format_ns((uint64_t)d, 0, out, n);
}

/* |d| = u nanoseconds, negative when neg */
static int format_ns(uint64_t u, int neg, char *out, size_t n)
{
	char buf[40];
	size_t w = sizeof(buf), len;

	if (u == 0) {
		buf[--w] = 's';
		buf[--w] = '0';
		neg = 0;
	} else if (u < 1000000000u) {
		int prec;
		buf[--w] = 's';
		if (u < 1000u) {
			prec = 0;
			buf[--w] = 'n';
		} else if (u < 1000000u) {
			prec = 3;
			buf[--w] = '\xb5'; /* U+00B5 micro sign, as Go writes it */
			buf[--w] = '\xc2';
		} else {
			prec = 6;
			buf[--w] = 'm';
		}
		w = fmt_frac(buf, w, &u, prec);
		w = fmt_int(buf, w, u);
	} else {
		buf[--w] = 's';
		w = fmt_frac(buf, w, &u, 9);
		w = fmt_int(buf, w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			w = fmt_int(buf, w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				w = fmt_int(buf, w, u);
			}
		}
	}
	if (neg)
		buf[--w] = '-';
	len = sizeof(buf) - w;
	if (len + 1 > n)
		return -1;
	memcpy(out, buf + w, len);
	out[len] = 0;
	return (int)len;
}
