#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0430-cron-password.sh -- yubin run the way cron runs it: an almost
# empty environment (env -i HOME=... PATH=/usr/bin:/bin), no terminal
# (setsid), no D-Bus session. passwordeval and ~/.netrc work; with nothing
# configured the error lists every source with why it had nothing and says
# how to fix it, exit 77, in under 2 s, without a word from GLib or D-Bus;
# a dead bus address is no reason to hang either.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout setsid
start_real_server

SECRET=$SCRATCH/secret
printf 'alice-pw\n' > "$SECRET"
chmod 600 "$SECRET"

# cron_run CONFIG [ENV...]: yubin under env -i + setsid, HOME=$SCRATCH/home;
# sets RC ERR OUT SECS
cron_run() {
    local conf=$1
    shift
    mkdir -p "$SCRATCH/home"
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    YUBIN_WRAPPER="env -i HOME=$SCRATCH/home PATH=/usr/bin:/bin LOGNAME=root \
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

# ---------------------------------------------------------------- works
test_case 'cron + passwordeval' '
    cron_run "$(conf eval "passwordeval cat $SECRET")"
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || diag_file "$ERR"
    delivered "$TOK"
    is "$(cat "$ERR" "$OUT")" "" "not a word on stdout/stderr"
'

test_case 'cron + ~/.netrc' '
    mkdir -p "$SCRATCH/home"
    printf "machine localhost login alice password alice-pw\n" \
        > "$SCRATCH/home/.netrc"
    chmod 600 "$SCRATCH/home/.netrc"
    cron_run "$(conf netrc)"
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || diag_file "$ERR"
    delivered "$TOK"
'

test_case 'cron + ~/.netrc readable by others' <<'CASE'
    mkdir -p "$SCRATCH/home"
    printf 'machine localhost login alice password alice-pw\n' \
        > "$SCRATCH/home/.netrc"
    chmod 644 "$SCRATCH/home/.netrc"
    cron_run "$(conf netrc)"
    is "$RC" 78 "exit 78"
    like "$(cat "$ERR")" "other users can read it; run 'chmod 600 $SCRATCH/home/.netrc'" \
        "says how to fix it"
CASE

test_case 'cron + failing passwordeval' <<'CASE'
    cron_run "$(conf evalfail "passwordeval exit 1")"
    is "$RC" 77 "exit 77"
    like "$(cat "$ERR")" "passwordeval for account '(test|default)' exited with status 1" \
        "says so (no fall-through)"
CASE

# ---------------------------------------------------------------- nothing
test_case 'cron, nothing configured' <<'CASE'
    NONE=$(conf none)
    cron_run "$NONE"
    is "$RC" 77 "exit 77"
    check "failed in ${SECS}s (< 2 s)" seconds_below "$SECS" 2
    diag "the message:" "$(cat "$ERR")"
    E=$(cat "$ERR")
    like "$E" "^yubin: (.*: )?no password for user 'alice' at 'localhost' \\(account '(test|default)'\\); tried:\$" \
        "the error: what is missing"
    like "$E" '^yubin:   password: not set$' "the error: password"
    like "$E" '^yubin:   passwordeval: not set$' "the error: passwordeval"
    like "$E" '^yubin:   keyring: (no D-Bus session bus|yubin was built without libsecret)' \
        "the error: keyring skipped (no session bus)"
    like "$E" "^yubin:   netrc: $SCRATCH/home/.netrc: No such file or directory\$" \
        "the error: netrc"
    like "$E" '^yubin:   prompt: no terminal \(/dev/tty: ' \
        "the error: no terminal to prompt on"
    like "$E" "^yubin: set 'passwordeval' \\(works from cron too\\) or 'password' in $NONE" \
        "the error: how to fix it"
    unlike "$E" '[Ww]arning|autolaunch|dbus-launch|X11|GLib|GDBus' \
        "nothing from GLib or D-Bus"
    is "$(cat "$OUT")" "" "nothing on stdout"
CASE

# the same with -v: the keyring skip is a note there
test_case 'cron -v, nothing configured' <<'CASE'
    mkdir -p "$SCRATCH/home"
    make_message "$SCRATCH/v.msg" "$(new_token)"
    YUBIN_WRAPPER="env -i HOME=$SCRATCH/home PATH=/usr/bin:/bin setsid -w" \
        run_yubin "$SCRATCH/v.msg" -v -C "$(conf none)" rcpt@example.org
    like "$(cat "$ERR")" '^yubin: keyring skipped: no D-Bus session bus|^yubin:   keyring: yubin was built without libsecret' \
        "a note says why the keyring was skipped"
CASE

# an XDG_RUNTIME_DIR without a bus socket
test_case 'XDG_RUNTIME_DIR without a bus' '
    mkdir -p "$SCRATCH/run"
    chmod 700 "$SCRATCH/run"
    cron_run "$(conf none)" "XDG_RUNTIME_DIR=$SCRATCH/run"
    is "$RC" 77 "exit 77"
    check "${SECS}s (< 2 s)" seconds_below "$SECS" 2
'

# a bus address that leads nowhere (a stale login's environment)
test_case 'dead DBUS_SESSION_BUS_ADDRESS' <<'CASE'
    cron_run "$(conf none)" "DBUS_SESSION_BUS_ADDRESS=unix:path=$SCRATCH/no-such-bus"
    is "$RC" 77 "exit 77"
    check "${SECS}s (< 2 s)" seconds_below "$SECS" 2
    like "$(cat "$ERR")" '^yubin:   keyring: ' \
        "the keyring line says what went wrong"
    unlike "$(cat "$ERR")" '[Ww]arning|GLib|GDBus' \
        "no GLib warning on stderr"
CASE

done_testing
