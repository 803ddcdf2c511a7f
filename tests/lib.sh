# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lib.sh -- sourced by every tests/tNNNN-*.sh script.  Bash only.
#
# CASES     A test is a list of named cases (git's test_expect_success):
#
#               test_case 'a 5xx to RCPT is not queued' '
#                   fake perm --fault "RCPT=550 5.1.1 no" || return 1
#                   run_yubin "$MSG" -C "$SCRATCH/perm/config" r@example.org
#                   is "$RC" 67 "exit 67"
#                   is "$(count_files "$QUEUE_DIR/msg")" 0 "nothing queued"
#               '
#               done_testing
#
#           test_case TITLE BODY (or TITLE alone, the body on stdin:
#           test_case 'title' <<'CASE' ... for a body with single quotes)
#           runs BODY (eval'd, so `return` ends it) in a subshell of its own:
#           - its own $SCRATCH (the test's scratch is $TEST_SCRATCH, where
#             the fixtures made once at the top live), XDG_STATE_HOME,
#             XDG_CONFIG_HOME, $QUEUE_DIR and .stamp (find_delivered sees
#             what arrived since the case began): no state flows from one
#             case to the next, and variables set in a case end with it;
#           - `test_when_finished CMD` runs CMD after the case, even when it
#             failed or stopped (last registered, first run); then every
#             server the case started with start_bg is stopped;
#           - its assertions keep their own TAP lines (each with its exact
#             got/expected diagnostics), each prefixed "TITLE: "; a case
#             that asserts nothing is one line, "ok N - TITLE", as in git;
#           - a body that ends with a non-zero status (`... || return 1`
#             after a set-up step that failed, `set -u`, a command not
#             found) fails the case: "not ok N - TITLE: the case stopped
#             with status S" (unless an assertion already failed), with the
#             body as diagnostics; the next case runs as usual;
#           - skip_all (and need_*) inside a case skips that case only;
#             case_failed says whether one of its assertions failed yet.
#           YUBIN_CASES selects cases: "#" and case numbers and ranges
#           ("#3", "#2-4,7"), or else an extended regular expression matched
#           against each title ("queue always|DSN"); a leading "!" selects
#           the others ("!#5", "!200").
#           A case not selected is "ok N - TITLE # SKIP ...", never a failure
#           (YUBIN_NO_SKIP=1 included).  "# case N: TITLE" before each case
#           gives the numbers.  A test with cases ends with done_testing (no
#           plan: a selection changes the count).
# STOPPING  skip_all REASON: a prerequisite is missing ("1..0 # SKIP", exit 0;
#           a failure under YUBIN_NO_SKIP=1); bail_out REASON: a fixture the
#           whole test needs is broken ("Bail out! REASON", exit 99, also from
#           inside a case); in a case, a failed set-up returns non-zero.
#           Nothing else exits.  (The C unit tests: bail_out() in tap.h.)
# TAP:      ok DESC | not_ok DESC | check DESC CMD... | is GOT WANT DESC
#           like GOT ERE DESC | unlike GOT ERE DESC | skip DESC REASON | diag MSG...
#           todo DESC REASON CMD... (a known failure: XFAIL, or XPASS once fixed)
#           diag_file FILE | done_testing | plan N (tests without cases only)
#           YUBIN_NO_SKIP=1 turns skip_all/skip into failures (CI).
# Needs:    need_root | need_cmd CMD | need_yubin | need_aiosmtpd | need_certtool
# Paths:    $abs_top_srcdir $abs_top_builddir (automake's AM_TESTS_ENVIRONMENT, or
#           derived from this file) $TESTS_DIR $YUBIN $PYTHON $SCRATCH (per test,
#           and per case inside one; removed on exit unless something failed)
#           $TEST_SCRATCH (the test's) $QUEUE_DIR (yubin's queue for the
#           current XDG_STATE_HOME) $TESTENV_DIR (real server)
# Running:  run_yubin STDIN_FILE ARGS...  -> $RC $ERR $OUT $SECS (timeout 30 s;
#           $YUBIN_WRAPPER, e.g. "valgrind -q", is put in front when set);
#           tty_run EXPECT=ANSWER... -- CMD... (on a new pseudo-terminal)
# Disk:     case_tmpfs DIR SIZE (a small tmpfs for the case, root only)
# Servers:  start_real_server (tests/server/start.sh + env.sh), start_bg NAME CMD...
#           (waits for "READY ... <port>" on stdout -> $BG_PORT $BG_PID; killed on
#           exit), in_resolv NAMESERVER CMD... (CMD with a private
#           /etc/resolv.conf), start_unix_relay SOCK PORT (socat: a unix
#           socket to 127.0.0.1:PORT), start_bg_port NAME PORT CMD... (a server that prints nothing:
#           READY once PORT takes connections), stop_bg PID, free_port, closed_port (-> $CLOSED_PORT),
#           test_pki (-> $TEST_CA $TEST_CERT $TEST_KEY), fake_accepted DIR,
#           client_lines DIR (fake_smtpd.py's recorded commands), jget FILE EXPR,
#           plain_fake NAME ARGS..., plain_case NAME MSG ARGS... -- YUBIN_ARGS...,
#           start_proxy NAME PORT [RTT_MS] (a delay proxy -> $PROXY_PORT
#           $PROXY_LOG), proxy_conn N [EXPR] (its record of connection N)
# Config:   write_config FILE LINE...      (one account "test", mode 0600)
#           real_config FILE PORT LINE...  (localhost, CA, alice, alice-pw, from)
# Mail:     make_message FILE TOKEN [BODY_BYTES], find_delivered TOKEN [SECS],
#           maildir_count, wait_for_delivery COUNT_BEFORE [N],
#           delivered_body FILE [FIRST_LINE], delivered TOKEN [SECS [DESC]],
#           not_delivered TOKEN [SECS] (one TAP line each)
set -u

