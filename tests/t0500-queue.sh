#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0500-queue.sh -- the queue through the yubin binary, against
# tests/fake/fake_smtpd.py: a temporary failure queues the message (exit 0,
# "message queued as ID"), "queue off" does not, a permanent failure is
# never queued; -bp/--queue-list (and --json) show it; -q sends it with the
# config it was queued with, the bytes unchanged, several messages over one
# connection; a 5xx at flush time moves it to failed/ and reports it to the
# sender from <>; --queue-retry and --queue-remove; "queue always" sends in
# the background; a send flushes what is due for its account; the DSN
# parameters survive the queue; queue_max_age.
# Each case has its own queue ($QUEUE_DIR) and fills it itself.
#
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd
ID_RE='[0-9]{8}T[0-9]{6}-[A-Za-z0-9]+'

# fixtures: the message (and its CRLF form), a port where nothing listens
TOKEN=$(new_token)
MSG=$SCRATCH/msg
make_message "$MSG" "$TOKEN"
sed 's/$/\r/' "$MSG" > "$SCRATCH/msg.crlf"
MSG_CRLF=$SCRATCH/msg.crlf
closed_port || bail_out "cannot hold a closed port"
DOWN=$CLOSED_PORT

# config NAME PORT LINE...: $SCRATCH/NAME/config for a plain fake server
config() {
    local name=$1 port=$2
    shift 2
    mkdir -p "$SCRATCH/$name"
    write_config "$SCRATCH/$name/config" "host 127.0.0.1" "port $port" \
        "tls off" "auth off" "from alice@example.test" "timeout 10" \
        "queue on-failure" "$@"
}

# fake NAME FAKE_ARGS...: start fake_smtpd.py (no TLS) saving into
# $SCRATCH/NAME/save; FAKE_PID, BG_PORT
fake() {
    local name=$1
    shift
    mkdir -p "$SCRATCH/$name/save"
    start_bg "$name-fake" "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" \
        --port 0 --tls none --save-dir "$SCRATCH/$name/save" "$@" || return 1
    FAKE_PID=$BG_PID
}

# repoint NAME PORT: the config file now names another port
repoint() {
    sed -i "s/^port .*/port $2/" "$SCRATCH/$1/config"
}

# accepted DIR: messages the fake server answered 2xx to
accepted() {
    fake_accepted "$1"
}

