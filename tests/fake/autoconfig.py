#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""autoconfig.py -- a loopback HTTPS server for --configure's autoconfig
tests (stdlib only): each GET path (query included) named by --doc is
answered 200 with that file's bytes, every other one 404.

  autoconfig.py --cert server.crt --key server.key --log FILE \\
      --doc /autoconfig.example.test/mail/config-v1.1.xml?emailaddress=a%40b=doc.xml

yubin reaches it through YUBIN_AUTOCONFIG_URL=https://127.0.0.1:PORT, so
https://HOST/PATH arrives as /HOST/PATH. Each request line goes to --log
("GET /path Accept: ...").  Prints "READY 127.0.0.1 <port>" once it
listens; serves until SIGTERM or --timeout (60 s).
"""
import argparse
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        with self.server.lock:
            with open(self.server.log, "a", encoding="utf-8") as f:
                f.write("GET %s Accept: %s\n" % (
                    self.path, self.headers.get("Accept", "")))
        body = self.server.docs.get(self.path)
        status = 200 if body is not None else 404
        if body is None:
            body = b"not found\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--doc", action="append", default=[],
                    help="PATH=FILE (split at the last '=')")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.lock = threading.Lock()
    srv.log = args.log
    srv.docs = {}
    for d in args.doc:
        path, _, name = d.rpartition("=")
        with open(name, "rb") as f:
            srv.docs[path] = f.read()
    t = threading.Timer(args.timeout, srv.shutdown)
    t.daemon = True
    t.start()
    print("READY 127.0.0.1 %d" % srv.server_address[1], flush=True)
    srv.serve_forever(poll_interval=0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
