/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * queue.c -- see queue.h. Directories, new IDs, enqueue, the tmp/
 * clean-up, the flush lock. Loading, locking and the outcomes of an
 * attempt are in qentry.c; the bytes of a queue file in qfile.c;
 * --queue-list in qlist.c.
 *
 * Every file operation is relative to a directory descriptor opened once
 * with O_NOFOLLOW and checked (ours, not writable by others), so a path
 * swapped under us cannot send us elsewhere.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailenv.h"
#include "message.h"
#include "qentry.h"
#include "qfile.h"
#include "queue.h"
#include "util.h"

#define COPY_CHUNK	(64 * 1024)
#define RANDLEN		10

/* ---------------------------------------------------------------- dirs */

int
queue_default_dir(char *buf, size_t size, struct error *err)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(buf, size, "%s/yubin/queue", x);
	else {
		if (home == NULL || home[0] != '/') {
			pw = getpwuid(getuid());
			if (pw == NULL || pw->pw_dir == NULL ||
			    pw->pw_dir[0] != '/')
				return error_set(err, ERR_CANTCREAT, "cannot "
				    "find the queue directory: no home "
				    "directory");
			home = pw->pw_dir;
		}
		n = snprintf(buf, size, "%s/.local/state/yubin/queue", home);
	}
	if (n < 0 || (size_t)n >= size)
		return error_set(err, ERR_CANTCREAT, "queue directory name "
		    "too long");
	return 0;
}

/* Open (creating it) the subdirectory name of the queue. */
static int
open_sub(struct queue *q, const char *name, int *out, struct error *err)
{
	char why[128];

	if (mkdirat(q->dirfd, name, 0700) < 0 && errno != EEXIST)
		return error_set(err, ERR_CANTCREAT, "cannot create queue "
		    "directory '%s/%s': %s", q->path, name, strerror(errno));
	*out = util_open_private_dir(q->dirfd, name, why, sizeof(why));
	if (*out < 0)
		return error_set(err, ERR_CANTCREAT, "refusing queue "
		    "directory '%s/%s': %s", q->path, name, why);
	return 0;
}

int
queue_open(struct queue *q, const char *path, struct error *err)
{
	char buf[PATH_MAX], why[128];

	memset(q, 0, sizeof(*q));
	q->dirfd = q->tmpfd = q->msgfd = q->failfd = q->lockfd = -1;
	if (path == NULL) {
		if (queue_default_dir(buf, sizeof(buf), err) < 0)
			return -1;
		path = buf;
	}
	q->path = xstrdup(path);
	if (util_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf) ||
	    util_mkdir_p(buf) < 0)
		return error_set(err, ERR_CANTCREAT, "cannot create queue "
		    "directory '%s': %s", path, strerror(errno));
	q->dirfd = util_open_private_dir(AT_FDCWD, path, why, sizeof(why));
	if (q->dirfd < 0)
		return error_set(err, ERR_CANTCREAT, "refusing queue "
		    "directory '%s': %s", path, why);
	if (open_sub(q, "tmp", &q->tmpfd, err) < 0 ||
	    open_sub(q, "msg", &q->msgfd, err) < 0 ||
	    open_sub(q, "failed", &q->failfd, err) < 0)
		return -1;
	return 0;
}

void
queue_close(struct queue *q)
{
	int *fds[] = { &q->dirfd, &q->tmpfd, &q->msgfd, &q->failfd,
	    &q->lockfd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			(void)close(*fds[i]);
		*fds[i] = -1;
	}
	free(q->path);
	q->path = NULL;
}

/* ---------------------------------------------------------------- IDs */

