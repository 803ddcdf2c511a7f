#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0410-keyring.sh -- the password from a real keyring (gnome-keyring on a
# private D-Bus session bus, dbus-run-session), sent through the real
# server with a config that has the user but no password:
#   yubin --store-password (stdin not a terminal) stores it (label, schema,
#   attributes host/service/user) and a send uses it; items written by
#   secret-tool with msmtp's documented attributes, with msmtp's schema
#   name, and libgnome-keyring's old network items are found too;
#   --store-password replaces an msmtp item; --forget-password removes
#   them, after which sending fails with the clear "no password" error;
#   passwordeval is preferred over the keyring; a wrong password in the
#   keyring is a 535 (77), not a fall-through.
# Everything runs with HOME, XDG_* and the bus private to the test: the
# user's own keyring is never touched.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout dbus-run-session gnome-keyring-daemon secret-tool

write_config "$SCRATCH/probe.conf" "host localhost" "user alice"
if env -u DBUS_SESSION_BUS_ADDRESS "$YUBIN" -C "$SCRATCH/probe.conf" \
        --forget-password 2>&1 | grep -q 'built without libsecret'; then
    skip_all "yubin was built without libsecret"
fi

private_keyring_session YUBIN_T0410_INNER
start_real_server

# fixtures: the keyring (its daemon, on the private bus; each case leaves
# it empty: see fresh), configs without a password, the password file
unlock_keyring

CONF=$SCRATCH/config
write_config "$CONF" "host localhost" "port $SMTP_PORT_SUBMISSION" \
    "tls_trust_file $SMTP_CA" "user alice" "from alice@example.test" \
    "timeout 30"
EVAL_CONF=$SCRATCH/eval.conf
write_config "$EVAL_CONF" "host localhost" \
    "port $SMTP_PORT_SUBMISSION" "tls_trust_file $SMTP_CA" "user alice" \
    "from alice@example.test" "passwordeval echo alice-pw"
NOUSER_CONF=$SCRATCH/nouser.conf
write_config "$NOUSER_CONF" "host localhost" "auth off" \
    "from alice@example.test"
PW=$SCRATCH/pw
printf 'alice-pw\n' > "$PW"

# clear_keyring: remove every item a case may have made
clear_keyring() {
    secret-tool clear host localhost service smtp user alice 2>/dev/null
    secret-tool clear server localhost protocol smtp user alice 2>/dev/null
    secret-tool clear host 127.0.0.1 service smtp user alice 2>/dev/null
    return 0
}

# fresh: the case starts with an empty keyring and leaves one behind
fresh() {
    clear_keyring
    test_when_finished clear_keyring
}

# store PASSWORD: yubin --store-password, as a set-up step
store() {
    printf '%s\n' "$1" > "$SCRATCH/store.pw"
    run_yubin "$SCRATCH/store.pw" -C "$CONF" --store-password
    [ "$RC" = 0 ] || { diag_file "$ERR"; return 1; }
}

# items: how many keyring items have host localhost service smtp user alice
items() {
    secret-tool search --all host localhost service smtp user alice 2>&1 |
        grep -c '^\[/'
}

# send [CONFIG]: a message with -v; sets RC ERR TOK
send() {
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    YUBIN_WRAPPER="setsid -w" run_yubin "$SCRATCH/$TOK.msg" -v \
        -C "${1:-$CONF}" rcpt@example.org
}

# sent_with_keyring: exit 0, password from the keyring, delivered
sent_with_keyring() {
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || diag_file "$ERR" 30
    like "$(cat "$ERR")" '^yubin: password from keyring$' \
        "the password came from the keyring"
    delivered "$TOK"
}

