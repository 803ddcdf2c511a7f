#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/compare.sh -- yubin against msmtp on the same loopback servers.
# A benchmark, not a test: it prints medians and yubin/msmtp ratios.
#
#   bench/compare.sh [-n RUNS] [-c CASES]
#     -n RUNS   runs per tool and case (default 5; one extra warm-up run each)
#     -c CASES  comma-separated subset of: small,row20,oauth,big-sink,
#               big-fake,rcpt500,queue200,rtt (default: all)
#   Environment: YUBIN (default src/yubin), MSMTP (default msmtp in PATH),
#                BIG_MB (size of the big message, default 100),
#                RCPT_N (recipients of the rcpt500 case, default 500),
#                QUEUE_N (messages of the queue200 case, default 200),
#                RTT_MS (round-trip time of the rtt case, default 50)
#
# Cases (both tools get the same config file: host localhost, the test CA,
# alice / alice-pw, tls on, STARTTLS, auth on, timeout 60; yubin runs with
# a private XDG_STATE_HOME, and a yubin run that queued instead of sending
# counts as failed):
#   small     one small message end to end: Postfix on 587, STARTTLS + AUTH,
#             delivered to the Maildir
#   row20     20 small messages in a row (one process each), same server
#   oauth     the small message with an OAuth 2.0 token (OAUTHBEARER, the
#             real server asking the loopback provider): yubin with its
#             built-in OAuth and a cached access token, msmtp with the same
#             token printed by passwordeval (what msmtp users do today)
#   big-sink  a BIG_MB MB message to port 10591: Postfix (STARTTLS + AUTH)
#             proxying to smtp-sink, which discards it
#   big-fake  the same message to tests/fake/fake_smtpd.py --discard
#             (STARTTLS + AUTH; measures the client, not Postfix)
#   rcpt500   the small message to RCPT_N recipients given as arguments,
#             to fake_smtpd.py --discard (STARTTLS + AUTH, PIPELINING):
#             the envelope's work grows with the recipients
#   queue200  QUEUE_N small messages queued by yubin while the server is down
#             ("queue on-failure", a closed port), made due (--queue-retry),
#             the config repointed at tests/fake/fake_smtpd.py (STARTTLS +
#             AUTH, --fast-data --save-dir, a fresh server per run); then ONE
#             "yubin -q" is timed, against QUEUE_N msmtp runs sending the same
#             messages to a fresh server. "conns" is the number of
#             connections that server saw (conn-*.json); yubin's must be 1,
#             and every message must have been accepted.
#   rtt       the small message through tests/fake/delay_proxy.py (RTT_MS
#             per round trip, a fresh proxy per send) to the real Postfix:
#             587 STARTTLS + PLAIN, 465 implicit TLS + PLAIN, 587 +
#             SCRAM-SHA-256. Per tool and case, the best of RUNS: "waits",
#             the round trips the proxy counted (TCP's handshake included),
#             "wall/RTT", the wall-clock time in RTTs (issue 11's table),
#             and "direct", the same send without the proxy, in RTTs
# Measured with /usr/bin/time: wall seconds, user+sys CPU seconds, peak RSS.
# Needs root (it starts tests/server/start.sh).
set -u

RUNS=5
CASES=small,row20,oauth,big-sink,big-fake,rcpt500,queue200,rtt
while getopts n:c:h opt; do
    case $opt in
    n) RUNS=$OPTARG ;;
    c) CASES=$OPTARG ;;
    *) sed -n '2,49s/^# \{0,1\}//p' "$0"; exit 64 ;;
    esac
done
case $RUNS in '' | *[!0-9]* | 0) echo "compare.sh: -n needs a number > 0" >&2; exit 64 ;; esac

top=$(cd "$(dirname "$0")/.." && pwd)
YUBIN=${YUBIN:-$top/src/yubin}
MSMTP=${MSMTP:-$(command -v msmtp)}
PYTHON=/usr/bin/python3
BIG_MB=${BIG_MB:-100}
QUEUE_N=${QUEUE_N:-200}
RTT_MS=${RTT_MS:-50}
STATE_DIR=${STATE_DIR:-${TMPDIR:-/tmp}/yubin-testenv}

