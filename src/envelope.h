/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * envelope.h -- who a message is from and to, and what yubin does to its
 * header on the way: sendmail's command line with msmtp's rules.
 *
 * Recipients: the command-line operands (each an address list, so
 * "Bob <bob@example.org>" works), plus with -t those of the To, Cc and Bcc
 * fields -- or, when the header has Resent- fields, of the Resent-To,
 * Resent-Cc and Resent-Bcc fields of the first (newest) Resent- block
 * only. With -t the operands are added, not dropped (msmtp's and
 * Postfix's behaviour; sendmail 8 drops them). Local names (no '@') go
 * through the aliases file, then get '@maildomain'; a local name left
 * without a domain is an error (ERR_NOUSER). Duplicates are dropped (the
 * local part compared exactly, the domain ignoring case). Every address is
 * checked before any connection: one that begins with '-' or holds a
 * control character (CR, LF, NUL, ...) or '<' '>' is refused (ERR_DATAERR)
 * naming where it came from.
 *
 * Sender: -f (or the From: field with --read-envelope-from), else the
 * account's 'from'. With allow_from_override off an account's 'from' wins
 * over -f (and from_full_name over -F). The account: -a, else the first
 * whose 'from' matches the sender (account_select_by_from()), else the
 * default one.
 *
 * Header (envelope_header_hook(), the message_opts hook): Bcc and
 * Resent-Bcc removed (always with -t; else unless remove_bcc_headers off);
 * with undisclosed_recipients, To, Cc and Bcc replaced by
 * "To: undisclosed-recipients:;"; a From: field from the sender and -F or
 * from_full_name (set_from_header auto: when missing; on: always); a
 * missing Date: (set_date_header) and Message-ID: (set_msgid_header)
 * added. A header field holding a NUL byte is refused (ERR_DATAERR).
 */
#ifndef YUBIN_ENVELOPE_H
#define YUBIN_ENVELOPE_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "account.h"
#include "address.h"
#include "mailenv.h"

struct config;
struct error;
struct headers;
struct message_opts;
struct options;

struct envelope_job {
	const struct options *opt;	/* not owned */
	const struct config *cfg;	/* not owned */
	struct account acct;		/* valid once selected */
	bool selected;
	char *want_sender;		/* from -f or the From: field */
	bool have_want;			/* want_sender is set ("" is <>) */
	char *sender;			/* the envelope sender ("" is <>) */
	char *fullname;			/* for a From: field, or NULL */
	struct address_list rcpt;	/* recipients so far, then final */
	bool headers_read;		/* the hook ran */
	struct envelope env;		/* for session_send(), once finished */
	time_t now;			/* for Date:; 0 is time(NULL) */
};

void envelope_job_init(struct envelope_job *j, const struct options *o,
    const struct config *c);
void envelope_job_release(struct envelope_job *j);

/*
 * Before the message is read: the command line's sender and recipients,
 * and the account when it does not depend on the message
 * (--read-envelope-from). ERR_USAGE "no recipients given" without -t and
 * operands; "cannot use both -f and --read-envelope-from".
 */
int envelope_begin(struct envelope_job *j, struct error *err);

/* Whether the message must be read to know the envelope (-t, -bv). */
bool envelope_needs_message(const struct envelope_job *j);

/* Fill the header hook of mo (and strip_nul). */
void envelope_message_opts(struct envelope_job *j, struct message_opts *mo);

/* The header hook: see above. arg is the struct envelope_job. */
int envelope_header_hook(struct headers *h, void *arg, struct error *err);

/*
 * After the message was read (or without it for -bv): aliases,
 * maildomain, duplicates, the final checks; fills j->env. ERR_USAGE "no
 * recipients given" / "no recipients found in the message's To, Cc and
 * Bcc fields or on the command line".
 */
int envelope_finish(struct envelope_job *j, struct error *err);

/* -bv: "bob@example.org... deliverable: account work, host h" per line. */
void envelope_print_verify(const struct envelope_job *j, FILE *f);

#endif
