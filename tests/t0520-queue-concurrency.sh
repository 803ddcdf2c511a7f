#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0520-queue-concurrency.sh -- 50 yubin processes at once, half sending
# directly, half with "queue always" (each starting a background flush),
# while "yubin -q" runs in a loop against a slow server: every message is
# delivered exactly once, and no yubin waits long for a running flush.
#
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd
N=50

# a slow server: every message takes 0.2 s after its final dot
start_bg fake "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" --port 0 --tls none \
    --save-dir "$SCRATCH/save" --fault DATA_END=delay:0.2 ||
    bail_out "fake_smtpd.py does not start"
SAVE=$SCRATCH/save
mkdir -p "$SAVE"
PORT=$BG_PORT

wait_for_children() {
    local i
    for i in $(seq "$N"); do
        for _ in $(seq 1200); do
            [ -s "$SCRATCH/rc$i" ] && break
            sleep 0.1
        done
    done
}

test_case "$N at once, half 'queue always', a flusher in a loop" <<'CASE'
    write_config "$SCRATCH/direct" "host 127.0.0.1" "port $PORT" "tls off" \
        "auth off" "from alice@example.test" "timeout 30" "queue on-failure"
    write_config "$SCRATCH/always" "host 127.0.0.1" "port $PORT" "tls off" \
        "auth off" "from alice@example.test" "timeout 30" "queue always"

    # a flusher in a loop until told to stop
    touch "$SCRATCH/flushing"
    test_when_finished 'rm -f "$SCRATCH/flushing"'
    (
        while [ -e "$SCRATCH/flushing" ]; do
            "$YUBIN" -q > /dev/null 2>> "$SCRATCH/flush.err"
            sleep 0.05
        done
    ) &
    LOOP=$!

    for i in $(seq "$N"); do
        make_message "$SCRATCH/m$i" "tok$i-$(new_token)"
        cfg=$SCRATCH/direct
        [ $((i % 2)) = 0 ] && cfg=$SCRATCH/always
        (
            t0=$EPOCHREALTIME
            timeout -k 5 120 "$YUBIN" -C "$cfg" "r$i@example.org" \
                < "$SCRATCH/m$i" > /dev/null 2> "$SCRATCH/e$i"
            echo "$? $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" \
                > "$SCRATCH/rc$i"
        ) &
    done
    wait_for_children
    rm -f "$SCRATCH/flushing"
    wait "$LOOP" 2>/dev/null

    bad=0 slow=0
    for i in $(seq "$N"); do
        read -r rc secs < "$SCRATCH/rc$i"
        [ "$rc" = 0 ] || { bad=$((bad + 1)); diag_file "$SCRATCH/e$i" 5; }
        # "queue always" must not wait for the flush it starts
        [ $((i % 2)) = 0 ] && ! seconds_below "$secs" 5 && slow=$((slow + 1))
    done
    is "$bad" 0 "all $N yubin processes exit 0"
    is "$slow" 0 "no 'queue always' process waited 5 s or more"

    # whatever is still queued (a flush may have started before the last
    # enqueue and the background ones may still run): one more flush
    for _ in $(seq 100); do
        [ "$(find "$QUEUE_DIR/msg" -type f | wc -l)" = 0 ] && break
        "$YUBIN" -q > /dev/null 2>> "$SCRATCH/flush.err"
        sleep 0.2
    done
    is "$(find "$QUEUE_DIR/msg" -type f | wc -l)" 0 "the queue is empty"
    is "$(find "$QUEUE_DIR/failed" -type f | wc -l)" 0 "nothing failed"

    # every token exactly once among the delivered messages
    "$PYTHON" - "$SAVE" "$N" > "$SCRATCH/count" <<'EOF'
import collections, glob, json, os, re, sys
seen = collections.Counter()
for f in glob.glob(os.path.join(sys.argv[1], "[0-9]*.json")):
    if not json.load(open(f)).get("accepted"):
        continue
    m = re.search(rb"X-Yubin-Test: tok(\d+)-", open(f[:-5] + ".eml", "rb").read())
    if m:
        seen[int(m.group(1))] += 1
n = int(sys.argv[2])
print(sum(1 for i in range(1, n + 1) if seen[i] == 1),
      sum(1 for i in range(1, n + 1) if seen[i] == 0),
      sum(1 for i in range(1, n + 1) if seen[i] > 1))
EOF
    read -r once never twice < "$SCRATCH/count"
    is "$once" "$N" "every message delivered exactly once"
    is "$never" 0 "none lost"
    is "$twice" 0 "none delivered twice"
    [ -s "$SCRATCH/flush.err" ] && diag_file "$SCRATCH/flush.err" 20
    return 0
CASE

done_testing
