/* Token-bucket and custom rate limiters. Timing checks are lower bounds
 * only, so a slow machine cannot make them fail. */
#include <math.h>
#include <pthread.h>
#include <time.h>
#include "test.h"
#include "k8s/ratelimit.h"

TEST(burst_available_immediately)
{
	k8s_rate_limiter *rl;
	int i;
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, 0.5, 10), 0);
	for (i = 0; i < 10; i++)
		CHECK_INT(k8s_rate_limiter_try_accept(rl), 1);
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 0);
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 0);
	CHECK(k8s_rate_limiter_qps(rl) == 0.5);
	k8s_rate_limiter_free(rl);
}

TEST(refill_after_sleep)
{
	k8s_rate_limiter *rl;
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, 5, 2), 0);
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 1);
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 1);
	/* failed tries reserve nothing (tokens stay at 0, not below) */
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 0);
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 0);
	sleep_s(0.25); /* 1/qps = 0.2 */
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 1);
	/* the bucket never holds more than burst */
	sleep_s(0.5);
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 1);
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 1);
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 0);
	k8s_rate_limiter_free(rl);
}

TEST(accept_waits)
{
	k8s_rate_limiter *rl;
	double t0, waited;
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, 10, 1), 0);
	waited = k8s_rate_limiter_accept(rl); /* the burst token */
	CHECK(waited >= 0);
	t0 = now_s();
	waited = k8s_rate_limiter_accept(rl);
	CHECK(waited >= 0.08);
	CHECK(now_s() - t0 >= 0.08);
	k8s_rate_limiter_free(rl);
}

TEST(accept_reservations_queue)
{
	/* tokens go negative: three waiters after an empty bucket take
	 * 1, 2 and 3 intervals, as with x/time/rate */
	k8s_rate_limiter *rl;
	double t0;
	int i;
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, 25, 1), 0);
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 1);
	t0 = now_s();
	for (i = 0; i < 3; i++)
		k8s_rate_limiter_accept(rl);
	CHECK(now_s() - t0 >= 0.8 * 3 / 25.0);
	k8s_rate_limiter_free(rl);
}

static void *take_three(void *arg)
{
	int i;
	for (i = 0; i < 3; i++)
		k8s_rate_limiter_accept(arg);
	return NULL;
}

TEST(shared_between_threads)
{
	k8s_rate_limiter *rl;
	pthread_t th[4];
	double t0;
	int i;
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, 50, 1), 0);
	t0 = now_s();
	for (i = 0; i < 4; i++)
		CHECK_INT(pthread_create(&th[i], NULL, take_three, k8s_rate_limiter_ref(rl)), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		k8s_rate_limiter_free(rl);
	}
	/* 12 tokens, one from the burst: at least 11 intervals */
	CHECK(now_s() - t0 >= 0.8 * 11 / 50.0);
	k8s_rate_limiter_free(rl);
}

TEST(invalid_arguments)
{
	k8s_rate_limiter *rl = (k8s_rate_limiter *)&rl;
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, 0, 10), K8S_EINVALID);
	CHECK(rl == NULL);
	CHECK_INT(k8s_error_last()->code, K8S_EINVALID);
	CHECK(strstr(k8s_error_last()->message, "QPS") != NULL);
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, -5, 10), K8S_EINVALID);
	CHECK(strstr(k8s_error_last()->message, "QPS") != NULL);
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, NAN, 10), K8S_EINVALID);
	CHECK(strstr(k8s_error_last()->message, "QPS") != NULL);
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, 5, 0), K8S_EINVALID);
	CHECK(strstr(k8s_error_last()->message, "Burst") != NULL);
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, 5, -1), K8S_EINVALID);
	CHECK(strstr(k8s_error_last()->message, "Burst") != NULL);
	CHECK(rl == NULL);
	CHECK_INT(k8s_rate_limiter_new_custom(&rl, NULL, NULL), K8S_EINVALID);
	CHECK(rl == NULL);
}

