/* spawn.c (a child process without SIGCHLD, polled without blocking) and
 * the exec credential provider built on it. No control plane: small /bin/sh
 * plugins in a temporary directory. The key case: a SIGCHLD handler that
 * reaps every child with waitpid(-1, WNOHANG), as nginx's does, must not
 * turn a failing plugin into a successful one. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "k8s.h"
#include "exec.h"
#include "spawn.h"
#include "test.h"

extern char **environ;

static char dir[64];

/* Write an executable script dir/name; returns its path (static buffer
 * per call slot). */
static const char *script(const char *name, const char *body)
{
	static char paths[16][128];
	static int slot;
	char *path = paths[slot++ % 16];
	FILE *f;
	snprintf(path, 128, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return path;
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
	return path;
}

/* Run file with args (NULL-terminated) to the end, blocking through poll.
 * Returns poll's final rc; *sp for the caller to inspect and free. */
static int run(k8s_spawn **sp, const char *file, const char *const *args, double timeout)
{
	char *argv[16];
	size_t i = 0;
	int rc;
	argv[i++] = (char *)file;
	while (args && *args && i < 15)
		argv[i++] = (char *)*args++;
	argv[i] = NULL;
	*sp = NULL;
	if ((rc = k8s__spawn_start(sp, file, argv, environ, 0, timeout)) < 0)
		return rc;
	while ((rc = k8s__spawn_poll(*sp, 10)) == 0)
		;
	return rc;
}

static int status_of(const k8s_spawn *s, int *exec_errno)
{
	int code = 12345, e = 12345;
	k8s__spawn_status(s, &code, &e);
	if (exec_errno)
		*exec_errno = e;
	return code;
}

static int pid_gone(pid_t pid)
{
	return pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
}

TEST(output_captured_exactly)
{
	k8s_spawn *s;
	k8s_buf want = K8S_BUF_INIT;
	const char *sh = script("big", "i=0; while [ $i -lt 6000 ]; do echo \"line $i abcdefghijklmnopqrstuvwxyz\"; "
				       "i=$((i+1)); done; printf 'end-without-newline'");
	int i, e;
	for (i = 0; i < 6000; i++)
		k8s_buf_printf(&want, "line %d abcdefghijklmnopqrstuvwxyz\n", i);
	k8s_buf_puts(&want, "end-without-newline");
	CHECK(want.len > 64 * 1024);
	CHECK_INT(run(&s, sh, NULL, 10), 1);
	REQUIRE(s);
	CHECK_INT(k8s__spawn_output(s)->len, want.len);
	CHECK(k8s__spawn_output(s)->ptr && !memcmp(k8s__spawn_output(s)->ptr, want.ptr, want.len));
	CHECK_INT(status_of(s, &e), 0);
	CHECK_INT(e, 0);
	k8s__spawn_free(s);
	k8s_buf_free(&want);
}

TEST(argv_envp_and_stdin)
{
	k8s_spawn *s;
	char *argv[] = {(char *)"argtest", (char *)"a b", (char *)"", (char *)"c", NULL};
	char *envp[] = {(char *)"ONLY_THIS=yes", NULL};
	const char *sh = script("args", "printf '%s|' \"$#\" \"$@\" \"$ONLY_THIS\" \"${HOME-unset}\"; cat");
	int rc;
	/* argv[0] is passed as given; the file is found by path */
	REQUIRE(k8s__spawn_start(&s, sh, argv, envp, 0, 10) == 0);
	while ((rc = k8s__spawn_poll(s, 10)) == 0)
		;
	CHECK_INT(rc, 1);
	/* stdin is /dev/null: cat ends at once */
	CHECK_STR(k8s__spawn_output(s)->ptr, "3|a b||c|yes|unset|");
	CHECK_INT(status_of(s, NULL), 0);
	k8s__spawn_free(s);
}

TEST(path_search)
{
	k8s_spawn *s;
	const char *args[] = {"-c", "echo via-path; exit 4", NULL};
	CHECK_INT(run(&s, "sh", args, 10), 1);
	REQUIRE(s);
	CHECK_STR(k8s__spawn_output(s)->ptr, "via-path\n");
	CHECK_INT(status_of(s, NULL), 4);
	k8s__spawn_free(s);
}

TEST(exit_codes_told_apart)
{
	const char *sh = script("exitn", "echo out; exit \"$1\"");
	const char *zero[] = {"0", NULL}, *three[] = {"3", NULL}, *big[] = {"255", NULL};
	k8s_spawn *s;
	int e;
	CHECK_INT(run(&s, sh, zero, 10), 1);
	CHECK_INT(status_of(s, &e), 0);
	CHECK_INT(e, 0);
	CHECK_STR(k8s__spawn_output(s)->ptr, "out\n");
	k8s__spawn_free(s);
	CHECK_INT(run(&s, sh, three, 10), 1);
	CHECK_INT(status_of(s, &e), 3);
	CHECK_INT(e, 0);
	k8s__spawn_free(s);
	CHECK_INT(run(&s, sh, big, 10), 1);
	CHECK_INT(status_of(s, NULL), 255);
	k8s__spawn_free(s);
}

TEST(exit_by_signal)
{
	k8s_spawn *s;
	CHECK_INT(run(&s, script("sigkill", "echo $$; kill -KILL $$"), NULL, 10), 1);
	CHECK_INT(status_of(s, NULL), -SIGKILL);
	CHECK(k8s__spawn_pid(s) > 0);
	CHECK_INT(atoi(k8s__spawn_output(s)->ptr), k8s__spawn_pid(s));
	k8s__spawn_free(s);
	CHECK_INT(run(&s, script("sigterm", "kill -TERM $$"), NULL, 10), 1);
	CHECK_INT(status_of(s, NULL), -SIGTERM);
	k8s__spawn_free(s);
}

TEST(not_found_and_not_executable)
{
	k8s_spawn *s;
	char path[128];
	int e;
	CHECK_INT(run(&s, "k8s-lua-no-such-command", NULL, 10), 1);
	CHECK_INT(status_of(s, &e), K8S_SPAWN_LOST);
	CHECK_INT(e, ENOENT);
	k8s__spawn_free(s);
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK_INT(run(&s, path, NULL, 10), 1);
	status_of(s, &e);
	CHECK_INT(e, ENOENT);
	k8s__spawn_free(s);
	chmod(script("noexec", "exit 0"), 0644);
	snprintf(path, sizeof(path), "%s/noexec", dir);
	CHECK_INT(run(&s, path, NULL, 10), 1);
	status_of(s, &e);
	CHECK_INT(e, EACCES);
	k8s__spawn_free(s);
}

TEST(timeout_kills_the_plugin)
{
	k8s_spawn *s;
	double t0 = now_s(), dt;
	pid_t pid;
	int rc;
	CHECK_INT(run(&s, script("forever", "echo $$; exec sleep 1000"), NULL, 0.3), K8S_ETIMEOUT);
	dt = now_s() - t0;
	REQUIRE(s);
	CHECK(dt >= 0.3); /* not before the timeout (no upper bound: a slow run is no failure) */
	CHECK_INT(k8s_error_last()->code, K8S_ETIMEOUT);
	pid = (pid_t)atoi(k8s__spawn_output(s)->ptr ? k8s__spawn_output(s)->ptr : "0");
	CHECK(pid > 0);
	CHECK_INT(k8s__spawn_pid(s), pid);
	CHECK(pid_gone(pid));
	CHECK_INT(status_of(s, NULL), -SIGKILL);
	rc = k8s__spawn_poll(s, 0); /* sticky */
	CHECK_INT(rc, K8S_ETIMEOUT);
	k8s__spawn_free(s);
}

/* The child sleeps 1000 s and its timeout is 60 s: a poll that waited for
 * either would take that long, so the upper bounds below (30 s) tell "did
 * not wait for the child" apart whatever the speed of the run (valgrind). */
TEST(poll_never_blocks)
{
	k8s_spawn *s;
	char *argv[] = {(char *)"x", NULL};
	double t0, dt;
	int i, rc = 0, helper;
	pid_t pid;
	REQUIRE(k8s__spawn_start(&s, script("pollsleep", "echo $$; exec sleep 1000"), argv, environ, 0, 60) == 0);
	helper = k8s__spawn_helper_pid(s);
	for (i = 0; i < 5; i++) {
		t0 = now_s();
		rc = k8s__spawn_poll(s, 0);
		CHECK_INT(rc, 0);
		CHECK(now_s() - t0 < 30);
	}
	/* a bounded wait: its whole time, and not the child's */
	t0 = now_s();
	CHECK_INT(k8s__spawn_poll(s, 0.2), 0);
	dt = now_s() - t0;
	CHECK(dt >= 0.19 && dt < 30);
	/* free kills and reaps at once: when it returns, the program and the
	 * helper are gone (not zombies) */
	for (i = 0; i < 600 && !(k8s__spawn_output(s)->ptr && strchr(k8s__spawn_output(s)->ptr, '\n')); i++)
		CHECK_INT(k8s__spawn_poll(s, 0.05), 0);
	pid = (pid_t)atoi(k8s__spawn_output(s)->ptr ? k8s__spawn_output(s)->ptr : "0");
	CHECK(pid > 0);
	CHECK(!pid_gone(pid));
	k8s__spawn_free(s);
	CHECK(pid_gone(pid));
	CHECK(pid_gone(helper));
}

TEST(free_kills_a_running_plugin)
{
	k8s_spawn *s;
	char *argv[] = {(char *)"x", NULL};
	pid_t pid = 0, helper;
	double t0 = now_s();
	REQUIRE(k8s__spawn_start(&s, script("pidsleep", "echo $$; exec sleep 1000"), argv, environ, 0, 60) == 0);
	helper = k8s__spawn_helper_pid(s);
	/* wait for the pid through poll */
	while (now_s() - t0 < 5 && !(k8s__spawn_output(s)->ptr && strchr(k8s__spawn_output(s)->ptr, '\n')))
		CHECK_INT(k8s__spawn_poll(s, 0.05), 0);
	pid = (pid_t)atoi(k8s__spawn_output(s)->ptr ? k8s__spawn_output(s)->ptr : "0");
	CHECK(pid > 0);
	CHECK(!pid_gone(pid));
	k8s__spawn_free(s);
	CHECK(pid_gone(pid));
	CHECK(pid_gone(helper));
}

TEST(no_descriptor_leaks_into_the_plugin)
{
	k8s_spawn *s;
	int fd = fcntl(2, F_DUPFD, 50); /* not close-on-exec, like a socket of the caller's */
	REQUIRE(fd >= 50);
	CHECK_INT(run(&s, "ls", (const char *[]){"/proc/self/fd", NULL}, 10), 1);
	CHECK_STR(k8s__spawn_output(s)->ptr, "0\n1\n2\n3\n"); /* 3: ls's own directory */
	k8s__spawn_free(s);
	close(fd);
}

/* ---- what the plugin inherits ---- */

/* "SigBlk:\t0000000000000000" -> the hex mask; ~0 when missing. */
static unsigned long long status_mask(const char *status, const char *field)
{
	const char *p = status ? strstr(status, field) : NULL;
	if (!p)
		return ~0ULL;
	return strtoull(p + strlen(field), NULL, 16);
}

TEST(signal_state_reset_in_the_plugin)
{
	struct sigaction ign, old_pipe, old_int, old_hup, old_usr1, old_rt;
	sigset_t block, old_mask;
	k8s_spawn *s;
	const char *out;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old_pipe);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGHUP, &ign, &old_hup);
	sigaction(SIGUSR1, &ign, &old_usr1);
	sigaction(SIGRTMIN + 2, &ign, &old_rt);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	/* the program itself reports (cat changes no signal state) */
	CHECK_INT(run(&s, "cat", (const char *[]){"/proc/self/status", NULL}, 10), 1);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGUSR1, &old_usr1, NULL);
	sigaction(SIGRTMIN + 2, &old_rt, NULL);
	REQUIRE(s);
	CHECK_INT(status_of(s, NULL), 0);
	out = k8s__spawn_output(s)->ptr;
	CHECK_HAS(out, "SigBlk:");
	CHECK_INT(status_mask(out, "SigBlk:"), 0);
	CHECK_INT(status_mask(out, "SigIgn:"), 0);
	k8s__spawn_free(s);
}

