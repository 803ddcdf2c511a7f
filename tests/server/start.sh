#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/server/start.sh -- start (or check) yubin's loopback-only SMTP submission
# test server: Postfix (smtpd + virtual Maildir delivery) with Dovecot as the SASL
# back end, a throw-away certtool CA, and a loopback OAuth 2.0 provider
# (tests/fake/oauth_provider.py) that Dovecot asks whether XOAUTH2 and
# OAUTHBEARER tokens are live (RFC 7662 introspection).  Debian 12 (bookworm).
#
#   Needs root to set up.  Idempotent: when the server is already up with this
#   script's configuration it returns at once (< 1 s) without touching anything.
#   Concurrent callers are serialised with flock on $STATE_DIR/start.lock.
#   Missing packages are installed with apt-get (root only).
#
#   Ports (bound to loopback only, inet_interfaces=loopback-only):
#     587   submission   STARTTLS required before MAIL, AUTH only after STARTTLS
#     465   submissions  implicit TLS (wrapper mode), AUTH required
#     10587 like 587     (unprivileged port number)
#     10465 like 465     (unprivileged port number)
#     10025 plain SMTP   STARTTLS optional, AUTH offered even without TLS, AUTH
#                        not required (for "tls off" / "auth off" client tests)
#     10588 like 587 but presents a certificate for the WRONG host name
#     10589 like 587 but presents an EXPIRED certificate
#     10591 like 587 but the transaction is proxied (smtpd_proxy_filter) to
#           Postfix's smtp-sink on 127.0.0.1:10026, which discards it
#           (benchmark sink: no queue file, no Maildir write)
#     10443 the OAuth 2.0 provider, HTTPS (server.crt): /device /token
#           /authorize /introspect /admin/... (see oauth_provider.py)
#     10480 the provider's introspection endpoint in plain HTTP, for Dovecot
#   Every recipient (any domain) is delivered to one Maildir:
#     $STATE_DIR/vmail/sink/Maildir/new/
#   SASL users (plaintext passdb: PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1
#   SCRAM-SHA-256 all work):
#     alice / alice-pw   (also alice@example.test / alice-pw)
#     bob   / pässwörd   (UTF-8 password, for SASLprep tests)
#   XOAUTH2 and OAUTHBEARER (oauth2 passdb): the user is the one the provider
#   says owns the access token (POST /admin/client client_id=X user=alice,
#   then a token from the device or code flow, or POST /admin/issue); every
#   AUTH asks the provider (no cache), so /admin/expire and /admin/revoke
#   take effect at once.
#   A sourceable summary is written to $STATE_DIR/env.sh.
#
#   Usage: tests/server/start.sh [--selftest] [--force]
#     --selftest  send one message with msmtp and one with swaks and check both
#                 arrive; then XOAUTH2 and OAUTHBEARER with a provider token
#                 (python3 smtplib), and an expired token refused
#     --force     redo the whole set-up even if the server looks ready
#   Environment: STATE_DIR (default ${TMPDIR:-/tmp}/yubin-testenv)
#   Stop it with tests/server/stop.sh.
set -euo pipefail

STATE_DIR=${STATE_DIR:-${TMPDIR:-/tmp}/yubin-testenv}
PKI=$STATE_DIR/pki
VMAIL_BASE=$STATE_DIR/vmail
MAILDIR=$VMAIL_BASE/sink/Maildir
DOVE_DIR=$STATE_DIR/dovecot
DOVE_CONF=$DOVE_DIR/dovecot.conf
DOVE_BASE=/run/dovecot-yubin-test
MYHOST=mail.example.test
MARK="# managed by yubin tests/server/start.sh"
READY=$STATE_DIR/ready
PORTS="587 465 10587 10465 10025 10588 10589 10591 10026 10443 10480"
TESTS_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OAUTH_PROVIDER=$TESTS_SRC/fake/oauth_provider.py
OAUTH_PID=$STATE_DIR/oauth-provider.pid
OAUTH_LOG=$STATE_DIR/oauth-provider.log
SELFTEST=0
FORCE=0
for arg in "$@"; do
    case $arg in
    --selftest) SELFTEST=1 ;;
    --force) FORCE=1 ;;
    *) echo "usage: $0 [--selftest] [--force]" >&2; exit 64 ;;
    esac
done

log() { printf '[yubin-testenv] %s\n' "$*" >&2; }

