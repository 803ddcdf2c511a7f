#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0400-auth-mechanisms.sh -- every SASL mechanism Dovecot offers, forced in
# turn with "auth METHOD", through the yubin binary and the real Postfix +
# Dovecot server (587 STARTTLS): delivered, exit 0, and the -v trace shows
# "AUTH METHOD". "auth on" chooses SCRAM-SHA-256. The UTF-8 user bob
# (pässwörd) with SCRAM and PLAIN; DIGEST-MD5 with his password fails (a
# known limit: libgsasl sends it in ISO 8859-1, as RFC 2831 says, Dovecot
# hashes the UTF-8 bytes). A wrong password, a method the server lacks, and
# PLAIN over a clear connection all end with 77 before any MAIL FROM.
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout
start_real_server

plan 49

BOB_PW=$(printf 'p\303\244ssw\303\266rd')

# send DESC CONFIG_LINES...: run yubin -v with a config for the real
# server's 587 (user/password from the lines); sets TOK
send() {
    local desc=$1
    shift
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    write_config "$SCRATCH/$TOK.conf" "host localhost" \
        "port $SMTP_PORT_SUBMISSION" "tls_trust_file $SMTP_CA" \
        "from alice@example.test" "timeout 30" "$@"
    run_yubin "$SCRATCH/$TOK.msg" -v -C "$SCRATCH/$TOK.conf" \
        rcpt@example.org
    [ "$RC" = 0 ] || { diag "$desc: exit $RC"; diag_file "$ERR" 40; }
}

# delivered DESC: the message of the last send() arrived
delivered() {
    if find_delivered "$TOK" 10 > /dev/null; then
        ok "$1: delivered"
    else
        not_ok "$1: delivered"
    fi
}

# recover DESC: a good send right after a failed AUTH. Dovecot delays every
# AUTH from an IP after failures there (its anvil "auth penalty": 2, 4, 8,
# 15 s; at 3 failures in a row Postfix gives up on Dovecot after 10 s and
# says 454), and a success resets it; so no two failures follow each other.
recover() {
    send "$1" "user alice" "password alice-pw" "auth plain"
    is "$RC" 0 "$1: a good AUTH right after it works (exit 0)"
}

# ---------------------------------------------------------------- each method
for mech in PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256; do
    lower=$(printf '%s' "$mech" | tr 'A-Z' 'a-z')
    send "auth $lower" "user alice" "password alice-pw" "auth $lower"
    is "$RC" 0 "auth $lower: exit 0"
    like "$(cat "$ERR")" "^yubin: --> AUTH $mech( |\$)" \
        "auth $lower: -v shows AUTH $mech"
    delivered "auth $lower"
done

send "auth on" "user alice" "password alice-pw" "auth on"
is "$RC" 0 "auth on: exit 0"
like "$(cat "$ERR")" '^yubin: --> AUTH SCRAM-SHA-256 ' \
    "auth on: chooses SCRAM-SHA-256 (the strongest Dovecot offers)"
delivered "auth on"

send "no auth line" "user alice" "password alice-pw"
like "$(cat "$ERR")" '^yubin: --> AUTH SCRAM-SHA-256 ' \
    "user without an auth line: auth on, SCRAM-SHA-256"

# ---------------------------------------------------------------- UTF-8 user
for mech in SCRAM-SHA-256 SCRAM-SHA-1 PLAIN; do
    lower=$(printf '%s' "$mech" | tr 'A-Z' 'a-z')
    send "bob $lower" "user bob" "password $BOB_PW" "auth $lower"
    is "$RC" 0 "bob (UTF-8 password) with $mech: exit 0"
    delivered "bob with $mech"
done
send "bob passwordeval" "user bob" \
    "passwordeval printf 'p\\303\\244ssw\\303\\266rd\\n'" "auth on"
is "$RC" 0 "bob, UTF-8 password from passwordeval, auth on: exit 0"

send "bob digest-md5" "user bob" "password $BOB_PW" "auth digest-md5"
is "$RC" 77 \
    "bob with DIGEST-MD5: fails, exit 77 (known: ISO 8859-1, RFC 2831)"
like "$(cat "$ERR")" 'authentication \(DIGEST-MD5\) failed' \
    "bob with DIGEST-MD5: the message says authentication failed"
recover "bob with DIGEST-MD5"

# ---------------------------------------------------------------- failures
send "wrong password" "user alice" "password not-alices" "auth scram-sha-256"
is "$RC" 77 "wrong password: exit 77"
like "$(cat "$ERR")" "^yubin: authentication \\(SCRAM-SHA-256\\) failed for user 'alice': 535 " \
    "wrong password: the message has the server's 535 text"
unlike "$(cat "$ERR")" '^yubin: --> MAIL FROM' \
    "wrong password: no MAIL FROM sent"
sleep 0.2
if find_delivered "$TOK" 0 > /dev/null; then
    not_ok "wrong password: nothing delivered"
else
    ok "wrong password: nothing delivered"
fi
recover "wrong password"

send "wrong password, plain" "user alice" "password not-alices" "auth plain"
is "$RC" 77 "wrong password with PLAIN: exit 77"
like "$(cat "$ERR")" "535 5.7.8" "wrong password with PLAIN: server text"
recover "wrong password with PLAIN"

send "gssapi" "user alice" "password alice-pw" "auth gssapi"
is "$RC" 77 "auth gssapi (not offered by Dovecot): exit 77"
is "$(tail -n 1 "$ERR")" "yubin: server does not offer 'GSSAPI' (it offers: PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER)" \
    "auth gssapi: clear error listing what the server offers"
unlike "$(cat "$ERR")" '^yubin: --> (AUTH |MAIL FROM)' \
    "auth gssapi: neither AUTH nor MAIL FROM sent"

# a password given where a bearer token belongs: the real server says no
send "xoauth2" "user alice" "password alice-pw" "auth xoauth2"
is "$RC" 77 "auth xoauth2 with a password: exit 77"
is "$(tail -n 1 "$ERR")" "yubin: authentication (XOAUTH2) failed for user 'alice': 535 5.7.8 Error: authentication failed: (reason unavailable)" \
    "auth xoauth2 with a password: the server's 535"
recover "xoauth2 with a password"

# PLAIN never over a clear connection: port 10025 offers AUTH without TLS
TOK=$(new_token)
make_message "$SCRATCH/$TOK.msg" "$TOK"
write_config "$SCRATCH/clear.conf" "host localhost" "port $SMTP_PORT_PLAIN" \
    "tls off" "user alice" "password alice-pw" "auth plain" \
    "from alice@example.test" "timeout 30"
run_yubin "$SCRATCH/$TOK.msg" -v -C "$SCRATCH/clear.conf" rcpt@example.org
is "$RC" 77 "tls off + auth plain: refused, exit 77"
like "$(cat "$ERR")" "unencrypted connection" \
    "tls off + auth plain: the message says why"
unlike "$(cat "$ERR")" '^yubin: --> (AUTH |MAIL FROM)' \
    "tls off + auth plain: neither AUTH nor MAIL FROM sent"

done_testing
