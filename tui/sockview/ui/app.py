"""The sockview app: URL input, live recv table, header panel, sparkline and status line.

Threads: `Fetch.perform` blocks on a Textual thread worker, filling the fetch's `Run`;
its listener only posts `FetchUpdate` messages, tagged with the fetch's number so that
whatever a cancelled fetch still says is dropped. The UI never draws per message: the
messages only record how many rows exist, and a timer redraws the table, sparkline and
status line at most `REFRESH_RATE` times a second (less often on a fast link, see
`draw_interval`), reading the rows and every figure straight from the `Run`. That keeps
the UI thread, which shares the GIL with the recv loop, nearly idle however fast the
link is.

This module composes the view and wires fetches, messages and keys together. Which keys
exist and when they apply live in `keys`, the status line's words and the keys' notes in
`status_words`, the save workers' bodies in `saving`, the palette in `commands`.
"""

from __future__ import annotations

import asyncio
import gc
import os
import select
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

from sockview.core.body import DiscardBody, ReadableBody
from sockview.core.demo import DemoServer
from sockview.core.events import (
    ChunksReceived,
    Connected,
    Event,
    Failed,
    Finished,
    HeadersComplete,
    InterimResponse,
    RequestSent,
)
from sockview.core.fetch import Fetch, FetchOptions
from sockview.core.replay import Replay
from sockview.core.run import FetchState, Run, RunSource
from sockview.core.runfile import default_run_name, dump_run
from sockview.core.sample_image import sample_png
from sockview.core.save import destination, name_for_status, partial_name, safe_name
from sockview.core.text import visible
from sockview.core.url import Target, UrlError, parse_url, resolve_location
from sockview.core.wire import WireBody, WireStore
from sockview.plain import Signalled
from sockview.settings import Settings
from sockview.ui.commands import ActionsProvider
from sockview.ui.download import send_download
from sockview.ui.keys import BINDINGS, certificate_refused, key_applies, next_rcvbuf
from sockview.ui.messages import FetchUpdate, SaveDone
from sockview.ui.saving import record_run_file, save_body, saved_note
from sockview.ui.screens.compare import CompareScreen
from sockview.ui.screens.help import HelpScreen, key_rows
from sockview.ui.screens.preview import PreviewScreen
from sockview.ui.screens.runs import RunsScreen
from sockview.ui.screens.settings import SettingsScreen
from sockview.ui.status_words import (
    INSECURE_RETRY_NOTE,
    delay_note,
    fetch_status,
    not_kept,
    rcvbuf_note,
)
from sockview.ui.widgets.chunk_sparkline import ChunkSparkline
from sockview.ui.widgets.header_panel import HeaderPanel
from sockview.ui.widgets.inspector import Inspector
from sockview.ui.widgets.kernel_plot import KernelPlot
from sockview.ui.widgets.key_footer import KeyFooter
from sockview.ui.widgets.phases_bar import PhasesBar
from sockview.ui.widgets.recv_table import RecvTable
from sockview.ui.widgets.save_dialog import SaveDialog
from sockview.ui.widgets.status_bar import FetchStatus, StatusBar
from sockview.ui.widgets.url_input import UrlInput

REFRESH_RATE = 15
"""Redraws a second of the table, sparkline and status line while a fetch runs."""
START_DELAY = 0.25
"""Seconds between the start of a fetch in the UI and the start of its recv loop."""
ROWS_PER_SECOND_FOR_ONE_DRAW = 50_000
"""How fast a link must be for the app to redraw only once a second (see `draw_interval`)."""


def draw_interval(rows_per_second: float) -> float:
    """Seconds between redraws while recvs come at this rate.

    A slow link is drawn REFRESH_RATE times a second. A fast one is drawn less often:
    the recv loop is then bound by the CPU, it shares the GIL with the UI, and a frame
    costs Textual 10-20 ms, so at full rate the app would slow the very loop it shows.
    At 50,000 recvs a second (250 MB/s at bufsize 5120) it draws once a second. Keys
    are not slowed down by this: they redraw what they change at once.
    """
    return min(1.0, max(1 / REFRESH_RATE, rows_per_second / ROWS_PER_SECOND_FOR_ONE_DRAW))


NARROW = 80
"""Below this many columns the layout stacks and the footer is compact."""
MAX_RUNS = 20
"""Runs of this session that the app keeps (for the runs list and compare)."""
QUIET_AFTER = 2.0
"""Seconds without data (beyond our own delay) before the status line says so."""


