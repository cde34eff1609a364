/* HTTP/1.1 codec of the sans-I/O engine: request bytes out, response bytes
 * in. libhttp-parser does the framing (status line, headers, Content-Length,
 * chunked, read-until-close); zlib inflates gzip bodies incrementally. */
#define ZLIB_CONST
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <http_parser.h>
#include <zlib.h>
#include "h1.h"

/* ---- requests ---- */

static int is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A character that may not appear raw in a request line or header. */
static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int bad_url(const char *what)
{
	return k8s__error(K8S_EINVALID, "Invalid", "invalid URL: %s", what);
}

int k8s__h1_split_url(const char *url, char **scheme, char **host, int *port, char **target)
{
	const char *sep, *a, *ae, *h, *he, *pp = NULL, *q, *qe, *c;
	char *sc = NULL, *ho = NULL, *ta = NULL;
	int defport, po = 0;
	size_t i, n;

	if (scheme)
		*scheme = NULL;
	if (host)
		*host = NULL;
	if (port)
		*port = 0;
	if (target)
		*target = NULL;
	if (!url || !(sep = strstr(url, "://")))
		return bad_url("the scheme is missing");
	n = (size_t)(sep - url);
	if (n == 5 && strncasecmp(url, "https", 5) == 0)
		defport = 443;
	else if (n == 4 && strncasecmp(url, "http", 4) == 0)
		defport = 80;
	else
		return bad_url("the scheme must be http or https");

	/* authority */
	a = sep + 3;
	ae = a + strcspn(a, "/?#");
	if (memchr(a, '@', (size_t)(ae - a)))
		return bad_url("user information in the authority is not supported");
	if (*a == '[') {
		h = a + 1;
		if (!(he = memchr(h, ']', (size_t)(ae - h))))
			return bad_url("the IPv6 host has no closing ']'");
		if (he + 1 < ae) {
			if (he[1] != ':')
				return bad_url("unexpected characters after the IPv6 host");
			pp = he + 2;
		}
		for (c = h; c < he; c++)
			if (!isalnum((unsigned char)*c) && !strchr(":.%-_~", *c))
				return bad_url("invalid character in the IPv6 host");
	} else {
		h = a;
		if ((he = memchr(a, ':', (size_t)(ae - a)))) {
			pp = he + 1;
			if (memchr(pp, ':', (size_t)(ae - pp)))
				return bad_url("an IPv6 host must be in brackets");
		} else {
			he = ae;
		}
		for (c = h; c < he; c++)
			if (!isalnum((unsigned char)*c) && !strchr("-._~%!$&'()*+,;=", *c))
				return bad_url("invalid character in the host");
	}
	if (he == h)
		return bad_url("the host is missing");
	if (pp && pp < ae) {
		if (ae - pp > 5)
			return bad_url("the port is out of range");
		for (c = pp; c < ae; c++) {
			if (!isdigit((unsigned char)*c))
				return bad_url("the port is not a number");
			po = po * 10 + (*c - '0');
		}
		if (po < 1 || po > 65535)
			return bad_url("the port is out of range");
	} else {
		po = defport; /* no port, or "host:" */
	}

	/* origin-form target: path and query, without the fragment */
	q = ae;
	qe = q + strcspn(q, "#");
	for (c = q; c < qe; c++)
		if (is_ctl((unsigned char)*c) || *c == ' ' || (unsigned char)*c >= 0x80)
			return bad_url("the path or query has a character that must be escaped");

	n = (size_t)(qe - q);
	sc = k8s__strdup(defport == 443 ? "https" : "http");
	ho = k8s__strndup(h, (size_t)(he - h));
	ta = malloc(n + 2);
	if (!sc || !ho || !ta) {
		free(sc);
		free(ho);
		free(ta);
		return k8s__error_oom();
	}
	i = 0;
	if (*q != '/')
		ta[i++] = '/';
	memcpy(ta + i, q, n);
	ta[i + n] = 0;

	if (scheme)
		*scheme = sc;
	else
		free(sc);
	if (host)
		*host = ho;
	else
		free(ho);
	if (target)
		*target = ta;
	else
		free(ta);
	if (port)
		*port = po;
	return 0;
}

