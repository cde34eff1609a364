/* A small, allocation-free scanner over JSON text (RFC 8259, with
 * encoding/json's nesting limit). Internal; not installed.
 *
 * The scanner finds where values end without building them; the watch
 * decoder, Status and credential decoding pick members out of objects with
 * it and decode only the strings they need. */
#ifndef K8S_JSONSCAN_H
#define K8S_JSONSCAN_H

#include <stddef.h>

/* Deepest nesting accepted, as in Go's encoding/json. */
#define K8S_JSON_MAX_DEPTH 10000

/* Resumable scanner state: feed it text in pieces, it remembers where it
 * was (inside a string escape, a number, a literal, a container). It holds
 * no pointer into the text, so the caller may move or grow its buffer
 * between calls as long as it passes consistent offsets. */
typedef struct {
	int state;
	int after_string;     /* state to enter when the current string ends */
	unsigned depth;
	unsigned aux;         /* hex digits left in \u, or literal position */
	const char *lit;      /* literal being matched ("true", ...) */
	unsigned char stack[(K8S_JSON_MAX_DEPTH + 7) / 8]; /* 1 bit a level: object? */
} k8s_json_scanner;

void k8s_json_scanner_init(k8s_json_scanner *s);

/* Continue scanning p[i..len) for the value the scanner is in (or about to
 * start; leading whitespace is skipped). Returns 0 when the value is
 * complete, with *end one past its last byte; 1 when the text ran out
 * first (*end = len; call again with more text from there); -1 when the
 * text is malformed (*end = offset of the offending byte). A number that
 * reaches the end of the text at top level counts as unfinished (1), since
 * more digits could follow. */
int k8s_json_scanner_run(k8s_json_scanner *s, const char *p, size_t len, size_t i, size_t *end);

/* Index of the first non-whitespace byte at or after i (len if none). */
size_t k8s_json_skip_ws(const char *p, size_t len, size_t i);

/* Given i at the start of a JSON value (whitespace allowed before it), set
 * *end one past its end. Returns 0, 1 if the text ends before the value
 * does, -1 if malformed. Iterative; deeper than K8S_JSON_MAX_DEPTH is
 * malformed. */
int k8s_json_skip_value(const char *p, size_t len, size_t i, size_t *end);

/* Iterate the top-level members of the object in obj[0..len). Start with
 * *pos = 0. Each call returns 1 and sets the raw key (between the quotes,
 * still escaped) and the raw value text; 0 after the last member; -1 if the
 * text is not a well-formed, complete object. */
int k8s_json_object_next(const char *obj, size_t len, size_t *pos,
	const char **key, size_t *klen, const char **val, size_t *vlen);

/* Find a top-level member of the object in obj[0..len) (leading
 * whitespace allowed). Keys are compared after unescaping; with duplicate
 * keys the last wins, as in encoding/json. The whole object is checked.
 * Returns 1 found (*val, *vlen = the raw value), 0 not found, -1 malformed. */
int k8s_json_object_get(const char *obj, size_t len, const char *key,
	const char **val, size_t *vlen);

/* Whether the raw (still escaped, unquoted) JSON string content equals the
 * NUL-terminated s after unescaping. Allocation-free. */
int k8s_json_raw_equal(const char *raw, size_t rawlen, const char *s);

/* Length of the valid UTF-8 sequence at u[0..n) (n > 0), or 0 when it is
 * invalid by the rules of Go's utf8.DecodeRune: no overlong form, surrogate,
 * code point past U+10FFFF or truncated sequence. */
size_t k8s_json_utf8_len(const unsigned char *u, size_t n);

/* Decode a JSON string value (with its quotes; surrounding whitespace
 * allowed) into a malloc'd NUL-terminated UTF-8 string. Escapes, \uXXXX and
 * surrogate pairs are decoded; lone surrogates and invalid UTF-8 become
 * U+FFFD, as in encoding/json. Returns 0, or -1 if malformed or out of
 * memory (*out is then NULL). */
int k8s_json_string_dup(const char *val, size_t vlen, char **out);

#endif
