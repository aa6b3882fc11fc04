"""Server text made safe to show: every control character becomes a visible escape.

Covers C0 (ESC, NUL, ...), DEL, C1, and the Unicode format characters that reorder or
hide text (bidi overrides and isolates, zero-width marks). Tab is escaped too: a header
value that jumps columns misleads as much as one that moves the cursor.
"""

from __future__ import annotations

import unicodedata
from functools import cache


@cache
def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _needs_escape(char: str) -> bool:
    code = ord(char)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return True
    # From U+00A0 up: only the invisible ones, such as U+00AD, the soft hyphen (Cf).
    return code >= 0xA0 and unicodedata.category(char) in ("Cf", "Cc", "Zl", "Zp")


def visible(text: str) -> str:
    """`text` with control and format characters shown as `\\xNN` / `\\uNNNN` escapes."""
    if text.isprintable() and text.isascii():
        return text
    return "".join(_escape(c) if _needs_escape(c) else c for c in text)


def visible_lines(text: str) -> str:
    """Like `visible`, but line breaks (CRLF or LF) are kept as line breaks."""
    return "\n".join(visible(line.removesuffix("\r")) for line in text.split("\n"))
