#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/fake/test_oauth_provider.sh -- self-check of oauth_provider.py: starts a
# private instance on ephemeral ports and walks every endpoint and knob with
# curl.  Prints TAP.  Needs curl and certtool (or an existing test PKI).
#   Usage: bash tests/fake/test_oauth_provider.sh
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROVIDER=$HERE/oauth_provider.py
PYTHON=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/oauth-selfcheck.XXXXXX")
PID=
n=0
failed=0
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    if [ "$failed" = 0 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
is() {
    if [ "$1" = "$2" ]; then ok "$3"; else
        not_ok "$3"; printf '# got:      %s\n# expected: %s\n' "$1" "$2"; fi
}
like() {
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then ok "$3"; else
        not_ok "$3"; printf '# no match for /%s/ in: %s\n' "$2" "$1"; fi
}

# ---------------------------------------------------------------- PKI
PKI=${STATE_DIR:-${TMPDIR:-/tmp}/yubin-testenv}/pki
if [ -r "$PKI/server.crt" ] && [ -r "$PKI/server.key" ] && [ -r "$PKI/ca.crt" ]; then
    CA=$PKI/ca.crt CERT=$PKI/server.crt KEY=$PKI/server.key
else
    command -v certtool >/dev/null || { echo "1..0 # SKIP needs certtool"; exit 0; }
    CA=$WORK/ca.crt CERT=$WORK/server.crt KEY=$WORK/server.key
    certtool --generate-privkey --outfile "$WORK/ca.key" 2>/dev/null
    printf 'cn = "selfcheck CA"\nca\ncert_signing_key\nexpiration_days = 2\n' > "$WORK/ca.tmpl"
    certtool --generate-self-signed --load-privkey "$WORK/ca.key" \
        --template "$WORK/ca.tmpl" --outfile "$CA" 2>/dev/null
    certtool --generate-privkey --outfile "$KEY" 2>/dev/null
    printf 'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\ntls_www_server\nexpiration_days = 2\n' > "$WORK/s.tmpl"
    certtool --generate-certificate --load-privkey "$KEY" --load-ca-certificate "$CA" \
        --load-ca-privkey "$WORK/ca.key" --template "$WORK/s.tmpl" --outfile "$CERT" 2>/dev/null
fi

# ---------------------------------------------------------------- start
"$PYTHON" "$PROVIDER" --port 0 --introspect-port 0 --cert "$CERT" --key "$KEY" \
    --log "$WORK/log" > "$WORK/out" 2> "$WORK/err" < /dev/null &
PID=$!
for _ in $(seq 100); do grep -q '^READY' "$WORK/out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/^READY/ { print $3 }' "$WORK/out")
IPORT=$(awk '/^INTROSPECT/ { print $2 }' "$WORK/out")
[ -n "$PORT" ] && [ -n "$IPORT" ] || { echo "Bail out! provider did not start"; cat "$WORK/err"; exit 1; }
U=https://127.0.0.1:$PORT

# post PATH FORM...: body in $BODY, status in $CODE
post() {
    local path=$1 out
    shift
    local args=()
    for f in "$@"; do args+=(--data-urlencode "$f"); done
    out=$(curl -sS --max-time 10 --cacert "$CA" -w '\n%{http_code}' "${args[@]}" "$U$path")
    CODE=${out##*$'\n'}
    BODY=${out%$'\n'*}
}
get() {
    local out
    out=$(curl -sS --max-time 10 --cacert "$CA" -w '\n%{http_code}' "$@")
    CODE=${out##*$'\n'}
    BODY=${out%$'\n'*}
}
js() {  # js KEY: a field of $BODY
    printf '%s' "$BODY" | "$PYTHON" -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else (json.dumps(v) if isinstance(v,bool) else v))' "$1"
}
DC=urn:ietf:params:oauth:grant-type:device_code

# ---------------------------------------------------------------- unknown client
post /token grant_type=refresh_token client_id=nobody refresh_token=x
is "$CODE $(js error)" "401 invalid_client" "unknown client: 401 invalid_client"

# ---------------------------------------------------------------- device flow
post /admin/client client_id=c1 interval=2 device_expires_in=60
is "$CODE $BODY" '200 {"ok": true}' "create client"
post /device client_id=c1 scope=mail
is "$CODE" 200 "/device: 200"
DEV=$(js device_code) UC=$(js user_code)
like "$UC" '^[A-Z]{4}-[A-Z]{4}$' "user_code looks like ABCD-EFGH"
is "$(js verification_uri)" "$U/activate" "verification_uri"
is "$(js verification_uri_complete)" "$U/activate?user_code=$UC" "verification_uri_complete"
is "$(js interval) $(js expires_in)" "2 60" "interval and expires_in from the client"
post /token grant_type=$DC client_id=c1 device_code="$DEV"
is "$CODE $(js error)" "400 authorization_pending" "pending before approval"
post /admin/set client_id=c1 slow_down=1
post /token grant_type=$DC client_id=c1 device_code="$DEV"
is "$(js error)" "slow_down" "slow_down knob"
post /admin/set client_id=c1 enforce_interval=1
post /token grant_type=$DC client_id=c1 device_code="$DEV"
is "$(js error)" "slow_down" "enforce_interval: polled too fast"
post /admin/set client_id=c1 enforce_interval=0
post /admin/approve client_id=c1 user_code="$UC"
is "$BODY" '{"ok": true, "approved": 1}' "approve by user_code"
post /token grant_type=$DC client_id=c1 device_code="$DEV"
is "$CODE $(js token_type)" "200 Bearer" "approved: tokens"
AT=$(js access_token) RT=$(js refresh_token)
like "$AT $RT" '^at-[A-Za-z0-9_-]+ rt-[A-Za-z0-9_-]+$' "token shapes"
is "$(js scope) $(js expires_in)" "mail 3600" "scope and expires_in"
post /token grant_type=$DC client_id=c1 device_code="$DEV"
is "$(js error)" "invalid_grant" "a device_code yields tokens once"
post /device client_id=c1
DEV2=$(js device_code)
post /admin/deny client_id=c1
is "$(js denied)" 1 "deny all pending"
post /token grant_type=$DC client_id=c1 device_code="$DEV2"
is "$(js error)" "access_denied" "denied: access_denied"
post /admin/set client_id=c1 device_expires_in=0
post /device client_id=c1
DEV3=$(js device_code)
post /token grant_type=$DC client_id=c1 device_code="$DEV3"
is "$(js error)" "expired_token" "expired device_code: expired_token"
post /admin/set client_id=c1 google_style=1
post /device client_id=c1
is "$(js verification_url) $(js verification_uri)" "$U/activate " "google_style: verification_url"

# ---------------------------------------------------------------- introspection
get -d "token=$AT" "http://127.0.0.1:$IPORT/introspect"
is "$BODY" '{"active": "true", "username": "alice"}' "introspection (POST, plain HTTP): active"
get "$U/introspect?token=$AT"
is "$(js active)" "true" "introspection (GET, HTTPS)"
get -H "Authorization: Bearer $AT" "http://127.0.0.1:$IPORT/introspect"
is "$(js active)" "true" "introspection (Bearer header)"
get -d "token=nope" "http://127.0.0.1:$IPORT/introspect"
is "$BODY" '{"active": "false"}' "unknown token: inactive"
get -d "client_id=c1" "http://127.0.0.1:$IPORT/token"
is "$CODE" 404 "plain listener serves only /introspect"

# ---------------------------------------------------------------- refresh, expire, revoke
post /admin/expire client_id=c1
get -d "token=$AT" "http://127.0.0.1:$IPORT/introspect"
is "$(js active)" "false" "expired access token: inactive"
post /token grant_type=refresh_token client_id=c1 refresh_token="$RT"
is "$CODE $(js refresh_token)" "200 " "refresh without rotation: no new refresh token"
AT2=$(js access_token)
get -d "token=$AT2" "http://127.0.0.1:$IPORT/introspect"
is "$(js active)" "true" "refreshed access token: active"
post /admin/set client_id=c1 rotate=1
post /token grant_type=refresh_token client_id=c1 refresh_token="$RT"
RT2=$(js refresh_token)
like "$RT2" '^rt-' "rotate=1: a new refresh token"
post /token grant_type=refresh_token client_id=c1 refresh_token="$RT"
is "$(js error)" "invalid_grant" "rotate=1: the old refresh token is dead"
post /admin/revoke client_id=c1
post /token grant_type=refresh_token client_id=c1 refresh_token="$RT2"
is "$(js error)" "invalid_grant" "revoked: invalid_grant"
get "$U/admin/stats?client_id=c1"
is "$(js refresh) $(js refresh_failed) $(js live_refresh_tokens) $(js device_tokens)" \
    "2 2 0 1" "stats"
is "$(js last_refresh_token_used)" "$RT2" "stats: last refresh token used"
post /admin/issue client_id=c1 access_ttl=5
is "$(js expires_in)" 5 "/admin/issue with access_ttl"
post /token grant_type=password client_id=c1
is "$(js error)" "unsupported_grant_type" "unknown grant"

# ---------------------------------------------------------------- code + PKCE
post /admin/client client_id=c2 secret=s3cret
VER=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))')
CH=$(printf '%s' "$VER" | "$PYTHON" -c 'import sys,hashlib,base64; print(base64.urlsafe_b64encode(hashlib.sha256(sys.stdin.buffer.read()).digest()).rstrip(b"=").decode())')
RED="http://127.0.0.1:5555/cb"
auth_url="$U/authorize?response_type=code&client_id=c2&redirect_uri=$RED&scope=mail&state=st%2B1&code_challenge=$CH&code_challenge_method=S256"
LOC=$(curl -sS --cacert "$CA" -o /dev/null -w '%{redirect_url}' "$auth_url")
like "$LOC" "^$RED\\?code=ac-[A-Za-z0-9_-]+&state=st%2B1\$" "/authorize: 302 with code and state"
CODEV=$(printf '%s' "$LOC" | sed 's/.*code=\([^&]*\).*/\1/')
post /token grant_type=authorization_code client_id=c2 client_secret=s3cret code="$CODEV" redirect_uri="$RED" code_verifier="${VER}x"
like "$CODE $(js error) $(js error_description)" "^400 invalid_grant PKCE" "wrong verifier: invalid_grant, says PKCE"
post /token grant_type=authorization_code client_id=c2 client_secret=s3cret code="$CODEV" redirect_uri="http://127.0.0.1:5556/cb" code_verifier="$VER"
like "$(js error_description)" "redirect_uri" "wrong redirect_uri: says so"
post /token grant_type=authorization_code client_id=c2 client_secret=wrong code="$CODEV" redirect_uri="$RED" code_verifier="$VER"
is "$CODE $(js error)" "401 invalid_client" "wrong secret: 401"
get -u c2:s3cret --data-urlencode grant_type=authorization_code --data-urlencode code="$CODEV" \
    --data-urlencode redirect_uri="$RED" --data-urlencode code_verifier="$VER" "$U/token"
