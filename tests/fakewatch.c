/* fakewatch MODE: serve one scripted watch response on a free loopback port
 * for the Lua specs (faults the real API server will not produce on demand),
 * print the server's URL on stdout, and exit once the response is sent (or
 * after 20 s). Modes:
 *   malformed  an ADDED event, then an event that is not JSON
 *   badtype    an ADDED event, then an event of an unknown type
 *   truncated  an ADDED event, then the stream ends inside an event
 *   retryafter a 429 Status with Retry-After: 5 (then 200 "{}" to anything
 *              else); a request to /stop prints "requests N" (how many came
 *              before it) and ends the server (spec/timeout_spec.lua)
 *   drip       one connection: a 200 whose 10-byte body comes a byte every
 *              300 ms (no read waits long, the whole answer takes 3 s) */
/* this helper uses only part of the fake server */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "fakeserver.h"

#define ADDED "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"," \
	      "\"metadata\":{\"name\":\"first\",\"resourceVersion\":\"7\"}}}\n"

#define STATUS_429 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\"," \
		   "\"message\":\"too many requests, please try again later\",\"reason\":\"TooManyRequests\"," \
		   "\"details\":{\"retryAfterSeconds\":5},\"code\":429}"

/* retryafter: answer 429 + Retry-After: 5 once, then wait for /stop. */
static int retry_after(void)
{
	fakeserver fs;
	size_t seen = 0, stop = 0;
	int i, stopped = 0;
	if (fs_start(&fs) < 0)
		return 1;
	fs_push(&fs, 429, "application/json", "Retry-After: 5\r\n", STATUS_429, FS_OK);
	printf("%s\n", fs.url);
	fflush(stdout);
	for (i = 0; i < 6000 && !stopped; i++) {
		size_t n = fs_count(&fs);
		for (; seen < n && !stopped; seen++) {
			const fs_request *q = fs_req(&fs, seen);
			if (q && q->target && strncmp(q->target, "/stop", 5) == 0) {
				stopped = 1;
				stop = seen;
			}
		}
		if (!stopped)
			usleep(10000);
	}
	printf("requests %zu\n", stopped ? stop : seen);
	fflush(stdout);
	usleep(300000); /* let the response go out */
	fs_stop(&fs);
	return 0;
}

static int drip(void)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n";
	static const char body[] = "{\"a\":\"12\"}";
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	struct pollfd pfd;
	char buf[4096];
	size_t got = 0;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fd, i;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &al) < 0)
		return 1;
	printf("http://127.0.0.1:%d\n", ntohs(a.sin_port));
	fflush(stdout);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 20000) != 1 || (fd = accept(lfd, NULL, NULL)) < 0)
		return 1;
	while (!fs_memmem(buf, got, "\r\n\r\n")) { /* the request head */
		ssize_t n = got < sizeof(buf) ? recv(fd, buf + got, sizeof(buf) - got, 0) : -1;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (send(fd, head, sizeof(head) - 1, MSG_NOSIGNAL) < 0)
		return 0;
	for (i = 0; i < 10; i++) {
		usleep(300000);
		if (send(fd, body + i, 1, MSG_NOSIGNAL) != 1)
			break; /* the client gave up */
	}
	close(fd);
	close(lfd);
	return 0;
}

int main(int argc, char **argv)
{
	fakeserver fs;
	const char *mode = argc > 1 ? argv[1] : "";
	const char *tail;
	char body[512];
	int i;
	if (strcmp(mode, "retryafter") == 0)
		return retry_after();
	if (strcmp(mode, "drip") == 0)
		return drip();
	if (strcmp(mode, "malformed") == 0)
		tail = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{]}}\n";
	else if (strcmp(mode, "badtype") == 0)
		tail = "{\"type\":\"BOGUS\",\"object\":{}}\n";
	else if (strcmp(mode, "truncated") == 0)
		tail = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":";
	else {
		fprintf(stderr, "usage: fakewatch malformed|badtype|truncated|retryafter|drip\n");
		return 2;
	}
	snprintf(body, sizeof(body), "%s%s", ADDED, tail);
	if (fs_start(&fs) < 0)
		return 1;
	fs_push(&fs, 200, "application/json", NULL, body, FS_CLOSE);
	printf("%s\n", fs.url);
	fflush(stdout);
	for (i = 0; i < 2000 && fs_count(&fs) < 1; i++)
		usleep(10000);
	usleep(300000); /* let the response go out */
	fs_stop(&fs);
	return 0;
}
