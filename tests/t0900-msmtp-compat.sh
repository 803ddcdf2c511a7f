#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0900-msmtp-compat.sh -- msmtp (installed, 1.8.x) is the oracle: the same
# configuration file, message and options through msmtp and through yubin
# against the real Postfix (tests/server/start.sh), and the same delivered
# bytes, envelope (Return-Path, X-Original-To of every copy) and exit
# status; the differences yubinrc(5) lists under DIFFERENCES FROM MSMTP
# are asserted as documented.  Also: msmtp's example files load and -P
# prints their accounts as msmtp does; msmtp's file lookup under
# env -i HOME=...; eval; SMTPSERVER/EMAIL.
#
# Audit against msmtp 1.8.23's man page: each option and key, and where
# it is compared with msmtp (C: a case here, same outcome, envelope and
# bytes; D: a documented difference, asserted here as documented;
# N: not compared with msmtp, and why).
#   --version --help                 N: each program's own text
#   -P --pretend                     C: example files, '-P masks'; D: yubin
#                                    prints its own keys, 'auth = on'
#   -v -d --debug                    N: each program's own trace (t0200)
#   --configure                      C: SRV records; beyond msmtp: t0905
#   -S --serverinfo                  C: the same facts, yubin's layout
#   --rmqs                           C
#   -C --file -a --account           C (long forms in 'options, one by one')
#   --host                           C (D: secure defaults)
#   --port --timeout --domain        C
#   --source-ip --socket             C (socat in front of Postfix)
#   --proxy-host --proxy-port        N: needs a SOCKS server with its own
#                                    users; t0340 (yubin through dante)
#   --protocol                       C: smtp; lmtp: t0235 (yubin alone,
#                                    D: a partial LMTP delivery queues)
#   --auth --user --passwordeval     C
#   --tls --tls-starttls             C
#   --tls-trust-file --tls-fingerprint --tls-certcheck   C (TLS layouts)
#   --tls-key-file --tls-cert-file   C (Postfix asks for no client
#                                    certificate: the outcome only)
#   --tls-priorities                 C; D: an invalid string is 78 (msmtp 70)
#   --tls-crl-file                   D: an unreadable file is 78 (msmtp 66);
#                                    a revoked server: t0225 (yubin alone)
#   --tls-host-override              C (the wrong-host server)
#   --tls-min-dh-prime-bits          C (ignored by both with GnuTLS 3)
#   -f --from --read-envelope-from   C
#   -N --dsn-notify -R --dsn-return  C
#   --set-from-header --set-date-header --set-msgid-header   C
#   --remove-bcc-headers --undisclosed-recipients -F         C (D: -t
#                                    removes Bcc: even with it off)
#   -X --logfile --logfile-time-format   C (logfile -)
#   --syslog                         C (LOG_MAIL on a test /dev/log)
#   -t --read-recipients             C
#   --aliases                        C (a list, default; D: continuation
#                                    lines, a local name left is refused)
#   --auto-from --maildomain         C (D: maildomain also completes
#                                    recipients)
#   --                               C
#   -B -bm -G -h -i -L -m -n -O -o   C (-i: the lone-dot cases; D: a lone
#                                    dot as the last piped line)
# Keys: account (':' inheritance) defaults host port from user password
# auth tls tls_starttls tls_trust_file tls_fingerprint tls_certcheck
# timeout domain: C (compat_config, TLS layouts); eval: C; passwordeval:
# C (options, example files); syslog logfile logfile_time_format: C;
# allow_from_override: C with -a, D with 'account default : NAME' (msmtp
# does not inherit it); every other key is the option's (config_set(),
# the same checks as a file): C as above. ntlmdomain: N (accepted and
# ignored; neither yubin nor the server speaks NTLM). A temporary failure
# (D: queued, 0), an untrusted certificate (D: 76): their own cases.
#
# The case bodies are strings that test_case (lib.sh) evaluates.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout msmtp
start_real_server

EXAMPLES=/usr/share/doc/msmtp/examples

# compat_config FILE LINE...: an msmtprc both programs read, for the real
# server (no yubin-only key in it: msmtp would refuse the file)
compat_config() {
    local f=$1
    shift
    (
        umask 077
        {
            echo "account test"
            echo "host localhost"
            echo "port $SMTP_PORT_SUBMISSION_HI"
            echo "tls on"
            echo "tls_starttls on"
            echo "tls_trust_file $SMTP_CA"
            echo "auth on"
            echo "user alice"
            echo "password alice-pw"
            echo "from alice@example.test"
            printf '%s\n' "$@"
            echo "account default : test"
        } > "$f"
    )
}

# run_prog NAME STDIN ARGS...: NAME (msmtp or yubin) with a clean
# environment (HOME=$SCRATCH/home) -> $RC $OUT $ERR
run_prog() {
    local prog=$1 in=$2
    shift 2
    [ "$prog" = yubin ] && prog=$YUBIN || prog=$(command -v msmtp)
    mkdir -p "$SCRATCH/home"
    _run_no=$((_run_no + 1))
    OUT=$SCRATCH/run$_run_no.out
    ERR=$SCRATCH/run$_run_no.err
    # EXTRA_ENV: "VAR=value ..." (split on purpose)
    # shellcheck disable=SC2086
    env -i HOME="$SCRATCH/home" PATH="$SCRATCH/bin:/usr/bin:/bin" \
        XDG_STATE_HOME="$XDG_STATE_HOME" ${EXTRA_ENV:-} \
        timeout -k 5 30 "$prog" "$@" < "$in" > "$OUT" 2> "$ERR"
    RC=$?
}

