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
# Each case has its own queue; they share one fake server (counted per case).
#
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd

TOKEN=$(new_token)
MSG=$SCRATCH/msg
BIG=$SCRATCH/big
make_message "$MSG" "$TOKEN"
make_message "$BIG" "$TOKEN" 1000000
make_message "$SCRATCH/600k" "$TOKEN" 600000

closed_port || bail_out "cannot hold a closed port"
DOWN=$CLOSED_PORT
SAVE=$SCRATCH/save
mkdir -p "$SAVE"
start_bg fake "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" --port 0 --tls none \
    --save-dir "$SAVE" || bail_out "fake_smtpd.py does not start"
UP=$BG_PORT

# conf PORT: the case's $SCRATCH/config, for PORT, "queue on-failure"
conf() {
    write_config "$SCRATCH/config" "host 127.0.0.1" "port $1" "tls off" \
        "auth off" "from alice@example.test" "timeout 10" "queue on-failure"
}

point_port() {
    sed -i "s/^port .*/port $1/" "$SCRATCH/config"
}

accepted() {
    find "$SAVE" -name '[0-9]*.json' -exec grep -l '"accepted": true' {} + \
        2>/dev/null | wc -l
}

queued() {
    find "$QUEUE_DIR/msg" -maxdepth 1 -type f 2>/dev/null | wc -l
}

# invalid: entries --queue-list --json calls invalid
invalid() {
    "$YUBIN" --queue-list --json 2>/dev/null | grep -c '"state":"invalid"'
}

# retry_all: make every queued message due now
retry_all() {
    local f
    for f in "$QUEUE_DIR"/msg/*; do
        [ -e "$f" ] && "$YUBIN" --queue-retry "$(basename "$f")" >/dev/null 2>&1
    done
    return 0
}

# ------------------------------------------------ enqueue crash points
ENQUEUE_POINTS="enqueue-after-create enqueue-mid-copy enqueue-after-write \
enqueue-after-link enqueue-after-commit"
for point in $ENQUEUE_POINTS; do
    test_case "$point" '
        conf "$DOWN"
        YUBIN_TEST_CRASH_AT=$point run_yubin "$BIG" -C "$SCRATCH/config" \
            rcpt@example.org
        is "$RC" 137 "killed (exit 137), so the caller keeps the message"
        case $point in
        enqueue-after-link|enqueue-after-commit)
            is "$(queued)" 1 "committed: one message queued (a resend would \
be the one duplicate)" ;;
        *)
            is "$(queued)" 0 "nothing queued" ;;
        esac
        is "$(invalid)" 0 "no damaged message in the queue"
    '
done

# ------------------------------------------------ random kill -9 while queueing
# then everything committed goes out: the messages of the crash points that
# commit, and those of the random kills that said "queued"
test_case 'random kill -9 while queueing, then -q' '
    local point i pid rc committed promised total base
    conf "$DOWN"
    for point in $ENQUEUE_POINTS; do
        YUBIN_TEST_CRASH_AT=$point run_yubin "$BIG" -C "$SCRATCH/config" \
            rcpt@example.org
    done
    committed=$(queued)
    : > "$SCRATCH/promised"
    for i in $(seq 15); do
        "$YUBIN" -C "$SCRATCH/config" rcpt@example.org \
            < "$BIG" > /dev/null 2> "$SCRATCH/rand$i.err" &
        pid=$!
        sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rc=$?
        # exit 0 means it said "queued": that one must be there
        [ "$rc" = 0 ] && grep -q "queued as" "$SCRATCH/rand$i.err" &&
            echo "$i" >> "$SCRATCH/promised"
    done
    is "$(invalid)" 0 "no damaged message"
    promised=$(wc -l < "$SCRATCH/promised")
    diag "$promised of 15 finished before the kill"
    point_port "$UP"
    total=$(queued)
    check "every message reported queued is there ($total >= $committed + $promised)" \
        test "$total" -ge $((committed + promised))
    retry_all
    base=$(accepted)
    run_yubin /dev/null -q
    is "$RC" 0 "-q: exit 0"
    is "$(( $(accepted) - base ))" "$total" "-q: all $total delivered"
    is "$(queued)" 0 "-q: queue empty"
'

# ------------------------------------------------ flush crash points
# flush_case POINT DELIVERED_BY_THE_CRASH DELIVERED_IN_ALL
flush_case() {
    local point=$1 want_after_crash=$2 want_final=$3 base
    conf "$DOWN"
    run_yubin "$MSG" -C "$SCRATCH/config" rcpt@example.org
    point_port "$UP"
    retry_all
    base=$(accepted)
    YUBIN_TEST_CRASH_AT=$point run_yubin /dev/null -q
    is "$RC" 137 "killed"
    is "$(( $(accepted) - base ))" "$want_after_crash" \
        "delivered $want_after_crash before the crash"
    is "$(invalid)" 0 "no damaged message"
    retry_all
    run_yubin /dev/null -q
    is "$(( $(accepted) - base ))" "$want_final" \
        "delivered $want_final in all"
    is "$(queued)" 0 "queue empty"
}
test_case flush-after-lock 'flush_case flush-after-lock 0 1'
test_case flush-after-250 'flush_case flush-after-250 1 2'	# the one duplicate
test_case flush-after-unlink 'flush_case flush-after-unlink 1 1'

# ------------------------------------------------ disk full
test_case 'injected disk full' '
    local tmp_before
    conf "$DOWN"
    mkdir -p "$QUEUE_DIR/tmp"
    tmp_before=$(find "$QUEUE_DIR/tmp" -name "q.*" | wc -l)
    YUBIN_TEST_FAIL_AT=enqueue-write run_yubin "$MSG" -C "$SCRATCH/config" \
        rcpt@example.org
    check "non-zero exit ($RC)" test "$RC" = 73 -o "$RC" = 75
    like "$(cat "$ERR")" "No space left on device" "says so"
    unlike "$(cat "$ERR")" "queued as" "does not say queued"
    is "$(queued)" 0 "nothing queued"
    is "$(find "$QUEUE_DIR/tmp" -name "q.*" | wc -l)" "$tmp_before" \
        "nothing left in tmp/"
'

test_case '1 MiB tmpfs, 600 kB message' '
    conf "$DOWN"
    if case_tmpfs "$SCRATCH/small" 1m; then
        XDG_STATE_HOME=$SCRATCH/small run_yubin "$TEST_SCRATCH/600k" \
            -C "$SCRATCH/config" rcpt@example.org
        check "non-zero exit ($RC)" \
            test "$RC" = 73 -o "$RC" = 75 -o "$RC" = 74
        like "$(cat "$ERR")" "No space left on device" "says so"
        unlike "$(cat "$ERR")" "queued as" "does not say queued"
        is "$(find "$SCRATCH/small" -type f | wc -l)" 0 "nothing left"
    else
        skip "non-zero exit" "needs root and mount"
        skip "says so" "needs root and mount"
        skip "does not say queued" "needs root and mount"
        skip "nothing left" "needs root and mount"
    fi
'

done_testing