# ---------------------------------------------------------------- paths
if [ -z "${abs_top_srcdir:-}" ]; then
    abs_top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fi
if [ -z "${abs_top_builddir:-}" ]; then
    abs_top_builddir=$abs_top_srcdir
fi
TESTS_DIR=$abs_top_srcdir/tests
YUBIN=${YUBIN:-$abs_top_builddir/src/yubin}
YUBIN_TIMEOUT=${YUBIN_TIMEOUT:-30}
PYTHON=/usr/bin/python3
TEST_NAME=$(basename "$0" .sh)
# the real server's state dir; fixed here, before anything touches TMPDIR
TESTENV_DIR=${STATE_DIR:-${TMPDIR:-/tmp}/yubin-testenv}
export LC_ALL=C.UTF-8

# ---------------------------------------------------------------- TAP
_tap_n=0
_tap_failed=0
_tap_planned=

plan() {
    [ "$_case_no" = 0 ] || bail_out "plan after a test_case (use done_testing)"
    _tap_planned=$1
    echo "1..$1"
}

# _tap_desc DESC: DESC, after "TITLE: " inside a case (TITLE alone if empty)
_tap_desc() {
    if [ -z "$_case_title" ]; then
        printf '%s' "$1"
    elif [ -z "$1" ]; then
        printf '%s' "$_case_title"
    else
        printf '%s: %s' "$_case_title" "$1"
    fi
}

# _tap_line "ok"|"not ok" TEXT: one numbered TAP line; inside a case the
# counters go to the case's state file at once (the case is a subshell)
_tap_line() {
    _tap_n=$((_tap_n + 1))
    [ "$1" = ok ] || _tap_failed=$((_tap_failed + 1))
    echo "$1 $_tap_n - $2"
    [ -z "$_case_state" ] ||
        printf '%s %s\n' "$_tap_n" "$_tap_failed" > "$_case_state"
}

ok() {
    _tap_line ok "$(_tap_desc "$*")"
}

not_ok() {
    _tap_line "not ok" "$(_tap_desc "$*")"
}

diag() {
    local line
    for line in "$@"; do
        printf '%s\n' "$line" | sed 's/^/# /'
    done
}

# diag_file FILE [MAX_LINES]: a file as diagnostics, long lines cut
diag_file() {
    local f=$1 max=${2:-200}
    if [ ! -e "$f" ]; then
        diag "($f: missing)"
        return 0
    fi
    diag "---- $(basename "$f") ($(wc -c < "$f") bytes)"
    head -n "$max" "$f" | cut -c1-300 | sed 's/^/#   /'
    [ "$(wc -l < "$f")" -le "$max" ] || diag "    ... (cut after $max lines)"
    return 0
}

# check DESC CMD...: ok if CMD succeeds
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

is() {
    if [ "$1" = "$2" ]; then
        ok "$3"
    else
        not_ok "$3"
        diag "got:      '$1'" "expected: '$2'"
    fi
}

# like TEXT ERE DESC / unlike TEXT ERE DESC
like() {
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then
        ok "$3"
    else
        not_ok "$3"
        diag "no line matches /$2/ in:" "$(printf '%s\n' "$1" | head -n 40 | cut -c1-300)"
    fi
}

unlike() {
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then
        not_ok "$3"
        diag "a line matches /$2/:" "$(printf '%s\n' "$1" | grep -E -- "$2" | head -n 5)"
    else
        ok "$3"
    fi
}

skip() {
    if [ "${YUBIN_NO_SKIP:-0}" = 1 ]; then
        not_ok "$1 (would skip: $2; YUBIN_NO_SKIP=1)"
    else
        _tap_line ok "$(_tap_desc "$1") # SKIP $2"
    fi
}

# todo DESC REASON CMD...: a known failure (TAP TODO: automake counts it as
# XFAIL); CMD succeeding means it was fixed: XPASS, which counts as a failure
# until the test is turned into a normal one
todo() {
    local desc why=$2
    desc=$(_tap_desc "$1")
    shift 2
    # not counted as a failure either way: the driver decides (XFAIL/XPASS)
    _tap_n=$((_tap_n + 1))
    if "$@"; then
        echo "ok $_tap_n - $desc # TODO $why"
    else
        echo "not ok $_tap_n - $desc # TODO $why"
    fi
    [ -z "$_case_state" ] ||
        printf '%s %s\n' "$_tap_n" "$_tap_failed" > "$_case_state"
}

# skip_all REASON: the test (or, inside a case, the case) cannot run here
skip_all() {
    if [ -n "$_case_title" ]; then
        skip "" "$*"
        exit 0
    fi
    [ "${YUBIN_NO_SKIP:-0}" = 1 ] && bail_out "would skip: $*"
    echo "1..0 # SKIP $*"
    exit 0
}

# bail_out REASON: stop the whole test ("Bail out!", exit 99: automake's
# hard error), from a case too
bail_out() {
    echo "Bail out! $*"
    _tap_failed=$((_tap_failed + 1))
    [ -z "$_case_state" ] ||
        printf '%s %s\n' "$_tap_n" "$_tap_failed" > "$_case_state"
    exit 99
}