is "$CODE" 200 "right verifier, secret by Basic auth: tokens"
post /token grant_type=authorization_code client_id=c2 client_secret=s3cret code="$CODEV" redirect_uri="$RED" code_verifier="$VER"
like "$(js error_description)" "already used" "code used twice: refused"
get "$U/admin/stats?client_id=c2"
is "$(js pkce_verified) $(js code_tokens)" "1 1" "stats: PKCE verified once"
LOC=$(curl -sS --cacert "$CA" -o /dev/null -w '%{redirect_url}' "$U/authorize?response_type=code&client_id=c2&redirect_uri=http://127.0.0.1:5555/cb%3Fx%3D1&state=s&code_challenge=$CH&code_challenge_method=S256")
like "$LOC" '^http://127.0.0.1:5555/cb\?x=1&code=' "redirect_uri with a query: code appended with &"
post /admin/set client_id=c2 deny=1
LOC=$(curl -sS --cacert "$CA" -o /dev/null -w '%{redirect_url}' "$auth_url")
is "$LOC" "$RED?error=access_denied&state=st%2B1" "deny=1: error=access_denied"
get "$U/authorize?response_type=code&client_id=c2"
is "$CODE" 400 "/authorize without parameters: 400"

# ---------------------------------------------------------------- token_mode
post /admin/client client_id=c3
for m in 503 500; do
    post /admin/set client_id=c3 token_mode=$m
    post /token grant_type=refresh_token client_id=c3 refresh_token=x
    is "$CODE" "$m" "token_mode $m"
