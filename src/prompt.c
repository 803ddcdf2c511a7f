/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * prompt.c -- see prompt.h. The terminal handling follows OpenBSD's
 * readpassphrase(3): catch the signals that end or stop the process, turn
 * echo off, read, restore the terminal and the old signal handlers, and
 * only then deliver a signal that came in meanwhile. Unlike it, the
 * signals stay blocked except inside ppoll(), so one that comes just
 * before the read cannot be missed (which would leave the read waiting
 * for a line after ^C).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "error.h"
#include "prompt.h"
#include "util.h"

#define PROMPT_TTY_MAX	(8 * 1024)	/* bytes of a typed line */
#define PROMPT_LINE_MAX	(64 * 1024)	/* bytes of a stdin line */

static const int prompt_signals[] = {
	SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU,
};

static volatile sig_atomic_t prompt_signo;

struct tty {
	int fd;
	struct termios saved;
	bool echo_off;		/* saved must be put back */
	struct sigaction old[ARRAY_SIZE(prompt_signals)];
	bool caught[ARRAY_SIZE(prompt_signals)];
	sigset_t oldmask;	/* the mask to wait with, and to restore */
};

/* ---------------------------------------------------------------- signals */

static void
prompt_catch(int sig)
{
	prompt_signo = sig;
}

/*
 * Block the signals of the list (they come in only inside ppoll()), and
 * catch every one that is not ignored.
 */
static void
catch_signals(struct tty *t)
{
	struct sigaction sa;
	sigset_t block;

	sigemptyset(&block);
	for (size_t i = 0; i < ARRAY_SIZE(prompt_signals); i++)
		sigaddset(&block, prompt_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &t->oldmask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = prompt_catch;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: ppoll() gets EINTR */
	prompt_signo = 0;
	for (size_t i = 0; i < ARRAY_SIZE(prompt_signals); i++)
		t->caught[i] =
		    sigaction(prompt_signals[i], NULL, &t->old[i]) == 0 &&
		    t->old[i].sa_handler != SIG_IGN &&
		    sigaction(prompt_signals[i], &sa, NULL) == 0;
}

/* The old handlers, then the old mask: what is pending is theirs. */
static void
restore_signals(struct tty *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(prompt_signals); i++)
		if (t->caught[i])
			(void)sigaction(prompt_signals[i], &t->old[i], NULL);
	sigprocmask(SIG_SETMASK, &t->oldmask, NULL);
}

static bool
is_stop_signal(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* ---------------------------------------------------------------- tty */

static void
write_all(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Whether the terminal is open and ours to use; else why says why not. */
static bool
tty_open(struct tty *t, char *why, size_t size)
{
	memset(t, 0, sizeof(*t));
	t->fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->fd < 0) {
		snprintf(why, size, "no terminal (/dev/tty: %s)",
		    strerror(errno));
		return false;
	}
	if (tcgetattr(t->fd, &t->saved) < 0) {
		snprintf(why, size, "no terminal (/dev/tty: %s)",
		    strerror(errno));
		close(t->fd);
		return false;
	}
	if (tcgetpgrp(t->fd) != getpgrp()) {
		snprintf(why, size, "not in the foreground of the terminal");
		close(t->fd);
		return false;
	}
	return true;
}

static int
tty_echo_off(struct tty *t)
{
	struct termios noecho = t->saved;

	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(t->fd, TCSAFLUSH, &noecho) < 0)
		return -1;
	t->echo_off = true;
	return 0;
}

/* Put the terminal and the signal handlers back, close. */
static void
tty_close(struct tty *t)
{
	if (t->echo_off)
		while (tcsetattr(t->fd, TCSAFLUSH, &t->saved) < 0 &&
		    errno == EINTR)
			;
	restore_signals(t);
	close(t->fd);
}

/* How reading the typed line ended. */
enum tty_line {
	TTY_LINE,		/* a line (or the bytes before end of file) */
	TTY_EMPTY,		/* end of file before any byte */
	TTY_FAILED,		/* a read error: errno */
	TTY_TOO_LONG,		/* longer than PROMPT_TTY_MAX */
	TTY_SIGNAL,		/* interrupted by a caught signal */
};

/*
 * One line, byte by byte, into b; the signals come in only while waiting
 * in ppoll() with the caller's mask.
 */
