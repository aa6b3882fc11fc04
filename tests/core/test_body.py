"""Body storage: memory stays bounded whatever the size; nothing is lost or reordered."""

from __future__ import annotations

import io
import threading
import tracemalloc

from sockview.core.body import SPOOL_LIMIT, DiscardBody, SpooledBody
from sockview.core.events import Finished
from sockview.core.fetch import RING
from tests.core.fetching import fetch_now


def test_small_body_stays_in_memory() -> None:
    body = SpooledBody(limit=1000)
    body.write(b"a" * 600)
    body.write(bytearray(b"b" * 400))
    assert body.in_memory
    assert body.size == 1000
    assert body.read_all() == b"a" * 600 + b"b" * 400
    body.close()


def test_rolls_to_disk_past_its_limit() -> None:
    body = SpooledBody(limit=1000)
    body.write(b"a" * 1000)
    assert body.in_memory
    body.write(memoryview(b"b"))
    assert not body.in_memory
    assert body.size == 1001
    assert body.read_all() == b"a" * 1000 + b"b"
    body.close()


def test_default_limit_is_a_few_mib() -> None:
    assert 1024**2 <= SPOOL_LIMIT <= 16 * 1024**2
    body = SpooledBody()
    body.write(bytes(SPOOL_LIMIT))
    assert body.in_memory
    body.write(b"!")
    assert not body.in_memory
    body.close()


def test_reading_does_not_disturb_writing() -> None:
    body = SpooledBody(limit=10)
    body.write(b"0123456")
    assert body.read_all() == b"0123456"
    out = io.BytesIO()
    body.copy_to(out)
    assert out.getvalue() == b"0123456"
    # The next write appends, on both sides of the roll-over.
    body.write(b"789abcdef")
    assert not body.in_memory
    assert body.read_all() == b"0123456789abcdef"
    out = io.BytesIO()
    body.copy_to(out)
    assert out.getvalue() == b"0123456789abcdef"
    body.write(b"g")
    assert body.read_all() == b"0123456789abcdefg"
    body.close()


def test_a_copy_while_the_recv_thread_writes_is_a_clean_prefix() -> None:
    # The UI saves (or shows) the body while the loop still appends to it.
    body = SpooledBody(limit=64 * 1024)
    pieces = [bytes([i % 251]) * 997 for i in range(600)]
    expected = b"".join(pieces)
    done = threading.Event()

    def writer() -> None:
        for piece in pieces:
            body.write(piece)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    copies = 0
    while not done.is_set() or copies < 3:
        out = io.BytesIO()
        body.copy_to(out)
        copy = out.getvalue()
        assert expected.startswith(copy)
        assert len(copy) % 997 == 0
        copies += 1
    thread.join()
    assert body.read_all() == expected
    body.close()


def test_discard_body_counts_only() -> None:
    body = DiscardBody()
    body.write(b"abc")
    body.write(memoryview(b"de"))
    assert body.size == 5
    body.close()


def test_a_20_mb_fetch_keeps_python_memory_bounded(demo) -> None:
    # tracemalloc counts Python allocations (the demo server's too: it runs in-process),
    # which is steadier than RSS. Keeping 20 MB in memory, let alone the book's quadratic
    # `picture = picture + data`, would show up far above the bound: the spool's memory,
    # the compiled reader's ring (a fixed size, whatever the body's), the largest write
    # it hands over (a quarter of it) and some slack.
    size = 40_000_000
    tracemalloc.start()
    try:
        running = fetch_now(demo.url(f"/bytes/{size}?pace=0"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    fetch = running.fetch
    assert isinstance(fetch.result, Finished)
    assert fetch.body.size == size
    assert not fetch.body.in_memory  # type: ignore[attr-defined]
    assert peak < SPOOL_LIMIT + RING + RING // 4 + 4 * 1024**2 < size // 2
    # And nothing was lost on the way to disk.
    data = fetch.body.read_all()  # type: ignore[attr-defined]
    assert len(data) == size
    assert data == bytes(range(256)) * (size // 256)
    fetch.body.close()
