/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-flush.c -- the flush engine (flush.h) with a fake transport: one
 * connection per account, due/forced messages, temporary and permanent
 * failures, expiry, failure reports (never a report of a report), a
 * connection that cannot be opened or is dropped, limits, waiting for the
 * network (no back-off) or for the server (a 4xx), messages riding along
 * an open connection, kill -9 at every
 * crash point of a flush, concurrent flushes and enqueues (every message
 * sent exactly once), the background flush.
 */
#include "autoconfig.h"

#include <signal.h>
#include <sys/file.h>
#include <time.h>

#include "bounce.h"
#include "flush.h"
#include "tap.h"
#include "qtest.h"

#define NOW 1700000000LL

/* ---------------------------------------------------------------- fake */

struct fake {
	int opens, closes, sends;
	const char *fail_open;		/* account whose connection fails */
	bool offline;			/* ... as unreachable */
	bool usable;
	struct dynbuf log;		/* "open ACCOUNT" / "send ID" lines */
	struct dynbuf report;		/* the last message from <> */
	char record[PATH_MAX];		/* append "ID\n" per 250, if set */
	int delay_ms;
};

static struct fake fake;

static void
fake_reset(void)
{
	dynbuf_release(&fake.log);
	dynbuf_release(&fake.report);
	memset(&fake, 0, sizeof(fake));
	dynbuf_init(&fake.log, 1 << 20);
	dynbuf_init(&fake.report, 1 << 20);
}

static int
fake_open(void *arg, const char *config, const char *account, void **conn,
    struct error *err)
{
	fake.opens++;
	dynbuf_printf(&fake.log, "open %s\n", account);
	if (fake.fail_open != NULL && strcmp(account, fake.fail_open) == 0) {
		error_set(err, ERR_TEMP, "cannot connect to 'mx' port 587: "
		    "Connection refused");
		err->unreachable = fake.offline;
		return -1;
	}
	fake.usable = true;
	*conn = &fake;
	return 0;
}

static void
fake_reply(struct error *err, enum error_kind kind, int code,
    const char *esc, const char *text)
{
	error_set(err, kind, "recipient rejected");
	snprintf(err->reply, sizeof(err->reply), "%d %s %s", code, esc, text);
	err->reply_code = code;
	util_strlcpy(err->reply_esc, esc, sizeof(err->reply_esc));
}

/* The message m (of a locked entry), checked to be readable in full. */
static void
fake_capture(const struct envelope *env, const struct message *m)
{
	char *p = xmalloc((size_t)m->size + 1);
	ssize_t len = pread(m->fd, p, (size_t)m->size, m->offset);

	if (env->from[0] == '\0' && len >= 0) {
		dynbuf_reset(&fake.report);
		dynbuf_add(&fake.report, p, (size_t)len);
	}
	free(p);
}

/*
 * LMTP (a first recipient "lmtp..."): a verdict per recipient by the
 * start of its local part (after "lmtp-"): "temp" deferred (452 4.2.2),
 * "perm" rejected (552 5.2.2), else sent; each failed one named in err as
 * smtp.c does.
 */
static int
fake_lmtp(const struct envelope *env, struct error *err)
{
	size_t temp = 0, perm = 0;
	struct dynbuf why;

	dynbuf_init(&why, ERROR_MSG_MAX - 1);
	for (size_t i = 0; i < env->nrcpt; i++) {
		const char *r = env->rcpt[i];

		r += strncmp(r, "lmtp-", 5) == 0 ? 5 : 0;
		env->status[i] = strncmp(r, "temp", 4) == 0 ?
		    ENVELOPE_RCPT_DEFERRED : strncmp(r, "perm", 4) == 0 ?
		    ENVELOPE_RCPT_REJECTED : ENVELOPE_RCPT_SENT;
		if (env->status[i] != ENVELOPE_RCPT_SENT)
			dynbuf_printf(&why, "%srecipient '%s' %s", temp + perm
			    > 0 ? "\n" : "", env->rcpt[i], *r == 't' ?
			    "deferred: 452 4.2.2 full" :
			    "rejected: 552 5.2.2 over quota");
		temp += strncmp(r, "temp", 4) == 0;
		perm += strncmp(r, "perm", 4) == 0;
	}
	if (temp + perm > 0)
		error_set(err, perm > 0 ? ERR_NOUSER : ERR_TEMP, "%s",
		    why.data);
	dynbuf_release(&why);
	return temp + perm > 0 ? -1 : 0;
}

