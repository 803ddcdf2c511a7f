/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-queue-wait.c -- why a queued message waits (enum queue_wait) and
 * what that does to its schedule: the server could not be reached -> due
 * again at once, the back-off does not grow; a 4xx -> back-off, also when
 * a connection to its account is up; anything else -> back-off, but it
 * rides along an open connection (queue_due_if_connected()). State slots
 * written before "defer" and "backoff" existed keep their schedule.
 * queue_waiting() for -q's "nothing due" line.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <signal.h>
#include <time.h>

#include "qentry.h"
#include "qfile.h"
#include "tap.h"
#include "qtest.h"

#define NOW 1700000000LL

static void
net_error(struct error *e)
{
	error_set(e, ERR_TEMP, "cannot connect to 'mx' port 587: Network is "
	    "unreachable");
	e->unreachable = true;
}

static void
test_net(void)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry e;
	struct queue q;
	struct error err, why;

	error_init(&err);
	net_error(&why);
	queue_open(&q, NULL, &err);
	ok(qt_enqueue_full(&q, QT_MSG, "work", "a@b.c", qt_rcpt, 1, 86400,
	    &why, NOW, id, &err) == 0, "enqueue after an unreachable server");
	qt_load_locked(&q, id, &e);
	ok(e.st.attempts == 1 && e.st.backoff == 0 && e.st.next == NOW &&
	    e.st.wait == QUEUE_WAIT_NET, "queued offline: due at once, no "
	    "back-off, waiting for the network");
	ok(queue_defer(&q, &e, &why, NOW + 300, &err) == QUEUE_DEFER_LATER &&
	    e.st.attempts == 2 && e.st.backoff == 0 && e.st.next == NOW + 300,
	    "still offline five minutes later: due again at once");
	error_set_reply(&why, ERR_TEMP, 451, "4.3.0", "451 4.3.0 try later",
	    "message deferred");
	ok(queue_defer(&q, &e, &why, NOW + 600, &err) == QUEUE_DEFER_LATER &&
	    e.st.wait == QUEUE_WAIT_SERVER && e.st.backoff == 1 &&
	    e.st.next == NOW + 660, "a 4xx: the server's back-off, a minute");
	ok(!queue_due(&e, NOW + 659) && !queue_due_if_connected(&e,
	    NOW + 659), "... waited out even with a connection up");
	net_error(&why);
	ok(queue_defer(&q, &e, &why, NOW + 700, &err) == QUEUE_DEFER_LATER &&
	    e.st.backoff == 1 && e.st.next == NOW + 700 &&
	    e.st.wait == QUEUE_WAIT_NET, "offline again: at once, the "
	    "back-off count kept");
	error_set_reply(&why, ERR_TEMP, 421, "4.7.0", "421 4.7.0 busy",
	    "message deferred");
	ok(queue_defer(&q, &e, &why, NOW + 800, &err) == QUEUE_DEFER_LATER &&
	    e.st.backoff == 2 && e.st.next == NOW + 920,
	    "the next 4xx doubles it: two minutes");
	queue_entry_release(&e);
	qt_load_locked(&q, id, &e);
	ok(e.st.backoff == 2 && e.st.wait == QUEUE_WAIT_SERVER &&
	    e.st.attempts == 5, "kept in the file: backoff, defer, attempts");
	net_error(&why);
	ok(queue_defer(&q, &e, &why, NOW + 86400, &err) ==
	    QUEUE_DEFER_EXPIRED, "offline past queue_max_age: expired");
	queue_entry_release(&e);
	queue_close(&q);
}

static void
test_other(void)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry e;
	struct queue q;
	struct error err, why;

	error_init(&err);
	queue_open(&q, NULL, &err);
	error_set(&why, ERR_AUTH, "authentication failed");
	ok(qt_enqueue_full(&q, QT_MSG, "work", "a@b.c", qt_rcpt, 1, 86400,
	    &why, NOW, id, &err) == 0, "enqueue after another failure");
	qt_load_locked(&q, id, &e);
	ok(e.st.wait == QUEUE_WAIT_OTHER && e.st.backoff == 1 &&
	    e.st.next == NOW + 60, "other: back-off, a minute");
	ok(!queue_due(&e, NOW + 30) && queue_due_if_connected(&e, NOW + 30),
	    "not due, but it rides along a connection that is up");
	e.st.status = QUEUE_ST_FAILED;
	ok(!queue_due_if_connected(&e, NOW + 30), "a failed one does not");
	queue_entry_release(&e);
	queue_close(&q);
}

