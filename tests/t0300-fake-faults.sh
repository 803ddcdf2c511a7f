#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0300-fake-faults.sh -- yubin against tests/fake/fake_smtpd.py (aiosmtpd)
# with faults injected at each stage: temporary failures and lost
# connections are 75, a refused recipient 67, a silent server is given up
# after the configured timeout, and nothing is accepted by the server.
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
BIG=$SCRATCH/big
make_message "$MSG" "$TOKEN"
make_message "$BIG" "$TOKEN" 300000
# what the server must store: the message in CRLF form
sed 's/$/\r/' "$MSG" > "$MSG.crlf"

# fake NAME TLS CONFIG_LINES_VAR FAKE_ARGS...: start fake_smtpd.py
# (TLS: none | starttls | implicit) and write $SCRATCH/NAME/config
fake() {
    local name=$1 tls=$2
    shift 2
    local dir=$SCRATCH/$name
    mkdir -p "$dir/save"
    start_bg "$name-fake" "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" \
        --port 0 --tls "$tls" --cert "$TEST_CERT" --key "$TEST_KEY" \
        --save-dir "$dir/save" "$@" || return 1
    FAKE_PID=$BG_PID
    local -a tlscfg=("tls off" "auth off")
    case $tls in
    starttls) tlscfg=("tls on" "tls_starttls on" "auth on" "user alice"
                      "password alice-pw") ;;
    implicit) tlscfg=("tls on" "tls_starttls off" "auth on" "user alice"
                      "password alice-pw") ;;
    esac
    write_config "$dir/config" "host 127.0.0.1" "port $BG_PORT" \
        "tls_trust_file $TEST_CA" "from alice@example.test" "timeout 10" \
        "${tlscfg[@]}" ${EXTRA_CONFIG[@]+"${EXTRA_CONFIG[@]}"}
}

# accepted DIR: how many messages the fake server answered 2xx to
accepted() {
    fake_accepted "$1"
}

# show NAME: diagnostics for a case
show() {
    local dir=$SCRATCH/$1 f
    diag "yubin exit $RC in ${SECS}s"
    diag_file "$ERR" 30
    for f in "$dir"/save/*.json; do
        [ -e "$f" ] && diag_file "$f" 80
    done
    diag_file "$SCRATCH/$1-fake.err" 20
}

# conn_json NAME: the connection transcripts of a case, once the server has
# written them (it does when the connection closes)
conn_json() {
    local dir=$SCRATCH/$1/save
    for _ in $(seq 30); do
        ls "$dir"/conn-*.json >/dev/null 2>&1 && break
        sleep 0.1
    done
    cat "$dir"/conn-*.json 2>/dev/null
}

# ------------------------------------------------ baselines: the faults are
# the only reason the cases below fail
test_case 'baseline, no TLS' <<'CASE'
    fake ok-plain none || return 1
    run_yubin "$MSG" -C "$SCRATCH/ok-plain/config" rcpt@example.org
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || show ok-plain
    is "$(accepted "$SCRATCH/ok-plain/save")" 1 "one message accepted"
    if cmp -s "$MSG.crlf" "$SCRATCH/ok-plain/save/0001.eml"; then
        ok "stored bytes = input in CRLF form"
    else
        not_ok "stored bytes = input in CRLF form"
        diag "$(cmp "$MSG.crlf" "$SCRATCH/ok-plain/save/0001.eml" 2>&1)"
    fi
CASE

test_case 'baseline, STARTTLS + AUTH' <<'CASE'
    fake ok-starttls starttls --user alice:alice-pw || return 1
    run_yubin "$MSG" -C "$SCRATCH/ok-starttls/config" rcpt@example.org
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || show ok-starttls
    meta=$(cat "$SCRATCH/ok-starttls/save/0001.json" 2>/dev/null)
    like "$meta" '"tls": true' "message came over TLS"
    like "$meta" '"auth_user": "alice"' "authenticated as alice"
    check "stored bytes = input in CRLF form" \
        cmp -s "$MSG.crlf" "$SCRATCH/ok-starttls/save/0001.eml"
CASE

# ------------------------------------------------ faults
# fault_case NAME EXPECTED_EXIT MESSAGE FAULT_ARGS...: 3 TAP lines
fault_case() {
    local name=$1 want=$2 msg=$3
    shift 3
    fake "$name" none "$@" || return 1
    run_yubin "$msg" -C "$SCRATCH/$name/config" rcpt@example.org
    local failed=0
    is "$RC" "$want" "exit $want"
    [ "$RC" = "$want" ] || failed=1
    local conn
    conn=$(conn_json "$name")
    if printf '%s\n' "$conn" | grep -q '! fault \|dropped after'; then
        ok "the fault was applied"
    else
        not_ok "the fault was applied"
        failed=1
    fi
    local n
    n=$(accepted "$SCRATCH/$name/save")
    is "$n" 0 "no message accepted"
    [ "$n" = 0 ] || failed=1
    if [ "$failed" = 1 ]; then
        show "$name"
        diag "connection transcript:" "$conn"
    fi
    stop_bg "$FAKE_PID"
}

test_case 'mail-421' 'fault_case mail-421 75 "$MSG" --fault MAIL=421'
test_case 'mail-451' 'fault_case mail-451 75 "$MSG" --fault MAIL=451'
test_case 'rcpt-421' 'fault_case rcpt-421 75 "$MSG" --fault RCPT=421'
test_case 'rcpt-451' 'fault_case rcpt-451 75 "$MSG" --fault RCPT=451'
test_case 'data-end-421' 'fault_case data-end-421 75 "$MSG" --fault DATA_END=421'
test_case 'data-end-451' 'fault_case data-end-451 75 "$MSG" --fault DATA_END=451'
test_case 'rcpt-550' <<'CASE'
    fault_case rcpt-550 67 "$MSG" \
        --fault 'RCPT=550 5.1.1 <rcpt@example.org>: no such user' || return 1
    like "$(cat "$ERR")" '550 5\.1\.1' "the server's reply is in the message"
CASE
test_case 'data-drop-after' \
    'fault_case data-drop-after 75 "$BIG" --fault DATA=drop-after:50000'
test_case 'data-reset' 'fault_case data-reset 75 "$MSG" --fault DATA_END=reset'

# a silent server: given up after "timeout 2"
test_case 'mail-hang' <<'CASE'
    EXTRA_CONFIG=("timeout 2")
    fault_case mail-hang 75 "$MSG" --fault MAIL=hang || return 1
    check "gave up after the 2 s timeout (${SECS}s)" seconds_below "$SECS" 4
CASE

done_testing
