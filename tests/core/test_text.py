"""Server text made visible: letters stay, invisible and control characters become escapes."""

from __future__ import annotations

import pytest

from sockview.core.text import visible, visible_lines


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain ASCII", "plain ASCII"),
        ("caf\u00e9 \u00c7a \u00ff", "caf\u00e9 \u00c7a \u00ff"),  # latin-1 letters stay
        ("tab\there", "tab\\x09here"),
        ("esc\x1b[2J", "esc\\x1b[2J"),
        ("nul\x00", "nul\\x00"),
        ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
        ("soft\u00adhyphen", "soft\\xadhyphen"),  # invisible, yet below U+0100
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("\u202eright-to-left", "\\u202eright-to-left"),
        ("line\u2028sep", "line\\u2028sep"),
    ],
)
def test_visible(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_visible_lines_keeps_line_breaks_only() -> None:
    assert visible_lines("A: b\r\nC: \x1bd\nE") == "A: b\nC: \\x1bd\nE"
