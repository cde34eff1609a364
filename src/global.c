#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- library-wide options (k8s_global_set_number/_string) ---- */

#define EXEC_TIMEOUT_DEFAULT 60.0
#define SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"

static pthread_mutex_t opt_mu = PTHREAD_MUTEX_INITIALIZER;
static double opt_verbosity, opt_exec_timeout = EXEC_TIMEOUT_DEFAULT,
	      opt_token_file_period = K8S__TOKEN_FILE_PERIOD;
/* a fixed buffer, not the heap: a host may unload the library (Lua closes
 * its C modules) with the option still set */
static char opt_sa_dir[4096];

static const char *opt_name(k8s_option opt)
{
	switch (opt) {
	case K8S_OPT_VERBOSITY: return "K8S_OPT_VERBOSITY";
	case K8S_OPT_EXEC_TIMEOUT: return "K8S_OPT_EXEC_TIMEOUT";
	case K8S_OPT_TOKEN_FILE_PERIOD: return "K8S_OPT_TOKEN_FILE_PERIOD";
	case K8S_OPT_SERVICEACCOUNT_DIR: return "K8S_OPT_SERVICEACCOUNT_DIR";
	}
	return "unknown option";
}

int k8s_global_set_number(k8s_option opt, double value)
{
	double *slot, def;
	switch (opt) {
	case K8S_OPT_VERBOSITY:
		slot = &opt_verbosity;
		def = 0;
		break;
	case K8S_OPT_EXEC_TIMEOUT:
		slot = &opt_exec_timeout;
		def = EXEC_TIMEOUT_DEFAULT;
		if (value == 0)
			return k8s__error(K8S_EINVALID, "InvalidOption", "%s must be above 0 seconds", opt_name(opt));
		break;
	case K8S_OPT_TOKEN_FILE_PERIOD:
		slot = &opt_token_file_period;
		def = K8S__TOKEN_FILE_PERIOD;
		if (value == 0 || value > K8S__TOKEN_FILE_PERIOD)
			return k8s__error(K8S_EINVALID, "InvalidOption", "%s must be above 0 and at most %g seconds, got %g",
					  opt_name(opt), K8S__TOKEN_FILE_PERIOD, value);
		break;
	default:
		return k8s__error(K8S_EINVALID, "InvalidOption", "%s is not a number option (%d)", opt_name(opt), (int)opt);
	}
	if (value != value)
		return k8s__error(K8S_EINVALID, "InvalidOption", "%s: not a number", opt_name(opt));
	pthread_mutex_lock(&opt_mu);
	*slot = value < 0 ? def : value;
	pthread_mutex_unlock(&opt_mu);
	return 0;
}

int k8s_global_set_string(k8s_option opt, const char *value)
{
	size_t n = value ? strlen(value) : 0;
	if (opt != K8S_OPT_SERVICEACCOUNT_DIR)
		return k8s__error(K8S_EINVALID, "InvalidOption", "%s is not a string option (%d)", opt_name(opt), (int)opt);
	if (n >= sizeof(opt_sa_dir))
		return k8s__error(K8S_EINVALID, "InvalidOption", "%s: longer than %zu bytes", opt_name(opt),
				  sizeof(opt_sa_dir) - 1);
	pthread_mutex_lock(&opt_mu);
	memcpy(opt_sa_dir, value ? value : "", n + 1);
	pthread_mutex_unlock(&opt_mu);
	return 0;
}

double k8s__opt_number(k8s_option opt)
{
	double v = 0;
	pthread_mutex_lock(&opt_mu);
	switch (opt) {
	case K8S_OPT_VERBOSITY: v = opt_verbosity; break;
	case K8S_OPT_EXEC_TIMEOUT: v = opt_exec_timeout; break;
	case K8S_OPT_TOKEN_FILE_PERIOD: v = opt_token_file_period; break;
	default: break;
	}
	pthread_mutex_unlock(&opt_mu);
	return v;
}

char *k8s__opt_sa_dir(void)
{
	char *d;
	pthread_mutex_lock(&opt_mu);
	d = k8s__strdup(*opt_sa_dir ? opt_sa_dir : SA_DIR_DEFAULT);
	pthread_mutex_unlock(&opt_mu);
	return d;
}
