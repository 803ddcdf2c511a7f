#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0320-hostile-server.sh -- bounded work against hostile or broken servers
# (issue 9, findings 2-4), each case with its own server:
#   - a reply dripped a line at a time: the whole reply within `timeout`;
#   - a peer that reads the message body at a trickle: each 64 KiB written
#     within `timeout`;
#   - a connection closed or reset during the TLS handshake, on 465 and
#     after STARTTLS: temporary (75, queued with "queue on-failure"), while
#     a TLS protocol failure stays 76;
#   - a SCRAM server asking for 10^9 PBKDF2 iterations: refused at once.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

SASLSERVER=$abs_top_builddir/tests/fake/saslserver
need_yubin
need_cmd timeout
[ -x "$PYTHON" ] || skip_all "needs $PYTHON"
[ -x "$SASLSERVER" ] || skip_all "no $SASLSERVER (make check builds it)"
test_pki

MSG=$SCRATCH/msg
printf 'Subject: hostile\n\nbody\n' > "$MSG"

# scripted NAME [SERVER_ARGS...]: scripted_smtpd.py with $SCRATCH/NAME.script
# (written by the caller); sets PORT, SRV_PID; transcript NAME.tr
scripted() {
    local name=$1
    shift
    start_bg "$name" "$PYTHON" "$TESTS_DIR/fake/scripted_smtpd.py" \
        --script "$SCRATCH/$name.script" --port 0 \
        --transcript "$SCRATCH/$name.tr" --cert "$TEST_CERT" \
        --key "$TEST_KEY" --timeout 25 "$@" || return 1
    PORT=$BG_PORT SRV_PID=$BG_PID
}

# conf NAME LINE...: $SCRATCH/NAME.conf for 127.0.0.1:$PORT, test CA
conf() {
    local name=$1
    shift
    write_config "$SCRATCH/$name.conf" "host 127.0.0.1" "port $PORT" \
        "tls_trust_file $TEST_CA" "from alice@example.test" "auth off" "$@"
}

# ------------------------------------------------ a dripped reply (3)
# A 100-line EHLO reply, one line every 0.9 s, against "timeout 1": the
# reply as a whole gets 1 s (a per-line timeout waited 90 s).
test_case 'dripped EHLO reply' <<'CASE'
    {
        echo 'S: 220 drip.test ESMTP'
        echo 'C: EHLO localhost'
        for i in $(seq 99); do
            echo "S: 250-drip$i"
            echo 'SLEEP 0.9'
        done
        echo 'S: 250 END'
        echo 'WAITCLOSE'
    } > "$SCRATCH/drip.script"
    scripted drip || return 1
    conf drip "tls off" "timeout 1"
    run_yubin "$MSG" -C "$SCRATCH/drip.conf" rcpt@example.org
    is "$RC" 75 "exit 75"
    is "$(cat "$ERR")" "yubin: during EHLO: timed out after 1 s waiting for \
the server (reading)" "the message"
    check "over within 2.5 s (took ${SECS}s)" seconds_below "$SECS" 2.5
CASE

# ------------------------------------------------ a trickling reader (3)
# The server takes the body 4 KiB every 0.5 s through a small receive
# buffer: each flush of 64 KiB must be done within "timeout 1"; progress
# alone no longer renews it. (A guard, not a proof: on Linux the old
# per-progress deadline gave up here too, as poll() wakes a writer only
# once a third of its send buffer is free.)
test_case 'trickling reader' <<'CASE'
    start_bg trickle "$PYTHON" -c '
import socket, sys, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
print("READY", ls.getsockname()[1], flush=True)
c, _ = ls.accept()
f = c.makefile("rb")
c.sendall(b"220 trickle.test ESMTP\r\n")
for reply in (b"250 trickle.test", b"250 ok", b"250 ok", b"354 go"):
    f.readline()
    c.sendall(reply + b"\r\n")
end = time.time() + 25
while time.time() < end and c.recv(4096):
    time.sleep(0.5)
' || return 1
    PORT=$BG_PORT
    conf trickle "tls off" "timeout 1"
    "$PYTHON" -c '
import sys
sys.stdout.write("Subject: big\n\n" + ("x" * 76 + "\n") * 110000)
' > "$SCRATCH/big"
    run_yubin "$SCRATCH/big" -C "$SCRATCH/trickle.conf" rcpt@example.org
    is "$RC" 75 "exit 75"
    is "$(cat "$ERR")" "yubin: while sending the message: timed out after 1 s \
waiting for the server (writing)" "the message"
    check "over within 10 s (took ${SECS}s)" seconds_below "$SECS" 10
