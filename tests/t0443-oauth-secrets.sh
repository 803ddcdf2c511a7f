#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0443-oauth-secrets.sh -- no OAuth 2.0 secret leaves yubin where it must
# not: the client secret (from oauth2_client_secret_eval), the refresh and
# access tokens, the device code, the authorization code and the PKCE
# verifier never appear in
#   - any program's argv (strace -f of every execve: the only children are
#     the secret command and the browser, with exactly the argv expected),
#   - the -v -v trace, the logfile, a queue file,
# while a device login, a browser login, a send whose cached token the real
# server refuses (refresh, AUTH again) and a queued send all happen.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout curl strace
if "$YUBIN" --version | grep -q '^OAuth 2.0: not built in'; then
    skip_all "built --without-oauth2 (t0440 checks the refusal)"
fi
start_real_server
[ -n "${OAUTH_URL:-}" ] || bail_out "the test server has no OAuth provider"

SECRET=client-secret-$RANDOM$RANDOM-do-not-show
SECRET_FILE=$SCRATCH/secret
printf '%s\n' "$SECRET" > "$SECRET_FILE"
P=t0443-$$

# fresh NAME [CONFIG_LINES...]: a new client $P-NAME with the client
# secret, rotating refresh tokens; $C (secret from a command, a logfile),
# no token file, TF; SECRETS holds what must not show (the client secret,
# then what the case adds: see tokens)
fresh() {
    local name=$1
    shift
    oauth_fresh "$name" "secret=$SECRET" rotate=1
    oauth_config "$C" "$CLIENT" "oauth2_client_secret_eval cat $SECRET_FILE" \
        "logfile $SCRATCH/yubin.log" "$@"
    TF=$(oauth_token_file)
    TRACE=$SCRATCH/trace
    SECRETS=("$SECRET")
}

# tokens: the refresh and access tokens of the token file, to SECRETS
tokens() {
    SECRETS+=("$(oauth_field refresh_token)" "$(oauth_field access_token)")
}

# traced CMD...: CMD under strace, every execve of the tree into $TRACE
# (set by fresh, so that CMD may run in the background)
traced() {
    # LeakSanitizer does not work under ptrace (the sanitizer build)
    timeout 60 env ASAN_OPTIONS=detect_leaks=0 strace -f -qq -s 65535 \
        -e trace=execve -e signal=none -o "$TRACE" "$@"
}

# children TRACE: "path [argv]" of every execve but yubin's own
children() {
    grep -o 'execve("[^"]*", \[[^]]*\]' "$1" | sed 's/^execve(//' |
        grep -v "^\"$YUBIN\"" | sort -u
}

SECRET_CHILDREN="\"/bin/sh\", [\"sh\", \"-c\", \"cat $SECRET_FILE\"]
\"/usr/bin/cat\", [\"cat\", \"$SECRET_FILE\"]"

# leak FILE...: "FILE: secret..." for every secret of SECRETS in a FILE
# (tokens are stored percent-encoded; these are URL-safe, so the same text)
leak() {
    local f s
    for f in "$@"; do
        for s in "${SECRETS[@]}"; do
            [ -n "$s" ] && grep -qF -- "$s" "$f" && echo "$f: ${s:0:8}..."
        done
    done
    return 0
}

# no_leaks N ERR TRACE LOG: the case's N secrets known, none in ERR (its
# -v -v trace), in TRACE (every execve: argv, env) or in LOG (the logfile
# a send writes); "" for none
no_leaks() {
    is "$(printf '%s\n' "${SECRETS[@]}" | grep -c .)" "$1" \
        "$1 secrets known to look for"
    is "$(leak "$2")" "" "no secret in the -v -v trace"
    [ -z "$3" ] || is "$(leak "$3")" "" "no secret in any execve (argv, env)"
    [ -z "$4" ] || {
        check "the logfile was written" test -s "$4"
        is "$(leak "$4")" "" "no secret in the logfile"
    }
}

