/* Running a child process without blocking and without SIGCHLD, so that it
 * works inside an nginx worker (OpenResty-style cosockets).
 *
 * nginx's SIGCHLD handler calls waitpid(-1, WNOHANG) in every process and
 * would steal the exit status of an ordinary child. So the caller creates a
 * HELPER with clone() and exit signal 0: such a child is invisible to
 * waitpid(-1) and reaped only with waitpid(pid, __WCLONE). The helper does
 * not exec (execve would reset its exit signal to SIGCHLD): it resets its
 * signal handlers, forks and execs the program, waits for it and sends its
 * result (exit status or exec errno) to the caller through a pipe. The
 * program's stdout arrives through a non-blocking pipe. */
#ifndef K8S_SPAWN_H
#define K8S_SPAWN_H

#include "internal.h"

typedef struct k8s_spawn k8s_spawn;

/* Start `file` (PATH search like execvpe) with argv/envp, stdout captured
 * through a non-blocking pipe, stdin /dev/null unless stdin_inherit, stderr
 * inherited; the program gets no other file descriptor (close_range, else
 * what /proc/self/fd lists), an empty signal mask and every signal at
 * SIG_DFL (none ignored: like posix_spawn with SETSIGMASK and SETSIGDEF
 * for all signals). Never blocks.
 * timeout in seconds (> 0). Returns 0, or < 0 (K8S_ERROR, K8S_ENOMEM) with
 * the error recorded. */
int k8s__spawn_start(k8s_spawn **out, const char *file, char *const argv[], char *const envp[], int stdin_inherit,
		     double timeout);

/* The most stdout a program may write: 1 MiB. An ExecCredential is a few
 * KiB (a token, or a certificate and key); a program writing more is broken
 * or hostile and is killed (poll fails with "output exceeds"). client-go
 * has no cap. */
#define K8S_SPAWN_MAX_OUTPUT (1024 * 1024)

/* Read what stdout has, reap if finished. wait: seconds to block at most
 * (0 = never block). Returns 1 finished (output complete and process
 * reaped), 0 still running, < 0 error. When the timeout passes, the helper
 * kills the program with SIGKILL; once that is reaped poll returns
 * K8S_ETIMEOUT (and returns it again on later calls). Output beyond
 * K8S_SPAWN_MAX_OUTPUT: the same, with K8S_ERROR (reason OutputTooLarge)
 * and the output wiped. */
int k8s__spawn_poll(k8s_spawn *s, double wait);

/* The program's stdout so far (NUL-terminated when not empty). */
const k8s_buf *k8s__spawn_output(const k8s_spawn *s);

/* After poll returned 1 (or K8S_ETIMEOUT): how it ended. exec_errno != 0
 * when the program could not be executed (ENOENT, EACCES...; also a failed
 * fork in the helper). Otherwise exit_code >= 0 for a normal exit,
 * -signal when killed by a signal, K8S_SPAWN_LOST when the status was lost
 * (the helper died, or someone else reaped it): never 0 unless the program
 * really exited 0. */
void k8s__spawn_status(const k8s_spawn *s, int *exit_code, int *exec_errno);

#define K8S_SPAWN_LOST (-1000)

/* The helper's pid; the program's pid once the helper reported it (after
 * poll returned non-zero), else 0. For tests and diagnostics. */
int k8s__spawn_helper_pid(const k8s_spawn *s);
int k8s__spawn_pid(const k8s_spawn *s);

/* Kills and reaps if still running; wipes the output buffer (it holds
 * credentials). NULL-safe. */
void k8s__spawn_free(k8s_spawn *s);

/* Tests: 1 makes the helper close descriptors without close_range(2), as
 * on kernels before 5.9. */
extern int k8s__spawn_no_close_range;

#endif
