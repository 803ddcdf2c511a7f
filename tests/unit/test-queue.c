/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-queue.c -- the queue store (queue.h, qfile.h): layout and modes,
 * enqueue/scan round trip with identical bytes, refusals (symbolic links,
 * foreign files, partial and damaged files), tmp/ clean-up, the retry
 * schedule, defer/fail/expire, torn state slots, list, remove, retry, the
 * locks. test-queue-crash.c: kill -9 during enqueue, disk full.
 */
#include "autoconfig.h"

#include <signal.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>

#include "qentry.h"
#include "qfile.h"
#include "qsplit.h"
#include "tap.h"
#include "qtest.h"

#define NOW 1700000000LL

static void
test_layout(void)
{
	char path[PATH_MAX + 16];
	struct queue q;
	struct error err;
	struct stat st;
	const char *sub[] = { "", "/tmp", "/msg", "/failed" };

	error_init(&err);
	is_int(queue_open(&q, NULL, &err), 0, "queue_open creates the queue");
	is_str(q.path, qt_queue, "default place is $XDG_STATE_HOME/yubin/"
	    "queue");
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		snprintf(path, sizeof(path), "%s%s", qt_queue, sub[i]);
		ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
		    (st.st_mode & 0777) == 0700, "'%s' is a directory, mode "
		    "0700", sub[i][0] ? sub[i] : "queue");
	}
	queue_close(&q);
	snprintf(path, sizeof(path), "%s/msg", qt_queue);
	chmod(path, 0777);
	ok(queue_open(&q, NULL, &err) < 0 && err.kind == ERR_CANTCREAT &&
	    strstr(err.message, "writable by others") != NULL,
	    "a world-writable msg/ is refused: %s", err.message);
	queue_close(&q);
	chmod(path, 0700);
}

static void
test_roundtrip(void)
{
	const char *const rcpt[] = { "bob@example.org", "carol@example.net" };
	struct envelope env = { .from = "alice@example.com", .rcpt = rcpt,
	    .nrcpt = 2, .dsn_notify = "FAILURE,DELAY", .dsn_return = "HDRS",
	    .dsn_envid = "env-1" };
	char id[QUEUE_ID_MAX], path[PATH_MAX + 64], *want, *got;
	struct queue_entries l;
	struct queue_entry *e;
	struct queue_new n = { .config = "/home/a/.config/yubin/config",
	    .account = "work", .env = &env, .max_age = 3600, .now = NOW };
	struct message m;
	struct queue q;
	struct error err;
	struct stat st;
	size_t wlen, glen;

	error_init(&err);
	queue_open(&q, NULL, &err);
	qt_spool(&m, QT_MSG, strlen(QT_MSG), NULL);
	n.msg = &m;
	is_int(queue_enqueue(&q, &n, id, &err), 0, "enqueue");
	ok(queue_id_valid(id) && strncmp(id, "20231114T221320-", 16) == 0,
	    "ID %s: UTC time of creation and a random part", id);
	qt_path(path, sizeof(path), "msg", id);
	ok(lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 0777) == 0600 && st.st_nlink == 1,
	    "msg/ID is a regular file, mode 0600, one link");
	is_int(qt_count("tmp", "q."), 0, "nothing left in tmp/");
	is_int(queue_scan(&q, QUEUE_MSG, false, &l, &err), 0, "scan");
	is_int(l.n, 1, "one entry");
	e = &l.v[0];
	ok(e->valid, "it is valid (%s)", e->problem);
	is_str(e->id, id, "id");
	is_str(e->config, "/home/a/.config/yubin/config", "config path");
	is_str(e->account, "work", "account");
	is_str(e->from, "alice@example.com", "sender");
	ok(e->nrcpt == 2 && strcmp(e->rcpt[0], rcpt[0]) == 0 &&
	    strcmp(e->rcpt[1], rcpt[1]) == 0, "recipients");
	ok(strcmp(e->dsn_notify, "FAILURE,DELAY") == 0 &&
	    strcmp(e->dsn_return, "HDRS") == 0 &&
	    strcmp(e->dsn_envid, "env-1") == 0, "DSN parameters");
	is_int(e->created, NOW, "creation time");
	ok(e->st.status == QUEUE_ST_QUEUED && e->st.attempts == 0 &&
	    e->st.next == NOW && e->st.since == NOW &&
	    e->st.expire == NOW + 3600, "state: queued, due now, expires "
	    "after max_age");
	ok(queue_due(e, NOW) && !queue_due(e, NOW - 1), "due from now on");
	is_int(queue_lock(&q, e, &err), QUEUE_LOCK_HELD, "lock");
	want = qt_spool_bytes(&m, &wlen);
	got = qt_entry_bytes(e, &glen);
	is_mem(got, glen, want, wlen, "message bytes identical");
	free(want);
	free(got);
	queue_entries_release(&l);
	message_release(&m);
	queue_remove(&q, id, &err);
	queue_close(&q);
}

