"""The response parser: h11, fed the raw bytes, with the book's header length on top.

h11 does the HTTP: status line, headers, the choice of framing, de-chunking, and every
protocol error. This module adds what h11 does not say: where in the raw stream the
header ended (the book's "Header length"), and the header block as it was received.

Once h11 has framed the body by its Content-Length, or as running until the close, the
rest is a count, and h11 sees no more bytes: it would only copy each body byte into its
buffer and out again (two copies of every byte, the largest cost of a fast fetch;
tests/bench). The parser counts those bodies itself, which is what h11 would do with them.
Chunked bodies, and everything before the body, still go through h11 whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import h11

from sockview.core.body import BodySink
from sockview.core.errors import count_bytes, counted, describe_store_error
from sockview.core.events import Framing, HeadersComplete, InterimResponse

MAX_HEADER = 64 * 1024
"""Default cap on the response head: any interim 1xx responses and the header, up to the body."""

# The same blank-line rule h11 uses to find the end of a head (`_receivebuffer.py`).
_BLANK_LINE = re.compile(b"\n\r?\n")
_BYTEARRAY = re.compile(r"""bytearray\((b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*")\)""")
_NO_BODY_STATUSES = (204, 304)
_COUNTED = (Framing.CONTENT_LENGTH, Framing.UNTIL_CLOSE)
_STATUS_START = b"HTTP/"
_INTERIM_START = re.compile(rb"HTTP/[0-9]\.[0-9] 1")
# A chunk size line (hex digits, maybe an extension) ended by a bare LF: h11 wants CRLF, and
# would wait for one. A trailer field line has a colon, so it never matches.
_BARE_LF_CHUNK_LINE = re.compile(rb"[0-9A-Fa-f][^\r\n:]*\n")
_SHOWN_LINE = 40
"""Bytes of a malformed chunk line quoted in the message."""
_MAX_REASON = 200
"""Longest reason, in characters: h11 quotes whole header lines in its complaints."""


class ProtocolFailure(Exception):
    """The response broke HTTP; the message is one line for the user."""


class StoreFailure(Exception):
    """The body could not be kept (a full temporary folder, say); one line for the user."""


def _latin1(data: bytes | bytearray) -> str:
    return bytes(data).decode("latin-1")


class ResponseParser:
    """Feeds raw response bytes to h11 and reports the head and the body."""

    def __init__(
        self,
        host: str,
        sink: BodySink,
        on_interim: Callable[[InterimResponse], None],
        on_head: Callable[[HeadersComplete], None],
        max_header: int = MAX_HEADER,
        method: str = "GET",
    ) -> None:
        self.max_header = max_header
        self._no_body = method == "HEAD"
        self._conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_header)
        # h11 tracks both sides, so it must be told of a request before it reads a response.
        # It writes only HTTP/1.1; what it needs to frame the answer is the method (after
        # a HEAD no body follows) and our `Connection: close`. The bytes actually sent are
        # built in `request.py`.
        self._conn.send(
            h11.Request(
                method=method, target="/", headers=[("Host", host), ("Connection", "close")]
            )
        )
        self._conn.send(h11.EndOfMessage())
        self._sink = sink
        self._on_interim = on_interim
        self._on_head = on_head
        self._feeds = 0
        """Calls of `feed` before the body is counted: one per recv, so the last one's
        index is the recv in which the head ended."""
        # Raw bytes of the head being received; `_raw_base` is the stream offset of [0].
        self._raw = bytearray()
        self._raw_base = 0
        self._head_bytes = bytearray()
        self._interims = 0
        self.head: HeadersComplete | None = None
        self.body_bytes = 0
        self.done = False
        self.counting = False
        """True once the body is a count (see the module's text): `take_body` (or
        `skip_to`) then takes the bytes, and `body_end` says where the body ends."""
        self._left: int | None = None
        """Body bytes still due by Content-Length while counting; None until the close."""

    @property
    def head_bytes(self) -> bytes:
        """The raw bytes of every head so far (interims included), blank lines and all."""
        return bytes(self._head_bytes)

    @property
    def body_end(self) -> int | None:
        """While counting a Content-Length body: the raw stream offset where it ends."""
        if self.head is None or self._left is None:
            return None
        return self.head.body_offset + self.body_bytes + self._left

    def feed(self, data: bytes | memoryview) -> bool:
        """Take raw bytes; True once the response is complete.

        A memoryview (the recv loop's buffer) is not kept: it is copied or written out
        before `feed` returns.
        """
        if self.counting:
            return self.take_body(data)
        self._feeds += 1
        if self.head is None:
            self._raw += data
            self._check_start()
        # h11 copies the data into its own buffer (`bytearray += data`): any bytes-like works.
        self._conn.receive_data(data)  # type: ignore[arg-type]
        done = self._drain()
        if self.head is not None:
            if not done and self.head.framing is Framing.CHUNKED and b"\n" in data:
                # Only a recv with a line feed can end a line; a bare-LF one would
                # otherwise hold the fetch until the close or the read timeout.
                self._check_chunk_line()
        elif self._raw_base + len(self._raw) > self.max_header:
            # h11's own cap is per head, and only for a head still incomplete: the cap is
            # on all of them together, however the recvs cut them.
            raise ProtocolFailure(self._too_large(pending=True))
        return done

    def take_body(self, data: bytes | memoryview) -> bool:
        """While counting: raw bytes of the body, stored; True once the body is complete.

        Bytes past the end of a Content-Length body are not body, and are dropped, as h11
        would leave them unread.
        """
        size = len(data) if self._left is None else min(len(data), self._left)
        if size:
            try:
                self._sink.write(data[:size] if size < len(data) else data)
            except OSError as exc:
                raise StoreFailure(
                    describe_store_error(exc, self._sink.size, self._sink.where)
                ) from None
        return self._counted(size)

    def skip_to(self, total: int) -> bool:
        """While counting: the raw stream has reached `total` bytes, dropped unseen.

        For a caller that keeps nothing (plain mode without -o): it need not hand the
        bytes over at all. True once the body is complete.
        """
        assert self.head is not None
        size = total - self.head.body_offset - self.body_bytes
        return self._counted(size if self._left is None else min(size, self._left))

    def _counted(self, size: int) -> bool:
        self.body_bytes += size
        if self._left is not None:
            self._left -= size
            if not self._left:
                self.done = True
        return self.done

    def feed_eof(self, clean: bool = True) -> bool:
        """The server closed the connection; True if the response was complete anyway.

        A close before the head ended is not a protocol error but a short answer: False,
        and the caller says how many bytes came (h11 would only say "unexpectedly closed").
        `clean` is False for a TLS connection closed without close_notify: anyone on the
        path can forge that close, so a body that runs until the close is not known whole.
        """
        if self.head is None:
            return False
        if self.counting:
            if self._left:
                raise ProtocolFailure(self._short_body())
            if self._left is None and not clean:
                raise ProtocolFailure(
                    f"the connection closed without TLS close_notify after"
                    f" {counted(self.body_bytes, 'body byte')}: the body runs until the close,"
                    " so it may have been cut short (kept as incomplete)"
                )
            self.done = True
            return True
        self._conn.receive_data(b"")
        return self._drain()

    def _check_start(self) -> None:
        """Fail at once when the head cannot be HTTP, rather than wait for the cap or a close.

        h11 accepts a head only if it starts with `HTTP/` (no leading blank line), so this
        refuses nothing that h11 would take.
        """
        start = bytes(self._raw[:5])
        if not _STATUS_START.startswith(start):
            if start[:1] in (b"\x15", b"\x16"):
                raise ProtocolFailure("the server answered with TLS, not HTTP: try https://")
            raise ProtocolFailure(
                "the server did not send an HTTP status line"
                " (an HTTP/0.9 reply, or not HTTP at all)"
            )

    def _drain(self) -> bool:
        conn = self._conn
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA or event is h11.PAUSED:
                    if self.head is not None and self.head.framing in _COUNTED:
                        # h11 has handed over every body byte it was given: count from here.
                        self._count_from_here(self.head)
                    return False
                if isinstance(event, h11.Data):
                    try:
                        self._sink.write(event.data)
                    except OSError as exc:
                        raise StoreFailure(
                            describe_store_error(exc, self._sink.size, self._sink.where)
                        ) from None
                    self.body_bytes += len(event.data)
                elif isinstance(event, h11.Response):
                    self._head_done(event)
                elif isinstance(event, h11.InformationalResponse):
                    self._interim(event)
                elif isinstance(event, h11.EndOfMessage):
                    self.done = True
                    return True
                elif isinstance(event, h11.ConnectionClosed):
                    return False
        except h11.RemoteProtocolError as exc:
            raise ProtocolFailure(self._explain(exc)) from None

    def _check_chunk_line(self) -> None:
        """Fail if the chunk line h11 is waiting on ended in a bare LF."""
        pending, _ = self._conn.trailing_data
        match = _BARE_LF_CHUNK_LINE.match(pending)
        if match is not None:
            raise ProtocolFailure(self._bare_lf(match.group()))

    @staticmethod
    def _bare_lf(line: bytes) -> str:
        shown = repr(line[:_SHOWN_LINE]) + ("..." if len(line) > _SHOWN_LINE else "")
        return f"invalid chunked body: the chunk size line {shown} ends in a bare LF, not CRLF"

    def _count_from_here(self, head: HeadersComplete) -> None:
        self.counting = True
        if head.framing is Framing.CONTENT_LENGTH:
            assert head.content_length is not None
            self._left = head.content_length - self.body_bytes

    def _short_body(self) -> str:
        assert self.head is not None
        return (
            f"the connection closed after {self.body_bytes} of"
            f" {counted(self.head.content_length or 0, 'body byte')}"
            " (Content-Length): the body is incomplete"
        )

    def _take_head(self) -> tuple[str, int, int]:
        """Cut the next head off the raw buffer: (text, header length, body offset)."""
        match = _BLANK_LINE.search(self._raw)
        assert match is not None, "h11 reported a head before its blank line"
        end = match.start()
        if end > 0 and self._raw[end - 1] == 0x0D:
            end -= 1
        text = _latin1(self._raw[:end])
        header_length = self._raw_base + end
        body_offset = self._raw_base + match.end()
        self._head_bytes += self._raw[: match.end()]
        del self._raw[: match.end()]
        self._raw_base = body_offset
        return text, header_length, body_offset

    def _interim(self, event: h11.InformationalResponse) -> None:
        text, _, _ = self._take_head()
        self._interims += 1
        if self._raw_base > self.max_header:
            raise ProtocolFailure(self._too_many_interims())
        self._on_interim(
            InterimResponse(
                status=event.status_code,
                status_line=text.split("\n", 1)[0].rstrip("\r"),
                headers=tuple((_latin1(n), _latin1(v)) for n, v in event.headers.raw_items()),
            )
        )

    def _head_done(self, event: h11.Response) -> None:
        text, header_length, body_offset = self._take_head()
        if body_offset > self.max_header:
            raise ProtocolFailure(self._too_large())
        self._raw = bytearray()
        headers = event.headers
        names = {name for name, _ in headers}
        content_length: int | None = None
        if event.status_code in _NO_BODY_STATUSES or self._no_body:
            framing = Framing.NONE
        elif b"transfer-encoding" in names:
            framing = Framing.CHUNKED
        elif b"content-length" in names:
            framing = Framing.CONTENT_LENGTH
            content_length = int(next(v for n, v in headers if n == b"content-length"))
        else:
            framing = Framing.UNTIL_CLOSE
        self.head = HeadersComplete(
            status=event.status_code,
            reason=_latin1(event.reason),
            http_version=_latin1(event.http_version),
            status_line=text.split("\n", 1)[0].rstrip("\r"),
            headers=tuple((_latin1(n), _latin1(v)) for n, v in headers.raw_items()),
            head_text=text,
            header_length=header_length,
            body_offset=body_offset,
            head_index=self._feeds - 1,
            framing=framing,
            content_length=content_length,
        )
        self._on_head(self.head)

    def _too_large(self, pending: bool = False) -> str:
        """The head is over the cap: the interims alone, or with the header.

        `pending`: the head still arriving (in `_raw`) is part of the excess.
        """
        if pending and _INTERIM_START.match(self._raw):
            return self._too_many_interims()  # the head that is still arriving is one more
        if not self._interims:
            return (
                f"the response header is larger than the {self._cap()} cap (--max-header raises it)"
            )
        interims = counted(self._interims, "interim 1xx response")
        return (
            f"the response header, with the {interims} before it, is larger than"
            f" the {self._cap()} cap (--max-header raises it)"
        )

    def _too_many_interims(self) -> str:
        return (
            f"the server sent more than {self._cap()} of interim 1xx responses"
            " (--max-header raises the cap)"
        )

    def _cap(self) -> str:
        cap = self.max_header
        return f"{cap // 1024} KiB" if cap % 1024 == 0 else count_bytes(cap)

    def _explain(self, exc: h11.RemoteProtocolError) -> str:
        """One line for the user from h11's complaint."""
        message = _one_line(str(exc))
        if self.head is None:
            if "Receive buffer too long" in message:
                return self._too_large(pending=True)
            if "_SWITCH_UPGRADE" in message:
                return "the server switched protocols (101) although no upgrade was asked for"
            if "conflicting Content-Length" in message:
                return "the response has Content-Length values that disagree"
            if "bad Content-Length" in message:
                return "the Content-Length header is not a valid length"
            if "Only Transfer-Encoding: chunked" in message:
                return "unsupported Transfer-Encoding: only chunked is understood"
            if "Transfer-Encoding" in message:
                return f"invalid Transfer-Encoding header: {message}"
            if "illegal status line" in message:
                return f"invalid HTTP status line: {message.partition(': ')[2]}"
            if "response line" in message or "request line" in message:
                return "the server did not send an HTTP status line where one was due"
            return f"invalid response header: {message}"
        chunked = self.head.framing is Framing.CHUNKED
        if chunked and "peer unexpectedly closed connection" in message:
            # The close came in the middle of a chunk line or the trailer.
            pending, _ = self._conn.trailing_data
            match = _BARE_LF_CHUNK_LINE.match(pending)
            if match is not None:
                return self._bare_lf(match.group())
            message = "peer closed connection without sending complete message body"
        if "peer closed connection without sending complete message body" in message:
            if chunked:
                return (
                    f"the connection closed in the middle of the chunked body"
                    f" after {counted(self.body_bytes, 'body byte')}: the body is incomplete"
                )
            return self._short_body()
        if "Receive buffer too long" in message:
            return f"invalid chunked body: a chunk header or trailer is longer than {self._cap()}"
        if self.head.framing is Framing.CHUNKED:
            return f"invalid chunked body: {message}"
        return f"invalid response body: {message}"


def _one_line(message: str) -> str:
    """h11's message, with `bytearray(b'..')` shown as `b'..'` and cut to a sensible length."""
    message = _BYTEARRAY.sub(r"\1", message)
    message = " ".join(message.split())
    if len(message) > _MAX_REASON:
        message = message[: _MAX_REASON - 3] + "..."
    return message
