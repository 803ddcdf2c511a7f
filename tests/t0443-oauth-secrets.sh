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
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout curl strace
if "$YUBIN" --version | grep -q '^OAuth 2.0: not built in'; then
    skip_all "built --without-oauth2 (t0440 checks the refusal)"
fi
start_real_server
[ -n "${OAUTH_URL:-}" ] || bail_out "the test server has no OAuth provider"

plan 17

TF=$(oauth_token_file)
CLIENT=t0443-$$
SECRET=client-secret-$RANDOM$RANDOM-do-not-show
printf '%s\n' "$SECRET" > "$SCRATCH/secret"
oauth_new_client "$CLIENT" "secret=$SECRET" rotate=1
C=$SCRATCH/c.conf
oauth_config "$C" "$CLIENT" "oauth2_client_secret_eval cat $SCRATCH/secret" \
    "logfile $SCRATCH/yubin.log"

# traced CMD...: CMD under strace, every execve of the tree into a new
# $TRACE (set before the command starts, so it may run in the background)
_tn=0
traced() {
    # LeakSanitizer does not work under ptrace (the sanitizer build)
    timeout 60 env ASAN_OPTIONS=detect_leaks=0 strace -f -qq -s 65535 \
        -e trace=execve -e signal=none -o "$TRACE" "$@"
}
new_trace() {
    _tn=$((_tn + 1))
    TRACE=$SCRATCH/trace.$_tn
}

# children TRACE: "path [argv]" of every execve but yubin's own
children() {
    grep -o 'execve("[^"]*", \[[^]]*\]' "$1" | sed 's/^execve(//' |
        grep -v "^\"$YUBIN\"" | sort -u
}

# ------------------------------------------------ device login
ERR=$SCRATCH/login.err
new_trace
traced "$YUBIN" -v -v -C "$C" --login --store=file \
    < /dev/null > /dev/null 2> "$ERR" &
pid=$!
for _ in $(seq 100); do
    grep -q '^yubin: and enter the code ' "$ERR" && break
    sleep 0.1
done
oauth_admin approve "client_id=$CLIENT" > /dev/null
wait "$pid"
is "$?" 0 "device login (traced): exit 0"
SECRET_CHILDREN="\"/bin/sh\", [\"sh\", \"-c\", \"cat $SCRATCH/secret\"]
\"/usr/bin/cat\", [\"cat\", \"$SCRATCH/secret\"]"
is "$(children "$TRACE")" "$SECRET_CHILDREN" \
    "device login: the secret command is the only child, run once"
is "$(grep -c 'execve("/bin/sh"' "$TRACE")" 1 \
    "device login: the secret command ran once for all the polls"
cp "$ERR" "$SCRATCH/all.err"
cp "$TRACE" "$SCRATCH/all.trace"
RT1=$(awk '$1 == "refresh_token" { print $2 }' "$TF")
AT1=$(awk '$1 == "access_token" { print $2 }' "$TF")

# ------------------------------------------------ refused token, refresh
oauth_admin expire "client_id=$CLIENT" > /dev/null
TOK=$(new_token)
make_message "$SCRATCH/$TOK.msg" "$TOK"
new_trace
traced "$YUBIN" -v -v -C "$C" rcpt@example.org \
    < "$SCRATCH/$TOK.msg" > /dev/null 2> "$SCRATCH/send.err"
is "$?" 0 "refused, refreshed, sent (traced): exit 0"
is "$(children "$TRACE")" "$SECRET_CHILDREN" \
    "send: the secret command is the only child"
is "$(grep -c '^yubin: --> AUTH OAUTHBEARER <redacted>$' "$SCRATCH/send.err")" 2 \
    "send: both AUTH lines redacted"
cat "$SCRATCH/send.err" >> "$SCRATCH/all.err"
cat "$TRACE" >> "$SCRATCH/all.trace"
RT2=$(awk '$1 == "refresh_token" { print $2 }' "$TF")
AT2=$(awk '$1 == "access_token" { print $2 }' "$TF")

