"""The kernel's side of each recv and the phases of a fetch, on loopback.

The TCP_INFO decoder is checked on a recorded answer cut to the lengths that kernels of
different ages return; the sampling on real fetches from the demo server.
"""

from __future__ import annotations

import socket
import sys

import pytest

from sockview.core import fetch as fetch_module
from sockview.core.demo import DemoServer
from sockview.core.fetch import DelaySwitch
from sockview.core.kernel import ABSENT, AVAILABLE, KernelLog, decode_tcp_info, queued_bytes
from sockview.core.run import CSV_HEADER, Run
from tests.conftest import send_parts
from tests.core.fetching import HANG_LIMIT, fetch_now, start, wait_for

linux_only = pytest.mark.skipif(not AVAILABLE, reason="the kernel view is Linux's")

# TCP_INFO of a loopback client socket on Linux 6.18, after 1000 bytes had arrived.
RECORDED = bytes.fromhex(
    "010000000007aa01400d0300409c000000800000e80300000000000000000000"
    "00000000000000000000000030000000000000003000000030000000ffff0000"
    "1d1201001c0000000e000000ffffff7f0a000000cbff00000f000000e8030000"
    "d7ff0000000000005010d6c707000000ffffffffffffffff0100000000000000"
    "e8030000000000000300000002000000000000001c0000000100000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0100000000000000000000000000000000000000000000000000000000000000"
    "0000000000000100001401000000000000000000000000000000000000000000"
)


def test_decoder_reads_the_documented_offsets() -> None:
    info = decode_tcp_info(RECORDED)
    assert len(RECORDED) == info.length == 256
    assert info.state == 1  # TCP_ESTABLISHED
    assert info.rcv_mss == 1000
    assert info.rtt_us == 28
    assert info.rcv_space == 65495
    assert info.bytes_received == 1000
    assert info.snd_wnd == 65536
    assert info.rcv_wnd == 70656


@pytest.mark.parametrize(
    ("length", "absent"),
    [
        (232, {"rcv_wnd"}),  # Linux 5.4 to 6.1: no receive window yet
        (136, {"rcv_wnd", "snd_wnd"}),  # Linux 4.2
        (104, {"rcv_wnd", "snd_wnd", "bytes_received"}),  # Linux 3.x
        (0, {"rcv_wnd", "snd_wnd", "bytes_received", "rcv_space", "rtt_us", "rcv_mss", "state"}),
    ],
)
def test_fields_beyond_the_length_are_absent_not_zero(length: int, absent: set[str]) -> None:
    info = decode_tcp_info(RECORDED[:length])
    full = decode_tcp_info(RECORDED)
    assert info.length == length
    for name in ("state", "rcv_mss", "rtt_us", "rcv_space", "bytes_received", "snd_wnd"):
        assert getattr(info, name) == (None if name in absent else getattr(full, name)), name
    assert info.rcv_wnd is None


def test_a_field_cut_in_half_is_absent() -> None:
    assert decode_tcp_info(RECORDED[:234]).rcv_wnd is None
    assert decode_tcp_info(RECORDED[:236]).rcv_wnd == 70656


def test_absent_samples_stay_absent_in_the_log_and_the_csv() -> None:
    log = KernelLog()
    log.append(0, 0, decode_tcp_info(RECORDED[:232]))
    log.append(2, None, None)
    assert (log.queued[0], log.rcv_wnd[0]) == (0, ABSENT)
    assert KernelLog.shown(log.rcv_wnd[0]) is None and KernelLog.shown(log.queued[0]) == 0
    assert log.at(0) == 0 and log.at(1) is None and log.at(2) == 1
    run = Run.__new__(Run)
    run.log, run.kernel = _recv_log([10, 20, 30]), log
    assert run.csv_text() == CSV_HEADER + "0,0.001,10,10,0,\n1,0.002,20,30,,\n2,0.003,30,60,,\n"


def _recv_log(sizes: list[int]):  # type: ignore[no-untyped-def]
    from sockview.core.records import RecvLog

    log = RecvLog()
    for i, size in enumerate(sizes):
        log.times_ns.append((i + 1) * 1000)
        log.sizes.append(size)
    return log


@linux_only
def test_fionread_counts_what_waits() -> None:
    a, b = socket.socketpair()
    with a, b:
        assert queued_bytes(b) == 0
        a.sendall(b"x" * 1234)
        wait_for(lambda: queued_bytes(b) == 1234, "the bytes to arrive")


# -- phases and the connection ----------------------------------------------------------


