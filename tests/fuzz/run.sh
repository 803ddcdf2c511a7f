#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
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
# The tree's corpus is never written to (unless FUZZ_MERGE=1).
#
# Each target runs in libFuzzer's fork mode, going on after a crash: a
# crash, leak, timeout, out-of-memory or broken invariant is a finding,
# and each finding is compared with the known ones (tests/fuzz/known/LIST):
# one that breaks the same invariant (the same "file:line: invariant
# broken", or the same sanitizer SUMMARY line) as a known input of that
# target is reported as known; any other is new: its input is printed
# (od -c) and kept, and the script exits 1.  Replay one with
# tests/fuzz/replay-NAME FILE (make check builds it) or
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
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# limits: no input may take 10 s, 2 GB of RSS or a 512 MB malloc (a target
# must not reach xmalloc's exit(71) on out-of-memory)
flags=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048
       -malloc_limit_mb=512 -fork=1 -ignore_crashes=1 -ignore_timeouts=1
       -ignore_ooms=1)

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
    "$exe" "${flags[@]}" "${dict[@]}" ${FUZZ_FLAGS:-} \
        -artifact_prefix="$FUZZ_OUT/findings/$name-" "$work" \
        > "$FUZZ_OUT/$name.log" 2>&1
}

# signature NAME FILE: which invariant the input breaks ("fuzz.c:353:
# invariant broken"), or the sanitizer's SUMMARY line; "crash" when it
# fails otherwise, "pass" when it does not fail
signature() {
    local out s
    if out=$("$bin/fuzz-$1" -runs=1 -timeout=10 -rss_limit_mb=2048 \
            -malloc_limit_mb=512 "$2" 2>&1); then
        echo pass
        return
    fi
    s=$(grep -aoE '[^ /]+:[0-9]+: invariant broken|SUMMARY: [A-Za-z]+: [^ ]+( [^ (]+)?' \
        <<< "$out" | head -n 1)
    echo "${s:-crash}"
}

# the known findings' signatures: "NAME<TAB>signature<TAB>FILE" lines; a
# known input that passes now was fixed: say so, and fail (move it to
# corpus/, as t0800's XPASS asks for the ones it replays)
known_sigs() {
    local file why sig
    [ -f "$src/known/LIST" ] || return 0
    while read -r file why; do
        case $file in '' | '#'*) continue ;; esac
        [ -x "$bin/fuzz-${file%%/*}" ] || continue
        sig=$(signature "${file%%/*}" "$src/known/$file")
        if [ "$sig" = pass ]; then
            echo "fixed: tests/fuzz/known/$file passes now: move it to" \
                "tests/fuzz/corpus/${file%%/*}/ and drop its line in" \
                "tests/fuzz/known/LIST" >&2
            echo fixed
            continue
        fi
        printf '%s\t%s\t%s\n' "${file%%/*}" "$sig" "$file"
    done < "$src/known/LIST"
}

# summary NAME: "NAME  execs  cov  ft  corpus  findings"
summary() {
    local log=$FUZZ_OUT/$1.log execs cov ft corp n
    execs=$(grep -aoE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
    cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -aoE 'ft: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    corp=$(grep -aoE 'corp: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    n=$(find "$FUZZ_OUT/findings" -name "$1-*" | wc -l)
    printf '%-8s %12s %6s %7s %7s  %s\n' "$1" "${execs:-?}" "${cov:-?}" \
        "${ft:-?}" "${corp:-?}" "$n"
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
printf '%-8s %12s %6s %7s %7s  %s\n' target execs cov ft corpus findings
for n in "${names[@]}"; do
    summary "$n"
    grep -q 'run.sh: no ' "$FUZZ_OUT/$n.log" 2>/dev/null && rc=1
done
known=$(known_sigs)
grep -qx fixed <<< "$known" && rc=1
for f in "$FUZZ_OUT"/findings/*; do
    [ -e "$f" ] || continue
    n=${f##*/}
    n=${n%%-*}
    sig=$(signature "$n" "$f")
    k=$(awk -F '\t' -v n="$n" -v s="$sig" '$1 == n && $2 == s { print $3; exit }' \
        <<< "$known")
    if [ -n "$k" ]; then
        echo "known: $n: $sig, as tests/fuzz/known/$k ($f)"
        continue
    fi
    rc=1
    echo
    echo "=== NEW finding of $n: $sig ($f, $(wc -c < "$f") bytes)"
    "$bin/fuzz-$n" -runs=1 -timeout=10 "$f" 2>&1 |
        grep -aE 'invariant broken|ERROR|SUMMARY|runtime error' | head -n 5
    od -An -c "$f" | head -n 40
    echo "replay: tests/fuzz/replay-$n $f   (or $bin/fuzz-$n $f)"
done
for n in "${names[@]}"; do
    if [ "${FUZZ_MERGE:-0}" = 1 ] && [ -x "$bin/fuzz-$n" ]; then
        mkdir -p "$src/corpus/$n"
        "$bin/fuzz-$n" -merge=1 "$src/corpus/$n" "$FUZZ_OUT/corpus/$n" \
            > "$FUZZ_OUT/$n.merge.log" 2>&1 &&
            echo "merged into $src/corpus/$n: $(grep -aEo 'added [0-9]+ new units' "$FUZZ_OUT/$n.merge.log")"
    fi
done
if [ "$rc" = 0 ] && [ "$made_out" = 1 ]; then
    rm -rf "$FUZZ_OUT"
else
    echo "logs and findings: $FUZZ_OUT"
fi
exit "$rc"