/* "20240501T093012-Ab3dEf9xQz": UTC time (sorts), random part. */
static void
make_id(char *id, long long now)
{
	time_t t = (time_t)now;
	struct tm tm;
	char rnd[RANDLEN + 1];

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	util_random_name(rnd, RANDLEN);
	snprintf(id, QUEUE_ID_MAX, "%04d%02d%02dT%02d%02d%02d-%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, rnd);
}

/* ---------------------------------------------------------------- enqueue */

/* util_pwrite() with the disk-full hook. */
static int
enqueue_pwrite(int fd, const void *p, size_t n, off_t off)
{
	if (util_test_fail("enqueue-write"))
		return -1;
	return util_pwrite(fd, p, n, off);
}

/* How a copy of the message into the queue file went. */
enum copy_result {
	COPY_DONE,
	COPY_FAILED,		/* a read or write failed: errno */
	COPY_SHORT,		/* the spool file ended too soon */
};

/* The rest of a copy with pread/pwrite. */
static enum copy_result
copy_rw(int in, off_t *inoff, int out, off_t *outoff, long long *left)
{
	char *buf = xmalloc(COPY_CHUNK);
	long long size = *left;
	enum copy_result rc = COPY_DONE;
	bool half = false;
	ssize_t r;

	while (*left > 0 && rc == COPY_DONE) {
		r = pread(in, buf, *left < COPY_CHUNK ? (size_t)*left :
		    COPY_CHUNK, *inoff);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? COPY_FAILED : COPY_SHORT;
			break;
		}
		if (enqueue_pwrite(out, buf, (size_t)r, *outoff) < 0)
			rc = COPY_FAILED;
		*inoff += r;
		*outoff += r;
		*left -= r;
		if (!half && *left <= size / 2) {
			half = true;
			util_test_crash("enqueue-mid-copy");
		}
	}
	free(buf);
	return rc;
}

/*
 * size bytes from in at inoff to out at outoff, in the kernel when it can
 * (copy_file_range), else through a buffer.
 */
static enum copy_result
copy_body(int in, off_t inoff, int out, off_t outoff, long long size)
{
	long long left = size;
	bool half = false;
	ssize_t r;

#ifdef HAVE_COPY_FILE_RANGE
	while (left > 0) {
		r = copy_file_range(in, &inoff, out, &outoff, left > (1 << 30) ?
		    (size_t)1 << 30 : (size_t)left, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EXDEV || errno == ENOSYS ||
		    errno == EINVAL || errno == EOPNOTSUPP || errno == EBADF))
			break;		/* not here: copy by hand */
		if (r <= 0)
			return r < 0 ? COPY_FAILED : COPY_SHORT;
		left -= r;
		if (!half && left <= size / 2) {
			half = true;
			util_test_crash("enqueue-mid-copy");
		}
	}
#else
	(void)r;
	(void)half;
#endif
	return copy_rw(in, &inoff, out, &outoff, &left);
}

/* The new entry's envelope, copied from n (so it can be released). */
static void
new_entry(struct queue_entry *e, const struct queue_new *n, long long now)
{
	const struct envelope *env = n->env;

	qentry_init(e);
	make_id(e->id, now);
	e->created = now;
	e->config = xstrdup(n->config != NULL ? n->config : "");
	e->account = xstrdup(n->account);
	e->from = xstrdup(env->from);
	e->nrcpt = env->nrcpt;
	e->rcpt = xcalloc(env->nrcpt + 1, sizeof(*e->rcpt));
	for (size_t i = 0; i < env->nrcpt; i++)
		e->rcpt[i] = xstrdup(env->rcpt[i]);
	e->dsn_notify = env->dsn_notify ? xstrdup(env->dsn_notify) : NULL;
	e->dsn_return = env->dsn_return ? xstrdup(env->dsn_return) : NULL;
	e->dsn_envid = env->dsn_envid ? xstrdup(env->dsn_envid) : NULL;
	e->size = (long long)n->msg->size;
	e->eightbit = n->msg->eightbit;
	e->utf8_header = n->msg->utf8_header;
}

/* The state of a new entry: due now, or after its failed first attempt. */
static void
new_state(struct queue_state *st, const struct queue_new *n, long long now)
{
	memset(st, 0, sizeof(*st));
	st->seq = 2;			/* slot 0 */
	st->status = QUEUE_ST_QUEUED;
	st->since = now;
	st->expire = now + (n->max_age > 0 ? n->max_age :
	    QUEUE_MAX_AGE_DEFAULT);
	st->next = now;
	if (n->failure != NULL) {
		st->attempts = 1;
		st->last = now;
		qentry_set_error(st, n->failure);
		if (st->wait != QUEUE_WAIT_NET)
			st->next += queue_retry_delay(++st->backoff);
		if (st->next > st->expire)
			st->next = st->expire;
	}
}

