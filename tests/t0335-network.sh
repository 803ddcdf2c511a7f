#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0335-network.sh -- the way to the server (src/dial.c), through the yubin
# binary, with names that resolve as the test says: yubin runs in a private
# mount namespace (unshare -m, root) where /etc/hosts, /etc/resolv.conf and
# /etc/nsswitch.conf are the test's own files, bind-mounted.
#  - Happy Eyeballs (RFC 8305): a name whose first address drops every SYN
#    (a black hole: a listener with backlog 0 whose one place is taken, on
#    loopback) and whose second answers is connected 250 ms later, not
#    after the timeout; every address black-holed: the timeout bounds it;
#    the same with ::1 first and 127.0.0.1 second.
#  - bounded name resolution: a resolver that never answers (a silent UDP
#    socket on a loopback address's port 53) costs the timeout, not the
#    resolver's own retries: exit 75 with "timed out after 2 s waiting for
#    the DNS resolver", or queued (due at the next -q) with queue
#    on-failure.
#
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd unshare mount timeout getent
need_aiosmtpd

MSG=$SCRATCH/msg
make_message "$MSG" "$(new_token)"

unshare -m true 2> "$SCRATCH/unshare.err" ||
    skip_all "unshare -m does not work here: $(head -n 1 "$SCRATCH/unshare.err")"

# ns_files HOSTS_LINE...: the case's private /etc files (hosts with those
# lines, no resolver unless RESOLV is set: "nameserver ADDR"), and
# $SCRATCH/ns, which runs a command in a mount namespace that sees them
ns_files() {
    printf '%s\n' "$@" > "$SCRATCH/hosts"
    printf '%s\noptions timeout:30 attempts:1\n' \
        "${RESOLV:-nameserver 127.0.0.1}" > "$SCRATCH/resolv.conf"
    printf 'hosts: files dns\n' > "$SCRATCH/nsswitch.conf"
    cat > "$SCRATCH/ns" <<EOF
#!/bin/sh
exec unshare -m -- /bin/sh -c 'mount --bind "\$0/hosts" /etc/hosts &&
    mount --bind "\$0/resolv.conf" /etc/resolv.conf &&
    mount --bind "\$0/nsswitch.conf" /etc/nsswitch.conf && exec "\$@"' \
    "$SCRATCH" "\$@"
EOF
    # yubin (under YUBIN_WRAPPER, valgrind in CI) inside the namespace
    printf '#!/bin/sh\nexec "%s" %s "%s" "$@"\n' "$SCRATCH/ns" \
        "${YUBIN_WRAPPER:-}" "$YUBIN" > "$SCRATCH/ns-yubin"
    chmod +x "$SCRATCH/ns" "$SCRATCH/ns-yubin"
}

# ns_run STDIN ARGS...: run_yubin inside the namespace
ns_run() {
    YUBIN=$SCRATCH/ns-yubin YUBIN_WRAPPER='' run_yubin "$@"
}

# order NAME: the addresses of NAME in getaddrinfo's order, one a line
order() {
    "$SCRATCH/ns" getent ahosts "$1" | awk '$2 == "STREAM" { print $1 }'
}

# black_hole ADDR PORT: a listener at ADDR PORT (or port 0: BG_PORT) that
# drops every further SYN (backlog 0, its one place taken, never accepts)
black_hole() {
    start_bg "hole-$1" "$PYTHON" -c '
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
l = socket.socket(fam)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(0)
filler = socket.create_connection(l.getsockname()[:2])
print("READY", l.getsockname()[1], flush=True)
time.sleep(600)
' "$1" "$2"
}

# fake_at ADDR: fake_smtpd.py (no TLS) at ADDR, saving to $SCRATCH/save
fake_at() {
    start_bg "fake-$1" "$PYTHON" "$TESTS_DIR/fake/fake_smtpd.py" \
        --host "$1" --port 0 --tls none --save-dir "$SCRATCH/save"
}

# config HOST PORT [LINE...]: $SCRATCH/config for the fake server
config() {
    local host=$1 port=$2
    shift 2
    write_config "$SCRATCH/config" "host $host" "port $port" "tls off" \
        "auth off" "from alice@example.test" "$@"
}

# he_case FIRST SECOND NAME: FIRST black-holed, SECOND answering, both
# NAME (in that order for getaddrinfo); sends through NAME, then to
# SECOND directly; sets HE_SECS, DIRECT_SECS
he_case() {
    local first=$1 second=$2 name=$3 port
    ns_files "$first $name" "$second $name"
    if [ "$(order "$name" | tr '\n' ' ')" != "$first $second " ]; then
        diag "getaddrinfo does not give $first, then $second:" "$(order "$name")"
        return 1
    fi
    fake_at "$second" || return 1
    port=$BG_PORT
    black_hole "$first" "$port" || return 1
    config "$name" "$port" "timeout 10"
    ns_run "$MSG" -v -v -C "$SCRATCH/config" rcpt@example.org
    HE_SECS=$SECS
    is "$RC" 0 "sent through $name: exit 0 (${SECS}s)"
    [ "$RC" = 0 ] || diag_file "$ERR"
    like "$(cat "$ERR")" "^yubin: \\[ *[0-9]+\\.[0-9] ms\\] trying ${first//./\\.}$" "-v -v: $first tried first"
    like "$(cat "$ERR")" "^yubin: \\[ *[0-9]+\\.[0-9] ms\\] connected to \\[?${second//./\\.}\\]? port $port$" \
        "-v -v: connected to $second"
    config "$second" "$port" "timeout 10"
    ns_run "$MSG" -C "$SCRATCH/config" rcpt@example.org
    DIRECT_SECS=$SECS
}

