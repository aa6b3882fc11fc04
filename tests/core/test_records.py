"""The recv log: one compact row per recv, read back as records, offsets and CSV."""

from __future__ import annotations

import itertools
import sys
import threading

import pytest

from sockview.core.records import ChunkRecord, RecvLog


def make_log(rows: list[tuple[int, int]]) -> RecvLog:
    log = RecvLog()
    for time_ns, size in rows:
        log.times_ns.append(time_ns)
        log.sizes.append(size)
    return log


def test_records_read_back() -> None:
    log = make_log([(1_500_000, 5), (2_000_000, 3), (3_250_000, 7)])
    assert len(log) == 3
    assert log.total == 15
    assert log[0] == ChunkRecord(index=0, time_ns=1_500_000, size=5, total=5)
    assert log[-1] == ChunkRecord(index=2, time_ns=3_250_000, size=7, total=15)
    with pytest.raises(IndexError):
        log[3]


def test_empty_log() -> None:
    log = RecvLog()
    assert len(log) == 0 and log.total == 0
    assert log.csv_lines() == ""


def test_index_of_offset_finds_the_recv_that_carried_a_byte() -> None:
    log = make_log([(1, 5), (2, 3), (3, 7)])
    # Bytes 0-4 came in recv 0, 5-7 in recv 1, 8-14 in recv 2; 15 has not arrived.
    expected = [0] * 5 + [1] * 3 + [2] * 7 + [3]
    assert [log.index_of_offset(offset) for offset in range(16)] == expected


def test_csv_rows() -> None:
    log = make_log([(1_500_000, 5), (2_000_000, 3), (3_250_400, 7)])
    assert log.csv_lines() == "0,1.500,5,5\n1,2.000,3,8\n2,3.250,7,15\n"
    assert log.csv_lines(1, 2) == "1,2.000,3,8\n"
    assert log.csv_lines(2) == "2,3.250,7,15\n"


def test_a_row_takes_about_20_bytes() -> None:
    log = make_log([(1, 1)])
    assert log.times_ns.itemsize + log.sizes.itemsize + log.totals.itemsize <= 20


def test_totals_follow_the_sizes_appended_after_a_read() -> None:
    log = make_log([(1, 5)])
    assert list(log.totals) == [5]
    log.times_ns.append(2)
    log.sizes.append(3)
    assert list(log.totals) == [5, 8]
    assert log.total == 8 and log[1].total == 8


def test_totals_read_from_several_threads_while_the_log_grows() -> None:
    # The loop appends; the UI, the watchdog and plain mode's printer read totals meanwhile.
    log = RecvLog()
    stop = threading.Event()
    seen: list[int] = []

    def read() -> None:
        while not stop.is_set():
            seen.append(len(log.totals))

    sizes = [(i * 7919) % 5120 + 1 for i in range(100_000)]
    readers = [threading.Thread(target=read) for _ in range(3)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        for reader in readers:
            reader.start()
        for index, size in enumerate(sizes):
            log.times_ns.append(index)
            log.sizes.append(size)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
        sys.setswitchinterval(interval)
    assert list(log.totals) == list(itertools.accumulate(sizes))
    assert max(seen) > 0, "the readers ran while the log grew"
