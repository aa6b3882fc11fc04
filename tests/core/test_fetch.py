"""The recv loop against loopback servers: records, bufsize, the end, delay, cancel, timeouts.

Waits poll conditions (`wait_for`), never sleep. Where a test must know that the loop is
pausing rather than waiting in recv(), it looks at the loop thread's stack (`pausing`).
"""

from __future__ import annotations

import dataclasses
import itertools
import socket
import time
import typing
from collections.abc import Iterator

import pytest

from sockview.core.body import DiscardBody
from sockview.core.events import (
    ChunksReceived,
    Connected,
    Event,
    Failed,
    Finished,
    HeadersComplete,
    RequestSent,
)
from sockview.core.fetch import DelaySwitch
from tests.conftest import send_parts
from tests.core.fetching import (
    Running,
    fetch_now,
    in_recv,
    pausing,
    serve_steps,
    start,
    wait_for,
)

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
PIECE = b"x" * 100
PROMPTLY = 2.0
"""A generous bound for "at once", far below the 30 s that the loop would otherwise wait."""


def check_log(running: Running) -> None:
    """Every recv has a record: index, time since connect, size, running total."""
    log = running.fetch.log
    assert len(log.times_ns) == len(log.sizes) == len(log.totals) == len(log) > 0
    running_total = 0
    previous_time = 0
    for index in range(len(log)):
        record = log[index]
        assert record.index == index
        assert record.size > 0
        running_total += record.size
        assert record.total == running_total
        assert record.time_ns >= previous_time >= 0
        previous_time = record.time_ns
    # The events name every record once, in order, with the running figures.
    chunks = running.of_type(ChunksReceived)
    assert [c.start for c in chunks] == [0] + [c.stop for c in chunks[:-1]]
    assert chunks[-1].stop == len(log)
    for c in chunks:
        assert c.total == log.totals[c.stop - 1]
    bodies = [c.body_bytes for c in chunks]
    assert bodies == sorted(bodies)


def test_every_recv_is_a_record(demo) -> None:
    size = 300_000
    before = time.perf_counter_ns()
    running = fetch_now(demo.url(f"/bytes/{size}"))
    after = time.perf_counter_ns()
    result = running.fetch.result
    assert isinstance(result, Finished), result
    check_log(running)
    log = running.fetch.log
    head = running.fetch.head
    assert head is not None
    assert log.total == head.body_offset + size == result.total
    assert result.recv_count == len(log)
    assert result.body_bytes == size == running.fetch.body.size
    assert running.of_type(ChunksReceived)[-1].body_bytes == size
    # Time since connect: inside the run, and the elapsed time is the last record's.
    assert 0 < log.times_ns[-1] <= after - before
    assert result.elapsed == log.times_ns[-1] / 1e9


def test_event_order(demo) -> None:
    running = fetch_now(demo.url("/bytes/20000"))
    kinds = [type(event) for event in running.events]
    assert kinds[0] is Connected and kinds[1] is RequestSent and kinds[-1] is Finished
    assert kinds.count(HeadersComplete) == 1
    head_at = kinds.index(HeadersComplete)
    # The chunk that carried the end of the header is reported before the header.
    assert kinds[head_at - 1] is ChunksReceived
    assert running.of_type(ChunksReceived)[0].start == 0


def test_record_times_come_from_the_clock_and_count_from_connect(serve) -> None:
    ticks: Iterator[int] = itertools.count(start=5_000_000_000, step=1_000_000)
    server = serve(send_parts(HEAD % 3, b"a", b"b", b"c"))
    running = fetch_now(server.url("/"), clock=lambda: next(ticks), bufsize=1)
    times = list(running.fetch.log.times_ns)
    assert len(times) == len(HEAD % 3) + 3
    # The first reading is the connect; each record is a later reading less that one.
    assert all(t % 1_000_000 == 0 for t in times)
    assert times == sorted(set(times))
    assert 0 < times[0] < 5_000_000_000


@pytest.mark.parametrize("bufsize", [1, 100, 1448, 5120, 65536, 1 << 20])
def test_bufsize_is_never_exceeded(demo, bufsize: int) -> None:
    size = 3000 if bufsize == 1 else 400_000
    running = fetch_now(demo.url(f"/bytes/{size}?pace=0"), bufsize=bufsize)
    assert isinstance(running.fetch.result, Finished)
    check_log(running)
    log = running.fetch.log
    assert max(log.sizes) <= bufsize
    if bufsize == 1:
        assert len(log) == log.total


def test_a_zero_length_read_ends_the_loop(serve) -> None:
    stepper, url = serve_steps(serve)
    running = start(url)
    stepper.send(b"HTTP/1.0 200 OK\r\n\r\n", b"until the end")
    wait_for(lambda: running.fetch.log.total == 32)
    assert not running.done.is_set()
    # The server shuts its sending side and keeps the connection: EOF alone ends the loop.
    stepper.close()
    result = running.join()
    assert isinstance(result, Finished), result
    assert running.fetch.body.read_all() == b"until the end"  # type: ignore[attr-defined]
    assert 0 not in running.fetch.log.sizes
    assert result.recv_count == len(running.fetch.log)


