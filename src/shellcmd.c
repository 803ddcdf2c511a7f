/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * shellcmd.c -- see shellcmd.h. Moved out of password.c so that every
 * command a configuration file runs (passwordeval,
 * oauth2_client_secret_eval, and eval while the file is read) runs the
 * same way.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "prompt.h"
#include "shellcmd.h"
#include "util.h"

extern char **environ;

/*
 * In the child: stdin /dev/null, stdout the pipe, stderr inherited; a
 * process group of its own (a timeout kills all of it), given the
 * terminal's foreground when yubin had it (tty >= 0), so it may prompt.
 */
static void __attribute__((noreturn))
child(const char *cmd, int in, int out, int tty)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	sigset_t none;

	(void)setpgid(0, 0);
	prompt_fg_give(tty, getpid());
	/* Above 2 first, so that neither dup2 can clobber the other fd. */
	in = fcntl(in, F_DUPFD_CLOEXEC, 3);
	out = fcntl(out, F_DUPFD_CLOEXEC, 3);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve("/bin/sh", argv, environ);
	_exit(127);
}

/* The command ran past the timeout: its whole group goes. */
static int
timed_out(pid_t pid, const char *what, int timeout_ms, struct error *err)
{
	(void)kill(-pid, SIGKILL);
	return error_set(err, ERR_TEMP, "%s did not finish within %d s "
	    "(timeout); killed it", what, timeout_ms / 1000 > 0 ?
	    timeout_ms / 1000 : 1);
}

/*
 * Read everything the command writes (so that it never dies of SIGPIPE),
 * keeping what b holds; *overflow when more came. All before deadline
 * (-1: none).
 */
static int
read_output(int fd, pid_t pid, const char *what, long long deadline,
    int timeout_ms, struct dynbuf *b, bool *overflow, struct error *err)
{
	if (dynbuf_read_fd_until(b, fd, deadline, overflow) == 0)
		return 0;
	if (errno == ETIMEDOUT)
		return timed_out(pid, what, timeout_ms, err);
	return error_set(err, ERR_IOERR, "cannot read the output of %s: %s",
	    what, strerror(errno));
}

/* waitpid(); past deadline (-1: none) the group is killed first. */
static int
reap(pid_t pid, const char *what, long long deadline, int timeout_ms,
    int *status, struct error *err)
{
	pid_t r;
	int rc = 0;

	while ((r = waitpid(pid, status, deadline < 0 ? 0 : WNOHANG)) != pid) {
		if (r < 0 && errno != EINTR)
			return error_set(err, ERR_OSERR, "%s: waitpid: %s",
			    what, strerror(errno));
		if (r == 0 && util_now_ms() >= deadline) {
			rc = timed_out(pid, what, timeout_ms, err);
			deadline = -1;
		} else if (r == 0) {
			(void)poll(NULL, 0, 10);
		}
	}
	return rc;
}

/* Start cmd (child()); the read end of its stdout in *out. */
static pid_t
spawn(const char *cmd, int tty, int *out, struct error *err)
{
	int devnull, fds[2];
	pid_t pid;

	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return error_set(err, ERR_OSERR, "cannot open /dev/null: %s",
		    strerror(errno));
	if (pipe2(fds, O_CLOEXEC) < 0) {
		error_set(err, ERR_OSERR, "pipe: %s", strerror(errno));
		close(devnull);
		return -1;
	}
	if ((pid = fork()) < 0)
		error_set(err, ERR_OSERR, "fork: %s", strerror(errno));
	else if (pid == 0)
		child(cmd, devnull, fds[1], tty);
	close(devnull);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	(void)setpgid(pid, pid);	/* the child does too: no race */
	prompt_fg_give(tty, pid);
	*out = fds[0];
	return pid;
}

int
shellcmd_run(const char *what, const char *cmd, int timeout_ms,
    struct dynbuf *out, struct shellcmd_result *res, struct error *err)
{
	long long deadline = timeout_ms > 0 ? util_now_ms() + timeout_ms : -1;
	int tty = prompt_fg_open(), fd = -1, status = 0, r;
	pid_t pid = spawn(cmd, tty, &fd, err);

	memset(res, 0, sizeof(*res));
	if (pid < 0) {
		prompt_fg_take(tty);
		return -1;
	}
	r = read_output(fd, pid, what, deadline, timeout_ms, out,
	    &res->overflow, err);
	close(fd);
	if (reap(pid, what, r == 0 ? deadline : -1, timeout_ms, &status,
	    r == 0 ? err : NULL) < 0)
		r = -1;
	prompt_fg_take(tty);
	res->signaled = WIFSIGNALED(status);
	res->status = res->signaled ? WTERMSIG(status) : WEXITSTATUS(status);
	return r;
}
