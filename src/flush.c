/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * flush.c -- see flush.h. The engine decides what to send, in which order
 * and over which connection, and records every outcome in the queue; how
 * a message goes out is the transport's business (deliver.c's SMTP, a fake
 * in the unit tests).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "error.h"
#include "flush.h"
#include "log.h"
#include "mailenv.h"
#include "message.h"
#include "qsplit.h"
#include "queue.h"
#include "util.h"

#define FLUSH_MAX_OPENS	3	/* connections per account and run */

struct flush {
	struct queue *q;
	const struct flush_opts *o;
	const struct flush_transport *tr;
	struct flush_stats *st;
	long long start_ms;
	size_t attempts;
	/* the account being flushed */
	void *conn;
	struct error open_err;	/* why it could not connect, or ERR_NONE */
	int opens;
};

static void flush_entry(struct flush *f, struct queue_entry *e, bool rides);

static long long
flush_now(const struct flush *f)
{
	return f->o->now != 0 ? f->o->now : (long long)time(NULL);
}

/* Whether the run has used up its allowance (checked between messages). */
static bool
flush_limit(const struct flush *f)
{
	const struct flush_opts *o = f->o;

	return (o->max_messages > 0 && f->attempts >= o->max_messages) ||
	    (o->max_seconds > 0 &&
	    util_now_ms() - f->start_ms >= o->max_seconds * 1000LL);
}

/* A failure of the message itself, not of the server or of us. */
static bool
flush_permanent(const struct error *err)
{
	return err->kind == ERR_DATAERR || err->kind == ERR_NOUSER ||
	    err->kind == ERR_UNAVAILABLE || err->kind == ERR_USAGE;
}

/* Due now (queue_due()); forced: every waiting one, due or not. */
static bool
flush_wanted(const struct flush *f, const struct queue_entry *e)
{
	return queue_due(e, f->o->force ? LLONG_MAX : flush_now(f));
}

/*
 * Not due, but its account's connection is up (or is the caller's, open
 * already) and the server did not ask it to wait: it goes over it.
 */
static bool
flush_rides(const struct flush *f, const struct queue_entry *e)
{
	return (f->conn != NULL || (f->o->connected && f->opens == 0)) &&
	    queue_due_if_connected(e, flush_now(f));
}

static bool
flush_match(const struct flush *f, const struct queue_entry *e)
{
	const struct flush_opts *o = f->o;

	return (o->account == NULL || strcmp(o->account, e->account) == 0) &&
	    (o->config == NULL || strcmp(o->config, e->config) == 0);
}

/* "bob@example.org" or "bob@example.org and 2 more" */
static const char *
rcpt_text(const struct queue_entry *e, char *buf, size_t size)
{
	if (e->nrcpt > 1)
		snprintf(buf, size, "%s and %zu more", e->rcpt[0],
		    e->nrcpt - 1);
	else
		snprintf(buf, size, "%s", e->nrcpt ? e->rcpt[0] : "?");
	return buf;
}

/* ---------------------------------------------------------------- reports */

/* Send the queued report id now if the connection is still up. */
static void
flush_send_now(struct flush *f, const char *id)
{
	struct queue_entry b;
	struct error err;

	if (f->conn == NULL || !f->tr->usable(f->conn) || flush_limit(f))
		return;
	error_init(&err);
	if (queue_load(f->q, id, &b, &err) == 0 && b.valid)
		flush_entry(f, &b, false);
	queue_entry_release(&b);
}

/* Queue the failure report of e (locked, FAILED, in failed/). */
static int
flush_enqueue_report(struct flush *f, struct queue_entry *e, char *id,
    struct error *err)
{
	const char *rcpt[1] = { e->from };
	struct envelope env = { .from = "", .rcpt = rcpt, .nrcpt = 1 };
	struct queue_new n = {
		.config = e->config[0] != '\0' ? e->config : NULL,
		.account = e->account, .env = &env, .now = flush_now(f),
		.max_age = e->st.expire > e->st.since ?
		    (long)(e->st.expire - e->st.since) : QUEUE_MAX_AGE_DEFAULT,
	};
	struct message m;
	int rc;

	if (bounce_build(f->q, e, flush_now(f), &m, err) < 0)
		return -1;
	n.msg = &m;
	rc = queue_enqueue(f->q, &n, id, err);
	message_release(&m);
	return rc;
}

