/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-config.c -- the msmtprc parser (config.c) and the account defaults
 * (account.c): files parsed from strings with fmemopen, permission and
 * lookup checks on real temporary files, random bytes.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "conffield.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "tap.h"
#include "testutil.h"
#include "util.h"

#define RC "test.rc"

static char tmpdir[] = "/tmp/yubin-test-config.XXXXXX";

/* ---------------------------------------------------------------- helpers */

static int
parse_mem(struct config *c, const char *text, size_t len, struct error *err)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, len, "r");
	int rc;

	if (f == NULL)
		bail_out("fmemopen: %s", strerror(errno));
	config_init(c);
	error_init(err);
	rc = config_parse(c, f, RC, err);
	fclose(f);
	return rc;
}

static int
parse(struct config *c, const char *text, struct error *err)
{
	return parse_mem(c, text, strlen(text), err);
}

/* The file must fail with exactly this message. */
static void
parse_fails(const char *text, const char *want, const char *name)
{
	struct config c;
	struct error err;
	int rc = parse(&c, text, &err);

	ok(rc == -1 && err.kind == ERR_CONFIG, "%s: refused", name);
	is_str(err.message, want, "%s: message", name);
	ok(c.accounts == NULL, "%s: nothing kept", name);
	config_release(&c);
}

static void
parse_ok(const char *text, const char *name)
{
	struct config c;
	struct error err;
	int rc = parse(&c, text, &err);

	if (!ok(rc == 0, "%s: accepted", name))
		printf("#   error: %s\n", err.message);
	config_release(&c);
}

/* Parse, select (name may be NULL) and finish; 0 or -1. */
static int
finish(struct config *c, const char *text, const char *name,
    struct account *a, struct error *err)
{
	if (parse(c, text, err) < 0) {
		printf("#   parse error: %s\n", err->message);
		return -2;
	}
	return account_select(c, name, a, err);
}

