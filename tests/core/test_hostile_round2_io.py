"""Issue 9, part B: plain mode's streams and signals, and saving, against hostile conditions.

Real loopback servers (the demo, or scripted ones), real files, and for streams and
signals a real `sockview --plain` process with real pipes and signals. Waits poll for a
condition with a bound; nothing here times anything.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sockview.cli import main
from sockview.core.body import SpooledBody
from tests.conftest import ScriptedServer, send_parts
from tests.core.fetching import HANG_LIMIT, wait_for

PATTERN = bytes(range(256))


def pattern(size: int) -> bytes:
    """The demo's body of `size` bytes."""
    return (PATTERN * (size // 256 + 1))[:size]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def sockview(*args: str, **popen: object) -> subprocess.Popen[bytes]:
    """`sockview --plain ARGS...` in a fresh interpreter."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-m", "sockview", "--plain", *args], **popen
    )


@contextlib.contextmanager
def running(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(HANG_LIMIT)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def ended(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Its exit status and stderr, once it ends (fails the test on a hang)."""
    try:
        status = process.wait(HANG_LIMIT)
    except subprocess.TimeoutExpired:
        raise AssertionError("sockview did not end") from None
    err = process.stderr.read().decode() if process.stderr else ""
    return status, err


def temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".sockview-tmp")]


def blocked_writing_a_pipe(process: subprocess.Popen[bytes]) -> Callable[[], bool]:
    """True once a thread of `process` waits in a write to a full pipe (its stdout)."""

    def blocked() -> bool:
        for task in Path(f"/proc/{process.pid}/task").iterdir():
            with contextlib.suppress(OSError):
                if "pipe_write" in (task / "wchan").read_text():
                    return True
        return False

    return blocked


# -- the body store: a save copies without holding up the recv loop ----------------------


def test_a_copy_of_the_body_does_not_hold_up_writes(tmp_path: Path) -> None:
    # `s` during a fetch of gigabytes: the copy runs while the recv loop keeps writing.
    # Here the copy's destination stalls on its first slice; the loop's next write
    # (and so a cancel, which the loop must reach) must not wait for the copy.
    body = SpooledBody(limit=1024)
    body.write(b"x" * 3_000_000)
    entered, release = threading.Event(), threading.Event()

    class Stalling:
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, data: bytes) -> None:
            entered.set()
            release.wait(HANG_LIMIT)
            self.data += data

    out = Stalling()
    copier = threading.Thread(target=body.copy_to, args=(out,), daemon=True)
    copier.start()
    wrote = threading.Event()
    try:
        wait_for(entered.is_set, "the copy to start")
        writer = threading.Thread(
            target=lambda: (body.write(b"y" * 1000), wrote.set()), daemon=True
        )
        writer.start()
        wait_for(wrote.is_set, "a write during the copy", timeout=5)
    finally:
        release.set()
        copier.join(HANG_LIMIT)
    # The copy is the body as it was when the save began.
    assert bytes(out.data) == b"x" * 3_000_000
    assert body.read_all() == b"x" * 3_000_000 + b"y" * 1000
    body.close()


# -- -o: the target is checked before connecting ----------------------------------------


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_an_unusable_output_folder_fails_before_connecting(
    serve, capsys, tmp_path: Path, kind: str
) -> None:
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
    if kind == "missing":
        target = tmp_path / "no" / "such" / "x.bin"
    else:
        (tmp_path / "file").write_bytes(b"mine")
        target = tmp_path / "file" / "x.bin"
    for option in ("-o", "--log"):
        status, out, err = run([server.url("/x.bin"), "--plain", option, str(target)], capsys)
        assert status == 1
        assert out == ""
        assert err.startswith(f"sockview: cannot save in {target.parent}: ")
        assert err.endswith("; nothing was written\n") and err.count("\n") == 1
    assert server.requests == []  # it never connected
    if kind == "a file":
        assert (tmp_path / "file").read_bytes() == b"mine"


# -- -o: the folder is held open -------------------------------------------------------


