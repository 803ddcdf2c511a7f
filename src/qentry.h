/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qentry.h -- what queue.c needs from qentry.c to make a new entry (and
 * test-queue.c to build one by hand); an internal interface of the queue
 * module: everything else uses queue.h.
 */
#ifndef YUBIN_QENTRY_H
#define YUBIN_QENTRY_H

#include "queue.h"

/* An empty entry (fd -1). */
void qentry_init(struct queue_entry *e);

/* Keep err (kind, reply code, enhanced code, text on one line) in st. */
void qentry_set_error(struct queue_state *st, const struct error *err);

#endif
