"""Plain mode's paths that name a stream (`-`, /dev/stdout, /dev/fd/N), and a stdout that
stalls during an endless fetch.

Real `sockview --plain` processes with real pipes and files, against loopback servers.
Waits poll for a condition with a bound; nothing here times anything.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from pathlib import Path

import pytest

from tests.core.test_hostile_round2_io import (
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


def test_log_dash_writes_the_csv_to_stdout_and_the_lines_to_stderr(demo) -> None:
    with running(sockview(demo.url("/bytes/100000"), "--log", "-")) as process:
        assert process.stdout is not None
        csv = process.stdout.read()
        status, err = ended(process)
    assert status == 0, err
    assert csv.startswith(CSV_HEAD)
    assert csv.count(b"\n") == len(rows(err)) + 1
    assert "sockview: wrote " in err and " records to standard output\n" in err


@pytest.mark.parametrize(
    "args", [("-o", "-", "--log", "-"), ("--log", "-", "--record", "/dev/stdout")]
)
def test_two_things_to_stdout_is_a_usage_error(args: tuple[str, ...]) -> None:
    with running(sockview("http://127.0.0.1:9/", *args)) as process:
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
