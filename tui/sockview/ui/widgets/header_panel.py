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
    for name, value in headers:
        table.add_row(Text(visible(name)), Text(visible(value)))
    return table


def headers_list(headers: tuple[tuple[str, str], ...]) -> Text:
    """`Name: value` lines, for a panel too narrow for two columns."""
    text = Text()
    for number, (name, value) in enumerate(headers):
        if number:
            text.append("\n")
        text.append(visible(name), style="bold")
        text.append(": ")
        text.append(visible(value))
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
        self._head: HeadersComplete | None = None

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="response-view"):
            with VerticalScroll(id="response-view"):
                yield Static(id="head-summary")
                yield Static(id="headers")
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
        self._head = None
        self._show(self._summary(), "", Text("(not sent yet)", style="dim"))

    def show_request(self, data: bytes) -> None:
        self._request = data
        self._show(self._summary(), None, request_text(data))

    def show_interim(self, event: InterimResponse) -> None:
        self._interim.append(event)
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
        text = Text()
        for interim in self._interim:
            text.append(visible(interim.status_line), style="dim")
            text.append("  (interim, skipped)\n", style="dim italic")
        head = self._head
        if head is None:
            text.append("waiting for the response…" if self._request else "no response yet", "dim")
            return text
        text.append(visible(head.status_line), style="bold")
        text.append("\nHeader length ")
        text.append(str(head.header_length), style="bold")
        if head.framing is Framing.CONTENT_LENGTH:
            body = f"body {count_bytes(head.content_length or 0)} (Content-Length)"
        else:
            body = f"body: {head.framing.value}"
        text.append(f" · {body}", style="dim")
        return text

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
