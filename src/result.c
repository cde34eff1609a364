/* Turning a response into a Result: success, a decoded metav1.Status, or a
 * Status built from the code table (client-go's transformResponse and
 * errors.NewGenericServerResponse). */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "rest_internal.h"
#include "reason.h"
#include "jsonscan.h"
#include "proto.h"

/* A success body larger than this is not examined for a Status. */
#define STATUS_SCAN_LIMIT (64 * 1024)

#define MAX_UNSTRUCTURED_BYTES 2048

/* apimachinery's NewGenericServerResponse messages. server_msg is what
 * client-go passes: the trimmed text body (at most 2048 bytes), or
 * "unknown" when the body is not text. */
static int generic_message(k8s_buf *out, int code, const char *server_msg)
{
	switch (code) {
	case 409: return k8s_buf_puts(out, "the server reported a conflict");
	case 404: return k8s_buf_puts(out, "the server could not find the requested resource");
	case 400: return k8s_buf_puts(out, "the server rejected our request for an unknown reason");
	case 401: return k8s_buf_puts(out, "the server has asked for the client to provide credentials");
	/* 403 and 415 keep the server's message; an empty body gets a readable
	 * line instead of client-go's empty message */
	case 403:
		return k8s_buf_puts(out, *server_msg ? server_msg
						     : "the server does not allow access to the requested resource");
	case 405: return k8s_buf_puts(out, "the server does not allow this method on the requested resource");
	case 406:
		return k8s_buf_puts(out, *server_msg && strcmp(server_msg, "unknown") != 0
						 ? server_msg
						 : "the server was unable to respond with a content type that the client supports");
	case 415:
		return k8s_buf_puts(out, *server_msg ? server_msg
						     : "the server does not support the media type of the request");
	case 422: return k8s_buf_puts(out, "the server rejected our request due to an error in our request");
	case 429:
		return k8s_buf_puts(out, "the server has received too many requests and has asked us to try again later");
	case 503: return k8s_buf_puts(out, "the server is currently unable to handle the request");
	case 504:
		return k8s_buf_puts(out, "the server was unable to return a response in the time allotted, "
					 "but may still be processing the request");
	default:
		if (code >= 500) {
			/* fmt.Sprintf("an error on the server (%q) has prevented ...") */
			static const char hex[] = "0123456789abcdef";
			const unsigned char *p;
			int rc = k8s_buf_puts(out, "an error on the server (\"");
			for (p = (const unsigned char *)server_msg; rc == 0 && *p; p++) {
				switch (*p) {
				case '"': rc = k8s_buf_puts(out, "\\\""); break;
				case '\\': rc = k8s_buf_puts(out, "\\\\"); break;
				case '\n': rc = k8s_buf_puts(out, "\\n"); break;
				case '\r': rc = k8s_buf_puts(out, "\\r"); break;
				case '\t': rc = k8s_buf_puts(out, "\\t"); break;
				case '\a': rc = k8s_buf_puts(out, "\\a"); break;
				case '\b': rc = k8s_buf_puts(out, "\\b"); break;
				case '\f': rc = k8s_buf_puts(out, "\\f"); break;
				case '\v': rc = k8s_buf_puts(out, "\\v"); break;
				default:
					if (*p < 0x20 || *p == 0x7f) {
						char e[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
						rc = k8s_buf_put(out, e, 4);
					} else {
						rc = k8s_buf_put(out, p, 1);
					}
				}
			}
			return rc < 0 ? rc : k8s_buf_puts(out, "\") has prevented the request from succeeding");
		}
		return k8s_buf_printf(out, "the server responded with the status code %d but did not return more information",
				      code);
	}
}

/* client-go's isTextResponse: no Content-Type, or a text/ media type. */
static int is_text(const char *ctype)
{
	if (!ctype)
		return 1;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	return !*ctype || strncasecmp(ctype, "text/", 5) == 0;
}

int k8s__parse_retry_after(const char *v, int *out)
{
	const char *p = v;
	long n = 0;
	int neg = 0;
	if (!v || !*v)
		return 0;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!*p)
		return 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		n = n * 10 + (*p - '0');
		if (n > 1000000000L)
			return 0;
	}
	*out = (int)(neg ? -n : n);
	return 1;
}