class SockviewApp(App[int]):
    """Fetch a URL over a raw socket and show every recv() live."""

    CSS_PATH = Path(__file__).parent / "sockview.tcss"
    TITLE = "sockview"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    """A tall terminal gives the sparkline room for a finer scale."""
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW, "-wide")]
    """A narrow terminal stacks the table over the header panel."""

    BINDINGS: ClassVar[list[BindingType]] = BINDINGS
    """The main view's keys (`sockview.ui.keys`)."""

    fetch_state: reactive[FetchState] = reactive(FetchState.IDLE)
    """The current run's state, as the app last showed it."""

    def __init__(
        self,
        settings: Settings,
        demo: DemoServer | None = None,
        *,
        replay: Run | None = None,
        compare: list[Run] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.delay = settings.delay
        self.demo = demo
        self.target: Target | None = settings.target
        self.fetch: RunSource | None = None
        """The current fetch (or replay): the one whose messages are shown."""
        self.replay: Replay | None = None
        """The current fetch when it is a replay."""
        self.recorded: Run | None = replay
        """The recorded run that `r` plays again, in a replay."""
        self.compare_runs = compare or []
        """Runs from files to compare at start (--compare)."""
        self.runs: list[Run] = []
        """This session's runs, oldest first (at most `MAX_RUNS`)."""
        self.fetch_id = 0
        self._inspecting = False
        self._retired: dict[int, RunSource] = {}
        """Fetches replaced while still running; their bodies close when they end."""
        self.rows = 0
        """Recvs of the current run that the app knows of (and has shown, or will)."""
        self._body_stored = 0
        """The body store's size at the last row message (the store may be mid-write)."""
        self.quiet_after = QUIET_AFTER
        self._rows_seen = -1
        self._data_at = 0.0
        """When the UI last saw a new row (monotonic seconds)."""
        self._shown_rows = -1
        self._last_status: FetchStatus | None = None
        self._ticker: Timer | None = None
        self._drawn_at = 0.0
        self._launch: Timer | None = None
        self._quitting = False
        self._own_demo: DemoServer | None = None
        """The demo server the app started itself (the CLI stops the one it gives)."""
        self.exit_on_signals = False
        """Leave on SIGTERM and SIGHUP (`run_app` sets it; a test's app leaves them be)."""
        self.signalled: int | None = None
        """The signal the app left on, if it did."""

    @property
    def options(self) -> FetchOptions:
        """The fetch options of the next fetch (the settings screen changes them)."""
        return self.settings.options

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield UrlInput(
            placeholder="URL, then Enter · Enter alone: the demo (offline)",
            id="url",
            compact=True,
        )
        yield PhasesBar(id="phases")
        with Horizontal(id="main"):
            yield RecvTable(id="recvs")
            with Vertical(id="side"):
                yield HeaderPanel(id="head")
                yield ChunkSparkline(id="sizes")
                yield KernelPlot(id="kernel")
        yield Inspector(id="inspector")
        yield StatusBar(id="status")
        yield KeyFooter(id="keys")

    def on_mount(self) -> None:
        if self.exit_on_signals:
            self._catch_terminating_signals()
        self.call_after_refresh(self._settle_memory)
        # The time column counts from the moment the connection was up.
        self.query_one(RecvTable).border_title = "recv() calls · ms since connect"
        self.query_one(ChunkSparkline).show_log(None, self.options.bufsize)
        self._ticker = self.set_interval(1 / REFRESH_RATE, self._refresh_view, pause=True)
        self._show_status()
        if self.recorded is not None:
            self.query_one("#url", Input).value = self.recorded.target.url
            self.start_replay(self.recorded)
        elif self.compare_runs:
            self.push_screen(CompareScreen(self.compare_runs))
        elif self.target is not None:
            self.query_one("#url", Input).value = self.target.url
            self.start_fetch(self.target)
        else:
            self.query_one(HeaderPanel).show_welcome()
            self.query_one("#url", Input).focus()

    def _catch_terminating_signals(self) -> None:
        # Textual leaves SIGTERM and SIGHUP at their default, which kills the process in
        # the alternate screen with mouse reporting on and the tty raw. Leave as q does.
        # A SIGTERM that we were started with ignored stays ignored. SIGHUP is caught even
        # then (`nohup sockview`): an app whose terminal has gone cannot go on, and
        # Textual's exit would hang on its writer (see exit_on_signal).
        loop = asyncio.get_running_loop()
        for name in ("SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number == signal.SIGTERM and signal.getsignal(number) is signal.SIG_IGN:
                continue
            if number is not None:
                # The loop's close() puts the default back, so a signal after that kills.
                loop.add_signal_handler(number, self.exit_on_signal, number)

    def exit_on_signal(self, signum: int) -> None:
        """Cancel every fetch and leave, restoring the terminal; status 128 + `signum`."""
        if self.signalled is None:
            self.signalled = signum
            self.stop_fetches()
            if _terminal_gone():
                # A hung-up tty fails Textual's writes, and its exit then waits forever on
                # its writer thread. There is no terminal left to restore, and the stores
                # are unlinked temporary files: leave at once.
                os._exit(Signalled(signum).status)
            self.exit(Signalled(signum).status)

    def _settle_memory(self) -> None:
        """Collect once, then exempt all that is alive (the widgets, their styles, the CSS)
        from later garbage collections. A full collection then took 8 ms instead of 25 to
        41, and a key's frame could wait for one (tests/bench, goal 6)."""
        gc.collect()
        gc.freeze()

    # -- fetching -----------------------------------------------------------------------

    def start_fetch(self, target: Target) -> None:
        """Fetch `target`, cancelling the fetch that runs now, if any."""
        # The app draws at most REFRESH_RATE times a second: more row messages than that
        # would only wake the UI thread, which shares the GIL with the recv loop.
        options = replace(
            self.options, emit_interval=max(self.options.emit_interval, 1 / REFRESH_RATE)
        )
        if not self.settings.keep:  # --no-keep: plain mode's loop, one buffer written over
            self._start(Fetch(target, options, delay=self.delay, body=DiscardBody()))
            return
        # The raw stream is kept for the inspector; a counted body is a slice of it.
        wire = WireStore()
        self._start(Fetch(target, options, delay=self.delay, body=WireBody(wire), wire=wire))

    def start_replay(self, recorded: Run) -> None:
        """Play `recorded` at its pace (`settings.speed`), stopping what runs now, if any."""
        self.recorded = recorded
        self._start(Replay(recorded, speed=self.settings.speed))

    def _start(self, fetch: RunSource) -> None:
        self._retire_current()
        self.fetch_id += 1
        fetch_id = self.fetch_id

        def post(event: Event) -> None:
            # Runs on the worker thread: post, and nothing else.
            self.post_message(FetchUpdate(fetch_id, event))

        fetch.listener = post
        self.fetch = fetch
        self.target = fetch.run.target
        self.replay = fetch if isinstance(fetch, Replay) else None
        if self.replay is None:
            self.query_one(UrlInput).remember(fetch.run.target.url)
        self._keep(fetch.run)
        self.rows = self._body_stored = 0
        self._rows_seen = -1
        self._shown_rows = -1
        bufsize = fetch.run.bufsize
        self.query_one(RecvTable).show_log(fetch.run.log, bufsize, fetch.run.kernel)
        self.query_one(ChunkSparkline).show_log(fetch.run.log, bufsize)
        self.query_one(HeaderPanel).reset()
        self._show_kernel()
        self.fetch_state = FetchState.CONNECTING
        self._show_status()
        self.query_one(RecvTable).focus()
        if self._ticker is not None:
            self._ticker.resume()
        # The footer rebuilds itself for the new keys (about 50 ms of CPU, more while the
        # app starts): let it, and the emptied table, draw before the recv loop starts to
        # share the GIL with them. (The demo server, in this process, shares it too.)
        self._launch = self.set_timer(START_DELAY, lambda: self._launch_fetch(fetch, fetch_id))

    @property
    def replaced_running(self) -> int:
        """Fetches replaced by a newer one that have not ended yet."""
        return len(self._retired)

    @property
    def current_run(self) -> Run | None:
        """The run on screen."""
        return self.fetch.run if self.fetch is not None else None

    def _keep(self, run: Run) -> None:
        """Add `run` to this session's runs; the oldest beyond `MAX_RUNS` are let go."""
        self.runs.append(run)
        del self.runs[:-MAX_RUNS]

    def _launch_fetch(self, fetch: RunSource, fetch_id: int) -> None:
        self._launch = None
        self._run_fetch(fetch, fetch_id)

    @work(thread=True, exclusive=True, group="fetch", exit_on_error=False)
    def _run_fetch(self, fetch: RunSource, fetch_id: int) -> None:
        try:
            fetch.perform()
        except Exception as exc:  # a bug in the core must not leave the UI "receiving"
            fetch.cancel()
            failure = Failed(
                reason=f"internal error: {exc!r}",
                total=fetch.run.log.total,
                recv_count=len(fetch.run.log),
                body_bytes=fetch.run.body.size,
                elapsed=0.0,
            )
            self.post_message(FetchUpdate(fetch_id, failure))

    def _retire_current(self) -> None:
        fetch = self.fetch
        if fetch is None:
            return
        if self._launch is not None:  # never started
            self._launch.stop()
            self._launch = None
            drop_body(fetch.run)
        elif fetch.result is None:
            fetch.cancel()
            self._retired[self.fetch_id] = fetch
        else:
            drop_body(fetch.run)
        self.fetch = None

    @on(FetchUpdate)
    def _on_fetch_update(self, message: FetchUpdate) -> None:
        event = message.event
        if self._quitting:
            return
        if message.fetch_id != self.fetch_id:
            # A replaced fetch talking: drop it, and free its body once it has ended.
            if isinstance(event, Finished | Failed):
                retired = self._retired.pop(message.fetch_id, None)
                if retired is not None:
                    drop_body(retired.run)
            return
        if isinstance(event, ChunksReceived):
            # The timer may have read further already (see `_refresh_view`): never go back.
            self.rows = max(self.rows, event.stop)
            self._body_stored = max(self._body_stored, event.body_bytes)
        elif isinstance(event, Connected):
            self.fetch_state = FetchState.RECEIVING
            self._show_kernel()
        elif isinstance(event, RequestSent):
            self.query_one(HeaderPanel).show_request(event.data)
        elif isinstance(event, InterimResponse):
            self.query_one(HeaderPanel).show_interim(event)
        elif isinstance(event, HeadersComplete):
            self.query_one(HeaderPanel).show_head(event)
            table = self.query_one(RecvTable)
            table.mark_head(event.head_index, event.header_length)
            if event.content_length is not None:
                table.expect_total(event.body_offset + event.content_length)
        elif isinstance(event, Finished | Failed):
            self._end(event)

    def _end(self, result: Finished | Failed) -> None:
        run = self.current_run
        if self.settings.record and run is not None and not run.replayed:
            self.record_run(run, self.settings.record)
        self.rows = result.recv_count
        self._body_stored = result.body_bytes
        if isinstance(result, Failed):
            if not result.cancelled:
                self.notify(
                    visible(result.reason), title="Fetch failed", severity="error", markup=False
                )
            self.fetch_state = FetchState.CANCELLED if result.cancelled else FetchState.FAILED
        else:
            self.fetch_state = FetchState.DONE
        if self.current_run is not None:
            self.query_one(HeaderPanel).show_totals(self.current_run.byte_parts())
        self._refresh_view()
        if self._ticker is not None:
            self._ticker.pause()

    def _refresh_view(self) -> None:
        """Bring the table, sparkline and status line up to the rows known now."""
        if self._quitting or not self.is_running:
            # Not while Textual takes the screens apart (its timers still tick meanwhile).
            return
        run = self.current_run
        if run is not None and self.fetch_state.running:
            # ChunksReceived comes at most once per emit interval (or from the fetch's
            # watchdog, once the server has been quiet for a moment): read further now.
            # The loop appends `sizes` last, so every row below its length is complete.
            self.rows = max(self.rows, len(run.log.sizes))
        rows = self.rows
        now = time.monotonic()
        if self.fetch_state.running and rows > self._shown_rows >= 0:
            since = now - self._drawn_at
            if since < draw_interval((rows - self._shown_rows) / max(since, 1e-3)):
                return
        self._drawn_at = now
        if rows != self._shown_rows:
            self._shown_rows = rows
            self.query_one(RecvTable).set_row_count(rows)
            self.query_one(ChunkSparkline).set_row_count(rows)
        self._show_kernel()
        self._show_status()

    def _show_kernel(self) -> None:
        """The phases bar and the kernel panel, from the run (at the table's bounded rate)."""
        run = self.current_run
        if (
            run is not None
            and run.sender is None
            and self.demo is not None
            and run.local
            and not run.replayed
        ):
            # Our own demo served this fetch: its figures for our connection, if it has them.
            run.sender = self.demo.sender_for(run.local)
        self.query_one(PhasesBar).show(run, self.rows)
        self.query_one(KernelPlot).show(run, self.rows)

    def _quiet_seconds(self) -> int | None:
        """Whole seconds since the last new row, once that is more than `quiet_after`
        beyond our own delay; None while data flows (or before the first row)."""
        now = time.monotonic()
        if self.rows != self._rows_seen:
            self._rows_seen, self._data_at = self.rows, now
            return None
        if self.fetch_state != FetchState.RECEIVING or not self.rows:
            return None
        quiet = now - self._data_at
        return int(quiet) if quiet >= self.delay.allowance(self.quiet_after) else None

    def _show_status(self) -> None:
        status = fetch_status(
            self.current_run,
            self.rows,
            self.fetch_state,
            body_stored=self._body_stored,
            quiet=self._quiet_seconds(),
            settings=self.settings,
            replay=self.replay,
        )
        if status != self._last_status:
            self._last_status = status
            self.query_one(StatusBar).show_status(status)

    def _fail_early(self, reason: str) -> None:
        """A failure before any fetch started (a bad URL): say so, change nothing else."""
        self.notify(visible(reason), title="Cannot fetch", severity="error", markup=False)

    @on(Input.Submitted, "#url")
    def _url_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.action_demo()
            return
        try:
            target = parse_url(event.value)
        except UrlError as exc:
            self._fail_early(str(exc))
            return
        self.start_fetch(target)

    # -- saving -------------------------------------------------------------------------

    def save_to(self, chosen: str | None) -> None:
        """Save the body so far: to `chosen` (a file or folder), or by default to -o or cwd."""
        fetch = self.fetch
        head = fetch.run.head if fetch is not None else None
        if fetch is None or head is None:
            self.notify("Nothing to save yet: no response header has arrived.", markup=False)
            return
        run = fetch.run
        if not isinstance(run.body, ReadableBody):
            self.notify(f"{not_kept(self.settings.keep)}: nothing to save.", markup=False)
            return
        if self.is_web:  # --serve: the body goes to the browser, never onto the server's disk
            name = safe_name(Path(chosen).name) if chosen else run.default_name()
            name = name_for_status(name, head.status, run.content_type)
            self._send_body(fetch, name, partial=self.fetch_state != FetchState.DONE)
            return
        try:
            folder, name, typed = destination(chosen, run.default_name())
        except OSError as exc:
            self.notify(f"Cannot save there: {exc}", severity="error", markup=False)
            return
        name = name_for_status(name, head.status, run.content_type)
        partial = self.fetch_state != FetchState.DONE
        self._save_body(fetch, folder, name, partial=partial, typed=typed)

    @work(thread=True, group="save", exit_on_error=False)
    def _save_body(
        self, fetch: RunSource, folder: Path, name: str, partial: bool, typed: bool = False
    ) -> None:
        self.post_message(save_body(fetch.run.body, folder, name, partial=partial, typed=typed))

    @work(thread=True, group="save", exit_on_error=False)
    def _send_body(self, fetch: Fetch, name: str, partial: bool) -> None:
        body = fetch.body
        assert isinstance(body, ReadableBody)
        what = "partial body" if partial else "body"
        send_download(self, body.copy_to, partial_name(name) if partial else name, what)

    @on(SaveDone)
    def _on_save_done(self, message: SaveDone) -> None:
        if self._quitting:
            return
        text, title, severity = saved_note(message)
        self.notify(text, title=title, severity=severity, markup=False)

    def record_run(self, run: Run, chosen: str | None) -> None:
        """Write `run` to a run file at `chosen` (a file or folder; None: here), on a worker."""
        if self.is_web:  # --serve: the run file goes to the browser, as the body does
            self._send_run(run)
            return
        self._record(run, chosen)

    @work(thread=True, group="save", exit_on_error=False)
    def _send_run(self, run: Run) -> None:
        with_body = self.settings.record_body
        name = default_run_name(run)
        send_download(self, lambda out: dump_run(run, out, with_body=with_body), name, "run file")

    @work(thread=True, group="save", exit_on_error=False)
    def _record(self, run: Run, chosen: str | None) -> None:
        with_body = self.settings.record_body
        self.post_message(record_run_file(run, chosen, with_body=with_body))

    # -- looking inside ------------------------------------------------------------------

    @on(RecvTable.Chosen)
    def _inspect(self, message: RecvTable.Chosen) -> None:
        run = self.current_run
        if run is not None and message.index < len(run.log):
            self.inspect(run, message.index)

    @property
    def inspecting(self) -> bool:
        """Whether the inspector shows, in place of the main view."""
        return self._inspecting

    def inspect(self, run: Run, index: int) -> None:
        """Show recv `index` of `run` in the inspector, in place of the main view."""
        inspector = self.query_one(Inspector)
        # Shown in this screen rather than as a screen of its own: a screen switch
        # took 70 ms from key to screen in tmux, this a fraction (bench goal 13).
        with self.batch_update():
            for widget in self._main_view():
                widget.display = False
            inspector.display = True
            inspector.inspect(run, index)
        self._inspecting = True
        self.refresh_bindings()

    @on(Inspector.Closed)
    def _close_inspector(self) -> None:
        with self.batch_update():
            self.query_one(Inspector).display = False
            for widget in self._main_view():
                widget.display = True
            self.query_one(RecvTable).focus()
        self._inspecting = False
        self.refresh_bindings()

    def _main_view(self) -> list[Widget]:
        """What the inspector stands in place of (it has a footer of its own)."""
        return [self.query_one(name) for name in ("#url", "#phases", "#main", "#status", "#keys")]

    def action_preview(self) -> None:
        run = self.current_run
        if run is None or run.head is None:
            self.notify("No body yet: no response header has arrived.", markup=False)
            return
        if not isinstance(run.body, ReadableBody) and not run.replayed:
            self.notify(f"{not_kept(self.settings.keep)}: nothing to show.", markup=False)
            return
        self.push_screen(PreviewScreen(run))

    # -- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return key_applies(self, action)

    def watch_fetch_state(self, old: FetchState, new: FetchState) -> None:
        self._show_status()
        # Only a start or an end changes which keys apply (connecting -> receiving does
        # not): the footer rebuilds itself on every refresh, which a fast fetch feels.
        if old.running != new.running:
            self.refresh_bindings()

    def action_toggle_delay(self) -> None:
        on = self.delay.toggle()
        self._show_status()
        self.notify(delay_note(on, self.delay.seconds), timeout=2, markup=False)

    def action_next_rcvbuf(self) -> None:
        after = next_rcvbuf(self.options.rcvbuf)
        self.settings.options = replace(self.options, rcvbuf=after)
        self._show_status()
        self.notify(rcvbuf_note(after), timeout=2, markup=False)

    def action_save(self) -> None:
        self.save_to(self.settings.output)

    def action_save_as(self) -> None:
        run = self.current_run
        if run is None or run.head is None or not isinstance(run.body, ReadableBody):
            self.save_to(None)  # says why there is nothing to save
            return
        suggestion = self.settings.output or str(Path.cwd() / run.default_name())
        note = (
            ""
            if self.fetch_state == FetchState.DONE
            else "the body is incomplete: saved as partial"
        )

        def chosen(path: str | None) -> None:
            if path:
                self.save_to(path)

        self.push_screen(SaveDialog(suggestion, note), chosen)

    def action_cancel(self) -> None:
        if self.fetch is not None and self.fetch_state.running:
            self.fetch.cancel()

    def action_refetch(self) -> None:
        if self.replay is not None and self.recorded is not None:
            self.start_replay(self.recorded)
        elif self.target is not None:
            self.query_one("#url", Input).value = self.target.url
            self.start_fetch(self.target)

    def action_record(self) -> None:
        run = self.current_run
        if run is not None:
            if not isinstance(run.body, ReadableBody):
                self.notify(
                    f"{not_kept(self.settings.keep)}: the run file holds sizes and times only.",
                    markup=False,
                )
            self.record_run(run, self.settings.record)

    def action_runs(self) -> None:
        self.push_screen(RunsScreen(self.runs))

    def action_replay_pause(self) -> None:
        if self.replay is not None:
            self.replay.toggle_pause()
            self._show_status()

    def action_replay_speed(self, factor: float) -> None:
        if self.replay is not None:
            if factor > 1:
                self.replay.faster()
            else:
                self.replay.slower()
            self._show_status()

    def action_replay_end(self) -> None:
        if self.replay is not None:
            self.replay.skip_to_end()

    def action_toggle_request(self) -> None:
        self.query_one(HeaderPanel).toggle()

    def action_focus_url(self) -> None:
        self.query_one("#url", Input).focus()

    def action_leave_url(self) -> None:
        self.query_one(RecvTable).focus()

    def change_options(self, **changes: object) -> None:
        """Change the options of the next fetch (from the palette), and say so."""
        self.settings.options = replace(self.options, **changes)  # type: ignore[arg-type]
        self._show_status()
        self.notify(f"Next fetch: {self.settings.describe()}", timeout=3, markup=False)

    def action_settings(self) -> None:
        def closed(changed: bool | None) -> None:
            if changed:
                self.query_one(ChunkSparkline).show_log(
                    self.current_run.log if self.current_run else None,
                    self.current_run.bufsize if self.current_run else self.options.bufsize,
                )
                self._show_status()
                self.notify(f"Next fetch: {self.settings.describe()}", timeout=3, markup=False)

        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen(self.settings), closed)

    def action_demo(self) -> None:
        """Fetch the demo picture from the embedded server (started on first use)."""
        if self.demo is None:
            sample_png()  # drawn now, not under the first fetch's recv loop
            self.demo = DemoServer().start()
            self._own_demo = self.demo
        target = parse_url(self.demo.url("/cover.png"))
        self.query_one("#url", Input).value = target.url
        self.start_fetch(target)

    def action_follow(self) -> None:
        """One hop: fetch where the redirect points (the URL input shows it)."""
        run = self.current_run
        if run is None or run.location is None or self.fetch_state != FetchState.DONE:
            return
        try:
            target = resolve_location(run.target, run.location)
        except UrlError as exc:
            self._fail_early(str(exc))
            return
        self.query_one("#url", Input).value = target.url
        self.start_fetch(target)

    def action_insecure_retry(self) -> None:
        if self.target is None or not certificate_refused(self.current_run):
            return
        self.settings.options = replace(self.options, insecure=True)
        self.notify(
            INSECURE_RETRY_NOTE,
            title="Not verified",
            severity="warning",
            timeout=8,
            markup=False,
        )
        self.action_refetch()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(key_rows(self, self.BINDINGS, RecvTable.BINDINGS)))

    def action_quit_app(self) -> None:
        self.stop_fetches()
        self.exit(0)

    def stop_fetches(self) -> None:
        """Cancel every fetch; from here on what they still say is dropped."""
        # The widgets may be going.
        self._quitting = True
        for fetch in [self.fetch, *self._retired.values()]:
            if fetch is not None:
                fetch.cancel()

    def on_unmount(self) -> None:
        # Ctrl+Q and Ctrl+C end the app too: never leave a recv loop running behind it.
        self.stop_fetches()
        if self._own_demo is not None:
            self._own_demo.stop()