static void
finish_fails(const char *text, const char *want, const char *name)
{
	struct config c;
	struct account a;
	struct error err;

	ok(finish(&c, text, NULL, &a, &err) == -1 && err.kind == ERR_CONFIG,
	    "%s: refused", name);
	is_str(err.message, want, "%s: message", name);
	config_release(&c);
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		bail_out("%s: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		bail_out("chmod %s: %s", path, strerror(errno));
}

static char *
tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void
tmp_rmdir(const char *name)
{
	char *p = tmp_path(name);

	rmdir(p);
	free(p);
}

/* Run fn with stderr sent to a file; return what it wrote (malloc'd). */
static char *
capture_stderr(void (*fn)(void))
{
	char *path = tmp_path("stderr");
	FILE *f = fopen(path, "w+");
	int saved = dup(2);
	char *out = xcalloc(1, 8192);

	fflush(stderr);
	dup2(fileno(f), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	(void)!fread(out, 1, 8191, f);
	fclose(f);
	unlink(path);
	free(path);
	return out;
}

/* ---------------------------------------------------------------- files */

static const char realworld[] =
	"# Example for a user configuration file ~/.msmtprc\n"
	"\n"
	"# Set default values for all following accounts.\n"
	"defaults\n"
	"auth           on\n"
	"tls            on\n"
	"tls_trust_file /etc/ssl/certs/ca-certificates.crt\n"
	"logfile        ~/.msmtp.log\n"
	"\n"
	"# Gmail\n"
	"account        gmail\n"
	"host           smtp.gmail.com\n"
	"port           587\n"
	"from           username@gmail.com\n"
	"user           username\n"
	"password       plain-text-password\n"
	"\n"
	"# Work\n"
	"account        work\n"
	"host           mail.work.example\n"
	"port           465\n"
	"tls_starttls   off\n"
	"from           joe@work.example\n"
	"user           joe\n"
	"passwordeval   \"gpg --quiet --no-tty --decrypt ~/.work.gpg\"\n"
	"\n"
	"# Set a default account\n"
	"account default : work\n";

static void
test_realworld(void)
{
	struct config c;
	struct account a;
	struct error err;
	const struct account_conf *g, *d;

	setenv("HOME", "/home/joe", 1);
	ok(parse(&c, realworld, &err) == 0, "real msmtprc parses");
	g = config_find(&c, "gmail");
	ok(g != NULL, "gmail found");
	if (g == NULL)
		return;
	is_str(g->host, "smtp.gmail.com", "gmail host");
	is_int(g->port, 587, "gmail port");
	is_str(g->user, "username", "gmail user");
	is_str(g->password, "plain-text-password", "gmail password");
	is_str(g->auth, "on", "gmail auth from defaults");
	is_str(g->logfile, "/home/joe/.msmtp.log", "logfile: ~ expanded");
	is_str(g->file, RC, "gmail file");
	is_int(g->line, 11, "gmail line");
	ok(config_isset(g, CONF_TLS) && config_isset(g, CONF_PORT) &&
	    !config_isset(g, CONF_TIMEOUT), "gmail: set bits");
	is_str(c.default_name, "work", "default_name");
	is_str(c.path, RC, "config path");
	d = config_find(&c, "default");
	ok(d != NULL && strcmp(d->host, "mail.work.example") == 0,
	    "config_find(default) gives work's settings");
	ok(account_select(&c, NULL, &a, &err) == 0, "default selected");
	is_str(a.host, "mail.work.example", "default: host");
	is_int(a.port, 465, "default: port");
	is_int(a.tls, ACCOUNT_TLS_IMPLICIT, "default: implicit TLS");
	ok(a.auth && a.auth_mech == NULL, "default: auth auto");
	is_str(a.user, "joe", "default: user");
	is_str(a.conf->passwordeval,
	    "gpg --quiet --no-tty --decrypt ~/.work.gpg", "passwordeval");
	ok(account_select(&c, "gmail", &a, &err) == 0, "-a gmail");
	is_int(a.tls, ACCOUNT_TLS_STARTTLS, "gmail: STARTTLS");
	is_str(a.tlscfg.trust_file, "/etc/ssl/certs/ca-certificates.crt",
	    "gmail: trust file");
	is_str(a.tlscfg.host, "smtp.gmail.com", "gmail: TLS host");
	ok(a.tlscfg.certcheck, "gmail: certcheck");
	is_str(a.from, "username@gmail.com", "gmail: from");
	is_str(a.domain, "localhost", "gmail: EHLO localhost");
	is_int(a.timeout_ms, 60000, "gmail: timeout 60 s");
	ok(account_select(&c, "nope", &a, &err) == -1, "-a nope refused");
	is_str(err.message, "account 'nope' not found in " RC,
	    "-a nope: message");
	config_release(&c);
	config_release(&c);
	ok(c.accounts == NULL && c.path == NULL, "release twice is fine");
}

static void
test_inheritance(void)
{
	static const char text[] =
		"defaults\n"
		"port 2525\n"
		"from d@example.org\n"
		"timeout 10\n"
		"account a\n"
		"host a.example\n"
		"user ua\n"
		"timeout 20\n"
		"account b\n"
		"host b.example\n"
		"user ub\n"
		"from b@example.org\n"
		"defaults\n"
		"port 26\n"
		"domain later.example\n"
		"timeout 30\n"
		"account c : a, b\n"
		"user uc\n"
		"account d : b,a\n";
	struct config c;
	struct error err;
	const struct account_conf *a, *b, *cc, *d;

	ok(parse(&c, text, &err) == 0, "inheritance file parses");
	a = config_find(&c, "a");
	b = config_find(&c, "b");
	cc = config_find(&c, "c");
	d = config_find(&c, "d");
	ok(a && b && cc && d, "four accounts");
	if (!(a && b && cc && d))
		return;
	is_int(a->port, 2525, "a: port from defaults");
	is_str(a->from, "d@example.org", "a: from from defaults");
	ok(a->domain == NULL, "a: later defaults do not apply");
	is_str(cc->host, "b.example", "c: b's host (b after a)");
	is_str(cc->user, "uc", "c: own user");
	is_str(cc->from, "b@example.org", "c: from b");
	is_int(cc->timeout, 20, "c: a's own timeout beats defaults");
	is_int(cc->port, 26, "c: a's port came from defaults, not copied");
	is_str(cc->domain, "later.example", "c: current defaults");
	is_str(d->host, "a.example", "d: a's host (a after b)");
	is_str(d->user, "ua", "d: a's user");
	is_str(a->user, "ua", "a: unchanged by c");
	ok(config_isset(cc, CONF_HOST) && config_isset(cc, CONF_DOMAIN),
	    "c: set bits from parents and defaults");
	config_release(&c);
}

static void
test_values(void)
{
	static const char text[] =
		"account q\n"
		"host h\n"
		"domain   \"  spaced  \"  \n"
		"password \"pa\\\"ss\\\\word\"\n"
		"user \"unterminated\n"
		"from \"a\\b\"\n"
		"tls_priorities \"abc\\\"\n"
		"passwordeval \"\"\n"
		"  \t# an indented comment\n"
		"\t\n"
		"tls_host_override  x y\t\n"
		"account hash\n"
		"host h\n"
		"password abc#def # not a comment\n"
		"user \"#quoted\"\n"
		"logfile ~\n"
		"tls_cert_file ~user/c\n";
	struct config c;
	struct error err;
	const struct account_conf *q, *h;

	setenv("HOME", "/home/joe", 1);
	ok(parse(&c, text, &err) == 0, "quoting file parses");
	q = config_find(&c, "q");
	h = config_find(&c, "hash");
	if (!ok(q != NULL && h != NULL, "two accounts"))
		return;
	is_str(q->domain, "  spaced  ", "quotes keep blanks");
	is_str(q->password, "pa\\\"ss\\\\word", "\\\" and \\\\ kept as they are "
	    "(msmtp)");
	is_str(q->user, "\"unterminated", "unterminated quote is literal");
	is_str(q->from, "a\\b", "other backslashes are literal");
	is_str(q->tls_priorities, "abc\\", "backslash before closing quote");
	ok(q->passwordeval == NULL && config_isset(q, CONF_PASSWORDEVAL),
	    "empty value unsets");
	is_str(q->tls_host_override, "x y", "value is the rest of the line");
	is_str(h->password, "abc#def # not a comment", "# inside a value");
	is_str(h->user, "#quoted", "# at the start of a quoted value");
	is_str(h->logfile, "/home/joe", "~ alone expanded");
	is_str(h->tls_cert_file, "~user/c", "~user left alone");
	config_release(&c);
}

static void
test_crlf(void)
{
	static const char text[] =
		"# windows\r\n"
		"account w\r\n"
		"host smtp.example\r\n"
		"password \"secret\"\r\n"
		"\r\n"
		"port 25 \r\n";
	struct config c;
	struct error err;
	const struct account_conf *w;
	char *bad;

	ok(parse(&c, text, &err) == 0, "CRLF file parses");
	w = config_find(&c, "w");
	if (ok(w != NULL, "CRLF account"))  {
		is_str(w->host, "smtp.example", "CRLF: no CR in host");
		is_str(w->password, "secret", "CRLF: quoted value");
		is_int(w->port, 25, "CRLF: port");
	}
	config_release(&c);
	bad = xasprintf("%sbogus\r\n", text);
	parse_fails(bad, RC ":7: unknown command 'bogus'",
	    "CRLF: error line number");
	free(bad);
}

static void
test_errors(void)
{
	parse_fails("account a\nhost h\nfoo bar\n",
	    RC ":3: unknown command 'foo'", "unknown key");
	parse_fails("PORT 25\n", RC ":1: unknown command 'PORT'",
	    "keys are case sensitive");
	parse_fails("account a\nhost h\naccount a\n",
	    RC ":3: account 'a' is already defined (at " RC ":1)",
	    "duplicate account");
	parse_fails("account a\naccount b : a, zz\n",
	    RC ":2: account 'zz' is not defined", "parent not defined");
	parse_fails("account b : b\n", RC ":1: account 'b' is not defined",
	    "parent is itself");
	parse_fails("account a\naccount x : a,,a\n",
	    RC ":2: missing account name",
	    "empty parent");
	parse_fails("account\n", RC ":1: missing account name",
	    "account without name");
	parse_fails("account  : a\n", RC ":1: missing account name",
	    "account with only parents");
	parse_fails("account a,b\n",
	    RC ":1: account name 'a,b' must not contain ',' or ':'",
	    "comma in account name");
	parse_fails("defaults now\n", RC ":1: 'defaults' takes no value",
	    "defaults with a value");
	parse_fails("account a\nport 70000\n",
	    RC ":2: invalid value '70000' for 'port' (expected 1-65535)",
	    "port too large");
	parse_fails("account a\nport 0\n",
	    RC ":2: invalid value '0' for 'port' (expected 1-65535)",
	    "port 0");
	parse_fails("account a\nport 25x\n",
	    RC ":2: invalid value '25x' for 'port' (expected 1-65535)",
	    "port with junk");
	parse_fails("account a\nport\n", RC ":2: 'port' needs a value",
	    "port without value");
	parse_fails("account a\nhost \"\"\n", RC ":2: 'host' needs a value",
	    "empty host");
	parse_fails("account a\ntls yes\n",
	    RC ":2: invalid value 'yes' for 'tls' (expected on or off)",
	    "bad bool");
	parse_fails("defaults\ntls_certcheck 1\n",
	    RC ":2: invalid value '1' for 'tls_certcheck' (expected on or "
	    "off)", "bad bool in defaults");
	parse_fails("account a\ntimeout 0\n",
	    RC ":2: invalid value '0' for 'timeout' (expected off or "
	    "seconds, 1-2147483)", "timeout 0");
	parse_fails("account a\ntimeout 5s\n",
	    RC ":2: invalid value '5s' for 'timeout' (expected off or "
	    "seconds, 1-2147483)", "timeout 5s");
	parse_fails("account a\nauth pl ain\n",
	    RC ":2: invalid value 'pl ain' for 'auth' (expected on, off or "
	    "a method such as plain)", "bad auth value");
	parse_fails("account a\ntls_nocertcheck off\n",
	    RC ":2: 'tls_nocertcheck' takes no value", "old flag with value");
	parse_fails("account a\nhost h\x01x\n",
	    RC ":2: control character 0x01 in line", "control character");
	parse_fails("account a\n\xff\xfe junk\n",
	    RC ":2: unknown command '\\xff\\xfe'", "binary key escaped");
	parse_fails("account a\n"
	    "a_very_long_unknown_key_name_that_goes_on_and_on_and_on x\n",
	    RC ":2: unknown command 'a_very_long_unknown_key_name_that_goes_"
	    "on_and_on...'", "long key cut");
}

static void
test_refused(void)
{
	parse_fails("account a\nprotocol http\n",
	    RC ":2: invalid value 'http' for 'protocol' (expected smtp or "
	    "lmtp)", "bad protocol");
	parse_fails("account a\neval echo host x\n",
	    RC ":2: 'eval' runs a command, which only a configuration file "
	    "may do", "eval refused in a stream");
	parse_ok("account a\nhost h\nproxy_host\nproxy_port \"\"\nsocket\n"
	    "protocol smtp\n", "empty proxy_host/socket, protocol smtp");
}

static const char msmtp_only[] =
	"defaults\n"
	"ntlmdomain WORK\n"
	"tls_min_dh_prime_bits 1024\n"
	"tls_force_sslv3 off\n"
	"account a\n"
	"host h\n";

static void
parse_msmtp_only(void)
{
	struct config c;
	struct error err;

	ok(parse(&c, msmtp_only, &err) == 0, "msmtp-only keys accepted");
	ok(c.accounts != NULL && c.accounts->set == (1UL << CONF_HOST),
	    "msmtp-only keys set nothing");
	config_release(&c);
}

static void
test_ignored(void)
{
	int saved = log_get_verbose();
	char *out;

	log_set_verbose(1);
	out = capture_stderr(parse_msmtp_only);
	log_set_verbose(saved);
	ok(strstr(out, RC ":2: 'ntlmdomain' is not supported yet, ignored")
	    != NULL, "-v note for an ignored key");
	free(out);
}

/* issue 13: protocol lmtp (a port required), tls_crl_file. */
static void
test_lmtp_crl(void)
{
	struct config c;
	struct account a;
	struct error err;

	finish_fails("account a\nhost h\nprotocol lmtp\n",
	    "account 'a' (" RC ":1): 'protocol lmtp' needs a 'port': LMTP has "
	    "no default port", "lmtp without a port");
	ok(finish(&c, "defaults\nprotocol lmtp\naccount a\nhost h\nport 24\n"
	    "tls_crl_file /etc/crl.pem\naccount s : a\nprotocol smtp\n",
	    "a", &a, &err) == 0 && a.lmtp && a.port == 24 &&
	    a.tls == ACCOUNT_TLS_STARTTLS, "protocol lmtp from the defaults, "
	    "port 24, tls still on");
	is_str(a.tlscfg.crl_file, "/etc/crl.pem", "tls_crl_file kept");
	ok(account_select(&c, "s", &a, &err) == 0 && !a.lmtp &&
	    a.tlscfg.crl_file != NULL, "protocol smtp overrides, the CRL is "
	    "inherited");
	ok(account_set_protocol(&a, true, &err) == 0 && a.lmtp &&
	    a.protocol_override && a.queue == CONF_QUEUE_OFF,
	    "--protocol=lmtp: LMTP, never queued");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\n", NULL, &a, &err) == 0 &&
	    account_set_protocol(&a, true, &err) == -1, "--protocol=lmtp "
	    "without a port refused");
	is_str(err.message, "account 'a' (" RC ":1): '--protocol=lmtp' needs "
	    "a 'port': LMTP has no default port", "--protocol=lmtp: message");
	ok(account_set_protocol(&a, false, &err) == 0 &&
	    !a.protocol_override, "--protocol=smtp on an SMTP account changes "
	    "nothing");
	config_release(&c);
}

/* The message keys (msmtp's), now implemented: values and defaults. */
static void
test_message_keys(void)
{
	struct config c;
	struct account a;
	struct error err;

	ok(parse(&c, "defaults\nhost h\n"
	    "account d\n"
	    "account m\naliases /etc/aliases\nmaildomain example.org\n"
	    "dsn_notify failure,Delay\ndsn_return headers\n"
	    "set_from_header on\nset_date_header off\nset_msgid_header off\n"
	    "remove_bcc_headers off\nundisclosed_recipients\n"
	    "allow_from_override off\nfrom_full_name Joe Example\n"
	    "account o : m\nadd_missing_from_header off\n"
	    "add_missing_date_header on\nkeepbcc off\ndsn_notify never\n"
	    "dsn_return hdrs\n"
	    "account p : m\ndsn_notify off\ndsn_return full\n", &err) == 0,
	    "message keys parse: %s", err.message);
	ok(account_select(&c, "d", &a, &err) == 0 && a.allow_from_override &&
	    a.set_from_header == CONF_SET_FROM_AUTO && a.set_date_header &&
	    a.set_msgid_header && a.remove_bcc_headers &&
	    !a.undisclosed_recipients && a.aliases == NULL &&
	    a.maildomain == NULL && a.dsn_notify == NULL &&
	    a.dsn_return == NULL && a.from_full_name == NULL,
	    "message keys: msmtp's defaults");
	ok(account_select(&c, "m", &a, &err) == 0 && !a.allow_from_override &&
	    a.set_from_header == CONF_SET_FROM_ON && !a.set_date_header &&
	    !a.set_msgid_header && !a.remove_bcc_headers &&
	    a.undisclosed_recipients, "message keys: written values");
	is_str(a.aliases, "/etc/aliases", "aliases");
	is_str(a.maildomain, "example.org", "maildomain");
	is_str(a.dsn_notify, "FAILURE,DELAY", "dsn_notify upper case");
	is_str(a.dsn_return, "HDRS", "dsn_return headers is HDRS");
	is_str(a.from_full_name, "Joe Example", "from_full_name");
	ok(account_select(&c, "o", &a, &err) == 0 &&
	    a.set_from_header == CONF_SET_FROM_OFF && a.set_date_header &&
	    a.remove_bcc_headers, "old names: add_missing_*, keepbcc");
	is_str(a.dsn_notify, "NEVER", "dsn_notify never");
	ok(account_select(&c, "p", &a, &err) == 0 && a.dsn_notify == NULL,
	    "dsn_notify off unsets the inherited value");
	is_str(a.dsn_return, "FULL", "dsn_return full");
	config_release(&c);
	parse_fails("account a\ndsn_notify failure,failure\n", RC ":2: "
	    "invalid value 'failure,failure' for 'dsn_notify' (expected off, "
	    "never or a list of success, failure, delay)", "dsn_notify twice");
	parse_fails("account a\ndsn_notify success,\n", RC ":2: invalid value "
	    "'success,' for 'dsn_notify' (expected off, never or a list of "
	    "success, failure, delay)", "dsn_notify trailing comma");
	parse_fails("account a\ndsn_return body\n", RC ":2: invalid value "
	    "'body' for 'dsn_return' (expected off, headers or full)",
	    "dsn_return body");
	parse_fails("account a\nset_date_header on\n", RC ":2: invalid value "
	    "'on' for 'set_date_header' (expected auto or off)",
	    "set_date_header on");
	parse_fails("account a\nset_from_header maybe\n", RC ":2: invalid "
	    "value 'maybe' for 'set_from_header' (expected auto, on or off)",
	    "set_from_header maybe");
	parse_fails("account a\nmaildomain a@b\n", RC ":2: invalid value "
	    "'a@b' for 'maildomain' (expected a domain such as example.org)",
	    "maildomain with '@'");
}

/* The account chosen by envelope sender (msmtp's --from). */
static void
test_select_by_from(void)
{
	struct config c;
	struct account a;
	struct error err;

	ok(parse(&c, "defaults\nhost h\n"
	    "account work\nfrom bob@work.example\n"
	    "account lists\nfrom bob+lists@home.example\n"
	    "account home\nfrom bob@home.example\n"
	    "account any\nfrom *@wild.example\n"
	    "account default : home\n", &err) == 0, "from accounts parse");
	ok(account_select_by_from(&c, NULL, "BOB@Work.Example", &a, &err) ==
	    0 && strcmp(a.name, "work") == 0, "by from: case ignored");
	ok(account_select_by_from(&c, NULL, "bob+lists@home.example", &a,
	    &err) == 0 && strcmp(a.name, "lists") == 0,
	    "by from: exact subaddress first");
	ok(account_select_by_from(&c, NULL, "bob+x@work.example", &a, &err)
	    == 0 && strcmp(a.name, "work") == 0, "by from: +detail dropped");
	ok(account_select_by_from(&c, NULL, "anyone@WILD.example", &a, &err)
	    == 0 && strcmp(a.name, "any") == 0 && a.from_pattern,
	    "by from: wildcard pattern");
	ok(account_select_by_from(&c, NULL, "x@other.example", &a, &err) ==
	    0 && strcmp(a.name, "default") == 0, "by from: no match, default");
	ok(account_select_by_from(&c, "work", "bob@home.example", &a, &err)
	    == 0 && strcmp(a.name, "work") == 0, "by from: -a wins");
	ok(account_from_matches("bob@[ab].example", "bob@a.example") &&
	    !account_from_matches("bob@x.example", "bob@y.example"),
	    "from_matches");
	config_release(&c);
}

static void
test_fingerprints(void)
{
	static const char sha256[] =
	    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:"
	    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF";
	static const char *const forms[] = {
		"01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:"
		"01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef",
		"0123456789ABCDEF0123456789ABCDEF"
		"0123456789ABCDEF0123456789ABCDEF",
		"01 23 45 67 89 AB CD EF 01 23 45 67 89 AB CD EF "
		"01 23 45 67 89 AB CD EF 01 23 45 67 89 AB CD EF",
	};
	struct config c;
	struct error err;
	char *text;

	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		text = xasprintf("account a\ntls_fingerprint %s\n", forms[i]);
		ok(parse(&c, text, &err) == 0, "SHA-256 form %zu", i);
		is_str(c.accounts ? c.accounts->tls_fingerprint : NULL,
		    sha256, "SHA-256 form %zu normalised", i);
		config_release(&c);
		free(text);
	}
	ok(parse(&c, "account a\ntls_fingerprint 01:23:45:67:89:AB:CD:EF:"
	    "01:23:45:67:89:AB:CD:EF:01:23:45:67\n", &err) == 0,
	    "SHA-1 accepted");
	config_release(&c);
	ok(parse(&c, "account a\ntls_fingerprint 01:23:45:67:89:ab:cd:ef:"
	    "01:23:45:67:89:AB:CD:EF\n", &err) == 0, "MD5 accepted (msmtp)");
	is_str(c.accounts ? c.accounts->tls_fingerprint : NULL,
	    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF",
	    "MD5 normalised");
	config_release(&c);
	parse_fails("account a\ntls_fingerprint 01:23\n",
	    RC ":2: invalid value '01:23' for 'tls_fingerprint' (expected a "
	    "SHA-256 fingerprint, 32 hex bytes such as 01:23:..:EF (or "
	    "SHA-1, 20 bytes, or MD5, 16))", "short fingerprint");
	parse_ok("account a\ntls_fingerprint\n", "empty fingerprint unsets");
	text = xasprintf("account a\ntls_fingerprint %s:\n", sha256);
	parse_fails(text, RC ":2: invalid value '01:23:45:67:89:AB:CD:EF:01:"
	    "23:45:67:89:AB:CD:EF:...' for 'tls_fingerprint' (expected a "
	    "SHA-256 fingerprint, 32 hex bytes such as 01:23:..:EF (or "
	    "SHA-1, 20 bytes, or MD5, 16))", "trailing colon");
	free(text);
	parse_fails("account a\ntls_fingerprint 01:23 45:67:89:AB:CD:EF:01:"
	    "23:45:67:89:AB:CD:EF:01:23:45:67\n",
	    RC ":2: invalid value '01:23 45:67:89:AB:CD:EF:01:23:45:67:89:"
	    "AB:CD:EF:...' for 'tls_fingerprint' (expected a SHA-256 "
	    "fingerprint, 32 hex bytes such as 01:23:..:EF (or SHA-1, 20 "
	    "bytes, or MD5, 16))", "mixed separators");
}