CASE

# ------------------------------------------------ TLS handshake (4)
# handshake_case NAME TLS END WANT_RC WANT_ERR [CONFIG...]: the server
# (implicit TLS, or STARTTLS after EHLO) reads the ClientHello and ENDs
# (RESET or CLOSE); yubin's exit and message (port and queue ID as N, ID)
handshake_case() {
    local name=$1 tls=$2 end=$3 rc=$4 want=$5
    shift 5
    {
        if [ "$tls" = starttls ]; then
            printf '%s\n' 'S: 220 hs.test ESMTP' 'C: EHLO localhost' \
                'S+: 250-hs.test' 'S: 250 STARTTLS' 'C: STARTTLS' \
                'S: 220 2.0.0 go ahead'
        fi
        printf '%s\n' SWALLOW "$end"
    } > "$SCRATCH/$name.script"
    scripted "$name" || return 1
    if [ "$tls" = starttls ]; then
        conf "$name" "tls on" "tls_starttls on" "timeout 5" "$@"
    else
        conf "$name" "tls on" "tls_starttls off" "timeout 5" "$@"
    fi
    run_yubin "$MSG" -C "$SCRATCH/$name.conf" rcpt@example.org
    is "$RC" "$rc" "exit $rc"
    is "$(sed -e 's/port [0-9]*/port N/' -e 's/ queued as [^:]*:/ queued as ID:/' \
        "$ERR")" "$want" "the message"
    stop_bg "$SRV_PID"
}

LOST="connection to 127.0.0.1 port N lost during the TLS handshake: \
Connection reset by peer"
CLOSED="connection to 127.0.0.1 port N closed by the server during the TLS \
handshake"
GREETING="waiting for the server's greeting"
test_case 'reset-465' 'handshake_case reset-465 implicit RESET 75 \
    "yubin: $GREETING: $LOST"'
test_case 'close-465' 'handshake_case close-465 implicit CLOSE 75 \
    "yubin: $GREETING: $CLOSED"'
test_case 'reset-starttls' 'handshake_case reset-starttls starttls RESET 75 \
    "yubin: during STARTTLS: $LOST"'
test_case 'close-starttls' 'handshake_case close-starttls starttls CLOSE 75 \
    "yubin: during STARTTLS: $CLOSED"'

test_case 'queued-465' <<'CASE'
    handshake_case queued-465 implicit RESET 0 "yubin: message queued as ID: \
waiting for the server's greeting: $LOST
yubin: nothing runs 'yubin -q' to send it later (no yubin-flush.timer \
enabled, no crontab line); enable the timer: systemctl --user enable --now \
yubin-flush.timer" "queue on-failure" || return 1
    run_yubin /dev/null -bp
    like "$(cat "$OUT")" "rcpt@example.org" "in the queue (-bp)"
CASE

# a server that answers the ClientHello with something that is not TLS:
# a protocol failure, not a network one
test_case 'not TLS at all' <<'CASE'
    printf '%s\n' SWALLOW 'S: HTTP/1.0 400 Bad Request' WAITCLOSE \
        > "$SCRATCH/garbage.script"
    scripted garbage || return 1
    conf garbage "tls on" "tls_starttls off" "timeout 5"
    run_yubin "$MSG" -C "$SCRATCH/garbage.conf" rcpt@example.org
    is "$RC" 76 "still 76"
    like "$(cat "$ERR")" "^yubin: waiting for the server's greeting: TLS \
handshake with '127\.0\.0\.1' failed: " "a TLS failure"
CASE

# ------------------------------------------------ SCRAM iterations (2)
# i=10^9 would cost libgsasl ~8 minutes of CPU; refused before any of it
test_case 'SCRAM i=10^9' <<'CASE'
    start_bg scram "$SASLSERVER" --port 0 --tls implicit --cert "$TEST_CERT" \
        --key "$TEST_KEY" --user alice:alice-pw --mechs SCRAM-SHA-256 \
        --scram-iter 1000000000 --timeout 25 || return 1
    PORT=$BG_PORT
    conf scram "tls on" "tls_starttls off" "timeout 5" "auth on" "user alice" \
        "password alice-pw"
    run_yubin "$MSG" -C "$SCRATCH/scram.conf" rcpt@example.org
    is "$RC" 76 "exit 76"
    is "$(cat "$ERR")" "yubin: SCRAM-SHA-256 authentication refused: the server \
asks for 1000000000 iterations (i=), more than the limit of 1000000" \
        "the message"
    check "over within 2 s (took ${SECS}s)" seconds_below "$SECS" 2
CASE

done_testing
