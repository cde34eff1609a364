/* fakewatch MODE: serve one scripted watch response on a free loopback port
 * for the Lua specs (faults the real API server will not produce on demand),
 * print the server's URL on stdout, and exit once the response is sent (or
 * after 20 s). Modes:
 *   malformed  an ADDED event, then an event that is not JSON
 *   badtype    an ADDED event, then an event of an unknown type
 *   truncated  an ADDED event, then the stream ends inside an event */
/* this helper uses only part of the fake server */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "fakeserver.h"

#define ADDED "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"," \
	      "\"metadata\":{\"name\":\"first\",\"resourceVersion\":\"7\"}}}\n"

int main(int argc, char **argv)
{
	fakeserver fs;
	const char *mode = argc > 1 ? argv[1] : "";
	const char *tail;
	char body[512];
	int i;
	if (strcmp(mode, "malformed") == 0)
		tail = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{]}}\n";
	else if (strcmp(mode, "badtype") == 0)
		tail = "{\"type\":\"BOGUS\",\"object\":{}}\n";
	else if (strcmp(mode, "truncated") == 0)
		tail = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":";
	else {
		fprintf(stderr, "usage: fakewatch malformed|badtype|truncated\n");
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