#define FP_SHA1 "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67"
#define FP_MD5 "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF"

/* The account's TLS checks as tls.c will use them, "trust|fp|certcheck". */
static const char *
tls_checks(const char *text, const char *name)
{
	static char buf[256];
	struct config c;
	struct account a;
	struct error err;

	if (finish(&c, text, name, &a, &err) < 0) {
		snprintf(buf, sizeof(buf), "error: %s", err.message);
	} else {
		snprintf(buf, sizeof(buf), "%s|%s|%s", a.tlscfg.trust_file ?
		    a.tlscfg.trust_file : "-", a.tlscfg.fingerprint ?
		    a.tlscfg.fingerprint : "-", a.tlscfg.certcheck ? "on" :
		    "off");
		config_release(&c);
	}
	return buf;
}

static void
md5_account(void)
{
	struct config c;
	struct account a;
	struct error err;

	if (finish(&c, "account a\nhost h\ntls_fingerprint " FP_MD5 "\n", NULL,
	    &a, &err) == 0)
		config_release(&c);
}

/*
 * msmtp's order, wherever each key was written: tls_certcheck off, then
 * tls_fingerprint, then tls_trust_file (issue 12: a common msmtprc with a
 * trust file in the defaults was refused).
 */
static void
test_tls_precedence(void)
{
	static const char defaults[] =
	    "defaults\ntls_trust_file /ca.pem\n"
	    "account fp\nhost h\ntls_fingerprint " FP_SHA1 "\n"
	    "account nocheck\nhost h\ntls_certcheck off\n"
	    "account plain\nhost h\n"
	    "account child : fp\n"
	    "account both\nhost h\ntls_fingerprint " FP_SHA1 "\n"
	    "tls_certcheck off\n";
	char *out;

	is_str(tls_checks(defaults, "fp"), "-|" FP_SHA1 "|on",
	    "tls: inherited trust file, own fingerprint: the fingerprint");
	is_str(tls_checks(defaults, "nocheck"), "-|-|off",
	    "tls: inherited trust file, own certcheck off: no check");
	is_str(tls_checks(defaults, "plain"), "/ca.pem|-|on",
	    "tls: inherited trust file alone: the CA check");
	is_str(tls_checks(defaults, "child"), "-|" FP_SHA1 "|on",
	    "tls: a parent's fingerprint over the defaults' trust file");
	is_str(tls_checks(defaults, "both"), "-|-|off",
	    "tls: certcheck off over a fingerprint");
	is_str(tls_checks("account a\nhost h\ntls_fingerprint " FP_SHA1 "\n"
	    "tls_trust_file /ca.pem\n", NULL), "-|" FP_SHA1 "|on",
	    "tls: both in one account: the fingerprint (msmtp)");
	is_str(tls_checks("account a\nhost h\ntls_trust_file\n"
	    "tls_fingerprint " FP_SHA1 "\n", NULL), "-|" FP_SHA1 "|on",
	    "tls: empty trust file with a fingerprint");
	out = capture_stderr(md5_account);
	is_str(out, "yubin: warning: account 'a': tls_fingerprint is an MD5 "
	    "fingerprint, which can be forged; use the SHA-256 one (openssl "
	    "x509 -noout -fingerprint -sha256)\n", "tls: MD5 accepted with a "
	    "warning");
	free(out);
}

