/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * shellcmd.h -- run a command of the configuration (passwordeval,
 * oauth2_client_secret_eval, eval) the one way yubin runs them: /bin/sh -c,
 * standard input /dev/null (yubin's own is the message), standard output
 * captured, standard error passed through (a prompt for a passphrase still
 * shows); a process group of its own, which gets the terminal's foreground
 * while it runs when yubin has it (so it may prompt on /dev/tty); bounded
 * by a timeout, past which the whole group is killed. What the exit status
 * means is the caller's business.
 */
#ifndef YUBIN_SHELLCMD_H
#define YUBIN_SHELLCMD_H

#include <stdbool.h>

struct dynbuf;
struct error;

struct shellcmd_result {
	int status;		/* exit status, or the signal when signaled */
	bool signaled;		/* killed by a signal */
	bool overflow;		/* it wrote more than out holds */
};

/*
 * Run cmd; everything it writes is read (so it never dies of SIGPIPE), up
 * to out's cap kept in out. what names the command in messages ("eval at
 * FILE:12"). timeout_ms 0: none. 0 once the command ended (whatever its
 * status, in *res); -1: ERR_OSERR (pipe, fork, waitpid), ERR_IOERR (read),
 * ERR_TEMP "WHAT did not finish within N s (timeout); killed it".
 */
int shellcmd_run(const char *what, const char *cmd, int timeout_ms,
    struct dynbuf *out, struct shellcmd_result *res, struct error *err);

#endif