/* A big message, from a spool on another file system when there is one. */
static void
test_big(const char *spool_dir, const char *what)
{
	size_t len = 3 * 1024 * 1024 + 77, wlen, glen;
	char *text = xmalloc(len + 1), id[QUEUE_ID_MAX], *want, *got;
	struct envelope env = { .from = "a@b.c", .rcpt = qt_rcpt, .nrcpt = 1 };
	struct queue_new n = { .account = "work", .env = &env, .now = NOW };
	struct queue_entry e;
	struct message m;
	struct queue q;
	struct error err;

	for (size_t i = 0; i < len; i++)
		text[i] = i % 71 == 70 ? '\n' : (char)('0' + i % 64);
	text[len] = '\0';
	error_init(&err);
	queue_open(&q, NULL, &err);
	qt_spool(&m, text, len, spool_dir);
	n.msg = &m;
	is_int(queue_enqueue(&q, &n, id, &err), 0, "enqueue 3 MiB (%s)", what);
	is_int(queue_load(&q, id, &e, &err), 0, "load it by ID");
	is_int(queue_lock(&q, &e, &err), QUEUE_LOCK_HELD, "lock it");
	want = qt_spool_bytes(&m, &wlen);
	got = qt_entry_bytes(&e, &glen);
	ok(glen == wlen && memcmp(want, got, wlen) == 0 &&
	    e.size == (long long)m.size, "3 MiB identical (%s)", what);
	is_str(e.config, "", "no config path: the default lookup");
	free(want);
	free(got);
	free(text);
	queue_entry_release(&e);
	message_release(&m);
	(void)queue_remove(&q, id, &err);
	queue_close(&q);
}

static void
test_bad_values(void)
{
	const char *const bad[] = { "bob@example.org\r\nrcpt evil@x" };
	char id[QUEUE_ID_MAX];
	struct queue q;
	struct error err;

	error_init(&err);
	queue_open(&q, NULL, &err);
	ok(qt_enqueue_full(&q, QT_MSG, "work", "a@b.c", bad, 1, 60, NULL, NOW,
	    id, &err) < 0 && err.kind == ERR_DATAERR,
	    "a recipient with CRLF is refused: %s", err.message);
	ok(qt_enqueue_full(&q, QT_MSG, "work", "a@b.c", bad, 0, 60, NULL, NOW,
	    id, &err) < 0 && err.kind == ERR_DATAERR,
	    "no recipients is refused: %s", err.message);
	is_int(qt_count("msg", NULL), 0, "nothing queued");
	is_int(qt_count("tmp", "q."), 0, "nothing left in tmp/");
	queue_close(&q);
}

/* Copy msg/src to msg/dst (a new name), first len bytes (-1: all). */
static void
copy_file(const char *src, const char *dst, long len)
{
	char a[PATH_MAX + 64], b[PATH_MAX + 64], buf[65536];
	ssize_t r;
	int in, out;
	long done = 0;

	qt_path(a, sizeof(a), "msg", src);
	qt_path(b, sizeof(b), "msg", dst);
	in = open(a, O_RDONLY);
	out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	while ((r = read(in, buf, sizeof(buf))) > 0) {
		if (len >= 0 && done + r > len)
			r = len - done;
		if (r <= 0 || write(out, buf, (size_t)r) != r)
			break;
		done += r;
	}
	close(in);
	close(out);
}

/* Flip the byte at off of msg/name. */
static void
poke(const char *name, off_t off, char c)
{
	char path[PATH_MAX + 64];
	int fd;

	qt_path(path, sizeof(path), "msg", name);
	fd = open(path, O_WRONLY);
	if (pwrite(fd, &c, 1, off) != 1)
		perror("poke");
	close(fd);
}

static void
check_refused(struct queue_entries *l, const char *id, const char *why)
{
	struct queue_entry *e = qt_find(l, id);

	ok(e != NULL && !e->valid && strstr(e->problem, why) != NULL,
	    "%s refused: %s", id, e != NULL ? e->problem : "(not listed)");
}

