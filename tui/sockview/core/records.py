"""Compact storage for one record per recv() call: in memory, then the older rows on disk."""

from __future__ import annotations

import os
import tempfile
import threading
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate, islice
from typing import TYPE_CHECKING, BinaryIO, SupportsIndex, overload

if TYPE_CHECKING:
    _IntArray = array[int]
else:
    _IntArray = array  # not subscriptable at run time before Python 3.12

ROWS_IN_MEMORY = 4_000_000
"""Rows kept in memory (20 bytes each, so about 80 MB); older ones go to a temporary file."""
_ROW = 8 + 4 + 8
"""Bytes of one row on disk: time (q), size (I), running total (Q)."""
_CODES = ("q", "I", "Q")


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """What one recv() call returned."""

    index: int
    """0 for the first recv."""
    time_ns: int
    """Nanoseconds from connect to the return of this recv."""
    size: int
    total: int
    """Running total of raw bytes, this recv included."""


class Column(_IntArray):
    """One column of the log, indexed from the first recv whether the row is in memory or not.

    The array itself holds the rows still in memory (the newest); `append` and `frombytes`
    are the array's own, so the recv loop pays nothing for the rest. Reading (indexing,
    slicing, `len`, iterating) sees every row since the first, older ones read back from
    the log's file. Other operations of `array` see only the rows in memory.
    """

    __slots__ = ("_field", "_log")

    _log: RecvLog
    _field: int

    def __new__(cls, typecode: str, log: RecvLog, field: int) -> Column:
        column = super().__new__(cls, typecode)
        column._log = log
        column._field = field
        return column

    def __len__(self) -> int:
        with self._log._lock:  # a spill changes both terms
            return self._log._base + array.__len__(self)

    def __bool__(self) -> bool:
        return len(self) > 0

    @overload
    def __getitem__(self, index: SupportsIndex) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> array[int]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> int | array[int]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return array(self.typecode, list(self)[index])
            return self._log._read(self._field, start, max(start, stop))
        i = index.__index__()
        with self._log._lock:
            base = self._log._base
            size = base + array.__len__(self)
            if i < 0:
                i += size
            if not 0 <= i < size:
                raise IndexError("recv log index out of range")
            if i >= base:
                return array.__getitem__(self, i - base)
        return self._log._read(self._field, i, i + 1)[0]

    def __iter__(self) -> Iterator[int]:
        return iter(self[0 : len(self)])


