"""Replay: a recorded `Run` played back into a new one, at its recorded pace.

A `Replay` stands where a `Fetch` stands: it fills `self.run` and tells its listener the
same events in the same order (connected, request sent, interim responses, the head,
rows, the end), so that plain mode and the app show a replay as they show a fetch. It
sends nothing over the network. Rows are handed over in slices of `slice_ns` of
recorded time, each when the clock reaches it (scaled by the speed); speed 0 plays the
whole run at once.

Threading as for a fetch: `perform` blocks on one thread; `pause`, `resume`,
`set_speed`, `skip_to_end` and `cancel` may be called from any other.
"""

from __future__ import annotations

import bisect
import threading
import time
from array import array
from collections.abc import Callable

from sockview.core.events import (
    ChunksReceived,
    Connected,
    Event,
    Failed,
    Finished,
    RequestSent,
)
from sockview.core.run import FetchState, Run

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
"""The speeds that `faster` and `slower` step through."""
SLICE_NS = 20_000_000
"""Recorded time handed over at once: the live fetch's report interval."""

Listener = Callable[[Event], None]


class Replay:
    """Play `recorded` into `self.run`; build it, then call `perform`."""

    def __init__(
        self,
        recorded: Run,
        *,
        speed: float = 1.0,
        listener: Listener | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Event, float], bool] | None = None,
        slice_ns: int = SLICE_NS,
    ) -> None:
        self.recorded = recorded
        self.listener: Listener = listener or (lambda event: None)
        self.speed = speed
        self.clock = clock
        self._wait = wait or (lambda event, seconds: event.wait(seconds))
        self.slice_ns = slice_ns
        self.paused = False
        self.run = Run(
            target=recorded.target,
            bufsize=recorded.bufsize,
            style=recorded.style,
            request=recorded.request,
            started_at=recorded.started_at,
            peer=recorded.peer,
            local=recorded.local,
            tls_version=recorded.tls_version,
            body=recorded.body,
            wire=recorded.wire,
            recorded_from=recorded.recorded_from,
            # What the fetch observed beside the recvs: shared, read only by recv index
            # (the views read samples below the rows shown so far).
            peer_address=recorded.peer_address,
            family=recorded.family,
            tls_cipher=recorded.tls_cipher,
            cert_subject=recorded.cert_subject,
            cert_issuer=recorded.cert_issuer,
            rcvbuf_asked=recorded.rcvbuf_asked,
            rcvbuf=recorded.rcvbuf,
            clock_origin_ns=recorded.clock_origin_ns,
            phases=recorded.phases,
            kernel=recorded.kernel,
            kernel_note=recorded.kernel_note,
            sender=recorded.sender,
        )
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._skip = False
        self._cancelled = False
        # Where the recorded time stands: `_base_ns` of recorded time at clock `_base_at`.
        self._base_ns = 0
        self._base_at = clock()

    # -- control from other threads ------------------------------------------------------

    @property
    def position_ns(self) -> int:
        """The recorded time that the replay has reached."""
        if self.paused or self.speed <= 0:
            return self._base_ns
        return self._base_ns + int((self.clock() - self._base_at) * self.speed * 1e9)

    def _rebase(self) -> None:
        self._base_ns, self._base_at = self.position_ns, self.clock()

    def pause(self) -> None:
        self._rebase()
        self.paused = True
        self._wake.set()

    def resume(self) -> None:
        self._base_at = self.clock()
        self.paused = False
        self._wake.set()

    def toggle_pause(self) -> bool:
        """Pause or resume; True if now paused."""
        if self.paused:
            self.resume()
        else:
            self.pause()
        return self.paused

    def set_speed(self, speed: float) -> None:
        self._rebase()
        self.speed = speed
        self._wake.set()

    def faster(self) -> float:
        self.set_speed(next((s for s in SPEEDS if s > self.speed), SPEEDS[-1]))
        return self.speed

    def slower(self) -> float:
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0]))
        return self.speed

    def skip_to_end(self) -> None:
        self._skip = True
        self._wake.set()

    def cancel(self, reason: str = "cancelled") -> None:
        self._cancelled = True
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def result(self) -> Finished | Failed | None:
        return self.run.result

    # -- playing -------------------------------------------------------------------------

    def perform(self) -> Finished | Failed:
        """Play the run; returns its recorded result (or a cancel)."""
        recorded, run = self.recorded, self.run
        log = recorded.log
        rows = len(log.sizes)
        run.state = FetchState.CONNECTING
        if not self.paused:
            self._base_at = self.clock()
        self.listener(Connected(peer=recorded.peer, tls_version=recorded.tls_version))
        run.state = FetchState.RECEIVING
        if recorded.request:
            self.listener(RequestSent(recorded.request))
        head = recorded.head
        interims = list(recorded.interims)
        shown = 0
        while shown < rows and not self._stop.is_set():
            due = self._due_rows(log.times_ns, shown, rows)
            if due <= shown:
                self._sleep_until(log.times_ns[shown])
                continue
            # Interim responses and the head come when the recv that ended them does.
            if head is not None and run.head is None and due > head.head_index:
                self._show_rows(shown, head.head_index + 1)
                shown = head.head_index + 1
                for interim in interims:
                    run.interims.append(interim)
                    self.listener(interim)
                interims = []
                run.head_bytes = recorded.head_bytes
                run.head = head
                self.listener(head)
                continue
            self._show_rows(shown, due)
            shown = due
        for interim in interims if head is None else []:
            run.interims.append(interim)
            self.listener(interim)
        result = self._result(shown)
        run.finish(result)
        self.listener(result)
        return result

    def _due_rows(self, times: array[int], shown: int, rows: int) -> int:
        """How many rows the replay has reached: all of them when skipping or at speed 0."""
        if self._skip or self.speed <= 0:
            return rows
        reached = self.position_ns
        # Whole slices of recorded time at once, as the live fetch reported them.
        reached -= reached % self.slice_ns
        return bisect.bisect_right(times, reached, shown, rows)

    def _sleep_until(self, recorded_ns: int) -> None:
        if self.paused:
            self._wake.clear()
            self._wait(self._wake, 0.1)
            return
        # A row is shown at the end of its slice, as the live fetch reports it.
        due_at = -(-recorded_ns // self.slice_ns) * self.slice_ns
        seconds = (due_at - self.position_ns) / 1e9 / max(self.speed, 1e-9)
        self._wake.clear()
        self._wait(self._wake, min(max(seconds, 1e-6), 0.1))

    def _show_rows(self, start: int, stop: int) -> None:
        if stop <= start:
            return
        source, target = self.recorded.log, self.run.log
        for change in self.recorded.delays:
            if change.index < stop and change not in self.run.delays:
                self.run.delays.append(change)
        target.times_ns.extend(source.times_ns[start:stop])
        target.sizes.extend(source.sizes[start:stop])
        total = target.total
        self.listener(ChunksReceived(start, stop, total, self._body_bytes(total)))

    def _body_bytes(self, total: int) -> int:
        head, body = self.run.head, self.recorded.body.size
        if head is None:
            return 0
        return max(0, min(body, total - head.body_offset))

    def _result(self, shown: int) -> Finished | Failed:
        recorded = self.recorded.result
        if shown == len(self.recorded.log.sizes) and not self._cancelled:
            if recorded is not None:
                return recorded
            reason = "the run was recorded before its fetch ended"
        else:
            reason = "cancelled"
        total = self.run.log.total
        return Failed(
            reason=reason,
            total=total,
            recv_count=len(self.run.log.sizes),
            body_bytes=self._body_bytes(total),
            elapsed=self.run.elapsed,
            cancelled=self._cancelled,
        )
