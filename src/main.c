/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * main.c -- wires the modules together. The only place that turns an error
 * into an exit code.
 */
#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "cli.h"
#include "config.h"
#include "deliver.h"
#include "envelope.h"
#include "error.h"
#include "flush.h"
#include "flushsched.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "login.h"
#include "message.h"
#include "oauth.h"
#include "password.h"
#include "pretend.h"
#include "qsplit.h"
#include "queue.h"
#include "sasl.h"
#include "serverinfo.h"
#include "session.h"
#include "setup.h"
#include "transport.h"
#include "util.h"

/* Print "yubin: " before every line of the error. */
static void
print_error(const struct error *err)
{
	char buf[ERROR_MSG_MAX + ERROR_REPLY_MAX + 8];
	const char *p = buf;

	error_format(err, buf, sizeof(buf));
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		fprintf(stderr, "yubin: %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static void
print_version(void)
{
	printf("yubin %s\n", PACKAGE_VERSION);
	printf("TLS: %s; SASL: %s\n", transport_library(), sasl_library());
#ifdef HAVE_OAUTH2
	printf("OAuth 2.0: %s and %s\n", http_library(), json_library());
#else
	printf("OAuth 2.0: not built in (--without-oauth2)\n");
#endif
}

/*
 * Passwords and tokens pass through memory that libraries own (libgsasl,
 * libcurl, json-c) and that yubin cannot wipe: no core file may keep them.
 */
static void
no_core_dumps(void)
{
	struct rlimit none = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &none);
}

/* --login: the flow and the store the command line asked for. */
static int
login(const struct options *o, const struct account *a, struct error *err)
{
	struct login_opts lo = {
		.flow = o->flow == CLI_FLOW_DEVICE ? LOGIN_FLOW_DEVICE :
		    o->flow == CLI_FLOW_BROWSER ? LOGIN_FLOW_BROWSER :
		    LOGIN_FLOW_AUTO,
		.store = o->store == CLI_STORE_KEYRING ? TOKEN_STORE_KEYRING :
		    o->store == CLI_STORE_FILE ? TOKEN_STORE_FILE :
		    TOKEN_STORE_NONE,
	};

	return login_run(a, &lo, err);
}

/* What yubin(1) MESSAGE HANDLING promises to say about the message. */
static void
message_warnings(const struct message *m)
{
	if (m->nul_removed > 0)
		log_warn("removed %zu NUL byte%s from the message (SMTP does "
		    "not allow them)", m->nul_removed,
		    m->nul_removed == 1 ? "" : "s");
	if (m->max_line > 998)
		log_warn("the message has a line of %zu bytes; SMTP allows "
		    "998, so the server may refuse it or break the line",
		    m->max_line);
	if (m->dot_removed)
		log_verbose("the last line, a lone '.', ended the message "
		    "(sendmail's terminator; with -i it is text)");
}

/* The modes that need neither configuration nor queue. */
static int
no_config_mode(const struct options *o, struct error *err)
{
	switch (o->mode) {
	case CLI_MODE_VERSION:
		print_version();
		return 0;
	case CLI_MODE_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_MODE_CONFIGURE:
		return setup_print(stdout, o->configure, err);
	default:	/* newaliases, -bi */
		printf("yubin: nothing to do: yubin keeps no aliases database "
		    "(the 'aliases' key names a file read as it is)\n");
		return 0;
	}
}

/* -v: which file the lookup found. */
static void
say_config(const struct config *cfg)
{
	if (cfg->system_path != NULL)
		log_verbose("configuration: '%s' merged with '%s'",
		    cfg->system_path, cfg->path);
	else if (cfg->path != NULL)
		log_verbose("configuration: '%s'", cfg->path);
	else
		log_verbose("configuration: none; account from SMTPSERVER");
}

/*
 * The files (or, with --host, none), then the keys set on the command line
 * (msmtp's --port=N ...), in every account.
 */
static int
load_config(const struct options *o, struct config *cfg, struct error *err)
{
	if (o->host != NULL && o->account != NULL)
		return error_set(err, ERR_USAGE, "cannot use both --host and "
		    "--account");
	if (o->host != NULL ? config_cmdline(cfg, err) < 0 :
	    config_load(cfg, o->config_file, err) < 0)
		return -1;
	if (o->host == NULL && o->config_file == NULL)
		say_config(cfg);	/* -C: the user knows */
	for (size_t i = 0; i < o->nsets; i++)
		if (config_set(cfg, o->sets[i].option, o->sets[i].key,
		    o->sets[i].value, err) < 0)
			return -1;
	return 0;
}

/* -P: the account -a or -f chooses, as it would send. */
static int
pretend(const struct options *o, const struct config *cfg,
    struct error *err)
{
	struct account a;

	if (account_select_by_from(cfg, o->account, o->from, &a, err) < 0)
		return -1;
	pretend_print(stdout, &a);
	return fflush(stdout) == 0 ? 0 : error_set(err, ERR_IOERR, "cannot "
	    "write to standard output: %s", strerror(errno));
}

/* --rmqs: log in as for a message, ETRN, QUIT. */
static int
rmqs(const struct options *o, const struct account *a, struct error *err)
{
	struct session *s;
	char reply[ERROR_REPLY_MAX];
	int rc;

	if (session_open(&s, a, SESSION_AUTH_WAIT, NULL, err) < 0)
		return -1;
	rc = session_etrn(s, o->rmqs, reply, sizeof(reply), err);
	if (rc == 0)
		log_verbose("ETRN %s: %s", o->rmqs, reply);
	session_close(s);
	return rc;
}

/*
 * Whether the command line set a key the queue cannot keep (a queued
 * message keeps its config file and account name, and its DSN).
 */
static bool
cmdline_settings(const struct options *o)
{
	for (size_t i = 0; i < o->nsets; i++)
		if (strncmp(o->sets[i].key, "dsn_", 4) != 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- queue */

/* A config path as a queued message records it: absolute, or NULL. */
static char *
config_abspath(const char *path)
{
	char cwd[PATH_MAX];

	if (path == NULL)
		return NULL;
	if (path[0] == '/')
		return xstrdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	return xasprintf("%s/%s", cwd, path);
}

/*
 * Queue the message of j (why: the failed attempt, or NULL with "queue
 * always") and say so: "yubin: message queued as ID: <why>".
 */
/* Queue the message of j for env (j's envelope or a part of it). */
static int
queue_envelope(const struct envelope_job *j, const struct envelope *env,
    const char *config, const struct message *m, const struct error *why,
    struct error *err)
{
	struct error own;
	struct queue_new n = { .config = config, .account = j->acct.name,
	    .env = env, .msg = m, .max_age = j->acct.queue_max_age,
	    .failure = why != NULL ? &own : NULL };
	char id[QUEUE_ID_MAX], text[ERROR_MSG_MAX + ERROR_REPLY_MAX + 8];
	struct queue q;
	int rc;

	if (why != NULL)
		queue_envelope_why(why, env, &own);
	rc = queue_open(&q, NULL, err);
	if (rc == 0)
		rc = queue_enqueue(&q, &n, id, err);
	queue_close(&q);
	if (rc < 0)
		return -1;
	if (env->nrcpt < j->env.nrcpt)
		fprintf(stderr, "yubin: message queued as %s for %zu of its "
		    "%zu recipients\n", id, env->nrcpt, j->env.nrcpt);
	else if (why != NULL) {
		error_format(why, text, sizeof(text));
		text[strcspn(text, "\n")] = '\0';
		fprintf(stderr, "yubin: message queued as %s: %s\n", id, text);
	} else
		fprintf(stderr, "yubin: message queued as %s\n", id);
	if (!flushsched_exists())
		fprintf(stderr, "yubin: nothing runs 'yubin -q' to send it later "
		    "(no yubin-flush.timer enabled, no crontab line); enable "
		    "the timer: " FLUSHSCHED_ENABLE "\n");
	return 0;
}

static int
queue_message(const struct envelope_job *j, const char *config,
    const struct message *m, const struct error *why, struct error *err)
{
	return queue_envelope(j, &j->env, config, m, why, err);
}

/* A temporary failure with "queue on-failure": queue instead. */
static int
queue_after_failure(const struct envelope_job *j, const char *config,
    const struct message *m, struct error *err)
{
	struct error qerr;

	error_init(&qerr);
	if (queue_message(j, config, m, err, &qerr) == 0)
		return 0;
	print_error(err);		/* what failed, then why not queued */
	error_prefix(&qerr, "cannot queue the message");
	err->kind = ERR_TEMP;
	util_strlcpy(err->message, qerr.message, sizeof(err->message));
	err->reply[0] = '\0';
	return -1;
}

/*
 * LMTP delivered to some recipients and not to others, or deferred some
 * and rejected the others (queue_envelope_split()): queue those still
 * to try (with "queue on-failure"), never those who have it; a rejected
 * one makes it exit 67, every failed recipient named in err.
 */
static int
send_partial(const struct envelope_job *j, const char *config,
    const struct message *m, struct error *err)
{
	struct envelope later;
	struct error qerr;
	int rc = 0;

	error_init(&qerr);
	if (queue_envelope_part(&j->env, false, &later) > 0) {
		if (j->acct.queue != CONF_QUEUE_ON_FAILURE) {
			fprintf(stderr, "yubin: message not queued for the "
			    "%zu of its %zu recipients still to try\n",
			    later.nrcpt, j->env.nrcpt);
			rc = -1;
		} else if (queue_envelope(j, &later, config, m, err, &qerr) < 0)
			rc = error_prefix(&qerr, "cannot queue the message");
	}
	free((void *)later.rcpt);
	if (rc == 0 && err->kind == ERR_TEMP) {
		print_error(err);	/* queued: say why */
		return 0;
	}
	if (qerr.kind != ERR_NONE) {
		print_error(err);
		*err = qerr;
	}
	return -1;
}

/*
 * After a send: what is due for the same account goes over the same
 * connection, a few messages at most, without waiting for another flush.
 */
static void
flush_after_send(const struct envelope_job *j, const char *config,
    struct delivery *d)
{
	struct deliver_reuse r = { .config = config != NULL ? config : "",
	    .account = j->acct.name, .d = d };
	struct flush_transport tr = deliver_transport;
	struct flush_opts fo = { .config = r.config, .account = r.account,
	    .max_messages = 10, .max_seconds = 3, .transport = &tr,
	    .connected = true };
	struct flush_stats st;
	struct error err;
	struct queue q;

	tr.arg = &r;
	error_init(&err);
	if (queue_open(&q, NULL, &err) == 0 &&
	    queue_pending(&q, fo.config, fo.account, (long long)time(NULL),
	    true) &&
	    flush_run(&q, &fo, &st, &err) < 0)
		log_warn("%s", err.message);
	queue_close(&q);
}

/* "queue always": send in a detached background flush. */
static void
flush_background(const struct envelope_job *j, const char *config)
{
	struct flush_opts fo = { .config = config != NULL ? config : "",
	    .account = j->acct.name, .lock_wait_ms = 10 * 60 * 1000,
	    .transport = &deliver_transport };
	struct error err;

	error_init(&err);
	if (flush_spawn(NULL, &fo, &err) < 0)
		log_warn("%s", err.message);
}

/*
 * -q: the messages of the account -a names (as queued) and of the config
 * file -C names (as an absolute path), or all; at a terminal, say what
 * was done (under cron, quiet: a permanent failure is warned about).
 */
static int
flush_queue(struct queue *q, const struct options *o, struct error *err)
{
	char *config = config_abspath(o->config_file);
	struct flush_opts fo = { .lock_wait_ms = 60 * 1000,
	    .force = o->force, .transport = &deliver_transport,
	    .config = config, .account = o->account };
	struct flush_stats st;
	int rc;

	rc = flush_run(q, &fo, &st, err);
	log_verbose("queue: %zu sent, %zu deferred, %zu failed%s",
	    st.sent, st.deferred, st.failed, st.locked_out ?
	    " (another flush is running)" : "");
	if (rc == 0 && isatty(STDERR_FILENO))
		flush_tell(q, &fo, &st, stderr);
	free(config);
	return rc;
}

/* -q, -bp, --queue-remove ID, --queue-retry ID */
static int
queue_mode(const struct options *o, struct error *err)
{
	struct queue q;
	long long now = (long long)time(NULL);
	int rc = queue_open(&q, NULL, err);

	if (rc == 0 && o->mode == CLI_MODE_FLUSH)
		rc = flush_queue(&q, o, err);
	else if (rc == 0 && o->mode == CLI_MODE_QUEUE_LIST)
		rc = queue_list(&q, stdout, o->json, now, err);
	else if (rc == 0 && o->mode == CLI_MODE_QUEUE_REMOVE)
		rc = queue_remove(&q, o->queue_id, err);
	else if (rc == 0)
		rc = queue_retry(&q, o->queue_id, QUEUE_MAX_AGE_DEFAULT, now,
		    err);
	queue_close(&q);
	return rc;
}

/* Spool stdin (the envelope policy edits the header), connect, send. */
static int
send_message(struct envelope_job *j, const struct config *cfg,
    struct error *err)
{
	struct message_opts mo = { .dot_ends = true };
	struct delivery d;
	struct message m;
	char *config = NULL;
	int rc = -1;

	message_init(&m);
	deliver_init(&d, &j->acct);
	envelope_message_opts(j, &mo);
	if (message_spool(&m, STDIN_FILENO, &mo, err) < 0 ||
	    envelope_finish(j, err) < 0)
		goto out;
	message_warnings(&m);
	if (cmdline_settings(j->opt) && j->acct.queue != CONF_QUEUE_OFF) {
		log_verbose("settings from the command line: not queued");
		j->acct.queue = CONF_QUEUE_OFF;
	}
	/* NULL: the lookup again (msmtp's system and user files merged) */
	config = cfg->system_path != NULL ? NULL : config_abspath(cfg->path);
	if (j->acct.queue == CONF_QUEUE_ALWAYS) {
		rc = queue_message(j, config, &m, NULL, err);
		if (rc == 0)
			flush_background(j, config);
		goto done;
	}
	j->env.status = xcalloc(j->env.nrcpt + 1, sizeof(*j->env.status));
	if (deliver_open(&d, SESSION_AUTH_PIPELINE, err) < 0 ||
	    deliver_send(&d, &j->env, &m, err) < 0)
		goto out;
	rc = 0;
out:
	if (j->env.from == NULL)
		j->env.from = j->sender;
	if (j->selected)
		deliver_log(&d, &j->env, &m, rc == 0 ? NULL : err);
	if (rc == 0 && !j->acct.protocol_override)
		flush_after_send(j, config, &d);
	else if (queue_envelope_split(&j->env) && m.fd >= 0)
		rc = send_partial(j, config, &m, err);
	else if (err->kind == ERR_TEMP && m.fd >= 0 && j->selected &&
	    j->acct.queue == CONF_QUEUE_ON_FAILURE)
		rc = queue_after_failure(j, config, &m, err);
done:
	deliver_close(&d);
	message_release(&m);
	free(config);
	free(j->env.status);
	j->env.status = NULL;
	return rc;
}

/*
 * -bv: check the recipients and the account, send nothing. The message is
 * read only when the envelope depends on it (-t, --read-envelope-from).
 */
static int
verify(struct envelope_job *j, struct error *err)
{
	struct message_opts mo = { .dot_ends = true };
	struct message m;
	int rc = -1;

	message_init(&m);
	envelope_message_opts(j, &mo);
	if (envelope_needs_message(j) &&
	    message_spool(&m, STDIN_FILENO, &mo, err) < 0)
		goto out;
	if (envelope_finish(j, err) < 0)
		goto out;
	envelope_print_verify(j, stdout);
	rc = fflush(stdout) == 0 ? 0 : error_set(err, ERR_IOERR, "cannot "
	    "write to standard output: %s", strerror(errno));
out:
	message_release(&m);
	return rc;
}

/* Send (or verify): the envelope, then the message. */
static int
run(const struct options *o, const struct config *cfg, struct error *err)
{
	struct envelope_job j;
	int rc;

	envelope_job_init(&j, o, cfg);
	rc = envelope_begin(&j, err);
	if (rc == 0)
		rc = o->mode == CLI_MODE_VERIFY ? verify(&j, err) :
		    send_message(&j, cfg, err);
	envelope_job_release(&j);
	return rc;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct config cfg;
	struct account acct;
	struct error err;
	int rc = -1;

	signal(SIGPIPE, SIG_IGN);
	no_core_dumps();
	error_init(&err);
	config_init(&cfg);
	if (cli_parse(&o, argc, argv, &err) < 0) {
		print_error(&err);
		fprintf(stderr, "yubin: try 'yubin --help'\n");
		return error_exit_code(err.kind);
	}
	log_set_verbose(o.verbose);
	if (o.mode == CLI_MODE_VERSION || o.mode == CLI_MODE_HELP ||
	    o.mode == CLI_MODE_CONFIGURE || o.mode == CLI_MODE_NEWALIASES) {
		rc = no_config_mode(&o, &err);
		goto out;
	}
	if (o.mode == CLI_MODE_FLUSH || o.mode == CLI_MODE_QUEUE_LIST ||
	    o.mode == CLI_MODE_QUEUE_REMOVE || o.mode == CLI_MODE_QUEUE_RETRY) {
		rc = queue_mode(&o, &err);	/* needs no config */
		goto out;
	}
	if (load_config(&o, &cfg, &err) < 0)
		goto out;
	/* sending picks the account with the envelope (envelope.c) */
	if (o.mode != CLI_MODE_SEND && o.mode != CLI_MODE_VERIFY &&
	    o.mode != CLI_MODE_PRETEND &&
	    account_select(&cfg, o.account, &acct, &err) < 0)
		goto out;
	if (o.mode == CLI_MODE_PRETEND)
		rc = pretend(&o, &cfg, &err);
	else if (o.mode == CLI_MODE_SERVERINFO)
		rc = serverinfo_run(stdout, &acct, o.json, &err);
	else if (o.mode == CLI_MODE_RMQS)
		rc = rmqs(&o, &acct, &err);
	else if (o.mode == CLI_MODE_STORE_PASSWORD)
		rc = password_store(&acct, &err);
	else if (o.mode == CLI_MODE_FORGET_PASSWORD)
		rc = password_forget(&acct, &err);
	else if (o.mode == CLI_MODE_LOGIN)
		rc = login(&o, &acct, &err);
	else if (o.mode == CLI_MODE_LOGOUT)
		rc = oauth_logout(&acct, &err);
	else
		rc = run(&o, &cfg, &err);
out:
	if (rc < 0)
		print_error(&err);
	config_release(&cfg);
	return rc < 0 ? error_exit_code(err.kind) : 0;
}