class RecvLog:
    """Every recv of a fetch, in parallel arrays, the older rows moved to a file.

    The recv loop appends to `times_ns`, then `sizes`, directly (see `Fetch._receive`);
    `totals` is derived from `sizes` when read, so that the loop stores two numbers a recv,
    not three (a bare loop that stored two ran 9% faster than one that stored three, in 21
    pairs on loopback). About 20 bytes a record. Beyond `rows_in_memory` rows, `spill`
    (called from another thread, the fetch's watchdog) moves the oldest rows, whole blocks
    of half that many, to a temporary file, so memory stays bounded whatever the number of
    recvs; every row can still be read, and the file goes when the log does.

    Readers on other threads may read any index below the `stop` of the last
    `ChunksReceived` they saw, or below `len(sizes)`: the log only grows. A lock keeps
    readers and `spill` apart; the loop never takes it (under the GIL, an append and the
    removal of the oldest rows from an array are each atomic).
    """

    __slots__ = (
        "_base",
        "_block",
        "_file",
        "_lock",
        "_spill_lock",
        "_totals",
        "rows_in_memory",
        "sizes",
        "times_ns",
    )

    def __init__(self, rows_in_memory: int = ROWS_IN_MEMORY) -> None:
        if rows_in_memory < 2:
            raise ValueError("rows_in_memory must be at least 2")
        self.rows_in_memory = rows_in_memory
        self._block = rows_in_memory // 2
        self._base = 0
        """Rows on disk: the arrays hold rows from this index on."""
        self._file: BinaryIO | None = None
        self._lock = threading.Lock()
        self._spill_lock = threading.Lock()
        self.times_ns = Column("q", self, 0)
        self.sizes = Column("I", self, 1)
        self._totals = Column("Q", self, 2)

    @property
    def on_disk(self) -> int:
        """Rows moved to the temporary file so far (the oldest ones)."""
        return self._base

    @property
    def in_memory(self) -> int:
        """Rows still in memory (the newest ones)."""
        return array.__len__(self.sizes)

    @property
    def totals(self) -> Column:
        """The running total of raw bytes after each recv, as far as `sizes` goes now."""
        with self._lock:  # the loop's thread, the watchdog and the UI may all read
            self._extend_totals()
        return self._totals

    def _extend_totals(self) -> None:
        """Bring `_totals` up to `sizes`; the caller holds `_lock`."""
        sizes, totals = self.sizes, self._totals
        known = array.__len__(sizes)
        done = array.__len__(totals)
        if done < known:
            start = array.__getitem__(totals, -1) if done else self._total_on_disk()
            running = accumulate(array.__getitem__(sizes, slice(done, known)), initial=start)
            totals.extend(islice(running, 1, None))  # `start` is no row

    def _total_on_disk(self) -> int:
        if not self._base:
            return 0
        return self._read_disk(2, self._base - 1, self._base)[0]

    def __len__(self) -> int:
        return len(self.sizes)

    def __getitem__(self, index: int) -> ChunkRecord:
        if index < 0:
            index += len(self.sizes)
        return ChunkRecord(index, self.times_ns[index], self.sizes[index], self.totals[index])

    @property
    def total(self) -> int:
        totals = self.totals
        return totals[-1] if totals else 0

    def index_of_offset(self, offset: int) -> int:
        """The index of the recv that carried raw byte `offset` (binary search)."""
        totals = self.totals
        lo, hi = 0, len(totals)
        while lo < hi:
            mid = (lo + hi) // 2
            if totals[mid] <= offset:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def csv_lines(self, start: int = 0, stop: int | None = None) -> str:
        """Rows `index,time_ms,size,total`, one a line."""
        stop = len(self.sizes) if stop is None else stop
        t, s, tot = self.times_ns[start:stop], self.sizes[start:stop], self.totals[start:stop]
        return "".join(f"{start + i},{t[i] / 1e6:.3f},{s[i]},{tot[i]}\n" for i in range(len(s)))

    # -- the older rows on disk ---------------------------------------------------------

    def spill(self) -> int:
        """Move the oldest rows to the file while more than `rows_in_memory` are in memory.

        Returns how many rows moved. Raises OSError if the file cannot take them (the rows
        then stay in memory).
        """
        moved = 0
        with self._spill_lock:
            while array.__len__(self.sizes) > self.rows_in_memory:
                self._spill_block()
                moved += self._block
        return moved

    def _spill_block(self) -> None:
        block = self._block
        with self._lock:
            self._extend_totals()
            offset = self._base * _ROW
        columns = (self.times_ns, self.sizes, self._totals)
        if self._file is None:
            # Closed with the log (unlinked at once where the system allows).
            self._file = tempfile.TemporaryFile(prefix="sockview-recvlog-")  # noqa: SIM115
        # Only this thread removes rows, and the loop only appends: the block stays put
        # while it is written, and readers still find it in memory meanwhile. One column
        # at a time, so that the copy in flight is at most 8 bytes a row of the block.
        for column, at in zip(columns, (0, 8 * block, 12 * block), strict=True):
            part = memoryview(array.__getitem__(column, slice(0, block))).cast("B")
            written = os.pwrite(self._file.fileno(), part, offset + at)
            if written != len(part):
                raise OSError(f"short write to the recv log file ({written} of {len(part)})")
        with self._lock:
            for column in columns:
                array.__delitem__(column, slice(0, block))
            self._base += block

    def _read(self, field: int, start: int, stop: int) -> array[int]:
        """Rows `start` to `stop` of one column (0 times, 1 sizes, 2 totals), any of them."""
        with self._lock:
            if field == 2:
                self._extend_totals()
            base = self._base
            column = (self.times_ns, self.sizes, self._totals)[field]
            stop = min(stop, base + array.__len__(column))
            if start >= base:
                return array.__getitem__(column, slice(start - base, max(0, stop - base)))
            # The part on disk, then the part in memory: under the lock, so that no spill
            # moves rows between the two reads.
            out = self._read_disk(field, start, min(stop, base))
            if stop > base:
                out.extend(array.__getitem__(column, slice(0, stop - base)))
            return out

    def _read_disk(self, field: int, start: int, stop: int) -> array[int]:
        """Rows `start` to `stop` (all below `_base`) of one column, from the file."""
        assert self._file is not None
        out = array(_CODES[field])
        block = self._block
        width = out.itemsize
        column_at = (0, 8 * block, 12 * block)[field]
        fd = self._file.fileno()
        while start < stop:
            number, row = divmod(start, block)
            count = min(stop - start, block - row)
            at = number * block * _ROW + column_at + row * width
            data = os.pread(fd, count * width, at)
            if len(data) != count * width:
                raise OSError("the recv log file is shorter than expected")
            out.frombytes(data)
            start += count
        return out