static void
flush_report(struct flush *f, struct queue_entry *e)
{
	char id[QUEUE_ID_MAX];
	struct error err;

	error_init(&err);
	if (!bounce_wanted(e)) {
		if (queue_reported(f->q, e, &err) < 0)
			log_warn("%s", err.message);
		return;
	}
	if (flush_enqueue_report(f, e, id, &err) < 0) {
		log_warn("cannot report the failure of message %s to %s: %s",
		    e->id, e->from, err.message);
		return;			/* FAILED: the next run tries again */
	}
	util_test_crash("bounce-after-enqueue");
	f->st->reports++;
	log_verbose("failure of message %s reported to %s (report %s)",
	    e->id, e->from, id);
	if (queue_reported(f->q, e, &err) < 0)
		log_warn("%s", err.message);
	flush_send_now(f, id);
}

/* ---------------------------------------------------------------- outcomes */

static void
flush_failed(struct flush *f, struct queue_entry *e, const char *how)
{
	char to[300];

	f->st->failed++;
	log_warn("message %s to %s %s: %s; kept in %s/failed/%s", e->id,
	    rcpt_text(e, to, sizeof(to)), how, e->st.error, f->q->path,
	    e->id);
	flush_report(f, e);
}

/* Count a deferred e; the first reason of each kind for the summary. */
static void
flush_deferred(struct flush *f, const struct queue_entry *e, long long now)
{
	struct flush_stats *st = f->st;
	bool net = e->st.wait == QUEUE_WAIT_NET;
	char *why = net ? st->why_net : st->why;

	st->deferred++;
	if (net)
		st->deferred_net++;
	else if (st->next == 0 || e->st.next < st->next)
		st->next = e->st.next;
	if (why[0] == '\0')
		util_strlcpy(why, e->st.error, sizeof(st->why));
	log_verbose("message %s deferred (attempt %u, next in %llds): %s",
	    e->id, e->st.attempts, e->st.next - now, e->st.error);
}

/* Record a failed attempt: permanent -> failed/, else deferred. */
static void
flush_outcome(struct flush *f, struct queue_entry *e,
    const struct error *why, bool sent)
{
	long long now = flush_now(f);
	enum queue_defer rc;
	struct error err;

	error_init(&err);
	if (sent && flush_permanent(why)) {
		if (queue_fail(f->q, e, why, now, &err) == 0)
			flush_failed(f, e, "failed permanently");
		else
			log_warn("%s", err.message);
		return;
	}
	rc = queue_defer(f->q, e, why, now, &err);
	if (rc == QUEUE_DEFER_ERROR)
		log_warn("%s", err.message);
	else if (rc == QUEUE_DEFER_EXPIRED)
		flush_failed(f, e, "expired");
	else
		flush_deferred(f, e, now);
}

/* ---------------------------------------------------------------- sending */

/* Whether the account being flushed has a connection for e. */
enum flush_conn {
	FLUSH_CONN_OPEN,	/* f->conn */
	FLUSH_CONN_FAILED,	/* cannot connect: f->open_err says why */
	FLUSH_CONN_GAVE_UP,	/* dropped FLUSH_MAX_OPENS times: not now */
};

static enum flush_conn
flush_connect(struct flush *f, const struct queue_entry *e)
{
	if (f->conn != NULL)
		return FLUSH_CONN_OPEN;
	if (f->open_err.kind != ERR_NONE)
		return FLUSH_CONN_FAILED;
	if (f->opens >= FLUSH_MAX_OPENS)
		return FLUSH_CONN_GAVE_UP;
	f->opens++;
	if (f->tr->open(f->tr->arg, e->config, e->account, &f->conn,
	    &f->open_err) == 0)
		return FLUSH_CONN_OPEN;
	f->conn = NULL;
	if (f->open_err.kind == ERR_NONE)
		error_set(&f->open_err, ERR_TEMP, "cannot connect");
	log_verbose("queue: account '%s': %s", e->account,
	    f->open_err.message);
	return FLUSH_CONN_FAILED;
}

static void
flush_sent(struct flush *f, struct queue_entry *e)
{
	struct error err;

	error_init(&err);
	util_test_crash("flush-after-250");
	if (queue_done(f->q, e, &err) < 0) {
		log_warn("%s", err.message);
		return;
	}
	f->st->sent++;
	log_verbose("message %s sent", e->id);
}

/*
 * A copy of locked e for the recipients of part, as a new queue file:
 * due after the back-off, expiring when e does. Its ID into id.
 */
static int
flush_requeue(struct flush *f, const struct queue_entry *e,
    const struct envelope *part, const struct error *why, char *id,
    struct error *err)
{
	long long now = flush_now(f);
	struct message m;
	struct error own;
	struct queue_new n = { .config = e->config, .account = e->account,
	    .env = part, .msg = &m, .failure = &own, .now = now,
	    .max_age = e->st.expire > now ? (long)(e->st.expire - now) : 1 };

