"""`--serve`'s arguments: what the tabs' apps get, what is refused, what it says at start."""

from __future__ import annotations

import socket
import sys

import pytest

from sockview.cli import build_parser, main
from sockview.serve import app_argv, banner, bind, local_url
from sockview.ui.download import browser_name


@pytest.mark.parametrize(
    ("argv", "kept"),
    [
        (["--serve", "--demo"], ["--demo"]),
        (["--demo", "--serve", "--port", "0", "--host", "127.0.0.1"], ["--demo"]),
        (["--serve", "--port=0", "--public-url=http://x:1", "--delay", "0.5"], ["--delay", "0.5"]),
        (["--serve", "--", "http://h/--port"], ["--", "http://h/--port"]),
    ],
)
def test_the_tabs_get_every_other_argument(argv: list[str], kept: list[str]) -> None:
    assert app_argv(argv) == kept


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--serve", "--plain", "--demo"], "cannot be combined with --plain"),
        (["--serve", "--demo", "-o", "x.png"], "-o has no use"),
        (["--serve", "--demo", "--record", "runs"], "--record has no use"),
        (["--port", "0", "--demo"], "are for --serve"),
        (["--serve", "--ser", "--demo"], "in full"),
        (["--serve", "--port", "70000"], "from 0 to 65535"),
    ],
)
def test_what_has_no_meaning_in_a_browser_is_refused(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_port_0_is_bound_first_so_the_url_names_the_real_port() -> None:
    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        assert port != 0
        assert local_url(sock) == f"http://127.0.0.1:{port}"
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # already listening: a browser that comes early waits in the backlog
    finally:
        sock.close()


def test_a_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        assert main(["--serve", "--demo", "--port", str(port)]) == 1
    finally:
        sock.close()
    err = capsys.readouterr().err
    assert err.startswith(f"sockview: cannot listen on 127.0.0.1 port {port}: ")
    assert err.count("\n") == 1


def test_the_message_says_who_can_reach_it() -> None:
    local = banner("http://127.0.0.1:8000", wildcard=False, public=False)
    assert "http://127.0.0.1:8000" in local
    assert "Anyone who can reach this port can make this machine fetch" in local
    assert "--public-url" not in local
    everyone = banner("http://0.0.0.0:8000", wildcard=True, public=False)
    assert "run with --port 8000 --public-url http://ADDRESS:8000." in everyone
    named = banner("http://[::]:80", True, False, ["fd00::2", "10.0.0.5", "127.0.0.1", "::1"])
    assert "--public-url http://[fd00::2]:80 (this machine: fd00::2, 10.0.0.5)." in named
    assert "--public-url" not in banner("http://room:8000", wildcard=True, public=True)


def test_help_lists_the_serve_options() -> None:
    text = build_parser().format_help()
    for option in ("--serve", "--host", "--port", "--public-url"):
        assert option in text


@pytest.mark.parametrize(
    ("name", "sent_as"),
    [
        ("cover.png", "cover.png"),
        ("cover.partial.png", "cover.partial.png"),
        ('a b;c="d".png', "a_b_c__d_.png"),
        ("ünïcode.txt", "_n_code.txt"),
        ("...", "download"),
    ],
)
def test_the_download_name_is_safe_in_an_unquoted_header(name: str, sent_as: str) -> None:
    assert browser_name(name) == sent_as


def test_without_the_extra_it_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)  # import fails
    assert main(["--serve", "--demo", "--port", "0"]) == 1
    assert capsys.readouterr().err == (
        "sockview: --serve needs textual-serve: pip install 'sockview[serve]'\n"
    )
