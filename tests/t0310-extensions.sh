#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0310-extensions.sh -- the SMTP service extensions, against
# tests/fake/fake_smtpd.py (aiosmtpd) with a chosen EHLO advertisement:
# PIPELINING (commands in one go only when offered), SIZE (declared, and a
# message over the limit refused before MAIL), 8BITMIME (BODY=8BITMIME, and an
# 8-bit message refused by a server without it), SMTPUTF8 (UTF-8 addresses
# only when offered, else IDN domains as A-labels), CHUNKING (BDAT, no
# dot-stuffing), DSN (RET/ENVID/NOTIFY/ORCPT only when offered) and
# ENHANCEDSTATUSCODES (the status code quoted).
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd

plan 65

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
make_message "$SCRATCH/msg" "$TOKEN"
sed 's/$/\r/' "$SCRATCH/msg" > "$SCRATCH/msg.crlf"
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
sed 's/$/\r/' "$SCRATCH/ascii" > "$SCRATCH/ascii.crlf"
ASCII_SIZE=$(wc -c < "$SCRATCH/ascii.crlf")
# dots: lines that are a lone ".", "..", ".x": sent with -i and BDAT, the
# server must get exactly these bytes (no dot-stuffing, no end of input)
{
    cat "$SCRATCH/msg"
    printf '.\n..\n.x\n. \nlast line\n'
} > "$SCRATCH/dots"
sed 's/$/\r/' "$SCRATCH/dots" > "$SCRATCH/dots.crlf"

# ------------------------------------------------ PIPELINING
# advertised: MAIL, both RCPTs and DATA in one write; the server read MAIL
# with the three other lines already waiting
plain_case pipe "$SCRATCH/msg" -- a@example.org b@example.org ||
    bail_out "fake_smtpd.py does not start"
is "$RC" 0 "PIPELINING: exit 0"
[ "$RC" = 0 ] || show
c=$(conn "$CASE_DIR")
is "$(jget "$c" 'd["pipelining_violation"]')" false "PIPELINING: no pipelining violation"
is "$(verbs "$CASE_DIR")" "EHLO MAIL RCPT RCPT DATA QUIT" "PIPELINING: command order"
is "$(jget "$c" '[p for p in d["pipelined"] if p[0] == "MAIL"]')" '[["MAIL", 3]]' \
    "PIPELINING: RCPT, RCPT and DATA had arrived when MAIL was read (one go)"
check "PIPELINING: stored bytes = input in CRLF form" \
    cmp -s "$SCRATCH/msg.crlf" "$CASE_DIR/save/0001.eml"

# not advertised: one command at a time (fake_smtpd.py notes a client that
# sends before it has read the reply)
plain_case nopipe "$SCRATCH/msg" --advertise 8BITMIME,SIZE,SMTPUTF8,ENHANCEDSTATUSCODES \
    -- a@example.org b@example.org
is "$RC" 0 "no PIPELINING: exit 0"
[ "$RC" = 0 ] || show
c=$(conn "$CASE_DIR")
is "$(jget "$c" 'd["pipelining_violation"]')" false "no PIPELINING: no pipelining violation"
is "$(jget "$c" 'd["pipelined"]')" '[]' "no PIPELINING: no command sent ahead of a reply"
is "$(verbs "$CASE_DIR")" "EHLO MAIL RCPT RCPT DATA QUIT" "no PIPELINING: command order"
is "$(accepted "$CASE_DIR")" 1 "no PIPELINING: message accepted"

# the detector itself: a client that does pipeline is caught
mkdir -p "$SCRATCH/detector"
if plain_fake detector --advertise 8BITMIME,SIZE; then
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
        "fake_smtpd.py detects a client that pipelines without PIPELINING"
else
    not_ok "fake_smtpd.py detects a client that pipelines without PIPELINING (no server)"
fi

# ------------------------------------------------ SIZE
plain_case size "$SCRATCH/ascii" -- a@example.org
is "$RC" 0 "SIZE: exit 0"
[ "$RC" = 0 ] || show
is "$(jget "$CASE_DIR/save/0001.json" '" ".join(d["mail_options"])')" "SIZE=$ASCII_SIZE" \
    "SIZE: SIZE=$ASCII_SIZE (the message in CRLF form) on MAIL, nothing else for ASCII"