# collect TOKEN N DIR: wait for N delivered copies carrying TOKEN, move
# them to DIR (so the next run's copies are told apart)
collect() {
    local tok=$1 n=$2 dir=$3 i f got
    mkdir -p "$dir"
    for ((i = 0; i < 100; i++)); do
        got=$(find_delivered "$tok" 0 | wc -l)
        [ "$got" -ge "$n" ] && break
        sleep 0.1
    done
    sleep 0.3       # a copy more than expected would show now
    find_delivered "$tok" 0 | while IFS= read -r f; do mv "$f" "$dir/"; done
}

# envelope_of DIR: the envelope of the copies: sender, sorted recipients
envelope_of() {
    local f
    for f in "$1"/*; do
        [ -f "$f" ] || continue
        sed -n 's/^Return-Path: /from /p; s/^X-Original-To: /to /p' "$f" |
            head -n 2
    done | sort
}

# normalized DIR: the first copy without Postfix's lines; the values each
# program makes up at random (Message-ID, Date) replaced by a mark
normalized() {
    local f
    f=$(find "$1" -type f | head -n 1)
    [ -n "$f" ] || return 0
    delivered_body "$f" | sed -E \
        -e 's/^(Message-ID: <)[^@]*@/\1RANDOM@/' \
        -e 's/^(Date: ).*/\1DATE/'
}

# both MSG N MSMTP_AND_YUBIN_ARGS...: msmtp, then yubin, with the same
# message and arguments; N copies expected.  Sets M_RC Y_RC and
# $SCRATCH/msmtp $SCRATCH/yubin (the copies).
both() {
    local msg=$1 n=$2 tok
    shift 2
    tok=$(sed -n 's/^X-Yubin-Test: //p' "$msg" | head -n 1)
    run_prog msmtp "$msg" "$@"
    M_RC=$RC M_ERR=$ERR
    collect "$tok" "$n" "$SCRATCH/msmtp"
    run_prog yubin "$msg" "$@"
    Y_RC=$RC Y_ERR=$ERR
    collect "$tok" "$n" "$SCRATCH/yubin"
}

# same_as_msmtp N [TITLE]: the four comparisons of a case that matches msmtp
same_as_msmtp() {
    local p=${2:+$2: }
    is "$Y_RC" "$M_RC" "${p}same exit status ($M_RC)"
    [ "$M_RC" = "$Y_RC" ] || { diag_file "$M_ERR" 10; diag_file "$Y_ERR" 10; }
    is "$(find "$SCRATCH/yubin" -type f | wc -l)" "$1" "${p}copies delivered"
    is "$(envelope_of "$SCRATCH/yubin")" "$(envelope_of "$SCRATCH/msmtp")" \
        "${p}same envelope"
    is "$(normalized "$SCRATCH/yubin")" "$(normalized "$SCRATCH/msmtp")" \
        "${p}same delivered bytes"
}

count_files() {
    find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l
}

