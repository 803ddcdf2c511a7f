/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * flush.h -- send what the queue holds (yubin -q, the systemd timer, the
 * background flush after "queue always", the opportunistic flush after a
 * successful send).
 *
 * One flush at a time (queue_flush_lock()); enqueueing never waits for it.
 * A run:
 *   1. removes stale tmp/ files (queue_cleanup());
 *   2. finishes what a crash interrupted: moves left half-way between msg/
 *      and failed/, failure reports not written yet;
 *   3. sends every due message (every one with force), grouped by account:
 *      one connection per account (opened when the first due message of
 *      the account is locked; re-opened at most twice when the server
 *      drops it), several messages over it, each locked while it is sent;
 *      while it is up, the account's messages that are not due but wait
 *      for anything but the server's own back-off (a 4xx:
 *      queue_due_if_connected()) go over it too;
 *   4. records each outcome in the queue: 250 -> gone; temporary failure
 *      -> deferred (queue_defer(): at once again when the server could not
 *      be reached, else with back-off), or failed once older than its max
 *      age; permanent failure (5xx to the transaction, a bad address) ->
 *      failed/ at once;
 *      a message that reached some recipients and not others (LMTP) ->
 *      those still to try in a new queue file, the refused ones failed
 *      (and reported) in one of their own, the original removed;
 *   5. reports each failure to the envelope sender: a report (bounce.h) is
 *      queued from <> through the same account, and sent at once over the
 *      open connection when there is one.
 * A failure to connect counts as a failed attempt of every due message of
 * the account (each locked in turn): each is deferred with that failure.
 */
#ifndef YUBIN_FLUSH_H
#define YUBIN_FLUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "queue.h"

struct envelope;
struct error;
struct message;

/*
 * How a message goes out: the engine knows which account (its config file
 * and name, as the queue stored them) and the envelope and bytes of each
 * message, nothing about the protocol. deliver.h's deliver_transport is
 * SMTP; the unit tests plug in a fake.
 */
struct flush_transport {
	/*
	 * Connect for the account: config is the stored config path
	 * (absolute, or "" for the default lookup), account its name. -1:
	 * every due message of the account is deferred with err.
	 */
	int (*open)(void *arg, const char *config, const char *account,
	    void **conn, struct error *err);
	/*
	 * Send one message (id: its queue ID; m reads the locked queue
	 * file, do not message_release() it); 0 after the server took it.
	 * env->status has a slot per recipient: on -1, those marked SENT
	 * have it (LMTP), and the engine splits the message (see 4.).
	 */
	int (*send)(void *conn, const char *id, const struct envelope *env,
	    struct message *m, struct error *err);
	/* Whether conn can carry another message. */
	bool (*usable)(void *conn);
	void (*close)(void *conn);
	void *arg;		/* for open */
};

struct flush_opts {
	long long now;		/* 0: the clock (tests fix it) */
	const char *config;	/* only messages of this account: config */
	const char *account;	/* path and name as stored; NULL: all */
	bool force;		/* also messages that are not due yet */
	size_t max_messages;	/* attempts per run; 0: no limit */
	int max_seconds;	/* start no message after; 0: no limit */
	int lock_wait_ms;	/* for the flush lock: 0 try once, < 0 wait */
	bool connected;		/* the transport's first open() hands out a
				   connection that is up (the caller's): the
				   messages that may ride along it go even
				   when none is due */
	/*
	 * How messages go out (required). flush_spawn() hands it to a
	 * forked child: its arg must not be a connection then.
	 */
	const struct flush_transport *transport;
};

struct flush_stats {
	size_t sent;		/* 250 received, removed from the queue */
	size_t deferred;	/* temporary failure, will be retried */
	size_t deferred_net;	/* of those: the server was not reached */
	long long next;		/* the earliest next attempt of the others */
	char why_net[QUEUE_ERROR_MAX];	/* the first reason of each kind */
	char why[QUEUE_ERROR_MAX];
	size_t failed;		/* moved to failed/ */
	size_t reports;		/* failure reports queued */
	size_t busy;		/* locked by another process: skipped */
	size_t left;		/* due but not tried (max_messages/seconds) */
	bool locked_out;	/* another flush was running: nothing done */
};

/*
 * One run as described above. Per-message problems are counted in st and
 * reported (log_warn() for failures and refused files, log_verbose() for
 * the rest), not returned: -1 only when the queue itself cannot be read or
 * locked. With the flush lock busy (after lock_wait_ms): 0 and
 * st->locked_out.
 */
int flush_run(struct queue *q, const struct flush_opts *o,
    struct flush_stats *st, struct error *err);

/*
 * What a run did, for a person at a terminal (yubin -q): sent N;
 * deferred, with why and when the next attempt is; or "nothing due: N
 * waiting, next at ..., `yubin -q --force` sends now" (queue_waiting() of
 * o's selection). Lines "yubin: ..." on out.
 */
void flush_tell(struct queue *q, const struct flush_opts *o,
    const struct flush_stats *st, FILE *out);

/*
 * Run flush_run() in a detached child (fork, setsid, standard descriptors
 * on /dev/null, a queue of its own opened at queue_path (NULL: default))
 * and return at once; the child _exit()s. For "queue always" and for a
 * flush after a send that must not keep the caller waiting.
 */
int flush_spawn(const char *queue_path, const struct flush_opts *o,
    struct error *err);

#endif
