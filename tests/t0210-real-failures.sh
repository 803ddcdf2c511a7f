#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0210-real-failures.sh -- failures against the real Postfix + Dovecot test
# server: wrong password (77), certificate for the wrong host name (76),
# expired certificate (76), nothing listening (75, quickly); nothing is
# delivered and no AUTH is sent over a connection whose certificate failed.
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout
start_real_server

plan 12

# not_delivered DESC TOKEN: nothing carrying TOKEN arrived (waits 2 s)
not_delivered() {
    local f
    if f=$(find_delivered "$2" 2); then
        not_ok "$1: nothing delivered"
        diag "delivered: $f"
    else
        ok "$1: nothing delivered"
    fi
}

# no_auth_logged DESC SERVICE OFFSET: Postfix logged the end of a connection
# on SERVICE (syslog_name) after byte OFFSET of its log, without any AUTH
no_auth_logged() {
    local desc=$1 svc=$2 off=$3 lines=""
    for _ in $(seq 50); do
        lines=$(tail -c "+$((off + 1))" "$SMTP_POSTFIX_LOG" |
            grep -E "postfix/$svc/smtpd\[[0-9]+\]: disconnect from")
        [ -n "$lines" ] && break
        sleep 0.1
    done
    if [ -z "$lines" ]; then
        not_ok "$desc: no AUTH reached the server"
        diag "no 'disconnect' line for $svc in $SMTP_POSTFIX_LOG"
    elif printf '%s\n' "$lines" | grep -q ' auth='; then
        not_ok "$desc: no AUTH reached the server"
        diag "$lines"
    else
        ok "$desc: no AUTH reached the server"
    fi
}

log_size() {
    wc -c < "$SMTP_POSTFIX_LOG"
}

# ------------------------------------------------ wrong password
tok=$(new_token)
make_message "$SCRATCH/pw.msg" "$tok"
real_config "$SCRATCH/pw.conf" "$SMTP_PORT_SUBMISSION" \
    "tls on" "tls_starttls on" "auth on" "password not-alice-pw"
run_yubin "$SCRATCH/pw.msg" -C "$SCRATCH/pw.conf" rcpt@example.org
is "$RC" 77 "wrong password: exit 77"
[ "$RC" = 77 ] || diag_file "$ERR" 20
not_delivered "wrong password" "$tok"

# ------------------------------------------------ wrong host name
tok=$(new_token)
make_message "$SCRATCH/wh.msg" "$tok"
real_config "$SCRATCH/wh.conf" "$SMTP_PORT_WRONGHOST" \
    "tls on" "tls_starttls on" "auth on"
off=$(log_size)
run_yubin "$SCRATCH/wh.msg" -C "$SCRATCH/wh.conf" rcpt@example.org
is "$RC" 76 "certificate for another host: exit 76"
like "$(cat "$ERR")" '[Hh]ost ?name|does not match|mismatch|wrong\.example\.test|localhost' \
    "certificate for another host: the message names the host name problem"
not_delivered "certificate for another host" "$tok"
no_auth_logged "certificate for another host" wronghost10588 "$off"

# ------------------------------------------------ expired certificate
tok=$(new_token)
make_message "$SCRATCH/ex.msg" "$tok"
real_config "$SCRATCH/ex.conf" "$SMTP_PORT_EXPIRED" \
    "tls on" "tls_starttls on" "auth on"
off=$(log_size)
run_yubin "$SCRATCH/ex.msg" -C "$SCRATCH/ex.conf" rcpt@example.org
is "$RC" 76 "expired certificate: exit 76"
like "$(cat "$ERR")" '[Ee]xpired' "expired certificate: the message says expired"
not_delivered "expired certificate" "$tok"
no_auth_logged "expired certificate" expired10589 "$off"

# ------------------------------------------------ nothing listening
closed_port
real_config "$SCRATCH/cr.conf" "$CLOSED_PORT" "tls on" "tls_starttls on" \
    "auth on" "host 127.0.0.1"
run_yubin "$SCRATCH/pw.msg" -C "$SCRATCH/cr.conf" rcpt@example.org
is "$RC" 75 "nothing listening on port $CLOSED_PORT: exit 75"
[ "$RC" = 75 ] || diag_file "$ERR" 20
if seconds_below "$SECS" 5; then
    ok "nothing listening: gave up at once (${SECS}s)"
else
    not_ok "nothing listening: gave up at once (took ${SECS}s)"
fi

done_testing
