/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli.c -- sendmail-compatible command-line parsing. */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "tap.h"

#define MAXARGS 32

static char *argv_buf[MAXARGS + 1];
static char *owned[MAXARGS + 1];	/* cli_parse permutes argv_buf */
static int nowned;
static struct options O;
static struct error E;

static void
release(void)
{
	for (int i = 0; i < nowned; i++)
		free(owned[i]);
	nowned = 0;
}

/* Parse "yubin" followed by the NULL-terminated arguments. */
static int
parse(const char *first, ...)
{
	const char *s;
	va_list ap;

	release();
	owned[nowned++] = strdup("yubin");
	va_start(ap, first);
	for (s = first; s != NULL && nowned < MAXARGS; s = va_arg(ap,
	    const char *))
		owned[nowned++] = strdup(s);
	va_end(ap);
	memcpy(argv_buf, owned, sizeof(owned[0]) * (size_t)nowned);
	argv_buf[nowned] = NULL;
	error_init(&E);
	memset(&O, 0x5a, sizeof(O));
	return cli_parse(&O, nowned, argv_buf, &E);
}

#define PARSE(...) parse(__VA_ARGS__, (const char *)NULL)

/* The recipients joined with single spaces. */
static const char *
rcpts(void)
{
	static char buf[1024];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < O.nrcpt; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
		    i > 0 ? " " : "", O.rcpt[i]);
	return buf;
}

static void
usage_error(int r, const char *want, const char *name)
{
	ok(r == -1 && E.kind == ERR_USAGE, "%s: ERR_USAGE", name);
	is_str(E.message, want, "%s: message", name);
}

static void
usage_has(int r, const char *want, const char *name)
{
	ok(r == -1 && E.kind == ERR_USAGE, "%s: ERR_USAGE", name);
	ok(strstr(E.message, want) != NULL, "%s: message says '%s'", name,
	    want);
}

static void
test_defaults(void)
{
	is_int(parse(NULL), 0, "no arguments");
	is_int(O.mode, CLI_MODE_SEND, "mode SEND");
	ok(O.dot_ends, "dot_ends by default");
	ok(!O.read_recipients, "no -t");
	is_int(O.verbose, 0, "not verbose");
	ok(O.config_file == NULL && O.account == NULL && O.from == NULL &&
	    O.fullname == NULL, "no strings set");
	is_int(O.nrcpt, 0, "no recipients");
	ok(O.rcpt != NULL && O.rcpt[0] == NULL, "empty rcpt list");

	char *empty[] = { NULL };
	ok(cli_parse(&O, 0, empty, &E) == 0 && O.nrcpt == 0,
	    "argc 0 is harmless");
}

static void
test_mua_forms(void)
{
	is_int(PARSE("--", "rcpt@x"), 0, "mutt: -- rcpt");
	is_str(rcpts(), "rcpt@x", "mutt: recipient");
	ok(O.dot_ends, "mutt: dot_ends untouched");

	is_int(PARSE("-f", "a@x", "-N", "failure,delay", "-R", "hdrs", "--",
	    "r1", "r2"), 0, "mutt with DSN: -f a -N -R -- r1 r2");
	is_str(O.from, "a@x", "mutt DSN: from");
	is_str(rcpts(), "r1 r2", "mutt DSN: recipients (-N/-R args eaten)");
	is_str(O.dsn_notify, "FAILURE,DELAY", "mutt DSN: NOTIFY upper case");
	is_str(O.dsn_return, "HDRS", "mutt DSN: RET");

	is_int(PARSE("-oi", "-t", "--", "r"), 0, "-oi -t -- r");
	ok(!O.dot_ends && O.read_recipients, "-oi -t: flags");
	is_str(rcpts(), "r", "-oi -t: recipient");

	is_int(PARSE("-i", "-t"), 0, "mailx/cron: -i -t");
	ok(!O.dot_ends && O.read_recipients && O.nrcpt == 0, "-i -t: flags");

	is_int(PARSE("-i", "-t", "-f", "a@x"), 0, "-i -t -f a");
	ok(!O.dot_ends && O.read_recipients, "-i -t -f: flags");
	is_str(O.from, "a@x", "-i -t -f: from");

	is_int(PARSE("-i", "list@x"), 0, "git: -i list@x");
	ok(!O.dot_ends, "git: -i");
	is_str(rcpts(), "list@x", "git: recipient");

	is_int(PARSE("-f", "a@x", "-i", "a@x", "b@y", "c@z"), 0,
	    "git: -f a -i a b c");
	is_str(O.from, "a@x", "git: from");
	ok(!O.dot_ends, "git: -i after -f");
	is_str(rcpts(), "a@x b@y c@z", "git: three recipients");

	is_int(PARSE("-C", "file", "-a", "acc", "-v", "-v", "r"), 0,
	    "-C file -a acc -v -v r");
	is_str(O.config_file, "file", "config file");
	is_str(O.account, "acc", "account");
	is_int(O.verbose, 2, "-v twice");
	is_str(rcpts(), "r", "recipient after options");
}