def test_content_length_ends_the_loop_without_waiting_for_the_close(serve) -> None:
    stepper, url = serve_steps(serve)
    running = start(url)
    stepper.send(HEAD % 5 + b"hello")
    result = running.join()
    assert isinstance(result, Finished)
    assert running.fetch.body.read_all() == b"hello"  # type: ignore[attr-defined]


def test_connected_names_the_peer(serve) -> None:
    v4 = serve(send_parts(HEAD % 0))
    v6 = serve(send_parts(HEAD % 0), host="::1")
    assert fetch_now(v4.url("/")).of_type(Connected) == [
        Connected(peer=f"127.0.0.1:{v4.port}", tls_version=None)
    ]
    assert fetch_now(v6.url("/")).of_type(Connected) == [
        Connected(peer=f"[::1]:{v6.port}", tls_version=None)
    ]


def test_discard_body_counts_and_keeps_nothing(demo) -> None:
    body = DiscardBody()
    running = fetch_now(demo.url("/bytes/100000"), body=body)
    assert isinstance(running.fetch.result, Finished)
    assert body.size == 100_000


def test_what_arrived_before_a_failure_is_kept(serve) -> None:
    server = serve(send_parts(HEAD % 1000 + b"y" * 300))
    running = fetch_now(server.url("/"))
    result = running.fetch.result
    assert isinstance(result, Failed)
    assert not running.fetch.complete
    assert "300 of 1000" in result.reason
    assert result.total == running.fetch.log.total == len(HEAD % 1000) + 300
    assert result.body_bytes == 300
    assert running.fetch.body.read_all() == b"y" * 300  # type: ignore[attr-defined]


def test_events_are_frozen_slotted_and_documented() -> None:
    for kind in typing.get_args(Event):
        assert dataclasses.is_dataclass(kind)
        assert kind.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert "__slots__" in vars(kind)
        assert kind.__doc__ and not kind.__doc__.startswith(kind.__name__ + "(")


# -- the delay ---------------------------------------------------------------------


def test_delay_is_off_and_a_quarter_second_by_default() -> None:
    delay = DelaySwitch()
    assert (delay.enabled, delay.seconds) == (False, 0.25)
    assert delay.toggle() is True and delay.enabled
    assert delay.toggle() is False and not delay.enabled


def test_delay_switched_on_and_off_mid_run_takes_effect_at_the_next_recv(serve) -> None:
    stepper, url = serve_steps(serve)
    delay = DelaySwitch(seconds=30, enabled=False)
    head = HEAD % 600
    running = start(url, delay=delay)
    log = running.fetch.log

    def received(total: int) -> None:
        wait_for(lambda: log.total == total, what=f"{total} bytes")

    # Off: each piece is read on its own as soon as it is sent.
    stepper.send(head)
    received(len(head))
    stepper.send(PIECE)
    received(len(head) + 100)

    # Switched on while the loop waits in recv(): the next recv is followed by a pause.
    delay.enabled = True
    stepper.send(PIECE)
    received(len(head) + 200)
    wait_for(lambda: pausing(running), what="the pause")
    stepper.send(PIECE, PIECE)
    # Both are in the socket buffer; the pausing loop has not read them.
    assert log.total == len(head) + 200
    assert pausing(running)

    # Switched off mid-pause: the pause ends, and one recv takes all that waited.
    delay.enabled = False
    received(len(head) + 400)
    stepper.send(PIECE)
    received(len(head) + 500)
    stepper.send(PIECE)
    result = running.join()
    assert isinstance(result, Finished)
    assert list(log.sizes) == [len(head), 100, 100, 200, 100, 100]


def test_delay_length_changed_mid_run(serve) -> None:
    stepper, url = serve_steps(serve)
    delay = DelaySwitch(seconds=30, enabled=True)
    head = HEAD % 1000
    running = start(url, delay=delay)
    log = running.fetch.log
    stepper.send(head)
    wait_for(lambda: pausing(running))
    stepper.send(PIECE, PIECE)
    # Shortened from another thread: the pause under way ends now.
    delay.seconds = 0.001
    wait_for(lambda: log.total == len(head) + 200)
    assert log.sizes[-1] == 200
    # Lengthened again while the loop waits in recv(): the next recv pauses for it.
    wait_for(lambda: in_recv(running))
    delay.seconds = 30
    stepper.send(PIECE)
    wait_for(lambda: log.total == len(head) + 300)
    wait_for(lambda: pausing(running))
    stepper.send(PIECE)
    assert log.total == len(head) + 300
    running.fetch.cancel()
    result = running.join(PROMPTLY)
    assert isinstance(result, Failed) and result.cancelled