	queue_envelope_why(why, part, &own);
	queue_entry_message(e, &m);
	return queue_enqueue(f->q, &n, id, err);
}

/* The rejected recipients of a split: a file of their own, failed now. */
static int
flush_split_rejected(struct flush *f, const struct queue_entry *e,
    const struct envelope *part, const struct error *why, struct error *err)
{
	char id[QUEUE_ID_MAX];
	struct queue_entry r;
	struct error own;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.fd = -1;
	queue_envelope_why(why, part, &own);
	if (flush_requeue(f, e, part, why, id, err) < 0 ||
	    queue_load(f->q, id, &r, err) < 0)
		goto out;
	if (queue_lock(f->q, &r, err) != QUEUE_LOCK_HELD) {
		error_set(err, ERR_TEMP, "cannot lock the new message %s", id);
		goto out;
	}
	if (queue_fail(f->q, &r, &own, flush_now(f), err) < 0)
		goto out;
	flush_failed(f, &r, "failed permanently");
	rc = 0;
out:
	queue_entry_release(&r);
	return rc;
}

/*
 * The server took e for some recipients and not for others, or deferred
 * some and rejected the others (LMTP): those
 * still to try go to a new queue file, the rejected ones to a failure
 * report, and e goes: nobody who has it gets it again. When the new file
 * cannot be written, e stays as it is (deferred): a duplicate later rather
 * than a loss; when only the report cannot, that is said and e goes.
 */
static void
flush_split(struct flush *f, struct queue_entry *e,
    const struct envelope *env, const struct error *why)
{
	char id[QUEUE_ID_MAX];
	struct envelope later, rejected = { 0 };
	struct error err;

	error_init(&err);
	if (queue_envelope_part(env, false, &later) > 0) {
		if (flush_requeue(f, e, &later, why, id, &err) < 0) {
			log_warn("message %s: %s", e->id, err.message);
			flush_outcome(f, e, why, false);
			goto out;
		}
		f->st->deferred++;
		log_verbose("message %s: %zu of %zu recipients deferred, "
		    "queued as %s", e->id, later.nrcpt, env->nrcpt, id);
	}
	if (queue_envelope_part(env, true, &rejected) > 0 &&
	    flush_split_rejected(f, e, &rejected, why, &err) < 0)
		log_warn("message %s: cannot report its refused recipients: "
		    "%s", e->id, err.message);
	if (env->nrcpt > later.nrcpt + rejected.nrcpt)
		flush_sent(f, e);
	else if (queue_done(f->q, e, &err) < 0)	/* nobody had it */
		log_warn("%s", err.message);
out:
	free((void *)later.rcpt);
	free((void *)rejected.rcpt);
}

/* Hand locked e to the transport, record the outcome. */
static void
flush_attempt(struct flush *f, struct queue_entry *e)
{
	struct envelope env;
	struct message m;
	struct error err;

	error_init(&err);
	queue_entry_envelope(e, &env);
	queue_entry_message(e, &m);
	env.status = xcalloc(e->nrcpt + 1, sizeof(*env.status));
	if (f->tr->send(f->conn, e->id, &env, &m, &err) == 0)
		flush_sent(f, e);
	else if (queue_envelope_split(&env))
		flush_split(f, e, &env, &err);
	else
		flush_outcome(f, e, &err, true);
	free(env.status);
}

/*
 * Lock e, send it if it is (still) due (rides: if it still may ride
 * along the open connection), record the outcome, unlock.
 */
static void
flush_entry(struct flush *f, struct queue_entry *e, bool rides)
{
	enum queue_lock lk;
	enum flush_conn c;
	struct error err;

	error_init(&err);
	lk = queue_lock(f->q, e, &err);
	if (lk != QUEUE_LOCK_HELD) {
		if (lk == QUEUE_LOCK_ERROR)
			log_warn("%s", err.message);
		else
			f->st->busy++;	/* or gone: sent by someone else */
		return;
	}
	if (rides ? !flush_rides(f, e) : !flush_wanted(f, e)) {
		queue_unlock(e);	/* another flush got there first */
		return;
	}
	c = flush_connect(f, e);
	if (rides && c != FLUSH_CONN_OPEN)
		;			/* not due: no attempt without one */
	else if (c == FLUSH_CONN_GAVE_UP)
		f->st->left++;
	else if (c == FLUSH_CONN_FAILED)
		flush_outcome(f, e, &f->open_err, false);
	else {
		f->attempts++;
		flush_attempt(f, e);
	}
	queue_unlock(e);
	if (f->conn != NULL && !f->tr->usable(f->conn)) {
		f->tr->close(f->conn);
		f->conn = NULL;
	}
}

