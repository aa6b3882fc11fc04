"""Bad user input: a usage error (exit 2) with one clear line, never a traceback or a fetch."""

from __future__ import annotations

from pathlib import Path

import pytest

from sockview.cli import main

URL = "http://127.0.0.1:9/"
"""Never fetched: each case fails in argument checking, before any connection."""

CASES = [
    # URLs
    (["ftp://127.0.0.1/x", "--plain"], "unsupported scheme 'ftp': sockview fetches http:// and"),
    (["gopher://127.0.0.1/", "--plain"], "unsupported scheme 'gopher'"),
    (["http://", "--plain"], "the URL has no host"),
    (["http:///path", "--plain"], "the URL has no host"),
    (["http://[::1/", "--plain"], "malformed URL"),
    (["http://[nothex]/", "--plain"], "malformed URL"),
    (["http://127.0.0.1:99999/", "--plain"], "bad port: it must be a number from 1 to 65535"),
    (["http://127.0.0.1:0/", "--plain"], "bad port"),
    (["http://127.0.0.1:port/", "--plain"], "bad port"),
    (["http://127.0.0.1:/", "--plain"], "bad port"),
    (["http://exa mple.test/", "--plain"], "the URL contains spaces or control characters"),
    (["http://example.test/\x1b[2J", "--plain"], "the URL contains spaces or control characters"),
    (["http://user:secret@127.0.0.1/", "--plain"], "credentials in URLs are not supported"),
    (["", "--plain"], "plain mode needs a URL (or --demo)"),
    (["   ", "--plain"], "no URL given"),
    # numbers
    (
        [URL, "--bufsize", "-1"],
        "argument --bufsize: must be a whole number from 1 to 16777216, not '-1'",
    ),
    ([URL, "--bufsize", "0"], "argument --bufsize: must be a whole number from 1 to 16777216"),
    (
        [URL, "--bufsize", "99999999999"],
        "argument --bufsize: must be a whole number from 1 to 16777216",
    ),
    (
        [URL, "--bufsize", "1.5"],
        "argument --bufsize: must be a whole number from 1 to 16777216, not '1.5'",
    ),
    (
        [URL, "--bufsize", "lots"],
        "argument --bufsize: must be a whole number from 1 to 16777216, not 'lots'",
    ),
    ([URL, "--delay", "-0.5"], "argument --delay: must be a number from 0 to 60"),
    ([URL, "--delay", "1e9"], "argument --delay: must be a number from 0 to 60"),
    ([URL, "--delay", "nan"], "argument --delay: must be a number from 0 to 60"),
    ([URL, "--delay", "inf"], "argument --delay: must be a number from 0 to 60"),
    ([URL, "--delay", "soon"], "argument --delay: must be a number from 0 to 60, not 'soon'"),
    (
        [URL, "--connect-timeout", "0"],
        "argument --connect-timeout: must be a number from 0.001 to 86400",
    ),
    (
        [URL, "--connect-timeout", "-3"],
        "argument --connect-timeout: must be a number from 0.001 to 86400",
    ),
    (
        [URL, "--connect-timeout", "nan"],
        "argument --connect-timeout: must be a number from 0.001 to 86400",
    ),
    (
        [URL, "--read-timeout", "1e99"],
        "argument --read-timeout: must be a number from 0.001 to 86400",
    ),
    ([URL, "--read-timeout", "-inf"], "argument --read-timeout: expected one argument"),
    ([URL, "--deadline", "0"], "argument --deadline: must be a number from 0.001 to 86400"),
    (
        [URL, "--deadline", "never"],
        "argument --deadline: must be a number from 0.001 to 86400, not 'never'",
    ),
    (
        [URL, "--max-header", "10"],
        "argument --max-header: must be a whole number from 1024 to 67108864",
    ),
    (
        [URL, "--max-header", "1e12"],
        "argument --max-header: must be a whole number from 1024 to 67108864",
    ),
    # combinations
    ([URL, "--http", "2"], "argument --http: invalid choice: '2'"),
    (
        [URL, "--book", "--http", "1.1"],
        "--book sends HTTP/1.0; it cannot be combined with --http 1.1",
    ),
    ([URL, "--log", "x.csv"], "--log is for plain mode: add --plain"),
    ([URL, "--demo"], "give one of a URL, --demo, --replay or --compare"),
    ([URL, "--bogus"], "unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize(("argv", "expected"), CASES, ids=[repr(c[0][:3]) for c in CASES])
def test_usage_error(capsys, argv: list[str], expected: str) -> None:
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert "Traceback" not in err
    # argparse's usage, then exactly one error line, which says what is wrong.
    assert err.startswith("usage: sockview")
    last = err.rstrip("\n").splitlines()[-1]
    assert sum(line.startswith("sockview: error:") for line in err.splitlines()) == 1
    assert last.startswith("sockview: error: ")
    assert expected in last
    assert "\x1b" not in err


def test_cacert_that_does_not_exist(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(SystemExit) as exit:
        main([URL, "--plain", "--cacert", str(missing)])
    assert exit.value.code == 2
    last = capsys.readouterr().err.rstrip("\n").splitlines()[-1]
    assert last == (
        f"sockview: error: argument --cacert: cannot load CA certificates from {str(missing)!r}:"
        " No such file or directory"
    )


def test_cacert_that_is_not_pem(capsys, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"\x00\x01 not a certificate\n")
    with pytest.raises(SystemExit) as exit:
        main([URL, "--plain", "--cacert", str(junk)])
    assert exit.value.code == 2
    last = capsys.readouterr().err.rstrip("\n").splitlines()[-1]
    assert last.startswith(
        f"sockview: error: argument --cacert: cannot load CA certificates from {str(junk)!r}: "
    )


def test_limits_at_the_edges_are_accepted(serve, capsys) -> None:
    from tests.conftest import send_parts

    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    argv = [
        server.url("/"),
        "--plain",
        "--bufsize",
        "1",
        "--delay",
        "0",
        "--connect-timeout",
        "86400",
        "--read-timeout",
        "86400",
        "--deadline",
        "86400",
        "--max-header",
        "1024",
    ]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["1 1", "1 2", "1 3"]
