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
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout curl mkfifo
if "$YUBIN" --version | grep -q '^OAuth 2.0: not built in'; then
    skip_all "built --without-oauth2 (t0440 checks the refusal)"
fi
start_real_server
[ -n "${OAUTH_URL:-}" ] || bail_out "the test server has no OAuth provider"

plan 34

TF=$(oauth_token_file)
P=t0441-$$

# the browser: the provider approves at once and redirects to yubin's
# listener; with FORGE=1 an answer with a forged state goes first
cat > "$SCRATCH/browser" <<EOF
#!/bin/bash
loc=\$(curl -sS --cacert "$SMTP_CA" -o /dev/null -w '%{redirect_url}' "\$1")
printf '%s\n' "\$1" > "$SCRATCH/browser.url"
printf '%s\n' "\$loc" > "$SCRATCH/browser.loc"
port=\$(sed -n 's|^http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' <<< "\$loc")
if [ "\${IDLE:-0}" -gt 0 ]; then
    # local clients that connect and say nothing, before the browser
    for i in \$(seq "\$IDLE"); do
        eval "exec \$((i + 10))<>/dev/tcp/127.0.0.1/\$port"
    done
fi
if [ "\${FORGE:-0}" = 1 ]; then
    curl -sS -o "$SCRATCH/forged.page" -w '%{http_code}' \\
        "\${loc%%state=*}state=forged" > "$SCRATCH/forged.status"
fi
curl -sS -o "$SCRATCH/browser.page" -w '%{http_code}' \\
    -H "Cookie: big=\$(head -c 20000 /dev/zero | tr '\\0' x)" "\$loc" \\
    > "$SCRATCH/browser.status"
EOF
chmod 755 "$SCRATCH/browser"

# login_browser ARGS...: yubin --login --browser with the test's browser
login_browser() {
    rm -f "$SCRATCH"/browser.* "$SCRATCH"/forged.*
    BROWSER=$SCRATCH/browser run_yubin /dev/null -C "$C" --login --browser \
        --store=file "$@"
}

# ------------------------------------------------ the browser comes back
oauth_fresh browser
login_browser
is "$RC" 0 "browser login: exit 0"
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
    "browser login: exactly what the user is told"
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
if find_delivered "$TOK" 10 > /dev/null; then ok "delivered"
else not_ok "delivered"; diag_file "$ERR"; fi

# ------------------------------------------------ a forged answer first
oauth_fresh forged
FORGE=1 login_browser
is "$RC" 0 "a forged answer first: still signed in"
is "$(cat "$SCRATCH/forged.status")" 400 "the forged answer got HTTP 400"
like "$(cat "$SCRATCH/forged.page")" 'does not belong to the sign-in' \
    "... and a page saying why"
