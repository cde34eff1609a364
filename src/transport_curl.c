/* libcurl transport. One multi handle per transport: every transfer of a
 * client shares its connection cache (keep-alive, HTTP/2 multiplexing), and
 * bodies are pulled chunk by chunk so streams and watches can time out. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <curl/curl.h>
#include "transport.h"
#include "tls.h"

struct k8s_transport {
	/* not atomic, and nothing here is locked: a transport is shared only by
	 * the clients of one clientset, used by one thread at a time (clients
	 * made from one config on other threads have transports of their own) */
	int refs;
	CURLM *multi;
	CURLSH *share;
	k8s_transport_options o;
	char *strs[8];
	struct curl_slist *connect_to;
	CURL **idle;        /* easy handles to reuse */
	size_t nidle;
	int active;         /* transfers in the multi handle */
	unsigned long progress; /* bumped whenever a callback delivers bytes */
	unsigned long progress_seen;
	long http_version;      /* DISABLE_HTTP2 read once, as client-go */
	int stale;          /* client cert changed while transfers were active */
	struct k8s_tls_ctx *tls_ctx; /* the sans-I/O wire's TLS state, shared like the connections */
};

struct k8s_http_response {
	int added;          /* counted in t->active */
	k8s_transport *t;
	CURL *easy;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	int headers_done;
	int done;           /* transfer finished */
	CURLcode result;
	k8s_buf body;       /* received, not yet handed out */
	size_t handed;      /* bytes of body handed out by the last read */
	k8s_http_head head; /* status and headers */
};


static void multi_setup(k8s_transport *t);
static void reset_connections(k8s_transport *t);

static char *dupopt(k8s_transport *t, int slot, const char *s)
{
	t->strs[slot] = s ? k8s__strdup(s) : NULL;
	return t->strs[slot];
}

int k8s_transport_new(k8s_transport **out, const k8s_transport_options *opts)
{
	k8s_transport *t = calloc(1, sizeof(*t));
	*out = NULL;
	if (!t)
		return k8s__error_oom();
	t->refs = 1;
	t->o = *opts;
	t->http_version = getenv("DISABLE_HTTP2") ? (long)CURL_HTTP_VERSION_1_1 : (long)CURL_HTTP_VERSION_2TLS;
	t->o.ca_file = dupopt(t, 0, opts->ca_file);
	t->o.cert_file = dupopt(t, 1, opts->cert_file);
	t->o.key_file = dupopt(t, 2, opts->key_file);
	t->o.proxy = dupopt(t, 3, opts->proxy);
	t->o.connect_to = NULL;
	/* blobs are copied by libcurl on each setopt, but must live until then */
	t->strs[4] = opts->ca_data ? k8s__strndup(opts->ca_data, opts->ca_len) : NULL;
	t->strs[5] = opts->cert_data ? k8s__strndup(opts->cert_data, opts->cert_len) : NULL;
	t->strs[6] = opts->key_data ? k8s__strndup(opts->key_data, opts->key_len) : NULL;
	t->o.ca_data = t->strs[4];
	t->o.cert_data = t->strs[5];
	t->o.key_data = t->strs[6];
	if (opts->connect_to)
		t->connect_to = curl_slist_append(NULL, opts->connect_to);
	t->multi = curl_multi_init();
	t->share = curl_share_init();
	if (!t->multi || !t->share) {
		k8s_transport_free(t);
		return k8s__error_oom();
	}
	multi_setup(t);
	*out = t;
	return 0;
}

static void multi_setup(k8s_transport *t)
{
	curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(t->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, 25L);
}

/* Drop every pooled connection and TLS session (no transfer is active). */
static void reset_connections(k8s_transport *t)
{
	CURLM *m = curl_multi_init();
	CURLSH *sh = curl_share_init();
	size_t i;
	if (!m || !sh) {
		if (m)
			curl_multi_cleanup(m);
		if (sh)
			curl_share_cleanup(sh);
		return; /* keep the stale flag: fresh connections per transfer */
	}
	/* curl_easy_reset keeps an easy handle attached to its share, and
	 * curl_share_cleanup refuses (CURLSHE_IN_USE) a share still in use: the
	 * idle handles must let go of the old one, or it leaks */
	for (i = 0; i < t->nidle; i++)
		curl_easy_setopt(t->idle[i], CURLOPT_SHARE, (CURLSH *)NULL);
	curl_multi_cleanup(t->multi);
	curl_share_cleanup(t->share);
	t->multi = m;
	t->share = sh;
	multi_setup(t);
	t->stale = 0;
}