static int
fake_send(void *conn, const char *id, const struct envelope *env,
    struct message *m, struct error *err)
{
	const char *r = env->rcpt[0];
	struct timespec ts = { 0, fake.delay_ms * 1000000L };
	int fd;

	fake.sends++;
	dynbuf_printf(&fake.log, "send %s <%s> %s\n", id, env->from, r);
	if (fake.delay_ms > 0)
		nanosleep(&ts, NULL);
	fake_capture(env, m);
	for (size_t i = 1; i < env->nrcpt; i++)
		dynbuf_printf(&fake.log, "  and %s\n", env->rcpt[i]);
	if (strncmp(r, "lmtp", 4) == 0)
		return fake_lmtp(env, err);
	if (strncmp(r, "temp", 4) == 0) {
		fake_reply(err, ERR_TEMP, 451, "4.3.0", "try later");
		return -1;
	}
	if (strncmp(r, "perm", 4) == 0) {
		fake_reply(err, ERR_NOUSER, 550, "5.1.1", "no such user");
		return -1;
	}
	if (strncmp(r, "drop", 4) == 0) {
		fake.usable = false;
		return error_set(err, ERR_TEMP, "connection closed by server");
	}
	if (fake.record[0] != '\0') {
		fd = open(fake.record, O_WRONLY | O_APPEND | O_CREAT, 0600);
		dprintf(fd, "%s\n", id);
		close(fd);
	}
	return 0;
}

static bool
fake_usable(void *conn)
{
	return fake.usable;
}

static void
fake_close(void *conn)
{
	fake.closes++;
}

static const struct flush_transport fake_tr = {
	.open = fake_open, .send = fake_send, .usable = fake_usable,
	.close = fake_close,
};

/* ---------------------------------------------------------------- helpers */

static struct flush_stats st;

static bool connected;		/* flush_opts.connected */

static int
run(struct queue *q, long long now, bool force, size_t max)
{
	struct flush_opts o = { .now = now, .force = force,
	    .max_messages = max, .transport = &fake_tr,
	    .connected = connected };
	struct error err;
	int rc;

	error_init(&err);
	rc = flush_run(q, &o, &st, &err);
	if (rc < 0)
		printf("# flush: %s\n", err.message);
	return rc;
}