# ------------------------------------------------ device login
test_case 'device login (traced)' <<'CASE'
    fresh device
    ERR=$SCRATCH/login.err
    traced "$YUBIN" -v -v -C "$C" --login --store=file \
        < /dev/null > /dev/null 2> "$ERR" &
    pid=$!
    for _ in $(seq 100); do
        grep -q '^yubin: and enter the code ' "$ERR" && break
        sleep 0.1
    done
    oauth_admin approve "client_id=$CLIENT" > /dev/null
    wait "$pid"
    is "$?" 0 "exit 0"
    is "$(children "$TRACE")" "$SECRET_CHILDREN" \
        "the secret command is the only child, run once"
    is "$(grep -c 'execve("/bin/sh"' "$TRACE")" 1 \
        "the secret command ran once for all the polls"
    tokens
    no_leaks 3 "$ERR" "$TRACE" ""
CASE

# ------------------------------------------------ refused token, refresh
test_case 'refused, refreshed, sent (traced)' <<'CASE'
    fresh refresh
    oauth_seed
    tokens
    oauth_admin expire "client_id=$CLIENT" > /dev/null
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    traced "$YUBIN" -v -v -C "$C" rcpt@example.org \
        < "$SCRATCH/$TOK.msg" > /dev/null 2> "$SCRATCH/send.err"
    is "$?" 0 "exit 0"
    is "$(children "$TRACE")" "$SECRET_CHILDREN" \
        "the secret command is the only child"
    is "$(grep -Ec '^yubin: \[ *[0-9]+\.[0-9] ms\] --> AUTH OAUTHBEARER <redacted>$' "$SCRATCH/send.err")" 2 \
        "both AUTH lines redacted"
    is "$(grep -c 'redacted' "$SCRATCH/send.err" | awk '{ print ($1 > 0) }')" 1 \
        "the trace did show the redacted lines"
    tokens
    no_leaks 5 "$SCRATCH/send.err" "$TRACE" "$SCRATCH/yubin.log"
CASE

# ------------------------------------------------ queued
test_case 'provider 503: queued' <<'CASE'
    fresh queued "queue on-failure"
    oauth_seed
    tokens
    oauth_admin expire "client_id=$CLIENT" > /dev/null
    oauth_admin set "client_id=$CLIENT" token_mode=503 > /dev/null
    oauth_age_token
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    timeout 60 "$YUBIN" -v -v -C "$C" rcpt@example.org < "$SCRATCH/$TOK.msg" \
        > /dev/null 2> "$SCRATCH/queue.err"
    is "$?" 0 "exit 0"
    qf=$(find "$XDG_STATE_HOME/yubin/queue/msg" -type f | head -n 1)
    is "$([ -n "$qf" ] && echo queued)" queued "a queue file to look at"
    is "$(leak "$qf")" "" "no secret in the queue file"
    no_leaks 3 "$SCRATCH/queue.err" "" "$SCRATCH/yubin.log"
CASE

# ------------------------------------------------ browser login
test_case 'browser login (traced)' <<'CASE'
    fresh browser
    cat > "$SCRATCH/browser" <<EOF
#!/bin/bash
loc=\$(curl -sS --cacert "$SMTP_CA" -o /dev/null -w '%{redirect_url}' "\$1")
printf '%s\n' "\$loc" > "$SCRATCH/browser.loc"
curl -sS -o /dev/null "\$loc"
EOF
    chmod 755 "$SCRATCH/browser"
    BROWSER=$SCRATCH/browser traced "$YUBIN" -v -v -C "$C" --login \
        --browser --store=file < /dev/null > /dev/null 2> "$SCRATCH/browser.err"
    is "$?" 0 "exit 0"
    url=$(sed -n 's/^  \(https:.*\)$/\1/p' "$SCRATCH/browser.err")
    browser_argv=$(children "$TRACE" | grep -F "\"$SCRATCH/browser\", [")
    is "$browser_argv" "\"$SCRATCH/browser\", [\"$SCRATCH/browser\", \"$url\"]" \
        "the browser's argv: itself and the authorization address, nothing else"
    unlike "$url" '[?&](code|code_verifier|client_secret)=' \
        "the authorization address holds no code, verifier or secret"
    SECRETS+=("$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' "$SCRATCH/browser.loc")")
    # the test's browser (the script and its curl) carries the code, as a
    # browser does; everything else must not
    grep -v -e "$SCRATCH/browser" -e 'execve("/usr/bin/curl"' "$TRACE" \
        > "$SCRATCH/yubin.trace"
    tokens
    no_leaks 4 "$SCRATCH/browser.err" "$SCRATCH/yubin.trace" ""
CASE

done_testing