int k8s_transport_set_client_cert(k8s_transport *t, const char *cert_pem, const char *key_pem)
{
	char *c, *k;
	if (t->strs[5] && t->strs[6] && !strcmp(t->strs[5], cert_pem) && !strcmp(t->strs[6], key_pem))
		return 0;
	c = k8s__strdup(cert_pem);
	k = k8s__strdup(key_pem);
	if (!c || !k) {
		free(c);
		free(k);
		return k8s__error_oom();
	}
	k8s__sfree(t->strs[5]);
	k8s__sfree(t->strs[6]);
	t->strs[5] = c;
	t->strs[6] = k;
	t->o.cert_data = c;
	t->o.key_data = k;
	t->o.cert_file = NULL;
	t->o.key_file = NULL;
	t->stale = 1;
	if (t->active == 0)
		reset_connections(t);
	return 0;
}

k8s_transport *k8s_transport_ref(k8s_transport *t)
{
	if (t)
		t->refs++;
	return t;
}

void k8s_transport_free(k8s_transport *t)
{
	size_t i;
	if (!t || --t->refs > 0)
		return;
	k8s__tls_ctx_free(t->tls_ctx);
	for (i = 0; i < t->nidle; i++)
		curl_easy_cleanup(t->idle[i]);
	free(t->idle);
	if (t->multi)
		curl_multi_cleanup(t->multi);
	if (t->share)
		curl_share_cleanup(t->share);
	curl_slist_free_all(t->connect_to);
	for (i = 0; i < 8; i++)
		k8s__sfree(t->strs[i]);
	free(t);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	k8s_http_response *r = ud;
	size_t len = size * n;
	r->t->progress++;
	r->headers_done = 1;
	if (k8s_buf_put(&r->body, p, len) < 0)
		return 0;
	return len;
}

static void headers_reset(k8s_http_response *r)
{
	long st = r->head.status;
	k8s__http_head_clear(&r->head);
	r->head.status = st;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	k8s_http_response *r = ud;
	size_t len = size * n, klen;
	r->t->progress++;
	char *colon;
	const char *end = p + len;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', len);
		headers_reset(r);
		r->head.status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return len;
	}
	if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
		/* end of a header block; 1xx blocks are followed by another */
		if (r->head.status >= 200 || r->head.status == 101)
			r->headers_done = 1;
		return len;
	}
	colon = memchr(p, ':', len);
	if (!colon)
		return len;
	klen = (size_t)(colon - p);
	if (k8s__http_head_add(&r->head, p, klen, colon + 1, (size_t)(end - colon - 1)) < 0)
		return 0;
	return len;
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
	/* libcurl's own trace can echo request headers (HTTP/2 "h2h3" lines)
	 * and proxy URLs from the environment: never print a credential */
	char line[1024], *cred;
	const char *scheme;
	size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;
	(void)h;
	(void)ud;
	if (type != CURLINFO_TEXT)
		return 0;
	memcpy(line, data, n);
	line[n] = 0;
	if ((cred = strcasestr(line, "authorization")) || (cred = strcasestr(line, "cookie"))) {
		fprintf(stderr, "k8s: curl: %.*s<masked>\n", (int)(cred - line) + (int)strcspn(cred, ":]") + 1, line);
		return 0;
	}
	/* user:password@host -> <masked>@host, for every URL in the line */
	{
		char out[1200];
		size_t o = 0;
		const char *q = line;
		int masked = 0;
		while ((scheme = strstr(q, "://")) && o + (size_t)(scheme - q) + 16 < sizeof(out)) {
			const char *auth = scheme + 3, *at = memchr(auth, '@', strcspn(auth, "/ '\"\n"));
			memcpy(out + o, q, (size_t)(auth - q));
			o += (size_t)(auth - q);
			if (at) {
				memcpy(out + o, "<masked>", 8);
				o += 8;
				q = at;
				masked = 1;
			} else {
				q = auth;
			}
		}
		if (masked) {
			fprintf(stderr, "k8s: curl: %.*s%s", (int)o, out, q);
			return 0;
		}
	}
	fprintf(stderr, "k8s: curl: %.*s", (int)size, data);
	return 0;
}

