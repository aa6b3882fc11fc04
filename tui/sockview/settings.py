"""Settings: what one session of sockview was asked to do, built from the command line.

The CLI builds them from arguments; the app and plain mode read them. They hold no
Textual or terminal state, so that every front end (app, plain mode, tests) shares them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    record: str | None = None
    """Write each run to a run file here (a file or a folder): --record."""
    record_body: bool = True
    """Keep the body in run files (off with --record-without-body)."""
    replay: str | None = None
    """Play this run file instead of fetching: --replay."""
    speed: float = 1.0
    """Replay speed; 0 shows the finished run at once."""
    compare: list[str] = field(default_factory=list)
    """Run files to compare: --compare A B."""
    fail: bool = False
    """Plain mode: exit 22 when the server answers 400 or more (the body is still saved)."""
