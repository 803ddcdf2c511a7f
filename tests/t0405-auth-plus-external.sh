#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0405-auth-plus-external.sh -- what Dovecot 2.3 cannot test, against
# tests/fake/saslserver (GnuTLS + the server side of GNU SASL):
# SCRAM-SHA-256-PLUS chosen by "auth on", with tls-exporter under TLS 1.3
# and tls-unique under TLS 1.2; a server whose channel binding differs
# makes the exchange fail (535 -> 77), which proves the binding is checked;
# without -PLUS on offer plain SCRAM is used; EXTERNAL with a client
# certificate (tls_cert_file/tls_key_file) from the test CA, and refused
# without one or with one from another CA.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

SASLSERVER=$abs_top_builddir/tests/fake/saslserver
need_yubin
need_cmd timeout
need_certtool
[ -x "$SASLSERVER" ] || skip_all "no $SASLSERVER (make check builds it)"

# ---------------------------------------------------------------- PKI
# pki DIR: a CA, a server certificate for localhost/127.0.0.1 and a client
# certificate with CN alice (ECDSA: quick to make)
pki() {
    local d=$1
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        certtool --generate-privkey --key-type=ecdsa --outfile ca.key
        printf '%s\n' 'cn = "yubin t0405 CA"' 'serial = 1' \
            'expiration_days = 30' ca cert_signing_key > ca.tmpl
        certtool --generate-self-signed --load-privkey ca.key \
            --template ca.tmpl --outfile ca.crt
        certtool --generate-privkey --key-type=ecdsa --outfile server.key
        printf '%s\n' 'cn = "localhost"' 'dns_name = "localhost"' \
            'ip_address = "127.0.0.1"' 'serial = 2' 'expiration_days = 30' \
            tls_www_server signing_key > server.tmpl
        certtool --generate-certificate --load-privkey server.key \
            --load-ca-certificate ca.crt --load-ca-privkey ca.key \
            --template server.tmpl --outfile server.crt
        certtool --generate-privkey --key-type=ecdsa --outfile client.key
        printf '%s\n' 'cn = "alice"' 'serial = 3' 'expiration_days = 30' \
            tls_www_client signing_key > client.tmpl
        certtool --generate-certificate --load-privkey client.key \
            --load-ca-certificate ca.crt --load-ca-privkey ca.key \
            --template client.tmpl --outfile client.crt
    ) > "$d/certtool.log" 2>&1 || {
        diag_file "$d/certtool.log"
        bail_out "certtool failed"
    }
}
pki "$SCRATCH/pki"
pki "$SCRATCH/other"		# a second CA: its client cert is not trusted
P=$SCRATCH/pki

TOKEN=$(new_token)
MSG=$SCRATCH/msg
make_message "$MSG" "$TOKEN"
sed 's/$/\r/' "$MSG" > "$MSG.crlf"
OTHER=$SCRATCH/other

# case_run NAME "SERVER ARGS" CONFIG_LINES...: start saslserver, send
# through it with -v (no terminal: nothing can prompt); sets RC ERR SLOG (the
# server's log) SRC (its exit status) SAVED (the message it stored); false if
# the server does not start
case_run() {
    local name=$1 sargs=$2
    shift 2
    SAVED=$SCRATCH/$name.saved
    # shellcheck disable=SC2086
    if ! start_bg "$name" "$SASLSERVER" --port 0 --cert "$P/server.crt" \
            --key "$P/server.key" --ca "$P/ca.crt" --user alice:alice-pw \
            --save "$SAVED" --timeout 20 $sargs; then
        return 1
    fi
    write_config "$SCRATCH/$name.conf" "host 127.0.0.1" "port $BG_PORT" \
        "tls_trust_file $P/ca.crt" "user alice" "from alice@example.test" \
        "timeout 10" "$@"
    YUBIN_WRAPPER="setsid -w" run_yubin "$MSG" -v \
        -C "$SCRATCH/$name.conf" rcpt@example.org
    wait "$BG_PID"
    SRC=$?
    SLOG=$SCRATCH/$name.err
    if [ "$RC" != 0 ] && [ "${EXPECT_FAIL:-0}" = 0 ]; then
        diag "$name: yubin exit $RC"
        diag_file "$ERR" 40
        diag_file "$SLOG" 40
    fi
}

# passed: exit 0, the server accepted and stored the input
passed() {
    is "$RC" 0 "exit 0"
    is "$SRC" 0 "the server accepted the message"
    check "stored bytes = input (CRLF)" cmp -s "$SAVED" "$MSG.crlf"
}