static int
put(struct queue *q, const char *account, const char *from,
    const char *rcpt, long max_age, long long now, char *id)
{
	const char *const r[] = { rcpt };
	struct error err;

	error_init(&err);
	if (qt_enqueue_full(q, QT_MSG, account, from, r, 1, max_age, NULL,
	    now, id, &err) < 0) {
		printf("# enqueue: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int
count_lines(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; p != NULL && (p = strstr(p, needle));
	    p++)
		n++;
	return n;
}

static void
empty_queue(struct queue *q)
{
	IGNORE(system("rm -f \"$XDG_STATE_HOME\"/yubin/queue/msg/* "
	    "\"$XDG_STATE_HOME\"/yubin/queue/failed/*"));
	(void)q;
}

/* ---------------------------------------------------------------- cases */

static void
test_basic(struct queue *q)
{
	char id[5][QUEUE_ID_MAX], later[QUEUE_ID_MAX];
	struct queue_entry e;
	struct error err, why;

	fake_reset();
	error_init(&err);
	error_init(&why);
	put(q, "work", "alice@example.com", "bob@example.org", 0, NOW, id[0]);
	put(q, "home", "alice@home.example", "bob@example.org", 0, NOW - 5,
	    id[1]);
	put(q, "work", "alice@example.com", "dan@example.org", 0, NOW - 10,
	    id[2]);
	put(q, "work", "alice@example.com", "eve@example.org", 0, NOW - 20,
	    id[3]);
	/* one that is not due for a while: the server said so */
	fake_reply(&why, ERR_TEMP, 451, "4.3.0", "later");
	qt_enqueue_full(q, QT_MSG, "work", "alice@example.com", qt_rcpt, 1,
	    86400, &why, NOW, later, &err);
	is_int(run(q, NOW, false, 0), 0, "flush");
	ok(st.sent == 4 && st.deferred == 0 && st.failed == 0,
	    "four sent (%zu/%zu/%zu)", st.sent, st.deferred, st.failed);
	is_int(fake.opens, 2, "one connection per account");
	is_int(fake.closes, 2, "each closed");
	ok(strstr(fake.log.data, "open home\n") < strstr(fake.log.data,
	    "open work\n"), "accounts in order");
	ok(strstr(fake.log.data, id[3]) < strstr(fake.log.data, id[2]) &&
	    strstr(fake.log.data, id[2]) < strstr(fake.log.data, id[0]),
	    "oldest first within an account");
	is_int(qt_count("msg", NULL), 1, "the one not due is still queued");
	is_int(run(q, NOW, false, 0), 0, "flush again");
	is_int(st.sent, 0, "nothing due");
	is_int(run(q, NOW, true, 0), 0, "forced flush");
	is_int(st.sent, 1, "sends it anyway");
	is_int(qt_count("msg", NULL), 0, "queue empty");
	(void)e;
}

static void
test_temp(struct queue *q)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry e;
	struct error err;

	fake_reset();
	error_init(&err);
	put(q, "work", "alice@example.com", "temp@example.org", 0, NOW, id);
	run(q, NOW, false, 0);
	is_int(st.deferred, 1, "4xx: deferred");
	queue_load(q, id, &e, &err);
	ok(e.st.attempts == 1 && e.st.next == NOW + 60 &&
	    strstr(e.st.error, "451 4.3.0 try later") != NULL,
	    "attempt counted, next in a minute, reply kept");
	queue_entry_release(&e);
	run(q, NOW + 59, false, 0);
	is_int(fake.sends, 1, "not tried again before it is due");
	run(q, NOW + 60, false, 0);
	queue_load(q, id, &e, &err);
	ok(fake.sends == 2 && e.st.attempts == 2 && e.st.next == NOW + 180,
	    "tried again when due; next wait two minutes");
	queue_entry_release(&e);
	empty_queue(q);
}

static void
test_perm(struct queue *q)
{
	char id[QUEUE_ID_MAX];
	const char *r;
	struct queue_entry e;
	struct error err;

	fake_reset();
	error_init(&err);
	put(q, "work", "alice@example.com", "perm@example.org", 0, NOW, id);
	setenv("TZ", "Asia/Kolkata", 1);	/* report dates are UTC */
	tzset();
	run(q, NOW, false, 0);
	unsetenv("TZ");
	tzset();
	ok(st.failed == 1 && st.reports == 1 && st.sent == 1,
	    "5xx: failed, reported, the report sent (%zu/%zu/%zu)",
	    st.failed, st.reports, st.sent);
	is_int(fake.opens, 1, "the report went over the same connection");
	ok(count_lines(fake.log.data, "send ") == 2 && strstr(fake.log.data,
	    "<> alice@example.com\n") != NULL, "from <> to the sender");
	queue_load(q, id, &e, &err);
	ok(e.where == QUEUE_FAILED && e.st.status == QUEUE_ST_REPORTED,
	    "the message is in failed/, reported");
	queue_entry_release(&e);
	is_int(qt_count("msg", NULL), 0, "nothing left to send");
	r = fake.report.data != NULL ? fake.report.data : "";
	ok(strstr(r, "\r\nSubject: undeliverable: Hello there\r\n") != NULL,
	    "Subject: undeliverable: <original subject>");
	ok(strstr(r, "To: <alice@example.com>\r\n") != NULL &&
	    strstr(r, "Auto-Submitted: auto-replied\r\n") != NULL &&
	    strstr(r, "Content-Type: multipart/report; "
	    "report-type=delivery-status;") != NULL, "report headers");
	ok(strstr(r, "Final-Recipient: rfc822; perm@example.org\r\n"
	    "Action: failed\r\nStatus: 5.1.1\r\n") != NULL,
	    "delivery status with the enhanced code");
	ok(strstr(r, "Reason: recipient rejected: 550 5.1.1 no such user") !=
	    NULL, "the reason in plain text");
	ok(strstr(r, "yubin --queue-retry ") != NULL, "how to retry");
	ok(strstr(r, "\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n") != NULL &&
	    strstr(r, "\r\nArrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n")
	    != NULL && strstr(r, "\r\nLast-Attempt-Date: Tue, 14 Nov 2023 "
	    "22:13:20 +0000\r\n") != NULL, "report dates in UTC");
	ok(strstr(r, "Content-Type: text/rfc822-headers\r\n\r\nFrom: Alice "
	    "<alice@example.com>\r\n") != NULL && strstr(r,
	    "Message-ID: <1@example.com>\r\n") != NULL && strstr(r,
	    "Hi Bob") == NULL, "the original headers, not its body");
	ok(r[strlen(r) - 1] == '\n' && strstr(r, "--\r\n") ==
	    r + strlen(r) - 4, "closing boundary");
	empty_queue(q);
}

static void
test_no_report(struct queue *q)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry e;
	struct error err;
	const char *const rc[] = { "perm@example.org" };
	struct envelope env = { .from = "alice@example.com", .rcpt = rc,
	    .nrcpt = 1, .dsn_notify = "NEVER" };
	struct message m;
	struct queue_new n = { .account = "work", .env = &env, .msg = &m,
	    .now = NOW };

	fake_reset();
	error_init(&err);
	/* a report that fails itself is not reported */
	put(q, "work", "perm-alice@example.com", "perm@example.org", 0, NOW,
	    id);
	run(q, NOW, false, 0);
	ok(st.failed == 2 && st.reports == 1 && st.sent == 0,
	    "the report failed too: 2 failed, 1 report (%zu/%zu/%zu)",
	    st.failed, st.reports, st.sent);
	is_int(qt_count("failed", NULL), 2, "both in failed/");
	run(q, NOW, false, 0);
	ok(st.reports == 0 && fake.sends == 2, "and nothing more, ever");
	empty_queue(q);
	/* NOTIFY=NEVER */
	qt_spool(&m, QT_MSG, strlen(QT_MSG), NULL);
	queue_enqueue(q, &n, id, &err);
	message_release(&m);
	run(q, NOW, false, 0);
	queue_load(q, id, &e, &err);
	ok(st.failed == 1 && st.reports == 0 &&
	    e.st.status == QUEUE_ST_REPORTED, "NOTIFY=NEVER: no report");
	queue_entry_release(&e);
	empty_queue(q);
}