/* Plant next to the real message id every kind of file to refuse. */
static void
plant(struct queue *q, const char *id, char bad[3][QUEUE_ID_MAX])
{
	char path[PATH_MAX + 64], target[PATH_MAX + 64];
	struct stat st;

	/* a symbolic link to a perfectly good queue file elsewhere */
	qt_path(path, sizeof(path), "msg", id);
	snprintf(target, sizeof(target), "%s/elsewhere", qt_dir);
	IGNORE(link(path, target));
	qt_path(path, sizeof(path), "msg", "20230101T000000-symlink000");
	IGNORE(symlink(target, path));
	qt_path(path, sizeof(path), "msg", "20230101T000000-fifo000000");
	mkfifo(path, 0600);
	/* the remains of crashes: cut short, trailer damaged */
	for (int i = 0; i < 3; i++) {
		qt_enqueue(q, QT_MSG, NOW, bad[i]);
		qt_path(path, sizeof(path), "msg", bad[i]);
		stat(path, &st);
		if (i < 2)
			IGNORE(truncate(path, i == 0 ? 2000 : st.st_size - 1));
		else
			poke(bad[i], st.st_size - 3, 'X');
	}
	copy_file(id, "20230101T000000-envelope00", 100);
	copy_file(id, "20230101T000000-otherid000", -1);
	copy_file(id, "20230101T000000-checksum00", -1);
	poke("20230101T000000-checksum00", 40, '#');	/* never in an ID */
	qt_path(path, sizeof(path), "msg", "20230101T000000-garbage000");
	close(open(path, O_WRONLY | O_CREAT, 0600));
	qt_path(path, sizeof(path), "msg", "not.an.id");
	close(open(path, O_WRONLY | O_CREAT, 0600));
	copy_file(id, "20230101T000000-foreign000", -1);
	qt_path(path, sizeof(path), "msg", "20230101T000000-foreign000");
	if (geteuid() == 0)
		IGNORE(chown(path, 65534, 65534));
}

static void
check_all_refused(struct queue_entries *l, char bad[3][QUEUE_ID_MAX])
{
	check_refused(l, "20230101T000000-symlink000", "symbolic link");
	check_refused(l, "20230101T000000-fifo000000", "not a regular file");
	check_refused(l, bad[0], "incomplete");
	check_refused(l, bad[1], "incomplete");
	check_refused(l, bad[2], "no trailer");
	check_refused(l, "20230101T000000-envelope00", "no end of envelope");
	check_refused(l, "20230101T000000-otherid000", "another ID");
	check_refused(l, "20230101T000000-checksum00", "checksum");
	check_refused(l, "20230101T000000-garbage000", "no end of envelope");
	check_refused(l, "not.an.id", "not a queue file name");
	if (geteuid() == 0)
		check_refused(l, "20230101T000000-foreign000", "owned by uid");
	else
		ok(1, "# SKIP foreign owner needs root");
}

static void
test_refusals(void)
{
	char id[QUEUE_ID_MAX], bad[3][QUEUE_ID_MAX], path[PATH_MAX + 64];
	struct queue_entries l;
	struct queue_entry e;
	struct queue q;
	struct error err;
	struct stat st;

	error_init(&err);
	queue_open(&q, NULL, &err);
	qt_enqueue(&q, QT_MSG, NOW, id);
	plant(&q, id, bad);
	is_int(queue_scan(&q, QUEUE_MSG, false, &l, &err), 0, "scan a queue "
	    "with planted and damaged files");
	ok(qt_find(&l, id) != NULL && qt_find(&l, id)->valid,
	    "the real message is still fine");
	check_all_refused(&l, bad);
	queue_entries_release(&l);
	qentry_init(&e);
	e.where = QUEUE_MSG;
	util_strlcpy(e.id, "20230101T000000-symlink000", sizeof(e.id));
	ok(queue_lock(&q, &e, &err) == QUEUE_LOCK_ERROR && strstr(err.message,
	    "symbolic link") != NULL, "a symbolic link cannot be locked "
	    "(so never sent): %s", err.message);
	qt_path(path, sizeof(path), "msg", e.id);
	ok(queue_remove(&q, e.id, &err) < 0 && lstat(path, &st) == 0,
	    "nor removed through the queue");
	queue_entry_release(&e);
	is_int(queue_remove(&q, bad[0], &err), 0, "a damaged file of ours "
	    "can be removed by ID");
	queue_remove(&q, bad[1], &err);
	queue_remove(&q, bad[2], &err);
	queue_remove(&q, id, &err);
	queue_close(&q);
	snprintf(path, sizeof(path), "rm -f %s/msg/2023* %s/msg/not.an.id",
	    qt_queue, qt_queue);
	if (system(path) != 0)
		printf("# cannot clean msg/\n");
}