# ---------------------------------------------------------------- -PLUS
test_case 'TLS 1.3, auth on' <<'CASE'
    case_run plus13 "" "password alice-pw" "auth on" || return 1
    passed
    like "$(cat "$ERR")" '^yubin: --> AUTH SCRAM-SHA-256-PLUS ' \
        "chooses SCRAM-SHA-256-PLUS"
    like "$(cat "$SLOG")" '^saslserver: tls TLS1\.3$' "TLS 1.3 negotiated"
    like "$(cat "$SLOG")" \
        '^saslserver: auth ok mech=SCRAM-SHA-256-PLUS user=alice cb=tls-exporter$' \
        "the server checked tls-exporter channel binding"
CASE

test_case 'TLS 1.2, auth on' <<'CASE'
    case_run plus12 "" "password alice-pw" "auth on" \
        "tls_priorities NORMAL:-VERS-TLS1.3" || return 1
    passed
    like "$(cat "$SLOG")" '^saslserver: tls TLS1\.2$' "TLS 1.2 negotiated"
    like "$(cat "$SLOG")" \
        '^saslserver: auth ok mech=SCRAM-SHA-256-PLUS user=alice cb=tls-unique$' \
        "SCRAM-SHA-256-PLUS with tls-unique"
CASE

test_case 'implicit TLS, auth scram-sha-1-plus' <<'CASE'
    case_run plus1 "--tls implicit" "password alice-pw" "auth scram-sha-1-plus" \
        "tls_starttls off" || return 1
    passed
    like "$(cat "$SLOG")" \
        '^saslserver: auth ok mech=SCRAM-SHA-1-PLUS user=alice cb=tls-exporter$' \
        "SCRAM-SHA-1-PLUS with tls-exporter"
CASE

# ------------------------------------------------ the binding is checked
test_case "server's tls-exporter differs" <<'CASE'
    EXPECT_FAIL=1 case_run corrupt13 "--corrupt-cb" "password alice-pw" "auth on" ||
        return 1
    is "$RC" 77 "exit 77"
    like "$(cat "$ERR")" \
        "^yubin: authentication \\(SCRAM-SHA-256-PLUS\\) failed for user 'alice': 535 " \
        "535 in the message"
    like "$(cat "$SLOG")" '^saslserver: auth FAILED mech=SCRAM-SHA-256-PLUS' \
        "the server refused the proof"
    is "$SRC" 1 "no message accepted"
CASE

test_case "server's tls-unique differs (TLS 1.2)" <<'CASE'
    EXPECT_FAIL=1 case_run corrupt12 "--corrupt-cb" "password alice-pw" \
        "auth on" "tls_priorities NORMAL:-VERS-TLS1.3" || return 1
    is "$RC" 77 "exit 77"
    like "$(cat "$SLOG")" '^saslserver: auth FAILED mech=SCRAM-SHA-256-PLUS' \
        "the server refused the proof"
CASE

test_case 'server without -PLUS, auth on' <<'CASE'
    case_run noplus "--mechs SCRAM-SHA-256,PLAIN" "password alice-pw" "auth on" ||
        return 1
    passed
    like "$(cat "$SLOG")" \
        '^saslserver: auth ok mech=SCRAM-SHA-256 user=alice cb=none$' \
        "plain SCRAM-SHA-256, no binding claimed"
CASE

test_case 'forced -PLUS the server lacks' <<'CASE'
    EXPECT_FAIL=1 case_run plusmissing "--mechs SCRAM-SHA-256,PLAIN" \
        "password alice-pw" "auth scram-sha-256-plus" || return 1
    is "$RC" 77 "exit 77"
    like "$(cat "$ERR")" "server does not offer 'SCRAM-SHA-256-PLUS'" \
        "clear message"
CASE

# ---------------------------------------------------------------- EXTERNAL
test_case 'EXTERNAL with a client certificate' <<'CASE'
    case_run external "" "auth external" "tls_cert_file $P/client.crt" \
        "tls_key_file $P/client.key" || return 1
    passed
    like "$(cat "$SLOG")" '^saslserver: client certificate verified: CN=alice$' \
        "the server verified the certificate"
    like "$(cat "$SLOG")" '^saslserver: auth ok mech=EXTERNAL user=alice' \
        "authenticated as the certificate's CN"
    unlike "$(cat "$ERR")" 'password from|no password' \
        "no password looked for"
CASE

test_case 'EXTERNAL without a client certificate' <<'CASE'
    EXPECT_FAIL=1 case_run external-nocert "" "auth external" || return 1
    is "$RC" 77 "exit 77"
    like "$(cat "$SLOG")" '^saslserver: no client certificate$' \
        "the server saw none"
    is "$SRC" 1 "no message accepted"
CASE

test_case 'EXTERNAL with a certificate from another CA' <<'CASE'
    EXPECT_FAIL=1 case_run external-otherca "" "auth external" \
        "tls_cert_file $OTHER/client.crt" \
        "tls_key_file $OTHER/client.key" || return 1
    is "$RC" 77 "exit 77"
    like "$(cat "$SLOG")" 'client certificate NOT trusted' \
        "the server did not trust it"
    is "$SRC" 1 "no message accepted"
CASE

done_testing
