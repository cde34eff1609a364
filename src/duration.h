/* Go's time.Duration format (duration.c). Internal; not installed. */
#ifndef K8S_DURATION_H
#define K8S_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Write seconds as Go's time.Duration.String() would ("0s", "500ms",
 * "1.5s", "1m0s", "1h2m3s"), after rounding to whole nanoseconds; negative
 * values get a leading '-', and magnitudes beyond Go's int64 range are
 * clamped to it. Returns the length written (excluding the NUL), or -1 if
 * seconds is NaN or out[0..n) is too small (out is then "" when n > 0).
 * 32 bytes always suffice. */
int k8s__format_go_duration(double seconds, char *out, size_t n);

/* The same from whole nanoseconds (a metav1.Duration), exact. */
int k8s__format_go_duration_ns(int64_t ns, char *out, size_t n);

#endif