static void
test_expire(struct queue *q)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry e;
	struct error err;

	fake_reset();
	error_init(&err);
	put(q, "work", "alice@example.com", "temp@example.org", 300, NOW, id);
	run(q, NOW, false, 0);
	run(q, NOW + 60, false, 0);
	queue_load(q, id, &e, &err);
	ok(st.deferred == 1 && e.st.attempts == 2 && e.st.next == NOW + 180,
	    "deferred twice");
	queue_entry_release(&e);
	run(q, NOW + 301, true, 0);
	queue_load(q, id, &e, &err);
	ok(st.failed == 1 && st.reports == 1 && e.where == QUEUE_FAILED,
	    "older than its max age: failed and reported");
	queue_entry_release(&e);
	ok(strstr(fake.report.data, "Status: 4.4.7\r\n") != NULL &&
	    strstr(fake.report.data, "gave up after 3 attempts") != NULL,
	    "the report says it expired");
	empty_queue(q);
}

static void
test_connections(struct queue *q)
{
	char id[6][QUEUE_ID_MAX];
	struct queue_entry e;
	struct error err;

	fake_reset();
	error_init(&err);
	fake.fail_open = "broken";
	put(q, "broken", "a@example.com", "x@example.org", 0, NOW, id[0]);
	put(q, "broken", "a@example.com", "y@example.org", 0, NOW, id[1]);
	put(q, "work", "a@example.com", "drop@example.org", 0, NOW - 9, id[2]);
	put(q, "work", "a@example.com", "z@example.org", 0, NOW - 8, id[3]);
	run(q, NOW, false, 0);
	ok(count_lines(fake.log.data, "open broken") == 1,
	    "a connection that fails is tried once per run");
	queue_load(q, id[1], &e, &err);
	ok(e.st.attempts == 1 && strstr(e.st.error, "Connection refused") !=
	    NULL, "every message of that account deferred with its error");
	queue_entry_release(&e);
	ok(count_lines(fake.log.data, "open work") == 2 && st.sent == 1 &&
	    st.deferred == 3, "a dropped connection is opened again for the "
	    "next message");
	empty_queue(q);
	fake_reset();
	for (int i = 0; i < 5; i++)
		put(q, "work", "a@example.com", "ok@example.org", 0, NOW - i,
		    id[i]);
	run(q, NOW, false, 2);
	ok(st.sent == 2 && st.left == 3, "max_messages 2: 2 sent, 3 left");
	run(q, NOW, false, 0);
	is_int(st.sent, 3, "the rest next time");
}