/* A file in tmp/ aged by secs, its name. */
static void
tmp_file(const char *name, long secs)
{
	char path[PATH_MAX + 64];
	struct timeval tv[2];

	qt_path(path, sizeof(path), "tmp", name);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= secs;
	tv[1] = tv[0];
	utimes(path, tv);
}

static bool
tmp_exists(const char *name)
{
	char path[PATH_MAX + 64];
	struct stat st;

	qt_path(path, sizeof(path), "tmp", name);
	return lstat(path, &st) == 0;
}

static void
test_cleanup(void)
{
	char path[PATH_MAX + 64], path2[PATH_MAX + 64];
	struct queue q;
	struct error err;
	int fd;

	error_init(&err);
	queue_open(&q, NULL, &err);
	tmp_file("q.old", 2 * 86400);
	tmp_file("spool.old", 2 * 86400);
	tmp_file("q.fresh", 60);
	tmp_file("q.locked", 2 * 86400);
	tmp_file("q.linked", 60);
	qt_path(path, sizeof(path), "tmp", "q.locked");
	fd = open(path, O_RDONLY);
	flock(fd, LOCK_EX);
	qt_path(path, sizeof(path), "tmp", "q.linked");
	qt_path(path2, sizeof(path2), "msg", "20230101T000000-linked0000");
	IGNORE(link(path, path2));
	qt_path(path, sizeof(path), "tmp", "a-link");
	IGNORE(symlink("/etc/passwd", path));
	queue_cleanup(&q, (long long)time(NULL), QUEUE_TMP_MAX_AGE);
	ok(!tmp_exists("q.old") && !tmp_exists("spool.old"),
	    "stale tmp/ files (2 days) are removed");
	ok(tmp_exists("q.fresh"), "a fresh one stays");
	ok(tmp_exists("q.locked"), "a locked one stays");
	ok(!tmp_exists("q.linked"), "one already linked into msg/ goes");
	ok(tmp_exists("a-link"), "a symbolic link is left alone");
	close(fd);
	unlink(path2);
	IGNORE(system("rm -f \"$XDG_STATE_HOME\"/yubin/queue/tmp/*"));
	queue_close(&q);
}

static void
test_schedule(void)
{
	static const struct { unsigned n; long want; } t[] = {
		{ 0, 60 }, { 1, 60 }, { 2, 120 }, { 3, 240 }, { 4, 480 },
		{ 5, 960 }, { 6, 1920 }, { 7, 3600 }, { 8, 3600 },
		{ 40, 3600 }, { 100000, 3600 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_int(queue_retry_delay(t[i].n), t[i].want,
		    "retry delay after attempt %u", t[i].n);
}

static void
test_defer(void)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry e;
	struct queue q;
	struct error err, why;
	long long t = NOW;
	unsigned i;
	bool sched = true;

	error_init(&err);
	error_init(&why);
	queue_open(&q, NULL, &err);
	error_set(&why, ERR_TEMP, "cannot connect to 'mx' port 587: refused");
	ok(qt_enqueue_full(&q, QT_MSG, "work", "a@b.c", qt_rcpt, 1, 86400,
	    &why, NOW, id, &err) == 0, "enqueue after a failed attempt");
	qt_load_locked(&q, id, &e);
	ok(e.st.attempts == 1 && e.st.next == NOW + 60 && e.st.last == NOW &&
	    strcmp(e.st.kind, "tempfail") == 0 &&
	    strstr(e.st.error, "refused") != NULL,
	    "first attempt counted, next in a minute, error kept");
	for (i = 2; i <= 30 && e.st.status == QUEUE_ST_QUEUED; i++) {
		long long due = e.st.next;
		enum queue_defer rc;

		t = due;
		rc = queue_defer(&q, &e, &why, t, &err);
		if (rc == QUEUE_DEFER_LATER && (e.st.attempts != i ||
		    e.st.next != (t + queue_retry_delay(i) < NOW + 86400 ?
		    t + queue_retry_delay(i) : NOW + 86400)))
			sched = false;
		if (rc != QUEUE_DEFER_LATER)
			break;
	}
	ok(sched, "each deferral doubles the wait up to an hour, never "
	    "past the expiry");
	ok(e.where == QUEUE_FAILED && e.st.status == QUEUE_ST_FAILED &&
	    t >= NOW + 86400, "expired after %u attempts -> failed/", i);
	is_int(qt_count("failed", NULL), 1, "it is in failed/");
	is_int(qt_count("msg", NULL), 0, "and no longer in msg/");
	is_int(queue_reported(&q, &e, &err), 0, "mark it reported");
	queue_entry_release(&e);
	qt_load_locked(&q, id, &e);
	ok(e.where == QUEUE_FAILED && e.st.status == QUEUE_ST_REPORTED,
	    "state survives reloading");
	queue_entry_release(&e);
	queue_remove(&q, id, &err);
	queue_close(&q);
}

static void
test_fail(void)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry e;
	struct queue q;
	struct error err, why;

	error_init(&err);
	error_init(&why);
	queue_open(&q, NULL, &err);
	qt_enqueue(&q, QT_MSG, NOW, id);
	qt_load_locked(&q, id, &e);
	error_set(&why, ERR_NOUSER, "recipient 'bob@example.org' rejected");
	util_strlcpy(why.reply, "550 5.1.1 <bob@example.org>: unknown",
	    sizeof(why.reply));
	why.reply_code = 550;
	util_strlcpy(why.reply_esc, "5.1.1", sizeof(why.reply_esc));
	is_int(queue_fail(&q, &e, &why, NOW + 5, &err), 0, "permanent failure");
	ok(e.where == QUEUE_FAILED && e.st.status == QUEUE_ST_FAILED &&
	    e.st.attempts == 1 && e.st.code == 550 &&
	    strcmp(e.st.esc, "5.1.1") == 0 && strcmp(e.st.kind, "nouser") == 0
	    && strstr(e.st.error, "rejected: 550 5.1.1") != NULL,
	    "failed/ at once, reply code, enhanced code and text kept");
	queue_entry_release(&e);
	queue_remove(&q, id, &err);
	queue_close(&q);
}

