#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0600-clients.sh -- yubin as the sendmail program of real clients, sending
# through the real Postfix test server (tests/server/start.sh): mutt (batch
# mode), git send-email, bsd-mailx (-t with a Bcc: field in the input), and a
# cron-like run with an empty environment and aliases.  Each client calls a
# wrapper that logs its argv and its standard input, then runs yubin; the
# test checks that argv and the delivered copies (one per recipient in the
# shared Maildir, told apart by X-Original-To).
# The checks of delivered copies are code strings eval'd by per_copy (hence
# single quotes, and variables used only there).
# shellcheck disable=SC2016,SC2034,SC2154
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout mutt bsd-mailx git perl
start_real_server

CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-60}
PORT=$SMTP_PORT_SUBMISSION_HI

# setup_case NAME [CONFIG_LINES...]: $SCRATCH/NAME with a config for the
# real server, a scratch HOME and a wrapper that logs argv (one argument a
# line) to argv and standard input to stdin, then execs yubin; sets DIR
setup_case() {
    local name=$1
    shift
    DIR=$SCRATCH/$name
    mkdir -p "$DIR/home"
    real_config "$DIR/config" "$PORT" "$@"
    {
        echo '#!/bin/sh'
        echo "d='$DIR'"
        echo ': > "$d/argv"'
        echo 'for a in "$@"; do printf "%s\n" "$a" >> "$d/argv"; done'
        echo 'cat > "$d/stdin" || exit 74'
        echo "exec ${YUBIN_WRAPPER:-} '$YUBIN' -C \"\$d/config\" \"\$@\" < \"\$d/stdin\""
    } > "$DIR/wrapper"
    chmod 755 "$DIR/wrapper"
}

# run_client CMD...: run a client under timeout in $DIR with HOME=$DIR/home;
# stdin from $DIR/body; sets CRC, stdout+stderr in $DIR/client.log
run_client() {
    (cd "$DIR" && HOME=$DIR/home timeout -k 5 "$CLIENT_TIMEOUT" "$@") \
        < "$DIR/body" > "$DIR/client.log" 2>&1
    CRC=$?
    if [ "$CRC" != 0 ]; then
        diag "$1 exit $CRC"
        diag_file "$DIR/client.log" 40
        diag_file "$DIR/argv" 20
    fi
}

# copies TOKEN N: wait (10 s) until N delivered messages carry TOKEN; print
# their file names; false if fewer
copies() {
    local tok=$1 n=$2 files="" end=$((SECONDS + 10))
    while :; do
        files=$(find_delivered "$tok" 1)     # waits up to 1 s for the first
        [ "$(printf '%s\n' "$files" | grep -c .)" -ge "$n" ] && break
        [ "$SECONDS" -ge "$end" ] && break
        sleep 0.2
    done
    printf '%s\n' "$files" | grep .
    [ "$(printf '%s\n' "$files" | grep -c .)" -ge "$n" ]
}

# header FILE: the delivered message's header section, without the fields
# Postfix prepended
header() {
    delivered_body "$1" | awk '/^\r?$/ { exit } { print }'
}

# field_count FILE NAME: how many NAME: fields (any case) the header has
field_count() {
    header "$1" | grep -ic "^$2:"
}

# orig_to FILES...: the X-Original-To of each copy, sorted, space-separated
orig_to() {
    local f
    for f in "$@"; do
        sed -n 's/^X-Original-To: //p' "$f" | head -n 1
    done | sort | tr '\n' ' ' | sed 's/ $//'
}

# per_copy DESC CODE: ok if CODE (eval'd with F set to the file) succeeds
# for every copy in $COPIES (and there is one)
per_copy() {
    local desc=$1 code=$2 F bad=()
    for F in ${COPIES[@]+"${COPIES[@]}"}; do
        eval "$code" || bad+=("$F")
    done
    if [ "${#bad[@]}" = 0 ] && [ "${#COPIES[@]}" -gt 0 ]; then
        ok "$desc"
    else
        not_ok "$desc"
        [ "${#COPIES[@]}" -gt 0 ] || diag "no delivered copy"
        for F in ${bad[@]+"${bad[@]}"}; do
            diag "in $F:" "$(head -n 30 "$F")"
        done
    fi
}

no_bcc() { ! header "$1" | grep -qi '^bcc:'; }
once() { [ "$(field_count "$2" "$1")" = 1 ]; }
date_once() { once Date "$1"; }
msgid_once() { once Message-ID "$1"; }
from_once() { once From "$1"; }

