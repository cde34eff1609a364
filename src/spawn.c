/* Running a child process without blocking and without SIGCHLD (see
 * spawn.h). Three processes:
 *
 *   caller --clone(exit signal 0)--> helper --fork--> program (execve)
 *
 * The helper runs on its own stack in a copy of the caller's address space
 * (no CLONE_VM), so it may read the argv/envp/paths the caller prepared.
 * Between clone and exec only async-signal-safe calls are made: the caller
 * may have other threads, whose locks (malloc's) are copied held.
 *
 * Pipes: the program's stdout (read end non-blocking in the caller) and a
 * status pipe helper -> caller carrying one record when the program has
 * been reaped; its EOF says that the helper is exiting. A third pipe,
 * program -> helper with O_CLOEXEC, carries the errno of a failed exec.
 *
 * Killing: the caller sends SIGTERM to the helper (its pid is stable until
 * the caller reaps it); the helper's handler sends SIGKILL to the program.
 * The helper waits with WNOWAIT first, so the program's pid cannot be reused
 * while the handler may still signal it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>
#include "spawn.h"

#define HELPER_STACK (256 * 1024)
#define REC_MAGIC 0x6b38735f /* "k8s_" */
#define KILL_GRACE 2.0       /* seconds from SIGTERM to the helper to SIGKILL */
#define READ_CHUNK 16384

/* What the helper reports. */
struct rec {
	int magic;
	int exec_errno; /* the program could not be started */
	int wstatus;    /* else its wait status */
	int waited;     /* 1: wstatus is real (0: waitpid failed, status lost) */
	int pid;        /* the program's pid */
};

struct k8s_spawn {
	pid_t helper;
	int out_fd, st_fd;     /* read ends, -1 once at EOF / closed */
	k8s_buf out;
	unsigned char rec[sizeof(struct rec)];
	size_t rec_len;
	double timeout, deadline, kill_at;
	int killed;            /* SIGTERM sent to the helper */
	int overflow;          /* stdout exceeded K8S_SPAWN_MAX_OUTPUT */
	int hard_killed;       /* SIGKILL sent to the helper (it did not exit) */
	int timed_out;
	int reaped;
	int result;            /* sticky: 1, or < 0 */
	int exit_code, exec_errno, pid;
};

/* ---- the helper (async-signal-safe only) ---- */

/* Not instrumented: the helper runs on a stack the sanitizers do not know,
 * and ASan's no-return hook would warn about it before each _exit. */
#if defined(__GNUC__) || defined(__clang__)
#define HELPER_CODE __attribute__((no_sanitize("address", "undefined")))
#else
#define HELPER_CODE
#endif

struct helper_arg {
	char *const *paths;  /* where to try `file`, in order (PATH search done by the caller) */
	size_t npaths;
	char *const *argv;
	char **sh_argv;      /* "/bin/sh", (path), argv[1]...: for ENOEXEC, like execvpe */
	char *const *envp;
	int out_w, st_w;
	int stdin_inherit;
};


/* The kernel's rt_sigaction with SIG_DFL, for the signals glibc's wrapper
 * refuses (the generic Linux layout: handler, flags, restorer, mask). */
static void reset_signal_raw(int sig)
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask;
	} ksa;
	memset(&ksa, 0, sizeof(ksa));
	ksa.handler = SIG_DFL;
	syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
}

static volatile sig_atomic_t helper_child; /* in the helper's copy only */

HELPER_CODE static void helper_on_term(int sig)
{
	int e = errno;
	(void)sig;
	if (helper_child > 0)
		kill((pid_t)helper_child, SIGKILL);
	errno = e;
}

HELPER_CODE static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

/* fd moved to >= 3 (close-on-exec), so that it can't collide with 0-2. */
HELPER_CODE static int fd_above_stdio(int fd)
{
	int nfd;
	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

int k8s__spawn_no_close_range;

/* close_range(2) (Linux 5.9): 0, or -1 when the kernel does not have it. */
HELPER_CODE static int close_range_(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return 0;
#ifdef SYS_close_range
	if (!k8s__spawn_no_close_range)
		return syscall(SYS_close_range, lo, hi, 0) == 0 ? 0 : -1;
#endif
	(void)lo;
	(void)hi;
	return -1;
}

/* The kernel's struct linux_dirent64. */
struct dirent64_ {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Without close_range: the open descriptors from /proc/self/fd, read with
 * getdents64 (opendir would malloc). Catches those above the soft
 * RLIMIT_NOFILE too (opened before it was lowered). 0, or -1 without /proc. */
HELPER_CODE static int close_listed(int a, int b)
{
	char buf[4096];
	long n, off;
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n;) {
			const struct dirent64_ *d = (const struct dirent64_ *)(void *)(buf + off);
			const char *c = d->d_name;
			long fd = 0;
			off += d->d_reclen;
			if (*c < '0' || *c > '9')
				continue; /* . and .. */
			for (; *c >= '0' && *c <= '9' && fd <= INT_MAX / 10; c++)
				fd = fd * 10 + (*c - '0');
			if (fd > 2 && fd <= INT_MAX && fd != a && fd != b && fd != dfd)
				close((int)fd);
		}
	}
	close(dfd);
	return n < 0 ? -1 : 0;
}