/* Overwrite slot k of msg/id with garbage. */
static void
tear_slot(const struct queue_entry *e, int k)
{
	char junk[QFILE_SLOT / 2];
	char path[PATH_MAX + 64];
	int fd;

	memset(junk, 'x', sizeof(junk));
	qt_path(path, sizeof(path), "msg", e->id);
	fd = open(path, O_WRONLY);
	IGNORE(pwrite(fd, junk, sizeof(junk), e->slot_off + k * QFILE_SLOT));
	close(fd);
}

static void
test_torn(void)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry e;
	struct queue q;
	struct error err, why;
	unsigned long long seq;

	error_init(&err);
	error_init(&why);
	error_set(&why, ERR_TEMP, "later");
	queue_open(&q, NULL, &err);
	qt_enqueue(&q, QT_MSG, NOW, id);
	qt_load_locked(&q, id, &e);
	queue_defer(&q, &e, &why, NOW, &err);
	seq = e.st.seq;
	ok(e.st.attempts == 1, "deferred once (seq %llu)", seq);
	tear_slot(&e, (int)(seq % 2));
	queue_entry_release(&e);
	qt_load_locked(&q, id, &e);
	ok(e.valid && e.st.seq == seq - 1 && e.st.attempts == 0,
	    "the newest slot torn: the previous state is used");
	queue_defer(&q, &e, &why, NOW, &err);
	ok(e.st.seq == seq && e.st.attempts == 1, "and the torn slot is "
	    "written again");
	queue_entry_release(&e);
	qt_load_locked(&q, id, &e);
	ok(e.st.attempts == 1, "which then reads back");
	tear_slot(&e, 0);
	tear_slot(&e, 1);
	queue_entry_release(&e);
	ok(queue_load(&q, id, &e, &err) == 0 && !e.valid &&
	    strstr(e.problem, "no valid state") != NULL,
	    "both slots torn: refused (%s)", e.problem);
	queue_entry_release(&e);
	queue_remove(&q, id, &err);
	queue_close(&q);
}

/* queue_list() into a string (malloc'd). */
static char *
list_text(struct queue *q, bool json, long long now)
{
	struct error err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	error_init(&err);
	if (queue_list(q, f, json, now, &err) < 0)
		printf("# list: %s\n", err.message);
	fclose(f);
	return buf;
}

