#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0235-lmtp.sh -- protocol lmtp (RFC 2033, issue 13) against a real
# Dovecot LMTP server: a second Dovecot of this test's own (its own
# base_dir, config and free loopback port; the shared one of
# tests/server/start.sh is not touched), delivering to Maildirs the test
# reads. Its users: alice (a normal mailbox), full (over quota, a permanent
# 552), busy (over quota with quota_full_tempfail: a temporary 452),
# sender (gets the failure reports); anyone else is unknown (550 at RCPT).
# A user moves between the three userdb files (Dovecot re-reads them) to
# change its quota. Delivery byte-exact, the exit code and the queue after
# mixed per-recipient replies (also when nobody got it: some deferred, the
# others rejected), the failure report's per-recipient status code, and a
# later -q that delivers only to the
# deferred recipient, never twice to anyone.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd dovecot
need_cmd doveadm
[ -x /usr/lib/dovecot/lmtp ] ||
    skip_all "needs dovecot-lmtpd; $("$TESTS_DIR/deps.sh" test --hint)"
[ -e /usr/lib/dovecot/modules/lib10_quota_plugin.so ] ||
    skip_all "needs Dovecot's quota plugin (dovecot-core)"

# ---------------------------------------------------------------- server
LMTP_DIR=$TEST_SCRATCH/lmtp
MUID=$(id -u nobody)
MGID=$(id -g nobody)
# the mail user must reach its home under the scratch directory
chmod 711 "$TEST_SCRATCH"
mkdir -p "$LMTP_DIR/run" "$LMTP_DIR/state" "$LMTP_DIR/home"
chmod 755 "$LMTP_DIR"
chown "$MUID:$MGID" "$LMTP_DIR/home"
LMTP_PORT=$(free_port) || bail_out "no free port"

# user NAME [FILE]: NAME's line in the userdb file FILE (users, users-full,
# users-busy, users-roomy: a quota of 1 GB; the maildir quota keeps the
# last limit it saw when none is configured, so lifting one takes a new
# limit), taken out of the others
user() {
    local f
    for f in users users-full users-busy users-roomy; do
        touch "$LMTP_DIR/$f"
        grep -v "^$1:" "$LMTP_DIR/$f" > "$LMTP_DIR/$f.new"
        mv "$LMTP_DIR/$f.new" "$LMTP_DIR/$f"
    done
    printf '%s::%s:%s::%s/home/%s::\n' "$1" "$MUID" "$MGID" "$LMTP_DIR" \
        "$1" >> "$LMTP_DIR/${2:-users}"
}
user alice
user sender
user full users-full
user busy users-busy