def _terminal_gone() -> bool:
    """Whether the terminal the app draws on has hung up (closed, or its session ended)."""
    stream = sys.__stderr__
    if stream is None:
        return False
    poller = select.poll()
    poller.register(stream.fileno(), 0)  # POLLHUP is always reported
    return any(events & select.POLLHUP for _, events in poller.poll(0))


def drop_body(run: Run) -> None:
    """Free the body of a run that is no longer on screen; its record stays in the runs
    list. A replay's body belongs to the recorded run it plays, which may play again."""
    if run.replayed or isinstance(run.body, DiscardBody):
        return
    dropped = DiscardBody()
    dropped.size = run.body.size
    run.body.close()
    run.body = dropped


def create_app(
    settings: Settings,
    demo: DemoServer | None = None,
    *,
    replay: Run | None = None,
    compare: list[Run] | None = None,
) -> SockviewApp:
    """The app as the command line runs it; tests build theirs here too."""
    return SockviewApp(settings, demo=demo, replay=replay, compare=compare)


def run_app(
    settings: Settings,
    demo: DemoServer | None = None,
    *,
    replay: Run | None = None,
    compare: list[Run] | None = None,
) -> int:
    if demo is not None:
        # The demo draws its picture on first use (about 0.2 s of CPU, under the GIL that
        # the recv loop shares): draw it now, so the first fetch's timings are the wire's.
        sample_png()
    app = create_app(settings, demo=demo, replay=replay, compare=compare)
    app.exit_on_signals = True
    result = app.run()
    if app.signalled is not None and sys.stderr is not None:
        sys.stderr.write(f"sockview: {Signalled(app.signalled).reason}\n")
    return result if isinstance(result, int) else (app.return_code or 0)
