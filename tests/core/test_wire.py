"""The raw stream kept with a run: the exact bytes each recv returned, and the body as a
slice of them; checked against a relay that records what it sent."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile

import pytest

from sockview.core.body import SpooledBody
from sockview.core.events import Finished, Framing
from sockview.core.fetch import Fetch, FetchOptions
from sockview.core.hexdump import ByteKind, RunBytes, hex_lines
from sockview.core.parse import ResponseParser
from sockview.core.records import RecvLog
from sockview.core.run import Run
from sockview.core.runfile import RunFileError, read_run, write_run
from sockview.core.sample_image import sample_png
from sockview.core.url import parse_url
from sockview.core.wire import WireBody, WireStore
from tests.conftest import send_parts


def fetch_with_wire(url: str, bufsize: int = 5120, limit: int | None = None) -> Fetch:
    wire = WireStore() if limit is None else WireStore(limit)
    fetch = Fetch(parse_url(url), FetchOptions(bufsize=bufsize), body=WireBody(wire), wire=wire)
    result = fetch.perform()
    assert isinstance(result, Finished), result
    return fetch


def test_each_recv_is_the_bytes_that_were_sent(demo, relay) -> None:
    """The header row, a middle row and the last row of the demo picture, byte for byte."""
    proxy = relay(demo.port)
    fetch = fetch_with_wire(proxy.url("/cover.png"))
    run = fetch.run
    assert proxy.finished.wait(10)
    sent = proxy.sent[0]
    assert run.wire is not None and run.wire.size == len(sent) == run.total
    reader = RunBytes(run)
    rows = len(run.log)
    assert rows > 3
    for index in (run.head.head_index, rows // 2, rows - 1):
        start, stop = run.recv_span(index)
        dump = reader.recv(index)
        assert dump.data == sent[start:stop]
        assert len(dump.data) == run.log.sizes[index]
    # The body is the wire's slice, and it is the picture that was served.
    assert run.body.read_all() == sample_png() == sent[run.head.body_offset :]
    out = io.BytesIO()
    run.body.copy_to(out)
    assert out.getvalue() == sample_png()


def test_the_header_row_marks_where_the_header_ends(demo) -> None:
    fetch = fetch_with_wire(demo.url("/cover.png"))
    run = fetch.run
    dump = RunBytes(run).recv(run.head.head_index)
    lines = [dump.line(n) for n in range((dump.size + 15) // 16)]
    notes = [note for line in lines for note in line.notes]
    assert "end of header" in notes
    # The body starts four bytes on, on the same line: its colour marks it.
    assert run.head.body_offset - run.header_length == 4
    # Bytes before the body are head; from the body offset on, body.
    kinds = [
        (line.offset + a, line.offset + b, kind) for line in lines for a, b, kind in line.kinds
    ]
    head_end = max(stop for _, stop, kind in kinds if kind is ByteKind.HEAD)
    assert head_end == run.head.body_offset
    # CR and LF are visible in the text column.
    assert "←↓←↓" in "".join(line.text for line in lines)


def test_chunk_size_lines_are_marked_as_framing(serve) -> None:
    chunks = [b"hello, ", b"world" * 30, b"!"]
    framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = serve(send_parts(head + framed))
    fetch = fetch_with_wire(server.url("/"), bufsize=64)
    run = fetch.run
    assert run.head.framing is Framing.CHUNKED
    assert run.body.read_all() == b"".join(chunks)
    assert run.wire.read(0, run.total) == head + framed
    reader = RunBytes(run)
    framing: set[int] = set()
    notes: list[str] = []
    for index in range(len(run.log)):
        dump = reader.recv(index)
        for line in hex_lines(dump.data, dump.start, dump.layout):
            notes += line.notes
            for a, b, kind in line.kinds:
                if kind is ByteKind.FRAMING:
                    framing.update(range(line.offset + a, line.offset + b))
    offset = len(head)
    expected: set[int] = set()
    for chunk in chunks:
        size_line = len(b"%x\r\n" % len(chunk))
        expected.update(range(offset, offset + size_line))
        offset += size_line + len(chunk)
        expected.update(range(offset, offset + 2))
        offset += 2
    expected.update(range(offset, offset + 5))  # 0 CRLF CRLF
    assert framing == expected
    assert "chunk 0x96 = 150" in notes
    assert "last chunk (0)" in notes


def test_a_large_stream_goes_to_disk_and_reads_back_any_range(serve) -> None:
    body = os.urandom(300_000)
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n", body))
    fetch = fetch_with_wire(server.url("/"), limit=64 * 1024)
    run = fetch.run
    assert run.wire is not None and not run.wire.in_memory
    offset = run.head.body_offset
    assert run.wire.read(offset + 1000, offset + 2000) == body[1000:2000]
    assert run.body.read(299_990, 300_000) == body[-10:]
    out = io.BytesIO()
    run.body.copy_to(out)
    assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(body).digest()
    # Streamed out and back in, as a run file would.
    copy = WireStore.from_stream(io.BytesIO(b"".join(run.wire.chunks())), run.wire.size)
    assert copy.read(0, run.wire.size) == run.wire.read(0, run.wire.size)


def test_bytes_past_a_content_length_are_kept_in_the_wire_not_in_the_body(serve) -> None:
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcEXTRA"))
    fetch = fetch_with_wire(server.url("/"), bufsize=4096)
    assert fetch.body.read_all() == b"abc"
    assert fetch.run.wire.read(0, fetch.run.total).endswith(b"abcEXTRA"[: fetch.run.total])


def test_a_run_without_a_wire_rebuilds_a_counted_body_from_head_and_body() -> None:
    """A run file that holds only the body: the recvs' bytes are the head's then the body's."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    store = SpooledBody()
    heads = []
    parser = ResponseParser("x", store, on_interim=lambda e: None, on_head=heads.append)
    parser.feed(head + b"0123456789")
    log = RecvLog()
    for size in (20, len(head) - 20 + 4, 6):
        log.times_ns.append(0)
        log.sizes.append(size)
    run = Run(target=parse_url("http://127.0.0.1/"), bufsize=64, body=store, log=log)
    run.head, run.head_bytes = heads[0], parser.head_bytes
    assert run.bytes_kept
    raw = head + b"0123456789"
    reader = RunBytes(run)
    for index in range(3):
        start, stop = run.recv_span(index)
        assert reader.recv(index).data == raw[start:stop]


