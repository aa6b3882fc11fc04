"""A fast loopback HTTP server for the benchmark, run in its own process.

It answers `GET /bytes/N` (Content-Length) and `GET /close/N` (body until close) with N
bytes sent as fast as the kernel takes them, from one pre-built buffer. It serves at most
`--requests` connections and gives up after `--idle` seconds without one, so it always
stops by itself. The chosen port is printed on the first line of stdout.
"""

from __future__ import annotations

import argparse
import socket
import sys

BLOCK = bytes(range(256)) * 4096
"""1 MiB of a recognisable pattern, sent again and again."""


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
    size = int(number) if number.isdigit() else 0
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/octet-stream", "Connection: close"]
    if route != "close":
        lines.append(f"Content-Length: {size}")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
    view = memoryview(BLOCK)
    left = size
    while left >= len(BLOCK):
        conn.sendall(view)
        left -= len(BLOCK)
    if left:
        conn.sendall(view[:left])


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