/* Parse one Warning header value (RFC 7234 5.5, as client-go's
 * net.ParseWarningHeaders): comma-separated `code agent "text" [date]`
 * entries; the texts (unescaped) are appended to list. Malformed entries
 * end the parse, keeping what came before. Returns 0 or K8S_ENOMEM. */
static int parse_warnings(k8s_strlist *list, const char *h)
{
	const char *p = h;
	for (;;) {
		k8s_buf text = K8S_BUF_INIT;
		int i;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			return 0;
		for (i = 0; i < 3; i++)
			if (p[i] < '0' || p[i] > '9')
				return 0;
		p += 3;
		if (*p != ' ')
			return 0;
		p++;
		if (!*p || *p == ' ' || *p == '"')
			return 0;
		while (*p && *p != ' ')
			p++; /* agent */
		if (*p != ' ' || p[1] != '"')
			return 0;
		p += 2;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			if (k8s_buf_put(&text, p, 1) < 0) {
				k8s_buf_free(&text);
				return K8S_ENOMEM;
			}
			p++;
		}
		if (*p != '"') {
			k8s_buf_free(&text);
			return 0;
		}
		p++;
		if (k8s_buf_put(&text, "", 0) < 0 || k8s__strlist_add(list, text.ptr) < 0) {
			k8s_buf_free(&text);
			return K8S_ENOMEM;
		}
		k8s_buf_free(&text);
		/* optional quoted warn-date */
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '"') {
			p++;
			while (*p && *p != '"')
				p++;
			if (*p == '"')
				p++;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != ',')
			return 0;
	}
}

static void result_free_status(k8s_result *res)
{
	free(res->st_reason);
	free(res->st_message);
	free(res->st_json);
	free(res->st_details);
	res->st_reason = res->st_message = res->st_json = res->st_details = NULL;
}

/* If body is a metav1.Status that reports a failure, fill res->st from it
 * and return 1; 0 if it is not one; K8S_ENOMEM (a Status that could not be
 * decoded for lack of memory is not "no Status").
 * As client-go: on a 2xx any status other than "Success" is an error
 * (Result.Into/Get); on an error code the Status wins only when its status
 * is "Failure" (Result.Error), else the generic error is built. */
static int decode_status(k8s_result *res, const char *body, size_t len)
{
	json_t *root, *v;
	json_error_t jerr;
	const char *kind, *status;
	size_t i = 0;
	int success_code = (res->code >= 200 && res->code <= 206) || res->code == 101;
	while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
		i++;
	if (i >= len || body[i] != '{')
		return 0;
	/* Only a Status is parsed whole. A success body (a 5,000-item list, say)
	 * is never a Status when it is large, and otherwise its kind is found
	 * with the allocation-free scanner. */
	if (success_code && len > STATUS_SCAN_LIMIT)
		return 0;
	{
		const char *kv;
		size_t kl;
		if (k8s_json_object_get(body + i, len - i, "kind", &kv, &kl) != 1 || kl != 8 ||
		    memcmp(kv, "\"Status\"", 8) != 0)
			return 0;
	}
	/* out of memory inside jansson either fails the parse (as a syntax
	 * error, often) or drops a character: either way K8S_ENOMEM */
	k8s__json_mark();
	root = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (k8s__json_oom()) {
		json_decref(root);
		return K8S_ENOMEM;
	}
	if (!root)
		return 0;
	kind = json_string_value(json_object_get(root, "kind"));
	status = json_string_value(json_object_get(root, "status"));
	if (!kind || strcmp(kind, "Status") != 0 || (status && strcmp(status, "Success") == 0) ||
	    (!success_code && (!status || strcmp(status, "Failure") != 0))) {
		json_decref(root);
		return 0;
	}
	result_free_status(res);
	/* code and retryAfterSeconds are int32 in metav1.Status: a larger
	 * value is not truncated into one (it would wrap, or become 0) */
	if ((v = json_object_get(root, "code")) && json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= INT_MAX)
		res->st.code = (int)json_integer_value(v);
	else
		res->st.code = res->code;
	{
		const char *jr = json_string_value(json_object_get(root, "reason"));
		const char *jm = json_string_value(json_object_get(root, "message"));
		res->st_reason = k8s__strdup(jr);
		res->st_message = k8s__strdup(jm);
		res->st_json = k8s__strndup(body, len);
		if ((jr && !res->st_reason) || (jm && !res->st_message) || !res->st_json) {
			json_decref(root);
			return K8S_ENOMEM;
		}
	}
	if ((v = json_object_get(root, "details")) && json_is_object(v)) {
		json_t *ra = json_object_get(v, "retryAfterSeconds");
		k8s__json_mark();
		if (!(res->st_details = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER)) || k8s__json_oom()) {
			json_decref(root);
			return K8S_ENOMEM;
		}
		if (ra && json_is_integer(ra) && json_integer_value(ra) > 0 && json_integer_value(ra) <= INT_MAX &&
		    res->st.retry_after_seconds == 0)
			res->st.retry_after_seconds = (int)json_integer_value(ra);
	}
	json_decref(root);
	if (!res->st_reason || !*res->st_reason) {
		free(res->st_reason);
		res->st_reason = k8s__strdup(k8s__reason_for_code(res->st.code, "GET"));
	}
	if (!res->st_message)
		res->st_message = k8s__strdup("");
	if (!res->st_reason || !res->st_message)
		return K8S_ENOMEM;
	res->has_status = 1;
	return 1;
}

