/*
 * test-password.c -- password_get(): "password" from the config, then
 * "passwordeval" (first line of its output, exit status, signals, empty
 * output, stdin, environment, huge output), and the "nothing configured"
 * message.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "config.h"
#include "error.h"
#include "password.h"
#include "tap.h"
#include "util.h"

static struct account_conf conf;
static struct account acct;

static void
setup(char *password, char *passwordeval)
{
	memset(&conf, 0, sizeof(conf));
	memset(&acct, 0, sizeof(acct));
	conf.name = (char *)"work";
	conf.user = (char *)"alice";
	conf.file = (char *)"/home/alice/.config/yubin/config";
	conf.line = 3;
	conf.password = password;
	conf.passwordeval = passwordeval;
	acct.conf = &conf;
	acct.name = "work";
	acct.user = "alice";
}

static void
pw_is(const char *want, const char *name)
{
	struct error err;
	char *pw = (char *)"(unset)";
	int r;

	error_init(&err);
	r = password_get(&acct, &pw, &err);
	if (!ok(r == 0 && pw != NULL && strcmp(pw, want) == 0, "%s", name))
		printf("#   r=%d pw '%s' err '%s'\n", r, r == 0 ? pw : "",
		    err.message);
	if (r == 0)
		util_free_secret(pw);
}

static void
pw_fails(const char *want_text, const char *name)
{
	struct error err;
	char *pw = (char *)"(unset)";
	int r;

	error_init(&err);
	r = password_get(&acct, &pw, &err);
	if (!ok(r == -1 && pw == NULL && err.kind == ERR_AUTH &&
	    strstr(err.message, want_text) != NULL, "%s", name))
		printf("#   r=%d kind %d err '%s', want '%s'\n", r, err.kind,
		    err.message, want_text);
	else
		printf("#   %s\n", err.message);
	if (r == 0)
		util_free_secret(pw);
}

int
main(void)
{
	setup((char *)"s3cret", NULL);
	pw_is("s3cret", "password from the config");
	setup((char *)"s3cret", (char *)"echo from-eval");
	pw_is("s3cret", "password comes before passwordeval");

	setup(NULL, (char *)"printf 'pw\\nsecond'");
	pw_is("pw", "passwordeval: first line");
	setup(NULL, (char *)"printf 'p w \\r\\n'");
	pw_is("p w ", "passwordeval: CRLF stripped, spaces kept");
	setup(NULL, (char *)"printf 'pw'");
	pw_is("pw", "passwordeval: no final newline");
	setup(NULL, (char *)"printf 'p\\303\\244ssw\\303\\266rd\\n'");
	pw_is("p\xc3\xa4ssw\xc3\xb6rd", "passwordeval: UTF-8 password");
	setup(NULL, (char *)"read x; echo \"got$x\"");
	pw_is("got", "passwordeval: stdin is /dev/null");
	setenv("YUBIN_TEST_SECRET", "from-env", 1);
	setup(NULL, (char *)"echo \"$YUBIN_TEST_SECRET\"");
	pw_is("from-env", "passwordeval: environment inherited");
	setup(NULL, (char *)"echo pw; head -c 300000 /dev/zero");
	pw_is("pw", "passwordeval: long output after the first line drained");
	setup(NULL, (char *)"echo warn >&2; echo pw");
	pw_is("pw", "passwordeval: stderr passed through");

	setup(NULL, (char *)"exit 3");
	pw_fails("exited with status 3", "passwordeval: exit 3");
	setup(NULL, (char *)"echo pw; exit 1");
	pw_fails("passwordeval for account 'work' exited with status 1",
	    "passwordeval: output but exit 1");
	setup(NULL, (char *)"true");
	pw_fails("printed no password", "passwordeval: no output");
	setup(NULL, (char *)"echo; echo pw");
	pw_fails("printed no password", "passwordeval: empty first line");
	setup(NULL, (char *)"kill -9 $$");
	pw_fails("killed by signal 9", "passwordeval: killed");
	setup(NULL, (char *)"/nonexistent/yubin-pw-helper");
	pw_fails("status 127", "passwordeval: command not found");
	setup(NULL, (char *)"head -c 300000 /dev/zero | tr '\\0' a");
	pw_fails("longer than", "passwordeval: one huge line");

	setup(NULL, NULL);
	pw_fails("no password for account 'work' (user 'alice')",
	    "nothing configured");
	pw_fails("tried password, passwordeval",
	    "... the message lists what was tried");
	pw_fails("set 'passwordeval' or 'password' in "
	    "/home/alice/.config/yubin/config", "... and how to fix it");
	return done_testing();
}
