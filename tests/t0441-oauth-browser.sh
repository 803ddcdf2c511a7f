#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0441-oauth-browser.sh -- yubin --login --browser: authorization code with
# PKCE (RFC 7636) and a loopback redirect (RFC 8252) against the loopback
# provider, the test playing the browser:
#   - $BROWSER is started with the authorization address; it follows the
#     provider's redirect to yubin's 127.0.0.1 listener: signed in, the
#     provider verified the PKCE verifier, and a message is delivered
#     through the real server with the new token;
#   - an answer with the wrong state is refused (HTTP 400, a warning) and
#     the sign-in goes on; the right one then works;
#   - with no browser, the address the browser ends on is pasted on
#     standard input (the SSH case), a wrong one first;
#   - the provider checks the verifier (a wrong one: invalid_grant);
#   - the provider denies: 77 and the provider's error.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout curl mkfifo
if "$YUBIN" --version | grep -q '^OAuth 2.0: not built in'; then
    skip_all "built --without-oauth2 (t0440 checks the refusal)"
fi
start_real_server
[ -n "${OAUTH_URL:-}" ] || bail_out "the test server has no OAuth provider"

P=t0441-$$

# fresh NAME FIELD=VALUE...: oauth_fresh, and TF, the token file
fresh() {
    oauth_fresh "$@"
    TF=$(oauth_token_file)
}

# the browser (a fixture): the provider approves at once and redirects to
# yubin's listener; with FORGE=1 an answer with a forged state goes first;
# what it saw goes to $BROWSER_DIR (the case's scratch: login_browser)
BROWSER_SCRIPT=$SCRATCH/browser
cat > "$BROWSER_SCRIPT" <<EOF
#!/bin/bash
d=\$BROWSER_DIR
loc=\$(curl -sS --cacert "$SMTP_CA" -o /dev/null -w '%{redirect_url}' "\$1")
printf '%s\n' "\$1" > "\$d/browser.url"
printf '%s\n' "\$loc" > "\$d/browser.loc"
port=\$(sed -n 's|^http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' <<< "\$loc")
if [ "\${IDLE:-0}" -gt 0 ]; then
    # local clients that connect and say nothing, before the browser
    for i in \$(seq "\$IDLE"); do
        eval "exec \$((i + 10))<>/dev/tcp/127.0.0.1/\$port"
    done
fi
if [ "\${FORGE:-0}" = 1 ]; then
    curl -sS -o "\$d/forged.page" -w '%{http_code}' \\
        "\${loc%%state=*}state=forged" > "\$d/forged.status"
fi
curl -sS -o "\$d/browser.page" -w '%{http_code}' \\
    -H "Cookie: big=\$(head -c 20000 /dev/zero | tr '\\0' x)" "\$loc" \\
    > "\$d/browser.status"
EOF
chmod 755 "$BROWSER_SCRIPT"

# login_browser ARGS...: yubin --login --browser with the test's browser
login_browser() {
    rm -f "$SCRATCH"/browser.* "$SCRATCH"/forged.*
    BROWSER_DIR=$SCRATCH BROWSER=$BROWSER_SCRIPT run_yubin /dev/null -C "$C" \
        --login --browser --store=file "$@"
}

# paste_login: yubin --login --browser without a browser, reading the
# pasted address from the fifo $SCRATCH/paste (fd 7 writes to it); sets
# PID, and URL (the authorization address) and LOC (where the provider
# sends the browser) once yubin shows it
paste_login() {
    mkfifo "$SCRATCH/paste"
    env -u BROWSER -u DISPLAY -u WAYLAND_DISPLAY timeout 60 "$YUBIN" -C "$C" \
        --login --browser --store=file < "$SCRATCH/paste" \
        > "$SCRATCH/paste.out" 2> "$SCRATCH/paste.err" &
    PID=$!
    test_when_finished 'exec 7>&-; kill "$PID" 2>/dev/null; true'
    exec 7> "$SCRATCH/paste"
    URL=
    for _ in $(seq 100); do
        URL=$(sed -n 's/^  \(https:.*\)$/\1/p' "$SCRATCH/paste.err")
        [ -n "$URL" ] && break
        sleep 0.1
    done
    LOC=$(curl -sS --cacert "$SMTP_CA" -o /dev/null -w '%{redirect_url}' "$URL")
}