# The ready marker holds this: a change of the script, of the OAuth provider
# or of STATE_DIR means the running server is not ours (or out of date) and
# must be set up again.
SCRIPT_ID="$(sha256sum < "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
SCRIPT_ID="$SCRIPT_ID $(sha256sum < "$OAUTH_PROVIDER" 2>/dev/null | cut -d' ' -f1)"
SCRIPT_ID="$SCRIPT_ID $STATE_DIR"

# ---------------------------------------------------------------- fast path
port_listening() {  # port: is something listening on 127.0.0.1:port?
    local hex
    hex=$(printf '0100007F:%04X' "$1")
    awk -v a="$hex" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}
pid_alive() {  # pidfile
    local p
    read -r p 2>/dev/null < "$1" || return 1
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null
}
banner_ok() {  # port: does a 220 banner come back within 2 s?
    local line=""
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        IFS= read -r -t 2 line <&3 || exit 1
        printf 'QUIT\r\n' >&3
        case $line in 220*) exit 0 ;; *) exit 1 ;; esac
    ) 2>/dev/null
}
is_ready() {
    [ "$(cat "$READY" 2>/dev/null)" = "$SCRIPT_ID" ] || return 1
    [ -s "$STATE_DIR/env.sh" ] || return 1
    grep -qxF "$MARK" /etc/postfix/main.cf 2>/dev/null || return 1
    pid_alive /var/spool/postfix/pid/master.pid || return 1
    pid_alive "$DOVE_BASE/master.pid" || return 1
    pid_alive "$STATE_DIR/smtp-sink.pid" || return 1
    pid_alive "$OAUTH_PID" || return 1
    local p
    for p in $PORTS; do port_listening "$p" || return 1; done
    banner_ok 10025
}