die() { echo "compare.sh: $*" >&2; exit 1; }
[ -x "$YUBIN" ] || die "no yubin at $YUBIN (build it, or set YUBIN)"
if [ -z "$MSMTP" ] || [ ! -x "$MSMTP" ]; then
    die "msmtp not found (apt-get install msmtp)"
fi
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
[ "$(id -u)" = 0 ] || die "needs root (for the Postfix test server)"

work=$(mktemp -d "${TMPDIR:-/tmp}/yubin-bench.XXXXXX") || die "mktemp failed"
# yubin's spool and queue: private to this run, never the user's
export XDG_STATE_HOME=$work/state
fake_pids=()
cleanup() {
    local p
    for p in "${fake_pids[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    # delete what the benchmark delivered to the test Maildir
    if [ -n "${SMTP_MAILDIR:-}" ] && [ -d "$SMTP_MAILDIR/new" ]; then
        find "$SMTP_MAILDIR/new" -type f -newer "$work/stamp" \
            -exec grep -lZF "X-Yubin-Bench: $token" {} + 2>/dev/null |
            xargs -0 -r rm -f
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
touch "$work/stamp"
token="$(date +%s%N)-$$"

STATE_DIR=$STATE_DIR "$top/tests/server/start.sh" > "$work/server.log" 2>&1 ||
    { cat "$work/server.log" >&2; die "tests/server/start.sh failed"; }
# shellcheck disable=SC1091
. "$STATE_DIR/env.sh"

# ------------------------------------------------ inputs
config() {  # file port
    (
        umask 077
        cat > "$1" <<EOF
account bench
host localhost
port $2
tls on
tls_starttls on
tls_trust_file $SMTP_CA
auth on
user alice
password alice-pw
from alice@example.test
timeout 60
account default : bench
EOF
    )
}
config "$work/587.conf" "$SMTP_PORT_SUBMISSION"
config "$work/sink.conf" "$SMTP_PORT_PROXYSINK"

printf '%s\n' 'From: Alice <alice@example.test>' 'To: rcpt@example.org' \
    'Date: Mon, 02 Jan 2023 03:04:05 +0000' \
    "Message-ID: <$token@example.test>" 'Subject: bench' \
    "X-Yubin-Bench: $token" '' 'A small message.' > "$work/small.msg"

want() { case ",$CASES," in *",$1,"*) return 0 ;; esac; return 1; }

