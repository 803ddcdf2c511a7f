/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-envelope.c -- envelope.h (recipients, sender, account, header
 * policy), aliases.h, and both together with message_spool() as main.c
 * drives them: the command lines real clients use (see the table in
 * HACKING.md's test environment notes), msmtp's keys, option injection,
 * aliases, -bv, and random input with -t.
 *
 * YUBIN_TEST_SEED=N repeats a randomized run.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aliases.h"
#include "cli.h"
#include "config.h"
#include "envelope.h"
#include "error.h"
#include "headers.h"
#include "message.h"
#include "util.h"
#include "tap.h"
#include "testutil.h"

static char tmpdir[] = "/tmp/yubin-test-envelope.XXXXXX";
static char aliases_path[256];

#define BASE "defaults\nhost mail.example.org\ntls off\n" \
	"account work\nfrom alice@example.test\n"

/* ---------------------------------------------------------------- runner */

struct run {
	const char *config;	/* the file (fmemopen) */
	const char *const *argv;	/* after "yubin", NULL-terminated */
	const char *in;		/* stdin; NULL: not read */
	bool envelope_from;	/* --read-envelope-from */
	/* results */
	int rc;
	struct error err;
	char rcpt[1024];	/* recipients joined with "|" */
	char sender[256];
	char account[64];
	char msg[8192];		/* the spool file */
	char dsn_notify[32], dsn_return[8];
	size_t inlen;		/* bytes of in; 0: strlen(in) */
};

static int
load_config(struct config *c, const char *text, struct error *err)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	int rc;

	config_init(c);
	rc = config_parse(c, f, "test.rc", err);
	fclose(f);
	return rc;
}

static int
input_fd(const char *data, size_t len)
{
	return test_data_fd(tmpdir, data, len);
}

static int
spool(struct envelope_job *j, struct run *r)
{
	struct message_opts mo = { .spool_dir = tmpdir };
	struct message m;
	int fd = input_fd(r->in, r->inlen != 0 ? r->inlen : strlen(r->in));
	int rc;
	ssize_t n;

	envelope_message_opts(j, &mo);
	message_init(&m);
	rc = message_spool(&m, fd, &mo, &r->err);
	close(fd);
	if (rc == 0) {
		n = read(m.fd, r->msg, sizeof(r->msg) - 1);
		r->msg[n > 0 ? n : 0] = '\0';
	}
	message_release(&m);
	return rc;
}

static void
collect(const struct envelope_job *j, struct run *r)
{
	size_t n = 0;

	for (size_t i = 0; i < j->rcpt.n; i++)
		n += (size_t)snprintf(r->rcpt + n, sizeof(r->rcpt) - n, "%s%s",
		    i > 0 ? "|" : "", j->rcpt.addr[i]);
	snprintf(r->sender, sizeof(r->sender), "%s",
	    j->sender != NULL ? j->sender : "(null)");
	snprintf(r->account, sizeof(r->account), "%s",
	    j->selected ? j->acct.name : "(none)");
	snprintf(r->dsn_notify, sizeof(r->dsn_notify), "%s",
	    j->env.dsn_notify != NULL ? j->env.dsn_notify : "(null)");
	snprintf(r->dsn_return, sizeof(r->dsn_return), "%s",
	    j->env.dsn_return != NULL ? j->env.dsn_return : "(null)");
}

/* As main.c: cli, config, envelope_begin, spool, envelope_finish. */
static int
run(struct run *r)
{
	char *argv[32];
	int argc = 0;
	struct options o;
	struct config c;
	struct envelope_job j;

	argv[argc++] = (char *)"yubin";
	for (size_t i = 0; r->argv[i] != NULL; i++)
		argv[argc++] = (char *)r->argv[i];
	argv[argc] = NULL;
	error_init(&r->err);
	r->rcpt[0] = r->msg[0] = '\0';
	if (cli_parse(&o, argc, argv, &r->err) < 0 ||
	    load_config(&c, r->config, &r->err) < 0)
		return r->rc = -1;
	o.read_envelope_from = r->envelope_from;
	envelope_job_init(&j, &o, &c);
	j.now = 1795600801;
	r->rc = envelope_begin(&j, &r->err);
	if (r->rc == 0 && r->in != NULL)
		r->rc = spool(&j, r);
	if (r->rc == 0)
		r->rc = envelope_finish(&j, &r->err);
	collect(&j, r);
	envelope_job_release(&j);
	config_release(&c);
	return r->rc;
}