/*
 * Every due message of one account (v[0..ndue)) over one connection,
 * then the others of v that may ride along it while it is up.
 */
static void
flush_group(struct flush *f, struct queue_entry **v, size_t ndue, size_t n)
{
	f->conn = NULL;
	error_init(&f->open_err);
	f->opens = 0;
	for (size_t i = 0; i < n; i++) {
		if (flush_limit(f)) {
			f->st->left += ndue > i ? ndue - i : 0;
			break;
		}
		if (i < ndue)
			flush_entry(f, v[i], false);
		else if (flush_rides(f, v[i]))
			flush_entry(f, v[i], true);
	}
	if (f->conn != NULL)
		f->tr->close(f->conn);
	f->conn = NULL;
}

/* A message to send in this run: due, or one that may ride along. */
struct flush_item {
	struct queue_entry *e;
	bool due;
};

/* By account, the due ones first, then oldest first. */
static int
group_cmp(const void *a, const void *b)
{
	const struct flush_item *p = a, *r = b;
	const struct queue_entry *x = p->e, *y = r->e;
	int c = strcmp(x->config, y->config);

	if (c == 0)
		c = strcmp(x->account, y->account);
	if (c == 0 && p->due != r->due)
		c = p->due ? -1 : 1;
	if (c == 0 && x->created != y->created)
		c = x->created < y->created ? -1 : 1;
	return c != 0 ? c : strcmp(x->id, y->id);
}

static bool
same_account(const struct queue_entry *x, const struct queue_entry *y)
{
	return strcmp(x->config, y->config) == 0 &&
	    strcmp(x->account, y->account) == 0;
}

/* Finish what a crash interrupted: a half-done move, a missing report. */
static void
flush_settle(struct flush *f, struct queue_entry *e)
{
	enum queue_lock lk;
	struct error err;

	error_init(&err);
	lk = queue_lock(f->q, e, &err);
	if (lk != QUEUE_LOCK_HELD) {
		if (lk == QUEUE_LOCK_ERROR)
			log_warn("%s", err.message);
		return;
	}
	if (queue_settle(f->q, e, &err) < 0)
		log_warn("%s", err.message);
	else if (e->where == QUEUE_FAILED && e->st.status == QUEUE_ST_FAILED)
		flush_report(f, e);
	queue_unlock(e);
}

/* Settle (and report) every entry of w left half-way by a crash. */
static int
flush_settle_dir(struct flush *f, enum queue_where w, struct error *err)
{
	struct queue_entries l;
	const struct queue_entry *e;

	if (queue_scan(f->q, w, w == QUEUE_FAILED, &l, err) < 0)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		e = &l.v[i];
		if (e->valid && (w == QUEUE_MSG ?
		    e->st.status != QUEUE_ST_QUEUED :
		    e->st.status != QUEUE_ST_REPORTED))
			flush_settle(f, &l.v[i]);
	}
	queue_entries_release(&l);
	return 0;
}

/*
 * One account's items it[0..n) (due ones first): a connection only when
 * one is due, or the caller's is open already (o->connected).
 */
static void
flush_account(struct flush *f, const struct flush_item *it, size_t n)
{
	struct queue_entry **v = xcalloc(n, sizeof(*v));
	size_t ndue = 0;

	for (size_t i = 0; i < n; i++) {
		v[i] = it[i].e;
		ndue += it[i].due;
	}
	if (ndue > 0 || f->o->connected)
		flush_group(f, v, ndue, n);
	free(v);
}

/* Send every wanted message of msg/, one account at a time. */
static int
flush_queue(struct flush *f, struct error *err)
{
	struct queue_entries l;
	struct flush_item *it;
	struct queue_entry *e;
	size_t n = 0, i, j;

	if (queue_scan(f->q, QUEUE_MSG, true, &l, err) < 0)
		return -1;
	it = xcalloc(l.n + 1, sizeof(*it));
	for (i = 0; i < l.n; i++) {
		e = &l.v[i];
		if (!flush_match(f, e))
			continue;
		if (flush_wanted(f, e))
			it[n++] = (struct flush_item){ e, true };
		else if (queue_due_if_connected(e, flush_now(f)))
			it[n++] = (struct flush_item){ e, false };
	}
	if (n > 1)
		qsort(it, n, sizeof(*it), group_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && same_account(it[i].e, it[j].e); j++)
			continue;
		flush_account(f, it + i, j - i);
	}
	free(it);
	queue_entries_release(&l);
	return 0;
}

