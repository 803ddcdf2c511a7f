#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""fake_smtpd.py -- scriptable SMTP submission server for fault-injection tests.

yubin's own copy (tests/fake/); for byte-level control of what the server sends
(STARTTLS injection, malformed replies) use scripted_smtpd.py beside it.

Built on Debian's python3-aiosmtpd (1.4.x); run it with /usr/bin/python3 (a pyenv
python3 earlier in PATH will not see the Debian package).

  /usr/bin/python3 fake_smtpd.py --port 10600 --user alice:alice-pw \
      --save-dir /tmp/out --fault RCPT#2=550 --fault DATA_END=451

Listens on 127.0.0.1 (or --host ::1) only.  Prints "READY <host> <port>" on stdout
once listening (use --port 0 for an ephemeral port).  SIGTERM/SIGINT stop it.

TLS:   --tls starttls (default) | implicit | none     cert/key: --cert/--key
       (default: ${TMPDIR:-/tmp}/yubin-testenv/pki/server.{crt,key}, else a throw-away
       self-signed pair made with certtool).  --no-require-starttls lets MAIL
       happen in clear text; --auth-without-tls offers AUTH before STARTTLS.
AUTH:  --user NAME:PASS (repeatable; none given => AUTH not offered and not required)
       --mechs PLAIN,LOGIN,CRAM-MD5,XOAUTH2,OAUTHBEARER (XOAUTH2/OAUTHBEARER accept
       the user's PASS as the bearer token, and send the RFC 7628 JSON error
       challenge on failure).
EHLO:  --advertise PIPELINING,8BITMIME,SIZE,SMTPUTF8,ENHANCEDSTATUSCODES,CHUNKING,DSN
       (default: all but CHUNKING and DSN).  Keywords not listed are NOT advertised
       and the matching MAIL parameters (BODY=8BITMIME, SIZE=, SMTPUTF8) are
       refused with 555; BDAT is refused with 500 unless CHUNKING is listed
       (BDAT is implemented).  --size N sets the SIZE value / limit.
       A client that pipelines without PIPELINING being advertised is recorded
       ("pipelining_violation") in the session JSON.  Every command read while
       more client lines were already waiting is recorded as [VERB, LINES] in
       "pipelined" (MAIL with 3 lines waiting: RCPT, RCPT, DATA sent in one go).
