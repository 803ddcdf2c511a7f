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
#
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd
Q=$XDG_STATE_HOME/yubin/queue		# lib.sh gives each test its own
ID_RE='[0-9]{8}T[0-9]{6}-[A-Za-z0-9]+'

TOKEN=$(new_token)
make_message "$SCRATCH/msg" "$TOKEN"
sed 's/$/\r/' "$SCRATCH/msg" > "$SCRATCH/msg.crlf"

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

count_files() {
    find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l
}

show() {
    diag "yubin exit $RC in ${SECS}s"
    diag_file "$ERR" 30
    diag_file "$OUT" 30
}

DOWN=$(free_port)

# ------------------------------------------------ a temporary failure queues
config down "$DOWN"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/down/config" rcpt@example.org
is "$RC" 0 "server down, default policy on-failure: exit 0"
ID=$(queued_id)
like "$(cat "$ERR")" "^yubin: message queued as $ID_RE: .*(connect|refused)" \
    "it says: message queued as ID: <why>"
[ -n "$ID" ] || show
check "msg/ID exists" test -f "$Q/msg/$ID"
is "$(stat -c %a "$Q" "$Q/msg" "$Q/tmp" "$Q/failed" | sort -u)" 700 \
    "queue directories are mode 700"
is "$(stat -c %a "$Q/msg/$ID" 2>/dev/null)" 600 "the queue file is mode 600"

run_yubin /dev/null --queue-list
is "$RC" 0 "--queue-list: exit 0"
like "$(cat "$OUT")" "^$ID .*alice@example.test" "--queue-list: ID and sender"
like "$(cat "$OUT")" "to: rcpt@example.org" "--queue-list: recipient"
like "$(cat "$OUT")" "last error: .*(connect|refused)" "--queue-list: last error"
run_yubin /dev/null -bp
like "$(cat "$OUT")" "^$ID " "-bp lists it too"
run_yubin /dev/null --queue-list --json
like "$(cat "$OUT")" "^\\{\"id\":\"$ID\",\"state\":\"queued\"" \
    "--queue-list --json: one object per line"
check "--queue-list --json: valid JSON" "$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)' "$OUT"

# ------------------------------------------------ queue off / permanent errors
config off "$DOWN" "queue off"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/off/config" rcpt@example.org
is "$RC" 75 "queue off: exit 75 as before"
is "$(count_files "$Q/msg")" 1 "queue off: nothing queued"

fake perm --fault 'RCPT=550 5.1.1 <rcpt@example.org>: no such user' ||
    bail_out "fake_smtpd.py does not start"
config perm "$BG_PORT"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/perm/config" rcpt@example.org
is "$RC" 67 "a 5xx is not queued: exit 67"
is "$(count_files "$Q/msg")" 1 "nothing queued for it"
stop_bg "$FAKE_PID"

# ------------------------------------------------ -q sends it
fake up || bail_out "fake_smtpd.py does not start"
repoint down "$BG_PORT"
run_yubin /dev/null --queue-retry "$ID"
is "$RC" 0 "--queue-retry ID: exit 0"
run_yubin /dev/null -q
is "$RC" 0 "-q (no -C: the config the message was queued with): exit 0"
[ "$RC" = 0 ] || show
is "$(accepted "$SCRATCH/up/save")" 1 "-q: the message was sent"
check "-q: stored bytes = input in CRLF form" \
    cmp -s "$SCRATCH/msg.crlf" "$SCRATCH/up/save/0001.eml"
is "$(count_files "$Q/msg")" 0 "-q: the queue is empty again"
run_yubin /dev/null -bp
like "$(cat "$OUT")" "queue is empty" "-bp: queue is empty"
stop_bg "$FAKE_PID"

# ------------------------------------------------ several over one connection
repoint down "$DOWN"
ids=()
for i in 1 2 3; do
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/down/config" "r$i@example.org"
    ids+=("$(queued_id)")
done
is "$(count_files "$Q/msg")" 3 "three queued"
fake multi || bail_out "fake_smtpd.py does not start"
repoint down "$BG_PORT"
for i in "${ids[@]}"; do
    run_yubin /dev/null --queue-retry "$i"
done
run_yubin /dev/null -q
is "$(accepted "$SCRATCH/multi/save")" 3 "-q: three sent"
sleep 0.3
is "$(find "$SCRATCH/multi/save" -name 'conn-*.json' | wc -l)" 1 \
    "-q: over one connection"
stop_bg "$FAKE_PID"

# ------------------------------------------------ 200 in one flush
config many "$DOWN" "queue on-failure"
n=0
for i in $(seq 200); do
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/many/config" "m$i@example.org"
    [ "$RC" = 0 ] && n=$((n + 1))
done
is "$n" 200 "200 messages queued while the server is down"
fake many || bail_out "fake_smtpd.py does not start"
repoint many "$BG_PORT"
run_yubin /dev/null -q --force
is "$RC" 0 "-q --force with 200 queued: exit 0 (${SECS}s)"
wait_accepted "$SCRATCH/many/save" 200
is "$(accepted "$SCRATCH/many/save")" 200 "200 sent"
sleep 0.3
is "$(find "$SCRATCH/many/save" -name 'conn-*.json' | wc -l)" 1 \
    "200 sent over ONE connection (connections counted at the server)"
run_yubin /dev/null --queue-list --json
is "$(grep -c '"m[0-9]*@example\.org"' "$OUT")" 0 "none of the 200 left queued"
stop_bg "$FAKE_PID"