int
flush_run(struct queue *q, const struct flush_opts *o,
    struct flush_stats *st, struct error *err)
{
	struct flush f = { .q = q, .o = o, .st = st, .tr = o->transport };
	enum queue_lock lk;
	int rc;

	memset(st, 0, sizeof(*st));
	if (f.tr == NULL)
		return error_set(err, ERR_SOFTWARE, "flush: no transport");
	f.start_ms = util_now_ms();
	lk = queue_flush_lock(q, o->lock_wait_ms, err);
	if (lk != QUEUE_LOCK_HELD) {
		st->locked_out = lk == QUEUE_LOCK_BUSY;
		return lk == QUEUE_LOCK_ERROR ? -1 : 0;
	}
	queue_cleanup(q, flush_now(&f), QUEUE_TMP_MAX_AGE);
	rc = flush_settle_dir(&f, QUEUE_FAILED, err);
	if (rc == 0)
		rc = flush_settle_dir(&f, QUEUE_MSG, err);
	if (rc == 0)
		rc = flush_queue(&f, err);
	queue_flush_unlock(q);
	return rc;
}

/* ---------------------------------------------------------------- telling */

/* "14:05" today, else "2024-05-01 14:05" (local time). */
static const char *
tell_time(long long t, long long now, char *buf, size_t size)
{
	time_t tt = (time_t)t, tn = (time_t)now;
	struct tm a, b;

	if (localtime_r(&tt, &a) == NULL || localtime_r(&tn, &b) == NULL)
		snprintf(buf, size, "%lld", t);
	else
		strftime(buf, size, a.tm_yday == b.tm_yday && a.tm_year ==
		    b.tm_year ? "%H:%M" : "%Y-%m-%d %H:%M", &a);
	return buf;
}

static const char *
messages(size_t n)
{
	return n == 1 ? "message" : "messages";
}

/* Nothing was tried: why not. */
static void
tell_idle(struct queue *q, const struct flush_opts *o, long long now,
    FILE *out)
{
	long long next;
	size_t n = queue_waiting(q, o->config, o->account, now, &next);
	char when[32];

	if (n == 0 && o->account != NULL)
		fprintf(out, "yubin: nothing queued for account '%s'\n",
		    o->account);
	else if (n == 0)
		fprintf(out, "yubin: the queue is empty\n");
	else if (next == 0)
		fprintf(out, "yubin: nothing sent: %zu waiting, being sent "
		    "by another yubin\n", n);
	else
		fprintf(out, "yubin: nothing due: %zu waiting, next at %s; "
		    "`yubin -q --force` sends now\n", n,
		    tell_time(next, now, when, sizeof(when)));
}

void
flush_tell(struct queue *q, const struct flush_opts *o,
    const struct flush_stats *st, FILE *out)
{
	long long now = o->now != 0 ? o->now : (long long)time(NULL);
	size_t other = st->deferred - st->deferred_net;
	char when[32];

	if (st->locked_out) {
		fprintf(out, "yubin: another flush is running; it sends the "
		    "queue\n");
		return;
	}
	if (st->sent + st->deferred + st->failed == 0) {
		tell_idle(q, o, now, out);
		return;
	}
	if (st->sent > 0)
		fprintf(out, "yubin: sent %zu %s\n", st->sent,
		    messages(st->sent));
	if (st->deferred_net > 0)
		fprintf(out, "yubin: %zu %s deferred: %s; the next `yubin -q` "
		    "tries again\n", st->deferred_net,
		    messages(st->deferred_net), st->why_net);
	if (other > 0)
		fprintf(out, "yubin: %zu %s deferred: %s; next attempt at %s "
		    "(`yubin -q --force` sends now)\n", other, messages(other),
		    st->why, tell_time(st->next, now, when, sizeof(when)));
}

/* ---------------------------------------------------------------- spawn */

/* In the detached grandchild: run the flush, never return. */
static void __attribute__((noreturn))
spawn_child(const char *queue_path, const struct flush_opts *o)
{
	struct flush_opts co = *o;
	struct flush_stats st;
	struct queue q;
	struct error err;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			(void)close(fd);
	}
	error_init(&err);
	if (queue_open(&q, queue_path, &err) == 0)
		(void)flush_run(&q, &co, &st, &err);
	queue_close(&q);
	_exit(0);
}

int
flush_spawn(const char *queue_path, const struct flush_opts *o,
    struct error *err)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return error_set(err, ERR_OSERR, "cannot start a background "
		    "flush: %s", strerror(errno));
	if (pid == 0) {
		/* child: detach, leave the work to a grandchild */
		(void)setsid();
		pid = fork();
		if (pid == 0)
			spawn_child(queue_path, o);
		_exit(pid < 0 ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		continue;
	return 0;
}
