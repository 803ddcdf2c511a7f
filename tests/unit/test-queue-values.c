/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-queue-values.c -- a queue file edited by hand, its checksum made to
 * match (issue 9, finding 8e): what it would put on the wire is checked as
 * strictly as the command line, so a bare CR in a DSN value or an address
 * never reaches RCPT TO. The file is refused, reported, never sent.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <signal.h>

#include "qfile.h"
#include "qtest.h"
#include "tap.h"

#define NOW 1700000000LL

/*
 * In the envelope of msg/id, replace from by to (the same length, so the
 * layout stays) and write the checksum that matches.
 */
static void
edit_envelope(const char *id, const char *from, const char *to)
{
	char path[PATH_MAX + 64], buf[8192], sum[32], *p, *end;
	ssize_t n;
	int fd;

	qt_path(path, sizeof(path), "msg", id);
	fd = open(path, O_RDWR);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	end = strstr(buf, "\nend ");
	p = strstr(buf, from);
	if (fd < 0 || end == NULL || p == NULL || p > end ||
	    strlen(from) != strlen(to))
		bail_out("cannot edit %s", id);
	memcpy(p, to, strlen(to));
	snprintf(sum, sizeof(sum), "%016" PRIx64,
	    qfile_fnv(buf, (size_t)(end + 1 - buf), QFILE_FNV_INIT));
	memcpy(end + 5, sum, 16);
	if (pwrite(fd, buf, (size_t)(end + 5 + 16 - buf), 0) < 0)
		perror("pwrite");
	close(fd);
}

/* Enqueue a message with DSN values; its ID into id. */
static void
enqueue_dsn(struct queue *q, char *id)
{
	const char *rcpt[] = { "bob@example.org" };
	struct envelope env = { .from = "alice@example.com", .rcpt = rcpt,
	    .nrcpt = 1, .dsn_notify = "SUCCESS,FAILURE",
	    .dsn_return = "HDRS" };
	struct message m;
	struct queue_new n = { .config = "/nonexistent/yubin/config",
	    .account = "work", .env = &env, .msg = &m, .max_age = 3600,
	    .now = NOW };
	struct error err;

	error_init(&err);
	qt_spool(&m, QT_MSG, strlen(QT_MSG), NULL);
	if (queue_enqueue(q, &n, id, &err) < 0)
		printf("# enqueue: %s\n", err.message);
	message_release(&m);
}

/* Edit a fresh message's envelope; it must be refused with want. */
static void
refused(struct queue *q, const char *from, const char *to, const char *want)
{
	char id[QUEUE_ID_MAX];
	struct queue_entries l = { 0 };
	struct queue_entry *e;
	struct error err;

	enqueue_dsn(q, id);
	edit_envelope(id, from, to);
	error_init(&err);
	queue_scan(q, QUEUE_MSG, false, &l, &err);
	e = qt_find(&l, id);
	ok(e != NULL && !e->valid, "'%s' edited, with a valid checksum: "
	    "refused", from);
	is_str(e != NULL ? e->problem : "", want, "... because: %s", want);
	queue_entries_release(&l);
	queue_remove(q, id, &err);
}

int
main(void)
{
	char id[QUEUE_ID_MAX];
	struct queue_entries l = { 0 };
	struct queue q;
	struct error err;

	signal(SIGPIPE, SIG_IGN);
	qt_setup("test-queue-values");
	error_init(&err);
	if (queue_open(&q, NULL, &err) < 0) {
		printf("# %s\n", err.message);
		return 99;
	}
	enqueue_dsn(&q, id);
	edit_envelope(id, "HDRS", "FULL");
	queue_scan(&q, QUEUE_MSG, false, &l, &err);
	ok(qt_find(&l, id) != NULL && qt_find(&l, id)->valid,
	    "an edit that stays valid (RET HDRS -> FULL) is accepted");
	queue_entries_release(&l);
	queue_remove(&q, id, &err);

	refused(&q, "notify SUCCESS,FAILURE", "notify SUCCESS\rFAILURE",
	    "invalid DSN NOTIFY value 'SUCCESS\\x0dFAILURE'");
	refused(&q, "return HDRS", "return HD\rS",
	    "invalid DSN RET value 'HD\\x0dS'");
	refused(&q, "rcpt bob@example.org", "rcpt bob@exam\rle.org",
	    "recipient 'bob@exam\\x0dle.org' contains a control character");
	refused(&q, "rcpt bob@example.org", "rcpt -ob@example.org",
	    "recipient '-ob@example.org' begins with '-'");
	refused(&q, "from alice@example.com", "from alice@example>com",
	    "sender 'alice@example>com' contains '<' or '>'");
	queue_close(&q);
	if (tap_failed == 0)
		qt_cleanup();
	return done_testing();
}
