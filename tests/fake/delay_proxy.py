#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""delay_proxy.py -- a TCP proxy that makes loopback look like a real link.

Round trips cost nothing on loopback; on a laptop's link to its provider
(20-100 ms) the time of a send is the number of round trips.  This proxy
puts a fixed one-way delay (RTT/2) on every chunk in each direction, so the
waits of a client show (no tc netem needed), and it writes down when each
chunk passed, so a test can count how many times the client waited.

  /usr/bin/python3 delay_proxy.py --upstream HOST:PORT [--rtt-ms 50] \
      [--port 0] [--log FILE] [--connections N] [--timeout SECONDS]

Prints "READY <port>" on stdout once listening on 127.0.0.1 (--port 0: an
ephemeral port).  SIGTERM/SIGINT stop it; --connections N exits after N
connections have ended; --timeout (default 600 s) bounds its whole life.

THE MODEL (one connection, d = RTT/2; times from the client's connect):
  - TCP's handshake costs one RTT: a real client can send its first byte
    only when connect() returns, one RTT after its SYN, and the server
    accepts it when the client's ACK arrives (1.5 RTT).  Here connect()
    returns at once on loopback, so the proxy holds what the client sends
    until RTT has passed and connects to the server at RTT + d: every byte
    then reaches the server when it would have on a real link.
  - a chunk read from the client at t is written to the server at
    max(t, RTT) + d; one read from the server at t is written to the
    client at t + d; order kept in each direction; EOF (a half-close) is
    passed on the same way, after the data before it.
  - bandwidth is not limited; the kernel's own loopback delay is ignored.
So a client's wall-clock time through the proxy is what it would be on a
link with that RTT (plus its own CPU time), and one RTT = one wait.

THE LOG (--log FILE, one JSON object per connection, a line each, written
when the connection has ended):
  {"conn": N, "rtt_ms": R, "events": [[MS, "c"|"s"|"c-eof"|"s-eof", BYTES],
   ...], "flights": [BYTES, ...], "waits": W, "round_trips": W + 1,
   "client_closed_first": true|false, "wall_ms": MS}
  events: "c" a chunk read from the client (MS: when it was read), "s" a
  chunk written to the client (MS: when the client got it), "*-eof" the
  half-closes.  A wait is a run of "s" events (the server's answer reached
  the client) followed by anything from the client (data or its EOF): the
  client had to have that answer before it went on.  round_trips adds the
  TCP handshake: it is the issue-11 count (msmtp: 10 for 587 + PLAIN).
  Server data that reaches the client after the client has sent its EOF
  (a 221 to a QUIT the client did not wait for) is no wait.  flights: the
  bytes of each run of "c" events.
"""
import argparse
import asyncio
import json
import signal
import sys
import time


class Conn:
    def __init__(self, no, rtt):
        self.no = no
        self.rtt = rtt
        self.d = rtt / 2
        self.t0 = time.monotonic()
        self.events = []
        self.upstream = None        # (reader, writer) once connected
        self.up = asyncio.Event()

    def ms(self):
        return round((time.monotonic() - self.t0) * 1000, 3)

    def note(self, kind, n):
        self.events.append([self.ms(), kind, n])

    def summary(self):
        ev = sorted(self.events, key=lambda e: e[0])
        waits, flights, prev, answered = 0, [], None, False
        for _, kind, n in ev:
            side = kind[0]
            if side == "c":
                if prev == "s" and answered:
                    waits += 1
                if prev != "c":
                    flights.append(0)
                flights[-1] += n
            else:
                if prev != "s":
                    answered = False
                answered = answered or kind == "s"
            prev = side
        eofs = {k: t for t, k, _ in ev if k.endswith("eof")}
        return {
            "conn": self.no, "rtt_ms": self.rtt * 1000, "events": ev,
            "flights": flights, "waits": waits, "round_trips": waits + 1,
            "client_closed_first": "c-eof" in eofs and (
                "s-eof" not in eofs or eofs["c-eof"] < eofs["s-eof"]),
            "wall_ms": self.ms(),
        }


async def pump(reader, writer_of, conn, side, not_before):
    """Copy reader to writer_of() (called once the upstream connection is
    up), each chunk written at max(read time, not_before) + d, in order.
    side "c": client to server (logged when read), "s": server to client
    (logged when written)."""
    loop = asyncio.get_running_loop()
    q = asyncio.Queue()

    async def feed():
        while True:
            try:
                data = await reader.read(65536)
            except (ConnectionError, OSError):
                data = b""
            if side == "c":
                conn.note("c" if data else "c-eof", len(data))
            await q.put((max(loop.time(), not_before) + conn.d, data))
            if not data:
                return

    async def drain():
        await conn.up.wait()
        writer = writer_of()
        while True:
            at, data = await q.get()
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                if data:
                    writer.write(data)
                    await writer.drain()
                elif writer.can_write_eof():
                    writer.write_eof()
            except (ConnectionError, OSError, RuntimeError):
                pass
            if side == "s":
                conn.note("s" if data else "s-eof", len(data))
            if not data:
                return

    await asyncio.gather(feed(), drain())


async def handle(creader, cwriter, a, state):
    state["n"] += 1
    conn = Conn(state["n"], a.rtt_ms / 1000)
    loop = asyncio.get_running_loop()
    c2s = asyncio.ensure_future(pump(creader, lambda: conn.upstream[1],
                                     conn, "c", loop.time() + conn.rtt))
    await asyncio.sleep(conn.rtt + conn.d)      # SYN, SYN-ACK, ACK
    try:
        conn.upstream = await asyncio.open_connection(a.up_host, a.up_port)
    except OSError as e:
        print(f"delay_proxy: cannot connect to {a.upstream}: {e}",
              file=sys.stderr)
        c2s.cancel()
    else:
        conn.up.set()
        await asyncio.gather(
            c2s, pump(conn.upstream[0], lambda: cwriter, conn, "s", 0),
            return_exceptions=True)
        conn.upstream[1].close()
    cwriter.close()
    if a.log:
        with open(a.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(conn.summary()) + "\n")
    state["done"] += 1
    if a.connections and state["done"] >= a.connections:
        state["stop"].set()


async def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", required=True, help="HOST:PORT")
    p.add_argument("--rtt-ms", type=float, default=50)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log")
    p.add_argument("--connections", type=int, default=0)
    p.add_argument("--timeout", type=float, default=600)
    a = p.parse_args()
    host, _, port = a.upstream.rpartition(":")
    a.up_host, a.up_port = host.strip("[]"), int(port)
    state = {"n": 0, "done": 0, "stop": asyncio.Event()}
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, a, state), "127.0.0.1", a.port)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, state["stop"].set)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    try:
        await asyncio.wait_for(state["stop"].wait(), a.timeout)
    except asyncio.TimeoutError:
        pass
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
