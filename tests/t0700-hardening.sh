#!/bin/bash
# t0700-hardening.sh -- issue 9's findings through the binary, each as a
# named case against a fake server (tests/fake/fake_smtpd.py) or none:
# the IDNA parameter injection (a server without SMTPUTF8 records the raw
# commands).
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd timeout
need_aiosmtpd

# lines DIR: the client commands the fake server recorded, joined by '|'
lines() {
    client_lines "$1" | paste -sd '|'
}

# ------------------------------------------------ IDNA (finding 1)
# Fullwidth '＞', '　', '＝' and '＠' that UTS #46 maps to '>', ' ', '=' and
# '@': through an argument, a To: header (-t), -f and the From: header
# (--read-envelope-from), to a server without SMTPUTF8. Refused (65) after
# EHLO, before MAIL: nothing but EHLO and QUIT on the wire.
NOUTF8=PIPELINING,8BITMIME,SIZE,ENHANCEDSTATUSCODES,DSN
VICTIM='victim@ｅｘａｍｐｌｅ．ｃｏｍ＞　ＮＯＴＩＦＹ＝ＳＵＣＣＥＳＳ'
BOSS='me@ｅｘａｍｐｌｅ．ｏｒｇ＞　ＲＥＴ＝ＦＵＬＬ　ＡＵＴＨ＝ｂｏｓｓ＠ｅｘａｍｐｌｅ．ｏｒｇ'
VICTIM_ERR="yubin: address '$VICTIM' has an invalid internationalized \
domain '${VICTIM#victim@}': it maps to 'example.com> notify=success', \
which is not a host name"
BOSS_ERR="yubin: address '$BOSS' has an invalid internationalized domain \
'${BOSS#me@}': it maps to 'example.org> ret=full auth=boss@example.org', \
which is not a host name"

printf 'Subject: idna\n\nbody\n' > "$SCRATCH/idna.plain"
printf 'To: %s\nSubject: idna\n\nbody\n' "$VICTIM" > "$SCRATCH/idna.to"
printf 'From: %s\nSubject: idna\n\nbody\n' "$BOSS" > "$SCRATCH/idna.from"

# idna_case NAME MESSAGE WANT_ERR YUBIN_ARGS...
idna_case() {
    local name=$1 msg=$2 want=$3
    shift 3
    plain_case "idna-$name" "$msg" --advertise "$NOUTF8" -- "$@"
    is "$RC" 65 "IDNA $name: exit 65"
    is "$(cat "$ERR")" "$want" "IDNA $name: the message"
    is "$(lines "$CASE_DIR")" "EHLO localhost|QUIT" \
        "IDNA $name: nothing but EHLO and QUIT on the wire"
}

idna_case argument "$SCRATCH/idna.plain" "$VICTIM_ERR" -N success "$VICTIM"
idna_case to-header "$SCRATCH/idna.to" "$VICTIM_ERR" -t
idna_case dash-f "$SCRATCH/idna.plain" "$BOSS_ERR" -f "$BOSS" \
    rcpt@example.org
idna_case read-envelope-from "$SCRATCH/idna.from" "$BOSS_ERR" \
    --read-envelope-from rcpt@example.org

done_testing
