"""What the app says in words: the status line's figures, and the notes its keys show.

Plain functions of a `Run`, the settings and the fetch's state, so that the app only
decides when to say something, and the wording lives in one place.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from sockview.core.replay import Replay
from sockview.core.run import RATE_WINDOW_NS, FetchState, Run
from sockview.settings import Settings, delay_words
from sockview.ui.keys import certificate_refused
from sockview.ui.widgets.status_bar import FetchStatus

INSECURE_RETRY_NOTE = (
    "Fetching again WITHOUT verifying the TLS certificate: anyone on the way can read"
    " or change this response. The status line says so until you turn the check back"
    " on (o, or the palette)."
)
"""What the i key says before it fetches again without verifying."""


def fetch_status(
    run: Run | None,
    rows: int,
    state: FetchState,
    *,
    body_stored: int,
    quiet: int | None,
    settings: Settings,
    replay: Replay | None,
) -> FetchStatus:
    """The status line for the first `rows` recvs of `run` (the rows shown so far)."""
    head = run.head if run is not None else None
    status = FetchStatus(
        state=state,
        total=run.log.totals[rows - 1] if run is not None and rows else 0,
        recvs=rows,
        body_bytes=run.body_bytes(rows, body_stored) if run is not None else 0,
        content_length=head.content_length if head is not None else None,
        rate=run.rate(rows, RATE_WINDOW_NS if state.running else None) if run is not None else None,
        quiet=quiet,
        settings=settings.describe(run.bufsize if run is not None else None),
        redirect=redirect_words(run, done=state == FetchState.DONE),
        reason=failure_words(
            run, retry_key=certificate_refused(run) and not settings.options.insecure
        ),
        http_status=head.status if head is not None else None,
        http_reason=head.reason if head is not None else "",
        window_closed=run.window_closed(rows) if run is not None else False,
        rcvbuf=settings.options.rcvbuf,
    )
    if run is not None and run.replayed:
        # The delay as it was recorded, not the switch of this session.
        change = run.delay_at(max(rows - 1, 0))
        if change is not None:
            status = replace(
                status,
                settings=f"{delay_words(change.enabled, change.seconds)} · bufsize {run.bufsize}",
            )
        status = replace(status, replay=replay_words(run, replay, running=state.running))
    return status


def replay_words(run: Run, replay: Replay | None, *, running: bool) -> str:
    """`replay of a.run, recorded 2026-01-02 03:04 UTC · x2` (or `· paused`)."""
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.started_at))
    words = f"replay of {Path(run.recorded_from or '').name}, recorded {started}"
    if replay is not None and replay.run is run and running:
        words += " · paused" if replay.paused else f" · x{replay.speed:g}"
    return words


def redirect_words(run: Run | None, *, done: bool) -> str | None:
    """`302 → /other (f: follow)` once a redirect's head has come."""
    location = run.location if run is not None else None
    if run is None or location is None or run.head is None:
        return None
    shown = location if len(location) <= 60 else location[:59] + "…"
    key = " (f: follow)" if done else ""
    return f"{run.head.status} → {shown}{key}"


def failure_words(run: Run | None, *, retry_key: bool) -> str | None:
    """Why the run failed; after a refused certificate, with the key that retries."""
    if run is None or run.reason is None:
        return None
    if retry_key:
        return f"{run.reason} · i: fetch again without verifying"
    return run.reason


def delay_note(on: bool, seconds: float) -> str:
    """What the d key says once it has switched the delay."""
    if on:
        return f"Delay on: {seconds:g} s after each recv"
    return "Delay off: recv as fast as the data comes"


def rcvbuf_note(after: int | None) -> str:
    """What the k key says once it has chosen the next fetch's receive buffer."""
    if after is not None:
        return f"Next fetch asks for a {after}-byte receive buffer (the kernel grants about twice)"
    return "Next fetch uses the system's receive buffer"


def not_kept(keep: bool) -> str:
    """`The body was not kept (--no-keep)`: why s, S, b and e have no body."""
    return "The body was not kept" + ("" if keep else " (--no-keep)")
