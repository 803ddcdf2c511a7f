/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * envelope.c -- see envelope.h. The policy between the command line, the
 * account and the message: which account, which sender, which recipients,
 * which header fields go and which come. message.c and headers.c do the
 * mechanics; this file decides.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "account.h"
#include "address.h"
#include "aliases.h"
#include "cli.h"
#include "config.h"
#include "envelope.h"
#include "error.h"
#include "headers.h"
#include "log.h"
#include "message.h"
#include "util.h"

#define MSGID_RANDOM 20		/* bytes of randomness in a Message-ID */
#define SHOW_MAX 64		/* bytes of an address quoted in a message */

/* ---------------------------------------------------------------- job */

void
envelope_job_init(struct envelope_job *j, const struct options *o,
    const struct config *c)
{
	memset(j, 0, sizeof(*j));
	j->opt = o;
	j->cfg = c;
	address_list_init(&j->rcpt);
}

void
envelope_job_release(struct envelope_job *j)
{
	free(j->want_sender);
	free(j->sender);
	free(j->fullname);
	address_list_release(&j->rcpt);
	memset(j, 0, sizeof(*j));
}

bool
envelope_needs_message(const struct envelope_job *j)
{
	return j->opt->read_recipients || j->opt->read_envelope_from;
}

/* s for a message: control bytes as \xNN, cut after SHOW_MAX bytes. */
static const char *
show(const char *s, char *buf, size_t size)
{
	return util_show(s, SHOW_MAX, false, buf, size);
}

static int
add_rcpts(struct envelope_job *j, const struct address_list *l,
    const char *where, struct error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		if (address_check(l->addr[i], "recipient", where, err) < 0)
			return -1;
		address_list_add(&j->rcpt, l->addr[i]);
	}
	return 0;
}

/* ---------------------------------------------------------------- sender */

/* -f ADDR: one address, or "" / "<>" for the null sender. */
static int
parse_dash_f(struct envelope_job *j, struct error *err)
{
	const char *f = j->opt->from;
	struct address_list l;
	int r = 0;

	if (f == NULL)
		return 0;
	j->have_want = true;
	if (*f == '\0' || strcmp(f, "<>") == 0) {
		j->want_sender = xstrdup("");
		return 0;
	}
	address_list_init(&l);
	if (address_parse_arg(f, "sender", &l, err) < 0)
		r = -1;
	else if (l.n != 1)
		r = error_set(err, ERR_USAGE, "option '-f' takes one address, "
		    "not %zu", l.n);
	else if (address_check(l.addr[0], "sender", "given with -f", err) == 0)
		j->want_sender = xstrdup(l.addr[0]);
	else
		r = -1;
	address_list_release(&l);
	return r;
}

/* The sender the account allows, given what -f or From: asked for. */
static int
choose_sender(struct envelope_job *j, struct error *err)
{
	char buf[SHOW_MAX * 4 + 8];
	const struct account *a = &j->acct;
	const char *want = j->have_want ? j->want_sender : NULL;

	if (want != NULL && (a->from == NULL || a->allow_from_override ||
	    (a->from_pattern && account_from_matches(a->from, want)))) {
		j->sender = xstrdup(want);
		return 0;
	}
	if (want != NULL && a->from_pattern)
		return error_set(err, ERR_DATAERR, "envelope sender '%s' does "
		    "not match 'from %s' of account '%s', and "
		    "allow_from_override is off", show(want, buf, sizeof(buf)),
		    a->from, a->name);
	if (want != NULL)
		log_verbose("account '%s' has %s: sender '%s' replaced by "
		    "'%s'", a->name, a->conf != NULL && a->conf->auto_from ?
		    "auto_from on" : "allow_from_override off", show(want, buf,
		    sizeof(buf)), a->from);
	if (a->from != NULL && !a->from_pattern) {
		j->sender = xstrdup(a->from);
		return 0;
	}
	if (a->from_pattern)
		return error_set(err, ERR_CONFIG, "account '%s' has the "
		    "pattern 'from %s': give the envelope sender with -f",
		    a->name, a->from);
	return error_set(err, ERR_CONFIG, "no envelope sender: set 'from' "
	    "for account '%s' or use -f ADDRESS", a->name);
}

