"""The demo's sample picture: a PNG that the project draws itself, no file shipped.

It is exactly `SIZE` bytes, the size of the book's cover.jpg (70057), so that the demo
reproduces the book's figures: a 242-byte header, 70303 bytes in all.
"""

from __future__ import annotations

import random
import struct
import zlib
from functools import cache

SIZE = 70057
WIDTH, HEIGHT = 320, 200


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _pixels() -> bytes:
    """A bar chart of recv sizes, over a sky gradient, with a little grain."""
    rng = random.Random(5120)
    bars = [rng.choice((1448, 2896, 4344, 5120, 5120, 960, 2384, 3752)) for _ in range(20)]
    rows = bytearray()
    bar_width = WIDTH // len(bars)
    for y in range(HEIGHT):
        rows.append(0)  # filter type: none
        for x in range(WIDTH):
            height = bars[x // bar_width] * (HEIGHT - 20) // 5120
            grain = rng.randrange(16)
            if HEIGHT - y <= height and x % bar_width not in (0, bar_width - 1):
                rgb = (40 + grain, 150 + y // 4 + grain // 2, 90 + grain)
            else:
                rgb = (
                    20 + y // 3 + grain // 3,
                    40 + y // 2 + grain // 3,
                    120 + y // 2 + grain // 2,
                )
            rows += bytes(min(c, 255) for c in rgb)
    return bytes(rows)


@cache
def sample_png() -> bytes:
    """The picture, padded with a text chunk to exactly `SIZE` bytes."""
    header = b"\x89PNG\r\n\x1a\n" + _chunk(
        b"IHDR", struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    )
    image = _chunk(b"IDAT", zlib.compress(_pixels(), 6))
    end = _chunk(b"IEND", b"")
    overhead = len(header) + len(image) + len(end) + 12 + len(b"Comment\0")
    fill = SIZE - overhead
    if fill < 0:
        raise AssertionError(f"sample image is {-fill} bytes too big")
    note = (b"Made by sockview for its demo server. " * (fill // 38 + 1))[:fill]
    png = header + _chunk(b"tEXt", b"Comment\0" + note) + image + end
    assert len(png) == SIZE
    return png
