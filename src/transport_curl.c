/* libcurl transport. One multi handle per transport (per connection pool,
 * below): every transfer of a client shares its connection cache
 * (keep-alive, HTTP/2 multiplexing), and bodies are pulled chunk by chunk so
 * streams and watches can time out. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <curl/curl.h>
#include "transport.h"
#include "tls.h"

/* A connection pool: a multi handle (connections, HTTP/2 multiplexing) and
 * its share (DNS, TLS sessions). A client-certificate change starts a new
 * pool; the old one lives on, retired, only for the transfers still in it
 * (an open watch), and is freed when the last of them ends. */
typedef struct pool {
	CURLM *multi;
	CURLSH *share;
	int active;         /* transfers in the multi handle */
	struct pool *next;  /* the next retired pool */
} pool;

struct k8s_transport {
	/* not atomic, and nothing here is locked: a transport is shared only by
	 * the clients of one clientset, used by one thread at a time (clients
	 * made from one config on other threads have transports of their own) */
	int refs;
	pool *pool;         /* new transfers go here */
	pool *retired;      /* older pools with transfers still active */
	k8s_transport_options o;
	char *strs[8];
	struct curl_slist *connect_to;
	CURL **idle;        /* easy handles to reuse */
	size_t nidle;
	unsigned long progress; /* bumped whenever a callback delivers bytes */
	unsigned long progress_seen;
	long http_version;      /* DISABLE_HTTP2 read once, as client-go */
	struct k8s_tls_ctx *tls_ctx; /* the sans-I/O wire's TLS state, shared like the connections */
};

struct k8s_http_response {
	pool *pool;         /* the pool it was added to (counted in its active) */
	k8s_transport *t;
	CURL *easy;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	int headers_done;
	int done;           /* transfer finished */
	int oom;            /* a callback ran out of memory (and aborted the transfer) */
	CURLcode result;
	k8s_buf body;       /* received, not yet handed out */
	size_t handed;      /* bytes of body handed out by the last read */
	k8s_http_head head; /* status and headers */
};


static pool *pool_new(void)
{
	pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->multi = curl_multi_init();
	p->share = curl_share_init();
	if (!p->multi || !p->share) {
		if (p->multi)
			curl_multi_cleanup(p->multi);
		if (p->share)
			curl_share_cleanup(p->share);
		free(p);
		return NULL;
	}
	curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(p->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, 25L);
	return p;
}

/* Free a pool without active transfers. curl_easy_reset keeps an easy
 * handle attached to its share, and curl_share_cleanup refuses
 * (CURLSHE_IN_USE) a share still in use: the idle handles let go of theirs
 * first (each transfer sets its pool's share again), or the share leaks. */
static void pool_free(k8s_transport *t, pool *p)
{
	size_t i;
	if (!p)
		return;
	for (i = 0; i < t->nidle; i++)
		curl_easy_setopt(t->idle[i], CURLOPT_SHARE, (CURLSH *)NULL);
	curl_multi_cleanup(p->multi);
	curl_share_cleanup(p->share);
	free(p);
}

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
	/* a copy that failed would drop its option silently: the system CA
	 * store instead of CAFile, no client certificate, no proxy, no
	 * ServerName; fail instead */
	if ((opts->ca_file && !t->o.ca_file) || (opts->cert_file && !t->o.cert_file) ||
	    (opts->key_file && !t->o.key_file) || (opts->proxy && !t->o.proxy) || (opts->ca_data && !t->o.ca_data) ||
	    (opts->cert_data && !t->o.cert_data) || (opts->key_data && !t->o.key_data) ||
	    (opts->connect_to && !t->connect_to) || !(t->pool = pool_new())) {
		k8s_transport_free(t);
		return k8s__error_oom();
	}
	*out = t;
	return 0;
}

