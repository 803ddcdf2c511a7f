#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0800-fuzz-replay.sh -- every file of every fuzz corpus (tests/fuzz/corpus/
# NAME/) through every fuzz target (tests/fuzz/fuzz-NAME.c, built with
# replay.c as tests/fuzz/replay-NAME by make check): one TAP line per target,
# so every input the fuzzers ever kept, and every crash they found, is a
# regression test under the normal compiler (and under ASan in CI).
#
# Known, not yet fixed findings are listed in tests/fuzz/known/LIST
# ("NAME/FILE  reason", the file in tests/fuzz/known/NAME/): each is one TODO
# line (XFAIL while its target still fails on it; XPASS, a failure, once it
# is fixed: then move the file to tests/fuzz/corpus/NAME/ and drop its line).
# A reason that starts with "[fuzz-only]" marks what only the libFuzzer
# build sees (clang's UBSan, say): not replayed here; tests/fuzz/run.sh
# checks those.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

FUZZ_SRC=$TESTS_DIR/fuzz
FUZZ_BIN=$abs_top_builddir/tests/fuzz
KNOWN=$FUZZ_SRC/known/LIST

# replay NAME ARGS...: run replay-NAME, output in $SCRATCH/NAME.out
replay() {
    local name=$1
    shift
    "$FUZZ_BIN/replay-$name" "$@" > "$SCRATCH/$name.out" 2>&1
}

targets=()
for f in "$FUZZ_SRC"/fuzz-*.c; do
    f=${f##*/fuzz-}
    targets+=("${f%.c}")
done
[ "${#targets[@]}" -gt 0 ] || bail_out "no target in $FUZZ_SRC"

corpora=()
for d in "$FUZZ_SRC"/corpus/*/; do
    corpora+=("${d%/}")
done

# replay_target T: one target over every corpus
replay_target() {
    local t=$1
    if [ ! -x "$FUZZ_BIN/replay-$t" ]; then
        not_ok "no $FUZZ_BIN/replay-$t (make check builds it)"
        return 0
    fi
    if [ ! -d "$FUZZ_SRC/corpus/$t" ]; then
        not_ok "no corpus in $FUZZ_SRC/corpus/$t"
        return 0
    fi
    if replay "$t" "${corpora[@]}"; then
        ok "$(tail -n 1 "$SCRATCH/$t.out") (every corpus)"
    else
        not_ok "$(tail -n 1 "$SCRATCH/$t.out")"
        diag_file "$SCRATCH/$t.out" 60
        diag "one input again: $FUZZ_BIN/replay-$t FILE"
    fi
}

for t in "${targets[@]}"; do
    test_case "$t" 'replay_target "$t"'
done

if [ -f "$KNOWN" ]; then
    while read -r file why; do
        case $file in '' | '#'*) continue ;; esac
        t=${file%%/*}
        case $why in
        '[fuzz-only]'*)
            diag "$file: only the libFuzzer build sees it (tests/fuzz/run.sh)"
            continue ;;
        esac
        test_case "$file" '
            todo "$why" "known finding, not fixed yet" \
                replay "$t" "$FUZZ_SRC/known/$file"
            diag_file "$SCRATCH/$t.out" 10
        ' < /dev/null
    done < "$KNOWN"
fi

done_testing
