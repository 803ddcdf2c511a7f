#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0100-scenarios.sh -- yubin against tests/fake/scripted_smtpd.py, one
# scenario file per case: tests/scenarios/NNNN-name.scn.  Everything is
# exact, as curl's <protocol> sections are: every client line, yubin's
# whole standard error, the message after DATA.
#
# SCENARIO FORMAT
#   Lines starting with "#" are comments (the first one is the description,
#   an SPDX licence line aside),
#   blank lines are ignored.  Lower-case "key: value" lines are settings; the
#   line "server:" starts the server script, which runs up to the next
#   lower-case "key:" line (script steps all start with an upper-case word:
#   S: S+: C: C~: TLS DATA BDAT EOF SLEEP CLOSE HANG WAITCLOSE; see the top
#   of tests/fake/scripted_smtpd.py).  The script pins the client's lines:
#   "C: LINE" is the exact line (parameters included), "C~: REGEX" only
#   where a value is genuinely variable; a client line the script does not
#   expect, also after WAITCLOSE or HANG (a QUIT too: write "C: QUIT"),
#   fails it.  Settings (all but expect-exit optional, most repeatable):
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
#     expect-stderr: LINE    yubin's standard error, exactly, one line per
#                            expect-stderr (or expect-stderr~), in order;
#                            without any, stderr must be empty
#     expect-stderr~: REGEX  one line of it holding a genuinely variable
#                            value (a port, a TLS cipher): the whole line
#                            matches the (Python) regular expression
#     expect-stderr-not: ERE no line of yubin's stderr matches (grep -E)
#     expect-data: LINE      the message as the server read it after DATA
#                            (dot-stuffed, up to and with the final ".")
#                            or in a BDAT chunk (raw), exactly, one line
#                            per expect-data (or expect-data~), each ended
#                            by CRLF; required when the script has a DATA
#                            or BDAT step
#     expect-data~: REGEX    one line of it with a variable value (a Date:
#                            or Message-ID: yubin adds), matched whole
#     expect-transcript: ERE some line of the server transcript matches; the
#                            transcript has "C: <client line>",
#                            "S: <server line>" and "! <note>" lines
#     expect-transcript-not: ERE   no transcript line matches
#     expect-max-seconds: N  yubin finished in less than N seconds (N + 5
#                            under $YUBIN_WRAPPER, i.e. valgrind)
#     expect-script: complete|any  "complete" (default): the server ran its
#                            whole script, every client line as expected
#
#   To add a case, copy a scenario file, change it, run
#   `tests/t0100-scenarios.sh [NAME-GLOB | FILE.scn]...` (e.g. `0050*`).
#   Each scenario is a test_case; its assertions: exit code, stderr, client
#   lines (the script ran to its end), data, transcript patterns, time.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
[ -x "$PYTHON" ] || skip_all "needs $PYTHON"
test_pki

scenarios=()
for arg in "${@:-*}"; do
    case $arg in
    *.scn) scenarios+=("$arg") ;;
    *)
        for f in "$TESTS_DIR"/scenarios/$arg.scn; do
            [ -e "$f" ] && scenarios+=("$f")
        done
        ;;
    esac
done
[ "${#scenarios[@]}" -gt 0 ] || bail_out "no scenario matches '$*'"

# match_lines MODE FILE EXPECT_FILE: FILE's lines against EXPECT_FILE's
# ("= LINE" exact, "~ REGEX" whole-line regex), in order, all of them;
# MODE data: FILE's lines are CRLF-ended (a bare CR or LF is an error);
# MODE text: LF-ended.  Prints what differs; false if anything does.
match_lines() {
    "$PYTHON" - "$@" <<'EOF'
import re, sys
mode, path, want_path = sys.argv[1:4]
raw = open(path, "rb").read()
want = [l[:-1] if l.endswith("\n") else l
        for l in open(want_path, encoding="utf-8").readlines()]
bad = []
if mode == "data":
    parts = raw.split(b"\r\n")
    if parts[-1] != b"":
        bad.append("the data does not end with CRLF")
    got = parts[:-1] if parts[-1] == b"" else parts
    for i, l in enumerate(got, 1):
        if b"\r" in l or b"\n" in l:
            bad.append(f"line {i}: a bare CR or LF: {l!r}")
else:
    got = raw.split(b"\n")
    if got[-1] == b"":
        got = got[:-1]
got = [l.decode("utf-8", "backslashreplace") for l in got]
for i in range(max(len(got), len(want))):
    g = got[i] if i < len(got) else None
    w = want[i] if i < len(want) else None
    if w is None:
        bad.append(f"line {i + 1}: not expected: {g!r}")
    elif g is None:
        bad.append(f"line {i + 1}: missing: {w[2:]!r}")
    elif w.startswith("= ") and g != w[2:]:
        bad.append(f"line {i + 1}: got      {g!r}\n"
                   f"         expected {w[2:]!r}")
    elif w.startswith("~ ") and not re.fullmatch(w[2:], g):
        bad.append(f"line {i + 1}: got {g!r}, expected /{w[2:]}/")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
}

