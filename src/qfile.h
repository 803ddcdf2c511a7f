/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qfile.h -- the bytes of one queue file; an internal interface of the
 * queue module, used by queue.c (writes them) and qentry.c (reads them),
 * and by test-queue.c, test-queue-values.c and fuzz-qfile.c. No I/O here.
 *
 *	[0, H)		envelope, text, immutable:
 *			  yubin-queue 1
 *			  id ID
 *			  created SECONDS
 *			  config PATH		(absent: default lookup)
 *			  account NAME
 *			  from ADDRESS		(empty value: null sender)
 *			  rcpt ADDRESS		(one line each, at least one)
 *			  notify|return|envid VALUE	(DSN, optional)
 *			  size OCTETS
 *			  eightbit 0|1
 *			  utf8header 1	(only when set)
 *			  end FNV		(FNV-1a 64 of every byte above)
 *	[S, S+1024)	state slot 0, S = H rounded up to 512
 *	[S+1024, S+2048) state slot 1
 *	[B, B+size)	the message, canonical CRLF, B = S + 2048
 *	[B+size, +16)	trailer "yubin-queue-end\n"
 *
 * A state slot: "yubin-state FNV\n" then "key value\n" lines (seq, status,
 * attempts, next, last, since, expire, kind, code, esc, error, defer,
 * backoff), NUL-padded; FNV covers everything after the first line.
 * defer is enum queue_wait as a number (0 none, 1 net, 2 server, 3
 * other; larger: other), so that a yubin from before it (which skips
 * unknown keys with a number) still reads the file. Unknown keys are
 * skipped. A slot without "defer" and "backoff" (written before they
 * existed) reads as backoff = attempts and defer server after a 4xx,
 * other after anything else, none before any attempt: the schedule it
 * had. The valid slot with the
 * higher seq wins; slot (seq % 2) is the one written, so a write torn by a
 * crash can only damage the slot that was not current.
 */
#ifndef YUBIN_QFILE_H
#define YUBIN_QFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "queue.h"

struct dynbuf;

#define QFILE_SLOT	1024
#define QFILE_ALIGN	512
#define QFILE_TRAILER	"yubin-queue-end\n"
#define QFILE_TRAILER_LEN (sizeof(QFILE_TRAILER) - 1)
#define QFILE_HEADER_MAX (4 * 1024 * 1024)

uint64_t qfile_fnv(const void *p, size_t n, uint64_t h);
#define QFILE_FNV_INIT 0xcbf29ce484222325ULL

/*
 * The envelope text of e into out. -1 when a value holds CR, LF or NUL, or
 * there is no recipient (why says which).
 */
int qfile_header_build(const struct queue_entry *e, struct dynbuf *out,
    char *why, size_t whysize);

/* How far qfile_header_parse() got. */
enum qfile_parse {
	QFILE_PARSE_BAD = -1,	/* malformed: why says how */
	QFILE_PARSE_DONE = 0,	/* parsed, *hdrlen set */
	QFILE_PARSE_MORE = 1,	/* more bytes are needed */
};

/*
 * Parse the envelope at the start of buf (len bytes read so far) into e
 * (which must be clean: queue_entry_release()d or zeroed).
 */
enum qfile_parse qfile_header_parse(struct queue_entry *e, const char *buf,
    size_t len, size_t *hdrlen, char *why, size_t whysize);

/* Where the slots and the message start for an envelope of hdrlen bytes. */
off_t qfile_slot_off(size_t hdrlen);
off_t qfile_body_off(size_t hdrlen);
/* The file size a valid file has. */
off_t qfile_total(size_t hdrlen, long long size);

/* Encode st into a slot; decode one (-1: torn, foreign or corrupt). */
void qfile_state_encode(const struct queue_state *st, char *slot);
int qfile_state_decode(struct queue_state *st, const char *slot);
/* The newer valid one of two slots; -1 when neither is valid. */
int qfile_state_pick(const char *slot0, const char *slot1,
    struct queue_state *st);

/* "queued", "failed", "reported"; and back (-1 unknown). */
const char *qfile_status_name(enum queue_status s);
int qfile_status_parse(const char *name, enum queue_status *out);

#endif