static CURL *take_easy(k8s_transport *t)
{
	if (t->nidle)
		return t->idle[--t->nidle];
	return curl_easy_init();
}

static void give_easy(k8s_transport *t, CURL *e)
{
	CURL **idle;
	if (t->nidle < 8 && (idle = realloc(t->idle, (t->nidle + 1) * sizeof(CURL *)))) {
		t->idle = idle;
		curl_easy_reset(e);
		t->idle[t->nidle++] = e;
		return;
	}
	curl_easy_cleanup(e);
}

static int map_curl_error(k8s_http_response *r)
{
	CURLcode c = r->result;
	const char *msg = r->errbuf[0] ? r->errbuf : curl_easy_strerror(c);
	size_t ml = strlen(msg);
	while (ml && (msg[ml - 1] == '\n'))
		ml--;
	switch (c) {
	case CURLE_COULDNT_CONNECT:
		return k8s__error(K8S_ETRANSPORT, "ConnectionRefused", "connection failed: %.*s", (int)ml, msg);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return k8s__error(K8S_ETRANSPORT, "DNSFailure", "name resolution failed: %.*s", (int)ml, msg);
	case CURLE_OPERATION_TIMEDOUT:
		return k8s__error(K8S_ETIMEOUT, "Timeout", "request timed out: %.*s", (int)ml, msg);
	case CURLE_PEER_FAILED_VERIFICATION:
		return k8s__error(K8S_ECERTIFICATE, "TLSVerifyFailed", "TLS verification failed: %.*s", (int)ml, msg);
	case CURLE_SSL_CACERT_BADFILE:
		return k8s__error(K8S_ECERTIFICATE, "TLSConfigError", "cannot load the CA certificate: %.*s", (int)ml, msg);
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
		return k8s__error(K8S_ECERTIFICATE, "TLSConfigError", "cannot use the client certificate: %.*s", (int)ml, msg);
	case CURLE_SSL_CONNECT_ERROR:
		return k8s__error(K8S_ETRANSPORT, "TLSHandshakeFailed", "TLS handshake failed: %.*s", (int)ml, msg);
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return k8s__error(K8S_ETRANSPORT, "ConnectionReset", "connection lost: %.*s", (int)ml, msg);
	case CURLE_OUT_OF_MEMORY:
		return k8s__error_oom();
	default:
		return k8s__error(K8S_ETRANSPORT, "TransportError", "transport error: %.*s", (int)ml, msg);
	}
}

/* Drive the multi handle once: run what is ready and note finished
 * transfers. Never blocks. */
static int perform(k8s_transport *t)
{
	int running = 0, left;
	CURLMsg *m;
	CURLMcode mc = curl_multi_perform(t->multi, &running);
	if (mc != CURLM_OK)
		return k8s__error(K8S_ETRANSPORT, "TransportError", "curl: %s", curl_multi_strerror(mc));
	while ((m = curl_multi_info_read(t->multi, &left))) {
		if (m->msg == CURLMSG_DONE) {
			k8s_http_response *r = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			if (r) {
				r->done = 1;
				r->result = m->data.result;
			}
		}
	}
	return 0;
}

/* Wait up to wait_ms for socket activity or one of libcurl's timers.
 * Callers check their condition after perform() and before waiting, so a
 * transfer that finished inside perform() costs no wait. If the last
 * perform() delivered bytes, libcurl may hold more already read from the
 * socket (HTTP/2 frames, TLS records) that poll() would not announce: then
 * perform again at once instead of sleeping. */