/* The account's from, domain and allow_from_override: "from|domain|0". */
static const char *
names(const char *text)
{
	static char buf[512];
	struct config c;
	struct account a;
	struct error err;

	if (finish(&c, text, NULL, &a, &err) < 0)
		snprintf(buf, sizeof(buf), "error: %s", err.message);
	else
		snprintf(buf, sizeof(buf), "%s|%s|%d", a.from ? a.from : "-",
		    a.domain, a.allow_from_override);
	config_release(&c);	/* also after an error: parse() set it up */
	return buf;
}

/* msmtp's %U %H %C %M in from and domain; auto_from (issue 12). */
static void
test_substitutions(void)
{
	char want[512], line[256] = "";
	FILE *f;

	setenv("USER", "joe", 1);
	setenv("HOSTNAME", "localhost", 1);
	is_str(names("account a\nhost h\nfrom %U@%H\ndomain %H.%C\n"),
	    "joe@localhost|localhost.localhost|1", "subst: %%U %%H in from, "
	    "%%H %%C in domain");
	is_str(names("account a\nhost h\nfrom %%U@%H%%\ndomain %U.%X\n"),
	    "%joe@localhost%%|%U.%X|1", "subst: no escape, %%U not in domain, "
	    "unknown patterns kept");
	unsetenv("USER");
	setenv("LOGNAME", "lou", 1);
	setenv("HOSTNAME", "mail.example", 1);
	is_str(names("account a\nhost h\nfrom %U@%H\n"), "lou@mail.example|"
	    "localhost|1", "subst: LOGNAME without USER, $HOSTNAME");
	setenv("USER", "joe", 1);
	is_str(names("account a\nhost h\nfrom x@y\nauto_from on\n"
	    "maildomain md.example\n"), "joe@md.example|localhost|0",
	    "auto_from: %%U@maildomain, -f cannot override it (msmtp)");
	is_str(names("account a\nhost h\nauto_from\n"), "joe|localhost|0",
	    "auto_from without maildomain: the user name alone");
	is_str(names("defaults\nfrom %U@%H\naccount a\nhost h\n"),
	    "joe@mail.example|localhost|1", "subst: from the defaults");
	if ((f = fopen(MSMTP_SYSCONFDIR "/mailname", "r")) != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		snprintf(want, sizeof(want), "joe@%s|%s|1", line, line);
	} else {
		snprintf(want, sizeof(want), "error: account 'a' (" RC ":1): "
		    "'from %%U@%%M': cannot read '" MSMTP_SYSCONFDIR
		    "/mailname' (for %%M): %s", strerror(errno));
	}
	is_str(names("account a\nhost h\nfrom %U@%M\ndomain %M\n"), want,
	    "subst: %%M is the mailname file, or an error");
	unsetenv("LOGNAME");
	unsetenv("HOSTNAME");
}

