/* Allocation-failure injection for the C core: curl's "torture" idea
 * (runtests.pl -t): run a scenario once and count its allocations, then
 * rerun it once per allocation with exactly that one failing.
 *
 * How it hooks in. The test links a copy of libk8s-internal.a whose undefined
 * references to the allocators were renamed with
 *   objcopy --redefine-syms=tests/alloc_fail.syms libk8s-internal.a libk8s-fa.a
 * (see the Makefile): a call to malloc in src/ becomes a call to
 * k8s_fa_malloc, defined here. Only libk8s's own calls go through these
 * wrappers: the test's code (and tests/fakeserver.h), libcurl, OpenSSL and
 * libyaml keep the real allocator, so what fails is always an allocation our
 * code asked for and must handle. jansson is routed here as well through
 * json_set_alloc_funcs (only libk8s uses jansson in the test binary).
 *
 * Counted (and failed at the chosen index):
 *   malloc, calloc, realloc, strdup, strndup, realpath(p, NULL)
 *   jansson's allocations (json_loadb, json_object, json_dumps...)
 *   curl_slist_append, curl_easy_init, curl_multi_init, curl_share_init,
 *   curl_multi_add_handle (CURLM_OUT_OF_MEMORY), and the curl_easy_setopt
 *   calls that make libcurl copy a string or a blob (CURLE_OUT_OF_MEMORY,
 *   the option left unset, as libcurl does)
 *   SSL_CTX_new, SSL_new, BIO_new, BIO_new_mem_buf, OPENSSL_sk_new_null
 * Tracked (not failed): free, to find what our code leaks on each failure
 * path (fa_live(): blocks allocated through these wrappers and not freed),
 * and the TLS options given to each curl handle, so that a test can check
 * what every transfer started by libk8s was configured with
 * (fa_transfers_checked / fa_bad_transfers).
 *
 * One thread: the counters are plain (the library is driven from the main
 * thread; the fake server's thread never enters these wrappers). */
#ifndef K8S_ALLOC_FAIL_H
#define K8S_ALLOC_FAIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

static unsigned long fa_count;   /* counted allocations so far */
static unsigned long fa_fail_at; /* the one to fail (1-based); 0 = none */
static unsigned long fa_failed;  /* how many were failed (0 or 1 per run) */

/* Start a run that fails allocation n (0: none). */
static inline void fa_arm(unsigned long n)
{
	fa_count = 0;
	fa_failed = 0;
	fa_fail_at = n;
}

static inline void fa_disarm(void)
{
	fa_fail_at = 0;
}

/* 1 when this allocation is to fail. */
static int fa_should_fail(void)
{
	fa_count++;
	if (fa_fail_at && fa_count == fa_fail_at) {
		fa_failed++;
		return 1;
	}
	return 0;
}

/* ---- live blocks: an open-addressing set of pointers ---- */

/* The addresses are stored inverted (~p): a block leaked by the library
 * must not look reachable from this table to LeakSanitizer or valgrind. */
#define FA_SLOTS (1u << 17)
static uintptr_t fa_set[FA_SLOTS]; /* ~address, 0 = empty */
static size_t fa_nlive;

static size_t fa_hash(uintptr_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x & (FA_SLOTS - 1);
}

static void fa_track(uintptr_t a)
{
	uintptr_t p = ~a;
	size_t i;
	if (!a)
		return;
	if (fa_nlive + 1 >= FA_SLOTS / 2) {
		fprintf(stderr, "alloc_fail: too many live blocks\n");
		abort();
	}
	for (i = fa_hash(p); fa_set[i]; i = (i + 1) & (FA_SLOTS - 1))
		if (fa_set[i] == p)
			return;
	fa_set[i] = p;
	fa_nlive++;
}

