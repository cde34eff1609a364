#include <pthread.h>
#include <curl/curl.h>
#include <jansson.h>
#include "internal.h"

#define K8S_VERSION_STRING "0.1.0"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc;

/* jansson's allocator, chained to note failures: out of memory inside
 * json_loadb can drop a character of a string and still succeed
 * (akheron/jansson#362), so a parse during which an allocation failed
 * cannot be trusted (k8s__json_oom). */
static json_malloc_t json_next_malloc;
static json_free_t json_next_free;
static _Thread_local int json_failed;

static void *json_malloc_noted(size_t n)
{
	void *p = json_next_malloc(n);
	if (!p)
		json_failed = 1;
	return p;
}

static void json_free_chained(void *p)
{
	json_next_free(p);
}

void k8s__json_mark(void)
{
	json_failed = 0;
}

int k8s__json_oom(void)
{
	return json_failed;
}

static void do_init(void)
{
	init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
	json_get_alloc_funcs(&json_next_malloc, &json_next_free);
	json_set_alloc_funcs(json_malloc_noted, json_free_chained);
}

int k8s_global_init(void)
{
	pthread_once(&once, do_init);
	if (init_rc < 0)
		return k8s__error(K8S_ERROR, "InitFailed", "libcurl global initialisation failed");
	return 0;
}

const char *k8s_version(void)
{
	return K8S_VERSION_STRING;
}
