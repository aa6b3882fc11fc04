"""Settings: what one session of sockview was asked to do, built from the command line.

The CLI builds them from arguments; the app and plain mode read them. They hold no
Textual or terminal state, so that every front end (app, plain mode, tests) shares them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sockview.core.fetch import DelaySwitch, FetchOptions
from sockview.core.url import Target


@dataclass
class Settings:
    """What the command line asked for, checked."""

    target: Target | None
    options: FetchOptions
    delay: DelaySwitch
    output: str | None
    log: str | None
    demo: bool