#define ARGS(...) (const char *const[]){ __VA_ARGS__, NULL }

static bool
has_line(const char *msg, const char *line)
{
	const char *p = msg;
	size_t n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == msg || p[-1] == '\n') && strncmp(p + n, "\r\n", 2) == 0)
			return true;
		p++;
	}
	return false;
}

/* The header section of r->msg (up to the empty line). */
static size_t
count_field(const char *msg, const char *name)
{
	size_t n = 0, len = strlen(name);
	const char *end = strstr(msg, "\r\n\r\n"), *p = msg;

	if (end == NULL)
		end = msg + strlen(msg);
	for (; p != NULL && p < end; p = strstr(p, "\r\n")) {
		if (p != msg)
			p += 2;
		if (strncasecmp(p, name, len) == 0 && p[len] == ':')
			n++;
		if (p == msg)
			p++;
	}
	return n;
}

/* ---------------------------------------------------------------- clients */

static void
test_mutt(void)
{
	struct run r = { .config = BASE, .argv = ARGS("--",
	    "rcpt@example.org"), .in = "From: Alice <alice@example.test>\n"
	    "To: rcpt@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "Message-ID: <m@example.test>\nSubject: hi\n\nbody\n" };

	ok(run(&r) == 0, "mutt: ok");
	is_str(r.rcpt, "rcpt@example.org", "mutt: recipient");
	is_str(r.sender, "alice@example.test", "mutt: sender from 'from'");
	is_str(r.msg, "From: Alice <alice@example.test>\r\nTo: "
	    "rcpt@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
	    "Message-ID: <m@example.test>\r\nSubject: hi\r\n\r\nbody\r\n",
	    "mutt: complete message unchanged");

	r = (struct run){ .config = BASE, .argv = ARGS("-oi", "-t", "--",
	    "Rcpt@Example.ORG"), .in = "To: Rcpt@example.org\n"
	    "Cc: Other <other@example.org>\n\nx\n" };
	ok(run(&r) == 0, "mutt -oi -t -- rcpt: ok");
	is_str(r.rcpt, "Rcpt@Example.ORG|other@example.org",
	    "mutt -t: recipient in argv and To: once (domain case ignored)");

	r = (struct run){ .config = BASE, .argv = ARGS("-f",
	    "alice@example.test", "-N", "failure,delay", "-R", "hdrs", "--",
	    "a@x.org", "b@x.org"), .in = "Subject: x\n\nb\n" };
	ok(run(&r) == 0 && strcmp(r.rcpt, "a@x.org|b@x.org") == 0,
	    "mutt DSN: ok");
	is_str(r.dsn_notify, "FAILURE,DELAY", "mutt DSN: -N");
	is_str(r.dsn_return, "HDRS", "mutt DSN: -R");
}

static void
test_mailx(void)
{
	struct run r = { .config = BASE, .argv = ARGS("-i", "-t"),
	    .in = "To: a@x.org\nCc: b@y.org\nBcc: Secret <c@z.org>\n"
	    "Subject: s\n\nbody\n" };

	ok(run(&r) == 0, "mailx -i -t: ok");
	is_str(r.rcpt, "a@x.org|b@y.org|c@z.org", "mailx: To, Cc, Bcc");
	ok(strstr(r.msg, "c@z.org") == NULL && count_field(r.msg, "Bcc") == 0,
	    "mailx: Bcc not sent");
	ok(has_line(r.msg, "From: alice@example.test"), "mailx: From added");
	ok(has_line(r.msg, "Date: Wed, 25 Nov 2026 10:00:01 +0000"),
	    "mailx: Date added");
	ok(count_field(r.msg, "Message-ID") == 1 &&
	    strstr(r.msg, "@example.test>\r\n") != NULL,
	    "mailx: Message-ID added with the sender's domain");
	ok(strncmp(r.msg, "From: ", 6) == 0 && strstr(r.msg,
	    "\r\nTo: a@x.org\r\nCc: b@y.org\r\nSubject: s\r\n\r\nbody\r\n")
	    != NULL, "mailx: added fields first, the rest unchanged");

	r = (struct run){ .config = BASE, .argv = ARGS("-t"), .in = "TO: "
	    "a@x.org,\n b@y.org (folded)\nSubject: s\nto: Group: c@z.org, "
	    "\"d e\"@z.org;\nCC: a@X.ORG\n\nb\n" };
	ok(run(&r) == 0 && strcmp(r.rcpt, "a@x.org|b@y.org|c@z.org|"
	    "\"d e\"@z.org") == 0, "-t: every To: counts, any case, folded, "
	    "groups (%s)", r.rcpt);

	r = (struct run){ .config = BASE, .argv = ARGS("-i", "-t", "-f",
	    "bob@example.test"), .in = "To: a@x.org\n\nb\n" };
	ok(run(&r) == 0 && strcmp(r.sender, "bob@example.test") == 0 &&
	    has_line(r.msg, "From: bob@example.test"), "mailx -r: sender "
	    "and From: from -f");
}

static void
test_git(void)
{
	struct run r = { .config = BASE, .argv = ARGS("-f",
	    "alice@example.test", "-i", "list@example.org", "cc@example.org",
	    "bcc@example.org"), .in = "From: Alice <alice@example.test>\n"
	    "To: list@example.org\nCc: cc@example.org\nSubject: [PATCH] x\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <p@x>\n\n"
	    "diff\n" };

	ok(run(&r) == 0, "git send-email: ok");
	is_str(r.rcpt, "list@example.org|cc@example.org|bcc@example.org",
	    "git send-email: operands only (no -t)");
	ok(count_field(r.msg, "From") == 1 && count_field(r.msg, "Date") == 1
	    && count_field(r.msg, "Message-ID") == 1, "git: nothing added");

	r = (struct run){ .config = BASE, .argv = ARGS("-t"),
	    .in = "From 1234abcd Mon Sep 17 00:00:00 2001\nFrom: A "
	    "<a@example.test>\nTo: p@example.org\nSubject: [PATCH]\n\nd\n" };
	ok(run(&r) == 0 && strcmp(r.rcpt, "p@example.org") == 0 &&
	    strstr(r.msg, "From 1234") == NULL, "format-patch file with -t: "
	    "mbox line dropped");
}

/* ---------------------------------------------------------------- headers */

static void
test_resent(void)
{
	struct run r = { .config = BASE, .argv = ARGS("-t"),
	    .in = "Resent-From: a@example.test\nResent-To: r1@x.org\n"
	    "Resent-Cc: r2@x.org\nResent-Bcc: r3@x.org\n"
	    "Received: from x\nResent-To: old@x.org\nTo: orig@x.org\n\nb\n" };

	ok(run(&r) == 0, "resent: ok");
	is_str(r.rcpt, "r1@x.org|r2@x.org|r3@x.org",
	    "resent: first Resent- block only");
	ok(strstr(r.msg, "r3@x.org") == NULL && strstr(r.msg,
	    "Resent-To: old@x.org") != NULL, "resent: Resent-Bcc removed");
}

static void
test_from_field(void)
{
	struct run r = { .config = BASE, .argv = ARGS("-F",
	    "J\xc3\xb6rg Example", "a@x.org"), .in = "Subject: x\n\nb\n" };

	ok(run(&r) == 0 && has_line(r.msg, "From: =?UTF-8?B?SsO2cmcgRXhhbXB"
	    "sZQ==?= <alice@example.test>"), "-F: UTF-8 name encoded");
	r = (struct run){ .config = BASE, .argv = ARGS("-F", "Doe, John",
	    "a@x.org"), .in = "Subject: x\n\nb\n" };
	ok(run(&r) == 0 && has_line(r.msg, "From: \"Doe, John\" "
	    "<alice@example.test>"), "-F: specials quoted");
	r = (struct run){ .config = BASE, .argv = ARGS("-F", "Eve\nBcc: "
	    "x@y.org", "a@x.org"), .in = "Subject: x\n\nb\n" };
	ok(run(&r) == -1 && r.err.kind == ERR_DATAERR, "-F: newline refused");
	is_str(r.err.message, "the full name (-F or from_full_name) contains "
	    "a control character (0x0a)", "-F: newline message");
	r = (struct run){ .config = BASE "from_full_name Alice A\n",
	    .argv = ARGS("a@x.org"), .in = "Subject: x\n\nb\n" };
	ok(run(&r) == 0 && has_line(r.msg, "From: Alice A "
	    "<alice@example.test>"), "from_full_name");
	r = (struct run){ .config = BASE, .argv = ARGS("-f", "<>", "a@x.org"),
	    .in = "Subject: x\n\nb\n" };
	ok(run(&r) == 0 && strcmp(r.sender, "") == 0 &&
	    count_field(r.msg, "From") == 0, "-f <>: null sender, no From:");
	r = (struct run){ .config = BASE, .argv = ARGS("-f",
	    "Bob <bob@example.test>", "a@x.org"), .in = "S: x\n\nb\n" };
	ok(run(&r) == 0 && strcmp(r.sender, "bob@example.test") == 0,
	    "-f with a display name");
	r = (struct run){ .config = BASE, .argv = ARGS("-f", "a@x.org, "
	    "b@x.org", "a@x.org"), .in = "S: x\n\nb\n" };
	ok(run(&r) == -1 && r.err.kind == ERR_USAGE, "-f with two addresses");
}

static void
test_keys(void)
{
	struct run r = { .config = BASE "set_from_header on\n"
	    "set_date_header off\nset_msgid_header off\n",
	    .argv = ARGS("a@x.org"), .in = "From: Mallory <m@evil.test>\n"
	    "from: second@evil.test\n\nb\n" };

	ok(run(&r) == 0 && count_field(r.msg, "From") == 1 &&
	    has_line(r.msg, "From: alice@example.test") &&
	    count_field(r.msg, "Date") == 0 &&
	    count_field(r.msg, "Message-ID") == 0,
	    "set_from_header on replaces; date/msgid off");
	r = (struct run){ .config = BASE "set_from_header off\n",
	    .argv = ARGS("a@x.org"), .in = "Subject: x\n\nb\n" };
	ok(run(&r) == 0 && count_field(r.msg, "From") == 0,
	    "set_from_header off");
	r = (struct run){ .config = BASE "undisclosed_recipients on\n",
	    .argv = ARGS("-t"), .in = "To: a@x.org\nCc: b@x.org\n"
	    "Bcc: c@x.org\nSubject: x\n\nb\n" };
	ok(run(&r) == 0 && strcmp(r.rcpt, "a@x.org|b@x.org|c@x.org") == 0,
	    "undisclosed: envelope keeps the recipients");
	ok(count_field(r.msg, "To") == 1 && count_field(r.msg, "Cc") == 0 &&
	    count_field(r.msg, "Bcc") == 0 && has_line(r.msg,
	    "To: undisclosed-recipients:;"), "undisclosed: one To: field");
	r = (struct run){ .config = BASE "remove_bcc_headers off\n",
	    .argv = ARGS("a@x.org"), .in = "Bcc: c@x.org\n\nb\n" };
	ok(run(&r) == 0 && count_field(r.msg, "Bcc") == 1,
	    "remove_bcc_headers off: Bcc kept without -t");
	r = (struct run){ .config = BASE "remove_bcc_headers off\n",
	    .argv = ARGS("-t"), .in = "Bcc: c@x.org\n\nb\n" };
	ok(run(&r) == 0 && count_field(r.msg, "Bcc") == 0,
	    "remove_bcc_headers off: Bcc removed with -t all the same");
	r = (struct run){ .config = BASE "dsn_notify success\n"
	    "dsn_return full\n", .argv = ARGS("a@x.org"), .in = "S: x\n\nb\n" };
	ok(run(&r) == 0 && strcmp(r.dsn_notify, "SUCCESS") == 0 &&
	    strcmp(r.dsn_return, "FULL") == 0, "dsn keys as defaults");
	r.argv = ARGS("-N", "never", "a@x.org");
	ok(run(&r) == 0 && strcmp(r.dsn_notify, "NEVER") == 0 &&
	    strcmp(r.dsn_return, "FULL") == 0, "-N wins over dsn_notify");
	r = (struct run){ .config = BASE "maildomain example.net\n",
	    .argv = ARGS("a@x.org"), .in = "S: x\n\nb\n" };
	ok(run(&r) == 0 && strstr(r.msg, "@example.test>") != NULL,
	    "Message-ID: the sender's domain before maildomain");
}

/* ---------------------------------------------------------------- sender */

#define ACCOUNTS "defaults\nhost h.example\ntls off\n" \
	"account work\nfrom bob@work.example\n" \
	"account home\nfrom bob@home.example\nhost home.example\n" \
	"account any\nfrom *@wild.example\n" \
	"account strict\nfrom boss@work.example\nallow_from_override off\n" \
	"from_full_name The Boss\n" \
	"account spat\nfrom *@pat.example\nallow_from_override off\n" \
	"account default : work\n"

static void
test_sender(void)
{
	struct run r = { .config = ACCOUNTS, .argv = ARGS("-f",
	    "bob@home.example", "x@y.org") };

	ok(run(&r) == 0 && strcmp(r.account, "home") == 0,
	    "-f picks the account whose from matches");
	r.argv = ARGS("-f", "me@wild.example", "x@y.org");
	ok(run(&r) == 0 && strcmp(r.account, "any") == 0 &&
	    strcmp(r.sender, "me@wild.example") == 0, "-f and a pattern");
	r.argv = ARGS("-a", "any", "x@y.org");
	ok(run(&r) == -1 && r.err.kind == ERR_CONFIG, "pattern without -f");
	is_str(r.err.message, "account 'any' has the pattern 'from "
	    "*@wild.example': give the envelope sender with -f", "pattern "
	    "without -f: message");
	r.argv = ARGS("-a", "strict", "-f", "eve@evil.test", "-F", "Eve",
	    "x@y.org");
	r.in = "S: x\n\nb\n";
	ok(run(&r) == 0 && strcmp(r.sender, "boss@work.example") == 0 &&
	    has_line(r.msg, "From: The Boss <boss@work.example>"),
	    "allow_from_override off: -f and -F ignored");
	r.in = NULL;
	r.argv = ARGS("-a", "spat", "-f", "x@pat.example", "x@y.org");
	ok(run(&r) == 0 && strcmp(r.sender, "x@pat.example") == 0,
	    "override off, pattern: a matching -f is used");
	r.argv = ARGS("-a", "spat", "-f", "x@evil.test", "x@y.org");
	ok(run(&r) == -1 && r.err.kind == ERR_DATAERR, "override off, "
	    "pattern: -f that does not match refused");
	r = (struct run){ .config = ACCOUNTS, .argv = ARGS("-t"),
	    .envelope_from = true, .in = "From: Bob <bob@home.example>\n"
	    "To: x@y.org\n\nb\n" };
	ok(run(&r) == 0 && strcmp(r.account, "home") == 0 &&
	    strcmp(r.sender, "bob@home.example") == 0,
	    "--read-envelope-from: sender and account from From:");
	r.in = "To: x@y.org\n\nb\n";
	ok(run(&r) == -1 && r.err.kind == ERR_DATAERR, "--read-envelope-from "
	    "without From: refused");
	r.argv = ARGS("-f", "a@b.org", "x@y.org");
	ok(run(&r) == -1 && r.err.kind == ERR_USAGE, "-f and "
	    "--read-envelope-from together refused");
	r = (struct run){ .config = "account a\nhost h\nfrom root\n"
	    "maildomain example.org\n", .argv = ARGS("x@y.org") };
	ok(run(&r) == 0 && strcmp(r.sender, "root@example.org") == 0,
	    "local sender gets the maildomain");
	r = (struct run){ .config = "account a\nhost h\n",
	    .argv = ARGS("x@y.org") };
	ok(run(&r) == -1 && r.err.kind == ERR_CONFIG && strstr(r.err.message,
	    "no envelope sender") != NULL, "no sender at all");
}

/* ---------------------------------------------------------------- checks */

struct refusal {
	const char *name;
	const char *const *argv;
	const char *in;
	enum error_kind kind;
	const char *want;
};

static void
test_refusals(void)
{
	const struct refusal t[] = {
		{ "argv with '-'", ARGS("--", "-oQ@x.org"), NULL, ERR_DATAERR,
		    "recipient '-oQ@x.org' on the command line begins with "
		    "'-'" },
		{ "argv with LF", ARGS("a@x.org\nRCPT TO:<b@x.org>"), NULL,
		    ERR_DATAERR, "recipient 'a@x.org\\x0aRCPT TO:<b@x.org>' "
		    "contains a line break" },
		{ "header with '-'", ARGS("-t"), "To: -x@y.org\n\nb\n",
		    ERR_DATAERR, "recipient '-x@y.org' in the 'To:' header "
		    "begins with '-'" },
		{ "malformed Cc", ARGS("-t"), "Cc: John Doe j@x.org\n\nb\n",
		    ERR_DATAERR, "malformed address in 'Cc:' header: "
		    "unexpected 'Doe' after an address at offset 6" },
		{ "quoted '<' in a header", ARGS("-t"),
		    "To: \"<x>\"@y.org\n\nb\n", ERR_DATAERR, "recipient "
		    "'\"<x>\"@y.org' in the 'To:' header contains '<' or "
		    "'>'" },
		{ "no recipients", ARGS("-i"), NULL, ERR_USAGE,
		    "no recipients given" },
		{ "-t without any", ARGS("-t"), "Subject: x\n\nb\n",
		    ERR_USAGE, "no recipients found in the message's To, Cc "
		    "and Bcc fields or on the command line" },
		{ "-t, only undisclosed", ARGS("-t"),
		    "To: undisclosed-recipients:;\n\nb\n", ERR_USAGE,
		    "no recipients found in the message's To, Cc and Bcc "
		    "fields or on the command line" },
		{ "local name", ARGS("root"), NULL, ERR_NOUSER,
		    "recipient 'root' has no domain and no alias: set "
		    "'aliases' or 'maildomain' in test.rc" },
		{ "empty input", ARGS("a@x.org"), "", ERR_DATAERR,
		    "no message on standard input" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct run r = { .config = BASE, .argv = t[i].argv,
		    .in = t[i].in };

		int rc = run(&r);

		ok(rc == -1 && r.err.kind == t[i].kind, "%s: refused (kind "
		    "%d)", t[i].name, r.err.kind);
		is_str(r.err.message, t[i].want, "%s: message", t[i].name);
	}
}

/* NUL bytes in header fields: refused, naming the field. */
static void
test_nul_header(void)
{
	static const char to[] = "To: a@x.org\0, -b@y.org\n\nb\n";
	static const char subj[] = "Subject: a\0b\n\nb\0c\n";
	struct run r = { .config = BASE, .argv = ARGS("-t"), .in = to,
	    .inlen = sizeof(to) - 1 };

	ok(run(&r) == -1 && r.err.kind == ERR_DATAERR, "NUL inside To: "
	    "refused");
	is_str(r.err.message, "malformed address in 'To:' header: NUL byte "
	    "at offset 8", "NUL inside To: message names the header");
	r = (struct run){ .config = BASE, .argv = ARGS("a@x.org"), .in = subj,
	    .inlen = sizeof(subj) - 1 };
	ok(run(&r) == -1 && r.err.kind == ERR_DATAERR, "NUL in Subject: "
	    "refused");
	is_str(r.err.message, "NUL byte in the 'Subject:' header",
	    "NUL in Subject: message");
}

/* ---------------------------------------------------------------- aliases */

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		bail_out("%s: %s", path, strerror(errno));
}

static void
test_aliases_file(void)
{
	struct aliases *a;
	struct address_list l;
	struct error err;
	FILE *f;

	static const char text[] = "# cron mail\nroot: joe@x.org, "
	    "admin # both\nadmin: Ann <ann@y.org>,\n  ops\n\nops: "
	    "ops@z.org\nself: self, me@x.org\nloop1: loop2\nloop2: loop1\n"
	    "pipe: |/usr/bin/procmail\nDefault: d@x.org\n";

	error_init(&err);
	f = fmemopen((void *)(uintptr_t)text, sizeof(text) - 1, "r");
	ok(aliases_parse(&a, f, "al", &err) == 0, "aliases parse: %s",
	    err.message);
	fclose(f);
	address_list_init(&l);
	ok(aliases_expand(a, "ROOT", &l, &err) == 0 && l.n == 3 &&
	    strcmp(l.addr[0], "joe@x.org") == 0 && strcmp(l.addr[1],
	    "ann@y.org") == 0 && strcmp(l.addr[2], "ops@z.org") == 0,
	    "expand: nested, continuation, comment, case");
	address_list_release(&l);
	ok(aliases_expand(a, "cron", &l, &err) == 0 && l.n == 1 &&
	    strcmp(l.addr[0], "d@x.org") == 0, "expand: default entry");
	address_list_release(&l);
	ok(aliases_expand(a, "self", &l, &err) == 0 && l.n == 2 &&
	    strcmp(l.addr[0], "self") == 0, "expand: self stays local");
	address_list_release(&l);
	ok(aliases_expand(a, "loop1", &l, &err) == 0 && l.n == 1 &&
	    strcmp(l.addr[0], "loop1") == 0, "expand: a loop ends");
	address_list_release(&l);
	ok(aliases_expand(a, "pipe", &l, &err) == -1 &&
	    err.kind == ERR_NOUSER, "expand: pipe refused");
	is_str(err.message, "alias 'pipe' (al:10) expands to "
	    "'|/usr/bin/procmail', which yubin cannot deliver to (only to "
	    "addresses)", "expand: pipe message");
	address_list_release(&l);
	aliases_free(a);
}

static void
alias_fails(const char *text, const char *want, const char *name)
{
	struct aliases *a = (struct aliases *)1;
	struct error err;
	FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");

	error_init(&err);
	ok(aliases_parse(&a, f, "al", &err) == -1 && a == NULL &&
	    err.kind == ERR_CONFIG, "%s: refused", name);
	is_str(err.message, want, "%s: message", name);
	fclose(f);
}

static void
test_aliases_errors(void)
{
	struct aliases *a;
	struct address_list l;
	struct error err;
	char deep[2048];
	size_t n = 0;
	FILE *f;

	alias_fails("root joe@x.org\n", "al:1: expected 'name: address, ...'",
	    "no colon");
	alias_fails("a: x@y.org\n\nA: z@y.org\n", "al:3: duplicate alias 'A' "
	    "(first at line 1)", "duplicate");
	alias_fails("a@b: x@y.org\n", "al:1: invalid alias name 'a@b'",
	    "name with '@'");
	alias_fails("a:\n", "al:1: alias 'a' has no address", "empty");
	alias_fails("a: John Doe j@x.org\n", "al:1: alias 'a': malformed "
	    "address 'John Doe j@x.org': unexpected 'Doe' after an address "
	    "at offset 5", "malformed address");
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n,
		    "a%d: a%d\n", i, i + 1);
	f = fmemopen(deep, n, "r");
	ok(aliases_parse(&a, f, "al", &err) == 0, "deep chain parses");
	fclose(f);
	address_list_init(&l);
	ok(aliases_expand(a, "a0", &l, &err) == -1 && err.kind == ERR_CONFIG,
	    "deep chain refused");
	is_str(err.message, "aliases file 'al': alias 'a16' nested more than "
	    "16 levels", "deep chain message");
	address_list_release(&l);
	aliases_free(a);
	ok(aliases_load(&a, "/nonexistent/aliases", &err) == -1 &&
	    err.kind == ERR_CONFIG, "missing file: %s", err.message);
}