/* Without close_range (kernels before 5.9): descriptors above the soft
 * RLIMIT_NOFILE (opened before it was lowered) are found through
 * /proc/self/fd. */
TEST(no_descriptor_leaks_without_close_range)
{
	k8s_spawn *s;
	struct rlimit old, low;
	int fd = fcntl(2, F_DUPFD, 200), rc;
	REQUIRE(fd >= 200);
	REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	low.rlim_cur = 64;
	REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
	k8s__spawn_no_close_range = 1;
	rc = run(&s, "ls", (const char *[]){"/proc/self/fd", NULL}, 10);
	k8s__spawn_no_close_range = 0;
	setrlimit(RLIMIT_NOFILE, &old);
	CHECK_INT(rc, 1);
	REQUIRE(s);
	CHECK_STR(k8s__spawn_output(s)->ptr, "0\n1\n2\n3\n");
	k8s__spawn_free(s);
	close(fd);
}

/* ---- output cap ---- */

TEST(output_cap)
{
	k8s_spawn *s;
	char n[32];
	pid_t pid;
	double t0;
	/* exactly the cap: fine */
	snprintf(n, sizeof(n), "%d", K8S_SPAWN_MAX_OUTPUT);
	CHECK_INT(run(&s, "head", (const char *[]){"-c", n, "/dev/zero", NULL}, 10), 1);
	REQUIRE(s);
	CHECK_INT(k8s__spawn_output(s)->len, K8S_SPAWN_MAX_OUTPUT);
	CHECK_INT(status_of(s, NULL), 0);
	k8s__spawn_free(s);
	/* one byte more: an error, whatever the exit status */
	snprintf(n, sizeof(n), "%d", K8S_SPAWN_MAX_OUTPUT + 1);
	CHECK_INT(run(&s, "head", (const char *[]){"-c", n, "/dev/zero", NULL}, 10), K8S_ERROR);
	CHECK_HAS(k8s_error_last()->message, "output exceeds");
	REQUIRE(s);
	CHECK_INT(k8s__spawn_output(s)->len, 0); /* wiped */
	k8s__spawn_free(s);
	/* endless: stopped at the cap (not at the timeout), killed and reaped */
	t0 = now_s();
	CHECK_INT(run(&s, script("flood", "echo $$; while :; do echo 0123456789abcdef0123456789abcdef0123456789abcdef; done"),
		      NULL, 5),
		  K8S_ERROR);
	CHECK(now_s() - t0 < 4);
	CHECK_HAS(k8s_error_last()->message, "output exceeds");
	REQUIRE(s);
	pid = (pid_t)k8s__spawn_pid(s);
	CHECK(pid > 0);
	CHECK(pid_gone(pid));
	CHECK(pid_gone(k8s__spawn_helper_pid(s)));
	/* SIGKILL from the helper, or SIGPIPE first (its stdout is closed) */
	CHECK(status_of(s, NULL) == -SIGKILL || status_of(s, NULL) == -SIGPIPE);
	CHECK_INT(k8s__spawn_poll(s, 0), K8S_ERROR); /* sticky */
	k8s__spawn_free(s);
}

