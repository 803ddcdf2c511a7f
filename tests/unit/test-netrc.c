/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-netrc.c -- the netrc parser (machine/default/login/password/account/
 * macdef, quoting, comments, matching rules, syntax errors) and the file
 * checks of netrc_lookup() (missing file, permissions, not a file) and
 * netrc_path() ($NETRC, $HOME).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "netrc.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/yubin-test-netrc.XXXXXX";

/* Search text for host/user: the password, "(none)" or "(error) msg". */
static void
finds(const char *text, const char *host, const char *user,
    const char *want, const char *name)
{
	struct error err;
	char *pw = NULL;
	char got[ERROR_MSG_MAX + 16];
	int r;

	error_init(&err);
	r = netrc_search(text, strlen(text), "netrc", host, user, &pw, &err);
	if (r == 1)
		snprintf(got, sizeof(got), "%s", pw);
	else if (r == 0)
		snprintf(got, sizeof(got), "(none)");
	else
		snprintf(got, sizeof(got), "(error %d) %s", err.kind,
		    err.message);
	is_str(got, want, "%s", name);
	ok((r == 1) == (pw != NULL), "... password set only when found");
	util_free_secret(pw);
}

static const char basic[] =
    "machine mail.example.org login bob password bobpw\n"
    "machine mail.example.org\n"
    "\tlogin alice\n"
    "\tpassword alicepw\n"
    "machine other.example.org login alice password otherpw\n"
    "default login alice password defaultpw\n";

static void
test_matching(void)
{
	finds(basic, "mail.example.org", "alice", "alicepw",
	    "second entry of the same machine (login differs in the first)");
	finds(basic, "mail.example.org", "bob", "bobpw", "first entry");
	finds(basic, "MAIL.Example.ORG", "bob", "bobpw",
	    "host compared without case");
	finds(basic, "mail.example.org", "Bob", "(none)",
	    "login compared exactly (no default for Bob)");
	finds(basic, "other.example.org", "alice", "otherpw",
	    "another machine");
	finds(basic, "unknown.example.org", "alice", "defaultpw",
	    "default when no machine matches");
	finds(basic, "unknown.example.org", "carol", "(none)",
	    "default has a login too");
	finds("default login alice password d\n"
	    "machine h login alice password m\n", "h", "alice", "m",
	    "a machine entry wins over an earlier default");
	finds("machine h password anyuser\n", "h", "whoever", "anyuser",
	    "entry without login matches any user (ftp)");
	finds("machine h login alice\nmachine h login alice password p2\n",
	    "h", "alice", "p2", "entry without password does not match");
	finds("password p login alice machine h\n", "h", "alice", "(none)",
	    "keywords before any machine belong to no entry");
	finds("machine h password p login alice account acct\n", "h",
	    "alice", "p", "keywords in any order; account ignored");
	finds("machine h login alice password p1 password p2\n", "h",
	    "alice", "p2", "the last password of an entry counts");
	finds("machine h login alice port 25 password p\n", "h", "alice",
	    "p", "unknown keywords are ignored");
	finds("", "h", "alice", "(none)", "empty file");
	finds("\n\n   \n", "h", "alice", "(none)", "blank file");
	finds("machine h login alice password p", "h", "alice", "p",
	    "no final newline");
	finds("machine h\r\nlogin alice\r\npassword p\r\n", "h", "alice", "p",
	    "CRLF line ends");
	finds("machine h login alice password p\xc3\xa4ss\n", "h", "alice",
	    "p\xc3\xa4ss", "UTF-8 password");
}

static void
test_tokens(void)
{
	finds("machine h login alice password \"two words\"\n", "h", "alice",
	    "two words", "quoted password with a blank");
	finds("machine h login alice password \"q\\\"uo\\\\te\"\n", "h",
	    "alice", "q\"uo\\te", "\\\" and \\\\ escapes");
	finds("machine h login alice password \"a\\tb\\nc\"\n", "h", "alice",
	    "a\tb\nc", "\\t and \\n escapes");
	finds("machine h login alice password \"\"\n", "h", "alice", "",
	    "empty quoted password");
	finds("machine \"h\" login \"alice\" password p\n", "h", "alice", "p",
	    "quoted machine and login");
	finds("machine h login alice password #notacomment\n", "h", "alice",
	    "#notacomment", "a value may start with #");
	finds("# a comment: machine h login alice password no\n"
	    "machine h login alice password yes # trailing\n", "h", "alice",
	    "yes", "comments (curl)");
}

