/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-log.c -- the -v trace, warnings and the log file line; the one
 * control-character rule (util_control()) under the sanitisers they use.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/yubin-test-log.XXXXXX";
static char errpath[256];
static int saved_stderr;

/* Send stderr to a fresh file. */
static void
capture(void)
{
	int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	fflush(stderr);
	dup2(fd, 2);
	close(fd);
}

/* Restore stderr and return what was written (static buffer). */
static const char *
captured(size_t *len)
{
	static char buf[16384];
	ssize_t n;
	int fd;

	fflush(stderr);
	dup2(saved_stderr, 2);
	fd = open(errpath, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (len != NULL)
		*len = n > 0 ? (size_t)n : 0;
	return buf;
}

static void
proto(char dir, const char *line, size_t len, const char *want,
    const char *name)
{
	capture();
	log_proto(dir, line, len);
	is_str(captured(NULL), want, "%s", name);
}

#define PROTO(d, s, want, name) proto(d, s, sizeof(s) - 1, want, name)

static void
test_proto(void)
{
	char big[2000];
	size_t len;
	const char *out;

	log_set_verbose(0);
	is_int(log_get_verbose(), 0, "verbose 0");
	PROTO('>', "EHLO x", "", "no trace without -v");
	log_set_verbose(1);
	is_int(log_get_verbose(), 1, "verbose 1");
	PROTO('>', "EHLO x", "yubin: --> EHLO x\n", "client line");
	PROTO('<', "250 ok", "yubin: <-- 250 ok\n", "server line");
	PROTO('<', "", "yubin: <-- \n", "empty line shown");
	PROTO('<', "220 \x1b[2Jhi\a", "yubin: <-- 220 \\x1b[2Jhi\\x07\n",
	    "control bytes escaped");
	PROTO('<', "250 a\rb", "yubin: <-- 250 a\\rb\n", "inner CR escaped");
	PROTO('<', "250 a\0b\x7f", "yubin: <-- 250 a\\x00b\\x7f\n",
	    "NUL and DEL escaped");
	PROTO('<', "250 \xc3\xbc", "yubin: <-- 250 \\xc3\\xbc\n",
	    "non-ASCII escaped");
	PROTO('>', "QUIT\r\n", "yubin: --> QUIT\n", "trailing CRLF not shown");
	PROTO('>', "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n",
	    "yubin: --> MAIL FROM:<a@x>\nyubin: --> RCPT TO:<b@y>\n"
	    "yubin: --> DATA\n", "pipelined batch: one trace line each");
	PROTO('>', "A\nB", "yubin: --> A\nyubin: --> B\n", "bare LF splits");

	memset(big, 'x', sizeof(big));
	capture();
	log_proto('<', big, sizeof(big));
	out = captured(&len);
	is_int(len, strlen("yubin: <-- ") + 1000 + 3 + 1, "long line cut");
	ok(len > 5 && memcmp(out + len - 5, "x...\n", 5) == 0,
	    "cut line ends with ...");
}

static void
test_messages(void)
{
	log_set_verbose(0);
	capture();
	log_verbose("connected to %s", "x");
	is_str(captured(NULL), "", "log_verbose silent without -v");
	capture();
	log_warn("disk %s", "full");
	is_str(captured(NULL), "yubin: warning: disk full\n",
	    "log_warn always shown");
	log_set_verbose(1);
	capture();
	log_verbose("connected to %s port %d", "mx", 25);
	is_str(captured(NULL), "yubin: connected to mx port 25\n",
	    "log_verbose with -v");
	capture();
	log_warn("bad \x1b[31m%s", "x\ny\xc2\x9b" "1m");
	is_str(captured(NULL), "yubin: warning: bad \\x1b[31mx\\x0ay"
	    "\\xc2\\x9b1m\n", "control bytes (C0, C1) escaped in warnings");
	log_set_verbose(0);
}

/* -v -v: "[  12.3 ms] " after "yubin: ", the time since the level was set. */
static void
test_timing(void)
{
	const char *out;
	double ms = -1;
	int n = -1;

	log_set_verbose(2);
	capture();
	log_verbose("connected to %s", "mx");
	out = captured(NULL);
	ok(sscanf(out, "yubin: [%lf ms] connected to mx\n%n", &ms, &n) == 1 &&
	    n == (int)strlen(out) && ms >= 0 && ms < 60000 &&
	    strlen(out) > 19 && out[18] == ']',
	    "-v -v notes carry the time, 7 columns wide");
	capture();
	log_proto('>', "EHLO x", 6);
	out = captured(NULL);
	ok(sscanf(out, "yubin: [%lf ms] --> EHLO x\n%n", &ms, &n) == 1 &&
	    n == (int)strlen(out), "-v -v trace lines too");
	capture();
	log_warn("disk %s", "full");
	is_str(captured(NULL), "yubin: warning: disk full\n",
	    "warnings do not");
	log_set_verbose(1);
	capture();
	log_verbose("x");
	is_str(captured(NULL), "yubin: x\n", "-v alone: no time");
	log_set_verbose(0);
}

static char *
slurp(const char *path)
{
	static char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd == -1)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* The line without its "Mmm dd hh:mm:ss " prefix (checked). */
static const char *
body(const char *line)
{
	int okp = strlen(line) > 16 && line[3] == ' ' && line[6] == ' ' &&
	    line[9] == ':' && line[12] == ':' && line[15] == ' ';

	ok(okp, "line starts with a time stamp");
	return okp ? line + 16 : "";
}

static void
test_logfile(void)
{
	char path[300], link[300];
	const char *rcpt[] = { "a@x", "b@y" };
	struct log_record r = {
		.account = "work", .host = "smtp.example.org",
		.tls = "TLS1.3/ECDHE-X25519/AES-256-GCM", .mech = "PLAIN",
		.from = "me@example.org", .rcpt = rcpt, .nrcpt = 2,
		.size = 1234, .reply = "250 2.0.0 Ok: queued as 4Xy",
		.exitcode = EX_OK, .error = NULL,
	};
	struct stat st;
	char *s;

	snprintf(path, sizeof(path), "%s/log", tmpdir);
	is_int(log_message(path, &r), 0, "log_message ok");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "created 0600");
	s = slurp(path);
	is_str(body(s), "host=smtp.example.org tls=on auth=on "
	    "from=me@example.org recipients=a@x,b@y mailsize=1234 "
	    "smtpstatus=250 smtpmsg='250 2.0.0 Ok: queued as 4Xy' "
	    "exitcode=EX_OK account=work "
	    "tlsinfo=TLS1.3/ECDHE-X25519/AES-256-GCM authmech=PLAIN "
	    "size=1234\n", "success line: msmtp's fields, then yubin's");
	r.user = "alice";
	unlink(path);
	is_int(log_message(path, &r), 0, "with a user");
	is_str(body(slurp(path)), "host=smtp.example.org tls=on auth=on "
	    "user=alice from=me@example.org recipients=a@x,b@y mailsize=1234 "
	    "smtpstatus=250 smtpmsg='250 2.0.0 Ok: queued as 4Xy' "
	    "exitcode=EX_OK account=work "
	    "tlsinfo=TLS1.3/ECDHE-X25519/AES-256-GCM authmech=PLAIN "
	    "size=1234\n", "user= after auth=on (msmtp)");

	r.mech = "";
	r.from = "";
	r.nrcpt = 1;
	r.reply = "550 5.1.1 <a@x>: it's \x1b[31mgone\\";
	r.exitcode = EX_NOUSER;
	r.error = "recipient 'a@x' rejected";
	unlink(path);
	is_int(log_message(path, &r), 0, "failure line");
	is_str(body(slurp(path)), "host=smtp.example.org tls=on auth=off "
	    "from='' recipients=a@x smtpstatus=550 "
	    "smtpmsg='550 5.1.1 <a@x>: it\\'s ?[31mgone\\\\' "
	    "errormsg='recipient \\'a@x\\' rejected' exitcode=EX_NOUSER "
	    "account=work tlsinfo=TLS1.3/ECDHE-X25519/AES-256-GCM "
	    "size=1234\n", "failure: no user or mailsize; quoting, escaping, "
	    "sanitising");

	memset(&r, 0, sizeof(r));
	r.exitcode = EX_TEMPFAIL;
	r.error = "cannot connect to 'x' port 587: Connection refused";
	unlink(path);
	is_int(log_message(path, &r), 0, "minimal record");
	is_str(body(slurp(path)), "tls=off auth=off errormsg='cannot connect "
	    "to \\'x\\' port 587: Connection refused' exitcode=EX_TEMPFAIL "
	    "size=0\n", "absent fields left out");

	r.exitcode = 3;
	r.error = NULL;
	is_int(log_message(path, &r), 0, "appended");
	s = slurp(path);
	ok(strstr(s, "EX_TEMPFAIL size=0\n") != NULL &&
	    strstr(s, "auth=off exitcode=3 size=0\n") != NULL,
	    "second line appended; unknown exit code as a number");

	snprintf(link, sizeof(link), "%s/link", tmpdir);
	ok(symlink(path, link) == 0, "symlink made");
	is_int(log_message(link, &r), 0, "a symlinked logfile works");
	is_int(log_message("/nonexistent-dir/x/log", &r), -1,
	    "unwritable path fails");
	unlink(link);
	unlink(path);
}