/* Close every descriptor >= 3 but a and b (both >= 3): close_range, else
 * the list in /proc, else every number below the soft limit. */
HELPER_CODE static void close_others(int a, int b)
{
	struct rlimit rl;
	unsigned fd, max = 1U << 20;
	if (a > b) {
		int t = a;
		a = b;
		b = t;
	}
	if (close_range_(3, (unsigned)a - 1) == 0 && close_range_((unsigned)a + 1, (unsigned)b - 1) == 0 &&
	    close_range_((unsigned)b + 1, ~0U) == 0)
		return;
	if (close_listed(a, b) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max)
		max = (unsigned)rl.rlim_cur;
	for (fd = 3; fd < max; fd++)
		if ((int)fd != a && (int)fd != b)
			close((int)fd);
}

HELPER_CODE static void helper_fail(int st_w, int err)
{
	struct rec r;
	memset(&r, 0, sizeof(r));
	r.magic = REC_MAGIC;
	r.exec_errno = err ? err : EIO;
	if (st_w >= 0)
		write_all(st_w, &r, sizeof(r));
	_exit(1);
}

/* In the program, before exec. */
HELPER_CODE static void program_exec(const struct helper_arg *a, int out_w, int err_w)
{
	size_t i;
	int e = ENOENT, eacces = 0, fd, sig;
	sigset_t none;
	struct sigaction sa;
	if (dup2(out_w, 1) < 0) {
		e = errno;
		write_all(err_w, &e, sizeof(e));
		_exit(127);
	}
	if (!a->stdin_inherit && (fd = open("/dev/null", O_RDONLY)) >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	/* A clean signal state, as posix_spawn's SETSIGDEF (every signal) and
	 * SETSIGMASK (empty): execve keeps ignored signals and the mask, and
	 * the caller's (nginx's, a shell's) are not the program's business.
	 * Still all blocked here: the defaults first, then the mask. glibc's
	 * sigaction refuses its own two real-time signals (32, 33), which a
	 * parent can still have ignored (a CI runner did): the kernel call
	 * resets those. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, &sa, NULL) < 0 && errno == EINVAL)
			reset_signal_raw(sig);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 0; i < a->npaths; i++) {
		execve(a->paths[i], a->argv, a->envp);
		e = errno;
		if (e == ENOEXEC) {
			a->sh_argv[1] = a->paths[i];
			execve("/bin/sh", a->sh_argv, a->envp);
			e = errno;
		}
		if (e == EACCES)
			eacces = 1;
		else if (e != ENOENT && e != ENOTDIR && e != ESTALE && e != ENODEV && e != ETIMEDOUT)
			break;
	}
	if (i == a->npaths && eacces)
		e = EACCES;
	write_all(err_w, &e, sizeof(e));
	_exit(127);
}

HELPER_CODE static pid_t fork_safe(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	return _Fork(); /* no atfork handlers: async-signal-safe */
#elif defined(SYS_fork)
	return (pid_t)syscall(SYS_fork);
#else
	return fork();
#endif
}

HELPER_CODE static int helper_main(void *arg)
{
	const struct helper_arg *a = arg;
	struct sigaction sa, old;
	sigset_t all, none;
	siginfo_t si;
	struct rec r;
	int sig, ep[2], out_w, st_w, st = 0, e = 0;
	pid_t pid, w;

	/* All signals are blocked (by the caller, around clone). The caller's
	 * handlers (nginx's) must not run here: back to the defaults, except
	 * that ignored signals stay ignored (SIGCHLD and SIGPIPE do not).
	 * SIGCHLD always gets the plain default: SIG_IGN or SA_NOCLDWAIT (even
	 * with SIG_DFL) would have the kernel reap the program, its status
	 * lost. The program resets everything (program_exec). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &old) < 0)
			continue;
		if (old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO) && sig != SIGCHLD)
			continue;
		if (old.sa_handler == SIG_IGN && !(old.sa_flags & SA_SIGINFO) && sig != SIGCHLD && sig != SIGPIPE)
			continue;
		sigaction(sig, &sa, NULL);
	}
	helper_child = 0;
	sa.sa_handler = helper_on_term;
	sigaction(SIGTERM, &sa, NULL);

	/* Keep only the two pipes (the caller's sockets must not stay open in
	 * here, nor leak into the program). */
	st_w = fd_above_stdio(a->st_w);
	out_w = fd_above_stdio(a->out_w);
	if (st_w < 0 || out_w < 0)
		helper_fail(st_w, errno);
	if (st_w < out_w)
		close_others(st_w, out_w);
	else
		close_others(out_w, st_w);
	if (pipe2(ep, O_CLOEXEC) < 0)
		helper_fail(st_w, errno);

	pid = fork_safe();
	if (pid == 0) {
		close(ep[0]);
		close(st_w);
		program_exec(a, out_w, ep[1]);
	}
	e = errno;
	close(ep[1]);
	close(out_w);
	if (pid < 0)
		helper_fail(st_w, e);
	helper_child = pid;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* a pending SIGTERM is handled now */

	/* exec errno, or EOF when exec succeeded */
	e = 0;
	while (read(ep[0], &e, sizeof(e)) < 0 && errno == EINTR)
		;
	close(ep[0]);

	/* wait without reaping: the handler may still kill(pid) safely */
	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	helper_child = 0;
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	memset(&r, 0, sizeof(r));
	r.magic = REC_MAGIC;
	r.exec_errno = e;
	r.wstatus = st;
	r.waited = w == pid; /* ECHILD: reaped by someone else, status unknown */
	r.pid = (int)pid;
	write_all(st_w, &r, sizeof(r));
	_exit(0);
}

/* ---- the caller ---- */

static void free_list(char **l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; l[i]; i++)
		free(l[i]);
	free(l);
}

