/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qfile.c -- see qfile.h. The envelope and the state slots of a queue file
 * as bytes: build, parse, check. Text, so a human can read a queue file
 * with less(1); checksummed, so a torn or foreign file is never trusted.
 */
#include "autoconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "dsn.h"
#include "error.h"
#include "qfile.h"
#include "util.h"

#define MAGIC		"yubin-queue 1"
#define SLOT_MAGIC	"yubin-state "
#define SLOT_PREFIX	(sizeof(SLOT_MAGIC) - 1 + 16 + 1)

_Static_assert(QUEUE_ERROR_MAX + 320 < QFILE_SLOT - SLOT_PREFIX,
    "a state always fits in its slot");

uint64_t
qfile_fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	while (n-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int __attribute__((format(printf, 3, 4)))
why_set(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---------------------------------------------------------------- build */

static int
hdr_add(struct dynbuf *b, const char *key, const char *val, char *why,
    size_t whysize)
{
	if (val[strcspn(val, "\r\n")] != '\0')
		return why_set(why, whysize, "a line break in '%s'", key);
	if (dynbuf_printf(b, "%s %s\n", key, val) < 0)
		return why_set(why, whysize, "envelope too large");
	return 0;
}

static int
hdr_add_opt(struct dynbuf *b, const char *key, const char *val, char *why,
    size_t whysize)
{
	return val == NULL ? 0 : hdr_add(b, key, val, why, whysize);
}

int
qfile_header_build(const struct queue_entry *e, struct dynbuf *out,
    char *why, size_t whysize)
{
	char num[64], sum[32];
	size_t i;

	if (e->nrcpt == 0)
		return why_set(why, whysize, "no recipients");
	snprintf(num, sizeof(num), "%lld", e->created);
	if (dynbuf_printf(out, MAGIC "\n") < 0 ||
	    hdr_add(out, "id", e->id, why, whysize) < 0 ||
	    hdr_add(out, "created", num, why, whysize) < 0 ||
	    (e->config[0] != '\0' &&
	    hdr_add(out, "config", e->config, why, whysize) < 0) ||
	    hdr_add(out, "account", e->account, why, whysize) < 0 ||
	    hdr_add(out, "from", e->from, why, whysize) < 0)
		return -1;
	for (i = 0; i < e->nrcpt; i++)
		if (hdr_add(out, "rcpt", e->rcpt[i], why, whysize) < 0)
			return -1;
	snprintf(num, sizeof(num), "%lld", e->size);
	if (hdr_add_opt(out, "notify", e->dsn_notify, why, whysize) < 0 ||
	    hdr_add_opt(out, "return", e->dsn_return, why, whysize) < 0 ||
	    hdr_add_opt(out, "envid", e->dsn_envid, why, whysize) < 0 ||
	    hdr_add(out, "size", num, why, whysize) < 0 ||
	    hdr_add(out, "eightbit", e->eightbit ? "1" : "0", why,
	    whysize) < 0 || (e->utf8_header &&
	    hdr_add(out, "utf8header", "1", why, whysize) < 0))
		return -1;
	snprintf(sum, sizeof(sum), "%016" PRIx64,
	    qfile_fnv(out->data, out->len, QFILE_FNV_INIT));
	return hdr_add(out, "end", sum, why, whysize);
}

/* ---------------------------------------------------------------- parse */

static int
parse_ll(const char *s, long long min, long long *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min)
		return -1;
	*out = v;
	return 0;
}

/* A string-valued key: set once. */
static int
hdr_string(char **dst, const char *key, const char *val, char *why,
    size_t whysize)
{
	if (*dst != NULL)
		return why_set(why, whysize, "'%s' given twice", key);
	*dst = xstrdup(val);
	return 0;
}

static int
hdr_number(struct queue_entry *e, const char *key, const char *val,
    char *why, size_t whysize)
{
	long long v;

	if (parse_ll(val, 0, &v) < 0)
		return why_set(why, whysize, "bad '%s' value", key);
	if (strcmp(key, "created") == 0)
		e->created = v;
	else if (strcmp(key, "size") == 0)
		e->size = v;
	else if (v > 1)
		return why_set(why, whysize, "bad '%s' value", key);
	else if (strcmp(key, "utf8header") == 0)
		e->utf8_header = v == 1;
	else
		e->eightbit = v == 1;
	return 0;
}

static int
hdr_field(struct queue_entry *e, const char *key, const char *val,
    char *why, size_t whysize)
{
	if (strcmp(key, "id") == 0) {
		if (util_strlcpy(e->id, val, sizeof(e->id)) >= sizeof(e->id))
			return why_set(why, whysize, "id too long");
		return 0;
	}
	if (strcmp(key, "created") == 0 || strcmp(key, "size") == 0 ||
	    strcmp(key, "eightbit") == 0 || strcmp(key, "utf8header") == 0)
		return hdr_number(e, key, val, why, whysize);
	if (strcmp(key, "rcpt") == 0) {
		e->rcpt = xrealloc(e->rcpt, (e->nrcpt + 1) * sizeof(*e->rcpt));
		e->rcpt[e->nrcpt++] = xstrdup(val);
		return 0;
	}
	if (strcmp(key, "config") == 0)
		return hdr_string(&e->config, key, val, why, whysize);
	if (strcmp(key, "account") == 0)
		return hdr_string(&e->account, key, val, why, whysize);
	if (strcmp(key, "from") == 0)
		return hdr_string(&e->from, key, val, why, whysize);
	if (*val == '\0' && (strcmp(key, "notify") == 0 ||
	    strcmp(key, "return") == 0 || strcmp(key, "envid") == 0))
		return 0;	/* "off" in an older file: none */
	if (strcmp(key, "notify") == 0)
		return hdr_string(&e->dsn_notify, key, val, why, whysize);
	if (strcmp(key, "return") == 0)
		return hdr_string(&e->dsn_return, key, val, why, whysize);
	if (strcmp(key, "envid") == 0)
		return hdr_string(&e->dsn_envid, key, val, why, whysize);
	return why_set(why, whysize, "unknown envelope key '%.40s'", key);
}

/*
 * What the envelope will put on the wire, checked as strictly as the
 * command line was (address_check(), dsn_check()): a file edited by hand,
 * with a checksum to match, must not put a bare CR into RCPT TO.
 */
static int
hdr_values(const struct queue_entry *e, char *why, size_t whysize)
{
	struct error err;

	error_init(&err);
	if ((*e->from != '\0' &&
	    address_check(e->from, "sender", NULL, &err) < 0) ||
	    dsn_check(e->dsn_notify, e->dsn_return, e->dsn_envid, &err) < 0)
		return why_set(why, whysize, "%s", err.message);
	for (size_t i = 0; i < e->nrcpt; i++)
		if (address_check(e->rcpt[i], "recipient", NULL, &err) < 0)
			return why_set(why, whysize, "%s", err.message);
	return 0;
}

/* The "end FNV" line: checksum of everything before it, required keys. */
static int
hdr_end(struct queue_entry *e, const char *buf, size_t before,
    const char *val, char *why, size_t whysize)
{
	char sum[32];

	snprintf(sum, sizeof(sum), "%016" PRIx64,
	    qfile_fnv(buf, before, QFILE_FNV_INIT));
	if (strcmp(val, sum) != 0)
		return why_set(why, whysize, "envelope checksum mismatch");
	if (e->id[0] == '\0' || e->account == NULL || e->from == NULL ||
	    e->nrcpt == 0 || e->created == 0)
		return why_set(why, whysize, "envelope incomplete");
	if (e->config == NULL)
		e->config = xstrdup("");
	return hdr_values(e, why, whysize);
}

/* One line (no LF) of the envelope: DONE after the end line. */
static enum qfile_parse
hdr_line(struct queue_entry *e, const char *buf, const char *line,
    size_t n, char *why, size_t whysize)
{
	char *copy, *val;
	bool end = false;
	int rc;

	if (memchr(line, '\0', n) != NULL)
		return why_set(why, whysize, "NUL byte in the envelope");
	copy = xstrndup(line, n);
	val = strchr(copy, ' ');
	if (line == buf)
		rc = strcmp(copy, MAGIC) == 0 ? 0 : why_set(why, whysize,
		    "not a yubin queue file");
	else if (val == NULL)
		rc = why_set(why, whysize, "malformed envelope line");
	else if ((end = strncmp(copy, "end ", 4) == 0))
		rc = hdr_end(e, buf, (size_t)(line - buf), val + 1, why,
		    whysize);
	else {
		*val++ = '\0';
		rc = hdr_field(e, copy, val, why, whysize);
	}
	free(copy);
	if (rc < 0)
		return QFILE_PARSE_BAD;
	return end ? QFILE_PARSE_DONE : QFILE_PARSE_MORE;
}

enum qfile_parse
qfile_header_parse(struct queue_entry *e, const char *buf, size_t len,
    size_t *hdrlen, char *why, size_t whysize)
{
	const char *p = buf, *end = buf + len, *nl;
	enum qfile_parse rc;

	if (len >= sizeof(MAGIC) - 1 && memcmp(buf, MAGIC,
	    sizeof(MAGIC) - 1) != 0)
		return why_set(why, whysize, "not a yubin queue file");
	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL && len >= QFILE_HEADER_MAX)
			return why_set(why, whysize, "envelope too long");
		if (nl == NULL)
			return QFILE_PARSE_MORE;
		rc = hdr_line(e, buf, p, (size_t)(nl - p), why, whysize);
		p = nl + 1;
		if (rc == QFILE_PARSE_DONE)
			*hdrlen = (size_t)(p - buf);
		if (rc != QFILE_PARSE_MORE)
			return rc;
	}
}

