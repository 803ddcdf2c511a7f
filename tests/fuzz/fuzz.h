/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz.h -- what the libFuzzer targets in tests/fuzz/fuzz-*.c share.
 *
 * Each target is one LLVMFuzzerTestOneInput() over one parser of src/,
 * linked against libyubin.a. It must not crash, leak, call exit(), touch
 * the network or any file outside fuzz_tmpdir(); and it checks the
 * invariants its parser promises with FUZZ_CHECK, which prints what broke
 * and aborts (libFuzzer reports an abort as a crash, replay.c as a failed
 * input).
 *
 * The same file builds two ways: with replay.c (a main() that feeds it
 * files; gcc, make check) and with clang -fsanitize=fuzzer (make fuzz).
 */
#ifndef YUBIN_FUZZ_H
#define YUBIN_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct envelope;
struct smtp;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: when cond is false, print file:line and the message, abort. */
#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

void fuzz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/* data[0..size) as a NUL-terminated heap string (free() it). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/*
 * A private scratch directory (mode 0700) under fuzz_tmpbase(), made on
 * first use and removed at exit. fuzz_tmpbase() is $FUZZ_TMPDIR when set
 * (replay.c sets it, and removes it, so that a crashed input leaves
 * nothing behind), else /dev/shm when there is one (fsync costs nothing
 * there), else $TMPDIR or /tmp.
 */
const char *fuzz_tmpdir(void);
const char *fuzz_tmpbase(void);
void fuzz_rm_tree(const char *path);

/*
 * A line reader over a fuzz input: the next line (without its LF, and
 * without one CR before it) in *line / *len; false at the end.
 */
struct fuzz_lines {
	const char *p, *end;
};

void fuzz_lines_init(struct fuzz_lines *l, const uint8_t *data, size_t size);
bool fuzz_lines_next(struct fuzz_lines *l, const char **line, size_t *len);

/* A DSN NOTIFY value: NEVER, or a list of SUCCESS, FAILURE, DELAY. */
bool fuzz_notify_ok(const char *v, size_t n);

/*
 * The wire invariants of the SMTP client: check and empty s->out, what the
 * state machine wants to send. wire keeps track across calls (which RCPT
 * comes next); fuzz_wire_begin() before each smtp_mail() with the envelope
 * as it was handed to smtp_mail().
 *
 *  - s->out is whole lines, each ending in CRLF, with no other CR, LF or
 *    NUL; ASCII only unless the server offered SMTPUTF8;
 *  - MAIL FROM:<a> / RCPT TO:<a>: a has no '<', '>', CR, LF, NUL, nor a
 *    space outside a quoted local part; it is the envelope's address (or,
 *    without SMTPUTF8, the same local part and a domain of letters, digits,
 *    '-' and '.'); after it come only the parameters yubin adds (SIZE=,
 *    BODY=8BITMIME, SMTPUTF8, RET=, ENVID=; NOTIFY=, ORCPT=), each at most
 *    once, well-formed, only when the server offered the extension and the
 *    envelope asked for it;
 *  - no MAIL, RCPT, DATA, BDAT or AUTH in clear text when STARTTLS is
 *    required; no PLAIN, LOGIN, XOAUTH2, OAUTHBEARER in clear text at all;
 *    no BDAT without CHUNKING.
 */
struct fuzz_wire {
	const struct envelope *env;	/* the current transaction's, or NULL */
	size_t next_rcpt;		/* index of the next RCPT TO expected */
	bool mail_seen;
	bool utf8;			/* MAIL FROM had SMTPUTF8 */
};

void fuzz_wire_begin(struct fuzz_wire *w, const struct envelope *env);
void fuzz_wire_check(struct fuzz_wire *w, struct smtp *s);

/*
 * Send env (as a queue file or the command line would) through a state
 * machine brought up against a server with the given EHLO keywords, all
 * replies 250 (354 to DATA), checking the wire at each step.
 */
void fuzz_smtp_send(const struct envelope *env, const char *ehlo_keywords,
    bool eightbit, bool utf8_header);

#endif