# delivered3 TOKEN RCPTS: 2 TAP lines: three copies, to RCPTS (sorted);
# sets COPIES
delivered3() {
    local tok=$1 want=$2 files
    COPIES=()
    if files=$(copies "$tok" 3); then
        ok "three copies delivered"
    else
        not_ok "three copies delivered"
        diag "copies found: $(printf '%s\n' "$files" | grep -c .)"
        tail -n 20 "$SMTP_POSTFIX_LOG" 2>/dev/null | sed 's/^/# /'
    fi
    [ -n "$files" ] && mapfile -t COPIES < <(printf '%s\n' "$files")
    is "$(orig_to ${COPIES[@]+"${COPIES[@]}"})" "$want" "one copy per recipient"
}

# cleanup_copies: remove the copies of a case that passed
cleanup_copies() {
    case_failed || rm -f ${COPIES[@]+"${COPIES[@]}"}
    return 0
}

# ================================================ mutt (batch mode)
test_case 'mutt' <<'CASE'
    tok=$(new_token)
    setup_case mutt
    cat > "$DIR/muttrc" <<EOF
set sendmail="$DIR/wrapper"
set use_envelope_from
set from=alice@example.test
set realname="Alice Example"
set copy=no
set record=""
set charset=utf-8
my_hdr X-Yubin-Test: $tok
EOF
    printf 'Hello from mutt.\n.a line with a dot\n' > "$DIR/body"
    run_client mutt -n -F "$DIR/muttrc" -s "t0600 mutt $tok" \
        -c cc@example.org -b bcc@example.org to@example.org
    is "$CRC" 0 "exit 0"
    is "$(cat "$DIR/argv" 2>/dev/null)" "-f
alice@example.test
--
to@example.org
cc@example.org
bcc@example.org" "argv -f alice@example.test -- to cc bcc"
    mutt_msgid=$(sed -n 's/^Message-ID: //Ip' "$DIR/stdin" 2>/dev/null | head -n 1)
    delivered3 "$tok" "bcc@example.org cc@example.org to@example.org"
    per_copy "no Bcc field in any copy" 'no_bcc "$F"'
    per_copy "Date exactly once" 'date_once "$F"'
    per_copy "Message-ID exactly once" 'msgid_once "$F"'
    per_copy "mutt's own Message-ID kept" \
        '[ -n "$mutt_msgid" ] && header "$F" | grep -qiF "Message-ID: $mutt_msgid"'
    per_copy "From: Alice Example <alice@example.test>" \
        'header "$F" | grep -qx "From: Alice Example <alice@example.test>"'
    per_copy "envelope sender alice@example.test" \
        'head -n 1 "$F" | grep -qx "Return-Path: <alice@example.test>"'
    per_copy "the body arrived" 'grep -qx "\.a line with a dot" "$F"'
    cleanup_copies
CASE

# ================================================ git send-email
# git-send-email needs Mail::Address (Debian: libmailtools-perl, only a
# Recommends of git-email)
gse_ok=1
gse_why=
if ! [ -x "$(git --exec-path)/git-send-email" ]; then
    gse_ok=0 gse_why="needs git-email"
elif ! perl -MMail::Address -e 1 2>/dev/null; then
    gse_ok=0 gse_why="git send-email needs Mail::Address (libmailtools-perl)"
fi

