/* Private helpers shared by the C core. Not installed. */
#ifndef K8S_INTERNAL_H
#define K8S_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include "k8s.h"

#if defined(__GNUC__)
#define K8S_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define K8S_PRINTF(a, b)
#endif

/* Record the calling thread's last error; returns code so callers can
 * `return k8s__error(K8S_EINVALID, "Invalid", "...")`. The message must never
 * include a secret. */
int k8s__error(int code, const char *reason, const char *fmt, ...) K8S_PRINTF(3, 4);
int k8s__error_oom(void);

/* jansson may return a parse with a character dropped when an allocation
 * failed inside it (akheron/jansson#362). k8s__json_mark() before a
 * jansson call, k8s__json_oom() after: 1 if one of its allocations failed
 * on this thread meanwhile (then its result cannot be trusted). Needs
 * k8s_global_init. */
void k8s__json_mark(void);
int k8s__json_oom(void);

/* Library-wide options (k8s_global_set_number/_string, global.c): a number
 * option's value, and a copy of the service-account directory (free it; NULL
 * when out of memory). */
#define K8S__TOKEN_FILE_PERIOD 50.0 /* one minute less 10 s of leeway, as client-go */
double k8s__opt_number(k8s_option opt);
char *k8s__opt_sa_dir(void);

/* A growable byte buffer, always NUL-terminated when ptr != NULL. */
typedef struct {
	char *ptr;
	size_t len, cap;
} k8s_buf;

#define K8S_BUF_INIT {NULL, 0, 0}
int k8s_buf_grow(k8s_buf *b, size_t extra);
int k8s_buf_put(k8s_buf *b, const void *data, size_t len);
int k8s_buf_puts(k8s_buf *b, const char *s);
int k8s_buf_printf(k8s_buf *b, const char *fmt, ...) K8S_PRINTF(2, 3);
void k8s_buf_consume(k8s_buf *b, size_t n); /* drop n bytes from the front */
char *k8s_buf_detach(k8s_buf *b);           /* caller frees; buffer reset */
void k8s_buf_free(k8s_buf *b);
void k8s_buf_wipe_free(k8s_buf *b);         /* zero the whole buffer, then free */
/* Append s[0..n) as a JSON string (quoted, escaped; other bytes unchanged). */
int k8s_buf_put_json_string(k8s_buf *b, const char *s, size_t n);

/* Secrets (tokens, passwords, keys) are zeroed before their memory is
 * released, with explicit_bzero so that the compiler cannot drop the stores. */
void k8s__wipe(void *p, size_t n);          /* NULL-safe */
void k8s__sfree(char *s);                   /* wipe a C string, then free; NULL-safe */

int k8s__base64_encode(k8s_buf *b, const void *data, size_t n); /* appends */
char *k8s__strdup(const char *s);  /* NULL-safe */
char *k8s__strndup(const char *s, size_t n);
double k8s__now(void);             /* monotonic seconds */
double k8s__wall_now(void);        /* CLOCK_REALTIME seconds (Unix time) */
/* A Retry-After value as strconv.Atoi reads it: an optional sign and
 * digits only, |n| <= 1e9; 1 and *out, or 0 when it is no integer. */
int k8s__parse_retry_after(const char *v, int *out);
/* Read a whole file, NUL-terminated, into *data (the caller frees it, and
 * wipes it first when it may hold a secret): 0, or -errno (-EISDIR for a
 * directory, -EFBIG past max bytes, -ENOMEM). Growing the buffer never
 * leaves a copy of the contents in freed memory (keys, tokens). */
int k8s__read_file(const char *path, size_t max, char **data, size_t *len);
char *k8s__path_clean(const char *path); /* Go's path.Clean, lexically ("" -> "."); NULL: no memory */
void k8s__sleep(double seconds);

#endif
