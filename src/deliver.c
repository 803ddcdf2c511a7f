/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * deliver.c -- see deliver.h. A delivery is a session plus what the
 * logfile line needs; the flush engine's transport at the end of this file
 * loads a queued message's account and delivers through the same calls.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "config.h"
#include "deliver.h"
#include "error.h"
#include "flush.h"
#include "log.h"
#include "mailenv.h"
#include "message.h"
#include "session.h"
#include "util.h"

void
deliver_init(struct delivery *d, const struct account *a)
{
	memset(d, 0, sizeof(*d));
	d->a = a;
	session_facts(NULL, &d->facts);
}

int
deliver_open(struct delivery *d, enum session_auth auth,
    struct error *err)
{
	deliver_close(d);
	return session_open(&d->s, d->a, auth, &d->facts, err);
}

int
deliver_send(struct delivery *d, const struct envelope *env,
    struct message *m, struct error *err)
{
	if (d->s == NULL)
		return error_set(err, ERR_SOFTWARE, "no session to send on");
	return session_send(d->s, env, m, err);
}

bool
deliver_usable(const struct delivery *d)
{
	return session_usable(d->s);
}

void
deliver_log(const struct delivery *d, const struct envelope *env,
    const struct message *m, const struct error *err)
{
	char msg[ERROR_MSG_MAX + ERROR_REPLY_MAX + 8] = "";
	const struct account *a = d->a;
	struct session_facts f;
	struct log_record rec;

	if (a->logfile == NULL && a->syslog == NULL)
		return;
	if (d->s != NULL)
		session_facts(d->s, &f);
	else
		f = d->facts;
	if (err != NULL)
		error_format(err, msg, sizeof(msg));
	rec = (struct log_record){
		.account = a->name, .host = a->host,
		.tls = f.tls, .mech = f.mech, .reply = f.reply,
		.from = env->from, .rcpt = env->rcpt, .nrcpt = env->nrcpt,
		.size = m->size, .error = err != NULL ? msg : NULL,
		.exitcode = err != NULL ? error_exit_code(err->kind) : 0,
		.user = a->user, .time_format = a->logfile_time_format,
	};
	if (a->logfile != NULL && log_message(a->logfile, &rec) < 0)
		log_warn("cannot write to logfile '%s'", a->logfile);
	if (a->syslog != NULL && log_syslog(a->syslog, &rec) < 0)
		log_warn("cannot log to syslog (%s)", a->syslog);
}

void
deliver_close(struct delivery *d)
{
	session_close(d->s);
	d->s = NULL;
}

/* ---------------------------------------------------------------- queue */

/* A connection for the queued mail of one account. */
struct queued {
	struct config cfg;
	struct account acct;
	struct delivery own;
	struct delivery *d;	/* &own, or the caller's (deliver_reuse) */
};

static bool
queued_usable(void *conn)
{
	return deliver_usable(((struct queued *)conn)->d);
}

static void
queued_close(void *conn)
{
	struct queued *c = conn;

	deliver_close(&c->own);		/* never the caller's */
	config_release(&c->cfg);
	free(c);
}

static bool
queued_reuse(const struct deliver_reuse *r, const char *config,
    const char *account)
{
	return r != NULL && r->d != NULL && r->account != NULL &&
	    deliver_usable(r->d) && strcmp(r->account, account) == 0 &&
	    strcmp(r->config != NULL ? r->config : "", config) == 0;
}

static int
queued_open(void *arg, const char *config, const char *account,
    void **conn, struct error *err)
{
	struct queued *c = xcalloc(1, sizeof(*c));

	config_init(&c->cfg);
	deliver_init(&c->own, &c->acct);
	c->d = &c->own;
	*conn = c;
	if (queued_reuse(arg, config, account)) {
		c->d = ((const struct deliver_reuse *)arg)->d;
		return 0;
	}
	if (config_load(&c->cfg, config[0] != '\0' ? config : NULL,
	    err) < 0 || account_select(&c->cfg, account, &c->acct, err) < 0)
		error_prefix(err, "account '%s' of queued mail", account);
	else if (deliver_open(&c->own, SESSION_AUTH_WAIT, err) == 0)
		return 0;
	queued_close(c);
	*conn = NULL;
	return -1;
}

static int
queued_send(void *conn, const char *id, const struct envelope *env,
    struct message *m, struct error *err)
{
	struct queued *c = conn;
	int rc;

	(void)id;		/* the logfile line has no queue ID */
	rc = deliver_send(c->d, env, m, err);
	deliver_log(c->d, env, m, rc == 0 ? NULL : err);
	return rc;
}

const struct flush_transport deliver_transport = {
	.open = queued_open,
	.send = queued_send,
	.usable = queued_usable,
	.close = queued_close,
	.arg = NULL,
};