test_case 'Happy Eyeballs: the first address black-holed, the second answers: connected in < 0.5 s' '
    local a b cost
    ns_files "127.0.0.1 he.test" "127.0.0.2 he.test"
    a=$(order he.test | head -n 1)
    b=$(order he.test | sed -n 2p)
    [ -n "$a" ] && [ -n "$b" ] || { diag "no order: $a $b"; return 1; }
    he_case "$a" "$b" he.test || return 1
    cost=$(awk -v a="$HE_SECS" -v b="$DIRECT_SECS" "BEGIN { print a - b }")
    check "the black hole cost < 0.5 s ($HE_SECS s against $DIRECT_SECS s direct)" \
        seconds_below "$cost" 0.5
    check "not the timeout: the whole send < 2 s (timeout 10)" \
        seconds_below "$HE_SECS" 2
'

test_case 'Happy Eyeballs: ::1 black-holed, 127.0.0.1 answers: connected in < 0.5 s' '
    local cost
    grep -q "^0\{31\}1 .* lo$" /proc/net/if_inet6 ||
        skip_all "no IPv6 loopback (::1) here"
    he_case ::1 127.0.0.1 he6.test || return 1
    cost=$(awk -v a="$HE_SECS" -v b="$DIRECT_SECS" "BEGIN { print a - b }")
    check "the black hole cost < 0.5 s ($HE_SECS s against $DIRECT_SECS s direct)" \
        seconds_below "$cost" 0.5
'

test_case 'every address black-holed: the timeout bounds the whole connect' '
    local port
    ns_files "127.0.0.1 holes.test" "127.0.0.2 holes.test"
    black_hole 127.0.0.1 0 || return 1
    port=$BG_PORT
    black_hole 127.0.0.2 "$port" || return 1
    config holes.test "$port" "timeout 2"
    ns_run "$MSG" -C "$SCRATCH/config" rcpt@example.org
    is "$RC" 75 "exit 75"
    is "$(cat "$ERR")" "yubin: cannot connect to '\''holes.test'\'' port $port: timed out after 2 s waiting for the server (connecting)" \
        "the message"
    check "within the timeout (${SECS}s)" seconds_below "$SECS" 3
'

# silent_dns: a UDP socket on port 53 of a random loopback address that
# never answers; sets RESOLV
silent_dns() {
    local addr=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
    start_bg silent-dns "$PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
print("READY", 53, flush=True)
time.sleep(600)
' "$addr" || return 1
    RESOLV="nameserver $addr"
}

test_case 'a resolver that never answers: exit 75 after the timeout' '
    silent_dns || return 1
    ns_files "127.0.0.1 localhost"
    config nx.yubin.test 25 "timeout 2"
    ns_run "$MSG" -C "$SCRATCH/config" rcpt@example.org
    is "$RC" 75 "exit 75"
    is "$(cat "$ERR")" "yubin: cannot resolve '\''nx.yubin.test'\'': timed out after 2 s waiting for the DNS resolver" \
        "the message"
    check "after the timeout: 2 s <= ${SECS}s < 3.5 s" \
        seconds_below 1.95 "$SECS"
    check "... and not much more" seconds_below "$SECS" 3.5
'

test_case 'a resolver that never answers, queue on-failure: queued, due at the next -q' '
    local id
    silent_dns || return 1
    ns_files "127.0.0.1 localhost"
    config nx.yubin.test 25 "timeout 2" "queue on-failure"
    ns_run "$MSG" -C "$SCRATCH/config" rcpt@example.org
    is "$RC" 0 "exit 0: queued"
    like "$(cat "$ERR")" "^yubin: message queued as [0-9T]+-[A-Za-z0-9]+: cannot resolve '\''nx\\.yubin\\.test'\'': timed out after 2 s waiting for the DNS resolver$" \
        "the message says why"
    check "within the timeout (${SECS}s)" seconds_below "$SECS" 3.5
    run_yubin /dev/null --queue-list --json
    like "$(cat "$OUT")" "\"waiting_for\":\"net\",\"backoff\":0" \
        "waiting for the network, no back-off"
    id=$(jget "$OUT" "d[\"next_attempt\"] <= d[\"last_attempt\"]")
    is "$id" true "due at once (next attempt = the failed one)"
'

done_testing