/* Length of the name of a "Name: value" line, or 0 when it has none. */
static size_t header_name_len(const char *line)
{
	size_t n = 0;
	while (is_tchar((unsigned char)line[n]))
		n++;
	return line[n] == ':' ? n : 0;
}

static int name_is(const char *line, size_t nlen, const char *name)
{
	return nlen == strlen(name) && strncasecmp(line, name, nlen) == 0;
}

/* Check the request's headers; find which of ours they replace. */
static int check_headers(const k8s_http_request *req, int *has_host, int *has_ae, size_t *total)
{
	size_t i, nlen;
	const char *c;
	*has_host = *has_ae = 0;
	*total = 0;
	for (i = 0; i < req->nheaders; i++) {
		const char *line = req->headers[i];
		if (!line || !(nlen = header_name_len(line)))
			return k8s__error(K8S_EINVALID, "Invalid", "request header %zu has no valid name", i);
		for (c = line + nlen + 1; *c && (!is_ctl((unsigned char)*c) || *c == '\t'); c++)
			;
		if (*c) { /* the name only: the value may be a credential */
			const char *what = *c == '\r' || *c == '\n' ? "CR or LF" : "a control character";
			return k8s__error(K8S_EINVALID, "Invalid", "request header %.*s has %s in its value", (int)nlen,
					  line, what);
		}
		if (name_is(line, nlen, "Transfer-Encoding"))
			return k8s__error(K8S_EINVALID, "Invalid", "request header Transfer-Encoding is not supported");
		if (name_is(line, nlen, "Host"))
			*has_host = 1;
		if (name_is(line, nlen, "Accept-Encoding"))
			*has_ae = 1;
		*total += (size_t)(c - line) + 2;
	}
	return 0;
}

int k8s__h1_request(k8s_buf *out, const k8s_http_request *req, const char *host_override, int no_gzip)
{
	char *scheme = NULL, *host = NULL, *target = NULL;
	const char *m = req->method, *c;
	size_t start = out->len, hlen, i;
	int port, has_host, has_ae, has_body, rc;

	if (!m || !*m)
		return k8s__error(K8S_EINVALID, "Invalid", "the request has no method");
	for (c = m; *c; c++)
		if (!is_tchar((unsigned char)*c))
			return k8s__error(K8S_EINVALID, "Invalid", "invalid request method");
	if (!req->body && req->body_len)
		return k8s__error(K8S_EINVALID, "Invalid", "request body is NULL but its length is %zu", req->body_len);
	if (host_override) {
		if (!*host_override)
			return k8s__error(K8S_EINVALID, "Invalid", "the Host override is empty");
		for (c = host_override; *c; c++)
			if (is_ctl((unsigned char)*c) || *c == ' ')
				return k8s__error(K8S_EINVALID, "Invalid", "invalid character in the Host override");
	}
	if ((rc = check_headers(req, &has_host, &has_ae, &hlen)) < 0)
		return rc;
	if ((rc = k8s__h1_split_url(req->url, &scheme, &host, &port, &target)) < 0)
		return rc;
	has_body = req->body || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;

	/* one allocation: no stray copies of the Authorization line in freed memory */
	if ((rc = k8s_buf_grow(out, strlen(m) + strlen(target) + strlen(host) +
			       (host_override ? strlen(host_override) : 0) + hlen + req->body_len + 128)) < 0)
		goto fail;
	if ((rc = k8s_buf_printf(out, "%s %s HTTP/1.1\r\n", m, target)) < 0)
		goto fail;
	if (!has_host) {
		int ipv6 = strchr(host, ':') != NULL;
		if (host_override)
			rc = k8s_buf_printf(out, "Host: %s\r\n", host_override);
		else if (port == (strcmp(scheme, "https") == 0 ? 443 : 80))
			rc = k8s_buf_printf(out, ipv6 ? "Host: [%s]\r\n" : "Host: %s\r\n", host);
		else
			rc = k8s_buf_printf(out, ipv6 ? "Host: [%s]:%d\r\n" : "Host: %s:%d\r\n", host, port);
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < req->nheaders; i++) {
		if (name_is(req->headers[i], header_name_len(req->headers[i]), "Content-Length"))
			continue; /* ours, from body_len, is the one that frames the body */
		if ((rc = k8s_buf_puts(out, req->headers[i])) < 0 || (rc = k8s_buf_puts(out, "\r\n")) < 0)
			goto fail;
	}
	if (has_body && (rc = k8s_buf_printf(out, "Content-Length: %zu\r\n", req->body_len)) < 0)
		goto fail;
	if (!no_gzip && !has_ae && (rc = k8s_buf_puts(out, "Accept-Encoding: gzip\r\n")) < 0)
		goto fail;
	if ((rc = k8s_buf_puts(out, "\r\n")) < 0)
		goto fail;
	if (req->body_len && (rc = k8s_buf_put(out, req->body, req->body_len)) < 0)
		goto fail;
	free(scheme);
	free(host);
	free(target);
	return 0;
fail:
	if (out->ptr) {
		k8s__wipe(out->ptr + start, out->len - start);
		out->len = start;
		out->ptr[start] = 0;
	}
	free(scheme);
	free(host);
	free(target);
	return rc;
}