/* A body that could not be decoded: the result carries a DecodeError. */
static int decode_failed(k8s_result **out, k8s_result *res, const char *err)
{
	res->rc = K8S_EDECODE;
	res->st.code = res->code;
	res->st_reason = k8s__strdup("DecodeError");
	res->st_message = k8s__strdup(err);
	if (!res->st_reason || !res->st_message) {
		k8s_result_free(res);
		return k8s__error_oom();
	}
	res->st.reason = res->st_reason;
	res->st.message = res->st_message;
	res->has_status = 1;
	*out = res;
	return k8s__error(K8S_EDECODE, "DecodeError", "%s", err);
}

int k8s__result_from_head(k8s_result **out, k8s_rest_client *c, const char *verb, const char *resource,
			  const char *name, const k8s_http_head *head, k8s_buf *body, int keep_pb)
{
	k8s_result *res = calloc(1, sizeof(*res));
	const char *ctype, *ra;
	size_t i;
	int st;
	*out = NULL;
	if (!res) {
		k8s_buf_free(body);
		return k8s__error_oom();
	}
	res->code = (int)head->status;
	res->body = *body;
	memset(body, 0, sizeof(*body));
	if (!res->body.ptr && k8s_buf_put(&res->body, "", 0) < 0) {
		free(res);
		return k8s__error_oom();
	}
	ctype = k8s__http_head_get(head, "Content-Type");
	/* out of memory anywhere here is K8S_ENOMEM: a result without its
	 * Content-Type, a warning or the server's Status would tell another story */
	if (!(res->content_type = k8s__strdup(ctype)) && ctype)
		goto oom;
	for (i = 0;; i++) {
		const char *w = k8s__http_head_get_n(head, "Warning", i);
		if (!w)
			break;
		if (parse_warnings(&res->warnings, w) < 0)
			goto oom;
	}
	for (i = 0; i < res->warnings.n; i++)
		k8s__debug(c, 1, "Warning: %s", res->warnings.items[i]);
	ra = k8s__http_head_get(head, "Retry-After");
	{
		int secs = 0;
		if (ra && k8s__parse_retry_after(ra, &secs) && secs > 0)
			res->st.retry_after_seconds = secs;
	}

	if (k8s__pb_is_content_type(res->content_type) && res->body.len > 0 &&
	    !(keep_pb && res->code >= 200 && res->code <= 206 && !k8s__pb_is_status(res->body.ptr, res->body.len))) {
		/* a protobuf body becomes the JSON the server would have written */
		k8s_buf j = K8S_BUF_INIT;
		char err[256];
		int r = k8s__pb_to_json(&j, res->body.ptr, res->body.len, 0, err, sizeof(err));
		if (r == K8S_ENOMEM)
			goto oom;
		if (r < 0)
			return decode_failed(out, res, err);
		k8s_buf_free(&res->body);
		res->body = j;
		free(res->content_type);
		if (!(res->content_type = k8s__strdup("application/json")))
			goto oom;
	}
	if ((st = decode_status(res, res->body.ptr, res->body.len)) < 0)
		goto oom;
	if (st) {
		res->rc = K8S_ESTATUS;
	} else if ((res->code >= 200 && res->code <= 206) || res->code == 101) {
		res->rc = 0;
	} else {
		/* client-go's newUnstructuredResponseError: at most 2048 bytes of
		 * a text body, trimmed; "unknown" for anything else */
		k8s_buf server_msg = K8S_BUF_INIT, m = K8S_BUF_INIT, full = K8S_BUF_INIT;
		char lverb[32];
		int oom = 0;
		size_t j;
		if (is_text(res->content_type)) {
			size_t s = 0, e = res->body.len < MAX_UNSTRUCTURED_BYTES ? res->body.len : MAX_UNSTRUCTURED_BYTES;
			while (s < e && isspace((unsigned char)res->body.ptr[s]))
				s++;
			while (e > s && isspace((unsigned char)res->body.ptr[e - 1]))
				e--;
			oom |= k8s_buf_put(&server_msg, res->body.ptr + s, e - s) < 0;
		} else {
			oom |= k8s_buf_puts(&server_msg, "unknown") < 0;
		}
		oom |= !server_msg.ptr || generic_message(&m, res->code, server_msg.ptr) < 0;
		for (j = 0; verb[j] && j + 1 < sizeof(lverb); j++)
			lverb[j] = (char)tolower((unsigned char)verb[j]);
		lverb[j] = 0;
		res->st.code = res->code;
		res->st_reason = k8s__strdup(k8s__reason_for_code(res->code, verb));
		if (!oom && resource && *resource) {
			const char *g = c->group;
			if (name)
				oom |= k8s_buf_printf(&full, "%s (%s %s%s%s %s)", m.ptr, lverb, resource, *g ? "." : "", g,
						      name) < 0;
			else
				oom |= k8s_buf_printf(&full, "%s (%s %s%s%s)", m.ptr, lverb, resource, *g ? "." : "", g) < 0;
			res->st_message = k8s_buf_detach(&full);
		} else if (!oom) {
			res->st_message = k8s_buf_detach(&m);
		}
		k8s_buf_free(&server_msg);
		k8s_buf_free(&m);
		k8s_buf_free(&full);
		if (oom || !res->st_reason || !res->st_message)
			goto oom;
		res->rc = K8S_ESTATUS;
		res->has_status = 1;
	}
	if (res->has_status) {
		res->st.reason = res->st_reason ? res->st_reason : "";
		res->st.message = res->st_message ? res->st_message : "";
		res->st.status_json = res->st_json;
		res->st.details_json = res->st_details;
		k8s__error(K8S_ESTATUS, res->st.reason, "%s", res->st.message);
	}
	*out = res;
	return res->rc;
oom:
	k8s_result_free(res);
	return k8s__error_oom();
}

