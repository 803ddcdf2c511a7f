#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0406-auth-replies.sh -- how yubin maps the server's answer to AUTH
# (tests/fake/fake_smtpd.py --fault AUTH=...): 535 -> 77 with the server's
# text; 454 -> 75 (try again later); 534 and 538 -> 77 with a hint; and
# nothing is taken after a refused AUTH: the fake offers PIPELINING, so
# MAIL FROM, RCPT TO and BDAT went in one flight with AUTH (issue 11), but
# nothing more is sent and nothing is accepted (without PIPELINING no MAIL
# FROM is sent at all: t0330-round-trips-fake.sh).
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd
test_pki

TOKEN=$(new_token)
MSG=$SCRATCH/msg
make_message "$MSG" "$TOKEN"

# auth_case NAME FAULT: fake_smtpd.py answering AUTH with FAULT ("" for
# none); sets RC ERR, MAILS (MAIL commands the server saw) and ACC
# (messages it accepted); false if the server does not start
auth_case() {
    local name=$1 fault=$2 dir=$SCRATCH/$1
    local -a f=()
    [ -n "$fault" ] && f=(--fault "AUTH=$fault")
    mkdir -p "$dir/save"
    if ! start_bg "$name" "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" \
            --port 0 --tls starttls --cert "$TEST_CERT" --key "$TEST_KEY" \
            --user alice:alice-pw --mechs PLAIN,LOGIN \
            --save-dir "$dir/save" ${f[@]+"${f[@]}"}; then
        return 1
    fi
    write_config "$dir/config" "host 127.0.0.1" "port $BG_PORT" \
        "tls_trust_file $TEST_CA" "user alice" "password alice-pw" \
        "auth plain" "from alice@example.test" "timeout 10"
    run_yubin "$MSG" -v -C "$dir/config" rcpt@example.org
    stop_bg "$BG_PID"
    MAILS=$(cat "$dir"/save/conn-*.json 2>/dev/null | grep -c ' C MAIL FROM')
    ACC=$(fake_accepted "$dir/save")
    return 0
}

test_case 'AUTH accepted' '
    auth_case ok "" || return 1
    is "$RC" 0 "exit 0"
    is "$MAILS" 1 "the server saw MAIL FROM"
'

test_case '535' <<'CASE'
    auth_case r535 "535 5.7.8 Bad credentials (yubin test)" || return 1
    is "$RC" 77 "exit 77"
    like "$(cat "$ERR")" \
        "^yubin: authentication \\(PLAIN\\) failed for user 'alice': 535 5\\.7\\.8 Bad credentials \\(yubin test\\)\$" \
        "the message carries the server's text"
    is "$MAILS" 1 "MAIL FROM went with AUTH, in its flight"
    is "$ACC" 0 "nothing accepted"
    is "$(grep -c '^yubin: --> MAIL' "$ERR")" 1 "no MAIL FROM after the flight"
CASE

test_case '454' <<'CASE'
    auth_case r454 "454 4.7.0 Temporary authentication failure (yubin test)" ||
        return 1
    is "$RC" 75 "exit 75 (temporary)"
    like "$(cat "$ERR")" \
        "^yubin: authentication \\(PLAIN\\) failed temporarily: 454 4\\.7\\.0 Temporary authentication failure \\(yubin test\\)\$" \
        "'failed temporarily' with the server's text"
    is "$MAILS" 1 "MAIL FROM went with AUTH, in its flight"
    is "$ACC" 0 "nothing accepted"
CASE

test_case '534' <<'CASE'
    auth_case r534 "534 5.7.9 Please log in with your web browser" || return 1
    is "$RC" 77 "exit 77"
    like "$(cat "$ERR")" "another mechanism or a log-in through its web site" \
        "the message has a hint"
    like "$(cat "$ERR")" "534 5\\.7\\.9 Please log in with your web browser" \
        "and the server's text"
    is "$MAILS" 1 "MAIL FROM went with AUTH, in its flight"
    is "$ACC" 0 "nothing accepted"
CASE

test_case '538' '
    auth_case r538 "538 5.7.11 Encryption required" || return 1
    is "$RC" 77 "exit 77"
    like "$(cat "$ERR")" "the server requires encryption" "the message has a hint"
    is "$MAILS" 1 "MAIL FROM went with AUTH, in its flight"
    is "$ACC" 0 "nothing accepted"
'

test_case '421 to AUTH' <<'CASE'
    auth_case r421 "421 4.7.0 going down" || return 1
    is "$RC" 75 "exit 75"
    is "$MAILS" 0 "no MAIL FROM reached the server"
    unlike "$(cat "$ERR")" 'alice-pw|AGFsaWNlAGFsaWNlLXB3' \
        "the trace holds no password"
CASE

done_testing
