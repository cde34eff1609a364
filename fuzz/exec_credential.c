/* ExecCredential parsing (src/exec.c parse_credential) and its RFC 3339
 * time parser (parse_time), both static: src/exec.c is compiled into this
 * harness, so libk8s.a's exec.o is never linked (every symbol it defines is
 * defined here first). No plugin is ever run: the input is the plugin's
 * stdout, handed to a stub provider.
 *
 * The stub provider expects client.authentication.k8s.io/v1beta1 when the
 * input contains "v1beta1", else .../v1. k8s__strdup and k8s__sfree are
 * wrapped (by macro, for exec.c only) to see which strings parse_credential
 * allocates and how they are released.
 *
 * Properties:
 *  - success: a non-empty token or a non-empty cert+key pair (both or
 *    neither); expiry is 0 exactly when status.expirationTimestamp is absent
 *    or empty, else finite and equal to a strict RFC 3339 reading of it when
 *    that reading exists; nothing allocated was released;
 *  - failure: K8S_EAUTH with a message that holds no distinctive token; the
 *    credential is zeroed and every string allocated for it was released
 *    through k8s__sfree (wiped), none through plain free;
 *  - parse_time(s) equals the strict reading for every RFC 3339 s, on the
 *    whole input as well;
 *  - the result does not depend on the locale: when a locale with a ','
 *    decimal point is installed (de_DE.UTF-8, fr_FR.UTF-8, ... or one in
 *    $LOCPATH), every input is parsed again under its LC_NUMERIC and must
 *    give the same result.
 */
#include "fuzz.h"

#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "internal.h"

/* ---- wrapping exec.c's secret allocations ---- */

#define TRACK_MAX 8
static struct {
	int on;
	char *alloc[TRACK_MAX];
	size_t nalloc;
	char *sfreed[TRACK_MAX];
	size_t nsfreed;
} track;

static char *fuzz_strdup(const char *s);
static void fuzz_sfree(char *s);

#define k8s__strdup fuzz_strdup
#define k8s__sfree fuzz_sfree
#include "../src/exec.c"
#undef k8s__strdup
#undef k8s__sfree

char *k8s__strdup(const char *s);
void k8s__sfree(char *s);

static char *fuzz_strdup(const char *s)
{
	char *r = k8s__strdup(s);
	if (track.on && r && track.nalloc < TRACK_MAX)
		track.alloc[track.nalloc++] = r;
	return r;
}

static void fuzz_sfree(char *s)
{
	if (track.on && s && track.nsfreed < TRACK_MAX)
		track.sfreed[track.nsfreed++] = s;
	k8s__sfree(s);
}

/* ---- a strict RFC 3339 reading, for comparison ---- */

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return 0;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; d may overflow the month). */
static long days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int rfc3339(const char *s, double *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, any = 0;
	double frac = 0, scale = 0.1, off = 0;
	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' || !digits(&s, 2, &d) ||
	    *s++ != 'T' || !digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi) || *s++ != ':' ||
	    !digits(&s, 2, &sec))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10, any = 1)
			frac += (*s - '0') * scale;
		if (!any)
			return 0;
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int neg = *s++ == '-';
		if (!digits(&s, 2, &oh) || *s++ != ':' || !digits(&s, 2, &om) || oh > 23 || om > 59)
			return 0;
		off = (oh * 3600.0 + om * 60.0) * (neg ? -1 : 1);
	} else {
		return 0;
	}
	if (*s)
		return 0;
	*out = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + sec - off + frac;
	return 1;
}

static void check_time(const char *s)
{
	double want, got = parse_time(s);
	if (rfc3339(s, &want) && want != 0)
		FUZZ_CHECK(fabs(got - want) < 1e-3, "parse_time(\"%s\") = %.6f, RFC 3339 says %.6f", s, got, want);
}

/* ---- the properties ---- */

static locale_t comma_locale;

/* glibc's newlocale leaks 32 bytes per call when $LOCPATH is set: not ours,
 * so LeakSanitizer (when linked in) is told to ignore it. */
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8",
					    "nl_NL.UTF-8", "ru_RU.UTF-8", "it_IT.UTF-8", "es_ES.UTF-8", "pt_BR.UTF-8"};
	size_t i;
	(void)argc;
	(void)argv;
	k8s_global_set_number(K8S_OPT_EXEC_TIMEOUT, -1);
	if (__lsan_disable)
		__lsan_disable();
	for (i = 0; !comma_locale && i < sizeof(names) / sizeof(*names); i++) {
		locale_t l = newlocale(LC_NUMERIC_MASK, names[i], (locale_t)0);
		if (l && strcmp(nl_langinfo_l(RADIXCHAR, l), ",") != 0) {
			freelocale(l);
			l = (locale_t)0;
		}
		comma_locale = l;
	}
	if (__lsan_enable)
		__lsan_enable();
	return 0;
}

typedef struct {
	int rc;
	k8s_credential c;
	char msg[1024];
} outcome;