/* The candidates execvpe would try for file, NULL-terminated. */
static char **search_paths(const char *file, size_t *n)
{
	const char *path, *p, *colon;
	size_t cap = 2, flen = strlen(file);
	char **l;
	*n = 0;
	if (!*file)
		return calloc(1, sizeof(char *)); /* nothing to try: ENOENT */
	if (strchr(file, '/')) {
		if (!(l = calloc(2, sizeof(char *))) || !(l[0] = k8s__strdup(file))) {
			free(l);
			return NULL;
		}
		*n = 1;
		return l;
	}
	path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path; *p; p++)
		cap += *p == ':';
	if (!(l = calloc(cap, sizeof(char *))))
		return NULL;
	for (p = path;; p = colon + 1) {
		size_t dlen;
		char *c;
		colon = strchr(p, ':');
		dlen = colon ? (size_t)(colon - p) : strlen(p);
		if (!(c = malloc(dlen + flen + 2))) {
			free_list(l);
			return NULL;
		}
		if (dlen) { /* an empty entry is the current directory */
			memcpy(c, p, dlen);
			c[dlen] = '/';
			memcpy(c + dlen + 1, file, flen + 1);
		} else {
			memcpy(c, file, flen + 1);
		}
		l[(*n)++] = c;
		if (!colon)
			break;
	}
	return l;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int k8s__spawn_start(k8s_spawn **out, const char *file, char *const argv[], char *const envp[], int stdin_inherit,
		     double timeout)
{
	k8s_spawn *s;
	struct helper_arg a;
	char **paths = NULL, **sh_argv = NULL;
	size_t npaths = 0, argc = 0, i;
	int outp[2] = {-1, -1}, stp[2] = {-1, -1}, e;
	void *stack = MAP_FAILED;
	sigset_t all, old;
	pid_t pid;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return k8s__error_oom();
	s->out_fd = s->st_fd = -1;
	s->timeout = timeout > 0 ? timeout : 60;
	while (argv[argc])
		argc++;
	paths = search_paths(file, &npaths);
	sh_argv = calloc(argc + 3, sizeof(char *));
	if (!paths || !sh_argv) {
		free_list(paths);
		free(sh_argv);
		free(s);
		return k8s__error_oom();
	}
	sh_argv[0] = (char *)"/bin/sh";
	for (i = 1; i < argc; i++)
		sh_argv[i + 1] = argv[i];

	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(stp, O_CLOEXEC) < 0 ||
	    fcntl(outp[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(stp[0], F_SETFL, O_NONBLOCK) < 0 ||
	    (stack = mmap(NULL, HELPER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1,
			  0)) == MAP_FAILED) {
		e = errno;
		pid = -1;
		goto fail;
	}
	memset(&a, 0, sizeof(a));
	a.paths = paths;
	a.npaths = npaths;
	a.argv = argv;
	a.sh_argv = sh_argv;
	a.envp = envp;
	a.out_w = outp[1];
	a.st_w = stp[1];
	a.stdin_inherit = stdin_inherit;

	/* The helper starts with every signal blocked, so that none reaches a
	 * handler of ours before it has reset them. Exit signal 0 (flags):
	 * no SIGCHLD, invisible to waitpid(-1). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = clone(helper_main, (char *)stack + HELPER_STACK, 0, &a);
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
fail:
	/* The helper has its own copy of the address space: the stack and the
	 * lists can go now. */
	if (stack != MAP_FAILED)
		munmap(stack, HELPER_STACK);
	free_list(paths);
	free(sh_argv);
	close_fd(&outp[1]);
	close_fd(&stp[1]);
	if (pid < 0) {
		close_fd(&outp[0]);
		close_fd(&stp[0]);
		free(s);
		return k8s__error(K8S_ERROR, "InternalError", "spawn %s: %s", file, strerror(e));
	}
	s->helper = pid;
	s->out_fd = outp[0];
	s->st_fd = stp[0];
	s->deadline = k8s__now() + s->timeout;
	*out = s;
	return 0;
}

/* Append one read to out. A buffer that grows is copied and the old one
 * wiped, as is the chunk (the output holds credentials). 1 data, 0 EOF (or
 * more than K8S_SPAWN_MAX_OUTPUT: s->overflow set, the output wiped), -1
 * nothing now (EAGAIN), or K8S_ENOMEM / K8S_ERROR. */
static int read_output(k8s_spawn *s)
{
	k8s_buf *b = &s->out;
	char chunk[READ_CHUNK];
	ssize_t n = read(s->out_fd, chunk, sizeof(chunk));
	if (n == 0)
		return 0;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return -1;
		return k8s__error(K8S_ERROR, "InternalError", "spawn: read: %s", strerror(errno));
	}
	if ((size_t)n > K8S_SPAWN_MAX_OUTPUT - b->len) {
		k8s__wipe(chunk, (size_t)n);
		k8s_buf_wipe_free(b);
		s->overflow = 1;
		return 0;
	}
	if (b->cap < b->len + (size_t)n + 1) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		if (!(p = malloc(cap))) {
			k8s__wipe(chunk, (size_t)n);
			return k8s__error_oom();
		}
		if (b->ptr) {
			memcpy(p, b->ptr, b->len);
			k8s__wipe(b->ptr, b->cap);
			free(b->ptr);
		}
		b->ptr = p;
		b->cap = cap;
	}
	memcpy(b->ptr + b->len, chunk, (size_t)n);
	k8s__wipe(chunk, (size_t)n);
	b->len += (size_t)n;
	b->ptr[b->len] = 0;
	return 1;
}

