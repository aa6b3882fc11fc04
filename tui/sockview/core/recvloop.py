"""The counted-body recv loop: compiled where the C extension was built, Python elsewhere.

`recv_counted` receives one slice of a counted body (see `Fetch._receive`): recv after
recv into `buffer`, each stored as a (time, size) row in `times` and `sizes`, until the
batch is full, the body has ended (`total >= end`), the slice `deadline` (a `clock`
value) has passed, the `delay` is on, EOF (size 0) or an error (size -1 and the OSError,
returned rather than raised so that the caller keeps the bytes that came before it).
With `batch`, each recv writes at `buffer[fill:]` and `fill` grows; with `batch == 0`,
each recv writes over `buffer[:step]`. It returns `(size, fill, total, now, error)`.

The compiled loop (`_recvloop.c`, built by `pip install` where a C compiler is found)
does the same without the GIL for the whole slice, so that a busy UI thread does not
slow it, with a recv and a clock read per row and nothing else. It is used only where
its results are the same as the Python loop's:

- a plain socket without a timeout: TLS sockets read through `ssl`, and a timeout
  needs Python's poll before each recv;
- the real clock (`time.perf_counter_ns`, which is CLOCK_MONOTONIC on Linux, what the C
  reads): a test's fake clock gets the Python loop, which calls it.

Where they differ is in when things are seen. Rows: the Python loop appends each at
once, the compiled one at the end of the slice (it never blocks with rows held back: it
waits for more at most until the deadline, or 10 ms). The delay: the Python loop looks
at `delay.enabled` after every recv; the compiled one cannot without the GIL, so the
caller passes a deadline of 0 while the delay is on, and a delay switched on mid-slice
starts at the slice's end, at the latest one emit interval later, not after the next
recv. `SOCKVIEW_PURE_PYTHON=1` forces the Python loop.

Where the compiled loop is used and the delay is off, the fetch runs it on a thread of its
own (`Reader`, also in `_recvloop.c`), which never takes the GIL: it receives into a ring
(the kept body's bytes; a scratch buffer when nothing is kept) and a ring of rows, and the
fetch's thread collects both at each report, or sooner when a quarter of a ring has
filled. A UI thread holding the GIL then delays only the collecting, not the recvs: the
slice loop above needs the GIL at the end of every slice and waits for it with the socket
unread. The reader waits only when a ring is full. Rows that came before the server went
quiet are handed over after 10 ms, as the slice loop does. With the delay on, the fetch
stops the reader (at the next report, at the latest) and goes on with the slice loop.
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
import time
from array import array
from collections.abc import Callable
from typing import Protocol


class Switch(Protocol):
    enabled: bool


class RecvCounted(Protocol):
    def __call__(
        self,
        sock: socket.socket,
        buffer: memoryview,
        fill: int,
        batch: int,
        step: int,
        total: int,
        end: int,
        deadline: int,
        delay: Switch,
        t0: int,
        clock: Callable[[], int],
        times: array[int],
        sizes: array[int],
        /,
    ) -> tuple[int, int, int, int, OSError | None]: ...


def recv_counted(
    sock: socket.socket,
    buffer: memoryview,
    fill: int,
    batch: int,
    step: int,
    total: int,
    end: int,
    deadline: int,
    delay: Switch,
    t0: int,
    clock: Callable[[], int],
    times: array[int],
    sizes: array[int],
) -> tuple[int, int, int, int, OSError | None]:
    """One slice of the counted-body loop, in Python (see the module's text)."""
    recv_into = sock.recv_into
    times_append = times.append
    sizes_append = sizes.append
    size = -1
    now = 0
    try:
        if batch:
            while True:
                size = recv_into(buffer[fill : fill + step])
                now = clock()
                if not size:
                    break
                total += size
                times_append(now - t0)
                sizes_append(size)
                fill += size
                if fill >= batch or total >= end or now >= deadline or delay.enabled:
                    break
        else:
            while True:
                size = recv_into(buffer, step)
                now = clock()
                if not size:
                    break
                total += size
                times_append(now - t0)
                sizes_append(size)
                if total >= end or now >= deadline or delay.enabled:
                    break
    except OSError as exc:
        return -1, fill, total, now, exc
    return size, fill, total, now, None


class Reader(Protocol):
    """The compiled loop on a thread of its own (`_recvloop.Reader`; see the module's text).

    Made with `(sock, ring, step, total, end, t0)`: `ring` is a writable buffer the kept
    body is received into (None when nothing is kept). `collect` waits, without the GIL,
    until `deadline` (a `perf_counter_ns` value) or until much has come, appends the
    rows to `times` and `sizes`, and returns `(start, stop, total, now, ended, error)`:
    the kept bytes are `ring[start:stop]`, the caller's until its next `collect`.
    `ended` is one of the ENDED_ codes once every row and byte before the end has been
    collected, else RUNNING. `stop` asks it to end; `close` stops it and waits for it.
    """

    def collect(
        self, deadline: int, times: array[int], sizes: array[int], /
    ) -> tuple[int, int, int, int, int, OSError | None]: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


ReaderFactory = Callable[[socket.socket, "memoryview | None", int, int, int, int], Reader]

RUNNING, ENDED_BODY, ENDED_EOF, ENDED_ERROR, ENDED_STOPPED = range(5)
"""What `Reader.collect` says of the reader (the C's enum)."""

compiled: RecvCounted | None = None
"""The compiled loop, or None (then `why` says why); tests may set it to None."""
why = ""
reader: ReaderFactory | None = None
"""The compiled loop on its own thread, where `compiled` is; tests may set it to None."""

if os.environ.get("SOCKVIEW_PURE_PYTHON", "") not in ("", "0"):
    why = "SOCKVIEW_PURE_PYTHON is set"
elif not sys.platform.startswith("linux"):
    why = f"the compiled loop is for Linux, not {sys.platform}"
elif time.get_clock_info("perf_counter").implementation != "clock_gettime(CLOCK_MONOTONIC)":
    why = "time.perf_counter is not CLOCK_MONOTONIC here"
else:
    try:
        import sockview.core._recvloop as _recvloop
    except ModuleNotFoundError:
        why = "the C extension was not built"
    except ImportError as exc:
        why = f"the C extension does not load: {exc}"
    else:
        compiled = _recvloop.recv_counted
        reader = _recvloop.Reader


def loop_name() -> str:
    """`compiled`, or `python (why)`: what `sockview --version` says."""
    return "compiled" if compiled is not None else f"python ({why})"


def loop_for(sock: socket.socket, clock: Callable[[], int]) -> RecvCounted:
    """The loop for this socket and clock: compiled when it gives the same results."""
    if (
        compiled is None
        or isinstance(sock, ssl.SSLSocket)
        or sock.gettimeout() is not None
        or clock is not time.perf_counter_ns
    ):
        return recv_counted
    return compiled


def reader_for(sock: socket.socket, clock: Callable[[], int]) -> ReaderFactory | None:
    """The reader thread for this socket and clock, where the compiled loop is used."""
    if reader is None or loop_for(sock, clock) is not compiled:
        return None
    return reader
