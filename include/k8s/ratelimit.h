/**
 * @file k8s/ratelimit.h
 * @brief Client-side rate limiting (client-go's flowcontrol.RateLimiter).
 *
 * The default limiter is a token bucket (golang.org/x/time/rate semantics):
 * it starts full with `burst` tokens and refills at `qps` tokens a second.
 * Limiters are reference-counted so that one bucket can be shared by all
 * group-version clients of a clientset; they are thread-safe.
 */
#ifndef K8S_RATELIMIT_H
#define K8S_RATELIMIT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct k8s_rate_limiter k8s_rate_limiter;

/** Operations of a pluggable rate limiter. */
typedef struct {
	/** Take a token without waiting; return 1 if one was taken, else 0. */
	int (*try_accept)(void *payload);
	/** Block until a token is available and take it; return the seconds waited. */
	double (*accept)(void *payload);
	/** The configured rate in tokens per second. */
	double (*qps)(void *payload);
	/** Release payload when the last reference goes (may be NULL). */
	void (*free)(void *payload);
} k8s_rate_limiter_ops;

/**
 * Create a token-bucket limiter.
 * @param[out] out the new limiter (one reference)
 * @param qps tokens per second, > 0
 * @param burst bucket size, > 0
 * @return 0 or K8S_EINVALID
 */
K8S_EXTERN(int) k8s_rate_limiter_new_token_bucket(k8s_rate_limiter **out, double qps, int burst);

/**
 * Create a limiter from user-supplied operations (client-go's Config.RateLimiter).
 * @param[out] out the new limiter (one reference)
 * @param ops the operations; copied
 * @param payload passed to every operation
 * @return 0 or K8S_EINVALID
 */
K8S_EXTERN(int) k8s_rate_limiter_new_custom(k8s_rate_limiter **out, const k8s_rate_limiter_ops *ops, void *payload);

/** Take a token without waiting. @return 1 if taken, 0 if none was available */
K8S_EXTERN(int) k8s_rate_limiter_try_accept(k8s_rate_limiter *rl);

/** Wait for a token and take it. @return seconds waited */
K8S_EXTERN(double) k8s_rate_limiter_accept(k8s_rate_limiter *rl);

/**
 * Take a token without waiting for it: the caller waits the returned delay
 * before acting (an event loop sleeps without blocking). A custom limiter's
 * accept operation is called instead, and 0 returned.
 * @return seconds until the token is due (0 when one was available)
 */
K8S_EXTERN(double) k8s_rate_limiter_reserve(k8s_rate_limiter *rl);

/** The limiter's rate in tokens per second. */
K8S_EXTERN(double) k8s_rate_limiter_qps(k8s_rate_limiter *rl);

/** Add a reference. @return rl */
K8S_EXTERN(k8s_rate_limiter *) k8s_rate_limiter_ref(k8s_rate_limiter *rl);

/** Drop a reference; the limiter is freed with the last one. NULL is ignored. */
K8S_EXTERN(void) k8s_rate_limiter_free(k8s_rate_limiter *rl);

#ifdef __cplusplus
}
#endif
#endif