# bare_message FILE TOKEN [BODY...]: To, Subject and the token only
bare_message() {
    local f=$1 tok=$2
    shift 2
    {
        printf 'To: rcpt@example.org\nSubject: compat %s\n' "$tok"
        printf 'X-Yubin-Test: %s\n\n' "$tok"
        if [ $# -gt 0 ]; then printf '%s\n' "$@"; else printf 'body\n'; fi
    } > "$f"
}

# ------------------------------------------------------------ sending
test_case 'a complete message: the same bytes' <<'CASE'
tok=$(new_token)
make_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc"
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" rcpt@example.org
same_as_msmtp 1
is "$(delivered_body "$(find "$SCRATCH/yubin" -type f | head -n 1)")" \
    "$(cat "$SCRATCH/m")" "the input itself"
CASE

test_case 'From, Date, Message-ID added as msmtp adds them' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc"
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" rcpt@example.org
same_as_msmtp 1
like "$(normalized "$SCRATCH/yubin" | head -n 3 | tr '\n' '|')" \
    '^From: alice@example.test\|Date: DATE\|Message-ID: <RANDOM@example.test>\|$' \
    "the three fields, first, in msmtp's order"
CASE

test_case 'a lone dot inside piped input is sent (mutt without -oi)' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok" "first" "." "after the dot"
compat_config "$SCRATCH/rc"
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" rcpt@example.org
same_as_msmtp 1
like "$(normalized "$SCRATCH/yubin" | tail -n 2 | tr '\n' '|')" \
    '^\.\|after the dot\|$' "the lines after the dot arrived"
CASE

test_case 'a lone dot as the last piped line: removed (msmtp sends it; documented)' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok" "last text line" "."
compat_config "$SCRATCH/rc"
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" rcpt@example.org
is "$M_RC $Y_RC" "0 0" "both: exit 0"
is "$(normalized "$SCRATCH/msmtp" | tail -n 2 | tr '\n' '|')" "last text line|.|" \
    "msmtp: the dot line arrives"
is "$(normalized "$SCRATCH/yubin" | tail -n 1)" "last text line" \
    "yubin: the terminator removed"
is "$(normalized "$SCRATCH/yubin")" "$(normalized "$SCRATCH/msmtp" | sed '$d')" \
    "otherwise the same bytes"
run_prog yubin "$SCRATCH/m" -C "$SCRATCH/rc" -i rcpt@example.org
collect "$tok" 1 "$SCRATCH/yubin-i"
is "$(normalized "$SCRATCH/yubin-i" | tail -n 1)" "." "with -i: sent as msmtp sends it"
CASE

test_case 'on a terminal, a lone dot ends the input (sendmail)' <<'CASE'
tok=$(new_token)
compat_config "$SCRATCH/rc"
tty_run "=To: rcpt@example.org" "=Subject: tty $tok" "=X-Yubin-Test: $tok" \
    "=" "=typed" "=." -- "$YUBIN" -C "$SCRATCH/rc" rcpt@example.org
is "$RC" 0 "exit 0 once the dot is typed"
[ "$RC" = 0 ] || diag_file "$SCRATCH/tty.out" 20
collect "$tok" 1 "$SCRATCH/yubin"
is "$(normalized "$SCRATCH/yubin" | tail -n 2 | tr '\n' '|')" "|typed|" \
    "the lines before the dot, without it"
CASE

test_case '-t: recipients from To/Cc/Bcc, Bcc removed' <<'CASE'
tok=$(new_token)
{
    printf 'To: a@example.org\nCc: b@example.org\nBcc: c@example.org\n'
    printf 'Subject: -t %s\nX-Yubin-Test: %s\n\nbody\n' "$tok" "$tok"
} > "$SCRATCH/m"
compat_config "$SCRATCH/rc"
both "$SCRATCH/m" 3 -C "$SCRATCH/rc" -t
same_as_msmtp 3
unlike "$(normalized "$SCRATCH/yubin")" '^Bcc:' "no Bcc: field"
CASE

test_case 'set_from_header on, -F, undisclosed_recipients' <<'CASE'
tok=$(new_token)
{
    printf 'From: someone@else.example\nTo: a@example.org\n'
    printf 'Subject: hdr %s\nX-Yubin-Test: %s\n\nbody\n' "$tok" "$tok"
} > "$SCRATCH/m"
compat_config "$SCRATCH/rc" "set_from_header on" "undisclosed_recipients on"
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" -F "Alice Example" a@example.org
same_as_msmtp 1
like "$(normalized "$SCRATCH/yubin")" '^From: Alice Example <alice@example.test>$' \
    "From: replaced, with the full name"
like "$(normalized "$SCRATCH/yubin")" '^To: undisclosed-recipients:;$' \
    "To: undisclosed-recipients:;"
CASE

test_case '-f and two recipients on the command line' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc"
both "$SCRATCH/m" 2 -C "$SCRATCH/rc" -f alice+x@example.test \
    r1@example.org r2@example.org
same_as_msmtp 2
is "$(envelope_of "$SCRATCH/yubin" | head -n 1)" "from <alice+x@example.test>" \
    "the sender -f gave"
CASE

test_case 'DSN: -N failure,delay -R hdrs, accepted by Postfix' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc"
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" -N failure,delay -R hdrs \
    rcpt@example.org
same_as_msmtp 1
CASE

test_case 'no configuration file: msmtp options only (--host ...)' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
mkdir -p "$SCRATCH/bin"
printf '#!/bin/sh\necho alice-pw\n' > "$SCRATCH/bin/getpw"
chmod 755 "$SCRATCH/bin/getpw"
both "$SCRATCH/m" 1 --host=localhost --port="$SMTP_PORT_SUBMISSION_HI" \
    --tls=on --tls-starttls=on --tls-trust-file="$SMTP_CA" --auth=plain \
    --user=alice --passwordeval=getpw --from=alice@example.test \
    --domain=client.example rcpt@example.org
same_as_msmtp 1
CASE

test_case 'options override the file: --port, --user, --passwordeval' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc"
sed -i 's/^port .*/port 1/; s/^user .*/user nobody/' "$SCRATCH/rc"
mkdir -p "$SCRATCH/bin"
printf '#!/bin/sh\necho alice-pw\n' > "$SCRATCH/bin/getpw"
chmod 755 "$SCRATCH/bin/getpw"
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" --port="$SMTP_PORT_SUBMISSION_HI" \
    --user alice --passwordeval getpw rcpt@example.org
same_as_msmtp 1
CASE

# option_case TITLE N [RC_LINES] -- ARGS...: the bare message (a From:
# of someone else, a Bcc:) sent with ARGS through both; N copies
option_case() {
    local title=$1 n=$2 tok
    shift 3
    tok=$(new_token)
    {
        printf 'From: Other <other@example.org>\nTo: rcpt@example.org\n'
        printf 'Bcc: hidden@example.org\nSubject: opt %s\n' "$tok"
        printf 'X-Yubin-Test: %s\n\nbody\n' "$tok"
    } > "$SCRATCH/m"
    compat_config "$SCRATCH/rc"
    both "$SCRATCH/m" "$n" -C "$SCRATCH/rc" "$@"
    same_as_msmtp "$n" "$title"
    rm -rf "$SCRATCH/msmtp" "$SCRATCH/yubin"
}

test_case "msmtp's options, one by one: the same outcome as msmtp" <<'CASE'
option_case '--set-from-header=on' 1 -- --set-from-header=on rcpt@example.org
option_case '--set-from-header=off' 1 -- --set-from-header=off rcpt@example.org
option_case '--set-date-header=off' 1 -- --set-date-header=off rcpt@example.org
option_case '--set-msgid-header=off' 1 -- --set-msgid-header=off rcpt@example.org
option_case '--undisclosed-recipients' 1 -- --undisclosed-recipients rcpt@example.org
option_case '-t --remove-bcc-headers=on' 2 -- -t --remove-bcc-headers=on
option_case '--domain=client.example' 1 -- --domain=client.example rcpt@example.org
option_case '--timeout=10' 1 -- --timeout=10 rcpt@example.org
option_case '--maildomain + --auto-from' 1 -- --maildomain=example.test --auto-from=on rcpt@example.org
option_case '--tls-certcheck=off' 1 -- --tls-certcheck=off rcpt@example.org
option_case '--tls-fingerprint' 1 -- --tls-fingerprint="$SMTP_FINGERPRINT" rcpt@example.org
option_case '--auth=plain' 1 -- --auth=plain rcpt@example.org
option_case '--auth=scram-sha-256' 1 -- --auth=scram-sha-256 rcpt@example.org
option_case '-N never -R full' 1 -- -N never -R full rcpt@example.org
option_case '--read-envelope-from (From: of the message)' 1 -- --read-envelope-from rcpt@example.org
option_case '--file, --account, --from (long forms)' 1 -- --file="$SCRATCH/rc" --account=test --from=alice@example.test rcpt@example.org
option_case '--read-recipients --dsn-notify --dsn-return' 2 -- --read-recipients --dsn-notify=failure --dsn-return=hdrs
option_case '--protocol=smtp' 1 -- --protocol=smtp rcpt@example.org
option_case '--source-ip=127.0.0.2' 1 -- --source-ip=127.0.0.2 rcpt@example.org
option_case '--tls-priorities (TLS 1.2 only)' 1 -- --tls-priorities=NORMAL:-VERS-ALL:+VERS-TLS1.2 rcpt@example.org
option_case '--tls-min-dh-prime-bits (ignored by both, GnuTLS 3)' 1 -- --tls-min-dh-prime-bits=2048 rcpt@example.org
option_case '--tls-cert-file --tls-key-file (a client certificate)' 1 -- --tls-cert-file="$SMTP_SERVER_CERT" --tls-key-file="$SMTP_SERVER_KEY" rcpt@example.org
option_case '--tls-host-override (a server whose certificate names another host)' 1 -- --port="$SMTP_PORT_WRONGHOST" --tls-host-override=wrong.example.test rcpt@example.org
option_case "sendmail's flags both ignore (-B -bm -G -h -L -m -n -O -o)" 1 -- -B8BITMIME -bm -G -h10 -Ltag -m -n -Ofoo=bar -oem rcpt@example.org
printf 'bob: rcpt@example.org, other@example.org\ndefault: rcpt@example.org\n' \
    > "$SCRATCH/aliases"
option_case '--aliases: a list' 2 -- --aliases="$SCRATCH/aliases" bob
option_case '--aliases: default' 1 -- --aliases="$SCRATCH/aliases" nobody
option_case '-- ends the options' 1 -- -- rcpt@example.org
CASE

test_case '--socket: socat in front of Postfix, the same as msmtp' <<'CASE'
command -v socat > /dev/null || { skip "socket" "needs socat"; return 0; }
sock=$SCRATCH/smtp.sock
start_unix_relay "$sock" "$SMTP_PORT_SUBMISSION_HI" || return 1
option_case '--socket' 1 -- --socket="$sock" rcpt@example.org
CASE

test_case 'allow_from_override off: -f does not change the sender' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc" "allow_from_override off"
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" -a test -f other@example.org rcpt@example.org
same_as_msmtp 1 "-a test"
is "$(envelope_of "$SCRATCH/yubin" | head -n 1)" "from <alice@example.test>" \
    "-a test: the account's from"
rm -rf "$SCRATCH/msmtp" "$SCRATCH/yubin"
# 'account default : test' -- msmtp 1.8.23 does not inherit the key
# (its -P shows allow_from_override = on); yubin does (documented)
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" -f other@example.org rcpt@example.org
is "$M_RC/$Y_RC" 0/0 "default: both send"
is "$(envelope_of "$SCRATCH/msmtp" | head -n 1)" "from <other@example.org>" \
    "default: msmtp takes -f (the key not inherited)"
is "$(envelope_of "$SCRATCH/yubin" | head -n 1)" "from <alice@example.test>" \
    "default: yubin keeps the account's from (documented)"
CASE

test_case 'a TLS setting GnuTLS refuses: msmtp 70 or 66, yubin 78 (documented)' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc"
both "$SCRATCH/m" 0 -C "$SCRATCH/rc" --tls-priorities=BOGUS rcpt@example.org
is "$M_RC/$Y_RC" 70/78 "tls_priorities BOGUS: msmtp 70 (EX_SOFTWARE), yubin 78 (EX_CONFIG)"
is "$(cat "$Y_ERR")" "yubin: during STARTTLS: invalid tls_priorities 'BOGUS': The request is invalid. (at 'BOGUS')" \
    "tls_priorities: the message"
both "$SCRATCH/m" 0 -C "$SCRATCH/rc" --tls-crl-file="$SCRATCH/none.crl" rcpt@example.org
is "$M_RC/$Y_RC" 66/78 "tls_crl_file missing: msmtp 66 (EX_NOINPUT), yubin 78 (EX_CONFIG)"
is "$(cat "$Y_ERR")" "yubin: during STARTTLS: cannot load tls_crl_file '$SCRATCH/none.crl': Error while reading file." \
    "tls_crl_file: the message"
is "$(find "$SCRATCH/yubin" -type f | wc -l)" 0 "nothing delivered"
CASE

# layout_rc FILE ACCOUNT_LINES...: defaults with a system trust file (as
# many msmtprc files have), then the test account with its own TLS lines
layout_rc() {
    local f=$1
    shift
    (
        umask 077
        {
            printf '%s\n' defaults "tls on" \
                "tls_trust_file /etc/ssl/certs/ca-certificates.crt" \
                "account test" "host localhost" \
                "port $SMTP_PORT_SUBMISSION_HI" "auth on" "user alice" \
                "password alice-pw" "from alice@example.test"
            printf '%s\n' "$@"
            echo "account default : test"
        } > "$f"
    )
}

test_case 'TLS layouts: the account overrides an inherited tls_trust_file' <<'CASE'
md5=$(certtool --fingerprint --hash md5 < "$SMTP_SERVER_CERT" 2>/dev/null |
    tr 'a-f' 'A-F' | sed 's/../&:/g; s/:$//')
for name in sha256 certcheck-off md5 own-ca; do
    case $name in
    sha256) layout="tls_fingerprint $SMTP_FINGERPRINT" ;;
    certcheck-off) layout="tls_certcheck off" ;;
    md5) layout="tls_fingerprint $md5" ;;
    own-ca) layout="tls_trust_file $SMTP_CA" ;;
    esac
    tok=$(new_token)
    bare_message "$SCRATCH/m" "$tok"
    layout_rc "$SCRATCH/rc" "$layout"
    both "$SCRATCH/m" 1 -C "$SCRATCH/rc" rcpt@example.org
    same_as_msmtp 1 "$name"
    rm -rf "$SCRATCH/msmtp" "$SCRATCH/yubin"
    [ "$name" = md5 ] && is "$(cat "$Y_ERR")" \
        "yubin: warning: account 'default': tls_fingerprint is an MD5 fingerprint, which can be forged; use the SHA-256 one (openssl x509 -noout -fingerprint -sha256)" \
        "md5: accepted with a warning"
