#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/demo.sh -- "make demo": send one message with a freshly built yubin
# through the loopback test server and show what was delivered.
#
#   usage: tests/demo.sh PATH-TO-YUBIN
#
# Needs root: tests/server/start.sh installs (if missing) and starts Postfix
# and Dovecot on loopback, and the delivered mail is only readable by root.
# Steps: start the server, write a throw-away config (mode 0600) into a
# temporary directory, send a short message with -v (the SMTP dialogue goes
# to the terminal), wait up to 10 s for it in the server's Maildir, print the
# delivered file, remove the temporary directory.
#
# POSIX sh: make runs it with $(SHELL). Any client that reads msmtprc syntax
# and takes -C works in place of yubin (tests/demo.sh /usr/bin/msmtp).
set -eu

me=demo.sh
say() { printf '%s\n' "==> $*"; }
die() { printf '%s: %s\n' "$me" "$*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 PATH-TO-YUBIN"
yubin=$1
[ -x "$yubin" ] || die "'$yubin' is not an executable file (run 'make' first)"

if [ "$(id -u)" -ne 0 ]; then
	die "needs root: it installs (if missing) and starts a Postfix+Dovecot
test server on loopback (tests/server/start.sh) and reads the mail it
delivers; run 'sudo make demo'"
fi

here=$(cd "$(dirname "$0")" && pwd)
state=${STATE_DIR:-${TMPDIR:-/tmp}/yubin-testenv}

say "starting the loopback test server (tests/server/start.sh)"
STATE_DIR=$state bash "$here/server/start.sh" ||
	die "the test server did not start (see the messages above)"
[ -r "$state/env.sh" ] || die "no $state/env.sh after tests/server/start.sh"
# SMTP_CA, SMTP_MAILDIR, SMTP_POSTFIX_LOG, ...
. "$state/env.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/yubin-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

config=$tmp/config
(
	umask 077
	cat > "$config" <<EOF
# throw-away configuration written by tests/demo.sh
account demo
host localhost
port 587
tls on
tls_starttls on
tls_trust_file $SMTP_CA
auth on
user alice
password alice-pw
from alice@example.test
timeout 30

account default : demo
EOF
)
chmod 600 "$config"
say "configuration ($config):"
sed 's/^/    /' "$config"

token=yubin-demo-$(date +%s)-$$
rcpt=bob@example.org
say "sending a message to $rcpt: $yubin -C $config -v $rcpt"
rc=0
# Keep root's home out of it: spool and config lookups go under $tmp.
XDG_STATE_HOME=$tmp/state XDG_CONFIG_HOME=$tmp/config.d \
timeout 120 "$yubin" -C "$config" -v "$rcpt" <<EOF || rc=$?
From: Alice <alice@example.test>
To: Bob <$rcpt>
Subject: yubin demo
Date: $(LC_ALL=C date -R)
Message-ID: <$token@example.test>

Hello Bob,

this message was sent by $yubin
through the loopback test server (port 587, STARTTLS, AUTH as alice).

.a line that starts with a dot (dot-stuffed on the wire)
-- 
Alice
EOF
if [ "$rc" -ne 0 ]; then
	printf '%s: %s exited with status %s; server log: %s\n' \
		"$me" "$yubin" "$rc" "$SMTP_POSTFIX_LOG" >&2
	exit "$rc"
fi
say "$yubin exited with status 0"

say "waiting for it in $SMTP_MAILDIR/new"
file=
i=0
while [ "$i" -lt 50 ]; do
	file=$(grep -rlF -- "$token" "$SMTP_MAILDIR/new" "$SMTP_MAILDIR/cur" \
		2>/dev/null | head -n 1) || true
	[ -n "$file" ] && break
	sleep 0.2
	i=$((i + 1))
done
[ -n "$file" ] ||
	die "the message did not arrive within 10 s; server log: $SMTP_POSTFIX_LOG"

say "delivered: $file"
cat "$file"