# ------------------------------------------------ queued
oauth_admin expire "client_id=$CLIENT" > /dev/null
oauth_admin set "client_id=$CLIENT" token_mode=503 > /dev/null
oauth_config "$C" "$CLIENT" "oauth2_client_secret_eval cat $SCRATCH/secret" \
    "logfile $SCRATCH/yubin.log" "queue on-failure"
oauth_age_token
TOK=$(new_token)
make_message "$SCRATCH/$TOK.msg" "$TOK"
timeout 60 "$YUBIN" -v -v -C "$C" rcpt@example.org < "$SCRATCH/$TOK.msg" \
    > /dev/null 2> "$SCRATCH/queue.err"
is "$?" 0 "provider 503: queued (exit 0)"
cat "$SCRATCH/queue.err" >> "$SCRATCH/all.err"
oauth_admin set "client_id=$CLIENT" token_mode=ok > /dev/null

# ------------------------------------------------ browser login
cat > "$SCRATCH/browser" <<EOF
#!/bin/bash
loc=\$(curl -sS --cacert "$SMTP_CA" -o /dev/null -w '%{redirect_url}' "\$1")
printf '%s\n' "\$loc" > "$SCRATCH/browser.loc"
curl -sS -o /dev/null "\$loc"
EOF
chmod 755 "$SCRATCH/browser"
new_trace
BROWSER=$SCRATCH/browser traced "$YUBIN" -v -v -C "$C" --login \
    --browser --store=file < /dev/null > /dev/null 2> "$SCRATCH/browser.err"
is "$?" 0 "browser login (traced): exit 0"
url=$(sed -n 's/^  \(https:.*\)$/\1/p' "$SCRATCH/browser.err")
browser_argv=$(children "$TRACE" | grep -F "\"$SCRATCH/browser\", [")
is "$browser_argv" "\"$SCRATCH/browser\", [\"$SCRATCH/browser\", \"$url\"]" \
    "the browser's argv: itself and the authorization address, nothing else"
unlike "$url" '[?&](code|code_verifier|client_secret)=' \
    "the authorization address holds no code, verifier or secret"
CODE=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' "$SCRATCH/browser.loc")
cat "$SCRATCH/browser.err" >> "$SCRATCH/all.err"
# the test's browser (the script and its curl) carries the code, as a
# browser does; everything else must not
grep -v -e "$SCRATCH/browser" -e 'execve("/usr/bin/curl"' "$TRACE" \
    >> "$SCRATCH/all.trace"
RT3=$(awk '$1 == "refresh_token" { print $2 }' "$TF")
AT3=$(awk '$1 == "access_token" { print $2 }' "$TF")

# ------------------------------------------------ where secrets must not be
secrets=("$SECRET" "$RT1" "$AT1" "$RT2" "$AT2" "$RT3" "$AT3" "$CODE")
is "$(printf '%s\n' "${secrets[@]}" | grep -c .)" 8 \
    "eight secrets known to look for"
# tokens are stored percent-encoded; these are URL-safe, so the same text
leak() {
    local f s
    for f in "$@"; do
        for s in "${secrets[@]}"; do
            [ -n "$s" ] && grep -qF -- "$s" "$f" && echo "$f: ${s:0:8}..."
        done
    done
    return 0
}
is "$(leak "$SCRATCH/all.err")" "" "no secret in any -v -v trace"
is "$(leak "$SCRATCH/all.trace")" "" "no secret in any execve (argv, env)"
is "$(leak "$SCRATCH/yubin.log")" "" "no secret in the logfile"
qf=$(find "$XDG_STATE_HOME/yubin/queue/msg" -type f | head -n 1)
is "$([ -n "$qf" ] && echo queued)" queued "a queue file to look at"
is "$(leak "$qf")" "" "no secret in the queue file"
is "$(grep -c 'redacted' "$SCRATCH/all.err" | awk '{ print ($1 > 0) }')" 1 \
    "the traces did show the redacted lines"

done_testing
