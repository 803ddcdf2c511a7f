/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtptest.h -- what the state machine's unit tests (test-smtp.c,
 * test-smtp-flight.c) share: canned replies in, the commands out.
 * Header-only.
 */
#ifndef YUBIN_SMTPTEST_H
#define YUBIN_SMTPTEST_H

#include <string.h>

#include "error.h"
#include "reply.h"
#include "smtp.h"
#include "tap.h"

/* Parse "250-a\n250 b" into a reply; aborts on a bad canned reply. */
static inline const struct reply *
R(const char *text)
{
	static struct reply_parser parser;
	struct error err;
	const char *p = text;
	int rc = 0;

	reply_parser_init(&parser);
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		rc = reply_parser_line(&parser, p, n, &err);
		if (rc < 0)
			bail_out("bad canned reply '%s': %s", text, err.message);
		p += n + (p[n] == '\n');
	}
	if (rc != 1)
		bail_out("canned reply '%s' is not a whole reply", text);
	return &parser.reply;
}

/* Take what the machine wants to send (a static buffer). */
static inline const char *
sent(struct smtp *s)
{
	static char out[1 << 16];
	size_t n = s->out.len < sizeof(out) - 1 ? s->out.len : sizeof(out) - 1;

	memcpy(out, s->out.data ? s->out.data : "", n);
	out[n] = '\0';
	dynbuf_reset(&s->out);
	return out;
}

#endif