# wait_accepted DIR N: wait (10 s) until DIR holds N accepted messages
wait_accepted() {
    for _ in $(seq 100); do
        [ "$(accepted "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# queued_id: the ID in "message queued as ID" of the last run
queued_id() {
    grep -Eo "queued as $ID_RE" "$ERR" | head -n 1 | sed 's/^queued as //'
}

# enqueue NAME ARGS...: send $MSG with $SCRATCH/NAME/config (its server
# down) and ARGS; sets ID, false if nothing was queued
enqueue() {
    local name=$1
    shift
    run_yubin "$MSG" -C "$SCRATCH/$name/config" "$@"
    ID=$(queued_id)
    [ -n "$ID" ] || { show; return 1; }
}

# queued_then_up NAME FAKE_ARGS... -- ENQUEUE_ARGS...: a message queued
# while the server was down (config "down"), then the fake server NAME up
# and the config pointed at it; sets ID, FAKE_PID
queued_then_up() {
    local name=$1
    local -a fa=()
    shift
    while [ "$1" != -- ]; do
        fa+=("$1")
        shift
    done
    shift
    config down "$DOWN"
    enqueue down "$@" || return 1
    fake "$name" ${fa[@]+"${fa[@]}"} || return 1
    repoint down "$BG_PORT"
}

# flush_now ID: make ID due, then yubin -q
flush_now() {
    run_yubin /dev/null --queue-retry "$1"
    run_yubin /dev/null -q
}

count_files() {
    find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l
}

show() {
    diag "yubin exit $RC in ${SECS}s"
    diag_file "$ERR" 30
    diag_file "$OUT" 30
}

# bounced: a message queued, then refused (550) at flush time by the fake
# server "bounce", which also receives the report; sets ID
bounced() {
    queued_then_up bounce \
        --fault "RCPT#1=550 5.1.1 <rcpt@example.org>: no such user" \
        -- rcpt@example.org || return 1
    flush_now "$ID"
}

# ------------------------------------------------ a temporary failure queues
test_case 'a temporary failure queues the message' '
    config down "$DOWN"
    run_yubin "$MSG" -C "$SCRATCH/down/config" rcpt@example.org
    is "$RC" 0 "server down, default policy on-failure: exit 0"
    ID=$(queued_id)
    like "$(cat "$ERR")" "^yubin: message queued as $ID_RE: .*(connect|refused)" \
        "it says: message queued as ID: <why>"
    [ -n "$ID" ] || show
    check "msg/ID exists" test -f "$QUEUE_DIR/msg/$ID"
    is "$(stat -c %a "$QUEUE_DIR" "$QUEUE_DIR/msg" "$QUEUE_DIR/tmp" \
        "$QUEUE_DIR/failed" | sort -u)" 700 "queue directories are mode 700"
    is "$(stat -c %a "$QUEUE_DIR/msg/$ID" 2>/dev/null)" 600 \
        "the queue file is mode 600"
'

test_case '--queue-list, -bp and --json show a queued message' '
    config down "$DOWN"
    enqueue down rcpt@example.org || return 1
    run_yubin /dev/null --queue-list
    is "$RC" 0 "--queue-list: exit 0"
    like "$(cat "$OUT")" "^$ID .*alice@example.test" "--queue-list: ID and sender"
    like "$(cat "$OUT")" "to: rcpt@example.org" "--queue-list: recipient"
    like "$(cat "$OUT")" "last error: .*(connect|refused)" \
        "--queue-list: last error"
    run_yubin /dev/null -bp
    like "$(cat "$OUT")" "^$ID " "-bp lists it too"
    run_yubin /dev/null --queue-list --json
    like "$(cat "$OUT")" "^\\{\"id\":\"$ID\",\"state\":\"queued\"" \
        "--queue-list --json: one object per line"
    check "--queue-list --json: valid JSON" "$PYTHON" -c "
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)" "$OUT"
'

# ------------------------------------------------ queue off / permanent errors
test_case 'queue off: a temporary failure is not queued' '
    config off "$DOWN" "queue off"
    run_yubin "$MSG" -C "$SCRATCH/off/config" rcpt@example.org
    is "$RC" 75 "exit 75 as before"
    is "$(count_files "$QUEUE_DIR/msg")" 0 "nothing queued"
'

test_case 'a 5xx is not queued' '
    fake perm --fault "RCPT=550 5.1.1 <rcpt@example.org>: no such user" ||
        return 1
    config perm "$BG_PORT"
    run_yubin "$MSG" -C "$SCRATCH/perm/config" rcpt@example.org
    is "$RC" 67 "exit 67"
    is "$(count_files "$QUEUE_DIR/msg")" 0 "nothing queued for it"
'

# ------------------------------------------------ -q sends it
test_case '-q sends it with the config it was queued with' '
    queued_then_up up -- rcpt@example.org || return 1
    run_yubin /dev/null --queue-retry "$ID"
    is "$RC" 0 "--queue-retry ID: exit 0"
    run_yubin /dev/null -q
    is "$RC" 0 "-q (no -C: the config the message was queued with): exit 0"
    [ "$RC" = 0 ] || show
    is "$(accepted "$SCRATCH/up/save")" 1 "-q: the message was sent"
    check "-q: stored bytes = input in CRLF form" \
        cmp -s "$MSG_CRLF" "$SCRATCH/up/save/0001.eml"
    is "$(count_files "$QUEUE_DIR/msg")" 0 "-q: the queue is empty again"
    run_yubin /dev/null -bp
    like "$(cat "$OUT")" "queue is empty" "-bp: queue is empty"
'

# ------------------------------------------------ several over one connection
test_case '-q sends several over one connection' '
    local ids=() i
    config down "$DOWN"
    for i in 1 2 3; do
        enqueue down "r$i@example.org" || return 1
        ids+=("$ID")
    done
    is "$(count_files "$QUEUE_DIR/msg")" 3 "three queued"
    fake multi || return 1
    repoint down "$BG_PORT"
    for i in "${ids[@]}"; do
        run_yubin /dev/null --queue-retry "$i"
    done
    run_yubin /dev/null -q
    is "$(accepted "$SCRATCH/multi/save")" 3 "-q: three sent"
    sleep 0.3
    is "$(find "$SCRATCH/multi/save" -name "conn-*.json" | wc -l)" 1 \
        "-q: over one connection"
'

test_case '200 in one flush' '
    local n=0 i
    config many "$DOWN"
    for i in $(seq 200); do
        run_yubin "$MSG" -C "$SCRATCH/many/config" "m$i@example.org"
        [ "$RC" = 0 ] && n=$((n + 1))
    done
    is "$n" 200 "200 messages queued while the server is down"
    fake many || return 1
    repoint many "$BG_PORT"
    run_yubin /dev/null -q --force
    is "$RC" 0 "-q --force with 200 queued: exit 0 (${SECS}s)"
    wait_accepted "$SCRATCH/many/save" 200
    is "$(accepted "$SCRATCH/many/save")" 200 "200 sent"
    sleep 0.3
    is "$(find "$SCRATCH/many/save" -name "conn-*.json" | wc -l)" 1 \
        "200 sent over ONE connection (connections counted at the server)"
    run_yubin /dev/null --queue-list --json
    is "$(grep -c "\"m[0-9]*@example\\.org\"" "$OUT")" 0 \
        "none of the 200 left queued"
