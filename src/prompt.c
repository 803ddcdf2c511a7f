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
#define PROMPT_AGAIN	2		/* stopped, continued: ask again */

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

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* 1: open, ours to use; 0: no terminal to ask (why filled). */
static int
tty_open(struct tty *t, char *why, size_t size)
{
	memset(t, 0, sizeof(*t));
	t->fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->fd == -1) {
		snprintf(why, size, "no terminal (/dev/tty: %s)",
		    strerror(errno));
		return 0;
	}
	if (tcgetattr(t->fd, &t->saved) == -1) {
		snprintf(why, size, "no terminal (/dev/tty: %s)",
		    strerror(errno));
		close(t->fd);
		return 0;
	}
	if (tcgetpgrp(t->fd) != getpgrp()) {
		snprintf(why, size, "not in the foreground of the terminal");
		close(t->fd);
		return 0;
	}
	return 1;
}

static int
tty_echo_off(struct tty *t)
{
	struct termios noecho = t->saved;

	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(t->fd, TCSAFLUSH, &noecho) == -1)
		return -1;
	t->echo_off = true;
	return 0;
}

/* Put the terminal and the signal handlers back, close. */
static void
tty_close(struct tty *t)
{
	if (t->echo_off)
		while (tcsetattr(t->fd, TCSAFLUSH, &t->saved) == -1 &&
		    errno == EINTR)
			;
	restore_signals(t);
	close(t->fd);
}

/*
 * One line, byte by byte, into b; the signals come in only while waiting
 * in ppoll() with the caller's mask. 1: a line; 0: end of file before any
 * byte; -1: read error; -2: too long; -3: interrupted by a caught signal.
 */
static int
tty_read_line(const struct tty *t, struct dynbuf *b)
{
	struct pollfd p = { .fd = t->fd, .events = POLLIN };
	char c;
	ssize_t n;

	for (;;) {
		if (prompt_signo != 0)
			return -3;
		if (ppoll(&p, 1, NULL, &t->oldmask) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		n = read(t->fd, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			return b->len > 0 ? 1 : 0;
		if (c == '\n' || c == '\r')
			return 1;
		if (dynbuf_add(b, &c, 1) == -1)
			return -2;
	}
}

static int
prompt_result(int r, struct dynbuf *b, char **out, struct error *err)
{
	if (r == 1 && b->len > 0) {
		*out = xstrndup(b->data, b->len);
		return 1;
	}
	if (r == -2)
		return error_set(err, ERR_AUTH, "the line typed is longer "
		    "than %d bytes", PROMPT_TTY_MAX);
	if (r == -1)
		return error_set(err, ERR_AUTH, "cannot read from /dev/tty: "
		    "%s", strerror(errno));
	return error_set(err, ERR_AUTH, "no password entered");
}

static int
prompt_once(const char *prompt, char **out, char *why, size_t size,
    struct error *err)
{
	struct tty t;
	struct dynbuf b;
	int r, sig;

	if (tty_open(&t, why, size) == 0)
		return 0;
	dynbuf_init(&b, PROMPT_TTY_MAX);
	b.secret = true;
	catch_signals(&t);
	r = tty_echo_off(&t) == 0 ? 1 : -1;
	if (r == 1 && prompt_signo == 0) {
		write_all(t.fd, prompt);
		r = tty_read_line(&t, &b);
		write_all(t.fd, "\n");
	}
	tty_close(&t);
	sig = prompt_signo;
	if (sig != 0) {
		dynbuf_release(&b);
		raise(sig);	/* the old handler now: may end or stop us */
		if (is_stop_signal(sig))
			return PROMPT_AGAIN;
		return error_set(err, ERR_AUTH, "password prompt interrupted "
		    "(%s)", strsignal(sig));
	}
	r = prompt_result(r, &b, out, err);
	dynbuf_release(&b);
	return r;
}

int
prompt_tty(const char *prompt, char **out, char *why, size_t size,
    struct error *err)
{
	int r;

	*out = NULL;
	do
		r = prompt_once(prompt, out, why, size, err);
	while (r == PROMPT_AGAIN);
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
	(void)dynbuf_add(&b, "", 0);
	while (memchr(b.data, '\n', b.len) == NULL) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			r = error_set(err, ERR_IOERR, "cannot read the "
			    "password from standard input: %s",
			    strerror(errno));
		if (n <= 0)
			break;
		if (dynbuf_add(&b, buf, (size_t)n) == -1)
			r = error_set(err, ERR_DATAERR, "the password on "
			    "standard input is longer than %d bytes",
			    PROMPT_LINE_MAX);
		if (r == -1)
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