/* A write or sync of the new file tmp/name failed (errno). */
static int
write_error(struct queue *q, const char *name, const char *what,
    struct error *err)
{
	return error_set(err, ERR_CANTCREAT, "cannot %s queue file "
	    "'%s/tmp/%s': %s", what, q->path, name, strerror(errno));
}

/* Write the whole file tmp/name: envelope, slots, message, trailer; fsync. */
static int
write_file(struct queue *q, int fd, const char *name,
    const struct queue_entry *e, const struct dynbuf *hdr,
    const struct queue_new *n, struct error *err)
{
	char slots[2 * QFILE_SLOT], pad[QFILE_ALIGN] = { 0 };
	off_t slot_off = qfile_slot_off(hdr->len);
	enum copy_result rc;

	memset(slots, 0, sizeof(slots));
	qfile_state_encode(&e->st, slots);
	if (enqueue_pwrite(fd, hdr->data, hdr->len, 0) < 0 ||
	    enqueue_pwrite(fd, pad, (size_t)slot_off - hdr->len,
	    (off_t)hdr->len) < 0 ||
	    enqueue_pwrite(fd, slots, sizeof(slots), slot_off) < 0)
		return write_error(q, name, "write", err);
	rc = copy_body(n->msg->fd, n->msg->offset, fd, e->body_off, e->size);
	if (rc == COPY_SHORT)
		return error_set(err, ERR_IOERR, "cannot queue the message: "
		    "the spool file is shorter than the message");
	if (rc == COPY_FAILED || enqueue_pwrite(fd, QFILE_TRAILER, QFILE_TRAILER_LEN,
	    e->body_off + (off_t)e->size) < 0)
		return write_error(q, name, "write", err);
	if (util_test_fail("enqueue-fsync") || fsync(fd) < 0)
		return write_error(q, name, "sync", err);
	return 0;
}

