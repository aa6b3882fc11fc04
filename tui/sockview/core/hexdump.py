"""Raw bytes as a hex dump: offset, hex and printable text, 16 bytes a line.

Each byte is one of three kinds: head (status line, headers, the blank line), body, or
framing (a chunked body's size lines, the CRLF after each chunk, the last chunk and its
trailer). Notes say where the header ends, where the body starts, and what each chunk
size line says. Everything here is pure: the caller reads the bytes (`Run.raw_bytes`)
and draws the lines.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol

from sockview.core.events import Framing, HeadersComplete

WIDTH = 16
"""Bytes a line."""
_MAX_SIZE_LINE = 4096
"""Longest chunk size line (extensions included) the framing scan reads."""
_TEXT = tuple(
    "←" if b == 0x0D else "↓" if b == 0x0A else chr(b) if 0x20 <= b < 0x7F else "."
    for b in range(256)
)
"""The text column: printable ASCII as itself, CR as ← (back to the line's start) and LF
as ↓ (down a line), in glyphs that common monospace fonts have; the rest
(controls, DEL, every byte from 0x80 on) as a dot, so nothing the server sent can act on
the terminal."""


class _RunLike(Protocol):
    @property
    def head(self) -> HeadersComplete | None: ...

    def recv_span(self, index: int) -> tuple[int, int]: ...

    def raw_bytes(self, start: int, stop: int) -> bytes | None: ...


class ByteKind(IntEnum):
    HEAD = 0
    BODY = 1
    FRAMING = 2


@dataclass(frozen=True, slots=True)
class FramingSpan:
    """Bytes `[start, stop)` of the raw stream that frame a chunked body."""

    start: int
    stop: int
    note: str = ""
    """Said at the line where the span starts; empty for the CRLF after a chunk."""


@dataclass(frozen=True, slots=True)
class HexLine:
    offset: int
    """Raw stream offset of the line's first byte."""
    hex: str
    """Two digits a byte, a space between, one more space after the eighth."""
    text: str
    """One character a byte (see `_TEXT`)."""
    kinds: tuple[tuple[int, int, ByteKind], ...]
    """Runs `(first, stop, kind)` of byte positions within the line."""
    notes: tuple[str, ...] = ()


def hex_column(position: int) -> int:
    """The column in `HexLine.hex` where the byte at `position` in the line starts."""
    return position * 3 + (1 if position >= WIDTH // 2 else 0)


HEX_WIDTH = hex_column(WIDTH - 1) + 2


@dataclass
class StreamLayout:
    """What the raw stream's offsets mean: where the head ends, and the chunk framing."""

    header_length: int | None = None
    """The book's figure: the offset of the blank line that ends the header."""
    body_offset: int | None = None
    """Where the body starts; None while the head has not ended."""
    framing: list[FramingSpan] = field(default_factory=list)
    """Sorted, not overlapping."""

    def kind(self, offset: int) -> ByteKind:
        if self.body_offset is None or offset < self.body_offset:
            return ByteKind.HEAD
        spans = self.framing
        at = bisect.bisect_right(spans, offset, key=lambda span: span.start) - 1
        if at >= 0 and spans[at].start <= offset < spans[at].stop:
            return ByteKind.FRAMING
        return ByteKind.BODY

    def notes(self, start: int, stop: int) -> list[str]:
        """What is said about the bytes `[start, stop)`."""
        notes: list[str] = []
        if self.header_length is not None and start <= self.header_length < stop:
            notes.append("end of header")
        elif self.body_offset is not None and start <= self.body_offset < stop:
            # Usually on the same line as the end of the header, where the colour says it.
            notes.append("body starts")
        spans = self.framing
        first = bisect.bisect_left(spans, start, key=lambda span: span.start)
        for span in spans[first:]:
            if span.start >= stop:
                break
            if span.note:
                notes.append(span.note)
        return notes


def hex_lines(data: bytes, offset: int, layout: StreamLayout) -> list[HexLine]:
    """`data`, which starts at raw stream `offset`, as lines; lines are aligned to the
    recv's own start (so the first line is full), not to multiples of 16."""
    return [hex_line(data, at, offset, layout) for at in range(0, len(data), WIDTH)]


def line_count(size: int) -> int:
    return (size + WIDTH - 1) // WIDTH


def hex_line(data: bytes, at: int, offset: int, layout: StreamLayout) -> HexLine:
    """The line of `data` (which starts at stream `offset`) that begins at `data[at]`."""
    piece = data[at : at + WIDTH]
    start = offset + at
    digits = piece.hex(" ")
    if len(piece) > WIDTH // 2:
        cut = (WIDTH // 2) * 3
        digits = digits[:cut] + " " + digits[cut:]
    text = "".join(_TEXT[b] for b in piece)
    runs: list[tuple[int, int, ByteKind]] = []
    for position in range(len(piece)):
        kind = layout.kind(start + position)
        if runs and runs[-1][2] is kind:
            runs[-1] = (runs[-1][0], position + 1, kind)
        else:
            runs.append((position, position + 1, kind))
    notes = layout.notes(start, start + len(piece))
    return HexLine(start, digits, text, tuple(runs), tuple(notes))


class ChunkFraming:
    """Finds the framing of a chunked body in the raw stream, as far as asked.

    The scan reads only each size line (a few bytes) and jumps over the chunk data, and
    it remembers where it got to: asking for the framing near the end of a long body
    costs one small read per chunk once, then nothing. `read(start, stop)` reads the raw
    stream; bytes not arrived yet come back short, and the scan resumes there later.
    """

    def __init__(self, read: Callable[[int, int], bytes | None], body_offset: int) -> None:
        self._read = read
        self.spans: list[FramingSpan] = []
        self._position = body_offset
        self._in_trailer = False
        self.done = False
        """True at the end of the body, or where the framing stopped making sense."""

    def until(self, stop: int) -> list[FramingSpan]:
        """Every span that starts before raw offset `stop` (and any found on the way)."""
        while not self.done and self._position < stop:
            if not self._step():
                break
        return self.spans

    def _line(self) -> tuple[bytes, int] | None:
        """The line at the scan position, and the offset after its LF; None if not all here."""
        data = self._read(self._position, self._position + _MAX_SIZE_LINE)
        if data is None:
            self.done = True
            return None
        end = data.find(b"\n")
        if end < 0:
            if len(data) >= _MAX_SIZE_LINE:
                self.done = True  # not chunked framing as h11 would take it
            return None
        return data[:end], self._position + end + 1

    def _step(self) -> bool:
        found = self._line()
        if found is None:
            return False
        line, after = found
        start = self._position
        if self._in_trailer:
            if line.strip() == b"":
                self.spans.append(FramingSpan(start, after))
                self.done = True
            else:
                self.spans.append(FramingSpan(start, after, "trailer"))
            self._position = after
            return True
        digits = line.split(b";", 1)[0].strip()
        try:
            size = int(digits, 16)
        except ValueError:
            self.done = True
            return False
        if size == 0:
            self.spans.append(FramingSpan(start, after, "last chunk (0)"))
            self._in_trailer = True
            self._position = after
            return True
        shown = digits.decode("ascii", "replace")
        self.spans.append(FramingSpan(start, after, f"chunk 0x{shown} = {size}"))
        data_end = after + size
        # The CRLF after the chunk's data.
        self.spans.append(FramingSpan(data_end, data_end + 2))
        self._position = data_end + 2
        return True


@dataclass(frozen=True, slots=True)
class RecvDump:
    """What one recv returned, ready to be drawn."""

    index: int
    start: int
    """Raw stream offset of its first byte."""
    stop: int
    data: bytes | None
    """Its bytes; None if they were not kept; shorter while they are still arriving."""
    layout: StreamLayout

    @property
    def size(self) -> int:
        return self.stop - self.start

    def line(self, number: int) -> HexLine:
        assert self.data is not None
        return hex_line(self.data, number * WIDTH, self.start, self.layout)


class RunBytes:
    """Reads the recvs of one run for the inspector: one recv's bytes at a time.

    Needs from the run only its recv log, head and a `raw_bytes(start, stop)` reader, so
    a run of a million recvs opens any row with one read of that row's bytes.
    """

    def __init__(self, run: _RunLike) -> None:
        self.run = run
        self._framing: ChunkFraming | None = None

    def recv(self, index: int) -> RecvDump:
        run = self.run
        start, stop = run.recv_span(index)
        data = run.raw_bytes(start, stop)
        head = run.head
        layout = StreamLayout()
        if head is not None:
            layout.header_length = head.header_length
            layout.body_offset = head.body_offset
            if head.framing is Framing.CHUNKED and data is not None:
                if self._framing is None:
                    self._framing = ChunkFraming(run.raw_bytes, head.body_offset)
                spans = self._framing.until(stop)
                # Only the spans that touch this recv: a long body has many.
                first = bisect.bisect_left(spans, start - _MAX_SIZE_LINE, key=lambda s: s.start)
                layout.framing = [s for s in spans[first:] if s.stop > start and s.start < stop]
        return RecvDump(index, start, stop, data, layout)