# ------------------------------------------------ --store-password, use it
test_case '--store-password from stdin' <<'CASE'
    fresh
    run_yubin "$PW" -C "$CONF" --store-password
    is "$RC" 0 "exit 0"
    is "$(cat "$ERR")" "" "says nothing"
    secret-tool search --all host localhost service smtp user alice \
        > "$SCRATCH/search" 2>&1
    like "$(cat "$SCRATCH/search")" '^label = yubin: alice@localhost$' \
        "stored item: label 'yubin: alice@localhost'"
    like "$(cat "$SCRATCH/search")" '^schema = org\.yubin\.password$' \
        "stored item: schema org.yubin.password"
    like "$(cat "$SCRATCH/search")" '^secret = alice-pw$' \
        "stored item: the password without its newline"
    is "$(items)" 1 "stored item: exactly one"
CASE

test_case 'a send with the password stored by yubin' '
    fresh
    store alice-pw || return 1
    send
    sent_with_keyring
'

test_case '--store-password again replaces the item' '
    fresh
    store alice-pw || return 1
    printf "wrong-pw\n" > "$SCRATCH/pw2"
    run_yubin "$SCRATCH/pw2" -C "$CONF" --store-password
    is "$RC" 0 "exit 0"
    is "$(items)" 1 "still one item"
'

# a wrong password in the keyring is refused by the server (no fall-through),
# and passwordeval comes first: its good password resets Dovecot's penalty
test_case 'a wrong password in the keyring; passwordeval comes first' <<'CASE'
    fresh
    store wrong-pw || return 1
    send
    is "$RC" 77 "wrong password in the keyring: exit 77"
    like "$(cat "$ERR")" "failed for user 'alice': 535 " \
        "wrong password in the keyring: the server's 535, no fall-through"
    send "$EVAL_CONF"
    is "$RC" 0 "passwordeval and a (wrong) keyring item: exit 0"
    like "$(cat "$ERR")" '^yubin: password from passwordeval$' \
        "passwordeval is preferred over the keyring"
CASE

# ------------------------------------------------ --forget-password
test_case '--forget-password' <<'CASE'
    fresh
    store alice-pw || return 1
    run_yubin /dev/null -C "$CONF" --forget-password
    is "$RC" 0 "exit 0"
    is "$(items)" 0 "the item is gone"
    send
    is "$RC" 77 "after --forget-password: sending fails, exit 77"
    like "$(cat "$ERR")" "^yubin: (.*: )?no password for user 'alice' at 'localhost'" \
        "after --forget-password: the clear 'no password' error"
    like "$(cat "$ERR")" "^yubin:   keyring: no item with host 'localhost' service 'smtp' user 'alice'" \
        "... which says what the keyring lookup found"
    run_yubin /dev/null -C "$CONF" --forget-password
    is "$RC" 0 "with nothing stored: exit 0"
    like "$(cat "$ERR")" "^yubin: warning: the keyring holds no password for 'alice' at 'localhost'" \
        "with nothing stored: a warning"
CASE

# ------------------------------------------------ on a terminal
test_case '--store-password on a terminal' <<'CASE'
    fresh
    tty_run "password for alice at localhost: =alice-pw" \
        "the same password again: =alice-pw" -- "$YUBIN" -C "$CONF" \
        --store-password
    is "$RC" 0 "asks twice, exit 0"
    unlike "$(cat "$SCRATCH/tty.out")" 'alice-pw' "nothing echoed"
    is "$(items)" 1 "stored"
    tty_run "password for alice at localhost: =alice-pw" \
        "the same password again: =alice-pX" -- "$YUBIN" -C "$CONF" \
        --store-password
    is "$RC" 65 "two different passwords: exit 65"
    like "$(cat "$SCRATCH/tty.out")" "the two passwords differ; nothing was stored" \
        "two different passwords: says so"
CASE

# nothing stored: a send asks on the terminal (the message is on stdin)
test_case 'nothing stored, a terminal' <<'CASE'
    fresh
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    tty_run "password for alice at localhost: =alice-pw" -- sh -c \
        '"$1" -v -C "$2" rcpt@example.org < "$3"' sh "$YUBIN" "$CONF" \
        "$SCRATCH/$TOK.msg"
    is "$RC" 0 "the prompt is used, exit 0"
    like "$(cat "$SCRATCH/tty.out")" 'password from prompt' \
        "the password came from the prompt"
    delivered "$TOK"