/* ---- descriptors on failure ---- */

static int count_fds(void)
{
	char path[64];
	int fd, n = 0;
	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* The lowest free descriptors are lo and lo + 1 and the soft limit is set
 * so that the first, second... descriptor start needs is refused: whatever
 * fails, nothing stays open. */
TEST(start_failure_closes_what_it_opened)
{
	struct rlimit old, low;
	int lo, hi, extra, before, rc, failed = 0;
	char *argv[] = {(char *)"true", NULL};
	k8s_spawn *s;
	REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
	lo = dup(0);
	hi = dup(0);
	REQUIRE(lo >= 0 && hi == lo + 1);
	close(lo);
	close(hi);
	before = count_fds();
	for (extra = 0; extra <= 4; extra++) {
		low = old;
		low.rlim_cur = (rlim_t)(lo + extra);
		REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
		rc = k8s__spawn_start(&s, "true", argv, environ, 0, 10);
		setrlimit(RLIMIT_NOFILE, &old);
		if (rc < 0) {
			failed++;
			CHECK_INT(rc, K8S_ERROR);
			CHECK(s == NULL);
			CHECK_HAS(k8s_error_last()->message, "Too many open files");
		} else {
			while ((rc = k8s__spawn_poll(s, 10)) == 0)
				;
			CHECK_INT(rc, 1);
			k8s__spawn_free(s);
		}
		CHECK_INT(count_fds(), before);
	}
	CHECK_INT(failed, 4); /* 0-3 more allowed: the first or the second pipe fails */
}

/* ---- SIGCHLD with SA_NOCLDWAIT: children reaped by the kernel ---- */

TEST(status_with_sa_nocldwait)
{
	struct sigaction sa, old;
	k8s_spawn *s;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, &old);
	CHECK_INT(run(&s, script("exit3b", "exit 3"), NULL, 10), 1);
	REQUIRE(s);
	CHECK_INT(status_of(s, NULL), 3);
	k8s__spawn_free(s);
	sigaction(SIGCHLD, &old, NULL);
}