# setup: the whole set-up (body not indented, for the here-documents)
setup() {
# ---------------------------------------------------------------- packages
PKGS="postfix dovecot-core gnutls-bin msmtp swaks libnet-ssleay-perl
      libio-socket-ssl-perl libauthen-sasl-perl libio-socket-inet6-perl
      ca-certificates python3 curl"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    log "installing:$missing"
    if ! apt-cache policy postfix 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        apt-get -o DPkg::Lock::Timeout=600 update </dev/null 9>&-
    fi
    echo "postfix postfix/main_mailer_type select No configuration" |
        debconf-set-selections
    # keep the maintainer scripts from starting daemons on 0.0.0.0
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
        --no-install-recommends $missing </dev/null 9>&-
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    # on a systemd host, keep the distribution's units from starting at boot
    if [ -d /run/systemd/system ]; then
        systemctl disable --now dovecot.service postfix.service 2>/dev/null || true
    fi
fi

# ---------------------------------------------------------------- users, dirs
getent group vmail >/dev/null || groupadd --system vmail
getent passwd vmail >/dev/null ||
    useradd --system -g vmail -d "$VMAIL_BASE" -M -s /usr/sbin/nologin vmail
VUID=$(id -u vmail)
VGID=$(id -g vmail)

mkdir -p "$PKI" "$DOVE_DIR/state" "$VMAIL_BASE"
chown vmail:vmail "$VMAIL_BASE"
install -d -o vmail -g vmail -m 700 "$VMAIL_BASE/sink" "$MAILDIR" \
    "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"

# ---------------------------------------------------------------- PKI
mkcert() {  # name template-body: a certificate signed by the test CA
    local n=$1 tmpl=$2
    [ -s "$PKI/$n.crt" ] && [ -s "$PKI/$n.key" ] && return 0
    certtool --generate-privkey --key-type=rsa --bits=2048 \
        --outfile "$PKI/$n.key" 2>/dev/null
    printf '%s\n' "$tmpl" > "$PKI/$n.tmpl"
    certtool --generate-certificate --load-privkey "$PKI/$n.key" \
        --load-ca-certificate "$PKI/ca.crt" --load-ca-privkey "$PKI/ca.key" \
        --template "$PKI/$n.tmpl" --outfile "$PKI/$n.crt" 2>/dev/null
}
if [ ! -s "$PKI/ca.crt" ] || [ ! -s "$PKI/ca.key" ]; then
    log "creating test CA"
    rm -f "$PKI"/*.crt "$PKI"/*.key
    certtool --generate-privkey --key-type=rsa --bits=2048 \
        --outfile "$PKI/ca.key" 2>/dev/null
    cat > "$PKI/ca.tmpl" <<'EOF'
cn = "yubin test CA"
organization = "yubin test infra"
serial = 1
expiration_days = 3650
ca
cert_signing_key
crl_signing_key
EOF
    certtool --generate-self-signed --load-privkey "$PKI/ca.key" \
        --template "$PKI/ca.tmpl" --outfile "$PKI/ca.crt" 2>/dev/null
fi
mkcert server 'cn = "localhost"
dns_name = "localhost"
dns_name = "mail.example.test"
ip_address = "127.0.0.1"
ip_address = "::1"
serial = 2
expiration_days = 3650
tls_www_server
signing_key
encryption_key'
mkcert wronghost 'cn = "wrong.example.test"
dns_name = "wrong.example.test"
serial = 3
expiration_days = 3650
tls_www_server
signing_key
encryption_key'
mkcert expired 'cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
ip_address = "::1"
serial = 4
activation_date = "2020-01-01 00:00:00 UTC"
expiration_date = "2021-01-01 00:00:00 UTC"
tls_www_server
signing_key
encryption_key'
chmod 600 "$PKI"/*.key
chmod 644 "$PKI"/*.crt
# SHA-256 fingerprint of the server certificate (tls_fingerprint format)
certtool --certificate-info --infile "$PKI/server.crt" 2>/dev/null |
    awk '/Fingerprint:/ { f = 1 } f && /sha256:/ { sub(/.*sha256:/, ""); print toupper($0); exit }' |
    sed 's/../&:/g; s/:$//' > "$PKI/server.sha256"

# ---------------------------------------------------------------- Dovecot (SASL)
cat > "$DOVE_DIR/users" <<'EOF'
alice:{PLAIN}alice-pw
alice@example.test:{PLAIN}alice-pw
bob:{PLAIN}pässwörd
EOF
chown root:dovecot "$DOVE_DIR/users"
chmod 640 "$DOVE_DIR/users"
cat > "$DOVE_DIR/dovecot-oauth2.conf.ext" <<'EOF'
# Dovecot oauth2 passdb: RFC 7662 introspection at the loopback provider
introspection_mode = post
introspection_url = http://127.0.0.1:10480/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
# a dead or hanging provider fails the AUTH in bounded time
timeout_msecs = 10000
# close idle keep-alive connections long before the provider would
max_idle_time_msecs = 10000
max_parallel_connections = 4
EOF
chown root:dovecot "$DOVE_DIR/dovecot-oauth2.conf.ext"
chmod 640 "$DOVE_DIR/dovecot-oauth2.conf.ext"
cat > "$DOVE_CONF" <<EOF
$MARK
protocols = none
listen = 127.0.0.1
instance_name = dovecot-yubin-test
base_dir = $DOVE_BASE/
state_dir = $DOVE_DIR/state
log_path = $STATE_DIR/dovecot.log
auth_verbose = yes
auth_failure_delay = 0
# no brute-force penalty: tests with wrong passwords run in parallel with
# tests that must authenticate at once (the penalty is per client IP, and
# Postfix passes 127.0.0.1 for every test)
login_trusted_networks = 127.0.0.0/8 ::1/128
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256 xoauth2 oauthbearer
disable_plaintext_auth = no
ssl = no
# no cache: a token the provider has expired or revoked fails at once
auth_cache_size = 0
# passwords; the token mechanisms never look here (a token is no password)
passdb {
  driver = passwd-file
  mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256
  args = scheme=PLAIN username_format=%u $DOVE_DIR/users
}
# XOAUTH2 / OAUTHBEARER: every token is checked by introspection at the
# loopback provider (tests/fake/oauth_provider.py)
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DOVE_DIR/dovecot-oauth2.conf.ext
}
userdb {
  driver = static
  args = uid=vmail gid=vmail home=$VMAIL_BASE/sink
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF

# ---------------------------------------------------------------- Postfix
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
    INET_PROTOCOLS=all
else
    INET_PROTOCOLS=ipv4
fi
for f in main.cf master.cf; do
    if [ -e "/etc/postfix/$f" ] && ! grep -qxF "$MARK" "/etc/postfix/$f" &&
       [ ! -e "/etc/postfix/$f.pre-yubin-test" ]; then
        cp -p "/etc/postfix/$f" "/etc/postfix/$f.pre-yubin-test"
    fi
done
cat > /etc/postfix/main.cf <<EOF
$MARK
compatibility_level = 3.6
myhostname = $MYHOST
mydomain = example.test
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = $INET_PROTOCOLS
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_banner = \$myhostname ESMTP yubin test submission server
biff = no
append_dot_mydomain = no
readme_directory = no
# no DNS at all (the test machine may have no resolver)
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
# log to a file (no syslog needed)
maillog_file = $STATE_DIR/postfix.log
maillog_file_prefixes = /var, /dev/stdout, $STATE_DIR
# every address in every domain -> one virtual Maildir
mydestination =
local_recipient_maps =
relay_domains =
relayhost =
alias_maps =
alias_database =
virtual_mailbox_domains = static:ALL
virtual_mailbox_base = $VMAIL_BASE
virtual_mailbox_maps = static:sink/Maildir/
virtual_uid_maps = static:$VUID
virtual_gid_maps = static:$VGID
virtual_minimum_uid = $VUID
virtual_mailbox_limit = 0
mailbox_size_limit = 0
message_size_limit = 1073741824
# do not touch the headers of submitted mail (no added Date/Message-ID/From)
local_header_rewrite_clients =
# never slow down fast submitters (benchmarks)
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
# TLS (server side)
smtpd_tls_chain_files = $PKI/server.key, $PKI/server.crt
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
# SASL through Dovecot
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination
smtputf8_enable = yes
# the default from Postfix 3.9 on: a client that pipelines before it has
# authenticated is refused -- yubin's pipelining must pass with it on
smtpd_forbid_unauth_pipelining = yes
EOF
SUBMIT_OPTS="  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
SUBMITS_OPTS="  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
cat > /etc/postfix/master.cf <<EOF
$MARK
# service   type  private unpriv  chroot  wakeup  maxproc command + args
submission  inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
$SUBMIT_OPTS
submissions inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submissions
$SUBMITS_OPTS
10587       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/sub10587
$SUBMIT_OPTS
10465       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/subs10465
$SUBMITS_OPTS
10025       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/plain10025
  -o smtpd_tls_security_level=may
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=no
10588       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/wronghost10588
  -o smtpd_tls_chain_files=$PKI/wronghost.key,$PKI/wronghost.crt
$SUBMIT_OPTS
10589       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/expired10589
  -o smtpd_tls_chain_files=$PKI/expired.key,$PKI/expired.crt
$SUBMIT_OPTS
10591       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/proxysink10591
  -o smtpd_proxy_filter=127.0.0.1:10026
$SUBMIT_OPTS
pickup      unix  n       -       n       60      1       pickup
cleanup     unix  n       -       n       -       0       cleanup
qmgr        unix  n       -       n       300     1       qmgr
tlsmgr      unix  -       -       n       1000?   1       tlsmgr
rewrite     unix  -       -       n       -       -       trivial-rewrite
bounce      unix  -       -       n       -       0       bounce
defer       unix  -       -       n       -       0       bounce
trace       unix  -       -       n       -       0       bounce
verify      unix  -       -       n       -       1       verify
flush       unix  n       -       n       1000?   0       flush
proxymap    unix  -       -       n       -       -       proxymap
proxywrite  unix  -       -       n       -       1       proxymap
smtp        unix  -       -       n       -       -       smtp
relay       unix  -       -       n       -       -       smtp
showq       unix  n       -       n       -       -       showq
error       unix  -       -       n       -       -       error
retry       unix  -       -       n       -       -       error
discard     unix  -       -       n       -       -       discard
local       unix  -       n       n       -       -       local
virtual     unix  -       n       n       -       -       virtual
lmtp        unix  -       -       n       -       -       lmtp
anvil       unix  -       -       n       -       1       anvil
scache      unix  -       -       n       -       1       scache
postlog     unix-dgram n  -       n       -       1       postlogd
EOF
touch "$STATE_DIR/postfix.log"

# ---------------------------------------------------------------- start / reload
# the OAuth provider first (Dovecot asks it); always a fresh one, since the
# script or the provider may have changed (its state is lost: clients must
# be created again)
if pid_alive "$OAUTH_PID"; then
    p=$(cat "$OAUTH_PID")
    kill -TERM "$p"
    for _ in $(seq 50); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
fi
rm -f "$OAUTH_PID"
for port in 10443 10480; do
    if port_listening "$port"; then
        log "port $port is taken by something else (not $OAUTH_PID)"
        exit 1
    fi
done
setsid /usr/bin/python3 "$OAUTH_PROVIDER" --port 10443 --introspect-port 10480 \
    --cert "$PKI/server.crt" --key "$PKI/server.key" --log "$OAUTH_LOG" \
    --user nobody </dev/null >>"$STATE_DIR/oauth-provider.out" 2>&1 9>&- &
echo $! > "$OAUTH_PID"
for _ in $(seq 100); do
    port_listening 10443 && port_listening 10480 && break
    pid_alive "$OAUTH_PID" || break
    sleep 0.1
done
if ! pid_alive "$OAUTH_PID"; then
    log "the OAuth provider did not start:"
    tail -n 20 "$STATE_DIR/oauth-provider.out" >&2
    exit 1
fi

if pid_alive "$DOVE_BASE/master.pid"; then
    kill -HUP "$(cat "$DOVE_BASE/master.pid")"
else
    dovecot -c "$DOVE_CONF" </dev/null >>"$STATE_DIR/dovecot.log" 2>&1 9>&-
fi
for _ in $(seq 50); do
    [ -S /var/spool/postfix/private/auth ] && break
    sleep 0.1
done

# benchmark back end: smtp-sink discards everything
if ! pid_alive "$STATE_DIR/smtp-sink.pid"; then
    setsid /usr/sbin/smtp-sink -u postfix 127.0.0.1:10026 256 \
        </dev/null >>"$STATE_DIR/smtp-sink.log" 2>&1 9>&- &
    echo $! > "$STATE_DIR/smtp-sink.pid"
fi

postfix check
if postfix status >/dev/null 2>&1; then
    postfix reload </dev/null >/dev/null 2>&1 9>&-
else
    postfix start </dev/null >/dev/null 2>&1 9>&-
fi

for port in $PORTS; do
    for _ in $(seq 100); do
        port_listening "$port" && break
        sleep 0.1
    done
    port_listening "$port" || { log "port $port not listening"; exit 1; }
done
for _ in $(seq 50); do
    banner_ok 10025 && break
    sleep 0.1
done
banner_ok 10025 || { log "no SMTP banner on port 10025"; exit 1; }

cat > "$STATE_DIR/env.sh.tmp" <<EOF
# source me: settings of yubin's Postfix submission test server
SMTP_HOST=127.0.0.1
SMTP_PORT_SUBMISSION=587
SMTP_PORT_SUBMISSIONS=465
SMTP_PORT_SUBMISSION_HI=10587
SMTP_PORT_SUBMISSIONS_HI=10465
SMTP_PORT_PLAIN=10025
SMTP_PORT_WRONGHOST=10588
SMTP_PORT_EXPIRED=10589
SMTP_PORT_PROXYSINK=10591
SMTP_USER=alice
SMTP_PASS=alice-pw
SMTP_CA=$PKI/ca.crt
SMTP_SERVER_CERT=$PKI/server.crt
SMTP_SERVER_KEY=$PKI/server.key
SMTP_FINGERPRINT=$(cat "$PKI/server.sha256")
SMTP_MAILDIR=$MAILDIR
SMTP_POSTFIX_LOG=$STATE_DIR/postfix.log
SMTP_DOVECOT_LOG=$STATE_DIR/dovecot.log
OAUTH_URL=https://127.0.0.1:10443
OAUTH_INTROSPECT_URL=http://127.0.0.1:10480/introspect
OAUTH_LOG=$OAUTH_LOG
OAUTH_CA=$PKI/ca.crt
EOF
mv -f "$STATE_DIR/env.sh.tmp" "$STATE_DIR/env.sh"
printf '%s\n' "$SCRIPT_ID" > "$READY"
log "ready; settings in $STATE_DIR/env.sh; mail goes to $MAILDIR/new/"
}

if [ "$(id -u)" != 0 ]; then
    if [ "$FORCE" = 0 ] && [ "$SELFTEST" = 0 ] && is_ready; then
        exit 0
    fi
    log "not running (or out of date), and setting it up needs root"
    exit 1
fi

mkdir -p "$STATE_DIR"
chmod 755 "$STATE_DIR"
exec 9>>"$STATE_DIR/start.lock"
if ! flock -w 300 9; then
    log "timed out waiting for $STATE_DIR/start.lock"
    exit 1
fi

if [ "$FORCE" = 0 ] && is_ready; then
    [ "$SELFTEST" = 1 ] || exit 0
else
    rm -f "$READY"
    log "setting up in $STATE_DIR"
    setup
fi

# ---------------------------------------------------------------- self-test
if [ "$SELFTEST" = 1 ]; then
    before=$(find "$MAILDIR/new" -type f | wc -l)
    rc="$STATE_DIR/msmtprc.selftest"
    cat > "$rc" <<EOF
defaults
tls_trust_file $PKI/ca.crt
timeout 30
account selftest
host localhost
port 587
tls on
tls_starttls on
auth plain
user alice
password alice-pw
from selftest@example.test
account default : selftest
EOF
    chmod 600 "$rc"
    printf 'From: selftest@example.test\nTo: rcpt@example.org\nSubject: msmtp selftest\n\nhello from msmtp\n' |
        timeout 60 msmtp -C "$rc" rcpt@example.org
    timeout 60 swaks --silent 1 --server 127.0.0.1 --port 465 --tlsc \
        --tls-verify --tls-ca-path "$PKI/ca.crt" \
        --auth PLAIN --auth-user bob --auth-password 'pässwörd' \
        --from selftest@example.test --to rcpt@example.org \
        --header 'Subject: swaks selftest'
    # OAuth: a token pair from the provider; XOAUTH2 on 587, OAUTHBEARER on
    # 465 (each delivers a message); expired, the token gets 535
    timeout 60 /usr/bin/python3 - "$PKI/ca.crt" "selftest-$$" <<'PYEOF' || {
import base64, json, smtplib, ssl, sys, urllib.parse, urllib.request
ca, cid = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
def admin(path, **form):
    req = urllib.request.Request("https://127.0.0.1:10443" + path,
                                 urllib.parse.urlencode(form).encode())
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return json.load(r)
def auth(s, mech, tok):
    if mech == "XOAUTH2":
        raw = "user=alice\x01auth=Bearer %s\x01\x01" % tok
    else:
        raw = "n,a=alice,\x01auth=Bearer %s\x01\x01" % tok
    code, msg = s.docmd("AUTH", mech + " " + base64.b64encode(raw.encode()).decode())
    if code == 334:
        code, msg = s.docmd("" if mech == "XOAUTH2" else "AQ==")
    return code, msg.decode()
admin("/admin/client", client_id=cid, user="alice")
at = admin("/admin/issue", client_id=cid)["access_token"]
msg = "From: selftest@example.test\r\nTo: rcpt@example.org\r\nSubject: %s selftest\r\n\r\nhello\r\n"
s = smtplib.SMTP("127.0.0.1", 587, timeout=30)
s.starttls(context=ctx)
s.ehlo("selftest.example")
assert "XOAUTH2" in s.esmtp_features.get("auth", ""), s.esmtp_features
assert auth(s, "XOAUTH2", at)[0] == 235
s.sendmail("selftest@example.test", ["rcpt@example.org"], msg % "xoauth2")
s.quit()
s = smtplib.SMTP_SSL("127.0.0.1", 465, timeout=30, context=ctx)
s.ehlo("selftest.example")
assert auth(s, "OAUTHBEARER", at)[0] == 235
s.sendmail("selftest@example.test", ["rcpt@example.org"], msg % "oauthbearer")
s.quit()
admin("/admin/expire", client_id=cid)
s = smtplib.SMTP("127.0.0.1", 587, timeout=30)
s.starttls(context=ctx)
s.ehlo("selftest.example")
r = auth(s, "XOAUTH2", at)
assert r[0] == 535, r
s.quit()
admin("/admin/client", client_id=cid)    # forget its tokens
PYEOF
        log "SELFTEST FAILED (OAuth: XOAUTH2/OAUTHBEARER through Dovecot)"
        exit 1
    }
    for _ in $(seq 100); do
        [ "$(find "$MAILDIR/new" -type f | wc -l)" -ge $((before + 4)) ] && break
        sleep 0.1
    done
    after=$(find "$MAILDIR/new" -type f | wc -l)
    if [ "$after" -lt $((before + 4)) ]; then
        log "SELFTEST FAILED ($before -> $after messages)"
        exit 1
    fi
    log "selftest ok ($before -> $after messages in $MAILDIR/new)"
fi
