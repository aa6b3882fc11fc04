"""Settings: what one session of sockview was asked to do, built from the command line.

The CLI builds them from arguments; the app and plain mode read them, and the app's
settings screen changes them (applied to the next fetch). They hold no Textual or
terminal state, so that every front end (app, plain mode, tests) shares them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sockview.core.fetch import MAX_BUFSIZE, MAX_DELAY, DelaySwitch, FetchOptions
from sockview.core.request import RequestError, RequestStyle, check_method, parse_header
from sockview.core.url import Target

STYLE_WORDS = {
    RequestStyle.HTTP10: "HTTP/1.0",
    RequestStyle.HTTP11: "HTTP/1.1",
    RequestStyle.BOOK: "the book's request",
}


def delay_words(enabled: bool, seconds: float) -> str:
    """`delay: off (d: 0.25 s)`, or `delay: on, 0.25 s`: what the `d` key does."""
    if enabled:
        return f"delay: on, {seconds:g} s"
    return f"delay: off (d: {seconds:g} s)"


@dataclass
class Settings:
    """What the command line asked for, checked; the app's settings screen edits it."""

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
    follow: bool = False
    """Plain mode: follow redirects (-L)."""
    keep: bool = True
    """The app keeps the body and the raw bytes (off with --no-keep: only sizes and times)."""

    def describe(self, bufsize_shown: int | None = None) -> str:
        """One line for the status line: the delay, the bufsize, and what differs from
        the defaults (version, method, headers, TLS).

        `bufsize_shown` is the bufsize of the run on screen; when the next fetch's
        differs, both are named.
        """
        options = self.options
        bufsize = f"bufsize {options.bufsize}"
        if bufsize_shown is not None and bufsize_shown != options.bufsize:
            bufsize = f"bufsize {bufsize_shown} (next: {options.bufsize})"
        parts = [delay_words(self.delay.enabled, self.delay.seconds), bufsize]
        if options.style is not RequestStyle.HTTP10:
            parts.append(STYLE_WORDS[options.style])
        if options.method != "GET":
            parts.append(options.method)
        headers = options.headers
        if headers:
            parts.append(f"+{len(headers)} header{'s' if len(headers) > 1 else ''}")
        if options.insecure:
            parts.append("TLS not verified")
        if not self.keep:
            parts.append("body not kept")
        return " · ".join(parts)

    def edit(
        self,
        *,
        bufsize: str,
        style: RequestStyle,
        method: str,
        headers: str,
        verify: bool,
        delay: str,
    ) -> str | None:
        """Apply what the settings screen gives (as typed), for the next fetch.

        Returns None when all of it is valid and applied; else one line that says what
        is wrong, and nothing is changed.
        """
        try:
            size = int(bufsize)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_BUFSIZE:
            return f"bufsize must be a whole number from 1 to {MAX_BUFSIZE}, not {bufsize!r}"
        try:
            seconds = float(delay)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds <= MAX_DELAY:
            return f"the delay must be a number of seconds above 0, at most {MAX_DELAY:g}"
        if style is RequestStyle.BOOK and method != "GET":
            return "the book's request is a GET; choose HTTP/1.0 or 1.1 for a HEAD"
        try:
            checked_method = check_method(method)
            checked = tuple(parse_header(line) for line in headers.splitlines() if line.strip())
        except RequestError as exc:
            return str(exc)
        self.options = replace(
            self.options,
            bufsize=size,
            style=style,
            method=checked_method,
            headers=checked,
            insecure=not verify,
        )
        self.delay.seconds = seconds
        return None