/* Offline: no back-off; back online: at once; riders; a 4xx waits. */
static void
test_wait(struct queue *q)
{
	char id[4][QUEUE_ID_MAX];
	struct queue_entry e;
	struct error err;

	fake_reset();
	error_init(&err);
	fake.fail_open = "work";
	fake.offline = true;
	put(q, "work", "a@example.com", "x@example.org", 0, NOW, id[0]);
	put(q, "work", "a@example.com", "temp@example.org", 0, NOW, id[1]);
	run(q, NOW, false, 0);
	run(q, NOW + 1, false, 0);
	queue_load(q, id[0], &e, &err);
	ok(count_lines(fake.log.data, "open work") == 2 && st.deferred == 2 &&
	    st.deferred_net == 2 && e.st.attempts == 2 && e.st.next ==
	    NOW + 1 && e.st.backoff == 0, "offline: every run tries again, "
	    "no back-off (next %+lld)", e.st.next - NOW);
	queue_entry_release(&e);
	fake.fail_open = NULL;
	run(q, NOW + 2, false, 0);
	ok(st.sent == 1 && st.deferred == 1 && st.deferred_net == 0 &&
	    st.next == NOW + 62, "back online: sent at once; the 4xx one "
	    "waits a minute");
	fake_reset();
	put(q, "work", "a@example.com", "y@example.org", 0, NOW + 3, id[2]);
	fake.fail_open = "work";
	run(q, NOW + 3, false, 0);	/* y: auth-like failure, not offline */
	fake.fail_open = NULL;
	put(q, "work", "a@example.com", "z@example.org", 0, NOW + 4, id[3]);
	run(q, NOW + 4, false, 0);
	ok(st.sent == 2 && strstr(fake.log.data, id[2]) != NULL &&
	    strstr(fake.log.data, id[1]) == NULL, "a due one opens the "
	    "connection: the other one rides along, the 4xx one does not");
	fake_reset();
	put(q, "home", "a@example.com", "x@example.org", 0, NOW, id[0]);
	fake.fail_open = "home";
	run(q, NOW, false, 0);
	fake.fail_open = NULL;
	run(q, NOW + 5, false, 0);
	is_int(fake.opens, 1, "nothing due: no connection for a rider");
	connected = true;
	run(q, NOW + 5, false, 0);
	connected = false;
	ok(st.sent == 1 && fake.opens == 2, "the caller's connection is up "
	    "(connected): the rider goes over it");
	empty_queue(q);
}

static void
test_busy(struct queue *q)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry e;
	struct queue q2;
	struct error err;

	fake_reset();
	error_init(&err);
	queue_open(&q2, NULL, &err);
	put(q, "work", "a@example.com", "ok@example.org", 0, NOW, id);
	queue_load(&q2, id, &e, &err);
	queue_lock(&q2, &e, &err);
	run(q, NOW, false, 0);
	ok(st.busy == 1 && st.sent == 0 && fake.sends == 0,
	    "a message locked by another process is skipped");
	queue_unlock(&e);
	queue_flush_lock(&q2, 0, &err);
	run(q, NOW, false, 0);
	ok(st.locked_out && fake.sends == 0, "a second flush does nothing");
	queue_flush_unlock(&q2);
	run(q, NOW, false, 0);
	is_int(st.sent, 1, "then it goes");
	queue_entry_release(&e);
	queue_close(&q2);
}

/* ---------------------------------------------------------------- crashes */

static struct queue *child_q;
static long long child_now;

static void
crash_flush(void *point)
{
	setenv("YUBIN_TEST_CRASH_AT", point, 1);
	run(child_q, child_now, false, 0);
	printf("# the crash point '%s' was not reached\n", (char *)point);
}

static int
recorded(const char *id)
{
	char got[128];
	FILE *f = fopen(fake.record, "r");
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(got, sizeof(got), f) != NULL) {
		got[strcspn(got, "\n")] = '\0';
		n += strcmp(got, id) == 0;
	}
	fclose(f);
	return n;
}

/* Kill a flush at point; then flush again normally. */
static int
crash_then_flush(struct queue *q, const char *point, long long now)
{
	int status;

	child_q = q;
	child_now = now;
	status = qt_child(crash_flush, (void *)point);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "%s: killed there", point);
	unsetenv("YUBIN_TEST_CRASH_AT");
	return run(q, now, false, 0);
}

