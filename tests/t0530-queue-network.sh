#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0530-queue-network.sh -- the queue notices the network is back, through
# the yubin binary, against tests/fake/fake_smtpd.py (and the real Postfix
# for the first case, as root):
#  - queued while the server could not be reached: the next -q (no
#    --force, no --queue-retry) sends it at once, and no back-off grows
#    while it stays unreachable; a 4xx still backs off;
#  - a message deferred for another reason goes over a connection to its
#    account that is up (it "rides along"), not a 4xx one;
#  - -q at a terminal (tty_run: a pseudo-terminal) says what it did: sent
#    N, deferred with why and the next time, "nothing due: N waiting, next
#    at ..."; without a terminal (cron) it is quiet unless a message failed
#    for good;
#  - -q -a ACCOUNT and -q -C FILE flush only that account's, that file's.
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

MSG=$SCRATCH/msg
make_message "$MSG" "$(new_token)"
closed_port || bail_out "cannot hold a closed port"
DOWN=$CLOSED_PORT

# conf FILE PORT [LINE...]: an account "test" (also the default) for a
# plain fake server, queue on-failure
conf() {
    local f=$1 port=$2
    shift 2
    write_config "$f" "host 127.0.0.1" "port $port" "tls off" "auth off" \
        "from alice@example.test" "timeout 10" "queue on-failure" "$@"
}

# fake NAME FAKE_ARGS...: fake_smtpd.py saving into $SCRATCH/NAME; BG_PORT
fake() {
    local name=$1
    shift
    mkdir -p "$SCRATCH/$name"
    start_bg "$name-fake" "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" \
        --port 0 --tls none --save-dir "$SCRATCH/$name" "$@"
}

# queued ARGS...: send $MSG with ARGS; its queue ID in ID (false if none)
queued() {
    run_yubin "$MSG" "$@"
    ID=$(grep -Eo "queued as $ID_RE" "$ERR" | head -n 1 | sed 's/^queued as //')
    [ -n "$ID" ] || { diag_file "$ERR"; return 1; }
}

# repoint FILE PORT
repoint() {
    sed -i "s/^port .*/port $2/" "$1"
}

# field ID KEY: a --queue-list --json field of message ID ("" if gone)
field() {
    run_yubin /dev/null --queue-list --json
    grep -F "\"id\":\"$1\"" "$OUT" > "$SCRATCH/one.json" || return 0
    jget "$SCRATCH/one.json" "d[\"$2\"]"
}

queue_count() {
    find "$QUEUE_DIR/msg" -maxdepth 1 -type f 2>/dev/null | wc -l
}

# hhmm EPOCH: the time as -q says it (HH:MM today, else with the date)
hhmm() {
    if [ "$(date -d "@$1" +%F)" = "$(date +%F)" ]; then
        date -d "@$1" +%H:%M
    else
        date -d "@$1" "+%F %H:%M"
    fi
}

# tty_q ARGS...: yubin -q ARGS on a pseudo-terminal; TTY: its output
tty_q() {
    tty_run -- "$YUBIN" -q "$@"
    TTY=$(tr -d '\r' < "$SCRATCH/tty.out")
}

test_case 'offline, queued; the server back: the next -q sends it at once' '
    local next
    conf "$SCRATCH/c" "$DOWN"
    queued -C "$SCRATCH/c" rcpt@example.org || return 1
    is "$RC" 0 "offline: exit 0, queued"
    like "$(cat "$ERR")" "^yubin: message queued as $ID_RE: cannot connect to .*Connection refused$" \
        "it says why"
    is "$(field "$ID" waiting_for)" net "waiting for the network"
    is "$(field "$ID" backoff)" 0 "no back-off"
    run_yubin /dev/null -q
    is "$(field "$ID" attempts)" 2 "still offline: -q tried it again"
    is "$(field "$ID" backoff)" 0 "... and the back-off did not grow"
    fake up || return 1
    repoint "$SCRATCH/c" "$BG_PORT"
    run_yubin /dev/null -q
    is "$RC" 0 "back online: -q exit 0"
    is "$(fake_accepted "$SCRATCH/up")" 1 "sent by the first -q (no --force)"
    is "$(queue_count)" 0 "the queue is empty"
'

test_case 'the real Postfix: offline, queued; back (587, STARTTLS + AUTH): the next -q delivers it at once' '
    local tok
    start_real_server
    tok=$(new_token)
    make_message "$SCRATCH/real.msg" "$tok"
    real_config "$SCRATCH/real" "$DOWN" "timeout 10" "queue on-failure"
    run_yubin "$SCRATCH/real.msg" -C "$SCRATCH/real" rcpt@example.org
    is "$RC" 0 "offline: exit 0, queued"
    like "$(cat "$ERR")" "^yubin: message queued as $ID_RE: cannot connect to .localhost. port $DOWN: Connection refused$" \
        "it says why"
    repoint "$SCRATCH/real" "$SMTP_PORT_SUBMISSION"
    run_yubin /dev/null -q
    is "$RC" 0 "back online: -q exit 0"
    is "$(cat "$ERR")" "" "quiet (no terminal)"
    delivered "$tok" 10 "delivered by the first -q (no --force)"
    is "$(queue_count)" 0 "the queue is empty"
'

test_case 'a 4xx still backs off' '
    fake later --fault "RCPT=451 4.3.0 try later" || return 1
    conf "$SCRATCH/c" "$BG_PORT"
    queued -C "$SCRATCH/c" rcpt@example.org || return 1
    is "$(field "$ID" waiting_for)" server "waiting for the server"
    is "$(( $(field "$ID" next_attempt) - $(field "$ID" last_attempt) ))" 60 \
        "its back-off: a minute"
    fake up || return 1
    repoint "$SCRATCH/c" "$BG_PORT"
    run_yubin /dev/null -q
    is "$(fake_accepted "$SCRATCH/up")" 0 "-q: not sent before its time"
    is "$(queue_count)" 1 "still queued"