port=$(sed -n 's|^http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$SCRATCH/browser.loc")
like "$(cat "$ERR")" "^yubin: warning: ignored an answer on http://127\\.0\\.0\\.1:$port/ with the wrong state \\(not from this sign-in\\)\$" \
    "a warning on the terminal"
is "$(oauth_stat "$CLIENT" code_tokens)" 1 "the real code was exchanged"

# ------------------------------------------------ idle local clients
oauth_fresh idle
IDLE=12 login_browser
is "$RC" 0 "12 idle local connections before the browser: still signed in"
is "$(seconds_below "$SECS" 8 && echo fast)" fast \
    "... without waiting for them (${SECS}s; each gets 2 s at most)"
is "$(cat "$SCRATCH/browser.status")" 200 \
    "a browser request with 20 KB of cookies is answered"

# ------------------------------------------------ pasted (SSH)
oauth_fresh paste
mkfifo "$SCRATCH/paste"
env -u BROWSER -u DISPLAY -u WAYLAND_DISPLAY timeout 60 "$YUBIN" -C "$C" \
    --login --browser --store=file < "$SCRATCH/paste" \
    > "$SCRATCH/paste.out" 2> "$SCRATCH/paste.err" &
pid=$!
exec 7> "$SCRATCH/paste"
url=
for _ in $(seq 100); do
    url=$(sed -n 's/^  \(https:.*\)$/\1/p' "$SCRATCH/paste.err")
    [ -n "$url" ] && break
    sleep 0.1
done
loc=$(curl -sS --cacert "$SMTP_CA" -o /dev/null -w '%{redirect_url}' "$url")
printf 'not an address\n' >&7
printf '%sstate=wrong\n' "${loc%%state=*}" >&7
sleep 0.5
printf '%s\n' "$loc" >&7
exec 7>&-
wait "$pid"
RC=$?
is "$RC" 0 "pasted address: signed in"
like "$(cat "$SCRATCH/paste.err")" "^yubin: warning: that is not the address the browser shows after the sign-in \\(it starts with http://127\\.0\\.0\\.1:[0-9]+/ and holds a code\\)\$" \
    "junk pasted: a warning"
like "$(cat "$SCRATCH/paste.err")" '^yubin: warning: that address does not belong to this sign-in \(wrong state\); paste the one the browser shows now$' \
    "a wrong state pasted: a warning"
like "$(tail -n 1 "$SCRATCH/paste.err")" '^yubin: signed in to the OAuth 2\.0 provider as alice; ' \
    "then the right address: signed in"
is "$(oauth_stat "$CLIENT" pkce_verified)" 1 "pasted: PKCE verified"
is "$(stat -c %a "$TF")" 600 "pasted: token file 0600"

# a wrong address and the right one in one paste, the last line without
# its newline, then end of input
oauth_fresh paste-eof
env -u BROWSER -u DISPLAY -u WAYLAND_DISPLAY timeout 60 "$YUBIN" -C "$C" \
    --login --browser --store=file < "$SCRATCH/paste" \
    > "$SCRATCH/paste.out" 2> "$SCRATCH/paste.err" &
pid=$!
exec 7> "$SCRATCH/paste"
url=
for _ in $(seq 100); do
    url=$(sed -n 's/^  \(https:.*\)$/\1/p' "$SCRATCH/paste.err")
    [ -n "$url" ] && break
    sleep 0.1
done
loc=$(curl -sS --cacert "$SMTP_CA" -o /dev/null -w '%{redirect_url}' "$url")
printf '%sstate=wrong\n%s' "${loc%%state=*}" "$loc" >&7
exec 7>&-
wait "$pid"
is "$?" 0 "wrong + right address in one paste, no final newline: signed in"

# ------------------------------------------------ the provider checks PKCE
oauth_fresh pkce
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

# ------------------------------------------------ denied
oauth_fresh deny
oauth_admin set "client_id=$CLIENT" deny=1 > /dev/null
login_browser
is "$RC" 77 "the provider denies: exit 77"
is "$(tail -n 1 "$ERR")" "yubin: the sign-in failed: access_denied" \
    "the provider denies: the message"
like "$(cat "$SCRATCH/browser.page")" 'The sign-in failed' \
    "the browser is told to look at the terminal"
is "$([ -e "$TF" ] || echo none)" none "denied: nothing stored"

# ------------------------------------------------ flows an account lacks
oauth_fresh nodevice
oauth_config "$C" "$CLIENT" "oauth2_device_endpoint"
run_yubin /dev/null -C "$C" --login --device
is "$RC" 78 "--device without a device endpoint: exit 78"
is "$(cat "$ERR")" "yubin: --device needs oauth2_device_endpoint" \
    "--device without a device endpoint: the message"
write_config "$SCRATCH/google.conf" "host smtp.gmail.com" "user a@gmail.com" \
    "oauth2_provider google" "oauth2_client_id x" "oauth2_client_secret y"
run_yubin /dev/null -C "$SCRATCH/google.conf" --login --device
is "$RC" 78 "Google with --device: exit 78"
is "$(cat "$ERR")" "yubin: Google does not allow the device sign-in for \
sending mail; use --login --browser" "Google with --device: the message"

done_testing
