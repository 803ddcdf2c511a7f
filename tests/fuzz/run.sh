#!/bin/bash
# tests/fuzz/run.sh -- run each libFuzzer target for a while on its corpus.
#
#   tests/fuzz/run.sh [SECONDS [NAME...]]     (make fuzz-run FUZZ_SECONDS=N)
#
# SECONDS per target (default 60); NAME: targets (default every
# tests/fuzz/fuzz-NAME.c).  The binaries come from `./configure
# --enable-fuzzing && make fuzz` (clang, ASan, UBSan).  Environment:
#   FUZZ_BIN    where the fuzz-NAME binaries are (default: tests/fuzz of
#               the current directory)
#   FUZZ_JOBS   targets run at the same time (default 1)
#   FUZZ_OUT    working directory: corpus/NAME (the tree's corpus plus what
#               the run found), findings/, NAME.log (default: a new
#               temporary directory, kept when something was found)
#   FUZZ_MERGE=1  afterwards merge the inputs that add coverage into the
#               tree's tests/fuzz/corpus/NAME (libFuzzer -merge=1); review
#               and commit them
#   FUZZ_FLAGS  more libFuzzer flags
# The tree's corpus is never written to (unless FUZZ_MERGE=1).  A crash,
# leak, timeout, out-of-memory or broken invariant is a finding: its
# reproducer is printed (hex) and kept; the script then exits 1.  Replay
# one with tests/fuzz/replay-NAME FILE (make check builds it) or
# tests/fuzz/fuzz-NAME FILE.
set -u
src=$(cd "$(dirname "$0")" && pwd)
secs=${1:-60}
shift 2>/dev/null
bin=${FUZZ_BIN:-$PWD/tests/fuzz}
jobs=${FUZZ_JOBS:-1}
names=("$@")
if [ "${#names[@]}" = 0 ]; then
    for f in "$src"/fuzz-*.c; do
        f=${f##*/fuzz-}
        names+=("${f%.c}")
    done
fi
made_out=0
if [ -z "${FUZZ_OUT:-}" ]; then
    FUZZ_OUT=$(mktemp -d "${TMPDIR:-/tmp}/yubin-fuzz-run.XXXXXX") || exit 1
    made_out=1
fi
mkdir -p "$FUZZ_OUT/findings" || exit 1
# the targets' scratch files (fuzz_tmpdir()): on /dev/shm when there is
# one, removed at the end even when a target crashed
FUZZ_TMPDIR=$(mktemp -d /dev/shm/yubin-fuzz-run.XXXXXX 2>/dev/null ||
    mktemp -d "$FUZZ_OUT/tmp.XXXXXX") || exit 1
export FUZZ_TMPDIR
trap 'rm -rf "$FUZZ_TMPDIR"' EXIT

# limits: no input may take 10 s, 2 GB of RSS or a 512 MB malloc (a target
# must not reach xmalloc's exit(71) on out-of-memory)
flags=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048
       -malloc_limit_mb=512 -print_final_stats=1 -detect_leaks=1)

run_one() {
    local name=$1 exe=$bin/fuzz-$1 work=$FUZZ_OUT/corpus/$1 dict=()
    if [ ! -x "$exe" ]; then
        echo "run.sh: no $exe (./configure --enable-fuzzing && make fuzz)" \
            > "$FUZZ_OUT/$name.log"
        return 1
    fi
    mkdir -p "$work"
    [ -d "$src/corpus/$name" ] && cp -p "$src/corpus/$name"/* "$work"/ 2>/dev/null
    [ -f "$src/dict/$name.dict" ] && dict=(-dict="$src/dict/$name.dict")
    # shellcheck disable=SC2086
    ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$exe" "${flags[@]}" "${dict[@]}" ${FUZZ_FLAGS:-} \
        -artifact_prefix="$FUZZ_OUT/findings/$name-" "$work" \
        > "$FUZZ_OUT/$name.log" 2>&1
}

# summary NAME: "NAME  execs  cov  ft  corpus  result"
summary() {
    local log=$FUZZ_OUT/$1.log execs cov ft corp result=ok
    execs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$log")
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -Eo 'ft: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    corp=$(grep -Eo 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 | cut -d' ' -f2)
    if compgen -G "$FUZZ_OUT/findings/$1-*" > /dev/null; then
        result=FINDING
    elif ! grep -q 'Done [0-9]* runs' "$log"; then
        result=ERROR
    fi
    printf '%-8s %12s %6s %7s %12s  %s\n' "$1" "${execs:-?}" "${cov:-?}" \
        "${ft:-?}" "${corp:-?}" "$result"
    [ "$result" = ok ]
}

running=0
for n in "${names[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    echo "fuzzing $n for ${secs}s ..."
    run_one "$n" &
    running=$((running + 1))
done
wait

rc=0
echo
printf '%-8s %12s %6s %7s %12s  %s\n' target execs cov ft corpus result
for n in "${names[@]}"; do
    summary "$n" || rc=1
done
for f in "$FUZZ_OUT"/findings/*; do
    [ -e "$f" ] || continue
    n=${f##*/}
    n=${n%%-*}
    echo
    echo "=== finding: $f ($(wc -c < "$f") bytes)"
    grep -E 'ERROR|invariant broken|SUMMARY|runtime error' "$FUZZ_OUT/$n.log" |
        head -n 5
    od -An -c "$f" | head -n 40
    echo "replay: tests/fuzz/replay-$n $f   (or $bin/fuzz-$n $f)"
done
for n in "${names[@]}"; do
    if [ "${FUZZ_MERGE:-0}" = 1 ] && [ -x "$bin/fuzz-$n" ]; then
        mkdir -p "$src/corpus/$n"
        "$bin/fuzz-$n" -merge=1 "$src/corpus/$n" "$FUZZ_OUT/corpus/$n" \
            > "$FUZZ_OUT/$n.merge.log" 2>&1 &&
            echo "merged into $src/corpus/$n: $(grep -Eo 'added [0-9]+ new units' "$FUZZ_OUT/$n.merge.log")"
    fi
done
if [ "$rc" = 0 ] && [ "$made_out" = 1 ]; then
    rm -rf "$FUZZ_OUT"
else
    echo "logs and findings: $FUZZ_OUT"
fi
exit "$rc"
