"""Hand a file to the browser as a download, when the app runs on the web (`--serve`).

Nothing is written on the serving machine: the bytes go to a temporary file that Textual
streams to the browser, then forgets. Any key that saves something (the body's `s`, a run
file's) can use `send_download` from a worker thread.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from typing import Any, BinaryIO

from textual.app import App

from sockview.core.text import visible

SPOOL_LIMIT = 4 * 1024 * 1024
"""Bytes kept in memory before the copy goes to a temporary file."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def browser_name(name: str) -> str:
    """`name` (already a safe file name) reduced to what an unquoted header value may hold.

    textual-serve writes it into `Content-Disposition: attachment; filename=NAME` as is.
    """
    return _UNSAFE.sub("_", name).lstrip(".") or "download"


def send_download(
    app: App[Any], fill: Callable[[BinaryIO], None], name: str, what: str = "file"
) -> None:
    """Copy what `fill` writes and offer it to the browser as `name`; say so in the app.

    Call from a worker thread: the copy may be large. `what` names it in the message.
    """
    name = browser_name(name)
    # Not a `with`: the file outlives this call, Textual closes it once delivered.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT, mode="w+b")  # noqa: SIM115
    try:
        fill(spool)  # type: ignore[arg-type]
        size = spool.tell()
    except Exception as exc:  # the writer's errors (I/O, a run file's) are one line each
        spool.close()
        app.call_from_thread(
            app.notify,
            visible(f"Could not send the {what}: {exc}"),
            title="Not sent",
            severity="error",
            markup=False,
        )
        return
    # Textual owns the file from here on: it streams it when the browser asks, then closes it.
    app.call_from_thread(
        app.deliver_binary, spool, save_filename=name, mime_type="application/octet-stream"
    )
    app.call_from_thread(
        app.notify,
        f"Sent the {what} ({size:,} bytes) to your browser as {name}",
        title="Download",
        markup=False,
    )