static void
test_list(void)
{
	char id[QUEUE_ID_MAX], id2[QUEUE_ID_MAX], want[256], *t;
	struct queue_entry e;
	struct queue q;
	struct error err, why;

	error_init(&err);
	error_init(&why);
	queue_open(&q, NULL, &err);
	t = list_text(&q, false, NOW);
	is_str(t, "queue is empty\n", "empty queue");
	free(t);
	error_set(&why, ERR_TEMP, "server said \"later\"\tand\nmore");
	qt_enqueue_full(&q, QT_MSG, "work", "alice@example.com", qt_rcpt, 2,
	    86400, &why, NOW - 7200, id, &err);
	qt_enqueue_full(&q, QT_MSG, "home", "", qt_rcpt, 1, 86400, NULL,
	    NOW - 60, id2, &err);
	qt_load_locked(&q, id2, &e);
	error_set(&why, ERR_UNAVAILABLE, "message rejected");
	queue_fail(&q, &e, &why, NOW, &err);
	queue_entry_release(&e);
	t = list_text(&q, false, NOW);
	ok(strstr(t, "ID ") == t && strstr(t, "TRIES") != NULL,
	    "table header");
	snprintf(want, sizeof(want), "%s 2h00m ", id);
	ok(strstr(t, want) != NULL, "row: ID and age");
	ok(strstr(t, "alice@example.com") != NULL && strstr(t,
	    "    to: bob@example.org, carol@example.net") != NULL,
	    "sender and recipients");
	ok(strstr(t, "last error: server said \"later\" and more") != NULL,
	    "last error on one line");
	ok(strstr(t, "failed") != NULL && strstr(t, "<>") != NULL,
	    "the failed one, from the null sender");
	ok(strstr(t, "1 queued, 1 failed, 0 invalid\n") != NULL, "summary");
	diag_mem("table", t, strlen(t));
	free(t);
	t = list_text(&q, true, NOW);
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"state\":\"queued\","
	    "\"account\":\"work\",\"created\":%lld,\"age\":7200,", id,
	    NOW - 7200);
	ok(strstr(t, want) == t, "JSON: one object per line, queued first");
	ok(strstr(t, "\"rcpt\":[\"bob@example.org\",\"carol@example.net\"]")
	    != NULL, "JSON: recipients");
	ok(strstr(t, "\"last_error\":\"server said \\\"later\\\" and more\",")
	    != NULL, "JSON: quotes escaped");
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"state\":\"failed\"",
	    id2);
	ok(strstr(t, want) != NULL, "JSON: the failed one");
	{
		int lines = 0;

		for (const char *p = t; *p != '\0'; p++)
			lines += *p == '\n';
		is_int(lines, 2, "JSON: two lines");
	}
	free(t);
	queue_remove(&q, id, &err);
	queue_remove(&q, id2, &err);
	queue_close(&q);
}

static void
test_remove_retry(void)
{
	char id[QUEUE_ID_MAX], path[PATH_MAX + 64];
	struct queue_entry e, other;
	struct queue q;
	struct error err, why;
	int fd;

	error_init(&err);
	error_init(&why);
	queue_open(&q, NULL, &err);
	ok(queue_remove(&q, "../../etc/passwd", &err) < 0 &&
	    err.kind == ERR_USAGE, "remove: a path is not an ID: %s",
	    err.message);
	ok(queue_remove(&q, "20230101T000000-nosuchmsg0", &err) < 0 &&
	    err.kind == ERR_USAGE, "remove: unknown ID: %s", err.message);
	qt_enqueue(&q, QT_MSG, NOW, id);
	qt_path(path, sizeof(path), "msg", id);
	fd = open(path, O_RDONLY);
	flock(fd, LOCK_EX);
	ok(queue_remove(&q, id, &err) < 0 && err.kind == ERR_TEMP,
	    "remove: refused while being sent: %s", err.message);
	ok(queue_retry(&q, id, 60, NOW, &err) < 0 && err.kind == ERR_TEMP,
	    "retry: refused while being sent");
	close(fd);
	/* defer it far away, then retry: due now */
	qt_load_locked(&q, id, &e);
	error_set(&why, ERR_TEMP, "later");
	e.st.attempts = e.st.backoff = 6;
	queue_defer(&q, &e, &why, NOW, &err);
	ok(!queue_due(&e, NOW + 100), "deferred for an hour");
	queue_entry_release(&e);
	is_int(queue_retry(&q, id, 60, NOW + 100, &err), 0, "retry");
	queue_load(&q, id, &e, &err);
	ok(queue_due(&e, NOW + 100) && e.st.attempts == 7,
	    "due now; attempts kept");
	/* fail it, then retry from failed/ */
	queue_lock(&q, &e, &err);
	queue_fail(&q, &e, &why, NOW + 100, &err);
	queue_entry_release(&e);
	is_int(queue_retry(&q, id, 600, NOW + 200, &err), 0,
	    "retry a failed message");
	queue_load(&q, id, &e, &err);
	ok(e.where == QUEUE_MSG && e.st.status == QUEUE_ST_QUEUED &&
	    e.st.attempts == 0 && e.st.since == NOW + 200 &&
	    e.st.expire == NOW + 800 && queue_due(&e, NOW + 200),
	    "back in msg/, attempts 0, a new max age");
	/* a stale scan result: locked after someone else sent it */
	qentry_init(&other);
	queue_load(&q, id, &other, &err);
	queue_lock(&q, &e, &err);
	queue_done(&q, &e, &err);
	queue_entry_release(&e);
	is_int(queue_lock(&q, &other, &err), QUEUE_LOCK_GONE, "an entry sent "
	    "meanwhile is gone for a late locker");
	queue_entry_release(&other);
	is_int(qt_count("msg", NULL) + qt_count("failed", NULL), 0,
	    "queue empty");
	queue_close(&q);
}

