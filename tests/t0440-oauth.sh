#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0440-oauth.sh -- built-in OAuth 2.0 against the loopback provider
# (tests/fake/oauth_provider.py) and the real Postfix + Dovecot, whose oauth2
# passdb asks the provider whether each token is live: a token the provider
# has expired or revoked is refused by the real server, not by a fake.
#   - device login (RFC 8628) with the file store, then sends with
#     OAUTHBEARER (auth on) and XOAUTH2 with no HTTP request at all;
#   - the server refuses the cached token -> one refresh, AUTH again,
#     delivered; a token near its expiry is refreshed before AUTH;
#   - a rotating provider: the new refresh token is on disk, the old one is
#     refused by the provider;
#   - 20 concurrent sends with an expired token: one refresh, 20 deliveries;
#   - provider 503 / hanging / down: queued (exit 0) or 75 with queue off,
#     in bounded time; back up: yubin -q refreshes and delivers;
#   - revoked refresh token: 77 and the exact login command, nothing queued;
#   - the device flow's answers: slow_down, access_denied, expired_token,
#     Google's verification_url;
#   - cron-like (env -i, no D-Bus, no terminal): the file store is used;
#   - --logout, and no token at all: 77 naming where yubin looked.
# The browser flow is t0441, the keyring t0442, secrets t0443.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout curl
start_real_server
[ -n "${OAUTH_URL:-}" ] || bail_out "the test server has no OAuth provider"
if "$YUBIN" --version | grep -q '^OAuth 2.0: not built in'; then
    # --without-oauth2: the keys are refused with a clear message
    test_case 'built without OAuth 2.0' <<'CASE'
        oauth_config "$SCRATCH/c.conf" none
        make_message "$SCRATCH/m" "$(new_token)"
        run_yubin "$SCRATCH/m" -C "$SCRATCH/c.conf" rcpt@example.org
        is "$RC" 78 "exit 78"
        is "$(cat "$ERR")" "yubin: account 'default' ($SCRATCH/c.conf:17): yubin \
was built without OAuth 2.0 support (configure --without-oauth2)" \
            "the message"
CASE
    done_testing
fi

P=t0440-$$

# fresh NAME FIELD=VALUE...: oauth_fresh (a new client $P-NAME, $CLIENT,
# the config $C, no token file, no queue), and TF, the token file
fresh() {
    oauth_fresh "$@"
    TF=$(oauth_token_file)
}

# provider_mode NAME MODE: fresh NAME, a token with 30 s left, and the
# provider answering refreshes with MODE (its token_mode: 503, hang, ...)
provider_mode() {
    fresh "$1"
    oauth_seed access_ttl=30
    oauth_admin set "client_id=$CLIENT" "token_mode=$2" > /dev/null
}

# send [ARGS...]: a message to rcpt@example.org with -v; TOK RC ERR
send() {
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    run_yubin "$SCRATCH/$TOK.msg" -v -C "$C" "$@" rcpt@example.org
}

# auth_lines: the AUTH commands of the last run's trace
auth_lines() {
    grep -c '^yubin: --> AUTH ' "$ERR"
}

# ------------------------------------------------ device login, file store
test_case 'device login' <<'CASE'
    fresh device
    oauth_device_login "$C" "$CLIENT" --store=file
    is "$RC" 0 "exit 0"
    code=$(sed -n 's/^yubin: and enter the code \(.*\)$/\1/p' "$ERR")
    is "$(cat "$ERR")" "yubin: to sign in to the OAuth 2.0 provider as alice, open
  $OAUTH_URL/activate
yubin: and enter the code $code
yubin: (or open $OAUTH_URL/activate?user_code=$code, which holds the code)
yubin: waiting up to 5 minutes for the sign-in (Ctrl-C gives up)
yubin: signed in to the OAuth 2.0 provider as alice; the refresh token is in \
$TF (mode 0600: only you and root can read it)" \
        "exactly what the user is told"
    like "$code" '^[A-Z]{4}-[A-Z]{4}$' "a user code was shown"
    is "$(stat -c %a "$TF")" 600 "token file mode 600"
    is "$(stat -c %a "$(dirname "$TF")")" 700 "its directory 700"
    is "$(oauth_field store)" file "the file store"
    is "$(oauth_stat "$CLIENT" device_tokens)" 1 "one token grant"
