#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0225-revocation.sh -- certificate revocation (issue 13): tls_crl_file
# against the real Postfix on 587, with CRLs made here by certtool from the
# test CA: one revoking the certificate Postfix serves (76, the message
# names the revocation and the file, nothing delivered, no AUTH sent), one
# revoking another serial (delivered); a missing file and a file without a
# CRL are configuration errors (78, nothing queued). OCSP stapling against
# openssl s_server on a free loopback port, stapling a response made here
# by `openssl ocsp`: "revoked" refused (76), one signed by a responder the
# CA never authorised refused (76), "good" accepted.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_certtool
need_cmd openssl
start_real_server

PKI=$TESTENV_DIR/pki
if [ ! -r "$PKI/ca.key" ] || [ ! -r "$PKI/server.crt" ]; then
    bail_out "the test CA key ($PKI/ca.key) is not readable"
fi

# crl NAME CERT: a CRL signed by the test CA that revokes CERT
crl() {
    printf 'crl_next_update = 30\ncrl_number = 1\n' > "$TEST_SCRATCH/crl.tmpl"
    certtool --generate-crl --load-ca-privkey "$PKI/ca.key" \
        --load-ca-certificate "$PKI/ca.crt" --load-certificate "$2" \
        --template "$TEST_SCRATCH/crl.tmpl" --outfile "$TEST_SCRATCH/$1" \
        > "$TEST_SCRATCH/certtool.log" 2>&1 ||
        { diag_file "$TEST_SCRATCH/certtool.log"; bail_out "certtool failed"; }
}
crl served.crl "$PKI/server.crt"
crl other.crl "$PKI/expired.crt"

# ocsp NAME V|R [SIGNER]: an OCSP response for server.crt, signed by the
# test CA (or by SIGNER.crt/SIGNER.key in $TEST_SCRATCH), saying good (V)
# or revoked (R)
ocsp() {
    local serial now year idx=$TEST_SCRATCH/$1.index
    local rcrt=$PKI/ca.crt rkey=$PKI/ca.key
    if [ -n "${3:-}" ]; then
        rcrt=$TEST_SCRATCH/$3.crt rkey=$TEST_SCRATCH/$3.key
    fi
    serial=$(openssl x509 -in "$PKI/server.crt" -noout -serial) || return 1
    serial=${serial#serial=}
    now=$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)
    year=$(date -u -d '+1 year' +%y%m%d%H%M%SZ)
    if [ "$2" = R ]; then
        printf 'R\t%s\t%s\t%s\tunknown\t/CN=localhost\n' "$year" "$now" \
            "$serial" > "$idx"
    else
        printf 'V\t%s\t\t%s\tunknown\t/CN=localhost\n' "$year" "$serial" \
            > "$idx"
    fi
    if ! openssl ocsp -issuer "$PKI/ca.crt" -cert "$PKI/server.crt" \
            -no_nonce -reqout "$TEST_SCRATCH/$1.req" \
            > "$TEST_SCRATCH/ocsp.log" 2>&1 ||
        ! openssl ocsp -index "$idx" -rsigner "$rcrt" \
            -rkey "$rkey" -CA "$PKI/ca.crt" \
            -reqin "$TEST_SCRATCH/$1.req" -ndays 1 \
            -respout "$TEST_SCRATCH/$1.der" >> "$TEST_SCRATCH/ocsp.log" 2>&1
    then
        diag_file "$TEST_SCRATCH/ocsp.log"
        bail_out "openssl ocsp failed"
    fi
}
ocsp revoked R
ocsp good V
# a responder the CA never authorised
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=rogue -days 2 \
    -keyout "$TEST_SCRATCH/rogue.key" -out "$TEST_SCRATCH/rogue.crt" \
    > "$TEST_SCRATCH/rogue.log" 2>&1 ||
    { diag_file "$TEST_SCRATCH/rogue.log"; bail_out "openssl req failed"; }
ocsp rogue V rogue

GNUTLS_REVOKED='(The certificate is NOT trusted. The certificate chain is revoked.)'

# crl_send CRL [LINE...]: a send to 587 with tls_crl_file CRL
crl_send() {
    local crl=$1
    shift
    TOKEN=$(new_token)
    make_message "$SCRATCH/msg" "$TOKEN"
    real_config "$SCRATCH/conf" "$SMTP_PORT_SUBMISSION" "tls_crl_file $crl" \
        "$@"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/conf" rcpt@example.org
}