cat > "$LMTP_DIR/dovecot.conf" <<EOF
# written by $TEST_NAME: LMTP only, on 127.0.0.1:$LMTP_PORT
protocols = lmtp
listen = 127.0.0.1
instance_name = yubin-$TEST_NAME-$$
base_dir = $LMTP_DIR/run/
state_dir = $LMTP_DIR/state
log_path = $LMTP_DIR/dovecot.log
ssl = no
auth_cache_size = 0
mail_location = maildir:~/Maildir
mail_plugins = quota
lmtp_rcpt_check_quota = no
quota_full_tempfail = no
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = passwd-file
  args = username_format=%n $LMTP_DIR/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $LMTP_DIR/users-full
  override_fields = quota_rule=*:storage=100B
}
userdb {
  driver = passwd-file
  args = username_format=%n $LMTP_DIR/users-busy
  override_fields = quota_rule=*:storage=100B quota_full_tempfail=yes
}
userdb {
  driver = passwd-file
  args = username_format=%n $LMTP_DIR/users-roomy
  override_fields = quota_rule=*:storage=1G
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
plugin {
  quota = maildir:User quota
}
EOF

# Dovecot in the foreground, stopped with the test (start_bg)
start_bg_port dovecot-lmtp "$LMTP_PORT" dovecot -F -c "$LMTP_DIR/dovecot.conf" ||
    { diag_file "$LMTP_DIR/dovecot.log" 40; bail_out "Dovecot LMTP did not start"; }

# lmtp_config FILE LINE...: an LMTP account for the Dovecot above
lmtp_config() {
    local f=$1
    shift
    write_config "$f" "host 127.0.0.1" "port $LMTP_PORT" "protocol lmtp" \
        "tls off" "from sender@example.test" "timeout 10" "$@"
}

# lmtp_send RCPT...: a new message (-> $TOKEN) to RCPT... through the
# Dovecot above, with queue on-failure
lmtp_send() {
    TOKEN=$(new_token)
    make_message "$SCRATCH/msg" "$TOKEN"
    lmtp_config "$SCRATCH/conf" "queue on-failure"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/conf" "$@"
}

# inbox USER: the messages USER has, one path a line
inbox() {
    find "$LMTP_DIR/home/$1/Maildir/new" -type f 2> /dev/null | sort
}

# got TOKEN USER: how many messages carrying TOKEN USER has
got() {
    local n=0 f
    for f in $(inbox "$2"); do
        grep -q "^X-Yubin-Test: $1" "$f" && n=$((n + 1))
    done
    echo "$n"
}

# queued_rcpts: the recipients of every queued message, one line each
queued_rcpts() {
    "$YUBIN" -bp --json 2> /dev/null | "$PYTHON" -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print(e["state"], " ".join(e["rcpt"]))'
}

# busy_gets_it_by_q USER N TITLE: with busy's quota lifted, -q delivers
# $TOKEN to busy once, USER has it N times (TITLE), the queue is empty
busy_gets_it_by_q() {
    user busy users-roomy
    sleep 1.1		# Dovecot looks at a passwd-file once a second
    run_yubin /dev/null -q --force
    is "$RC" 0 "-q: exit 0"
    is "$(got "$TOKEN" busy)" 1 "busy has it now, once"
    is "$(got "$TOKEN" "$1")" "$2" "$3"
    is "$(queued_rcpts)" "" "the queue is empty"
}

# issue 12's note when a message is queued and nothing runs yubin -q here
NOT_SENT_LATER="yubin: nothing runs 'yubin -q' to send it later (no \
yubin-flush.timer enabled, no crontab line); enable the timer: systemctl \
--user enable --now yubin-flush.timer"

test_case 'one recipient: delivered byte-exact, LHLO and BDAT LAST on the wire' '
    local tok f
    tok=$(new_token)
    make_message "$SCRATCH/msg" "$tok"
    lmtp_config "$SCRATCH/conf"
    run_yubin "$SCRATCH/msg" -v -C "$SCRATCH/conf" alice@example.test
    is "$RC" 0 "exit 0"
    like "$(cat "$ERR")" "yubin: --> LHLO localhost" "LHLO on the wire"
    like "$(cat "$ERR")" "yubin: --> BDAT [0-9]+ LAST" "BDAT LAST (CHUNKING)"
    like "$(cat "$ERR")" "yubin: <-- 250 2.0.0 <alice@example.test> [^ ]+ Saved" \
        "the per-recipient reply"
    is "$(got "$tok" alice)" 1 "alice has it once"
    f=$(grep -l "^X-Yubin-Test: $tok" $(inbox alice))
    sed -n "/^From: Alice/,\$p" "$f" > "$SCRATCH/delivered"
    if cmp -s "$SCRATCH/msg" "$SCRATCH/delivered"; then
        ok "byte-exact in the Maildir"
    else
        not_ok "byte-exact in the Maildir"
        diag "$(diff "$SCRATCH/msg" "$SCRATCH/delivered" | head -20)"
    fi
'

test_case 'an unknown recipient: 550 at RCPT, 67, nobody gets it' '
    lmtp_send alice@example.test nobody@example.test
    is "$RC" 67 "exit 67"
    is "$(cat "$ERR")" "yubin: recipient '"'"'nobody@example.test'"'"' rejected: \
550 5.1.1 <nobody@example.test> User doesn'"'"'t exist: nobody@example.test" \
        "the message names the recipient"
    is "$(got "$TOKEN" alice)" 0 "alice does not have it"
    is "$(queued_rcpts)" "" "nothing queued"
'

test_case 'delivered, deferred (452) and rejected (552): 67, only the deferred one queued' '
    lmtp_send alice@example.test full@example.test busy@example.test
    is "$RC" 67 "exit 67"
    like "$(head -1 "$ERR")" "^yubin: message queued as [0-9T]+-[A-Za-z0-9]+ for 1 of its 3 recipients$" \
        "queued for one recipient"
    is "$(tail -n +2 "$ERR")" "$NOT_SENT_LATER
yubin: recipient '"'"'full@example.test'"'"' rejected: 552 \
5.2.2 <full@example.test> Quota exceeded (mailbox for user is full)
yubin: recipient '"'"'busy@example.test'"'"' deferred: 452 4.2.2 <busy@example.test> \
Quota exceeded (mailbox for user is full)" "each failed recipient named with its reply"
    is "$(got "$TOKEN" alice)" 1 "alice has it"
    is "$(got "$TOKEN" full)" 0 "full does not"
    is "$(got "$TOKEN" busy)" 0 "busy does not (yet)"
    is "$(queued_rcpts)" "queued busy@example.test" "only busy is queued"
    is "$("$YUBIN" -bp --json | "$PYTHON" -c "import json,sys; print(json.loads(sys.stdin.readline())[\"last_error\"])")" \
        "recipient '"'"'busy@example.test'"'"' deferred: 452 4.2.2 <busy@example.test> \
Quota exceeded (mailbox for user is full)" "its last error is its own"
'

test_case 'a later -q delivers only to the deferred recipient' '
    test_when_finished "user busy users-busy; sleep 1.1"
    lmtp_send alice@example.test busy@example.test
    is "$RC" 0 "exit 0 (the rest queued)"
    is "$(sed "s/ as [^ ]* / as ID /" "$ERR")" "yubin: message queued as ID \
for 1 of its 2 recipients
$NOT_SENT_LATER
yubin: recipient '"'"'busy@example.test'"'"' deferred: 452 4.2.2 <busy@example.test> \
Quota exceeded (mailbox for user is full)" "what stderr says"
    is "$(queued_rcpts)" "queued busy@example.test" "busy queued"
    busy_gets_it_by_q alice 1 "alice has it once, not twice"
'

test_case 'a queued message split by -q: the rest re-queued, the rejected one reported' '
    local tok
    tok=$(new_token)
    make_message "$SCRATCH/msg" "$tok"
    lmtp_config "$SCRATCH/conf" "queue always"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/conf" -f sender@example.test \
        alice@example.test full@example.test busy@example.test
    is "$RC" 0 "queued: exit 0"
    for _ in $(seq 50); do
        [ "$(got "$tok" alice)" = 1 ] && break
        sleep 0.1
    done
    sleep 0.5
    is "$(got "$tok" alice)" 1 "the background flush delivered to alice"
    is "$(queued_rcpts | sort)" "failed full@example.test
queued busy@example.test" "busy queued again alone, full failed"
    like "$(cat $(inbox sender) 2> /dev/null)" "full@example\\.test" \
        "the failure report to the sender names full"
    unlike "$(cat $(inbox sender) 2> /dev/null)" \
        "(Final-Recipient: rfc822;|recipient '"'"')(alice|busy)@" \
        "and names nobody else"
    run_yubin /dev/null -q --force
    is "$(got "$tok" alice)" 1 "alice still has it once after -q"
    is "$(got "$tok" busy)" 0 "busy still over quota"
'

test_case 'nobody delivered, deferred (452) and rejected (552): 67, only the deferred one queued; a later -q delivers only to it' '
    test_when_finished "user busy users-busy; sleep 1.1"
    lmtp_send full@example.test busy@example.test
    is "$RC" 67 "exit 67"
    is "$(sed "s/ as [^ ]* / as ID /" "$ERR")" "yubin: message queued as ID \
for 1 of its 2 recipients
$NOT_SENT_LATER
yubin: recipient '"'"'full@example.test'"'"' rejected: 552 \
5.2.2 <full@example.test> Quota exceeded (mailbox for user is full)
yubin: recipient '"'"'busy@example.test'"'"' deferred: 452 4.2.2 <busy@example.test> \
Quota exceeded (mailbox for user is full)" "queued for busy, each failed recipient named with its reply"
    is "$(queued_rcpts)" "queued busy@example.test" "only busy is queued"
    busy_gets_it_by_q full 0 "full does not"
'

test_case 'a queued message nobody got, split by -q: the deferred one re-queued, the rejected one reported with its own status' '
    local tok f
    tok=$(new_token)
    make_message "$SCRATCH/msg" "$tok"
    lmtp_config "$SCRATCH/conf" "queue always"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/conf" -f sender@example.test \
        full@example.test busy@example.test
    is "$RC" 0 "queued: exit 0"
    for _ in $(seq 50); do
        [ -n "$(grep -l "^X-Yubin-Test: $tok" $(inbox sender) 2> /dev/null)" ] &&
            break
        sleep 0.1
    done
    is "$(queued_rcpts | sort)" "failed full@example.test
queued busy@example.test" "busy queued again alone, full failed"
    f=$(grep -l "^X-Yubin-Test: $tok" $(inbox sender) 2> /dev/null)
    is "$(sed -n "/^Final-Recipient:/,/^Diagnostic-Code:/p" $f | tr -d "\r")" \
        "Final-Recipient: rfc822; full@example.test
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; recipient '"'"'full@example.test'"'"' rejected: 552 \
5.2.2 <full@example.test> Quota exceeded (mailbox for user is full)" \
        "the report: full alone, the server'"'"'s own 5.2.2 and its reply"
    is "$(got "$tok" busy)" 0 "busy does not have it (yet)"
    is "$(got "$tok" full)" 0 "full does not"
'

test_case '--protocol=lmtp on the command line, and no port: 78' '
    local tok
    tok=$(new_token)
    make_message "$SCRATCH/msg" "$tok"
    write_config "$SCRATCH/conf" "host 127.0.0.1" "port $LMTP_PORT" \
        "tls off" "from sender@example.test" "timeout 10"
    run_yubin "$SCRATCH/msg" --protocol=lmtp -C "$SCRATCH/conf" \
        alice@example.test
    is "$RC" 0 "--protocol=lmtp: exit 0"
    is "$(got "$tok" alice)" 1 "alice has it"
    write_config "$SCRATCH/noport" "host 127.0.0.1" "protocol lmtp" \
        "tls off" "from sender@example.test"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/noport" alice@example.test
    is "$RC" 78 "protocol lmtp without a port: exit 78"
    is "$(cat "$ERR")" "yubin: account '"'"'default'"'"' ($SCRATCH/noport:8): \
'"'"'protocol lmtp'"'"' needs a '"'"'port'"'"': LMTP has no default port" "the message"
'

done_testing