CASE

test_case 'OAUTHBEARER send with the token of a device login' <<'CASE'
    fresh device-send
    oauth_device_login "$C" "$CLIENT" --store=file
    [ "$RC" = 0 ] || { diag_file "$ERR"; return 1; }
    send
    is "$RC" 0 "exit 0"
    delivered "$TOK"
    like "$(cat "$ERR")" '^yubin: --> AUTH OAUTHBEARER <redacted>$' \
        "auth on with a provider: OAUTHBEARER (the server offers both)"
    like "$(cat "$ERR")" '^yubin: OAuth 2\.0: access token from the token file \(valid for (59|60) min more\)$' \
        "the token came from the cache"
    unlike "$(cat "$ERR")" 'HTTPS' "no HTTP request for a cached token"
    is "$(oauth_stat "$CLIENT" token_requests)" 1 \
        "the provider saw no request (the login's only)"
    is "$(oauth_stat "$CLIENT" introspect_ok)" 1 "Dovecot checked the token"
CASE

test_case 'XOAUTH2 send' <<'CASE'
    fresh xoauth2
    oauth_seed
    oauth_config "$C" "$CLIENT" "auth xoauth2"
    send
    is "$RC" 0 "exit 0"
    delivered "$TOK"
    like "$(cat "$ERR")" '^yubin: --> AUTH XOAUTH2 <redacted>$' \
        "auth xoauth2: XOAUTH2"
CASE

# ------------------------------------------------ refused cached token
test_case 'cached token expired at the provider' <<'CASE'
    fresh refused
    oauth_seed
    oauth_admin expire "client_id=$CLIENT" > /dev/null
    old=$(oauth_field access_token)
    send
    is "$RC" 0 "exit 0"
    delivered "$TOK"
    is "$(auth_lines)" 2 "AUTH twice: refused, then a fresh token"
    like "$(cat "$ERR")" '^yubin: <-- 535 5\.7\.8 ' "the real server refused it"
    like "$(cat "$ERR")" '^yubin: OAuth 2\.0: the server refused the access token$' \
        "-v says so"
    like "$(cat "$ERR")" '^yubin: OAuth 2\.0: access token refreshed \(valid for (59|60) min more\)$' \
        "-v: refreshed"
    is "$(oauth_stat "$CLIENT" refresh)" 1 "exactly one refresh"
    unlike "$(oauth_field access_token)" "^$old\$" "a new access token is cached"
CASE

# a refused token that was just refreshed is not retried again
test_case 'a fresh token refused too' <<'CASE'
    fresh refused-twice
    oauth_seed access_ttl=30
    oauth_admin set "client_id=$CLIENT" access_ttl=0 > /dev/null
    send
    is "$RC" 77 "exit 77"
    is "$(auth_lines)" 1 "no second AUTH for a token that was just fetched"
    like "$(cat "$ERR")" "^yubin: authentication \(OAUTHBEARER\) failed for user 'alice': 535 5\.7\.8 " \
        "the server's 535 in the message"
CASE

# ------------------------------------------------ expiring soon: refresh first
test_case 'access token with 30 s left' <<'CASE'
    fresh soon
    oauth_seed access_ttl=30
    send
    is "$RC" 0 "exit 0"
    delivered "$TOK"
    is "$(auth_lines)" 1 "refreshed before AUTH: one AUTH"
    is "$(oauth_stat "$CLIENT" refresh)" 1 "one refresh"
CASE

