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
plan 56

unlock_keyring

CONF=$SCRATCH/config
write_config "$CONF" "host localhost" "port $SMTP_PORT_SUBMISSION" \
    "tls_trust_file $SMTP_CA" "user alice" "from alice@example.test" \
    "timeout 30"

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

# sent_with_keyring DESC: exit 0, password from the keyring, delivered
sent_with_keyring() {
    is "$RC" 0 "$1: exit 0"
    [ "$RC" = 0 ] || diag_file "$ERR" 30
    like "$(cat "$ERR")" '^yubin: password from keyring$' \
        "$1: the password came from the keyring"
    if find_delivered "$TOK" 10 > /dev/null; then
        ok "$1: delivered"
    else
        not_ok "$1: delivered"
    fi
}

# ------------------------------------------------ --store-password, use it
printf 'alice-pw\n' > "$SCRATCH/pw"
run_yubin "$SCRATCH/pw" -C "$CONF" --store-password
is "$RC" 0 "--store-password from stdin: exit 0"
is "$(cat "$ERR")" "" "--store-password: says nothing"
secret-tool search --all host localhost service smtp user alice \
    > "$SCRATCH/search" 2>&1
like "$(cat "$SCRATCH/search")" '^label = yubin: alice@localhost$' \
    "stored item: label 'yubin: alice@localhost'"
like "$(cat "$SCRATCH/search")" '^schema = org\.yubin\.password$' \
    "stored item: schema org.yubin.password"
like "$(cat "$SCRATCH/search")" '^secret = alice-pw$' \
    "stored item: the password without its newline"
is "$(items)" 1 "stored item: exactly one"

send
sent_with_keyring "stored by yubin"

# a second --store-password replaces the item
printf 'wrong-pw\n' > "$SCRATCH/pw2"
run_yubin "$SCRATCH/pw2" -C "$CONF" --store-password
is "$RC" 0 "--store-password again: exit 0"
is "$(items)" 1 "--store-password again: still one item"
send
is "$RC" 77 "wrong password in the keyring: exit 77"
like "$(cat "$ERR")" "failed for user 'alice': 535 " \
    "wrong password in the keyring: the server's 535, no fall-through"

# passwordeval comes first (the keyring item is wrong)
write_config "$SCRATCH/eval.conf" "host localhost" \
    "port $SMTP_PORT_SUBMISSION" "tls_trust_file $SMTP_CA" "user alice" \
    "from alice@example.test" "passwordeval echo alice-pw"
send "$SCRATCH/eval.conf"
is "$RC" 0 "passwordeval and a (wrong) keyring item: exit 0"
like "$(cat "$ERR")" '^yubin: password from passwordeval$' \
    "passwordeval is preferred over the keyring"

# ------------------------------------------------ --forget-password
run_yubin /dev/null -C "$CONF" --forget-password
is "$RC" 0 "--forget-password: exit 0"
is "$(items)" 0 "--forget-password: the item is gone"
send
is "$RC" 77 "after --forget-password: sending fails, exit 77"
like "$(cat "$ERR")" "^yubin: (.*: )?no password for user 'alice' at 'localhost'" \
    "after --forget-password: the clear 'no password' error"
like "$(cat "$ERR")" "^yubin:   keyring: no item with host 'localhost' service 'smtp' user 'alice'" \
    "... which says what the keyring lookup found"
run_yubin /dev/null -C "$CONF" --forget-password
is "$RC" 0 "--forget-password with nothing stored: exit 0"
like "$(cat "$ERR")" "^yubin: warning: the keyring holds no password for 'alice' at 'localhost'" \
    "--forget-password with nothing stored: a warning"

# ------------------------------------------------ on a terminal

tty_run "password for alice at localhost: =alice-pw" \
    "the same password again: =alice-pw" -- "$YUBIN" -C "$CONF" \
    --store-password
is "$RC" 0 "--store-password on a terminal: asks twice, exit 0"
unlike "$(cat "$SCRATCH/tty.out")" 'alice-pw' \
    "--store-password on a terminal: nothing echoed"
is "$(items)" 1 "--store-password on a terminal: stored"
tty_run "password for alice at localhost: =alice-pw" \
    "the same password again: =alice-pX" -- "$YUBIN" -C "$CONF" \
    --store-password
is "$RC" 65 "--store-password, two different passwords: exit 65"
like "$(cat "$SCRATCH/tty.out")" "the two passwords differ; nothing was stored" \
    "--store-password, two different passwords: says so"
run_yubin /dev/null -C "$CONF" --forget-password

