"""Plain mode beyond the book's bar: saving, the CSV log, exit codes, errors, --help."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sockview.cli import main
from sockview.core.sample_image import sample_png
from sockview.core.save import PendingFile
from sockview.plain import BROKEN_PIPE
from tests.conftest import send_parts

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def book_lines_are_consistent(lines: list[str], total: int) -> None:
    """`SIZE TOTAL` lines, a running sum that ends at `total`, then the header."""
    head_at = next(i for i, line in enumerate(lines) if line.startswith("Header length "))
    running = 0
    for line in lines[:head_at]:
        size, shown = map(int, line.split(" "))
        running += size
        assert shown == running
    assert running == total


# -- -o --------------------------------------------------------------------------------


def test_output_to_a_folder_uses_the_urls_name(demo, capsys, tmp_path: Path) -> None:
    status, lines, err = run([demo.url("/cover.png"), "--plain", "-o", str(tmp_path)], capsys)
    assert status == 0, err
    book_lines_are_consistent(lines, 70303)
    saved = tmp_path / "cover.png"
    assert saved.read_bytes() == sample_png()
    assert list(tmp_path.iterdir()) == [saved]
    assert f"sockview: saved the body (70057 bytes) to {saved}\n" in err
    assert "sockview:" not in "\n".join(lines)


def test_output_to_a_folder_with_a_trailing_slash(demo, capsys, tmp_path: Path) -> None:
    status, _, err = run([demo.url("/bytes/1000"), "--plain", "-o", f"{tmp_path}/"], capsys)
    assert status == 0, err
    assert (tmp_path / "1000.bin").stat().st_size == 1000


def test_output_never_clobbers_and_says_where(demo, capsys, tmp_path: Path) -> None:
    target = tmp_path / "stuff.png"
    target.write_bytes(b"my precious file")
    (tmp_path / "stuff-1.png").write_bytes(b"another")
    status, _, err = run([demo.url("/cover.png"), "--plain", "-o", str(target)], capsys)
    assert status == 0, err
    assert target.read_bytes() == b"my precious file"
    assert (tmp_path / "stuff-1.png").read_bytes() == b"another"
    assert (tmp_path / "stuff-2.png").read_bytes() == sample_png()
    assert f"to {tmp_path / 'stuff-2.png'}\n" in err


def test_output_into_the_current_folder(demo, capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, err = run([demo.url("/cover.png"), "--plain", "-o", "stuff.png"], capsys)
    assert status == 0, err
    assert (tmp_path / "stuff.png").read_bytes() == sample_png()


def test_a_short_body_is_saved_only_as_partial(serve, capsys, tmp_path: Path) -> None:
    server = serve(send_parts(HEAD % 1000 + b"p" * 300))
    status, lines, err = run([server.url("/pic.png"), "--plain", "-o", str(tmp_path)], capsys)
    assert status == 1
    assert [p.name for p in tmp_path.iterdir()] == ["pic.partial.png"]
    assert (tmp_path / "pic.partial.png").read_bytes() == b"p" * 300
    assert "300 of 1000" in err
    assert (
        f"sockview: saved the partial body (300 bytes) to {tmp_path / 'pic.partial.png'}\n" in err
    )
    book_lines_are_consistent(lines, len(HEAD % 1000) + 300)
    assert "Traceback" not in err


def test_a_reset_body_is_saved_only_as_partial(serve, capsys, tmp_path: Path) -> None:
    def reset_after_some(conn: socket.socket) -> None:
        conn.sendall(HEAD % 1000 + b"r" * 200)
        # Linger 0: close() sends a reset instead of a FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    server = serve(reset_after_some)
    out = tmp_path / "x.png"
    status, _, err = run([server.url("/"), "--plain", "-o", str(out)], capsys)
    assert status == 1
    assert not out.exists()
    saved = tmp_path / "x.partial.png"
    assert saved.read_bytes() == b"r" * 200
    assert "partial body (200 bytes)" in err


def test_nothing_is_saved_without_a_response(capsys, tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/x.png"
    status, _, err = run([url, "--plain", "-o", str(tmp_path)], capsys)
    assert status == 1
    assert list(tmp_path.iterdir()) == []
    assert err.count("\n") == 1


def test_a_failed_save_is_one_line_and_nonzero(demo, capsys, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "x.png"
    status, lines, err = run([demo.url("/cover.png"), "--plain", "-o", str(missing)], capsys)
    assert status == 1
    # Found out before connecting (issue 9): no download, no rows, one line.
    assert lines == []
    assert err.count("\n") == 1
    assert err.splitlines()[-1].startswith("sockview: cannot save in ")
    assert "does not exist; nothing was written" in err
    assert "Traceback" not in err


# -- --log -----------------------------------------------------------------------------


def test_log_rows_match_stdout(demo, capsys, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    status, lines, err = run(
        [demo.url("/cover.png"), "--plain", "--bufsize", "1000", "--log", str(log)], capsys
    )
    assert status == 0, err
    rows = log.read_text().splitlines()
    assert rows[0] == "index,time_ms,size,total,queued,rcv_wnd"
    head_at = lines.index("Header length 242")
    assert len(rows) - 1 == head_at
    for i, (row, line) in enumerate(zip(rows[1:], lines[:head_at], strict=True)):
        index, time_ms, size, total, _queued, _rcv_wnd = row.split(",")
        assert int(index) == i
        assert float(time_ms) >= 0
        assert f"{size} {total}" == line
        assert int(size) <= 1000
    assert f"wrote {head_at} records to {log}" in err


def test_log_into_a_folder_and_never_clobbers(demo, capsys, tmp_path: Path) -> None:
    (tmp_path / "recv-log.csv").write_text("keep me")
    status, _, err = run([demo.url("/bytes/10"), "--plain", "--log", str(tmp_path)], capsys)
    assert status == 0, err
    assert (tmp_path / "recv-log.csv").read_text() == "keep me"
    assert (
        (tmp_path / "recv-log-1.csv")
        .read_text()
        .startswith("index,time_ms,size,total,queued,rcv_wnd\n")
    )


def test_log_is_written_for_a_failed_fetch_too(serve, capsys, tmp_path: Path) -> None:
    server = serve(send_parts(HEAD % 10 + b"abc"))
    log = tmp_path / "log.csv"
    status, _, _ = run([server.url("/"), "--plain", "--log", str(log)], capsys)
    assert status == 1
    rows = log.read_text().splitlines()
    assert rows[-1].split(",")[3] == str(len(HEAD % 10) + 3)


# -- what plain mode prints --------------------------------------------------------------


def test_demo_plain(capsys) -> None:
    status, lines, err = run(["--demo", "--plain"], capsys)
    assert status == 0, err
    book_lines_are_consistent(lines, 70303)
    assert "Header length 242" in lines
    assert lines[-1] == "Content-Type: image/png"
    assert err.startswith("sockview: 70303 bytes in ")
    assert "HTTP/1.1 200 OK; body 70057 bytes (content-length)" in err


def test_book_request_in_plain_mode(demo, capsys) -> None:
    status, lines, err = run([demo.url("/cover.png"), "--plain", "--book"], capsys)
    assert status == 0, err
    book_lines_are_consistent(lines, 70303)


def test_http11_chunked_in_plain_mode(demo, capsys) -> None:
    status, lines, err = run([demo.url("/chunked/10000"), "--plain", "--http", "1.1"], capsys)
    assert status == 0, err
    assert "Transfer-Encoding: chunked" in lines
    assert "body 10000 bytes (chunked)" in err


def test_control_characters_from_the_server_are_shown_escaped(serve, capsys) -> None:
    head = b"HTTP/1.1 200 OK\r\nX-Evil: \x1b[2J\x1b]0;pwned\x07\r\nContent-Length: 0\r\n\r\n"
    server = serve(send_parts(head))
    status, lines, err = run([server.url("/"), "--plain"], capsys)
    assert status == 0, err
    assert "X-Evil: \\x1b[2J\\x1b]0;pwned\\x07" in lines
    assert "\x1b" not in "\n".join(lines) + err


def test_a_404_is_a_response_not_a_failure(demo, capsys) -> None:
    status, lines, err = run([demo.url("/missing"), "--plain"], capsys)
    assert status == 0
    assert "HTTP/1.1 404 Not Found" in lines
    assert "404 Not Found" in err


# -- exit codes and usage errors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ftp://h/x", "--plain"], "unsupported scheme"),
        (["http://h:99999/", "--plain"], "bad port"),
        (["--plain"], "plain mode needs a URL"),
        (["http://h/", "--log", "x.csv"], "--log is for plain mode"),
        (["http://h/", "--plain", "--book", "--http", "1.1"], "--book sends HTTP/1.0"),
        (["http://h/", "--demo", "--plain"], "one of a URL, --demo, --replay or --compare"),
        (["--replay", "a.svrun", "--demo"], "one of a URL, --demo, --replay or --compare"),
        (["--compare", "a.svrun"], "--compare needs two run files"),
        (["--demo", "--record", ""], "--record needs a path"),
        (
            ["http://h/", "--plain", "--bufsize", "0"],
            "argument --bufsize: must be a whole number from 1 to",
        ),
        (["http://h/", "--plain", "--bufsize", "lots"], "argument --bufsize: must be a"),
        (["http://h/", "--plain", "--delay", "-1"], "argument --delay: must be a number from 0 to"),
        (["http://h/", "--plain", "--delay", "nan"], "argument --delay: must be"),
        (["http://h/", "--plain", "--http", "2"], "invalid choice"),
        (
            ["http://h/", "--plain", "--read-timeout", "0"],
            "argument --read-timeout: must be a number from 0.001 to",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err.splitlines()[-1]
    assert "Traceback" not in err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--demo", "--plain", "-o PATH", "--log PATH", "--delay SECONDS", "--book"):
        assert option in out


def test_help_and_version_as_a_command() -> None:
    # The same entry point as the console script, in a fresh interpreter.
    help_ = subprocess.run(
        [sys.executable, "-m", "sockview", "--help"], capture_output=True, text=True, timeout=60
    )
    assert help_.returncode == 0
    assert help_.stdout.startswith("usage: sockview")
    version = subprocess.run(
        [sys.executable, "-m", "sockview", "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0
    assert version.stdout.startswith("sockview ")


def test_plain_mode_in_a_fresh_interpreter(demo) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sockview", demo.url("/cover.png"), "--plain", "--delay", "0.01"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    book_lines_are_consistent(lines, 70303)
    # The summary, the phases, the connection.
    assert result.stderr.count("\n") == 3


@contextlib.contextmanager
def plain_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`sockview --plain ARGS...` in a fresh interpreter, once it has printed a first row."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sockview", "--plain", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        assert first.split(" ")[0].isdigit(), first
        yield process, first
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_ctrl_c_in_plain_mode_exits_130_without_a_traceback(demo) -> None:
    with plain_process(demo.url("/slow/100000?rate=2000")) as (process, _):
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 130
        err = process.stderr.read()  # type: ignore[union-attr]
    assert err == "sockview: interrupted\n"


@pytest.mark.parametrize("save", [False, True])
def test_a_closed_stdout_stops_the_fetch_without_a_traceback(
    demo, tmp_path: Path, save: bool
) -> None:
    # `sockview --plain URL | head -1`: the reader goes away after the first line.
    output = ["-o", str(tmp_path / "body.bin")] if save else []
    with plain_process(demo.url("/slow/100000?rate=20000"), *output) as (process, _):
        process.stdout.close()  # type: ignore[union-attr]
        assert process.wait(10) == BROKEN_PIPE
        err = process.stderr.read()  # type: ignore[union-attr]
    if save:
        # What came before is kept, and named for what it is.
        saved = tmp_path / "body.partial.bin"
        assert err.startswith("sockview: saved the partial body (") and str(saved) in err, err
        assert 0 < saved.stat().st_size < 100_000
        assert err.count("\n") == 1
    else:
        assert err == ""


def test_ctrl_c_with_output_saves_what_came_as_partial(demo, tmp_path: Path) -> None:
    url = demo.url("/slow/100000?rate=20000")
    with plain_process(url, "-o", str(tmp_path / "body.bin")) as (process, first):
        # While it runs, the body goes to a hidden file in the folder, and nowhere else.
        names = [path.name for path in tmp_path.iterdir()]
        assert len(names) == 1 and names[0].startswith(".body.bin.")
        assert names[0].endswith(".sockview-tmp")
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 130
        out, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    saved = tmp_path / "body.partial.bin"
    assert list(tmp_path.iterdir()) == [saved]
    # Every row is printed, and the body is the bytes after the head, in order.
    last_total = int((first + out).splitlines()[-1].split()[1])
    size = saved.stat().st_size
    assert 0 < size < 100_000
    assert 0 < last_total - size < 400  # the demo's head
    assert saved.read_bytes() == (bytes(range(256)) * 400)[:size]
    assert err == (
        f"sockview: interrupted\nsockview: saved the partial body ({size} bytes) to {saved}\n"
    )


def test_a_full_output_folder_mid_body_keeps_what_was_written(
    demo, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # -o writes the body into its folder as it arrives; that disk fills up after 20,000
    # bytes. The failure names that folder, and the bytes written are saved as partial.
    write = PendingFile.write

    def full_after_20000(self: PendingFile, data: bytes | bytearray | memoryview) -> None:
        if self.size + len(data) > 20_000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write(self, data)

    monkeypatch.setattr(PendingFile, "write", full_after_20000)
    argv = [demo.url("/bytes/100000"), "--plain", "--bufsize", "1000", "-o", str(tmp_path)]
    status, _, err = run(argv, capsys)
    assert status == 1
    saved = tmp_path / "100000.partial.bin"
    size = saved.stat().st_size
    assert 0 < size <= 20_000
    assert saved.read_bytes() == (bytes(range(256)) * 400)[:size]
    assert err == (
        f"sockview: cannot keep the body after {size:,} bytes: no space left in {tmp_path}\n"
        f"sockview: saved the partial body ({size} bytes) to {saved}\n"
    )
    assert list(tmp_path.iterdir()) == [saved]