done
post /admin/set client_id=c3 token_mode=garbage
post /token grant_type=refresh_token client_id=c3 refresh_token=x
like "$CODE $BODY" '^200 <html>' "token_mode garbage"
post /admin/set client_id=c3 token_mode=invalid_client
post /device client_id=c3
is "$CODE $(js error)" "401 invalid_client" "token_mode invalid_client (also /device)"
post /admin/set client_id=c3 token_mode=close
curl -sS --cacert "$CA" -d client_id=c3 -d grant_type=x "$U/token" > "$WORK/close.out" 2>&1
like "$(cat "$WORK/close.out")" "Empty reply|reset|closed|SSL" "token_mode close: no answer"
post /admin/set client_id=c3 token_mode=hang
start=$(date +%s.%N)
curl -sS --cacert "$CA" --max-time 20 -d client_id=c3 -d grant_type=refresh_token \
    -d refresh_token=x -w '%{http_code}' -o /dev/null "$U/token" > "$WORK/hang.out" 2>&1 &
hang=$!
sleep 1
# another request is served while one hangs
get "$U/admin/stats?client_id=c3"
is "$CODE" 200 "a hanging request does not block others"
post /admin/set client_id=c3 token_mode=ok
wait "$hang"
end=$(date +%s.%N)
is "$(cat "$WORK/hang.out")" 400 "hang ends when the knob changes, then answers normally"
like "$("$PYTHON" -c "print($end - $start < 5)")" True "hang released quickly"

# ---------------------------------------------------------------- robustness
head -c 70000 /dev/zero | tr '\0' a > "$WORK/big"
get --data-binary @"$WORK/big" "$U/token"
is "$CODE" 413 "a body over 64 KiB: 413"
printf 'GARBAGE\r\n\r\n' | timeout 5 openssl s_client -quiet -connect 127.0.0.1:$PORT >/dev/null 2>&1
printf 'junk\r\n\r\n' | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/$PORT" 2>/dev/null
get -d 'client_id=%zz&&&=' "$U/device"
is "$CODE" 401 "odd form data: a clean answer"
get "$U/admin/stats?client_id=c1"
is "$CODE" 200 "still alive after garbage"
like "$(cat "$WORK/log")" "POST /token 127.0.0.1 client_id=c1 grant_type=refresh_token -> 200" "log lines"

kill -TERM "$PID"
for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then not_ok "SIGTERM stops it"; else ok "SIGTERM stops it"; PID=; fi
echo "1..$n"
[ "$failed" = 0 ]
