#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0330-round-trips-fake.sh -- issue 11's flights, seen from
# tests/fake/fake_smtpd.py (STARTTLS, AUTH PLAIN): every command yubin sent,
# exactly; which ones were already waiting when the server read the one
# before ("pipelined": what the client sent without waiting for a reply);
# no pipelining without PIPELINING; and, through tests/fake/delay_proxy.py,
# how many times yubin waited (plus one for TCP's handshake).  The
# failures of a flight: AUTH refused with MAIL, RCPT, BDAT and the message
# already sent (the message's lines never read as commands: the server
# drops a refused BDAT's chunk, RFC 3030), a refused recipient.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd
test_pki

# a message whose body holds SMTP commands: never to be read as such
MSG=$SCRATCH/msg
printf '%s\n' 'From: alice@example.test' 'To: rcpt@example.org' \
    'Date: Mon, 02 Jan 2023 03:04:05 +0000' \
    'Message-ID: <t0330@example.test>' 'Subject: flight' '' \
    'MAIL FROM:<mallory@example.org>' 'RCPT TO:<victim@example.org>' \
    'DATA' 'QUIT' > "$MSG"
SIZE=$(wc -c < "$MSG")
SIZE=$((SIZE + $(wc -l < "$MSG")))	# CRLF on the wire
AUTH='AUTH PLAIN AGFsaWNlAGFsaWNlLXB3'	# \0alice\0alice-pw

# fake NAME ADVERTISE FAKE_ARGS...: fake_smtpd.py (STARTTLS, alice) behind
# a delay proxy; $SCRATCH/NAME/config points at the proxy; sets CASE_DIR
fake() {
    local name=$1 adv=$2
    shift 2
    CASE_DIR=$SCRATCH/$name
    mkdir -p "$CASE_DIR/save"
    start_bg "$name-fake" "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" \
        --port 0 --tls starttls --cert "$TEST_CERT" --key "$TEST_KEY" \
        --user alice:alice-pw --advertise "$adv" \
        --save-dir "$CASE_DIR/save" "$@" || return 1
    FAKE_PID=$BG_PID
    start_proxy "$name-proxy" "$BG_PORT" || return 1
    write_config "$CASE_DIR/config" "host 127.0.0.1" "port $PROXY_PORT" \
        "tls on" "tls_starttls on" "tls_trust_file $TEST_CA" "auth plain" \
        "user alice" "password alice-pw" "from alice@example.test" \
        "timeout 10"
}

# send ARGS...: yubin -C the case's config ARGS < $MSG, then the server
# stopped once the proxy saw the connection end (transcripts written)
send() {
    run_yubin "$MSG" -C "$CASE_DIR/config" "$@"
    proxy_conn 1 > /dev/null
    stop_bg "$FAKE_PID"
}

# lines: the client's commands, one a line
lines() {
    client_lines "$CASE_DIR"
}

# pipelined [EXPR]: the first connection's "pipelined" list (default: the
# verbs only, space-separated)
pipelined() {
    jget "$CASE_DIR/save/conn-0001.json" \
        "${1:-\" \".join(v for v, n in d[\"pipelined\"])}"
}

violation() {
    jget "$CASE_DIR/save/conn-0001.json" 'd["pipelining_violation"]'
}

ehlos() {
    printf '%s\n' "EHLO localhost" "STARTTLS" "EHLO localhost"
}

test_case 'PIPELINING + CHUNKING: AUTH, MAIL, RCPT, BDAT and the message read in one go; 7' '
    fake flight PIPELINING,CHUNKING,SIZE,8BITMIME || return 1
    send rcpt@example.org
    is "$RC" 0 "exit 0"
    is "$(lines)" "$(ehlos; printf "%s\n" "$AUTH" \
        "MAIL FROM:<alice@example.test> SIZE=$SIZE" \
        "RCPT TO:<rcpt@example.org>" "BDAT $SIZE LAST" QUIT)" \
        "every command, exactly: the body never read as one"
    is "$(pipelined)" "AUTH MAIL RCPT" \
        "MAIL, RCPT, BDAT were there when AUTH was read: one flight"
    is "$(violation)" false "no pipelining violation"
    is "$(fake_accepted "$CASE_DIR/save")" 1 "the message taken"
    is "$(proxy_conn 1)" 7 "7 round trips"
    is "$(proxy_conn 1 "d[\"client_closed_first\"]")" true "QUIT not awaited"
