/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * queue.h -- the crash-safe per-user queue: messages the server could not
 * take now wait here, one file each, until a flush (flush.h) sends them.
 *
 * Layout ($XDG_STATE_HOME/yubin/queue, default ~/.local/state/yubin/queue;
 * every directory mode 0700, owned by the user, never a symbolic link):
 *	tmp/	message.c's spool files; queue files being written
 *	msg/	committed queue files, one per message, named by its ID
 *	failed/	messages given up on (5xx, or older than queue_max_age)
 *	lock	flock()ed by the one flush that runs at a time
 *
 * A queue file (format in qfile.h) holds the immutable envelope (config
 * path, account, sender, recipients, DSN parameters, creation time, size),
 * two checksummed state slots (attempts, back-off, next attempt, last
 * error and its kind: enum queue_wait; written in turn, so a torn write
 * leaves the other intact), the message bytes and a trailer. It is
 * written under tmp/, fsync'd, hard-linked into msg/ (which fails rather
 * than replace an existing name) and msg/ is fsync'd: queue_enqueue()
 * returns 0 only then.
 *
 * Exactly once: a message is sent only by a process holding flock() on its
 * file, after checking that msg/ID still names the very inode it locked and
 * that its state says "queued". After the server's 250 the file is unlinked
 * before the lock is let go. A crash between the 250 and the unlink sends it
 * again (one duplicate); nothing makes a message disappear unsent.
 * Enqueueing takes no lock, so a running flush never blocks it.
 *
 * Files are opened relative to the directory descriptors, with O_NOFOLLOW:
 * a symbolic link, a non-regular file or a file owned by someone else in
 * msg/ or failed/ is refused (reported, never read, sent or removed); so
 * is a file whose envelope, checksums, size or trailer do not add up (the
 * remains of a crash or of a foreign copy), or whose addresses or DSN
 * values would not pass the command line's checks (address_check(),
 * dsn_check(): an envelope edited by hand).
 *
 * Test hooks (always compiled in, inert unless the variable is set):
 *	YUBIN_TEST_CRASH_AT=point[,point...]   raise(SIGKILL) at that point
 *	YUBIN_TEST_FAIL_AT=point[,point...]    fail there as if the disk was
 *					       full (ENOSPC)
 * Points are named where util_test_crash()/util_test_fail() are called:
 * enqueue-after-create, enqueue-mid-copy, enqueue-after-write,
 * enqueue-after-link, enqueue-after-commit, state-mid-write,
 * state-after-write, fail-after-state, fail-after-rename,
 * retry-after-rename, flush-after-lock (queue_lock()), flush-after-250,
 * flush-after-unlink, bounce-after-enqueue; and for YUBIN_TEST_FAIL_AT:
 * enqueue-write, enqueue-fsync, spool-write (message.c: spooling standard
 * input). They cost one getenv() each when unset.
 */
#ifndef YUBIN_QUEUE_H
#define YUBIN_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

struct envelope;
struct message;

#define QUEUE_ID_MAX	48	/* with the NUL */
#define QUEUE_ERROR_MAX	640	/* last error kept in the state */
#define QUEUE_MAX_AGE_DEFAULT (5L * 24 * 3600)
#define QUEUE_RETRY_MIN	60	/* first retry after a minute, */
#define QUEUE_RETRY_MAX	3600	/* doubling up to an hour */
#define QUEUE_TMP_MAX_AGE (24 * 3600)	/* stale tmp/ files go after a day */

enum queue_where {
	QUEUE_MSG,		/* msg/ */
	QUEUE_FAILED,		/* failed/ */
};

enum queue_status {
	QUEUE_ST_QUEUED,	/* waiting to be sent */
	QUEUE_ST_FAILED,	/* given up; the failure report is not
				   written yet */
	QUEUE_ST_REPORTED,	/* given up; reported (or nobody to tell) */
};