/* ---- nginx's SIGCHLD handler ---- */

static volatile sig_atomic_t reaped_pids[64], n_reaped;

static void nginx_like_sigchld(int sig)
{
	int st, e = errno;
	pid_t pid;
	(void)sig;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (n_reaped < 64)
			reaped_pids[n_reaped++] = pid;
	errno = e;
}

static int handler_reaped(pid_t pid)
{
	int i;
	for (i = 0; i < n_reaped; i++)
		if (reaped_pids[i] == pid)
			return 1;
	return 0;
}

TEST(status_survives_a_reaping_sigchld_handler)
{
	struct sigaction sa, old;
	const char *sh = script("exitsleep", "sleep 0.1; echo done; exit \"$1\"");
	const char *zero[] = {"0", NULL}, *three[] = {"3", NULL};
	k8s_spawn *s;
	pid_t other, h;
	int round, e;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nginx_like_sigchld;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &old);
	n_reaped = 0;

	/* the handler works: it takes an ordinary child's status */
	other = fork();
	if (other == 0)
		_exit(7);
	while (!handler_reaped(other))
		sleep_s(0.01);

	for (round = 0; round < 3; round++) {
		CHECK_INT(run(&s, sh, three, 10), 1);
		h = k8s__spawn_helper_pid(s);
		CHECK_INT(status_of(s, &e), 3);
		CHECK_INT(e, 0);
		CHECK_STR(k8s__spawn_output(s)->ptr, "done\n");
		k8s__spawn_free(s);
		CHECK(!handler_reaped(h));
		CHECK_INT(run(&s, sh, zero, 10), 1);
		h = k8s__spawn_helper_pid(s);
		CHECK_INT(status_of(s, &e), 0);
		CHECK_INT(e, 0);
		k8s__spawn_free(s);
		CHECK(!handler_reaped(h));
	}
	/* not found and signals too */
	CHECK_INT(run(&s, "k8s-lua-no-such-command", NULL, 10), 1);
	status_of(s, &e);
	CHECK_INT(e, ENOENT);
	k8s__spawn_free(s);
	CHECK_INT(run(&s, script("sigkill2", "kill -KILL $$"), NULL, 10), 1);
	CHECK_INT(status_of(s, NULL), -SIGKILL);
	k8s__spawn_free(s);
	CHECK_INT(n_reaped, 1); /* only the ordinary child */
	sigaction(SIGCHLD, &old, NULL);
}

