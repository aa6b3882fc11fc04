"""The reference: the book's bare `recv(5120)` loop, nothing kept, nothing printed.

Prints `SECONDS BYTES RECVS`, timed like sockview's `Finished.elapsed`: from the moment
the connection is up to the return of the last recv that brought data.
"""

from __future__ import annotations

import socket
import sys
import time


def main() -> int:
    host, port, path, bufsize = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    sock = socket.create_connection((host, port))
    t0 = time.perf_counter_ns()
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("ascii"))
    recv = sock.recv
    total = count = 0
    last = t0
    while True:
        data = recv(bufsize)
        if not data:
            break
        last = time.perf_counter_ns()
        total += len(data)
        count += 1
    sock.close()
    print(f"{(last - t0) / 1e9:.6f} {total} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
