/**
 * @file k8s/common.h
 * @brief Shared conventions of libk8s: return codes and the last-error call.
 *
 * Every function that can fail returns an int: 0 (K8S_OK) on success, a
 * negative K8S_E* code on failure. The detail of the most recent failure on
 * the calling thread is available from k8s_error_last(). Objects returned
 * through an `out` pointer belong to the caller and are released with that
 * type's `_free` function; getters borrow.
 *
 * Threading: library-wide state is initialised once (k8s_global_init, also
 * called implicitly). A client and the objects made from it must be used by
 * one thread at a time; distinct clients may be used from distinct threads,
 * also when they were made from one config (or its copies): what they share
 * (a rate limiter, the credential callback's payload and its token cache,
 * an exec plugin's credential cache, the hooks' payload) is reference-counted
 * atomically and locked, and each may be freed on any thread. A config may be read (clients made from it)
 * by several threads at once, but not changed meanwhile.
 */
#ifndef K8S_COMMON_H
#define K8S_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define K8S_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define K8S_EXTERN(type) extern type
#endif

/** Return codes. */
typedef enum {
	K8S_OK = 0,
	K8S_ERROR = -1,       /**< generic failure */
	K8S_EINVALID = -2,    /**< invalid argument or configuration */
	K8S_ENOTFOUND = -3,   /**< a file or entry does not exist */
	K8S_ESTATUS = -4,     /**< the server answered with an error Status */
	K8S_ETRANSPORT = -5,  /**< connection-level failure (refused, DNS, reset) */
	K8S_ETIMEOUT = -6,    /**< the operation timed out */
	K8S_ECERTIFICATE = -7,/**< TLS verification failed */
	K8S_EAUTH = -8,       /**< a credential could not be obtained */
	K8S_ENOMEM = -9,      /**< out of memory */
	K8S_EOF = -10,        /**< end of a stream or watch */
	K8S_EDECODE = -11     /**< a response could not be decoded */
} k8s_error_code;

/** The last error on this thread. */
typedef struct {
	int code;            /**< one of k8s_error_code */
	const char *reason;  /**< short class, e.g. "ConnectionRefused", "Invalid" */
	const char *message; /**< one readable line; never holds a secret */
} k8s_error;

/**
 * The last error recorded on the calling thread.
 * @return a pointer valid until the next failing call on this thread;
 *         never NULL (code K8S_OK and empty strings when there is none).
 */
K8S_EXTERN(const k8s_error *) k8s_error_last(void);

/** Clear the last error of the calling thread. */
K8S_EXTERN(void) k8s_error_clear(void);

/**
 * Initialise library-wide state (libcurl, OpenSSL, jansson's allocator)
 * once per process; later calls only report the outcome. Called implicitly
 * by constructors. Thread-safe. There is no shutdown: libcurl and OpenSSL
 * stay initialised for the life of the process (re-initialising them is not
 * thread-safe, and a host such as nginx may load the module more than once).
 * @return 0 or an error code
 */
K8S_EXTERN(int) k8s_global_init(void);

/**
 * Library-wide options, as libgit2's git_libgit2_opts: the core reads no
 * environment variable of its own (the Lua binding maps K8S_LUA_V,
 * K8S_LUA_EXEC_TIMEOUT, K8S_LUA_TOKEN_FILE_PERIOD and
 * K8S_LUA_SERVICEACCOUNT_DIR onto them when it loads). Thread-safe; a client
 * takes the values when it is built (the service-account directory when an
 * in-cluster config is made).
 */
typedef enum {
	K8S_OPT_VERBOSITY = 1,      /**< number: debug log level (6..9: method, URL, status, timing; 7 request
				     *   headers; 8 bodies; 9 response headers), 0 off (default) */
	K8S_OPT_EXEC_TIMEOUT,       /**< number: seconds an exec credential plugin may run before it is
				     *   killed (default 60) */
	K8S_OPT_TOKEN_FILE_PERIOD,  /**< number: seconds between re-reads of BearerTokenFile, 0 < p <= 50
				     *   (default 50: one minute less 10 s of leeway, as client-go) */
	K8S_OPT_SERVICEACCOUNT_DIR, /**< string: where the in-cluster config reads token, ca.crt and
				     *   namespace (default /var/run/secrets/kubernetes.io/serviceaccount) */
} k8s_option;

/**
 * Set a number option; a negative value restores the default (0 for
 * K8S_OPT_VERBOSITY turns logging off).
 * @return 0, or K8S_EINVALID naming the option when the value is out of
 *         range or the option is not a number
 */
K8S_EXTERN(int) k8s_global_set_number(k8s_option opt, double value);

/**
 * Set a string option (copied); NULL or "" restores the default.
 * @return 0, K8S_ENOMEM, or K8S_EINVALID when the option is not a string
 */
K8S_EXTERN(int) k8s_global_set_string(k8s_option opt, const char *value);

/** The library version, e.g. "0.1.0". */
K8S_EXTERN(const char *) k8s_version(void);

#ifdef __cplusplus
}
#endif
#endif