TEST(status_with_sigchld_ignored)
{
	/* SIG_IGN makes the kernel reap ordinary children by itself */
	void (*old)(int) = signal(SIGCHLD, SIG_IGN);
	k8s_spawn *s;
	CHECK_INT(run(&s, script("exit3", "exit 3"), NULL, 10), 1);
	CHECK_INT(status_of(s, NULL), 3);
	k8s__spawn_free(s);
	signal(SIGCHLD, old);
}

TEST(lost_status_is_a_failure)
{
	k8s_spawn *s;
	char *argv[] = {(char *)"x", NULL};
	pid_t pid = 0;
	double t0 = now_s();
	int rc, e;
	/* the helper dies without a report: never exit 0 */
	REQUIRE(k8s__spawn_start(&s, script("lost", "echo $$; exec sleep 1000"), argv, environ, 0, 60) == 0);
	while (now_s() - t0 < 5 && !(k8s__spawn_output(s)->ptr && strchr(k8s__spawn_output(s)->ptr, '\n')))
		CHECK_INT(k8s__spawn_poll(s, 0.05), 0);
	pid = (pid_t)atoi(k8s__spawn_output(s)->ptr ? k8s__spawn_output(s)->ptr : "0");
	REQUIRE(pid > 0);
	kill(k8s__spawn_helper_pid(s), SIGKILL);
	kill(pid, SIGKILL); /* orphaned: init reaps it */
	while ((rc = k8s__spawn_poll(s, 10)) == 0)
		;
	CHECK_INT(rc, 1);
	CHECK_INT(status_of(s, &e), K8S_SPAWN_LOST);
	CHECK_INT(e, 0);
	k8s__spawn_free(s);

	/* someone else reaps the helper (waitpid with __WALL): the report
	 * written before it exited still counts */
	REQUIRE(k8s__spawn_start(&s, script("exit5", "exit 5"), argv, environ, 0, 60) == 0);
	{
		int st;
		CHECK_INT(waitpid(k8s__spawn_helper_pid(s), &st, __WALL), k8s__spawn_helper_pid(s));
	}
	while ((rc = k8s__spawn_poll(s, 10)) == 0)
		;
	CHECK_INT(rc, 1);
	CHECK_INT(status_of(s, NULL), 5);
	k8s__spawn_free(s);
}

