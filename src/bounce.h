/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bounce.h -- the failure report ("bounce") for a message the queue gave
 * up on: a multipart/report (RFC 6522) with a delivery-status part (RFC
 * 3464) for the envelope sender, sent from the null sender <> through the
 * same account, so it can never cause another report.
 */
#ifndef YUBIN_BOUNCE_H
#define YUBIN_BOUNCE_H

#include <stdbool.h>

struct error;
struct message;
struct queue;
struct queue_entry;

/*
 * Whether e's failure should be reported: not when it came from the null
 * sender (it is a report itself), nor when its DSN NOTIFY says NEVER or
 * does not ask for FAILURE.
 */
bool bounce_wanted(const struct queue_entry *e);

/*
 * Write the report for e (locked, given up on: its state holds the last
 * error) into a new unnamed file in the queue's tmp/, and describe it in m
 * (fd at offset 0, size, eightbit; message_release() closes it):
 *	Subject: undeliverable: <original subject>
 *	Auto-Submitted: auto-replied
 * a plain-text part saying what failed, why, and where the message is
 * kept; the delivery status of each recipient; the original's headers
 * (text/rfc822-headers, at most 64 KiB).
 */
int bounce_build(struct queue *q, const struct queue_entry *e, long long now,
    struct message *m, struct error *err);

#endif