/* A sender without a domain gets the maildomain; then it is checked. */
static int
finish_sender(struct envelope_job *j, struct error *err)
{
	const struct account *a = &j->acct;
	char *s;

	if (*j->sender != '\0' && address_domain(j->sender) == NULL &&
	    a->maildomain != NULL) {
		s = xasprintf("%s@%s", j->sender, a->maildomain);
		free(j->sender);
		j->sender = s;
	}
	if (*j->sender != '\0' && address_check(j->sender, "sender",
	    "of the envelope", err) < 0)
		return -1;
	if (j->opt->fullname != NULL && (a->from_full_name == NULL ||
	    a->allow_from_override))
		j->fullname = xstrdup(j->opt->fullname);
	else if (a->from_full_name != NULL)
		j->fullname = xstrdup(a->from_full_name);
	return 0;
}

/* The account (by -a, the sender, or the default), then the sender. */
static int
select_account(struct envelope_job *j, struct error *err)
{
	if (account_select_by_from(j->cfg, j->opt->account,
	    j->have_want ? j->want_sender : NULL, &j->acct, err) < 0)
		return -1;
	if (j->opt->protocol != CLI_PROTOCOL_ACCOUNT &&
	    account_set_protocol(&j->acct, j->opt->protocol ==
	    CLI_PROTOCOL_LMTP, err) < 0)
		return -1;
	j->selected = true;
	if (choose_sender(j, err) < 0)
		return -1;
	return finish_sender(j, err);
}

/* ---------------------------------------------------------------- begin */

int
envelope_begin(struct envelope_job *j, struct error *err)
{
	const struct options *o = j->opt;
	struct address_list l;
	int r = 0;

	if (o->from != NULL && o->read_envelope_from)
		return error_set(err, ERR_USAGE, "cannot use both -f and "
		    "--read-envelope-from");
	if (!o->read_recipients && o->nrcpt == 0)
		return error_set(err, ERR_USAGE, "no recipients given");
	if (parse_dash_f(j, err) < 0)
		return -1;
	for (size_t i = 0; i < o->nrcpt && r == 0; i++) {
		address_list_init(&l);	/* each operand on its own */
		if ((r = address_parse_arg(o->rcpt[i], "recipient", &l,
		    err)) == 0)
			r = add_rcpts(j, &l, "on the command line", err);
		address_list_release(&l);
	}
	if (r < 0)
		return -1;
	if (!o->read_envelope_from)
		return select_account(j, err);
	return 0;
}

void
envelope_message_opts(struct envelope_job *j, struct message_opts *mo)
{
	mo->dot_ends = j->opt->dot_ends;
	mo->header_hook = envelope_header_hook;
	mo->hook_arg = j;
	mo->strip_nul = true;
}

/* ---------------------------------------------------------------- header */

/* Parse field i as an address list into l; where names it in messages. */
static int
field_addresses(const struct headers *h, size_t i, struct address_list *l,
    char *where, size_t wsize, struct error *err)
{
	char name[64];
	const char *v;
	size_t len;

	header_name(&h->f[i], name, sizeof(name));
	snprintf(where, wsize, "in the '%s:' header", name);
	v = header_value(&h->f[i], &len);
	return address_parse_list(v, len, name, l, err);
}

/* The first block of Resent- fields: [*from, *to), or false if none. */
static bool
resent_block(const struct headers *h, size_t *from, size_t *to)
{
	size_t i = 0;

	while (i < h->n && !header_has_prefix(&h->f[i], "Resent-"))
		i++;
	if (i == h->n)
		return false;
	*from = i;
	while (i < h->n && header_has_prefix(&h->f[i], "Resent-"))
		i++;
	*to = i;
	return true;
}

/* -t: To, Cc, Bcc (or those of the first Resent- block). */
static int
header_rcpts(struct envelope_job *j, const struct headers *h,
    struct error *err)
{
	static const char *const plain[] = { "To", "Cc", "Bcc" };
	static const char *const resent[] = {
		"Resent-To", "Resent-Cc", "Resent-Bcc",
	};
	const char *const *names = plain;
	size_t from = 0, to = h->n;
	char where[96];
	int r = 0;

	if (resent_block(h, &from, &to))
		names = resent;
	for (size_t i = from; i < to && r == 0; i++) {
		struct address_list l;

		if (!header_is(&h->f[i], names[0]) &&
		    !header_is(&h->f[i], names[1]) &&
		    !header_is(&h->f[i], names[2]))
			continue;
		address_list_init(&l);
		r = field_addresses(h, i, &l, where, sizeof(where), err);
		if (r == 0)
			r = add_rcpts(j, &l, where, err);
		address_list_release(&l);
	}
	return r;
}