static void
test_locks(void)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry a, b;
	struct queue q, q2;
	struct error err;

	error_init(&err);
	queue_open(&q, NULL, &err);
	queue_open(&q2, NULL, &err);
	qt_enqueue(&q, QT_MSG, NOW, id);
	queue_load(&q, id, &a, &err);
	queue_load(&q, id, &b, &err);
	is_int(queue_lock(&q, &a, &err), QUEUE_LOCK_HELD,
	    "first locker gets the message");
	is_int(queue_lock(&q, &b, &err), QUEUE_LOCK_BUSY,
	    "second one is told it is busy");
	queue_unlock(&a);
	is_int(queue_lock(&q, &b, &err), QUEUE_LOCK_HELD,
	    "after the unlock it is free");
	queue_entry_release(&a);
	queue_entry_release(&b);
	is_int(queue_flush_lock(&q, 0, &err), QUEUE_LOCK_HELD, "flush lock");
	is_int(queue_flush_lock(&q2, 0, &err), QUEUE_LOCK_BUSY,
	    "a second flush is locked out");
	is_int(queue_flush_lock(&q2, 120, &err), QUEUE_LOCK_BUSY,
	    "also after waiting 120 ms");
	queue_flush_unlock(&q);
	is_int(queue_flush_lock(&q2, 0, &err), QUEUE_LOCK_HELD, "free again");
	ok(queue_pending(&q, NULL, "work", NOW, false) &&
	    queue_pending(&q, "/nonexistent/yubin/config", NULL, NOW, false) &&
	    !queue_pending(&q, NULL, "home", NOW, false) &&
	    !queue_pending(&q, NULL, NULL, NOW - 1, false), "queue_pending()");
	queue_remove(&q, id, &err);
	queue_close(&q2);
	queue_close(&q);
}

/* LMTP's partial deliveries: which recipients go on, which are reported. */
static void
test_envelope_parts(void)
{
	const char *r[] = { "a@x", "b@x", "c@x", "d@x", "e@x" };
	enum envelope_rcpt st[] = { ENVELOPE_RCPT_SENT,
	    ENVELOPE_RCPT_DEFERRED, ENVELOPE_RCPT_REJECTED,
	    ENVELOPE_RCPT_ACCEPTED, ENVELOPE_RCPT_UNTRIED };
	struct envelope env = { .from = "s@x", .rcpt = r, .nrcpt = 5,
	    .status = st }, part;
	struct error why, own;

	ok(queue_envelope_split(&env), "one SENT among others: split");
	is_int((int)queue_envelope_part(&env, false, &part), 3,
	    "still to try: deferred, accepted without a verdict, untried");
	ok(strcmp(part.rcpt[0], "b@x") == 0 && strcmp(part.rcpt[1], "d@x")
	    == 0 && strcmp(part.rcpt[2], "e@x") == 0 && part.status == NULL &&
	    strcmp(part.from, "s@x") == 0, "... in order, the rest kept");
	error_set(&why, ERR_NOUSER, "recipient 'c@x' rejected: 552 full\n"
	    "recipient 'b@x' deferred: 452 busy\nconnection lost");
	queue_envelope_why(&why, &part, &own);
	is_str(own.message, "recipient 'b@x' deferred: 452 busy\n"
	    "connection lost", "its error: its own lines and the rest");
	free((void *)part.rcpt);
	is_int((int)queue_envelope_part(&env, true, &part), 1, "rejected: 1");
	queue_envelope_why(&why, &part, &own);
	is_str(own.message, "recipient 'c@x' rejected: 552 full\n"
	    "connection lost", "the rejected part's error");
	free((void *)part.rcpt);
	for (size_t i = 0; i < 5; i++)
		st[i] = ENVELOPE_RCPT_SENT;
	ok(!queue_envelope_split(&env), "all SENT: no split");
	st[0] = ENVELOPE_RCPT_DEFERRED;
	st[1] = ENVELOPE_RCPT_DEFERRED;
	ok(queue_envelope_split(&env), "some SENT: split");
	for (size_t i = 0; i < 5; i++)
		st[i] = ENVELOPE_RCPT_DEFERRED;
	ok(!queue_envelope_split(&env), "none SENT: no split");
	env.status = NULL;
	ok(!queue_envelope_split(&env), "no status: no split");
}

