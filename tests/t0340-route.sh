#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0340-route.sh -- the other ways to the server (src/dial.c, src/socks.c),
# through the yubin binary, to the real Postfix test server:
#  - SOCKS5 through a real proxy (Debian's dante-server, danted, started
#    here on a free port with its own config, pid and log in the scratch
#    directory): STARTTLS and implicit TLS with the certificate checked
#    against the real host name; the proxy's log (debug: 1) shows the host
#    name as yubin sent it, unresolved (ATYP 3); a name that only the
#    proxy can resolve (danted runs in a private mount namespace with its
#    own /etc/hosts) works; RFC 1929 username/password (danted's
#    "socksmethod: username" checks the system's password database: the
#    namespace's /etc/passwd and /etc/shadow are copies with a test user);
#    the errors a real proxy gives (connection refused, not allowed by its
#    rules, host unreachable, wrong password) and the ones around it (no
#    proxy, a proxy that never answers: within the timeout). The reply
#    codes a real proxy will not give on demand: tests/unit/test-socks.c;
#  - socket PATH: a unix socket (socat UNIX-LISTEN in front of Postfix);
#  - source_ip: the connection comes from that address (Postfix's
#    Received: line says so); one the host does not have is exit 78.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd danted socat unshare mount openssl getent timeout
start_real_server

unshare -m true 2> "$SCRATCH/unshare.err" ||
    skip_all "unshare -m does not work here: $(head -n 1 "$SCRATCH/unshare.err")"

SOCKS_USER=yubinsocks
SOCKS_PW=socks-pw-$RANDOM

# dante_etc: the /etc files danted sees (hosts with smtp.socks.test, and
# a passwd and shadow with $SOCKS_USER)
DANTE_ETC=$SCRATCH/etc
dante_etc() {
    local d=$DANTE_ETC
    mkdir -p "$d"
    { cat /etc/hosts; echo "127.0.0.1 smtp.socks.test"; } > "$d/hosts"
    { cat /etc/passwd
      echo "$SOCKS_USER:x:64999:64999::/nonexistent:/usr/sbin/nologin"
    } > "$d/passwd"
    { cat /etc/shadow
      echo "$SOCKS_USER:$(openssl passwd -6 "$SOCKS_PW"):19000:0:99999:7:::"
    } > "$d/shadow"
    chmod 640 "$d/shadow"
}
dante_etc

# dante METHOD [BLOCK_PORT]: danted on a free port (DANTE_PORT), socks
# method METHOD (none, username), connections to BLOCK_PORT refused by a
# rule; log in $SCRATCH/dante.log
dante() {
    local method=$1 block=${2:-} conf=$SCRATCH/danted.conf port
    port=$(free_port)
    {
        echo "logoutput: $SCRATCH/dante.log"
        echo "debug: 1"
        echo "internal: 127.0.0.1 port = $port"
        echo "external: 127.0.0.1"
        echo "socksmethod: $method"
        echo "clientmethod: none"
        echo "user.privileged: root"
        echo "user.unprivileged: nobody"
        echo "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }"
        if [ -n "$block" ]; then
            echo "socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 port = $block"
            echo "    log: error }"
        fi
        echo "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0"
        echo "    command: connect"
        echo "    log: error connect disconnect }"
    } > "$conf"
    : > "$SCRATCH/dante.log"
    start_bg dante "$PYTHON" -c '
import os, signal, socket, subprocess, sys, time
etc, conf, pid, port = sys.argv[1:5]
cmd = ("mount --bind %s/hosts /etc/hosts && "
       "mount --bind %s/passwd /etc/passwd && "
       "mount --bind %s/shadow /etc/shadow && "
       "exec danted -f %s -p %s") % (etc, etc, etc, conf, pid)
p = subprocess.Popen(["unshare", "-m", "--", "sh", "-c", cmd],
                     start_new_session=True)
def stop(*_):
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except OSError:
        pass
    p.wait()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(port)), 0.2).close()
        break
    except OSError:
        if p.poll() is not None:
            sys.exit(1)
        time.sleep(0.1)
print("READY", port, flush=True)
p.wait()
' "$DANTE_ETC" "$conf" "$SCRATCH/danted.pid" "$port" || {
        diag_file "$SCRATCH/dante.log" 20
        return 1
    }
    DANTE_PORT=$port
}

# proxy_config FILE PORT LINE...: the real server at localhost:PORT
# through the proxy
proxy_config() {
    local f=$1 port=$2
    shift 2
    real_config "$f" "$port" "proxy_host 127.0.0.1" \
        "proxy_port $DANTE_PORT" "queue off" "$@"
}

