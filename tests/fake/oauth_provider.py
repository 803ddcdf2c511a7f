#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""oauth_provider.py -- a loopback OAuth 2.0 provider for yubin's tests.

Standard library only; run it with /usr/bin/python3.

  /usr/bin/python3 oauth_provider.py --port 10443 --introspect-port 10480 \
      --cert server.crt --key server.key [--log FILE] [--user NAME]

Listens on 127.0.0.1 only, two listeners in one process:
  HTTPS --port            every endpoint below (certificate --cert/--key)
  HTTP  --introspect-port only /introspect (for Dovecot's oauth2 passdb)
Prints "INTROSPECT <port>" and then "READY 127.0.0.1 <https-port>" on stdout
once both listen (--port 0 / --introspect-port 0: ephemeral ports).  SIGTERM
or SIGINT stop it.  --user drops root privileges after binding (the log file
and the key are opened first).  One thread per connection; a global lock
guards the state; bodies are capped at 64 KiB.

State is per client_id; a client must be created with POST /admin/client
first (an unknown client_id gets 401 {"error":"invalid_client"}).

OAuth endpoints (HTTPS; form-encoded POST bodies; JSON answers):
  POST /device      RFC 8628 3.1: client_id, scope -> device_code, user_code
                    (ABCD-EFGH), verification_uri (verification_url with
                    google_style=1, and then no verification_uri_complete),
                    verification_uri_complete, expires_in, interval
  POST /token       grant_type device_code (authorization_pending; slow_down
                    while the slow_down counter is > 0, one per poll, or
                    with enforce_interval=1 when polled sooner than interval
                    s after the last poll (the interval is not raised);
                    access_denied; expired_token; then tokens once, then
                    invalid_grant) | authorization_code (+ code, redirect_uri,
                    code_verifier: S256 PKCE) | refresh_token (rotate=1: a
                    new refresh token, the old one dies at once); other grants
                    unsupported_grant_type.  A client created with a secret
                    must send it (client_secret or HTTP Basic) else 401
                    invalid_client.  The client's token_mode knob applies to
                    /token and /device: ok 503 500 (short HTML bodies),
                    hang (up to 600 s, until the knob changes, then answers
                    as the knob now says), close (no answer), garbage (200,
                    not JSON), html403 (403, a proxy's HTML page),
                    unavailable (400 temporarily_unavailable), invalid_client
                    (401).
  GET  /authorize   plays the user who approves at once: 302 to
                    redirect_uri?code=...&state=... (deny=1: error=
                    access_denied); bad parameters: 400 text/plain
  /introspect       RFC 7662 (both listeners): POST token=..., GET ?token=...
                    or Authorization: Bearer ...  -> {"active": "true",
                    "username": USER} for a live access token, else
                    {"active": "false"} (strings: Dovecot's active_value
                    compares strings; Dovecot 2.3.19 logs "Provided token is
                    not valid" and answers 535)
  GET  /activate    a tiny HTML page
Admin back-channel (HTTPS, JSON answers):
  POST /admin/client  client_id [user=alice secret= access_ttl=3600 rotate=0
                      interval=1 device_expires_in=300 google_style=0]
                      creates or resets the client
  POST /admin/set     client_id + token_mode deny slow_down access_ttl rotate
                      interval device_expires_in enforce_interval google_style
  POST /admin/approve client_id [user_code]  (all pending ones without it)
  POST /admin/deny    client_id [user_code]  -> {"ok":true,"approved":N}
                      (deny also says "denied":N)
  POST /admin/expire  client_id: every access token expires now
  POST /admin/revoke  client_id: every refresh and access token is revoked
  POST /admin/issue   client_id [access_ttl]: a new refresh+access pair
  GET  /admin/stats?client_id=X  counters (STAT_KEYS: token_requests counts
                      every /token request), last_refresh_token_used (of the
                      last refresh grant, good or bad), live_refresh_tokens
Every request is one line in --log (default stderr): time, listener, method,
path, peer, client_id, grant_type, outcome.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024
MAX_FIELDS = 100
HANG_SECONDS = 600
CODE_TTL = 600
IDLE_TIMEOUT = 120          # longer than Dovecot's idle keep-alive (60 s)
USER_CODE_CHARS = "BCDFGHJKLMNPQRSTVWXZ"    # RFC 8628 6.1: no vowels
TOKEN_MODES = ("ok", "503", "500", "hang", "close", "garbage", "html403",
               "unavailable",
               "invalid_client")
STAT_KEYS = ("device_requests", "device_polls", "device_tokens",
             "code_tokens", "refresh", "refresh_failed", "pkce_verified",
             "introspect_ok", "introspect_failed", "token_requests")

LOCK = threading.Lock()
CLIENTS = {}                # client_id -> Client
ACCESS = {}                 # access token -> Client (for introspection)
STOPPING = threading.Event()
LOG = None
LOG_LOCK = threading.Lock()
HTTPS_PORT = 0


def now():
    return time.monotonic()


def new_token(prefix):
    return prefix + secrets.token_urlsafe(32)


class HttpError(Exception):
    """An answer that ends the request: status, JSON (dict) or text body."""

    def __init__(self, status, body, outcome=None):
        super().__init__(outcome)
        self.status = status
        self.body = body
        self.outcome = outcome or (body.get("error") if isinstance(
            body, dict) else str(status))


def oauth_error(status, error, description=None):
    body = {"error": error}
    if description:
        body["error_description"] = description
    return HttpError(status, body)


class Client:
    """Everything one client_id owns; reset by POST /admin/client."""

    def __init__(self, client_id, user, secret, access_ttl, rotate,
                 interval, device_expires_in, google_style):
        self.client_id = client_id
        self.user = user
        self.secret = secret
        self.access_ttl = access_ttl
        self.rotate = rotate
        self.interval = interval
        self.device_expires_in = device_expires_in
        self.google_style = google_style
        self.enforce_interval = 0
        self.token_mode = "ok"
        self.deny = 0
        self.slow_down = 0
        self.knob_gen = 0           # bumped by every /admin/set or reset
        self.dead = False           # replaced by a reset
        self.devices = {}           # device_code -> dict
        self.codes = {}             # authorization code -> dict
        self.access = {}            # access token -> dict(expires, revoked)
        self.refresh = {}           # refresh token -> dict(revoked, scope)
        self.stats = dict.fromkeys(STAT_KEYS, 0)
        self.last_refresh_token_used = ""

    def mint(self, scope, with_refresh=True, access_ttl=None):
        """A token answer; the caller holds LOCK."""
        ttl = self.access_ttl if access_ttl is None else access_ttl
        at = new_token("at-")
        self.access[at] = {"expires": now() + ttl, "revoked": False}
        ACCESS[at] = self
        body = {"access_token": at, "token_type": "Bearer",
                "expires_in": ttl, "scope": scope}
        if with_refresh:
            rt = new_token("rt-")
            self.refresh[rt] = {"revoked": False, "scope": scope}
            body["refresh_token"] = rt
        return body

    def access_live(self, token):
        a = self.access.get(token)
        return a is not None and not a["revoked"] and now() < a["expires"]

    def forget(self):
        for at in self.access:
            if ACCESS.get(at) is self:
                del ACCESS[at]
        self.dead = True


def log(handler, outcome, client_id="", grant_type=""):
    if LOG is None:
        return
    line = "%s %s %s %s %s client_id=%s grant_type=%s -> %s\n" % (
        time.strftime("%Y-%m-%dT%H:%M:%S"), handler.server.kind,
        handler.command, handler.path.split("?", 1)[0], handler.client_address[0],
        client_id or "-", grant_type or "-", outcome)
    with LOG_LOCK:
        try:
            LOG.write(line)
            LOG.flush()
        except (OSError, ValueError):
            pass


# ------------------------------------------------------------------ parsing
def parse_form(text):
    """Form fields (first value of each) from urlencoded text; HttpError 400."""
    try:
        q = urllib.parse.parse_qs(text, keep_blank_values=True,
                                  max_num_fields=MAX_FIELDS)
    except ValueError as e:
        raise oauth_error(400, "invalid_request", "bad form data: %s" % e)
    return {k: v[0] for k, v in q.items()}


def int_field(form, name, default, lo=-10**9, hi=10**9):
    v = form.get(name)
    if v is None or v == "":
        return default
    try:
        n = int(v)
    except ValueError:
        raise oauth_error(400, "invalid_request", "%s: not a number" % name)
    if not lo <= n <= hi:
        raise oauth_error(400, "invalid_request", "%s: out of range" % name)
    return n


def bool_field(form, name, default):
    return int_field(form, name, default, 0, 1)


def basic_auth(header):
    """(client_id, secret) from an HTTP Basic Authorization header, or None."""
    if not header or not header[:6].lower() == "basic ":
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise oauth_error(401, "invalid_client", "bad Basic credentials")
    cid, sep, secret = raw.partition(":")
    if not sep:
        raise oauth_error(401, "invalid_client", "bad Basic credentials")
    return (urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret))


def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# ------------------------------------------------------------------ handler
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "yubin-oauth-provider/1"
    sys_version = ""
    timeout = IDLE_TIMEOUT

    def log_message(self, fmt, *args):     # we log ourselves
        pass

    # -------------------------------------------------------------- answers
    def answer(self, status, body, ctype=None, extra=None):
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            ctype = ctype or "application/json"
        else:
            data = body.encode() if isinstance(body, str) else body
            ctype = ctype or "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Pragma", "no-cache")
        if status == 401 and isinstance(body, dict):
            self.send_header("WWW-Authenticate", 'Basic realm="oauth"')
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def read_body(self):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise HttpError(411, "chunked bodies are not supported\n")
        length = self.headers.get("Content-Length")
        if length is None:
            return ""
        try:
            n = int(length)
        except ValueError:
            self.close_connection = True
            raise HttpError(400, "bad Content-Length\n")
        if n < 0:
            self.close_connection = True
            raise HttpError(400, "bad Content-Length\n")
        if n > MAX_BODY:
            self.close_connection = True
            # drain a little (up to 1 MiB) so that the client sees the 413
            # rather than a reset; then close
            left = min(n, 1024 * 1024)
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
            raise HttpError(413, "body too large\n")
        data = self.rfile.read(n)
        if len(data) != n:
            self.close_connection = True
            raise HttpError(400, "short body\n")
        return data.decode("utf-8", "replace")

    # -------------------------------------------------------------- dispatch
    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def dispatch(self):
        self.ctx = {"client_id": "", "grant_type": ""}
        raw = None
        try:
            raw = self.read_body()      # always: keep-alive stays in step
            url = urllib.parse.urlsplit(self.path)
            path = url.path
            query = parse_form(url.query) if url.query else {}
            body = parse_form(raw) if self.command == "POST" else {}
            route = self.route(path)
            if route is None:
                raise HttpError(404, "not found\n")
            method, fn = route
            if self.command not in method:
                raise HttpError(405, "method not allowed\n", "405")
            result = fn(query, body)
            if result is None:          # "close": no answer at all
                self.close_connection = True
                log(self, "closed without answer", **self.ctx)
                return
            status, payload = result[0], result[1]
            extra = result[2] if len(result) > 2 else None
            ctype = result[3] if len(result) > 3 else None
            self.answer(status, payload, ctype, extra)
            outcome = str(status)
            if isinstance(payload, dict) and "error" in payload:
                outcome += " " + payload["error"]
            elif extra and "Location" in extra:
                outcome += " -> " + extra["Location"].split("?", 1)[0]
            log(self, outcome, **self.ctx)
        except HttpError as e:
            if raw is None:
                self.close_connection = True
            self.answer(e.status, e.body)
            log(self, "%d %s" % (e.status, e.outcome), **self.ctx)
        except (BrokenPipeError, ConnectionError, socket.timeout, ssl.SSLError):
            self.close_connection = True
        except Exception as e:         # never die on a bad request
            self.close_connection = True
            log(self, "500 internal error %r" % (e,), **self.ctx)
            try:
                self.answer(500, {"error": "server_error",
                                  "error_description": repr(e)})
            except Exception:
                pass

    def route(self, path):
        if path == "/introspect":
            return ("GET", "POST"), self.introspect
        if self.server.kind != "https":
            return None
        routes = {
            "/device": (("POST",), self.device),
            "/token": (("POST",), self.token),
            "/authorize": (("GET", "HEAD"), self.authorize),
            "/activate": (("GET", "HEAD"), self.activate),
            "/admin/client": (("POST",), self.admin_client),
            "/admin/set": (("POST",), self.admin_set),
            "/admin/approve": (("POST",), self.admin_approve),
            "/admin/deny": (("POST",), self.admin_deny),
            "/admin/expire": (("POST",), self.admin_expire),
            "/admin/revoke": (("POST",), self.admin_revoke),
            "/admin/issue": (("POST",), self.admin_issue),
            "/admin/stats": (("GET",), self.admin_stats),
        }
        return routes.get(path)

    # -------------------------------------------------------------- clients
    def client_for(self, form, check_secret=False):
        """The Client of this request (LOCK held); HttpError 401 if none."""
        basic = basic_auth(self.headers.get("Authorization"))
        cid = form.get("client_id", "")
        secret = form.get("client_secret")
        if basic is not None:
            if cid and cid != basic[0]:
                raise oauth_error(401, "invalid_client",
                                  "client_id differs from the Basic one")
            cid, secret = basic
        self.ctx["client_id"] = cid
        c = CLIENTS.get(cid)
        if c is None:
            raise oauth_error(401, "invalid_client", "unknown client_id")
        if check_secret and c.secret is not None and (
                secret is None or
                not hmac.compare_digest(secret.encode(), c.secret.encode())):
            raise oauth_error(401, "invalid_client", "wrong client secret")
        return c

    def admin_client_of(self, form):
        cid = form.get("client_id", "")
        self.ctx["client_id"] = cid
        if not cid:
            raise oauth_error(400, "invalid_request", "client_id missing")
        c = CLIENTS.get(cid)
        if c is None:
            raise oauth_error(401, "invalid_client", "unknown client_id")
        return c

    def apply_mode(self, form):
        """token_mode of the request's client: an answer, None (close) or
        False (go on normally)."""
        with LOCK:
            c = CLIENTS.get(form.get("client_id", ""))
            if c is None:
                basic = None
                try:
                    basic = basic_auth(self.headers.get("Authorization"))
                except HttpError:
                    pass
                if basic is not None:
                    c = CLIENTS.get(basic[0])
            if c is None:
                return False
            mode, gen = c.token_mode, c.knob_gen
        if mode == "hang":
            deadline = now() + HANG_SECONDS
            while now() < deadline and not STOPPING.is_set():
                with LOCK:
                    if c.dead or c.knob_gen != gen or c.token_mode != "hang":
                        break
                time.sleep(0.1)
            with LOCK:
                mode = c.token_mode if not c.dead else "ok"
            if mode == "hang":
                mode = "ok"
        if mode == "503":
            return (503, "<html><body><h1>503 Service Unavailable</h1>"
                    "</body></html>\n", None, "text/html; charset=utf-8")
        if mode == "500":
            return (500, "<html><body><h1>500 Internal Server Error</h1>"
                    "</body></html>\n", None, "text/html; charset=utf-8")
        if mode == "close":
            return None
        if mode == "garbage":
            return (200, "<html><body>this is not JSON</body></html>\n",
                    None, "application/json")
        if mode == "html403":
            return (403, "<html><body><h1>403 Forbidden</h1><p>blocked by "
                    "the proxy</p></body></html>\n", None,
                    "text/html; charset=utf-8")
        if mode == "unavailable":
            return (400, {"error": "temporarily_unavailable",
                          "error_description": "try again later"})
        if mode == "invalid_client":
            return (401, {"error": "invalid_client",
                          "error_description": "token_mode invalid_client"})
        return False

    # -------------------------------------------------------------- /device
    def device(self, query, form):
        with LOCK:
            c = self.client_for(form)
            c.stats["device_requests"] += 1
        mode = self.apply_mode(form)
        if mode is not False:
            return mode
        with LOCK:
            c = self.client_for(form, check_secret=True)
            device_code = new_token("dc-")
            user_code = "%s-%s" % (
                "".join(secrets.choice(USER_CODE_CHARS) for _ in range(4)),
                "".join(secrets.choice(USER_CODE_CHARS) for _ in range(4)))
            scope = form.get("scope", "")
            c.devices[device_code] = {
                "user_code": user_code, "scope": scope,
                "expires": now() + c.device_expires_in,
                "status": "pending", "last_poll": None}
            uri = "https://127.0.0.1:%d/activate" % HTTPS_PORT
            body = {"device_code": device_code, "user_code": user_code,
                    "expires_in": c.device_expires_in,
                    "interval": c.interval}
            if c.google_style:
                body["verification_url"] = uri
            else:
                body["verification_uri"] = uri
                body["verification_uri_complete"] = \
                    uri + "?user_code=" + user_code
        return 200, body

    # -------------------------------------------------------------- /token
    def token(self, query, form):
        grant = form.get("grant_type", "")
        self.ctx["grant_type"] = grant
        with LOCK:
            c = self.client_for(form)
            c.stats["token_requests"] += 1
        mode = self.apply_mode(form)
        if mode is not False:
            return mode
        with LOCK:
            c = self.client_for(form, check_secret=True)
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                return self.grant_device(c, form)
            if grant == "authorization_code":
                return self.grant_code(c, form)
            if grant == "refresh_token":
                return self.grant_refresh(c, form)
            if not grant:
                raise oauth_error(400, "invalid_request",
                                  "grant_type missing")
            raise oauth_error(400, "unsupported_grant_type",
                              "grant_type '%s' not supported" % grant)

    def grant_device(self, c, form):
        c.stats["device_polls"] += 1
        d = c.devices.get(form.get("device_code", ""))
        if d is None:
            raise oauth_error(400, "invalid_grant", "unknown device_code")
        t = now()
        last, d["last_poll"] = d["last_poll"], t
        if d["status"] == "done":
            raise oauth_error(400, "invalid_grant",
                              "device_code already used")
        if t >= d["expires"]:
            raise oauth_error(400, "expired_token", "device_code expired")
        if d["status"] == "denied":
            raise oauth_error(400, "access_denied", "the user said no")
        if c.slow_down > 0:
            c.slow_down -= 1
            raise oauth_error(400, "slow_down", "slow_down knob")
        if c.enforce_interval and last is not None and \
                t - last < c.interval:
            raise oauth_error(400, "slow_down",
                              "polled %.2f s after the last poll, "
                              "interval is %d s" % (t - last, c.interval))
        if d["status"] == "pending":
            raise oauth_error(400, "authorization_pending",
                              "the user has not answered yet")
        d["status"] = "done"
        c.stats["device_tokens"] += 1
        return 200, c.mint(d["scope"])

    def grant_code(self, c, form):
        code = form.get("code", "")
        k = c.codes.get(code)
        if k is None:
            for other in CLIENTS.values():
                if code and code in other.codes:
                    raise oauth_error(400, "invalid_grant",
                                      "code was issued to another client")
            raise oauth_error(400, "invalid_grant", "unknown code")
        if k["used"]:
            raise oauth_error(400, "invalid_grant", "code already used")
        if now() >= k["expires"]:
            raise oauth_error(400, "invalid_grant", "code expired")
        if form.get("redirect_uri") != k["redirect_uri"]:
            raise oauth_error(400, "invalid_grant",
                              "redirect_uri does not match the one given "
                              "at /authorize")
        verifier = form.get("code_verifier")
        if not verifier:
            raise oauth_error(400, "invalid_grant", "code_verifier missing")
        if not hmac.compare_digest(s256(verifier), k["challenge"]):
            raise oauth_error(400, "invalid_grant",
                              "PKCE verification failed: S256(code_verifier)"
                              " != code_challenge")
        k["used"] = True
        c.stats["pkce_verified"] += 1
        c.stats["code_tokens"] += 1
        return 200, c.mint(k["scope"])

    def grant_refresh(self, c, form):
        rt = form.get("refresh_token", "")
        c.last_refresh_token_used = rt
        r = c.refresh.get(rt)
        if r is None or r["revoked"]:
            c.stats["refresh_failed"] += 1
            raise oauth_error(400, "invalid_grant",
                              "refresh token unknown" if r is None
                              else "refresh token revoked")
        body = c.mint(r["scope"], with_refresh=bool(c.rotate))
        if c.rotate:
            r["revoked"] = True
        c.stats["refresh"] += 1
        return 200, body

    # -------------------------------------------------------------- /authorize
    def authorize(self, query, form):
        def bad(why):
            return HttpError(400, "bad authorization request: %s\n" % why,
                             "400 " + why)
        cid = query.get("client_id", "")
        self.ctx["client_id"] = cid
        if query.get("response_type") != "code":
            raise bad("response_type must be code")
        redirect = query.get("redirect_uri", "")
        r = urllib.parse.urlsplit(redirect)
        if r.scheme not in ("http", "https") or not r.netloc or r.fragment:
            raise bad("redirect_uri missing or invalid")
        challenge = query.get("code_challenge", "")
        if not 43 <= len(challenge) <= 128:
            raise bad("code_challenge missing or invalid")
        if query.get("code_challenge_method") != "S256":
            raise bad("code_challenge_method must be S256")
        state = query.get("state")
        with LOCK:
            c = CLIENTS.get(cid)
            if c is None:
                raise bad("unknown client_id")
            if c.deny:
                params = {"error": "access_denied"}
            else:
                code = new_token("ac-")
                c.codes[code] = {"redirect_uri": redirect,
                                 "challenge": challenge,
                                 "scope": query.get("scope", ""),
                                 "expires": now() + CODE_TTL, "used": False}
                params = {"code": code}
        if state is not None:
            params["state"] = state
        sep = "&" if r.query else "?"
        location = redirect + sep + urllib.parse.urlencode(params)
        return 302, "redirecting\n", {"Location": location}

    def activate(self, query, form):
        return (200, "<html><body><h1>yubin test provider</h1><p>Nothing "
                "to do here: the tests approve through /admin/approve.</p>"
                "</body></html>\n", None, "text/html; charset=utf-8")

    # -------------------------------------------------------------- /introspect
    def introspect(self, query, form):
        token = form.get("token") or query.get("token")
        auth = self.headers.get("Authorization", "")
        if not token and auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
        with LOCK:
            c = ACCESS.get(token or "")
            if c is None:
                return 200, {"active": "false"}
            self.ctx["client_id"] = c.client_id
            if c.access_live(token):
                c.stats["introspect_ok"] += 1
                return 200, {"active": "true", "username": c.user}
            c.stats["introspect_failed"] += 1
            return 200, {"active": "false"}

    # -------------------------------------------------------------- admin
    def admin_client(self, query, form):
        cid = form.get("client_id", "")
        self.ctx["client_id"] = cid
        if not cid:
            raise oauth_error(400, "invalid_request", "client_id missing")
        c = Client(cid, form.get("user") or "alice",
                   form.get("secret") or None,
                   int_field(form, "access_ttl", 3600),
                   bool_field(form, "rotate", 0),
                   int_field(form, "interval", 1, 0),
                   int_field(form, "device_expires_in", 300),
                   bool_field(form, "google_style", 0))
        with LOCK:
            old = CLIENTS.get(cid)
            if old is not None:
                old.forget()
            CLIENTS[cid] = c
        return 200, {"ok": True}

    def admin_set(self, query, form):
        with LOCK:
            c = self.admin_client_of(form)
            mode = form.get("token_mode")
            if mode is not None and mode not in TOKEN_MODES:
                raise oauth_error(400, "invalid_request",
                                  "token_mode must be one of " +
                                  " ".join(TOKEN_MODES))
            new = {
                "deny": bool_field(form, "deny", c.deny),
                "slow_down": int_field(form, "slow_down", c.slow_down, 0),
                "access_ttl": int_field(form, "access_ttl", c.access_ttl),
                "rotate": bool_field(form, "rotate", c.rotate),
                "interval": int_field(form, "interval", c.interval, 0),
                "device_expires_in": int_field(form, "device_expires_in",
                                               c.device_expires_in),
                "enforce_interval": bool_field(form, "enforce_interval",
                                               c.enforce_interval),
                "google_style": bool_field(form, "google_style",
                                           c.google_style),
            }
            for k, v in new.items():
                setattr(c, k, v)
            if mode is not None:
                c.token_mode = mode
            c.knob_gen += 1
        return 200, {"ok": True}

    def admin_decide(self, form, status):
        with LOCK:
            c = self.admin_client_of(form)
            uc = form.get("user_code", "").strip().upper()
            n = 0
            for d in c.devices.values():
                if d["status"] != "pending" or now() >= d["expires"]:
                    continue
                if uc and d["user_code"] != uc:
                    continue
                d["status"] = status
                n += 1
        return n

    def admin_approve(self, query, form):
        return 200, {"ok": True, "approved": self.admin_decide(form,
                                                              "approved")}

    def admin_deny(self, query, form):
        n = self.admin_decide(form, "denied")
        return 200, {"ok": True, "approved": n, "denied": n}

    def admin_expire(self, query, form):
        with LOCK:
            c = self.admin_client_of(form)
            t = now()
            for a in c.access.values():
                a["expires"] = min(a["expires"], t)
        return 200, {"ok": True}

    def admin_revoke(self, query, form):
        with LOCK:
            c = self.admin_client_of(form)
            for a in c.access.values():
                a["revoked"] = True
            for r in c.refresh.values():
                r["revoked"] = True
        return 200, {"ok": True}

    def admin_issue(self, query, form):
        with LOCK:
            c = self.admin_client_of(form)
            ttl = int_field(form, "access_ttl", c.access_ttl)
            body = c.mint(form.get("scope", ""), access_ttl=ttl)
        return 200, body

    def admin_stats(self, query, form):
        with LOCK:
            c = self.admin_client_of(query)
            body = dict(c.stats)
            body["last_refresh_token_used"] = c.last_refresh_token_used
            body["live_refresh_tokens"] = sum(
                1 for r in c.refresh.values() if not r["revoked"])
        return 200, body


# ------------------------------------------------------------------ servers
class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, port, kind, tls_ctx=None):
        self.kind = kind
        self.tls_ctx = tls_ctx
        super().__init__(("127.0.0.1", port), Handler)

    def server_bind(self):
        # no getfqdn(): no resolver needed
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]

    def finish_request(self, request, client_address):
        # runs in the connection's own thread: the TLS handshake too, so a
        # silent client never blocks the accept loop
        if self.tls_ctx is None:
            self.RequestHandlerClass(request, client_address, self)
            return
        request.settimeout(10)
        try:
            conn = self.tls_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            conn.settimeout(IDLE_TIMEOUT)
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, ssl.SSLError)):
            return
        with LOG_LOCK:
            if LOG is not None:
                try:
                    LOG.write("%s %s connection error: %r\n" % (
                        time.strftime("%Y-%m-%dT%H:%M:%S"), self.kind, exc))
                    LOG.flush()
                except (OSError, ValueError):
                    pass


