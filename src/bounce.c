/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bounce.c -- see bounce.h. The report is built in a capped buffer (all
 * but the original's headers, which are copied from the queue file a chunk
 * at a time) and written to an unnamed file, so a crash leaves nothing.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "headers.h"
#include "message.h"
#include "qsplit.h"
#include "queue.h"
#include "rfc5322.h"
#include "util.h"

#define ORIG_HEADERS_MAX (64 * 1024)	/* of the original, in the report */
#define SUBJECT_MAX	200
#define TEXT_MAX	(256 * 1024)	/* the report without those headers */
/*
 * The appends to these capped buffers are (void): what does not fit (the
 * headers past HEADERS_MAX; a part of the report when thousands of
 * recipients take more than TEXT_MAX) is left out of the report.
 */

bool
bounce_wanted(const struct queue_entry *e)
{
	const char *n = e->dsn_notify;

	if (e->from == NULL || e->from[0] == '\0')
		return false;		/* never report a report */
	return n == NULL || strstr(n, "FAILURE") != NULL;
}

/*
 * The original's header section, each line with its CRLF, without the
 * empty line; cut after the last whole line when longer than
 * ORIG_HEADERS_MAX. -1 on a read error.
 */
static int
read_headers(const struct queue_entry *e, struct dynbuf *h)
{
	size_t want = e->size < ORIG_HEADERS_MAX ? (size_t)e->size :
	    ORIG_HEADERS_MAX;
	char *buf = xmalloc(want + 1), *end;
	ssize_t r = pread(e->fd, buf, want, e->body_off);
	size_t n;

	if (r < 0) {
		free(buf);
		return -1;
	}
	n = (size_t)r;
	if (n >= 2 && buf[0] == '\r' && buf[1] == '\n')
		n = 0;				/* no header section */
	else if ((end = memmem(buf, n, "\r\n\r\n", 4)) != NULL)
		n = (size_t)(end + 2 - buf);
	else
		while (n > 0 && buf[n - 1] != '\n')
			n--;
	(void)dynbuf_add(h, buf, n);
	free(buf);
	return 0;
}

/* The unfolded Subject of the headers, on one line, or "". */
static void
find_subject(const struct dynbuf *h, char *out, size_t size)
{
	const char *p = h->data, *end = h->data + h->len, *eol;
	struct dynbuf s;
	bool in = false;

	out[0] = '\0';
	if (p == NULL)
		return;
	dynbuf_init(&s, SUBJECT_MAX * 4);
	for (; p < end; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			break;
		if (in && rfc5322_is_wsp((unsigned char)*p))
			(void)dynbuf_add(&s, p, (size_t)(eol - p));
		else if (in)
			break;
		else if (eol - p >= 8 && strncasecmp(p, "Subject:", 8) == 0) {
			in = true;
			(void)dynbuf_add(&s, p + 8, (size_t)(eol - p - 8));
		}
	}
	if (s.data != NULL)
		util_oneline(out, size, s.data + strspn(s.data, " \t"));
	dynbuf_release(&s);
}

static void
add_head(struct dynbuf *b, const struct queue_entry *e, const char *subject,
    const char *boundary, long long now)
{
	const char *at = strrchr(e->from, '@');
	char date[64];

	(void)dynbuf_printf(b, "From: \"Mail Delivery System (yubin)\" <%s>\r\n"
	    "To: <%s>\r\nSubject: undeliverable: %s\r\nDate: %s\r\n"
	    "Message-ID: <%s.failed.%lld@%s>\r\n"
	    "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;"
	    "\r\n\tboundary=\"%s\"\r\n\r\n"
	    "This is a MIME-encapsulated delivery status report.\r\n\r\n",
	    e->from, e->from, subject[0] != '\0' ? subject : "(no subject)",
	    headers_date(now, HEADERS_ZONE_UTC, date, sizeof(date)), e->id,
	    now, at != NULL ? at + 1 : "localhost", boundary);
}

/* Whether e failed for good (5xx, bad address), not for lack of time. */
static bool
permanent(const struct queue_entry *e)
{
	static const char *const kinds[] = { "dataerr", "nouser",
	    "unavailable", "usage" };

	if (e->st.code / 100 == 5 || e->st.esc[0] == '5')
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(e->st.kind, kinds[i]) == 0)
			return true;
	return false;
}