test_case 'a CRL revoking the served certificate: refused' '
    crl_send "$TEST_SCRATCH/served.crl"
    is "$RC" 76 "exit 76"
    is "$(cat "$ERR")" "yubin: during STARTTLS: TLS certificate of \
'"'"'localhost'"'"' has been revoked (tls_crl_file '"'"'$TEST_SCRATCH/served.crl'"'"' \
lists it) $GNUTLS_REVOKED" "the message names the revocation and the file"
    not_delivered "$TOKEN"
    run_yubin "$SCRATCH/msg" -v -C "$SCRATCH/conf" rcpt@example.org
    is "$(grep -- "^yubin: --> " "$ERR" | tail -1)" "yubin: --> STARTTLS" \
        "-v: STARTTLS was the last command, no AUTH sent"
'

test_case 'a CRL revoking another serial: delivered' '
    crl_send "$TEST_SCRATCH/other.crl"
    is "$RC" 0 "exit 0"
    is "$(cat "$ERR")" "" "nothing on stderr"
    delivered "$TOKEN"
'

test_case 'a missing CRL file: configuration error, nothing queued' '
    crl_send "$SCRATCH/nope.crl" "queue on-failure"
    is "$RC" 78 "exit 78"
    is "$(cat "$ERR")" "yubin: during STARTTLS: cannot load tls_crl_file \
'"'"'$SCRATCH/nope.crl'"'"': Error while reading file." "the message names the file"
    is "$(find "$QUEUE_DIR" -type f -path "*/msg/*" 2> /dev/null | wc -l)" 0 \
        "nothing queued"
    not_delivered "$TOKEN"
'

test_case 'a CRL file without a CRL: configuration error' '
    echo "not a CRL" > "$SCRATCH/text.crl"
    crl_send "$SCRATCH/text.crl"
    is "$RC" 78 "exit 78"
    is "$(cat "$ERR")" "yubin: during STARTTLS: tls_crl_file \
'"'"'$SCRATCH/text.crl'"'"' holds no PEM certificate revocation list" "the message"
    not_delivered "$TOKEN"
'

# stapler NAME: openssl s_server on a free loopback port (-> $BG_PORT)
# with the server certificate, stapling $TEST_SCRATCH/NAME.der
stapler() {
    local port
    port=$(free_port) || return 1
    start_bg_port "stapler-$1" "$port" openssl s_server -quiet \
        -accept "127.0.0.1:$port" -cert "$PKI/server.crt" \
        -key "$PKI/server.key" -status_file "$TEST_SCRATCH/$1.der"
}

# staple_send: implicit TLS to the stapler; it never greets
staple_send() {
    make_message "$SCRATCH/msg" "$(new_token)"
    write_config "$SCRATCH/conf" "host localhost" "port $BG_PORT" \
        "tls_starttls off" "tls_trust_file $SMTP_CA" "timeout 3" \
        "from alice@example.test"
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/conf" rcpt@example.org
}

test_case 'a stapled OCSP response saying revoked: refused' '
    stapler revoked || return 1
    staple_send
    is "$RC" 76 "exit 76"
    is "$(cat "$ERR")" "yubin: waiting for the server'"'"'s greeting: TLS \
certificate of '"'"'localhost'"'"' has been revoked (the server'"'"'s stapled OCSP \
response says so) $GNUTLS_REVOKED" "the message names the OCSP response"
'

test_case 'a stapled OCSP response signed by someone else: refused' '
    stapler rogue || return 1
    staple_send
    is "$RC" 76 "exit 76"
    is "$(cat "$ERR")" "yubin: waiting for the server'"'"'s greeting: TLS \
certificate of '"'"'localhost'"'"' is not trusted: the server stapled an invalid \
OCSP response (The certificate is NOT trusted. The received OCSP status \
response is invalid.)" "the message says the response is invalid"
'

test_case 'a stapled OCSP response saying good: accepted' '
    stapler good || return 1
    staple_send
    is "$RC" 75 "exit 75 (TLS accepted, then no greeting)"
    is "$(cat "$ERR")" "yubin: waiting for the server'"'"'s greeting: timed \
out after 3 s waiting for the server (reading)" "timed out after the handshake"
'

done_testing
