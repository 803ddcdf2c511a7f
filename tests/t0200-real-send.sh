#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0200-real-send.sh -- deliver through the real Postfix + Dovecot test server
# (tests/server/start.sh): STARTTLS on 587, implicit TLS on 465, AUTH PLAIN and
# automatic mechanism choice, secure defaults; the delivered bytes equal the
# input; a 20 MB message arrives intact with a small peak RSS.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout cmp /usr/bin/time
start_real_server

# send_case PORT CONFIG_LINES...: 3 TAP lines (exit 0, delivered, bytes)
send_case() {
    local port=$1 tok f
    shift
    tok=$(new_token)
    make_message "$SCRATCH/$tok.msg" "$tok"
    real_config "$SCRATCH/$tok.conf" "$port" "$@"
    run_yubin "$SCRATCH/$tok.msg" -C "$SCRATCH/$tok.conf" rcpt@example.org
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || diag_file "$ERR" 30
    if f=$(find_delivered "$tok" 10); then
        ok "delivered"
    else
        not_ok "delivered"
        diag "no message with X-Yubin-Test: $tok in $SMTP_MAILDIR/new"
        not_ok "delivered bytes = input"
        return
    fi
    if delivered_body "$f" "$(head -n 1 "$SCRATCH/$tok.msg")" |
            cmp - "$SCRATCH/$tok.msg" >/dev/null 2>&1; then
        ok "delivered bytes = input"
        rm -f "$f"
    else
        not_ok "delivered bytes = input"
        diag "input: $SCRATCH/$tok.msg, delivered: $f"
        diag "$(delivered_body "$f" "$(head -n 1 "$SCRATCH/$tok.msg")" |
            diff "$SCRATCH/$tok.msg" - | head -n 20)"
    fi
}

test_case '587 STARTTLS, auth plain' 'send_case "$SMTP_PORT_SUBMISSION" \
    "tls on" "tls_starttls on" "auth plain"'
test_case '465 implicit TLS' 'send_case "$SMTP_PORT_SUBMISSIONS" \
    "tls on" "tls_starttls off" "auth on"'
test_case '587 STARTTLS, auth on (automatic mechanism)' \
    'send_case "$SMTP_PORT_SUBMISSION" "tls on" "tls_starttls on" "auth on"'
test_case '587 with the secure defaults (no tls/auth lines)' \
    'send_case "$SMTP_PORT_SUBMISSION"'

# ------------------------------------------------ 20 MB, peak RSS
# The absolute limit counts the shared libraries' resident pages too (GnuTLS,
# libgsasl, GLib): RSS_LIMIT_KIB overrides it.  The second RSS test is the
# one about streaming: the 20 MB send may not need more than 2 MiB over a
# small send of the same kind (made first, in the same case).
RSS_LIMIT_KIB=${RSS_LIMIT_KIB:-8192}
test_case '20 MB message' <<'CASE'
    local tok f small_rc rss_small rss
    tok=$(new_token)
    make_message "$SCRATCH/small.msg" "$tok"
    real_config "$SCRATCH/big.conf" "$SMTP_PORT_SUBMISSION_HI" \
        "tls on" "tls_starttls on" "auth on"
    YUBIN_WRAPPER="/usr/bin/time -f %M -o $SCRATCH/small.rss" \
        run_yubin "$SCRATCH/small.msg" -C "$SCRATCH/big.conf" rcpt@example.org
    small_rc=$RC
    rss_small=$(tail -n 1 "$SCRATCH/small.rss" 2>/dev/null)
    f=$(find_delivered "$tok" 10) && rm -f "$f"

    tok=$(new_token)
    make_message "$SCRATCH/big.msg" "$tok" $((20 * 1024 * 1024))
    test_when_finished 'rm -f "$SCRATCH/big.msg"'
    YUBIN_TIMEOUT=120 YUBIN_WRAPPER="/usr/bin/time -f %M -o $SCRATCH/big.rss" \
        run_yubin "$SCRATCH/big.msg" -C "$SCRATCH/big.conf" rcpt@example.org
    is "$RC" 0 "exit 0 (${SECS}s)"
    [ "$RC" = 0 ] || diag_file "$ERR" 30
    if f=$(find_delivered "$tok" 60); then
        ok "delivered"
        if delivered_body "$f" "$(head -n 1 "$SCRATCH/big.msg")" |
                cmp - "$SCRATCH/big.msg"; then
            ok "delivered bytes = input"
            rm -f "$f"
        else
            not_ok "delivered bytes = input"
            diag "input: $SCRATCH/big.msg, delivered: $f"
        fi
    else
        not_ok "delivered"
        not_ok "delivered bytes = input"
    fi
    rss=$(tail -n 1 "$SCRATCH/big.rss" 2>/dev/null)
    if [ -n "$rss" ] && [ "$rss" -lt "$RSS_LIMIT_KIB" ] 2>/dev/null; then
        ok "peak RSS ${rss} KiB < $RSS_LIMIT_KIB KiB"
    else
        not_ok "peak RSS ${rss:-?} KiB < $RSS_LIMIT_KIB KiB"
    fi
    if [ "$small_rc" = 0 ] && [ -n "$rss" ] && [ -n "$rss_small" ] &&
       [ "$rss" -lt $((rss_small + 2048)) ] 2>/dev/null; then
        ok "peak RSS ${rss} KiB < small message's ${rss_small} KiB + 2 MiB"
    else
        not_ok "peak RSS ${rss:-?} KiB < small message's ${rss_small:-?} KiB + 2 MiB"
        [ "$small_rc" = 0 ] || diag "the small message failed: exit $small_rc"
    fi
CASE

done_testing