/* An old slot: payload text, checksummed as qfile.c does. */
static int
old_slot(struct queue_state *st, const char *payload)
{
	char slot[QFILE_SLOT], prefix[40];
	size_t pre = sizeof("yubin-state ") - 1 + 16 + 1;

	memset(slot, 0, sizeof(slot));
	memcpy(slot + pre, payload, strlen(payload));
	snprintf(prefix, sizeof(prefix), "yubin-state %016" PRIx64 "\n",
	    qfile_fnv(slot + pre, QFILE_SLOT - pre, QFILE_FNV_INIT));
	memcpy(slot, prefix, pre);
	return qfile_state_decode(st, slot);
}

static void
test_old_slots(void)
{
	struct queue_state st;
	char slot[QFILE_SLOT];

	ok(old_slot(&st, "seq 5\nstatus queued\nattempts 3\nnext 100\n"
	    "last 90\nsince 1\nexpire 999\nkind tempfail\ncode 451\n"
	    "esc 4.3.0\nerror later\n") == 0 && st.backoff == 3 &&
	    st.wait == QUEUE_WAIT_SERVER && st.next == 100,
	    "old slot after a 4xx: server back-off, backoff = attempts, "
	    "next kept");
	ok(old_slot(&st, "seq 5\nstatus queued\nattempts 2\nnext 100\n"
	    "last 90\nsince 1\nexpire 999\nkind tempfail\ncode 0\nesc \n"
	    "error cannot connect\n") == 0 && st.backoff == 2 &&
	    st.wait == QUEUE_WAIT_OTHER, "old slot after a connection "
	    "failure: other (not known to be the network)");
	ok(old_slot(&st, "seq 2\nstatus queued\nattempts 0\nnext 100\n"
	    "last 0\nsince 1\nexpire 999\nkind \ncode 0\nesc \nerror \n") ==
	    0 && st.wait == QUEUE_WAIT_NONE && st.backoff == 0,
	    "old slot never tried: none");
	ok(old_slot(&st, "seq 2\nstatus queued\nattempts 4\nnext 100\n"
	    "last 0\nsince 1\nexpire 999\ndefer 1\nbackoff 1\n"
	    "future-key x y\n") == 0 && st.wait == QUEUE_WAIT_NET &&
	    st.backoff == 1, "new keys read; unknown keys skipped");
	ok(old_slot(&st, "seq 2\nstatus queued\nattempts 4\nnext 100\n"
	    "last 0\nsince 1\nexpire 999\ndefer 9\n") == 0 &&
	    st.wait == QUEUE_WAIT_OTHER, "an unknown defer value: other");
	st.wait = QUEUE_WAIT_NET;
	st.backoff = 7;
	qfile_state_encode(&st, slot);
	ok(strstr(slot, "\ndefer 1\nbackoff 7\n") != NULL,
	    "written as 'defer 1' (net) and 'backoff 7', numbers: an older "
	    "yubin skips them");
}

static void
test_waiting(void)
{
	char id[QUEUE_ID_MAX];
	struct queue q;
	struct error err, why;
	long long next;

	IGNORE(system("rm -f \"$XDG_STATE_HOME\"/yubin/queue/msg/*"));
	error_init(&err);
	queue_open(&q, NULL, &err);
	is_int((int)queue_waiting(&q, NULL, NULL, NOW, &next), 0,
	    "waiting: none");
	qt_enqueue(&q, QT_MSG, NOW, id);		/* due */
	error_set_reply(&why, ERR_TEMP, 452, "4.3.1", "452 full", "deferred");
	qt_enqueue_full(&q, QT_MSG, "home", "a@b.c", qt_rcpt, 1, 86400, &why,
	    NOW, id, &err);				/* NOW + 60 */
	error_set(&why, ERR_AUTH, "no");
	qt_enqueue_full(&q, QT_MSG, "home", "a@b.c", qt_rcpt, 1, 86400, &why,
	    NOW - 30, id, &err);			/* NOW + 30 */
	is_int((int)queue_waiting(&q, NULL, NULL, NOW, &next), 3,
	    "waiting: all three");
	is_int((int)(next - NOW), 30, "the earliest that is not due yet");
	is_int((int)queue_waiting(&q, NULL, "work", NOW, &next), 1,
	    "waiting: of one account");
	ok(next == 0, "... due, so no next time");
	ok(!queue_pending(&q, NULL, "home", NOW, false) &&
	    queue_pending(&q, NULL, "home", NOW, true),
	    "pending: only with a connection up (the 'other' one)");
	queue_close(&q);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	qt_setup("test-queue-wait");
	test_net();
	test_other();
	test_old_slots();
	test_waiting();
	if (tap_failed == 0)
		qt_cleanup();
	else
		printf("# scratch directory kept: %s\n", qt_dir);
	return done_testing();
}
