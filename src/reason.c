#include <string.h>
#include "reason.h"

const char *k8s__reason_for_code(int code, const char *method)
{
	switch (code) {
	case 409:
		return method && strcmp(method, "POST") == 0 ? "AlreadyExists" : "Conflict";
	case 404: return "NotFound";
	case 400: return "BadRequest";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 406: return "NotAcceptable";
	case 415: return "UnsupportedMediaType";
	case 405: return "MethodNotAllowed";
	case 422: return "Invalid";
	case 503: return "ServiceUnavailable";
	case 504: return "Timeout";
	case 429: return "TooManyRequests";
	default:
		return code >= 500 ? "InternalError" : "Unknown";
	}
}
