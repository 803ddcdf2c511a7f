/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qtest.h -- helpers shared by test-queue.c and test-flush.c: a private
 * XDG_STATE_HOME, spooled messages, queue file surgery. Header-only.
 */
#ifndef YUBIN_QTEST_H
#define YUBIN_QTEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "mailenv.h"
#include "tap.h"
#include "message.h"
#include "queue.h"
#include "util.h"

/* Call f and ignore its result, warn_unused_result or not. */
#define IGNORE(f) do { if (f) { /* ignored */ } } while (0)

static char qt_dir[PATH_MAX];		/* scratch directory */
static char qt_queue[PATH_MAX];		/* the queue directory */

/* A fresh scratch directory with XDG_STATE_HOME inside it. */
static inline void
qt_setup(const char *name)
{
	char state[PATH_MAX + 16];
	const char *t = getenv("TMPDIR");

	snprintf(qt_dir, sizeof(qt_dir), "%s/yubin-%s.XXXXXX",
	    t != NULL && t[0] == '/' ? t : "/tmp", name);
	if (mkdtemp(qt_dir) == NULL)
		bail_out("mkdtemp: %s", strerror(errno));
	snprintf(state, sizeof(state), "%s/state", qt_dir);
	setenv("XDG_STATE_HOME", state, 1);
	snprintf(qt_queue, sizeof(qt_queue), "%s/yubin/queue", state);
	unsetenv("YUBIN_TEST_CRASH_AT");
	unsetenv("YUBIN_TEST_FAIL_AT");
}

static inline void
qt_cleanup(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", qt_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot remove %s\n", qt_dir);
}

/* Spool text (LF line ends are fine) as message.c does from stdin. */
static inline void
qt_spool(struct message *m, const char *text, size_t len,
    const char *spool_dir)
{
	struct message_opts mo = { .dot_ends = false, .spool_dir = spool_dir };
	char path[PATH_MAX];
	struct error err;
	int fd;

	snprintf(path, sizeof(path), "%s/input.%ld", qt_dir, (long)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len ||
	    lseek(fd, 0, SEEK_SET) != 0)
		bail_out("input file: %s", strerror(errno));
	error_init(&err);
	if (message_spool(m, fd, &mo, &err) < 0)
		bail_out("spool: %s", err.message);
	close(fd);
	unlink(path);
}

/* The spooled bytes of m (malloc'd), *len set. */
static inline char *
qt_spool_bytes(const struct message *m, size_t *len)
{
	char *p = xmalloc((size_t)m->size + 1);

	*len = (size_t)pread(m->fd, p, (size_t)m->size, m->offset);
	return p;
}

/* The message bytes of a locked entry (malloc'd). */
static inline char *
qt_entry_bytes(const struct queue_entry *e, size_t *len)
{
	char *p = xmalloc((size_t)e->size + 1);

	*len = (size_t)pread(e->fd, p, (size_t)e->size, e->body_off);
	return p;
}

static const char *const qt_rcpt[] = { "bob@example.org",
    "carol@example.net" };

/* Enqueue text for (account, rcpts) from sender; id out. -1 on error. */
static inline int
qt_enqueue_full(struct queue *q, const char *text, const char *account,
    const char *from, const char *const *rcpt, size_t nrcpt, long max_age,
    const struct error *failure, long long now, char *id,
    struct error *err)
{
	struct envelope env = { .from = from, .rcpt = rcpt, .nrcpt = nrcpt };
	struct message m;
	struct queue_new n = {
		.config = "/nonexistent/yubin/config", .account = account,
		.env = &env, .msg = &m, .max_age = max_age,
		.failure = failure, .now = now,
	};
	int rc;

	qt_spool(&m, text, strlen(text), NULL);
	rc = queue_enqueue(q, &n, id, err);
	message_release(&m);
	return rc;
}

static inline int
qt_enqueue(struct queue *q, const char *text, long long now, char *id)
{
	struct error err;
	int rc;

	error_init(&err);
	rc = qt_enqueue_full(q, text, "work", "alice@example.com", qt_rcpt, 2,
	    QUEUE_MAX_AGE_DEFAULT, NULL, now, id, &err);
	if (rc < 0)
		printf("# enqueue: %s\n", err.message);
	return rc;
}

/* Number of names (not starting with '.') in queue subdirectory sub. */
static inline int
qt_count(const char *sub, const char *prefix)
{
	char path[PATH_MAX + 16];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", qt_queue, sub);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && (prefix == NULL ||
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0))
			n++;
	closedir(d);
	return n;
}

static inline void
qt_path(char *buf, size_t size, const char *sub, const char *name)
{
	snprintf(buf, size, "%s/%s/%s", qt_queue, sub, name);
}

/* Find entry id in l, or NULL. */
static inline struct queue_entry *
qt_find(struct queue_entries *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].id, id) == 0)
			return &l->v[i];
	return NULL;
}

/* Run fn in a child; its wait status. */
static inline int
qt_child(void (*fn)(void *), void *arg)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}

/* Load id and lock it. */
static inline void
qt_load_locked(struct queue *q, const char *id, struct queue_entry *e)
{
	struct error err;

	error_init(&err);
	if (queue_load(q, id, e, &err) < 0 ||
	    queue_lock(q, e, &err) != QUEUE_LOCK_HELD)
		printf("# load_locked %s: %s\n", id, err.message);
}

#define QT_MSG "From: Alice <alice@example.com>\n" \
	"To: bob@example.org\nSubject: Hello there\n" \
	"Message-ID: <1@example.com>\n\nHi Bob,\n.a dotted line\nbye\n"

#endif