done
layout_rc "$SCRATCH/rc"
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
both "$SCRATCH/m" 0 -C "$SCRATCH/rc" rcpt@example.org
is "$M_RC $Y_RC" "69 76" "only the inherited system CAs: both refuse (69 / 76, documented)"
CASE

test_case 'a wrong password: exit 77 for both' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc"
sed -i 's/^password .*/password wrong/' "$SCRATCH/rc"
both "$SCRATCH/m" 0 -C "$SCRATCH/rc" rcpt@example.org
is "$M_RC" 77 "msmtp: 77"
is "$Y_RC" 77 "yubin: 77"
is "$(find "$SCRATCH/yubin" -type f | wc -l)" 0 "nothing delivered"
CASE

test_case 'a closed port: msmtp 75, yubin queues: 0 (documented)' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
closed_port
compat_config "$SCRATCH/rc"
sed -i "s/^port .*/port $CLOSED_PORT/" "$SCRATCH/rc"
both "$SCRATCH/m" 0 -C "$SCRATCH/rc" rcpt@example.org
is "$M_RC" 75 "msmtp: 75"
is "$Y_RC" 0 "yubin: 0, the message queued (yubinrc: queue on-failure)"
is "$(count_files "$QUEUE_DIR/msg")" 1 "one message in the queue"
run_prog yubin "$SCRATCH/m" -C "$SCRATCH/rc" --port="$CLOSED_PORT" \
    rcpt@example.org