static int wait_activity(k8s_transport *t, int wait_ms)
{
	CURLMcode mc;
	long to = -1;
	if (t->progress != t->progress_seen) {
		t->progress_seen = t->progress;
		return 0;
	}
	if (curl_multi_timeout(t->multi, &to) == CURLM_OK && to == 0)
		return 0;
	if (to > 0 && to < wait_ms)
		wait_ms = (int)to;
	mc = curl_multi_poll(t->multi, NULL, 0, wait_ms, NULL);
	if (mc != CURLM_OK)
		return k8s__error(K8S_ETRANSPORT, "TransportError", "curl: %s", curl_multi_strerror(mc));
	return 0;
}

/* Pump until cond(r) holds, the transfer ends, or the deadline passes. */
static int wait_for(k8s_http_response *r, int (*cond)(k8s_http_response *), double timeout)
{
	double deadline = timeout >= 0 ? k8s__now() + timeout : 0;
	int rc;
	for (;;) {
		int wait_ms = 1000;
		if ((rc = perform(r->t)) < 0)
			return rc;
		if (cond(r) || r->done)
			return 0;
		if (timeout >= 0) {
			double left = deadline - k8s__now();
			if (left <= 0)
				return K8S_ETIMEOUT;
			if (left * 1000 < wait_ms)
				wait_ms = (int)(left * 1000) + 1;
		}
		if ((rc = wait_activity(r->t, wait_ms)) < 0)
			return rc;
	}
}

/* An error status line was received and the transfer then failed at the
 * stream level: the status is the answer (its body may be cut short). */
static int early_error_answer(const k8s_http_response *r)
{
	return r->head.status >= 400 && (r->result == CURLE_PARTIAL_FILE || r->result == CURLE_HTTP2 ||
				     r->result == CURLE_HTTP2_STREAM || r->result == CURLE_RECV_ERROR ||
				     r->result == CURLE_SEND_ERROR);
}

static int have_headers(k8s_http_response *r) { return r->headers_done; }
static int have_body(k8s_http_response *r) { return r->body.len > r->handed; }

int k8s_transport_send(k8s_transport *t, const k8s_http_request *req, k8s_http_response **out)
{
	k8s_http_response *r;
	CURL *e;
	size_t i;
	int rc;
	*out = NULL;
	if (!(r = calloc(1, sizeof(*r))))
		return k8s__error_oom();
	r->t = t;
	if (!(e = r->easy = take_easy(t))) {
		free(r);
		return k8s__error_oom();
	}
	for (i = 0; i < req->nheaders; i++)
		r->hdrs = curl_slist_append(r->hdrs, req->headers[i]);
	r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SHARE, t->share);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, t->http_version);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	if (!t->o.disable_compression)
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
	if (t->o.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (t->o.ca_data) {
		struct curl_blob b = {(void *)t->o.ca_data, strlen(t->o.ca_data), CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	} else if (t->o.ca_file) {
		curl_easy_setopt(e, CURLOPT_CAINFO, t->o.ca_file);
	}
	if (t->o.cert_data) {
		struct curl_blob b = {(void *)t->o.cert_data, strlen(t->o.cert_data), CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (t->o.cert_file) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, t->o.cert_file);
	}
	if (t->o.key_data) {
		struct curl_blob b = {(void *)t->o.key_data, strlen(t->o.key_data), CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (t->o.key_file) {
		curl_easy_setopt(e, CURLOPT_SSLKEY, t->o.key_file);
	}
	if (t->connect_to)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, t->connect_to);
	if (t->o.proxy)
		curl_easy_setopt(e, CURLOPT_PROXY, t->o.proxy);
	/* a CONNECT tunnel's "200 Connection established" (Proxy or the
	 * environment's https_proxy) is not the server's answer: without this
	 * it ended the header block, so a watch through a proxy took a 401 or
	 * 410 for an open stream */
	curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	if (t->o.verbose >= 9) {
		curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
	}
	if (req->timeout > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->timeout * 1000));
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body || strcmp(req->method, "DELETE") != 0) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		}
	}
	if (t->stale) {
		/* the client certificate changed: no old connection or TLS session */
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	}
	if (curl_multi_add_handle(t->multi, e) != CURLM_OK) {
		k8s_http_response_free(r);
		return k8s__error(K8S_ETRANSPORT, "TransportError", "cannot start the transfer");
	}
	t->active++;
	r->added = 1;
	rc = wait_for(r, have_headers, -1);
	if (rc < 0) {
		k8s_http_response_free(r);
		return rc;
	}
	if (r->done && r->result != CURLE_OK && !r->headers_done && early_error_answer(r)) {
		/* the server answered an error before reading the whole body and
		 * reset the stream; libcurl 7.88 reports that as a failed transfer
		 * (curl#13151): keep the answer */
		r->headers_done = 1;
	}
	if (r->done && r->result != CURLE_OK && !r->headers_done) {
		rc = map_curl_error(r);
		k8s_http_response_free(r);
		return rc;
	}
	if (r->done && !r->headers_done) {
		/* the connection ended inside the response head (libcurl may call
		 * that a success): never an answer */
		k8s_http_response_free(r);
		return k8s__error(K8S_ETRANSPORT, "ConnectionReset", "the server closed the connection inside the response head");
	}
	*out = r;
	return 0;
}

