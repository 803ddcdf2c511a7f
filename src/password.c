/*
 * password.c -- see password.h. The sources are tried in the order of
 * password_sources[]; each one finds the password (1), is not configured
 * for the account (0, the next one is tried) or fails (-1, stop: a broken
 * passwordeval must not silently fall through to a prompt). The keyring,
 * ~/.netrc and /dev/tty sources go into that table.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "account.h"
#include "config.h"
#include "error.h"
#include "password.h"
#include "util.h"

#define EVAL_OUTPUT_MAX (64 * 1024)	/* bytes of passwordeval output kept */

extern char **environ;

struct password_source {
	const char *name;	/* what was tried, for the "no password" text */
	int (*get)(const struct account *a, char **out, struct error *err);
};

static int source_config(const struct account *, char **, struct error *);
static int source_eval(const struct account *, char **, struct error *);

static const struct password_source password_sources[] = {
	{ "password", source_config },
	{ "passwordeval", source_eval },
};

/* ---------------------------------------------------------------- config */

static int
source_config(const struct account *a, char **out, struct error *err)
{
	if (a->conf == NULL || a->conf->password == NULL)
		return 0;
	*out = xstrdup(a->conf->password);
	return 1;
}

/* ---------------------------------------------------------- passwordeval */

/* In the child: stdin /dev/null, stdout the pipe, stderr inherited. */
static void __attribute__((noreturn))
eval_child(const char *cmd, int in, int out)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	sigset_t none;

	/* Above 2 first, so that neither dup2 can clobber the other fd. */
	in = fcntl(in, F_DUPFD_CLOEXEC, 3);
	out = fcntl(out, F_DUPFD_CLOEXEC, 3);
	if (in == -1 || out == -1 || dup2(in, 0) == -1 || dup2(out, 1) == -1)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve("/bin/sh", argv, environ);
	_exit(127);
}

/*
 * Read everything the command writes (so that it never dies of SIGPIPE),
 * keeping at most EVAL_OUTPUT_MAX bytes; *overflow when more came.
 */
static int
eval_read(int fd, struct dynbuf *b, bool *overflow, struct error *err)
{
	char buf[4096];
	ssize_t n;
	int r = 0;

	*overflow = false;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!*overflow && dynbuf_add(b, buf, (size_t)n) == -1)
			*overflow = true;
	}
	if (n == -1)
		r = error_set(err, ERR_IOERR, "cannot read passwordeval "
		    "output: %s", strerror(errno));
	util_wipe(buf, sizeof(buf));
	return r;
}

static int
eval_wait(pid_t pid, const struct account *a, struct error *err)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return error_set(err, ERR_OSERR, "passwordeval for "
			    "account '%s': waitpid: %s", a->name,
			    strerror(errno));
	if (WIFSIGNALED(status))
		return error_set(err, ERR_AUTH, "passwordeval for account "
		    "'%s' was killed by signal %d", a->name, WTERMSIG(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return error_set(err, ERR_AUTH, "passwordeval for account "
		    "'%s' exited with status %d%s", a->name,
		    WEXITSTATUS(status), WEXITSTATUS(status) == 127 ?
		    " (command not found?)" : "");
	return 0;
}

/* Run cmd with /bin/sh -c; its output into b. */
static int
eval_run(const struct account *a, const char *cmd, struct dynbuf *b,
    bool *overflow, struct error *err)
{
	int devnull, fds[2], r;
	pid_t pid;

	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return error_set(err, ERR_OSERR, "cannot open /dev/null: %s",
		    strerror(errno));
	if (pipe2(fds, O_CLOEXEC) == -1) {
		r = error_set(err, ERR_OSERR, "pipe: %s", strerror(errno));
		close(devnull);
		return r;
	}
	if ((pid = fork()) == -1) {
		r = error_set(err, ERR_OSERR, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		close(devnull);
		return r;
	}
	if (pid == 0)
		eval_child(cmd, devnull, fds[1]);
	close(devnull);
	close(fds[1]);
	r = eval_read(fds[0], b, overflow, err);
	close(fds[0]);
	if (eval_wait(pid, a, r == 0 ? err : NULL) == -1 && r == 0)
		r = -1;
	return r;
}

static int
source_eval(const struct account *a, char **out, struct error *err)
{
	struct dynbuf b;
	bool overflow;
	size_t len;
	int r = 1;

	if (a->conf == NULL || a->conf->passwordeval == NULL)
		return 0;
	dynbuf_init(&b, EVAL_OUTPUT_MAX);
	b.secret = true;
	if (eval_run(a, a->conf->passwordeval, &b, &overflow, err) == -1) {
		dynbuf_release(&b);
		return -1;
	}
	len = b.data != NULL ? strcspn(b.data, "\n") : 0;
	if (overflow && len == b.len)
		r = error_set(err, ERR_AUTH, "passwordeval for account '%s' "
		    "printed a first line longer than %d bytes", a->name,
		    EVAL_OUTPUT_MAX);
	while (len > 0 && b.data[len - 1] == '\r')
		len--;
	if (r == 1 && len == 0)
		r = error_set(err, ERR_AUTH, "passwordeval for account '%s' "
		    "printed no password", a->name);
	if (r == 1)
		*out = xstrndup(b.data, len);
	dynbuf_release(&b);
	return r;
}

/* ---------------------------------------------------------------- API */

static int
nothing_found(const struct account *a, struct error *err)
{
	char tried[256] = "";
	size_t used = 0;
	const char *user = a->user;
	const char *file = a->conf != NULL ? a->conf->file : NULL;

	if (user == NULL && a->conf != NULL)
		user = a->conf->user;
	for (size_t i = 0; i < ARRAY_SIZE(password_sources); i++) {
		int n = snprintf(tried + used, sizeof(tried) - used, "%s%s",
		    i > 0 ? ", " : "", password_sources[i].name);

		if (n < 0 || (size_t)n >= sizeof(tried) - used)
			break;
		used += (size_t)n;
	}
	return error_set(err, ERR_AUTH, "no password for account '%s' "
	    "(user '%s'): tried %s; set 'passwordeval' or 'password' in %s",
	    a->name, user ? user : "", tried,
	    file ? file : "the configuration file");
}

int
password_get(const struct account *a, char **out, struct error *err)
{
	*out = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(password_sources); i++) {
		int r = password_sources[i].get(a, out, err);

		if (r == -1)
			return -1;
		if (r == 1)
			return 0;
	}
	return nothing_found(a, err);
}
