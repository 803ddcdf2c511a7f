/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * confparse.h -- the msmtprc syntax, one file at a time; an internal
 * interface of config.c, which finds the files, checks them and merges
 * them. The lines (as msmtp reads them):
 *
 *	# comment              (first non-blank character of the line)
 *	defaults               settings for every account defined after it
 *	account NAME           a new account, starting from the defaults
 *	account NAME : A[,B]   starts from the defaults, then A, then B
 *	account default : NAME
 *	eval COMMAND           the first line COMMAND prints, read in place
 *	key value              value may be "quoted" (no escapes)
 */
#ifndef YUBIN_CONFPARSE_H
#define YUBIN_CONFPARSE_H

#include <stdbool.h>
#include <stdio.h>

struct account_conf;
struct config;
struct error;

/* One file to parse. */
struct confparse_src {
	const char *name;	/* in messages: "name:line: ..." */
	/*
	 * Called before the first eval line runs its command: 0 when this
	 * file may run commands (its owner and mode, see config.c), else -1
	 * with err filled. NULL: eval is refused (a stream, not a file).
	 */
	int (*may_run)(void *arg, struct error *err);
	void *arg;
	bool password;		/* out: a password or client secret written
				   (by an eval line too) */
};

/*
 * Parse f into c, appending its accounts (c->default_name from "account
 * default : X"). An eval line runs its command (shellcmd.h: /bin/sh -c,
 * bounded by the timeout in force at that line, default 60 s), whatever
 * its exit status, and reads the first line it printed as if it were
 * written there; no output, or another eval line, is an error. -1 with
 * ERR_CONFIG "name:line: ..." (ERR_TEMP when an eval command timed out,
 * ERR_IOERR when f cannot be read); c then holds what was parsed so far.
 */
int confparse_stream(struct config *c, FILE *f, struct confparse_src *src,
    struct error *err);

/*
 * The account called name in list, or NULL; "default" is also the account
 * default_name names.
 */
struct account_conf *confparse_find(struct account_conf *list,
    const char *default_name, const char *name);

/* Free an account (its values wiped), as the parser made it. */
void confparse_free(struct account_conf *a);

#endif
