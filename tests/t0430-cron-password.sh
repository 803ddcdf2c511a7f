#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0430-cron-password.sh -- yubin run the way cron runs it: an almost
# empty environment (env -i HOME=... PATH=/usr/bin:/bin), no terminal
# (setsid), no D-Bus session. passwordeval and ~/.netrc work; with nothing
# configured the error lists every source with why it had nothing and says
# how to fix it, exit 77, in under 2 s, without a word from GLib or D-Bus;
# a dead bus address is no reason to hang either.
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout setsid
start_real_server

plan 27

CRONHOME=$SCRATCH/home
mkdir -p "$CRONHOME"
printf 'alice-pw\n' > "$SCRATCH/secret"
chmod 600 "$SCRATCH/secret"

# cron_run CONFIG [ENV...]: yubin under env -i + setsid; sets RC ERR OUT SECS
cron_run() {
    local conf=$1
    shift
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    YUBIN_WRAPPER="env -i HOME=$CRONHOME PATH=/usr/bin:/bin LOGNAME=root \
SHELL=/bin/sh $* setsid -w" \
        run_yubin "$SCRATCH/$TOK.msg" -C "$conf" rcpt@example.org
}

conf() {
    local f=$SCRATCH/$1.conf
    shift
    write_config "$f" "host localhost" "port $SMTP_PORT_SUBMISSION" \
        "tls_trust_file $SMTP_CA" "user alice" "from alice@example.test" \
        "timeout 30" "$@"
    printf '%s\n' "$f"
}

delivered() {
    if find_delivered "$TOK" 10 > /dev/null; then
        ok "$1: delivered"
    else
        not_ok "$1: delivered"
    fi
}

# ---------------------------------------------------------------- works
cron_run "$(conf eval "passwordeval cat $SCRATCH/secret")"
is "$RC" 0 "cron + passwordeval: exit 0"
[ "$RC" = 0 ] || diag_file "$ERR"
delivered "cron + passwordeval"
is "$(cat "$ERR" "$OUT")" "" "cron + passwordeval: not a word on stdout/stderr"

printf 'machine localhost login alice password alice-pw\n' > "$CRONHOME/.netrc"
chmod 600 "$CRONHOME/.netrc"
cron_run "$(conf netrc)"
is "$RC" 0 "cron + ~/.netrc: exit 0"
[ "$RC" = 0 ] || diag_file "$ERR"
delivered "cron + ~/.netrc"
chmod 644 "$CRONHOME/.netrc"
cron_run "$(conf netrc)"
is "$RC" 78 "cron + ~/.netrc readable by others: exit 78"
like "$(cat "$ERR")" "other users can read it; run 'chmod 600 $CRONHOME/.netrc'" \
    "cron + ~/.netrc readable by others: says how to fix it"
rm -f "$CRONHOME/.netrc"

cron_run "$(conf evalfail "passwordeval exit 1")"
is "$RC" 77 "cron + failing passwordeval: exit 77"
like "$(cat "$ERR")" "passwordeval for account '(test|default)' exited with status 1" \
    "cron + failing passwordeval: says so (no fall-through)"

# ---------------------------------------------------------------- nothing
NONE=$(conf none)
cron_run "$NONE"
is "$RC" 77 "cron, nothing configured: exit 77"
seconds_below "$SECS" 2 &&
    ok "cron, nothing configured: failed in ${SECS}s (< 2 s)" ||
    not_ok "cron, nothing configured: failed in ${SECS}s (< 2 s)"
diag "cron, nothing configured: the message:" "$(cat "$ERR")"
E=$(cat "$ERR")
like "$E" "^yubin: (.*: )?no password for user 'alice' at 'localhost' \\(account '(test|default)'\\); tried:\$" \
    "the error: what is missing"
like "$E" '^yubin:   password: not set$' "the error: password"
like "$E" '^yubin:   passwordeval: not set$' "the error: passwordeval"
like "$E" '^yubin:   keyring: (no D-Bus session bus|yubin was built without libsecret)' \
    "the error: keyring skipped (no session bus)"
like "$E" "^yubin:   netrc: $CRONHOME/.netrc: No such file or directory\$" \
    "the error: netrc"
like "$E" '^yubin:   prompt: no terminal \(/dev/tty: ' \
    "the error: no terminal to prompt on"
like "$E" "^yubin: set 'passwordeval' \\(works from cron too\\) or 'password' in $NONE" \
    "the error: how to fix it"
unlike "$E" '[Ww]arning|autolaunch|dbus-launch|X11|GLib|GDBus' \
    "nothing from GLib or D-Bus"
is "$(cat "$OUT")" "" "nothing on stdout"

# the same with -v: the keyring skip is a note there
YUBIN_WRAPPER="env -i HOME=$CRONHOME PATH=/usr/bin:/bin setsid -w" \
    run_yubin "$SCRATCH/$TOK.msg" -v -C "$NONE" rcpt@example.org
like "$(cat "$ERR")" '^yubin: keyring skipped: no D-Bus session bus|^yubin:   keyring: yubin was built without libsecret' \
    "-v: a note says why the keyring was skipped"

# an XDG_RUNTIME_DIR without a bus socket
mkdir -p "$SCRATCH/run"
chmod 700 "$SCRATCH/run"
cron_run "$NONE" "XDG_RUNTIME_DIR=$SCRATCH/run"
is "$RC" 77 "XDG_RUNTIME_DIR without a bus: exit 77"
seconds_below "$SECS" 2 && ok "XDG_RUNTIME_DIR without a bus: ${SECS}s (< 2 s)" ||
    not_ok "XDG_RUNTIME_DIR without a bus: ${SECS}s (< 2 s)"

# a bus address that leads nowhere (a stale login's environment)
cron_run "$NONE" "DBUS_SESSION_BUS_ADDRESS=unix:path=$SCRATCH/no-such-bus"
is "$RC" 77 "dead DBUS_SESSION_BUS_ADDRESS: exit 77"
seconds_below "$SECS" 2 && ok "dead DBUS_SESSION_BUS_ADDRESS: ${SECS}s (< 2 s)" ||
    not_ok "dead DBUS_SESSION_BUS_ADDRESS: ${SECS}s (< 2 s)"
like "$(cat "$ERR")" '^yubin:   keyring: ' \
    "dead DBUS_SESSION_BUS_ADDRESS: the keyring line says what went wrong"
unlike "$(cat "$ERR")" '[Ww]arning|GLib|GDBus' \
    "dead DBUS_SESSION_BUS_ADDRESS: no GLib warning on stderr"

done_testing
