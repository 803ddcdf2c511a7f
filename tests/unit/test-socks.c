/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-socks.c -- socks.c over a socketpair: the proxy's side is written
 * before socks_connect() runs (it reads exactly what it needs, so the
 * canned replies are consumed in order), then what the client sent is
 * compared byte for byte. Every reply code a real proxy will not give on
 * demand (general failure, TTL expired, command not supported), silence,
 * and a reply that is not SOCKS5. tests/t0340-route.sh has the real
 * proxy (dante).
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "socks.h"
#include "util.h"
#include "tap.h"

#define PROXY "SOCKS5 proxy 'p' port 1080"

/* The CONNECT request for smtp.example.org port 587. */
static const char connect_req[] = "\x05\x01\x00\x03\x10smtp.example.org"
    "\x02\x4b";
#define CONNECT_LEN (sizeof(connect_req) - 1)
/* A success reply, bound to 127.0.0.1 port 1234. */
static const char ok_reply[] = "\x05\x00\x00\x01\x7f\x00\x00\x01\x04\xd2";
#define OK_LEN (sizeof(ok_reply) - 1)

struct run {
	int rc;
	struct error err;
	char sent[1024];		/* what the client wrote */
	size_t nsent;
	char after[16];			/* left unread on the socket */
	size_t nafter;
};

/* socks_connect() with the proxy's bytes canned; user NULL: none. */
static void
run(const char *canned, size_t n, const char *user, struct run *out)
{
	struct socks_request r = { .host = "smtp.example.org", .port = 587,
	    .user = user, .password = user != NULL ? "pw" : NULL,
	    .proxy = PROXY, .timeout_ms = 300 };
	int sv[2];
	ssize_t k;

	memset(out, 0, sizeof(*out));
	error_init(&out->err);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		bail_out("socketpair");
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (n > 0 && write(sv[1], canned, n) != (ssize_t)n)
		bail_out("write");
	out->rc = socks_connect(sv[0], &r, util_now_ms() + 300, &out->err);
	k = read(sv[1], out->sent, sizeof(out->sent));
	out->nsent = k > 0 ? (size_t)k : 0;
	k = read(sv[0], out->after, sizeof(out->after));
	out->nafter = k > 0 ? (size_t)k : 0;
	close(sv[0]);
	close(sv[1]);
}

static void
test_encode(void)
{
	unsigned char b[300];
	char longname[300];

	is_mem((char *)b, socks_request_encode("smtp.example.org", 587, b),
	    connect_req, CONNECT_LEN, "a name goes as a name (ATYP 3)");
	is_mem((char *)b, socks_request_encode("192.0.2.1", 25, b),
	    "\x05\x01\x00\x01\xc0\x00\x02\x01\x00\x19", 10,
	    "an IPv4 literal as an address (ATYP 1)");
	is_int(socks_request_encode("::1", 465, b), 22,
	    "an IPv6 literal as an address (ATYP 4)");
	ok(b[3] == 4 && b[19] == 1 && b[20] == 1 && b[21] == 0xd1,
	    "... its bytes");
	memset(longname, 'a', 256);
	longname[256] = '\0';
	is_int(socks_request_encode(longname, 25, b), 0, "a name over 255");
}