static void
test_arguments(void)
{
	is_int(PARSE("-fADDR@x"), 0, "-fADDR");
	is_str(O.from, "ADDR@x", "attached argument");
	is_int(PARSE("-f", "ADDR@x"), 0, "-f ADDR");
	is_str(O.from, "ADDR@x", "separate argument");
	is_int(PARSE("-r", "b@x"), 0, "-r ADDR");
	is_str(O.from, "b@x", "-r sets from");
	is_int(PARSE("-rb@x"), 0, "-rADDR");
	is_str(O.from, "b@x", "-r attached");
	is_int(PARSE("-f", ""), 0, "-f '' (null sender)");
	is_str(O.from, "", "empty from kept");
	is_int(PARSE("-f", "a@x", "-f", "b@x"), 0, "-f twice");
	is_str(O.from, "b@x", "last -f wins");
	is_int(PARSE("-F", "John Doe", "r"), 0, "-F name");
	is_str(O.fullname, "John Doe", "full name");
	is_int(PARSE("-FJane"), 0, "-Fname");
	is_str(O.fullname, "Jane", "attached full name");
	is_int(PARSE("-Cfile", "-aacc"), 0, "-Cfile -aacc");
	ok(strcmp(O.config_file, "file") == 0 && strcmp(O.account, "acc") == 0,
	    "attached -C and -a");
	is_int(PARSE("-C", "-a"), 0, "-C -a");
	is_str(O.config_file, "-a", "an argument may start with '-'");
	is_int(PARSE("-f", "--", "r"), 0, "-f --");
	is_str(O.from, "--", "-- taken as -f's argument");
	is_str(rcpts(), "r", "and r is a recipient");
}

static void
test_clusters(void)
{
	is_int(PARSE("-ti"), 0, "-ti");
	ok(O.read_recipients && !O.dot_ends, "-ti: both flags");
	is_int(PARSE("-vvv"), 0, "-vvv");
	is_int(O.verbose, 3, "-vvv: verbose 3");
	is_int(PARSE("-tif", "a@x", "r"), 0, "-tif a r");
	ok(O.read_recipients && !O.dot_ends, "-tif: flags");
	is_str(O.from, "a@x", "-tif: from is the next argument");
	is_str(rcpts(), "r", "-tif: recipient");
	is_int(PARSE("-tfa@x"), 0, "-tfa@x");
	is_str(O.from, "a@x", "-tfADDR: rest of the cluster");
	is_int(PARSE("-toi"), 0, "-toi");
	ok(O.read_recipients && !O.dot_ends, "-toi: -t and -oi");
	is_int(PARSE("-tx"), -1, "-tx");
	is_str(E.message, "unknown option '-x'", "-tx: names the bad flag");
}

