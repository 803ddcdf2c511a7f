#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0100-scenarios.sh -- yubin against tests/fake/scripted_smtpd.py, one
# scenario file per case: tests/scenarios/NNNN-name.scn.  One TAP line each.
#
# SCENARIO FORMAT
#   Lines starting with "#" are comments (the first one is the description),
#   blank lines are ignored.  Lower-case "key: value" lines are settings; the
#   line "server:" starts the server script, which runs up to the next
#   lower-case "key:" line (script steps all start with an upper-case word:
#   S: S+: C: C~: TLS DATA SLEEP CLOSE HANG WAITCLOSE; see the top of
#   tests/fake/scripted_smtpd.py).  Settings (all but expect-exit optional,
#   most may be repeated):
#
#     config: LINE           a config line for the account (repeatable); the
#                            runner always writes first:
#                              host 127.0.0.1 / port <fake port> /
#                              tls_trust_file <test CA> / timeout 5 /
#                              from alice@example.test
#                            (a later line for the same key wins)
#     args: ARGS             yubin's arguments after "-C <config>", split on
#                            blanks (default: rcpt@example.org)
#     stdin: TEXT            the message, printf %b escapes (\n \t \\);
#                            several stdin: lines are concatenated
#                            (default: "Subject: test\n\nhello\n")
#     connections: N         connections the server accepts (default 1)
#     expect-exit: N         yubin's exit code (required)
#     expect-stderr: ERE     some line of yubin's stderr matches (grep -E)
#     expect-stderr-not: ERE no line of yubin's stderr matches
#     expect-transcript: ERE some line of the server transcript matches; the
#                            transcript has "C: <client line>",
#                            "S: <server line>" and "! <note>" lines
#     expect-transcript-not: ERE   no transcript line matches
#     expect-max-seconds: N  yubin finished in less than N seconds (N + 5
#                            under $YUBIN_WRAPPER, i.e. valgrind)
#     expect-script: complete|any  "complete" (default): the server ran its
#                            whole script (no unexpected client line)
#
#   To add a case, copy a scenario file, change it, run
#   `tests/t0100-scenarios.sh [NAME-GLOB]` (e.g. `0050*`).
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
[ -x "$PYTHON" ] || skip_all "needs $PYTHON"
test_pki

scn_glob=${1:-*}
scenarios=()
for f in "$TESTS_DIR"/scenarios/$scn_glob.scn; do
    [ -e "$f" ] && scenarios+=("$f")
done
[ "${#scenarios[@]}" -gt 0 ] || bail_out "no scenario matches '$scn_glob'"
plan "${#scenarios[@]}"

# run_scenario FILE: one TAP line
run_scenario() {
    local scn=$1 name desc="" line key val
    local -a configs=() stdins=() args=() e_err=() e_err_not=() e_tr=() e_tr_not=()
    local e_exit="" e_secs="" e_script=complete conns=1 have_args=0
    name=$(basename "$scn" .scn)
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        if [ -z "$desc" ] && [[ $line == "#"* ]]; then
            desc=${line#\#}
            desc=${desc# }
            continue
        fi
        [[ $line =~ ^([a-z][a-z0-9-]*):[[:space:]]?(.*)$ ]] || continue
        key=${BASH_REMATCH[1]}
        val=${BASH_REMATCH[2]}
        case $key in
        server) ;;
        config) configs+=("$val") ;;
        args) read -r -a args <<< "$val"; have_args=1 ;;
        stdin) stdins+=("$val") ;;
        connections) conns=$val ;;
        expect-exit) e_exit=$val ;;
        expect-stderr) e_err+=("$val") ;;
        expect-stderr-not) e_err_not+=("$val") ;;
        expect-transcript) e_tr+=("$val") ;;
        expect-transcript-not) e_tr_not+=("$val") ;;
        expect-max-seconds) e_secs=$val ;;
        expect-script) e_script=$val ;;
        *)
            not_ok "$name: unknown setting '$key' in $scn"
            return 0
            ;;
        esac
    done < "$scn"
    if [ -z "$e_exit" ]; then
        not_ok "$name: no expect-exit in $scn"
        return 0
    fi
    [ "$have_args" = 1 ] || args=(rcpt@example.org)

    local dir=$SCRATCH/$name
    mkdir -p "$dir"
    if [ "${#stdins[@]}" -gt 0 ]; then
        local s
        for s in "${stdins[@]}"; do printf '%b' "$s"; done > "$dir/stdin"
    else
        printf 'Subject: test\n\nhello\n' > "$dir/stdin"
    fi

    if ! start_bg "$name-server" "$PYTHON" "$TESTS_DIR/fake/scripted_smtpd.py" \
            --script "$scn" --port 0 --transcript "$dir/transcript" \
            --data-file "$dir/data" --cert "$TEST_CERT" --key "$TEST_KEY" \
            --tmpdir "$dir" --connections "$conns" --timeout 30; then
        not_ok "$name: scripted_smtpd.py did not start"
        return 0
    fi
    local spid=$BG_PID
    write_config "$dir/config" "host 127.0.0.1" "port $BG_PORT" \
        "tls_trust_file $TEST_CA" "timeout 5" "from alice@example.test" \
        ${configs[@]+"${configs[@]}"}

    run_yubin "$dir/stdin" -C "$dir/config" "${args[@]}"
    cp "$ERR" "$dir/stderr"

    # the server ends when the client has gone (or its script is done)
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.1
    done
    stop_bg "$spid"

    local -a fails=()
    local tr=$dir/transcript re
    touch "$tr"
    [ "$RC" = "$e_exit" ] || fails+=("exit code $RC, expected $e_exit")
    for re in ${e_err[@]+"${e_err[@]}"}; do
        grep -Eq -- "$re" "$ERR" || fails+=("stderr does not match /$re/")
    done
    for re in ${e_err_not[@]+"${e_err_not[@]}"}; do
        grep -Eq -- "$re" "$ERR" && fails+=("stderr matches /$re/")
    done
    for re in ${e_tr[@]+"${e_tr[@]}"}; do
        grep -Eq -- "$re" "$tr" || fails+=("transcript does not match /$re/")
    done
    for re in ${e_tr_not[@]+"${e_tr_not[@]}"}; do
        grep -Eq -- "$re" "$tr" && fails+=("transcript matches /$re/")
    done
    if [ "$e_script" = complete ] && ! grep -q '^! script completed' "$tr"; then
        fails+=("the server did not complete its script")
    fi
    # under a wrapper (valgrind) yubin needs a few seconds just to start
    [ -n "$e_secs" ] && [ -n "${YUBIN_WRAPPER:-}" ] &&
        e_secs=$(awk -v s="$e_secs" 'BEGIN { print s + 5 }')
    if [ -n "$e_secs" ] && ! seconds_below "$SECS" "$e_secs"; then
        fails+=("took ${SECS}s, expected less than ${e_secs}s")
    fi

    if [ "${#fails[@]}" = 0 ]; then
        ok "$name: $desc"
    else
        not_ok "$name: $desc"
        diag "scenario: $scn" "${fails[@]}" \
            "yubin -C config ${args[*]} -> exit $RC in ${SECS}s"
        diag_file "$dir/config"
        diag_file "$tr" 120
        diag_file "$dir/stderr" 40
    fi
}

for scn in "${scenarios[@]}"; do
    run_scenario "$scn"
done
done_testing