# ------------------------------------------------ the browser comes back
test_case 'browser login' <<'CASE'
    fresh browser
    login_browser
    is "$RC" 0 "exit 0"
    url=$(cat "$SCRATCH/browser.url")
    port=$(sed -n 's|.*redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\([0-9]*\)%2F&.*|\1|p' \
        <<< "$url")
    like "$url" "^$OAUTH_URL/authorize\\?response_type=code&client_id=$CLIENT&redirect_uri=http%3A%2F%2F127\\.0\\.0\\.1%3A[0-9]+%2F&scope=mail&state=[A-Za-z0-9_-]{22}&code_challenge=[A-Za-z0-9_-]{43}&code_challenge_method=S256&login_hint=alice\$" \
        "the authorization address: every RFC 6749 / 7636 parameter"
    is "$(cat "$ERR")" "yubin: to sign in to the OAuth 2.0 provider as alice, \
open this address in a browser:
  $url
yubin: waiting up to 10 minutes for the browser to come back to \
http://127.0.0.1:$port/
yubin: if the browser runs on another machine, paste here the address it \
shows after the sign-in (it starts with http://127.0.0.1:$port/)
yubin: signed in to the OAuth 2.0 provider as alice; the refresh token is in \
$TF (mode 0600: only you and root can read it)" \
        "exactly what the user is told"
    is "$(cat "$SCRATCH/browser.status")" 200 "the browser got a page"
    like "$(cat "$SCRATCH/browser.page")" 'Signed in: yubin has what it needs' \
        "... saying the sign-in worked"
    is "$(oauth_stat "$CLIENT" code_tokens)" 1 "one authorization_code grant"
    is "$(oauth_stat "$CLIENT" pkce_verified)" 1 \
        "the provider verified yubin's PKCE verifier"
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    run_yubin "$SCRATCH/$TOK.msg" -C "$C" rcpt@example.org
    is "$RC" 0 "a send with the new token: exit 0"
    delivered "$TOK"
CASE

# ------------------------------------------------ a forged answer first
test_case 'a forged answer first' <<'CASE'
    fresh forged
    FORGE=1 login_browser
    is "$RC" 0 "still signed in"
    is "$(cat "$SCRATCH/forged.status")" 400 "the forged answer got HTTP 400"
    like "$(cat "$SCRATCH/forged.page")" 'does not belong to the sign-in' \
        "... and a page saying why"
    port=$(sed -n 's|^http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$SCRATCH/browser.loc")
    like "$(cat "$ERR")" "^yubin: warning: ignored an answer on http://127\\.0\\.0\\.1:$port/ with the wrong state \\(not from this sign-in\\)\$" \
        "a warning on the terminal"
    is "$(oauth_stat "$CLIENT" code_tokens)" 1 "the real code was exchanged"
CASE

# ------------------------------------------------ idle local clients
test_case '12 idle local connections before the browser' <<'CASE'
    fresh idle
    IDLE=12 login_browser
    is "$RC" 0 "still signed in"
    is "$(seconds_below "$SECS" 8 && echo fast)" fast \
        "... without waiting for them (${SECS}s; each gets 2 s at most)"
    is "$(cat "$SCRATCH/browser.status")" 200 \
        "a browser request with 20 KB of cookies is answered"
CASE

# ------------------------------------------------ pasted (SSH)
test_case 'pasted address' <<'CASE'
    fresh paste
    paste_login
    printf 'not an address\n' >&7
    printf '%sstate=wrong\n' "${LOC%%state=*}" >&7
    sleep 0.5
    printf '%s\n' "$LOC" >&7
    exec 7>&-
    wait "$PID"
    RC=$?
    is "$RC" 0 "signed in"
    like "$(cat "$SCRATCH/paste.err")" "^yubin: warning: that is not the address the browser shows after the sign-in \\(it starts with http://127\\.0\\.0\\.1:[0-9]+/ and holds a code\\)\$" \
        "junk pasted: a warning"
    like "$(cat "$SCRATCH/paste.err")" '^yubin: warning: that address does not belong to this sign-in \(wrong state\); paste the one the browser shows now$' \
        "a wrong state pasted: a warning"
    like "$(tail -n 1 "$SCRATCH/paste.err")" '^yubin: signed in to the OAuth 2\.0 provider as alice; ' \
        "then the right address: signed in"
    is "$(oauth_stat "$CLIENT" pkce_verified)" 1 "PKCE verified"
    is "$(stat -c %a "$TF")" 600 "token file 0600"
CASE

# a wrong address and the right one in one paste, the last line without
# its newline, then end of input
test_case 'wrong + right address in one paste, no final newline' <<'CASE'
    fresh paste-eof
    paste_login
    printf '%sstate=wrong\n%s' "${LOC%%state=*}" "$LOC" >&7
    exec 7>&-
    wait "$PID"
    is "$?" 0 "signed in"
CASE

# ------------------------------------------------ the provider checks PKCE
test_case 'the provider checks PKCE' <<'CASE'
    fresh pkce
    redir=http://127.0.0.1:9/
    loc=$(curl -sS --cacert "$SMTP_CA" -o /dev/null -w '%{redirect_url}' -G \
        --data-urlencode response_type=code --data-urlencode "client_id=$CLIENT" \
        --data-urlencode "redirect_uri=$redir" --data-urlencode state=s \
        --data-urlencode code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM \
        --data-urlencode code_challenge_method=S256 "$OAUTH_URL/authorize")
    code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<< "$loc")
    answer=$(curl -sS --cacert "$SMTP_CA" --data-urlencode grant_type=authorization_code \
        --data-urlencode "code=$code" --data-urlencode "redirect_uri=$redir" \
        --data-urlencode "client_id=$CLIENT" --data-urlencode code_verifier=wrong-verifier-wrong-verifier-wrong-verifier \
        "$OAUTH_URL/token")
    like "$answer" '"error": "invalid_grant"' "a wrong PKCE verifier: invalid_grant"
    is "$(oauth_stat "$CLIENT" pkce_verified)" 0 "a wrong verifier is not verified"
CASE

# ------------------------------------------------ denied
test_case 'the provider denies' <<'CASE'
    fresh deny
    oauth_admin set "client_id=$CLIENT" deny=1 > /dev/null
    login_browser
    is "$RC" 77 "exit 77"
    is "$(tail -n 1 "$ERR")" "yubin: the sign-in failed: access_denied" \
        "the message"
    like "$(cat "$SCRATCH/browser.page")" 'The sign-in failed' \
        "the browser is told to look at the terminal"
    is "$([ -e "$TF" ] || echo none)" none "nothing stored"
CASE

# ------------------------------------------------ flows an account lacks
test_case '--device without a device endpoint' <<'CASE'
    fresh nodevice
    oauth_config "$C" "$CLIENT" "oauth2_device_endpoint"
    run_yubin /dev/null -C "$C" --login --device
    is "$RC" 78 "exit 78"
    is "$(cat "$ERR")" "yubin: --device needs oauth2_device_endpoint" \
        "the message"
CASE

test_case 'Google with --device' <<'CASE'
    write_config "$SCRATCH/google.conf" "host smtp.gmail.com" "user a@gmail.com" \
        "oauth2_provider google" "oauth2_client_id x" "oauth2_client_secret y"
    run_yubin /dev/null -C "$SCRATCH/google.conf" --login --device
    is "$RC" 78 "exit 78"
    is "$(cat "$ERR")" "yubin: Google does not allow the device sign-in for \
sending mail; use --login --browser" "the message"
CASE

done_testing