static void
test_crashes(struct queue *q)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry e;
	struct error err;

	error_init(&err);
	fake_reset();
	snprintf(fake.record, sizeof(fake.record), "%s/record", qt_dir);
	put(q, "work", "a@example.com", "ok@example.org", 0, NOW, id);
	crash_then_flush(q, "flush-after-lock", NOW);
	is_int(recorded(id), 1, "flush-after-lock: sent once by the next "
	    "flush");
	put(q, "work", "a@example.com", "ok@example.org", 0, NOW, id);
	crash_then_flush(q, "flush-after-250", NOW);
	is_int(recorded(id), 2, "flush-after-250: sent again (the one "
	    "duplicate), never lost");
	is_int(qt_count("msg", NULL), 0, "and then gone");
	put(q, "work", "a@example.com", "ok@example.org", 0, NOW, id);
	crash_then_flush(q, "flush-after-unlink", NOW);
	is_int(recorded(id), 1, "flush-after-unlink: sent once");
	put(q, "work", "a@example.com", "temp@example.org", 0, NOW, id);
	crash_then_flush(q, "state-mid-write", NOW);
	queue_load(q, id, &e, &err);
	ok(e.valid && e.st.attempts == 1 && e.where == QUEUE_MSG,
	    "state-mid-write: torn slot ignored, still queued (%s)",
	    e.problem);
	queue_entry_release(&e);
	empty_queue(q);
	put(q, "work", "a@example.com", "perm@example.org", 0, NOW, id);
	crash_then_flush(q, "fail-after-state", NOW);
	queue_load(q, id, &e, &err);
	ok(e.where == QUEUE_FAILED && e.st.status == QUEUE_ST_REPORTED &&
	    st.reports == 1, "fail-after-state: moved and reported by the "
	    "next flush");
	queue_entry_release(&e);
	empty_queue(q);
	put(q, "work", "a@example.com", "perm@example.org", 0, NOW, id);
	crash_then_flush(q, "fail-after-rename", NOW);
	queue_load(q, id, &e, &err);
	ok(e.st.status == QUEUE_ST_REPORTED && st.reports == 1,
	    "fail-after-rename: reported by the next flush");
	queue_entry_release(&e);
	empty_queue(q);
	put(q, "work", "a@example.com", "perm@example.org", 0, NOW, id);
	dynbuf_reset(&fake.log);
	crash_then_flush(q, "bounce-after-enqueue", NOW);
	ok(st.reports == 1 && count_lines(fake.log.data, "<> a@example.com")
	    == 2, "bounce-after-enqueue: one duplicate report at most");
	empty_queue(q);
}

/* ---------------------------------------------------------------- races */

struct racer {
	int n;			/* messages to enqueue */
	char ids[PATH_MAX];	/* file: the IDs enqueued */
	char stop[PATH_MAX];	/* flushers run until this exists */
};

static struct racer racer;

static void
enqueuer(void *arg)
{
	char id[QUEUE_ID_MAX];
	struct queue q;
	struct error err;
	long long t0, worst = 0;
	int fd;

	error_init(&err);
	if (queue_open(&q, NULL, &err) < 0)
		_exit(1);
	for (int i = 0; i < racer.n; i++) {
		t0 = util_now_ms();
		if (put(&q, "work", "a@example.com", "ok@example.org", 0,
		    (long long)time(NULL), id) < 0)
			_exit(1);
		if (util_now_ms() - t0 > worst)
			worst = util_now_ms() - t0;
		fd = open(racer.ids, O_WRONLY | O_APPEND | O_CREAT, 0600);
		dprintf(fd, "%s\n", id);
		close(fd);
	}
	_exit(worst > 2000 ? 2 : 0);
}

static void
flusher(void *arg)
{
	struct flush_opts o = { .transport = &fake_tr, .lock_wait_ms = -1 };
	struct queue q;
	struct error err;

	error_init(&err);
	if (queue_open(&q, NULL, &err) < 0)
		_exit(1);
	while (access(racer.stop, F_OK) < 0)
		if (flush_run(&q, &o, &st, &err) < 0)
			_exit(1);
	(void)flush_run(&q, &o, &st, &err);
	_exit(0);
}

static pid_t
start(void (*fn)(void *))
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fn(NULL);
		_exit(0);
	}
	return pid;
}

/* Every enqueued ID sent exactly once, nothing else sent. */
static void
check_exactly_once(const char *what, int want)
{
	char got[128], cmd[3 * PATH_MAX];
	FILE *f;
	int n = 0, twice = 0, lines = 0;

	snprintf(cmd, sizeof(cmd), "sort '%s' | uniq -c | awk '$1 != 1' | "
	    "wc -l; sort -u '%s' | wc -l; sort '%s' '%s' | uniq -u | wc -l",
	    fake.record, racer.ids, fake.record, racer.ids);
	f = popen(cmd, "r");
	if (f != NULL && fgets(got, sizeof(got), f) != NULL)
		twice = (int)strtol(got, NULL, 10);
	if (f != NULL && fgets(got, sizeof(got), f) != NULL)
		n = (int)strtol(got, NULL, 10);
	if (f != NULL && fgets(got, sizeof(got), f) != NULL)
		lines = (int)strtol(got, NULL, 10);
	if (f != NULL)
		pclose(f);
	ok(n == want && twice == 0 && lines == 0, "%s: %d enqueued, every "
	    "one sent exactly once (dups %d, unmatched %d)", what, n, twice,
	    lines);
}