is "$RC" 75 "with command-line settings: not queued, 75 as msmtp"
is "$(count_files "$QUEUE_DIR/msg")" 1 "nothing more queued"
CASE

test_case 'an untrusted certificate: msmtp 69, yubin 76 (documented)' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc"
sed -i "s|^tls_trust_file .*|tls_trust_file /etc/ssl/certs/ca-certificates.crt|" \
    "$SCRATCH/rc"
both "$SCRATCH/m" 0 -C "$SCRATCH/rc" rcpt@example.org
is "$M_RC" 69 "msmtp: 69"
is "$Y_RC" 76 "yubin: 76"
is "$(find "$SCRATCH/yubin" -type f | wc -l)" 0 "nothing delivered"
CASE

test_case 'unknown options: 64 for both' <<'CASE'
printf '' > "$SCRATCH/empty"
run_prog msmtp "$SCRATCH/empty" --no-such-option r@example.org
is "$RC" 64 "msmtp: 64"
run_prog yubin "$SCRATCH/empty" --no-such-option r@example.org
is "$RC" 64 "yubin: 64"
is "$(head -n 1 "$ERR")" "yubin: unknown option '--no-such-option'" "message"
run_prog yubin "$SCRATCH/empty" --host=h -a x -P
is "$RC" 64 "--host with -a: 64"
is "$(cat "$ERR")" "yubin: cannot use both --host and --account" \
    "--host with -a: message"
CASE

# with_dev_log SOCKET CMD...: CMD in a mount namespace of its own whose
# /dev holds null, zero, random, urandom and log, a link to SOCKET (what
# syslog(3) writes to); the system's /dev/log is not touched
with_dev_log() {
    local sock=$1 d
    shift
    d=$(mktemp -d "$SCRATCH/dev.XXXXXX") || return 99
    unshare -m --propagation private sh -c '
        d=$1 sock=$2; shift 2
        for n in null zero random urandom; do
            : > "$d/$n" && mount --bind "/dev/$n" "$d/$n" || exit 99
        done
        ln -s "$sock" "$d/log" && mount --rbind "$d" /dev || exit 99
        exec "$@"' sh "$d" "$sock" "$@"
}

test_case 'syslog LOG_MAIL: the same line as msmtp, at mail.info' <<'CASE'
command -v unshare > /dev/null || { skip "syslog" "needs unshare (util-linux)"; return 0; }
start_bg syslog "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("READY 0", flush=True)
s.settimeout(60)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        try:
            f.write(s.recv(65536) + b"\n")
        except socket.timeout:
            break
' "$SCRATCH/log.sock" "$SCRATCH/syslog" || return 1
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc" "syslog LOG_MAIL"
for p in msmtp yubin; do
    [ "$p" = yubin ] && prog=$YUBIN || prog=$(command -v msmtp)
    with_dev_log "$SCRATCH/log.sock" timeout 30 "$prog" -C "$SCRATCH/rc" \
        rcpt@example.org < "$SCRATCH/m" > /dev/null 2> "$SCRATCH/$p.err"
    is "$?" 0 "$p: exit 0"
done
for _ in $(seq 20); do [ "$(wc -l < "$SCRATCH/syslog")" -ge 2 ] && break; sleep 0.1; done
m_line=$(grep ' msmtp: ' "$SCRATCH/syslog")
y_line=$(grep ' yubin: ' "$SCRATCH/syslog")
like "$y_line" '^<22>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} yubin: host=' \
    "<22>: facility mail, severity info, as msmtp's"
is "${y_line%%>*}" "${m_line%%>*}" "the same priority as msmtp's"
is "$(sed 's/^.*yubin: //' <<<"$y_line" | cut -d' ' -f1-6)" \
    "$(sed 's/^.*msmtp: //' <<<"$m_line" | cut -d' ' -f1-6)" \
    "the same fields as msmtp's line"
like "$y_line" " smtpstatus=250 smtpmsg='250 2\\.0\\.0 Ok: [^']*' exitcode=EX_OK account=default " \
    "smtpstatus, smtpmsg, exitcode, then yubin's own fields"