struct k8s_tls_ctx **k8s__transport_tls_ctx(k8s_transport *t)
{
	return &t->tls_ctx;
}

long k8s_http_response_status(const k8s_http_response *r)
{
	return r->head.status;
}

const k8s_http_head *k8s_http_response_head(const k8s_http_response *r)
{
	return &r->head;
}

const char *k8s_http_response_header_n(const k8s_http_response *r, const char *name, size_t n)
{
	return k8s__http_head_get_n(&r->head, name, n);
}

const char *k8s_http_response_header(const k8s_http_response *r, const char *name)
{
	return k8s__http_head_get(&r->head, name);
}

int k8s_http_response_read(k8s_http_response *r, const char **data, size_t *len, double timeout)
{
	int rc;
	k8s_buf_consume(&r->body, r->handed);
	r->handed = 0;
	*data = NULL;
	*len = 0;
	if (!have_body(r) && !r->done) {
		rc = wait_for(r, have_body, timeout);
		if (rc == K8S_ETIMEOUT)
			return k8s__error(K8S_ETIMEOUT, "Timeout", "no data within %.3gs", timeout);
		if (rc < 0)
			return rc;
	}
	if (have_body(r)) {
		*data = r->body.ptr;
		*len = r->handed = r->body.len;
		return 1;
	}
	if (r->result != CURLE_OK)
		return map_curl_error(r);
	return 0;
}

int k8s_http_response_read_all(k8s_http_response *r, k8s_buf *out)
{
	return k8s_http_response_read_all_observed(r, out, NULL, NULL);
}

int k8s_http_response_read_all_observed(k8s_http_response *r, k8s_buf *out,
	void (*obs)(void *ud, const char *body, size_t len), void *ud)
{
	int rc;
	size_t seen = 0;
	k8s_buf_consume(&r->body, r->handed);
	r->handed = 0;
	for (;;) {
		if ((rc = perform(r->t)) < 0)
			return rc;
		/* between rounds of the multi loop, never inside a libcurl
		 * callback: the observer may run Lua code */
		if (obs && r->body.len > seen && r->result == CURLE_OK) {
			seen = r->body.len;
			obs(ud, r->body.ptr, r->body.len);
		}
		if (r->done)
			break;
		if ((rc = wait_activity(r->t, 1000)) < 0)
			return rc;
	}
	if (r->result != CURLE_OK && !early_error_answer(r))
		return map_curl_error(r);
	if (!out->ptr) {
		*out = r->body;
		memset(&r->body, 0, sizeof(r->body));
		return 0;
	}
	return k8s_buf_put(out, r->body.ptr, r->body.len);
}

void k8s_http_response_free(k8s_http_response *r)
{
	if (!r)
		return;
	if (r->easy) {
		k8s_transport *t = r->t;
		curl_multi_remove_handle(t->multi, r->easy);
		/* idle first: reset_connections detaches it from the old share */
		give_easy(t, r->easy);
		if (r->added && --t->active == 0 && t->stale)
			reset_connections(t);
	}
	curl_slist_free_all(r->hdrs);
	k8s__http_head_clear(&r->head);
	k8s_buf_free(&r->body);
	free(r);
}