# done_testing: print the plan if none was given, check the count, exit
done_testing() {
    [ -z "$_case_title" ] || bail_out "done_testing inside the case '$_case_title'"
    if [ -z "$_tap_planned" ]; then
        echo "1..$_tap_n"
    elif [ "$_tap_planned" != "$_tap_n" ]; then
        diag "planned $_tap_planned tests but ran $_tap_n"
        _tap_failed=$((_tap_failed + 1))
    fi
    [ "$_tap_failed" = 0 ] && exit 0
    exit 1
}

# ---------------------------------------------------------------- cases
# test_case TITLE [BODY]: see CASES at the top.  The case runs in a subshell
# (_case_run); its TAP counters come back through a state file.
_case_no=0
_case_title=
_case_state=
_case_body=
_case_cleanups=()

test_case() {
    local title=$1 state rc
    [ -z "$_case_title" ] ||
        bail_out "test_case '$title' inside the case '$_case_title'"
    _case_no=$((_case_no + 1))
    if [ $# -ge 2 ]; then
        _case_body=$2
    else
        _case_body=$(cat)
    fi
    if ! _case_selected "$_case_no" "$title"; then
        _tap_n=$((_tap_n + 1))
        echo "ok $_tap_n - $title # SKIP case $_case_no not selected by YUBIN_CASES"
        return 0
    fi
    echo "# case $_case_no: $title"
    state=$TEST_SCRATCH/.case-state
    printf '%s %s\n' "$_tap_n" "$_tap_failed" > "$state"
    ( _case_run "$title" "$state" )
    rc=$?
    read -r _tap_n _tap_failed < "$state"
    # a bail_out inside the case stops the test here too
    [ "$rc" = 99 ] && exit 99
    return 0
}

# case_failed: true once an assertion of the current case has failed
case_failed() {
    [ -n "$_case_title" ] && [ "$_tap_failed" != "$_case_failed_first" ]
}

# test_when_finished CMD: run CMD (eval'd) after the current case
test_when_finished() {
    [ -n "$_case_title" ] || bail_out "test_when_finished outside a test_case"
    _case_cleanups+=("$*")
}

# _case_selected NUMBER TITLE: is the case in $YUBIN_CASES (all if unset)?
_case_selected() {
    local sel=${YUBIN_CASES:-} n=$1 neg=0 hit=1 item lo hi
    [ -n "$sel" ] || return 0
    if [ "${sel#!}" != "$sel" ]; then
        neg=1
        sel=${sel#!}
    fi
    if [[ $sel =~ ^#[0-9][0-9,\ -]*$ ]]; then
        sel=${sel#\#}
        for item in ${sel//,/ }; do
            lo=${item%%-*} hi=${item#*-}
            if [ "$n" -ge "${lo:-1}" ] && [ "$n" -le "${hi:-$n}" ]; then
                hit=0
                break
            fi
        done
    elif printf '%s\n' "$2" | grep -Eq -- "$sel"; then
        hit=0
    fi
    [ "$neg" = 0 ] || hit=$((1 - hit))
    return "$hit"
}

# _case_run TITLE STATE_FILE: the case's subshell
_case_run() {
    _case_title=$1
    _case_state=$2
    _case_tap_first=$_tap_n
    _case_failed_first=$_tap_failed
    _case_bg_first=${#_bg_pids[@]}
    _scratch_init "$(printf '%s/case-%02d' "$TEST_SCRATCH" "$_case_no")"
    trap '_case_end $?' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    _case_eval
}

_case_eval() {
    eval "$_case_body"
}

# _case_end STATUS: the case's cleanups, its servers, its verdict
_case_end() {
    local rc=$1 crc=0 i p
    trap - EXIT
    for ((i = ${#_case_cleanups[@]} - 1; i >= 0; i--)); do
        eval "${_case_cleanups[i]}" || crc=$?
    done
    for p in "${_bg_pids[@]:_case_bg_first}"; do
        stop_bg "$p"
    done
    if [ "$rc" = 99 ]; then
        :	# bail_out: the test stops
    elif [ "$rc" != 0 ] || [ "$crc" != 0 ]; then
        if [ "$_tap_failed" = "$_case_failed_first" ]; then
            if [ "$rc" != 0 ]; then
                _tap_line "not ok" "$_case_title: the case stopped with status $rc"
            else
                _tap_line "not ok" "$_case_title: its cleanup failed (status $crc)"
            fi
        fi
        diag "the case stopped with status $rc (its cleanup: $crc); its body:"
        printf '%s\n' "$_case_body" | sed -e '/^[[:space:]]*$/d' -e 's/^/#   /'
    elif [ "$_tap_n" = "$_case_tap_first" ]; then
        _tap_line ok "$_case_title"
    fi
    printf '%s %s\n' "$_tap_n" "$_tap_failed" > "$_case_state"
    [ "$rc" = 99 ] && exit 99
    exit 0
}

# ---------------------------------------------------------------- requirements
need_root() {
    [ "$(id -u)" = 0 ] || skip_all "needs root (run make check as root)"
}

# _deps_hint: " (not installed: ...; how to install them)" when packages of
# tests/deps.sh are missing, for skip messages
_deps_hint() {
    local h
    h=$("$TESTS_DIR/deps.sh" test --hint 2>/dev/null)
    [ -z "$h" ] || printf ' (%s)' "$h"
}

need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || skip_all "needs $c$(_deps_hint)"
    done
}

need_yubin() {
    [ -x "$YUBIN" ] || skip_all "no yubin binary at $YUBIN (build it first)"
}

need_aiosmtpd() {
    [ -x "$PYTHON" ] || skip_all "needs $PYTHON$(_deps_hint)"
    "$PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
        skip_all "needs python3-aiosmtpd (for $PYTHON)$(_deps_hint)"
}

need_certtool() {
    need_cmd certtool
}

# ---------------------------------------------------------------- scratch, cleanup
TEST_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/yubin-$TEST_NAME.XXXXXX") ||
    bail_out "cannot create a scratch directory"
_bg_pids=()

# _scratch_init DIR: DIR becomes $SCRATCH (the test's, or a case's), with
# .stamp, and yubin's spool and queue, and any config lookup, inside it: a
# test never touches the real ~/.local/state or ~/.config
_scratch_init() {
    SCRATCH=$1
    mkdir -p "$SCRATCH"
    touch "$SCRATCH/.stamp"
    export XDG_STATE_HOME=$SCRATCH/state XDG_CONFIG_HOME=$SCRATCH/config
    QUEUE_DIR=$XDG_STATE_HOME/yubin/queue
}
_scratch_init "$TEST_SCRATCH"

_lib_exit() {
    local rc=$? p
    for p in "${_bg_pids[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${_bg_pids[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ "$rc" = 0 ] && [ "$_tap_failed" = 0 ]; then
        rm -rf "$TEST_SCRATCH"
    else
        echo "# scratch directory kept: $TEST_SCRATCH"
    fi
    exit "$rc"
}
trap _lib_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# case_tmpfs DIR SIZE: a tmpfs of SIZE (mount's size=) on DIR, mode 0700,
# unmounted when the case ends; false unless root and mount works
case_tmpfs() {
    [ "$(id -u)" = 0 ] && mkdir -p "$1" &&
        mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" 2>/dev/null ||
        return 1
    test_when_finished "umount '$1'"
}

# ---------------------------------------------------------------- running yubin
# run_yubin STDIN_FILE ARGS...: run $YUBIN under timeout; sets RC (exit code,
# 124 = killed by the timeout), ERR and OUT (files), SECS (wall seconds)
_run_no=0
run_yubin() {
    local in=$1 t0 t1
    shift
    _run_no=$((_run_no + 1))
    OUT=$SCRATCH/run$_run_no.out
    ERR=$SCRATCH/run$_run_no.err
    t0=$EPOCHREALTIME
    # shellcheck disable=SC2086
    timeout -k 5 "$YUBIN_TIMEOUT" ${YUBIN_WRAPPER:-} "$YUBIN" "$@" \
        < "$in" > "$OUT" 2> "$ERR"
    RC=$?
    t1=$EPOCHREALTIME
    SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    printf '%s\n' "yubin $* -> exit $RC in ${SECS}s" >> "$SCRATCH/runs.log"
    return 0
}

# seconds_below SECS LIMIT: true if SECS < LIMIT (decimals allowed)
seconds_below() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'
}

# tty_run EXPECT=ANSWER... -- CMD...: CMD on a new pseudo-terminal (its
# controlling terminal); each time the output shows EXPECT, ANSWER and a
# newline are typed. Output in $SCRATCH/tty.out; sets RC.
tty_run() {
    "$PYTHON" - "$@" > "$SCRATCH/tty.out" <<'EOF'
import os, pty, select, sys, time
args = sys.argv[1:]
sep = args.index("--")
script = [a.split("=", 1) for a in args[:sep]]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(args[sep + 1], args[sep + 1:])
out, end = b"", time.time() + 20
while time.time() < end:
    if script and script[0][0].encode() in out:
        out += b"<typed>"
        os.write(fd, script.pop(0)[1].encode() + b"\n")
    if not select.select([fd], [], [], 0.1)[0]:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
sys.stdout.write(out.decode("utf-8", "replace"))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
EOF
    RC=$?
}

# ---------------------------------------------------------------- servers
free_port() {
    "$PYTHON" - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

# closed_port: a 127.0.0.1 port on which connections are refused, held (bound,
# never listening) by a helper process until the test (or case) ends, so that
# no other test can start listening on it meanwhile; sets CLOSED_PORT; false
# if it cannot
closed_port() {
    start_bg closed-port "$PYTHON" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
print("READY", s.getsockname()[1], flush=True)
time.sleep(600)
' || return 1
    CLOSED_PORT=$BG_PORT
}

# start_mute NAME: a 127.0.0.1 listener that accepts every connection and
# never sends a byte (not SMTP, not TLS, not a proxy); sets BG_PORT
start_mute() {
    start_bg "$1" "$PYTHON" -c '
import socket
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(8)
print("READY", l.getsockname()[1], flush=True)
conns = []
while True:
    conns.append(l.accept()[0])
'
}

# start_bg NAME CMD...: start a server in the background, wait (10 s) for a
# "READY ... PORT" line on its stdout; sets BG_PID, BG_PORT; output in
# $SCRATCH/NAME.out and NAME.err; killed when the test exits
start_bg() {
    local name=$1 line=""
    shift
    "$@" > "$SCRATCH/$name.out" 2> "$SCRATCH/$name.err" < /dev/null &
    BG_PID=$!
    _bg_pids+=("$BG_PID")
    BG_PORT=
    for _ in $(seq 100); do
        line=$(grep -m1 '^READY' "$SCRATCH/$name.out" 2>/dev/null)
        [ -n "$line" ] && break
        kill -0 "$BG_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$line" ]; then
        diag "server '$name' did not start: $*"
        diag_file "$SCRATCH/$name.err" 40
        return 1
    fi
    BG_PORT=${line##* }
    return 0
}

# start_unix_relay SOCK PORT: socat relaying the unix socket SOCK to
# 127.0.0.1:PORT (each connection forked), READY once SOCK exists
start_unix_relay() {
    start_bg socat sh -c '
socat UNIX-LISTEN:"$1",fork TCP:127.0.0.1:"$2" &
p=$!
trap "kill \$p; exit 0" TERM
for _ in $(seq 100); do [ -S "$1" ] && break; sleep 0.1; done
echo READY 0
wait
' sh "$1" "$2"
}

# in_resolv NAMESERVER CMD...: CMD in a mount namespace of its own whose
# /etc/resolv.conf names NAMESERVER (the system's is not touched)
in_resolv() {
    local ns=$1 f
    shift
    f=$(mktemp "$SCRATCH/resolv.XXXXXX") || return 99
    printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$ns" > "$f"
    unshare -m --propagation private sh -c '
        mount --bind "$1" /etc/resolv.conf || exit 99
        shift; exec "$@"' sh "$f" "$@"
}

# start_bg_port NAME PORT CMD...: start_bg for a server that says nothing
# when it is ready: CMD runs with a standard input that never ends (a FIFO
# it also holds open), READY once 127.0.0.1:PORT takes connections; CMD
# is stopped with the wrapper
start_bg_port() {
    local name=$1 port=$2
    shift 2
    start_bg "$name" bash -c '
        port=$1 fifo=$2
        shift 2
        mkfifo "$fifo" && exec 5<> "$fifo" && rm -f "$fifo" || exit 1
        "$@" <&5 5<&- & p=$!
        exec 5<&-
        trap "kill $p 2> /dev/null; wait $p" TERM EXIT
        for _ in $(seq 100); do
            (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
            sleep 0.1
        done
        echo "READY $port"
        wait $p' start_bg_port "$port" "$SCRATCH/$name.stdin" "$@"
}

# stop_bg PID: stop one background server now (and wait for it)
stop_bg() {
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# start_real_server: Postfix + Dovecot on loopback; sources env.sh (SMTP_*)
start_real_server() {
    need_root
    if ! STATE_DIR=$TESTENV_DIR timeout 600 "$TESTS_DIR/server/start.sh" \
            > "$SCRATCH/server-start.log" 2>&1; then
        diag_file "$SCRATCH/server-start.log" 80
        bail_out "cannot start the test server (tests/server/start.sh)"
    fi
    # shellcheck disable=SC1091
    . "$TESTENV_DIR/env.sh"
}

# test_pki: a CA and a server certificate (CN localhost, IP 127.0.0.1) for
# fake servers: the real server's PKI when readable, else a cached pair
# made with certtool.  Sets TEST_CA TEST_CERT TEST_KEY.
test_pki() {
    local d=$TESTENV_DIR/pki
    if [ -r "$d/ca.crt" ] && [ -r "$d/server.crt" ] && [ -r "$d/server.key" ]; then
        TEST_CA=$d/ca.crt TEST_CERT=$d/server.crt TEST_KEY=$d/server.key
        return 0
    fi
    d=${TMPDIR:-/tmp}/yubin-test-pki-$(id -u)
    if [ ! -s "$d/server.key" ]; then
        need_certtool
        local t
        t=$(mktemp -d "$d.tmp.XXXXXX") || bail_out "mktemp failed"
        (
            cd "$t" || exit 1
            certtool --generate-privkey --key-type=rsa --bits=2048 --outfile ca.key
            printf '%s\n' 'cn = "yubin fake CA"' 'serial = 1' \
                'expiration_days = 3650' ca cert_signing_key > ca.tmpl
            certtool --generate-self-signed --load-privkey ca.key \
                --template ca.tmpl --outfile ca.crt
            certtool --generate-privkey --key-type=rsa --bits=2048 --outfile server.key
            printf '%s\n' 'cn = "localhost"' 'dns_name = "localhost"' \
                'ip_address = "127.0.0.1"' 'serial = 2' 'expiration_days = 3650' \
                tls_www_server signing_key encryption_key > server.tmpl
            certtool --generate-certificate --load-privkey server.key \
                --load-ca-certificate ca.crt --load-ca-privkey ca.key \
                --template server.tmpl --outfile server.crt
        ) > "$t/certtool.log" 2>&1 || {
            diag_file "$t/certtool.log"
            bail_out "certtool failed"
        }
        # first one wins; a concurrent test's directory is as good as ours
        mv -T "$t" "$d" 2>/dev/null || rm -rf "$t"
    fi
    TEST_CA=$d/ca.crt TEST_CERT=$d/server.crt TEST_KEY=$d/server.key
}

# fake_accepted DIR: how many messages fake_smtpd.py (--save-dir DIR)
# answered 2xx to, from its NNNN.json transcripts
fake_accepted() {
    "$PYTHON" - "$1" <<'EOF'
import glob, json, os, sys
n = 0
for f in glob.glob(os.path.join(sys.argv[1], "[0-9]*.json")):
    with open(f) as fh:
        if json.load(fh).get("accepted"):
            n += 1
print(n)
EOF
}

# plain_fake NAME FAKE_ARGS...: start fake_smtpd.py (no TLS, no AUTH) saving
# to $SCRATCH/NAME/save, and write $SCRATCH/NAME/config (timeout 10, plus
# the lines in the array PLAIN_CONFIG when set); sets FAKE_PID
plain_fake() {
    local name=$1
    shift
    local dir=$SCRATCH/$name
    mkdir -p "$dir/save"
    start_bg "$name-fake" "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" \
        --port 0 --tls none --save-dir "$dir/save" "$@" || return 1
    FAKE_PID=$BG_PID
    write_config "$dir/config" "host 127.0.0.1" "port $BG_PORT" "tls off" \
        "auth off" "from alice@example.test" "timeout 10" \
        ${PLAIN_CONFIG[@]+"${PLAIN_CONFIG[@]}"}
}

# plain_case NAME MESSAGE FAKE_ARGS... -- YUBIN_ARGS...: start plain_fake,
# run yubin -C its config against it, stop the server (so that every
# transcript is written); sets RC ERR OUT, and CASE_DIR.  False if the
# server did not start.
plain_case() {
    local name=$1 msg=$2
    shift 2
    local -a fa=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        fa+=("$1")
        shift
    done
    shift
    CASE_DIR=$SCRATCH/$name
    if ! plain_fake "$name" ${fa[@]+"${fa[@]}"}; then
        RC=fake-server-did-not-start
        return 1
    fi
    run_yubin "$msg" -C "$CASE_DIR/config" "$@"
    stop_bg "$FAKE_PID"
    return 0
}

# jget FILE EXPR: EXPR (python, the JSON document is "d") of a JSON file;
# strings as they are, anything else as JSON (UTF-8, not \u escapes)
jget() {
    "$PYTHON" - "$@" <<'EOF' 2>/dev/null
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    d = json.load(f)
v = eval(sys.argv[2], {"d": d})
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
EOF
}

# client_lines DIR: every client command fake_smtpd.py (--save-dir DIR/save)
# recorded, of every connection, one a line (UTF-8): "MAIL FROM:<...> ..."
client_lines() {
    "$PYTHON" - "$1" <<'EOF' 2>/dev/null
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "save", "conn-*.json"))):
    with open(f, encoding="utf-8") as fh:
        for ev in json.load(fh)["transcript"]:
            parts = ev.split(None, 2)
            if len(parts) == 3 and parts[1] == "C":
                print(parts[2])
EOF
}

# start_proxy NAME UPSTREAM_PORT [RTT_MS]: tests/fake/delay_proxy.py in
# front of 127.0.0.1:UPSTREAM_PORT, RTT_MS (default 40) per round trip;
# sets PROXY_PORT and PROXY_LOG (a JSON line per connection, written when
# it has ended: see the top of delay_proxy.py)
start_proxy() {
    PROXY_LOG=$SCRATCH/$1.jsonl
    start_bg "$1" "$PYTHON" "$TESTS_DIR/fake/delay_proxy.py" \
        --upstream "127.0.0.1:$2" --rtt-ms "${3:-40}" --log "$PROXY_LOG" ||
        return 1
    PROXY_PORT=$BG_PORT
}

# proxy_conn N [EXPR]: EXPR (python; "d" is the record, default
# d["round_trips"]) of the proxy's Nth connection (1: the first to end),
# waiting up to 5 s for it to end; "none" if it did not
proxy_conn() {
    "$PYTHON" - "$PROXY_LOG" "$1" "${2:-d[\"round_trips\"]}" <<'PYEOF'
import json, sys, time
path, n, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for _ in range(50):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        lines = []
    if len(lines) >= n:
        v = eval(expr, {"d": json.loads(lines[n - 1])})
        print(v if isinstance(v, str) else json.dumps(v))
        sys.exit(0)
    time.sleep(0.1)
print("none")
PYEOF
}

# ---------------------------------------------------------------- configs
# write_config FILE LINE...: a config file with one account "test" (the
# default account), "queue off" unless a LINE says otherwise (a test that
# checks an exit code wants the failure, not "queued"; the queue tests say
# "queue on-failure" or "queue always"), made of the given lines; mode 0600
write_config() {
    local f=$1
    shift
    (
        umask 077
        {
            echo "# written by $TEST_NAME"
            echo "account test"
            echo "queue off"
            printf '%s\n' "$@"
            echo "account default : test"
        } > "$f"
    )
    chmod 600 "$f"
}

# real_config FILE PORT LINE...: account for the real server (after
# start_real_server): localhost:PORT, the test CA, alice / alice-pw
real_config() {
    local f=$1 port=$2
    shift 2
    write_config "$f" "host localhost" "port $port" "tls_trust_file $SMTP_CA" \
        "user alice" "password alice-pw" "from alice@example.test" \
        "timeout 30" "$@"
}

# ---------------------------------------------------------------- messages
new_token() {
    printf '%s-%s-%s\n' "$(date +%s%N)" "$$" "$RANDOM"
}

# make_message FILE TOKEN [BODY_BYTES]: an LF message with every header a
# client might add (From Date Message-ID), X-Yubin-Test: TOKEN, and lines
# that need dot-stuffing; no line is a lone "."
make_message() {
    local f=$1 tok=$2 size=${3:-0}
    {
        printf 'From: Alice <alice@example.test>\n'
        printf 'To: rcpt@example.org\n'
        printf 'Date: Mon, 02 Jan 2023 03:04:05 +0000\n'
        printf 'Message-ID: <%s@example.test>\n' "$tok"
        printf 'Subject: yubin test %s\n' "$tok"
        printf 'X-Yubin-Test: %s\n' "$tok"
        printf 'MIME-Version: 1.0\n'
        printf 'Content-Type: text/plain; charset=utf-8\n'
        printf 'Content-Transfer-Encoding: 8bit\n'
        printf '\n'
        printf 'Hello from %s.\n' "$TEST_NAME"
        printf '.a line that starts with a dot\n'
        printf '..two dots\n'
        printf 'K\xc3\xa4se \xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\n'
        printf 'trailing spaces   \n'
        printf '\n'
        if [ "$size" -gt 0 ]; then
            "$PYTHON" - "$size" <<'EOF'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
i = 0
done = 0
while done < n:
    line = b"%08d ." % i + b"x" * 62 + b"\n"
    if i % 1000 == 0:
        line = b"." + line
    out.write(line)
    done += len(line)
    i += 1
EOF
        fi
        printf 'end of message\n'
    } > "$f"
}

maildir_count() {
    find "$SMTP_MAILDIR/new" -type f 2>/dev/null | wc -l
}

# wait_for_delivery COUNT_BEFORE [N]: wait (10 s) until the Maildir holds
# N (default 1) more messages than COUNT_BEFORE
wait_for_delivery() {
    local before=$1 n=${2:-1}
    for _ in $(seq 100); do
        [ "$(maildir_count)" -ge $((before + n)) ] && return 0
        sleep 0.1
    done
    return 1
}

# find_delivered TOKEN [SECS]: print the Maildir file(s) of the message(s)
# carrying "X-Yubin-Test: TOKEN" delivered since this test started; waits
# up to SECS (10) for the first one (0: looks once); false if none
find_delivered() {
    local tok=$1 secs=${2:-10} f found=1 i
    for ((i = 0; i == 0 || i < secs * 10; i++)); do
        while IFS= read -r f; do
            if head -c 65536 "$f" 2>/dev/null | grep -qF "X-Yubin-Test: $tok"; then
                printf '%s\n' "$f"
                found=0
            fi
        done < <(find "$SMTP_MAILDIR/new" -type f -newer "$SCRATCH/.stamp" 2>/dev/null)
        [ "$found" = 0 ] && return 0
        [ "$secs" = 0 ] && break
        sleep 0.1
    done
    return 1
}

# delivered TOKEN [SECS [DESC]]: ok "delivered" (or DESC) once a message
# carrying TOKEN arrived (find_delivered, waiting SECS, 10)
delivered() {
    if find_delivered "$1" "${2:-10}" > /dev/null; then
        ok "${3:-delivered}"
    else
        not_ok "${3:-delivered}"
        diag "no message with X-Yubin-Test: $1 in $SMTP_MAILDIR/new"
        [ -z "${ERR:-}" ] || diag_file "$ERR" 60
    fi
}

# not_delivered TOKEN [SECS]: ok "nothing delivered" if no message carrying
# TOKEN arrived within SECS (2)
not_delivered() {
    local f
    if f=$(find_delivered "$1" "${2:-2}"); then
        not_ok "nothing delivered"
        diag "delivered: $f"
    else
        ok "nothing delivered"
    fi
}

# delivered_body FILE [FIRST_LINE]: the delivered message without the lines
# Postfix prepends.  With FIRST_LINE (the original's first line): from the
# first line equal to it.  Without: drop the leading Return-Path,
# X-Original-To, Delivered-To and the first Received header.
delivered_body() {
    local f=$1 n
    if [ $# -ge 2 ]; then
        n=$(FIRST="$2" awk '$0 == ENVIRON["FIRST"] { print NR; exit }' "$f")
        [ -n "$n" ] || return 1
        tail -n "+$n" "$f"
        return 0
    fi
    awk '
        done { print; next }
        /^(Return-Path|X-Original-To|Delivered-To):/ { next }
        /^Received:/ && !rcvd { rcvd = 1; inrcvd = 1; next }
        inrcvd && /^[ \t]/ { next }
        { done = 1; print }
    ' "$f"
}

# ---------------------------------------------------------------- keyring
# private_keyring_session VAR: unless $VAR is set, run this script again
# inside its own D-Bus session bus (dbus-run-session), with a private home
# and runtime directory (gnome-keyring would otherwise find the user's
# daemon through $XDG_RUNTIME_DIR/keyring), and exit with its status: the
# inner run prints the plan and the results.  In the inner run, the
# sanitizer's leak check ignores GDBus's few bytes of a finished call
# (libsecret's synchronous lookups; not yubin's to fix).
private_keyring_session() {
    local var=$1 rc
    if [ -n "${!var:-}" ]; then
        printf '%s\n' 'leak:libglib-2.0.so' 'leak:libgio-2.0.so' \
            > "$SCRATCH/lsan.supp"
        export LSAN_OPTIONS="suppressions=$SCRATCH/lsan.supp:print_suppressions=0"
        return 0
    fi
    mkdir -p "$SCRATCH/home" "$SCRATCH/run"
    chmod 700 "$SCRATCH/run"
    env -u GNOME_KEYRING_CONTROL -u SSH_AUTH_SOCK "$var=1" \
        HOME="$SCRATCH/home" XDG_RUNTIME_DIR="$SCRATCH/run" \
        XDG_DATA_HOME="$SCRATCH/home/.local/share" \
        XDG_CONFIG_HOME="$SCRATCH/home/.config" \
        XDG_CACHE_HOME="$SCRATCH/home/.cache" \
        timeout 300 dbus-run-session -- bash "$0" 2> "$SCRATCH/inner.err"
    rc=$?
    [ "$rc" = 0 ] || diag_file "$SCRATCH/inner.err" 40
    exit "$rc"
}

# unlock_keyring: start gnome-keyring's Secret Service in this session,
# unlocked (a fresh login keyring)
unlock_keyring() {
    if ! printf 'keyring-unlock-pw' |
            gnome-keyring-daemon --unlock --components=secrets \
            > "$SCRATCH/gkd.out" 2>&1; then
        diag_file "$SCRATCH/gkd.out"
        bail_out "gnome-keyring-daemon --unlock failed"
    fi
}

# ---------------------------------------------------------------- OAuth 2.0
# After start_real_server: the loopback provider (tests/fake/oauth_provider.py)
# at $OAUTH_URL, whose tokens Dovecot checks for Postfix's XOAUTH2 and
# OAUTHBEARER.  State is per client_id: each case uses its own.
#   oauth_admin PATH FIELD=VALUE...   POST to the back-channel, prints its JSON
#   oauth_stat CLIENT KEY             one counter of /admin/stats
#   oauth_new_client CLIENT FIELD=VALUE...  create (or reset) a client
#   oauth_config FILE CLIENT LINE...  an account for 587 with a custom
#                                     provider at $OAUTH_URL (user alice)
#   oauth_device_login CONF CLIENT ARGS...  yubin --login, approved at the
#                                     back-channel once the code is shown
#                                     (OAUTH_DECIDE=deny|none: deny it, or
#                                     leave it); sets RC ERR OUT
#   oauth_token_file                  the token file of alice@localhost
#   oauth_fresh NAME FIELD=VALUE...   a new client $P-NAME (CLIENT), no
#                                     token file, no queue, a config $C
#   oauth_write_token JSON CLIENT URL [LEFT]  the token file (file store)
#                                     with the pair JSON from the provider at
#                                     URL, LEFT seconds to live (its own)
#   oauth_seed FIELD=VALUE...         oauth_write_token with a pair the
#                                     provider mints for $CLIENT
#   oauth_age_token                   the cached access token: issued an
#                                     hour ago, 30 s left
#   oauth_field NAME                  a value of the token file
oauth_admin() {
    local path=$1 a args=()
    shift
    for a in "$@"; do args+=(--data-urlencode "$a"); done
    curl -sS --max-time 10 --cacert "$SMTP_CA" "${args[@]}" \
        "$OAUTH_URL/admin/$path"
}

oauth_stat() {
    curl -sS --max-time 10 --cacert "$SMTP_CA" \
        "$OAUTH_URL/admin/stats?client_id=$1" |
        "$PYTHON" -c 'import json, sys
print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}

oauth_new_client() {
    local c=$1
    shift
    oauth_admin client "client_id=$c" "$@" > /dev/null
}

oauth_config() {
    local f=$1 c=$2
    shift 2
    write_config "$f" "host localhost" "port $SMTP_PORT_SUBMISSION" \
        "tls_trust_file $SMTP_CA" "user alice" "from alice@example.test" \
        "timeout 10" "oauth2_provider custom" "oauth2_client_id $c" \
        "oauth2_scope mail" "oauth2_trust_file $SMTP_CA" \
        "oauth2_device_endpoint $OAUTH_URL/device" \
        "oauth2_token_endpoint $OAUTH_URL/token" \
        "oauth2_auth_endpoint $OAUTH_URL/authorize" "$@"
}

oauth_token_file() {
    printf '%s\n' "$XDG_STATE_HOME/yubin/oauth/alice@localhost.token"
}

oauth_fresh() {
    CLIENT=$P-$1
    shift
    oauth_new_client "$CLIENT" "$@"
    rm -rf "$XDG_STATE_HOME/yubin/oauth" "$XDG_STATE_HOME/yubin/queue"
    C=$SCRATCH/$CLIENT.conf
    oauth_config "$C" "$CLIENT"
}

oauth_write_token() {
    "$PYTHON" - "$1" "$(oauth_token_file)" "$2" "$3" "${4:-}" <<'EOF'
import json, os, sys, time, urllib.parse
t = json.loads(sys.argv[1])
q = lambda s: urllib.parse.quote(s, safe="-._~")
left = int(sys.argv[5]) if sys.argv[5] else t["expires_in"]
os.makedirs(os.path.dirname(sys.argv[2]), mode=0o700, exist_ok=True)
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, ("yubin-oauth2 1\nstore file\nclient_id %s\ntoken_url %s\n"
              "refresh_token %s\naccess_token %s\nexpires %d\n" % (
                  q(sys.argv[3]), q(sys.argv[4]), q(t["refresh_token"]),
                  q(t["access_token"]), time.time() + left)).encode())
EOF
}

# oauth_seed FIELD=VALUE...: a pair minted for $CLIENT into the token file
oauth_seed() {
    oauth_write_token "$(oauth_admin issue "client_id=$CLIENT" "$@")" \
        "$CLIENT" "$OAUTH_URL/token"
}

oauth_age_token() {
    "$PYTHON" - "$(oauth_token_file)" <<'EOF'
import sys, time
p = sys.argv[1]
lines = open(p).read().splitlines()
out = [l for l in lines if not l.startswith(("expires ", "issued "))]
out += ["issued %d" % (time.time() - 3570), "expires %d" % (time.time() + 30)]
open(p, "w").write("\n".join(out) + "\n")
EOF
}

oauth_field() {
    awk -v k="$1" '$1 == k { print $2 }' "$(oauth_token_file)"
}

oauth_device_login() {
    local conf=$1 client=$2 pid
    shift 2
    _run_no=$((_run_no + 1))
    OUT=$SCRATCH/run$_run_no.out
    ERR=$SCRATCH/run$_run_no.err
    # shellcheck disable=SC2086
    timeout -k 5 "$YUBIN_TIMEOUT" ${YUBIN_WRAPPER:-} "$YUBIN" -C "$conf" \
        --login "$@" < /dev/null > "$OUT" 2> "$ERR" &
    pid=$!
    for _ in $(seq 100); do
        grep -q '^yubin: and enter the code ' "$ERR" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    case ${OAUTH_DECIDE:-approve} in
    approve) oauth_admin approve "client_id=$client" > /dev/null ;;
    deny) oauth_admin deny "client_id=$client" > /dev/null ;;
    esac
    wait "$pid"
    RC=$?
    printf '%s\n' "yubin -C $conf --login $* -> exit $RC" >> "$SCRATCH/runs.log"
    return 0
}
