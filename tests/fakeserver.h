/* A tiny in-process HTTP/1.1 server for the C tests: one pthread listening
 * on 127.0.0.1:0 (plain http), answering with scripted responses and
 * recording every request it received.
 *
 *   fakeserver fs;
 *   fs_start(&fs);
 *   fs_push(&fs, 429, NULL, "Retry-After: 0\r\n", "", FS_OK);   // first request
 *   fs_push(&fs, 200, "application/json", NULL, "{}", FS_OK);  // second one
 *   ... point a client at fs.url ...
 *   fs_count(&fs) == 2; fs_req(&fs, 1)->method ...
 *   fs_stop(&fs);
 *
 * When the script is exhausted the fallback (fs_fallback) answers every
 * further request; without one the answer is 200 with "{}".
 * Actions model faults the real API server will not produce on demand:
 *   FS_OK        the whole response, connection kept alive
 *   FS_CLOSE     the whole response with "Connection: close", then FIN
 *   FS_RESET     no response at all: the connection is reset (RST)
 *   FS_TRUNCATE  headers claim more body than is sent, then FIN
 *   FS_RESET_MID headers and part of the body, then RST
 *   FS_DELAY     wait `delay_ms` before answering normally
 * Test-only code: every allocation failure aborts. */
#ifndef K8S_FAKESERVER_H
#define K8S_FAKESERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { FS_OK, FS_CLOSE, FS_RESET, FS_TRUNCATE, FS_RESET_MID, FS_DELAY };

typedef struct {
	int status;
	char *ctype;     /* Content-Type or NULL */
	char *extra;     /* extra header lines, each ending in \r\n, or NULL */
	char *body;
	size_t body_len;
	int action;
	int delay_ms;
} fs_resp;

typedef struct {
	char method[16];
	char *target;    /* path and query as sent */
	char **hdr;      /* name, value, name, value... */
	size_t nhdr;
	char *body;
	size_t body_len;
	int conn;        /* connection number (0-based, in accept order) */
} fs_request;

#define FS_MAX_CONN 32

typedef struct {
	int fd;
	char *buf;
	size_t len, cap;
	int id;
} fs_conn;

typedef struct {
	int lfd, port, wake[2];
	char url[64];
	pthread_t th;
	pthread_mutex_t mu;
	fs_resp *script;
	size_t nscript, next;
	fs_resp fallback;
	int has_fallback;
	fs_request *reqs;
	size_t nreqs;
	int nconns_total;
	fs_conn conns[FS_MAX_CONN];
} fakeserver;

static void *fs_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

