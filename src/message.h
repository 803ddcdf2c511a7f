/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * message.h -- the message as it travels: stdin is copied to a private spool
 * file (mode 0600) before any connection is made, in canonical form: every
 * line ending (LF, CRLF, or a bare CR) becomes CRLF and the last line is
 * terminated. Memory stays flat whatever the size; SIZE is known exactly;
 * a slow producer never meets a server timeout; a retry or the queue has
 * the bytes.
 */
#ifndef YUBIN_MESSAGE_H
#define YUBIN_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct error;
struct headers;

struct message {
	int fd;			/* spool file, -1 when none */
	char *path;		/* its name (NULL if it was unlinked at once) */
	off_t offset;		/* where the message starts in fd (0 for a
				   spool; after the envelope in a queue file) */
	off_t size;		/* message bytes (canonical CRLF form) */
	bool eightbit;		/* some byte >= 0x80 */
	bool utf8_header;	/* some header field has a byte >= 0x80
				   (RFC 6532: wants SMTPUTF8) */
	bool has_nul;		/* some NUL byte */
	size_t max_line;	/* longest line in octets, without CRLF */
	bool keep;		/* do not unlink on release (queued) */
	size_t nul_removed;	/* NUL bytes dropped from the body */
	bool dot_removed;	/* the last line, ".", ended the message */
};

/*
 * What a line holding only "." means in the input (message_spool() picks
 * LAST or ENDS when dot_ends is set, by whether the input is a terminal).
 */
enum message_dot {
	MESSAGE_DOT_TEXT,	/* text like any other line (-i, -oi) */
	MESSAGE_DOT_ENDS,	/* ends the input at once (a terminal) */
	MESSAGE_DOT_LAST,	/* removed when it is the last line (the
				   classic terminator); text when more input
				   follows it (a pipe or a file) */
};

struct message_opts {
	bool dot_ends;		/* a line holding only "." ends the message
				   (sendmail's default; false with -i/-oi):
				   on a terminal at once (MESSAGE_DOT_ENDS),
				   else only as the last line
				   (MESSAGE_DOT_LAST): input is never lost */
	const char *spool_dir;	/* NULL: message_spool_dir() */
	/*
	 * Optional. When set, the header section (see headers.h for where it
	 * ends; at most HEADERS_MAX bytes, else ERR_DATAERR "header section
	 * larger than 1 MiB") is held back, split into fields and handed to
	 * header_hook, which may read, remove and add fields; -1 fails the
	 * spool with the hook's error. The fields are then written in their
	 * new order, followed by the body as it came (streamed: memory stays
	 * flat for the body). When the input has no header section, or it
	 * ends at a line that is not a field, an empty line is put between
	 * the fields written and the body (unless no field is written at all).
	 * Empty input never reaches the hook.
	 */
	int (*header_hook)(struct headers *h, void *arg, struct error *err);
	void *hook_arg;
	bool strip_nul;		/* drop NUL bytes from the body (they are
				   not allowed in SMTP), counted in
				   nul_removed; has_nul then reports NUL
				   bytes left in header fields only */
};

void message_init(struct message *m);

/*
 * Copy infd to a new spool file, normalising line endings, and leave m->fd
 * open at offset 0. Empty input: ERR_DATAERR "no message on standard
 * input". Read error: ERR_IOERR. Cannot create/write the spool: ERR_CANTCREAT
 * / ERR_IOERR naming the file, but ERR_TEMP when the disk is full (ENOSPC,
 * EDQUOT: try again later). The file is fsync'd before returning.
 */
int message_spool(struct message *m, int infd, const struct message_opts *o,
    struct error *err);

/*
 * The spool directory: $XDG_STATE_HOME/yubin/queue/tmp (default
 * ~/.local/state/yubin/queue/tmp), created with mode 0700 as needed, and
 * checked as the queue checks it: queue/ and tmp/ no symbolic links, ours,
 * not writable by others (else ERR_CANTCREAT). When it cannot be created,
 * falls back to $TMPDIR (or /tmp). Writes into buf.
 */
int message_spool_dir(char *buf, size_t size, struct error *err);

/* Close the spool file and unlink it unless m->keep. */
void message_release(struct message *m);

/*
 * Line-ending normaliser used by message_spool (exposed for tests).
 * crlf_run() converts in[0..inlen) to out (room for 2 * inlen + 3 bytes) and
 * returns the bytes written. With MESSAGE_DOT_ENDS, *ended is set when a
 * line holding only "." was seen; the rest of the input must then be
 * ignored (that line itself is not copied). With MESSAGE_DOT_LAST such a
 * line is held back until more input shows it is text (then written), or
 * crlf_finish() drops it (dot_removed). Only a terminated line counts: an
 * unterminated "." at the end is text. crlf_finish() terminates a last
 * unterminated line (at most 3 bytes).
 */
struct crlf {
	bool pending_cr;	/* last byte was CR, LF may follow */
	size_t linelen;		/* octets in the current line so far */
	bool line_is_dot;	/* current line so far is exactly "." */
	bool dot_held;		/* DOT_LAST: a whole "." line is held back */
	bool dot_removed;	/* DOT_LAST: the last line, ".", was dropped */
	enum message_dot dot;
	size_t max_line;
	bool eightbit;
	bool has_nul;
};

void crlf_init(struct crlf *c, enum message_dot dot);
size_t crlf_run(struct crlf *c, const char *in, size_t inlen, char *out,
    bool *ended);
size_t crlf_finish(struct crlf *c, char *out);

/*
 * Dot-stuffer for DATA (RFC 5321 4.5.2), streaming over canonical CRLF text:
 * a '.' is doubled at the start of every line. out needs 2 * inlen bytes.
 */
struct dotstuff {
	bool at_line_start;
};

void dotstuff_init(struct dotstuff *d);
size_t dotstuff_run(struct dotstuff *d, const char *in, size_t inlen,
    char *out);
/* What ends DATA: ".\r\n" after a final CRLF, else "\r\n.\r\n". */
const char *dotstuff_end(const struct dotstuff *d);

#endif