/* By address only (the block may be gone already). */
static void fa_untrack(uintptr_t a)
{
	uintptr_t p = ~a;
	size_t i, j;
	if (!a)
		return;
	for (i = fa_hash(p); fa_set[i] != p; i = (i + 1) & (FA_SLOTS - 1))
		if (!fa_set[i])
			return; /* not ours (allocated inside a library) */
	fa_set[i] = 0;
	fa_nlive--;
	/* backward-shift deletion keeps every probe chain unbroken */
	for (j = (i + 1) & (FA_SLOTS - 1); fa_set[j]; j = (j + 1) & (FA_SLOTS - 1)) {
		size_t h = fa_hash(fa_set[j]);
		if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
			fa_set[i] = fa_set[j];
			fa_set[j] = 0;
			i = j;
		}
	}
}

/* Blocks allocated through the wrappers and not freed yet. */
static inline size_t fa_live(void)
{
	return fa_nlive;
}

/* ---- the C library ---- */

void *k8s_fa_malloc(size_t n);
void *k8s_fa_calloc(size_t n, size_t m);
void *k8s_fa_realloc(void *p, size_t n);
void k8s_fa_free(void *p);
char *k8s_fa_strdup(const char *s);
char *k8s_fa_strndup(const char *s, size_t n);
char *k8s_fa_realpath(const char *path, char *resolved);

