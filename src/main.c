/*
 * main.c -- wires the modules together. The only place that turns an error
 * into an exit code.
 */
#include "autoconfig.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "cli.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "sasl.h"
#include "session.h"
#include "smtp.h"
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
}

static void
write_log(const struct account *a, const struct session *s,
    const struct envelope *env, const struct message *m,
    const struct error *err)
{
	char msg[ERROR_MSG_MAX + ERROR_REPLY_MAX + 8] = "";
	struct log_record rec = {
		.account = a->name, .host = a->host,
		.tls = s != NULL ? session_tls(s) : "none",
		.mech = s != NULL ? session_mech(s) : "",
		.from = env->from, .rcpt = env->rcpt, .nrcpt = env->nrcpt,
		.size = m->size, .reply = s != NULL ? session_reply(s) : "",
		.exitcode = err != NULL ? error_exit_code(err->kind) : 0,
	};

	if (err != NULL) {
		error_format(err, msg, sizeof(msg));
		rec.error = msg;
	}
	if (log_message(a->logfile, &rec) < 0)
		log_warn("cannot write to logfile '%s'", a->logfile);
}

/* Spool stdin, connect, send, quit. */
static int
send_message(const struct options *o, const struct account *a,
    struct error *err)
{
	struct message_opts mo = { .dot_ends = o->dot_ends };
	struct envelope env = {
		.from = o->from != NULL ? o->from : a->from,
		.rcpt = (const char *const *)o->rcpt, .nrcpt = o->nrcpt,
	};
	struct session *s = NULL;
	struct message m;
	int rc = -1;

	message_init(&m);
	if (env.from == NULL)
		return error_set(err, ERR_CONFIG, "no envelope sender: set "
		    "'from' for account '%s' or use -f ADDRESS", a->name);
	if (env.nrcpt == 0)
		return error_set(err, ERR_USAGE, "no recipients given");
	if (message_spool(&m, STDIN_FILENO, &mo, err) < 0)
		goto out;
	if (session_open(&s, a, err) < 0 ||
	    session_send(s, &env, &m, err) < 0)
		goto out;
	rc = 0;
out:
	if (a->logfile != NULL)
		write_log(a, s, &env, &m, rc == 0 ? NULL : err);
	session_close(s);
	message_release(&m);
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
	if (config_load(&cfg, o.config_file, &err) < 0 ||
	    account_select(&cfg, o.account, &acct, &err) < 0)
		goto out;
	rc = send_message(&o, &acct, &err);
out:
	if (rc < 0)
		print_error(&err);
	config_release(&cfg);
	return rc < 0 ? error_exit_code(err.kind) : 0;
}