'

# ------------------------------------------------ 5xx at flush: failed/, report
test_case 'a 5xx at flush: failed/, and a report to the sender' <<'CASE'
    bounced || return 1
    is "$RC" 0 "-q with a 5xx: exit 0 (the message failed, not the flush)"
    like "$(cat "$ERR")" "$ID.*550 5\\.1\\.1" "-q: says which message failed and why"
    check "the message is in failed/" test -f "$QUEUE_DIR/failed/$ID"
    run_yubin /dev/null -bp
    like "$(cat "$OUT")" "^$ID .* failed " "-bp shows it as failed"
    report=$(grep -l '"mail_from": "\(<>\)\?"' "$SCRATCH"/bounce/save/0*.json \
        2>/dev/null | head -n 1)
    check "a report was sent from <>" test -n "$report"
    like "$(tr -d ' \n' < "$report" 2>/dev/null)" \
        '"rcpt_tos":\["alice@example.test"\]' "to the envelope sender"
    eml=${report%.json}.eml
    like "$(cat "$eml" 2>/dev/null)" "^Subject: undeliverable: yubin test $TOKEN" \
        "Subject: undeliverable: <original subject>"
    like "$(cat "$eml" 2>/dev/null)" "^X-Yubin-Test: $TOKEN" \
        "the report holds the original headers"
CASE

test_case '--queue-retry and --queue-remove of a failed message' '
    bounced || return 1
    check "(set-up) the message is in failed/" test -f "$QUEUE_DIR/failed/$ID"
    run_yubin /dev/null --queue-retry "$ID"
    check "--queue-retry of a failed message: back in msg/" \
        test -f "$QUEUE_DIR/msg/$ID"
    run_yubin /dev/null --queue-remove "$ID"
    is "$RC" 0 "--queue-remove: exit 0"
    check "--queue-remove: gone" test ! -e "$QUEUE_DIR/msg/$ID"
    run_yubin /dev/null --queue-remove "$ID"
    is "$RC" 64 "--queue-remove of an unknown ID: exit 64"
    run_yubin /dev/null --queue-remove "../../../etc/passwd"
    is "$RC" 64 "--queue-remove of a path: exit 64"
