/* Minimal test harness for the C tests: each test file defines
 * TEST(name) functions and lists them in a main() via RUN(name).
 * Output ends with the plain line "N passed, N failed". */
#ifndef K8S_TEST_H
#define K8S_TEST_H
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int test_failed_ = 0, test_passed_ = 0, test_cur_failed_ = 0;

#define TEST(name) static void test_##name(void)
#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
	test_cur_failed_ = 1; } } while (0)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) { fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", \
	__FILE__, __LINE__, #a, a_, b_); test_cur_failed_ = 1; } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) { fprintf(stderr, \
	"  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
	a_ ? a_ : "(null)", b_ ? b_ : "(null)"); test_cur_failed_ = 1; } } while (0)
#define RUN(name) do { test_cur_failed_ = 0; test_##name(); \
	if (test_cur_failed_) { test_failed_++; fprintf(stderr, "FAIL %s\n", #name); } \
	else { test_passed_++; fprintf(stderr, "ok   %s\n", #name); } } while (0)
/* stop the test (failed) when a precondition such as a client is missing */
#define REQUIRE(c) do { if (!(c)) { CHECK(c); return; } } while (0)

static inline int contains(const char *hay, const char *needle)
{
	return hay && needle && strstr(hay, needle) != NULL;
}

#define CHECK_HAS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
	if (!contains(h_, n_)) { fprintf(stderr, "  %s:%d: \"%.400s\" does not contain \"%s\"\n", \
	__FILE__, __LINE__, h_ ? h_ : "(null)", n_); test_cur_failed_ = 1; } } while (0)
/* a NULL haystack fails: "no message at all" proves nothing about a leak */
#define CHECK_HASNT(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
	if (!h_ || !n_) { fprintf(stderr, "  %s:%d: CHECK_HASNT on a NULL %s\n", \
	__FILE__, __LINE__, h_ ? "needle" : "text"); test_cur_failed_ = 1; } \
	else if (contains(h_, n_)) { fprintf(stderr, "  %s:%d: \"%.400s\" contains \"%s\"\n", \
	__FILE__, __LINE__, h_, n_); test_cur_failed_ = 1; } } while (0)

/* Monotonic seconds, and a sleep that survives signals. */
static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

#define TEST_SUMMARY() (printf("%d passed, %d failed\n", test_passed_, test_failed_), \
	test_failed_ ? 1 : 0)

/* Capture what the code under test writes to stderr (fd 2). */
typedef struct {
	int saved;
	FILE *tmp;
} capture;

static inline int capture_begin(capture *c)
{
	fflush(stderr);
	c->tmp = tmpfile();
	if (!c->tmp)
		return -1;
	c->saved = dup(2);
	dup2(fileno(c->tmp), 2);
	return 0;
}

/* Restore stderr; returns what was written (malloc'd). */
static inline char *capture_end(capture *c)
{
	long n;
	char *s;
	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	fseek(c->tmp, 0, SEEK_END);
	n = ftell(c->tmp);
	rewind(c->tmp);
	s = malloc((size_t)n + 1);
	if (!s)
		abort();
	n = (long)fread(s, 1, (size_t)n, c->tmp);
	s[n] = 0;
	fclose(c->tmp);
	return s;
}

#endif
