"""The reference: the book's bare loop, `while s.recv(5120): pass`, nothing kept.

Prints `SECONDS`: from the moment the connection is up to the return of the recv that
saw the close (the server closes right after the last byte). Nothing is read per recv,
not even the clock or the size: any of that would flatter every ratio against it.

With a fifth argument `record`, the loop also keeps what sockview must keep of each recv
and nothing else: its time and size, in two arrays, with `recv_into` into one buffer, and
the running total that decides where the body ends; it prints `SECONDS BYTES RECVS`, timed
like sockview's `Finished.elapsed` (to the last recv that brought data). That is the
ceiling of a Python loop that records every recv.

With `sizes PATH`, it keeps the size of each recv (one `len` and one append) and writes
their histogram to PATH as JSON `{size: count}`: the reference for a paced server, where
the reader waits most of the time.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from array import array
from collections import Counter


def bare(recv, bufsize: int) -> None:  # type: ignore[no-untyped-def]
    while recv(bufsize):
        pass


def bare_sizes(recv, bufsize: int) -> array[int]:  # type: ignore[no-untyped-def]
    sizes = array("I")
    append = sizes.append
    while data := recv(bufsize):
        append(len(data))
    return sizes


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
    mode = sys.argv[5:6]
    sock = socket.create_connection((host, port))
    t0 = time.perf_counter_ns()
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("ascii"))
    if mode == ["record"]:
        last, total, count = record(sock.recv_into, bufsize, t0)
        print(f"{(last - t0) / 1e9:.6f} {total} {count}")
    elif mode == ["sizes"]:
        sizes = bare_sizes(sock.recv, bufsize)
        last = time.perf_counter_ns()
        with open(sys.argv[6], "w") as out:
            json.dump(Counter(sizes), out)
        print(f"{(last - t0) / 1e9:.6f} {sum(sizes)} {len(sizes)}")
    else:
        bare(sock.recv, bufsize)
        last = time.perf_counter_ns()
        print(f"{(last - t0) / 1e9:.6f}")
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