int k8s_transport_set_client_cert(k8s_transport *t, const char *cert_pem, const char *key_pem)
{
	char *c, *k;
	pool *p;
	if (t->strs[5] && t->strs[6] && !strcmp(t->strs[5], cert_pem) && !strcmp(t->strs[6], key_pem))
		return 0;
	c = k8s__strdup(cert_pem);
	k = k8s__strdup(key_pem);
	p = pool_new();
	if (!c || !k || !p) {
		k8s__sfree(c);
		k8s__sfree(k);
		if (p)
			pool_free(t, p);
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
	/* no old connection or TLS session from now on: a new pool; the old
	 * one is freed now, or when its last transfer (an open watch) ends */
	if (t->pool->active == 0) {
		pool_free(t, t->pool);
	} else {
		t->pool->next = t->retired;
		t->retired = t->pool;
	}
	t->pool = p;
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
	while (t->retired) {
		pool *p = t->retired;
		t->retired = p->next;
		pool_free(t, p);
	}
	pool_free(t, t->pool);
	for (i = 0; i < t->nidle; i++)
		curl_easy_cleanup(t->idle[i]);
	free(t->idle);
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
	if (k8s_buf_put(&r->body, p, len) < 0) {
		r->oom = 1;
		return 0;
	}
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
	if (k8s__http_head_add(&r->head, p, klen, colon + 1, (size_t)(end - colon - 1)) < 0) {
		r->oom = 1;
		return 0;
	}
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
	if (r->oom)
		return k8s__error_oom(); /* our callback's, not a write error */
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
static int perform(pool *p)
{
	int running = 0, left;
	CURLMsg *m;
	CURLMcode mc = curl_multi_perform(p->multi, &running);
	if (mc != CURLM_OK)
		return k8s__error(K8S_ETRANSPORT, "TransportError", "curl: %s", curl_multi_strerror(mc));
	while ((m = curl_multi_info_read(p->multi, &left))) {
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
static int wait_activity(k8s_transport *t, pool *p, int wait_ms)
{
	CURLMcode mc;
	long to = -1;
	if (t->progress != t->progress_seen) {
		t->progress_seen = t->progress;
		return 0;
	}
	if (curl_multi_timeout(p->multi, &to) == CURLM_OK && to == 0)
		return 0;
	if (to > 0 && to < wait_ms)
		wait_ms = (int)to;
	mc = curl_multi_poll(p->multi, NULL, 0, wait_ms, NULL);
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
		if ((rc = perform(r->pool)) < 0)
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
		if ((rc = wait_activity(r->t, r->pool, wait_ms)) < 0)
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
	CURLcode cc = CURLE_OK;
	CURLMcode mc;
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
	/* curl_slist_append returns NULL (the list untouched) when out of
	 * memory: every header is sent (Authorization!), or no request */
	for (i = 0; i <= req->nheaders; i++) {
		struct curl_slist *l = curl_slist_append(r->hdrs, i < req->nheaders ? req->headers[i] : "Expect:");
		if (!l) {
			k8s_http_response_free(r);
			return k8s__error_oom();
		}
		r->hdrs = l;
	}
	/* an option libcurl could not copy stays unset (no CAINFO: the system
	 * store; no URL, no method): the first failure of an option that makes
	 * the request what it is fails it (the tuning ones may be unsupported) */
#define SETOPT(opt, val) do { CURLcode c_ = curl_easy_setopt(e, opt, val); if (c_ != CURLE_OK && cc == CURLE_OK) cc = c_; } while (0)
	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PRIVATE, (char *)r);
	SETOPT(CURLOPT_ERRORBUFFER, r->errbuf);
	SETOPT(CURLOPT_HTTPHEADER, r->hdrs);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, r);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_SHARE, t->pool->share);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, t->http_version);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	if (!t->o.disable_compression)
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
	if (t->o.insecure) {
		SETOPT(CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (t->o.ca_data) {
		struct curl_blob b = {(void *)t->o.ca_data, strlen(t->o.ca_data), CURL_BLOB_COPY};
		SETOPT(CURLOPT_CAINFO_BLOB, &b);
	} else if (t->o.ca_file) {
		SETOPT(CURLOPT_CAINFO, t->o.ca_file);
	}
	if (t->o.cert_data) {
		struct curl_blob b = {(void *)t->o.cert_data, strlen(t->o.cert_data), CURL_BLOB_COPY};
		SETOPT(CURLOPT_SSLCERT_BLOB, &b);
		SETOPT(CURLOPT_SSLCERTTYPE, "PEM");
	} else if (t->o.cert_file) {
		SETOPT(CURLOPT_SSLCERT, t->o.cert_file);
	}
	if (t->o.key_data) {
		struct curl_blob b = {(void *)t->o.key_data, strlen(t->o.key_data), CURL_BLOB_COPY};
		SETOPT(CURLOPT_SSLKEY_BLOB, &b);
		SETOPT(CURLOPT_SSLKEYTYPE, "PEM");
	} else if (t->o.key_file) {
		SETOPT(CURLOPT_SSLKEY, t->o.key_file);
	}
	if (t->connect_to)
		SETOPT(CURLOPT_CONNECT_TO, t->connect_to);
	if (t->o.proxy)
		SETOPT(CURLOPT_PROXY, t->o.proxy);
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
		SETOPT(CURLOPT_TIMEOUT_MS, (long)(req->timeout * 1000));
	if (strcmp(req->method, "GET") == 0) {
		SETOPT(CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "HEAD") == 0) {
		SETOPT(CURLOPT_NOBODY, 1L);
	} else {
		SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body || strcmp(req->method, "DELETE") != 0) {
			SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
			SETOPT(CURLOPT_POSTFIELDS, req->body ? req->body : "");
		}
	}
#undef SETOPT
	if (cc != CURLE_OK) {
		k8s_http_response_free(r);
		if (cc == CURLE_OUT_OF_MEMORY)
			return k8s__error_oom();
		return k8s__error(K8S_ETRANSPORT, "TransportError", "cannot set up the transfer: %s", curl_easy_strerror(cc));
	}
	if ((mc = curl_multi_add_handle(t->pool->multi, e)) != CURLM_OK) {
		k8s_http_response_free(r);
		if (mc == CURLM_OUT_OF_MEMORY)
			return k8s__error_oom();
		return k8s__error(K8S_ETRANSPORT, "TransportError", "cannot start the transfer");
	}
	r->pool = t->pool;
	r->pool->active++;
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

long k8s__http_response_new_connections(const k8s_http_response *r)
{
	long n = 0;
	if (!r->easy || curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &n) != CURLE_OK)
		return -1;
	return n;
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
		if ((rc = perform(r->pool)) < 0)
			return rc;
		/* between rounds of the multi loop, never inside a libcurl
		 * callback: the observer may run Lua code */
		if (obs && r->body.len > seen && r->result == CURLE_OK) {
			seen = r->body.len;
			obs(ud, r->body.ptr, r->body.len);
		}
		if (r->done)
			break;
		if ((rc = wait_activity(r->t, r->pool, 1000)) < 0)
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
		pool *p = r->pool, **pp;
		if (p)
			curl_multi_remove_handle(p->multi, r->easy);
		/* idle first: pool_free detaches it from the old share */
		give_easy(t, r->easy);
		if (p && --p->active == 0 && p != t->pool) {
			for (pp = &t->retired; *pp && *pp != p; pp = &(*pp)->next)
				;
			if (*pp)
				*pp = p->next;
			pool_free(t, p);
		}
	}
	curl_slist_free_all(r->hdrs);
	k8s__http_head_clear(&r->head);
	k8s_buf_free(&r->body);
	free(r);
}
