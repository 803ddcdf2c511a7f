#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripted_smtpd.py -- a raw, fully scripted SMTP server (stdlib only).

For what an SMTP library cannot do: STARTTLS response injection, odd or hostile
replies, replies split or merged at chosen places.  It follows a script step by
step, serves ONE connection (or --connections N, one after the other, each
running the whole script) and exits.

  /usr/bin/python3 scripted_smtpd.py --script FILE [--port 0] \
      [--transcript FILE] [--data-file FILE] [--cert CRT --key KEY] \
      [--connections N] [--timeout 30]

Prints "READY <port>" on stdout once listening (--port 0 = an ephemeral port).
Never runs longer than --timeout seconds (default 30) in all.
Exit status: 0 every connection ran the whole script, 1 a step failed
(unexpected client line, TLS failure, timeout), 2 bad usage or script.

SCRIPT (one step per line; blank lines and lines starting with # are ignored.
If the file has a line "server:", only the lines after it are read, up to the
first line that looks like a lower-case "key:" line, so a scenario file can
be passed as it is):

  S: text       send "text" + CRLF (together with pending S+ lines, ONE write)
  S+: text      queue "text" + CRLF; it goes out with the next S: in one write
                (before any other step, pending lines are flushed)
  C: text       read one client line; it must be exactly text (CRLF
                stripped); else "! FAILED: expected ..." and close
  C~: regex     the same, the whole line matching a Python regex
                (re.fullmatch): only for what is genuinely variable
  TLS           server side of a TLS handshake on the connection
  DATA          read message lines up to the line "." and save the raw bytes
                (dot-stuffed, as on the wire) to --data-file
  BDAT          read the chunk the client's last "BDAT N [LAST]" line
                announced (N bytes, raw) and save it to --data-file
  EOF           the client closes the connection now, sending nothing more
                (within 2 s: one waiting for a reply first fails the step;
                "C: QUIT" then EOF is a client that does not wait for 221)
  SLEEP n       wait n seconds (decimals allowed)
  SWALLOW       read and drop raw bytes (a TLS ClientHello) until none come
                for 0.3 s
  CLOSE         close the connection
  RESET         close the connection with a TCP RST (SO_LINGER 0)
  HANG          stop answering; record what the client sends until it closes
  WAITCLOSE     the end of a script: record what the client sends until it
                closes; a QUIT is answered "221 2.0.0 bye" and the server closes
                After HANG or WAITCLOSE every client line is unexpected (a
                script that expects QUIT says "C: QUIT" before WAITCLOSE): it
                is noted "! unexpected client line" and fails the script.

In S:/S+: text, "%{N*STR}" is replaced by STR repeated N times (STR must not
contain "}"), then the escapes \\r \\n \\t \\0 \\\\ \\xHH are decoded: so
"S: 220 %{102400*x}" sends a 100 KB line and "S: %{9999*250-x\\r\\n}250 end"
a 10000-line reply in one write.

TRANSCRIPT (--transcript FILE, one line per event, written as it happens):
  C: <line received>     (CRLF stripped; a line ended by a bare LF gets a
                          "! bare LF" note)
  S: <line sent>         (long lines are cut, and a write of more than 20 lines
                          is summarised)
  ! <note>               connection, TLS, mismatch, close, "script completed"
