"""The counted-body recv loop: the compiled one and Python's give the same results."""

from __future__ import annotations

import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest

from sockview.core import recvloop
from sockview.core.fetch import DelaySwitch
from tests.core.fetching import HANG_LIMIT, frames_of, wait_for

compiled_only = pytest.mark.skipif(
    recvloop.compiled is None, reason=f"recv loop: {recvloop.loop_name()}"
)
NEVER = 1 << 63
LOOPS = ["compiled", "python"]


def loop_named(name: str) -> recvloop.RecvCounted:
    if name == "python":
        return recvloop.recv_counted
    if recvloop.compiled is None:
        pytest.skip(f"recv loop: {recvloop.loop_name()}")
    return recvloop.compiled


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        yield ours, theirs


def run_slice(
    loop: recvloop.RecvCounted,
    sock: socket.socket,
    *,
    batch: int,
    step: int,
    end: int = NEVER,
    deadline: int = NEVER,
    delay: DelaySwitch | None = None,
) -> tuple[tuple[int, int, int, OSError | None], bytes, list[int]]:
    """One slice into a fresh buffer: (size, fill, total, error), the buffer, the sizes."""
    buffer = memoryview(bytearray(batch + step if batch else step))
    times, sizes = array("q"), array("I")
    t0 = time.perf_counter_ns()
    size, fill, total, now, error = loop(
        sock, buffer, 0, batch, step, 100, end, deadline, delay or DelaySwitch(), t0,
        time.perf_counter_ns, times, sizes,
    )  # fmt: skip
    assert len(times) == len(sizes)
    assert list(times) == sorted(times) and all(0 <= t <= now - t0 for t in times)
    return (size, fill, total, error), bytes(buffer[:fill]), list(sizes)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_batch_fills_then_the_slice_ends(pair, loop: str) -> None:
    ours, theirs = pair
    theirs.sendall(bytes(range(256)) * 40)  # 10,240 bytes waiting
    result = run_slice(loop_named(loop), ours, batch=4000, step=1500)
    data = bytes(range(256)) * 40
    assert result == ((1500, 4500, 4600, None), data[:4500], [1500, 1500, 1500])


@pytest.mark.parametrize("loop", LOOPS)
def test_without_a_batch_each_recv_writes_over_the_buffer(pair, loop: str) -> None:
    ours, theirs = pair
    theirs.sendall(b"a" * 1000 + b"b" * 500)
    theirs.shutdown(socket.SHUT_WR)
    result = run_slice(loop_named(loop), ours, batch=0, step=1000)
    # EOF: size 0, and the rows of every recv before it.
    assert result == ((0, 0, 1600, None), b"", [1000, 500])


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("batch", [0, 1 << 18])
def test_the_slice_ends_at_the_end_of_the_body(pair, loop: str, batch: int) -> None:
    ours, theirs = pair
    theirs.sendall(b"x" * 5000)
    (size, fill, total, error), _, sizes = run_slice(
        loop_named(loop), ours, batch=batch, step=1000, end=100 + 2500
    )
    assert (size, total, error, sizes) == (1000, 3100, None, [1000, 1000, 1000])
    assert fill == (3000 if batch else 0)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_past_deadline_or_the_delay_ends_the_slice_after_one_recv(pair, loop: str) -> None:
    ours, theirs = pair
    theirs.sendall(b"x" * 5000)
    result = run_slice(loop_named(loop), ours, batch=0, step=1000, deadline=0)
    assert result == ((1000, 0, 1100, None), b"", [1000])
    if loop == "python":  # the compiled loop cannot read the switch: its caller passes 0
        on = DelaySwitch(enabled=True)
        assert run_slice(recvloop.recv_counted, ours, batch=0, step=1000, delay=on)[2] == [1000]