# send_ok CONFIG DESC [ARGS...]: a message through CONFIG, delivered
send_ok() {
    local conf=$1 desc=$2 tok
    shift 2
    tok=$(new_token)
    make_message "$SCRATCH/msg" "$tok"
    run_yubin "$SCRATCH/msg" -C "$conf" "$@" rcpt@example.org
    is "$RC" 0 "$desc: exit 0"
    [ "$RC" = 0 ] || diag_file "$ERR"
    delivered "$tok" 10 "$desc: delivered"
    DELIVERED=$(find_delivered "$tok" 1)
}

# send_fails CONFIG RC MESSAGE: exit RC, stderr exactly "yubin: MESSAGE"
send_fails() {
    make_message "$SCRATCH/msg" "$(new_token)"
    run_yubin "$SCRATCH/msg" -C "$1" rcpt@example.org
    is "$RC" "$2" "exit $2 (${SECS}s)"
    is "$(cat "$ERR")" "yubin: $3" "the message"
}

# ------------------------------------------------------------------ SOCKS5
test_case 'SOCKS5 (dante), STARTTLS at 587: delivered, the name sent unresolved' '
    dante none || return 1
    proxy_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION"
    send_ok "$SCRATCH/c" "through the proxy" -v
    like "$(cat "$ERR")" "^yubin: connected to .localhost. port $SMTP_PORT_SUBMISSION via SOCKS5 proxy 127\\.0\\.0\\.1 port $DANTE_PORT$" \
        "-v: connected through the proxy"
    like "$(cat "$ERR")" "^yubin: TLS started: " "-v: STARTTLS through it"
    like "$(cat "$SCRATCH/dante.log")" "Packet: VER: 5 CMD: 1 FLAG: 0 ATYP: 3 address: localhost\\.$SMTP_PORT_SUBMISSION $" \
        "the proxy got the host name (ATYP 3), not an address"
'

test_case 'SOCKS5, implicit TLS at 465: delivered; the certificate checked against the host name' '
    dante none || return 1
    proxy_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSIONS"
    send_ok "$SCRATCH/c" "implicit TLS through the proxy"
    proxy_config "$SCRATCH/bad" "$SMTP_PORT_SUBMISSIONS" \
        "tls_host_override wrong.example.org"
    make_message "$SCRATCH/msg" "$(new_token)"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/bad" rcpt@example.org
    is "$RC" 76 "a certificate for another name: 76"
    like "$(cat "$ERR")" "wrong\\.example\\.org" "the message names the name"
'

test_case 'SOCKS5, STARTTLS at 465 (TLS from the first byte): 76 after the timeout' '
    dante none || return 1
    proxy_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSIONS" "tls_starttls on" \
        "timeout 2" "queue on-failure"
    send_fails "$SCRATCH/c" 76 "'\''localhost'\'' port $SMTP_PORT_SUBMISSIONS sent no greeting but answers a TLS handshake: this port expects TLS from the first byte: add \`tls_starttls off\` to account '\''default'\''"
    check "the timeout, then the probe on the same connection (${SECS}s)" \
        seconds_below "$SECS" 3.5
    is "$(find "$QUEUE_DIR/msg" -type f 2>/dev/null | wc -l)" 0 "not queued"
'

test_case 'SOCKS5: a name only the proxy can resolve (no local DNS)' '
    dante none || return 1
    if getent hosts smtp.socks.test > /dev/null; then
        diag "smtp.socks.test resolves here: the case proves nothing"
        return 1
    fi
    real_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION" \
        "host smtp.socks.test" "tls_host_override localhost" \
        "proxy_host 127.0.0.1" "proxy_port $DANTE_PORT" "queue off"
    send_ok "$SCRATCH/c" "smtp.socks.test through the proxy"
    like "$(cat "$SCRATCH/dante.log")" "ATYP: 3 address: smtp\\.socks\\.test\\.$SMTP_PORT_SUBMISSION $" \
        "the proxy resolved it"
'

test_case 'SOCKS5 username/password (RFC 1929): delivered; a wrong password, none: 77' '
    dante username || return 1
    proxy_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION" \
        "proxy_user $SOCKS_USER" "proxy_password $SOCKS_PW"
    send_ok "$SCRATCH/c" "with the proxy password"
    like "$(cat "$SCRATCH/dante.log")" "auth: username" \
        "the proxy saw username authentication"
    proxy_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION" \
        "proxy_user $SOCKS_USER" "proxy_password wrong-pw"
    send_fails "$SCRATCH/c" 77 "SOCKS5 proxy '\''127.0.0.1'\'' port $DANTE_PORT refused the username and password of proxy_user '\''$SOCKS_USER'\''"
    unlike "$(cat "$ERR")" "wrong-pw" "the password is not shown"
    proxy_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION"
    send_fails "$SCRATCH/c" 77 "SOCKS5 proxy '\''127.0.0.1'\'' port $DANTE_PORT accepts none of the authentication methods offered (none; set proxy_user and proxy_password)"
'