static void
test_races(struct queue *q)
{
	pid_t enq[8], fl[3];
	int status, slow = 0, fd;
	size_t i;

	fake_reset();
	fake.delay_ms = 3;
	snprintf(fake.record, sizeof(fake.record), "%s/race-sent", qt_dir);
	snprintf(racer.ids, sizeof(racer.ids), "%s/race-ids", qt_dir);
	snprintf(racer.stop, sizeof(racer.stop), "%s/race-stop", qt_dir);
	racer.n = 12;
	for (i = 0; i < ARRAY_SIZE(fl); i++)
		fl[i] = start(flusher);
	for (i = 0; i < ARRAY_SIZE(enq); i++)
		enq[i] = start(enqueuer);
	for (i = 0; i < ARRAY_SIZE(enq); i++) {
		waitpid(enq[i], &status, 0);
		slow += WIFEXITED(status) && WEXITSTATUS(status) == 2;
	}
	is_int(slow, 0, "no enqueue waited for a running flush (> 2 s)");
	fd = open(racer.stop, O_WRONLY | O_CREAT, 0600);
	close(fd);
	for (i = 0; i < ARRAY_SIZE(fl); i++)
		waitpid(fl[i], &status, 0);
	run(q, (long long)time(NULL), false, 0);
	check_exactly_once("8 enqueuers, 3 flushers", 8 * 12);
	is_int(qt_count("msg", NULL), 0, "queue empty");
}

static void
test_spawn(struct queue *q)
{
	struct flush_opts o = { .transport = &fake_tr, .lock_wait_ms = 5000 };
	char id[QUEUE_ID_MAX];
	struct error err;
	long long t0;
	int i;

	fake_reset();
	fake.delay_ms = 1500;		/* the send takes 1.5 s */
	snprintf(fake.record, sizeof(fake.record), "%s/spawn", qt_dir);
	error_init(&err);
	put(q, "work", "a@example.com", "ok@example.org", 0, NOW, id);
	t0 = util_now_ms();
	is_int(flush_spawn(NULL, &o, &err), 0, "flush_spawn");
	ok(util_now_ms() - t0 < 1000, "returns without waiting for the send "
	    "(%lld ms)", util_now_ms() - t0);
	for (i = 0; i < 100 && recorded(id) == 0; i++)
		usleep(50000);
	is_int(recorded(id), 1, "the background flush sent it");
}

/*
 * LMTP: a message that reached some recipients: the rest queued again on
 * their own, the rejected ones failed and reported, the original gone;
 * the next flush sends only to the rest.
 */
static void
test_split(struct queue *q)
{
	const char *const r[] = { "lmtp1@example.org", "temp@example.org",
	    "perm@example.org", "lmtp2@example.org" };
	char id[QUEUE_ID_MAX];
	struct queue_entries l;
	struct error err;

	fake_reset();
	error_init(&err);
	qt_enqueue_full(q, QT_MSG, "work", "alice@example.com", r, 4, 0, NULL,
	    NOW, id, &err);
	is_int(run(q, NOW, false, 0), 0, "split: flush");
	ok(st.sent == 2 && st.deferred == 1 && st.failed == 1 &&
	    st.reports == 1, "split: sent (and the report), one deferred "
	    "part, one failed part, a report (%zu/%zu/%zu/%zu)", st.sent, st.deferred, st.failed,
	    st.reports);
	is_int(qt_count("msg", id), 0, "split: the original is gone");
	queue_scan(q, QUEUE_MSG, false, &l, &err);
	ok(l.n == 1 && l.v[0].nrcpt == 1 &&
	    strcmp(l.v[0].rcpt[0], "temp@example.org") == 0 &&
	    l.v[0].st.attempts == 1 && l.v[0].st.next == NOW + 60,
	    "split: temp@ alone queued again, due after the back-off");
	queue_entries_release(&l);
	queue_scan(q, QUEUE_FAILED, false, &l, &err);
	ok(l.n == 1 && l.v[0].nrcpt == 1 &&
	    strcmp(l.v[0].rcpt[0], "perm@example.org") == 0,
	    "split: perm@ alone failed");
	queue_entries_release(&l);
	ok(strstr(fake.report.data, "perm@example.org") != NULL &&
	    strstr(fake.report.data, "lmtp1@example.org") == NULL,
	    "split: the report names the rejected recipient only");
	ok(strstr(fake.report.data, "Status: 5.2.2\r\n") != NULL,
	    "split: the report has the server's own status code");
	fake_reset();
	is_int(run(q, NOW + 60, false, 0), 0, "split: flush when due");
	ok(strstr(fake.log.data, "temp@example.org") != NULL &&
	    strstr(fake.log.data, "lmtp1@") == NULL &&
	    strstr(fake.log.data, "lmtp2@") == NULL &&
	    strstr(fake.log.data, "perm@") == NULL,
	    "split: only temp@ tried again, nobody twice");
	empty_queue(q);
}