def _moving_server(
    serve, move: Callable[[], None], folder: Path, size: int = 200_000
) -> ScriptedServer:
    """A server that sends half the body, runs `move` once the hidden file is in
    `folder`, then sends the rest."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size
    body = pattern(size)

    def script(conn: socket.socket) -> None:
        conn.sendall(head + body[: size // 2])
        wait_for(lambda: bool(temp_files(folder)), "the hidden file")
        move()
        conn.sendall(body[size // 2 :])

    return serve(script)  # type: ignore[no-any-return]


def test_a_folder_renamed_during_the_download(serve, capsys, tmp_path: Path) -> None:
    folder, moved = tmp_path / "downloads", tmp_path / "moved"
    folder.mkdir()
    server = _moving_server(serve, lambda: folder.rename(moved), folder)
    status, _, err = run([server.url("/x.bin"), "--plain", "-o", str(folder / "x.bin")], capsys)
    assert status == 0, err
    saved = moved / "x.bin"
    assert saved.read_bytes() == pattern(200_000)
    assert err.endswith(f"sockview: saved the body (200000 bytes) to {saved}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moved"]
    assert [p.name for p in moved.iterdir()] == ["x.bin"]  # nothing left behind


def test_a_symlinked_folder_retargeted_during_the_download(serve, capsys, tmp_path: Path) -> None:
    first, other, link = tmp_path / "first", tmp_path / "other", tmp_path / "link"
    first.mkdir()
    other.mkdir()
    link.symlink_to(first)

    def retarget() -> None:
        link.unlink()
        link.symlink_to(other)

    server = _moving_server(serve, retarget, first)
    status, _, err = run([server.url("/x.bin"), "--plain", "-o", str(link / "x.bin")], capsys)
    assert status == 0, err
    # The body lands where it was started, and the message names where it is.
    saved = first / "x.bin"
    assert saved.read_bytes() == pattern(200_000)
    assert err.endswith(f"sockview: saved the body (200000 bytes) to {saved}\n")
    assert [p.name for p in first.iterdir()] == ["x.bin"]
    assert list(other.iterdir()) == []


# -- -o and --log: existing files that are not regular, and stdout ----------------------


def test_output_to_dev_null_writes_to_the_device(demo, capsys) -> None:
    before = set(os.listdir("/dev"))
    try:
        status, _, err = run(
            [
                demo.url("/bytes/100000"),
                "--plain",
                *("-o", "/dev/null", "--log", "/dev/null", "--record", "/dev/null"),
            ],
            capsys,
        )
        created = set(os.listdir("/dev")) - before
    finally:
        for name in set(os.listdir("/dev")) - before:
            if name.startswith("null"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join("/dev", name))
    assert created == set()
    assert status == 0, err
    assert "saved the body (100000 bytes) to /dev/null\n" in err
    assert "records to /dev/null\n" in err
    assert "recorded the run to /dev/null\n" in err


def test_output_to_a_fifo_is_read_at_its_other_end(demo, capsys, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = bytearray()

    def read() -> None:
        with open(fifo, "rb") as reader:
            while chunk := reader.read(65536):
                got.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    status, _, err = run([demo.url("/bytes/300000"), "--plain", "-o", str(fifo)], capsys)
    reader.join(HANG_LIMIT)
    assert status == 0, err
    assert bytes(got) == pattern(300_000)
    assert [p.name for p in tmp_path.iterdir()] == ["fifo"]


def test_output_dash_writes_the_body_to_stdout(demo) -> None:
    with running(sockview(demo.url("/bytes/300000"), "-o", "-")) as process:
        body = process.stdout.read()  # type: ignore[union-attr]
        status, err = ended(process)
    assert status == 0, err
    assert body == pattern(300_000)
    # The book's lines go to stderr instead, and still add up.
    rows = [line for line in err.splitlines() if line[:1].isdigit()]
    assert rows and int(rows[-1].split()[1]) > 300_000
    assert "Header length " in err


def test_output_dash_is_for_plain_mode(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["http://127.0.0.1:9/", "-o", "-"])
    assert exit_.value.code == 2
    assert "-o - writes the body to standard output: add --plain" in capsys.readouterr().err


# -- names the user typed ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["100%25.txt", ".myconfig", "x:y.bin", " spaced .bin"])
def test_a_typed_name_is_used_as_typed(demo, capsys, tmp_path: Path, name: str) -> None:
    status, _, err = run([demo.url("/bytes/1000"), "--plain", "-o", str(tmp_path / name)], capsys)
    assert status == 0, err
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_bytes() == pattern(1000)


def test_a_typed_log_name_is_used_as_typed(demo, capsys, tmp_path: Path) -> None:
    status, _, err = run(
        [demo.url("/bytes/1000"), "--plain", "--log", str(tmp_path / ".log:1%41")], capsys
    )
    assert status == 0, err
    assert [p.name for p in tmp_path.iterdir()] == [".log:1%41"]


@pytest.mark.parametrize("option", ["-o", "--log"])
def test_an_empty_path_is_an_error(capsys, option: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["http://127.0.0.1:9/", "--plain", option, ""])
    assert exit_.value.code == 2
    assert f"{option} needs a path, not an empty string" in capsys.readouterr().err


# -- error responses ---------------------------------------------------------------------

NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\n"
    b"Content-Length: 13\r\n\r\n<h1>gone</h1>"
)


@pytest.mark.parametrize("fail", [False, True])
@pytest.mark.parametrize("typed", [False, True])
def test_an_error_response_is_not_saved_as_the_file_asked_for(
    serve, capsys, tmp_path: Path, fail: bool, typed: bool
) -> None:
    server = serve(send_parts(NOT_FOUND))
    target = tmp_path / "cover.png" if typed else tmp_path
    argv = [server.url("/cover.png"), "--plain", "-o", str(target)] + (["--fail"] if fail else [])
    status, _, err = run(argv, capsys)
    assert status == (22 if fail else 0), err
    saved = tmp_path / "cover.404.html"
    assert [p.name for p in tmp_path.iterdir()] == ["cover.404.html"]
    assert saved.read_bytes() == b"<h1>gone</h1>"
    assert f"saved the body (13 bytes) to {saved}\n" in err


def test_fail_on_a_success_exits_0(demo, capsys) -> None:
    status, _, err = run([demo.url("/bytes/10"), "--plain", "--fail"], capsys)
    assert status == 0, err


# -- a full disk -------------------------------------------------------------------------


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        # A disk that takes `limit` bytes of a file and no more: writes past it fail
        # with EFBIG, part-way through a write when it straddles the limit.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_message_counts_the_bytes_in_the_file(demo, tmp_path: Path) -> None:
    limit = 1_000_000  # not a multiple of any batch or buffer size
    process = sockview(
        demo.url("/bytes/3000000"),
        "-o",
        str(tmp_path / "big.bin"),
        stdout=subprocess.DEVNULL,
        preexec_fn=_file_size_limit(limit),
    )
    with running(process):
        status, err = ended(process)
    assert status == 1
    saved = tmp_path / "big.partial.bin"
    size = saved.stat().st_size
    assert size == limit
    assert saved.read_bytes() == pattern(size)
    counted = err.split("sockview: cannot keep the body after ", 1)[1].split(" bytes: ")[0]
    assert int(counted.replace(",", "")) == size, err
    assert f"sockview: saved the partial body ({size} bytes) to {saved}\n" in err


# -- signals -----------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_keep_what_came_and_leave_no_temporary_file(
    demo, tmp_path: Path, signum: int
) -> None:
    url = demo.url("/slow/1000000?rate=20000")
    with running(sockview(url, "-o", str(tmp_path / "body.bin"))) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.split(b" ")[0].isdigit(), first
        assert len(temp_files(tmp_path)) == 1
        process.send_signal(signum)
        status, err = ended(process)
    assert status == 128 + signum
    saved = tmp_path / "body.partial.bin"
    assert [p.name for p in tmp_path.iterdir()] == ["body.partial.bin"]
    size = saved.stat().st_size
    assert 0 < size < 1_000_000
    assert saved.read_bytes() == pattern(size)
    reason = signal.strsignal(signum).lower()  # type: ignore[union-attr]
    assert err == (
        f"sockview: {reason}\nsockview: saved the partial body ({size} bytes) to {saved}\n"
    )


def _ignore_sighup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as nohup starts a program


def test_a_sighup_ignored_at_start_stays_ignored(demo, tmp_path: Path) -> None:
    url = demo.url("/slow/1000000?rate=20000")
    args = (url, "-o", str(tmp_path / "body.bin"))
    with running(sockview(*args, preexec_fn=_ignore_sighup)) as process:
        assert process.stdout is not None
        assert process.stdout.readline().split(b" ")[0].isdigit()
        process.send_signal(signal.SIGHUP)
        for _ in range(3):  # the fetch goes on
            assert process.stdout.readline().split(b" ")[0].isdigit()
        process.send_signal(signal.SIGTERM)
        status, err = ended(process)
    assert status == 128 + signal.SIGTERM, err
    assert err.startswith("sockview: terminated\n")


# -- stdout that nobody reads ------------------------------------------------------------


@pytest.mark.parametrize("how", ["ctrl-c", "deadline"])
def test_a_stalled_stdout_does_not_hold_up_ctrl_c_or_the_deadline(
    demo, tmp_path: Path, how: str
) -> None:
    # A paused pager: stdout is a pipe that nobody reads. Small recvs make many more
    # rows than the pipe holds.
    args = [demo.url("/bytes/50000000"), "--bufsize", "256", "-o", str(tmp_path / "b.bin")]
    if how == "deadline":
        args += ["--deadline", "2"]
    with running(sockview(*args)) as process:
        if not Path(f"/proc/{process.pid}/task").is_dir():
            pytest.skip("needs /proc to see the process wait on its stdout")
        wait_for(blocked_writing_a_pipe(process), "a write to the full stdout")
        if how == "ctrl-c":
            process.send_signal(signal.SIGINT)
        status, err = ended(process)
    assert "Traceback" not in err
    if how == "ctrl-c":
        assert status == 130
        assert err.startswith("sockview: interrupted\n")
    else:
        assert status == 1
        assert "(--deadline)" in err
    assert [p.name for p in tmp_path.iterdir()] == ["b.partial.bin"]


# -- closed or failing standard streams --------------------------------------------------


def _close(fd: int) -> Callable[[], None]:
    return lambda: os.close(fd)


def test_a_closed_stdout_is_named_as_ours_and_the_body_is_saved(demo, tmp_path: Path) -> None:
    target = tmp_path / "b.bin"
    args = (demo.url("/bytes/200000"), "-o", str(target))
    with running(sockview(*args, stdout=None, preexec_fn=_close(1))) as process:
        status, err = ended(process)
    assert "Traceback" not in err
    assert status == 23
    assert "sockview: cannot write to standard output: it is closed\n" in err
    assert target.read_bytes() == pattern(200_000)


def test_a_closed_stderr_still_saves_the_body(demo, tmp_path: Path) -> None:
    target = tmp_path / "b.bin"
    args = (demo.url("/bytes/200000"), "-o", str(target))
    with running(
        sockview(*args, stdout=subprocess.DEVNULL, stderr=None, preexec_fn=_close(2))
    ) as process:
        status, _ = ended(process)
    assert status == 0
    assert [p.name for p in tmp_path.iterdir()] == ["b.bin"]
    assert target.read_bytes() == pattern(200_000)


def test_a_full_stdout_is_named_as_ours_and_the_fetch_goes_on(demo, tmp_path: Path) -> None:
    target = tmp_path / "b.bin"
    with open("/dev/full", "wb") as full:
        process = sockview(demo.url("/bytes/200000"), "-o", str(target), stdout=full)
        with running(process):
            status, err = ended(process)
    assert "Traceback" not in err
    assert status == 23
    assert "sockview: cannot write to standard output: No space left on device\n" in err
    # The server is not blamed, and the body is whole.
    assert "sockview: 200" in err  # the summary: the fetch ended well
    assert target.read_bytes() == pattern(200_000)
