"""Hostile servers and bad input, round two (core): URL words, counts, framing and limits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sockview.cli import main
from sockview.core.url import UrlError, parse_url
from tests.conftest import send_parts

# -- URLs that say what is wrong with them ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("127.0.0.1:8000/a?next=http://x", "/a?next=http://x"),
        ("localhost:8000/x?u=https://y", "/x?u=https://y"),
        ("127.0.0.1:8000", "/"),
        ("//127.0.0.1:8000/x", "/x"),
    ],
)
def test_a_url_without_a_scheme_is_http_even_with_a_url_in_its_query(url: str, path: str) -> None:
    target = parse_url(url)
    assert (target.scheme, target.port, target.path) == ("http", 8000, path)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http:/127.0.0.1:8000/x",
            "http:/ needs two slashes: did you mean http://127.0.0.1:8000/x?",
        ),
        ("https:127.0.0.1/x", "https: needs two slashes: did you mean https://127.0.0.1/x?"),
        ("HTTP:/h", "http:/ needs two slashes: did you mean http://h?"),
        ("http:", "the URL has no host"),
        (
            "javascript:alert(1)",
            "unsupported scheme 'javascript': sockview fetches http:// and https:// URLs",
        ),
        ("mailto:a@b.c", "unsupported scheme 'mailto': sockview fetches http:// and https:// URLs"),
        (
            "data:text/plain,hi",
            "unsupported scheme 'data': sockview fetches http:// and https:// URLs",
        ),
    ],
)
def test_a_mistyped_url_says_what_is_wrong_with_it(url: str, message: str) -> None:
    with pytest.raises(UrlError) as error:
        parse_url(url)
    assert str(error.value) == message


def test_a_url_with_a_url_in_its_query_is_fetched(serve, capsys) -> None:  # type: ignore[no-untyped-def]
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    status = main([f"127.0.0.1:{server.port}/a?next=http://x", "--plain"])
    assert status == 0, capsys.readouterr().err
    assert server.requests[0].startswith(b"GET /a?next=http://x HTTP/1.0\r\n")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http:/127.0.0.1:9/x", "http:/ needs two slashes"),
        ("javascript:alert(1)", "unsupported scheme 'javascript'"),
        ("mailto:a@b.c", "unsupported scheme 'mailto'"),
    ],
)
def test_the_cli_says_what_is_wrong_with_a_url(url: str, message: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_:
        main([url, "--plain"])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err.splitlines()[-1]


# -- one recv, one byte, one record -------------------------------------------------------


def test_plain_mode_counts_one_in_the_singular(serve, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
    server = serve(send_parts(response))
    status = main(
        [server.url("/x.txt"), "--plain", "-o", str(tmp_path), "--log", str(tmp_path / "l.csv")]
    )
    assert status == 0
    err = capsys.readouterr().err
    assert f"sockview: {len(response)} bytes in 1 recv, " in err
    assert "; body 1 byte (" in err
    assert "saved the body (1 byte) to " in err
    assert "wrote 1 record to " in err
    assert "1 recvs" not in err and "1 bytes" not in err and "1 records" not in err


def test_help_shows_one_example_a_line() -> None:
    help_ = subprocess.run(
        [sys.executable, "-m", "sockview", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert help_.returncode == 0
    lines = help_.stdout.splitlines()
    examples = lines[lines.index("examples:") + 1 :]
    assert [line.strip() for line in examples] == [
        "sockview --demo",
        "sockview --demo --plain --delay 0.25",
        "sockview http://127.0.0.1:8000/cover.png -o stuff.png",
    ]
    # The options' help is still wrapped to the terminal.
    assert max(map(len, lines)) <= 80
