/* Turning a response into a Result: success, a decoded metav1.Status, or a
 * Status built from the code table (client-go's transformResponse and
 * errors.NewGenericServerResponse). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "rest_internal.h"
#include "reason.h"

#define MAX_UNSTRUCTURED_BYTES 2048

static const char *generic_message(int code, const char *method, const char *server_msg, char *buf, size_t n)
{
	switch (code) {
	case 409:
		return strcmp(method, "POST") == 0 ? "the server reported a conflict (already exists)"
						   : "the server reported a conflict";
	case 404: return "the server could not find the requested resource";
	case 400: return "the server rejected our request for an unknown reason";
	case 401: return "the server has asked for the client to provide credentials";
	case 403: return server_msg && *server_msg ? server_msg : "the server does not allow access to the requested resource";
	case 405: return "the server does not allow this method on the requested resource";
	case 406:
		return server_msg && *server_msg ? server_msg
						 : "the server was unable to respond with a content type that the client supports";
	case 410: return "the server has removed the requested resource (gone)";
	case 415: return server_msg && *server_msg ? server_msg : "the server does not support the media type of the request";
	case 422: return "the server rejected our request due to an error in our request";
	case 429: return "the server has received too many requests and has asked us to try again later";
	case 503: return "the server is currently unable to handle the request";
	case 504:
		return "the server was unable to return a response in the time allotted, but may still be processing the request";
	default:
		if (code >= 500)
			snprintf(buf, n, "an error on the server (\"%s\") has prevented the request from succeeding",
				 server_msg ? server_msg : "");
		else
			snprintf(buf, n, "the server responded with the status code %d but did not return more information", code);
		return buf;
	}
}

static int is_text(const char *ctype)
{
	return ctype && strncasecmp(ctype, "text/", 5) == 0;
}

static void result_free_status(k8s_result *res)
{
	free(res->st_reason);
	free(res->st_message);
	free(res->st_json);
	free(res->st_details);
	res->st_reason = res->st_message = res->st_json = res->st_details = NULL;
}

/* If body is a metav1.Status whose status is not Success, fill res->st from it. */
static int decode_status(k8s_result *res, const char *body, size_t len)
{
	json_t *root, *v;
	json_error_t jerr;
	const char *kind, *status;
	size_t i = 0;
	while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
		i++;
	if (i >= len || body[i] != '{')
		return 0;
	root = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!root)
		return 0;
	kind = json_string_value(json_object_get(root, "kind"));
	status = json_string_value(json_object_get(root, "status"));
	if (!kind || strcmp(kind, "Status") != 0 || (status && strcmp(status, "Success") == 0)) {
		json_decref(root);
		return 0;
	}
	result_free_status(res);
	if ((v = json_object_get(root, "code")) && json_is_integer(v) && json_integer_value(v) > 0)
		res->st.code = (int)json_integer_value(v);
	else
		res->st.code = res->code;
	res->st_reason = k8s__strdup(json_string_value(json_object_get(root, "reason")));
	res->st_message = k8s__strdup(json_string_value(json_object_get(root, "message")));
	res->st_json = k8s__strndup(body, len);
	if ((v = json_object_get(root, "details")) && json_is_object(v)) {
		json_t *ra = json_object_get(v, "retryAfterSeconds");
		res->st_details = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (ra && json_is_integer(ra) && json_integer_value(ra) > 0 && res->st.retry_after_seconds == 0)
			res->st.retry_after_seconds = (int)json_integer_value(ra);
	}
	json_decref(root);
	if (!res->st_reason || !*res->st_reason) {
		free(res->st_reason);
		res->st_reason = k8s__strdup(k8s__reason_for_code(res->st.code, "GET"));
	}
	if (!res->st_message) {
		res->st_message = k8s__strdup("");
	}
	res->has_status = 1;
	return 1;
}

int k8s__result_from_response(k8s_result **out, k8s_request *req, k8s_http_response *resp, k8s_buf *body, int rc)
{
	k8s_result *res = calloc(1, sizeof(*res));
	const char *ctype, *ra;
	size_t i;
	(void)rc;
	*out = NULL;
	if (!res) {
		k8s_buf_free(body);
		return k8s__error_oom();
	}
	res->code = (int)k8s_http_response_status(resp);
	res->body = *body;
	memset(body, 0, sizeof(*body));
	if (!res->body.ptr && k8s_buf_put(&res->body, "", 0) < 0) {
		free(res);
		return k8s__error_oom();
	}
	ctype = k8s_http_response_header(resp, "Content-Type");
	res->content_type = k8s__strdup(ctype);
	for (i = 0;; i++) {
		const char *w = k8s_http_response_header_n(resp, "Warning", i);
		if (!w)
			break;
		/* 299 - "text" */
		{
			const char *q = strchr(w, '"');
			const char *e = q ? strrchr(w, '"') : NULL;
			char *text = (q && e > q) ? k8s__strndup(q + 1, (size_t)(e - q - 1)) : k8s__strdup(w);
			if (text) {
				k8s__strlist_add(&res->warnings, text);
				k8s__debug(req->c, 1, "Warning: %s", text);
				free(text);
			}
		}
	}
	ra = k8s_http_response_header(resp, "Retry-After");
	if (ra)
		res->st.retry_after_seconds = atoi(ra) > 0 ? atoi(ra) : 0;

	if (decode_status(res, res->body.ptr, res->body.len)) {
		res->rc = K8S_ESTATUS;
	} else if ((res->code >= 200 && res->code <= 206) || res->code == 101) {
		res->rc = 0;
	} else {
		char buf[2600], msgbuf[256];
		const char *server_msg = NULL, *m;
		k8s_buf full = K8S_BUF_INIT;
		if (is_text(res->content_type) && res->body.len <= MAX_UNSTRUCTURED_BYTES) {
			server_msg = res->body.ptr;
		} else if (is_text(res->content_type)) {
			snprintf(msgbuf, sizeof(msgbuf), "%.200s...", res->body.ptr);
			server_msg = msgbuf;
		}
		m = generic_message(res->code, req->verb, server_msg, buf, sizeof(buf));
		res->st.code = res->code;
		res->st_reason = k8s__strdup(k8s__reason_for_code(res->code, req->verb));
		if (req->resource && *req->resource) {
			const char *g = req->c->group;
			if (req->name)
				k8s_buf_printf(&full, "%s (%s %s%s%s %s)", m, req->verb, req->resource, *g ? "." : "", g, req->name);
			else
				k8s_buf_printf(&full, "%s (%s %s%s%s)", m, req->verb, req->resource, *g ? "." : "", g);
			/* lower-case the verb as client-go does */
			if (full.ptr) {
				char *p = strstr(full.ptr, req->verb);
				for (; p && *p && *p != ' '; p++)
					*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
			}
			res->st_message = k8s_buf_detach(&full);
		} else {
			res->st_message = k8s__strdup(m);
		}
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