/* ---- responses ---- */

struct k8s_h1_response {
	http_parser p;
	k8s_http_head head;
	k8s_buf fld, val;       /* the header being parsed */
	k8s_buf body;
	z_stream z;
	size_t hdr_bytes;       /* of the header block being parsed */
	unsigned gen;           /* bumped when a header block or a message ends */
	int head_request;
	int in_value;           /* fld is complete, val is being received */
	int begun;              /* a byte of the final response arrived */
	int in_body;            /* past the current message's header block */
	int interim;            /* the current message is a 1xx */
	int headers_done, done, keepalive, eof;
	int gzip, z_any, z_end;
	int cb_rc;              /* error from a callback */
	int failed;
	char fail_reason[32], fail_msg[256];
};

/* Remember an error (already recorded by k8s__error) for later calls. */
static int fail(k8s_h1_response *r, int rc)
{
	const k8s_error *e = k8s_error_last();
	r->failed = rc;
	snprintf(r->fail_reason, sizeof(r->fail_reason), "%s", e->reason);
	snprintf(r->fail_msg, sizeof(r->fail_msg), "%s", e->message);
	return rc;
}

static int refail(const k8s_h1_response *r)
{
	return k8s__error(r->failed, r->fail_reason, "%s", r->fail_msg);
}

static int cb_fail(k8s_h1_response *r, int rc)
{
	r->cb_rc = rc;
	return -1;
}

static int flush_header(k8s_h1_response *r)
{
	int rc = k8s__http_head_add(&r->head, r->fld.ptr ? r->fld.ptr : "", r->fld.len, r->val.ptr ? r->val.ptr : "",
				    r->val.len);
	r->fld.len = r->val.len = 0;
	r->in_value = 0;
	return rc < 0 ? k8s__error_oom() : 0;
}