@compiled_only
def test_a_quiet_socket_ends_the_compiled_slice_with_the_rows_that_came(pair) -> None:
    # Rows are not held back while the server is quiet (the Python loop has none to hold:
    # it appends each row at once, and waits in recv() as it always did).
    ours, theirs = pair
    theirs.sendall(b"x" * 300)
    deadline = time.perf_counter_ns() + 60 * 10**9
    result = run_slice(recvloop.compiled, ours, batch=0, step=1000, deadline=deadline)  # type: ignore[arg-type]
    assert result == ((300, 0, 400, None), b"", [300])


@pytest.fixture
def reset_after_700() -> Iterator[socket.socket]:
    """A connected socket with 700 bytes waiting, then a reset (RST) behind them."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        conn, _ = listener.accept()
        with client, conn:
            conn.sendall(b"y" * 700)
            wait_for(lambda: len(client.recv(700, socket.MSG_PEEK)) == 700)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            yield client


@pytest.mark.parametrize("loop", LOOPS)
def test_an_error_is_returned_with_the_rows_before_it(reset_after_700, loop: str) -> None:
    (size, fill, total, error), data, sizes = run_slice(
        loop_named(loop), reset_after_700, batch=4096, step=1000
    )
    assert (size, fill, total, data, sizes) == (-1, 700, 800, b"y" * 700, [700])
    assert isinstance(error, ConnectionResetError), error


def test_the_compiled_loop_is_used_only_where_it_gives_the_same_results(pair) -> None:
    ours, _ = pair
    assert recvloop.loop_for(ours, lambda: 0) is recvloop.recv_counted  # a fake clock
    ours.settimeout(5)
    assert recvloop.loop_for(ours, time.perf_counter_ns) is recvloop.recv_counted
    ours.settimeout(None)
    with ssl.create_default_context().wrap_socket(
        socket.socket(), server_hostname="localhost", do_handshake_on_connect=False
    ) as tls:
        assert recvloop.loop_for(tls, time.perf_counter_ns) is recvloop.recv_counted
    expected = recvloop.compiled or recvloop.recv_counted
    assert recvloop.loop_for(ours, time.perf_counter_ns) is expected


@compiled_only
def test_the_compiled_loop_runs_without_the_gil(pair) -> None:
    # This thread runs Python while the other waits in the compiled recv(): with the GIL
    # held there, `wait_for` could not run (and the test would time out).
    ours, theirs = pair
    outcome: list[object] = []

    def work() -> None:
        outcome.append(run_slice(recvloop.compiled, ours, batch=0, step=100))  # type: ignore[arg-type]

    thread = threading.Thread(target=work)
    thread.start()
    wait_for(lambda: frames_of(thread)[:1] == ["run_slice"])
    polls = [0]

    def polled() -> bool:
        polls[0] += 1
        return polls[0] > 50

    wait_for(polled)
    assert thread.is_alive()
    theirs.sendall(b"z" * 10)
    thread.join(HANG_LIMIT)
    assert outcome == [((10, 0, 110, None), b"", [10])]


def test_the_version_says_which_loop() -> None:
    env = {**os.environ, "SOCKVIEW_PURE_PYTHON": "1"}
    forced = subprocess.run(
        [sys.executable, "-m", "sockview", "--version"], env=env, capture_output=True, text=True
    )
    assert "recv loop: python (SOCKVIEW_PURE_PYTHON is set)" in forced.stdout
    default = subprocess.run(
        [sys.executable, "-m", "sockview", "--version"], capture_output=True, text=True
    )
    assert f"recv loop: {recvloop.loop_name()}" in default.stdout


# -- the reader thread ---------------------------------------------------------------

reader_only = pytest.mark.skipif(
    recvloop.reader is None, reason=f"recv loop: {recvloop.loop_name()}"
)


def drain(
    reader: recvloop.Reader, ring: memoryview | None, *, deadline: int = 0, before: int = 0
) -> tuple[int, int, bytes, list[int], OSError | None]:
    """Collect until the reader has ended: (ended, total, the kept bytes, sizes, error).

    `before`: the bytes of rows collected before (the reader started at a total of 100).
    """
    times, sizes = array("q"), array("I")
    kept = bytearray()
    give_up = time.monotonic() + HANG_LIMIT
    while time.monotonic() < give_up:
        start, stop, total, _, ended, error = reader.collect(deadline, times, sizes)
        assert 0 <= start <= stop and (ring is not None or start == stop == 0)
        if ring is not None:
            kept += ring[start:stop]
        if ended:
            assert list(times) == sorted(times) and sum(sizes) == total - 100 - before
            return ended, total, bytes(kept), list(sizes), error
    raise AssertionError("the reader did not end")


def start_reader(
    sock: socket.socket, ring: memoryview | None, *, step: int, end: int = NEVER
) -> recvloop.Reader:
    assert recvloop.reader is not None
    return recvloop.reader(sock, ring, step, 100, end, time.perf_counter_ns())


@reader_only
@pytest.mark.parametrize("step", [1000, 1536])
def test_the_reader_keeps_every_byte_across_laps_of_its_ring(pair, step: int) -> None:
    # A ring of 5,300 bytes and a body of 300,000: the ring wraps many times, and where
    # fewer than `step` bytes are left before its end, the reader skips to its start.
    # The bytes come back whole and in order.
    ours, theirs = pair
    data = bytes(i * 7 % 251 for i in range(300_000))
    sender = threading.Thread(target=theirs.sendall, args=(data,))
    sender.start()
    ring = memoryview(bytearray(5 * 1000 + 300))
    reader = start_reader(ours, ring, step=step, end=100 + len(data))
    try:
        ended, total, kept, sizes, error = drain(reader, ring)
    finally:
        reader.close()
        sender.join()
    assert (ended, total, error) == (recvloop.ENDED_BODY, 100 + len(data), None)
    assert kept == data and all(0 < size <= step for size in sizes)


@reader_only
@pytest.mark.parametrize("keep", [True, False])
def test_the_reader_ends_at_eof_with_the_rows_before_it(pair, keep: bool) -> None:
    ours, theirs = pair
    theirs.sendall(b"a" * 1000 + b"b" * 500)
    theirs.shutdown(socket.SHUT_WR)
    ring = memoryview(bytearray(8000)) if keep else None
    reader = start_reader(ours, ring, step=1000)
    try:
        ended, total, kept, sizes, error = drain(reader, ring)
    finally:
        reader.close()
    assert (ended, total, sizes, error) == (recvloop.ENDED_EOF, 1600, [1000, 500], None)
    assert kept == (b"a" * 1000 + b"b" * 500 if keep else b"")


@reader_only
def test_the_reader_stops_when_told_and_leaves_the_rest_unread(pair) -> None:
    ours, theirs = pair
    reader = start_reader(ours, None, step=1000)
    try:
        theirs.sendall(b"x" * 300)
        times, sizes = array("q"), array("I")
        # Rows that came before the server went quiet are handed over long before the
        # deadline (an hour away): the watchdog reports them from the arrays.
        hour = time.perf_counter_ns() + 3600 * 10**9
        _, _, total, _, ended, _ = reader.collect(hour, times, sizes)
        assert (total, ended, list(sizes)) == (400, recvloop.RUNNING, [300])
        reader.stop()
        ended, total, _, sizes_after, error = drain(reader, None, deadline=hour, before=300)
    finally:
        reader.close()
    assert (ended, total, sizes_after, error) == (recvloop.ENDED_STOPPED, 400, [], None)
    theirs.sendall(b"y" * 10)
    assert ours.recv(100) == b"y" * 10  # the socket is the caller's again, nothing lost


@reader_only
def test_the_reader_returns_an_error_after_the_bytes_before_it(reset_after_700) -> None:
    ring = memoryview(bytearray(4096))
    reader = start_reader(reset_after_700, ring, step=1000)
    try:
        ended, total, kept, sizes, error = drain(reader, ring)
    finally:
        reader.close()
    assert (ended, total, kept, sizes) == (recvloop.ENDED_ERROR, 800, b"y" * 700, [700])
    assert isinstance(error, ConnectionResetError), error


@reader_only
def test_the_reader_receives_while_this_thread_holds_the_gil(pair) -> None:
    # A sender in another process, and this thread running Python without a pause and
    # without collecting: the reader still drains the socket into its rings, which the
    # Python loop (and the compiled slice, which needs the GIL to end) could not.
    ours, theirs = pair
    size = 4 * 1024 * 1024
    sender = subprocess.Popen(
        [sys.executable, "-c",
         f"import socket, sys; socket.socket(fileno={theirs.fileno()}).sendall(b'q' * {size})"],
        pass_fds=[theirs.fileno()],
    )  # fmt: skip
    ring = memoryview(bytearray(2 * size))
    reader = start_reader(ours, ring, step=5120, end=100 + size)
    try:
        assert sender.wait(HANG_LIMIT) == 0
        spin = time.monotonic() + 0.3
        while time.monotonic() < spin:
            pass
        times, sizes = array("q"), array("I")
        start, stop, total, _, _, _ = reader.collect(0, times, sizes)
        assert (total, sum(sizes)) == (100 + size, size)  # every row, at once
        first = bytes(ring[start:stop])
        ended, _, rest, _, _ = drain(reader, ring, before=size)
    finally:
        reader.close()
    assert ended == recvloop.ENDED_BODY and first + rest == b"q" * size


@reader_only
def test_a_closed_reader_refuses_to_collect(pair) -> None:
    ours, _ = pair
    reader = start_reader(ours, None, step=100)
    reader.close()
    reader.close()
    with pytest.raises(ValueError, match="closed"):
        reader.collect(0, array("q"), array("I"))


def _thread_sched() -> dict[int, tuple[int, int | None]]:
    """Each thread of this process: (nice, time slice in ns, where the kernel shows it)."""
    found: dict[int, tuple[int, int | None]] = {}
    for task in os.listdir("/proc/self/task"):
        stat = Path(f"/proc/self/task/{task}/stat").read_text()
        nice = int(stat.rsplit(")", 1)[1].split()[16])
        slice_ns = None
        for line in Path(f"/proc/self/task/{task}/sched").read_text().splitlines():
            if line.startswith("se.slice"):
                slice_ns = int(line.split(":")[1])
        found[int(task)] = (nice, slice_ns)
    return found


@reader_only
def test_the_reader_thread_asks_for_a_short_slice_and_keeps_its_nice(pair) -> None:
    # A short slice lets the woken reader preempt a thread that runs on its CPU (the
    # UI's); it must not change the share of the CPU the user gave the process.
    before = _thread_sched()
    if next(iter(before.values()))[1] is None:
        pytest.skip("this kernel does not show time slices (Linux 6.12 and later do)")
    ours, _ = pair
    reader = start_reader(ours, None, step=100)
    try:
        after = _thread_sched()
    finally:
        reader.close()
    (new,) = [task for task in set(after) - set(before) if after[task][1] == 100_000]
    assert all(after[task] == before[task] for task in set(before) & set(after))  # as they were
    assert after[new][0] == os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@reader_only
def test_a_niced_sockview_stays_niced_on_its_reader_thread() -> None:
    code = (
        "import os, socket, time, threading\n"
        "from sockview.core import recvloop\n"
        "a, b = socket.socketpair()\n"
        "before = set(os.listdir('/proc/self/task'))\n"
        "r = recvloop.reader(a, None, 100, 0, 1 << 62, time.perf_counter_ns())\n"
        "(new,) = set(os.listdir('/proc/self/task')) - before\n"
        "time.sleep(0.05)\n"
        "print(open(f'/proc/self/task/{new}/stat').read().rsplit(')', 1)[1].split()[16])\n"
        "r.close()\n"
    )
    niced = subprocess.run(
        ["nice", "-n", "7", sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert niced.stdout.strip() == "7"
