#include <pthread.h>
#include <curl/curl.h>
#include "internal.h"

#define K8S_VERSION_STRING "0.1.0"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc;

static void do_init(void)
{
	init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int k8s_global_init(void)
{
	pthread_once(&once, do_init);
	if (init_rc < 0)
		return k8s__error(K8S_ERROR, "InitFailed", "libcurl global initialisation failed");
	return 0;
}

void k8s_global_shutdown(void)
{
	/* libcurl and OpenSSL stay initialised for the life of the process:
	 * re-initialising them is not thread-safe, and an embedding host (nginx,
	 * a Lua state per thread) may load the module more than once. */
}

const char *k8s_version(void)
{
	return K8S_VERSION_STRING;
}
