/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qlist.c -- queue_list() (see queue.h): the queue as a table for people
 * (yubin --queue-list, -bp) or as JSON lines for programs (--json).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "queue.h"
#include "util.h"

/* "45s", "12m", "2h13m", "3d4h" */
static const char *
fmt_span(char *buf, size_t size, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lldd%02lldh", s / 86400,
		    s % 86400 / 3600);
	return buf;
}

/* "512", "4.1K", "12.3M" */
static const char *
fmt_size(char *buf, size_t size, long long n)
{
	if (n < 1024)
		snprintf(buf, size, "%lld", n);
	else if (n < 1024 * 1024)
		snprintf(buf, size, "%.1fK", (double)n / 1024);
	else
		snprintf(buf, size, "%.1fM", (double)n / (1024 * 1024));
	return buf;
}

static const char *
entry_state(const struct queue_entry *e)
{
	if (!e->valid)
		return "invalid";
	return e->where == QUEUE_FAILED || e->st.status != QUEUE_ST_QUEUED ?
	    "failed" : "queued";
}

/* The NEXT column. */
static const char *
fmt_next(char *buf, size_t size, const struct queue_entry *e,
    long long now)
{
	char span[32];

	if (strcmp(entry_state(e), "queued") != 0)
		return entry_state(e);
	if (e->st.next <= now)
		return "now";
	snprintf(buf, size, "in %s", fmt_span(span, sizeof(span),
	    e->st.next - now));
	return buf;
}

static void
table_entry(FILE *out, const struct queue_entry *e, long long now)
{
	char age[32], size[32], next[48], line[QUEUE_ERROR_MAX];

	if (!e->valid) {
		fprintf(out, "%-26s %-6s %6s %5s  %-9s\n", e->id, "-", "-",
		    "-", "invalid");
		util_oneline(line, sizeof(line), e->problem);
		fprintf(out, "    problem: %s\n", line);
		return;
	}
	util_oneline(line, sizeof(line), e->from[0] != '\0' ? e->from :
	    "<>");
	fprintf(out, "%-26s %-6s %6s %5u  %-9s %s\n", e->id,
	    fmt_span(age, sizeof(age), now - e->created),
	    fmt_size(size, sizeof(size), e->size), e->st.attempts,
	    fmt_next(next, sizeof(next), e, now), line);
	fprintf(out, "    to:");
	for (size_t i = 0; i < e->nrcpt; i++) {
		util_oneline(line, sizeof(line), e->rcpt[i]);
		fprintf(out, "%s %s", i > 0 ? "," : "", line);
	}
	fprintf(out, "\n");
	if (e->st.error[0] != '\0')
		fprintf(out, "    last error: %s\n", e->st.error);
}

static void
json_entry(FILE *out, const struct queue_entry *e, long long now)
{
	fprintf(out, "{\"id\":");
	json_write_str(out, e->id);
	fprintf(out, ",\"state\":\"%s\"", entry_state(e));
	if (!e->valid) {
		fprintf(out, ",\"problem\":");
		json_write_str(out, e->problem);
		fprintf(out, "}\n");
		return;
	}
	fprintf(out, ",\"account\":");
	json_write_str(out, e->account);
	fprintf(out, ",\"created\":%lld,\"age\":%lld,\"size\":%lld,"
	    "\"from\":", e->created, now - e->created, e->size);
	json_write_str(out, e->from);
	fprintf(out, ",\"rcpt\":[");
	for (size_t i = 0; i < e->nrcpt; i++) {
		if (i > 0)
			fputc(',', out);
		json_write_str(out, e->rcpt[i]);
	}
	fprintf(out, "],\"attempts\":%u,\"next_attempt\":%lld,"
	    "\"last_attempt\":%lld,\"expire\":%lld,\"last_error\":",
	    e->st.attempts, e->st.next, e->st.last, e->st.expire);
	json_write_str(out, e->st.error);
	fprintf(out, ",\"waiting_for\":\"%s\",\"backoff\":%u}\n",
	    queue_wait_name(e->st.wait), e->st.backoff);
}

static size_t
count_state(const struct queue_entries *l, const char *state)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += strcmp(entry_state(&l->v[i]), state) == 0;
	return n;
}

static void
table(FILE *out, const struct queue_entries *l, size_t n, long long now)
{
	if (n == 0) {
		fprintf(out, "queue is empty\n");
		return;
	}
	fprintf(out, "%-26s %-6s %6s %5s  %-9s %s\n", "ID", "AGE", "SIZE",
	    "TRIES", "NEXT", "SENDER");
	for (size_t i = 0; i < l->n; i++)
		table_entry(out, &l->v[i], now);
	fprintf(out, "%zu queued, %zu failed, %zu invalid\n",
	    count_state(l, "queued"), count_state(l, "failed"),
	    count_state(l, "invalid"));
}

int
queue_list(struct queue *q, FILE *out, bool json, long long now,
    struct error *err)
{
	struct queue_entries msg, failed, all = { 0 };
	size_t i;

	if (queue_scan(q, QUEUE_MSG, false, &msg, err) < 0)
		return -1;
	if (queue_scan(q, QUEUE_FAILED, false, &failed, err) < 0) {
		queue_entries_release(&msg);
		return -1;
	}
	all.n = msg.n + failed.n;
	all.v = xcalloc(all.n + 1, sizeof(*all.v));
	for (i = 0; i < msg.n; i++)
		all.v[i] = msg.v[i];
	for (i = 0; i < failed.n; i++)
		all.v[msg.n + i] = failed.v[i];
	if (json)
		for (i = 0; i < all.n; i++)
			json_entry(out, &all.v[i], now);
	else
		table(out, &all, all.n, now);
	free(msg.v);
	free(failed.v);
	queue_entries_release(&all);
	if (fflush(out) != 0 || ferror(out))
		return error_set(err, ERR_IOERR, "cannot write the queue "
		    "listing");
	return 0;
}
