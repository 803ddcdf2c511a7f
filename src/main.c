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
#include "http.h"
#include "json.h"
#include "log.h"
#include "login.h"
#include "message.h"
#include "oauth.h"
#include "password.h"
#include "queue.h"
#include "sasl.h"
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
}

/* ---------------------------------------------------------------- queue */

/* The config file as a queued message records it: absolute, or NULL. */
static char *
config_abspath(const struct config *cfg)
{
	char cwd[PATH_MAX];

	if (cfg->path == NULL)
		return NULL;
	if (cfg->path[0] == '/')
		return xstrdup(cfg->path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	return xasprintf("%s/%s", cwd, cfg->path);
}

/*
 * Queue the message of j (why: the failed attempt, or NULL with "queue
 * always") and say so: "yubin: message queued as ID: <why>".
 */
static int
queue_message(const struct envelope_job *j, const char *config,
    const struct message *m, const struct error *why, struct error *err)
{
	struct queue_new n = { .config = config, .account = j->acct.name,
	    .env = &j->env, .msg = m, .max_age = j->acct.queue_max_age,
	    .failure = why };
	char id[QUEUE_ID_MAX], text[ERROR_MSG_MAX + ERROR_REPLY_MAX + 8];
	struct queue q;
	int rc;

	rc = queue_open(&q, NULL, err);
	if (rc == 0)
		rc = queue_enqueue(&q, &n, id, err);
	queue_close(&q);
	if (rc < 0)
		return -1;
	if (why != NULL) {
		error_format(why, text, sizeof(text));
		text[strcspn(text, "\n")] = '\0';
		fprintf(stderr, "yubin: message queued as %s: %s\n", id, text);
	} else
		fprintf(stderr, "yubin: message queued as %s\n", id);
	return 0;
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
	    .max_messages = 10, .max_seconds = 3, .transport = &tr };
	struct flush_stats st;
	struct error err;
	struct queue q;

	tr.arg = &r;
	error_init(&err);
	if (queue_open(&q, NULL, &err) == 0 &&
	    queue_pending(&q, fo.config, fo.account, (long long)time(NULL)) &&
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

/* -q, -bp, --queue-remove ID, --queue-retry ID */
static int
queue_mode(const struct options *o, struct error *err)
{
	struct flush_opts fo = { .lock_wait_ms = 60 * 1000,
	    .force = o->force, .transport = &deliver_transport };
	struct flush_stats st;
	struct queue q;
	long long now = (long long)time(NULL);
	int rc = queue_open(&q, NULL, err);

	if (rc == 0 && o->mode == CLI_MODE_FLUSH) {
		rc = flush_run(&q, &fo, &st, err);
		log_verbose("queue: %zu sent, %zu deferred, %zu failed%s",
		    st.sent, st.deferred, st.failed, st.locked_out ?
		    " (another flush is running)" : "");
	} else if (rc == 0 && o->mode == CLI_MODE_QUEUE_LIST)
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
	config = config_abspath(cfg);
	if (j->acct.queue == CONF_QUEUE_ALWAYS) {
		rc = queue_message(j, config, &m, NULL, err);
		if (rc == 0)
			flush_background(j, config);
		goto done;
	}
	if (deliver_open(&d, SESSION_AUTH_PIPELINE, err) < 0 ||
	    deliver_send(&d, &j->env, &m, err) < 0)
		goto out;
	rc = 0;
out:
	if (j->env.from == NULL)
		j->env.from = j->sender;
	if (j->selected)
		deliver_log(&d, &j->env, &m, rc == 0 ? NULL : err);
	if (rc == 0)
		flush_after_send(j, config, &d);
	else if (err->kind == ERR_TEMP && m.fd >= 0 && j->selected &&
	    j->acct.queue == CONF_QUEUE_ON_FAILURE)
		rc = queue_after_failure(j, config, &m, err);
done:
	deliver_close(&d);
	message_release(&m);
	free(config);
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
	if (o.mode == CLI_MODE_VERSION) {
		print_version();
		return 0;
	}
	if (o.mode == CLI_MODE_HELP) {
		cli_usage(stdout);
		return 0;
	}
	log_set_verbose(o.verbose);
	if (o.mode == CLI_MODE_FLUSH || o.mode == CLI_MODE_QUEUE_LIST ||
	    o.mode == CLI_MODE_QUEUE_REMOVE || o.mode == CLI_MODE_QUEUE_RETRY) {
		rc = queue_mode(&o, &err);	/* needs no config */
		goto out;
	}
	if (config_load(&cfg, o.config_file, &err) < 0)
		goto out;
	/* sending picks the account with the envelope (envelope.c) */
	if (o.mode != CLI_MODE_SEND && o.mode != CLI_MODE_VERIFY &&
	    account_select(&cfg, o.account, &acct, &err) < 0)
		goto out;
	if (o.mode == CLI_MODE_STORE_PASSWORD)
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
