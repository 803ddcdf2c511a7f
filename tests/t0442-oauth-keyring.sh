#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0442-oauth-keyring.sh -- the OAuth 2.0 refresh token in a real keyring
# (gnome-keyring on a private D-Bus session bus), the loopback provider and
# the real Postfix + Dovecot:
#   - --login in a desktop session stores the refresh token in the keyring
#     (host, service oauth2, user), the token file keeps only the access
#     token and says so; the user is told who can read it;
#   - a send whose access token is about to expire refreshes with the
#     keyring's token; a rotated one replaces it in the keyring;
#   - cron (no D-Bus): with a live cached access token it still sends;
#     once that expires it exits 77 naming both stores and the
#     --store=file login that fixes it;
#   - --login --store=file moves the token to the file (the keyring item
#     goes): cron then refreshes and sends; --logout removes both.
# The case bodies are strings that test_case (lib.sh) evaluates: hence
# single quotes, and variables used only there.
# shellcheck disable=SC2016,SC2034
. "$(dirname "$0")/lib.sh"

need_root
need_yubin
need_cmd timeout curl dbus-run-session gnome-keyring-daemon secret-tool
if "$YUBIN" --version | grep -q '^OAuth 2.0: not built in'; then
    skip_all "built --without-oauth2 (t0440 checks the refusal)"
fi
write_config "$SCRATCH/probe.conf" "host localhost" "user alice"
if env -u DBUS_SESSION_BUS_ADDRESS "$YUBIN" -C "$SCRATCH/probe.conf" \
        --forget-password 2>&1 | grep -q 'built without libsecret'; then
    skip_all "yubin was built without libsecret"
fi

private_keyring_session YUBIN_T0442_INNER
start_real_server
[ -n "${OAUTH_URL:-}" ] || bail_out "the test server has no OAuth provider"

# fixtures: the keyring daemon on the private bus (each case leaves it
# empty: see fresh)
unlock_keyring
P=t0442-$$

keyring_secret() {
    secret-tool lookup host localhost service oauth2 user alice 2>/dev/null
}

clear_keyring() {
    secret-tool clear host localhost service oauth2 user alice 2>/dev/null
    return 0
}

# fresh NAME: a new client $P-NAME (rotating refresh tokens), $C, no token
# file, an empty keyring (again after the case), TF
fresh() {
    oauth_fresh "$1" rotate=1
    TF=$(oauth_token_file)
    clear_keyring
    test_when_finished clear_keyring
}

# login [ARGS...]: a device login as a set-up step
login() {
    oauth_device_login "$C" "$CLIENT" "$@"
    [ "$RC" = 0 ] || { diag_file "$ERR"; return 1; }
}

# send [env ...]: a message, -v; TOK RC ERR.  With "cron": no bus, no tty
send() {
    TOK=$(new_token)
    make_message "$SCRATCH/$TOK.msg" "$TOK"
    if [ "${1:-}" = cron ]; then
        _run_no=$((_run_no + 1))
        ERR=$SCRATCH/run$_run_no.err
        env -i HOME="$HOME" PATH=/usr/bin:/bin \
            XDG_STATE_HOME="$XDG_STATE_HOME" setsid -w timeout 30 \
            "$YUBIN" -v -C "$C" rcpt@example.org < "$SCRATCH/$TOK.msg" \
            > /dev/null 2> "$ERR"
        RC=$?
    else
        YUBIN_WRAPPER="setsid -w" run_yubin "$SCRATCH/$TOK.msg" -v -C "$C" \
            rcpt@example.org
    fi
}