static void
collect_set(void *arg, enum config_key k, const char *name, const char *v)
{
	struct { const struct account_conf *a; struct dynbuf b; } *w = arg;

	if (config_isset(w->a, k))
		(void)dynbuf_printf(&w->b, "%s%s=%s%s", w->b.len > 0 ? " " : "",
		    name, v != NULL ? v : "(unset)",
		    conffield_secret(k) ? "(secret)" : "");
}

/* conffield_each(): what --pretend will print, in the file's words. */
static void
test_conffield_each(void)
{
	struct { const struct account_conf *a; struct dynbuf b; } w;
	struct config c;
	struct error err;

	ok(parse(&c, "account a\nhost h\nport 2525\nkeepbcc on\n"
	    "timeout off\nqueue always\npassword s\nuser\nsyslog\n"
	    "set_date_header off\nset_from_header on\n"
	    "dsn_unsupported send\nauto_from\n", &err) == 0,
	    "each: parses");
	w.a = c.accounts;
	dynbuf_init(&w.b, 4096);
	if (w.a != NULL)
		conffield_each(w.a, collect_set, &w);
	is_str(w.b.data, "host=h port=2525 user=(unset) password=s(secret) "
	    "timeout=off syslog=LOG_USER auto_from=on set_from_header=on "
	    "set_date_header=off remove_bcc_headers=off dsn_unsupported=send "
	    "queue=always", "each: the keys written, as a file writes them");
	dynbuf_release(&w.b);
	config_release(&c);
}

static void
test_implicit_default(void)
{
	struct config c;
	struct account a;
	struct error err;

	ok(finish(&c, "host old.example\nport 25\ntls off\n", NULL, &a,
	    &err) == 0, "keys before any account");
	is_str(c.accounts ? c.accounts->name : NULL, "default",
	    "they make an account named default");
	is_str(a.host, "old.example", "and it is selected");
	config_release(&c);
	parse_fails("host a\naccount b\nhost b\naccount default : b\n",
	    RC ":4: account 'default' is already defined (at " RC ":1)",
	    "implicit default + account default");
	parse_ok("defaults\nport 26\naccount a\nhost a\n",
	    "keys after defaults go to the defaults");
}

static void
test_long_lines(void)
{
	size_t n = 70000;
	char *text = xmalloc(n + 32);
	struct config c;
	struct error err;

	memcpy(text, "account a\npassword ", 19);
	memset(text + 19, 'x', n);
	memcpy(text + 19 + n, "\n", 2);
	parse_fails(text, RC ":2: line longer than 65536 bytes",
	    "line too long");
	memcpy(text + 19 + 60000, "\n", 2);
	ok(parse(&c, text, &err) == 0 && c.accounts != NULL &&
	    strlen(c.accounts->password) == 60000, "60000-byte value");
	config_release(&c);
	free(text);
}

static void
test_nul(void)
{
	static const char text[] = "account a\nhost h\0st\nport 25\n";
	struct config c;
	struct error err;

	ok(parse_mem(&c, text, sizeof(text) - 1, &err) == -1,
	    "NUL byte refused");
	is_str(err.message, RC ":2: NUL byte in line", "NUL: message");
	config_release(&c);
	ok(parse_mem(&c, "# \0 in a comment\n", 17, &err) == -1,
	    "NUL in a comment refused too");
	config_release(&c);
	ok(parse_mem(&c, "account a\nhost h", 16, &err) == 0 &&
	    strcmp(c.accounts->host, "h") == 0, "last line without newline");
	config_release(&c);
}

/* ---------------------------------------------------------------- files */

static void
test_permissions(void)
{
	static const char secret[] = "account a\nhost h\npassword s3cret\n";
	static const char open_rc[] = "account a\nhost h\n";
	char *path = tmp_path("rc"), *want, *nul = tmp_path("nul");
	struct config c;
	struct error err;

	write_file(path, secret, sizeof(secret) - 1, 0644);
	config_init(&c);
	ok(config_load(&c, path, &err) == -1 && err.kind == ERR_CONFIG,
	    "password in a 0644 file refused");
	want = xasprintf("%s: contains a password but is readable by others; "
	    "run: chmod 600 '%s'", path, path);
	is_str(err.message, want, "0644: message");
	free(want);
	ok(c.accounts == NULL, "0644: nothing kept");
	chmod(path, 0640);
	ok(config_load(&c, path, &err) == -1, "0640 refused too");
	config_release(&c);
	chmod(path, 0600);
	ok(config_load(&c, path, &err) == 0, "0600 accepted");
	ok(c.private_file, "0600: private_file");
	is_str(c.path, path, "path recorded");
	is_str(c.accounts ? c.accounts->file : NULL, path, "account file");
	config_release(&c);

	if (geteuid() == 0) {
		(void)!chown(path, 65534, 65534);
		ok(config_load(&c, path, &err) == -1, "file of another user "
		    "refused");
		ok(strstr(err.message, "contains a password but is owned by "
		    "another user") != NULL, "owner: message");
		config_release(&c);
		(void)!chown(path, 0, 0);
	} else {
		ok(1, "file of another user refused # SKIP not root");
		ok(1, "owner: message # SKIP not root");
	}

	write_file(path, open_rc, sizeof(open_rc) - 1, 0644);
	ok(config_load(&c, path, &err) == 0, "no password: 0644 is fine");
	ok(!c.private_file, "0644: not private");
	config_release(&c);

	write_file(nul, "account a\nhost h\0\n", 18, 0600);
	ok(config_load(&c, nul, &err) == -1, "real file with NUL refused");
	want = xasprintf("%s:2: NUL byte in line", nul);
	is_str(err.message, want, "real file with NUL: message");
	free(want);
	config_release(&c);

	ok(config_load(&c, tmpdir, &err) == -1, "a directory is refused");
	unlink(nul);
	unlink(path);
	ok(config_load(&c, path, &err) == -1 && err.kind == ERR_CONFIG,
	    "-C missing file");
	want = xasprintf("cannot open '%s': No such file or directory", path);
	is_str(err.message, want, "-C missing file: message");
	free(want);
	free(nul);
	free(path);
}

static void
mkdir_p(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
	mkdir(p, 0700);
	free(p);
}

static const char *
loaded_host(const char *desc)
{
	static char host[64];
	struct config c;
	struct error err;

	config_init(&c);
	if (config_load(&c, NULL, &err) < 0) {
		printf("#   %s: %s\n", desc, err.message);
		return NULL;
	}
	util_strlcpy(host, c.accounts && c.accounts->host ?
	    c.accounts->host : "", sizeof(host));
	config_release(&c);
	return host;
}

