"""The book's loop: `picture = picture + data` after each recv(5120), then save the picture.

Prints `SECONDS BYTES RECVS`; SECONDS runs from connect to the file written.
"""

from __future__ import annotations

import socket
import sys
import time


def main() -> int:
    host, port, path, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    sock = socket.create_connection((host, port))
    t0 = time.perf_counter_ns()
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("ascii"))
    count = 0
    picture = b""
    while True:
        data = sock.recv(5120)
        if len(data) < 1:
            break
        count += 1
        picture = picture + data
    sock.close()
    pos = picture.find(b"\r\n\r\n")
    with open(out, "wb") as file:
        file.write(picture[pos + 4 :])
    print(f"{(time.perf_counter_ns() - t0) / 1e9:.6f} {len(picture)} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
