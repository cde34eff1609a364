/* A scratch environment for the kubeconfig targets (fuzz/kubeconfig.c,
 * fuzz/kubeconfig_persist.c): nothing of the machine's own configuration is
 * read (KUBECONFIG, in-cluster variables unset; HOME an empty directory), and
 * inputs are written to <root>/s/a and <root>/s/b, removed after each input. */
#ifndef K8S_FUZZ_SCRATCH_H
#define K8S_FUZZ_SCRATCH_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static char root_dir[256], home_dir[300], scratch_dir[300], path_a[320], path_b[320], kc_list[700];

/* Remove every file of the scratch directory. */
static void scratch_clean(void)
{
	DIR *d = opendir(scratch_dir);
	struct dirent *e;
	char p[600];
	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", scratch_dir, e->d_name);
			unlink(p);
		}
	closedir(d);
}

static void scratch_cleanup(void)
{
	scratch_clean();
	rmdir(home_dir);
	rmdir(scratch_dir);
	rmdir(root_dir);
}

/* Once, from LLVMFuzzerInitialize: tag names the temporary directory. */
static void scratch_init(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("K8S_LUA_SERVICEACCOUNT_DIR");
	unsetenv("POD_NAMESPACE");
	snprintf(root_dir, sizeof(root_dir), "%s/k8s-fuzz-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(root_dir)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	snprintf(home_dir, sizeof(home_dir), "%s/home", root_dir);
	snprintf(scratch_dir, sizeof(scratch_dir), "%s/s", root_dir);
	snprintf(path_a, sizeof(path_a), "%s/a", scratch_dir);
	snprintf(path_b, sizeof(path_b), "%s/b", scratch_dir);
	snprintf(kc_list, sizeof(kc_list), "%s:%s", path_a, path_b);
	if (mkdir(home_dir, 0700) != 0 || mkdir(scratch_dir, 0700) != 0) {
		perror("fuzz: mkdir");
		abort();
	}
	setenv("HOME", home_dir, 1);
	atexit(scratch_cleanup);
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;
	FUZZ_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		FUZZ_CHECK(n > 0 || errno == EINTR, "write %s: %s", path, strerror(errno));
		if (n > 0)
			off += (size_t)n;
	}
	close(fd);
}

#endif