'

test_case 'no PIPELINING: one command at a time, AUTH waits for its 235; 10' '
    fake nopipe CHUNKING,SIZE,8BITMIME || return 1
    send rcpt@example.org
    is "$RC" 0 "exit 0"
    is "$(pipelined)" "" "nothing sent ahead"
    is "$(violation)" false "no pipelining violation"
    is "$(proxy_conn 1)" 10 "10 round trips: AUTH, MAIL, RCPT, BDAT each"
'

test_case 'two recipients: the message only after both replies; 8' '
    fake two PIPELINING,CHUNKING,SIZE,8BITMIME || return 1
    send rcpt@example.org second@example.org
    is "$RC" 0 "exit 0"
    is "$(pipelined "d[\"pipelined\"]")" "[[\"AUTH\", 3], [\"MAIL\", 2], [\"RCPT\", 1]]" \
        "AUTH, MAIL, RCPT, RCPT in one go, BDAT alone after"
    is "$(proxy_conn 1)" 8 "8 round trips"
'

test_case 'AUTH refused in the flight: 77, the 535; nothing taken, the body never a command' '
    fake refused PIPELINING,CHUNKING,SIZE,8BITMIME --fault AUTH=535 ||
        return 1
    send rcpt@example.org
    is "$RC" 77 "exit 77"
    is "$(cat "$ERR")" "yubin: authentication (PLAIN) failed for user '"'"'alice'"'"': 535 5.7.8 Authentication credentials invalid" \
        "the AUTH failure, not what MAIL, RCPT and BDAT got"
    is "$(lines)" "$(ehlos; printf "%s\n" "$AUTH" \
        "MAIL FROM:<alice@example.test> SIZE=$SIZE" \
        "RCPT TO:<rcpt@example.org>" "BDAT $SIZE LAST")" \
        "the flight, then nothing: no QUIT, no line of the body"
    is "$(fake_accepted "$CASE_DIR/save")" 0 "nothing taken"
    is "$(proxy_conn 1)" 7 "7 round trips"
'

test_case 'recipient refused in the flight: 67, nothing taken, QUIT' '
    fake rcpt PIPELINING,CHUNKING,SIZE,8BITMIME \
        --fault "RCPT=550 5.1.1 <rcpt@example.org>: no such user" || return 1
    send rcpt@example.org
    is "$RC" 67 "exit 67"
    is "$(cat "$ERR")" "yubin: recipient '"'"'rcpt@example.org'"'"' rejected: 550 5.1.1 <rcpt@example.org>: no such user" \
        "the RCPT reply"
    is "$(lines | tail -n 2)" "$(printf "%s\n" "BDAT $SIZE LAST" QUIT)" \
        "the BDAT went with the flight (refused), then QUIT"
    is "$(fake_accepted "$CASE_DIR/save")" 0 "nothing taken"
'

test_case 'yubin -q: AUTH alone, then each message in one go, one QUIT' '
    local i
    closed_port || return 1
    write_config "$SCRATCH/q.conf" "host 127.0.0.1" "port $CLOSED_PORT" \
        "tls on" "tls_starttls on" "tls_trust_file $TEST_CA" \
        "auth plain" "user alice" "password alice-pw" \
        "from alice@example.test" "timeout 10" "queue on-failure"
    for i in 1 2 3; do
        run_yubin "$MSG" -C "$SCRATCH/q.conf" "r$i@example.org"
        [ "$RC" = 0 ] || { diag_file "$ERR"; return 1; }
    done
    fake queue PIPELINING,CHUNKING,SIZE,8BITMIME || return 1
    sed -i "s/^port .*/port $PROXY_PORT/" "$SCRATCH/q.conf"
    run_yubin /dev/null -q --force
    proxy_conn 1 > /dev/null
    stop_bg "$FAKE_PID"
    is "$RC" 0 "exit 0"
    is "$(fake_accepted "$CASE_DIR/save")" 3 "3 messages taken"
    is "$(pipelined)" "MAIL RCPT MAIL RCPT MAIL RCPT" \
        "AUTH alone (its failure fails the account at once), each message one flight"
    is "$(lines | grep -c "^QUIT$")" 1 "one QUIT, at the end"
    is "$(proxy_conn 1)" 10 "10 round trips"
'

done_testing
