#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0310-extensions.sh -- the SMTP service extensions, against
# tests/fake/fake_smtpd.py (aiosmtpd) with a chosen EHLO advertisement:
# PIPELINING (commands in one go only when offered), SIZE (declared, and a
# message over the limit refused before MAIL), 8BITMIME (BODY=8BITMIME, and an
# 8-bit message refused by a server without it), SMTPUTF8 (UTF-8 addresses
# only when offered, else IDN domains as A-labels), CHUNKING (BDAT, no
# dot-stuffing), DSN (RET/ENVID/NOTIFY/ORCPT only when offered; else exit 69
# as msmtp, or sent without them with dsn_unsupported send) and
# ENHANCEDSTATUSCODES (the status code quoted).
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd

# the fake server's default advertisement, minus whatever a case leaves out
ALL="PIPELINING,8BITMIME,SIZE,SMTPUTF8,ENHANCEDSTATUSCODES"

# verbs DIR: the client's command verbs, space-separated ("EHLO MAIL ... QUIT")
verbs() {
    client_lines "$1" | awk '{ printf "%s%s", sep, $1; sep = " " } END { print "" }'
}

# conn DIR: the first connection's JSON file
conn() {
    printf '%s\n' "$1/save/conn-0001.json"
}

# accepted DIR: how many messages the fake server answered 2xx to
accepted() {
    fake_accepted "$1/save"
}