# ------------------------------------------------ rotation
test_case 'rotating provider' <<'CASE'
    fresh rotate rotate=1
    oauth_seed access_ttl=30
    old_rt=$(oauth_field refresh_token)
    send
    is "$RC" 0 "exit 0"
    delivered "$TOK"
    new_rt=$(oauth_field refresh_token)
    is "$([ -n "$new_rt" ] && [ "$new_rt" != "$old_rt" ] && echo new)" new \
        "the new refresh token is in the token file"
    like "$(cat "$ERR")" '^yubin: OAuth 2\.0: the provider sent a new refresh token; storing it \(file\)$' \
        "-v: a new refresh token stored"
    old_answer=$(curl -sS --cacert "$SMTP_CA" --data-urlencode grant_type=refresh_token \
        --data-urlencode "refresh_token=$("$PYTHON" -c 'import sys, urllib.parse
print(urllib.parse.unquote(sys.argv[1]))' "$old_rt")" \
        --data-urlencode "client_id=$CLIENT" "$OAUTH_URL/token")
    like "$old_answer" '"error": "invalid_grant"' \
        "the old refresh token is refused by the provider"
    is "$(oauth_stat "$CLIENT" live_refresh_tokens)" 1 \
        "one live refresh token, and yubin has it"
CASE

# ------------------------------------------------ 20 at once
# the provider's tokens live 30 s: a token another yubin fetched a moment
# ago is good for the others (half its life left), not refreshed again
test_case '20 concurrent sends with an expiring token' <<'CASE'
    fresh twenty rotate=1 access_ttl=30
    oauth_seed
    pids=()
    toks=()
    for i in $(seq 20); do
        t=$(new_token)-$i
        toks+=("$t")
        make_message "$SCRATCH/$t.msg" "$t"
        timeout 60 "$YUBIN" -C "$C" rcpt@example.org < "$SCRATCH/$t.msg" \
            > "$SCRATCH/$t.out" 2> "$SCRATCH/$t.err" &
        pids+=($!)
    done
    fails=0
    for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
    is "$fails" 0 "all exit 0"
    is "$(oauth_stat "$CLIENT" refresh)" 1 "exactly one refresh at the provider"
    printf 'X-Yubin-Test: %s\n' "${toks[@]}" > "$SCRATCH/twenty.toks"
    for _ in $(seq 100); do
        n=$(find "$SMTP_MAILDIR/new" -type f -newer "$SCRATCH/.stamp" -print0 |
            xargs -0 -r grep -h -o -F -f "$SCRATCH/twenty.toks" | sort -u | wc -l)
        [ "$n" -ge 20 ] && break
        sleep 0.1
    done
    is "$n" 20 "20 deliveries"
CASE

# ------------------------------------------------ provider trouble
test_case 'provider 503, queue off' <<'CASE'
    provider_mode down 503
    send
    is "$RC" 75 "exit 75"
    is "$(tail -n 1 "$ERR")" "yubin: during authentication: the OAuth 2.0 \
provider at '$OAUTH_URL/token' answered HTTP 503 (a temporary failure)" \
        "the message"
CASE

# a proxy's HTML error page, and RFC 6749's temporarily_unavailable
test_case 'a 403 HTML page (a proxy)' <<'CASE'
    provider_mode html403 html403
    send
    is "$RC:$(tail -n 1 "$ERR")" "75:yubin: during authentication: the OAuth \
2.0 provider at '$OAUTH_URL/token' answered HTTP 403 with something that is \
not JSON (check the oauth2_*_endpoint settings if this lasts)" \
        "temporary, and said so"
CASE

test_case 'temporarily_unavailable' <<'CASE'
    provider_mode unavailable unavailable
    send
    is "$RC:$(tail -n 1 "$ERR")" "75:yubin: during authentication: the OAuth \
2.0 provider at '$OAUTH_URL/token' is not available now \
(temporarily_unavailable: try again later)" "temporary"
CASE

test_case 'provider 503, queue on-failure; back up: yubin -q' <<'CASE'
    provider_mode queued 503
    oauth_config "$C" "$CLIENT" "queue on-failure"
    send
    is "$RC" 0 "exit 0 (queued)"
    like "$(grep 'queued as' "$ERR")" "^yubin: message queued as [0-9T]+-[A-Za-z0-9]+: during authentication: the OAuth 2\.0 provider at '.*' answered HTTP 503 \(a temporary failure\)\$" \
        "queued, and why"
    queued_tok=$TOK
    oauth_admin set "client_id=$CLIENT" token_mode=ok > /dev/null
    refreshes=$(oauth_stat "$CLIENT" refresh)
    run_yubin /dev/null -q --force
    is "$RC" 0 "provider back: yubin -q exits 0"
    delivered "$queued_tok" 10 "provider back: the queued message is delivered"
    run_yubin /dev/null -bp
    is "$(cat "$OUT")" "queue is empty" "provider back: the queue is empty"
    is "$(oauth_stat "$CLIENT" refresh)" "$((refreshes + 1))" \
        "provider back: one refresh for the flush"
CASE

test_case 'provider hanging' <<'CASE'
    provider_mode hang hang
    # the provider's request that yubin gave up on ends with the case, with
    # a 503 (were it let go with "ok", it would count as a refresh at some
    # later moment)
    test_when_finished 'oauth_admin set "client_id=$CLIENT" token_mode=503 \
        > /dev/null; sleep 0.3'
    oauth_config "$C" "$CLIENT" "queue on-failure" "timeout 3"
    send
    is "$RC" 0 "exit 0 (queued)"
    check "bounded by the timeout (${SECS}s)" seconds_below "$SECS" 8
    like "$(grep 'queued as' "$ERR")" "^yubin: message queued as .*: during authentication: cannot reach '$OAUTH_URL/token': no answer in time \(timeout\)\$" \
        "queued, and why"
CASE

# a private provider that issued the token, then went away
test_case 'provider not listening' <<'CASE'
    fresh gone
    start_bg private-provider "$PYTHON" "$TESTS_DIR/fake/oauth_provider.py" \
        --port 0 --introspect-port 0 --cert "$SMTP_SERVER_CERT" \
        --key "$SMTP_SERVER_KEY" || return 1
    ppid=$BG_PID
    purl=https://127.0.0.1:$BG_PORT
    curl -sS --cacert "$SMTP_CA" -d "client_id=$CLIENT" "$purl/admin/client" \
        > /dev/null
    oauth_config "$SCRATCH/gone.conf" "$CLIENT" "queue off" \
        "oauth2_token_endpoint $purl/token"
    oauth_write_token "$(curl -sS --cacert "$SMTP_CA" -d "client_id=$CLIENT" \
        "$purl/admin/issue")" "$CLIENT" "$purl/token" 30
    stop_bg "$ppid"
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    run_yubin "$SCRATCH/$TOK.msg" -C "$SCRATCH/gone.conf" rcpt@example.org
    is "$RC" 75 "exit 75"
    like "$(tail -n 1 "$ERR")" "^yubin: during authentication: cannot reach '$purl/token': Failed to connect to 127\.0\.0\.1 port $BG_PORT" \
        "the message"
CASE

# ------------------------------------------------ revoked
test_case 'revoked refresh token' <<'CASE'
    fresh revoked
    oauth_seed access_ttl=30
    oauth_config "$C" "$CLIENT" "queue on-failure"
    oauth_admin revoke "client_id=$CLIENT" > /dev/null
    send
    is "$RC" 77 "exit 77"
    is "$(tail -n 1 "$ERR")" "yubin: during authentication: the OAuth 2.0 \
provider refused the refresh token of account 'default' (invalid_grant: \
refresh token revoked): it has expired or was revoked; log in again: \
yubin -C $C --login -a default" "the message names the login command"
    run_yubin /dev/null -bp
    is "$(cat "$OUT")" "queue is empty" "nothing queued"
CASE

# ------------------------------------------------ device flow answers
test_case 'slow_down' <<'CASE'
    fresh slow interval=1
    oauth_admin set "client_id=$CLIENT" slow_down=1 > /dev/null
    t0=$EPOCHREALTIME
    oauth_device_login "$C" "$CLIENT" --store=file
    is "$RC" 0 "still signs in"
    is "$(oauth_stat "$CLIENT" device_polls)" 2 "one poll refused, then one more"
    is "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { if (b - a >= 7) print "y" }')" \
        y "the interval grew by 5 s"
CASE

test_case 'access_denied' <<'CASE'
    fresh denied
    OAUTH_DECIDE=deny oauth_device_login "$C" "$CLIENT"
    is "$RC" 77 "exit 77"
    like "$(tail -n 1 "$ERR")" '^yubin: the sign-in was declined \(access_denied' \
        "the message"
    is "$([ -e "$TF" ] || echo gone)" gone "nothing stored"
CASE

test_case 'code expired' <<'CASE'
    fresh expired device_expires_in=2
    OAUTH_DECIDE=none oauth_device_login "$C" "$CLIENT"
    is "$RC" 77 "exit 77"
    code=$(sed -n 's/^yubin: and enter the code \(.*\)$/\1/p' "$ERR")
    is "$(tail -n 1 "$ERR")" "yubin: the code $code expired before the sign-in \
was finished; start again: yubin -C $C --login -a default" \
        "the message"
CASE

test_case "verification_url (Google's name)" <<'CASE'
    fresh google google_style=1
    oauth_device_login "$C" "$CLIENT" --store=file
    is "$RC" 0 "signed in"
    like "$(cat "$ERR")" "^  $OAUTH_URL/activate\$" "shown"
CASE

# ------------------------------------------------ cron-like
test_case 'cron-like (env -i, no D-Bus, no terminal)' <<'CASE'
    fresh cron
    oauth_seed access_ttl=30
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    env -i HOME="$SCRATCH" PATH=/usr/bin:/bin XDG_STATE_HOME="$XDG_STATE_HOME" \
        setsid -w timeout 30 "$YUBIN" -C "$C" rcpt@example.org \
        < "$SCRATCH/$TOK.msg" > "$SCRATCH/cron.out" 2> "$SCRATCH/cron.err"
    RC=$?
    ERR=$SCRATCH/cron.err
    is "$RC" 0 "exit 0"
    is "$(cat "$SCRATCH/cron.err")" "" "says nothing"
    delivered "$TOK"
CASE

# ------------------------------------------------ logout, no token
test_case '--logout, then no token' <<'CASE'
    fresh logout
    oauth_seed access_ttl=30
    run_yubin /dev/null -C "$C" --logout
    is "$RC" 0 "--logout: exit 0"
    is "$(cat "$ERR")" "yubin: the OAuth 2.0 tokens of account 'default' are \
forgotten (token file); the OAuth 2.0 provider still takes the refresh token \
until it expires or is revoked there" "--logout: says what went"
    is "$([ -e "$TF" ] || echo gone)" gone "--logout: the token file is gone"
    send
    is "$RC" 77 "no token: exit 77"
    is "$(grep -v '^yubin: \(<--\|-->\|connected\|TLS\|keyring skipped\)' "$ERR")" \
"yubin: during authentication: no OAuth 2.0 token for user 'alice' at \
'localhost' (account 'default'); looked in:
yubin:   token file: $TF: no such file
yubin:   keyring: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set \
and there is no \$XDG_RUNTIME_DIR/bus)
yubin: log in once with: yubin -C $C --login -a default --store=file" \
        "no token: where yubin looked and the login command"
    run_yubin /dev/null -C "$C" --logout
    is "$RC" 0 "--logout again: exit 0"
    is "$(cat "$ERR")" "yubin: warning: no OAuth 2.0 token was stored for \
account 'default'" "--logout again: a warning"
CASE

