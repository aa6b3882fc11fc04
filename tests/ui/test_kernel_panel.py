"""The kernel's side in the app: the queued column, the kernel panel, the status words,
the phases bar, the receive buffer key, and the demo sender's lane."""

from __future__ import annotations

from textual.app import App, ComposeResult

from sockview.core.demo import DemoServer
from sockview.core.kernel import KernelLog, decode_tcp_info
from sockview.core.records import RecvLog
from sockview.core.run import Run
from sockview.core.url import parse_url
from sockview.ui.app import create_app
from sockview.ui.widgets.kernel_plot import KernelPlot
from sockview.ui.widgets.recv_table import RecvTable
from sockview.ui.widgets.status_bar import FetchStatus, status_text

from .conftest import make_settings, screen_text, wait_for

ROWS = 200_000


def big_run() -> Run:
    """200,000 recvs of 5120 a microsecond apart, a kernel sample every 1000th."""
    run = Run(target=parse_url("http://127.0.0.1:8000/x"), bufsize=5120)
    log = RecvLog()
    log.times_ns.extend(range(1000, (ROWS + 1) * 1000, 1000))
    log.sizes.extend([5120] * ROWS)
    run.log = log
    run.kernel = KernelLog()
    window = decode_tcp_info(bytes(256))  # every field 0: the window closed
    for index in range(0, ROWS, 1000):
        run.kernel.append(index, index % 7000, window)
    run.phases.recv_origin_ns = 0
    return run


class PlotApp(App[None]):
    def compose(self) -> ComposeResult:
        yield KernelPlot()
        yield RecvTable()


async def test_the_plot_has_one_column_per_cell_not_one_point_per_recv() -> None:
    run = big_run()
    app = PlotApp()
    async with app.run_test(size=(60, 20)) as pilot:
        plot = app.query_one(KernelPlot)
        plot.show(run, ROWS)
        await pilot.pause()
        lines = plot.render_lanes(plot.content_region.width).plain.splitlines()
        assert [line.split()[0] for line in lines] == ["queued", "window", "rate"]
        for line in lines:
            assert len(line) <= plot.content_region.width
        assert lines[1].rstrip().endswith("0 B")  # the last sample's window
        assert "▁" in lines[1]  # a closed window draws a floor, not nothing


async def test_the_queued_column_shows_samples_and_blanks() -> None:
    run = big_run()
    app = PlotApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(RecvTable)
        table.show_log(run.log, 5120, run.kernel)
        table.set_row_count(ROWS)
        table.action_top()
        await pilot.pause()
        text = screen_text(app)
        assert "queued" in text
        row0 = next(line for line in text.splitlines() if line.strip().startswith("0 "))
        row1 = next(line for line in text.splitlines() if line.strip().startswith("1 "))
        assert row0.split()[4] == "0"  # sampled before recv 0: nothing queued
        assert len(row1.split()) == 4  # not sampled: blank, not 0


def test_status_words_for_a_closed_window() -> None:
    closed = status_text(FetchStatus(state="receiving", recvs=3, window_closed=True)).plain
    assert "receive buffer full: the sender is waiting for us" in closed
    assert "receive buffer" not in status_text(FetchStatus(state="receiving", recvs=3)).plain
    done = status_text(FetchStatus(state="done", recvs=3, window_closed=True)).plain
    assert "receive buffer" not in done
    assert "rcvbuf 4096" in status_text(FetchStatus(state="idle", rcvbuf=4096)).plain


async def test_delayed_fetch_shows_the_kernel_and_the_sender(demo: DemoServer) -> None:
    url = demo.url("/bytes/400000?sndbuf=8192")
    app = create_app(make_settings(url, delay_on=True, rcvbuf=4096), demo=demo)
    async with app.run_test(size=(120, 36)) as pilot:

        def stalled() -> bool:
            run = app.current_run
            return (
                run is not None
                and run.sender is not None
                and run.sender.blocked_ns > 0
                and run.window_closed(app.rows)
                and "receive buffer full" in screen_text(app)
            )

        await wait_for(pilot, stalled, "the window to close and the sender to stall")
        text = screen_text(app)
        assert "send blocked" in text
        assert "server " in text
        assert "dns " in text and "connect " in text and "first byte " in text
        assert "(asked 4096)" in text
        app.stop_fetches()


async def test_k_picks_the_next_fetchs_receive_buffer(demo: DemoServer) -> None:
    app = create_app(make_settings())
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_leave_url()
        await pilot.press("k")
        assert app.options.rcvbuf == 4096
        assert "rcvbuf 4096" in screen_text(app)
        app.start_fetch(parse_url(demo.url("/bytes/1000")))
        await wait_for(pilot, lambda: app.fetch_state == "done", "the fetch")
        run = app.current_run
        assert run is not None and run.rcvbuf_asked == 4096
        assert run.rcvbuf is not None and run.rcvbuf >= 4096
        for _ in range(3):
            await pilot.press("k")
        assert app.options.rcvbuf is None