TEST(infinite_qps_never_limits)
{
	k8s_rate_limiter *rl;
	int i;
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, INFINITY, 1), 0);
	for (i = 0; i < 1000; i++)
		CHECK_INT(k8s_rate_limiter_try_accept(rl), 1);
	CHECK(k8s_rate_limiter_accept(rl) == 0);
	k8s_rate_limiter_free(rl);
}

TEST(null_limiter_is_unlimited)
{
	CHECK_INT(k8s_rate_limiter_try_accept(NULL), 1);
	CHECK(k8s_rate_limiter_accept(NULL) == 0);
	CHECK(k8s_rate_limiter_qps(NULL) == 0);
	CHECK(k8s_rate_limiter_ref(NULL) == NULL);
	k8s_rate_limiter_free(NULL);
}

TEST(refcount)
{
	k8s_rate_limiter *rl, *r2;
	CHECK_INT(k8s_rate_limiter_new_token_bucket(&rl, 5, 10), 0);
	r2 = k8s_rate_limiter_ref(rl);
	CHECK(r2 == rl);
	k8s_rate_limiter_free(rl);
	/* still usable through the second reference */
	CHECK_INT(k8s_rate_limiter_try_accept(r2), 1);
	CHECK(k8s_rate_limiter_qps(r2) == 5);
	k8s_rate_limiter_free(r2);
}

struct counts {
	int try_accept, accept, qps, free;
};

static int c_try(void *p) { ((struct counts *)p)->try_accept++; return 7; }
static double c_accept(void *p) { ((struct counts *)p)->accept++; return 0.25; }
static double c_qps(void *p) { ((struct counts *)p)->qps++; return 42; }
static void c_free(void *p) { ((struct counts *)p)->free++; }

TEST(custom_ops)
{
	struct counts c = {0, 0, 0, 0};
	k8s_rate_limiter_ops ops = {c_try, c_accept, c_qps, c_free};
	k8s_rate_limiter *rl;
	CHECK_INT(k8s_rate_limiter_new_custom(&rl, &ops, &c), 0);
	ops.try_accept = NULL; /* the ops were copied */
	CHECK_INT(k8s_rate_limiter_try_accept(rl), 1);
	CHECK(k8s_rate_limiter_accept(rl) == 0.25);
	CHECK(k8s_rate_limiter_qps(rl) == 42);
	CHECK_INT(c.try_accept, 1);
	CHECK_INT(c.accept, 1);
	CHECK_INT(c.qps, 1);
	k8s_rate_limiter_ref(rl);
	k8s_rate_limiter_free(rl);
	CHECK_INT(c.free, 0);
	k8s_rate_limiter_free(rl);
	CHECK_INT(c.free, 1);
}

TEST(custom_ops_optional_members)
{
	k8s_rate_limiter_ops ops = {c_try, c_accept, NULL, NULL};
	k8s_rate_limiter *rl;
	struct counts c = {0, 0, 0, 0};
	CHECK_INT(k8s_rate_limiter_new_custom(&rl, &ops, &c), 0);
	CHECK(k8s_rate_limiter_qps(rl) == 0);
	k8s_rate_limiter_free(rl);
	ops.accept = NULL;
	CHECK_INT(k8s_rate_limiter_new_custom(&rl, &ops, &c), K8S_EINVALID);
	ops.accept = c_accept;
	ops.try_accept = NULL;
	CHECK_INT(k8s_rate_limiter_new_custom(&rl, &ops, &c), K8S_EINVALID);
}

int main(void)
{
	RUN(burst_available_immediately);
	RUN(refill_after_sleep);
	RUN(accept_waits);
	RUN(accept_reservations_queue);
	RUN(shared_between_threads);
	RUN(invalid_arguments);
	RUN(infinite_qps_never_limits);
	RUN(null_limiter_is_unlimited);
	RUN(refcount);
	RUN(custom_ops);
	RUN(custom_ops_optional_members);
	return TEST_SUMMARY();
}
