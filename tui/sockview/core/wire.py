"""The raw stream as the socket returned it, and the body as a part of it.

`WireStore` keeps every byte that recv() returned, in order: in memory up to
`SPOOL_LIMIT`, then in a temporary file, so memory stays bounded whatever the size. Any
range `[start, stop)` of the stream can be read without reading the rest, which is what
the inspector needs to show one recv of a million.

`WireBody` is the body store that goes with it. A Content-Length or until-close body is
a slice of the stream (from `head.body_offset`), so it is not stored twice: the body
only counts, and reads its bytes from the wire. A chunked body is decoded by h11 and kept
in its own `SpooledBody` (the wire holds the framing as well).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, BinaryIO

from sockview.core.body import SPOOL_LIMIT, SpooledBody
from sockview.core.errors import describe_store_error
from sockview.core.events import Framing, HeadersComplete
from sockview.core.parse import StoreFailure

COPY_CHUNK = 1024 * 1024


class WireStore:
    """Every raw byte of one response, appended in order; any range readable at any time.

    The recv thread appends while the UI thread (or a run file writer) reads: one lock
    per batched write and per read. Reads never move the write position.
    """

    def __init__(self, limit: int = SPOOL_LIMIT) -> None:
        self.size = 0
        self.where = f"the temporary folder ({tempfile.gettempdir()})"
        self._lock = threading.Lock()
        # Closed by `close()`: the store outlives any one block of code.
        self._file: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=limit, prefix="sockview-wire-"
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append raw bytes; a failure to store them is a `StoreFailure` (one line)."""
        with self._lock:
            try:
                self._file.write(data)
            except OSError as exc:
                raise StoreFailure(describe_store_error(exc, self.size, self.where)) from None
            self.size += len(data)

    @property
    def in_memory(self) -> bool:
        return not self._file._rolled  # type: ignore[attr-defined]

    @property
    def closed(self) -> bool:
        """True once `close` has let the bytes go (the app closes a run it no longer keeps)."""
        return bool(self._file.closed)

    def read(self, start: int, stop: int) -> bytes:
        """Bytes `[start, stop)` of the stream (fewer if the stream is shorter so far).

        Raises ValueError once the store is closed.
        """
        start = max(0, start)
        stop = min(stop, self.size)
        with self._lock:
            if self._file.closed:
                raise ValueError("the raw bytes of this run were let go")
            if stop <= start:
                return b""
            if self._file._rolled:  # type: ignore[attr-defined]
                # On disk: pread reads at an offset without moving the write position.
                self._file.flush()
                return os.pread(self._file.fileno(), stop - start, start)
            buffer = self._file._file.getbuffer()  # type: ignore[attr-defined]
            try:
                return bytes(buffer[start:stop])
            finally:
                buffer.release()

    def chunks(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The range `[start, stop)` (all by default) in pieces of at most 1 MiB: for
        writing the stream out (a run file, a saved body) without holding it whole."""
        stop = self.size if stop is None else min(stop, self.size)
        while start < stop:
            piece = self.read(start, min(stop, start + COPY_CHUNK))
            if not piece:
                return
            yield piece
            start += len(piece)

    def copy_to(self, out: IO[bytes], start: int = 0, stop: int | None = None) -> None:
        """Write the range `[start, stop)` (all by default) to `out`."""
        for piece in self.chunks(start, stop):
            out.write(piece)

    @classmethod
    def from_stream(cls, source: BinaryIO, size: int, limit: int = SPOOL_LIMIT) -> WireStore:
        """A store filled with `size` bytes read from `source` (a run file being read)."""
        store = cls(limit)
        left = size
        while left > 0:
            piece = source.read(min(left, COPY_CHUNK))
            if not piece:
                raise ValueError(f"the stream ended {left} bytes short of {size}")
            store.write(piece)
            left -= len(piece)
        return store

    def close(self) -> None:
        with self._lock:
            self._file.close()


class WireBody:
    """The body store that goes with a `WireStore`: see the module's text.

    `Fetch` calls `frame(head)` when the head has arrived, before any body byte is written.
    """

    def __init__(self, wire: WireStore) -> None:
        self.wire = wire
        self.size = 0
        self.where = wire.where
        self.offset: int | None = None
        """Where the body starts in the wire, for a body that is a slice of it."""
        self.decoded: SpooledBody | None = None
        """The decoded body, for a chunked one."""

    def frame(self, head: HeadersComplete) -> None:
        if head.framing is Framing.CHUNKED:
            self.decoded = SpooledBody()
            self.where = self.decoded.where
        else:
            self.offset = head.body_offset

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.decoded is not None:
            self.decoded.write(data)
        # A counted body is already in the wire: only its size is news.
        self.size += len(data)

    def read(self, start: int, stop: int) -> bytes:
        """Body bytes `[start, stop)` (fewer if the body is shorter so far)."""
        stop = min(stop, self.size)
        if stop <= start:
            return b""
        if self.decoded is not None:
            return self.decoded.read(start, stop)
        assert self.offset is not None
        return self.wire.read(self.offset + start, self.offset + stop)

    def copy_to(self, out: BinaryIO) -> None:
        """Write the whole body so far to `out`."""
        if self.decoded is not None:
            self.decoded.copy_to(out)
        elif self.offset is not None:
            self.wire.copy_to(out, self.offset, self.offset + self.size)

    def read_all(self) -> bytes:
        """The whole body so far; for small bodies and tests."""
        return self.read(0, self.size)

    def close(self) -> None:
        if self.decoded is not None:
            self.decoded.close()
        self.wire.close()