/*
 * LMTP: nobody has it, one deferred, one rejected: the deferred one queued
 * again alone, the rejected one failed and reported with its own code and
 * reply, the original gone, nothing counted as sent.
 */
static void
test_split_none_sent(struct queue *q)
{
	const char *const r[] = { "lmtp-temp@example.org",
	    "lmtp-perm@example.org" };
	char id[QUEUE_ID_MAX];
	struct queue_entries l;
	struct error err;

	fake_reset();
	error_init(&err);
	qt_enqueue_full(q, QT_MSG, "work", "alice@example.com", r, 2, 0, NULL,
	    NOW, id, &err);
	is_int(run(q, NOW, false, 0), 0, "none sent: flush");
	ok(st.sent == 1 && st.deferred == 1 && st.failed == 1 &&
	    st.reports == 1, "none sent: one deferred part, one failed part, "
	    "a report, only that sent (%zu/%zu/%zu/%zu)", st.sent, st.deferred,
	    st.failed, st.reports);
	is_int(qt_count("msg", id), 0, "none sent: the original is gone");
	queue_scan(q, QUEUE_MSG, false, &l, &err);
	ok(l.n == 1 && l.v[0].nrcpt == 1 &&
	    strcmp(l.v[0].rcpt[0], "lmtp-temp@example.org") == 0 &&
	    strcmp(l.v[0].st.error, "recipient 'lmtp-temp@example.org' "
	    "deferred: 452 4.2.2 full") == 0,
	    "none sent: the deferred one alone queued, with its own error");
	queue_entries_release(&l);
	queue_scan(q, QUEUE_FAILED, false, &l, &err);
	ok(l.n == 1 && l.v[0].nrcpt == 1 &&
	    strcmp(l.v[0].rcpt[0], "lmtp-perm@example.org") == 0,
	    "none sent: the rejected one alone failed");
	queue_entries_release(&l);
	ok(strstr(fake.report.data, "\r\nFinal-Recipient: rfc822; "
	    "lmtp-perm@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n"
	    "Diagnostic-Code: smtp; recipient 'lmtp-perm@example.org' "
	    "rejected: 552 5.2.2 over quota\r\n") != NULL &&
	    strstr(fake.report.data, "lmtp-temp@") == NULL,
	    "none sent: the report: its status, its reply, nobody else");
	fake_reset();
	is_int(run(q, NOW + 60, false, 0), 0, "none sent: flush when due");
	ok(strstr(fake.log.data, "lmtp-temp@example.org") != NULL &&
	    strstr(fake.log.data, "lmtp-perm@") == NULL,
	    "none sent: only the deferred one tried again");
	empty_queue(q);
}

int
main(void)
{
	struct queue q;
	struct error err;

	signal(SIGPIPE, SIG_IGN);
	qt_setup("test-flush");
	error_init(&err);
	if (queue_open(&q, NULL, &err) < 0)
		bail_out("%s", err.message);
	test_basic(&q);
	test_temp(&q);
	test_perm(&q);
	test_split(&q);
	test_split_none_sent(&q);
	test_no_report(&q);
	test_expire(&q);
	test_connections(&q);
	test_wait(&q);
	test_busy(&q);
	test_crashes(&q);
	test_races(&q);
	test_spawn(&q);
	queue_close(&q);
	fake_reset();
	dynbuf_release(&fake.log);
	dynbuf_release(&fake.report);
	if (tap_failed == 0)
		qt_cleanup();
	else
		printf("# scratch directory kept: %s\n", qt_dir);
	return done_testing();
}