/* ---- the exec credential provider ---- */

static k8s_config *exec_cfg(const char *cmd, const char *mode, const char *count)
{
	k8s_config *cfg = NULL;
	if (k8s_config_new(&cfg) < 0)
		return NULL;
	k8s_config_set_string(cfg, "Host", "https://127.0.0.1:1");
	k8s_config_set_string(cfg, "ExecProvider.Command", cmd);
	k8s_config_set_string(cfg, "ExecProvider.APIVersion", "client.authentication.k8s.io/v1");
	k8s_config_set_string(cfg, "ExecProvider.InteractiveMode", "Never");
	k8s_config_set_string(cfg, "ExecProvider.InstallHint", "install it from the test suite");
	k8s_config_add_string(cfg, "ExecProvider.Args", mode);
	k8s_config_add_string(cfg, "ExecProvider.Args", count);
	k8s_config_add_pair(cfg, "ExecProvider.Env", "PLUGIN_TOKEN", "s3cr3t-token");
	return cfg;
}

static const char *plugin_body =
	"echo run >> \"$2\"\n"
	"case \"$1\" in\n"
	"token) printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	"\"status\":{\"token\":\"%s\"}}' \"$PLUGIN_TOKEN\" ;;\n"
	"info) printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$2.info\"; printf '{\"apiVersion\":"
	"\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}' ;;\n"
	"fail) echo \"$PLUGIN_TOKEN\"; exit 3 ;;\n"
	"sleep) exec sleep 1000 ;;\n"
	"flood) printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	"\"status\":{\"token\":\"%s' \"$PLUGIN_TOKEN\"; while :; do echo 0123456789abcdef0123456789abcdef; done ;;\n"
	"esac\n";

static int runs(const char *count)
{
	FILE *f = fopen(count, "r");
	int n = 0, c;
	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static k8s_exec_provider *provider(const char *mode, const char *count)
{
	k8s_exec_provider *p = NULL;
	k8s_config *cfg = exec_cfg(script("plugin", plugin_body), mode, count);
	if (!cfg || k8s__exec_provider_new(&p, cfg) < 0)
		p = NULL;
	k8s_config_free(cfg);
	return p;
}

TEST(exec_provider_token_cached_and_invalidated)
{
	char count[128];
	const k8s_credential *c = NULL;
	k8s_exec_provider *p;
	snprintf(count, sizeof(count), "%s/count-token", dir);
	REQUIRE((p = provider("token", count)));
	CHECK_INT(k8s__exec_provider_cached(p, 0, &c), 0);
	CHECK_INT(k8s__exec_provider_get(p, 0, &c), 0);
	REQUIRE(c);
	CHECK_STR(c->token, "s3cr3t-token");
	CHECK_INT(k8s__exec_provider_get(p, 0, &c), 0);
	CHECK_INT(runs(count), 1);
	CHECK_INT(k8s__exec_provider_cached(p, 0, &c), 1);
	CHECK_INT(k8s__exec_provider_cached(p, 1, &c), 0);
	CHECK_INT(k8s__exec_provider_get(p, 1, &c), 0);
	CHECK_INT(runs(count), 2);
	CHECK(k8s__exec_provider_timeout(p) == 60);
	k8s__exec_provider_free(p);
	unlink(count);
}

TEST(exec_provider_exec_info)
{
	char count[128], info[160];
	const k8s_credential *c = NULL;
	k8s_exec_provider *p;
	FILE *f;
	char buf[512] = "";
	snprintf(count, sizeof(count), "%s/count-info", dir);
	snprintf(info, sizeof(info), "%s.info", count);
	REQUIRE((p = provider("info", count)));
	CHECK_INT(k8s__exec_provider_get(p, 0, &c), 0);
	if ((f = fopen(info, "r"))) {
		buf[fread(buf, 1, sizeof(buf) - 1, f)] = 0;
		fclose(f);
	}
	CHECK_HAS(buf, "\"kind\":\"ExecCredential\"");
	CHECK_HAS(buf, "\"interactive\":false");
	k8s__exec_provider_free(p);
	unlink(count);
	unlink(info);
}

/* the nginx way: start, poll(0) between "sleeps", finish */
TEST(exec_provider_nonblocking_steps)
{
	char count[128];
	const k8s_credential *c = NULL;
	k8s_exec_provider *p;
	k8s_spawn *sp = NULL;
	int rc, polls = 0;
	snprintf(count, sizeof(count), "%s/count-steps", dir);
	REQUIRE((p = provider("token", count)));
	REQUIRE(k8s__exec_provider_start(p, &sp) == 0);
	while ((rc = k8s__spawn_poll(sp, 0)) == 0) {
		polls++;
		sleep_s(0.001);
	}
	CHECK(polls > 0);
	CHECK_INT(k8s__exec_provider_finish(p, sp, rc, &c), 0);
	k8s__spawn_free(sp);
	REQUIRE(c);
	CHECK_STR(c->token, "s3cr3t-token");
	CHECK_INT(k8s__exec_provider_cached(p, 0, &c), 1);
	k8s__exec_provider_free(p);
	unlink(count);
}

TEST(exec_provider_failure_under_nginx_handler)
{
	char count[128];
	const k8s_credential *c = NULL;
	k8s_exec_provider *p;
	struct sigaction sa, old;
	const k8s_error *err;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nginx_like_sigchld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, &old);
	snprintf(count, sizeof(count), "%s/count-fail", dir);
	REQUIRE((p = provider("fail", count)));
	CHECK_INT(k8s__exec_provider_get(p, 0, &c), K8S_EAUTH);
	CHECK(c == NULL);
	err = k8s_error_last();
	CHECK_STR(err->reason, "ExecPluginError");
	CHECK_HAS(err->message, "exit status 3");
	CHECK_HASNT(err->message, "s3cr3t");
	CHECK_INT(runs(count), 1);
	k8s__exec_provider_free(p);
	unlink(count);
	sigaction(SIGCHLD, &old, NULL);
}

