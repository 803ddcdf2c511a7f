/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-password.c -- password_get(): "password" from the config, then
 * "passwordeval" (first line of its output, exit status, signals, empty
 * output, stdin, environment, huge output), the keyring skipped without a
 * D-Bus session, ~/.netrc ($NETRC), the prompt on a pseudo-terminal (echo
 * off, terminal restored, ^C, ^Z), the order of the sources, and the
 * "nothing found" message; password_store()/password_forget() refusals.
 *
 * Everything runs in a child without a controlling terminal (setsid), so a
 * developer running "make check" in a terminal never gets a prompt; the
 * prompt tests give a child its own pseudo-terminal.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "account.h"
#include "config.h"
#include "error.h"
#include "password.h"
#include "tap.h"
#include "util.h"

static struct account_conf conf;
static struct account acc;
static char dir[] = "/tmp/yubin-test-password.XXXXXX";
static char netrc[256];

static void
setup(char *password, char *passwordeval)
{
	memset(&conf, 0, sizeof(conf));
	memset(&acc, 0, sizeof(acc));
	conf.name = (char *)"work";
	conf.host = (char *)"mail.example.org";
	conf.user = (char *)"alice";
	conf.file = (char *)"/home/alice/.config/yubin/config";
	conf.line = 3;
	conf.password = password;
	conf.passwordeval = passwordeval;
	acc.conf = &conf;
	acc.name = "work";
	acc.host = "mail.example.org";
	acc.user = "alice";
}