# ------------------------------------------------ config mistakes
test_case 'auth plain with a provider' '
    oauth_config "$SCRATCH/bad.conf" x "auth plain"
    run_yubin /dev/null -C "$SCRATCH/bad.conf" --login
    is "$RC" 78 "exit 78"
'

test_case '--login and --logout without oauth2_provider' <<'CASE'
    write_config "$SCRATCH/nop.conf" "host localhost" "user alice"
    run_yubin /dev/null -C "$SCRATCH/nop.conf" --login
    is "$RC" 78 "--login: exit 78"
    is "$(cat "$ERR")" "yubin: account 'default' has no oauth2_provider: \
--login is for OAuth 2.0 accounts" "--login: the message"
    run_yubin /dev/null -C "$SCRATCH/nop.conf" --logout
    is "$RC:$(cat "$ERR")" "78:yubin: account 'default' has no oauth2_provider: \
--logout is for OAuth 2.0 accounts" "--logout: 78 and why"
CASE

test_case '--store without --login' <<'CASE'
    oauth_config "$SCRATCH/c.conf" x
    run_yubin /dev/null -C "$SCRATCH/c.conf" --store=file
    is "$RC:$(head -n 1 "$ERR")" "64:yubin: --device, --browser and --store go \
with --login" "a usage error"
CASE

done_testing