static void
test_lookup(void)
{
	char *xdg = tmp_path("xdg"), *home = tmp_path("home");
	char *xdgrc = tmp_path("xdg/yubin/config");
	char *homerc = tmp_path("home/.yubinrc");
	char *dotcfg = tmp_path("home/.config/yubin/config");
	char *want;
	struct config c;
	struct error err;

	mkdir_p(xdg);
	mkdir_p(home);
	mkdir_p(xdgrc);
	rmdir(xdgrc);
	mkdir_p(dotcfg);
	rmdir(dotcfg);
	write_file(xdgrc, "account x\nhost xdg\n", 19, 0600);
	write_file(homerc, "account x\nhost yubinrc\n", 23, 0600);
	write_file(dotcfg, "account x\nhost dotconfig\n", 25, 0600);
	setenv("HOME", home, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	is_str(loaded_host("xdg"), "xdg", "$XDG_CONFIG_HOME/yubin/config "
	    "first");
	unsetenv("XDG_CONFIG_HOME");
	is_str(loaded_host("dotconfig"), "dotconfig",
	    "no XDG_CONFIG_HOME: ~/.config/yubin/config");
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	is_str(loaded_host("relative"), "dotconfig",
	    "relative XDG_CONFIG_HOME ignored");
	setenv("XDG_CONFIG_HOME", xdg, 1);
	unlink(xdgrc);
	is_str(loaded_host("yubinrc"), "yubinrc", "then ~/.yubinrc");
	unlink(homerc);
	unlink(dotcfg);
	config_init(&c);
	unsetenv("SMTPSERVER");
	if (access(SYSCONFDIR "/yubinrc", F_OK) == 0 ||
	    access(MSMTP_SYSCONFDIR "/msmtprc", F_OK) == 0) {
		ok(1, "nothing found # SKIP a system file exists");
		ok(1, "nothing found: message # SKIP");
	} else {
		ok(config_load(&c, NULL, &err) == -1 && err.kind == ERR_CONFIG,
		    "nothing found");
		want = xasprintf("no configuration file found (tried '%s', "
		    "'%s', '" SYSCONFDIR "/yubinrc', '%s/.msmtprc', "
		    "'%s/msmtp/config', '" MSMTP_SYSCONFDIR "/msmtprc'); "
		    "write one (see 'man yubinrc')", xdgrc, homerc, home, xdg);
		is_str(err.message, want, "nothing found: message");
		free(want);
	}
	write_file(xdgrc, "account x\nhost h\npassword p\n", 28, 0604);
	ok(config_load(&c, NULL, &err) == -1 &&
	    strstr(err.message, "readable by others") != NULL,
	    "found file is checked too");
	config_release(&c);
	unlink(xdgrc);
	tmp_rmdir("xdg/yubin");
	free(xdg);
	free(home);
	free(xdgrc);
	free(homerc);
	free(dotcfg);
}

/* Load with path (NULL: the lookup); the host of account name, or err. */
static void
write_str(const char *path, const char *s, mode_t mode)
{
	write_file(path, s, strlen(s), mode);
}

static const char *
host_of(const char *path, const char *name, char *buf, size_t size)
{
	struct config c;
	struct error err;
	const struct account_conf *a;

	config_init(&c);
	error_init(&err);
	if (config_load(&c, path, &err) < 0) {
		util_strlcpy(buf, err.message, size);
		return buf;
	}
	a = config_find(&c, name);
	util_strlcpy(buf, a == NULL ? "(none)" : a->host != NULL ? a->host :
	    "(no host)", size);
	config_release(&c);
	return buf;
}

static void
test_msmtp_lookup(void)
{
	char *home = tmp_path("mhome"), *xdg = tmp_path("mxdg");
	char *rc = tmp_path("mhome/.msmtprc");
	char *xrc = tmp_path("mxdg/msmtp/config");
	char buf[512];

	mkdir_p(rc);
	rmdir(rc);
	mkdir_p(xrc);
	rmdir(xrc);
	setenv("HOME", home, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	unsetenv("SMTPSERVER");
	if (access(SYSCONFDIR "/yubinrc", F_OK) == 0 ||
	    access(MSMTP_SYSCONFDIR "/msmtprc", F_OK) == 0)
		for (int i = 0; i < 3; i++)
			ok(1, "msmtp lookup # SKIP a system file exists");
	else {
		write_str(xrc, "account a\nhost xdgmsmtp\n", 0600);
		is_str(host_of(NULL, "a", buf, sizeof(buf)), "xdgmsmtp",
		    "$XDG_CONFIG_HOME/msmtp/config");
		write_str(rc, "account a\nhost dotmsmtprc\n", 0600);
		is_str(host_of(NULL, "a", buf, sizeof(buf)), "dotmsmtprc",
		    "~/.msmtprc before the XDG file");
		setenv("SMTPSERVER", "envhost", 1);
		is_str(host_of(NULL, "default", buf, sizeof(buf)), "envhost",
		    "SMTPSERVER: an account default");
		unsetenv("SMTPSERVER");
	}
	unlink(rc);
	unlink(xrc);
	tmp_rmdir("mxdg/msmtp");
	tmp_rmdir("mxdg");
	tmp_rmdir("mhome");
	free(home);
	free(xdg);
	free(rc);
	free(xrc);
}

/* The system file merged with the user's (msmtp). */
static void
test_msmtp_merge(void)
{
	char *sys = tmp_path("msys"), *user = tmp_path("muser");
	char *none = tmp_path("nothing");
	char *paths[2] = { none, user };
	struct config c;
	struct error err;
	const struct account_conf *a;

	write_str(sys, "account default\nhost sysdef\naccount both\nhost "
	    "sysboth\naccount s\nhost sonly\n", 0644);
	write_str(user, "account both\nhost userboth\n", 0600);
	config_init(&c);
	ok(config_load_msmtp(&c, sys, paths, 2, &err) == 1, "merged");
	is_str(c.path, user, "path: the user file");
	is_str(c.system_path, sys, "system_path");
	a = config_find(&c, "both");
	is_str(a ? a->host : NULL, "userboth", "the user's account wins");
	a = config_find(&c, "s");
	is_str(a ? a->host : NULL, "sonly", "system account kept");
	a = config_find(&c, "default");
	is_str(a ? a->host : NULL, "sysdef", "system default kept");
	is_str(c.accounts ? c.accounts->name : NULL, "both",
	    "the user's accounts first");
	config_release(&c);
	paths[1] = none;
	ok(config_load_msmtp(&c, sys, paths, 2, &err) == 1 &&
	    c.system_path == NULL && c.path != NULL && strcmp(c.path, sys) == 0,
	    "system file alone");
	config_release(&c);
	ok(config_load_msmtp(&c, none, paths, 2, &err) == 0 &&
	    c.accounts == NULL, "neither: 0");
	write_str(sys, "account s\nhost h\npassword x\n", 0644);
	paths[1] = user;
	ok(config_load_msmtp(&c, sys, paths, 2, &err) == -1 &&
	    strstr(err.message, "readable by others") != NULL,
	    "system file checked as any");
	ok(c.accounts == NULL, "nothing kept");
	unlink(sys);
	unlink(user);
	free(sys);
	free(user);
	free(none);
}

static void
test_eval(void)
{
	char *path = tmp_path("evalrc"), *want;
	static const char text[] = "defaults\neval echo port 2525\n"
	    "account a\neval printf 'host evalhost\\nhost no\\n'; exit 3\n";
	char buf[256];
	struct config c;
	struct error err;

	write_str(path, text, 0600);
	config_init(&c);
	ok(config_load(&c, path, &err) == 0, "eval in a file");
	ok(c.accounts != NULL && c.accounts->port == 2525 &&
	    strcmp(c.accounts->host, "evalhost") == 0,
	    "eval: the first line, whatever the exit status");
	config_release(&c);
	chmod(path, 0622);
	want = xasprintf("%s: can run commands (eval) but others may write "
	    "to it; run: chmod go-w '%s'", path, path);
	is_str(host_of(path, "a", buf, sizeof(buf)), want,
	    "eval in a file others may write");
	free(want);
	write_str(path, "eval true\n", 0600);
	want = xasprintf("%s:1: eval 'true' printed nothing (exit status 0)",
	    path);
	is_str(host_of(path, "a", buf, sizeof(buf)), want, "no output");
	free(want);
	write_str(path, "eval echo eval x\n", 0600);
	want = xasprintf("%s:1: the output of eval is another eval", path);
	is_str(host_of(path, "a", buf, sizeof(buf)), want, "eval of eval");
	free(want);
	unlink(path);
	free(path);
}

/* msmtp's command-line keys: every account, checked as in a file. */
static void
test_config_set(void)
{
	struct config c;
	struct error err;

	ok(parse(&c, "defaults\nport 25\naccount a\nhost h\naccount b\n"
	    "host i\n", &err) == 0, "config_set: file");
	ok(config_set(&c, "--port", "port", "2525", &err) == 0 &&
	    c.accounts->port == 2525 && c.accounts->next->port == 2525,
	    "--port in every account");
	ok(config_set(&c, "--tls", "tls", "", &err) == 0 &&
	    config_isset(c.accounts, CONF_TLS) && c.accounts->tls,
	    "--tls alone: on, and written");
	ok(config_set(&c, "--user", "user", "", &err) == 0 &&
	    c.accounts->user == NULL, "--user= unsets");
	ok(config_set(&c, "--port", "port", "x", &err) == -1 &&
	    err.kind == ERR_CONFIG, "bad value: 78");
	is_str(err.message, "option '--port': invalid value 'x' for 'port' "
	    "(expected 1-65535)", "bad value: message");
	ok(config_set(&c, "--socket", "socket", "/s", &err) == 0 &&
	    strcmp(c.accounts->socket, "/s") == 0, "--socket as in a file");
	config_release(&c);
	config_init(&c);
	ok(config_cmdline(&c, &err) == 0 && c.accounts != NULL &&
	    strcmp(c.accounts->name, "cmdline") == 0 &&
	    c.accounts->next == NULL && c.path == NULL,
	    "--host: one account 'cmdline', no file");
	config_release(&c);
}

/* ---------------------------------------------------------------- account */

static void
test_defaults(void)
{
	struct config c;
	struct account a;
	struct error err;

	ok(finish(&c, "account a\nhost h\n", NULL, &a, &err) == 0,
	    "only account selected");
	is_int(a.tls, ACCOUNT_TLS_STARTTLS, "nothing set: STARTTLS");
	is_int(a.port, 587, "nothing set: port 587");
	ok(!a.auth, "no user: no auth");
	is_int(a.timeout_ms, 60000, "timeout 60 s");
	is_str(a.domain, "localhost", "domain localhost");
	ok(a.tlscfg.certcheck && a.tlscfg.trust_file == NULL &&
	    a.tlscfg.fingerprint == NULL, "system trust store, checked");
	is_str(a.tlscfg.host, "h", "TLS host is host");
	is_str(a.name, "a", "name");
	ok(a.from == NULL && a.logfile == NULL, "no from, no logfile");
	config_release(&c);

	ok(finish(&c, "account a\nhost h\nport 587\n", NULL, &a, &err) == 0 &&
	    a.tls == ACCOUNT_TLS_STARTTLS && a.port == 587,
	    "port 587: STARTTLS");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\nport 465\n", NULL, &a, &err) == 0 &&
	    a.tls == ACCOUNT_TLS_IMPLICIT && a.port == 465,
	    "port 465: implicit TLS");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\nport 465\ntls_starttls\n", NULL, &a,
	    &err) == 0 && a.tls == ACCOUNT_TLS_STARTTLS,
	    "port 465 + tls_starttls on: STARTTLS as written");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\ntls_starttls off\n", NULL, &a,
	    &err) == 0 && a.tls == ACCOUNT_TLS_IMPLICIT && a.port == 465,
	    "tls_starttls off: implicit on 465");
	config_release(&c);
	ok(finish(&c, "defaults\ntls_starttls off\naccount a\nhost h\nport "
	    "2465\n", NULL, &a, &err) == 0 && a.tls == ACCOUNT_TLS_IMPLICIT &&
	    a.port == 2465, "tls_starttls off from defaults");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\ntls_nostarttls\n", NULL, &a,
	    &err) == 0 && a.tls == ACCOUNT_TLS_IMPLICIT,
	    "old tls_nostarttls");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\ntls off\n", NULL, &a, &err) == 0 &&
	    a.tls == ACCOUNT_TLS_OFF && a.port == 25, "tls off: port 25");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\ntls\n", NULL, &a, &err) == 0 &&
	    a.tls == ACCOUNT_TLS_STARTTLS, "empty tls value means on");
	config_release(&c);
}