/*
 * Why a message waits: what its last failed attempt ran into. Only the
 * server's own "try later" (a 4xx reply) makes it wait out a back-off
 * whatever happens; waiting for the network costs no back-off at all.
 */
enum queue_wait {
	QUEUE_WAIT_NONE,	/* never tried */
	QUEUE_WAIT_NET,		/* the server could not be reached (name,
				   connect, TLS handshake, no greeting:
				   error.h's unreachable): due again at once,
				   the back-off does not grow */
	QUEUE_WAIT_SERVER,	/* the server answered 4xx: back-off */
	QUEUE_WAIT_OTHER,	/* anything else (authentication, TLS,
				   configuration, a connection lost): back-off,
				   but it goes over a connection of its
				   account that is up */
};

/* The mutable part of a queue file. Times are seconds since the epoch. */
struct queue_state {
	unsigned long long seq;		/* which state slot is newest */
	enum queue_status status;
	unsigned attempts;		/* every failed attempt */
	unsigned backoff;		/* those that grew the back-off */
	enum queue_wait wait;		/* why the last one failed */
	long long next;			/* not before */
	long long last;			/* last attempt, 0: none */
	long long since;		/* first queued (or last retried) */
	long long expire;		/* give up after */
	char kind[16];			/* last error: error_kind_name() */
	int code;			/* its server reply code, 0 */
	char esc[16];			/* its enhanced status code, "" */
	char error[QUEUE_ERROR_MAX];	/* its text, one line, "" */
};

struct queue_entry {
	char id[QUEUE_ID_MAX];
	enum queue_where where;
	bool valid;			/* false: refused, see problem */
	char problem[256];		/* why it was refused */
	/* envelope (immutable) */
	long long created;
	char *config;			/* absolute path, "" for the default */
	char *account;
	char *from;			/* "" for the null sender */
	char **rcpt;
	size_t nrcpt;
	char *dsn_notify, *dsn_return, *dsn_envid;	/* or NULL */
	long long size;			/* message bytes */
	bool eightbit;
	bool utf8_header;		/* header fields hold UTF-8 */
	/* layout */
	off_t slot_off;			/* two state slots */
	off_t body_off;			/* message bytes */
	struct queue_state st;
	int fd;				/* open while locked, else -1 */
};

struct queue_entries {
	struct queue_entry *v;
	size_t n;
	size_t cap;
};

struct queue {
	char *path;			/* the queue directory */
	int dirfd, tmpfd, msgfd, failfd;
	int lockfd;			/* the flush lock while held, else -1 */
};

/* What queue_enqueue() needs. */
struct queue_new {
	const char *config;		/* absolute config path, or NULL */
	const char *account;		/* the account's name */
	const struct envelope *env;	/* sender, recipients, DSN */
	const struct message *msg;	/* fd, offset, size, eightbit */
	long max_age;			/* queue_max_age in seconds (> 0) */
	const struct error *failure;	/* the failed first attempt, or NULL:
					   due at once, no attempt counted */
	long long now;			/* 0: time(NULL) */
};

/*
 * The default queue directory into buf: $XDG_STATE_HOME/yubin/queue if
 * XDG_STATE_HOME is absolute, else ~/.local/state/yubin/queue. No I/O but
 * getpwuid() when HOME is unset.
 */
int queue_default_dir(char *buf, size_t size, struct error *err);

/*
 * Open (creating as needed, mode 0700) the queue at path, or at the default
 * with path NULL; checks that every directory is ours and not a symbolic
 * link. ERR_CANTCREAT naming the directory when it cannot be used.
 */
int queue_open(struct queue *q, const char *path, struct error *err);
void queue_close(struct queue *q);