static void
test_macdef(void)
{
	finds("macdef init\n"
	    "machine h login alice password inmacro\n"
	    "cd /pub\n"
	    "\n"
	    "machine h login alice password real\n", "h", "alice", "real",
	    "macdef body skipped up to the empty line");
	finds("machine h login alice password p macdef m\n"
	    "bin\n\n", "h", "alice", "p", "macdef ends the entry before it");
	finds("macdef m\n\nmachine h login alice password p\n", "h", "alice",
	    "p", "empty macdef body");
	finds("macdef m\r\nput x\r\n\r\nmachine h login alice password p\r\n",
	    "h", "alice", "p", "macdef with CRLF lines");
	finds("machine h login alice password p\nmacdef m\nls\n", "h",
	    "alice", "p", "macdef at the end without an empty line");
	finds("macdef m\nmachine h login alice password p\n", "h", "alice",
	    "(none)", "everything after an unterminated macdef is its body");
}

static void
test_errors(void)
{
	finds("machine h login alice\npassword \"open\n\n", "h", "alice",
	    "(error 12) netrc:2: unterminated quoted string",
	    "unterminated quote: error with the line");
	finds("machine h login alice password", "h", "alice",
	    "(error 12) netrc:1: 'password' without a value",
	    "keyword without a value");
	finds("machine", "h", "alice",
	    "(error 12) netrc:1: 'machine' without a value",
	    "machine without a name");
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = (ssize_t)strlen(text);

	if (fd == -1 || write(fd, text, (size_t)n) != n)
		bail_out("%s: %s", path, strerror(errno));
	close(fd);
	chmod(path, mode);
}

static int
lookup(const char *path, char **pw, struct error *err)
{
	error_init(err);
	*pw = NULL;
	return netrc_lookup(path, "h", "alice", pw, err);
}

static void
test_files(void)
{
	char path[256], want[512], *pw;
	struct error err;
	int r;

	snprintf(path, sizeof(path), "%s/netrc", dir);
	is_int(lookup(path, &pw, &err), 0, "missing file: nothing found");
	write_file(path, "machine h login alice password filepw\n", 0600);
	r = lookup(path, &pw, &err);
	ok(r == 1 && pw != NULL && strcmp(pw, "filepw") == 0,
	    "private file: found");
	util_free_secret(pw);
	chmod(path, 0644);
	r = lookup(path, &pw, &err);
	ok(r == -1 && pw == NULL && err.kind == ERR_CONFIG &&
	    strstr(err.message, "other users can read it") != NULL &&
	    strstr(err.message, "chmod 600") != NULL,
	    "readable by others and holds the password: refused");
	printf("#   %s\n", err.message);
	chmod(path, 0640);
	is_int(lookup(path, &pw, &err), -1, "readable by the group: refused");
	write_file(path, "machine other login alice password x\n", 0644);
	is_int(lookup(path, &pw, &err), 0,
	    "readable by others without a matching entry: nothing found");
	write_file(path, "machine h login alice password filepw\n", 0600);
	if (geteuid() == 0 && chown(path, 65534, 65534) == 0) {
		is_int(lookup(path, &pw, &err), -1,
		    "another user's file (mode 600): refused");
		snprintf(want, sizeof(want), "'%s' holds the password for "
		    "'alice' at 'h' but is owned by another user (uid 65534); "
		    "it must be owned by you", path);
		is_str(err.message, want, "... the message");
	} else {
		ok(1, "# SKIP another user's file needs root");
		ok(1, "# SKIP another user's file needs root");
	}
	is_int(lookup(dir, &pw, &err), -1, "a directory: error");
	ok(strstr(err.message, "not a regular file") != NULL,
	    "... says so: %s", err.message);
	unlink(path);
}

static void
test_path(void)
{
	char *p;

	setenv("NETRC", "/some/where/netrc", 1);
	p = netrc_path();
	is_str(p, "/some/where/netrc", "$NETRC wins");
	free(p);
	setenv("NETRC", "", 1);
	setenv("HOME", "/home/alice", 1);
	p = netrc_path();
	is_str(p, "/home/alice/.netrc", "empty $NETRC: $HOME/.netrc");
	free(p);
	unsetenv("NETRC");
	p = netrc_path();
	is_str(p, "/home/alice/.netrc", "no $NETRC: $HOME/.netrc");
	free(p);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_matching();
	test_tokens();
	test_macdef();
	test_errors();
	test_files();
	test_path();
	rmdir(dir);
	return done_testing();
}