static void
test_ignored(void)
{
	is_int(PARSE("-oem", "-odb", "-oee", "-om", "-B8BITMIME", "-bm", "r"),
	    0, "-oem -odb -oee -om -B8BITMIME -bm");
	ok(O.dot_ends, "ignored -oX leave dot_ends");
	ok(!O.read_recipients && O.verbose == 0 && O.from == NULL,
	    "ignored flags set nothing");
	is_str(rcpts(), "r", "recipient after ignored flags");
	is_int(PARSE("-o", "i", "r"), 0, "-o i");
	ok(!O.dot_ends, "-o i is -oi");
	is_str(rcpts(), "r", "-o i: recipient");
	is_int(PARSE("-o", "em", "r"), 0, "-o em");
	ok(O.dot_ends && O.nrcpt == 1, "-o em: argument eaten, ignored");
	is_int(PARSE("-B", "7BIT", "-b", "m", "r"), 0, "-B 7BIT -b m");
	is_str(rcpts(), "r", "-B/-b arguments eaten");
	is_int(PARSE("-Nnever", "-Rfull", "-Venv1", "-N", "success",
	    "-R", "hdrs", "-V", "env2", "r"), 0, "-N -R -V both forms");
	is_str(rcpts(), "r", "-N/-R/-V arguments eaten");
	is_str(O.dsn_notify, "SUCCESS", "last -N wins");
	is_str(O.dsn_envid, "env2", "last -V wins");
	is_int(PARSE("--store-password", "-a", "work"), 0, "--store-password");
	is_int(O.mode, CLI_MODE_STORE_PASSWORD, "store mode");
	is_int(PARSE("--forget-password"), 0, "--forget-password");
	is_int(O.mode, CLI_MODE_FORGET_PASSWORD, "forget mode");
	is_int(PARSE("-U", "-G", "-m", "-n", "-h", "5", "-Lyubin",
	    "-O", "DeliveryMode=b", "r"), 0, "-U -G -m -n -h -L -O");
	is_str(rcpts(), "r", "their arguments eaten");
	is_int(PARSE("r"), 0, "no --protocol");
	is_int(O.protocol, CLI_PROTOCOL_ACCOUNT, "the account's protocol");
	is_int(PARSE("--protocol=lmtp", "r"), 0, "--protocol=lmtp");
	is_int(O.protocol, CLI_PROTOCOL_LMTP, "LMTP");
	is_int(PARSE("--protocol", "smtp", "r"), 0, "--protocol smtp");
	is_int(O.protocol, CLI_PROTOCOL_SMTP, "SMTP");
}

