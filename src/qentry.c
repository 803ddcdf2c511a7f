/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qentry.c -- one queued message: load and check it, scan a directory of
 * them, lock one, record what happened to it (see queue.h).
 *
 * A file is trusted only when it is a regular file of ours reached without
 * a symbolic link, its envelope parses and its checksum matches, its size is
 * exactly what the envelope says and the trailer is in place, and one of
 * its state slots is valid. Anything else is refused and left alone.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mailenv.h"
#include "message.h"
#include "qentry.h"
#include "qfile.h"
#include "queue.h"
#include "util.h"

#define READ_CHUNK	(16 * 1024)

void
qentry_init(struct queue_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->valid = true;
	e->fd = -1;
}

/* "msg" or "failed"; the directory descriptor for w. */
static const char *
qentry_where_name(enum queue_where w)
{
	return w == QUEUE_MSG ? "msg" : "failed";
}

static int
qentry_where_fd(const struct queue *q, enum queue_where w)
{
	return w == QUEUE_MSG ? q->msgfd : q->failfd;
}

/* What a failure makes a message wait for (enum queue_wait). */
static enum queue_wait
qentry_wait(const struct error *err)
{
	if (err->unreachable)
		return QUEUE_WAIT_NET;
	if (err->reply_code >= 400 && err->reply_code <= 499)
		return QUEUE_WAIT_SERVER;
	return QUEUE_WAIT_OTHER;
}

void
qentry_set_error(struct queue_state *st, const struct error *err)
{
	char buf[ERROR_MSG_MAX + ERROR_REPLY_MAX + 8];

	st->wait = qentry_wait(err);
	util_strlcpy(st->kind, error_kind_name(err->kind), sizeof(st->kind));
	st->code = err->reply_code;
	util_oneline(st->esc, sizeof(st->esc), err->reply_esc);
	error_format(err, buf, sizeof(buf));
	util_oneline(st->error, sizeof(st->error), buf);
}

/* Free what e holds (and unlock it), keeping its ID and place. */
static void
entry_reset(struct queue_entry *e)
{
	char id[QUEUE_ID_MAX];
	enum queue_where w = e->where;

	util_strlcpy(id, e->id, sizeof(id));
	queue_entry_release(e);
	util_strlcpy(e->id, id, sizeof(e->id));
	e->where = w;
}

void
queue_entry_release(struct queue_entry *e)
{
	queue_unlock(e);
	free(e->config);
	free(e->account);
	free(e->from);
	for (size_t i = 0; i < e->nrcpt; i++)
		free(e->rcpt[i]);
	free(e->rcpt);
	free(e->dsn_notify);
	free(e->dsn_return);
	free(e->dsn_envid);
	qentry_init(e);
}

void
queue_unlock(struct queue_entry *e)
{
	if (e->fd >= 0)
		(void)close(e->fd);
	e->fd = -1;
}

static int __attribute__((format(printf, 2, 3)))
refuse(struct queue_entry *e, const char *fmt, ...)
{
	va_list ap;

	e->valid = false;
	va_start(ap, fmt);
	vsnprintf(e->problem, sizeof(e->problem), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---------------------------------------------------------------- IDs */

bool
queue_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= QUEUE_ID_MAX || id[0] == '-')
		return false;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-") == n;
}

long
queue_retry_delay(unsigned attempts)
{
	if (attempts <= 1)
		return QUEUE_RETRY_MIN;
	if (attempts > 7)
		return QUEUE_RETRY_MAX;
	return QUEUE_RETRY_MIN << (attempts - 1) > QUEUE_RETRY_MAX ?
	    QUEUE_RETRY_MAX : QUEUE_RETRY_MIN << (attempts - 1);
}

/* ---------------------------------------------------------------- load */

/* What looking for e's file found. */
enum entry_found {
	ENTRY_REFUSED = -1,	/* refuse()d: e->problem says why */
	ENTRY_FOUND = 0,
	ENTRY_GONE = 1,		/* not there (any more) */
};

