/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cli.c -- see cli.h. Written by hand so sendmail's flags parse the way
 * sendmail's own getopt loop parses them, whatever the libc:
 *   - "-oi" is -o with the argument "i"; "-fADDR" equals "-f ADDR";
 *   - flags cluster ("-ti"); a flag taking an argument ends the cluster;
 *   - options end at the first operand, as in BSD sendmail (POSIX getopt
 *     without GNU's permutation): "yubin a@b \"$addr\"" can never turn
 *     $addr into an option such as -C; a "--" is dropped the first time
 *     it comes, before or after the first operand.
 * Operands are moved, in order, to argv[1]... and followed by a NULL;
 * o->rcpt points there, so nothing is allocated.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "dsn.h"
#include "error.h"
#include "util.h"

enum cli_arg {
	CLI_ARG_NONE,		/* a flag, may cluster: "-tiv" */
	CLI_ARG_REQUIRED,	/* "-fADDR" or "-f ADDR" */
	CLI_ARG_ATTACHED,	/* optional, attached only: "-q", "-q1h" */
};

/* ---------------------------------------------------------------- actions */

static int
opt_config(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->config_file = arg;
	return 0;
}

static int
opt_account(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->account = arg;
	return 0;
}

static int
opt_from(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->from = arg;
	return 0;
}

static int
opt_fullname(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->fullname = arg;
	return 0;
}

static int
opt_read_rcpt(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->read_recipients = true;
	return 0;
}

static int
opt_no_dot(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->dot_ends = false;
	return 0;
}

static int
opt_verbose(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->verbose++;
	return 0;
}

/* -oX: sendmail's one-letter options; only -oi (IgnoreDots) matters. */
static int
opt_o(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	if (strcmp(arg, "i") == 0)
		o->dot_ends = false;
	return 0;
}

/* -bX: the mode. Only -bm (deliver mail, the default) works. */
static int
opt_b(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	if (strcmp(arg, "m") == 0)
		return 0;
	if (strcmp(arg, "v") == 0) {
		o->mode = CLI_MODE_VERIFY;
		return 0;
	}
	if (strcmp(arg, "p") == 0) {
		o->mode = CLI_MODE_QUEUE_LIST;
		return 0;
	}
	if (strcmp(arg, "i") == 0) {
		o->mode = CLI_MODE_NEWALIASES;
		return 0;
	}
	return error_set(err, ERR_USAGE, "option '%s%s' is not supported",
	    name, arg);
}

/* -q: flush the queue (sendmail's -qTIME, -qR... are not supported). */
static int
opt_queue(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	if (arg != NULL && *arg != '\0')
		return error_set(err, ERR_USAGE, "option '%s%s' is not "
		    "supported (use -q)", name, arg);
	o->mode = CLI_MODE_FLUSH;
	return 0;
}

static int
opt_queue_list(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_QUEUE_LIST;
	return 0;
}

static int
opt_json(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->json = true;
	return 0;
}

static int
opt_force(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->force = true;
	return 0;
}

static int
opt_queue_remove(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_QUEUE_REMOVE;
	o->queue_id = arg;
	return 0;
}

static int
opt_queue_retry(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_QUEUE_RETRY;
	o->queue_id = arg;
	return 0;
}

/* Known sendmail flags that mean nothing to a relay-only client. */
static int
opt_ignore(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	return 0;
}

static int
add_set(struct options *o, const char *option, const char *key,
    const char *value, struct error *err)
{
	if (o->nsets == CLI_SETS_MAX)
		return error_set(err, ERR_USAGE, "more than %d configuration "
		    "options", CLI_SETS_MAX);
	o->sets[o->nsets].option = option;
	o->sets[o->nsets].key = key;
	o->sets[o->nsets++].value = value;
	return 0;
}

/* -X FILE, --logfile=FILE (msmtp). */
static int
opt_logfile(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	return add_set(o, name[1] == '-' ? "--logfile" : "-X", "logfile", arg,
	    err);
}

/* -P, --pretend (msmtp). */
static int
opt_pretend(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_PRETEND;
	return 0;
}

/* -S, --serverinfo (msmtp). */
static int
opt_serverinfo(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_SERVERINFO;
	return 0;
}

/* --rmqs=host|@domain|#queue (msmtp): ETRN (RFC 1985). */
static int
opt_rmqs(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	size_t n = strlen(arg);

	if (n == 0 || n > 255)
		return error_set(err, ERR_USAGE, "option '%s' needs a host, "
		    "@domain or #queue (1 to 255 characters)", name);
	for (const char *p = arg; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return error_set(err, ERR_USAGE, "option '%s': no "
			    "spaces or control characters", name);
	o->mode = CLI_MODE_RMQS;
	o->rmqs = arg;
	return 0;
}

/* --configure=ADDRESS (msmtp): an account block from SRV records. */
static int
opt_configure(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_CONFIGURE;
	o->configure = arg;
	return 0;
}

/* -d, --debug (msmtp): -v -v. */
static int
opt_debug(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->verbose += 2;
	return 0;
}

/* --host=NAME (msmtp): this server, settings from the command line. */
static int
opt_host(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->host = arg;
	return add_set(o, "--host", "host", arg, err);
}

/* -N NEVER | -N SUCCESS,FAILURE,DELAY (RFC 3461 4.1), any case; off. */
static int
opt_dsn_notify(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	if (strcasecmp(arg, "off") == 0) {
		o->dsn_notify = NULL;
		return add_set(o, name[1] == '-' ? "--dsn-notify" : "-N",
		    "dsn_notify", "off", err);
	}
	if (*arg == '\0')
		return error_set(err, ERR_USAGE, "option '%s' needs a value",
		    name);
	if (dsn_notify_parse(arg, o->dsn_notify_buf,
	    sizeof(o->dsn_notify_buf)) < 0)
		return error_set(err, ERR_USAGE, "option '%s': expected off, "
		    "NEVER or a list of SUCCESS, FAILURE, DELAY", name);
	o->dsn_notify = o->dsn_notify_buf;
	return 0;
}

/* -R FULL | HDRS (or HEADERS, as msmtp); off. */
static int
opt_dsn_return(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	if (strcasecmp(arg, "off") == 0) {
		o->dsn_return = NULL;
		return add_set(o, name[1] == '-' ? "--dsn-return" : "-R",
		    "dsn_return", "off", err);
	}
	o->dsn_return = dsn_return_parse(arg);
	if (o->dsn_return == NULL)
		return error_set(err, ERR_USAGE, "option '%s': expected off, "
		    "FULL or HDRS", name);
	return 0;
}

/* -V ENVID: printable ASCII, at most 100 characters (RFC 3461 4.4). */
static int
opt_dsn_envid(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	size_t n = strlen(arg);

	if (n == 0 || n > DSN_ENVID_MAX)
		return error_set(err, ERR_USAGE, "option '%s': the envelope "
		    "id must be 1 to 100 characters", name);
	if (!dsn_envid_valid(arg))
		return error_set(err, ERR_USAGE, "option '%s': the envelope "
		    "id must be printable ASCII", name);
	o->dsn_envid = arg;
	return 0;
}

static int
opt_read_envelope_from(struct options *o, const char *name,
    const char *arg, struct error *err)
{
	o->read_envelope_from = true;
	return 0;
}

static int
opt_store_password(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_STORE_PASSWORD;
	return 0;
}

static int
opt_forget_password(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_FORGET_PASSWORD;
	return 0;
}

static int
opt_login(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_LOGIN;
	return 0;
}

static int
opt_logout(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_LOGOUT;
	return 0;
}

static int
opt_flow(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->flow = strcmp(name, "--device") == 0 ? CLI_FLOW_DEVICE :
	    CLI_FLOW_BROWSER;
	return 0;
}

static int
opt_store(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	if (strcmp(arg, "keyring") == 0)
		o->store = CLI_STORE_KEYRING;
	else if (strcmp(arg, "file") == 0)
		o->store = CLI_STORE_FILE;
	else
		return error_set(err, ERR_USAGE, "option '%s' takes keyring "
		    "or file", name);
	return 0;
}

static int
opt_protocol(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	if (strcmp(arg, "smtp") == 0)
		o->protocol = CLI_PROTOCOL_SMTP;
	else if (strcmp(arg, "lmtp") == 0)
		o->protocol = CLI_PROTOCOL_LMTP;
	else
		return error_set(err, ERR_USAGE, "option '%s' takes smtp "
		    "or lmtp", name);
	return 0;
}

static int
opt_help(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_HELP;
	return 0;
}

static int
opt_version(struct options *o, const char *name, const char *arg,
    struct error *err)
{
	o->mode = CLI_MODE_VERSION;
	return 0;
}

/* ---------------------------------------------------------------- tables */

static const struct cli_short {
	char ch;
	enum cli_arg arg;
	/* An action gets the option as written ("-f", "--from"). */
	int (*fn)(struct options *, const char *, const char *,
	    struct error *);
} cli_shorts[] = {
	{ 'C', CLI_ARG_REQUIRED, opt_config },
	{ 'a', CLI_ARG_REQUIRED, opt_account },
	{ 'f', CLI_ARG_REQUIRED, opt_from },
	{ 'r', CLI_ARG_REQUIRED, opt_from },
	{ 'F', CLI_ARG_REQUIRED, opt_fullname },
	{ 't', CLI_ARG_NONE, opt_read_rcpt },
	{ 'i', CLI_ARG_NONE, opt_no_dot },
	{ 'v', CLI_ARG_NONE, opt_verbose },
	{ 'd', CLI_ARG_NONE, opt_debug },
	{ 'P', CLI_ARG_NONE, opt_pretend },
	{ 'S', CLI_ARG_NONE, opt_serverinfo },
	{ 'A', CLI_ARG_REQUIRED, opt_ignore },	/* -Ac, -Am: which .cf */
	{ 'X', CLI_ARG_REQUIRED, opt_logfile },
	{ 'o', CLI_ARG_REQUIRED, opt_o },
	{ 'b', CLI_ARG_REQUIRED, opt_b },
	{ 'q', CLI_ARG_ATTACHED, opt_queue },
	{ 'B', CLI_ARG_REQUIRED, opt_ignore },	/* body type */
	{ 'N', CLI_ARG_REQUIRED, opt_dsn_notify },
	{ 'R', CLI_ARG_REQUIRED, opt_dsn_return },
	{ 'V', CLI_ARG_REQUIRED, opt_dsn_envid },
	{ 'h', CLI_ARG_REQUIRED, opt_ignore },	/* hop count */
	{ 'L', CLI_ARG_REQUIRED, opt_ignore },	/* syslog label */
	{ 'O', CLI_ARG_REQUIRED, opt_ignore },	/* long-form option */
	{ 'G', CLI_ARG_NONE, opt_ignore },	/* gateway submission */
	{ 'U', CLI_ARG_NONE, opt_ignore },	/* initial submission */
	{ 'm', CLI_ARG_NONE, opt_ignore },	/* me too */
	{ 'n', CLI_ARG_NONE, opt_ignore },	/* no aliasing */
};

static const struct cli_long {
	const char *name;	/* without the leading "--" */
	bool has_arg;		/* "--name=ARG" or "--name ARG" */
	int (*fn)(struct options *, const char *, const char *,
	    struct error *);
} cli_longs[] = {
	{ "help", false, opt_help },
	{ "version", false, opt_version },
	{ "file", true, opt_config },
	{ "account", true, opt_account },
	{ "from", true, opt_from },
	{ "read-recipients", false, opt_read_rcpt },
	{ "read-envelope-from", false, opt_read_envelope_from },
	{ "store-password", false, opt_store_password },
	{ "forget-password", false, opt_forget_password },
	{ "flush", false, opt_queue },
	{ "queue-list", false, opt_queue_list },
	{ "json", false, opt_json },
	{ "force", false, opt_force },
	{ "queue-remove", true, opt_queue_remove },
	{ "queue-retry", true, opt_queue_retry },
	{ "login", false, opt_login },
	{ "logout", false, opt_logout },
	{ "device", false, opt_flow },
	{ "browser", false, opt_flow },
	{ "store", true, opt_store },
	{ "protocol", true, opt_protocol },
	{ "pretend", false, opt_pretend },
	{ "serverinfo", false, opt_serverinfo },
	{ "rmqs", true, opt_rmqs },
	{ "configure", true, opt_configure },
	{ "debug", false, opt_debug },
	{ "host", true, opt_host },
	{ "logfile", true, opt_logfile },
	{ "dsn-notify", true, opt_dsn_notify },
	{ "dsn-return", true, opt_dsn_return },
};

/*
 * msmtp's options that set the key of the same name ("--tls-trust-file"
 * sets tls_trust_file): the value is checked as in a file. optional:
 * "--tls" alone is "--tls=" (an empty value: on, as in a file); the
 * others take "--port=N" or "--port N".
 */
static const struct cli_keyopt {
	const char *name;	/* without the leading "--" */
	const char *key;
	bool optional;
} cli_keyopts[] = {
	{ "port", "port", false },
	{ "source-ip", "source_ip", false },
	{ "proxy-host", "proxy_host", false },
	{ "proxy-port", "proxy_port", false },
	{ "socket", "socket", false },
	{ "timeout", "timeout", false },
	{ "domain", "domain", false },
	{ "auth", "auth", true },
	{ "user", "user", false },
	{ "passwordeval", "passwordeval", false },
	{ "tls", "tls", true },
	{ "tls-starttls", "tls_starttls", true },
	{ "tls-trust-file", "tls_trust_file", false },
	{ "tls-crl-file", "tls_crl_file", false },
	{ "tls-fingerprint", "tls_fingerprint", false },
	{ "tls-key-file", "tls_key_file", false },
	{ "tls-cert-file", "tls_cert_file", false },
	{ "tls-certcheck", "tls_certcheck", true },
	{ "tls-priorities", "tls_priorities", false },
	{ "tls-host-override", "tls_host_override", false },
	{ "tls-min-dh-prime-bits", "tls_min_dh_prime_bits", false },
	{ "set-from-header", "set_from_header", true },
	{ "set-date-header", "set_date_header", true },
	{ "set-msgid-header", "set_msgid_header", true },
	{ "remove-bcc-headers", "remove_bcc_headers", true },
	{ "undisclosed-recipients", "undisclosed_recipients", true },
	{ "logfile-time-format", "logfile_time_format", false },
	{ "syslog", "syslog", true },
	{ "aliases", "aliases", false },
	{ "auto-from", "auto_from", true },
	{ "maildomain", "maildomain", false },
};

/* ---------------------------------------------------------------- parser */

static const struct cli_short *
cli_find_short(char ch)
{
	for (size_t i = 0; i < ARRAY_SIZE(cli_shorts); i++)
		if (cli_shorts[i].ch == ch)
			return &cli_shorts[i];
	return NULL;
}

/* argv[*i] is "-xyz...": one flag or a cluster of them. */
static int
cli_short(struct options *o, int argc, char **argv, int *i,
    struct error *err)
{
	const char *s = argv[*i] + 1;

	while (*s != '\0') {
		const struct cli_short *opt = cli_find_short(*s);
		char name[3] = { '-', *s, '\0' };

		if (opt == NULL) {
			if (*s < '!' || *s > '~')	/* not locale's isgraph */
				name[1] = '?';
			return error_set(err, ERR_USAGE, "unknown option '%s'",
			    name);
		}
		s++;
		if (opt->arg == CLI_ARG_ATTACHED)
			return opt->fn(o, name, s, err);
		if (opt->arg == CLI_ARG_NONE) {
			if (opt->fn(o, name, NULL, err) < 0)
				return -1;
			continue;
		}
		if (*s != '\0')
			return opt->fn(o, name, s, err);
		if (*i + 1 >= argc)
			return error_set(err, ERR_USAGE, "option '%s' needs an "
			    "argument", name);
		return opt->fn(o, name, argv[++*i], err);
	}
	return 0;
}

/* "--name[=value]" for a key option (cli_keyopts). */
static int
cli_keyopt(struct options *o, const struct cli_keyopt *k, int argc,
    char **argv, int *i, const char *eq, struct error *err)
{
	const char *option = argv[*i];
	const char *value = eq != NULL ? eq + 1 : "";

	if (eq != NULL)
		argv[*i][eq - argv[*i]] = '\0';	/* option: "--port" */
	else if (!k->optional) {
		if (*i + 1 >= argc)
			return error_set(err, ERR_USAGE, "option '%s' needs "
			    "an argument", option);
		value = argv[++*i];
	}
	return add_set(o, option, k->key, value, err);
}

/* argv[*i] is "--name" or "--name=value". */
static int
cli_long(struct options *o, int argc, char **argv, int *i,
    struct error *err)
{
	const char *s = argv[*i] + 2, *eq = strchr(s, '=');
	size_t n = eq != NULL ? (size_t)(eq - s) : strlen(s);
	const struct cli_long *opt = NULL;
	char name[64];

	for (size_t k = 0; k < ARRAY_SIZE(cli_longs); k++)
		if (strlen(cli_longs[k].name) == n &&
		    strncmp(cli_longs[k].name, s, n) == 0)
			opt = &cli_longs[k];
	snprintf(name, sizeof(name), "--%.*s", (int)n, s);
	for (size_t k = 0; opt == NULL && k < ARRAY_SIZE(cli_keyopts); k++)
		if (strlen(cli_keyopts[k].name) == n &&
		    strncmp(cli_keyopts[k].name, s, n) == 0)
			return cli_keyopt(o, &cli_keyopts[k], argc, argv, i,
			    eq, err);
	if (opt == NULL)
		return error_set(err, ERR_USAGE, "unknown option '%s'", name);
	if (!opt->has_arg) {
		if (eq != NULL)
			return error_set(err, ERR_USAGE, "option '%s' takes no "
			    "argument", name);
		return opt->fn(o, name, NULL, err);
	}
	if (eq != NULL)
		return opt->fn(o, name, eq + 1, err);
	if (*i + 1 >= argc)
		return error_set(err, ERR_USAGE, "option '%s' needs an "
		    "argument", name);
	return opt->fn(o, name, argv[++*i], err);
}

/* sendmail's other names: mailq is -bp, newaliases -bi. */
static enum cli_mode
cli_mode_of(const char *argv0)
{
	const char *base = argv0 != NULL ? strrchr(argv0, '/') : NULL;

	base = base != NULL ? base + 1 : argv0;
	if (base != NULL && strcmp(base, "mailq") == 0)
		return CLI_MODE_QUEUE_LIST;
	if (base != NULL && strcmp(base, "newaliases") == 0)
		return CLI_MODE_NEWALIASES;
	return CLI_MODE_SEND;
}

static void
cli_defaults(struct options *o, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->mode = cli_mode_of(argv != NULL ? argv[0] : NULL);
	o->dot_ends = true;
	o->rcpt = argv;
}

int
cli_parse(struct options *o, int argc, char **argv, struct error *err)
{
	bool operands_only = false, dashdash = false;
	int i, n = 0, r = 0;

	cli_defaults(o, argv);
	for (i = 1; i < argc && r == 0; i++) {
		const char *a = argv[i];

		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = operands_only = true;
		} else if (operands_only || a[0] != '-') {
			argv[1 + n++] = argv[i];	/* slot already read */
			operands_only = true;		/* no option after */
		} else if (a[1] == '-')
			r = cli_long(o, argc, argv, &i, err);
		else if (a[1] == '\0')
			r = error_set(err, ERR_USAGE, "unknown option '-'");
		else
			r = cli_short(o, argc, argv, &i, err);
	}
	if (r < 0)
		return -1;
	if ((o->flow != CLI_FLOW_AUTO || o->store != CLI_STORE_AUTO) &&
	    o->mode != CLI_MODE_LOGIN)
		return error_set(err, ERR_USAGE, "--device, --browser and "
		    "--store go with --login");
	if (n > 0 && (o->mode == CLI_MODE_LOGIN || o->mode == CLI_MODE_LOGOUT))
		return error_set(err, ERR_USAGE, "%s takes no recipients",
		    o->mode == CLI_MODE_LOGIN ? "--login" : "--logout");
	if (argc > 0) {
		o->rcpt = argv + 1;
		if (1 + n < argc)
			argv[1 + n] = NULL;
	}
	o->nrcpt = (size_t)n;
	return 0;
}

void
cli_usage(FILE *f)
{
	fputs("usage: yubin [-tiv] [-C file] [-a account] [-f from] "
	    "[-F name] [--] recipient...\n"
	    "       yubin -bv [-C file] [-a account] recipient...\n"
	    "       yubin --store-password | --forget-password "
	    "[-C file] [-a account]\n"
	    "       yubin -q [--force] [-C file] [-a account]\n"
	    "       yubin -bp [--json] | --queue-remove ID | --queue-retry ID\n"
	    "       yubin --login [--device | --browser] "
	    "[--store=keyring|file] [-C file] [-a account]\n"
	    "       yubin --logout [-C file] [-a account]\n"
	    "       yubin -S [--json] [-C file] [-a account | --host=HOST] "
	    "[--KEY=VALUE...]\n"
	    "       yubin -P [-C file] [-a account | --host=HOST] "
	    "[--KEY=VALUE...]\n"
	    "       yubin --version | --help\n"
	    "  -C, --file=FILE         use this configuration file\n"
	    "  -a, --account=NAME      use this account\n"
	    "  --protocol=smtp|lmtp    instead of the account's protocol\n"
	    "  -f, -r, --from=ADDR     envelope sender\n"
	    "  -F NAME                 sender's full name\n"
	    "  --read-envelope-from    envelope sender from the From: header\n"
	    "  -t, --read-recipients   take recipients from the message "
	    "headers\n"
	    "  -i, -oi                 a line holding only '.' does not end "
	    "the message\n"
	    "  -v                      show the SMTP dialogue (twice: more)\n"
	    "  -d, --debug             -v -v\n"
	    "  -P, --pretend           print the account's settings, send "
	    "nothing\n"
	    "  -S, --serverinfo [--json]  what the account's server offers\n"
	    "  --rmqs=HOST|@DOMAIN|#QUEUE  ask the server to send its queue "
	    "(ETRN)\n"
	    "  --configure=ADDRESS     an account for ADDRESS from its "
	    "domain's SRV records\n"
	    "  --host=HOST             no configuration file: this server\n"
	    "  --port=N, --tls[=on|off], -X FILE, ...  msmtp's options: a "
	    "key of the file\n"
	    "  -N off|NEVER|SUCCESS,FAILURE,DELAY  DSN: when to notify\n"
	    "  -R off|FULL|HDRS        DSN: what to return\n"
	    "  -V ENVID                DSN: envelope id\n"
	    "  -bv                     check recipients and account, send "
	    "nothing\n"
	    "  --store-password        store the account's password in the "
	    "keyring\n"
	    "  --forget-password       remove it from the keyring\n"
	    "  --login                 OAuth 2.0: sign in once, keep the "
	    "tokens\n"
	    "  --device, --browser     sign in with a code, or in a browser\n"
	    "  --store=keyring|file    where the refresh token goes "
	    "(cron: file)\n"
	    "  --logout                forget the account's OAuth 2.0 tokens\n"
	    "  -q, --flush [--force]   send the queued messages that are due "
	    "(--force: all;\n"
	    "                          -a, -C: only those queued for that "
	    "account, file)\n"
	    "  -bp, --queue-list [--json]  list the queue\n"
	    "  --queue-remove ID       delete a queued message\n"
	    "  --queue-retry ID        make a queued (or failed) message due "
	    "now\n"
	    "  --                      all further arguments are recipients\n"
	    "Accepted and ignored: -oX -BX -AX -bm -G -U -h -L -O -m "
	    "-n.\n", f);
}