static void
write_netrc(const char *text, mode_t mode)
{
	FILE *f = fopen(netrc, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		bail_out("cannot write %s: %s", netrc, strerror(errno));
	chmod(netrc, mode);
}

static void
pw_is(const char *want, const char *name)
{
	struct error err;
	char *pw = (char *)"(unset)";
	int r;

	error_init(&err);
	r = password_get(&acc, &pw, &err);
	if (!ok(r == 0 && pw != NULL && strcmp(pw, want) == 0, "%s", name))
		printf("#   r=%d pw '%s' err '%s'\n", r, r == 0 ? pw : "",
		    err.message);
	if (r == 0)
		util_free_secret(pw);
}

static void
pw_fails_kind(enum error_kind kind, const char *want_text,
    const char *name)
{
	struct error err;
	char *pw = (char *)"(unset)";
	int r;

	error_init(&err);
	r = password_get(&acc, &pw, &err);
	if (!ok(r == -1 && pw == NULL && err.kind == kind &&
	    strstr(err.message, want_text) != NULL, "%s", name))
		printf("#   r=%d kind %d err '%s', want '%s'\n", r, err.kind,
		    err.message, want_text);
	if (r == 0)
		util_free_secret(pw);
}

static void
pw_fails(const char *want_text, const char *name)
{
	pw_fails_kind(ERR_AUTH, want_text, name);
}

static void
test_config_and_eval(void)
{
	setup((char *)"s3cret", NULL);
	pw_is("s3cret", "password from the config");
	setup((char *)"s3cret", (char *)"echo from-eval");
	pw_is("s3cret", "password comes before passwordeval");

	setup(NULL, (char *)"printf 'pw\\nsecond'");
	pw_is("pw", "passwordeval: first line");
	setup(NULL, (char *)"printf 'p w \\r\\n'");
	pw_is("p w ", "passwordeval: CRLF stripped, spaces kept");
	setup(NULL, (char *)"printf 'pw'");
	pw_is("pw", "passwordeval: no final newline");
	setup(NULL, (char *)"printf 'p\\303\\244ssw\\303\\266rd\\n'");
	pw_is("p\xc3\xa4ssw\xc3\xb6rd", "passwordeval: UTF-8 password");
	setup(NULL, (char *)"read x; echo \"got$x\"");
	pw_is("got", "passwordeval: stdin is /dev/null");
	setenv("YUBIN_TEST_SECRET", "from-env", 1);
	setup(NULL, (char *)"echo \"$YUBIN_TEST_SECRET\"");
	pw_is("from-env", "passwordeval: environment inherited");
	setup(NULL, (char *)"echo pw; head -c 300000 /dev/zero");
	pw_is("pw", "passwordeval: long output after the first line drained");
	setup(NULL, (char *)"echo warn >&2; echo pw");
	pw_is("pw", "passwordeval: stderr passed through");
}

static void
test_eval_failures(void)
{
	setup(NULL, (char *)"exit 3");
	pw_fails("exited with status 3", "passwordeval: exit 3");
	setup(NULL, (char *)"echo pw; exit 1");
	pw_fails("passwordeval for account 'work' exited with status 1",
	    "passwordeval: output but exit 1");
	setup(NULL, (char *)"true");
	pw_fails("printed no password", "passwordeval: no output");
	setup(NULL, (char *)"echo; echo pw");
	pw_fails("printed no password", "passwordeval: empty first line");
	setup(NULL, (char *)"kill -9 $$");
	pw_fails("killed by signal 9", "passwordeval: killed");
	setup(NULL, (char *)"/nonexistent/yubin-pw-helper");
	pw_fails("status 127", "passwordeval: command not found");
	setup(NULL, (char *)"head -c 300000 /dev/zero | tr '\\0' a");
	pw_fails("longer than", "passwordeval: one huge line");
	write_netrc("machine mail.example.org login alice password n\n", 0600);
	setup(NULL, (char *)"exit 1");
	pw_fails("exited with status 1",
	    "a failing passwordeval stops: netrc is not tried");
	unlink(netrc);
}

static void
test_netrc(void)
{
	write_netrc("machine mail.example.org login bob password bobpw\n"
	    "machine MAIL.example.org login alice password netrc-pw\n", 0600);
	setup(NULL, NULL);
	pw_is("netrc-pw", "netrc: machine and login matched");
	setup(NULL, (char *)"echo eval-pw");
	pw_is("eval-pw", "passwordeval comes before netrc");
	setup((char *)"conf-pw", NULL);
	pw_is("conf-pw", "password comes before netrc");
	setup(NULL, NULL);
	chmod(netrc, 0604);
	pw_fails_kind(ERR_CONFIG, "other users can read it; run 'chmod 600",
	    "netrc readable by others: ERR_CONFIG, no prompt");
	write_netrc("machine mail.example.org login alice password \"x\n",
	    0600);
	pw_fails_kind(ERR_CONFIG, ":1: unterminated quoted string",
	    "netrc syntax error: ERR_CONFIG with file:line");
	write_netrc("machine mail.example.org login bob password bobpw\n",
	    0600);
	pw_fails("netrc: no 'machine mail.example.org login alice' in",
	    "netrc without the entry: the message says so");
	unlink(netrc);
}

static void
test_nothing(void)
{
	long long t0;

	setup(NULL, NULL);
	t0 = util_now_ms();
	pw_fails("no password for user 'alice' at 'mail.example.org' "
	    "(account 'work')", "nothing configured");
	ok(util_now_ms() - t0 < 2000, "... found out in under 2 s (%lld ms)",
	    util_now_ms() - t0);
	pw_fails("\n  password: not set\n  passwordeval: not set\n",
	    "... lists the config sources");
#ifdef HAVE_LIBSECRET
	pw_fails("\n  keyring: no D-Bus session bus",
	    "... the keyring was skipped: no session bus");
#else
	pw_fails("\n  keyring: yubin was built without libsecret",
	    "... the keyring: built without libsecret");
#endif
	pw_fails("\n  netrc: ", "... netrc");
	pw_fails("\n  prompt: no terminal (/dev/tty: ",
	    "... and no terminal to prompt on");
	pw_fails("set 'passwordeval' (works from cron too) or 'password' in "
	    "/home/alice/.config/yubin/config", "... and how to fix it");
#ifdef HAVE_LIBSECRET
	pw_fails("/config, or run 'yubin --store-password -a work' in your "
	    "desktop session", "... or to use the keyring");
#endif
}

static void
test_store_refusals(void)
{
	struct error err;

	setup(NULL, NULL);
	error_init(&err);
	ok(password_store(&acc, &err) == -1 && err.kind == ERR_UNAVAILABLE &&
	    strstr(err.message, "the keyring") != NULL,
	    "store without a session bus (or libsecret): ERR_UNAVAILABLE");
	printf("#   %s\n", err.message);
	error_init(&err);
	ok(password_forget(&acc, &err) == -1 && err.kind == ERR_UNAVAILABLE,
	    "forget without a session bus (or libsecret): ERR_UNAVAILABLE");
	acc.user = NULL;
	conf.user = NULL;
	error_init(&err);
	ok(password_store(&acc, &err) == -1 && err.kind == ERR_CONFIG &&
	    strstr(err.message, "has no 'user'") != NULL,
	    "store without user: ERR_CONFIG");
}

/* ---------------------------------------------------------------- prompt */

struct pty_run {
	pid_t pid;
	int master;
	int result;		/* pipe: "r:password" from the child */
	int slave;		/* kept open: the termios outlive the child */
	char slave_name[128];
	char out[4096];		/* what the child wrote on the tty */
	size_t outlen;
};

/* The child: password_get() on its new controlling terminal. */
static void __attribute__((noreturn))
pty_child(int result)
{
	struct error err;
	char *pw = NULL, line[512];
	int r, n;

	setup(NULL, NULL);
	error_init(&err);
	r = password_get(&acc, &pw, &err);
	n = snprintf(line, sizeof(line), "%d:%s", r, r == 0 ? pw : err.message);
	util_free_secret(pw);
	if (write(result, line, (size_t)n) < 0)
		_exit(2);
	_exit(0);
}

static int
pty_start(struct pty_run *p)
{
	int fds[2];

	memset(p, 0, sizeof(*p));
	if (pipe(fds) == -1)
		return -1;
	p->pid = forkpty(&p->master, p->slave_name, NULL, NULL);
	if (p->pid == 0) {
		close(fds[0]);
		pty_child(fds[1]);
	}
	close(fds[1]);
	p->result = fds[0];
	if (p->pid == -1)
		return -1;
	p->slave = open(p->slave_name, O_RDWR | O_NOCTTY);
	return p->slave == -1 ? -1 : 0;
}

/* Read terminal output until it contains want (ms milliseconds at most). */
static bool
pty_wait_ms(struct pty_run *p, const char *want, int ms)
{
	struct pollfd pfd = { .fd = p->master, .events = POLLIN };
	long long end = util_now_ms() + ms;
	ssize_t n;

	while (util_now_ms() < end) {
		p->out[p->outlen] = '\0';
		if (strstr(p->out, want) != NULL)
			return true;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(p->master, p->out + p->outlen,
		    sizeof(p->out) - 1 - p->outlen);
		if (n <= 0)
			return false;
		p->outlen += (size_t)n;
	}
	return false;
}

static bool
pty_wait_for(struct pty_run *p, const char *want)
{
	return pty_wait_ms(p, want, 5000);
}

/* Whether the terminal echoes now (read through the slave side). */
static int
pty_echo(const struct pty_run *p)
{
	struct termios t;

	if (tcgetattr(p->slave, &t) == -1)
		return -1;
	return (t.c_lflag & ECHO) != 0;
}

/*
 * The child's result and exit status. A child still running after 10 s is
 * killed (and its result is "(hung)"), so a broken prompt fails the test
 * instead of hanging it.
 */
static int
pty_finish(struct pty_run *p, char *result, size_t size)
{
	struct pollfd pfd = { .fd = p->result, .events = POLLIN };
	int status = -1;
	ssize_t n = -1;

	if (poll(&pfd, 1, 10000) == 1)
		n = read(p->result, result, size - 1);
	else
		kill(p->pid, SIGKILL);
	result[n > 0 ? n : 0] = '\0';
	if (n == -1)
		util_strlcpy(result, "(hung)", size);
	waitpid(p->pid, &status, 0);
	pty_wait_ms(p, "\x01never", 200);	/* what is left */
	close(p->result);
	return status;
}

static void
pty_close(struct pty_run *p)
{
	close(p->slave);
	close(p->master);
}

static void
test_prompt_typed(void)
{
	struct pty_run p;
	char result[512];

	if (pty_start(&p) == -1) {
		ok(0, "prompt: forkpty: %s", strerror(errno));
		return;
	}
	ok(pty_wait_for(&p, "password for alice at mail.example.org: "),
	    "prompt: asks on the terminal (msmtp's words)");
	is_int(pty_echo(&p), 0, "prompt: echo is off while asking");
	if (write(p.master, "typed s3cret\n", 13) != 13)
		ok(0, "prompt: write to the pty");
	pty_finish(&p, result, sizeof(result));
	is_str(result, "0:typed s3cret", "prompt: the typed line is the "
	    "password");
	ok(strstr(p.out, "s3cret") == NULL, "prompt: the password was not "
	    "echoed");
	is_int(pty_echo(&p), 1, "prompt: echo is back on afterwards");
	pty_close(&p);
}

static void
test_prompt_interrupted(void)
{
	struct pty_run p;
	char result[512];
	int status;

	if (pty_start(&p) == -1) {
		ok(0, "prompt ^C: forkpty: %s", strerror(errno));
		return;
	}
	ok(pty_wait_for(&p, "password for"), "prompt ^C: asks");
	if (write(p.master, "half\003", 5) != 5)
		ok(0, "prompt ^C: write to the pty");
	status = pty_finish(&p, result, sizeof(result));
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT,
	    "prompt ^C: the process dies of SIGINT (status %#x)", status);
	is_int(pty_echo(&p), 1, "prompt ^C: echo restored before dying");
	pty_close(&p);
}