/*
 * Open e's file (*fd, st), refusing anything but a regular file of ours
 * reached without a symbolic link.
 */
static enum entry_found
entry_open(struct queue *q, struct queue_entry *e, int flags, int *fd,
    struct stat *st)
{
	int dfd = qentry_where_fd(q, e->where);
	struct stat st0;

	if (fstatat(dfd, e->id, &st0, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? ENTRY_GONE : refuse(e, "%s",
		    strerror(errno));
	if (S_ISLNK(st0.st_mode))
		return refuse(e, "a symbolic link");
	if (!S_ISREG(st0.st_mode))
		return refuse(e, "not a regular file");
	if (st0.st_uid != geteuid())
		return refuse(e, "owned by uid %ld, not by you",
		    (long)st0.st_uid);
	*fd = openat(dfd, e->id, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? ENTRY_GONE : refuse(e, "%s",
		    errno == ELOOP ? "a symbolic link" : strerror(errno));
	if (fstat(*fd, st) < 0 || st->st_ino != st0.st_ino ||
	    st->st_dev != st0.st_dev) {
		(void)close(*fd);
		return ENTRY_GONE;	/* replaced under us: look again later */
	}
	return ENTRY_FOUND;
}

/* Read until the envelope's "end" line is in b. */
static int
read_header(struct queue_entry *e, int fd, struct dynbuf *b)
{
	char chunk[READ_CHUNK];
	const char *p;
	size_t from = 0, end = 0;	/* end: just after "\nend ", or 0 */
	ssize_t r;

	for (;;) {
		r = pread(fd, chunk, sizeof(chunk), (off_t)b->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return refuse(e, "cannot read it: %s", strerror(errno));
		if (r == 0)
			return refuse(e, "incomplete (no end of envelope)");
		if (dynbuf_add(b, chunk, (size_t)r) < 0)
			return refuse(e, "envelope too long");
		if (end == 0) {		/* what is new, and 4 bytes before */
			p = memmem(b->data + from, b->len - from, "\nend ", 5);
			end = p != NULL ? (size_t)(p - b->data) + 5 : 0;
			from = b->len > 4 ? b->len - 4 : 0;
		}
		if (end != 0 && memchr(b->data + end, '\n', b->len - end))
			return 0;
	}
}

/* The trailer and the state slots of a file whose envelope is parsed. */
static int
read_tail(struct queue_entry *e, int fd, size_t hdrlen,
    const struct stat *st)
{
	char trailer[QFILE_TRAILER_LEN], slots[2 * QFILE_SLOT];
	off_t want = qfile_total(hdrlen, e->size);

	if (st->st_size != want)
		return refuse(e, "incomplete or damaged (%lld bytes, "
		    "expected %lld)", (long long)st->st_size, (long long)want);
	e->slot_off = qfile_slot_off(hdrlen);
	e->body_off = qfile_body_off(hdrlen);
	if (pread(fd, trailer, sizeof(trailer), e->body_off +
	    (off_t)e->size) != (ssize_t)sizeof(trailer) ||
	    memcmp(trailer, QFILE_TRAILER, sizeof(trailer)) != 0)
		return refuse(e, "incomplete or damaged (no trailer)");
	if (pread(fd, slots, sizeof(slots), e->slot_off) !=
	    (ssize_t)sizeof(slots) ||
	    qfile_state_pick(slots, slots + QFILE_SLOT, &e->st) < 0)
		return refuse(e, "damaged (no valid state)");
	return 0;
}

/* Parse and check the open file of e (its fields must be clean). */
static int
entry_read(struct queue_entry *e, int fd, const struct stat *st)
{
	char name[QUEUE_ID_MAX], why[200];
	struct dynbuf b;
	size_t hdrlen = 0;
	int rc;

	util_strlcpy(name, e->id, sizeof(name));
	dynbuf_init(&b, QFILE_HEADER_MAX);
	rc = read_header(e, fd, &b);
	if (rc == 0 && qfile_header_parse(e, b.data, b.len, &hdrlen, why,
	    sizeof(why)) != QFILE_PARSE_DONE)
		rc = refuse(e, "%s", why);
	dynbuf_release(&b);
	if (rc == 0 && strcmp(e->id, name) != 0)
		rc = refuse(e, "its envelope names another ID");
	util_strlcpy(e->id, name, sizeof(e->id));
	if (rc == 0)
		rc = read_tail(e, fd, hdrlen, st);
	return rc;
}

/* Load e (id and where set) without locking. */
static enum entry_found
entry_load(struct queue *q, struct queue_entry *e)
{
	enum entry_found rc;
	struct stat st;
	int fd;

	rc = entry_open(q, e, O_RDONLY, &fd, &st);
	if (rc != ENTRY_FOUND)
		return rc;
	rc = entry_read(e, fd, &st) < 0 ? ENTRY_REFUSED : ENTRY_FOUND;
	(void)close(fd);
	return rc;
}

/* ---------------------------------------------------------------- scan */

static int
entry_cmp(const void *a, const void *b)
{
	const struct queue_entry *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void
entries_push(struct queue_entries *l, const struct queue_entry *e)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = *e;
}

/* One name of the directory: load it, push it unless it is gone. */
static void
scan_one(struct queue *q, enum queue_where w, const char *name, bool report,
    struct queue_entries *out)
{
	struct queue_entry e;

	qentry_init(&e);
	e.where = w;
	util_strlcpy(e.id, name, sizeof(e.id));
	if (!queue_id_valid(name))
		refuse(&e, "not a queue file name");
	else if (entry_load(q, &e) == ENTRY_GONE) {
		queue_entry_release(&e);
		return;
	}
	if (!e.valid && report)
		log_warn("refusing queue file '%s/%s/%s': %s", q->path,
		    qentry_where_name(w), e.id, e.problem);
	entries_push(out, &e);
}

int
queue_scan(struct queue *q, enum queue_where w, bool report,
    struct queue_entries *out, struct error *err)
{
	int fd = dup(qentry_where_fd(q, w));
	struct dirent *de;
	DIR *d;

	memset(out, 0, sizeof(*out));
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			(void)close(fd);
		return error_set(err, ERR_IOERR, "cannot read queue "
		    "directory '%s/%s': %s", q->path, qentry_where_name(w),
		    strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			scan_one(q, w, de->d_name, report, out);
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), entry_cmp);
	return 0;
}

void
queue_entries_release(struct queue_entries *l)
{
	for (size_t i = 0; i < l->n; i++)
		queue_entry_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
queue_load(struct queue *q, const char *id, struct queue_entry *e,
    struct error *err)
{
	enum queue_where w[] = { QUEUE_MSG, QUEUE_FAILED };

	qentry_init(e);
	if (!queue_id_valid(id))
		return error_set(err, ERR_USAGE, "'%s' is not a queue ID",
		    id);
	for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
		queue_entry_release(e);
		e->where = w[i];
		util_strlcpy(e->id, id, sizeof(e->id));
		if (entry_load(q, e) != ENTRY_GONE)
			return 0;
	}
	queue_entry_release(e);
	return error_set(err, ERR_USAGE, "no message '%s' in the queue", id);
}

/* ---------------------------------------------------------------- lock */

/* Open, flock, and check that the name still leads to the locked file. */
static enum queue_lock
lock_fd(struct queue *q, struct queue_entry *e, int *fdp, struct stat *st,
    struct error *err)
{
	int dfd = qentry_where_fd(q, e->where), fd, e2;
	enum entry_found found = entry_open(q, e, O_RDWR, &fd, st);
	struct stat now;

	if (found == ENTRY_GONE)
		return QUEUE_LOCK_GONE;
	if (found == ENTRY_REFUSED) {
		error_set(err, ERR_IOERR, "refusing queue file '%s/%s/%s': %s",
		    q->path, qentry_where_name(e->where), e->id, e->problem);
		return QUEUE_LOCK_ERROR;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		e2 = errno;
		(void)close(fd);
		if (e2 == EWOULDBLOCK)
			return QUEUE_LOCK_BUSY;
		error_set(err, ERR_OSERR, "cannot lock queue file '%s': %s",
		    e->id, strerror(e2));
		return QUEUE_LOCK_ERROR;
	}
	if (fstat(fd, st) < 0 || st->st_nlink == 0 ||
	    fstatat(dfd, e->id, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now.st_ino != st->st_ino || now.st_dev != st->st_dev) {
		(void)close(fd);
		return QUEUE_LOCK_GONE;	/* sent, moved or removed meanwhile */
	}
	*fdp = fd;
	return QUEUE_LOCK_HELD;
}

enum queue_lock
queue_lock(struct queue *q, struct queue_entry *e, struct error *err)
{
	enum queue_lock rc;
	struct stat st;
	int fd;

	rc = lock_fd(q, e, &fd, &st, err);
	if (rc != QUEUE_LOCK_HELD)
		return rc;
	entry_reset(e);
	if (entry_read(e, fd, &st) < 0) {
		(void)close(fd);
		error_set(err, ERR_IOERR, "refusing queue file '%s/%s/%s': %s",
		    q->path, qentry_where_name(e->where), e->id, e->problem);
		return QUEUE_LOCK_ERROR;
	}
	util_test_crash("flush-after-lock");
	e->fd = fd;
	return QUEUE_LOCK_HELD;
}

bool
queue_due(const struct queue_entry *e, long long now)
{
	return e->valid && e->where == QUEUE_MSG &&
	    e->st.status == QUEUE_ST_QUEUED && e->st.next <= now;
}

bool
queue_due_if_connected(const struct queue_entry *e, long long now)
{
	return queue_due(e, now) || (queue_due(e, LLONG_MAX) &&
	    e->st.wait != QUEUE_WAIT_SERVER);
}

/* ---------------------------------------------------------------- outcomes */

/* Write st into the slot after the current one and sync it. */
static int
state_write(struct queue *q, struct queue_entry *e, struct queue_state *st,
    struct error *err)
{
	char slot[QFILE_SLOT];
	off_t off;

	st->seq = e->st.seq + 1;
	qfile_state_encode(st, slot);
	off = e->slot_off + (off_t)(st->seq % 2) * QFILE_SLOT;
	if (util_test_armed("state-mid-write")) {
		(void)util_pwrite(e->fd, slot, sizeof(slot) / 2, off);
		(void)fdatasync(e->fd);
		util_test_crash("state-mid-write");
	}
	if (util_pwrite(e->fd, slot, sizeof(slot), off) < 0 ||
	    fdatasync(e->fd) < 0)
		return error_set(err, ERR_IOERR, "cannot update queue file "
		    "'%s/%s/%s': %s", q->path, qentry_where_name(e->where),
		    e->id, strerror(errno));
	e->st = *st;
	util_test_crash("state-after-write");
	return 0;
}

/* rename() e to the other directory; sync both. */
static int
entry_move(struct queue *q, struct queue_entry *e, enum queue_where to,
    struct error *err)
{
	int from = qentry_where_fd(q, e->where), tofd = qentry_where_fd(q, to);

	if (renameat(from, e->id, tofd, e->id) < 0)
		return error_set(err, ERR_IOERR, "cannot move queue file "
		    "'%s/%s/%s' to '%s/': %s", q->path,
		    qentry_where_name(e->where), e->id, qentry_where_name(to),
		    strerror(errno));
	util_test_crash(to == QUEUE_FAILED ? "fail-after-rename" :
	    "retry-after-rename");
	(void)fsync(tofd);
	(void)fsync(from);
	e->where = to;
	return 0;
}

int
queue_done(struct queue *q, struct queue_entry *e, struct error *err)
{
	int dfd = qentry_where_fd(q, e->where);

	if (unlinkat(dfd, e->id, 0) < 0 && errno != ENOENT)
		return error_set(err, ERR_IOERR, "message %s was sent but "
		    "cannot be removed from the queue (it will be sent "
		    "again): %s", e->id, strerror(errno));
	util_test_crash("flush-after-unlink");
	(void)fsync(dfd);
	return 0;
}

/* State FAILED, then to failed/. */
static int
fail_with(struct queue *q, struct queue_entry *e, struct queue_state *st,
    struct error *err)
{
	st->status = QUEUE_ST_FAILED;
	if (state_write(q, e, st, err) < 0)
		return -1;
	util_test_crash("fail-after-state");
	return entry_move(q, e, QUEUE_FAILED, err);
}

enum queue_defer
queue_defer(struct queue *q, struct queue_entry *e,
    const struct error *why, long long now, struct error *err)
{
	struct queue_state st = e->st;

	st.attempts++;
	st.last = now;
	qentry_set_error(&st, why);
	if (now >= st.expire)
		return fail_with(q, e, &st, err) < 0 ? QUEUE_DEFER_ERROR :
		    QUEUE_DEFER_EXPIRED;
	st.next = now;			/* the network: at the next flush */
	if (st.wait != QUEUE_WAIT_NET)
		st.next += queue_retry_delay(++st.backoff);
	if (st.next > st.expire)
		st.next = st.expire;
	return state_write(q, e, &st, err) < 0 ? QUEUE_DEFER_ERROR :
	    QUEUE_DEFER_LATER;
}

int
queue_fail(struct queue *q, struct queue_entry *e,
    const struct error *why, long long now, struct error *err)
{
	struct queue_state st = e->st;

	if (st.status != QUEUE_ST_QUEUED || why == NULL)
		return e->where == QUEUE_MSG ? entry_move(q, e, QUEUE_FAILED,
		    err) : 0;
	st.attempts++;
	st.last = now;
	qentry_set_error(&st, why);
	return fail_with(q, e, &st, err);
}

int
queue_reported(struct queue *q, struct queue_entry *e, struct error *err)
{
	struct queue_state st = e->st;

	st.status = QUEUE_ST_REPORTED;
	return state_write(q, e, &st, err);
}

int
queue_settle(struct queue *q, struct queue_entry *e, struct error *err)
{
	if (e->where == QUEUE_MSG && e->st.status != QUEUE_ST_QUEUED)
		return entry_move(q, e, QUEUE_FAILED, err);
	if (e->where == QUEUE_FAILED && e->st.status == QUEUE_ST_QUEUED)
		return entry_move(q, e, QUEUE_MSG, err);
	return 0;
}

/* ---------------------------------------------------------------- by ID */

int
queue_remove(struct queue *q, const char *id, struct error *err)
{
	enum queue_where w[] = { QUEUE_MSG, QUEUE_FAILED };
	struct queue_entry e;
	enum queue_lock lk;
	struct stat st;
	int fd, rc;

	if (!queue_id_valid(id))
		return error_set(err, ERR_USAGE, "'%s' is not a queue ID",
		    id);
	for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
		qentry_init(&e);
		e.where = w[i];
		util_strlcpy(e.id, id, sizeof(e.id));
		lk = lock_fd(q, &e, &fd, &st, err);
		if (lk == QUEUE_LOCK_GONE)
			continue;
		if (lk == QUEUE_LOCK_BUSY)
			return error_set(err, ERR_TEMP, "message %s is being "
			    "sent right now; try again later", id);
		if (lk == QUEUE_LOCK_ERROR)
			return -1;
		rc = unlinkat(qentry_where_fd(q, w[i]), id, 0);
		if (rc < 0)
			error_set(err, ERR_IOERR, "cannot remove '%s/%s/%s': "
			    "%s", q->path, qentry_where_name(w[i]), id,
			    strerror(errno));
		else
			(void)fsync(qentry_where_fd(q, w[i]));
		(void)close(fd);
		return rc < 0 ? -1 : 0;
	}
	return error_set(err, ERR_USAGE, "no message '%s' in the queue", id);
}

/* Make a locked e due now; a failed one starts over in msg/. */
static int
retry_locked(struct queue *q, struct queue_entry *e, long max_age,
    long long now, struct error *err)
{
	struct queue_state st = e->st;

	st.status = QUEUE_ST_QUEUED;
	st.next = now;
	if (e->where == QUEUE_MSG)
		return state_write(q, e, &st, err);
	st.attempts = 0;
	st.since = now;
	st.expire = now + (max_age > 0 ? max_age : QUEUE_MAX_AGE_DEFAULT);
	if (state_write(q, e, &st, err) < 0)
		return -1;
	return entry_move(q, e, QUEUE_MSG, err);
}

int
queue_retry(struct queue *q, const char *id, long max_age, long long now,
    struct error *err)
{
	struct queue_entry e;
	enum queue_lock lk;
	int rc = -1;

	if (queue_load(q, id, &e, err) < 0)
		return -1;
	lk = queue_lock(q, &e, err);
	if (lk == QUEUE_LOCK_BUSY || lk == QUEUE_LOCK_GONE)
		error_set(err, ERR_TEMP, "message %s is being sent right now "
		    "(or was just sent)", id);
	if (lk == QUEUE_LOCK_HELD)
		rc = retry_locked(q, &e, max_age, now, err);
	queue_entry_release(&e);
	return rc < 0 ? -1 : 0;
}

static bool
entry_of(const struct queue_entry *e, const char *config, const char *account)
{
	return (config == NULL || strcmp(e->config, config) == 0) &&
	    (account == NULL || strcmp(e->account, account) == 0);
}

bool
queue_pending(struct queue *q, const char *config, const char *account,
    long long now, bool connected)
{
	struct queue_entries l;
	const struct queue_entry *e;
	bool any = false;

	if (queue_scan(q, QUEUE_MSG, false, &l, NULL) < 0)
		return false;
	for (size_t i = 0; i < l.n && !any; i++) {
		e = &l.v[i];
		any = (connected ? queue_due_if_connected(e, now) :
		    queue_due(e, now)) && entry_of(e, config, account);
	}
	queue_entries_release(&l);
	return any;
}

size_t
queue_waiting(struct queue *q, const char *config, const char *account,
    long long now, long long *next)
{
	struct queue_entries l;
	const struct queue_entry *e;
	size_t n = 0;

	*next = 0;
	if (queue_scan(q, QUEUE_MSG, false, &l, NULL) < 0)
		return 0;
	for (size_t i = 0; i < l.n; i++) {
		e = &l.v[i];
		if (!queue_due(e, LLONG_MAX) || !entry_of(e, config, account))
			continue;
		n++;
		if (!queue_due(e, now) && (*next == 0 || e->st.next < *next))
			*next = e->st.next;
	}
	queue_entries_release(&l);
	return n;
}

void
queue_entry_envelope(const struct queue_entry *e, struct envelope *env)
{
	memset(env, 0, sizeof(*env));
	env->from = e->from;
	env->rcpt = (const char *const *)e->rcpt;
	env->nrcpt = e->nrcpt;
	env->dsn_notify = e->dsn_notify;
	env->dsn_return = e->dsn_return;
	env->dsn_envid = e->dsn_envid;
}

void
queue_entry_message(const struct queue_entry *e, struct message *m)
{
	message_init(m);
	m->fd = e->fd;
	m->offset = e->body_off;
	m->size = (off_t)e->size;
	m->eightbit = e->eightbit;
	m->utf8_header = e->utf8_header;
	m->keep = true;
}