# run_scenario FILE: the body of one case
run_scenario() {
    local scn=$1 name desc="" line key val has_data=0
    local -a configs=() stdins=() args=() e_err_not=() e_tr=() e_tr_not=()
    local e_exit="" e_secs="" e_script=complete conns=1 have_args=0
    local dir=$SCRATCH
    name=$(basename "$scn" .scn)
    : > "$dir/want.stderr"
    : > "$dir/want.data"
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        [[ $line == "# SPDX-"* ]] && continue	# a licence line is no description
        if [ -z "$desc" ] && [[ $line == "#"* ]]; then
            desc=${line#\#}
            desc=${desc# }
            continue
        fi
        case $line in DATA | BDAT) has_data=1 ;; esac
        [[ $line =~ ^([a-z][a-z0-9-]*~?):[[:space:]]?(.*)$ ]] || continue
        key=${BASH_REMATCH[1]}
        val=${BASH_REMATCH[2]}
        case $key in
        server) ;;
        config) configs+=("$val") ;;
        args) read -r -a args <<< "$val"; have_args=1 ;;
        stdin) stdins+=("$val") ;;
        connections) conns=$val ;;
        expect-exit) e_exit=$val ;;
        expect-stderr) printf '= %s\n' "$val" >> "$dir/want.stderr" ;;
        expect-stderr~) printf '~ %s\n' "$val" >> "$dir/want.stderr" ;;
        expect-stderr-not) e_err_not+=("$val") ;;
        expect-data) printf '= %s\n' "$val" >> "$dir/want.data" ;;
        expect-data~) printf '~ %s\n' "$val" >> "$dir/want.data" ;;
        expect-transcript) e_tr+=("$val") ;;
        expect-transcript-not) e_tr_not+=("$val") ;;
        expect-max-seconds) e_secs=$val ;;
        expect-script) e_script=$val ;;
        *)
            not_ok "unknown setting '$key' in $scn"
            return 1
            ;;
        esac
    done < "$scn"
    diag "$name: $desc"
    if [ -z "$e_exit" ]; then
        not_ok "no expect-exit in $scn"
        return 1
    fi
    if [ "$has_data" = 1 ] && [ ! -s "$dir/want.data" ]; then
        not_ok "a DATA or BDAT step but no expect-data in $scn"
        return 1
    fi
    [ "$have_args" = 1 ] || args=(rcpt@example.org)

    if [ "${#stdins[@]}" -gt 0 ]; then
        local s
        for s in "${stdins[@]}"; do printf '%b' "$s"; done > "$dir/stdin"
    else
        printf 'Subject: test\n\nhello\n' > "$dir/stdin"
    fi

    start_bg "$name-server" "$PYTHON" "$TESTS_DIR/fake/scripted_smtpd.py" \
        --script "$scn" --port 0 --transcript "$dir/transcript" \
        --data-file "$dir/data" --cert "$TEST_CERT" --key "$TEST_KEY" \
        --tmpdir "$dir" --connections "$conns" --timeout 30 || return 1
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

    local tr=$dir/transcript re out
    touch "$tr"
    is "$RC" "$e_exit" "exit $e_exit"
    if out=$(match_lines text "$ERR" "$dir/want.stderr"); then
        ok "stderr exactly as expected"
    else
        not_ok "stderr exactly as expected"
        diag "$out"
    fi
    for re in ${e_err_not[@]+"${e_err_not[@]}"}; do
        unlike "$(cat "$ERR")" "$re" "stderr: no line matches /$re/"
    done
    if [ "$e_script" = complete ]; then
        check "every client line as expected (the server's script ran to its end)" \
            grep -q '^! script completed' "$tr"
    fi
    if [ -s "$dir/want.data" ]; then
        if out=$(match_lines data "$dir/data" "$dir/want.data" 2>&1); then
            ok "data exactly as expected"
        else
            not_ok "data exactly as expected"
            diag "$out"
        fi
    fi
    for re in ${e_tr[@]+"${e_tr[@]}"}; do
        like "$(cat "$tr")" "$re" "transcript: a line matches /$re/"
    done
    for re in ${e_tr_not[@]+"${e_tr_not[@]}"}; do
        unlike "$(cat "$tr")" "$re" "transcript: no line matches /$re/"
    done
    # under a wrapper (valgrind) yubin needs a few seconds just to start
    [ -n "$e_secs" ] && [ -n "${YUBIN_WRAPPER:-}" ] &&
        e_secs=$(awk -v s="$e_secs" 'BEGIN { print s + 5 }')
    if [ -n "$e_secs" ]; then
        check "less than ${e_secs}s (took ${SECS}s)" seconds_below "$SECS" "$e_secs"
    fi
    if case_failed; then
        diag "scenario: $scn" \
            "yubin -C config ${args[*]} -> exit $RC in ${SECS}s"
        diag_file "$dir/config"
        diag_file "$tr" 120
        diag_file "$dir/stderr" 60
    fi
}

for scn in "${scenarios[@]}"; do
    test_case "$(basename "$scn" .scn)" 'run_scenario "$scn"'
done
done_testing