void *k8s_fa_malloc(size_t n)
{
	void *p;
	if (fa_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	p = malloc(n);
	fa_track((uintptr_t)p);
	return p;
}

void *k8s_fa_calloc(size_t n, size_t m)
{
	void *p;
	if (fa_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	p = calloc(n, m);
	fa_track((uintptr_t)p);
	return p;
}

void *k8s_fa_realloc(void *p, size_t n)
{
	void *q;
	if (fa_should_fail()) {
		errno = ENOMEM;
		return NULL; /* p stays valid, as with the real realloc */
	}
	q = realloc(p, n);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
	if (q || n == 0) {
		fa_untrack((uintptr_t)p); /* the address only: the block may be gone */
		fa_track((uintptr_t)q);
	}
#pragma GCC diagnostic pop
	return q;
}

void k8s_fa_free(void *p)
{
	fa_untrack((uintptr_t)p);
	free(p);
}

char *k8s_fa_strdup(const char *s)
{
	char *p;
	if (fa_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	p = strdup(s);
	fa_track((uintptr_t)p);
	return p;
}

char *k8s_fa_strndup(const char *s, size_t n)
{
	char *p;
	if (fa_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	p = strndup(s, n);
	fa_track((uintptr_t)p);
	return p;
}

char *k8s_fa_realpath(const char *path, char *resolved)
{
	char *p;
	if (!resolved && fa_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	p = realpath(path, resolved);
	if (!resolved)
		fa_track((uintptr_t)p);
	return p;
}

/* ---- jansson ---- */

static void *fa_json_malloc(size_t n)
{
	return k8s_fa_malloc(n);
}

static void fa_json_free(void *p)
{
	k8s_fa_free(p);
}

/* ---- libcurl ---- */

/* What libk8s set on one easy handle since its creation or last reset. */
typedef struct {
	CURL *h;
	char *cainfo;          /* CURLOPT_CAINFO (a copy), or NULL */
	int ca_blob;           /* CURLOPT_CAINFO_BLOB set */
	int no_verify;         /* SSL_VERIFYPEER or SSL_VERIFYHOST set to 0 */
} fa_handle;

#define FA_MAX_HANDLES 64
static fa_handle fa_handles[FA_MAX_HANDLES];

/* The CA file every transfer must be given (NULL: not checked), or that it
 * must be given a CA blob (CAINFO_BLOB). */
static const char *fa_expect_cainfo;
static int fa_expect_ca_blob;
static unsigned long fa_transfers_checked, fa_bad_transfers;

static fa_handle *fa_handle_of(CURL *h, int create)
{
	int i, free_slot = -1;
	for (i = 0; i < FA_MAX_HANDLES; i++) {
		if (fa_handles[i].h == h)
			return &fa_handles[i];
		if (!fa_handles[i].h && free_slot < 0)
			free_slot = i;
	}
	if (!create)
		return NULL;
	if (free_slot < 0) {
		fprintf(stderr, "alloc_fail: too many curl handles\n");
		abort();
	}
	fa_handles[free_slot].h = h;
	return &fa_handles[free_slot];
}

static void fa_handle_forget(CURL *h)
{
	fa_handle *s = fa_handle_of(h, 0);
	if (s) {
		free(s->cainfo);
		memset(s, 0, sizeof(*s));
	}
}

struct curl_slist *k8s_fa_curl_slist_append(struct curl_slist *l, const char *s);
CURL *k8s_fa_curl_easy_init(void);
CURLcode k8s_fa_curl_easy_setopt(CURL *h, CURLoption opt, ...);
void k8s_fa_curl_easy_reset(CURL *h);
void k8s_fa_curl_easy_cleanup(CURL *h);
CURLM *k8s_fa_curl_multi_init(void);
CURLMcode k8s_fa_curl_multi_add_handle(CURLM *m, CURL *h);
CURLSH *k8s_fa_curl_share_init(void);

struct curl_slist *k8s_fa_curl_slist_append(struct curl_slist *l, const char *s)
{
	if (fa_should_fail())
		return NULL; /* l is left as it was */
	return curl_slist_append(l, s);
}

CURL *k8s_fa_curl_easy_init(void)
{
	CURL *h;
	if (fa_should_fail())
		return NULL;
	h = curl_easy_init();
	if (h)
		fa_handle_forget(h);
	return h;
}

/* setopt calls whose argument libcurl copies (an allocation that can fail) */
static int fa_setopt_copies(CURLoption opt)
{
	switch (opt) {
	case CURLOPT_URL:
	case CURLOPT_CAINFO:
	case CURLOPT_CAPATH:
	case CURLOPT_SSLCERT:
	case CURLOPT_SSLKEY:
	case CURLOPT_SSLCERTTYPE:
	case CURLOPT_SSLKEYTYPE:
	case CURLOPT_PROXY:
	case CURLOPT_CUSTOMREQUEST:
	case CURLOPT_ACCEPT_ENCODING:
	case CURLOPT_COPYPOSTFIELDS:
	case CURLOPT_CAINFO_BLOB:
	case CURLOPT_SSLCERT_BLOB:
	case CURLOPT_SSLKEY_BLOB:
		return 1;
	default:
		return 0;
	}
}

CURLcode k8s_fa_curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	va_list ap;
	CURLcode rc;
	fa_handle *s;
	int type = (int)opt / 10000 * 10000;
	long lv = 0;
	void *pv = NULL;
	curl_off_t ov = 0;
	void (*fv)(void) = NULL;
	va_start(ap, opt);
	switch (type) {
	case CURLOPTTYPE_LONG: lv = va_arg(ap, long); break;
	case CURLOPTTYPE_OBJECTPOINT: pv = va_arg(ap, void *); break;
	case CURLOPTTYPE_FUNCTIONPOINT: fv = va_arg(ap, void (*)(void)); break;
	case CURLOPTTYPE_OFF_T: ov = va_arg(ap, curl_off_t); break;
	case CURLOPTTYPE_BLOB: pv = va_arg(ap, void *); break;
	default:
		va_end(ap);
		fprintf(stderr, "alloc_fail: curl option %d of an unknown type\n", (int)opt);
		abort();
	}
	va_end(ap);
	if (fa_setopt_copies(opt) && pv && fa_should_fail())
		return CURLE_OUT_OF_MEMORY;
	switch (type) {
	case CURLOPTTYPE_LONG: rc = (curl_easy_setopt)(h, opt, lv); break;
	case CURLOPTTYPE_FUNCTIONPOINT: rc = (curl_easy_setopt)(h, opt, fv); break;
	case CURLOPTTYPE_OFF_T: rc = (curl_easy_setopt)(h, opt, ov); break;
	default: rc = (curl_easy_setopt)(h, opt, pv); break;
	}
	if (rc != CURLE_OK)
		return rc;
	s = fa_handle_of(h, 1);
	switch (opt) {
	case CURLOPT_CAINFO:
		free(s->cainfo);
		s->cainfo = pv ? strdup(pv) : NULL;
		break;
	case CURLOPT_CAINFO_BLOB:
		s->ca_blob = pv != NULL;
		break;
	case CURLOPT_SSL_VERIFYPEER:
	case CURLOPT_SSL_VERIFYHOST:
		if (!lv)
			s->no_verify = 1;
		break;
	default:
		break;
	}
	return rc;
}

void k8s_fa_curl_easy_reset(CURL *h)
{
	fa_handle_forget(h);
	curl_easy_reset(h);
}

void k8s_fa_curl_easy_cleanup(CURL *h)
{
	fa_handle_forget(h);
	curl_easy_cleanup(h);
}

CURLM *k8s_fa_curl_multi_init(void)
{
	if (fa_should_fail())
		return NULL;
	return curl_multi_init();
}

/* A transfer starts: check what its handle was given. */
CURLMcode k8s_fa_curl_multi_add_handle(CURLM *m, CURL *h)
{
	if (fa_should_fail())
		return CURLM_OUT_OF_MEMORY;
	if (fa_expect_cainfo || fa_expect_ca_blob) {
		fa_handle *s = fa_handle_of(h, 0);
		int ok = s && !s->no_verify &&
			 (fa_expect_ca_blob ? s->ca_blob : s->cainfo && strcmp(s->cainfo, fa_expect_cainfo) == 0);
		fa_transfers_checked++;
		if (!ok) {
			fa_bad_transfers++;
			fprintf(stderr, "  alloc_fail: a transfer started with CAINFO %s%s%s (expected %s)\n",
				s && s->cainfo ? s->cainfo : "(unset)", s && s->ca_blob ? " and a CA blob" : "",
				s && s->no_verify ? " and verification off" : "",
				fa_expect_ca_blob ? "a CA blob" : fa_expect_cainfo);
		}
	}
	return curl_multi_add_handle(m, h);
}

CURLSH *k8s_fa_curl_share_init(void)
{
	if (fa_should_fail())
		return NULL;
	return curl_share_init();
}

/* ---- OpenSSL constructors called by src/tls.c ---- */

SSL_CTX *k8s_fa_SSL_CTX_new(const SSL_METHOD *m);
SSL *k8s_fa_SSL_new(SSL_CTX *c);
BIO *k8s_fa_BIO_new(const BIO_METHOD *t);
BIO *k8s_fa_BIO_new_mem_buf(const void *p, int n);
OPENSSL_STACK *k8s_fa_OPENSSL_sk_new_null(void);

SSL_CTX *k8s_fa_SSL_CTX_new(const SSL_METHOD *m)
{
	return fa_should_fail() ? NULL : SSL_CTX_new(m);
}

SSL *k8s_fa_SSL_new(SSL_CTX *c)
{
	return fa_should_fail() ? NULL : SSL_new(c);
}

BIO *k8s_fa_BIO_new(const BIO_METHOD *t)
{
	return fa_should_fail() ? NULL : BIO_new(t);
}

BIO *k8s_fa_BIO_new_mem_buf(const void *p, int n)
{
	return fa_should_fail() ? NULL : BIO_new_mem_buf(p, n);
}

OPENSSL_STACK *k8s_fa_OPENSSL_sk_new_null(void)
{
	return fa_should_fail() ? NULL : OPENSSL_sk_new_null();
}

/* Route jansson through the wrappers (call once, before any JSON work). */
static inline void fa_init(void)
{
	json_set_alloc_funcs(fa_json_malloc, fa_json_free);
}

#endif