def drop_privileges(name):
    import pwd
    pw = pwd.getpwnam(name)
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)


def main():
    global LOG, HTTPS_PORT
    ap = argparse.ArgumentParser(description="loopback OAuth 2.0 provider "
                                 "for yubin's tests")
    ap.add_argument("--port", type=int, default=10443)
    ap.add_argument("--introspect-port", type=int, default=10480)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log")
    ap.add_argument("--user", help="drop root privileges to this user")
    args = ap.parse_args()

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    LOG = open(args.log, "a", encoding="utf-8") if args.log else sys.stderr
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    https = Server(args.port, "https", ctx)
    plain = Server(args.introspect_port, "http")
    if args.user and os.getuid() == 0:
        drop_privileges(args.user)
    HTTPS_PORT = https.server_address[1]

    threads = [threading.Thread(target=s.serve_forever, kwargs={
        "poll_interval": 0.1}, daemon=True) for s in (https, plain)]
    for t in threads:
        t.start()
    print("INTROSPECT %d" % plain.server_address[1], flush=True)
    print("READY 127.0.0.1 %d" % HTTPS_PORT, flush=True)
    if LOG is not sys.stderr:
        with LOG_LOCK:
            LOG.write("%s started: https 127.0.0.1:%d, introspection "
                      "http://127.0.0.1:%d/introspect (pid %d)\n" % (
                          time.strftime("%Y-%m-%dT%H:%M:%S"), HTTPS_PORT,
                          plain.server_address[1], os.getpid()))
            LOG.flush()
    while not stop.wait(0.1):
        pass
    STOPPING.set()
    for s in (https, plain):
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