static void
add_text(struct dynbuf *b, struct queue *q, const struct queue_entry *e,
    const char *host, const char *boundary)
{
	bool expired = !permanent(e);
	char date[64];

	(void)dynbuf_printf(b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "This is yubin on %s. Your message could not be delivered to:"
	    "\r\n\r\n", boundary, host);
	for (size_t i = 0; i < e->nrcpt; i++)
		(void)dynbuf_printf(b, "    %s\r\n", e->rcpt[i]);
	(void)dynbuf_printf(b, "\r\nReason: %s\r\n\r\n", e->st.error);
	if (expired)
		(void)dynbuf_printf(b, "yubin gave up after %u attempts; the message "
		    "was queued on %s.\r\n", e->st.attempts,
		    headers_date(e->st.since, HEADERS_ZONE_UTC, date,
		    sizeof(date)));
	(void)dynbuf_printf(b, "The message is kept in %s/failed/%s\r\n"
	    "To try again: yubin --queue-retry %s\r\n"
	    "To delete it: yubin --queue-remove %s\r\n"
	    "Its headers follow.\r\n\r\n", q->path, e->id, e->id, e->id);
}

static void
add_status(struct dynbuf *b, const struct queue_entry *e, const char *host,
    const char *boundary, long long now)
{
	const char *status = e->st.esc[0] == '5' ? e->st.esc :
	    permanent(e) ? "5.0.0" : "4.4.7";
	char date[64], own[16];

	(void)dynbuf_printf(b, "--%s\r\nContent-Type: message/delivery-status\r\n"
	    "\r\nReporting-MTA: dns; %s\r\nX-Yubin-Queue-ID: %s\r\n"
	    "Arrival-Date: %s\r\n", boundary, host, e->id,
	    headers_date(e->created, HEADERS_ZONE_UTC, date, sizeof(date)));
	if (e->dsn_envid != NULL)
		(void)dynbuf_printf(b, "Original-Envelope-Id: %s\r\n", e->dsn_envid);
	for (size_t i = 0; i < e->nrcpt; i++) {
		/* its own code when the error has one (LMTP) */
		queue_rcpt_esc(e->st.error, e->rcpt[i], own, sizeof(own));
		(void)dynbuf_printf(b, "\r\nFinal-Recipient: rfc822; %s\r\n"
		    "Action: failed\r\nStatus: %s\r\n", e->rcpt[i],
		    own[0] == '5' ? own : status);
		if (e->st.error[0] != '\0')
			(void)dynbuf_printf(b, "Diagnostic-Code: smtp; %s\r\n",
			    e->st.error);
		(void)dynbuf_printf(b, "Last-Attempt-Date: %s\r\n",
		    headers_date(e->st.last != 0 ? e->st.last : now,
		    HEADERS_ZONE_UTC, date, sizeof(date)));
	}
	(void)dynbuf_printf(b, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n"
	    "\r\n", boundary);
}

/* Write the parts to a new file; describe it in m. */
static int
write_report(struct queue *q, const struct dynbuf *text,
    const struct dynbuf *headers, const char *boundary, struct message *m,
    struct error *err)
{
	char tail[128];
	int fd = queue_tmpfile(q, err);
	off_t off = 0;

	if (fd < 0)
		return -1;
	snprintf(tail, sizeof(tail), "\r\n--%s--\r\n", boundary);
	if (util_pwrite(fd, text->data, text->len, off) < 0 ||
	    util_pwrite(fd, headers->data ? headers->data : "",
	    headers->len, off += (off_t)text->len) < 0 ||
	    util_pwrite(fd, tail, strlen(tail),
	    off += (off_t)headers->len) < 0) {
		error_set(err, ERR_CANTCREAT, "cannot write the failure "
		    "report: %s", strerror(errno));
		(void)close(fd);
		return -1;
	}
	message_init(m);
	m->fd = fd;
	m->size = off + (off_t)strlen(tail);
	m->eightbit = util_has_8bit(text->data, text->len) ||
	    util_has_8bit(headers->data, headers->len);
	return 0;
}

int
bounce_build(struct queue *q, const struct queue_entry *e, long long now,
    struct message *m, struct error *err)
{
	char host[256] = "localhost", subject[SUBJECT_MAX], boundary[96];
	struct dynbuf text, headers;
	int rc = -1;

	dynbuf_init(&text, TEXT_MAX);
	dynbuf_init(&headers, ORIG_HEADERS_MAX + 1);
	if (read_headers(e, &headers) < 0) {
		error_set(err, ERR_IOERR, "cannot read queued message %s: %s",
		    e->id, strerror(errno));
		goto out;
	}
	(void)gethostname(host, sizeof(host) - 1);
	host[strcspn(host, "\r\n ;")] = '\0';
	find_subject(&headers, subject, sizeof(subject));
	snprintf(boundary, sizeof(boundary), "yubin-report-%s", e->id);
	add_head(&text, e, subject, boundary, now);
	add_text(&text, q, e, host, boundary);
	add_status(&text, e, host, boundary, now);
	rc = write_report(q, &text, &headers, boundary, m, err);
out:
	dynbuf_release(&text);
	dynbuf_release(&headers);
	return rc;
}