static void run(k8s_exec_provider *p, const uint8_t *data, size_t size, outcome *o)
{
	size_t i, j;
	memset(&track, 0, sizeof(track));
	track.on = 1;
	o->rc = parse_credential(p, (const char *)data, size, &o->c);
	track.on = 0;
	snprintf(o->msg, sizeof(o->msg), "%s", o->rc ? k8s_error_last()->message : "");
	if (o->rc == 0) {
		FUZZ_CHECK(track.nsfreed == 0, "a credential string was released on success");
		return;
	}
	FUZZ_CHECK(o->rc == K8S_EAUTH, "unexpected code %d", o->rc);
	FUZZ_CHECK(*o->msg, "an error without a message");
	FUZZ_CHECK(!o->c.token && !o->c.cert_pem && !o->c.key_pem && o->c.expiry == 0,
		   "the credential is not cleared on error");
	for (i = 0; i < track.nalloc; i++) {
		for (j = 0; j < track.nsfreed && track.sfreed[j] != track.alloc[i]; j++)
			;
		FUZZ_CHECK(j < track.nsfreed, "a credential string allocated before the error was not wiped");
	}
}

/* 16+ characters of [A-Za-z0-9._~+/=-] with an upper, a lower and a digit,
 * in no other string of the document: no message text can hold it by chance. */
static int distinctive(const char *tok, json_t *j)
{
	size_t i;
	if (!fuzz_distinctive(tok, "._~+/=-"))
		return 0;
	/* the top level and status strings (keys included) other than the token */
	{
		json_t *objs[2] = {j, json_object_get(j, "status")};
		for (i = 0; i < 2; i++) {
			const char *k;
			json_t *v;
			if (!json_is_object(objs[i]))
				continue;
			json_object_foreach(objs[i], k, v) {
				if (strstr(k, tok))
					return 0;
				if (json_is_string(v) && !(i == 1 && !strcmp(k, "token")) && strstr(json_string_value(v), tok))
					return 0;
			}
		}
	}
	return 1;
}

static int nonempty(const char *s)
{
	return s && *s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char command[] = "fuzz-plugin", v1[] = "client.authentication.k8s.io/v1",
		    v1beta1[] = "client.authentication.k8s.io/v1beta1";
	k8s_exec_provider prov;
	outcome a, b;
	json_t *j;
	const char *exp = NULL, *tok = NULL;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	memset(&prov, 0, sizeof(prov));
	prov.command = command;
	prov.api_version = memmem(data, size, "v1beta1", 7) ? v1beta1 : v1;

	/* the time parser on its own, on the whole input */
	check_time(text);

	j = json_loadb((const char *)data, size, 0, NULL);
	if (json_is_object(j) && json_is_object(json_object_get(j, "status"))) {
		exp = json_string_value(json_object_get(json_object_get(j, "status"), "expirationTimestamp"));
		tok = json_string_value(json_object_get(json_object_get(j, "status"), "token"));
	}
	if (exp)
		check_time(exp);

	run(&prov, data, size, &a);
	if (a.rc == 0) {
		FUZZ_CHECK(nonempty(a.c.token) || (nonempty(a.c.cert_pem) && nonempty(a.c.key_pem)),
			   "success without a token or a cert/key pair");
		FUZZ_CHECK(nonempty(a.c.cert_pem) == nonempty(a.c.key_pem), "a certificate without a key, or the reverse");
		FUZZ_CHECK(j && json_is_object(j), "success on what jansson does not read as an object");
		FUZZ_CHECK(!nonempty(exp) == (a.c.expiry == 0), "expiry %f for the expirationTimestamp \"%s\"",
			   a.c.expiry, exp ? exp : "(none)");
		FUZZ_CHECK(isfinite(a.c.expiry), "expiry %f is not finite (\"%s\")", a.c.expiry, exp);
		if (nonempty(exp)) {
			double want;
			if (rfc3339(exp, &want))
				FUZZ_CHECK(fabs(a.c.expiry - want) < 1e-3, "expiry %.6f for \"%s\", RFC 3339 says %.6f",
					   a.c.expiry, exp, want);
		}
	} else if (nonempty(tok) && distinctive(tok, j)) {
		FUZZ_CHECK(!strstr(a.msg, tok), "the error message holds the token: %s", a.msg);
	}
	if (a.rc != 0 && nonempty(exp)) {
		/* exactly the time error (the input's own strings may echo its words) */
		char time_err[512];
		double want;
		snprintf(time_err, sizeof(time_err), "exec plugin %s: invalid expirationTimestamp %s", prov.command, exp);
		if (!strcmp(a.msg, time_err))
			FUZZ_CHECK(!rfc3339(exp, &want) || want == 0, "the RFC 3339 time \"%s\" was rejected: %s", exp,
				   a.msg);
	}

	/* the same under a locale whose decimal point is ',' */
	if (comma_locale) {
		locale_t prev = uselocale(comma_locale);
		run(&prov, data, size, &b);
		check_time(text);
		if (exp)
			check_time(exp);
		uselocale(prev);
		FUZZ_CHECK(a.rc == b.rc, "the result depends on LC_NUMERIC: %d (%s) vs %d (%s)", a.rc, a.msg, b.rc,
			   b.msg);
		FUZZ_CHECK(a.c.expiry == b.c.expiry && !strcmp(a.msg, b.msg), "the expiry depends on LC_NUMERIC");
		FUZZ_CHECK(nonempty(a.c.token) == nonempty(b.c.token) && nonempty(a.c.cert_pem) == nonempty(b.c.cert_pem),
			   "the credential depends on LC_NUMERIC");
		k8s__credential_clear(&b.c);
	}

	k8s__credential_clear(&a.c);
	json_decref(j);
	k8s_error_clear();
	free(text);
	return 0;
}