static void
test_aliases_send(void)
{
	char *conf = xasprintf(BASE "aliases %s\n", aliases_path);
	char *conf2 = xasprintf(BASE "aliases %s\nmaildomain example.net\n",
	    aliases_path);
	struct run r = { .config = conf, .argv = ARGS("-t"),
	    .in = "To: root\nCc: joe@x.org\n\nb\n" };

	write_file(aliases_path, "root: joe@x.org, admin\nadmin: "
	    "a@y.org\n");
	ok(run(&r) == 0, "aliases: cron mail to root");
	is_str(r.rcpt, "joe@x.org|a@y.org", "aliases: expanded, duplicate "
	    "dropped");
	ok(has_line(r.msg, "To: root"), "aliases: To: field unchanged");
	r = (struct run){ .config = conf, .argv = ARGS("nobody") };
	ok(run(&r) == -1 && r.err.kind == ERR_NOUSER, "aliases: unknown name");
	ok(strstr(r.err.message, "recipient 'nobody' has no domain and no "
	    "alias in '/") == r.err.message && strstr(r.err.message, "': add "
	    "one, or set 'maildomain' in test.rc") != NULL,
	    "aliases: unknown name: %s", r.err.message);
	r = (struct run){ .config = conf2, .argv = ARGS("nobody", "root") };
	ok(run(&r) == 0 && strcmp(r.rcpt, "nobody@example.net|joe@x.org|"
	    "a@y.org") == 0, "aliases + maildomain");
	write_file(aliases_path, "root: -oQ@x.org\n");
	r = (struct run){ .config = conf, .argv = ARGS("root") };
	ok(run(&r) == -1 && r.err.kind == ERR_DATAERR, "alias to '-...' "
	    "refused");
	is_str(r.err.message, "recipient '-oQ@x.org' from alias 'root' "
	    "begins with '-'", "alias to '-...' message");
	r = (struct run){ .config = BASE "maildomain example.net\n",
	    .argv = ARGS("root") };
	ok(run(&r) == 0 && strcmp(r.rcpt, "root@example.net") == 0,
	    "maildomain alone");
	free(conf);
	free(conf2);
}