static void
test_defaults_auth(void)
{
	struct config c;
	struct account a;
	struct error err;

	ok(finish(&c, "account a\nhost h\nuser u\n", NULL, &a, &err) == 0 &&
	    a.auth && a.auth_mech == NULL, "user: auth auto");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\nuser u\nauth off\n", NULL, &a,
	    &err) == 0 && !a.auth, "auth off");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\nuser u\nauth cram-md5\n", NULL, &a,
	    &err) == 0 && a.auth, "auth cram-md5");
	is_str(a.auth_mech, "CRAM-MD5", "method upper-cased");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\nuser u\nauth SCRAM-sha-256-PLUS\n",
	    NULL, &a, &err) == 0, "method names in any case");
	is_str(a.auth_mech, "SCRAM-SHA-256-PLUS", "scram plus");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\nauth external\ntls_cert_file c\n"
	    "tls_key_file k\n", NULL, &a, &err) == 0 && a.auth,
	    "external needs no user");
	is_str(a.tlscfg.cert_file, "c", "client certificate");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\ntls off\nuser u\nauth on\n", NULL, &a,
	    &err) == 0 && a.auth && a.tls == ACCOUNT_TLS_OFF,
	    "auth on with tls off written");
	config_release(&c);
}

static void
test_defaults_other(void)
{
	struct config c;
	struct account a;
	struct error err;

	ok(finish(&c, "account a\nhost h\ntimeout off\n", NULL, &a,
	    &err) == 0 && a.timeout_ms == 0, "timeout off: 0");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\nconnect_timeout 5\n", NULL, &a,
	    &err) == 0 && a.timeout_ms == 5000, "connect_timeout 5");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\ntls_host_override x\n"
	    "tls_trust_file system\ntls_certcheck off\ndomain d\nfrom f@x\n"
	    "logfile /l\n", NULL, &a, &err) == 0, "other settings");
	ok(strcmp(a.tlscfg.host, "x") == 0 && a.tlscfg.trust_file == NULL &&
	    !a.tlscfg.certcheck && strcmp(a.domain, "d") == 0 &&
	    strcmp(a.from, "f@x") == 0 && strcmp(a.logfile, "/l") == 0,
	    "other settings: values");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\ntls_nocertcheck\n", NULL, &a,
	    &err) == 0 && !a.tlscfg.certcheck, "old tls_nocertcheck");
	config_release(&c);
	ok(finish(&c, "account a\nhost h\ntls_trust_file\ntls_fingerprint "
	    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67\n",
	    NULL, &a, &err) == 0 && a.tlscfg.fingerprint != NULL,
	    "empty trust file + fingerprint");
	config_release(&c);
}