/* logfile_time_format, logfile - (standard output), syslog facilities. */
static void
test_logfile_msmtp(void)
{
	char path[300], *s;
	struct log_record r = { .host = "h", .tls = "none", .exitcode = EX_OK,
	    .time_format = "[%Y]" };
	int saved, fd, rc;

	snprintf(path, sizeof(path), "%s/stdout", tmpdir);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	rc = log_message("-", &r);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	is_int(rc, 0, "logfile -");
	s = slurp(path);
	ok(s[0] == '[' && strlen(s) > 7 && s[5] == ']', "logfile_time_format "
	    "used: %.7s", s);
	is_str(s + 6, " host=h tls=off auth=off mailsize=0 exitcode=EX_OK "
	    "size=0\n", "logfile -: the line on standard output");
	unlink(path);
	is_int(log_syslog("LOG_NEWS", &r), -1, "syslog: unknown facility");
	is_int(log_syslog(NULL, &r), -1, "syslog: no facility");
}

/* util_control(), and util_show() / util_oneline() built on it. */
static void
test_controls(void)
{
	char buf[64];

	is_int(util_control("\x1b[31m", 5), 1, "ESC is a control");
	is_int(util_control("\x7f", 1), 1, "DEL is a control");
	is_int(util_control("", 1), 1, "NUL is a control");
	is_int(util_control("\xc2\x9b" "31m", 5), 2, "C1 CSI as UTF-8: 2 bytes");
	is_int(util_control("\xc2\x9b", 1), 0, "C2 alone (cut) is not");
	is_int(util_control("\xc2\xa0", 2), 0, "U+00A0 is not");
	is_int(util_control("a", 1), 0, "a letter is not");
	is_str(util_show("a\x1b" "b\xc2\x9b" "c\xc3\xbc\\", 100, false, buf,
	    sizeof(buf)), "a\\x1bb\\xc2\\x9bc\xc3\xbc\\",
	    "util_show: controls as \\xNN, UTF-8 and \\ kept");
	is_str(util_show("\xc3\xbc\\", 100, true, buf, sizeof(buf)),
	    "\\xc3\\xbc\\x5c", "util_show ascii_only: 8-bit and \\ too");
	is_str(util_show("abcdef", 3, false, buf, sizeof(buf)), "abc...",
	    "util_show: cut after max");
	util_oneline(buf, sizeof(buf), "a\r\nb\tc\x01" "d\x7f" "e\xc2\x9b" "f");
	is_str(buf, "a  b c?d?e?f", "util_oneline: CR LF TAB blank, other "
	    "controls (C1 too) '?'");
	util_oneline(buf, sizeof(buf), "\xc3\xbc\xc2\xa0");
	is_str(buf, "\xc3\xbc\xc2\xa0", "util_oneline: UTF-8 kept");
	util_oneline(buf, 4, "abcdef");
	is_str(buf, "abc", "util_oneline: cut to the buffer");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		printf("1..0 # SKIP cannot create %s\n", tmpdir);
		return 0;
	}
	snprintf(errpath, sizeof(errpath), "%s/stderr", tmpdir);
	saved_stderr = dup(2);
	test_proto();
	test_messages();
	test_timing();
	test_logfile();
	test_logfile_msmtp();
	test_controls();
	unlink(errpath);
	rmdir(tmpdir);
	return done_testing();
}