static void
test_success(void)
{
	char canned[64], want[128];
	struct run r;

	memcpy(canned, "\x05\x00", 2);
	memcpy(canned + 2, ok_reply, OK_LEN);
	memcpy(canned + 2 + OK_LEN, "220 ", 4);
	run(canned, 2 + OK_LEN + 4, NULL, &r);
	is_int(r.rc, 0, "no authentication: connected");
	memcpy(want, "\x05\x01\x00", 3);
	memcpy(want + 3, connect_req, CONNECT_LEN);
	is_mem(r.sent, r.nsent, want, 3 + CONNECT_LEN,
	    "the method offer (none), then CONNECT with the name");
	is_mem(r.after, r.nafter, "220 ", 4,
	    "the server's first bytes are left on the socket");

	memcpy(canned, "\x05\x02\x01\x00", 4);
	memcpy(canned + 4, ok_reply, OK_LEN);
	run(canned, 4 + OK_LEN, "alice", &r);
	is_int(r.rc, 0, "username/password: connected");
	memcpy(want, "\x05\x02\x00\x02\x01\x05" "alice\x02pw", 14);
	memcpy(want + 14, connect_req, CONNECT_LEN);
	is_mem(r.sent, r.nsent, want, 14 + CONNECT_LEN,
	    "methods none and username/password, RFC 1929, CONNECT");
}

/* The proxy answers CONNECT with rep: kind and message. */
static void
reply_case(int rep, enum error_kind kind, bool unreachable, const char *text)
{
	char canned[64], want[256];
	struct run r;

	memcpy(canned, "\x05\x00", 2);
	memcpy(canned + 2, ok_reply, OK_LEN);
	canned[3] = (char)rep;
	run(canned, 2 + OK_LEN, NULL, &r);
	snprintf(want, sizeof(want), PROXY " cannot connect to "
	    "'smtp.example.org' port 587: %s (SOCKS5 reply %d)", text, rep);
	ok(r.rc < 0 && r.err.kind == kind && r.err.unreachable == unreachable,
	    "reply %d: %s", rep, error_kind_name(kind));
	is_str(r.err.message, want, "reply %d: the message", rep);
}

static void
test_replies(void)
{
	reply_case(1, ERR_TEMP, true, "general SOCKS server failure");
	reply_case(2, ERR_UNAVAILABLE, false,
	    "connection not allowed by the proxy's rules");
	reply_case(3, ERR_TEMP, true, "network unreachable");
	reply_case(4, ERR_TEMP, true, "host unreachable");
	reply_case(5, ERR_TEMP, true, "connection refused");
	reply_case(6, ERR_TEMP, true, "TTL expired");
	reply_case(7, ERR_PROTOCOL, false, "command not supported");
	reply_case(8, ERR_PROTOCOL, false, "address type not supported");
	reply_case(42, ERR_PROTOCOL, false, "unknown reply");
}

/* canned, user: the failure's kind and message. */
static void
fail_case(const char *canned, size_t n, const char *user,
    enum error_kind kind, const char *want, const char *name)
{
	struct run r;

	run(canned, n, user, &r);
	ok(r.rc < 0 && r.err.kind == kind, "%s: %s", name,
	    error_kind_name(kind));
	is_str(r.err.message, want, "%s: the message", name);
}

static void
test_failures(void)
{
	fail_case("\x05\xff", 2, NULL, ERR_AUTH, PROXY " accepts none of "
	    "the authentication methods offered (none; set proxy_user and "
	    "proxy_password)", "no method without a user");
	fail_case("\x05\xff", 2, "alice", ERR_AUTH, PROXY " accepts none "
	    "of the authentication methods offered (none, username/password)",
	    "no method with a user");
	fail_case("\x05\x02\x01\x01", 4, "alice", ERR_AUTH, PROXY " refused "
	    "the username and password of proxy_user 'alice'",
	    "RFC 1929 refused");
	fail_case("HTTP/1.1 400", 12, NULL, ERR_PROTOCOL, PROXY ": the "
	    "reply is not SOCKS5 (is it a SOCKS5 proxy?)", "an HTTP proxy");
	fail_case("", 0, NULL, ERR_TEMP, PROXY ": timed out after 0.3 s "
	    "waiting for the proxy", "silence");
	fail_case("\x05", 1, NULL, ERR_TEMP, PROXY ": timed out after 0.3 s "
	    "waiting for the proxy", "half a reply");
}

int
main(void)
{
	test_encode();
	test_success();
	test_replies();
	test_failures();
	return done_testing();
}
