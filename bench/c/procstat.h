/* The current resident set of this process in KiB (/proc/self/status
 * VmRSS), 0 when unknown: shared by benchutil.c and curlpeer.c. */
#ifndef BENCH_PROCSTAT_H
#define BENCH_PROCSTAT_H
#include <stdio.h>

static inline long proc_vmrss_kb(void)
{
	char line[256];
	long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");
	if (f) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "VmRSS: %ld", &kb) == 1)
				break;
		fclose(f);
	}
	return kb;
}

#endif