off_t
qfile_slot_off(size_t hdrlen)
{
	return (off_t)((hdrlen + QFILE_ALIGN - 1) / QFILE_ALIGN * QFILE_ALIGN);
}

off_t
qfile_body_off(size_t hdrlen)
{
	return qfile_slot_off(hdrlen) + 2 * QFILE_SLOT;
}

off_t
qfile_total(size_t hdrlen, long long size)
{
	return qfile_body_off(hdrlen) + (off_t)size + (off_t)QFILE_TRAILER_LEN;
}

/* ---------------------------------------------------------------- state */

static const char *const status_names[] = {
	[QUEUE_ST_QUEUED] = "queued",
	[QUEUE_ST_FAILED] = "failed",
	[QUEUE_ST_REPORTED] = "reported",
};

const char *
qfile_status_name(enum queue_status s)
{
	return (size_t)s < ARRAY_SIZE(status_names) ? status_names[s] : "?";
}

int
qfile_status_parse(const char *name, enum queue_status *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum queue_status)i;
			return 0;
		}
	return -1;
}

static const char *const wait_names[] = {
	[QUEUE_WAIT_NONE] = "none",
	[QUEUE_WAIT_NET] = "net",
	[QUEUE_WAIT_SERVER] = "server",
	[QUEUE_WAIT_OTHER] = "other",
};

