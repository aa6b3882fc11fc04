"""Goal 11: the demo server holds a class (issue 17).

A fresh `python -m sockview.demo` for each run, and 100 students running the book's
script against it: all at once without the sleep, then spread over 3 s with the book's
`time.sleep(0.25)` after each `recv(5120)`. Reports the time for the class, whether every
body was right (and, with the sleep, whether every student saw 13 x 5120 + 3743), and the
server's peak RSS and threads.

    python -m tests.bench --only 11
    python -m tests.bench.demo_class --students 100
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sockview.core.demo import FIXED_DATE, cover_head
from sockview.core.sample_image import sample_png
from tests.bench.run import ROOT, Report, Row

PNG = sample_png()
COVER_LENGTH = len(cover_head(PNG, FIXED_DATE)) + len(PNG)
BOOK_SIZES = [5120] * 13 + [3743]


@dataclass
class ClassRun:
    seconds: float
    right: int
    book_sizes: int
    peak_threads: int
    maxrss_mb: float
    failures: list[str] = field(default_factory=list)


def student(port: int, delay: float, start_at: float, out: list[tuple[list[int], bytes]]) -> None:
    """The book's script: connect, the request, recv(5120) (and sleep) until the close."""
    time.sleep(max(0.0, start_at - time.monotonic()))
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(f"GET http://127.0.0.1:{port}/cover.png HTTP/1.0\r\n\r\n".encode())
        sizes, chunks = [], []
        while data := sock.recv(5120):
            sizes.append(len(data))
            chunks.append(data)
            if delay:
                time.sleep(delay)
    out.append((sizes, b"".join(chunks)))


def _threads(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^Threads:\s+(\d+)", status, re.M)
    return int(match[1]) if match else 0


def run_class(students: int, spread: float, delay: float) -> ClassRun:
    server = subprocess.Popen(
        [sys.executable, "-m", "sockview.demo", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert server.stdout is not None
    port = int(re.findall(r":(\d+)/", server.stdout.readline())[0])
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], _threads(server.pid))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    results: list[tuple[list[int], bytes]] = []
    failures: list[str] = []

    def one(index: int, begin: float) -> None:
        try:
            student(port, delay, begin + spread * index / students, results)
        except OSError as exc:
            failures.append(f"{type(exc).__name__}: {exc}")

    begin = time.monotonic() + 0.2
    threads = [threading.Thread(target=one, args=(i, begin)) for i in range(students)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    seconds = time.monotonic() - begin
    done.set()
    watcher.join()
    server.send_signal(signal.SIGINT)
    _, _, usage = os.wait4(server.pid, 0)
    server.stdout.close()
    right = sum(1 for _, body in results if len(body) == COVER_LENGTH and body.endswith(PNG))
    book = sum(1 for sizes, _ in results if sizes == BOOK_SIZES)
    return ClassRun(seconds, right, book, peak[0], usage.ru_maxrss / 1024, failures)


def run(report: Report, students: int = 100) -> None:
    at_once = run_class(students, spread=0.0, delay=0.0)
    report.add(
        Row(
            "11",
            f"demo: {students} book scripts at once, no sleep, fresh server",
            f"{at_once.seconds:.2f} s for the class",
            f"{at_once.right}/{students} right",
            None,
            "< 2 s, all",
            at_once.seconds < 2 and at_once.right == students,
            f"server peak RSS {at_once.maxrss_mb:.0f} MB (goal < 64), "
            f"{at_once.peak_threads} threads; failures: {len(at_once.failures)}",
        )
    )
    spread = run_class(students, spread=3.0, delay=0.25)
    report.add(
        Row(
            "11",
            f"demo: {students} over 3 s, sleep(0.25), fresh server",
            f"{spread.book_sizes}/{students} 13x5120+3743",
            f"{spread.right}/{students} right",
            None,
            "all, RSS < 64",
            spread.book_sizes == students
            and spread.right == students
            and max(spread.maxrss_mb, at_once.maxrss_mb) < 64,
            f"{spread.seconds:.2f} s for the class; server peak RSS {spread.maxrss_mb:.0f} MB, "
            f"{spread.peak_threads} threads; failures: {len(spread.failures)}",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.demo_class")
    parser.add_argument("--students", type=int, default=100)
    args = parser.parse_args(argv)
    from tests.bench.run import _format_rows

    report = Report()
    run(report, args.students)
    print(_format_rows(report.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
