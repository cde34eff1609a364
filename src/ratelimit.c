#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "internal.h"

struct k8s_rate_limiter {
	atomic_int refs;
	int custom;
	k8s_rate_limiter_ops ops;
	void *payload;
	/* token bucket, golang.org/x/time/rate semantics */
	pthread_mutex_t mu;
	double qps;
	int burst;
	double tokens; /* may go negative: reservations queue up */
	double last;   /* k8s__now() when tokens was computed */
};

int k8s_rate_limiter_new_token_bucket(k8s_rate_limiter **out, double qps, int burst)
{
	k8s_rate_limiter *rl;

	*out = NULL;
	if (isnan(qps) || qps <= 0)
		return k8s__error(K8S_EINVALID, "Invalid",
			"rate limiter QPS must be greater than 0, got %g", qps);
	if (burst <= 0)
		return k8s__error(K8S_EINVALID, "Invalid",
			"rate limiter Burst must be greater than 0, got %d", burst);
	if (!(rl = calloc(1, sizeof(*rl))))
		return k8s__error_oom();
	if (pthread_mutex_init(&rl->mu, NULL) != 0) {
		free(rl);
		return k8s__error_oom();
	}
	atomic_init(&rl->refs, 1);
	rl->qps = qps;
	rl->burst = burst;
	rl->tokens = burst;
	rl->last = k8s__now();
	*out = rl;
	return 0;
}

int k8s_rate_limiter_new_custom(k8s_rate_limiter **out, const k8s_rate_limiter_ops *ops, void *payload)
{
	k8s_rate_limiter *rl;

	*out = NULL;
	if (!ops || !ops->try_accept || !ops->accept)
		return k8s__error(K8S_EINVALID, "Invalid",
			"a custom rate limiter needs try_accept and accept operations");
	if (!(rl = calloc(1, sizeof(*rl))))
		return k8s__error_oom();
	atomic_init(&rl->refs, 1);
	rl->custom = 1;
	rl->ops = *ops;
	rl->payload = payload;
	*out = rl;
	return 0;
}

/* Take one token now, if the resulting wait would be at most max_wait
 * (x/time/rate's reserveN). Sets *wait to the delay until the token is due. */
static int reserve(k8s_rate_limiter *rl, double max_wait, double *wait)
{
	double now, last, tokens, w;
	int ok;

	pthread_mutex_lock(&rl->mu);
	now = k8s__now();
	last = rl->last < now ? rl->last : now;
	tokens = rl->tokens + (now - last) * rl->qps;
	if (tokens > rl->burst)
		tokens = rl->burst;
	tokens -= 1;
	w = tokens < 0 ? -tokens / rl->qps : 0;
	ok = w <= max_wait;
	if (ok) {
		rl->last = now;
		rl->tokens = tokens;
	}
	pthread_mutex_unlock(&rl->mu);
	*wait = w;
	return ok;
}

int k8s_rate_limiter_try_accept(k8s_rate_limiter *rl)
{
	double w;
	if (!rl)
		return 1;
	if (rl->custom)
		return rl->ops.try_accept(rl->payload) ? 1 : 0;
	if (isinf(rl->qps))
		return 1;
	return reserve(rl, 0, &w);
}

double k8s_rate_limiter_accept(k8s_rate_limiter *rl)
{
	double start, w;
	if (!rl)
		return 0;
	if (rl->custom)
		return rl->ops.accept(rl->payload);
	if (isinf(rl->qps))
		return 0;
	start = k8s__now();
	reserve(rl, INFINITY, &w);
	k8s__sleep(w);
	return k8s__now() - start;
}

double k8s_rate_limiter_reserve(k8s_rate_limiter *rl)
{
	double w;
	if (!rl)
		return 0;
	if (rl->custom) {
		rl->ops.accept(rl->payload);
		return 0;
	}
	if (isinf(rl->qps))
		return 0;
	reserve(rl, INFINITY, &w);
	return w;
}

double k8s_rate_limiter_qps(k8s_rate_limiter *rl)
{
	if (!rl)
		return 0;
	if (rl->custom)
		return rl->ops.qps ? rl->ops.qps(rl->payload) : 0;
	return rl->qps;
}

k8s_rate_limiter *k8s_rate_limiter_ref(k8s_rate_limiter *rl)
{
	if (rl)
		atomic_fetch_add_explicit(&rl->refs, 1, memory_order_relaxed);
	return rl;
}

void k8s_rate_limiter_free(k8s_rate_limiter *rl)
{
	if (!rl || atomic_fetch_sub_explicit(&rl->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (rl->custom) {
		if (rl->ops.free)
			rl->ops.free(rl->payload);
	} else {
		pthread_mutex_destroy(&rl->mu);
	}
	free(rl);
}