check "SIZE: stored bytes = input in CRLF form" \
    cmp -s "$SCRATCH/ascii.crlf" "$CASE_DIR/save/0001.eml"

SIZE_DOTS=$(wc -c < "$SCRATCH/msg.crlf")
plain_case size-dots "$SCRATCH/msg" -- a@example.org
like "$(client_lines "$CASE_DIR" | grep '^MAIL')" " SIZE=$SIZE_DOTS( |\$)" \
    "SIZE: SIZE=$SIZE_DOTS for a message with dot-stuffed lines (unstuffed size)"

plain_case size-equal "$SCRATCH/ascii" --size "$ASCII_SIZE" -- a@example.org
is "$RC" 0 "SIZE limit = message size: sent (exit 0)"
[ "$RC" = 0 ] || show

plain_case size-over "$SCRATCH/ascii" --size $((ASCII_SIZE - 1)) -- a@example.org
is "$RC" 69 "SIZE limit 1 byte under the message size: exit 69"
like "$(cat "$ERR")" "limit of $((ASCII_SIZE - 1)) bytes" \
    "SIZE limit: the message names the limit"
is "$(verbs "$CASE_DIR")" "EHLO QUIT" "SIZE limit: nothing sent after EHLO (no MAIL)"
[ "$(verbs "$CASE_DIR")" = "EHLO QUIT" ] || show

# ------------------------------------------------ 8BITMIME
plain_case 8bit "$SCRATCH/msg" -- a@example.org
is "$RC" 0 "8BITMIME: 8-bit body, exit 0"
like "$(client_lines "$CASE_DIR" | grep '^MAIL')" ' BODY=8BITMIME( |$)' \
    "8BITMIME: MAIL ... BODY=8BITMIME"
check "8BITMIME: stored bytes = input in CRLF form" \
    cmp -s "$SCRATCH/msg.crlf" "$CASE_DIR/save/0001.eml"

plain_case no8bit "$SCRATCH/msg" --advertise PIPELINING,SIZE,SMTPUTF8,ENHANCEDSTATUSCODES \
    -- a@example.org
is "$RC" 65 "no 8BITMIME: 8-bit body refused, exit 65"
like "$(cat "$ERR")" '8-bit.*8BITMIME' "no 8BITMIME: the message says why"
is "$(verbs "$CASE_DIR")" "EHLO QUIT" "no 8BITMIME: no MAIL sent"

plain_case no8bit-ascii "$SCRATCH/ascii" --advertise PIPELINING,SIZE,ENHANCEDSTATUSCODES \
    -- a@example.org
is "$RC" 0 "no 8BITMIME: an ASCII message is sent (exit 0)"
is "$(client_lines "$CASE_DIR" | grep '^MAIL')" \
    "MAIL FROM:<alice@example.test> SIZE=$ASCII_SIZE" "no 8BITMIME: no BODY= parameter"

# ------------------------------------------------ SMTPUTF8
plain_case utf8 "$SCRATCH/ascii" -- 'jörg@exämple.org'
is "$RC" 0 "SMTPUTF8: UTF-8 recipient, exit 0"
[ "$RC" = 0 ] || show
lines=$(client_lines "$CASE_DIR")
like "$lines" '^MAIL FROM:<alice@example\.test>.* SMTPUTF8( |$)' "SMTPUTF8: MAIL ... SMTPUTF8"
like "$lines" '^RCPT TO:<jörg@exämple\.org>$' "SMTPUTF8: RCPT TO:<jörg@exämple.org> (UTF-8 as is)"
is "$(jget "$CASE_DIR/save/0001.json" 'd["rcpt_tos"]')" '["jörg@exämple.org"]' \
    "SMTPUTF8: the server got the UTF-8 recipient"

plain_case utf8-ascii "$SCRATCH/ascii" -- a@example.org
is "$(client_lines "$CASE_DIR" | grep '^MAIL')" \
    "MAIL FROM:<alice@example.test> SIZE=$ASCII_SIZE" \
    "SMTPUTF8 offered, ASCII envelope: no SMTPUTF8 parameter"