static char *fs_xstrndup(const char *s, size_t n)
{
	char *p = fs_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

static char *fs_xstrdup(const char *s)
{
	return s ? fs_xstrndup(s, strlen(s)) : NULL;
}

static void fs_resp_free(fs_resp *r)
{
	free(r->ctype);
	free(r->extra);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static void fs_request_free(fs_request *q)
{
	size_t i;
	free(q->target);
	for (i = 0; i < q->nhdr; i++)
		free(q->hdr[i]);
	free(q->hdr);
	free(q->body);
}

static fs_resp fs_make(int status, const char *ctype, const char *extra, const char *body, size_t body_len, int action)
{
	fs_resp r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.ctype = fs_xstrdup(ctype);
	r.extra = fs_xstrdup(extra);
	r.body = fs_xstrndup(body ? body : "", body ? body_len : 0);
	r.body_len = body ? body_len : 0;
	r.action = action;
	return r;
}

/* Append a scripted response with a body of explicit length. */
static fs_resp *fs_push_n(fakeserver *fs, int status, const char *ctype, const char *extra, const char *body,
			  size_t body_len, int action)
{
	fs_resp *s;
	pthread_mutex_lock(&fs->mu);
	s = realloc(fs->script, (fs->nscript + 1) * sizeof(*s));
	if (!s)
		abort();
	fs->script = s;
	s = &fs->script[fs->nscript++];
	*s = fs_make(status, ctype, extra, body, body_len, action);
	pthread_mutex_unlock(&fs->mu);
	return s;
}

static fs_resp *fs_push(fakeserver *fs, int status, const char *ctype, const char *extra, const char *body, int action)
{
	return fs_push_n(fs, status, ctype, extra, body, body ? strlen(body) : 0, action);
}

/* A response delayed by ms milliseconds. */
static void fs_push_delayed(fakeserver *fs, int ms, int status, const char *ctype, const char *body)
{
	fs_resp *r = fs_push(fs, status, ctype, NULL, body, FS_DELAY);
	pthread_mutex_lock(&fs->mu);
	r->delay_ms = ms;
	pthread_mutex_unlock(&fs->mu);
}

/* The response for every request after the script ran out. */
static void fs_fallback(fakeserver *fs, int status, const char *ctype, const char *extra, const char *body, int action)
{
	pthread_mutex_lock(&fs->mu);
	fs_resp_free(&fs->fallback);
	fs->fallback = fs_make(status, ctype, extra, body, body ? strlen(body) : 0, action);
	fs->has_fallback = 1;
	pthread_mutex_unlock(&fs->mu);
}

/* Forget the script, the fallback and the request log. */
static void fs_reset(fakeserver *fs)
{
	size_t i;
	pthread_mutex_lock(&fs->mu);
	for (i = 0; i < fs->nscript; i++)
		fs_resp_free(&fs->script[i]);
	free(fs->script);
	fs->script = NULL;
	fs->nscript = fs->next = 0;
	fs_resp_free(&fs->fallback);
	fs->has_fallback = 0;
	for (i = 0; i < fs->nreqs; i++)
		fs_request_free(&fs->reqs[i]);
	free(fs->reqs);
	fs->reqs = NULL;
	fs->nreqs = 0;
	pthread_mutex_unlock(&fs->mu);
}

static size_t fs_count(fakeserver *fs)
{
	size_t n;
	pthread_mutex_lock(&fs->mu);
	n = fs->nreqs;
	pthread_mutex_unlock(&fs->mu);
	return n;
}

/* The i-th request received (borrowed until fs_reset/fs_stop), or NULL.
 * Read it only while the client is not sending. */
static const fs_request *fs_req(fakeserver *fs, size_t i)
{
	const fs_request *q;
	pthread_mutex_lock(&fs->mu);
	q = i < fs->nreqs ? &fs->reqs[i] : NULL;
	pthread_mutex_unlock(&fs->mu);
	return q;
}

/* The i-th value of a request header (case-insensitive), or NULL. */
static const char *fs_header_n(const fs_request *q, const char *name, size_t n)
{
	size_t i;
	if (!q)
		return NULL;
	for (i = 0; i + 1 < q->nhdr; i += 2)
		if (strcasecmp(q->hdr[i], name) == 0 && n-- == 0)
			return q->hdr[i + 1];
	return NULL;
}

static const char *fs_header(const fs_request *q, const char *name)
{
	return fs_header_n(q, name, 0);
}

/* ---- the server thread ---- */

static const char *fs_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static void fs_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void fs_close_conn(fs_conn *c, int rst)
{
	if (c->fd < 0)
		return;
	if (rst) {
		struct linger lg = {1, 0};
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static void fs_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Answer one request on c with r. Returns 0 to keep the connection. */
static int fs_answer(fs_conn *c, const fs_resp *r)
{
	char head[8192];
	size_t claimed = r->body_len, sent = r->body_len;
	int n;
	if (r->action == FS_RESET) {
		fs_close_conn(c, 1);
		return -1;
	}
	if (r->action == FS_DELAY)
		fs_sleep_ms(r->delay_ms);
	if (r->action == FS_TRUNCATE || r->action == FS_RESET_MID) {
		claimed = r->body_len + 1000;
		sent = r->body_len;
	}
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s%s%s%s\r\n", r->status,
		     fs_reason(r->status), claimed, r->ctype ? "Content-Type: " : "", r->ctype ? r->ctype : "",
		     r->ctype ? "\r\n" : "", r->extra ? r->extra : "", r->action == FS_CLOSE ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		abort();
	{
		/* one write: no Nagle / delayed-ACK stalls between head and body */
		char *all = fs_xmalloc((size_t)n + sent);
		memcpy(all, head, (size_t)n);
		memcpy(all + n, r->body, sent);
		fs_write_all(c->fd, all, (size_t)n + sent);
		free(all);
	}
	switch (r->action) {
	case FS_CLOSE:
	case FS_TRUNCATE:
		fs_close_conn(c, 0);
		return -1;
	case FS_RESET_MID:
		fs_sleep_ms(50); /* let the client see the partial body first */
		fs_close_conn(c, 1);
		return -1;
	default:
		return 0;
	}
}

static const char *fs_memmem(const char *h, size_t hl, const char *n)
{
	size_t nl = strlen(n), i;
	for (i = 0; i + nl <= hl; i++)
		if (memcmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

/* Parse and answer every complete request buffered on c. */
static void fs_serve_buffer(fakeserver *fs, fs_conn *c)
{
	for (;;) {
		const char *end, *line, *p;
		size_t head_len, clen = 0, total;
		fs_request q;
		fs_resp r;
		if (c->fd < 0 || !c->buf)
			return;
		end = fs_memmem(c->buf, c->len, "\r\n\r\n");
		if (!end)
			return;
		head_len = (size_t)(end - c->buf) + 4;
		memset(&q, 0, sizeof(q));
		/* request line */
		line = c->buf;
		p = memchr(line, ' ', head_len);
		if (!p) {
			fs_close_conn(c, 0);
			return;
		}
		snprintf(q.method, sizeof(q.method), "%.*s", (int)(p - line), line);
		{
			const char *t = p + 1, *te = memchr(t, ' ', head_len - (size_t)(t - c->buf));
			if (!te) {
				fs_close_conn(c, 0);
				return;
			}
			q.target = fs_xstrndup(t, (size_t)(te - t));
		}
		/* headers */
		line = strstr(c->buf, "\r\n") + 2;
		while (line < end + 2) {
			const char *le = fs_memmem(line, (size_t)(end + 2 - line), "\r\n");
			const char *colon;
			if (!le || le == line)
				break;
			colon = memchr(line, ':', (size_t)(le - line));
			if (colon) {
				const char *v = colon + 1;
				char **h = realloc(q.hdr, (q.nhdr + 2) * sizeof(char *));
				if (!h)
					abort();
				q.hdr = h;
				while (v < le && (*v == ' ' || *v == '\t'))
					v++;
				q.hdr[q.nhdr++] = fs_xstrndup(line, (size_t)(colon - line));
				q.hdr[q.nhdr++] = fs_xstrndup(v, (size_t)(le - v));
				if (strcasecmp(q.hdr[q.nhdr - 2], "Content-Length") == 0)
					clen = (size_t)strtoul(q.hdr[q.nhdr - 1], NULL, 10);
			}
			line = le + 2;
		}
		total = head_len + clen;
		if (c->len < total) {
			fs_request_free(&q); /* wait for the rest of the body */
			return;
		}
		q.body = fs_xstrndup(c->buf + head_len, clen);
		q.body_len = clen;
		q.conn = c->id;
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
		c->buf[c->len] = 0;
		/* record, then pick the response */
		pthread_mutex_lock(&fs->mu);
		{
			fs_request *rq = realloc(fs->reqs, (fs->nreqs + 1) * sizeof(*rq));
			if (!rq)
				abort();
			fs->reqs = rq;
			fs->reqs[fs->nreqs++] = q;
		}
		if (fs->next < fs->nscript) {
			const fs_resp *s = &fs->script[fs->next++];
			r = fs_make(s->status, s->ctype, s->extra, s->body, s->body_len, s->action);
			r.delay_ms = s->delay_ms;
		} else if (fs->has_fallback) {
			r = fs_make(fs->fallback.status, fs->fallback.ctype, fs->fallback.extra, fs->fallback.body,
				    fs->fallback.body_len, fs->fallback.action);
		} else {
			r = fs_make(200, "application/json", NULL, "{}", 2, FS_OK);
		}
		pthread_mutex_unlock(&fs->mu);
		fs_answer(c, &r);
		fs_resp_free(&r);
	}
}

static void *fs_thread(void *arg)
{
	fakeserver *fs = arg;
	for (;;) {
		struct pollfd pf[FS_MAX_CONN + 2];
		int idx[FS_MAX_CONN + 2];
		int n = 0, i;
		pf[n].fd = fs->wake[0];
		pf[n].events = POLLIN;
		idx[n++] = -1;
		pf[n].fd = fs->lfd;
		pf[n].events = POLLIN;
		idx[n++] = -2;
		for (i = 0; i < FS_MAX_CONN; i++) {
			if (fs->conns[i].fd >= 0) {
				pf[n].fd = fs->conns[i].fd;
				pf[n].events = POLLIN;
				idx[n++] = i;
			}
		}
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents)
			break;
		if (pf[1].revents & POLLIN) {
			int cfd = accept(fs->lfd, NULL, NULL);
			if (cfd >= 0) {
				for (i = 0; i < FS_MAX_CONN; i++)
					if (fs->conns[i].fd < 0)
						break;
				if (i == FS_MAX_CONN) {
					close(cfd);
				} else {
					int one = 1;
					setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					fs->conns[i].fd = cfd;
					fs->conns[i].len = 0;
					fs->conns[i].id = fs->nconns_total++;
				}
			}
		}
		for (i = 2; i < n; i++) {
			fs_conn *c = &fs->conns[idx[i]];
			char chunk[16384];
			ssize_t got;
			if (!pf[i].revents || c->fd != pf[i].fd)
				continue;
			got = recv(c->fd, chunk, sizeof(chunk), 0);
			if (got <= 0) {
				fs_close_conn(c, 0);
				continue;
			}
			if (c->len + (size_t)got + 1 > c->cap) {
				size_t cap = (c->len + (size_t)got + 1) * 2;
				char *b = realloc(c->buf, cap);
				if (!b)
					abort();
				c->buf = b;
				c->cap = cap;
			}
			memcpy(c->buf + c->len, chunk, (size_t)got);
			c->len += (size_t)got;
			c->buf[c->len] = 0;
			fs_serve_buffer(fs, c);
		}
	}
	return NULL;
}

/* Start listening on 127.0.0.1 at a free port. Returns 0 or -1. */
static int fs_start(fakeserver *fs)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int one = 1, i;
	memset(fs, 0, sizeof(*fs));
	for (i = 0; i < FS_MAX_CONN; i++)
		fs->conns[i].fd = -1;
	pthread_mutex_init(&fs->mu, NULL);
	if (pipe(fs->wake) < 0)
		return -1;
	fs->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (fs->lfd < 0)
		return -1;
	setsockopt(fs->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (bind(fs->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fs->lfd, 16) < 0 ||
	    getsockname(fs->lfd, (struct sockaddr *)&a, &alen) < 0) {
		close(fs->lfd);
		return -1;
	}
	fs->port = ntohs(a.sin_port);
	snprintf(fs->url, sizeof(fs->url), "http://127.0.0.1:%d", fs->port);
	if (pthread_create(&fs->th, NULL, fs_thread, fs) != 0) {
		close(fs->lfd);
		return -1;
	}
	return 0;
}

static void fs_stop(fakeserver *fs)
{
	int i;
	char x = 'x';
	if (write(fs->wake[1], &x, 1) != 1)
		abort();
	pthread_join(fs->th, NULL);
	for (i = 0; i < FS_MAX_CONN; i++)
		fs_close_conn(&fs->conns[i], 0);
	close(fs->lfd);
	close(fs->wake[0]);
	close(fs->wake[1]);
	fs_reset(fs);
	pthread_mutex_destroy(&fs->mu);
}

/* Two round trips of a "QUIESCE" marker request on a connection of our
 * own: what clients sent before (on connections they have closed) has been
 * read and recorded by then. The marker requests are recorded too (method
 * QUIESCE), answered by the script or the fallback. */
__attribute__((unused)) static void fs_quiesce(fakeserver *fs)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), i;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)fs->port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		abort();
	for (i = 0; i < 2; i++) {
		static const char req[] = "QUIESCE / HTTP/1.1\r\nHost: x\r\n\r\n";
		char buf[8192];
		size_t have = 0;
		const char *end = NULL, *cl;
		fs_write_all(fd, req, sizeof(req) - 1);
		for (;;) {
			ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
			if (n <= 0)
				abort();
			have += (size_t)n;
			buf[have] = 0;
			if (!end && (end = strstr(buf, "\r\n\r\n")))
				end += 4;
			if (end && (cl = strcasestr(buf, "Content-Length:")) &&
			    have >= (size_t)(end - buf) + (size_t)atol(cl + 15))
				break;
		}
	}
	close(fd);
}

#endif