/* Read what the pipes have; close each at EOF. */
static int drain(k8s_spawn *s)
{
	int rc;
	while (s->out_fd >= 0 && (rc = read_output(s)) != -1) {
		if (rc == 0)
			close_fd(&s->out_fd);
		else if (rc < 0)
			return rc;
	}
	while (s->st_fd >= 0) {
		unsigned char junk[64];
		ssize_t n;
		if (s->rec_len < sizeof(s->rec))
			n = read(s->st_fd, s->rec + s->rec_len, sizeof(s->rec) - s->rec_len);
		else
			n = read(s->st_fd, junk, sizeof(junk));
		if (n > 0 && s->rec_len < sizeof(s->rec))
			s->rec_len += (size_t)n;
		else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
			close_fd(&s->st_fd);
		else if (n < 0 && errno != EINTR)
			break;
	}
	return 0;
}

/* From the helper's record: it is written after the program was reaped,
 * so it holds even when the helper's own status is lost. No record (the
 * helper was killed): K8S_SPAWN_LOST. */
static void set_status(k8s_spawn *s)
{
	struct rec r;
	s->exit_code = K8S_SPAWN_LOST;
	s->exec_errno = 0;
	memcpy(&r, s->rec, sizeof(r));
	if (s->rec_len != sizeof(r) || r.magic != REC_MAGIC)
		return;
	s->pid = r.pid;
	if (r.exec_errno)
		s->exec_errno = r.exec_errno;
	else if (!r.waited)
		return;
	else if (WIFEXITED(r.wstatus))
		s->exit_code = WEXITSTATUS(r.wstatus);
	else if (WIFSIGNALED(r.wstatus))
		s->exit_code = -WTERMSIG(r.wstatus);
}