# oauth_setup: a client at the loopback provider, a token pair valid for two
# hours; yubin gets it in its token file (as after "yubin --login"), msmtp
# through passwordeval
oauth_setup() {
    local client=bench-$token json
    curl -sS --cacert "$SMTP_CA" -d "client_id=$client" \
        "$OAUTH_URL/admin/client" > /dev/null || die "no OAuth provider"
    json=$(curl -sS --cacert "$SMTP_CA" -d "client_id=$client" \
        -d access_ttl=7200 "$OAUTH_URL/admin/issue") || die "no token"
    "$PYTHON" - "$json" "$XDG_STATE_HOME/yubin/oauth" "$client" \
        "$OAUTH_URL/token" "$work/access-token" <<'EOF'
import json, os, sys, time, urllib.parse
t = json.loads(sys.argv[1])
q = lambda s: urllib.parse.quote(s, safe="-._~")
os.makedirs(sys.argv[2], mode=0o700, exist_ok=True)
with open(os.open(os.path.join(sys.argv[2], "alice@localhost.token"),
                  os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    f.write("yubin-oauth2 1\nstore file\nclient_id %s\ntoken_url %s\n"
            "refresh_token %s\naccess_token %s\nexpires %d\n" % (
                q(sys.argv[3]), q(sys.argv[4]), q(t["refresh_token"]),
                q(t["access_token"]), time.time() + t["expires_in"]))
with open(os.open(sys.argv[5], os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
    f.write(t["access_token"] + "\n")
EOF
    config "$work/oauth-yubin.conf" "$SMTP_PORT_SUBMISSION"
    sed -i '/^password /d; s/^auth on$/auth oauthbearer/' \
        "$work/oauth-yubin.conf"
    printf '%s\n' "oauth2_provider custom" "oauth2_client_id $client" \
        "oauth2_token_endpoint $OAUTH_URL/token" \
        "oauth2_trust_file $SMTP_CA" >> "$work/oauth-yubin.conf"
    config "$work/oauth-msmtp.conf" "$SMTP_PORT_SUBMISSION"
    sed -i "s|^password .*|passwordeval \"cat $work/access-token\"|; \
        s/^auth on$/auth oauthbearer/" "$work/oauth-msmtp.conf"
}

if want big-sink || want big-fake; then
    "$PYTHON" - "$work/big.msg" "$BIG_MB" "$token" <<'EOF'
import sys
path, mb, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "wb") as f:
    f.write(b"From: alice@example.test\nTo: rcpt@example.org\nSubject: big\n"
            b"X-Yubin-Bench: " + token.encode() + b"\n\n")
    line = b"." + b"x" * 74 + b"\n"
    block = line * 13981              # ~1 MiB
    for _ in range(mb):
        f.write(block)
EOF
fi

# ready NAME FIELD: field FIELD of the "READY ..." line a helper started in
# the background prints on $work/NAME.out (waiting up to 10 s for it)
ready() {
    for _ in $(seq 100); do
        grep -q '^READY' "$work/$1.out" 2>/dev/null && break
        sleep 0.1
    done
    awk -v f="$2" '/^READY/ { print $f }' "$work/$1.out"
}

# fake_start NAME ARGS...: tests/fake/fake_smtpd.py (STARTTLS + AUTH) in the
# background; sets fake_pid and fport
fake_start() {
    local name=$1
    shift
    "$PYTHON" "$top/tests/fake/fake_smtpd.py" --port 0 --tls starttls \
        --cert "$SMTP_SERVER_CERT" --key "$SMTP_SERVER_KEY" \
        --user alice:alice-pw "$@" > "$work/$name.out" 2> "$work/$name.err" &
    fake_pid=$!
    fake_pids+=("$fake_pid")
    fport=$(ready "$name" 3)
    [ -n "$fport" ] || { cat "$work/$name.err" >&2; die "fake_smtpd.py did not start"; }
}

fake_stop() {  # pid
    kill "$1" 2>/dev/null && wait "$1" 2>/dev/null
}

# fake_config FILE PORT: the config for a fake server
fake_config() {
    config "$1" "$2"
    # localhost may resolve to ::1 first; the fake listens on 127.0.0.1 only
    sed -i 's/^host localhost$/host 127.0.0.1/' "$1"
}

if want big-fake || want rcpt500; then
    fake_start fake --discard
    fake_config "$work/fake.conf" "$fport"
fi
echo rcpt@example.org > "$work/rcpt1"
seq -f 'r%g@example.org' 1 "${RCPT_N:-500}" > "$work/rcpts"

# ------------------------------------------------ measuring
# one TOOL CONF MSG COUNT OUT [RCPTS]: COUNT sends in a row under
# /usr/bin/time, to the recipients in the file RCPTS (one a line; default
# rcpt@example.org); appends "wall cpu rss" to OUT, or returns 1
one() {
    local tool=$1 conf=$2 msg=$3 count=$4 out=$5 rcpts=${6:-$work/rcpt1}
    # shellcheck disable=SC2016
    if ! timeout 900 /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
            bash -c 'mapfile -t r < "$4"
                     for ((i = 0; i < $3; i++)); do
                         "$0" -C "$1" -- "${r[@]}" < "$2" || exit 1
                     done' "$tool" "$conf" "$msg" "$count" "$rcpts" \
            > /dev/null 2> "$work/err"; then
        echo "  $(basename "$tool") failed:" >&2
        sed 's/^/    /' "$work/err" | head -n 5 >&2
        return 1
    fi
    if grep -q 'message queued as' "$work/err"; then
        echo "  $(basename "$tool") queued the message instead of sending it:" >&2
        sed 's/^/    /' "$work/err" | head -n 5 >&2
        return 1
    fi
    # "Command exited with non-zero status" lines come first when it failed
    tail -n 1 "$work/time" | awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }' >> "$out"
}

median() {  # column file
    awk -v c="$1" '{ print $c }' "$2" 2>/dev/null | sort -g |
        awk '{ a[NR] = $1 } END {
            if (NR == 0) { print "-"; exit }
            if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

# row CASE TOOL WALL CPU RSS [CONNS]
row() {
    printf '%-34s %-6s %9s %9s %10s %6s\n' "$1" "$2" "$3" "$4" "$5" "${6:--}" >> "$work/report"
}

# bench CASE CONF MSG COUNT [MSMTP_CONF [RCPTS]]
bench() {
    local name=$1 conf=$2 msg=$3 count=$4 mconf=${5:-$2} rcpts=${6:-} r t c
    echo "running $name ($RUNS runs + 1 warm-up per tool) ..." >&2
    for t in yubin msmtp; do : > "$work/$name.$t"; done
    for ((r = 0; r <= RUNS; r++)); do
        for t in yubin msmtp; do
            local bin=$YUBIN
            c=$conf
            [ "$t" = msmtp ] && bin=$MSMTP c=$mconf
            if [ "$r" = 0 ]; then
                one "$bin" "$c" "$msg" "$count" /dev/null $rcpts
            else
                one "$bin" "$c" "$msg" "$count" "$work/$name.$t" $rcpts
            fi
        done
    done
    report "$name" "$work/$name.yubin" "$work/$name.msmtp"
}

# report CASE YUBIN_FILE MSMTP_FILE: median rows (a 4th column is conns)
report() {
    local yw yc ym yn mw mc mm mn
    yw=$(median 1 "$2") yc=$(median 2 "$2") ym=$(median 3 "$2")
    mw=$(median 1 "$3") mc=$(median 2 "$3") mm=$(median 3 "$3")
    yn=- mn=-
    if awk 'NF >= 4 { f = 1 } END { exit !f }' "$2" 2>/dev/null; then
        yn=$(median 4 "$2") mn=$(median 4 "$3")
    fi
    row "$1" yubin "$yw" "$yc" "$ym" "$yn"
    row "" msmtp "$mw" "$mc" "$mm" "$mn"
    row "" ratio "$(ratio "$yw" "$mw")" "$(ratio "$yc" "$mc")" \
        "$(ratio "$ym" "$mm")" "$(ratio "$yn" "$mn")"
}

# ------------------------------------------------ queue200
# QUEUE_N small messages (distinct Message-IDs); both tools send these.
q_messages() {
    local i
    mkdir -p "$work/q"
    for ((i = 1; i <= QUEUE_N; i++)); do
        printf '%s\n' 'From: Alice <alice@example.test>' 'To: rcpt@example.org' \
            'Date: Mon, 02 Jan 2023 03:04:05 +0000' \
            "Message-ID: <$token.q$i@example.test>" "Subject: bench queue $i" \
            "X-Yubin-Bench: $token" '' "Queued message $i." > "$work/q/$i.msg"
    done
}

# a TCP port on 127.0.0.1 that nothing listens on (bound, then let go)
closed_port() {
    "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# q_seen DIR: "ACCEPTED CONNECTIONS" as fake_smtpd.py --save-dir recorded
# them: messages answered 2xx, and connections (conn-*.json is written when
# a connection closes: wait for as many as the messages name)
q_seen() {
    "$PYTHON" - "$1" <<'EOF'
import glob, json, os, sys, time
d = sys.argv[1]
acc, named = 0, set()
for f in glob.glob(os.path.join(d, "[0-9]*.json")):
    with open(f) as fh:
        m = json.load(fh)
    acc += bool(m.get("accepted"))
    named.add(m.get("connection"))
for _ in range(100):
    conns = len(glob.glob(os.path.join(d, "conn-*.json")))
    if conns >= len(named):
        break
    time.sleep(0.05)
print(acc, max(conns, len(named)))
EOF
}

# q_fail WHAT FILE: say why a queue200 run failed
q_fail() {
    echo "  queue200: $1" >&2
    [ -n "${2:-}" ] && [ -s "$2" ] && sed 's/^/    /' "$2" | head -n 8 >&2
    return 1
}

# q_yubin OUT: queue QUEUE_N messages with the server down, then time ONE
# "yubin -q"; appends "wall cpu rss connections" to OUT
q_yubin() {
    local out=$1 st=$work/qstate conf=$work/q-yubin.conf i id n seen
    rm -rf "$st" "$work/qsave"
    mkdir -p "$st" "$work/qsave"
    fake_config "$conf" "$(closed_port)"
    echo "queue on-failure" >> "$conf"
    : > "$work/q-enqueue.err"
    for ((i = 1; i <= QUEUE_N; i++)); do
        XDG_STATE_HOME=$st "$YUBIN" -C "$conf" rcpt@example.org \
            < "$work/q/$i.msg" 2>> "$work/q-enqueue.err" ||
            { q_fail "enqueueing message $i failed" "$work/q-enqueue.err"; return 1; }
    done
    n=$(grep -c 'message queued as' "$work/q-enqueue.err")
    [ "$n" = "$QUEUE_N" ] ||
        { q_fail "$n of $QUEUE_N messages queued" "$work/q-enqueue.err"; return 1; }
    # due now rather than in a minute (the first retry)
    XDG_STATE_HOME=$st "$YUBIN" -bp --json |
        "$PYTHON" -c 'import json, sys
for line in sys.stdin:
    print(json.loads(line)["id"])' > "$work/q-ids"
    while read -r id; do
        XDG_STATE_HOME=$st "$YUBIN" --queue-retry "$id" 2>> "$work/q-enqueue.err" ||
            { q_fail "--queue-retry $id failed" "$work/q-enqueue.err"; return 1; }
    done < "$work/q-ids"
    fake_start qfake --fast-data --save-dir "$work/qsave"
    # the queue keeps the config's path: the messages follow the new port
    sed -i "s/^port .*/port $fport/" "$conf"
    if ! XDG_STATE_HOME=$st timeout 900 /usr/bin/time -f '%e %U %S %M' \
            -o "$work/time" "$YUBIN" -q > /dev/null 2> "$work/err"; then
        fake_stop "$fake_pid"
        q_fail "yubin -q failed" "$work/err"
        return 1
    fi
    [ -s "$work/err" ] && q_fail "yubin -q said:" "$work/err"
    seen=$(q_seen "$work/qsave")
    fake_stop "$fake_pid"
    n=$(XDG_STATE_HOME=$st "$YUBIN" -bp --json | wc -l)
    [ "$n" = 0 ] || { q_fail "$n messages still queued after yubin -q"; return 1; }
    [ "${seen% *}" = "$QUEUE_N" ] ||
        { q_fail "the server accepted ${seen% *} of $QUEUE_N messages"; return 1; }
    if [ "${seen#* }" != 1 ]; then
        echo "  queue200: yubin -q used ${seen#* } connections (want 1)" >&2
        q_bad=1
    fi
    tail -n 1 "$work/time" |
        awk -v c="${seen#* }" '{ printf "%s %.3f %s %s\n", $1, $2 + $3, $4, c }' >> "$out"
}

# q_msmtp OUT: QUEUE_N msmtp runs, one per message, to a fresh server
q_msmtp() {
    local out=$1 conf=$work/q-msmtp.conf seen
    rm -rf "$work/qsave"
    mkdir -p "$work/qsave"
    fake_start qfake --fast-data --save-dir "$work/qsave"
    fake_config "$conf" "$fport"
    # shellcheck disable=SC2016
    if ! timeout 900 /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
            bash -c 'for ((i = 1; i <= $2; i++)); do
                         "$0" -C "$1" rcpt@example.org < "$3/$i.msg" || exit 1
                     done' "$MSMTP" "$conf" "$QUEUE_N" "$work/q" \
            > /dev/null 2> "$work/err"; then
        fake_stop "$fake_pid"
        q_fail "msmtp failed" "$work/err"
        return 1
    fi
    seen=$(q_seen "$work/qsave")
    fake_stop "$fake_pid"
    [ "${seen% *}" = "$QUEUE_N" ] ||
        { q_fail "the server accepted ${seen% *} of $QUEUE_N messages from msmtp"; return 1; }
    tail -n 1 "$work/time" |
        awk -v c="${seen#* }" '{ printf "%s %.3f %s %s\n", $1, $2 + $3, $4, c }' >> "$out"
}

queue200() {
    local name="$QUEUE_N queued: 1 -q / $QUEUE_N msmtp" r
    echo "running queue200 ($RUNS runs + 1 warm-up per tool) ..." >&2
    q_messages
    : > "$work/q.yubin"
    : > "$work/q.msmtp"
    for ((r = 0; r <= RUNS; r++)); do
        if [ "$r" = 0 ]; then
            q_yubin /dev/null
            q_msmtp /dev/null
        else
            q_yubin "$work/q.yubin"
            q_msmtp "$work/q.msmtp"
        fi
    done
    report "$name" "$work/q.yubin" "$work/q.msmtp"
}

# ------------------------------------------------ rtt
# proxy_start LOG PORT: a delay proxy (RTT_MS) for one connection to the
# real server's PORT; sets pport
proxy_start() {
    "$PYTHON" "$top/tests/fake/delay_proxy.py" --upstream "127.0.0.1:$2" \
        --rtt-ms "$RTT_MS" --log "$1" --connections 1 --timeout 120 \
        > "$work/proxy.out" 2> "$work/proxy.err" &
    proxy_pid=$!
    fake_pids+=("$proxy_pid")
    pport=$(ready proxy 2)
    [ -n "$pport" ] || { cat "$work/proxy.err" >&2; die "delay_proxy.py did not start"; }
}

# rtt_time TOOL PORT AUTH STARTTLS: the small message to 127.0.0.1:PORT
# with that auth and tls_starttls; prints the wall-clock milliseconds, or
# returns 1
rtt_time() {
    local conf=$work/rtt.conf t0 t1
    config "$conf" "$2"
    sed -i -e 's/^host localhost$/host 127.0.0.1/' \
        -e "s/^auth on\$/auth $3/" -e "s/^tls_starttls on\$/tls_starttls $4/" \
        "$conf"
    t0=$(date +%s%N)
    if ! timeout 120 "$1" -C "$conf" rcpt@example.org < "$work/small.msg" \
            > /dev/null 2> "$work/err"; then
        echo "  $(basename "$1") failed:" >&2
        sed 's/^/    /' "$work/err" | head -n 5 >&2
        return 1
    fi
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

# rtt_one TOOL PORT AUTH STARTTLS OUT: one send straight to the server,
# one through a fresh proxy; appends "WAITS WALL DIRECT" (the last two in
# RTTs) to OUT, or returns 1
rtt_one() {
    local log=$work/rtt.jsonl direct wall
    direct=$(rtt_time "$1" "$2" "$3" "$4") || return 1
    rm -f "$log"
    proxy_start "$log" "$2"
    if ! wall=$(rtt_time "$1" "$pport" "$3" "$4"); then
        fake_stop "$proxy_pid"
        return 1
    fi
    wait "$proxy_pid" 2>/dev/null    # the log line is written when it ends
    "$PYTHON" -c 'import json, sys
d = json.loads(open(sys.argv[1]).readline())
r = float(sys.argv[4])
print(d["round_trips"], "%.2f %.2f" % (int(sys.argv[2]) / r, int(sys.argv[3]) / r))' \
        "$log" "$wall" "$direct" "$RTT_MS" >> "$5"
}

# rtt_case NAME PORT AUTH STARTTLS: RUNS sends per tool, the best of each
# column
rtt_case() {
    local t r bin name=$1
    echo "running rtt $1 ($RUNS runs per tool, RTT $RTT_MS ms) ..." >&2
    for t in yubin msmtp; do
        : > "$work/rtt.$t"
        bin=$YUBIN
        [ "$t" = msmtp ] && bin=$MSMTP
        for ((r = 0; r < RUNS; r++)); do
            rtt_one "$bin" "$2" "$3" "$4" "$work/rtt.$t"
        done
        awk -v c="$name" -v t="$t" '
            NR == 1 || $1 < w { w = $1 }
            NR == 1 || $2 < a { a = $2 }
            NR == 1 || $3 < d { d = $3 }
            END { if (NR) printf "%-30s %-6s %6s %9s %9s\n", c, t, w, a, d }' \
            "$work/rtt.$t" >> "$work/rtt-report"
        name=""
    done
}

rtt() {
    printf '%-30s %-6s %6s %9s %9s\n' case tool waits wall/RTT direct \
        > "$work/rtt-report"
    rtt_case "587 STARTTLS, AUTH PLAIN" "$SMTP_PORT_SUBMISSION" plain on
    rtt_case "465 implicit TLS, AUTH PLAIN" "$SMTP_PORT_SUBMISSIONS" plain off
    rtt_case "587, SCRAM-SHA-256" "$SMTP_PORT_SUBMISSION" scram-sha-256 on
}

q_bad=0
row case tool wall/s cpu/s rss/KiB conns
want small && bench "small, 587 STARTTLS+AUTH" "$work/587.conf" "$work/small.msg" 1
want row20 && bench "20 in a row, 587 STARTTLS+AUTH" "$work/587.conf" "$work/small.msg" 20
if want oauth; then
    oauth_setup
    bench "small, 587 OAUTHBEARER (cached)" "$work/oauth-yubin.conf" \
        "$work/small.msg" 1 "$work/oauth-msmtp.conf"
fi
want big-sink && bench "${BIG_MB} MB, 10591 Postfix->smtp-sink" "$work/sink.conf" "$work/big.msg" 1
want big-fake && bench "${BIG_MB} MB, fake_smtpd --discard" "$work/fake.conf" "$work/big.msg" 1
want rcpt500 && bench "${RCPT_N:-500} rcpts, fake_smtpd --discard" \
    "$work/fake.conf" "$work/small.msg" 1 "$work/fake.conf" "$work/rcpts"
want queue200 && queue200
want rtt && rtt

echo
echo "yubin: $YUBIN"
echo "msmtp: $MSMTP ($("$MSMTP" --version | head -n 1))"
echo "medians of $RUNS runs; ratio = yubin / msmtp (below 1: yubin better)"
echo "conns: connections the server saw (queue200 only; yubin's must be 1)"
echo
cat "$work/report"
if want rtt; then
    echo
    echo "round trips: RTT $RTT_MS ms (tests/fake/delay_proxy.py), best of $RUNS;"
    echo "waits: counted by the proxy (TCP's handshake included); wall/RTT:"
    echo "the wall-clock time of the send in RTTs; direct: the same send"
    echo "without the proxy, in RTTs (the servers' and the client's own time,"
    echo "which wall/RTT includes)"
    echo
    cat "$work/rtt-report"
fi
if [ "$q_bad" = 1 ]; then
    echo "compare.sh: yubin -q did not send the queue over one connection" >&2
    exit 1
fi
