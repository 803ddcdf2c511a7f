#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0210-real-failures.sh -- failures against the real Postfix + Dovecot test
# server: wrong password (77), certificate for the wrong host name (76),
# expired certificate (76), nothing listening (75, quickly); nothing is
# delivered and no AUTH is sent over a connection whose certificate failed.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout
start_real_server

# no_auth_logged SERVICE OFFSET: Postfix logged the end of a connection on
# SERVICE (syslog_name) after byte OFFSET of its log, without any AUTH
no_auth_logged() {
    local svc=$1 off=$2 lines=""
    for _ in $(seq 50); do
        lines=$(tail -c "+$((off + 1))" "$SMTP_POSTFIX_LOG" |
            grep -E "postfix/$svc/smtpd\[[0-9]+\]: disconnect from")
        [ -n "$lines" ] && break
        sleep 0.1
    done
    if [ -z "$lines" ]; then
        not_ok "no AUTH reached the server"
        diag "no 'disconnect' line for $svc in $SMTP_POSTFIX_LOG"
    elif printf '%s\n' "$lines" | grep -q ' auth='; then
        not_ok "no AUTH reached the server"
        diag "$lines"
    else
        ok "no AUTH reached the server"
    fi
}

log_size() {
    wc -c < "$SMTP_POSTFIX_LOG"
}

# ------------------------------------------------ wrong password
test_case 'wrong password' '
    local tok
    tok=$(new_token)
    make_message "$SCRATCH/pw.msg" "$tok"
    real_config "$SCRATCH/pw.conf" "$SMTP_PORT_SUBMISSION" \
        "tls on" "tls_starttls on" "auth on" "password not-alice-pw"
    run_yubin "$SCRATCH/pw.msg" -C "$SCRATCH/pw.conf" rcpt@example.org
    is "$RC" 77 "exit 77"
    [ "$RC" = 77 ] || diag_file "$ERR" 20
    not_delivered "$tok"
'

# cert_case PORT SERVICE ERE DESC: a send to PORT (SERVICE in Postfix's
# log), whose certificate is refused: exit 76, the message matches ERE,
# nothing delivered, no AUTH
cert_case() {
    local port=$1 svc=$2 re=$3 desc=$4 tok off
    tok=$(new_token)
    make_message "$SCRATCH/msg" "$tok"
    real_config "$SCRATCH/conf" "$port" "tls on" "tls_starttls on" "auth on"
    off=$(log_size)
    run_yubin "$SCRATCH/msg" -C "$SCRATCH/conf" rcpt@example.org
    is "$RC" 76 "exit 76"
    like "$(cat "$ERR")" "$re" "$desc"
    not_delivered "$tok"
    no_auth_logged "$svc" "$off"
}

# ------------------------------------------------ wrong host name
test_case 'certificate for another host' <<'CASE'
    cert_case "$SMTP_PORT_WRONGHOST" wronghost10588 \
        '[Hh]ost ?name|does not match|mismatch|wrong\.example\.test|localhost' \
        "the message names the host name problem"
CASE

# ------------------------------------------------ expired certificate
test_case 'expired certificate' '
    cert_case "$SMTP_PORT_EXPIRED" expired10589 "[Ee]xpired" \
        "the message says expired"
'


# ------------------------------------------------ nothing listening
test_case 'nothing listening' '
    closed_port || return 1
    make_message "$SCRATCH/cr.msg" "$(new_token)"
    real_config "$SCRATCH/cr.conf" "$CLOSED_PORT" "tls on" "tls_starttls on" \
        "auth on" "host 127.0.0.1"
    run_yubin "$SCRATCH/cr.msg" -C "$SCRATCH/cr.conf" rcpt@example.org
    is "$RC" 75 "on port $CLOSED_PORT: exit 75"
    [ "$RC" = 75 ] || diag_file "$ERR" 20
    check "gave up at once (${SECS}s)" seconds_below "$SECS" 5
'

done_testing