def test_phases_present_and_ordered(demo: DemoServer) -> None:
    running = fetch_now(demo.url("/bytes/100000"))
    run = running.fetch.run
    phases = run.phases
    marks = [
        phases.dns_ns,
        phases.connect_ns,
        phases.request_ns,
        phases.first_byte_ns,
        phases.header_ns,
        phases.body_ns,
    ]
    assert all(mark is not None for mark in marks), phases
    assert marks == sorted(marks)  # type: ignore[type-var]
    assert phases.tls_ns is None
    line = phases.line()
    assert line.startswith("dns ") and " · connect " in line and " · tls — · first byte " in line
    assert line.split(" · ")[-1].startswith("transfer ") and line.endswith(" ms")
    assert run.family == "IPv4"
    assert run.peer_address == f"127.0.0.1:{demo.port}"
    assert run.local is not None and run.local.startswith("127.0.0.1:")
    assert run.rcvbuf is not None and run.rcvbuf > 0


def test_a_failed_fetch_has_no_body_phase(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"))
    running = fetch_now(server.url("/"))
    phases = running.fetch.run.phases
    assert phases.header_ns is not None and phases.body_ns is None
    assert phases.line().endswith("transfer —")


# -- sampling -------------------------------------------------------------------------------


class StepClock:
    """A nanosecond clock that advances 1 us a reading: 20,000 readings a report slice."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        self.now += 1000
        return self.now


@linux_only
def test_no_delay_samples_once_per_report_slice_not_per_recv(demo: DemoServer) -> None:
    running = fetch_now(demo.url("/bytes/2000000?pace=0"), bufsize=512, clock=StepClock())
    run = running.fetch.run
    assert len(run.log) > 3000
    # One sample before the first recv, one when the slice of 20,000 clock readings ends.
    assert 1 <= len(run.kernel) <= 1 + len(run.log) // 20_000 + 1
    assert run.kernel.index[0] == 0


def _delayed_until(url: str, condition, **options: object) -> Run:  # type: ignore[no-untyped-def]
    """Fetch with the delay on until `condition(run)` holds, then cancel; the run."""
    running = start(url, delay=DelaySwitch(0.25, enabled=True), **options)
    run = running.fetch.run
    try:
        wait_for(lambda: condition(run) or running.done.is_set(), "the samples", HANG_LIMIT)
    finally:
        running.fetch.cancel()
        running.join()
    return run


@linux_only
def test_with_the_delay_the_queue_fills_and_the_window_closes(demo: DemoServer) -> None:
    def seen(run: Run) -> bool:
        kernel = run.kernel
        count = len(kernel)
        has_window = any(kernel.rcv_wnd[i] != ABSENT for i in range(count))
        closed = not has_window or any(kernel.rcv_wnd[i] == 0 for i in range(count))
        return any(kernel.queued[i] > 0 for i in range(count)) and closed

    run = _delayed_until(demo.url("/bytes/400000"), seen)
    kernel = run.kernel
    assert seen(run)
    # With the delay, a sample before every recv but the first few.
    assert len(kernel) >= len(run.log) - 1
    assert any(q > 0 for q in kernel.queued)
    if all(w == ABSENT for w in kernel.rcv_wnd):
        pytest.skip("this kernel has no tcpi_rcv_wnd (Linux < 6.2)")
    assert 0 in kernel.rcv_wnd
    assert run.window_closed(kernel.index[list(kernel.rcv_wnd).index(0)])


@linux_only
def test_a_small_rcvbuf_makes_short_recvs_with_the_delay(demo: DemoServer) -> None:
    def short(run: Run) -> bool:
        sizes = run.log.sizes
        return len(sizes) > 3 and any(s < 5120 for s in sizes[1:-1])

    run = _delayed_until(demo.url("/bytes/60000"), short, rcvbuf=4096)
    assert run.rcvbuf_asked == 4096
    assert run.rcvbuf is not None and run.rcvbuf >= 4096  # Linux grants twice the ask
    assert short(run)
    assert max(run.kernel.queued) < 5120 * 2


@linux_only
def test_a_plain_connection_has_no_tcp_info_but_a_queue() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc")
        a.shutdown(socket.SHUT_WR)
        running = start("http://127.0.0.1:1/", connected=b)
        running.join()
    run = running.fetch.run
    assert run.kernel.queued[0] > 0
    assert set(run.kernel.rcv_wnd) == {ABSENT}
    assert run.phases.dns_ns is None and run.phases.connect_ns is None


def test_elsewhere_than_linux_the_run_says_why(demo: DemoServer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(fetch_module, "KERNEL_VIEW", False)
    run = fetch_now(demo.url("/bytes/1000")).fetch.run
    assert len(run.kernel) == 0
    assert run.kernel_note is not None and "not available" in run.kernel_note
    assert run.csv_text().splitlines()[1].endswith(",,")


def test_plain_summary_has_the_phases_and_the_connection(demo: DemoServer, capsys) -> None:  # type: ignore[no-untyped-def]
    from sockview.cli import main

    assert main([demo.url("/bytes/1000"), "--plain", "--rcvbuf", "4096"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[1].startswith("sockview: dns ") and "tls —" in err[1]
    assert err[2].startswith("sockview: 127.0.0.1:") and f"→ 127.0.0.1:{demo.port} · IPv4" in err[2]
    assert "(asked 4096)" in err[2] or sys.platform != "linux"