'

# ------------------------------------------------ queue always
test_case 'queue always: sent in the background' '
    fake always || return 1
    config always "$BG_PORT" "queue always"
    run_yubin "$MSG" -C "$SCRATCH/always/config" rcpt@example.org
    is "$RC" 0 "exit 0"
    like "$(cat "$ERR")" "queued as $ID_RE" "queued"
    check "sent in the background" wait_accepted "$SCRATCH/always/save" 1
    check "returned at once (${SECS}s)" seconds_below "$SECS" 2
'

# ------------------------------------------------ a send flushes what is due
test_case 'a send flushes what is due for its account' '
    queued_then_up up -- early@example.org || return 1
    run_yubin /dev/null --queue-retry "$ID"
    run_yubin "$MSG" -C "$SCRATCH/down/config" later@example.org
    is "$RC" 0 "a normal send: exit 0"
    check "it also flushed the due message of its account" \
        wait_accepted "$SCRATCH/up/save" 2
    stop_bg "$FAKE_PID"
    for _ in $(seq 50); do
        [ "$(count_files "$QUEUE_DIR/msg")" = 0 ] && break
        sleep 0.1
    done
    is "$(count_files "$QUEUE_DIR/msg")" 0 "queue empty"
'

# ------------------------------------------------ DSN parameters survive
test_case 'the DSN parameters survive the queue' '
    local meta
    queued_then_up dsn \
        --advertise PIPELINING,8BITMIME,SIZE,ENHANCEDSTATUSCODES,DSN -- \
        -N FAILURE,DELAY -R HDRS -V "env-$TOKEN" rcpt@example.org || return 1
    flush_now "$ID"
    meta=$(cat "$SCRATCH/dsn/save/0001.json" 2>/dev/null)
    like "$meta" "RET=HDRS" "RET kept in the queue"
    like "$meta" "ENVID=env-$TOKEN" "ENVID kept"
    like "$meta" "NOTIFY=FAILURE,DELAY" "NOTIFY kept"
'

# ------------------------------------------------ queue_max_age
test_case 'queue_max_age' <<'CASE'
    config old "$DOWN" "queue_max_age 1"
    enqueue old rcpt@example.org || return 1
    sleep 2
    flush_now "$ID"
    like "$(cat "$ERR")" "$ID.*expired" "queue_max_age 1: expired at the next try"
    check "moved to failed/" test -f "$QUEUE_DIR/failed/$ID"
    run_yubin /dev/null --queue-list --json
    like "$(cat "$OUT")" '"from":"","rcpt":\["alice@example.test"\]' \
        "the report to the sender waits in the queue (server down)"
CASE

# ------------------------------------------------ -q --force
# (a back-off the server asked for: a 4xx; t0530 has the network's)
test_case '-q waits for the retry time, -q --force does not' '
    fake later --fault "RCPT=451 4.3.0 try later" || return 1
    config force "$BG_PORT"
    enqueue force "force-$TOKEN@example.org" || return 1
    fake force || return 1
    repoint force "$BG_PORT"
    run_yubin /dev/null -q
    check "-q: a message whose retry time has not come stays" \
        test -f "$QUEUE_DIR/msg/$ID"
    is "$(accepted "$SCRATCH/force/save")" 0 "-q: nothing sent early"
    run_yubin /dev/null -q --force
    is "$RC" 0 "-q --force: exit 0"
    check "-q --force: sent and gone from the queue" \
        test ! -e "$QUEUE_DIR/msg/$ID"
    is "$(accepted "$SCRATCH/force/save")" 1 "-q --force: delivered once"
'

done_testing
