"""The reference: the book's bare `recv(5120)` loop, nothing kept, nothing printed.

Prints `SECONDS BYTES RECVS`, timed like sockview's `Finished.elapsed`: from the moment
the connection is up to the return of the last recv that brought data.

With a fifth argument `record`, the loop also keeps what sockview must keep of each recv
and nothing else: its time and size, in two arrays, with `recv_into` into one buffer, and
the running total that decides where the body ends. That is the ceiling of any loop that
records every recv.
"""

from __future__ import annotations

import socket
import sys
import time
from array import array


def bare(recv, bufsize: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    total = count = 0
    last = time.perf_counter_ns()
    while True:
        data = recv(bufsize)
        if not data:
            break
        last = time.perf_counter_ns()
        total += len(data)
        count += 1
    return last, total, count


def record(recv_into, bufsize: int, t0: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    buffer = memoryview(bytearray(bufsize))
    times, sizes = array("q"), array("I")
    times_append, sizes_append = times.append, sizes.append
    clock = time.perf_counter_ns
    total = 0
    while True:
        size = recv_into(buffer, bufsize)
        now = clock()
        if not size:
            break
        total += size
        times_append(now - t0)
        sizes_append(size)
    return t0 + times[-1], total, len(sizes)


def main() -> int:
    host, port, path, bufsize = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    recording = sys.argv[5:] == ["record"]
    sock = socket.create_connection((host, port))
    t0 = time.perf_counter_ns()
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("ascii"))
    if recording:
        last, total, count = record(sock.recv_into, bufsize, t0)
    else:
        last, total, count = bare(sock.recv, bufsize)
    sock.close()
    print(f"{(last - t0) / 1e9:.6f} {total} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
