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
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout
start_real_server

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

# recover: a good send right after a failed AUTH, in the same case. Dovecot
# delays every AUTH from an IP after failures there (its anvil "auth
# penalty": 2, 4, 8, 15 s; at 3 failures in a row Postfix gives up on
# Dovecot after 10 s and says 454), and a success resets it; so no two
# failures follow each other.
recover() {
    send "recover" "user alice" "password alice-pw" "auth plain"
    is "$RC" 0 "a good AUTH right after it works (exit 0)"
}

# ---------------------------------------------------------------- each method
for mech in PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256; do
    lower=$(printf '%s' "$mech" | tr 'A-Z' 'a-z')
    test_case "auth $lower" <<'CASE'
        send "auth $lower" "user alice" "password alice-pw" "auth $lower"
        is "$RC" 0 "exit 0"
        like "$(cat "$ERR")" "^yubin: --> AUTH $mech( |\$)" \
            "-v shows AUTH $mech"
        delivered "$TOK"
CASE
done

test_case 'auth on' <<'CASE'
    send "auth on" "user alice" "password alice-pw" "auth on"
    is "$RC" 0 "exit 0"
    like "$(cat "$ERR")" '^yubin: --> AUTH SCRAM-SHA-256 ' \
        "chooses SCRAM-SHA-256 (the strongest Dovecot offers)"
    delivered "$TOK"
CASE

test_case 'user without an auth line' <<'CASE'
    send "no auth line" "user alice" "password alice-pw"
    like "$(cat "$ERR")" '^yubin: --> AUTH SCRAM-SHA-256 ' \
        "auth on, SCRAM-SHA-256"
CASE

# ---------------------------------------------------------------- UTF-8 user
for mech in SCRAM-SHA-256 SCRAM-SHA-1 PLAIN; do
    lower=$(printf '%s' "$mech" | tr 'A-Z' 'a-z')
    test_case "bob (UTF-8 password) with $mech" '
        send "bob $lower" "user bob" "password $BOB_PW" "auth $lower"
        is "$RC" 0 "exit 0"
        delivered "$TOK"
    '
done
test_case 'bob, UTF-8 password from passwordeval, auth on' <<'CASE'
    send "bob passwordeval" "user bob" \
        "passwordeval printf 'p\\303\\244ssw\\303\\266rd\\n'" "auth on"
    is "$RC" 0 "exit 0"
CASE

test_case 'bob with DIGEST-MD5' <<'CASE'
    send "bob digest-md5" "user bob" "password $BOB_PW" "auth digest-md5"
    is "$RC" 77 "fails, exit 77 (known: ISO 8859-1, RFC 2831)"
    like "$(cat "$ERR")" 'authentication \(DIGEST-MD5\) failed' \
        "the message says authentication failed"
    recover
CASE

# ---------------------------------------------------------------- failures
test_case 'wrong password' <<'CASE'
    send "wrong password" "user alice" "password not-alices" "auth scram-sha-256"
    is "$RC" 77 "exit 77"
    like "$(cat "$ERR")" "^yubin: authentication \\(SCRAM-SHA-256\\) failed for user 'alice': 535 " \
        "the message has the server's 535 text"
    unlike "$(cat "$ERR")" '^yubin: --> MAIL FROM' "no MAIL FROM sent"
    sleep 0.2
    not_delivered "$TOK" 0
    recover
CASE

test_case 'wrong password with PLAIN' '
    send "wrong password, plain" "user alice" "password not-alices" "auth plain"
    is "$RC" 77 "exit 77"
    like "$(cat "$ERR")" "535 5.7.8" "server text"
    recover
'

test_case 'auth gssapi (not offered by Dovecot)' <<'CASE'
    send "gssapi" "user alice" "password alice-pw" "auth gssapi"
    is "$RC" 77 "exit 77"
    is "$(tail -n 1 "$ERR")" "yubin: server does not offer 'GSSAPI' (it offers: PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER)" \
        "clear error listing what the server offers"
    unlike "$(cat "$ERR")" '^yubin: --> (AUTH |MAIL FROM)' \
        "neither AUTH nor MAIL FROM sent"
CASE

# a password given where a bearer token belongs: the real server says no
test_case 'auth xoauth2 with a password' <<'CASE'
    send "xoauth2" "user alice" "password alice-pw" "auth xoauth2"
    is "$RC" 77 "exit 77"
    is "$(tail -n 1 "$ERR")" "yubin: authentication (XOAUTH2) failed for user 'alice': 535 5.7.8 Error: authentication failed: (reason unavailable)" \
        "the server's 535"
    recover
CASE

# PLAIN never over a clear connection: port 10025 offers AUTH without TLS
test_case 'tls off + auth plain' <<'CASE'
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    write_config "$SCRATCH/clear.conf" "host localhost" "port $SMTP_PORT_PLAIN" \
        "tls off" "user alice" "password alice-pw" "auth plain" \
        "from alice@example.test" "timeout 30"
    run_yubin "$SCRATCH/$TOK.msg" -v -C "$SCRATCH/clear.conf" rcpt@example.org
    is "$RC" 77 "refused, exit 77"
    like "$(cat "$ERR")" "unencrypted connection" "the message says why"
    unlike "$(cat "$ERR")" '^yubin: --> (AUTH |MAIL FROM)' \
        "neither AUTH nor MAIL FROM sent"
CASE

done_testing