# gse_case NAME EXTRA_ARGS...: a repo with one commit, format-patch, send it
gse_case() {
    local name=$1
    shift
    tok=$(new_token)
    setup_case "$name"
    : > "$DIR/body"
    export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$DIR/home/.gitconfig
    (
        export HOME=$DIR/home
        cd "$DIR" && git init -q repo && cd repo &&
        git config user.name "Alice Example" &&
        git config user.email alice@example.test &&
        printf 'hello from t0600\n' > file.txt && git add file.txt &&
        git commit -q -m "t0600 $name $tok" &&
        git format-patch -q -1 --add-header="X-Yubin-Test: $tok" -o "$DIR/patches"
    ) > "$DIR/git.log" 2>&1 || { diag_file "$DIR/git.log"; }
    run_client git -C "$DIR/repo" send-email --sendmail-cmd="$DIR/wrapper" \
        --to=list@example.org --cc=cc@example.org --bcc=bcc@example.org \
        --from='Alice <alice@example.test>' --confirm=never --no-validate \
        --suppress-cc=all "$@" "$DIR"/patches/*.patch
}

test_case 'git send-email' <<'CASE'
    [ "$gse_ok" = 1 ] || skip_all "$gse_why"
    gse_case git-send-email
    is "$CRC" 0 "exit 0"
    is "$(cat "$DIR/argv" 2>/dev/null)" "-i
list@example.org
cc@example.org
bcc@example.org" "argv -i list cc bcc"
    delivered3 "$tok" "bcc@example.org cc@example.org list@example.org"
    per_copy "no Bcc field in any copy" 'no_bcc "$F"'
    per_copy "Subject [PATCH] t0600 ..." \
        'header "$F" | grep -q "^Subject: \[PATCH\] t0600 git-send-email $tok\$"'
    per_copy "Date and Message-Id exactly once" \
        'once Date "$F" && once Message-ID "$F"'
    per_copy "From: Alice <alice@example.test>" \
        'header "$F" | grep -qx "From: Alice <alice@example.test>"'
    per_copy "the patch arrived" 'grep -qx "+hello from t0600" "$F"'
    cleanup_copies
CASE

test_case 'git send-email --envelope-sender' <<'CASE'
    [ "$gse_ok" = 1 ] || skip_all "$gse_why"
    gse_case git-send-email-f --envelope-sender=alice+git@example.test
    is "$CRC" 0 "exit 0"
    is "$(cat "$DIR/argv" 2>/dev/null)" "-f
alice+git@example.test
-i
list@example.org
cc@example.org
bcc@example.org" "argv -f ADDR -i list cc bcc (no --)"
    delivered3 "$tok" "bcc@example.org cc@example.org list@example.org"
    per_copy "envelope sender alice+git@example.test" \
        'head -n 1 "$F" | grep -qx "Return-Path: <alice+git@example.test>"'
    per_copy "no Bcc field in any copy" 'no_bcc "$F"'
    cleanup_copies
CASE

# ================================================ bsd-mailx (-i -t)
test_case 'mailx' <<'CASE'
    tok=$(new_token)
    setup_case mailx
    printf 'set sendmail=%s\n' "$DIR/wrapper" > "$DIR/mailrc"
    printf 'Hello from mailx.\nX-Yubin-Test: %s\n' "$tok" > "$DIR/body"
    MAILRC=$DIR/mailrc run_client bsd-mailx -n -s "t0600 mailx $tok" \
        -c cc@example.org -b bcc@example.org to@example.org
    is "$CRC" 0 "exit 0"
    is "$(cat "$DIR/argv" 2>/dev/null)" "-i
-t" "argv -i -t"
    # what makes the test mean something: the input has the Bcc field and
    # none of the fields yubin must add
    like "$(cat "$DIR/stdin" 2>/dev/null)" '^Bcc: bcc@example\.org$' "its input has Bcc: bcc@example.org"
    unlike "$(sed '/^$/q' "$DIR/stdin" 2>/dev/null)" '^(From|Date|Message-ID):' \
        "its input has no From, Date or Message-ID"
    delivered3 "$tok" "bcc@example.org cc@example.org to@example.org"
    per_copy "Bcc field stripped" 'no_bcc "$F"'
    per_copy "Date added once" 'date_once "$F"'
    per_copy "Message-ID added once" 'msgid_once "$F"'
    per_copy "From: alice@example.test added once" \
        'from_once "$F" && header "$F" | grep -qx "From: alice@example.test"'
    per_copy "the same Message-ID in every copy (one transaction)" \
        '[ "$(header "$F" | grep -i "^Message-ID:")" = "$(header "${COPIES[0]}" | grep -i "^Message-ID:")" ]'
    cleanup_copies
CASE

test_case 'mailx -r' <<'CASE'
    tok=$(new_token)
    setup_case mailx-r
    printf 'set sendmail=%s\n' "$DIR/wrapper" > "$DIR/mailrc"
    printf 'Hello from mailx -r.\nX-Yubin-Test: %s\n' "$tok" > "$DIR/body"
    MAILRC=$DIR/mailrc run_client bsd-mailx -n -r alice+mailx@example.test \
        -s "t0600 mailx -r $tok" -c cc@example.org -b bcc@example.org to@example.org
    is "$CRC" 0 "exit 0"
    is "$(cat "$DIR/argv" 2>/dev/null)" "-i
-t
-f
alice+mailx@example.test" "argv -i -t -f ADDR"
    delivered3 "$tok" "bcc@example.org cc@example.org to@example.org"
    per_copy "Bcc field stripped" 'no_bcc "$F"'
    per_copy "envelope sender alice+mailx@example.test" \
        'head -n 1 "$F" | grep -qx "Return-Path: <alice+mailx@example.test>"'
    per_copy "From (mailx's own), Date, Message-ID exactly once" \
        'from_once "$F" && date_once "$F" && msgid_once "$F" &&
          header "$F" | grep -qx "From: alice+mailx@example.test"'
    cleanup_copies
CASE

# ================================================ cron-like run
# env -i: no XDG_*, no USER, LOGNAME or MAIL; HOME and a minimal PATH only
# cron_msg FILE TOKEN: a message as Debian's cron writes it
cron_msg() {
    {
        printf 'From: root (Cron Daemon)\n'
        printf 'To: root\n'
        printf 'Subject: Cron <root@host> /usr/local/bin/job %s\n' "$2"
        printf 'MIME-Version: 1.0\n'
        printf 'Content-Type: text/plain; charset=UTF-8\n'
        printf 'Content-Transfer-Encoding: 8bit\n'
        printf 'X-Cron-Env: <SHELL=/bin/sh>\n'
        printf 'X-Cron-Env: <HOME=/root>\n'
        printf 'X-Cron-Env: <PATH=/usr/bin:/bin>\n'
        printf 'X-Cron-Env: <LOGNAME=root>\n'
        printf '\n'
        printf 'X-Yubin-Test: %s\n' "$2"
        printf 'job output\n'
    } > "$1"
}

# cron_run NAME ARGS...: run yubin with an empty environment
cron_run() {
    mkdir -p "$SCRATCH/$1/home"
    local home=$SCRATCH/$1/home
    shift
    YUBIN_WRAPPER="env -i HOME=$home PATH=/usr/bin:/bin ${YUBIN_WRAPPER:-}" \
        run_yubin "$@"
}

# cron_case TOKEN WANT_RCPT: 3 TAP lines after a cron_run that should send
cron_case() {
    local tok=$1 want=$2 files
    is "$RC" 0 "exit 0"
    [ "$RC" = 0 ] || diag_file "$ERR" 20
    COPIES=()
    if files=$(copies "$tok" 1); then
        mapfile -t COPIES < <(printf '%s\n' "$files")
        is "$(orig_to "${COPIES[@]}")" "$want" "delivered to $want"
    else
        not_ok "delivered to $want"
    fi
    per_copy "header unchanged (To: root), Date and Message-ID added once" \
        'header "$F" | grep -qx "To: root" && date_once "$F" && msgid_once "$F" &&
              header "$F" | grep -qx "From: root (Cron Daemon)"'
    cleanup_copies
}

ALIASES_ROOT=$SCRATCH/aliases.root
ALIASES_DEFAULT=$SCRATCH/aliases.default
printf '# cron mail\nroot: alice@example.org\n' > "$ALIASES_ROOT"
printf 'default: alice@example.org\n' > "$ALIASES_DEFAULT"

# cron_send CONFIG_LINES -- YUBIN_ARGS...: a cron message (token in tok)
# through a config for the real server with CONFIG_LINES, run by cron_run
cron_send() {
    local -a lines=()
    while [ "$1" != -- ]; do
        lines+=("$1")
        shift
    done
    shift
    tok=$(new_token)
    cron_msg "$SCRATCH/cron.msg" "$tok"
    real_config "$SCRATCH/cron.conf" "$PORT" ${lines[@]+"${lines[@]}"}
    cron_run cron "$SCRATCH/cron.msg" -C "$SCRATCH/cron.conf" "$@"
}

test_case 'cron -t, alias root' '
    cron_send "aliases $ALIASES_ROOT" -- -t
    cron_case "$tok" alice@example.org
'

# Vixie cron's own arguments, and the "default:" alias
test_case 'cron -FCronDaemon -odi -oem -oi -t, alias default' '
    cron_send "aliases $ALIASES_DEFAULT" -- -FCronDaemon -odi -oem -oi -t
    cron_case "$tok" alice@example.org
'

test_case 'cron -t, maildomain example.net' '
    cron_send "maildomain example.net" -- -t
    cron_case "$tok" root@example.net
'

# no alias, no maildomain: refused before connecting, with a clear message
test_case 'cron, no alias and no maildomain' <<'CASE'
    cron_send -- -t
    is "$RC" 67 "exit 67"
    like "$(cat "$ERR")" "^yubin: recipient 'root' has no domain and no alias: set 'aliases' or 'maildomain'" \
        "the message says what to set"
    not_delivered "$tok" 2
CASE

done_testing
