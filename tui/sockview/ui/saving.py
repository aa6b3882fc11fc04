"""What the save keys do off the UI thread: save a body, write a run file, and the note
each one ends with.

The app's workers call `save_body` and `record_run_file` and post the `SaveDone` they
return; `saved_note` is what the app then shows. Errors become that message's one line,
never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from textual.notifications import SeverityLevel

from sockview.core.body import BodySink, ReadableBody
from sockview.core.run import Run
from sockview.core.runfile import RunFileError, write_run
from sockview.core.save import SaveError, save_file
from sockview.core.text import visible
from sockview.ui.messages import SaveDone


def save_body(
    body: BodySink, folder: Path, name: str, *, partial: bool, typed: bool = False
) -> SaveDone:
    """Save `body` as `name` in `folder` (never over a file); call from a worker thread."""
    if not isinstance(body, ReadableBody):
        return SaveDone(None, "this run's body was not kept: nothing to save")
    try:
        saved = save_file(body.copy_to, folder, name, partial=partial, typed=typed)
    except SaveError as exc:
        return SaveDone(None, str(exc))
    except (OSError, ValueError) as exc:
        return SaveDone(None, f"saving failed: {exc}; nothing was written")
    return SaveDone(saved)


def record_run_file(run: Run, chosen: str | None, *, with_body: bool) -> SaveDone:
    """Write `run` to a run file at `chosen` (a file or folder; None: here); from a worker."""
    try:
        saved = write_run(run, chosen, with_body=with_body)
    except (SaveError, RunFileError) as exc:
        return SaveDone(None, str(exc), run_file=True)
    except (OSError, ValueError) as exc:
        return SaveDone(None, f"recording failed: {exc}", run_file=True)
    return SaveDone(saved, run_file=True)


def saved_note(message: SaveDone) -> tuple[str, str, SeverityLevel]:
    """What the app says once a save or a recording ended: (text, title, severity)."""
    saved = message.saved
    if saved is None:
        return visible(message.error or "saving failed"), "Not saved", "error"
    if message.run_file:
        return f"Recorded the run to {visible(str(saved.path))}", "Recorded", "information"
    described = visible(saved.describe(thousands=True))
    return described[0].upper() + described[1:], "Saved", "information"