const char *
queue_wait_name(enum queue_wait w)
{
	return (size_t)w < ARRAY_SIZE(wait_names) ? wait_names[w] : "?";
}

void
qfile_state_encode(const struct queue_state *st, char *slot)
{
	char prefix[SLOT_PREFIX + 1], kind[16], esc[16], error[QUEUE_ERROR_MAX];

	util_oneline(kind, sizeof(kind), st->kind);
	util_oneline(esc, sizeof(esc), st->esc);
	util_oneline(error, sizeof(error), st->error);
	memset(slot, 0, QFILE_SLOT);
	snprintf(slot + SLOT_PREFIX, QFILE_SLOT - SLOT_PREFIX,
	    "seq %llu\nstatus %s\nattempts %u\nnext %lld\nlast %lld\n"
	    "since %lld\nexpire %lld\nkind %s\ncode %d\nesc %s\nerror %s\n"
	    "defer %d\nbackoff %u\n",
	    st->seq, qfile_status_name(st->status), st->attempts, st->next,
	    st->last, st->since, st->expire, kind, st->code, esc, error,
	    (int)st->wait, st->backoff);
	snprintf(prefix, sizeof(prefix), SLOT_MAGIC "%016" PRIx64 "\n",
	    qfile_fnv(slot + SLOT_PREFIX, QFILE_SLOT - SLOT_PREFIX,
	    QFILE_FNV_INIT));
	memcpy(slot, prefix, SLOT_PREFIX);
}

/*
 * A slot written before "defer" and "backoff" existed: every attempt grew
 * the back-off, and a 4xx is the server's own "later"; whether the
 * server could not be reached was not kept (so: other).
 */
static void
state_upgrade(struct queue_state *st, bool has_defer, bool has_backoff)
{
	if (!has_backoff)
		st->backoff = st->attempts;
	if (has_defer)
		return;
	if (st->attempts == 0)
		st->wait = QUEUE_WAIT_NONE;
	else if (st->code >= 400 && st->code <= 499)
		st->wait = QUEUE_WAIT_SERVER;
	else
		st->wait = QUEUE_WAIT_OTHER;
}

