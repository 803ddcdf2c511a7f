/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cli.h -- the command line: sendmail's flags as mutt, git send-email, mailx
 * and cron pass them, plus yubin's own long options.
 */
#ifndef YUBIN_CLI_H
#define YUBIN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dsn.h"

struct error;

enum cli_mode {
	CLI_MODE_SEND,
	CLI_MODE_VERSION,
	CLI_MODE_HELP,
	CLI_MODE_VERIFY,		/* -bv: check addresses and account */
	CLI_MODE_STORE_PASSWORD,	/* --store-password */
	CLI_MODE_FORGET_PASSWORD,	/* --forget-password */
	CLI_MODE_FLUSH,			/* -q, --flush */
	CLI_MODE_QUEUE_LIST,		/* -bp, --queue-list [--json] */
	CLI_MODE_QUEUE_REMOVE,		/* --queue-remove ID */
	CLI_MODE_QUEUE_RETRY,		/* --queue-retry ID */
	CLI_MODE_LOGIN,			/* --login: OAuth 2.0 sign-in */
	CLI_MODE_LOGOUT,		/* --logout: forget the tokens */
	CLI_MODE_PRETEND,		/* -P, --pretend: print the account */
	CLI_MODE_SERVERINFO,		/* -S, --serverinfo [--json] */
	CLI_MODE_RMQS,			/* --rmqs=host|@domain|#queue */
	CLI_MODE_NEWALIASES,		/* -bi, or called as newaliases */
	CLI_MODE_CONFIGURE,		/* --configure=ADDRESS */
};

/* A configuration key set on the command line (msmtp's --port=N ...). */
struct cli_set {
	const char *option;	/* as written: "--port", "-X" */
	const char *key;	/* the key in a file: "port" */
	const char *value;	/* "" for --tls without a value */
};
#define CLI_SETS_MAX 64

/* --login --device / --browser */
enum cli_flow { CLI_FLOW_AUTO, CLI_FLOW_DEVICE, CLI_FLOW_BROWSER };
/* --store=keyring|file */
enum cli_store { CLI_STORE_AUTO, CLI_STORE_KEYRING, CLI_STORE_FILE };

/* --protocol=smtp|lmtp (msmtp's): instead of the account's protocol */
enum cli_protocol {
	CLI_PROTOCOL_ACCOUNT,	/* not given */
	CLI_PROTOCOL_SMTP,
	CLI_PROTOCOL_LMTP,
};

struct options {
	enum cli_mode mode;
	const char *config_file;	/* -C FILE */
	const char *account;		/* -a NAME */
	const char *from;		/* -f / -r ADDR */
	const char *fullname;		/* -F NAME */
	bool read_recipients;		/* -t */
	bool read_envelope_from;	/* --read-envelope-from: the sender
					   is the From: field's address */
	bool dot_ends;			/* false with -i / -oi */
	int verbose;			/* -v (repeatable) */
	const char *dsn_notify;		/* -N: NEVER or SUCCESS,FAILURE,DELAY
					   (NULL, or dsn_notify_buf) */
	const char *dsn_return;		/* -R: FULL or HDRS (upper case) */
	const char *dsn_envid;		/* -V: envelope id */
	char **rcpt;			/* recipients (point into argv) */
	size_t nrcpt;
	const char *queue_id;		/* --queue-remove / --queue-retry */
	bool json;			/* --json */
	bool force;			/* --force: -q sends what is not due */
	enum cli_flow flow;		/* --device, --browser */
	enum cli_store store;		/* --store=keyring|file */
	enum cli_protocol protocol;	/* --protocol=smtp|lmtp */
	char dsn_notify_buf[DSN_NOTIFY_MAX];	/* -N in canonical form */
	const char *host;		/* --host: no file, this server */
	const char *rmqs;		/* --rmqs: the argument of ETRN */
	const char *configure;		/* --configure: the address */
	struct cli_set sets[CLI_SETS_MAX];	/* in order */
	size_t nsets;
};

/*
 * Parse argv. Called as "mailq" (argv[0]'s last component) the mode is
 * the queue list (-bp), as "newaliases" CLI_MODE_NEWALIASES (-bi).
 * Recipients are the operands; options end at the first
 * operand or at "--" (BSD sendmail's rule: "yubin a@b -Cx" has the
 * recipients "a@b" and "-Cx", which the envelope then refuses). -oX..., -BX, -odX, -oem and other sendmail flags yubin has no
 * use for are accepted and ignored. -N, -R and -V are checked (RFC 3461
 * syntax) and kept in upper case; -N off and -R off unset the account's
 * dsn_notify / dsn_return. msmtp's options that set a configuration key
 * (--port=N, --tls[=on|off], -X FILE, ...) are kept in sets[] for
 * config_set(); their values are checked there. ERR_USAGE for an unknown option, a
 * missing argument ("option '-C' needs an argument") or a bad DSN value.
 */
int cli_parse(struct options *o, int argc, char **argv, struct error *err);

void cli_usage(FILE *f);

#endif
