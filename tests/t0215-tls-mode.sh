#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0215-tls-mode.sh -- an account whose TLS mode does not match the port,
# against the real Postfix test server, each way, on 587/10587 (STARTTLS)
# and 465/10465 (TLS from the first byte): waiting will not fix it, so it
# is exit 76 with the fix in the message, and never queued (mutt would say
# "sent" while the mail sat in the queue):
#  - STARTTLS at a port that expects TLS at once: the server says nothing
#    (it waits for a ClientHello); after a second of silence yubin sends
#    one on a second connection (the first goes on waiting for a slow
#    greeting), and the server's TLS answer tells the mismatch: in about
#    a second, not after the timeout (10 s here);
#  - TLS at once at a STARTTLS port: the answer to the ClientHello is a
#    clear-text "220 " greeting.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout
need_aiosmtpd
start_real_server

# mismatch PORT WANT LINE...: a send to PORT with the account LINEs
# ("queue on-failure" included: a mismatch must not be queued), timeout 10:
# exit 76, stderr exactly "yubin: WANT", nothing queued, nothing delivered
mismatch() {
    local port=$1 want=$2 tok
    shift 2
    tok=$(new_token)
    make_message "$SCRATCH/msg" "$tok"
    real_config "$SCRATCH/conf" "$port" "timeout 10" "queue on-failure" "$@"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/conf" rcpt@example.org
    is "$RC" 76 "exit 76 (${SECS}s)"
    is "$(cat "$ERR")" "yubin: $want" "the message says what to write"
    is "$(find "$QUEUE_DIR/msg" -type f 2>/dev/null | wc -l)" 0 \
        "not queued"
    not_delivered "$tok" 0
}

# implicit_port PORT, starttls_port PORT: the message for each way
implicit_port() {
    echo "'localhost' port $1 sent no greeting but answers a TLS handshake: this port expects TLS from the first byte: add \`tls_starttls off\` to account 'default'"
}

starttls_port() {
    echo "'localhost' port $1 answered the TLS handshake in clear text (an SMTP greeting): this port expects STARTTLS: add \`tls_starttls on\` to account 'default'"
}

for port in "$SMTP_PORT_SUBMISSIONS" "$SMTP_PORT_SUBMISSIONS_HI"; do
    test_case "STARTTLS at $port (TLS from the first byte): 76, add tls_starttls off" '
        mismatch '"$port"' "$(implicit_port '"$port"')" "tls_starttls on"
        check "after a second of silence, not the timeout (${SECS}s)" \
            seconds_below "$SECS" 2
    '
done

for port in "$SMTP_PORT_SUBMISSION" "$SMTP_PORT_SUBMISSION_HI"; do
    test_case "TLS from the first byte at $port (STARTTLS): 76 at once, add tls_starttls on" '
        mismatch '"$port"' "$(starttls_port '"$port"')" "tls_starttls off"
        check "at once (${SECS}s)" seconds_below "$SECS" 1
    '
done

test_case 'port 465 named alone is TLS from the first byte: it works' '
    local tok
    tok=$(new_token)
    make_message "$SCRATCH/msg" "$tok"
    real_config "$SCRATCH/conf" "$SMTP_PORT_SUBMISSIONS" "timeout 10"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/conf" rcpt@example.org
    is "$RC" 0 "exit 0"
    delivered "$tok"
'

test_case "tls off at $SMTP_PORT_SUBMISSIONS_HI: 76, add tls on and tls_starttls off" '
    mismatch "$SMTP_PORT_SUBMISSIONS_HI" "'\''localhost'\'' port $SMTP_PORT_SUBMISSIONS_HI sent no greeting but answers a TLS handshake: this port expects TLS from the first byte: add \`tls on\` and \`tls_starttls off\` to account '\''default'\''" \
        "tls off" "auth off"
'

test_case 'a silent server that is not TLS either: still 75, queued' '
    local port
    start_mute silent || return 1
    port=$BG_PORT
    make_message "$SCRATCH/msg" "$(new_token)"
    real_config "$SCRATCH/conf" "$port" "timeout 2" "queue on-failure"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/conf" rcpt@example.org
    is "$RC" 0 "queued: exit 0"
    like "$(cat "$ERR")" "^yubin: message queued as .*: waiting for the server.s greeting: timed out after 2 s waiting for the server \\(reading\\)$" \
        "the greeting timed out"
    check "the timeout, the probe within it (${SECS}s)" seconds_below "$SECS" 2.8
'

test_case 'a clear-text server that greets after 1.6 s: the probe aside does not disturb it' '
    local tok
    mkdir -p "$SCRATCH/slow"
    start_bg slow "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" --port 0 \
        --tls none --save-dir "$SCRATCH/slow" --fault CONNECT=delay:1.6 ||
        return 1
    tok=$(new_token)
    make_message "$SCRATCH/msg" "$tok"
    write_config "$SCRATCH/conf" "host 127.0.0.1" "port $BG_PORT" \
        "tls off" "auth off" "from alice@example.test" "timeout 10" \
        "queue on-failure"
    run_yubin "$SCRATCH/msg" -v -C "$SCRATCH/conf" rcpt@example.org
    is "$RC" 0 "sent: exit 0"
    like "$(cat "$ERR")" "^yubin: no greeting after 1000 ms; a TLS handshake on a second connection: no TLS answer$" \
        "-v: the probe ran"
    is "$(fake_accepted "$SCRATCH/slow")" 1 "delivered over the first connection"
    is "$(find "$QUEUE_DIR/msg" -type f 2>/dev/null | wc -l)" 0 "not queued"
'

done_testing