'

test_case 'while a connection is up, a message deferred for another reason rides along, a 4xx one does not' '
    local other net later
    fake drop --fault "MAIL=drop" || return 1
    conf "$SCRATCH/c" "$BG_PORT"
    queued -C "$SCRATCH/c" other@example.org || return 1
    other=$ID
    is "$(field "$other" waiting_for)" other "a dropped connection: other"
    fake later --fault "RCPT=451 4.3.0 try later" || return 1
    repoint "$SCRATCH/c" "$BG_PORT"
    queued -C "$SCRATCH/c" later@example.org || return 1
    later=$ID
    repoint "$SCRATCH/c" "$DOWN"
    queued -C "$SCRATCH/c" net@example.org || return 1
    net=$ID
    fake up || return 1
    repoint "$SCRATCH/c" "$BG_PORT"
    run_yubin /dev/null -q
    is "$(fake_accepted "$SCRATCH/up")" 2 "two sent"
    sleep 0.3
    is "$(find "$SCRATCH/up" -name "conn-*.json" | wc -l)" 1 \
        "over one connection"
    is "$(field "$later" waiting_for)" server "the 4xx one waits"
    is "$(field "$other" id)" "" "the other one went"
'

test_case '-q at a terminal says what it did' '
    local next
    conf "$SCRATCH/c" "$DOWN"
    tty_q
    is "$TTY" "yubin: the queue is empty" "empty"
    queued -C "$SCRATCH/c" a@example.org || return 1
    tty_q
    is "$TTY" "yubin: 1 message deferred: cannot connect to '\''127.0.0.1'\'' port $DOWN: Connection refused; the next \`yubin -q\` tries again" \
        "offline: deferred, tried again at the next -q"
    fake later --fault "RCPT=451 4.3.0 try later" || return 1
    repoint "$SCRATCH/c" "$BG_PORT"
    tty_q
    next=$(field "$ID" next_attempt)
    is "$TTY" "yubin: 1 message deferred: recipient '\''a@example.org'\'' rejected: 451 4.3.0 try later; next attempt at $(hhmm "$next") (\`yubin -q --force\` sends now)" \
        "a 4xx: deferred, why, the next time"
    tty_q
    is "$TTY" "yubin: nothing due: 1 waiting, next at $(hhmm "$next"); \`yubin -q --force\` sends now" \
        "nothing due: how many wait, until when, how to send now"
    fake up || return 1
    repoint "$SCRATCH/c" "$BG_PORT"
    tty_q --force
    is "$TTY" "yubin: sent 1 message" "sent"
    is "$RC" 0 "exit 0"
'

test_case 'without a terminal -q is quiet unless a message failed for good' '
    conf "$SCRATCH/c" "$DOWN"
    run_yubin /dev/null -q
    is "$(cat "$ERR")" "" "empty queue: quiet"
    queued -C "$SCRATCH/c" a@example.org || return 1
    run_yubin /dev/null -q
    is "$(cat "$ERR")" "" "offline, deferred: quiet"
    fake up || return 1
    repoint "$SCRATCH/c" "$BG_PORT"
    run_yubin /dev/null -q
    is "$(cat "$ERR")$(cat "$OUT")" "" "sent: quiet"
    repoint "$SCRATCH/c" "$DOWN"
    queued -C "$SCRATCH/c" perm@example.org || return 1
    fake perm --fault "RCPT=550 5.1.1 no such user" || return 1
    repoint "$SCRATCH/c" "$BG_PORT"
    run_yubin /dev/null -q
    like "$(cat "$ERR")" "^yubin: warning: message $ID to perm@example.org failed permanently: .*550 5\\.1\\.1 no such user" \
        "a permanent failure: said"
'

test_case '-q -a ACCOUNT and -q -C FILE flush only that one' <<'CASE'
    local work home other
    fake up || return 1
    for f in "$SCRATCH/two" "$SCRATCH/third"; do
        write_config "$f" "host 127.0.0.1" "port $DOWN" "tls off" \
            "auth off" "from alice@example.test" "queue on-failure"
        printf '%s\n' "account work : test" "account home : test" >> "$f"
    done
    queued -C "$SCRATCH/two" -a work w@example.org || return 1
    work=$ID
    queued -C "$SCRATCH/two" -a home h@example.org || return 1
    home=$ID
    queued -C "$SCRATCH/third" -a work t@example.org || return 1
    other=$ID
    sed -i "s/^port .*/port $BG_PORT/" "$SCRATCH/two" "$SCRATCH/third"
    run_yubin /dev/null -q -a home
    is "$RC" 0 "-q -a home: exit 0"
    is "$(fake_accepted "$SCRATCH/up")" 1 "-q -a home: one sent"
    is "$(field "$home" id)" "" "home's went"
    is "$(field "$work" id)" "$work" "work's stays"
    (cd "$SCRATCH" && run_yubin /dev/null -q -C two -a work)
    is "$(fake_accepted "$SCRATCH/up")" 2 "-q -C two -a work (a relative path): one more"
    is "$(field "$work" id)" "" "that one went"
    is "$(field "$other" id)" "$other" "the other file's work stays"
    run_yubin /dev/null -q -C "$SCRATCH/third"
    is "$(field "$other" id)" "" "-q -C third: its message went"
    run_yubin /dev/null -q -a nosuch
    is "$RC" 0 "-q -a with nothing queued for it: exit 0"
CASE

done_testing
