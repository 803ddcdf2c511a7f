#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0510-queue-crash.sh -- kill -9 never loses a message yubin said it
# queued, and causes at most one duplicate:
#   - YUBIN_TEST_CRASH_AT=<point> kills yubin (SIGKILL) at each crash point
#     of enqueue and flush (src/queue.h lists them); afterwards the queue
#     holds no damaged message, -q delivers every committed one, at most
#     once more than it was already delivered;
#   - kill -9 at random moments while big messages are being queued;
#   - a full disk: YUBIN_TEST_FAIL_AT=enqueue-write, and a real 1 MiB tmpfs
#     (root): non-zero exit, a clear message, nothing left in the queue.
#
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd
Q=$XDG_STATE_HOME/yubin/queue		# lib.sh gives each test its own

TOKEN=$(new_token)
make_message "$SCRATCH/msg" "$TOKEN"
make_message "$SCRATCH/big" "$TOKEN" 1000000
make_message "$SCRATCH/600k" "$TOKEN" 600000

DOWN=$(free_port)
start_bg fake "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" --port 0 --tls none \
    --save-dir "$SCRATCH/save" || bail_out "fake_smtpd.py does not start"
UP=$BG_PORT
mkdir -p "$SCRATCH/save"

write_config "$SCRATCH/config" "host 127.0.0.1" "port $DOWN" "tls off" \
    "auth off" "from alice@example.test" "timeout 10" "queue on-failure"

point_port() {
    sed -i "s/^port .*/port $1/" "$SCRATCH/config"
}

accepted() {
    find "$SCRATCH/save" -name '[0-9]*.json' -exec grep -l '"accepted": true' {} + \
        2>/dev/null | wc -l
}

queued() {
    find "$Q/msg" -maxdepth 1 -type f 2>/dev/null | wc -l
}

# invalid: entries --queue-list --json calls invalid
invalid() {
    "$YUBIN" --queue-list --json 2>/dev/null | grep -c '"state":"invalid"'
}

# retry_all: make every queued message due now
retry_all() {
    local f
    for f in "$Q"/msg/*; do
        [ -e "$f" ] && "$YUBIN" --queue-retry "$(basename "$f")" >/dev/null 2>&1
    done
    return 0
}

# ------------------------------------------------ enqueue crash points
for point in enqueue-after-create enqueue-mid-copy enqueue-after-write \
        enqueue-after-link enqueue-after-commit; do
    before=$(queued)
    YUBIN_TEST_CRASH_AT=$point run_yubin "$SCRATCH/big" -C "$SCRATCH/config" \
        rcpt@example.org
    is "$RC" 137 "$point: killed (exit 137), so the caller keeps the message"
    n=$(( $(queued) - before ))
    case $point in
    enqueue-after-link|enqueue-after-commit)
        is "$n" 1 "$point: committed: one message queued (a resend would be \
the one duplicate)" ;;
    *)
        is "$n" 0 "$point: nothing queued" ;;
    esac
    is "$(invalid)" 0 "$point: no damaged message in the queue"
done
committed=$(queued)

# ------------------------------------------------ random kill -9 while queueing
for i in $(seq 15); do
    "$YUBIN" -C "$SCRATCH/config" rcpt@example.org \
        < "$SCRATCH/big" > /dev/null 2> "$SCRATCH/rand$i.err" &
    pid=$!
    sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    # exit 0 means it said "queued": that one must be there
    [ "$rc" = 0 ] && grep -q "queued as" "$SCRATCH/rand$i.err" &&
        echo "$i" >> "$SCRATCH/promised"
done
is "$(invalid)" 0 "random kill -9 while queueing: no damaged message"
promised=$(wc -l < "$SCRATCH/promised" 2>/dev/null || echo 0)
diag "$promised of 15 finished before the kill"

# ------------------------------------------------ everything committed goes out
point_port "$UP"
total=$(queued)
ok_total=$(( total >= committed + promised ))
check "every message reported queued is there ($total >= $committed + $promised)" \
    test "$ok_total" = 1
retry_all
run_yubin /dev/null -q
is "$RC" 0 "-q: exit 0"
is "$(accepted)" "$total" "-q: all $total delivered"
is "$(queued)" 0 "-q: queue empty"

# ------------------------------------------------ flush crash points
flush_case() {
    local point=$1 want_after_crash=$2 want_final=$3 base
    point_port "$DOWN"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/config" rcpt@example.org
    point_port "$UP"
    retry_all
    base=$(accepted)
    YUBIN_TEST_CRASH_AT=$point run_yubin /dev/null -q
    is "$RC" 137 "$point: killed"
    is "$(( $(accepted) - base ))" "$want_after_crash" \
        "$point: delivered $want_after_crash before the crash"
    is "$(invalid)" 0 "$point: no damaged message"
    retry_all
    run_yubin /dev/null -q
    is "$(( $(accepted) - base ))" "$want_final" \
        "$point: delivered $want_final in all"
    is "$(queued)" 0 "$point: queue empty"
}
flush_case flush-after-lock 0 1
flush_case flush-after-250 1 2	# the one duplicate
flush_case flush-after-unlink 1 1

# ------------------------------------------------ disk full
point_port "$DOWN"
tmp_before=$(find "$Q/tmp" -name 'q.*' | wc -l)
YUBIN_TEST_FAIL_AT=enqueue-write run_yubin "$SCRATCH/msg" -C "$SCRATCH/config" \
    rcpt@example.org
check "injected disk full: non-zero exit ($RC)" test "$RC" = 73 -o "$RC" = 75
like "$(cat "$ERR")" "No space left on device" "injected disk full: says so"
unlike "$(cat "$ERR")" "queued as" "injected disk full: does not say queued"
is "$(queued)" 0 "injected disk full: nothing queued"
is "$(find "$Q/tmp" -name 'q.*' | wc -l)" "$tmp_before" \
    "injected disk full: nothing left in tmp/"

if [ "$(id -u)" = 0 ] && mkdir -p "$SCRATCH/small" &&
        mount -t tmpfs -o size=1m,mode=0700 tmpfs "$SCRATCH/small" 2>/dev/null; then
    XDG_STATE_HOME=$SCRATCH/small run_yubin "$SCRATCH/600k" \
        -C "$SCRATCH/config" rcpt@example.org
    check "1 MiB tmpfs, 600 kB message: non-zero exit ($RC)" \
        test "$RC" = 73 -o "$RC" = 75 -o "$RC" = 74
    like "$(cat "$ERR")" "No space left on device" "1 MiB tmpfs: says so"
    unlike "$(cat "$ERR")" "queued as" "1 MiB tmpfs: does not say queued"
    is "$(find "$SCRATCH/small" -type f | wc -l)" 0 "1 MiB tmpfs: nothing left"
    umount "$SCRATCH/small"
else
    skip "1 MiB tmpfs: non-zero exit" "needs root and mount"
    skip "1 MiB tmpfs: says so" "needs root and mount"
    skip "1 MiB tmpfs: does not say queued" "needs root and mount"
    skip "1 MiB tmpfs: nothing left" "needs root and mount"
fi

done_testing
