/**
 * @file k8s/watch.h
 * @brief Watch stream framing: bytes in, events out.
 *
 * A watch response body is a sequence of concatenated JSON objects
 * `{"type": ..., "object": {...}}` (newlines between them are optional and
 * chunk boundaries fall anywhere). The decoder is independent of any
 * transport, so a non-blocking transport can feed it too.
 */
#ifndef K8S_WATCH_H
#define K8S_WATCH_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default and client-go cap on one watch frame: 16 MiB. */
#define K8S_WATCH_MAX_FRAME (16u * 1024u * 1024u)

typedef enum {
	K8S_WATCH_ADDED = 1,
	K8S_WATCH_MODIFIED,
	K8S_WATCH_DELETED,
	K8S_WATCH_BOOKMARK,
	K8S_WATCH_ERROR
} k8s_watch_event_type;

/** One decoded event; pointers borrow from the decoder until the next call. */
typedef struct {
	k8s_watch_event_type type;
	const char *type_name;  /**< "ADDED", "MODIFIED", ... */
	const char *object;     /**< the raw JSON of the "object" member */
	size_t object_len;
	int protobuf;           /**< 0: object is JSON (always, unless the
				     library's Lua binding asked for protobuf
				     objects, which are then k8s\0 envelopes) */
} k8s_watch_event;

typedef struct k8s_watch_decoder k8s_watch_decoder;

/**
 * Create a decoder.
 * @param[out] out the decoder
 * @param max_frame largest accepted frame in bytes (0 = K8S_WATCH_MAX_FRAME)
 * @return 0 or K8S_ENOMEM
 */
K8S_EXTERN(int) k8s_watch_decoder_new(k8s_watch_decoder **out, size_t max_frame);

/**
 * Append bytes received from the stream.
 * @return 0, K8S_ENOMEM, or K8S_EDECODE when a frame exceeds the cap
 */
K8S_EXTERN(int) k8s_watch_decoder_feed(k8s_watch_decoder *d, const char *data, size_t len);

/**
 * Take the next complete event.
 * @param[out] ev filled when 1 is returned
 * @return 1 when an event was produced, 0 when more bytes are needed,
 *         K8S_EDECODE for a malformed frame, an unknown type, a frame over
 *         the cap (the last error says which)
 */
K8S_EXTERN(int) k8s_watch_decoder_next(k8s_watch_decoder *d, k8s_watch_event *ev);

/** Bytes buffered but not yet returned as an event (whitespace ignored). */
K8S_EXTERN(size_t) k8s_watch_decoder_pending(const k8s_watch_decoder *d);

/** Free a decoder. NULL is ignored. */
K8S_EXTERN(void) k8s_watch_decoder_free(k8s_watch_decoder *d);

/**
 * The object of the ERROR event client-go's StreamWatcher sends when an event
 * cannot be decoded (apierrors.NewClientErrorReporter(500, verb,
 * "ClientWatchDecoding")): a v1 Status, reason InternalError, code 500, whose
 * causes are UnexpectedServerResponse and ClientWatchDecoding, each with the
 * message "unable to decode an event from the watch stream: <what>".
 * A watch loop that ends on K8S_EDECODE from k8s_watch_next can hand this to
 * its consumer as client-go does.
 * @param what the decoding error (e.g. k8s_error_last()->message)
 * @return the Status as JSON (the caller frees it), or NULL when out of memory
 */
K8S_EXTERN(char *) k8s_watch_decoding_status(const char *what);

#ifdef __cplusplus
}
#endif
#endif
