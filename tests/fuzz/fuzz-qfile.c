/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-qfile.c -- a queue file as a hand-edited or damaged file on disk
 * would be: qfile.c's envelope and state-slot parsers, qentry.c's checks
 * (queue_load, queue_lock, in a queue under fuzz_tmpdir()), and what the
 * envelope it accepts puts on the wire (fuzz_smtp_send against a server
 * with PIPELINING, DSN, SIZE and 8BITMIME but not SMTPUTF8, as a flush
 * would send it).
 *
 * The input is a queue file; the target also repairs its checksums (the
 * envelope's "end" line, and each slot that starts "yubin-state ") so
 * that mutations reach what lies behind them, as a person editing the
 * file with a script would.
 *
 * Invariants: an accepted envelope has an ID, an account, a sender and a
 * recipient; built again (qfile_header_build) it parses to the same
 * values; a decoded state encodes and decodes to itself; queue_load()
 * refuses or accepts without a crash, and what it accepts goes on the
 * wire as fuzz.h's wire invariants say.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "qfile.h"
#include "queue.h"
#include "smtp.h"
#include "util.h"

#include "fuzz.h"

#define SLOT_MAGIC "yubin-state "
#define SLOT_PREFIX (sizeof(SLOT_MAGIC) - 1 + 16 + 1)

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Build e again, parse that, compare. */
static void
check_roundtrip(const struct queue_entry *e)
{
	struct queue_entry e2;
	struct dynbuf b;
	char why[200];
	size_t hdrlen;

	dynbuf_init(&b, QFILE_HEADER_MAX);
	if (qfile_header_build(e, &b, why, sizeof(why)) < 0) {
		dynbuf_release(&b);
		return;
	}
	memset(&e2, 0, sizeof(e2));
	FUZZ_CHECK(qfile_header_parse(&e2, b.data, b.len, &hdrlen, why,
	    sizeof(why)) == 0 && hdrlen == b.len, "a built envelope does "
	    "not parse: %s", why);
	FUZZ_CHECK(strcmp(e->id, e2.id) == 0 && e->created == e2.created &&
	    str_eq(e->config, e2.config) && str_eq(e->account, e2.account) &&
	    str_eq(e->from, e2.from) && e->nrcpt == e2.nrcpt &&
	    str_eq(e->dsn_notify, e2.dsn_notify) &&
	    str_eq(e->dsn_return, e2.dsn_return) &&
	    str_eq(e->dsn_envid, e2.dsn_envid) && e->size == e2.size &&
	    e->eightbit == e2.eightbit && e->utf8_header == e2.utf8_header,
	    "envelope changed on the way through build and parse");
	for (size_t i = 0; i < e->nrcpt; i++)
		FUZZ_CHECK(strcmp(e->rcpt[i], e2.rcpt[i]) == 0, "rcpt %zu", i);
	queue_entry_release(&e2);
	dynbuf_release(&b);
}

static void
check_state(const char *slots)
{
	struct queue_state st, st2;
	char slot[QFILE_SLOT], error[QUEUE_ERROR_MAX];

	if (qfile_state_pick(slots, slots + QFILE_SLOT, &st) < 0)
		return;
	FUZZ_CHECK(st.seq > 0 && st.expire > 0 && (unsigned)st.status <= 2 &&
	    (unsigned)st.wait <= QUEUE_WAIT_OTHER &&
	    memchr(st.kind, '\0', sizeof(st.kind)) != NULL &&
	    memchr(st.esc, '\0', sizeof(st.esc)) != NULL &&
	    memchr(st.error, '\0', sizeof(st.error)) != NULL,
	    "decoded state out of range");
	qfile_state_encode(&st, slot);
	FUZZ_CHECK(qfile_state_decode(&st2, slot) == 0, "an encoded state "
	    "does not decode");
	util_oneline(error, sizeof(error), st.error);
	FUZZ_CHECK(st2.seq == st.seq && st2.status == st.status &&
	    st2.attempts == st.attempts && st2.next == st.next &&
	    st2.last == st.last && st2.since == st.since &&
	    st2.expire == st.expire && st2.code == st.code &&
	    st2.wait == st.wait && st2.backoff == st.backoff &&
	    strcmp(st2.error, error) == 0, "state changed on the way "
	    "through encode and decode");
}

/* Pure parsers over buf: the envelope, then the slots behind it. */
static void
parse(const char *buf, size_t len, char *id, size_t idsize)
{
	struct queue_entry e;
	char why[200];
	size_t hdrlen = 0;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = qfile_header_parse(&e, buf, len, &hdrlen, why, sizeof(why));
	FUZZ_CHECK(rc >= -1 && rc <= 1, "qfile_header_parse: %d", rc);
	if (rc == 0) {
		FUZZ_CHECK(hdrlen <= len && e.id[0] != '\0' &&
		    e.account != NULL && e.from != NULL && e.config != NULL &&
		    e.nrcpt > 0, "an incomplete envelope was accepted");
		check_roundtrip(&e);
		if ((size_t)qfile_body_off(hdrlen) <= len)
			check_state(buf + qfile_slot_off(hdrlen));
		util_strlcpy(id, e.id, idsize);
	}
	queue_entry_release(&e);
}

/* data with its checksums recomputed (malloc'd, *len). */
static char *
repair(const uint8_t *data, size_t size, size_t *len)
{
	const char *d = (const char *)data, *end, *nl;
	char *out = xmalloc(size + 32), line[32];
	size_t ls, hdrlen, n;
	off_t slot;

	end = memmem(d, size, "\nend ", 5);
	nl = end != NULL ? memchr(end + 1, '\n', size - (size_t)(end + 1 - d))
	    : NULL;
	if (nl == NULL) {
		memcpy(out, d, size);
		*len = size;
		return out;
	}
	ls = (size_t)(end + 1 - d);
	n = (size_t)snprintf(line, sizeof(line), "end %016" PRIx64 "\n",
	    qfile_fnv(d, ls, QFILE_FNV_INIT));
	memcpy(out, d, ls);
	memcpy(out + ls, line, n);
	hdrlen = ls + n;
	memcpy(out + hdrlen, nl + 1, size - (size_t)(nl + 1 - d));
	*len = hdrlen + size - (size_t)(nl + 1 - d);
	slot = qfile_slot_off(hdrlen);
	for (int k = 0; k < 2; k++, slot += QFILE_SLOT) {
		char *s = out + slot;

		if ((size_t)slot + QFILE_SLOT > *len ||
		    memcmp(s, SLOT_MAGIC, sizeof(SLOT_MAGIC) - 1) != 0)
			continue;
		snprintf(line, sizeof(line), "%016" PRIx64, qfile_fnv(s +
		    SLOT_PREFIX, QFILE_SLOT - SLOT_PREFIX, QFILE_FNV_INIT));
		memcpy(s + sizeof(SLOT_MAGIC) - 1, line, 16);
		s[SLOT_PREFIX - 1] = '\n';
	}
	return out;
}

/* Put buf in msg/ID of a private queue, load and lock it, send it. */
static void
load(const char *buf, size_t len, const char *id)
{
	struct queue q;
	struct queue_entry e;
	struct envelope env;
	struct error err;
	char *dir = xasprintf("%s/queue", fuzz_tmpdir());
	char *path;
	int fd;

	error_init(&err);
	FUZZ_CHECK(queue_open(&q, dir, &err) == 0, "queue_open: %s",
	    err.message);
	path = xasprintf("%s/msg/%s", dir, id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && write(fd, buf, len) == (ssize_t)len &&
	    close(fd) == 0, "cannot write %s", path);
	if (queue_load(&q, id, &e, &err) == 0 && e.valid &&
	    queue_lock(&q, &e, &err) == QUEUE_LOCK_HELD) {
		queue_entry_envelope(&e, &env);
		fuzz_smtp_send(&env, "PIPELINING DSN SIZE 100000000 8BITMIME",
		    e.eightbit, e.utf8_header);
		queue_unlock(&e);
	}
	queue_entry_release(&e);
	unlink(path);
	queue_close(&q);
	free(path);
	free(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[QUEUE_ID_MAX] = "";
	size_t len;
	char *buf;

	if (size > 256 * 1024)
		return 0;
	parse((const char *)data, size, id, sizeof(id));
	buf = repair(data, size, &len);
	parse(buf, len, id, sizeof(id));
	if (queue_id_valid(id))
		load(buf, len, id);
	free(buf);
	return 0;
}