/* --read-envelope-from: the first address of the first From: field. */
static int
header_sender(struct envelope_job *j, const struct headers *h,
    struct error *err)
{
	size_t i = headers_find(h, "From", 0);
	struct address_list l;
	char where[96];
	int r;

	if (i == h->n)
		return error_set(err, ERR_DATAERR, "no envelope sender: the "
		    "message has no 'From:' header (--read-envelope-from)");
	address_list_init(&l);
	r = field_addresses(h, i, &l, where, sizeof(where), err);
	if (r == 0 && l.n == 0)
		r = error_set(err, ERR_DATAERR, "no envelope sender: the "
		    "'From:' header holds no address");
	if (r == 0)
		r = address_check(l.addr[0], "sender", where, err);
	if (r == 0) {
		j->want_sender = xstrdup(l.addr[0]);
		j->have_want = true;
	}
	address_list_release(&l);
	return r;
}

static int
check_nul(const struct headers *h, struct error *err)
{
	char name[64];

	for (size_t i = 0; i < h->n; i++)
		if (memchr(h->f[i].raw, '\0', h->f[i].len) != NULL)
			return error_set(err, ERR_DATAERR, "NUL byte in the "
			    "'%s:' header", header_name(&h->f[i], name,
			    sizeof(name)));
	return 0;
}

/* ---------------------------------------------------------------- fields */

/* base32 (RFC 4648 alphabet, lower case) of n bytes into out. */
static void
base32(const unsigned char *p, size_t n, char *out)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned long acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5) {
			*out++ = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		*out++ = b32[(acc << (5 - bits)) & 31];
	*out = '\0';
}