# show: diagnostics for the last case
show() {
    local f
    diag "yubin exit $RC in ${SECS:-?}s"
    diag_file "$ERR" 30
    for f in "$CASE_DIR"/save/*.json; do
        [ -e "$f" ] && diag_file "$f" 80
    done
}

# ------------------------------------------------ messages
# msg: From/Date/Message-ID present (so yubin adds nothing and the stored
# bytes must equal the input), 8-bit text, lines that need dot-stuffing
TOKEN=$(new_token)
MSG=$SCRATCH/msg
make_message "$MSG" "$TOKEN"
sed 's/$/\r/' "$MSG" > "$MSG.crlf"
# ascii: the same fields, ASCII only, no line starting with "." (aiosmtpd
# counts the stuffed bytes against its SIZE limit, yubin's SIZE does not)
{
    printf 'From: Alice <alice@example.test>\n'
    printf 'To: rcpt@example.org\n'
    printf 'Date: Mon, 02 Jan 2023 03:04:05 +0000\n'
    printf 'Message-ID: <ascii-%s@example.test>\n' "$TOKEN"
    printf 'Subject: yubin extensions test %s\n' "$TOKEN"
    printf '\n'
    for i in $(seq 20); do
        printf 'line %02d of an ASCII body, long enough to matter\n' "$i"
    done
} > "$SCRATCH/ascii"
ASCII=$SCRATCH/ascii
sed 's/$/\r/' "$ASCII" > "$ASCII.crlf"
ASCII_SIZE=$(wc -c < "$ASCII.crlf")
# dots: lines that are a lone ".", "..", ".x": sent with -i and BDAT, the
# server must get exactly these bytes (no dot-stuffing, no end of input)
DOTS=$SCRATCH/dots
{
    cat "$MSG"
    printf '.\n..\n.x\n. \nlast line\n'
} > "$DOTS"
sed 's/$/\r/' "$DOTS" > "$DOTS.crlf"
# nofrom: no From: (yubin adds one); utf8subj: a UTF-8 Subject
NOFROM=$SCRATCH/nofrom
printf 'Subject: no from %s\n\nbody\n' "$TOKEN" > "$NOFROM"
UTF8SUBJ=$SCRATCH/utf8subj.msg
printf 'Subject: K\303\244se %s\n\nbody\n' "$TOKEN" > "$UTF8SUBJ"


# ------------------------------------------------ PIPELINING
# advertised: MAIL, both RCPTs and DATA in one write; the server read MAIL
# with the three other lines already waiting
test_case 'PIPELINING' <<'CASE'
    plain_case pipe "$MSG" -- a@example.org b@example.org || return 1
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || show
    c=$(conn "$CASE_DIR")
    is "$(jget "$c" 'd["pipelining_violation"]')" false "no pipelining violation"
    is "$(verbs "$CASE_DIR")" "EHLO MAIL RCPT RCPT DATA QUIT" "command order"
    is "$(jget "$c" '[p for p in d["pipelined"] if p[0] == "MAIL"]')" '[["MAIL", 3]]' \
        "RCPT, RCPT and DATA had arrived when MAIL was read (one go)"
    check "stored bytes = input in CRLF form" \
        cmp -s "$MSG.crlf" "$CASE_DIR/save/0001.eml"
CASE

# not advertised: one command at a time (fake_smtpd.py notes a client that
# sends before it has read the reply)
test_case 'no PIPELINING' <<'CASE'
    plain_case nopipe "$MSG" --advertise 8BITMIME,SIZE,SMTPUTF8,ENHANCEDSTATUSCODES \
        -- a@example.org b@example.org || return 1
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || show
    c=$(conn "$CASE_DIR")
    is "$(jget "$c" 'd["pipelining_violation"]')" false "no pipelining violation"
    is "$(jget "$c" 'd["pipelined"]')" '[]' "no command sent ahead of a reply"
    is "$(verbs "$CASE_DIR")" "EHLO MAIL RCPT RCPT DATA QUIT" "command order"
    is "$(accepted "$CASE_DIR")" 1 "message accepted"
CASE

# the detector itself: a client that does pipeline is caught
test_case 'fake_smtpd.py detects a client that pipelines without PIPELINING' <<'CASE'
    mkdir -p "$SCRATCH/detector"
    plain_fake detector --advertise 8BITMIME,SIZE || return 1
    "$PYTHON" - "$BG_PORT" <<'EOF' > "$SCRATCH/detector/client.log" 2>&1
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.org>\r\nQUIT\r\n")
while f.readline():
    pass
EOF
    stop_bg "$FAKE_PID"
    is "$(jget "$(conn "$SCRATCH/detector")" 'd["pipelining_violation"]')" true \
        "pipelining_violation"
CASE

# ------------------------------------------------ SIZE
test_case 'SIZE' <<'CASE'
    plain_case size "$ASCII" -- a@example.org || return 1
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || show
    is "$(jget "$CASE_DIR/save/0001.json" '" ".join(d["mail_options"])')" "SIZE=$ASCII_SIZE" \
        "SIZE=$ASCII_SIZE (the message in CRLF form) on MAIL, nothing else for ASCII"
    check "stored bytes = input in CRLF form" \
        cmp -s "$ASCII.crlf" "$CASE_DIR/save/0001.eml"
CASE

test_case 'SIZE of a message with dot-stuffed lines' <<'CASE'
    SIZE_DOTS=$(wc -c < "$MSG.crlf")
    plain_case size-dots "$MSG" -- a@example.org || return 1
    like "$(client_lines "$CASE_DIR" | grep '^MAIL')" " SIZE=$SIZE_DOTS( |\$)" \
        "SIZE=$SIZE_DOTS (unstuffed size)"
CASE

test_case 'SIZE limit = message size' <<'CASE'
    plain_case size-equal "$ASCII" --size "$ASCII_SIZE" -- a@example.org ||
        return 1
    is "$RC" 0 "sent (exit 0)"
    [ "$RC" = 0 ] || show
CASE

test_case 'SIZE limit 1 byte under the message size' <<'CASE'
    plain_case size-over "$ASCII" --size $((ASCII_SIZE - 1)) -- a@example.org ||
        return 1
    is "$RC" 69 "exit 69"
    like "$(cat "$ERR")" "limit of $((ASCII_SIZE - 1)) bytes" \
        "the message names the limit"
    is "$(verbs "$CASE_DIR")" "EHLO QUIT" "nothing sent after EHLO (no MAIL)"
    [ "$(verbs "$CASE_DIR")" = "EHLO QUIT" ] || show
CASE

# ------------------------------------------------ 8BITMIME
test_case '8BITMIME' <<'CASE'
    plain_case 8bit "$MSG" -- a@example.org || return 1
    is "$RC" 0 "8-bit body, exit 0"
    like "$(client_lines "$CASE_DIR" | grep '^MAIL')" ' BODY=8BITMIME( |$)' \
        "MAIL ... BODY=8BITMIME"
    check "stored bytes = input in CRLF form" \
        cmp -s "$MSG.crlf" "$CASE_DIR/save/0001.eml"
CASE

test_case 'no 8BITMIME: an 8-bit body' <<'CASE'
    plain_case no8bit "$MSG" --advertise PIPELINING,SIZE,SMTPUTF8,ENHANCEDSTATUSCODES \
        -- a@example.org || return 1
    is "$RC" 65 "refused, exit 65"
    like "$(cat "$ERR")" '8-bit.*8BITMIME' "the message says why"
    is "$(verbs "$CASE_DIR")" "EHLO QUIT" "no MAIL sent"
CASE

test_case 'no 8BITMIME: an ASCII message' <<'CASE'
    plain_case no8bit-ascii "$ASCII" --advertise PIPELINING,SIZE,ENHANCEDSTATUSCODES \
        -- a@example.org || return 1
    is "$RC" 0 "sent (exit 0)"
    is "$(client_lines "$CASE_DIR" | grep '^MAIL')" \
        "MAIL FROM:<alice@example.test> SIZE=$ASCII_SIZE" "no BODY= parameter"
CASE

# ------------------------------------------------ SMTPUTF8
test_case 'SMTPUTF8: a UTF-8 recipient' <<'CASE'
    plain_case utf8 "$ASCII" -- 'jörg@exämple.org' || return 1
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || show
    lines=$(client_lines "$CASE_DIR")
    like "$lines" '^MAIL FROM:<alice@example\.test>.* SMTPUTF8( |$)' "MAIL ... SMTPUTF8"
    like "$lines" '^RCPT TO:<jörg@exämple\.org>$' "RCPT TO:<jörg@exämple.org> (UTF-8 as is)"
    is "$(jget "$CASE_DIR/save/0001.json" 'd["rcpt_tos"]')" '["jörg@exämple.org"]' \
        "the server got the UTF-8 recipient"
CASE

test_case 'SMTPUTF8 offered, ASCII envelope' <<'CASE'
    plain_case utf8-ascii "$ASCII" -- a@example.org || return 1
    is "$(client_lines "$CASE_DIR" | grep '^MAIL')" \
        "MAIL FROM:<alice@example.test> SIZE=$ASCII_SIZE" \
        "no SMTPUTF8 parameter"
CASE

NO_UTF8=PIPELINING,8BITMIME,SIZE,ENHANCEDSTATUSCODES
test_case 'no SMTPUTF8: a non-ASCII local part' <<'CASE'
    plain_case noutf8-local "$ASCII" --advertise "$NO_UTF8" -- 'jörg@exämple.org' ||
        return 1
    is "$RC" 65 "refused, exit 65"
    like "$(cat "$ERR")" "jörg@exämple\.org.*SMTPUTF8" \
        "the message names the address and SMTPUTF8"
    is "$(verbs "$CASE_DIR")" "EHLO QUIT" "no MAIL sent"
CASE

test_case 'no SMTPUTF8: an IDN domain' <<'CASE'
    plain_case noutf8-idn "$ASCII" --advertise "$NO_UTF8" -- 'joerg@exämple.org' ||
        return 1
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || show
    lines=$(client_lines "$CASE_DIR")
    like "$lines" '^RCPT TO:<joerg@xn--exmple-cua\.org>$' \
        "RCPT TO:<joerg@xn--exmple-cua.org> (A-label)"
    is "$(printf '%s\n' "$lines" | grep '^MAIL')" \
        "MAIL FROM:<alice@example.test> SIZE=$ASCII_SIZE" "no SMTPUTF8 parameter"
    is "$(accepted "$CASE_DIR")" 1 "message accepted"
CASE

# ------------------------------------------------ CHUNKING
test_case 'CHUNKING' <<'CASE'
    plain_case chunking "$DOTS" \
        --advertise PIPELINING,8BITMIME,SIZE,SMTPUTF8,ENHANCEDSTATUSCODES,CHUNKING \
        -- -i a@example.org || return 1
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || show
    v=$(verbs "$CASE_DIR")
    like "$v" '^EHLO MAIL RCPT (BDAT )+QUIT$' "BDAT used, no DATA command"
    like "$(client_lines "$CASE_DIR" | grep '^BDAT' | tail -n 1)" \
        "^BDAT [0-9]+ LAST\$" "the last BDAT says LAST"
    if cmp -s "$DOTS.crlf" "$CASE_DIR/save/0001.eml"; then
        ok "stored bytes = input in CRLF form (no dot-stuffing)"
    else
        not_ok "stored bytes = input in CRLF form (no dot-stuffing)"
        diag "$(cmp "$DOTS.crlf" "$CASE_DIR/save/0001.eml" 2>&1)"
    fi
    is "$(client_lines "$CASE_DIR" | awk '$1 == "BDAT" { n += $2 } END { print n + 0 }')" \
        "$(wc -c < "$DOTS.crlf")" "the BDAT sizes add up to the message size"
CASE

# the same message without CHUNKING: DATA, and the lone dots survive stuffing
test_case 'no CHUNKING' <<'CASE'
    plain_case nochunking "$DOTS" -- -i a@example.org || return 1
    is "$(verbs "$CASE_DIR")" "EHLO MAIL RCPT DATA QUIT" "DATA used"
    check "stored bytes = input in CRLF form (dot-stuffed and unstuffed)" \
        cmp -s "$DOTS.crlf" "$CASE_DIR/save/0001.eml"
CASE

# ------------------------------------------------ DSN
# shellcheck disable=SC2054
DSN_ARGS=(-N failure,delay -R hdrs -V id123 a@example.org 'Bob <b+x@example.org>')
test_case 'DSN' <<'CASE'
    plain_case dsn "$ASCII" --advertise "$ALL,DSN" -- "${DSN_ARGS[@]}" || return 1
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || show
    lines=$(client_lines "$CASE_DIR")
    like "$lines" '^MAIL FROM:<alice@example\.test>.* RET=HDRS( |$)' "MAIL ... RET=HDRS"
    like "$lines" '^MAIL FROM:<alice@example\.test>.* ENVID=id123( |$)' "MAIL ... ENVID=id123"
    like "$lines" '^RCPT TO:<a@example\.org> .*NOTIFY=FAILURE,DELAY( |$)' \
        "RCPT ... NOTIFY=FAILURE,DELAY"
    like "$lines" '^RCPT TO:<a@example\.org> .*ORCPT=rfc822;a@example\.org( |$)' \
        "RCPT ... ORCPT=rfc822;a@example.org"
    like "$lines" '^RCPT TO:<b\+x@example\.org> .*ORCPT=rfc822;b\+2Bx@example\.org( |$)' \
        "ORCPT is xtext ('+' as +2B)"
    is "$(printf '%s\n' "$lines" | grep -c '^RCPT .*NOTIFY=FAILURE,DELAY')" 2 \
        "NOTIFY on every RCPT"
CASE

# a server without DSN: msmtp exits 69 ("the server does not support DSN");
# so does yubin, unless dsn_unsupported send: then without them, and a warning
test_case 'no DSN: exit 69 (msmtp), nothing sent' <<'CASE'
    plain_case nodsn "$ASCII" -- "${DSN_ARGS[@]}" || return 1
    is "$RC" 69 "exit 69"
    is "$(cat "$ERR")" "yubin: the server does not support DSN, which the \
message asks for (NOTIFY=FAILURE,DELAY RET=HDRS ENVID); set 'dsn_unsupported \
send' to send it without" "stderr says why and what to set"
    is "$(client_lines "$CASE_DIR" | grep -cE '^(MAIL|RCPT|DATA)')" 0 \
        "no MAIL, RCPT or DATA"
    is "$(accepted "$CASE_DIR")" 0 "nothing accepted"
CASE

test_case 'no DSN, dsn_unsupported send: sent without, a warning' <<'CASE'
    PLAIN_CONFIG=("dsn_unsupported send")
    plain_case nodsn-send "$ASCII" -- "${DSN_ARGS[@]}" || return 1
    is "$RC" 0 "exit 0"
    is "$(cat "$ERR")" "yubin: warning: the server does not support DSN: \
the message goes without what it asks for (NOTIFY=FAILURE,DELAY RET=HDRS \
ENVID)" "a warning on stderr"
    is "$(client_lines "$CASE_DIR" | grep -E '^(MAIL|RCPT)')" \
        "MAIL FROM:<alice@example.test> SIZE=$ASCII_SIZE
RCPT TO:<a@example.org>
RCPT TO:<b+x@example.org>" "no RET, ENVID, NOTIFY or ORCPT parameter"
    is "$(accepted "$CASE_DIR")" 1 "message accepted"
CASE

test_case 'DSN offered, dsn_unsupported send: the parameters go' <<'CASE'
    PLAIN_CONFIG=("dsn_unsupported send")
    plain_case dsn-send "$ASCII" --advertise "$ALL,DSN" -- "${DSN_ARGS[@]}" ||
        return 1
    is "$RC" 0 "exit 0"
    is "$(cat "$ERR")" "" "no warning"
    like "$(client_lines "$CASE_DIR")" \
        '^RCPT TO:<a@example\.org> NOTIFY=FAILURE,DELAY ORCPT=' \
        "RCPT ... NOTIFY=FAILURE,DELAY ORCPT=..."
CASE

# ------------------------------------------------ ENHANCEDSTATUSCODES
test_case 'ENHANCEDSTATUSCODES' <<'CASE'
    plain_case esc "$ASCII" \
        --fault 'RCPT=550 5.1.1 <a@example.org>: Recipient address rejected: no such user' \
        -- a@example.org || return 1
    is "$RC" 67 "550 5.1.1 to RCPT, exit 67"
    like "$(cat "$ERR")" '550 5\.1\.1 <a@example\.org>: Recipient address rejected' \
        "stderr quotes '550 5.1.1 ...'"
    is "$(accepted "$CASE_DIR")" 0 "nothing accepted"
CASE

# ------------------------------------------------ UTF-8 in header fields
# A From: that yubin adds for an IDN sender is 8-bit too: the message needs
# 8BITMIME (RFC 6152), and SMTPUTF8 when offered (RFC 6532).
test_case 'IDN sender, added From:, no 8BITMIME' <<'CASE'
    plain_case idnfrom-no8bit "$NOFROM" \
        --advertise PIPELINING,SIZE,ENHANCEDSTATUSCODES \
        -- -f 'alice@exämple.test' a@example.org || return 1
    is "$RC" 65 "refused (65)"
    is "$(verbs "$CASE_DIR")" "EHLO QUIT" "no MAIL sent"
CASE

test_case 'IDN sender, 8BITMIME and SMTPUTF8 offered' <<'CASE'
    plain_case idnfrom "$NOFROM" -- -f 'alice@exämple.test' a@example.org ||
        return 1
    is "$RC" 0 "exit 0"
    like "$(client_lines "$CASE_DIR" | grep '^MAIL')" \
        ' BODY=8BITMIME.* SMTPUTF8|SMTPUTF8.* BODY=8BITMIME' \
        "MAIL declares BODY=8BITMIME and SMTPUTF8"
CASE

test_case 'UTF-8 Subject' <<'CASE'
    plain_case utf8subj "$UTF8SUBJ" -- a@example.org || return 1
    is "$RC" 0 "exit 0"
    like "$(client_lines "$CASE_DIR" | grep '^MAIL')" ' SMTPUTF8( |$)' \
        "SMTPUTF8 offered: MAIL ... SMTPUTF8 (RFC 6532)"
CASE

done_testing
