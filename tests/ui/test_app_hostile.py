"""Issue 9, part B, in the app: a hostile head never freezes it; error responses are named."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from sockview.ui.app import create_app

from .conftest import WAIT_LIMIT, make_settings, screen_text, wait_for

INTERIMS = 2000
HEADERS = 13000


def hostile_head(conn: socket.socket) -> None:
    """2,000 interim responses, then a head of 13,000 headers and one long line."""
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    for start in range(0, INTERIMS, 100):
        conn.sendall(interim * min(100, INTERIMS - start))
    headers = b"".join(b"X-%d: v\r\n" % n for n in range(HEADERS))
    long_line = b"X-Long: " + b"L" * 200_000 + b"\r\n"
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + headers + long_line + b"Content-Length: 2\r\n\r\nok")
    conn.shutdown(socket.SHUT_WR)


async def test_a_huge_head_under_the_cap_neither_freezes_the_app_nor_the_keys(serve) -> None:
    server = serve(hostile_head)
    settings = make_settings(server.url("/"), max_header=4 * 1024 * 1024)
    app = create_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        began = time.monotonic()
        await wait_for(pilot, lambda: app.fetch_state == "done", "the fetch to be done")
        # A frozen app holds the event loop, and so the wait's own bound, past WAIT_LIMIT.
        assert time.monotonic() - began < WAIT_LIMIT, "the app froze"
        text = screen_text(app)
        assert "HTTP/1.1 200 OK" in text
        assert f"{INTERIMS:,} interim" in text  # the panel may wrap the rest of the line
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, "q to end the app")
    assert app.return_code == 0


NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<h1>gone</h1>"
)


def not_found(conn: socket.socket) -> None:
    conn.sendall(NOT_FOUND)
    conn.shutdown(socket.SHUT_WR)


async def test_an_error_response_is_done_with_its_status_and_saved_as_such(
    serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    server = serve(not_found)
    app = create_app(make_settings(server.url("/cover.png")))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.fetch_state == "done", "the fetch to be done")
        await wait_for(
            pilot, lambda: "✔ done · 404 Not Found" in screen_text(app), "the status code"
        )
        await pilot.press("s")
        saved = tmp_path / "cover.404.html"
        await wait_for(pilot, saved.exists, "cover.404.html")
        assert saved.read_bytes() == b"<h1>gone</h1>"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cover.404.html"]


async def test_a_typed_save_name_is_used_as_typed(
    serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ok(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        conn.shutdown(socket.SHUT_WR)

    server = serve(ok)
    target = tmp_path / ".my%41config"
    app = create_app(make_settings(server.url("/x"), output=str(target)))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.fetch_state == "done", "the fetch to be done")
        await pilot.press("s")
        await wait_for(pilot, target.exists, "the file as typed")
    assert target.read_bytes() == b"ok"