FAULTS: --fault STAGE[#N]=ACTION  (repeatable)
       STAGE  CONNECT (the greeting) EHLO HELO STARTTLS AUTH MAIL RCPT DATA (reply to
              the DATA command) DATA_END (reply after the final dot / BDAT LAST)
              BDAT RSET NOOP QUIT
       #N     only the N-th occurrence in a connection (default: every occurrence)
       ACTION a reply: "451" or "550 5.1.1 no such user" (421 also closes the
              connection) | drop (close, no reply) | reset (TCP RST, no reply)
              | hang (never answer) | delay:SECONDS (then answer normally)
              | drop-after:BYTES (DATA only: send 354, read BYTES of message, close)
       --fault-connections K  apply faults only to the first K connections.
SPEED: --fast-data reads DATA in 1 MiB chunks (no per-line length checks);
       --discard additionally stores nothing (benchmark sink).
RECORD: --save-dir DIR  writes DIR/NNNN.eml (message bytes exactly as received,
       CRLF kept, dot-unstuffed) and DIR/NNNN.json (envelope, params, auth user,
       TLS, the reply to the final dot and "accepted": whether it was 2xx, full
       command/reply transcript) for every message received in full (also the
       ones refused by a DATA_END fault), and DIR/conn-NNNN.json (the
       transcript of each connection, written when it closes).
"""
import argparse
import asyncio
import base64
import hmac
import json
import os
import secrets
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, MISSING

DEFAULT_TEXT = {
    "421": "421 4.3.2 Service not available, closing transmission channel",
    "450": "450 4.2.1 Mailbox unavailable, try again later",
    "451": "451 4.3.0 Local error in processing, try again later",
    "452": "452 4.3.1 Insufficient system storage",
    "454": "454 4.7.0 TLS not available due to temporary reason",
    "500": "500 5.5.2 Syntax error, command unrecognized",
    "502": "502 5.5.1 Command not implemented",
    "530": "530 5.7.0 Authentication required",
    "535": "535 5.7.8 Authentication credentials invalid",
    "550": "550 5.1.1 Mailbox unavailable",
    "552": "552 5.3.4 Message size exceeds fixed maximum message size",
    "554": "554 5.7.1 Transaction failed",
}


class Config:
    def __init__(self, a):
        self.users = dict(u.split(":", 1) for u in a.user)
        self.advertise = {k.strip().upper() for k in a.advertise.split(",") if k.strip()}
        self.size = a.size
        self.save_dir = a.save_dir
        self.faults = {}           # (STAGE, N or 0) -> action
        for f in a.fault:
            stage, _, action = f.partition("=")
            stage, _, nth = stage.upper().partition("#")
            self.faults[(stage, int(nth or 0))] = action
        self.fault_connections = a.fault_connections
        self.fast_data = a.fast_data or a.discard
        self.discard = a.discard
        self.connections = 0
        self.messages = 0


class FakeSMTP(SMTP):
    def __init__(self, cfg, handler, implicit_tls, **kw):
        self.cfg = cfg
        self.implicit_tls = implicit_tls
        cfg.connections += 1
        self.conn_no = cfg.connections
        self.counts = {}
        self.events = []
        self.msg_nos = []
        self.t0 = time.monotonic()
        self.pipelining_violation = False
        self.pipelined = []        # [verb, complete lines already waiting]
        self._dropped = False
        self._greeted = False
        self._bdat = None
        super().__init__(handler, **kw)
        for name, meth in list(self._smtp_methods.items()):
            self._smtp_methods[name] = self._wrap(name, meth)

    # --- recording ---------------------------------------------------------
    def ev(self, who, text):
        # "S" = server reply, "C" = client command, "!" = note (fault, violation)
        self.events.append(f"{time.monotonic() - self.t0:9.6f} {who} {text}")

    def _pending_input(self):
        buf = getattr(self._reader, "_buffer", b"")
        return len(buf) > 0

    def _note_pipelined(self, name):
        """Record a command read while further client lines were already waiting
        (they were sent before this command's reply).  Not for BDAT: its chunk
        follows it in the same write."""
        if name == "BDAT":
            return
        n = bytes(getattr(self._reader, "_buffer", b"")).count(b"\n")
        if n:
            self.pipelined.append([name, n])

    async def push(self, status):
        if self._dropped:
            return
        s = status if isinstance(status, str) else status.decode("utf-8", "replace")
        if not self._greeted:
            self._greeted = True
            act = self.fault_action("CONNECT")
            if act and await self.apply(act, "CONNECT"):
                return
        elif self._pending_input() and "PIPELINING" not in self.cfg.advertise \
                and not s.startswith("334"):
            self.pipelining_violation = True
            self.ev("!", "client sent more input before reading this reply")
        self.ev("S", s)
        try:
            await super().push(status)
        except (ConnectionError, RuntimeError):
            self._dropped = True

    # --- faults ------------------------------------------------------------
    def fault_action(self, stage):
        n = self.counts[stage] = self.counts.get(stage, 0) + 1
        if self.cfg.fault_connections and self.conn_no > self.cfg.fault_connections:
            return None
        return self.cfg.faults.get((stage, n)) or self.cfg.faults.get((stage, 0))

    def drop(self, rst=False):
        self._dropped = True
        self.ev("!", "reset" if rst else "drop")
        if self.transport is None:
            return
        if rst:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        (self._original_transport or self.transport).abort()
        if self._handler_coroutine is not None:
            self._handler_coroutine.cancel()

    def _note_unread(self):
        """Record the complete lines the client sent but the session did not
        read before the client closed (a QUIT whose 221 it does not await:
        aiosmtpd cancels the session at EOF)."""
        if self._dropped or getattr(self, "_unread_noted", False):
            return
        self._unread_noted = True
        buf = bytes(getattr(self._reader, "_buffer", b""))
        for line in buf.split(b"\n")[:-1]:
            self.ev("C", line.rstrip(b"\r").decode("utf-8", "replace"))
            self.ev("!", "unanswered: the client closed")

    def eof_received(self):
        self._note_unread()
        return super().eof_received()

    def connection_lost(self, error):
        self._note_unread()
        if self.cfg.save_dir and self.session is not None and not getattr(self, "_saved", False):
            self._saved = True
            self.ev("!", f"connection closed ({error!r})" if error else "connection closed")
            with open(os.path.join(self.cfg.save_dir, f"conn-{self.conn_no:04d}.json"), "w") as f:
                json.dump({"connection": self.conn_no, "messages": self.msg_nos,
                           "pipelining_violation": self.pipelining_violation,
                           "pipelined": self.pipelined,
                           "transcript": self.events}, f, indent=1)
        super().connection_lost(error)

    async def adrop(self, rst=False):
        """drop() and let the resulting cancellation end the session right here."""
        self.drop(rst)
        await asyncio.sleep(0)

    async def apply(self, act, stage):
        """Perform a fault action. Returns True if the normal handling must be skipped."""
        self.ev("!", f"fault {stage}={act}")
        if act in ("drop", "reset"):
            await self.adrop(rst=(act == "reset"))
            return True
        if act == "hang":
            await asyncio.sleep(86400)
            return True
        if act.startswith("delay:"):
            await asyncio.sleep(float(act.split(":", 1)[1]))
            return False
        if act.startswith("drop-after:"):
            return False            # handled by smtp_DATA
        reply = DEFAULT_TEXT.get(act, act) if len(act) == 3 else act
        self.ev("S", reply)
        await super().push(reply)
        if reply.startswith("421"):
            self.transport.close()      # graceful: flushes the 421 first
            await self.adrop()
        return True

    def _wrap(self, name, meth):
        async def wrapped(arg):
            self.ev("C", name if arg is None else f"{name} {arg}")
            self._note_pipelined(name)
            if name == "BDAT" and "CHUNKING" not in self.cfg.advertise:
                return await self.push('500 Error: command "BDAT" not recognized')
            act = self.fault_action(name)
            if act and await self.apply(act, name):
                return
            self._current_fault = act
            await meth(arg)
        return wrapped

    # --- EHLO / MAIL / RCPT policy ------------------------------------------
    @staticmethod
    def _take_params(arg, names):
        keep, taken = [], []
        for i, tok in enumerate(arg.split(" ")):
            if i > 0 and "=" in tok and tok.split("=", 1)[0].upper() in names:
                taken.append(tok)
            else:
                keep.append(tok)
        return " ".join(keep), taken

    async def smtp_MAIL(self, arg):
        extra = []
        if arg:
            up = arg.upper()
            params = {p.split("=")[0] for p in up.split()[1:]}
            bad = None
            if "BODY=8BITMIME" in up and "8BITMIME" not in self.cfg.advertise:
                bad = "BODY=8BITMIME"
            elif "SIZE" in params and "SIZE" not in self.cfg.advertise:
                bad = "SIZE"
            elif "SMTPUTF8" in params and "SMTPUTF8" not in self.cfg.advertise:
                bad = "SMTPUTF8"
            elif params & {"RET", "ENVID"} and "DSN" not in self.cfg.advertise:
                bad = "DSN (RET/ENVID)"
            if bad:
                self.ev("!", f"client used {bad} without it being advertised")
                return await self.push(f"555 5.5.4 {bad} not advertised")
            arg, extra = self._take_params(arg, {"RET", "ENVID", "AUTH"})
        await super().smtp_MAIL(arg)
        if self.envelope.mail_from:
            self.envelope.mail_options.extend(extra)

    async def smtp_RCPT(self, arg):
        extra = []
        if arg:
            if "DSN" in self.cfg.advertise:
                arg, extra = self._take_params(arg, {"NOTIFY", "ORCPT"})
            elif {p.split("=")[0].upper() for p in arg.split()[1:]} & {"NOTIFY", "ORCPT"}:
                self.ev("!", "client used DSN (NOTIFY/ORCPT) without it being advertised")
                return await self.push("555 5.5.4 DSN not advertised")
        n = len(self.envelope.rcpt_tos)
        await super().smtp_RCPT(arg)
        if len(self.envelope.rcpt_tos) > n:
            self.envelope.rcpt_options.extend(extra)

    # --- DATA with mid-transfer drop --------------------------------------
    async def smtp_DATA(self, arg):
        act = getattr(self, "_current_fault", None)
        if act and act.startswith("drop-after:") and self.envelope.rcpt_tos:
            limit = int(act.split(":", 1)[1])
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            got = 0
            while got < limit and self.transport is not None:
                chunk = await self._reader.read(min(65536, limit - got))
                if not chunk:
                    break
                got += len(chunk)
            self.ev("!", f"dropped after {got} bytes of DATA")
            await self.adrop()
            return
        if self.cfg.fast_data:
            return await self._fast_data(arg)
        await super().smtp_DATA(arg)

    async def _fast_data(self, arg):
        """DATA reader that scans 1 MiB chunks for CRLF.CRLF instead of going line by
        line (aiosmtpd's loop costs ~3 us/line); --discard keeps only byte counts."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if not self.envelope.rcpt_tos:
            return await self.push("503 Error: need RCPT command")
        if arg:
            return await self.push("501 Syntax: DATA")
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        sep = b"\r\n.\r\n"
        buf = bytearray(b"\r\n")          # virtual CRLF before the first line
        total = 0
        while True:
            chunk = await self._reader.read(1 << 20)
            if not chunk:
                return                       # connection closed mid-DATA
            start = max(0, len(buf) - 4)
            buf += chunk
            i = buf.find(sep, start)
            if i >= 0:
                break
            if self.cfg.discard:
                total += len(buf) - 4
                del buf[:-4]
        leftover = bytes(buf[i + 5:])
        if leftover:                         # pipelined commands after the dot
            self._reader._buffer[0:0] = leftover
        body = bytes(buf[2:i + 2])
        total += len(body)
        if self.data_size_limit and total > self.data_size_limit:
            self._set_post_data_state()
            return await self.push("552 Error: Too much mail data")
        if self.cfg.discard:
            self.ev("!", f"discarded {total} bytes of DATA")
            self._set_post_data_state()
            return await self.push("250 2.0.0 Ok: discarded")
        body = body.replace(b"\r\n..", b"\r\n.")
        if body.startswith(b".."):
            body = body[1:]
        self.envelope.content = self.envelope.original_content = body
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    # --- CHUNKING (RFC 3030) ---------------------------------------------
    async def smtp_BDAT(self, arg):
        parts = (arg or "").split()
        if not parts or not parts[0].isdigit() or len(parts) > 2 or \
                (len(parts) == 2 and parts[1].upper() != "LAST"):
            return await self.push("501 5.5.4 Syntax: BDAT count [LAST]")
        n = int(parts[0])
        # RFC 3030 2: a refused BDAT's chunk is still read (and dropped),
        # so it is never taken for commands
        data = await self._reader.readexactly(n) if n else b""
        if not self.session.host_name:
            return await self.push("503 Error: send EHLO first")
        if await self.check_auth_needed("BDAT"):
            return
        if not self.envelope.rcpt_tos:
            return await self.push("503 5.5.1 Error: need RCPT command")
        if self._bdat is None:
            self._bdat = bytearray()
        self._bdat += data
        if len(parts) == 1:
            return await self.push(f"250 2.0.0 {n} octets received")
        body = bytes(self._bdat)
        self._bdat = None
        self.envelope.content = self.envelope.original_content = body
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    def _set_rset_state(self):
        super()._set_rset_state()
        self._bdat = None


class Handler:
    def __init__(self, cfg):
        self.cfg = cfg

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        adv = self.cfg.advertise
        kws = []
        for line in responses[1:]:
            text = line[4:]
            kw = text.split(" ", 1)[0].upper()
            if kw in ("SIZE", "8BITMIME", "SMTPUTF8", "HELP") and kw not in adv:
                continue
            if kw == "AUTH" and not text[4:].strip():
                continue          # no mechanisms left: do not advertise AUTH
            kws.append(text)
        for kw in ("PIPELINING", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN"):
            if kw in adv:
                kws.append(kw)
        lines = [responses[0][4:]] + kws
        return [("250 " if i == len(lines) - 1 else "250-") + t for i, t in enumerate(lines)]

    async def handle_DATA(self, server, session, envelope):
        act = server.fault_action("DATA_END")
        status = "250 2.0.0 Ok: queued"
        if act:
            server.ev("!", f"fault DATA_END={act}")
            if act in ("drop", "reset"):
                await server.adrop(rst=(act == "reset"))
                return "250 unused"
            if act == "hang":
                await asyncio.sleep(86400)
            elif act.startswith("delay:"):
                await asyncio.sleep(float(act.split(":", 1)[1]))
            else:
                status = DEFAULT_TEXT.get(act, act) if len(act) == 3 else act
                if status.startswith("421"):
                    asyncio.get_running_loop().call_later(0.05, server.drop)
        self.save(server, session, envelope, status)
        return status

    def save(self, server, session, envelope, status):
        self.cfg.messages += 1
        if not self.cfg.save_dir:
            return
        n = self.cfg.messages
        server.msg_nos.append(n)
        base = os.path.join(self.cfg.save_dir, f"{n:04d}")
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        meta = {
            "connection": server.conn_no,
            "peer": list(session.peer[:2]) if session.peer else None,
            "helo": session.host_name,
            "tls": bool(session.ssl) or server.implicit_tls,
            "auth_user": (session.auth_data.decode("utf-8", "replace")
                          if isinstance(session.auth_data, bytes) else None),
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            "rcpt_options": envelope.rcpt_options,
            "size": len(envelope.original_content),
            "reply": status,
            "accepted": status.startswith("2"),
            "pipelining_violation": server.pipelining_violation,
            "pipelined": list(server.pipelined),
            "transcript": server.events,
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f, indent=1)

    # ---- extra SASL mechanisms (aiosmtpd maps auth_CRAM__MD5 -> "CRAM-MD5") ----
    async def auth_CRAM__MD5(self, server, args):
        chal = f"<{secrets.randbelow(10**9)}.{int(time.time())}@{server.hostname}>".encode()
        resp = await server.challenge_auth(chal)
        if resp is MISSING:
            return AuthResult(success=False, handled=True)
        user, _, digest = resp.decode("utf-8", "replace").rpartition(" ")
        pw = self.cfg.users.get(user)
        ok = pw is not None and hmac.compare_digest(
            hmac.new(pw.encode(), chal, "md5").hexdigest(), digest)
        return AuthResult(success=ok, handled=False, auth_data=user.encode())

    async def _bearer(self, server, args, parse):
        if len(args) > 1:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except Exception:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        else:
            blob = await server.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        user, token = parse(blob.decode("utf-8", "replace"))
        pw = self.cfg.users.get(user or "")
        if pw is not None and token == pw:
            return AuthResult(success=True, auth_data=user.encode())
        err = json.dumps({"status": "invalid_token", "schemes": "bearer",
                          "scope": "https://mail.example.test/"})
        await server.challenge_auth(err)     # client must answer with an empty line
        return AuthResult(success=False, handled=False)

    async def auth_XOAUTH2(self, server, args):
        def parse(s):
            kv = dict(p.split("=", 1) for p in s.split("\x01") if "=" in p)
            tok = kv.get("auth", "")
            return kv.get("user"), tok[7:] if tok.lower().startswith("bearer ") else None
        return await self._bearer(server, args, parse)

    async def auth_OAUTHBEARER(self, server, args):
        def parse(s):
            gs2, _, rest = s.partition("\x01")
            user = next((p[2:] for p in gs2.split(",") if p.startswith("a=")), None)
            kv = dict(p.split("=", 1) for p in rest.split("\x01") if "=" in p)
            tok = kv.get("auth", "")
            return user, tok[7:] if tok.lower().startswith("bearer ") else None
        return await self._bearer(server, args, parse)


def make_tls(a):
    cert, key = a.cert, a.key
    if not (os.path.exists(cert) and os.path.exists(key)):
        d = tempfile.mkdtemp(prefix="fake_smtpd_")
        cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa",
                        "--outfile", key], check=True, capture_output=True)
        tmpl = os.path.join(d, "t")
        with open(tmpl, "w") as f:
            f.write('cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\n'
                    'ip_address = "::1"\nexpiration_days = 30\ntls_www_server\nsigning_key\n')
        subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", key,
                        "--template", tmpl, "--outfile", cert], check=True, capture_output=True)
        print(f"# using throw-away self-signed certificate {cert}", file=sys.stderr)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "127.0.0.2", "::1", "localhost"])
    p.add_argument("--port", type=int, default=10600)
    p.add_argument("--tls", choices=["starttls", "implicit", "none"], default="starttls")
    p.add_argument("--cert", default=os.path.join(os.environ.get("TMPDIR","/tmp"),"yubin-testenv/pki/server.crt"))
    p.add_argument("--key", default=os.path.join(os.environ.get("TMPDIR","/tmp"),"yubin-testenv/pki/server.key"))
    p.add_argument("--no-require-starttls", action="store_true")
    p.add_argument("--auth-without-tls", action="store_true")
    p.add_argument("--user", action="append", default=[], help="NAME:PASS")
    p.add_argument("--mechs", default="PLAIN,LOGIN,CRAM-MD5,XOAUTH2,OAUTHBEARER")
    p.add_argument("--advertise", default="PIPELINING,8BITMIME,SIZE,SMTPUTF8,ENHANCEDSTATUSCODES")
    p.add_argument("--size", type=int, default=1 << 30)
    p.add_argument("--fault", action="append", default=[])
    p.add_argument("--fault-connections", type=int, default=0)
    p.add_argument("--save-dir")
    p.add_argument("--hostname", default="fake.example.test")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--fast-data", action="store_true",
                   help="read DATA in 1 MiB chunks (no per-line checks); for big messages")
    p.add_argument("--discard", action="store_true",
                   help="benchmark sink: count DATA bytes, store nothing (implies --fast-data)")
    a = p.parse_args()

    cfg = Config(a)
    if a.save_dir:
        os.makedirs(a.save_dir, exist_ok=True)
    ctx = make_tls(a) if a.tls != "none" else None
    handler = Handler(cfg)
    mechs = {m.strip().upper() for m in a.mechs.split(",")}
    exclude = [m for m in ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER") if m not in mechs]

    def authenticator(server, session, envelope, mechanism, data):
        if isinstance(data, LoginPassword):
            pw = cfg.users.get(data.login.decode("utf-8", "replace"))
            ok = pw is not None and hmac.compare_digest(pw.encode(), data.password)
            return AuthResult(success=ok, handled=False, auth_data=data.login)
        return AuthResult(success=False, handled=False)

    have_auth = bool(cfg.users)
    if not have_auth:
        exclude = ["PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"]

    def factory():
        return FakeSMTP(
            cfg, handler, implicit_tls=(a.tls == "implicit"),
            hostname=a.hostname,
            data_size_limit=a.size,
            enable_SMTPUTF8=("SMTPUTF8" in cfg.advertise),
            decode_data=False,
            tls_context=ctx if a.tls == "starttls" else None,
            require_starttls=(a.tls == "starttls" and not a.no_require_starttls),
            auth_required=have_auth,
            auth_require_tls=(a.tls == "starttls" and not a.auth_without_tls),
            auth_exclude_mechanism=exclude,
            authenticator=authenticator,
            timeout=300,
        )

    async def run():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            factory, host=a.host, port=a.port,
            ssl=ctx if a.tls == "implicit" else None, reuse_address=True)
        port = server.sockets[0].getsockname()[1]
        print(f"READY {a.host} {port}", flush=True)
        stop = loop.create_future()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(None))
        await stop
        server.close()
        await server.wait_closed()

    import logging
    import warnings
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR if not a.verbose else logging.DEBUG)
    if a.verbose:
        logging.basicConfig(level=logging.DEBUG)
    asyncio.run(run())


if __name__ == "__main__":
    main()