NO_UTF8=PIPELINING,8BITMIME,SIZE,ENHANCEDSTATUSCODES
plain_case noutf8-local "$SCRATCH/ascii" --advertise "$NO_UTF8" -- 'jörg@exämple.org'
is "$RC" 65 "no SMTPUTF8: non-ASCII local part refused, exit 65"
like "$(cat "$ERR")" "jörg@exämple\.org.*SMTPUTF8" \
    "no SMTPUTF8: the message names the address and SMTPUTF8"
is "$(verbs "$CASE_DIR")" "EHLO QUIT" "no SMTPUTF8: non-ASCII local part, no MAIL sent"

plain_case noutf8-idn "$SCRATCH/ascii" --advertise "$NO_UTF8" -- 'joerg@exämple.org'
is "$RC" 0 "no SMTPUTF8: IDN domain, exit 0"
[ "$RC" = 0 ] || show
lines=$(client_lines "$CASE_DIR")
like "$lines" '^RCPT TO:<joerg@xn--exmple-cua\.org>$' \
    "no SMTPUTF8: RCPT TO:<joerg@xn--exmple-cua.org> (A-label)"
is "$(printf '%s\n' "$lines" | grep '^MAIL')" \
    "MAIL FROM:<alice@example.test> SIZE=$ASCII_SIZE" "no SMTPUTF8: no SMTPUTF8 parameter"
is "$(accepted "$CASE_DIR")" 1 "no SMTPUTF8: IDN domain, message accepted"

# ------------------------------------------------ CHUNKING
plain_case chunking "$SCRATCH/dots" \
    --advertise PIPELINING,8BITMIME,SIZE,SMTPUTF8,ENHANCEDSTATUSCODES,CHUNKING \
    -- -i a@example.org
is "$RC" 0 "CHUNKING: exit 0"
[ "$RC" = 0 ] || show
v=$(verbs "$CASE_DIR")
like "$v" '^EHLO MAIL RCPT (BDAT )+QUIT$' "CHUNKING: BDAT used, no DATA command"
like "$(client_lines "$CASE_DIR" | grep '^BDAT' | tail -n 1)" \
    "^BDAT [0-9]+ LAST\$" "CHUNKING: the last BDAT says LAST"
if cmp -s "$SCRATCH/dots.crlf" "$CASE_DIR/save/0001.eml"; then
    ok "CHUNKING: stored bytes = input in CRLF form (no dot-stuffing)"
else
    not_ok "CHUNKING: stored bytes = input in CRLF form (no dot-stuffing)"
    diag "$(cmp "$SCRATCH/dots.crlf" "$CASE_DIR/save/0001.eml" 2>&1)"
fi
is "$(client_lines "$CASE_DIR" | awk '$1 == "BDAT" { n += $2 } END { print n + 0 }')" \
    "$(wc -c < "$SCRATCH/dots.crlf")" "CHUNKING: the BDAT sizes add up to the message size"

# the same message without CHUNKING: DATA, and the lone dots survive stuffing
plain_case nochunking "$SCRATCH/dots" -- -i a@example.org
is "$(verbs "$CASE_DIR")" "EHLO MAIL RCPT DATA QUIT" "no CHUNKING: DATA used"
check "no CHUNKING: stored bytes = input in CRLF form (dot-stuffed and unstuffed)" \
    cmp -s "$SCRATCH/dots.crlf" "$CASE_DIR/save/0001.eml"

# ------------------------------------------------ DSN
# shellcheck disable=SC2054
DSN_ARGS=(-N failure,delay -R hdrs -V id123 a@example.org 'Bob <b+x@example.org>')
plain_case dsn "$SCRATCH/ascii" --advertise "$ALL,DSN" -- "${DSN_ARGS[@]}"
is "$RC" 0 "DSN: exit 0"
[ "$RC" = 0 ] || show
lines=$(client_lines "$CASE_DIR")
like "$lines" '^MAIL FROM:<alice@example\.test>.* RET=HDRS( |$)' "DSN: MAIL ... RET=HDRS"
like "$lines" '^MAIL FROM:<alice@example\.test>.* ENVID=id123( |$)' "DSN: MAIL ... ENVID=id123"
like "$lines" '^RCPT TO:<a@example\.org> .*NOTIFY=FAILURE,DELAY( |$)' \
    "DSN: RCPT ... NOTIFY=FAILURE,DELAY"