def test_a_run_that_kept_nothing_says_so() -> None:
    log = RecvLog()
    log.times_ns.append(0)
    log.sizes.append(100)
    run = Run(target=parse_url("http://127.0.0.1/"), bufsize=64)
    run.log = log
    assert not run.bytes_kept
    assert RunBytes(run).recv(0).data is None


@pytest.mark.parametrize("limit", [16, 1 << 20])
def test_reads_do_not_disturb_writes(limit: int) -> None:
    store = WireStore(limit)
    store.write(b"0123456789")
    assert store.read(2, 5) == b"234"
    store.write(b"abcdefghij")
    assert store.read(8, 12) == b"89ab"
    assert store.read(15, 99) == b"fghij"
    assert store.read(30, 40) == b""
    store.close()
    with pytest.raises(ValueError):
        store.read(0, 5)


def test_a_run_whose_bytes_were_let_go_says_they_were_not_kept(demo) -> None:
    run = fetch_with_wire(demo.url("/bytes/100")).run
    assert RunBytes(run).recv(0).data is not None
    run.body.close()
    assert RunBytes(run).recv(0).data is None


def test_a_run_file_keeps_the_raw_bytes_of_a_chunked_body(serve, tmp_path) -> None:
    """Replayed from its file, a chunked run still shows every recv's bytes."""
    chunks = b"".join(b"%x\r\n%s\r\n" % (n, b"x" * n) for n in (10, 200, 3)) + b"0\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = serve(send_parts(head + chunks))
    run = fetch_with_wire(server.url("/"), bufsize=50).run
    saved = write_run(run, str(tmp_path / "chunked.svrun"))
    with zipfile.ZipFile(saved.path) as archive:
        assert archive.read("wire.bin") == head + chunks
    again = read_run(saved.path)
    assert again.body.read_all() == b"x" * 213
    reader = RunBytes(again)
    for index in range(len(again.log)):
        start, stop = again.recv_span(index)
        assert reader.recv(index).data == (head + chunks)[start:stop]


def test_a_run_file_does_not_keep_a_counted_body_twice(demo, tmp_path) -> None:
    run = fetch_with_wire(demo.url("/bytes/3000")).run
    saved = write_run(run, str(tmp_path / "counted.svrun"))
    with zipfile.ZipFile(saved.path) as archive:
        assert "wire.bin" not in archive.namelist()
    again = read_run(saved.path)
    assert again.wire is None and again.bytes_kept
    last = len(again.log) - 1
    start, stop = again.recv_span(last)
    assert RunBytes(again).recv(last).data == run.wire.read(start, stop)


@pytest.mark.parametrize("extra", [b"!", -1])
def test_a_wire_member_of_the_wrong_size_is_refused(serve, tmp_path, extra) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = serve(send_parts(head + b"3\r\nabc\r\n0\r\n\r\n"))
    run = fetch_with_wire(server.url("/")).run
    good = write_run(run, str(tmp_path / "good.svrun"))
    bad = tmp_path / "bad.svrun"
    with zipfile.ZipFile(good.path) as source, zipfile.ZipFile(bad, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "wire.bin":
                data = data + extra if isinstance(extra, bytes) else data[:extra]
            out.writestr(item, data)
    with pytest.raises(RunFileError, match=r"wire\.bin"):
        read_run(bad)