/*
 * Copy the message (n->msg: from its fd at offset, size bytes, with
 * copy_file_range() and a read/write fallback, never into memory) and the
 * envelope into a new queue file and commit it (see above). On success the
 * message's ID is in id (QUEUE_ID_MAX bytes) and the message is durably in
 * msg/. With n->failure the first attempt counts: attempts 1, its error
 * kept, due in a minute (at once when the server could not be reached:
 * QUEUE_WAIT_NET); without, it is due at once.
 * Errors: ERR_DATAERR (a value holds CR, LF or NUL; no recipients),
 * ERR_CANTCREAT (cannot create, write or sync the file: disk full...),
 * ERR_IOERR (cannot read the spool). Nothing is left behind on failure.
 */
int queue_enqueue(struct queue *q, const struct queue_new *n, char *id,
    struct error *err);

/*
 * Every file in msg/ (or failed/), oldest first, parsed but not locked.
 * Refused files are there too, valid false and the reason in problem; with
 * report, each is also reported with log_warn().
 */
int queue_scan(struct queue *q, enum queue_where w, bool report,
    struct queue_entries *out, struct error *err);
void queue_entries_release(struct queue_entries *l);
void queue_entry_release(struct queue_entry *e);

/*
 * Load one message by ID from msg/ or, failing that, failed/. ERR_USAGE for
 * an ID that is not well-formed or not there.
 */
int queue_load(struct queue *q, const char *id, struct queue_entry *e,
    struct error *err);

/* Whether id is a well-formed queue ID (never a path). */
bool queue_id_valid(const char *id);

/* What an attempt to lock a message (or the queue, for a flush) got. */
enum queue_lock {
	QUEUE_LOCK_ERROR = -1,	/* failed: err says why */
	QUEUE_LOCK_HELD = 0,	/* ours until unlocked */
	QUEUE_LOCK_BUSY = 1,	/* another process holds it */
	QUEUE_LOCK_GONE = 2,	/* the message was sent, moved or removed
				   meanwhile (queue_lock() only) */
};

/*
 * Lock e for this process (flock, non-blocking), check it is still the
 * file its name points to, and re-read its state: HELD (e->fd open),
 * BUSY, GONE, or ERROR (a refused or unreadable file, e->problem says
 * why).
 */
enum queue_lock queue_lock(struct queue *q, struct queue_entry *e,
    struct error *err);
/* Let go of the lock (close e->fd); safe to call twice. */
void queue_unlock(struct queue_entry *e);

/*
 * Whether a locked or scanned e is waiting (valid, in msg/, QUEUED) and
 * due at now; LLONG_MAX: waiting at all (a forced flush). The one "is it
 * due?" rule: flush.c and queue_pending() ask it.
 */
bool queue_due(const struct queue_entry *e, long long now);

/*
 * Whether e may go over a connection to its account that is up: due, or
 * waiting for anything but a back-off the server asked for (a 4xx).
 */
bool queue_due_if_connected(const struct queue_entry *e, long long now);

/*
 * Outcomes, e locked; none of them unlocks: queue_unlock() (or
 * queue_entry_release()) afterwards, never before.
 * queue_done(): sent; the file goes (unlink, then fsync of the directory).
 * queue_defer(): a temporary failure; counts the attempt, keeps why and
 * schedules the next one: at once when the server could not be reached
 * (QUEUE_WAIT_NET), else after queue_retry_delay() of the back-off count,
 * which only those grow; never after expire:
 * QUEUE_DEFER_LATER; when e has expired it is failed instead:
 * QUEUE_DEFER_EXPIRED (report it); QUEUE_DEFER_ERROR on failure.
 * queue_fail(): a permanent failure: state FAILED, then to failed/. Also
 * finishes the move of an entry a crash left in msg/ as FAILED (why NULL).
 * queue_reported(): the failure was reported (or there was nobody to tell).
 * queue_settle(): finish a move a crash interrupted (msg/ but FAILED or
 * REPORTED: to failed/; failed/ but QUEUED: back to msg/), if any.
 */