static int on_message_begin(http_parser *p)
{
	((k8s_h1_response *)p->data)->begun = 1;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	k8s_h1_response *r = p->data;
	int rc;
	if (r->headers_done)
		return 0; /* a trailer: dropped */
	if (r->in_value && (rc = flush_header(r)) < 0)
		return cb_fail(r, rc);
	if ((rc = k8s_buf_put(&r->fld, at, len)) < 0)
		return cb_fail(r, rc);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	k8s_h1_response *r = p->data;
	int rc;
	if (r->headers_done)
		return 0;
	r->in_value = 1;
	if ((rc = k8s_buf_put(&r->val, at, len)) < 0)
		return cb_fail(r, rc);
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	k8s_h1_response *r = p->data;
	unsigned status = p->status_code;
	const char *ce;
	int rc;
	if ((r->in_value || r->fld.len) && (rc = flush_header(r)) < 0)
		return cb_fail(r, rc);
	/* libhttp-parser takes 1 to 3 digits: "HTTP/1.1 2 OK" is not a 2xx, and
	 * a status 0 would read as "no response" */
	if (status < 100)
		return cb_fail(r, k8s__error(K8S_ETRANSPORT, "ProtocolError",
					     "malformed HTTP response: invalid status code %u", status));
	r->gen++;
	r->hdr_bytes = 0;
	r->in_body = 1;
	if (status / 100 == 1 && status != 101) {
		/* 100 Continue, 103 Early Hints: the final response follows */
		k8s__http_head_clear(&r->head);
		r->interim = 1;
		return 1;
	}
	r->head.status = (long)status;
	r->headers_done = 1;
	if (r->head_request || status == 204 || status == 304 || status == 101)
		return 1; /* no body, whatever the headers say */
	ce = k8s__http_head_get(&r->head, "Content-Encoding");
	if (ce && (strcasecmp(ce, "gzip") == 0 || strcasecmp(ce, "x-gzip") == 0)) {
		if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
			return cb_fail(r, k8s__error_oom());
		r->gzip = 1;
	}
	return 0;
}