/* socket, proxy_*, source_ip: the account's route, and what is refused. */
static void
test_route(void)
{
	struct config c;
	struct account a;
	struct error err;

	ok(finish(&c, "account a\nhost smtp.example.org\nproxy_host tor\n"
	    "proxy_port 9050\nproxy_user u\nproxy_password p\n"
	    "source_ip 192.0.2.1\n", NULL, &a, &err) == 0 &&
	    strcmp(a.route.proxy_host, "tor") == 0 &&
	    a.route.proxy_port == 9050 &&
	    strcmp(a.route.proxy_user, "u") == 0 &&
	    strcmp(a.route.proxy_password, "p") == 0 &&
	    strcmp(a.route.source_ip, "192.0.2.1") == 0 &&
	    a.route.socket == NULL, "proxy and source_ip: the route");
	config_release(&c);
	ok(finish(&c, "account a\nsocket /run/s\ntls off\n", NULL, &a,
	    &err) == 0 && strcmp(a.route.socket, "/run/s") == 0 &&
	    strcmp(a.host, "/run/s") == 0 && a.route.proxy_host == NULL,
	    "socket without host (tls off)");
	config_release(&c);
	finish_fails("account a\nsocket /run/s\n", "account 'a' (" RC ":1): "
	    "with 'socket', the server's certificate needs a name to be "
	    "checked against: set 'host' (or tls_host_override), "
	    "tls_fingerprint, or 'tls off'", "socket, TLS, no name");
	finish_fails("account a\nhost h\nsocket /s\nproxy_host p\n",
	    "account 'a' (" RC ":1): 'socket' and 'proxy_host' cannot be "
	    "used together", "socket and proxy");
	finish_fails("account a\nhost h\nproxy_host p\nproxy_user u\n",
	    "account 'a' (" RC ":1): proxy_user and proxy_password must be "
	    "given together", "proxy_user alone");
}

static void
test_account_errors(void)
{
	finish_fails("account a\nhost h\nauth on\n",
	    "account 'a' (" RC ":1): auth is on but no 'user' is given",
	    "auth on without user");
	finish_fails("defaults\nauth plain\naccount a\nhost h\n",
	    "account 'a' (" RC ":3): auth is PLAIN but no 'user' is given",
	    "auth plain without user");
	finish_fails("account a\nhost h\nuser u\nauth ntlm\n",
	    "account 'a' (" RC ":1): auth method 'ntlm' is not supported",
	    "ntlm");
	finish_fails("account a\nhost h\nuser u\nauth foo\n",
	    "account 'a' (" RC ":1): unknown auth method 'foo'",
	    "unknown method");
	finish_fails("account a\nport 25\n",
	    "account 'a' (" RC ":1): no 'host' given", "no host");
	finish_fails("account a\nhost h\ntls_cert_file c\n",
	    "account 'a' (" RC ":1): tls_cert_file and tls_key_file must be "
	    "given together", "cert without key");
	finish_fails("account a\nhost h\ntls_trust_file\n",
	    "account 'a' (" RC ":1): tls_trust_file is empty, so no "
	    "certificate would be trusted; set tls_fingerprint, or a CA file",
	    "empty trust file");
	finish_fails("account a\nhost h\naccount b\nhost b\n",
	    "no account given with -a and no 'account default : NAME' in " RC,
	    "two accounts, no default");
}

static void
test_select(void)
{
	struct config c;
	struct account a;
	struct account_conf work = { .name = (char *)"work",
	    .host = (char *)"w", .set = 1UL << CONF_HOST };
	struct account_conf other = { .name = (char *)"other",
	    .host = (char *)"o", .set = 1UL << CONF_HOST, .next = &work };
	struct error err;

	ok(finish(&c, "account a\nhost a\naccount default\nhost d\n", NULL, &a,
	    &err) == 0 && strcmp(a.host, "d") == 0,
	    "account literally named default");
	config_release(&c);
	ok(finish(&c, "account a\nhost a\naccount default : a\nport 2525\n",
	    NULL, &a, &err) == 0 && strcmp(a.host, "a") == 0 &&
	    a.port == 2525, "keys after 'account default : a' apply");
	config_release(&c);
	ok(finish(&c, "account a\nhost a\naccount b\nhost b\naccount default "
	    ": a, b\n", NULL, &a, &err) == 0 && strcmp(a.host, "b") == 0,
	    "account default : a, b");
	ok(c.default_name == NULL, "no single default_name then");
	config_release(&c);
	ok(parse(&c, "\n# nothing\n", &err) == 0 && c.accounts == NULL,
	    "file without accounts");
	ok(account_select(&c, NULL, &a, &err) == -1, "no account: refused");
	is_str(err.message, "no account defined in " RC, "no account: message");
	config_release(&c);

	config_init(&c);
	c.accounts = &other;
	c.default_name = (char *)"work";
	ok(config_find(&c, "default") == &work,
	    "config_find(default) through default_name");
	ok(account_select(&c, NULL, &a, &err) == 0 &&
	    strcmp(a.name, "work") == 0, "hand-made config: default_name");
	ok(account_select(&c, "other", &a, &err) == 0 &&
	    strcmp(a.host, "o") == 0, "-a other");
	c.default_name = NULL;
	ok(account_select(&c, NULL, &a, &err) == -1, "no default");
	is_str(err.message, "no account given with -a and no 'account "
	    "default : NAME' in the configuration", "no default: message");
	c.accounts = NULL;
	ok(account_select(&c, NULL, &a, &err) == -1, "no accounts");
	is_str(err.message, "no account defined in the configuration",
	    "no accounts: message");
	ok(account_finish(&work, &a, &err) == 0 && a.port == 587,
	    "account_finish on a hand-made conf");
}

/* ---------------------------------------------------------------- fuzz */

static void
fuzz_one(const char *buf, size_t len, int *crashes, int *badmsg)
{
	struct config c;
	struct account a;
	struct error err;
	int rc = parse_mem(&c, buf, len, &err);

	if (rc != 0 && rc != -1)
		(*crashes)++;
	if (rc == -1 && strncmp(err.message, RC ":", 3) != 0)
		(*badmsg)++;
	if (rc == 0 && c.accounts != NULL)
		(void)account_finish(c.accounts, &a, &err);
	config_release(&c);
}

static void
test_random(void)
{
	static const char *const prefixes[] = {
		"", "", "host ", "account ", "tls_fingerprint ", "port ",
		"timeout ", "auth ", "account a : ", "\"", "password \"",
	};
	char line[512];
	struct dynbuf all;
	int crashes = 0, badmsg = 0;

	test_rng_seed(TEST_RNG_SEED);
	dynbuf_init(&all, 1 << 20);
	dynbuf_addstr(&all, "account fuzz\nhost h\n");
	for (int i = 0; i < 1000; i++) {
		const char *pre = prefixes[test_rng_below(
		    ARRAY_SIZE(prefixes))];
		size_t n = strlen(pre), len = n + test_rng_below(200);

		memcpy(line, pre, n);
		for (size_t j = n; j < len; j++)
			line[j] = (char)(1 + test_rng_below(255));
		fuzz_one(line, len, &crashes, &badmsg);
		line[len] = '\n';
		dynbuf_add(&all, line, len + 1);
	}
	is_int(crashes, 0, "1000 random lines: only 0 or -1");
	is_int(badmsg, 0, "1000 random lines: errors say file:line");
	fuzz_one(all.data, all.len, &crashes, &badmsg);
	ok(crashes == 0 && badmsg == 0, "all random lines in one file");
	dynbuf_release(&all);
	for (int i = 0; i < 200; i++) {
		size_t len = test_rng_below(400);

		for (size_t j = 0; j < len; j++)
			line[j] = (char)test_rng_below(256);
		fuzz_one(line, len, &crashes, &badmsg);
	}
	ok(crashes == 0 && badmsg == 0, "200 random blocks with NULs");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	unsetenv("XDG_CONFIG_HOME");
	test_realworld();
	test_inheritance();
	test_values();
	test_crlf();
	test_errors();
	test_refused();
	test_ignored();
	test_message_keys();
	test_lmtp_crl();
	test_select_by_from();
	test_fingerprints();
	test_tls_precedence();
	test_substitutions();
	test_conffield_each();
	test_implicit_default();
	test_long_lines();
	test_nul();
	test_permissions();
	test_lookup();
	test_msmtp_lookup();
	test_msmtp_merge();
	test_eval();
	test_config_set();
	test_defaults();
	test_defaults_auth();
	test_defaults_other();
	test_account_errors();
	test_route();
	test_select();
	test_random();
	tmp_rmdir("xdg");
	tmp_rmdir("home/.config/yubin");
	tmp_rmdir("home/.config");
	tmp_rmdir("home");
	rmdir(tmpdir);
	return done_testing();
}