# ------------------------------------------------ login into the keyring
test_case 'login in a desktop session' <<'CASE'
    fresh login
    oauth_device_login "$C" "$CLIENT"
    is "$RC" 0 "exit 0"
    is "$(tail -n 1 "$ERR")" "yubin: signed in to the OAuth 2.0 provider as \
alice; the refresh token is in the keyring (host 'localhost', service \
'oauth2', user 'alice'): programs in your desktop session can read it, cron \
jobs and services cannot (for them: yubin -C $C --login -a default \
--store=file)" "where the token went and who can read it"
    secret-tool search --all host localhost service oauth2 user alice \
        > "$SCRATCH/search" 2>&1
    like "$(cat "$SCRATCH/search")" '^label = yubin oauth2: alice@localhost$' \
        "keyring item: its label"
    like "$(keyring_secret)" '^rt-' "keyring item: the refresh token"
    is "$(oauth_field store)" keyring "token file: says keyring"
    is "$(oauth_field refresh_token)" "" "token file: no refresh token in it"
    like "$(oauth_field access_token)" '^at-' "token file: the access token"
CASE

# ------------------------------------------------ refresh from the keyring
test_case 'expiring token, refreshed from the keyring' <<'CASE'
    fresh refresh
    login || return 1
    old_rt=$(keyring_secret)
    oauth_age_token
    send
    is "$RC" 0 "exit 0"
    delivered "$TOK"
    like "$(cat "$ERR")" '^yubin: OAuth 2\.0: refresh token from the keyring$' \
        "-v: the refresh token came from the keyring"
    like "$(cat "$ERR")" '^yubin: OAuth 2\.0: the provider sent a new refresh token; storing it \(keyring\)$' \
        "-v: rotated into the keyring"
    new_rt=$(keyring_secret)
    is "$([ -n "$new_rt" ] && [ "$new_rt" != "$old_rt" ] && echo new)" new \
        "the keyring holds the new refresh token"
    is "$(oauth_field refresh_token)" "" "still no refresh token in the file"
    is "$(oauth_stat "$CLIENT" live_refresh_tokens)" 1 "one live refresh token"
CASE

# ------------------------------------------------ cron: no keyring
test_case 'cron with a live cached access token' '
    fresh cron-live
    login || return 1
    send cron
    is "$RC" 0 "exit 0"
    delivered "$TOK"
'

test_case 'cron once the access token expires' <<'CASE'
    fresh cron-expired
    login || return 1
    oauth_age_token
    send cron
    is "$RC" 77 "exit 77"
    is "$(grep -v '^yubin: \(<--\|-->\|connected\|TLS\|keyring skipped\)' "$ERR")" \
"yubin: during authentication: no OAuth 2.0 token for user 'alice' at \
'localhost' (account 'default'); looked in:
yubin:   token file: $TF: it says the refresh token is in the keyring
yubin:   keyring: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set \
and there is no \$XDG_RUNTIME_DIR/bus)
yubin: log in once with: yubin -C $C --login -a default --store=file" \
        "both stores named, and the login that fixes it"
CASE

# ------------------------------------------------ move it to the file
test_case '--login --store=file moves it to the file' <<'CASE'
    fresh move
    login || return 1
    oauth_device_login "$C" "$CLIENT" --store=file
    is "$RC" 0 "exit 0"
    like "$(tail -n 1 "$ERR")" "the refresh token is in $TF \\(mode 0600" \
        "the file named"
    is "$(keyring_secret)" "" "the keyring item is gone"
    is "$(oauth_field store)" file "token file: says file"
    oauth_age_token
    send cron
    is "$RC" 0 "cron with the file store: exit 0"
    delivered "$TOK"
    is "$(grep -c 'keyring' "$ERR")" 0 "cron: the keyring is not even asked"
CASE

# ------------------------------------------------ logout
test_case '--logout' <<'CASE'
    fresh logout
    login || return 1
    is "$(oauth_field store)" keyring "logged in to the keyring"
    run_yubin /dev/null -C "$C" --logout
    is "$RC" 0 "exit 0"
    is "$(cat "$ERR")" "yubin: the OAuth 2.0 tokens of account 'default' are \
forgotten (token file and keyring); the OAuth 2.0 provider still takes the \
refresh token until it expires or is revoked there" "says what went"
    is "$(keyring_secret)" "" "the keyring item is gone"
    is "$([ -e "$TF" ] || echo gone)" gone "the token file is gone"
CASE

done_testing