# nothing stored: a send asks on the terminal (the message is on stdin)
TOK=$(new_token)
make_message "$SCRATCH/$TOK.msg" "$TOK"
tty_run "password for alice at localhost: =alice-pw" -- sh -c \
    '"$1" -v -C "$2" rcpt@example.org < "$3"' sh "$YUBIN" "$CONF" \
    "$SCRATCH/$TOK.msg"
is "$RC" 0 "nothing stored, a terminal: the prompt is used, exit 0"
like "$(cat "$SCRATCH/tty.out")" 'password from prompt' \
    "nothing stored, a terminal: the password came from the prompt"
if find_delivered "$TOK" 10 > /dev/null; then
    ok "nothing stored, a terminal: delivered"
else
    not_ok "nothing stored, a terminal: delivered"
fi

# ------------------------------------------------ items written by others
printf 'alice-pw' | secret-tool store --label=x host localhost service smtp \
    user alice
send
sent_with_keyring "item from secret-tool (msmtp's documented attributes)"
run_yubin /dev/null -C "$CONF" --forget-password
is "$(items)" 0 "--forget-password removes secret-tool's item"

printf 'alice-pw' | secret-tool store --label='msmtp: smtp://alice@localhost' \
    xdg:schema de.marlam.msmtp.password host localhost service smtp user alice
like "$(secret-tool search --all host localhost 2>&1)" \
    '^schema = de\.marlam\.msmtp\.password$' "msmtp-schema item stored"
send
sent_with_keyring "item with msmtp's schema name"
run_yubin "$SCRATCH/pw" -C "$CONF" --store-password
is "$(items)" 1 "--store-password replaces msmtp's item (one item left)"
like "$(secret-tool search --all host localhost 2>&1)" \
    '^schema = org\.yubin\.password$' "... which is yubin's now"
run_yubin /dev/null -C "$CONF" --forget-password
is "$(items)" 0 "--forget-password: nothing left"

printf 'alice-pw' | secret-tool store --label=old \
    xdg:schema org.gnome.keyring.NetworkPassword server localhost \
    protocol smtp user alice
send
sent_with_keyring "libgnome-keyring's network-password item (as msmtp)"
run_yubin /dev/null -C "$CONF" --forget-password
is "$(secret-tool search --all server localhost 2>&1 | grep -c '^\[/')" 0 \
    "--forget-password removes the network-password item too"

# the host is matched as written in the config
printf 'alice-pw' | secret-tool store --label=x host 127.0.0.1 service smtp \
    user alice
send
is "$RC" 77 "item for host 127.0.0.1, config says localhost: not used"

# ------------------------------------------------ --store-password refusals
run_yubin /dev/null -C "$CONF" --store-password
is "$RC" 65 "--store-password with empty stdin: exit 65"
like "$(cat "$ERR")" "no password on standard input" \
    "--store-password with empty stdin: says so"
is "$(items)" 0 "--store-password with empty stdin: nothing stored"
YUBIN_WRAPPER="env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR=/nonexistent" \
    run_yubin "$SCRATCH/pw" -C "$CONF" --store-password
is "$RC" 69 "--store-password without a session bus: exit 69"
like "$(cat "$ERR")" "^yubin: cannot reach the keyring: no D-Bus session bus" \
    "--store-password without a session bus: says why"
write_config "$SCRATCH/nouser.conf" "host localhost" "auth off" \
    "from alice@example.test"
run_yubin "$SCRATCH/pw" -C "$SCRATCH/nouser.conf" --store-password
is "$RC" 78 "--store-password for an account without user: exit 78"

# ------------------------------------------------ no bus: skipped quietly
run_yubin "$SCRATCH/pw" -C "$CONF" --store-password
YUBIN_WRAPPER="env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR=/nonexistent setsid -w" \
    run_yubin "$SCRATCH/pw" -C "$CONF" rcpt@example.org
is "$RC" 77 "an item exists but no session bus: exit 77"
like "$(cat "$ERR")" "^yubin:   keyring: no D-Bus session bus" \
    "no session bus: the keyring was skipped, and the error says so"
unlike "$(cat "$ERR")" "[Ww]arning|autolaunch|dbus-launch|X11" \
    "no session bus: no warning from GLib/D-Bus"
seconds_below "$SECS" 2 && ok "no session bus: failed in ${SECS}s (< 2 s)" ||
    not_ok "no session bus: failed in ${SECS}s (< 2 s)"

# ------------------------------------------------ cleanup
# the keyring daemon ends with the bus; nothing else to stop
done_testing