/* A domain fit for a Message-ID (ASCII dot-atom or literal), or NULL. */
static char *
msgid_domain_of(const char *d)
{
	char *a = NULL, *tmp;
	struct error ignored;

	if (d == NULL || *d == '\0' || strcmp(d, "localhost") == 0)
		return NULL;
	tmp = xasprintf("x@%s", d);
	if (address_to_ascii(tmp, &a, &ignored) == 0 &&
	    strspn(a + 2, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-[]:") == strlen(a + 2) && a[2] != '.') {
		free(tmp);
		tmp = xstrdup(a + 2);
	} else {
		free(tmp);
		tmp = NULL;
	}
	free(a);
	return tmp;
}

/* The sender's domain, else maildomain, else the EHLO name, else localhost. */
static char *
msgid_domain(const struct envelope_job *j)
{
	const char *cands[] = {
		address_domain(j->sender), j->acct.maildomain, j->acct.domain,
	};
	char *d;

	for (size_t i = 0; i < ARRAY_SIZE(cands); i++)
		if ((d = msgid_domain_of(cands[i])) != NULL)
			return d;
	return xstrdup("localhost");
}

static int
add_msgid(const struct envelope_job *j, struct headers *h,
    struct error *err)
{
	unsigned char r[MSGID_RANDOM];
	char id[(MSGID_RANDOM * 8 + 4) / 5 + 1], *domain, *v;

	if (util_random_bytes(r, sizeof(r)) < 0)
		return error_set(err, ERR_OSERR, "cannot get random bytes for "
		    "the Message-ID: %s", strerror(errno));
	base32(r, sizeof(r), id);
	domain = msgid_domain(j);
	v = xasprintf("<%s@%s>", id, domain);
	headers_add(h, "Message-ID", v);
	free(v);
	free(domain);
	return 0;
}

/* "From: Full Name <sender>" or "From: sender". */
static int
add_from(const struct envelope_job *j, struct headers *h, struct error *err)
{
	struct dynbuf b;
	int r = 0;

	/* a phrase (<= 256 bytes, encoded) and an address fit: (void) */
	dynbuf_init(&b, 64 * 1024);
	if (j->fullname != NULL && *j->fullname != '\0') {
		r = headers_phrase(j->fullname, "the full name (-F or "
		    "from_full_name)", &b, err);
		(void)dynbuf_printf(&b, " <%s>", j->sender);
	} else {
		(void)dynbuf_addstr(&b, j->sender);
	}
	if (r == 0)
		headers_add(h, "From", b.data);
	dynbuf_release(&b);
	return r;
}

/* Whether to write From: (removing the message's own for "on"). */
static bool
want_from(const struct envelope_job *j, struct headers *h)
{
	enum conf_set_from s = j->acct.set_from_header;

	if (s == CONF_SET_FROM_OFF)
		return false;
	if (*j->sender == '\0') {
		log_verbose("no From: field written: the sender is <>");
		return false;
	}
	if (s == CONF_SET_FROM_ON) {
		headers_remove_all(h, "From");
		return true;
	}
	return headers_find(h, "From", 0) == h->n;
}

/* Bcc, undisclosed recipients, From, Date, Message-ID (msmtp's order). */
static int
edit_fields(const struct envelope_job *j, struct headers *h,
    struct error *err)
{
	const struct account *a = &j->acct;
	bool no_date = headers_find(h, "Date", 0) == h->n;
	bool no_msgid = headers_find(h, "Message-ID", 0) == h->n;
	char date[HEADERS_DATE_MAX];

	if (a->undisclosed_recipients) {
		headers_remove_all(h, "To");
		headers_remove_all(h, "Cc");
	}
	if (a->undisclosed_recipients || a->remove_bcc_headers ||
	    j->opt->read_recipients) {
		headers_remove_all(h, "Bcc");
		headers_remove_all(h, "Resent-Bcc");
	}
	if (want_from(j, h) && add_from(j, h, err) < 0)
		return -1;
	if (a->undisclosed_recipients)
		headers_add(h, "To", "undisclosed-recipients:;");
	if (no_date && a->set_date_header)
		headers_add(h, "Date", headers_date(j->now != 0 ? j->now :
		    time(NULL), HEADERS_ZONE_LOCAL, date, sizeof(date)));
	if (no_msgid && a->set_msgid_header)
		return add_msgid(j, h, err);
	return 0;
}

int
envelope_header_hook(struct headers *h, void *arg, struct error *err)
{
	struct envelope_job *j = arg;

	j->headers_read = true;
	if (j->opt->read_recipients && header_rcpts(j, h, err) < 0)
		return -1;
	if (j->opt->read_envelope_from && header_sender(j, h, err) < 0)
		return -1;
	if (!j->selected && select_account(j, err) < 0)
		return -1;
	if (check_nul(h, err) < 0)
		return -1;
	return edit_fields(j, h, err);
}

/* ---------------------------------------------------------------- finish */

/* Where local names are explained: the account's file. */
static const char *
config_file(const struct envelope_job *j)
{
	if (j->acct.conf != NULL && j->acct.conf->file != NULL)
		return j->acct.conf->file;
	return j->cfg->path != NULL ? j->cfg->path : "the configuration file";
}

/* A local name with nowhere to go after the aliases. */
static int
no_domain(const struct envelope_job *j, const char *name, struct error *err)
{
	char buf[SHOW_MAX * 4 + 8];

	if (j->acct.aliases != NULL)
		return error_set(err, ERR_NOUSER, "recipient '%s' has no "
		    "domain and no alias in '%s': add one, or set "
		    "'maildomain' in %s", show(name, buf, sizeof(buf)),
		    j->acct.aliases, config_file(j));
	return error_set(err, ERR_NOUSER, "recipient '%s' has no domain and "
	    "no alias: set 'aliases' or 'maildomain' in %s",
	    show(name, buf, sizeof(buf)), config_file(j));
}

/* One recipient to out: as it is, or expanded, or with the maildomain. */
static int
resolve_one(const struct envelope_job *j, const struct aliases *al,
    const char *r, struct address_list *out, struct error *err)
{
	struct address_list x;
	char where[SHOW_MAX * 4 + 24], buf[SHOW_MAX * 4 + 8], *q;
	int rc = 0;

	if (address_domain(r) != NULL) {
		address_list_add(out, r);
		return 0;
	}
	address_list_init(&x);
	if (al != NULL)
		rc = aliases_expand(al, r, &x, err);
	else
		address_list_add(&x, r);
	snprintf(where, sizeof(where), "from alias '%s'",
	    show(r, buf, sizeof(buf)));
	for (size_t i = 0; i < x.n && rc == 0; i++) {
		if (address_domain(x.addr[i]) != NULL)
			q = xstrdup(x.addr[i]);
		else if (j->acct.maildomain != NULL)
			q = xasprintf("%s@%s", x.addr[i], j->acct.maildomain);
		else
			q = NULL;
		if (q == NULL)
			rc = no_domain(j, x.addr[i], err);
		else if ((rc = address_check(q, "recipient", where, err)) == 0)
			address_list_add(out, q);
		free(q);
	}
	address_list_release(&x);
	return rc;
}

static bool
has_local(const struct address_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (address_domain(l->addr[i]) == NULL)
			return true;
	return false;
}

/* Replace local names in j->rcpt (aliases loaded only when needed). */
static int
resolve_locals(struct envelope_job *j, struct error *err)
{
	struct aliases *al = NULL;
	struct address_list out;
	int rc = 0;

	if (!has_local(&j->rcpt))
		return 0;
	if (j->acct.aliases != NULL &&
	    aliases_load(&al, j->acct.aliases, err) < 0)
		return -1;
	address_list_init(&out);
	for (size_t i = 0; i < j->rcpt.n && rc == 0; i++)
		rc = resolve_one(j, al, j->rcpt.addr[i], &out, err);
	aliases_free(al);
	if (rc == 0) {
		address_list_release(&j->rcpt);
		j->rcpt = out;
	} else {
		address_list_release(&out);
	}
	return rc;
}

/*
 * The mailbox an address names, as a key: the local part exactly, the
 * domain in lower case (ASCII). Two addresses are the same recipient when
 * their keys are equal.
 */
static char *
mailbox_key(const char *a)
{
	const char *d = address_domain(a);
	char *k = xstrdup(a);

	for (char *p = d != NULL ? k + (d - a) : NULL; p != NULL && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return k;
}

struct rcpt_key {
	char *key;
	size_t i;		/* position in the list */
};

static int
rcpt_key_cmp(const void *a, const void *b)
{
	const struct rcpt_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

/* Drop later duplicates, keeping the order: sorted keys, O(n log n). */
static void
dedup(struct address_list *l)
{
	struct rcpt_key *k = xcalloc(l->n, sizeof(*k));
	bool *dup = xcalloc(l->n, sizeof(*dup));
	size_t i, n = 0;

	for (i = 0; i < l->n; i++) {
		k[i].key = mailbox_key(l->addr[i]);
		k[i].i = i;
	}
	qsort(k, l->n, sizeof(*k), rcpt_key_cmp);
	for (i = 1; i < l->n; i++)
		dup[k[i].i] = strcmp(k[i].key, k[i - 1].key) == 0;
	for (i = 0; i < l->n; i++) {
		free(k[i].key);
		if (dup[i])
			free(l->addr[i]);
		else
			l->addr[n++] = l->addr[i];
	}
	l->n = n;
	free(dup);
	free(k);
}

/* A config value, "" for "off": NULL then. */
static const char *
set_or_null(const char *v)
{
	return v != NULL && *v != '\0' ? v : NULL;
}

int
envelope_finish(struct envelope_job *j, struct error *err)
{
	const struct options *o = j->opt;

	if (!j->selected && select_account(j, err) < 0)
		return -1;
	if (resolve_locals(j, err) < 0)
		return -1;
	dedup(&j->rcpt);
	if (j->rcpt.n == 0)
		return error_set(err, ERR_USAGE, o->read_recipients ?
		    "no recipients found in the message's To, Cc and Bcc "
		    "fields or on the command line" : "no recipients given");
	memset(&j->env, 0, sizeof(j->env));
	j->env.from = j->sender;
	j->env.rcpt = (const char *const *)j->rcpt.addr;
	j->env.nrcpt = j->rcpt.n;
	j->env.dsn_notify = o->dsn_notify != NULL ? o->dsn_notify :
	    set_or_null(j->acct.dsn_notify);
	j->env.dsn_return = o->dsn_return != NULL ? o->dsn_return :
	    set_or_null(j->acct.dsn_return);
	j->env.dsn_envid = o->dsn_envid;
	return 0;
}

void
envelope_print_verify(const struct envelope_job *j, FILE *f)
{
	for (size_t i = 0; i < j->rcpt.n; i++)
		fprintf(f, "%s... deliverable: account %s, host %s\n",
		    j->rcpt.addr[i], j->acct.name, j->acct.host);
}
