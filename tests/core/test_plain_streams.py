"""Plain mode's paths that name a stream (`-`, /dev/stdout, /dev/fd/N), and a stdout that
stalls during an endless fetch.

Real `sockview --plain` processes with real pipes and files, against loopback servers.
Waits poll for a condition with a bound; nothing here times anything.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ScriptedServer
from tests.core.fetching import wait_for
from tests.core.test_hostile_round2_io import (
    blocked_writing_a_pipe,
    ended,
    pattern,
    running,
    sockview,
)

CSV_HEAD = b"index,time_ms,size,total,"


@contextlib.contextmanager
def nothing_new_in_dev():  # type: ignore[no-untyped-def]
    """Fails if a file appeared in /dev meanwhile (removing it)."""
    before = set(os.listdir("/dev"))
    try:
        yield
    finally:
        created = set(os.listdir("/dev")) - before
        for name in created:
            if name.startswith(("stdout", "stderr")):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join("/dev", name))
    assert created == set(), f"created in /dev: {created}"


def rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line[:1].isdigit()]


# -- paths that name our standard output ---------------------------------------------------


@pytest.mark.parametrize("option", ["--log", "-o", "--record"])
def test_dev_stdout_redirected_to_a_file_is_written_as_stdout(
    demo, tmp_path: Path, option: str
) -> None:
    # `sockview --plain URL --log /dev/stdout > out.txt`: /dev/stdout leads to a regular
    # file, which must get what was asked for, as stdout, not a new /dev/stdout-1.
    out = tmp_path / "out.txt"
    with nothing_new_in_dev(), open(out, "wb") as stdout:
        process = sockview(demo.url("/bytes/100000"), option, "/dev/stdout", stdout=stdout)
        with running(process):
            status, err = ended(process)
    assert status == 0, err
    written = out.read_bytes()
    if option == "--log":
        assert written.startswith(CSV_HEAD), written[:100]
        assert written.count(b"\n") == len(rows(err)) + 1
    elif option == "-o":
        assert written == pattern(100_000)
    else:
        with zipfile.ZipFile(out) as archive:
            assert "run.json" in archive.namelist()
    # As with `-o -`: stdout holds only what was asked for; the book's lines go to stderr.
    assert rows(err) and int(rows(err)[-1].split()[1]) > 100_000
    assert "/dev/stdout-" not in err


def test_log_dash_writes_the_csv_to_stdout_and_the_lines_to_stderr(demo, tmp_path: Path) -> None:
    process = sockview(demo.url("/bytes/100000"), "--log", "-", cwd=tmp_path)
    with running(process):
        assert process.stdout is not None
        csv = process.stdout.read()
        status, err = ended(process)
    assert status == 0, err
    assert csv.startswith(CSV_HEAD)
    assert csv.count(b"\n") == len(rows(err)) + 1
    assert "sockview: wrote " in err and " records to standard output\n" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args", [("-o", "-", "--log", "-"), ("--log", "-", "--record", "/dev/stdout")]
)
def test_two_things_to_stdout_is_a_usage_error(args: tuple[str, ...], tmp_path: Path) -> None:
    with running(sockview("http://127.0.0.1:9/", *args, cwd=tmp_path)) as process:
        status, err = ended(process)
    assert status == 2
    assert "standard output" in err and "only one" in err


def test_log_to_dev_fd_n_continues_the_file_where_it_stands(demo, tmp_path: Path) -> None:
    # `--log /dev/fd/3 3>log.csv`: opening /dev/fd/3 anew would start at the file's
    # beginning; the CSV must follow what the descriptor already wrote.
    log = tmp_path / "log.csv"
    with open(log, "wb") as file:
        file.write(b"before\n")
        file.flush()
        fd = file.fileno()
        process = sockview(demo.url("/bytes/10000"), "--log", f"/dev/fd/{fd}", pass_fds=(fd,))
        with running(process):
            status, err = ended(process)
    assert status == 0, err
    written = log.read_bytes()
    assert written.startswith(b"before\n" + CSV_HEAD), written[:100]
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]


# -- a stdout that stalls during an endless fetch ------------------------------------------

BUFSIZE = 64
"""Small recvs: many rows (about 12 bytes each) for each byte of body."""
SENT_LIMIT = 256 * 1024 * 1024
"""Where the endless server gives up: far above what a bounded backlog lets through
(plain mode's LINES_BACKLOG of rows of at most BUFSIZE bytes each, plus the kernel's buffers)."""


class Endless:
    """A server script: a close-delimited body sent as fast as the client takes it."""

    def __init__(self) -> None:
        self.sent = 0

    def __call__(self, conn: socket.socket) -> None:
        conn.settimeout(None)  # held by flow control for as long as the test needs
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
        chunk = bytes(65536)
        while self.sent < SENT_LIMIT:
            self.sent += conn.send(chunk)

    def held(self) -> Callable[[], bool]:
        """True once the server has sent nothing for 250 polls in a row (half a second at
        least): flow control holds it in send(). Fails the test once it sent SENT_LIMIT."""
        seen = [-1, 0]

        def check() -> bool:
            if self.sent >= SENT_LIMIT:
                raise AssertionError(f"the server was never held: it sent {self.sent} bytes")
            if self.sent == seen[0]:
                seen[1] += 1
                return seen[1] >= 250
            seen[:] = [self.sent, 0]
            return False

        return check


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "closed", "deadline"])
def test_a_stalled_stdout_holds_the_fetch_and_the_server_not_memory(
    how: str, tmp_path: Path
) -> None:
    # `sockview --plain URL | less`, and nobody scrolls: the rows wait for stdout up to
    # plain.LINES_BACKLOG, then the recv loop waits, and TCP flow control holds the server.
    if not Path(f"/proc/{os.getpid()}/task").is_dir():
        pytest.skip("needs /proc to see the process wait on its stdout")
    endless = Endless()
    server = ScriptedServer(endless)
    args = [server.url("/endless"), "--bufsize", str(BUFSIZE), "--rcvbuf", "65536"]
    if how == "deadline":
        args += ["--deadline", "8"]
    try:
        with running(sockview(*args, cwd=tmp_path)) as process:
            wait_for(blocked_writing_a_pipe(process), "a write to the full stdout")
            wait_for(endless.held(), "the server held by flow control")
            # The rows waiting: at most LINES_BACKLOG and one report's worth, not a line
            # for each of the recvs that an unbounded queue would keep taking.
            assert resident_bytes(process.pid) < 200 * 1024 * 1024
            assert process.poll() is None
            if how == "ctrl-c":
                process.send_signal(signal.SIGINT)
            elif how == "sigterm":
                process.send_signal(signal.SIGTERM)
            elif how == "closed":
                assert process.stdout is not None
                process.stdout.close()
            status, err = ended(process)
    finally:
        server.close()
    assert "Traceback" not in err
    if how == "ctrl-c":
        assert status == 130
        assert err.startswith("sockview: interrupted\n")
    elif how == "sigterm":
        assert status == 143
        assert err.startswith("sockview: terminated\n")
    elif how == "closed":
        assert status == 141
    else:
        assert status == 1
        assert "(--deadline)" in err
    assert endless.sent < SENT_LIMIT


def test_record_dash_writes_the_run_file_to_stdout(demo, tmp_path: Path) -> None:
    process = sockview(demo.url("/bytes/10000"), "--record", "-", cwd=tmp_path)
    with running(process):
        assert process.stdout is not None
        written = process.stdout.read()
        status, err = ended(process)
    assert status == 0, err
    with zipfile.ZipFile(io.BytesIO(written)) as archive:
        assert "run.json" in archive.namelist()
    assert rows(err)
    assert list(tmp_path.iterdir()) == []


def test_log_dash_to_a_closed_pipe_exits_141(demo, tmp_path: Path) -> None:
    # The lines went to stderr: the CSV is the first write to stdout, and its reader is gone.
    process = sockview(demo.url("/bytes/10000"), "--log", "-", cwd=tmp_path)
    assert process.stdout is not None
    process.stdout.close()
    with running(process):
        status, err = ended(process)
    assert "Traceback" not in err
    assert status == 141, err
