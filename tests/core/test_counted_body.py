"""Bodies framed by Content-Length or by the close, which the parser counts without h11.

Each test runs twice: with the store that keeps the body (the app, plain -o) and with the
one that keeps nothing (plain mode), whose loop recv()s into one buffer written over; and
each of those with both recv loops, the compiled one (where it was built) and Python's.
"""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from sockview.core import recvloop
from sockview.core.body import BodySink, DiscardBody, SpooledBody
from sockview.core.events import ChunksReceived, Failed, Finished
from sockview.core.fetch import DelaySwitch
from tests.conftest import send_parts
from tests.core.fetching import fetch_now, pausing, serve_steps, start, wait_for

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
UNTIL_CLOSE = b"HTTP/1.0 200 OK\r\n\r\n"


@pytest.fixture(autouse=True, params=["compiled", "python"])
def loop(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(recvloop, "compiled", None)
    elif recvloop.compiled is None:
        pytest.skip(f"recv loop: {recvloop.loop_name()}")
    return str(request.param)


@pytest.fixture(params=["spooled", "discard"])
def body(request: pytest.FixtureRequest) -> BodySink:
    return SpooledBody() if request.param == "spooled" else DiscardBody()


def expect(body: BodySink, data: bytes) -> None:
    assert body.size == len(data)
    if isinstance(body, SpooledBody):
        assert body.read_all() == data


def test_a_body_over_many_recvs_and_batches(serve, body: BodySink) -> None:
    data = bytes(range(256)) * 2000  # 512,000 bytes: several 64 KiB batches
    server = serve(send_parts(HEAD % len(data) + data))
    running = fetch_now(server.url("/"), body=body, bufsize=5000)
    result = running.fetch.result
    assert isinstance(result, Finished), result
    assert result.body_bytes == len(data)
    expect(body, data)
    last = running.of_type(ChunksReceived)[-1]
    assert last.stop == len(running.fetch.log) and last.body_bytes == len(data)


def test_bytes_past_the_content_length_are_not_body(serve, body: BodySink) -> None:
    # One recv carries the end of the body and what follows; the server keeps the
    # connection open, so only the framing can end the fetch.
    stepper, url = serve_steps(serve)
    running = start(url, body=body)
    head = HEAD % 10
    stepper.send(head + b"01234")
    wait_for(lambda: running.fetch.log.total == len(head) + 5)
    stepper.send(b"56789EXTRA")
    result = running.join()
    assert isinstance(result, Finished), result
    assert result.body_bytes == 10
    assert result.total == len(head) + 15  # the raw count keeps every byte received
    expect(body, b"0123456789")


def test_the_fetch_ends_at_the_last_body_byte_not_at_the_close(serve, body: BodySink) -> None:
    stepper, url = serve_steps(serve)
    running = start(url, body=body, bufsize=64)
    head = HEAD % 300
    stepper.send(head)
    wait_for(lambda: running.fetch.log.total == len(head))
    stepper.send(b"a" * 100, b"b" * 200)
    result = running.join()
    assert isinstance(result, Finished), result
    expect(body, b"a" * 100 + b"b" * 200)


def test_a_short_body_is_reported_with_what_came(serve, body: BodySink) -> None:
    server = serve(send_parts(HEAD % 1000, b"y" * 300))
    running = fetch_now(server.url("/"), body=body, bufsize=128)
    result = running.fetch.result
    assert isinstance(result, Failed), result
    assert result.reason == (
        "the connection closed after 300 of 1000 body bytes (Content-Length):"
        " the body is incomplete"
    )
    assert result.body_bytes == 300
    expect(body, b"y" * 300)


def test_a_body_until_the_close(serve, body: BodySink) -> None:
    data = b"z" * 200_000
    server = serve(send_parts(UNTIL_CLOSE, data))
    running = fetch_now(server.url("/"), body=body)
    result = running.fetch.result
    assert isinstance(result, Finished), result
    assert result.body_bytes == len(data)
    expect(body, data)


def test_a_reset_mid_body_keeps_what_arrived(serve, body: BodySink) -> None:
    sent = HEAD % 10_000 + b"r" * 3000
    received = threading.Event()

    def script(conn: socket.socket) -> None:
        conn.sendall(sent)
        received.wait(10)  # until the client has recorded those bytes: then reset
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    def seen_all(event: object) -> None:
        if isinstance(event, ChunksReceived) and event.total == len(sent):
            received.set()

    server = serve(script)
    # A long emit interval keeps the loop in its inner loop: the rows are reported by the
    # watchdog, and the body is counted only after the reset.
    running = start(server.url("/"), body=body, bufsize=1000, emit_interval=60, on_event=seen_all)
    result = running.join()
    assert isinstance(result, Failed) and not result.cancelled, result
    assert "reset" in result.reason
    assert result.body_bytes == 3000
    expect(body, b"r" * 3000)


def test_a_cancel_mid_body_keeps_what_arrived(serve, body: BodySink) -> None:
    stepper, url = serve_steps(serve)
    running = start(url, body=body, bufsize=1000)
    head = HEAD % 10_000
    stepper.send(head + b"c" * 2500)
    wait_for(lambda: running.fetch.log.total == len(head) + 2500)
    running.fetch.cancel()
    result = running.join()
    assert isinstance(result, Failed) and result.cancelled, result
    assert result.body_bytes == 2500
    expect(body, b"c" * 2500)


def test_the_delay_switched_on_mid_body_pauses_after_the_next_recv(serve, body: BodySink) -> None:
    stepper, url = serve_steps(serve)
    delay = DelaySwitch(seconds=30)
    running = start(url, body=body, delay=delay)
    log = running.fetch.log
    head = HEAD % 500
    stepper.send(head)
    wait_for(lambda: log.total == len(head))
    stepper.send(b"p" * 100)
    wait_for(lambda: log.total == len(head) + 100)
    delay.enabled = True
    stepper.send(b"q" * 100)
    wait_for(lambda: pausing(running), what="the pause")
    stepper.send(b"r" * 100, b"s" * 100)
    assert log.total == len(head) + 200
    delay.enabled = False
    wait_for(lambda: log.total == len(head) + 400)
    stepper.send(b"t" * 100)
    result = running.join()
    assert isinstance(result, Finished), result
    assert list(log.sizes) == [len(head), 100, 100, 200, 100]
    expect(body, b"p" * 100 + b"q" * 100 + b"r" * 100 + b"s" * 100 + b"t" * 100)
