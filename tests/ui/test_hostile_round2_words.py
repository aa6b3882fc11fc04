"""The app counts one in the singular: a one-byte body, a one-byte save."""

from __future__ import annotations

from pathlib import Path

import pytest

from sockview.ui.app import create_app

from ..conftest import send_parts
from .conftest import make_settings, screen_text, wait_for


async def test_one_byte_and_one_recv_in_the_singular(
    serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    server = serve(send_parts(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"))
    app = create_app(make_settings(server.url("/x.txt")))
    async with app.run_test(notifications=True, size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.fetch_state == "done", "the fetch to end")
        assert "body 1 byte (Content-Length)" in screen_text(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: "Saved the body" in screen_text(app), "the notice")
        text = screen_text(app)
        assert "Saved the body (1 byte) to" in text
        assert "1 bytes" not in text and "1 recvs" not in text
