"""The header panel: the response's status line, header length and headers; or the request.

Everything here came from the network (or, for the request, from what the user typed),
so it is built as `rich.text.Text` from plain strings passed through `visible()`: a
header value of `[bold]x[/]` or `[@click=app.quit]` shows as those very characters.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Static

from sockview.core.errors import count_bytes
from sockview.core.events import Framing, HeadersComplete, InterimResponse
from sockview.core.text import visible

SHOWN_HEADERS = 300
"""Headers shown at most: a head may hold tens of thousands under the cap, and a view of
them all would take seconds to lay out on every redraw."""
SHOWN_CHARS = 12_000
"""Characters of names and values shown at most, all headers together: one header line
may be megabytes long under the cap."""
SHOWN_INTERIMS = 3
"""Interim responses listed by their status line; more are counted."""


def shown_headers(
    headers: tuple[tuple[str, str], ...],
) -> tuple[list[tuple[str, str]], int]:
    """The headers to show, cut to the view's bounds, and how many are left out.

    A value cut short ends with how many characters were left out of it.
    """
    shown: list[tuple[str, str]] = []
    budget = SHOWN_CHARS
    for name, value in headers[:SHOWN_HEADERS]:
        if budget <= 0:
            break
        name = name[:budget]
        room = max(budget - len(name), 0)
        if len(value) > room:
            value = f"{value[: max(room, 200)]}… ({len(value) - max(room, 200):,} more characters)"
        shown.append((name, value))
        budget -= len(name) + len(value)
    return shown, len(headers) - len(shown)


def headers_table(headers: tuple[tuple[str, str], ...]) -> Table:
    """Names and values in two columns; long values wrap rather than vanish."""
    table = Table(
        box=None,
        expand=True,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        header_style="bold",
    )
    table.add_column("name", no_wrap=True, style="bold", ratio=None)
    table.add_column("value", overflow="fold", ratio=1)
    shown, left_out = shown_headers(headers)
    for name, value in shown:
        table.add_row(Text(visible(name)), Text(visible(value)))
    if left_out:
        table.add_row(Text("…", style="dim"), _left_out(left_out))
    return table


def _left_out(count: int) -> Text:
    return Text(f"{count:,} more headers not shown", style="dim italic")


def headers_list(headers: tuple[tuple[str, str], ...]) -> Text:
    """`Name: value` lines, for a panel too narrow for two columns."""
    text = Text()
    shown, left_out = shown_headers(headers)
    for number, (name, value) in enumerate(shown):
        if number:
            text.append("\n")
        text.append(visible(name), style="bold")
        text.append(": ")
        text.append(visible(value))
    if left_out:
        text.append("\n")
        text.append(_left_out(left_out))
    return text


NARROW = 44
"""Below this many columns the headers are listed as `Name: value` lines."""


def request_text(data: bytes) -> Text:
    """The request as sent, one line per line, each line end shown as the bytes it was."""
    text = Text()
    lines = data.split(b"\n")
    for number, line in enumerate(lines):
        if number == len(lines) - 1 and not line:
            break
        ending = "\\n"
        if line.endswith(b"\r"):
            line, ending = line[:-1], "\\r\\n"
        text.append(visible(line.decode("latin-1")))
        if number < len(lines) - 1:
            text.append(ending, style="dim")
            text.append("\n")
    return text


def sum_line(header: int, blank: int, body: int, rest: int, *, chunked: bool) -> str:
    """`242 + 4 (blank line) + 70,057 (body) = 70,303`: where every raw byte went."""
    terms = [f"{header:,}", f"{blank:,} (blank line)", f"{body:,} (body)"]
    if rest:
        terms.append(f"{rest:,} ({'chunk framing' if chunked else 'past the body'})")
    return " + ".join(terms) + f" = {header + blank + body + rest:,}"


class HeaderPanel(Vertical):
    """The response header as a table, or (after `toggle`) the exact request bytes."""

    DEFAULT_CSS = """
    HeaderPanel {
        height: 1fr;
        & #head-summary {
            height: auto;
        }
        & ContentSwitcher {
            height: 1fr;
        }
        & VerticalScroll {
            height: 1fr;
            padding: 0 1;
            scrollbar-size-vertical: 1;
        }
    }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._request: bytes = b""
        self._interim: list[InterimResponse] = []
        """The last few interim responses; `_interims` counts them all."""
        self._interims = 0
        self._summary_due = False
        self._head: HeadersComplete | None = None
        self._parts: tuple[int, int, int, int] | None = None

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="response-view"):
            with VerticalScroll(id="response-view"):
                yield Static(id="head-summary")
                yield Static(id="headers")
                # Below the headers, so that a short panel still shows them first.
                yield Static(id="head-sum")
            with VerticalScroll(id="request-view"):
                yield Static(id="request")

    def on_mount(self) -> None:
        self.reset()

    @property
    def showing_request(self) -> bool:
        return self.query_one(ContentSwitcher).current == "request-view"

    @property
    def head(self) -> HeadersComplete | None:
        return self._head

    def toggle(self) -> bool:
        """Switch between the response header and the request; True if now on the request."""
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "response-view" if self.showing_request else "request-view"
        self._update_titles()
        return self.showing_request

    def reset(self) -> None:
        """Nothing received yet."""
        self._request = b""
        self._interim = []
        self._interims = 0
        self._head = None
        self._parts = None
        self.query_one("#head-sum", Static).update("")
        self._show(self._summary(), "", Text("(not sent yet)", style="dim"))

    def show_welcome(self) -> None:
        """The first screen of a bare `sockview`: how to start."""
        text = Text("No response yet.\n\n", style="dim")
        text.append("New here? ", style="bold")
        text.append("Press Enter in the empty URL input (or D) to fetch the demo picture")
        text.append(" from sockview's own server, on this machine: no network needed.\n\n")
        text.append("Then watch each recv() arrive on the left. ")
        text.append("?", style="bold")
        text.append(" or ")
        text.append("F1", style="bold")
        text.append(": what it all means. ↑ in the URL input: this session's URLs.")
        self.query_one("#head-summary", Static).update(text)

    def show_request(self, data: bytes) -> None:
        self._request = data
        self._show(self._summary(), None, request_text(data))

    def show_interim(self, event: InterimResponse) -> None:
        # A server may send thousands: keep the last few, and redraw once for a burst.
        self._interim = [*self._interim[-(SHOWN_INTERIMS - 1) :], event]
        self._interims += 1
        if not self._summary_due:
            self._summary_due = True
            self.call_after_refresh(self._show_summary)

    def _show_summary(self) -> None:
        self._summary_due = False
        self._show(self._summary(), None, None)

    def show_head(self, event: HeadersComplete) -> None:
        self._head = event
        self._show(self._summary(), self._headers(), None)

    def _headers(self) -> RenderableType:
        headers = self._head.headers if self._head is not None else ()
        if self.content_region.width < NARROW:
            return headers_list(headers)
        return headers_table(headers)

    def on_resize(self) -> None:
        if self._head is not None:
            self.query_one("#headers", Static).update(self._headers())

    def _summary(self) -> Text:
        head = self._head
        if head is None:
            text = self._interim_lines()
            text.append("waiting for the response…" if self._request else "no response yet", "dim")
            return text
        # The final head first: in a short panel, interims must not push it out of sight.
        text = Text()
        text.append(visible(head.status_line[:500]), style="bold")
        text.append("\nHeader length ")
        text.append(str(head.header_length), style="bold")
        if head.framing is Framing.CONTENT_LENGTH:
            body = f"body {count_bytes(head.content_length or 0)} (Content-Length)"
        elif head.framing is Framing.NONE:
            why = "HEAD" if self._request.startswith(b"HEAD ") else head.status
            body = f"no body ({why})"
        else:
            body = f"body {head.framing.value}"
        text.append(f" · {body}", style="dim")
        if self._interims:
            text.append("\n")
            text.append_text(self._interim_lines())
            text.rstrip()
        return text

    def _interim_lines(self) -> Text:
        text = Text()
        earlier = self._interims - len(self._interim)
        if earlier > 0:
            text.append(f"{self._interims:,} interim responses, skipped; the last:\n", "dim italic")
        for interim in self._interim:
            text.append(visible(interim.status_line[:200]), style="dim")
            text.append("  (interim, skipped)\n", style="dim italic")
        return text

    def show_totals(self, parts: tuple[int, int, int, int] | None) -> None:
        """At the end of a fetch: the line that says how the raw total adds up."""
        self._parts = parts
        head = self._head
        line = Text()
        if parts is not None and head is not None:
            chunked = head.framing is Framing.CHUNKED
            line = Text(sum_line(*parts, chunked=chunked))
        self.query_one("#head-sum", Static).update(line)

    def _show(
        self,
        summary: Text,
        headers: RenderableType | None,
        request: Text | None,
    ) -> None:
        self.query_one("#head-summary", Static).update(summary)
        if headers is not None:
            self.query_one("#headers", Static).update(headers)
        if request is not None:
            self.query_one("#request", Static).update(request)
        self._update_titles()

    def _update_titles(self) -> None:
        if self.showing_request:
            self.border_title = f"Request · {count_bytes(len(self._request))} sent"
            self.border_subtitle = "t: response"
        else:
            self.border_title = "Response header"
            self.border_subtitle = "t: request"
