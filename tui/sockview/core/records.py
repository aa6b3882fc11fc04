"""Compact storage for one record per recv() call."""

from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass
from itertools import accumulate, islice


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


class RecvLog:
    """Every recv of a fetch, in parallel arrays.

    The recv loop appends to `times_ns`, then `sizes`, directly (see `Fetch._receive`);
    `totals` is derived from `sizes` when read, so that the loop stores two numbers a recv,
    not three (a bare loop that stored two ran 9% faster than one that stored three, in 21
    pairs on loopback). About 20 bytes a record, so a million recvs fit in 20 MB. Readers
    on other threads may read any index below the `stop` of the last `ChunksReceived` they
    saw, or below `len(sizes)`: the arrays only grow.
    """

    __slots__ = ("_lock", "_totals", "sizes", "times_ns")

    def __init__(self) -> None:
        self.times_ns = array("q")
        self.sizes = array("I")
        self._totals = array("Q")
        self._lock = threading.Lock()

    @property
    def totals(self) -> array[int]:
        """The running total of raw bytes after each recv, as far as `sizes` goes now."""
        known = len(self.sizes)
        if len(self._totals) < known:
            with self._lock:  # the loop's thread, the watchdog and the UI may all read
                done = len(self._totals)
                if done < known:
                    start = self._totals[-1] if done else 0
                    running = accumulate(self.sizes[done:known], initial=start)
                    self._totals.extend(islice(running, 1, None))  # `start` is no row
        return self._totals

    def __len__(self) -> int:
        return len(self.sizes)

    def __getitem__(self, index: int) -> ChunkRecord:
        if index < 0:
            index += len(self.sizes)
        return ChunkRecord(index, self.times_ns[index], self.sizes[index], self.totals[index])

    @property
    def total(self) -> int:
        return self.totals[-1] if self.totals else 0

    def index_of_offset(self, offset: int) -> int:
        """The index of the recv that carried raw byte `offset` (binary search)."""
        lo, hi = 0, len(self.totals)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.totals[mid] <= offset:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def csv_lines(self, start: int = 0, stop: int | None = None) -> str:
        """Rows `index,time_ms,size,total`, one a line."""
        stop = len(self.sizes) if stop is None else stop
        t, s, tot = self.times_ns, self.sizes, self.totals
        return "".join(f"{i},{t[i] / 1e6:.3f},{s[i]},{tot[i]}\n" for i in range(start, stop))
