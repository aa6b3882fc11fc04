"""Where the response body goes while it arrives."""

from __future__ import annotations

import os
import tempfile
import threading
from typing import BinaryIO, Protocol, runtime_checkable

SPOOL_LIMIT = 4 * 1024 * 1024
"""Bodies up to this size stay in memory; larger ones go to a temporary file."""
_COPY_SLICE = 1024 * 1024


class BodySink(Protocol):
    """Receives the decoded body, in order."""

    size: int
    where: str
    """Where the body is kept, for a message such as "no space left in WHERE"."""

    def write(self, data: bytes | bytearray | memoryview) -> object: ...

    def close(self) -> None: ...


@runtime_checkable
class ReadableBody(Protocol):
    """A body store that keeps the body and can give any part of it back."""

    size: int

    def read(self, start: int, stop: int) -> bytes: ...

    def copy_to(self, out: BinaryIO) -> None: ...


class DiscardBody:
    """Counts the body and keeps nothing: for plain mode when nothing will be saved."""

    where = "nowhere"

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.size += len(data)

    def close(self) -> None:
        pass


class SpooledBody:
    """Keeps the body in memory up to `SPOOL_LIMIT`, then in a temporary file.

    Memory stays bounded whatever the size, and appending is linear: never the book's
    `picture = picture + data`, which copies everything received so far on every recv.
    """

    def __init__(self, limit: int = SPOOL_LIMIT) -> None:
        self.size = 0
        self.where = f"the temporary folder ({tempfile.gettempdir()})"
        # The recv thread writes while the UI thread may save: one lock per batched write.
        self._lock = threading.Lock()
        # Closed by `close()`: the store outlives any one block of code.
        self._file: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=limit, prefix="sockview-body-"
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        with self._lock:
            self._file.write(data)
            self.size += len(data)

    @property
    def in_memory(self) -> bool:
        return not self._file._rolled  # type: ignore[attr-defined]

    def copy_to(self, out: BinaryIO) -> None:
        """Write the body so far (as big as it is when called) to `out`.

        The lock is held only to take the size and a descriptor of its own: the recv loop
        needs it for every batch, and a copy of gigabytes would stall the fetch (and a
        cancel) for seconds. The bytes already written never change, so a positioned read
        of a duplicated descriptor may go on while the loop appends.
        """
        with self._lock:
            self._file.flush()
            size = self.size
            if self.in_memory:
                memory: bytes | None = self._file._file.getvalue()[:size]  # type: ignore[attr-defined]
                fd = -1
            else:
                memory = None
                fd = os.dup(self._file.fileno())
        if memory is not None:
            out.write(memory)
            return
        try:
            offset = 0
            while offset < size:
                piece = os.pread(fd, min(_COPY_SLICE, size - offset), offset)
                if not piece:
                    break
                out.write(piece)
                offset += len(piece)
        finally:
            os.close(fd)

    def read(self, start: int, stop: int) -> bytes:
        """Body bytes `[start, stop)` (fewer if the body is shorter so far)."""
        with self._lock:
            self._file.flush()
            position = self._file.tell()
            self._file.seek(max(0, start))
            try:
                return self._file.read(max(0, stop - max(0, start)))
            finally:
                self._file.seek(position)

    def read_all(self) -> bytes:
        """The whole body so far; for small bodies and tests."""
        with self._lock:
            self._file.flush()
            position = self._file.tell()
            self._file.seek(0)
            try:
                return self._file.read()
            finally:
                self._file.seek(position)

    def close(self) -> None:
        with self._lock:
            self._file.close()
