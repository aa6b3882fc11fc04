"""The main view's keys: what each one is, and when it applies.

`BINDINGS` is the order of the footer, the help screen and the palette. `key_applies`
is the app's `check_action`: True shows a key live, None shows it dimmed (it does
nothing now), False hides it. Textual asks on every `refresh_bindings`, so it only
reads state, never computes figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType

from sockview.core.events import Failed
from sockview.core.run import FetchState, Run
from sockview.ui.screens.preview import PreviewScreen

if TYPE_CHECKING:
    from sockview.ui.app import SockviewApp

BINDINGS: list[BindingType] = [
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
"""The main view's keys, in the order the footer shows them."""

RCVBUF_CHOICES: tuple[int | None, ...] = (None, 4096, 16384, 65536)
"""What the k key offers for the next fetch's SO_RCVBUF (None: the system's default)."""


def next_rcvbuf(now: int | None) -> int | None:
    """The k key's choice after `now`; a size not offered goes back to the system's."""
    choices = RCVBUF_CHOICES
    return choices[(choices.index(now) + 1) % len(choices)] if now in choices else None


def certificate_refused(run: Run | None) -> bool:
    """Whether `run` failed on the server's certificate (the i key then applies)."""
    return run is not None and isinstance(run.result, Failed) and run.result.certificate


def key_applies(app: SockviewApp, action: str) -> bool | None:
    """Whether `action` applies now: True live, None dimmed, False hidden."""
    running = app.fetch_state.running
    if app.inspecting or isinstance(app.screen, PreviewScreen):
        # Those screens have their own keys; the main view's wait until they close.
        return action == "quit_app"
    if action == "cancel":
        return True if running else None
    if action in ("save", "save_as"):
        # Live for the whole fetch, not from the header on: the footer would rebuild
        # itself mid-fetch. Before the header, the key says there is nothing yet.
        return True if running or (app.current_run is not None and app.current_run.head) else None
    if action == "refetch":
        return True if app.target is not None else None
    if action == "follow":
        run = app.current_run
        done = app.fetch_state == FetchState.DONE
        return True if done and run is not None and run.location else None
    if action == "insecure_retry":
        return True if certificate_refused(app.current_run) and not app.options.insecure else None
    if action == "preview":
        return True if app.current_run is not None else None
    if action == "toggle_request":
        return True if app.fetch is not None else None
    if action == "record":
        return True if app.current_run is not None and not running else None
    if action in ("replay_pause", "replay_speed", "replay_end"):
        # Hidden outside a replay; End then moves the table, as always.
        return running if app.replay is not None else False
    if action == "toggle_delay" and app.replay is not None:
        return None  # a replay shows the delay as it was recorded
    return True