collect "$tok" 2 "$SCRATCH/copies"
CASE

# ------------------------------------------------------------ -S, --rmqs
test_case '-S: greeting, TLS, certificate, capabilities, AUTH (as msmtp sees them)' <<'CASE'
compat_config "$SCRATCH/rc"
printf '' > "$SCRATCH/empty"
run_prog msmtp "$SCRATCH/empty" -C "$SCRATCH/rc" -S
is "$RC" 0 "msmtp -S: exit 0"
cp "$OUT" "$SCRATCH/m.S"
run_prog yubin "$SCRATCH/empty" -C "$SCRATCH/rc" -S
is "$RC" 0 "yubin -S: exit 0"
[ "$RC" = 0 ] || diag_file "$ERR" 10
is "$(sed -n 1,2p "$OUT")" "SMTP server at localhost (127.0.0.1 port $SMTP_PORT_SUBMISSION_HI):
    $(sed -n 2p "$SCRATCH/m.S" | sed 's/^ *//')" "the greeting, as msmtp shows it"
like "$(cat "$OUT")" "^    SHA-256:     $SMTP_FINGERPRINT\$" "the certificate's SHA-256"
like "$(cat "$OUT")" '^    subject:     CN=localhost$' "its subject"
like "$(cat "$OUT")" '^    TLS1\.[23]/' "the TLS session"
m_auth=$(sed -n '/Supported authentication methods:/{n;p}' "$SCRATCH/m.S" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
y_auth=$(sed -n '/^Authentication methods:/{n;p}' "$OUT" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
is "$y_auth" "$m_auth" "the same AUTH methods as msmtp"
for kw in SIZE PIPELINING ETRN DSN; do
    like "$(cat "$SCRATCH/m.S")" "^    $kw" "msmtp lists $kw"
    like "$(cat "$OUT")" "^    $kw" "yubin lists $kw"
done
run_prog yubin "$SCRATCH/empty" -C "$SCRATCH/rc" -S --json
is "$RC" 0 "--json: exit 0"
is "$("$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d["tls"]["sha256"], d["peer"], "DSN" in d["capabilities"], sorted(d["auth"]) == sorted(sys.argv[1].split()))' "$m_auth" < "$OUT")" \
    "$SMTP_FINGERPRINT 127.0.0.1 port $SMTP_PORT_SUBMISSION_HI True True" \
    "--json: one object, the same facts"
unlike "$(cat "$OUT" "$ERR")" 'alice-pw' "no password sent or shown"
CASE

test_case '-S without TLS, and with a certificate refused' <<'CASE'
compat_config "$SCRATCH/rc"
sed -i "s/^port .*/port $SMTP_PORT_PLAIN/; s/^tls on/tls off/; s/^auth on/auth off/" "$SCRATCH/rc"
printf '' > "$SCRATCH/empty"
run_prog yubin "$SCRATCH/empty" -C "$SCRATCH/rc" -S
is "$RC" 0 "tls off: exit 0"
is "$(sed -n '/^TLS session:/{n;p}' "$OUT")" "    none (tls off)" "no TLS session"
unlike "$(cat "$OUT")" '^TLS certificate:' "no certificate"
compat_config "$SCRATCH/rc"
sed -i "s|^tls_trust_file .*|tls_trust_file /etc/ssl/certs/ca-certificates.crt|" "$SCRATCH/rc"
run_prog yubin "$SCRATCH/empty" -C "$SCRATCH/rc" -S
is "$RC" 76 "certificate refused: 76, as a send"
is "$(cat "$OUT")" "" "nothing printed"
CASE

test_case '--rmqs: Postfix refuses ETRN for the domain: 69 as msmtp' <<'CASE'
compat_config "$SCRATCH/rc"
printf '' > "$SCRATCH/empty"
run_prog msmtp "$SCRATCH/empty" -C "$SCRATCH/rc" --rmqs=@example.org
is "$RC" 69 "msmtp: 69"
run_prog yubin "$SCRATCH/empty" -C "$SCRATCH/rc" --rmqs=@example.org -v
is "$RC" 69 "yubin: 69"
like "$(cat "$ERR")" '^yubin: --> ETRN @example\.org$' "the wire line"
is "$(tail -n 1 "$ERR")" "yubin: the server refused ETRN @example.org: 459 <example.org>: service unavailable" \
    "the message, with the server's reply"
like "$(cat "$ERR")" '^yubin: --> AUTH ' "after AUTH, as msmtp"
run_prog yubin "$SCRATCH/empty" -C "$SCRATCH/rc" --rmqs=
is "$RC" 64 "--rmqs= : 64"
CASE

test_case '--rmqs: a server that starts its queue: 0' <<'CASE'
printf '%s\n' 'S: 220 etrn.test ESMTP' 'C: EHLO localhost' 'S+: 250-etrn.test' \
    'S: 250 ETRN' 'C: ETRN #outq' 'S: 250 Queuing started' 'C: QUIT' \
    'S: 221 bye' > "$SCRATCH/etrn.script"
start_bg etrn "$PYTHON" "$TESTS_DIR/fake/scripted_smtpd.py" \
    --script "$SCRATCH/etrn.script" --port 0 || return 1
printf 'account e\nhost 127.0.0.1\nport %s\ntls off\n' "$BG_PORT" > "$SCRATCH/rc"
printf '' > "$SCRATCH/empty"
run_prog yubin "$SCRATCH/empty" -C "$SCRATCH/rc" --rmqs='#outq' -v
is "$RC" 0 "exit 0"
[ "$RC" = 0 ] || diag_file "$ERR" 20
like "$(cat "$ERR")" '^yubin: ETRN #outq: 250 Queuing started$' "-v: the reply"
wait "$BG_PID"
is "$?" 0 "the server saw exactly the script's lines"
CASE

# ------------------------------------------------------------ --configure
test_case '--configure ADDRESS: RFC 6186 SRV records, as msmtp' <<'CASE'
command -v unshare > /dev/null || { skip "configure" "needs unshare (util-linux)"; return 0; }
closed_port
export YUBIN_AUTOCONFIG_URL=https://127.0.0.1:$CLOSED_PORT  # t0905's
ns=127.0.0.$((RANDOM % 200 + 20))
start_bg dns "$PYTHON" "$TESTS_DIR/fake/dns_srv.py" --addr "$ns" --port 53 \
    --srv _submission._tcp.example.test=0,1,587,mail.example.test \
    --srv _submissions._tcp.example.test=5,1,465,smtp.example.test \
    --srv _submission._tcp.sub.test=10,1,2587,b.sub.test \
    --srv _submission._tcp.sub.test=5,1,587,a.sub.test \
    --srv _submission._tcp.off.test=0,0,0,. \
    --srv _submissions._tcp.g.test=0,1,465,smtp.gmail.com || return 1
for a in joe@example.test joe@sub.test joe@g.test joe@off.test joe@none.test; do
    in_resolv "$ns" msmtp --configure="$a" > "$SCRATCH/m.out" 2> "$SCRATCH/m.err"
    m_rc=$?
    in_resolv "$ns" "$YUBIN" --configure="$a" > "$SCRATCH/y.out" 2> "$SCRATCH/y.err"
    y_rc=$?
    is "$y_rc" "$m_rc" "$a: the same exit status ($m_rc)"
    case $a in
    joe@g.test)
        is "$(grep -v '^#' "$SCRATCH/y.out")" \
            "$(grep -v '^#' "$SCRATCH/m.out" | sed 's/^user joe$/user joe@g.test/')