/* Create tmp/q.ID, locked (so queue_cleanup leaves it alone). */
static int
create_tmp(struct queue *q, const char *name, struct error *err)
{
	int fd = openat(q->tmpfd, name, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return error_set(err, ERR_CANTCREAT, "cannot create queue "
		    "file '%s/tmp/%s': %s", q->path, name, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fchmod(fd, 0600) < 0) {
		error_set(err, ERR_CANTCREAT, "cannot set up queue file "
		    "'%s/tmp/%s': %s", q->path, name, strerror(errno));
		(void)unlinkat(q->tmpfd, name, 0);
		(void)close(fd);
		return -1;
	}
	util_test_crash("enqueue-after-create");
	return fd;
}

/* Link tmp/q.ID as msg/ID (never replacing one) and make it durable. */
static int
commit_file(struct queue *q, const char *tmpname, const char *id,
    struct error *err)
{
	if (linkat(q->tmpfd, tmpname, q->msgfd, id, 0) < 0)
		return error_set(err, ERR_CANTCREAT, "cannot commit queue "
		    "file '%s/msg/%s': %s", q->path, id, strerror(errno));
	util_test_crash("enqueue-after-link");
	if (fsync(q->msgfd) < 0) {
		error_set(err, ERR_CANTCREAT, "cannot sync queue directory "
		    "'%s/msg': %s", q->path, strerror(errno));
		(void)unlinkat(q->msgfd, id, 0);
		return -1;
	}
	util_test_crash("enqueue-after-commit");
	return 0;
}

int
queue_enqueue(struct queue *q, const struct queue_new *n, char *id,
    struct error *err)
{
	long long now = n->now != 0 ? n->now : (long long)time(NULL);
	char why[256], tmpname[QUEUE_ID_MAX + 2];
	struct queue_entry e;
	struct dynbuf hdr;
	int fd = -1, rc = -1;

	if (n->config != NULL && n->config[0] != '/')
		return error_set(err, ERR_SOFTWARE, "queue: config path "
		    "'%s' is not absolute", n->config);
	new_entry(&e, n, now);
	new_state(&e.st, n, now);
	dynbuf_init(&hdr, QFILE_HEADER_MAX);
	if (qfile_header_build(&e, &hdr, why, sizeof(why)) < 0) {
		error_set(err, ERR_DATAERR, "cannot queue the message: %s",
		    why);
		goto out;
	}
	e.slot_off = qfile_slot_off(hdr.len);
	e.body_off = qfile_body_off(hdr.len);
	snprintf(tmpname, sizeof(tmpname), "q.%s", e.id);
	if ((fd = create_tmp(q, tmpname, err)) < 0)
		goto out;
	if (write_file(q, fd, tmpname, &e, &hdr, n, err) < 0)
		goto out;
	util_test_crash("enqueue-after-write");
	if (commit_file(q, tmpname, e.id, err) < 0)
		goto out;
	util_strlcpy(id, e.id, QUEUE_ID_MAX);
	rc = 0;
out:
	if (fd >= 0) {
		(void)unlinkat(q->tmpfd, tmpname, 0);
		(void)close(fd);
	}
	dynbuf_release(&hdr);
	queue_entry_release(&e);
	return rc;
}

int
queue_tmpfile(struct queue *q, struct error *err)
{
	char name[RANDLEN + 8] = "b.";
	int fd;

	fd = openat(q->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	for (int tries = 0; fd < 0 && tries < 10; tries++) {
		util_random_name(name + 2, RANDLEN);
		fd = openat(q->tmpfd, name, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			(void)unlinkat(q->tmpfd, name, 0);
		else if (errno != EEXIST)
			break;
	}
	if (fd < 0)
		return error_set(err, ERR_CANTCREAT, "cannot create a file "
		    "in '%s/tmp': %s", q->path, strerror(errno));
	return fd;
}

/* ---------------------------------------------------------------- cleanup */

/* Remove tmp/name if it is ours, stale and not locked. */
static void
cleanup_one(struct queue *q, const char *name, long long now, long max_age)
{
	struct stat st, st2;
	int fd;

	if (fstatat(q->tmpfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		log_warn("leaving '%s/tmp/%s' alone: %s", q->path, name,
		    !S_ISREG(st.st_mode) ? "not a regular file" :
		    "owned by someone else");
		return;
	}
	if (st.st_nlink < 2 && now - (long long)st.st_mtime < max_age)
		return;
	fd = openat(q->tmpfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st2) == 0 &&
	    st2.st_ino == st.st_ino && st2.st_dev == st.st_dev &&
	    unlinkat(q->tmpfd, name, 0) == 0)
		log_verbose("removed stale file '%s/tmp/%s'", q->path, name);
	(void)close(fd);
}

void
queue_cleanup(struct queue *q, long long now, long max_age)
{
	struct dirent *de;
	DIR *d;
	int fd = dup(q->tmpfd);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			cleanup_one(q, de->d_name, now, max_age);
	closedir(d);
}

/* ---------------------------------------------------------------- lock */

static int
open_lockfile(struct queue *q, struct error *err)
{
	struct stat st;
	int fd = openat(q->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);

	if (fd < 0)
		return error_set(err, ERR_CANTCREAT, "cannot open '%s/lock': "
		    "%s", q->path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		(void)close(fd);
		return error_set(err, ERR_CANTCREAT, "refusing '%s/lock': not "
		    "a regular file of yours", q->path);
	}
	q->lockfd = fd;
	return 0;
}

enum queue_lock
queue_flush_lock(struct queue *q, int wait_ms, struct error *err)
{
	long long deadline = util_now_ms() + (wait_ms > 0 ? wait_ms : 0);
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	if (q->lockfd < 0 && open_lockfile(q, err) < 0)
		return QUEUE_LOCK_ERROR;
	for (;;) {
		if (flock(q->lockfd, wait_ms < 0 ? LOCK_EX :
		    LOCK_EX | LOCK_NB) == 0)
			return QUEUE_LOCK_HELD;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			error_set(err, ERR_OSERR, "cannot lock '%s/lock': %s",
			    q->path, strerror(errno));
			return QUEUE_LOCK_ERROR;
		}
		if (wait_ms == 0 || (wait_ms > 0 && util_now_ms() >= deadline))
			return QUEUE_LOCK_BUSY;
		if (wait_ms > 0)
			(void)nanosleep(&pause, NULL);
	}
}

void
queue_flush_unlock(struct queue *q)
{
	if (q->lockfd >= 0)
		(void)close(q->lockfd);
	q->lockfd = -1;
}