/* Nobody has it, some deferred and the others rejected: split too. */
static void
test_envelope_none_sent(void)
{
	const char *r[] = { "a@x", "b@x", "c@x" };
	enum envelope_rcpt st[] = { ENVELOPE_RCPT_DEFERRED,
	    ENVELOPE_RCPT_REJECTED, ENVELOPE_RCPT_DEFERRED };
	struct envelope env = { .from = "s@x", .rcpt = r, .nrcpt = 3,
	    .status = st }, part;

	ok(queue_envelope_split(&env), "none SENT, deferred and rejected: "
	    "split");
	is_int((int)queue_envelope_part(&env, false, &part), 2,
	    "still to try: the two deferred");
	ok(strcmp(part.rcpt[0], "a@x") == 0 && strcmp(part.rcpt[1], "c@x")
	    == 0, "... a and c");
	free((void *)part.rcpt);
	is_int((int)queue_envelope_part(&env, true, &part), 1,
	    "reported: the rejected one");
	ok(strcmp(part.rcpt[0], "b@x") == 0, "... b");
	free((void *)part.rcpt);
	st[2] = ENVELOPE_RCPT_ACCEPTED;
	ok(!queue_envelope_split(&env), "one without a verdict (the "
	    "envelope or the connection failed): no split");
	st[2] = ENVELOPE_RCPT_REJECTED;
	st[0] = ENVELOPE_RCPT_REJECTED;
	ok(!queue_envelope_split(&env), "all rejected: no split");
}

/* A recipient's own enhanced status code in a one-line error. */
static void
test_rcpt_esc(void)
{
	static const char why[] = "recipient 'b@x' deferred: 452 4.2.2 "
	    "full recipient 'c@x' rejected: 552 5.2.2 <c@x> Quota exceeded "
	    "recipient 'd@x' rejected: 550 no code recipient 'e@x' "
	    "rejected: 550 5.1.1";
	char esc[16];

	queue_rcpt_esc(why, "c@x", esc, sizeof(esc));
	is_str(esc, "5.2.2", "c@x: its own 5.2.2");
	queue_rcpt_esc(why, "b@x", esc, sizeof(esc));
	is_str(esc, "4.2.2", "b@x: 4.2.2");
	queue_rcpt_esc(why, "e@x", esc, sizeof(esc));
	is_str(esc, "5.1.1", "e@x: at the end of the line");
	queue_rcpt_esc(why, "d@x", esc, sizeof(esc));
	is_str(esc, "", "d@x: a reply without a code: none");
	queue_rcpt_esc(why, "c@", esc, sizeof(esc));
	is_str(esc, "", "a prefix of an address: none");
	queue_rcpt_esc("message rejected: 552 5.3.4 too big", "c@x", esc,
	    sizeof(esc));
	is_str(esc, "", "no line for the recipient: none");
	queue_rcpt_esc("recipient 'c@x' rejected: 552 4.2.2 odd", "c@x",
	    esc, sizeof(esc));
	is_str(esc, "", "a code of another class than the reply's: none");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	qt_setup("test-queue");
	test_layout();
	test_roundtrip();
	test_big(NULL, "same file system");
	if (access("/dev/shm", W_OK) == 0)
		test_big("/dev/shm", "spool on /dev/shm");
	test_bad_values();
	test_refusals();
	test_cleanup();
	test_schedule();
	test_defer();
	test_fail();
	test_torn();
	test_list();
	test_remove_retry();
	test_locks();
	test_envelope_parts();
	test_envelope_none_sent();
	test_rcpt_esc();
	if (tap_failed == 0)
		qt_cleanup();
	else
		printf("# scratch directory kept: %s\n", qt_dir);
	return done_testing();
}
