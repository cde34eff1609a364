/* client-go's fallbacks for error responses without a Status body (and,
 * through duration.h, Go's duration format). Internal; not installed. */
#ifndef K8S_REASON_H
#define K8S_REASON_H

#include "duration.h"

/* The StatusReason apimachinery's NewGenericServerResponse gives an HTTP
 * code: 409 is "AlreadyExists" for method "POST" and "Conflict" otherwise;
 * codes outside its table are "InternalError" from 500 up, else "Unknown".
 * method may be NULL. Returns a static string. */
const char *k8s__reason_for_code(int code, const char *method);

#endif