/* -bv prints one line per recipient and reads nothing without -t. */
static void
test_verify(void)
{
	struct options o;
	struct config c;
	struct envelope_job j;
	struct error err;
	char *argv[] = { (char *)"yubin", (char *)"-bv", (char *)"a@x.org",
	    (char *)"Bob <b@y.org>", NULL };
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	error_init(&err);
	cli_parse(&o, 4, argv, &err);
	load_config(&c, BASE, &err);
	envelope_job_init(&j, &o, &c);
	ok(!envelope_needs_message(&j) && envelope_begin(&j, &err) == 0 &&
	    envelope_finish(&j, &err) == 0, "-bv: no message needed");
	envelope_print_verify(&j, f);
	fclose(f);
	is_str(buf, "a@x.org... deliverable: account work, host "
	    "mail.example.org\nb@y.org... deliverable: account work, host "
	    "mail.example.org\n", "-bv: output");
	envelope_job_release(&j);
	config_release(&c);
}

/* ---------------------------------------------------------------- random */

/* Random messages with -t: success or a clean refusal, never a crash. */
static void
test_random(void)
{
	static const char *const pieces[] = {
		"To: ", "Cc: ", "Bcc: ", "Resent-To: ", "From: ", "a@x.org",
		"<b@y.org>", "\"q\"", "(c)", ",", ";", ":", "\n", "\n ", " ",
		"root", "-", "\r", "\0", "\xff", "Date: x", "@", ".", "\n\n",
	};
	static char in[600];
	size_t good = 0, bad = 0, odd = 0;

	test_rng_seed(TEST_RNG_SEED);
	for (int i = 0; i < 1500; i++) {
		struct run r = { .config = BASE "maildomain example.net\n",
		    .argv = ARGS("-t"), .in = in };
		size_t n = 0, k = 1 + test_rng_below(30);

		for (size_t p = 0; p < k; p++) {
			const char *s = pieces[test_rng_below(ARRAY_SIZE(pieces))];

			n += (size_t)snprintf(in + n, sizeof(in) - n, "%s", s);
		}
		if (run(&r) == 0)
			good++;
		else if (r.err.kind == ERR_DATAERR || r.err.kind == ERR_USAGE)
			bad++;
		else
			odd++;
	}
	ok(odd == 0, "random -t: %zu sent, %zu refused, %zu odd", good, bad,
	    odd);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		bail_out("mkdtemp: %s", strerror(errno));
	snprintf(aliases_path, sizeof(aliases_path), "%s/aliases", tmpdir);
	setenv("TZ", "UTC", 1);
	tzset();
	test_mutt();
	test_mailx();
	test_git();
	test_resent();
	test_from_field();
	test_keys();
	test_sender();
	test_refusals();
	test_nul_header();
	test_aliases_file();
	test_aliases_errors();
	test_aliases_send();
	test_verify();
	test_random();
	unlink(aliases_path);
	rmdir(tmpdir);
	return done_testing();
}
