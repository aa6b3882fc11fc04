"""Timestamp a terminal's output stream (from `tmux pipe-pane`): one line per read.

    python tests/bench/stamp.py OUT

Writes `TIME BYTES` lines to OUT: the bursts are the app's frames.
"""

from __future__ import annotations

import sys
import time


def main() -> int:
    stream = sys.stdin.buffer.raw  # type: ignore[attr-defined]
    with open(sys.argv[1], "w", buffering=1) as out:
        while True:
            data = stream.read(1 << 20)
            if not data:
                return 0
            out.write(f"{time.time():.6f} {len(data)}\n")


if __name__ == "__main__":
    sys.exit(main())