int k8s__result_from_error(k8s_result **out, int rc)
{
	const k8s_error *e = k8s_error_last();
	k8s_result *res = calloc(1, sizeof(*res));
	*out = NULL;
	if (!res)
		return k8s__error_oom();
	k8s_buf_put(&res->body, "", 0);
	res->rc = rc;
	res->st_reason = k8s__strdup(e->reason && *e->reason ? e->reason : "TransportError");
	res->st_message = k8s__strdup(e->message);
	res->st.code = 0;
	res->st.reason = res->st_reason ? res->st_reason : "";
	res->st.message = res->st_message ? res->st_message : "";
	res->has_status = 1;
	*out = res;
	return rc;
}

void k8s_result_free(k8s_result *res)
{
	if (!res)
		return;
	k8s_buf_free(&res->body);
	free(res->content_type);
	k8s__strlist_free(&res->warnings);
	result_free_status(res);
	free(res);
}

int k8s_result_status_code(const k8s_result *res) { return res->code; }

const char *k8s_result_body(const k8s_result *res, size_t *len)
{
	if (len)
		*len = res->body.len;
	return res->body.ptr ? res->body.ptr : "";
}

const char *k8s_result_content_type(const k8s_result *res) { return res->content_type; }
size_t k8s_result_warning_count(const k8s_result *res) { return res->warnings.n; }

const char *k8s_result_warning(const k8s_result *res, size_t i)
{
	return i < res->warnings.n ? res->warnings.items[i] : NULL;
}

int k8s_result_error_code(const k8s_result *res) { return res->rc; }

const k8s_status *k8s_result_status(const k8s_result *res)
{
	return res->has_status ? &res->st : NULL;
}