oauth2_provider google" "$a: msmtp's block with the OAuth 2.0 preset (documented)"
        like "$(cat "$SCRATCH/y.out")" '^# - sign in once: yubin --login -a joe@g\.test$' \
            "$a: says how to sign in"
        like "$(cat "$SCRATCH/y.out")" '^# - warning: the host does not match the mail domain; please check$' \
            "$a: msmtp's warning"
        ;;
    *)
        is "$(grep -v '^#' "$SCRATCH/y.out")" "$(grep -v '^#' "$SCRATCH/m.out")" \
            "$a: the same account block"
        ;;
    esac
done
in_resolv "$ns" "$YUBIN" --configure=joe@example.test > "$SCRATCH/y.out"
is "$(grep -v '^#' "$SCRATCH/y.out")" "account joe@example.test
host smtp.example.test
port 465
tls on
tls_starttls off
auth on
user joe
from joe@example.test" "_submissions first: implicit TLS on 465"
in_resolv "$ns" "$YUBIN" --configure=joe@sub.test > "$SCRATCH/y.out"
like "$(cat "$SCRATCH/y.out")" '^host a\.sub\.test$' "the lowest priority wins"
like "$(cat "$SCRATCH/y.out")" '^tls_starttls on$' "_submission: STARTTLS"
in_resolv "$ns" "$YUBIN" --configure=joe@none.test > /dev/null 2> "$SCRATCH/y.err"
is "$?" 68 "no record: 68 (EX_NOHOST), as msmtp"
is "$(cat "$SCRATCH/y.err")" "yubin: no SRV records for _submissions._tcp.none.test or _submission._tcp.none.test (RFC 6186) and no autoconfig document; ask your provider for the server's name and port" \
    "no record: the message (t0905: the autoconfig documents)"
in_resolv "$ns" "$YUBIN" --configure=nodomain > /dev/null 2> "$SCRATCH/y.err"
is "$?" 65 "no domain: 65"
CASE

# ------------------------------------------------------------ files
test_case 'msmtp example files load; -P prints their accounts as msmtp' <<'CASE'
[ -r "$EXAMPLES/msmtprc-user.example" ] ||
    { skip "examples" "no $EXAMPLES (msmtp's documentation)"; return 0; }
mkdir -p "$SCRATCH/bin"
printf '#!/bin/sh\necho secret\n' > "$SCRATCH/bin/gpg2"
chmod 755 "$SCRATCH/bin/gpg2"
install -m 600 "$EXAMPLES/msmtprc-user.example" "$SCRATCH/u.rc"
install -m 600 "$EXAMPLES/msmtprc-system.example" "$SCRATCH/s.rc"
keys='^(using account|(host|port|tls|tls_starttls|user|passwordeval|from|allow_from_override|set_from_header|syslog) =)'
printf '' > "$SCRATCH/empty"
for f in u.rc:freemail u.rc:freemail2 u.rc:company u.rc:default s.rc:default; do
    run_prog msmtp "$SCRATCH/empty" -C "$SCRATCH/${f%%:*}" -a "${f#*:}" -P
    grep -E "$keys" "$OUT" | sort > "$SCRATCH/m.P"
    run_prog yubin "$SCRATCH/empty" -C "$SCRATCH/${f%%:*}" -a "${f#*:}" -P
    is "$RC" 0 "$f: exit 0"
    grep -E "$keys" "$OUT" | sort > "$SCRATCH/y.P"
    is "$(cat "$SCRATCH/y.P")" "$(cat "$SCRATCH/m.P")" "$f: same settings"
    like "$(grep '^password' "$OUT" || echo none)" '^password = (\*|\(not set\))$' \
        "$f: no password shown"
done
CASE

test_case '-P masks the password' <<'CASE'
compat_config "$SCRATCH/rc"
printf '' > "$SCRATCH/empty"
run_prog yubin "$SCRATCH/empty" -C "$SCRATCH/rc" -P
is "$RC" 0 "exit 0"
like "$(cat "$OUT")" '^password = \*$' "password = *"
unlike "$(cat "$OUT" "$ERR")" 'alice-pw' "the password nowhere"
is "$(head -n 1 "$OUT")" "using account default from $SCRATCH/rc" \
    "using account ... from FILE, as msmtp"