static void
test_errors(void)
{
	usage_error(PARSE("-x", "r"), "unknown option '-x'", "-x");
	usage_error(PARSE("--protocol=http", "r"), "option '--protocol' takes "
	    "smtp or lmtp", "--protocol=http");
	usage_error(PARSE("-weird@x"), "unknown option '-w'",
	    "recipient starting with '-' before --");
	usage_error(PARSE("-"), "unknown option '-'", "lone '-'");
	usage_error(PARSE("-\x1b"), "unknown option '-?'", "control byte");
	usage_error(PARSE("-C"), "option '-C' needs an argument", "-C");
	usage_error(PARSE("-a"), "option '-a' needs an argument", "-a");
	usage_error(PARSE("-f"), "option '-f' needs an argument", "-f");
	usage_error(PARSE("-tF"), "option '-F' needs an argument", "-tF");
	usage_error(PARSE("-o"), "option '-o' needs an argument", "-o");
	usage_error(PARSE("-N"), "option '-N' needs an argument", "-N");
	usage_error(PARSE("-R"), "option '-R' needs an argument", "-R");
	usage_error(PARSE("-V"), "option '-V' needs an argument", "-V");
	usage_error(PARSE("-b"), "option '-b' needs an argument", "-b");
	is_int(PARSE("-bp"), 0, "-bp parses");
	is_int(O.mode, CLI_MODE_QUEUE_LIST, "-bp: queue list");
	is_int(PARSE("--queue-list", "--json"), 0, "--queue-list --json");
	ok(O.mode == CLI_MODE_QUEUE_LIST && O.json, "list as JSON");
	is_int(PARSE("--queue-remove", "ABC"), 0, "--queue-remove ID");
	ok(O.mode == CLI_MODE_QUEUE_REMOVE && strcmp(O.queue_id, "ABC") == 0,
	    "remove mode with the id");
	is_int(PARSE("--queue-retry=ABC"), 0, "--queue-retry=ID");
	ok(O.mode == CLI_MODE_QUEUE_RETRY && strcmp(O.queue_id, "ABC") == 0,
	    "retry mode with the id");
	is_int(PARSE("-q"), 0, "-q parses");
	is_int(O.mode, CLI_MODE_FLUSH, "-q: flush");
	is_int(PARSE("--flush"), 0, "--flush parses");
	is_int(O.mode, CLI_MODE_FLUSH, "--flush: flush");
	ok(!O.force, "--flush: not forced");
	is_int(PARSE("-q", "--force"), 0, "-q --force parses");
	ok(O.mode == CLI_MODE_FLUSH && O.force, "-q --force: everything");
	is_int(PARSE("-bv", "r"), 0, "-bv parses");
	is_int(O.mode, CLI_MODE_VERIFY, "-bv: verify mode");
	usage_has(PARSE("-N", "sometimes"), "expected off, NEVER", "-N bad");
	usage_has(PARSE("-N", "success,success"), "expected off, NEVER",
	    "-N repeated word");
	usage_has(PARSE("-R", "body"), "expected off, FULL or HDRS", "-R bad");
	usage_has(PARSE("-V", "a b"), "printable ASCII", "-V with space");
	is_int(PARSE("-b", "p"), 0, "-b p is -bp");
	usage_error(PARSE("-bs"), "option '-bs' is not supported", "-bs");
	usage_error(PARSE("-q1h"), "option '-q1h' is not supported (use -q)",
	    "-q1h");
	is_int(PARSE("-tq"), 0, "-tq: -t and -q");
	usage_error(PARSE("--bogus"), "unknown option '--bogus'", "--bogus");
	usage_error(PARSE("--bogus=1"), "unknown option '--bogus'",
	    "--bogus=1");
	usage_error(PARSE("--help=x"), "option '--help' takes no argument",
	    "--help=x");
	usage_error(PARSE("--read-recipients=yes"),
	    "option '--read-recipients' takes no argument",
	    "--read-recipients=yes");
	usage_error(PARSE("--file"), "option '--file' needs an argument",
	    "--file");
	usage_error(PARSE("--fil=x"), "unknown option '--fil'",
	    "no abbreviations");
}

static void
test_long(void)
{
	is_int(PARSE("--version"), 0, "--version");
	is_int(O.mode, CLI_MODE_VERSION, "mode VERSION");
	is_int(PARSE("--help"), 0, "--help");
	is_int(O.mode, CLI_MODE_HELP, "mode HELP");
	is_int(PARSE("--file=/x/y", "--account=work", "--from=a@x",
	    "--read-recipients"), 0, "long options with =");
	is_str(O.config_file, "/x/y", "--file=");
	is_str(O.account, "work", "--account=");
	is_str(O.from, "a@x", "--from=");
	ok(O.read_recipients, "--read-recipients");
	is_int(PARSE("--file", "f", "--account", "a", "--from", "b@x", "r"),
	    0, "long options with a separate argument");
	ok(strcmp(O.config_file, "f") == 0 && strcmp(O.account, "a") == 0 &&
	    strcmp(O.from, "b@x") == 0, "separate long arguments");
	is_str(rcpts(), "r", "recipient after long options");
	is_int(PARSE("--from="), 0, "--from=");
	is_str(O.from, "", "empty --from=");
}

