"""Hostile text: markup and control characters from the server reach the events raw (latin-1),
and plain mode prints them as visible escapes, never as live terminal codes.

How the app shows the same text literally is the UI's side (tests/ui).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sockview.cli import main
from sockview.core.text import visible
from tests.conftest import send_parts
from tests.core.hostile import failed, fetch, fetch_pieces, finished, printable

MARKUP = b"[bold]b[/] [link=https://example.test]l[/link] [@click=app.quit]q[/] [red on white]"
# ESC sequences that would clear the screen, set the title, retitle a link; DEL; C1 NEL and
# CSI; the UTF-8 bytes of the bidi override U+202E (latin-1: a, \x80, \xae).
CONTROLS = b"\x1b[2J\x1b]0;owned\x07\x1b]8;;http://x\x1b\\x\x7f\x85\x9b31m\xe2\x80\xae"
LATIN1 = b"caf\xe9 \xff\xfe"

RESPONSE = (
    b"HTTP/1.1 200 OK " + MARKUP + CONTROLS + b"\r\n"
    b"X-Markup: " + MARKUP + b"\r\n"
    b"X-Controls: " + CONTROLS + b"\r\n"
    b"X-Latin-1: " + LATIN1 + b"\r\n"
    b"Content-Length: 2\r\n\r\nok"
)


def test_events_carry_the_raw_text_decoded_as_latin1() -> None:
    running = fetch_pieces([RESPONSE])
    finished(running)
    head = running.head
    assert head is not None
    assert head.reason == "OK " + (MARKUP + CONTROLS).decode("latin-1")
    assert head.status_line == "HTTP/1.1 200 " + head.reason
    assert dict(head.headers) == {
        "X-Markup": MARKUP.decode("latin-1"),
        "X-Controls": CONTROLS.decode("latin-1"),
        "X-Latin-1": "café ÿþ",
        "Content-Length": "2",
    }
    assert head.head_text == RESPONSE[: RESPONSE.index(b"\r\n\r\n")].decode("latin-1")


def test_plain_mode_shows_markup_as_text_and_controls_as_escapes(serve, capsys) -> None:
    server = serve(send_parts(RESPONSE))
    assert main([server.url("/"), "--plain"]) == 0
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    for text in (out, err):
        assert printable(text, allow="\n"), "a raw control character reached the terminal"
    assert "\x1b" not in out + err
    # Markup is plain text here: printed as it came.
    assert MARKUP.decode("latin-1") in out
    expected_controls = (
        "\\x1b[2J\\x1b]0;owned\\x07\\x1b]8;;http://x\\x1b\\x\\x7f\\x85\\x9b31mâ\\x80®"
    )
    assert visible(CONTROLS.decode("latin-1")) == expected_controls
    assert f"X-Controls: {expected_controls}" in out.splitlines()
    assert "X-Latin-1: café ÿþ" in out.splitlines()
    # The summary quotes the status line, escaped too.
    assert expected_controls in err


def test_a_bare_cr_cannot_rewrite_a_line(serve, capsys) -> None:
    """h11 refuses a CR inside a value; the complaint quotes it escaped."""
    head = b"HTTP/1.1 200 OK\r\nX-A: one\rX-Fake: two\r\nContent-Length: 0\r\n\r\n"
    server = serve(send_parts(head))
    assert main([server.url("/"), "--plain"]) == 1
    err = capsys.readouterr().err
    assert (
        err == "sockview: invalid response header: illegal header line: b'X-A: one\\rX-Fake: two'\n"
    )


def test_reasons_that_quote_the_server_are_escaped() -> None:
    """h11 quotes the offending line in its complaint; the quote is a repr, one line, no ESC."""
    running = fetch_pieces([b"HTTP/1.1 200 OK\r\nX-Bad: a\x00\x1b[2J\r\n\r\n"])
    result = failed(running)
    assert result.reason == "invalid response header: illegal header line: b'X-Bad: a\\x00\\x1b[2J'"


def test_plain_mode_failure_line_is_escaped(serve, capsys) -> None:
    server = serve(send_parts(b"HTTP/1.1 2\x1b[2J0 OK\r\n\r\n"))
    assert main([server.url("/"), "--plain"]) == 1
    err = capsys.readouterr().err
    assert err == "sockview: invalid HTTP status line: b'HTTP/1.1 2\\x1b[2J0 OK'\n"


def test_server_text_cannot_break_an_ascii_terminal(serve) -> None:
    """Plain mode on a terminal that can only take ASCII: escapes, not a UnicodeEncodeError."""
    server = serve(send_parts(RESPONSE))
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    done = subprocess.run(
        [sys.executable, "-m", "sockview", server.url("/"), "--plain"],
        capture_output=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr.decode("ascii", "replace")
    assert b"Traceback" not in done.stderr
    assert b"X-Latin-1: caf\\xe9 \\xff\\xfe" in done.stdout.splitlines()
    assert done.stdout.isascii() and done.stderr.isascii()


@pytest.mark.parametrize(
    "name",
    ["[bold]", "\x1b[31m", "\u202e", "\x00", "\x9b"],
    ids=["markup", "esc", "bidi", "nul", "c1"],
)
def test_visible_leaves_no_control_character(name: str) -> None:
    shown = visible(f"a{name}b")
    assert printable(shown)
    assert shown.startswith("a") and shown.endswith("b")


def test_markup_in_a_url_path_is_sent_escaped(serve) -> None:
    """What the user types is not server text, but it is shown too: it goes out encoded."""
    server = serve(send_parts(b"HTTP/1.1 204 No Content\r\n\r\n"))
    running = fetch(server.url("/[bold]x[/]"))
    finished(running)
    assert running.fetch.request.startswith(b"GET /%5Bbold%5Dx%5B/%5D HTTP/1.0\r\n")