CASE

test_case 'lookup: ~/.msmtprc, then $XDG_CONFIG_HOME/msmtp/config' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
mkdir -p "$SCRATCH/home/.config/msmtp"
compat_config "$SCRATCH/home/.config/msmtp/config"
run_prog yubin "$SCRATCH/m" -v rcpt@example.org
is "$RC" 0 "XDG default: exit 0"
like "$(cat "$ERR")" "^yubin: configuration: '$SCRATCH/home/.config/msmtp/config'\$" \
    "-v names ~/.config/msmtp/config"
delivered "$tok" 10 "delivered with ~/.config/msmtp/config"
compat_config "$SCRATCH/home/.msmtprc"
sed -i 's/^user .*/user nobody/' "$SCRATCH/home/.msmtprc"
run_prog yubin "$SCRATCH/m" -v rcpt@example.org
is "$RC" 77 "~/.msmtprc first (its wrong user: 77)"
like "$(cat "$ERR")" "^yubin: configuration: '$SCRATCH/home/.msmtprc'\$" \
    "-v names ~/.msmtprc"
run_prog msmtp "$SCRATCH/m" rcpt@example.org
is "$RC" 77 "msmtp reads the same file first"
mkdir -p "$SCRATCH/home/.config/yubin"
compat_config "$SCRATCH/home/.config/yubin/config"
run_prog yubin "$SCRATCH/m" -v rcpt@example.org
is "$RC" 0 "yubin's own file before msmtp's"
like "$(cat "$ERR")" "^yubin: configuration: '$SCRATCH/home/.config/yubin/config'\$" \
    "-v names it"
CASE

test_case 'no file at all: the places tried' <<'CASE'
printf '' > "$SCRATCH/empty"
if [ -e /etc/msmtprc ] || [ -e /usr/local/etc/yubinrc ] || [ -e /etc/yubinrc ]; then
    skip "no file" "a system configuration file exists"
    return 0
fi
run_prog yubin "$SCRATCH/empty" rcpt@example.org
is "$RC" 78 "exit 78"
like "$(cat "$ERR")" "tried .*'$SCRATCH/home/.msmtprc', '$SCRATCH/home/.config/msmtp/config', '/etc/msmtprc'" \
    "msmtp's places listed"
CASE

test_case 'SMTPSERVER and EMAIL, as msmtp' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
EXTRA_ENV="SMTPSERVER=localhost EMAIL=alice@example.test"
both "$SCRATCH/m" 1 --port="$SMTP_PORT_SUBMISSION_HI" --tls=on \
    --tls-trust-file="$SMTP_CA" --user=alice --passwordeval='echo alice-pw' \
    --auth=on rcpt@example.org
same_as_msmtp 1
printf '' > "$SCRATCH/empty"
run_prog yubin "$SCRATCH/empty" -P
like "$(cat "$OUT")" '^host = localhost$' "-P: host from SMTPSERVER"
like "$(cat "$OUT")" '^from = alice@example.test$' "-P: from from EMAIL"
is "$(head -n 1 "$OUT")" "using account default from SMTPSERVER and EMAIL" \
    "-P: where it came from"
CASE

test_case 'eval: a line from a command (msmtp 1.8)' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc"
sed -i 's/^password .*/eval echo password alice-pw/' "$SCRATCH/rc"
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" rcpt@example.org
same_as_msmtp 1
chmod 666 "$SCRATCH/rc"
run_prog yubin "$SCRATCH/m" -C "$SCRATCH/rc" rcpt@example.org
is "$RC" 78 "a file others may write: 78"
is "$(cat "$ERR")" "yubin: $SCRATCH/rc: can run commands (eval) but others may write to it; run: chmod go-w '$SCRATCH/rc'" \
    "message"
CASE

test_case 'logfile -: the msmtp log line on standard output' <<'CASE'
tok=$(new_token)
bare_message "$SCRATCH/m" "$tok"
compat_config "$SCRATCH/rc"
both "$SCRATCH/m" 1 -C "$SCRATCH/rc" -X - rcpt@example.org
same_as_msmtp 1
run_prog msmtp "$SCRATCH/m" -C "$SCRATCH/rc" -X - rcpt@example.org
m_line=$(head -n 1 "$OUT")
run_prog yubin "$SCRATCH/m" -C "$SCRATCH/rc" -X - rcpt@example.org
y_line=$(head -n 1 "$OUT")
is "$(cut -d' ' -f4-9 <<<"$y_line")" "$(cut -d' ' -f4-9 <<<"$m_line")" \
    "the same first fields as msmtp's line"
is "$(cut -d' ' -f4-9 <<<"$y_line")" \
    "host=localhost tls=on auth=on user=alice from=alice@example.test recipients=rcpt@example.org" \
    "msmtp's fields, in its order"
like "$y_line" "^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} host=" "msmtp's time format"
run_prog msmtp "$SCRATCH/m" -C "$SCRATCH/rc" -X - --logfile-time-format='%Y-%m-%d|' rcpt@example.org
m_line=$(head -n 1 "$OUT")
run_prog yubin "$SCRATCH/m" -C "$SCRATCH/rc" -X - --logfile-time-format='%Y-%m-%d|' rcpt@example.org
y_line=$(head -n 1 "$OUT")
is "${y_line%%|*}" "${m_line%%|*}" "--logfile-time-format: the same time field as msmtp"
like "$y_line" "^[0-9]{4}-[0-9]{2}-[0-9]{2}\| host=localhost " "--logfile-time-format: the format given"
like "$y_line" " smtpstatus=250 smtpmsg='250 2\\.0\\.0 Ok: .*' exitcode=EX_OK " \
    "smtpstatus, smtpmsg, exitcode as msmtp"
CASE

done_testing