static void
test_prompt_empty_and_stop(void)
{
	struct pty_run p;
	char result[512];

	if (pty_start(&p) == -1) {
		ok(0, "prompt: forkpty: %s", strerror(errno));
		return;
	}
	ok(pty_wait_for(&p, "password for"), "prompt ^Z: asks");
	if (write(p.master, "\032", 1) != 1)
		ok(0, "prompt ^Z: write");
	ok(pty_wait_for(&p, "\npassword for"), "prompt ^Z: asks again "
	    "after the stop signal");
	if (write(p.master, "\n", 1) != 1)
		ok(0, "prompt: write");
	pty_finish(&p, result, sizeof(result));
	ok(strncmp(result, "-1:no password entered", 22) == 0,
	    "prompt: an empty line is no password (%s)", result);
	is_int(pty_echo(&p), 1, "prompt: echo is back on");
	pty_close(&p);
}

int
main(void)
{
	pid_t pid;
	int status;

	/* No controlling terminal, no D-Bus session, a private netrc. */
	if ((pid = fork()) != 0) {
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	setsid();
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	unsetenv("XDG_RUNTIME_DIR");
	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp: %s", strerror(errno));
	snprintf(netrc, sizeof(netrc), "%s/netrc", dir);
	setenv("NETRC", netrc, 1);
	test_config_and_eval();
	test_eval_failures();
	test_netrc();
	test_nothing();
	test_store_refusals();
	test_prompt_typed();
	test_prompt_interrupted();
	test_prompt_empty_and_stop();
	rmdir(dir);
	return done_testing();
}
