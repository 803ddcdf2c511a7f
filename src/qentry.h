/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qentry.h -- helpers queue.c, qentry.c and qlist.c share; an internal
 * interface of the queue module (the public one is queue.h).
 */
#ifndef YUBIN_QENTRY_H
#define YUBIN_QENTRY_H

#include <stddef.h>
#include <sys/types.h>

#include "queue.h"

/* An empty entry (fd -1). */
void qentry_init(struct queue_entry *e);

/* Keep err (kind, reply code, enhanced code, text on one line) in st. */
void qentry_set_error(struct queue_state *st, const struct error *err);

/* pwrite() all of p at off, retrying on EINTR; -1 with errno. */
int qentry_pwrite(int fd, const void *p, size_t n, off_t off);

/* "msg" or "failed"; the directory descriptor for w. */
const char *qentry_where_name(enum queue_where w);
int qentry_where_fd(const struct queue *q, enum queue_where w);

#endif