static void
test_operands(void)
{
	char *a;

	is_int(PARSE("-v", "a@x", "b@x", "c@x"), 0, "options, operands");
	is_str(rcpts(), "a@x b@x c@x", "order kept");
	is_int(PARSE("a@x", "-v", "b@x", "-i", "c@x"), 0, "no interleaving");
	is_str(rcpts(), "a@x -v b@x -i c@x",
	    "options end at the first operand (BSD sendmail)");
	ok(O.verbose == 0 && O.dot_ends, "nothing parsed after an operand");
	is_int(PARSE("a@b", "-Cx"), 0, "a@b -Cx");
	is_str(rcpts(), "a@b -Cx", "-Cx after an operand is a recipient");
	ok(O.config_file == NULL, "-Cx after an operand is no -C");
	is_int(PARSE("a@b", "-f", "x@y"), 0, "a@b -f x@y");
	is_str(rcpts(), "a@b -f x@y", "-f after an operand is a recipient");
	is_int(PARSE("a@x"), 0, "one operand");
	ok(O.rcpt[O.nrcpt] == NULL, "rcpt list NULL-terminated");
	a = owned[1];
	ok(O.rcpt[0] == a, "rcpt points into argv");

	is_int(PARSE("--", "-x", "--y", "--", "-"), 0, "after --");
	is_str(rcpts(), "-x --y -- -", "everything after -- is a recipient");
	is_int(O.verbose, 0, "nothing parsed as an option after --");

	is_int(PARSE("r1", "--", "-r2", "-v"), 0, "r1 -- -r2 -v");
	is_str(rcpts(), "r1 -r2 -v", "recipients both sides of --");
	is_int(O.verbose, 0, "-v after -- is a recipient");

	is_int(PARSE("-fa@x", "--", "-fb@x"), 0, "-fa -- -fb");
	is_str(O.from, "a@x", "from before --");
	is_str(rcpts(), "-fb@x", "-fb after -- is a recipient");

	is_int(PARSE("", "r"), 0, "empty operand");
	is_int(O.nrcpt, 2, "empty operand kept (checked later)");
}

/* sets[i] as "option key=value". */
static const char *
set_str(size_t i)
{
	static char buf[256];

	if (i >= O.nsets)
		return "(none)";
	snprintf(buf, sizeof(buf), "%s %s=%s", O.sets[i].option,
	    O.sets[i].key, O.sets[i].value);
	return buf;
}