TEST(exec_provider_not_found)
{
	k8s_config *cfg = exec_cfg("k8s-lua-no-such-plugin", "token", "/nonexistent");
	k8s_exec_provider *p = NULL;
	const k8s_credential *c;
	REQUIRE(cfg && k8s__exec_provider_new(&p, cfg) == 0);
	CHECK_INT(k8s__exec_provider_get(p, 0, &c), K8S_EAUTH);
	CHECK_STR(k8s_error_last()->reason, "ExecPluginNotFound");
	CHECK_HAS(k8s_error_last()->message, "k8s-lua-no-such-plugin");
	CHECK_HAS(k8s_error_last()->message, "install it from the test suite");
	k8s__exec_provider_free(p);
	k8s_config_free(cfg);
}

TEST(exec_provider_timeout)
{
	char count[128];
	const k8s_credential *c;
	k8s_exec_provider *p;
	double t0;
	k8s_global_set_number(K8S_OPT_EXEC_TIMEOUT, 0.3);
	snprintf(count, sizeof(count), "%s/count-sleep", dir);
	p = provider("sleep", count);
	k8s_global_set_number(K8S_OPT_EXEC_TIMEOUT, -1);
	REQUIRE(p);
	CHECK(k8s__exec_provider_timeout(p) == 0.3);
	t0 = now_s();
	CHECK_INT(k8s__exec_provider_get(p, 0, &c), K8S_ETIMEOUT);
	CHECK(now_s() - t0 < 3);
	CHECK_STR(k8s_error_last()->reason, "ExecPluginError");
	CHECK_HAS(k8s_error_last()->message, "timed out");
	k8s__exec_provider_free(p);
	unlink(count);
}

/* a plugin that never stops writing: an error once the output exceeds the
 * cap, well before the timeout */
TEST(exec_provider_output_cap)
{
	char count[128];
	const k8s_credential *c = (const k8s_credential *)1;
	k8s_exec_provider *p;
	double t0;
	snprintf(count, sizeof(count), "%s/count-flood", dir);
	REQUIRE((p = provider("flood", count)));
	t0 = now_s();
	CHECK_INT(k8s__exec_provider_get(p, 0, &c), K8S_EAUTH);
	CHECK(now_s() - t0 < 30);
	CHECK(c == NULL);
	CHECK_STR(k8s_error_last()->reason, "ExecPluginError");
	CHECK_HAS(k8s_error_last()->message, "output exceeds");
	CHECK_HASNT(k8s_error_last()->message, "s3cr3t");
	CHECK_INT(runs(count), 1);
	k8s__exec_provider_free(p);
	unlink(count);
}

