#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0420-secrets.sh -- the password never shows: not in the -v -v trace (raw,
# nor the base64 forms PLAIN and LOGIN put on the wire), not in the log
# file, not in an error message (a wrong password too), and not in the argv
# of any process yubin starts (passwordeval runs "sh -c CMD": the command is
# in argv, its output is not); an XOAUTH2 token likewise (fake server).
# Real server for PLAIN/LOGIN/SCRAM; strace -f for the execve check.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout base64
start_real_server

PW=alice-pw
WRONG=Wr0ng-s3cret-pw
# base64 forms: PLAIN "\0alice\0PW", LOGIN "PW"
b64() { printf "$1" | base64 -w0; }
PLAIN_B64=$(b64 "\\0alice\\0$PW")
LOGIN_B64=$(b64 "$PW")
WRONG_PLAIN_B64=$(b64 "\\0alice\\0$WRONG")
WRONG_LOGIN_B64=$(b64 "$WRONG")
diag "PLAIN response: $PLAIN_B64, LOGIN response: $LOGIN_B64"

# leak_free DESC FILE SECRET...: none of the secrets in FILE
leak_free() {
    local desc=$1 f=$2 s hit=""
    shift 2
    for s in "$@"; do
        grep -qF -- "$s" "$f" 2>/dev/null && hit="$hit $s"
    done
    if [ -z "$hit" ]; then
        ok "$desc"
    else
        not_ok "$desc"
        diag "found:$hit" "in $f:"
        diag_file "$f" 60
    fi
}

# trace CASE PASSWORD CONFIG_LINES...: -v -v send with a log file; sets RC
# ERR LOG
trace() {
    local name=$1 pw=$2
    shift 2
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    LOG=$SCRATCH/$name.log
    write_config "$SCRATCH/$name.conf" "host localhost" \
        "port $SMTP_PORT_SUBMISSION" "tls_trust_file $SMTP_CA" \
        "user alice" "password $pw" "from alice@example.test" \
        "logfile $LOG" "timeout 30" "$@"
    run_yubin "$SCRATCH/$TOK.msg" -v -v -C "$SCRATCH/$name.conf" \
        rcpt@example.org
    cp "$ERR" "$SCRATCH/$name.trace"
}

# ---------------------------------------------------------------- trace
for mech in plain login scram-sha-256 cram-md5; do
    test_case "auth $mech" <<'CASE'
        trace "$mech" "$PW" "auth $mech"
        is "$RC" 0 "exit 0"
        leak_free "no password in the -v -v trace" "$ERR" \
            "$PW" "$PLAIN_B64" "$LOGIN_B64"
        leak_free "no password in the log file" "$LOG" \
            "$PW" "$PLAIN_B64" "$LOGIN_B64"
        case $mech in
        plain)
            like "$(cat "$LOG" 2>/dev/null)" ' auth=on .* authmech=PLAIN' \
                "the log file was written (auth=on, authmech=PLAIN)"
            like "$(cat "$SCRATCH/plain.trace")" \
                '^yubin: \[ *[0-9]+\.[0-9] ms\] --> AUTH PLAIN <redacted>$' \
                "the trace shows the command, the response redacted"
            ;;
        login)
            like "$(grep -A3 -- '--> AUTH LOGIN' "$SCRATCH/login.trace")" \
                '^yubin: \[ *[0-9]+\.[0-9] ms\] --> <redacted>$' "the responses are shown as <redacted>"
            ;;
        esac
CASE
done

for mech in plain login; do
    test_case "wrong password, $mech" <<'CASE'
        trace "wrong-$mech" "$WRONG" "auth $mech"
        is "$RC" 77 "exit 77"
        leak_free "not in the trace or the error" "$ERR" \
            "$WRONG" "$WRONG_PLAIN_B64" "$WRONG_LOGIN_B64"
        leak_free "not in the log file" "$LOG" \
            "$WRONG" "$WRONG_PLAIN_B64" "$WRONG_LOGIN_B64"
        # a success resets Dovecot's auth penalty (see t0400)
        trace "recover-$mech" "$PW" "auth plain"
        is "$RC" 0 "a good AUTH after it: exit 0"
CASE
done

