/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-queue-crash.c -- enqueue killed (SIGKILL) at each of its crash
 * points never leaves a partial message in msg/ and never loses one it
 * committed; the tmp/ remains are cleaned; a full disk (injected, and a
 * real 1 MiB tmpfs when root) fails the enqueue cleanly.
 */
#include "autoconfig.h"

#include <signal.h>
#include <sys/mount.h>
#include <time.h>

#include "tap.h"
#include "qtest.h"

#define NOW 1700000000LL

/* ---------------------------------------------------------------- crashes */

static struct queue *crash_q;

static void
crash_enqueue(void *arg)
{
	char id[QUEUE_ID_MAX];

	setenv("YUBIN_TEST_CRASH_AT", arg, 1);
	qt_enqueue(crash_q, QT_MSG, NOW, id);
	printf("# the crash point '%s' was not reached\n", (char *)arg);
}

static void
test_enqueue_crashes(void)
{
	static const struct { const char *point; int queued; } t[] = {
		{ "enqueue-after-create", 0 }, { "enqueue-mid-copy", 0 },
		{ "enqueue-after-write", 0 }, { "enqueue-after-link", 1 },
		{ "enqueue-after-commit", 1 },
	};
	struct queue_entries l;
	struct queue q;
	struct error err;

	error_init(&err);
	queue_open(&q, NULL, &err);
	crash_q = &q;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		int st = qt_child(crash_enqueue, (void *)t[i].point);
		size_t valid = 0;

		ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		    "%s: killed there", t[i].point);
		queue_scan(&q, QUEUE_MSG, false, &l, &err);
		for (size_t j = 0; j < l.n; j++)
			valid += l.v[j].valid;
		ok(l.n == (size_t)t[i].queued && valid == l.n,
		    "%s: %d message(s) in msg/, never a partial one",
		    t[i].point, t[i].queued);
		is_int(qt_count("tmp", "q."), 1, "%s: one file left in tmp/",
		    t[i].point);
		queue_cleanup(&q, (long long)time(NULL) + (t[i].queued ? 0 :
		    2 * 86400), QUEUE_TMP_MAX_AGE);
		is_int(qt_count("tmp", "q."), 0, "%s: the clean-up removes "
		    "it%s", t[i].point, t[i].queued ? " at once (already "
		    "linked)" : " when stale");
		for (size_t j = 0; j < l.n; j++)
			queue_remove(&q, l.v[j].id, &err);
		queue_entries_release(&l);
	}
	IGNORE(system("rm -f \"$XDG_STATE_HOME\"/yubin/queue/tmp/*"));
	queue_close(&q);
}

static void
test_disk_full(void)
{
	static const char *const points[] = { "enqueue-write",
	    "enqueue-fsync" };
	char id[QUEUE_ID_MAX];
	struct queue q;
	struct error err;

	error_init(&err);
	queue_open(&q, NULL, &err);
	for (size_t i = 0; i < ARRAY_SIZE(points); i++) {
		setenv("YUBIN_TEST_FAIL_AT", points[i], 1);
		ok(qt_enqueue_full(&q, QT_MSG, "work", "a@b.c", qt_rcpt, 1, 60,
		    NULL, NOW, id, &err) < 0 && err.kind == ERR_CANTCREAT &&
		    strstr(err.message, "No space left") != NULL,
		    "%s fails: %s", points[i], err.message);
		ok(qt_count("msg", NULL) == 0 && qt_count("tmp", "q.") == 0,
		    "%s: nothing queued, nothing left behind", points[i]);
	}
	unsetenv("YUBIN_TEST_FAIL_AT");
	queue_close(&q);
}

/* A real full file system: a 1 MiB tmpfs (root only). */
static void
test_tmpfs(void)
{
	char dir[PATH_MAX + 16], qdir[PATH_MAX + 32], id[QUEUE_ID_MAX];
	size_t len = 2 * 1024 * 1024;
	char *text = xmalloc(len + 1);
	struct envelope env = { .from = "a@b.c", .rcpt = qt_rcpt, .nrcpt = 1 };
	struct queue_new n = { .account = "work", .env = &env, .now = NOW };
	struct message m;
	struct queue q;
	struct error err;

	snprintf(dir, sizeof(dir), "%s/small", qt_dir);
	mkdir(dir, 0700);
	if (geteuid() != 0 || mount("tmpfs", dir, "tmpfs", 0,
	    "size=1m,mode=0700") < 0) {
		ok(1, "# SKIP a 1 MiB tmpfs needs root (mount: %s)",
		    strerror(errno));
		ok(1, "# SKIP");
		free(text);
		return;
	}
	memset(text, 'x', len);
	for (size_t i = 70; i < len; i += 71)
		text[i] = '\n';
	text[len] = '\0';
	snprintf(qdir, sizeof(qdir), "%s/queue", dir);
	error_init(&err);
	queue_open(&q, qdir, &err);
	qt_spool(&m, text, len, qt_dir);
	n.msg = &m;
	ok(queue_enqueue(&q, &n, id, &err) < 0 && err.kind == ERR_CANTCREAT &&
	    strstr(err.message, "No space left") != NULL,
	    "2 MiB into a 1 MiB tmpfs: %s", err.message);
	snprintf(qdir, sizeof(qdir), "find '%s/queue' -type f | grep -q .",
	    dir);
	ok(system(qdir) != 0, "nothing left in the queue");
	message_release(&m);
	queue_close(&q);
	umount(dir);
	free(text);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	qt_setup("test-queue-crash");
	test_enqueue_crashes();
	test_disk_full();
	test_tmpfs();
	if (tap_failed == 0)
		qt_cleanup();
	else
		printf("# scratch directory kept: %s\n", qt_dir);
	return done_testing();
}