/* Reap the helper. block: wait for it. 1 reaped (or lost), 0 not yet. */
static int reap(k8s_spawn *s, int block)
{
	int st;
	pid_t r;
	if (s->reaped)
		return 1;
	do
		r = waitpid(s->helper, &st, (block ? 0 : WNOHANG) | __WCLONE);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	s->reaped = 1;
	drain(s); /* the record, if it was written after our last read */
	set_status(s);
	close_fd(&s->out_fd);
	close_fd(&s->st_fd);
	return 1;
}

static void kill_helper(k8s_spawn *s, double now)
{
	if (!s->killed) {
		kill(s->helper, SIGTERM);
		s->killed = 1;
		s->kill_at = now;
	} else if (!s->hard_killed && now >= s->kill_at + KILL_GRACE) {
		/* the program did not die (uninterruptible?): give up on it */
		kill(s->helper, SIGKILL);
		s->hard_killed = 1;
	}
}

int k8s__spawn_poll(k8s_spawn *s, double wait)
{
	double end;
	if (s->result)
		return s->result;
	end = k8s__now() + (wait > 0 ? wait : 0);
	for (;;) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		double now, until;
		int rc = drain(s);
		now = k8s__now();
		if (rc < 0) {
			kill_helper(s, now);
			return s->result = rc;
		}
		if (!s->killed && (s->overflow || now >= s->deadline)) {
			s->timed_out = !s->overflow;
			kill_helper(s, now);
		} else if (s->killed) {
			kill_helper(s, now);
		}
		if (s->killed)
			close_fd(&s->out_fd); /* what a killed program wrote is incomplete anyway */
		/* status pipe at EOF: the helper is exiting */
		if (s->st_fd < 0 && s->out_fd < 0 && reap(s, 0)) {
			if (s->overflow)
				return s->result = k8s__error(K8S_ERROR, "OutputTooLarge",
							      "spawn: output exceeds %d bytes (the program was killed)",
							      K8S_SPAWN_MAX_OUTPUT);
			if (s->timed_out)
				return s->result = k8s__error(K8S_ETIMEOUT, "Timeout", "spawn: timed out after %gs",
							      s->timeout);
			return s->result = 1;
		}
		if (now >= end)
			return 0;
		until = end;
		if (!s->killed && s->deadline < until)
			until = s->deadline;
		if (s->killed && !s->hard_killed && s->kill_at + KILL_GRACE < until)
			until = s->kill_at + KILL_GRACE;
		if (s->out_fd >= 0)
			pfd[n++] = (struct pollfd){s->out_fd, POLLIN, 0};
		if (s->st_fd >= 0)
			pfd[n++] = (struct pollfd){s->st_fd, POLLIN, 0};
		if (n == 0 && until > now + 0.001)
			until = now + 0.001; /* between closing its files and becoming a zombie */
		if (until > now + 1000)
			until = now + 1000;
		if (until > now && poll(pfd, n, (int)((until - now) * 1000) + 1) < 0 && errno != EINTR)
			return s->result = k8s__error(K8S_ERROR, "InternalError", "spawn: poll: %s", strerror(errno));
	}
}

const k8s_buf *k8s__spawn_output(const k8s_spawn *s)
{
	return &s->out;
}

void k8s__spawn_status(const k8s_spawn *s, int *exit_code, int *exec_errno)
{
	if (exit_code)
		*exit_code = s->reaped ? s->exit_code : K8S_SPAWN_LOST;
	if (exec_errno)
		*exec_errno = s->reaped ? s->exec_errno : 0;
}

int k8s__spawn_helper_pid(const k8s_spawn *s)
{
	return (int)s->helper;
}

int k8s__spawn_pid(const k8s_spawn *s)
{
	return s->pid;
}

void k8s__spawn_free(k8s_spawn *s)
{
	if (!s)
		return;
	if (!s->reaped) {
		double now = k8s__now();
		close_fd(&s->out_fd);
		kill_helper(s, now);
		/* the helper closes the status pipe when it exits; give it the grace
		 * period, then kill it */
		while (s->st_fd >= 0 && !s->hard_killed) {
			struct pollfd pfd = {s->st_fd, POLLIN, 0};
			double left = s->kill_at + KILL_GRACE - k8s__now();
			if (left <= 0) {
				kill_helper(s, s->kill_at + KILL_GRACE);
				break;
			}
			if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
				break;
			drain(s);
		}
		reap(s, 1);
	}
	close_fd(&s->out_fd);
	close_fd(&s->st_fd);
	k8s_buf_wipe_free(&s->out);
	k8s__wipe(s->rec, sizeof(s->rec));
	free(s);
}