like "$lines" '^RCPT TO:<a@example\.org> .*ORCPT=rfc822;a@example\.org( |$)' \
    "DSN: RCPT ... ORCPT=rfc822;a@example.org"
like "$lines" '^RCPT TO:<b\+x@example\.org> .*ORCPT=rfc822;b\+2Bx@example\.org( |$)' \
    "DSN: ORCPT is xtext ('+' as +2B)"
is "$(printf '%s\n' "$lines" | grep -c '^RCPT .*NOTIFY=FAILURE,DELAY')" 2 \
    "DSN: NOTIFY on every RCPT"

plain_case nodsn "$SCRATCH/ascii" -- "${DSN_ARGS[@]}"
is "$RC" 0 "no DSN: exit 0 (the DSN options are dropped)"
[ "$RC" = 0 ] || show
is "$(client_lines "$CASE_DIR" | grep -E '^(MAIL|RCPT)')" \
    "MAIL FROM:<alice@example.test> SIZE=$ASCII_SIZE
RCPT TO:<a@example.org>
RCPT TO:<b+x@example.org>" "no DSN: no RET, ENVID, NOTIFY or ORCPT parameter"
is "$(accepted "$CASE_DIR")" 1 "no DSN: message accepted"

# ------------------------------------------------ ENHANCEDSTATUSCODES
plain_case esc "$SCRATCH/ascii" \
    --fault 'RCPT=550 5.1.1 <a@example.org>: Recipient address rejected: no such user' \
    -- a@example.org
is "$RC" 67 "ENHANCEDSTATUSCODES: 550 5.1.1 to RCPT, exit 67"
like "$(cat "$ERR")" '550 5\.1\.1 <a@example\.org>: Recipient address rejected' \
    "ENHANCEDSTATUSCODES: stderr quotes '550 5.1.1 ...'"
is "$(accepted "$CASE_DIR")" 0 "ENHANCEDSTATUSCODES: nothing accepted"

# ------------------------------------------------ UTF-8 in header fields
# A From: that yubin adds for an IDN sender is 8-bit too: the message needs
# 8BITMIME (RFC 6152), and SMTPUTF8 when offered (RFC 6532).
printf 'Subject: no from %s\n\nbody\n' "$TOKEN" > "$SCRATCH/nofrom"
plain_case idnfrom-no8bit "$SCRATCH/nofrom" \
    --advertise PIPELINING,SIZE,ENHANCEDSTATUSCODES \
    -- -f 'alice@exämple.test' a@example.org
is "$RC" 65 "IDN sender, added From:, no 8BITMIME: refused (65)"
is "$(verbs "$CASE_DIR")" "EHLO QUIT" "IDN sender, no 8BITMIME: no MAIL sent"

plain_case idnfrom "$SCRATCH/nofrom" -- -f 'alice@exämple.test' a@example.org
is "$RC" 0 "IDN sender, 8BITMIME and SMTPUTF8 offered: exit 0"
like "$(client_lines "$CASE_DIR" | grep '^MAIL')" \
    ' BODY=8BITMIME.* SMTPUTF8|SMTPUTF8.* BODY=8BITMIME' \
    "IDN sender: MAIL declares BODY=8BITMIME and SMTPUTF8"

printf 'Subject: K\303\244se %s\n\nbody\n' "$TOKEN" > "$SCRATCH/utf8subj.msg"
plain_case utf8subj "$SCRATCH/utf8subj.msg" -- a@example.org
is "$RC" 0 "UTF-8 Subject: exit 0"
like "$(client_lines "$CASE_DIR" | grep '^MAIL')" ' SMTPUTF8( |$)' \
    "UTF-8 Subject, SMTPUTF8 offered: MAIL ... SMTPUTF8 (RFC 6532)"

done_testing
