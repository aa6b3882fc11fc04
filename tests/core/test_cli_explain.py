"""The command line's -X, -H and -L (issue 13), against loopback servers."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from sockview.cli import main
from sockview.core.url import UrlError, parse_url, resolve_location
from tests.conftest import ScriptedServer


def run(argv: list[str], capsys) -> tuple[int, list[str], str]:  # type: ignore[no-untyped-def]
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def by_path(answers: dict[str, bytes]) -> Callable[[ScriptedServer], Callable[..., None]]:
    """A script that answers each request path with its response (404 for others)."""

    def make(server_ref: list[ScriptedServer]) -> Callable[[socket.socket], None]:
        def script(conn: socket.socket) -> None:
            request = server_ref[0].requests[-1]
            path = request.split(b" ")[1].decode()
            conn.sendall(answers.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
            conn.shutdown(socket.SHUT_WR)

        return script

    return make  # type: ignore[return-value]


@pytest.fixture
def redirecting(serve):  # type: ignore[no-untyped-def]
    """A server: /a -> 302 /b, /b -> 301 to its absolute URL /c, /c -> 200 'final',
    /loop -> 302 /loop."""
    ref: list[ScriptedServer] = []
    answers = {
        "/a": b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 3\r\n\r\nabc",
        "/c": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal",
        "/loop": b"HTTP/1.1 302 Found\r\nLocation: loop\r\nContent-Length: 0\r\n\r\n",
    }
    server = serve(by_path(answers)(ref))
    ref.append(server)
    answers["/b"] = (
        b"HTTP/1.1 301 Moved Permanently\r\nLocation: "
        + server.url("/c").encode()
        + b"\r\nContent-Length: 0\r\n\r\n"
    )
    return server


def test_head_and_a_header_from_the_command_line(redirecting, capsys) -> None:
    status, _lines, err = run(
        [redirecting.url("/c"), "--plain", "-X", "HEAD", "-H", "X-Test: yes"], capsys
    )
    assert status == 0, err
    request = redirecting.requests[-1]
    assert request.startswith(b"HEAD /c HTTP/1.0\r\n") and b"\r\nX-Test: yes\r\n" in request
    assert "body 0 bytes (no body)" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-H", "X-A: 1\r\nX-B: 2"], "CR, LF or NUL"),
        (["-H", "X A: 1"], "a header name is"),
        (["-X", "POST"], "GET or HEAD"),
        (["-X", "HEAD", "--book"], "--book sends the book's GET"),
        (["-L", "-o", "-"], "-L with -o -"),
    ],
)
def test_bad_method_or_header_is_one_line(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["http://127.0.0.1:9/", "--plain", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_without_l_a_redirect_is_shown_not_followed(redirecting, capsys) -> None:
    status, lines, _err = run([redirecting.url("/a"), "--plain"], capsys)
    assert status == 0
    assert "HTTP/1.1 302 Found" in lines and "Location: /b" in lines
    assert len(redirecting.requests) == 1


def test_l_follows_each_hop_as_its_own_block(redirecting, capsys, tmp_path: Path) -> None:
    out = tmp_path / "saved"
    status, lines, err = run([redirecting.url("/a"), "--plain", "-L", "-o", str(out)], capsys)
    assert status == 0, err
    assert [r.split(b" ")[1] for r in redirecting.requests] == [b"/a", b"/b", b"/c"]
    blocks = "\n".join(lines).split("\n\n")
    assert len(blocks) == 3
    assert "HTTP/1.1 302 Found" in blocks[0] and "Header length" in blocks[0]
    assert "HTTP/1.1 301 Moved Permanently" in blocks[1]
    assert "HTTP/1.1 200 OK" in blocks[2]
    assert f"302 Found → {redirecting.url('/b')}" in err
    assert f"301 Moved Permanently → {redirecting.url('/c')}" in err
    assert out.read_bytes() == b"final"  # only the last body is saved


def test_l_stops_after_ten_redirects(redirecting, capsys) -> None:
    status, _lines, err = run([redirecting.url("/loop"), "--plain", "-L"], capsys)
    assert status == 1
    assert len(redirecting.requests) == 11
    assert "stopped after 10 redirects" in err


def test_a_location_is_resolved_and_checked() -> None:
    here = parse_url("http://h:8/a/b?q")
    assert resolve_location(here, "c").url == "http://h:8/a/c"
    assert resolve_location(here, "/x").url == "http://h:8/x"
    assert resolve_location(here, "//other/y").url == "http://other/y"
    assert resolve_location(here, "https://s/z").url == "https://s/z"
    for bad in ("ftp://h/x", "/a\r\nb", "/a b", "javascript:alert(1)"):
        with pytest.raises(UrlError):
            resolve_location(here, bad)