static enum tty_line
tty_read_line(const struct tty *t, struct dynbuf *b)
{
	struct pollfd p = { .fd = t->fd, .events = POLLIN };
	char c;
	ssize_t n;

	for (;;) {
		if (prompt_signo != 0)
			return TTY_SIGNAL;
		if (ppoll(&p, 1, NULL, &t->oldmask) < 0) {
			if (errno == EINTR)
				continue;
			return TTY_FAILED;
		}
		n = read(t->fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return TTY_FAILED;
		if (n == 0)
			return b->len > 0 ? TTY_LINE : TTY_EMPTY;
		if (c == '\n' || c == '\r')
			return TTY_LINE;
		if (dynbuf_add(b, &c, 1) < 0)
			return TTY_TOO_LONG;
	}
}

static enum cred
prompt_result(enum tty_line r, struct dynbuf *b, char **out,
    struct error *err)
{
	if (r == TTY_LINE && b->len > 0) {
		*out = xstrndup(b->data, b->len);
		return CRED_FOUND;
	}
	if (r == TTY_TOO_LONG)
		error_set(err, ERR_AUTH, "the line typed is longer than %d "
		    "bytes", PROMPT_TTY_MAX);
	else if (r == TTY_FAILED)
		error_set(err, ERR_AUTH, "cannot read from /dev/tty: %s",
		    strerror(errno));
	else
		error_set(err, ERR_AUTH, "no password entered");
	return CRED_ERROR;
}

/*
 * Ask once. A stop signal (^Z) stops the process once the terminal is
 * back to normal; then *again: ask once more.
 */
static enum cred
prompt_once(const char *prompt, char **out, char *why, size_t size,
    bool *again, struct error *err)
{
	enum tty_line line = TTY_FAILED;
	enum cred r;
	struct tty t;
	struct dynbuf b;
	int sig;

	*again = false;
	if (!tty_open(&t, why, size))
		return CRED_NONE;
	dynbuf_init(&b, PROMPT_TTY_MAX);
	b.secret = true;
	catch_signals(&t);
	if (tty_echo_off(&t) == 0 && prompt_signo == 0) {
		write_all(t.fd, prompt);
		line = tty_read_line(&t, &b);
		write_all(t.fd, "\n");
	}
	tty_close(&t);
	sig = prompt_signo;
	if (sig != 0) {
		dynbuf_release(&b);
		raise(sig);	/* the old handler now: may end or stop us */
		*again = is_stop_signal(sig);
		if (*again)
			return CRED_NONE;
		error_set(err, ERR_AUTH, "password prompt interrupted (%s)",
		    strsignal(sig));
		return CRED_ERROR;
	}
	r = prompt_result(line, &b, out, err);
	dynbuf_release(&b);
	return r;
}

enum cred
prompt_tty(const char *prompt, char **out, char *why, size_t size,
    struct error *err)
{
	enum cred r;
	bool again;

	*out = NULL;
	do
		r = prompt_once(prompt, out, why, size, &again, err);
	while (again);
	return r;
}

/* ---------------------------------------------------------------- stdin */

int
prompt_read_line(int fd, char **out, struct error *err)
{
	struct dynbuf b;
	char buf[4096];
	ssize_t n;
	size_t len;
	int r = 0;

	*out = NULL;
	dynbuf_init(&b, PROMPT_LINE_MAX);
	b.secret = true;
	(void)dynbuf_add(&b, "", 0);	/* b.data is never NULL */
	while (memchr(b.data, '\n', b.len) == NULL) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = error_set(err, ERR_IOERR, "cannot read the "
			    "password from standard input: %s",
			    strerror(errno));
		if (n <= 0)
			break;
		if (dynbuf_add(&b, buf, (size_t)n) < 0)
			r = error_set(err, ERR_DATAERR, "the password on "
			    "standard input is longer than %d bytes",
			    PROMPT_LINE_MAX);
		if (r < 0)
			break;
	}
	util_wipe(buf, sizeof(buf));
	len = r == 0 ? strcspn(b.data, "\n") : 0;
	while (len > 0 && b.data[len - 1] == '\r')
		len--;
	if (r == 0 && len == 0)
		r = error_set(err, ERR_DATAERR, "no password on standard "
		    "input");
	if (r == 0)
		*out = xstrndup(b.data, len);
	dynbuf_release(&b);
	return r;
}

/* ---------------------------------------------------------------- foreground */

int
prompt_fg_open(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0 && tcgetpgrp(fd) != getpgrp()) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* tcsetpgrp() with SIGTTOU blocked: a background caller may do it then. */
static void
fg_set(int fd, pid_t pgid)
{
	sigset_t ttou, old;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	(void)tcsetpgrp(fd, pgid);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void
prompt_fg_give(int fd, pid_t pgid)
{
	if (fd >= 0)
		fg_set(fd, pgid);
}

void
prompt_fg_take(int fd)
{
	if (fd < 0)
		return;
	fg_set(fd, getpgrp());
	close(fd);
}