"""
import argparse
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

MAX_SHOWN = 400          # characters of one line shown in the transcript
MAX_LINES_SHOWN = 20     # lines of one write shown in the transcript
MAX_LINE = 1 << 20       # a client line longer than this fails the step
STEPS_ARG = ("S:", "S+:", "C:", "C~:")
STEPS_BARE = ("TLS", "DATA", "BDAT", "EOF", "CLOSE", "RESET", "SWALLOW",
              "HANG", "WAITCLOSE")
EOF_WAIT = 2.0           # seconds the EOF step gives the client


class StepFailed(Exception):
    pass


class ClientClosed(Exception):
    pass


def parse_script(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if any(l.strip() == "server:" for l in lines):
        start = next(i for i, l in enumerate(lines) if l.strip() == "server:")
        block = []
        for l in lines[start + 1:]:
            if re.match(r"^[a-z][a-z0-9-]*~?:", l):
                break
            block.append(l)
        lines = block
    steps = []
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        for kw in STEPS_ARG:
            if line.startswith(kw):
                arg = line[len(kw):]
                if arg.startswith(" "):
                    arg = arg[1:]
                steps.append((kw[:-1], arg))
                break
        else:
            word, _, arg = line.strip().partition(" ")
            if word in STEPS_BARE and not arg:
                steps.append((word, None))
            elif word == "SLEEP":
                steps.append((word, float(arg)))
            else:
                raise SystemExit(f"{path}: script line {n}: unknown step: {line!r}")
    return steps


def expand(text):
    def rep(m):
        return m.group(2) * int(m.group(1))
    text = re.sub(r"%\{(\d+)\*([^}]*)\}", rep, text)
    out = bytearray()
    i = 0
    b = text.encode("utf-8")
    esc = {ord("r"): b"\r", ord("n"): b"\n", ord("t"): b"\t", ord("0"): b"\0",
           ord("\\"): b"\\"}
    while i < len(b):
        c = b[i]
        if c == ord("\\") and i + 1 < len(b):
            d = b[i + 1]
            if d in esc:
                out += esc[d]
                i += 2
                continue
            if d == ord("x") and i + 3 < len(b) and \
                    re.fullmatch(rb"[0-9a-fA-F]{2}", b[i + 2:i + 4]):
                out.append(int(b[i + 2:i + 4], 16))
                i += 4
                continue
        out.append(c)
        i += 1
    return bytes(out)


def show(b):
    s = b.decode("utf-8", "backslashreplace")
    s = s.replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0")
    if len(s) > MAX_SHOWN:
        s = s[:MAX_SHOWN] + f"...[{len(b)} bytes]"
    return s


class Transcript:
    def __init__(self, path):
        self.f = open(path, "a", encoding="utf-8") if path else None

    def add(self, who, text):
        if self.f:
            self.f.write(f"{who}: {text}\n" if who != "!" else f"! {text}\n")
            self.f.flush()


class Conn:
    def __init__(self, sock, tr, deadline):
        self.sock = sock
        self.tr = tr
        self.deadline = deadline
        self.buf = b""
        self.closed = None      # why the client's side is gone, once it is
        self.last = b""         # the last client line read

    def _recv(self):
        if self.closed:
            raise ClientClosed(self.closed)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StepFailed("global timeout")
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise StepFailed("global timeout")
        except (ConnectionError, ssl.SSLError, OSError) as e:
            raise ClientClosed(f"connection error: {e}")
        if not d:
            raise ClientClosed("client closed the connection")
        self.buf += d

    def swallow(self):
        n = len(self.buf)
        self.buf = b""
        while True:
            self.sock.settimeout(0.3)
            try:
                d = self.sock.recv(65536)
            except (socket.timeout, OSError):
                break
            if not d:
                break
            n += len(d)
        self.tr.add("!", f"swallowed {n} bytes")

    def readline(self):
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise StepFailed(f"client line longer than {MAX_LINE} bytes")
            self._recv()
        line, _, self.buf = self.buf.partition(b"\n")
        self.last = line.rstrip(b"\r")
        self.tr.add("C", show(line[:-1] if line.endswith(b"\r") else line))
        if not line.endswith(b"\r"):
            self.tr.add("!", "bare LF")
        return line[:-1] if line.endswith(b"\r") else line, line + b"\n"

    def read_exactly(self, n):
        while len(self.buf) < n:
            self._recv()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def expect_eof(self):
        """The client closes before EOF_WAIT seconds, sending nothing."""
        if self.buf:
            raise StepFailed(f"client sent {show(self.buf)!r}, expected "
                             "it to close")
        self.sock.settimeout(EOF_WAIT)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise StepFailed(f"the client did not close within {EOF_WAIT} s "
                             "(waiting for a reply?)")
        except (ConnectionError, ssl.SSLError, OSError) as e:
            d = b""
            self.tr.add("!", f"connection error: {e}")
        if d:
            self.buf += d
            self.readline()
            raise StepFailed("client line instead of its close")
        self.closed = "client closed the connection"
        self.tr.add("!", "client closed the connection (EOF)")

    def send(self, data):
        lines = data.split(b"\r\n")
        tail = lines.pop()          # b"" when data ends with CRLF
        for ln in lines[:MAX_LINES_SHOWN]:
            self.tr.add("S", show(ln))
        if len(lines) > MAX_LINES_SHOWN:
            self.tr.add("!", f"... {len(lines) - MAX_LINES_SHOWN} more lines "
                             f"in the same write ({len(data)} bytes)")
        if tail:
            self.tr.add("S", show(tail) + " [no CRLF]")
        if self.closed:
            self.tr.add("!", "(not sent: the client has gone)")
            return
        self.sock.settimeout(max(0.1, self.deadline - time.monotonic()))
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise StepFailed("global timeout while sending")
        except (ConnectionError, ssl.SSLError, OSError) as e:
            # the client may rightly hang up in the middle of a hostile
            # reply: not a failure by itself; a later C: step fails
            self.closed = f"client gone while the server was sending: {e}"
            self.tr.add("!", self.closed)

    def wait_close(self, answer_quit):
        """Record client lines until the client closes; every one is
        unexpected (returns how many).  With answer_quit, a QUIT gets "221"
        and the server closes (so a polite client does not sit out its
        timeout waiting for the 221)."""
        unexpected = 0
        try:
            while True:
                line, _ = self.readline()
                unexpected += 1
                self.tr.add("!", "unexpected client line")
                if answer_quit and line.strip().upper() == b"QUIT":
                    self.send(b"221 2.0.0 bye\r\n")
                    self.tr.add("!", "QUIT answered; server closes the connection")
                    return unexpected
        except ClientClosed as e:
            self.tr.add("!", str(e))
        return unexpected


def make_ctx(cert, key, tmpdir):
    if not (cert and key):
        d = tempfile.mkdtemp(prefix="scripted_smtpd_", dir=tmpdir)
        cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa",
                        "--outfile", key], check=True, capture_output=True)
        tmpl = os.path.join(d, "t")
        with open(tmpl, "w") as f:
            f.write('cn = "localhost"\ndns_name = "localhost"\n'
                    'ip_address = "127.0.0.1"\nexpiration_days = 30\n'
                    'tls_www_server\nsigning_key\n')
        subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", key,
                        "--template", tmpl, "--outfile", cert],
                       check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def save_data(a, conn_no, data_no, raw):
    if a.data_file:
        name = a.data_file
        if conn_no > 1 or data_no > 1:
            name = f"{a.data_file}.{conn_no}.{data_no}"
        with open(name, "wb") as f:
            f.write(raw)


def run_script(conn, steps, a, ctx_holder, conn_no):
    """Run every step on one connection. Returns True if the script completed."""
    tr = conn.tr
    pending = []
    data_no = 0

    def flush():
        if pending:
            conn.send(b"".join(pending))
            pending.clear()

    try:
        for kind, arg in steps:
            if kind == "S+":
                pending.append(expand(arg) + b"\r\n")
                continue
            if kind == "S":
                pending.append(expand(arg) + b"\r\n")
                flush()
                continue
            flush()
            if kind in ("C", "C~"):
                try:
                    line, _ = conn.readline()
                except ClientClosed as e:
                    raise StepFailed(f"{e}; expected {kind}: {arg}")
                text = line.decode("utf-8", "replace")
                good = (text == arg if kind == "C"
                        else re.fullmatch(arg, text) is not None)
                if not good:
                    raise StepFailed(f"expected {kind}: {arg}")
            elif kind == "TLS":
                if conn.buf:
                    raise StepFailed(f"client sent {len(conn.buf)} bytes before "
                                     "the TLS handshake")
                if ctx_holder[0] is None:
                    ctx_holder[0] = make_ctx(a.cert, a.key, a.tmpdir)
                conn.sock.settimeout(max(0.1, conn.deadline - time.monotonic()))
                try:
                    conn.sock = ctx_holder[0].wrap_socket(conn.sock, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    raise StepFailed(f"TLS handshake failed: {e}")
                tr.add("!", f"TLS established: {conn.sock.version()} "
                            f"{conn.sock.cipher()[0]}")
            elif kind == "DATA":
                raw = bytearray()
                while True:
                    try:
                        line, rawline = conn.readline()
                    except ClientClosed as e:
                        raise StepFailed(f"{e} during DATA after {len(raw)} bytes")
                    raw += rawline
                    if line == b".":
                        break
                data_no += 1
                save_data(a, conn_no, data_no, raw)
                tr.add("!", f"DATA: {len(raw)} bytes")
            elif kind == "BDAT":
                m = re.fullmatch(rb"BDAT (\d+)( LAST)?", conn.last)
                if not m:
                    raise StepFailed("BDAT step without a BDAT line before")
                try:
                    raw = conn.read_exactly(int(m.group(1)))
                except ClientClosed as e:
                    raise StepFailed(f"{e} during the BDAT chunk")
                data_no += 1
                save_data(a, conn_no, data_no, raw)
                tr.add("!", f"BDAT: {len(raw)} bytes")
            elif kind == "EOF":
                conn.expect_eof()
            elif kind == "SLEEP":
                time.sleep(max(0, min(arg, conn.deadline - time.monotonic())))
            elif kind == "SWALLOW":
                conn.swallow()
            elif kind == "CLOSE":
                tr.add("!", "server closes the connection")
                return True
            elif kind == "RESET":
                conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
                tr.add("!", "server resets the connection")
                return True
            elif kind in ("HANG", "WAITCLOSE"):
                tr.add("!", "hanging (no more replies)" if kind == "HANG"
                       else "waiting for the client to close")
                n = conn.wait_close(answer_quit=(kind == "WAITCLOSE"))
                if n:
                    raise StepFailed(f"{n} unexpected client line(s) after "
                                     f"{kind}")
        flush()
        return True
    except StepFailed as e:
        tr.add("!", f"FAILED: {e}")
        return False
    except ClientClosed as e:
        tr.add("!", f"FAILED: {e}")
        return False


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--script", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--transcript")
    p.add_argument("--data-file")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--tmpdir", default=None)
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    steps = parse_script(a.script)
    if not steps:
        raise SystemExit(f"{a.script}: empty script")

    tr = Transcript(a.transcript)

    def on_alarm(signum, frame):
        tr.add("!", "FAILED: global timeout (alarm)")
        os._exit(1)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(a.timeout) + 5)

    def on_term(signum, frame):
        tr.add("!", "killed")
        os._exit(1)
    signal.signal(signal.SIGTERM, on_term)

    deadline = time.monotonic() + a.timeout
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(8)
    print(f"READY {ls.getsockname()[1]}", flush=True)

    ctx_holder = [None]
    all_ok = True
    for n in range(1, a.connections + 1):
        ls.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            s, peer = ls.accept()
        except socket.timeout:
            tr.add("!", f"FAILED: global timeout waiting for connection {n}")
            return 1
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tr.add("!", f"connection {n} from {peer[0]}:{peer[1]}")
        conn = Conn(s, tr, deadline)
        done = run_script(conn, steps, a, ctx_holder, n)
        if done:
            tr.add("!", "script completed")
        all_ok = all_ok and done
        try:
            conn.sock.close()
        except OSError:
            pass
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