test_case 'SOCKS5: the proxy cannot connect (refused, not allowed, unknown host)' '
    local closed
    closed_port || return 1
    closed=$CLOSED_PORT
    dante none "$SMTP_PORT_SUBMISSIONS_HI" || return 1
    proxy_config "$SCRATCH/c" "$closed"
    send_fails "$SCRATCH/c" 75 "SOCKS5 proxy '\''127.0.0.1'\'' port $DANTE_PORT cannot connect to '\''localhost'\'' port $closed: connection refused (SOCKS5 reply 5)"
    proxy_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSIONS_HI"
    send_fails "$SCRATCH/c" 69 "SOCKS5 proxy '\''127.0.0.1'\'' port $DANTE_PORT cannot connect to '\''localhost'\'' port $SMTP_PORT_SUBMISSIONS_HI: connection not allowed by the proxy'\''s rules (SOCKS5 reply 2)"
    real_config "$SCRATCH/c" 587 "host nx.yubin.invalid" \
        "proxy_host 127.0.0.1" "proxy_port $DANTE_PORT" "queue off"
    send_fails "$SCRATCH/c" 75 "SOCKS5 proxy '\''127.0.0.1'\'' port $DANTE_PORT cannot connect to '\''nx.yubin.invalid'\'' port 587: host unreachable (SOCKS5 reply 4)"
'

test_case 'SOCKS5: no proxy there: 75, queued, tried again at the next -q' '
    local closed
    closed_port || return 1
    closed=$CLOSED_PORT
    real_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION" "proxy_host 127.0.0.1" \
        "proxy_port $closed" "queue on-failure"
    make_message "$SCRATCH/msg" "$(new_token)"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/c" rcpt@example.org
    is "$RC" 0 "queued: exit 0"
    like "$(cat "$ERR")" "^yubin: message queued as .*: SOCKS5 proxy: cannot connect to .127\\.0\\.0\\.1. port $closed: Connection refused$" \
        "it says the proxy is not there"
    run_yubin /dev/null --queue-list --json
    like "$(cat "$OUT")" "\"waiting_for\":\"net\"" "waiting for the network"
'

test_case 'SOCKS5: a proxy that never answers: 75 within the timeout' '
    start_mute mute || return 1
    real_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION" "proxy_host 127.0.0.1" \
        "proxy_port $BG_PORT" "queue off" "timeout 2"
    send_fails "$SCRATCH/c" 75 "SOCKS5 proxy '\''127.0.0.1'\'' port $BG_PORT: timed out after 2 s waiting for the proxy"
    check "within the timeout (${SECS}s)" seconds_below "$SECS" 3
'

# ------------------------------------------------------------------ socket
test_case 'socket PATH: STARTTLS over a unix socket (socat in front of Postfix)' '
    local sock=$SCRATCH/smtp.sock
    start_unix_relay "$sock" "$SMTP_PORT_SUBMISSION" || return 1
    real_config "$SCRATCH/c" 1 "socket $sock" "queue off"
    send_ok "$SCRATCH/c" "over the socket" -v
    like "$(cat "$ERR")" "^yubin: connected to unix socket ${sock//./\\.}$" \
        "-v: connected to the socket"
    like "$(cat "$ERR")" "^yubin: TLS started: " "-v: STARTTLS over it"
    real_config "$SCRATCH/c" 1 "socket $SCRATCH/none.sock" "queue off"
    send_fails "$SCRATCH/c" 75 "cannot connect to unix socket '\''$SCRATCH/none.sock'\'': No such file or directory"
'

# --------------------------------------------------------------- source_ip
test_case 'source_ip 127.0.0.2: the connection comes from there' '
    real_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION" "host 127.0.0.1" \
        "tls_host_override localhost" "source_ip 127.0.0.2" "queue off"
    send_ok "$SCRATCH/c" "from 127.0.0.2"
    like "$(grep -m1 "^Received: from" -A1 "$DELIVERED" | tr -d "\n")" \
        "\\[127\\.0\\.0\\.2\\]" "Postfix saw the client at 127.0.0.2"
'

test_case 'source_ip the host does not have, or of the other family: 78' '
    real_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION" "source_ip 192.0.2.1"
    send_fails "$SCRATCH/c" 78 "source_ip '\''192.0.2.1'\'' cannot be used (not an address of this host): Cannot assign requested address"
    real_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION" "host 127.0.0.1" \
        "source_ip ::1"
    send_fails "$SCRATCH/c" 78 "'\''127.0.0.1'\'' has no IPv6 address to reach from source_ip '\''::1'\''"
    real_config "$SCRATCH/c" "$SMTP_PORT_SUBMISSION" "source_ip nothere"
    send_fails "$SCRATCH/c" 78 "source_ip '\''nothere'\'' is not an IPv4 or IPv6 address"
'

done_testing