static void
test_msmtp_options(void)
{
	ok(PARSE("--port=2525", "--tls", "--tls-trust-file", "/ca",
	    "--auth=plain", "-X", "-", "--logfile=/l", "r@x") == 0,
	    "msmtp's key options");
	is_int((int)O.nsets, 6, "six keys");
	is_str(set_str(0), "--port port=2525", "--port=N");
	is_str(set_str(1), "--tls tls=", "--tls alone: empty (on)");
	is_str(set_str(2), "--tls-trust-file tls_trust_file=/ca",
	    "--tls-trust-file FILE");
	is_str(set_str(3), "--auth auth=plain", "--auth=METHOD");
	is_str(set_str(4), "-X logfile=-", "-X -");
	is_str(set_str(5), "--logfile logfile=/l", "--logfile=FILE");
	is_str(rcpts(), "r@x", "recipient after them");
	ok(PARSE("--tls", "off", "r@x") == 0 && O.nsets == 1 &&
	    strcmp(rcpts(), "off r@x") == 0,
	    "optional value only with '=' (as getopt_long)");
	ok(PARSE("--host=h", "--user=", "r@x") == 0 &&
	    strcmp(O.host, "h") == 0, "--host");
	is_str(set_str(1), "--user user=", "--user= unsets");
	ok(PARSE("-N", "off", "-R", "off", "r@x") == 0 &&
	    O.dsn_notify == NULL && O.dsn_return == NULL, "-N off -R off");
	is_str(set_str(0), "-N dsn_notify=off", "-N off: key");
	is_str(set_str(1), "-R dsn_return=off", "-R off: key");
	ok(PARSE("--dsn-notify=failure", "--dsn-return=headers", "r@x") ==
	    0 && strcmp(O.dsn_notify, "FAILURE") == 0 &&
	    strcmp(O.dsn_return, "HDRS") == 0, "--dsn-notify --dsn-return");
	ok(PARSE("-d", "r@x") == 0 && O.verbose == 2, "-d is -v -v");
	ok(PARSE("--debug", "-v", "r@x") == 0 && O.verbose == 3, "--debug");
	ok(PARSE("-P") == 0 && O.mode == CLI_MODE_PRETEND, "-P");
	ok(PARSE("--pretend", "-a", "x") == 0 && O.mode == CLI_MODE_PRETEND,
	    "--pretend");
	ok(PARSE("-S", "--json") == 0 && O.mode == CLI_MODE_SERVERINFO &&
	    O.json, "-S --json");
	ok(PARSE("--serverinfo") == 0 && O.mode == CLI_MODE_SERVERINFO,
	    "--serverinfo");
	ok(PARSE("--rmqs=@example.org") == 0 && O.mode == CLI_MODE_RMQS &&
	    strcmp(O.rmqs, "@example.org") == 0, "--rmqs=@domain");
	usage_error(PARSE("--rmqs="), "option '--rmqs' needs a host, @domain "
	    "or #queue (1 to 255 characters)", "--rmqs empty");
	usage_error(PARSE("--rmqs", "a\rb"), "option '--rmqs': no spaces or "
	    "control characters", "--rmqs with CR");
	ok(PARSE("--configure=joe@example.org") == 0 &&
	    O.mode == CLI_MODE_CONFIGURE &&
	    strcmp(O.configure, "joe@example.org") == 0, "--configure=ADDR");
	ok(PARSE("--configure", "joe@example.org") == 0 &&
	    O.mode == CLI_MODE_CONFIGURE, "--configure ADDR");
	ok(PARSE("-Ac", "-A", "m", "r@x") == 0 && strcmp(rcpts(), "r@x") == 0,
	    "-Ac, -A m ignored (sendmail's .cf choice)");
	usage_error(PARSE("--port"), "option '--port' needs an argument",
	    "--port without value");
	usage_error(PARSE("--tlsx"), "unknown option '--tlsx'",
	    "unknown still 64");
	usage_error(PARSE("--pretend=x"), "option '--pretend' takes no "
	    "argument", "--pretend=x");
}

static void
test_usage(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cli_usage(f);
	fclose(f);
	ok(strncmp(buf, "usage: yubin ", 13) == 0, "usage starts with usage:");
	ok(strstr(buf, "--version") != NULL && strstr(buf, "-C") != NULL,
	    "usage mentions options");
	free(buf);
}

/* Each struct options owns what it points to: no buffer shared. */
static void
test_own_storage(void)
{
	char a0[] = "yubin", a1[] = "-N", a2[] = "never", a3[] = "r";
	char b0[] = "yubin", b1[] = "-Nsuccess,delay", b2[] = "r";
	char *av[] = { a0, a1, a2, a3, NULL }, *bv[] = { b0, b1, b2, NULL };
	struct options a, b;

	ok(cli_parse(&a, 4, av, &E) == 0 && cli_parse(&b, 3, bv, &E) == 0,
	    "two parses");
	is_str(a.dsn_notify, "NEVER", "-N: the first keeps its value");
	is_str(b.dsn_notify, "SUCCESS,DELAY", "-N: the second has its own");
	ok(a.dsn_notify == a.dsn_notify_buf, "-N: held in struct options");
}

int
main(void)
{
	test_defaults();
	test_mua_forms();
	test_arguments();
	test_clusters();
	test_ignored();
	test_errors();
	test_long();
	test_operands();
	test_usage();
	test_own_storage();
	test_msmtp_options();
	release();
	return done_testing();
}