# ---------------------------------------------------------------- argv
# passwordeval: the password is its output, never an argument
SECRET_FILE=$SCRATCH/secret
printf '%s\n' "$PW" > "$SECRET_FILE"
chmod 600 "$SECRET_FILE"
EVAL_CONF=$SCRATCH/eval.conf
write_config "$EVAL_CONF" "host localhost" \
    "port $SMTP_PORT_SUBMISSION" "tls_trust_file $SMTP_CA" "user alice" \
    "passwordeval sleep 0.5; cat $SECRET_FILE" "from alice@example.test" \
    "auth plain" "timeout 30"

test_case 'passwordeval under strace' <<'CASE'
    need_cmd strace
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    # (LeakSanitizer cannot run under ptrace: off for this run)
    STRACE="strace -f -qq -s 4096 -e trace=execve -o $SCRATCH/strace"
    YUBIN_WRAPPER="env ASAN_OPTIONS=detect_leaks=0 $STRACE" \
        run_yubin "$SCRATCH/$TOK.msg" -v -C "$EVAL_CONF" rcpt@example.org
    is "$RC" 0 "exit 0"
    like "$(cat "$SCRATCH/strace")" \
        "execve\\(\"/bin/sh\", \\[\"sh\", \"-c\", \"sleep 0.5; cat $SECRET_FILE\"\\]" \
        "passwordeval ran as sh -c CMD"
    leak_free "no execve carries the password" "$SCRATCH/strace" \
        "$PW" "$PLAIN_B64"
CASE

# and while the slow passwordeval runs: every process's /proc/PID/cmdline
test_case '/proc while passwordeval runs' <<'CASE'
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    run_yubin "$SCRATCH/$TOK.msg" -C "$EVAL_CONF" rcpt@example.org &
    RUNNER=$!
    # every 10 ms the command line of every process under the runner (other
    # tests may run servers with alice-pw in their argv), until yubin is done
    "$PYTHON" - "$RUNNER" > "$SCRATCH/cmdlines" <<'EOF'
import glob, os, sys, time
runner = int(sys.argv[1])
seen = set()

def ppid(pid):
    with open("/proc/%d/stat" % pid) as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])

def under_runner(pid):
    while pid > 1:
        if pid == runner:
            return True
        pid = ppid(pid)
    return False

end = time.time() + 20
while time.time() < end:
    for f in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            if not under_runner(int(f.split("/")[2])):
                continue
            with open(f, "rb") as fh:
                seen.add(fh.read().replace(b"\0", b" ").decode("utf-8", "replace"))
        except (OSError, ValueError, IndexError):
            pass
    try:
        os.kill(runner, 0)
    except OSError:
        break
    time.sleep(0.01)
print("\n".join(sorted(seen)))
EOF
    wait "$RUNNER"
    like "$(cat "$SCRATCH/cmdlines")" "sh -c sleep 0.5; cat $SECRET_FILE" \
        "the passwordeval command was seen running"
    leak_free "no command line holds the password" "$SCRATCH/cmdlines" \
        "$PW" "$PLAIN_B64"
CASE

# ---------------------------------------------------------------- XOAUTH2
test_case 'XOAUTH2 (fake server)' <<'CASE'
    need_aiosmtpd
    test_pki
    TOKEN_SECRET=ya29.yubin-test-oauth2-token
    XO_B64=$(b64 "user=alice\\001auth=Bearer $TOKEN_SECRET\\001\\001")
    start_bg xoauth "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" --port 0 \
        --tls starttls --cert "$TEST_CERT" --key "$TEST_KEY" \
        --user "alice:$TOKEN_SECRET" --mechs XOAUTH2 \
        --save-dir "$SCRATCH/xo" || return 1
    write_config "$SCRATCH/xo.conf" "host 127.0.0.1" "port $BG_PORT" \
        "tls_trust_file $TEST_CA" "user alice" "auth xoauth2" \
        "passwordeval echo $TOKEN_SECRET" "from alice@example.test" \
        "logfile $SCRATCH/xo.log" "timeout 10"
    make_message "$SCRATCH/xo.msg" "$(new_token)"
    run_yubin "$SCRATCH/xo.msg" -v -v -C "$SCRATCH/xo.conf" rcpt@example.org
    is "$RC" 0 "exit 0"
    leak_free "the token is in no trace line" "$ERR" \
        "$TOKEN_SECRET" "$XO_B64"
    leak_free "nor in the log file" "$SCRATCH/xo.log" \
        "$TOKEN_SECRET" "$XO_B64"
CASE

done_testing
