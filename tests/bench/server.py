"""A fast loopback HTTP server for the benchmark, run in its own process.

It answers `GET /bytes/N` (Content-Length) and `GET /close/N` (body until close) with N
bytes sent as fast as the kernel takes them, from one pre-built buffer, and
`GET /paced/R/N` with N bytes (Content-Length) paced at R MB/s: `PACE_STEP` bytes at a
time, each sent when it is due (a sender that falls behind catches up at once, so a slow
reader, not the server, is what lowers the rate), with TCP_NODELAY; `GET /paced-nagle/R/N`
the same with the socket's default, Nagle's algorithm (see `PACE_STEP`). It serves at most
`--requests` connections and gives up after `--idle` seconds without one, so it always
stops by itself. The chosen port is printed on the first line of stdout.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

BLOCK = bytes(range(256)) * 4096
"""1 MiB of a recognisable pattern, sent again and again."""
PACE_STEP = 48 * 1024
"""Bytes a paced write sends. Less than loopback's MSS (65,483), so that each write
arrives whole, as one segment: a reader that keeps up receives every step as 9 recvs of
5120 and one of 3072, and two steps come back as one only when the reader (or the
sender) was late by a step's time. With 16 KiB steps, written every 131 µs at 125 MB/s,
the sender's sleeps overshot by about as much, at random, and two bare loops' histograms
differed from each other by 0.04 to 0.09 (total-variation distance); with 48 KiB steps
by 0.0006, the median of 9 runs (tests/bench, goal 9).

A step is less than a segment, so Nagle's algorithm holds it back while the last one is
not yet acknowledged, and the receiver's delayed ACKs then decide when it leaves. Once
one step is held, the sender falls into a pattern where about every fourth step leaves
with the next one, often for the rest of the fetch (seen beside bare loops too, in some
runs): the histogram then says whether that pattern started, not whether the reader was
late. With TCP_NODELAY each step leaves when it is due, and two come back as one only
when somebody was late."""


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data:
        more = conn.recv(4096)
        if not more:
            break
        data += more
    return data


def _serve(conn: socket.socket) -> None:
    head = _read_head(conn)
    parts = head.split(b" ", 2)
    path = parts[1].decode("latin-1") if len(parts) > 1 else "/"
    if "://" in path:  # the book's absolute form
        path = "/" + path.split("://", 1)[1].split("/", 1)[-1]
    route, _, number = path.strip("/").partition("/")
    rate = 0.0
    if route == "paced":
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if route in ("paced", "paced-nagle"):
        speed, _, number = number.partition("/")
        rate = float(speed) * 1e6
    size = int(number) if number.isdigit() else 0
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/octet-stream", "Connection: close"]
    if route != "close":
        lines.append(f"Content-Length: {size}")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
    view = memoryview(BLOCK)
    if rate:
        _send_paced(conn, view, size, rate)
        return
    left = size
    while left >= len(BLOCK):
        conn.sendall(view)
        left -= len(BLOCK)
    if left:
        conn.sendall(view[:left])


def _send_paced(conn: socket.socket, view: memoryview, size: int, rate: float) -> None:
    start = time.perf_counter()
    sent = 0
    while sent < size:
        wait = start + sent / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        step = min(PACE_STEP, size - sent)
        offset = sent % (len(BLOCK) - PACE_STEP)
        conn.sendall(view[offset : offset + step])
        sent += step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--requests", type=int, default=1000, help="serve this many, then stop")
    parser.add_argument("--idle", type=float, default=120.0, help="stop after this idle time")
    args = parser.parse_args(argv)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(8)
    listener.settimeout(args.idle)
    print(listener.getsockname()[1], flush=True)
    try:
        for _ in range(args.requests):
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                break
            conn.settimeout(args.idle)
            try:
                _serve(conn)
            except OSError:
                pass  # the client went away (a cancel, a failed run): serve the next one
            finally:
                conn.close()
    finally:
        listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