/* a lost status (the helper killed before its report) fails the plugin */
TEST(exec_provider_lost_status)
{
	char count[128];
	char *argv[] = {(char *)"x", NULL};
	const k8s_credential *c = (const k8s_credential *)1;
	k8s_exec_provider *p;
	k8s_spawn *s;
	pid_t pid;
	double t0 = now_s();
	int rc;
	snprintf(count, sizeof(count), "%s/count-lost", dir);
	REQUIRE((p = provider("token", count)));
	REQUIRE(k8s__spawn_start(&s, script("lost2", "echo $$; exec sleep 1000"), argv, environ, 0, 60) == 0);
	while (now_s() - t0 < 5 && !(k8s__spawn_output(s)->ptr && strchr(k8s__spawn_output(s)->ptr, '\n')))
		CHECK_INT(k8s__spawn_poll(s, 0.05), 0);
	pid = (pid_t)atoi(k8s__spawn_output(s)->ptr ? k8s__spawn_output(s)->ptr : "0");
	REQUIRE(pid > 0);
	kill(k8s__spawn_helper_pid(s), SIGKILL);
	kill(pid, SIGKILL);
	while ((rc = k8s__spawn_poll(s, 10)) == 0)
		;
	CHECK_INT(rc, 1);
	CHECK_INT(k8s__exec_provider_finish(p, s, rc, &c), K8S_EAUTH);
	CHECK(c == NULL);
	CHECK_HAS(k8s_error_last()->message, "exit status unknown");
	k8s__spawn_free(s);
	k8s__exec_provider_free(p);
}

/* start fails (no descriptors left): its error passes through finish */
TEST(exec_provider_start_failure)
{
	char count[128];
	const k8s_credential *c = (const k8s_credential *)1;
	k8s_exec_provider *p;
	k8s_spawn *sp = NULL;
	struct rlimit old, low;
	int rc;
	snprintf(count, sizeof(count), "%s/count-nofd", dir);
	REQUIRE((p = provider("token", count)));
	REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	low.rlim_cur = 3;
	if (setrlimit(RLIMIT_NOFILE, &low) < 0) {
		fprintf(stderr, "  (skipped: setrlimit)\n");
		k8s__exec_provider_free(p);
		return;
	}
	rc = k8s__exec_provider_start(p, &sp);
	setrlimit(RLIMIT_NOFILE, &old);
	CHECK_INT(rc, K8S_EAUTH);
	CHECK(sp == NULL);
	CHECK_STR(k8s_error_last()->reason, "ExecPluginError");
	CHECK_INT(k8s__exec_provider_finish(p, NULL, rc, &c), K8S_EAUTH);
	CHECK(c == NULL);
	CHECK_STR(k8s_error_last()->reason, "ExecPluginError");
	CHECK_HAS(k8s_error_last()->message, "Too many open files");
	CHECK_INT(strstr(strstr(k8s_error_last()->message, "exec plugin") + 1, "exec plugin") == NULL, 1);
	/* and a timeout passed in without a spawn */
	CHECK_INT(k8s__exec_provider_finish(p, NULL, K8S_ETIMEOUT, &c), K8S_ETIMEOUT);
	CHECK_HAS(k8s_error_last()->message, "timed out after 60s");
	CHECK_INT(runs(count), 0);
	k8s__exec_provider_free(p);
}

int main(void)
{
	char cmd[128];
	snprintf(dir, sizeof(dir), "/tmp/k8s-spawn-test-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(output_captured_exactly);
	RUN(argv_envp_and_stdin);
	RUN(path_search);
	RUN(exit_codes_told_apart);
	RUN(exit_by_signal);
	RUN(not_found_and_not_executable);
	RUN(timeout_kills_the_plugin);
	RUN(poll_never_blocks);
	RUN(free_kills_a_running_plugin);
	RUN(no_descriptor_leaks_into_the_plugin);
	RUN(signal_state_reset_in_the_plugin);
	RUN(no_descriptor_leaks_without_close_range);
	RUN(output_cap);
	RUN(start_failure_closes_what_it_opened);
	RUN(status_with_sa_nocldwait);
	RUN(status_survives_a_reaping_sigchld_handler);
	RUN(status_with_sigchld_ignored);
	RUN(lost_status_is_a_failure);
	RUN(exec_provider_token_cached_and_invalidated);
	RUN(exec_provider_exec_info);
	RUN(exec_provider_nonblocking_steps);
	RUN(exec_provider_failure_under_nginx_handler);
	RUN(exec_provider_not_found);
	RUN(exec_provider_timeout);
	RUN(exec_provider_output_cap);
	RUN(exec_provider_lost_status);
	RUN(exec_provider_start_failure);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return TEST_SUMMARY();
}
