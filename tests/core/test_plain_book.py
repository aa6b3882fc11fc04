"""Plain mode reproduces the book's figures (../shared/seed): the bar from the core issue."""

from __future__ import annotations

import socket
from pathlib import Path

from sockview.cli import main
from sockview.core.demo import cover_head
from sockview.core.sample_image import sample_png


def run(argv: list[str], capsys) -> tuple[int, list[str], str]:  # type: ignore[no-untyped-def]
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def test_demo_head_is_the_books_size() -> None:
    head = cover_head(sample_png(), "Sat, 23 Apr 2016 06:51:38 GMT")
    assert head.index(b"\r\n\r\n") == 242
    assert len(sample_png()) == 70057


def test_delay_gives_thirteen_full_chunks_then_3743(demo, capsys, tmp_path: Path) -> None:
    out = tmp_path / "stuff.png"
    status, lines, err = run(
        [demo.url("/cover.png"), "--plain", "--delay", "0.25", "-o", str(out)], capsys
    )
    assert status == 0, err
    assert lines[:13] == [f"5120 {5120 * i}" for i in range(1, 14)]
    assert lines[13] == "3743 70303"
    assert lines[14] == "Header length 242"
    assert lines[15] == "HTTP/1.1 200 OK"
    assert lines[16].startswith("Date: ")
    assert "Content-Length: 70057" in lines
    assert lines[-1] == "Content-Type: image/png"
    assert len(lines) == 14 + 1 + 9
    assert out.read_bytes() == sample_png()
    assert "saved the body (70057 bytes)" in err


def test_without_delay_sizes_vary_and_total_is_70303(demo, capsys) -> None:
    status, lines, err = run([demo.url("/cover.png"), "--plain"], capsys)
    assert status == 0, err
    records = [tuple(map(int, line.split())) for line in lines[: lines.index("Header length 242")]]
    running = 0
    for size, total in records:
        running += size
        assert 0 < size <= 5120
        assert total == running
    assert running == 70303
    # The paced demo does not fill every buffer when nobody waits.
    assert any(size < 5120 for size, _ in records[:-1])


def test_stdout_has_only_the_books_lines(demo, capsys) -> None:
    status, lines, err = run([demo.url("/cover.png"), "--plain", "--bufsize", "70303"], capsys)
    assert status == 0
    head_at = lines.index("Header length 242")
    assert all(len(line.split()) == 2 for line in lines[:head_at])
    assert "sockview:" not in "\n".join(lines)
    assert err.startswith("sockview: 70303 bytes in")


def test_csv_log(demo, capsys, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    status, lines, err = run([demo.url("/cover.png"), "--plain", "--log", str(log)], capsys)
    assert status == 0, err
    rows = log.read_text().splitlines()
    assert rows[0] == "index,time_ms,size,total,queued,rcv_wnd"
    assert len(rows) - 1 == lines.index("Header length 242")
    last = rows[-1].split(",")
    assert last[3] == "70303"
    times = [float(row.split(",")[1]) for row in rows[1:]]
    assert times == sorted(times)


def test_failure_is_one_line_and_nonzero(capsys) -> None:
    with socket.socket() as unused:  # a port that nobody listens on
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/x"
    status, lines, err = run([url, "--plain"], capsys)
    assert status == 1
    assert lines == []
    assert err.count("\n") == 1
    assert "connection refused" in err
    assert "Traceback" not in err