/* The numeric keys this version knows. */
static bool
state_known(const char *key)
{
	static const char *const keys[] = { "seq", "attempts", "backoff",
	    "defer", "next", "last", "since", "expire", "code" };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static int
state_number(const char *val, long long *out)
{
	return parse_ll(val, 0, out);
}

static int
state_field(struct queue_state *st, const char *key, const char *val)
{
	long long v = 0;

	if (strcmp(key, "status") == 0)
		return qfile_status_parse(val, &st->status);
	if (strcmp(key, "kind") == 0)
		return util_strlcpy(st->kind, val, sizeof(st->kind)) <
		    sizeof(st->kind) ? 0 : -1;
	if (strcmp(key, "esc") == 0)
		return util_strlcpy(st->esc, val, sizeof(st->esc)) <
		    sizeof(st->esc) ? 0 : -1;
	if (strcmp(key, "error") == 0) {
		util_strlcpy(st->error, val, sizeof(st->error));
		return 0;
	}
	if (!state_known(key))
		return 0;		/* a newer version's: skipped */
	if (state_number(val, &v) < 0)
		return -1;
	if (strcmp(key, "seq") == 0)
		st->seq = (unsigned long long)v;
	else if (strcmp(key, "attempts") == 0)
		st->attempts = v > 100000 ? 100000 : (unsigned)v;
	else if (strcmp(key, "backoff") == 0)
		st->backoff = v > 100000 ? 100000 : (unsigned)v;
	else if (strcmp(key, "defer") == 0)	/* a newer one's: other */
		st->wait = v > QUEUE_WAIT_OTHER ? QUEUE_WAIT_OTHER :
		    (enum queue_wait)v;
	else if (strcmp(key, "next") == 0)
		st->next = v;
	else if (strcmp(key, "last") == 0)
		st->last = v;
	else if (strcmp(key, "since") == 0)
		st->since = v;
	else if (strcmp(key, "expire") == 0)
		st->expire = v;
	else if (strcmp(key, "code") == 0)
		st->code = v > 999 ? 0 : (int)v;
	return 0;			/* unknown keys: newer versions */
}

/* The payload: NUL-terminated "key value\n" lines. */
static int
state_parse(struct queue_state *st, char *p)
{
	bool has_defer = false, has_backoff = false;
	char *nl, *val;

	memset(st, 0, sizeof(*st));
	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			return -1;
		*nl = '\0';
		val = strchr(p, ' ');
		if (val == NULL)
			return -1;
		*val++ = '\0';
		if (state_field(st, p, val) < 0)
			return -1;
		has_defer |= strcmp(p, "defer") == 0;
		has_backoff |= strcmp(p, "backoff") == 0;
		p = nl + 1;
	}
	state_upgrade(st, has_defer, has_backoff);
	return st->seq > 0 && st->expire > 0 ? 0 : -1;
}

int
qfile_state_decode(struct queue_state *st, const char *slot)
{
	char payload[QFILE_SLOT], sum[20];

	if (memcmp(slot, SLOT_MAGIC, sizeof(SLOT_MAGIC) - 1) != 0 ||
	    slot[SLOT_PREFIX - 1] != '\n')
		return -1;
	snprintf(sum, sizeof(sum), "%016" PRIx64, qfile_fnv(slot +
	    SLOT_PREFIX, QFILE_SLOT - SLOT_PREFIX, QFILE_FNV_INIT));
	if (memcmp(slot + sizeof(SLOT_MAGIC) - 1, sum, 16) != 0)
		return -1;
	memcpy(payload, slot + SLOT_PREFIX, QFILE_SLOT - SLOT_PREFIX);
	payload[QFILE_SLOT - SLOT_PREFIX] = '\0';
	return state_parse(st, payload);
}

int
qfile_state_pick(const char *slot0, const char *slot1,
    struct queue_state *st)
{
	struct queue_state a, b;
	int ra = qfile_state_decode(&a, slot0);
	int rb = qfile_state_decode(&b, slot1);

	if (ra < 0 && rb < 0)
		return -1;
	if (rb < 0 || (ra == 0 && a.seq >= b.seq))
		*st = a;
	else
		*st = b;
	return 0;
}