def test_with_the_delay_every_recv_is_full(demo) -> None:
    # The demo paces its sends; a reader that pauses finds the buffer full each time.
    running = fetch_now(
        demo.url("/bytes/30000"), bufsize=4096, delay=DelaySwitch(0.05, enabled=True)
    )
    sizes = list(running.fetch.log.sizes)
    assert isinstance(running.fetch.result, Finished)
    assert sizes[:-1] == [4096] * (len(sizes) - 1)


def test_our_own_pause_does_not_count_as_the_servers_silence() -> None:
    # The whole response waits in the socket before the first recv, so the only silence
    # is our own pause (twice the read timeout): no server thread that a loaded machine
    # runs late, and a read timeout long enough that a late recv loop does not trip it.
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(HEAD % 200 + b"z" * 200)
        theirs.shutdown(socket.SHUT_WR)
        running = start(
            "http://127.0.0.1:9/",
            connected=ours,
            bufsize=100,
            read_timeout=0.3,
            delay=DelaySwitch(0.6, enabled=True),
        )
        result = running.join()
    assert isinstance(result, Finished), result
    assert len(running.fetch.log) >= 3


# -- cancellation and timeouts ------------------------------------------------------


def test_cancel_mid_pause_returns_promptly(serve) -> None:
    stepper, url = serve_steps(serve)
    running = start(url, delay=DelaySwitch(seconds=30, enabled=True))
    stepper.send(HEAD % 1000 + PIECE)
    wait_for(lambda: pausing(running))
    began = time.monotonic()
    running.fetch.cancel()
    result = running.join(PROMPTLY)
    assert time.monotonic() - began < PROMPTLY
    assert isinstance(result, Failed)
    assert result.cancelled and result.reason == "cancelled"
    assert result.body_bytes == 100
    assert running.events[-1] == result


def test_cancel_mid_recv_returns_promptly(serve) -> None:
    stepper, url = serve_steps(serve)
    running = start(url, read_timeout=30)
    stepper.send(HEAD % 1000 + PIECE)
    wait_for(lambda: running.fetch.log.total > 0)
    wait_for(lambda: in_recv(running))
    began = time.monotonic()
    running.fetch.cancel()
    result = running.join(PROMPTLY)
    assert time.monotonic() - began < PROMPTLY
    assert isinstance(result, Failed) and result.cancelled
    assert result.total == len(HEAD % 1000) + 100


def test_cancel_before_any_byte_returns_promptly(serve) -> None:
    _stepper, url = serve_steps(serve)
    running = start(url, read_timeout=30)
    wait_for(lambda: bool(running.of_type(RequestSent)))
    running.fetch.cancel()
    result = running.join(PROMPTLY)
    assert isinstance(result, Failed) and result.cancelled and result.total == 0


def test_cancel_mid_connect_returns_promptly() -> None:
    # A listener whose backlog is full drops our SYN: connect() hangs, retrying.
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())
        port = listener.getsockname()[1]
        running = start(f"http://127.0.0.1:{port}/", connect_timeout=30)
        wait_for(lambda: running.fetch.current_socket is not None)
        assert not running.done.is_set()
        running.fetch.cancel()
        result = running.join(PROMPTLY)
    assert isinstance(result, Failed) and result.cancelled
    assert not running.of_type(Connected)


def test_read_timeout(serve) -> None:
    stepper, url = serve_steps(serve)
    running = start(url, read_timeout=0.2)
    stepper.send(HEAD % 1000 + PIECE)
    result = running.join()
    assert isinstance(result, Failed) and not result.cancelled
    assert "--read-timeout" in result.reason and "0.2 s" in result.reason
    assert result.body_bytes == 100


def test_deadline(serve) -> None:
    stepper, url = serve_steps(serve)
    running = start(url, read_timeout=30, deadline=0.3)
    stepper.send(HEAD % 1000)
    result = running.join()
    assert isinstance(result, Failed) and not result.cancelled
    assert "deadline" in result.reason


def test_rows_before_the_server_goes_quiet_are_reported_without_the_next_recv(serve) -> None:
    stepper, url = serve_steps(serve)
    # A long emit interval: only the watchdog can report the rows while the server is quiet.
    running = start(url, emit_interval=60.0)
    head = HEAD % 1000
    log = running.fetch.log
    for total, piece in ((len(head), head), (len(head) + 100, PIECE), (len(head) + 200, PIECE)):
        stepper.send(piece)
        wait_for(lambda total=total: log.total == total, what=f"{total} bytes")
    assert len(log) == 3

    def reported() -> int:
        chunks = running.of_type(ChunksReceived)
        return chunks[-1].stop if chunks else 0

    wait_for(lambda: reported() == len(log), what="the rows reported while the server is quiet")
    chunks = running.of_type(ChunksReceived)
    assert chunks[-1].total == len(head) + 200
    assert [c.start for c in chunks] == [0, *[c.stop for c in chunks[:-1]]]
    running.fetch.cancel()
    assert isinstance(running.join(), Failed)
