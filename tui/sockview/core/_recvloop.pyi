import socket
from array import array
from collections.abc import Callable

from sockview.core.recvloop import Switch

def recv_counted(
    sock: socket.socket,
    buffer: memoryview,
    fill: int,
    batch: int,
    step: int,
    total: int,
    end: int,
    deadline: int,
    delay: Switch,
    t0: int,
    clock: Callable[[], int],
    times: array[int],
    sizes: array[int],
    /,
) -> tuple[int, int, int, int, OSError | None]: ...

class Reader:
    def __init__(
        self,
        sock: socket.socket,
        ring: memoryview | None,
        step: int,
        total: int,
        end: int,
        t0: int,
    ) -> None: ...
    def collect(
        self, deadline: int, times: array[int], sizes: array[int], /
    ) -> tuple[int, int, int, int, int, OSError | None]: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...