enum queue_defer {
	QUEUE_DEFER_ERROR = -1,
	QUEUE_DEFER_LATER = 0,		/* deferred: tried again later */
	QUEUE_DEFER_EXPIRED = 1,	/* too old: failed instead */
};

int queue_done(struct queue *q, struct queue_entry *e, struct error *err);
enum queue_defer queue_defer(struct queue *q, struct queue_entry *e,
    const struct error *why, long long now, struct error *err);
int queue_fail(struct queue *q, struct queue_entry *e,
    const struct error *why, long long now, struct error *err);
int queue_reported(struct queue *q, struct queue_entry *e,
    struct error *err);
int queue_settle(struct queue *q, struct queue_entry *e, struct error *err);

/*
 * The flush lock (the file "lock" in the queue directory): one flush at a
 * time. wait_ms 0: try once; < 0: wait as long as it takes; else wait up
 * to that long. HELD (until queue_flush_unlock() or queue_close()), BUSY
 * (another flush holds it) or ERROR.
 */
enum queue_lock queue_flush_lock(struct queue *q, int wait_ms,
    struct error *err);
void queue_flush_unlock(struct queue *q);

/*
 * Seconds to wait after the n-th deferral that grows the back-off (not
 * QUEUE_WAIT_NET): 60 * 2^(n-1), <= 3600.
 */
long queue_retry_delay(unsigned attempts);

/*
 * --queue-remove ID: delete the message (from msg/ or failed/).
 * --queue-retry ID: make it due now; a failed one goes back to msg/ with
 * attempts 0 and a new max_age. ERR_USAGE when there is no such message,
 * ERR_TEMP when it is being sent right now.
 */
int queue_remove(struct queue *q, const char *id, struct error *err);
int queue_retry(struct queue *q, const char *id, long max_age,
    long long now, struct error *err);

/*
 * Delete stale files in tmp/: not locked, and older than max_age seconds or
 * already linked into msg/ (a crash after the link). Symbolic links and
 * files of other users are reported and left alone.
 */
void queue_cleanup(struct queue *q, long long now, long max_age);

/*
 * Whether any message of account (stored config path and name; NULL: any)
 * is due at now (connected: queue_due_if_connected(), for a caller that
 * has a connection to the account open). Cheap: for a caller deciding
 * whether to start a flush.
 */
bool queue_pending(struct queue *q, const char *config, const char *account,
    long long now, bool connected);

/*
 * How many messages of account (as queue_pending()) wait in msg/, and the
 * earliest next attempt of those not due at now into *next (0: none).
 */
size_t queue_waiting(struct queue *q, const char *config,
    const char *account, long long now, long long *next);

/* "none", "net", "server", "other": for --queue-list --json. */
const char *queue_wait_name(enum queue_wait w);

/*
 * --queue-list: a table (ID, age, size, attempts, next attempt, sender and
 * recipients, last error) or, with json, one JSON object per line:
 *   {"id":..., "state":"queued"|"failed"|"invalid", "account":...,
 *    "created":..., "age":..., "size":..., "from":..., "rcpt":[...],
 *    "attempts":..., "next_attempt":..., "last_attempt":...,
 *    "expire":..., "last_error":...,
 *    "waiting_for":"none"|"net"|"server"|"other", "backoff":...}
 * (waiting_for: enum queue_wait; backoff: the deferrals that grew the
 * back-off.) Messages in msg/, then failed/.
 */
int queue_list(struct queue *q, FILE *out, bool json, long long now,
    struct error *err);

/*
 * The envelope and message of e for session_send(): pointers into e; the
 * message reads e->fd (lock e first); do not message_release() it.
 */
void queue_entry_envelope(const struct queue_entry *e, struct envelope *env);
void queue_entry_message(const struct queue_entry *e, struct message *m);

/*
 * A new unnamed file in tmp/ (unlinked at once), mode 0600, for a message
 * built in place (failure reports). Returns the fd or -1.
 */
int queue_tmpfile(struct queue *q, struct error *err);

#endif
