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


@pytest.mark.parametrize("loop", LOOPS)
def test_an_error_is_returned_with_the_rows_before_it(loop: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        conn, _ = listener.accept()
        with client, conn:
            conn.sendall(b"y" * 700)
            wait_for(lambda: len(client.recv(700, socket.MSG_PEEK)) == 700)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            (size, fill, total, error), data, sizes = run_slice(
                loop_named(loop), client, batch=4096, step=1000
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