static int inflate_body(k8s_h1_response *r, const char *at, size_t len)
{
	while (len > 0) {
		uInt in = len > UINT_MAX ? UINT_MAX : (uInt)len;
		r->z_any = 1;
		r->z.next_in = (const Bytef *)at;
		r->z.avail_in = in;
		for (;;) {
			size_t room;
			uInt avail;
			int zr;
			if (r->z_end) {
				if (!r->z.avail_in)
					break;
				/* another gzip member follows (as Go's multistream reader) */
				if (inflateReset(&r->z) != Z_OK)
					return k8s__error(K8S_EDECODE, "DecodeError", "corrupt gzip body");
				r->z_end = 0;
			}
			if (r->body.cap - r->body.len < 4097 && k8s_buf_grow(&r->body, 16384) < 0)
				return K8S_ENOMEM;
			room = r->body.cap - r->body.len - 1;
			avail = room > UINT_MAX ? UINT_MAX : (uInt)room;
			r->z.next_out = (Bytef *)r->body.ptr + r->body.len;
			r->z.avail_out = avail;
			zr = inflate(&r->z, Z_NO_FLUSH);
			r->body.len += avail - r->z.avail_out;
			r->body.ptr[r->body.len] = 0;
			if (zr == Z_STREAM_END) {
				r->z_end = 1;
				continue;
			}
			if (zr == Z_MEM_ERROR)
				return k8s__error_oom();
			if ((zr != Z_OK && zr != Z_BUF_ERROR) || (zr == Z_BUF_ERROR && r->z.avail_in))
				return k8s__error(K8S_EDECODE, "DecodeError", "corrupt gzip body: %s",
						  r->z.msg ? r->z.msg : "invalid data");
			if (zr == Z_BUF_ERROR || (!r->z.avail_in && r->z.avail_out))
				break; /* all input used, all output out */
		}
		at += in;
		len -= in;
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	k8s_h1_response *r = p->data;
	int rc = r->gzip ? inflate_body(r, at, len) : k8s_buf_put(&r->body, at, len);
	return rc < 0 ? cb_fail(r, rc) : 0;
}

/* Does a Connection header list the "close" option? */
static int connection_close(const k8s_http_head *h)
{
	const char *v, *s;
	size_t i, n, m;
	for (i = 0; (v = k8s__http_head_get_n(h, "Connection", i)); i++) {
		for (s = v; *s; s += n) {
			s += strspn(s, " \t,");
			n = strcspn(s, ",");
			m = n;
			while (m && (s[m - 1] == ' ' || s[m - 1] == '\t'))
				m--;
			if (m == 5 && strncasecmp(s, "close", 5) == 0)
				return 1;
		}
	}
	return 0;
}

static int on_message_complete(http_parser *p)
{
	k8s_h1_response *r = p->data;
	if (r->interim) {
		r->interim = r->in_body = r->begun = 0;
		r->gen++;
		r->hdr_bytes = 0;
	} else {
		if (r->gzip && r->z_any && !r->z_end)
			return cb_fail(r, k8s__error(K8S_EOF, "UnexpectedEOF", "the gzip body is truncated"));
		r->done = 1;
		r->keepalive = http_should_keep_alive(p) && !p->upgrade && !connection_close(&r->head);
	}
	/* stop here: what follows is another message (or an error) */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

int k8s__h1_response_new(k8s_h1_response **out, int head_request)
{
	k8s_h1_response *r = calloc(1, sizeof(*r));
	*out = NULL;
	if (!r)
		return k8s__error_oom();
	http_parser_init(&r->p, HTTP_RESPONSE);
	r->p.data = r;
	r->head_request = head_request;
	*out = r;
	return 0;
}

static int protocol_error(k8s_h1_response *r, const char *what)
{
	return fail(r, k8s__error(K8S_ETRANSPORT, "ProtocolError", "%s", what));
}

int k8s__h1_feed(k8s_h1_response *r, const char *p, size_t n)
{
	if (r->failed)
		return refail(r);
	if (n && r->eof)
		return k8s__error(K8S_EINVALID, "Invalid", "response bytes fed after eof");
	while (n > 0) {
		size_t chunk = n, got;
		unsigned gen = r->gen;
		enum http_errno e;
		if (r->done)
			return protocol_error(r, "bytes after the end of the response");
		if (!r->in_body && chunk > K8S_H1_MAX_HEADER - r->hdr_bytes)
			chunk = K8S_H1_MAX_HEADER - r->hdr_bytes;
		got = http_parser_execute(&r->p, &settings, p, chunk);
		e = HTTP_PARSER_ERRNO(&r->p);
		if (r->cb_rc)
			return fail(r, r->cb_rc);
		if (e == HPE_PAUSED) {
			if (!r->done)
				http_parser_pause(&r->p, 0);
		} else if (e != HPE_OK) {
			return fail(r, k8s__error(K8S_ETRANSPORT, "ProtocolError", "malformed HTTP response: %s",
						  http_errno_description(e)));
		} else if (got < chunk) {
			return protocol_error(r, "malformed HTTP response: the parser stopped");
		}
		if (gen == r->gen && !r->in_body && (r->hdr_bytes += got) >= K8S_H1_MAX_HEADER)
			return fail(r, k8s__error(K8S_ETRANSPORT, "ProtocolError",
						  "response headers too large (over %d bytes)", K8S_H1_MAX_HEADER));
		p += got;
		n -= got;
	}
	return 0;
}

int k8s__h1_eof(k8s_h1_response *r)
{
	if (r->failed)
		return refail(r);
	r->eof = 1;
	if (r->done)
		return 0;
	if (!r->begun)
		return fail(r, k8s__error(K8S_ETRANSPORT, "ConnectionReset",
					  "the server closed the connection before answering"));
	http_parser_execute(&r->p, &settings, NULL, 0);
	if (r->cb_rc)
		return fail(r, r->cb_rc);
	if (r->done)
		return 0;
	return fail(r, k8s__error(K8S_EOF, "UnexpectedEOF", "the connection closed %s", r->headers_done ?
				  "before the end of the response body" : "inside the response headers"));
}

int k8s__h1_headers_done(const k8s_h1_response *r)
{
	return r->headers_done;
}

const k8s_http_head *k8s__h1_head(const k8s_h1_response *r)
{
	return &r->head;
}

k8s_buf *k8s__h1_body(k8s_h1_response *r)
{
	return &r->body;
}

int k8s__h1_done(const k8s_h1_response *r)
{
	return r->done && !r->failed;
}

int k8s__h1_keepalive(const k8s_h1_response *r)
{
	return r->done && !r->failed && r->keepalive && !r->eof;
}

void k8s__h1_response_free(k8s_h1_response *r)
{
	if (!r)
		return;
	if (r->gzip)
		inflateEnd(&r->z);
	k8s__http_head_clear(&r->head);
	k8s_buf_free(&r->fld);
	k8s_buf_wipe_free(&r->val);
	k8s_buf_free(&r->body);
	free(r);
}
