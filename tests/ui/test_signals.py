"""SIGTERM and SIGHUP end the app as q does: terminal restored, status 128 + the signal.

Textual leaves both signals at their default, which killed the app in the alternate
screen with mouse reporting on and the tty raw. These run the real command in a pty.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pty = pytest.importorskip("pty")

ALT_SCREEN_ON = b"\x1b[?1049h"
ALT_SCREEN_OFF = b"\x1b[?1049l"
MOUSE_OFF = b"\x1b[?1000l"
GUARD = 60.0
"""Seconds before a wait gives up (a guard against a hang, not a measure)."""


def start_demo(tmp_path: Path, ignored: tuple[int, ...] = ()) -> tuple[int, int]:
    """`sockview --demo` in a new pty, its temporary files in `tmp_path`, started with the
    `ignored` signals ignored (as nohup does): (pid, pty fd)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become sockview, never return into pytest
        try:
            for signum in ignored:
                signal.signal(signum, signal.SIG_IGN)
            env = dict(os.environ, TERM="xterm-256color", TMPDIR=str(tmp_path))
            os.execve(sys.executable, [sys.executable, "-m", "sockview", "--demo"], env)
        finally:
            os._exit(127)
    return pid, fd


def ended(pid: int, status: list[int]) -> bool:
    """Whether the child has ended; its wait status goes into `status`."""
    if not status:
        waited, code = os.waitpid(pid, os.WNOHANG)
        if waited:
            status.append(code)
    return bool(status)


def pump(fd: int, out: bytearray, done: Callable[[], bool]) -> bool:
    """Read the pty into `out` until `done()`; False if the guard ran out first."""
    deadline = time.monotonic() + GUARD
    while not done():
        if time.monotonic() > deadline:
            return False
        if select.select([fd], [], [], 0.05)[0]:
            with contextlib.suppress(OSError):  # the child closed its side
                out += os.read(fd, 65536)
    return True


def drain(fd: int, out: bytearray) -> None:
    """Read what the ended child left in the pty, up to its end (EOF, or EIO on Linux)."""
    while select.select([fd], [], [], 0)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        out += data


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_a_terminating_signal_restores_the_terminal_and_exits_with_its_status(
    signum: int, tmp_path: Path
) -> None:
    pid, fd = start_demo(tmp_path)
    out = bytearray()
    status: list[int] = []
    try:
        # The recv table's title is set on mount, after the handlers are in place.
        assert pump(fd, out, lambda: b"ms since connect" in out), bytes(out[-500:])
        assert ALT_SCREEN_ON in out
        os.kill(pid, signum)
        assert pump(fd, out, lambda: ended(pid, status)), "the app did not end"
        attributes = termios.tcgetattr(fd)
        drain(fd, out)
    finally:
        if not status:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status[0]) == 128 + signum
    after = out[out.rindex(ALT_SCREEN_ON) :]
    assert ALT_SCREEN_OFF in after and MOUSE_OFF in after
    lflag = attributes[3]
    assert lflag & termios.ICANON and lflag & termios.ECHO, "the tty was left raw"
    reason = (signal.strsignal(signum) or "").lower()
    assert f"sockview: {reason}".encode() in out
    assert not list(tmp_path.iterdir()), "temporary files were left behind"


def test_a_closed_terminal_ends_the_app_with_the_hangup_status(tmp_path: Path) -> None:
    """The terminal itself goes (a closed window, a dropped ssh): nothing to restore."""
    pid, fd = start_demo(tmp_path)
    out = bytearray()
    status: list[int] = []
    try:
        assert pump(fd, out, lambda: b"ms since connect" in out), bytes(out[-500:])
    finally:
        os.close(fd)  # the kernel hangs the terminal up and sends SIGHUP
    try:
        deadline = time.monotonic() + GUARD
        while not ended(pid, status) and time.monotonic() < deadline:
            select.select([], [], [], 0.05)
        assert status, "the app outlived its terminal"
    finally:
        if not status:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status[0]) == 128 + signal.SIGHUP
    assert not list(tmp_path.iterdir()), "temporary files were left behind"


def test_a_sigterm_ignored_at_start_stays_ignored(tmp_path: Path) -> None:
    pid, fd = start_demo(tmp_path, ignored=(signal.SIGTERM,))
    out = bytearray()
    status: list[int] = []
    try:
        assert pump(fd, out, lambda: b"ms since connect" in out), bytes(out[-500:])
        os.kill(pid, signal.SIGTERM)
        os.write(fd, b"q")  # still there: it leaves when asked, with status 0
        assert pump(fd, out, lambda: ended(pid, status)), "the app did not end"
    finally:
        if not status:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status[0]) == 0
