#!/bin/bash
# bench/compare.sh -- yubin against msmtp on the same loopback servers.
# A benchmark, not a test: it prints medians and yubin/msmtp ratios.
#
#   bench/compare.sh [-n RUNS] [-c CASES]
#     -n RUNS   runs per tool and case (default 5; one extra warm-up run each)
#     -c CASES  comma-separated subset of: small,row20,big-sink,big-fake
#               (default: all)
#   Environment: YUBIN (default src/yubin), MSMTP (default msmtp in PATH),
#                BIG_MB (size of the big message, default 100)
#
# Cases (both tools get the same config file: host localhost, the test CA,
# alice / alice-pw, tls on, STARTTLS, auth on, timeout 60):
#   small     one small message end to end: Postfix on 587, STARTTLS + AUTH,
#             delivered to the Maildir
#   row20     20 small messages in a row (one process each), same server
#   big-sink  a BIG_MB MB message to port 10591: Postfix (STARTTLS + AUTH)
#             proxying to smtp-sink, which discards it
#   big-fake  the same message to tests/fake/fake_smtpd.py --discard
#             (STARTTLS + AUTH; measures the client, not Postfix)
# Measured with /usr/bin/time: wall seconds, user+sys CPU seconds, peak RSS.
# Needs root (it starts tests/server/start.sh).
set -u

RUNS=5
CASES=small,row20,big-sink,big-fake
while getopts n:c:h opt; do
    case $opt in
    n) RUNS=$OPTARG ;;
    c) CASES=$OPTARG ;;
    *) sed -n '2,24s/^# \{0,1\}//p' "$0"; exit 64 ;;
    esac
done
case $RUNS in '' | *[!0-9]* | 0) echo "compare.sh: -n needs a number > 0" >&2; exit 64 ;; esac

top=$(cd "$(dirname "$0")/.." && pwd)
YUBIN=${YUBIN:-$top/src/yubin}
MSMTP=${MSMTP:-$(command -v msmtp)}
PYTHON=/usr/bin/python3
BIG_MB=${BIG_MB:-100}
STATE_DIR=${STATE_DIR:-${TMPDIR:-/tmp}/yubin-testenv}

die() { echo "compare.sh: $*" >&2; exit 1; }
[ -x "$YUBIN" ] || die "no yubin at $YUBIN (build it, or set YUBIN)"
if [ -z "$MSMTP" ] || [ ! -x "$MSMTP" ]; then
    die "msmtp not found (apt-get install msmtp)"
fi
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
[ "$(id -u)" = 0 ] || die "needs root (for the Postfix test server)"

work=$(mktemp -d "${TMPDIR:-/tmp}/yubin-bench.XXXXXX") || die "mktemp failed"
fake_pid=
cleanup() {
    [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
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

if want big-fake; then
    "$PYTHON" "$top/tests/fake/fake_smtpd.py" --port 0 --tls starttls \
        --cert "$SMTP_SERVER_CERT" --key "$SMTP_SERVER_KEY" \
        --user alice:alice-pw --discard > "$work/fake.out" 2> "$work/fake.err" &
    fake_pid=$!
    for _ in $(seq 100); do
        grep -q '^READY' "$work/fake.out" 2>/dev/null && break
        sleep 0.1
    done
    fport=$(awk '/^READY/ { print $3 }' "$work/fake.out")
    [ -n "$fport" ] || { cat "$work/fake.err" >&2; die "fake_smtpd.py did not start"; }
    config "$work/fake.conf" "$fport"
    # localhost may resolve to ::1 first; the fake listens on 127.0.0.1 only
    sed -i 's/^host localhost$/host 127.0.0.1/' "$work/fake.conf"
fi

# ------------------------------------------------ measuring
# one TOOL CONF MSG COUNT OUT: COUNT sends in a row under /usr/bin/time;
# appends "wall cpu rss" to OUT, or returns 1
one() {
    local tool=$1 conf=$2 msg=$3 count=$4 out=$5
    if ! timeout 900 /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
            bash -c 'for ((i = 0; i < $3; i++)); do
                         "$0" -C "$1" rcpt@example.org < "$2" || exit 1
                     done' "$tool" "$conf" "$msg" "$count" \
            > /dev/null 2> "$work/err"; then
        echo "  $(basename "$tool") failed:" >&2
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

# bench CASE CONF MSG COUNT
bench() {
    local name=$1 conf=$2 msg=$3 count=$4 r t
    echo "running $name ($RUNS runs + 1 warm-up per tool) ..." >&2
    for t in yubin msmtp; do : > "$work/$name.$t"; done
    for ((r = 0; r <= RUNS; r++)); do
        for t in yubin msmtp; do
            local bin=$YUBIN
            [ "$t" = msmtp ] && bin=$MSMTP
            if [ "$r" = 0 ]; then
                one "$bin" "$conf" "$msg" "$count" /dev/null
            else
                one "$bin" "$conf" "$msg" "$count" "$work/$name.$t"
            fi
        done
    done
    local yw yc ym mw mc mm
    yw=$(median 1 "$work/$name.yubin") yc=$(median 2 "$work/$name.yubin")
    ym=$(median 3 "$work/$name.yubin")
    mw=$(median 1 "$work/$name.msmtp") mc=$(median 2 "$work/$name.msmtp")
    mm=$(median 3 "$work/$name.msmtp")
    printf '%-34s %-6s %9s %9s %10s\n' "$name" yubin "$yw" "$yc" "$ym" >> "$work/report"
    printf '%-34s %-6s %9s %9s %10s\n' "" msmtp "$mw" "$mc" "$mm" >> "$work/report"
    printf '%-34s %-6s %9s %9s %10s\n' "" ratio "$(ratio "$yw" "$mw")" \
        "$(ratio "$yc" "$mc")" "$(ratio "$ym" "$mm")" >> "$work/report"
}

printf '%-34s %-6s %9s %9s %10s\n' case tool wall/s cpu/s rss/KiB > "$work/report"
want small && bench "small, 587 STARTTLS+AUTH" "$work/587.conf" "$work/small.msg" 1
want row20 && bench "20 in a row, 587 STARTTLS+AUTH" "$work/587.conf" "$work/small.msg" 20
want big-sink && bench "${BIG_MB} MB, 10591 Postfix->smtp-sink" "$work/sink.conf" "$work/big.msg" 1
want big-fake && bench "${BIG_MB} MB, fake_smtpd --discard" "$work/fake.conf" "$work/big.msg" 1

echo
echo "yubin: $YUBIN"
echo "msmtp: $MSMTP ($("$MSMTP" --version | head -n 1))"
echo "medians of $RUNS runs; ratio = yubin / msmtp (below 1: yubin better)"
echo
cat "$work/report"