# ------------------------------------------------ 5xx at flush: failed/, report
repoint down "$DOWN"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/down/config" rcpt@example.org
ID=$(queued_id)
fake bounce --fault 'RCPT#1=550 5.1.1 <rcpt@example.org>: no such user' ||
    bail_out "fake_smtpd.py does not start"
repoint down "$BG_PORT"
run_yubin /dev/null --queue-retry "$ID"
run_yubin /dev/null -q
is "$RC" 0 "-q with a 5xx: exit 0 (the message failed, not the flush)"
like "$(cat "$ERR")" "$ID.*550 5\\.1\\.1" "-q: says which message failed and why"
check "the message is in failed/" test -f "$Q/failed/$ID"
run_yubin /dev/null -bp
like "$(cat "$OUT")" "^$ID .* failed " "-bp shows it as failed"
report=$(grep -l '"mail_from": "\(<>\)\?"' "$SCRATCH"/bounce/save/0*.json 2>/dev/null | head -n 1)
check "a report was sent from <>" test -n "$report"
like "$(tr -d ' \n' < "$report" 2>/dev/null)" '"rcpt_tos":\["alice@example.test"\]' \
    "to the envelope sender"
eml=${report%.json}.eml
like "$(cat "$eml" 2>/dev/null)" "^Subject: undeliverable: yubin test $TOKEN" \
    "Subject: undeliverable: <original subject>"
like "$(cat "$eml" 2>/dev/null)" "^X-Yubin-Test: $TOKEN" \
    "the report holds the original headers"
run_yubin /dev/null --queue-retry "$ID"
check "--queue-retry of a failed message: back in msg/" test -f "$Q/msg/$ID"
run_yubin /dev/null --queue-remove "$ID"
is "$RC" 0 "--queue-remove: exit 0"
check "--queue-remove: gone" test ! -e "$Q/msg/$ID"
run_yubin /dev/null --queue-remove "$ID"
is "$RC" 64 "--queue-remove of an unknown ID: exit 64"
run_yubin /dev/null --queue-remove "../../../etc/passwd"
is "$RC" 64 "--queue-remove of a path: exit 64"
stop_bg "$FAKE_PID"

# ------------------------------------------------ queue always
fake always || bail_out "fake_smtpd.py does not start"
config always "$BG_PORT" "queue always"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/always/config" rcpt@example.org
is "$RC" 0 "queue always: exit 0"
like "$(cat "$ERR")" "queued as $ID_RE" "queue always: queued"
check "queue always: sent in the background" \
    wait_accepted "$SCRATCH/always/save" 1
if seconds_below "$SECS" 2; then
    ok "queue always: returned at once (${SECS}s)"
else
    not_ok "queue always: returned at once (${SECS}s)"
fi

# ------------------------------------------------ a send flushes what is due
repoint down "$DOWN"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/down/config" early@example.org
ID=$(queued_id)
repoint down "$BG_PORT"
run_yubin /dev/null --queue-retry "$ID"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/down/config" later@example.org
is "$RC" 0 "a normal send: exit 0"
check "it also flushed the due message of its account" \
    wait_accepted "$SCRATCH/always/save" 3
stop_bg "$FAKE_PID"
for _ in $(seq 50); do
    [ "$(count_files "$Q/msg")" = 0 ] && break
    sleep 0.1
done
is "$(count_files "$Q/msg")" 0 "queue empty"

# ------------------------------------------------ DSN parameters survive
repoint down "$DOWN"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/down/config" -N FAILURE,DELAY -R HDRS \
    -V "env-$TOKEN" rcpt@example.org
ID=$(queued_id)
fake dsn --advertise PIPELINING,8BITMIME,SIZE,ENHANCEDSTATUSCODES,DSN ||
    bail_out "fake_smtpd.py does not start"
repoint down "$BG_PORT"
run_yubin /dev/null --queue-retry "$ID"
run_yubin /dev/null -q
meta=$(cat "$SCRATCH/dsn/save/0001.json" 2>/dev/null)
like "$meta" "RET=HDRS" "DSN: RET kept in the queue"
like "$meta" "ENVID=env-$TOKEN" "DSN: ENVID kept"
like "$meta" "NOTIFY=FAILURE,DELAY" "DSN: NOTIFY kept"
stop_bg "$FAKE_PID"

# ------------------------------------------------ queue_max_age
config old "$DOWN" "queue_max_age 1"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/old/config" rcpt@example.org
ID=$(queued_id)
sleep 2
run_yubin /dev/null --queue-retry "$ID"
run_yubin /dev/null -q
like "$(cat "$ERR")" "$ID.*expired" "queue_max_age 1: expired at the next try"
check "queue_max_age: moved to failed/" test -f "$Q/failed/$ID"
run_yubin /dev/null --queue-list --json
like "$(cat "$OUT")" '"from":"","rcpt":\["alice@example.test"\]' \
    "the report to the sender waits in the queue (server down)"

# ------------------------------------------------ -q --force
config force "$DOWN"
run_yubin "$SCRATCH/msg" -C "$SCRATCH/force/config" "force-$TOKEN@example.org"
ID=$(queued_id)
fake force || bail_out "fake_smtpd.py does not start"
repoint force "$BG_PORT"
run_yubin /dev/null -q
check "-q: a message whose retry time has not come stays" \
    test -f "$Q/msg/$ID"
is "$(accepted "$SCRATCH/force/save")" 0 "-q: nothing sent early"
run_yubin /dev/null -q --force
is "$RC" 0 "-q --force: exit 0"
check "-q --force: sent and gone from the queue" test ! -e "$Q/msg/$ID"
is "$(accepted "$SCRATCH/force/save")" 1 "-q --force: delivered once"
stop_bg "$FAKE_PID"

done_testing
