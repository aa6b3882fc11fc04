"""The sockview app: URL input, live recv table, header panel, sparkline and status line.

Threads: `Fetch.perform` blocks on a Textual thread worker, filling the fetch's `Run`;
its listener only posts `FetchUpdate` messages, tagged with the fetch's number so that
whatever a cancelled fetch still says is dropped. The UI never draws per message: the
messages only record how many rows exist, and a timer redraws the table, sparkline and
status line at most `REFRESH_RATE` times a second (less often on a fast link, see
`draw_interval`), reading the rows and every figure straight from the `Run`. That keeps
the UI thread, which shares the GIL with the recv loop, nearly idle however fast the
link is.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
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
from sockview.core.request import METHODS, RequestStyle
from sockview.core.run import RATE_WINDOW_NS, FetchState, Run, RunSource
from sockview.core.runfile import RunFileError, default_run_name, dump_run, write_run
from sockview.core.sample_image import sample_png
from sockview.core.save import (
    SaveError,
    destination,
    name_for_status,
    partial_name,
    safe_name,
    save_file,
)
from sockview.core.text import visible
from sockview.core.url import Target, UrlError, parse_url, resolve_location
from sockview.core.wire import WireBody, WireStore
from sockview.settings import STYLE_WORDS, Settings, delay_words
from sockview.ui.commands import ActionsProvider
from sockview.ui.download import send_download
from sockview.ui.messages import FetchUpdate, SaveDone
from sockview.ui.screens.compare import CompareScreen
from sockview.ui.screens.help import HelpScreen, key_rows
from sockview.ui.screens.preview import PreviewScreen
from sockview.ui.screens.runs import RunsScreen
from sockview.ui.screens.settings import SettingsScreen
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
RCVBUF_CHOICES: tuple[int | None, ...] = (None, 4096, 16384, 65536)
"""What the k key offers for the next fetch's SO_RCVBUF (None: the system's default)."""
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

    BINDINGS: ClassVar[list[BindingType]] = [
        # Help and Quit first: a narrow terminal cuts the footer on the right.
        Binding(
            "question_mark",
            "help",
            "Help",
            key_display="?",
            tooltip="The keys, and what the screen shows",
            id="help",
        ),
        Binding("f1", "help", "Help", tooltip="The keys, and what the screen shows", id="help-f1"),
        Binding("q", "quit_app", "Quit", tooltip="Leave sockview", id="quit"),
        Binding(
            "d",
            "toggle_delay",
            "Delay",
            tooltip="Pause after each recv, or stop pausing; applies at the next recv",
            id="toggle-delay",
        ),
        Binding(
            "s",
            "save",
            "Save",
            tooltip="Save the body now under a safe name (never overwrites)",
            id="save",
        ),
        Binding("S", "save_as", "Save as", tooltip="Choose where to save the body", id="save-as"),
        Binding("c", "cancel", "Cancel", tooltip="Stop the running fetch", id="cancel"),
        Binding("r", "refetch", "Again", tooltip="Fetch the same URL again", id="refetch"),
        Binding(
            "t",
            "toggle_request",
            "Request",
            tooltip="Show the exact request bytes, or the response header",
            id="toggle-request",
        ),
        Binding(
            "k",
            "next_rcvbuf",
            "Rcvbuf",
            tooltip="The receive buffer (SO_RCVBUF) to ask for in the next fetch",
            id="next-rcvbuf",
        ),
        Binding(
            "b",
            "preview",
            "Body",
            tooltip="Show the body: a picture, text, or hex",
            id="preview",
        ),
        Binding("u", "focus_url", "URL", tooltip="Type another URL", id="focus-url"),
        Binding(
            "e",
            "record",
            "Record",
            tooltip="Write this run to a run file, to replay or compare later",
            id="record",
        ),
        Binding("l", "runs", "Runs", tooltip="This session's runs; compare two", id="runs"),
        Binding(
            "space",
            "replay_pause",
            "Pause",
            tooltip="Pause or resume the replay",
            id="replay-pause",
        ),
        Binding(
            "plus,equals_sign",
            "replay_speed(2)",
            "Faster",
            tooltip="Replay faster (up to x64)",
            id="replay-faster",
            key_display="+",
        ),
        Binding(
            "minus",
            "replay_speed(0.5)",
            "Slower",
            tooltip="Replay slower (down to x0.25)",
            id="replay-slower",
            key_display="-",
        ),
        Binding(
            "end",
            "replay_end",
            "To the end",
            show=False,
            priority=True,
            tooltip="Show the rest of the replay at once",
            id="replay-end",
        ),
        Binding(
            "D",
            "demo",
            "Demo",
            show=False,  # the first screen and the URL input say how to start it
            tooltip="Fetch the demo picture from sockview's own server (offline)",
            id="demo",
        ),
        Binding(
            "f",
            "follow",
            "Follow",
            show=False,  # the status line names it, when the response is a redirect
            tooltip="After a redirect (3xx with Location): fetch where it points",
            id="follow",
        ),
        Binding(
            "o",
            "settings",
            "Settings",
            tooltip="Bufsize, request, method, headers, TLS check, delay: for the next fetch",
            id="settings",
        ),
        Binding(
            "i",
            "insecure_retry",
            "Unverified",
            show=False,  # the failure's line names it, when it applies
            tooltip="After a certificate error: fetch again without verifying (unsafe)",
            id="insecure-retry",
        ),
        Binding(
            "escape",
            "cancel",
            "Cancel",
            show=False,
            tooltip="Stop the running fetch",
            id="cancel-escape",
        ),
    ]

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
        if self._quitting:
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
        run, rows = self.current_run, self.rows
        head = run.head if run is not None else None
        status = FetchStatus(
            state=self.fetch_state,
            total=run.log.totals[rows - 1] if run is not None and rows else 0,
            recvs=rows,
            body_bytes=run.body_bytes(rows, self._body_stored) if run is not None else 0,
            content_length=head.content_length if head is not None else None,
            rate=run.rate(rows, RATE_WINDOW_NS if self.fetch_state.running else None)
            if run is not None
            else None,
            quiet=self._quiet_seconds(),
            settings=self.settings.describe(run.bufsize if run is not None else None),
            redirect=self._redirect_words(run),
            reason=self._reason(run),
            http_status=head.status if head is not None else None,
            http_reason=head.reason if head is not None else "",
            window_closed=run.window_closed(rows) if run is not None else False,
            rcvbuf=self.options.rcvbuf,
        )
        if run is not None and run.replayed:
            # The delay as it was recorded, not the switch of this session.
            change = run.delay_at(max(rows - 1, 0))
            if change is not None:
                status = replace(
                    status,
                    settings=f"{delay_words(change.enabled, change.seconds)}"
                    f" · bufsize {run.bufsize}",
                )
            status = replace(status, replay=self._replay_words(run))
        if status != self._last_status:
            self._last_status = status
            self.query_one(StatusBar).show_status(status)

    def _replay_words(self, run: Run) -> str:
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.started_at))
        words = f"replay of {Path(run.recorded_from or '').name}, recorded {started}"
        replay = self.replay
        if replay is not None and replay.run is run and self.fetch_state.running:
            words += " · paused" if replay.paused else f" · x{replay.speed:g}"
        return words

    def _redirect_words(self, run: Run | None) -> str | None:
        """`302 → /other (f: follow)` once a redirect's head has come."""
        location = run.location if run is not None else None
        if run is None or location is None or run.head is None:
            return None
        shown = location if len(location) <= 60 else location[:59] + "…"
        key = " (f: follow)" if self.fetch_state == FetchState.DONE else ""
        return f"{run.head.status} → {shown}{key}"

    def _reason(self, run: Run | None) -> str | None:
        """Why the run failed; after a refused certificate, with the key that retries."""
        if run is None or run.reason is None:
            return None
        if self._certificate_refused() and not self.options.insecure:
            return f"{run.reason} · i: fetch again without verifying"
        return run.reason

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
            self.notify(f"{self._not_kept()}: nothing to save.", markup=False)
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
        body = fetch.run.body
        if not isinstance(body, ReadableBody):
            self.post_message(SaveDone(None, "this run's body was not kept: nothing to save"))
            return
        try:
            saved = save_file(body.copy_to, folder, name, partial=partial, typed=typed)
        except SaveError as exc:
            self.post_message(SaveDone(None, str(exc)))
        except (OSError, ValueError) as exc:
            self.post_message(SaveDone(None, f"saving failed: {exc}; nothing was written"))
        else:
            self.post_message(SaveDone(saved))

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
        saved = message.saved
        if saved is None:
            self.notify(
                visible(message.error or "saving failed"),
                title="Not saved",
                severity="error",
                markup=False,
            )
            return
        if message.run_file:
            self.notify(
                f"Recorded the run to {visible(str(saved.path))}", title="Recorded", markup=False
            )
            return
        described = visible(saved.describe(thousands=True))
        self.notify(described[0].upper() + described[1:], title="Saved", markup=False)

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
        try:
            saved = write_run(run, chosen, with_body=self.settings.record_body)
        except (SaveError, RunFileError) as exc:
            self.post_message(SaveDone(None, str(exc), run_file=True))
        except (OSError, ValueError) as exc:
            self.post_message(SaveDone(None, f"recording failed: {exc}", run_file=True))
        else:
            self.post_message(SaveDone(saved, run_file=True))

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
            self.notify(f"{self._not_kept()}: nothing to show.", markup=False)
            return
        self.push_screen(PreviewScreen(run))

    # -- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        running = self.fetch_state.running
        if self.inspecting or isinstance(self.screen, PreviewScreen):
            # Those screens have their own keys; the main view's wait until they close.
            return action == "quit_app"
        if action == "cancel":
            return True if running else None
        if action in ("save", "save_as"):
            # Live for the whole fetch, not from the header on: the footer would rebuild
            # itself mid-fetch. Before the header, the key says there is nothing yet.
            return (
                True
                if running or (self.current_run is not None and self.current_run.head)
                else None
            )
        if action == "refetch":
            return True if self.target is not None else None
        if action == "follow":
            run = self.current_run
            done = self.fetch_state == FetchState.DONE
            return True if done and run is not None and run.location else None
        if action == "insecure_retry":
            return True if self._certificate_refused() and not self.options.insecure else None
        if action == "preview":
            return True if self.current_run is not None else None
        if action == "toggle_request":
            return True if self.fetch is not None else None
        if action == "record":
            return True if self.current_run is not None and not running else None
        if action in ("replay_pause", "replay_speed", "replay_end"):
            # Hidden outside a replay; End then moves the table, as always.
            return running if self.replay is not None else False
        if action == "toggle_delay" and self.replay is not None:
            return None  # a replay shows the delay as it was recorded
        return True

    def watch_fetch_state(self, old: FetchState, new: FetchState) -> None:
        self._show_status()
        # Only a start or an end changes which keys apply (connecting -> receiving does
        # not): the footer rebuilds itself on every refresh, which a fast fetch feels.
        if old.running != new.running:
            self.refresh_bindings()

    def action_toggle_delay(self) -> None:
        on = self.delay.toggle()
        self._show_status()
        self.notify(
            f"Delay {'on' if on else 'off'}: {self.delay.seconds:g} s after each recv"
            if on
            else "Delay off: recv as fast as the data comes",
            timeout=2,
            markup=False,
        )

    def action_next_rcvbuf(self) -> None:
        choices = RCVBUF_CHOICES
        now = self.options.rcvbuf
        after = choices[(choices.index(now) + 1) % len(choices)] if now in choices else None
        self.settings.options = replace(self.options, rcvbuf=after)
        self._show_status()
        self.notify(
            f"Next fetch asks for a {after}-byte receive buffer (the kernel grants about twice)"
            if after is not None
            else "Next fetch uses the system's receive buffer",
            timeout=2,
            markup=False,
        )

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
                    f"{self._not_kept()}: the run file holds sizes and times only.", markup=False
                )
            self.record_run(run, self.settings.record)

    def _not_kept(self) -> str:
        """`The body was not kept (--no-keep)`: why s, S, b and e have no body."""
        return "The body was not kept" + ("" if self.settings.keep else " (--no-keep)")

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

    def setting_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """The palette's commands for the settings: (name, help, what it does)."""
        options = self.options
        commands: list[tuple[str, str, Callable[[], object]]] = []
        for style, words in STYLE_WORDS.items():
            if style is not options.style and not (
                style is RequestStyle.BOOK and options.method != "GET"
            ):
                commands.append(
                    (
                        f"Request: {words}",
                        "Send this request from the next fetch on",
                        partial(self.change_options, style=style),
                    )
                )
        for method in METHODS:
            if method != options.method and options.style is not RequestStyle.BOOK:
                commands.append(
                    (
                        f"Method: {method}",
                        "Use this method from the next fetch on",
                        partial(self.change_options, method=method),
                    )
                )
        commands.append(
            (
                "TLS: verify certificates"
                if options.insecure
                else "TLS: do not verify certificates",
                "From the next fetch on (not verifying is unsafe)",
                partial(self.change_options, insecure=not options.insecure),
            )
        )
        return commands

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
        if self.target is None or not self._certificate_refused():
            return
        self.settings.options = replace(self.options, insecure=True)
        self.notify(
            "Fetching again WITHOUT verifying the TLS certificate: anyone on the way can read"
            " or change this response. The status line says so until you turn the check back"
            " on (o, or the palette).",
            title="Not verified",
            severity="warning",
            timeout=8,
            markup=False,
        )
        self.action_refetch()

    def _certificate_refused(self) -> bool:
        run = self.current_run
        return run is not None and isinstance(run.result, Failed) and run.result.certificate

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
    result = app.run()
    return result if isinstance(result, int) else (app.return_code or 0)
