#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0300-fake-faults.sh -- yubin against tests/fake/fake_smtpd.py (aiosmtpd)
# with faults injected at each stage: temporary failures and lost
# connections are 75, a refused recipient 67, a silent server is given up
# after the configured timeout, and nothing is accepted by the server.
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd
test_pki

plan 39

TOKEN=$(new_token)
make_message "$SCRATCH/msg" "$TOKEN"
make_message "$SCRATCH/big" "$TOKEN" 300000
# what the server must store: the message in CRLF form
sed 's/$/\r/' "$SCRATCH/msg" > "$SCRATCH/msg.crlf"

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
EXTRA_CONFIG=()
fake ok-plain none || bail_out "fake_smtpd.py does not start"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/ok-plain/config" rcpt@example.org
is "$RC" 0 "baseline, no TLS: exit 0"
[ "$RC" = 0 ] || show ok-plain
is "$(accepted "$SCRATCH/ok-plain/save")" 1 "baseline, no TLS: one message accepted"
if cmp -s "$SCRATCH/msg.crlf" "$SCRATCH/ok-plain/save/0001.eml"; then
    ok "baseline, no TLS: stored bytes = input in CRLF form"
else
    not_ok "baseline, no TLS: stored bytes = input in CRLF form"
    diag "$(cmp "$SCRATCH/msg.crlf" "$SCRATCH/ok-plain/save/0001.eml" 2>&1)"
fi
stop_bg "$FAKE_PID"

fake ok-starttls starttls --user alice:alice-pw || bail_out "fake_smtpd.py does not start"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/ok-starttls/config" rcpt@example.org
is "$RC" 0 "baseline, STARTTLS + AUTH: exit 0"
[ "$RC" = 0 ] || show ok-starttls
meta=$(cat "$SCRATCH/ok-starttls/save/0001.json" 2>/dev/null)
like "$meta" '"tls": true' "baseline, STARTTLS + AUTH: message came over TLS"
like "$meta" '"auth_user": "alice"' "baseline, STARTTLS + AUTH: authenticated as alice"
check "baseline, STARTTLS + AUTH: stored bytes = input in CRLF form" \
    cmp -s "$SCRATCH/msg.crlf" "$SCRATCH/ok-starttls/save/0001.eml"
stop_bg "$FAKE_PID"

# ------------------------------------------------ faults
# fault_case NAME EXPECTED_EXIT MESSAGE FAULT_ARGS...: 3 TAP lines
fault_case() {
    local name=$1 want=$2 msg=$3
    shift 3
    if ! fake "$name" none "$@"; then
        not_ok "$name: fake server started"
        not_ok "$name: (skipped)"
        not_ok "$name: (skipped)"
        return
    fi
    run_yubin "$msg" -C "$SCRATCH/$name/config" rcpt@example.org
    local rc=$RC failed=0
    if [ "$rc" = "$want" ]; then
        ok "$name: exit $want"
    else
        not_ok "$name: exit $want"
        failed=1
    fi
    local conn
    conn=$(conn_json "$name")
    if printf '%s\n' "$conn" | grep -q '! fault \|dropped after'; then
        ok "$name: the fault was applied"
    else
        not_ok "$name: the fault was applied"
        failed=1
    fi
    local n
    n=$(accepted "$SCRATCH/$name/save")
    is "$n" 0 "$name: no message accepted"
    [ "$n" = 0 ] || failed=1
    if [ "$failed" = 1 ]; then
        show "$name"
        diag "connection transcript:" "$conn"
    fi
    stop_bg "$FAKE_PID"
}

fault_case mail-421 75 "$SCRATCH/msg" --fault MAIL=421
fault_case mail-451 75 "$SCRATCH/msg" --fault MAIL=451
fault_case rcpt-421 75 "$SCRATCH/msg" --fault RCPT=421
fault_case rcpt-451 75 "$SCRATCH/msg" --fault RCPT=451
fault_case data-end-421 75 "$SCRATCH/msg" --fault DATA_END=421
fault_case data-end-451 75 "$SCRATCH/msg" --fault DATA_END=451
fault_case rcpt-550 67 "$SCRATCH/msg" --fault 'RCPT=550 5.1.1 <rcpt@example.org>: no such user'
like "$(cat "$ERR")" '550 5\.1\.1' "rcpt-550: the server's reply is in the message"
fault_case data-drop-after 75 "$SCRATCH/big" --fault DATA=drop-after:50000
fault_case data-reset 75 "$SCRATCH/msg" --fault DATA_END=reset

# a silent server: given up after "timeout 2"
EXTRA_CONFIG=("timeout 2")
fault_case mail-hang 75 "$SCRATCH/msg" --fault MAIL=hang
EXTRA_CONFIG=()
if seconds_below "$SECS" 4; then
    ok "mail-hang: gave up after the 2 s timeout (${SECS}s)"
else
    not_ok "mail-hang: gave up after the 2 s timeout (took ${SECS}s)"
fi

done_testing