CASE

# ------------------------------------------------ items written by others
test_case "item from secret-tool (msmtp's documented attributes)" <<'CASE'
    fresh
    printf 'alice-pw' | secret-tool store --label=x host localhost service smtp \
        user alice
    send
    sent_with_keyring
    run_yubin /dev/null -C "$CONF" --forget-password
    is "$(items)" 0 "--forget-password removes secret-tool's item"
CASE

test_case "item with msmtp's schema name" <<'CASE'
    fresh
    printf 'alice-pw' | secret-tool store --label='msmtp: smtp://alice@localhost' \
        xdg:schema de.marlam.msmtp.password host localhost service smtp user alice
    like "$(secret-tool search --all host localhost 2>&1)" \
        '^schema = de\.marlam\.msmtp\.password$' "msmtp-schema item stored"
    send
    sent_with_keyring
    run_yubin "$PW" -C "$CONF" --store-password
    is "$(items)" 1 "--store-password replaces msmtp's item (one item left)"
    like "$(secret-tool search --all host localhost 2>&1)" \
        '^schema = org\.yubin\.password$' "... which is yubin's now"
    run_yubin /dev/null -C "$CONF" --forget-password
    is "$(items)" 0 "--forget-password: nothing left"
CASE

test_case "libgnome-keyring's network-password item (as msmtp)" <<'CASE'
    fresh
    printf 'alice-pw' | secret-tool store --label=old \
        xdg:schema org.gnome.keyring.NetworkPassword server localhost \
        protocol smtp user alice
    send
    sent_with_keyring
    run_yubin /dev/null -C "$CONF" --forget-password
    is "$(secret-tool search --all server localhost 2>&1 | grep -c '^\[/')" 0 \
        "--forget-password removes the network-password item too"
CASE

# the host is matched as written in the config
test_case 'item for host 127.0.0.1, config says localhost' <<'CASE'
    fresh
    printf 'alice-pw' | secret-tool store --label=x host 127.0.0.1 service smtp \
        user alice
    send
    is "$RC" 77 "not used"
CASE

# ------------------------------------------------ --store-password refusals
test_case '--store-password with empty stdin' <<'CASE'
    fresh
    run_yubin /dev/null -C "$CONF" --store-password
    is "$RC" 65 "exit 65"
    like "$(cat "$ERR")" "no password on standard input" "says so"
    is "$(items)" 0 "nothing stored"
CASE

test_case '--store-password without a session bus' <<'CASE'
    fresh
    YUBIN_WRAPPER="env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR=/nonexistent" \
        run_yubin "$PW" -C "$CONF" --store-password
    is "$RC" 69 "exit 69"
    like "$(cat "$ERR")" "^yubin: cannot reach the keyring: no D-Bus session bus" \
        "says why"
CASE

test_case '--store-password for an account without user' '
    fresh
    run_yubin "$PW" -C "$NOUSER_CONF" --store-password
    is "$RC" 78 "exit 78"
'

# ------------------------------------------------ no bus: skipped quietly
test_case 'an item exists but no session bus' <<'CASE'
    fresh
    store alice-pw || return 1
    YUBIN_WRAPPER="env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR=/nonexistent setsid -w" \
        run_yubin "$PW" -C "$CONF" rcpt@example.org
    is "$RC" 77 "exit 77"
    like "$(cat "$ERR")" "^yubin:   keyring: no D-Bus session bus" \
        "the keyring was skipped, and the error says so"
    unlike "$(cat "$ERR")" "[Ww]arning|autolaunch|dbus-launch|X11" \
        "no warning from GLib/D-Bus"
    check "failed in ${SECS}s (< 2 s)" seconds_below "$SECS" 2
CASE

# the keyring daemon ends with the bus; nothing else to stop
done_testing
