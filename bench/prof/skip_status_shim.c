/* Profiling aid, not part of the benchmark: LD_PRELOAD this to make
 * jansson's json_loadb() fail for bodies of at least SKIP_STATUS_MIN bytes
 * (default 0 = always). The C core (src/result.c, decode_status) parses every
 * response body with json_loadb only to see whether it is a metav1.Status;
 * with this shim that parse is skipped, which projects the gain of doing the
 * check without a full parse. Only use it for successful responses (canned
 * or real GET/LIST): error Status bodies would no longer be recognised.
 *
 *   gcc -O2 -shared -fPIC -o build/bench/skip_status_shim.so bench/prof/skip_status_shim.c -ldl
 *   LD_PRELOAD=build/bench/skip_status_shim.so lua5.4 ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <jansson.h>

json_t *json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error)
{
	static json_t *(*real)(const char *, size_t, size_t, json_error_t *);
	static long min = -1;
	if (min < 0) {
		const char *e = getenv("SKIP_STATUS_MIN");
		min = e ? atol(e) : 0;
	}
	if ((long)buflen >= min)
		return NULL;
	if (!real)
		real = (json_t * (*)(const char *, size_t, size_t, json_error_t *)) dlsym(RTLD_NEXT, "json_loadb");
	return real(buffer, buflen, flags, error);
}
