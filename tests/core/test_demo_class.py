"""The demo server holds a classroom: right answers, a status for every bad request,
a class at once, and the teacher's screen (issue 17).

Every test talks to a real server over real sockets on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sockview.core import demo as demo_module
from sockview.core.demo import FIXED_DATE, DemoServer, banner, cover_head
from sockview.core.local_addresses import reachable_addresses
from sockview.core.sample_image import sample_png
from tests.core.fetching import wait_for

PNG = sample_png()
COVER = cover_head(PNG, FIXED_DATE) + PNG
BOOK_REQUEST = b"GET http://127.0.0.1/cover.png HTTP/1.0\r\n\r\n"


def exchange(port: int, request: bytes, host: str = "127.0.0.1") -> bytes:
    """Send `request`, then read everything until the server closes."""
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def split(response: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    status, *fields = head.decode("latin-1").split("\r\n")
    headers = {}
    for field in fields:
        name, _, value = field.partition(": ")
        headers[name.lower()] = value
    return status, headers, body


def pattern_at(offset: int, size: int) -> bytes:
    return bytes((offset + i) % 256 for i in range(size))


@pytest.fixture
def logged() -> Iterator[tuple[DemoServer, list[str]]]:
    lines: list[str] = []
    with DemoServer(deterministic=True, log=lines.append) as server:
        yield server, lines


# -- wrong answers ------------------------------------------------------------------


def test_head_sends_the_head_only(demo_fixed: DemoServer) -> None:
    data = exchange(demo_fixed.port, b"HEAD /cover.png HTTP/1.0\r\n\r\n")
    assert data == cover_head(PNG, FIXED_DATE)


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [("bytes=0-9", 0, 9), ("bytes=70000-", 70000, 70056), ("bytes=-100", 69957, 70056)],
)
def test_range_gets_206_and_the_part(
    demo_fixed: DemoServer, value: str, first: int, last: int
) -> None:
    request = f"GET /cover.png HTTP/1.0\r\nRange: {value}\r\n\r\n".encode()
    status, headers, body = split(exchange(demo_fixed.port, request))
    assert status == "HTTP/1.1 206 Partial Content"
    assert headers["content-range"] == f"bytes {first}-{last}/70057"
    assert headers["content-length"] == str(last - first + 1)
    assert body == PNG[first : last + 1]


def test_range_resumes_like_curl_c(demo_fixed: DemoServer) -> None:
    # `curl -C -` after 30000 bytes: it asks for the rest, and the two halves make the picture.
    request = b"GET /cover.png HTTP/1.1\r\nHost: x\r\nRange: bytes=30000-\r\n\r\n"
    _, _, rest = split(exchange(demo_fixed.port, request))
    assert PNG[:30000] + rest == PNG


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_curl_c_resumes_a_download(demo: DemoServer, tmp_path: Path) -> None:
    target = tmp_path / "cover.png"
    target.write_bytes(PNG[:30000])
    result = subprocess.run(
        ["curl", "-sS", "-f", "-C", "-", "-o", str(target), demo.url("/cover.png")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == PNG


def test_range_past_the_end_is_416(demo_fixed: DemoServer) -> None:
    request = b"GET /cover.png HTTP/1.0\r\nRange: bytes=70057-\r\n\r\n"
    status, headers, body = split(exchange(demo_fixed.port, request))
    assert status == "HTTP/1.1 416 Range Not Satisfiable"
    assert headers["content-range"] == "bytes */70057"
    assert body.count(b"\n") == 1


@pytest.mark.parametrize("value", ["bytes=0-9,20-29", "lines=1-2", "bytes=9-1", "bytes=x-"])
def test_ranges_it_does_not_serve_get_the_whole_picture(demo_fixed: DemoServer, value: str) -> None:
    request = f"GET /cover.png HTTP/1.0\r\nRange: {value}\r\n\r\n".encode()
    assert exchange(demo_fixed.port, request) == COVER


def test_range_of_bytes_n(demo_fixed: DemoServer) -> None:
    request = b"GET /bytes/100000 HTTP/1.0\r\nRange: bytes=70001-70300\r\n\r\n"
    status, headers, body = split(exchange(demo_fixed.port, request))
    assert status == "HTTP/1.1 206 Partial Content"
    assert headers["content-range"] == "bytes 70001-70300/100000"
    assert body == pattern_at(70001, 300)


def test_chunked_over_http_1_0_is_framed_by_the_close(demo_fixed: DemoServer) -> None:
    status, headers, body = split(exchange(demo_fixed.port, b"GET /chunked/5000 HTTP/1.0\r\n\r\n"))
    assert status == "HTTP/1.1 200 OK"
    assert "transfer-encoding" not in headers and "content-length" not in headers
    assert body == pattern_at(0, 5000)


@pytest.mark.parametrize("method", ["POST", "DELETE", "FOO", "PUT"])
def test_other_methods_get_405_with_allow(demo_fixed: DemoServer, method: str) -> None:
    request = f"{method} /cover.png HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc".encode()
    status, headers, body = split(exchange(demo_fixed.port, request))
    assert status == "HTTP/1.1 405 Method Not Allowed"
    assert headers["allow"] == "GET, HEAD"
    assert body.count(b"\n") == 1 and b"PNG" not in body


def test_a_second_request_does_not_cost_the_tail(
    logged: tuple[DemoServer, list[str]],
) -> None:
    # The book's request sent again once the answer has begun. The server finishes
    # sending (its log line says so) while the client has read little: a close with the
    # second request unread would reset the connection and drop what is still on its way.
    server, lines = logged
    with socket.socket() as sock:
        # A small receive buffer, so that much of the picture still waits on the server.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(30)
        sock.connect((server.host, server.port))
        sock.sendall(BOOK_REQUEST)
        chunks = [sock.recv(5120)]  # the answer has begun: the server has read the request
        sock.sendall(BOOK_REQUEST)
        wait_for(lambda: any(" 200 70303 bytes " in line for line in lines), "the send")
        while data := sock.recv(5120):
            chunks.append(data)
    assert b"".join(chunks) == COVER


# -- bad requests -------------------------------------------------------------------

TLS_HELLO = bytes.fromhex("16030100a5010000a10303") + bytes(range(32))

BAD_REQUESTS = [
    (b"GET http://[x/cover.png HTTP/1.0\r\n\r\n", "400", "URL"),
    (b"GET /cover.png HTTP/1.1\r\n\r\n", "400", "Host"),
    (b"garbage\r\n\r\n", "400", "request line"),
    (b"GET /cover.png\r\n", "400", "HTTP/0.9"),
    (b"GET /cover .png HTTP/1.0\r\n\r\n", "400", "%20"),
    (b"GET /cover\0.png HTTP/1.0\r\n\r\n", "400", "NUL"),
    (b"GET /cover.png HTTP/1.0\r\nX: a\0b\r\n\r\n", "400", "malformed"),
    (TLS_HELLO, "400", "TLS"),
    # A head that goes on and on: it is refused once it passes the cap.
    (b"GET /cover.png HTTP/1.0\r\n" + b"X-Long: yes\r\n" * 2000, "431", "16384"),
]


@pytest.mark.parametrize(
    ("request_bytes", "status", "reason"), BAD_REQUESTS, ids=[r for _, _, r in BAD_REQUESTS]
)
def test_a_bad_request_gets_a_status_and_one_line(
    logged: tuple[DemoServer, list[str]], request_bytes: bytes, status: str, reason: str
) -> None:
    server, lines = logged
    line, headers, body = split(exchange(server.port, request_bytes))
    assert line.startswith(f"HTTP/1.1 {status} ")
    assert headers["connection"] == "close"
    assert body.endswith(b"\n") and body.count(b"\n") == 1
    assert reason in body.decode()
    wait_for(lambda: any(f'" {status} ' in entry for entry in lines), "the log line")
    assert not [entry for entry in lines if "internal error" in entry]
    assert all(entry.isprintable() for entry in lines)


def test_a_request_that_ends_early_gets_400(demo_fixed: DemoServer) -> None:
    with socket.create_connection((demo_fixed.host, demo_fixed.port), timeout=30) as sock:
        sock.sendall(b"GET /cover.png HTTP/1.0\r\n")
        sock.shutdown(socket.SHUT_WR)
        data = b"".join(iter(lambda: sock.recv(65536), b""))
    assert data.startswith(b"HTTP/1.1 400 ")


def test_a_slow_head_is_dropped_by_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # One byte every 50 ms never trips a per-recv timeout of 0.5 s; the deadline for the
    # whole head does. The pauses are the stimulus, not a wait for a condition.
    monkeypatch.setattr(demo_module, "REQUEST_TIMEOUT", 0.5)
    pause = threading.Event()
    with (
        DemoServer(deterministic=True) as server,
        socket.create_connection((server.host, server.port), timeout=30) as sock,
    ):
        sock.sendall(b"GET /cover.png HTTP/1.0\r\nX-Slow: ")
        sock.setblocking(False)
        answer = b""
        for _ in range(400):  # 20 s at most, far beyond the deadline
            try:
                answer = sock.recv(4096)
                break
            except BlockingIOError:
                pass
            sock.send(b"z")
            pause.wait(0.05)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer[:60]


# -- a class at once ------------------------------------------------------------------


def book_script(port: int, results: list[tuple[list[int], bytes]], go: threading.Event) -> None:
    """The book's script: the request, then recv(5120) until the server closes."""
    go.wait(30)
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(BOOK_REQUEST)
        sizes, chunks = [], []
        while data := sock.recv(5120):
            sizes.append(len(data))
            chunks.append(data)
    results.append((sizes, b"".join(chunks)))


def test_the_picture_is_built_once_before_listening_cold_start_20_at_once() -> None:
    sample_png.cache_clear()  # a fresh server in a fresh process: nothing built yet
    with DemoServer() as server:
        assert sample_png.cache_info().misses == 1  # built before the first student
        results: list[tuple[list[int], bytes]] = []
        go = threading.Event()
        threads = [
            threading.Thread(target=book_script, args=(server.port, results, go)) for _ in range(20)
        ]
        for thread in threads:
            thread.start()
        go.set()
        for thread in threads:
            thread.join(120)
    assert len(results) == 20
    assert all(body[246:] == PNG and body.index(b"\r\n\r\n") == 242 for _, body in results)
    assert sample_png.cache_info().misses == 1


def test_a_class_of_100_arriving_at_once_all_get_the_picture() -> None:
    # All 100 connect before the server accepts one: they must fit in the listen queue
    # (socketserver's 5 would leave 94 retrying their SYN for seconds).
    server = DemoServer()
    socks = []
    try:
        for _ in range(100):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", server.port))
            socks.append(sock)

        def all_connected() -> bool:
            return all(
                s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for s in socks
            ) and all(_connected(s) for s in socks)

        wait_for(all_connected, "100 connections in the listen queue", timeout=5)
        server.start()
        for sock in socks:
            sock.setblocking(True)
            sock.settimeout(60)
            sock.sendall(BOOK_REQUEST)
        for sock in socks:
            data = b"".join(iter(lambda sock=sock: sock.recv(5120), b""))  # type: ignore[misc]
            assert len(data) == 70303 and data[246:] == PNG
    finally:
        for sock in socks:
            sock.close()
        server.stop()


def _connected(sock: socket.socket) -> bool:
    try:
        sock.getpeername()
    except OSError:
        return False
    return True


# -- the descriptor cap ---------------------------------------------------------------

CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from sockview.core.demo import main
sys.exit(main(sys.argv[1:]))
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc for CPU time")
@pytest.mark.parametrize(
    ("extra", "note"),
    [([], "the cap"), (["--max-connections", "1000"], "out of file descriptors")],
    ids=["cap", "emfile"],
)
def test_at_the_descriptor_limit_it_waits_without_spinning_and_recovers(
    extra: list[str], note: str
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, "--port", "0", "--quiet", "--no-pace", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    held: list[socket.socket] = []
    notes: list[str] = []
    try:
        assert process.stdout is not None and process.stderr is not None
        port = int(re.findall(r":(\d+)/", process.stdout.readline())[0])
        stderr = process.stderr
        threading.Thread(
            target=lambda: notes.extend(iter(stderr.readline, "")), daemon=True
        ).start()
        for _ in range(100):  # the limit is 64 descriptors: the server is full long before
            if any(note in line for line in notes):
                break
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(b"GET /bytes/10?stall=0 HTTP/1.0\r\n\r\n")
            held.append(sock)
            # Wait until this one is served (its head came) or the server says it is full.
            sock.settimeout(0.2)
            for _ in range(50):
                if any(note in line for line in notes):
                    break
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        break
                except TimeoutError:
                    continue
        wait_for(lambda: any(note in line for line in notes), f"the note {note!r}")
        late = socket.create_connection(("127.0.0.1", port), timeout=30)
        late.sendall(b"GET /bytes/5 HTTP/1.0\r\n\r\n")
        # A second at the limit, with a student waiting: an accept loop that spins burns it.
        before = cpu_seconds(process.pid)
        threading.Event().wait(1.0)
        assert cpu_seconds(process.pid) - before < 0.3
        for sock in held[:10]:
            sock.close()
        late.settimeout(30)
        answer = b"".join(iter(lambda: late.recv(65536), b""))
        late.close()
        assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(bytes(range(5)))
        assert "Traceback" not in "".join(notes)
    finally:
        for sock in held:
            sock.close()
        process.kill()
        process.wait(10)


# -- --port, the banner, the log --------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "-1", "http", "65536"])
def test_a_bad_port_is_one_line_not_a_traceback(port: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sockview.demo", "--port", port],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"argument --port: {port!r} is not a port number (0 to 65535)" in result.stderr


def test_banner_for_a_class_lists_the_addresses_and_warns() -> None:
    # 192.0.2.7 is a documentation address, only formatted here, never contacted.
    lines = banner("0.0.0.0", 8000, ["192.0.2.7", "127.0.0.1"])
    text = "\n".join(lines)
    assert "0.0.0.0" not in text
    assert "curl -o cover.png http://192.0.2.7:8000/cover.png\n" in text
    assert "connect(('192.0.2.7', 8000))" in text
    assert "GET http://192.0.2.7:8000/cover.png HTTP/1.0\\r\\n\\r\\n" in text
    assert "http://127.0.0.1:8000/cover.png   (this machine only)" in text
    assert lines[-1].startswith("Warning: anyone")


def test_banner_warns_even_when_no_interface_is_found() -> None:
    assert banner("0.0.0.0", 8000, ["127.0.0.1"])[-1].startswith("Warning: anyone")


def test_reachable_addresses() -> None:
    # Read from this machine's interfaces; nothing is contacted.
    assert reachable_addresses("127.0.0.1") == ["127.0.0.1"]
    found = reachable_addresses("0.0.0.0")
    assert "0.0.0.0" not in found and found
    assert found[-1].startswith("127.") or "127.0.0.1" not in found


def test_banner_on_loopback_does_not_warn() -> None:
    lines = banner("127.0.0.1", 8000, ["127.0.0.1"])
    assert lines[0] == "sockview demo server on http://127.0.0.1:8000/ (Ctrl-C stops it)"
    assert not [line for line in lines if "Warning" in line]


def test_banner_ipv6() -> None:
    lines = banner("::", 8000, ["2001:db8::7"])
    assert "curl -o cover.png http://[2001:db8::7]:8000/cover.png" in "\n".join(lines)


def test_one_log_line_per_request(logged: tuple[DemoServer, list[str]]) -> None:
    server, lines = logged
    exchange(server.port, BOOK_REQUEST)
    exchange(server.port, b"GET /\x1b[2J HTTP/1.0\r\n\r\n")
    wait_for(lambda: len(lines) == 2, "two log lines")
    assert re.fullmatch(
        r'127\.0\.0\.1:\d+ \[\d\d:\d\d:\d\d\] "GET http://127\.0\.0\.1/cover\.png HTTP/1\.0"'
        r" 200 70303 bytes \d+\.\d\d s",
        lines[0],
    )
    # The request line is the client's: an escape sequence is shown, not obeyed.
    assert '"GET /\\x1b[2J HTTP/1.0" 400 ' in lines[1]


def test_the_embedded_server_logs_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    # The app owns the terminal: DemoServer() as the app starts it writes nowhere.
    with DemoServer(deterministic=True) as server:
        exchange(server.port, BOOK_REQUEST)
        exchange(server.port, b"garbage\r\n\r\n")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("quiet", [False, True])
def test_standalone_logs_to_stderr_unless_quiet(quiet: bool) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sockview.demo", "--port", "0", *(["--quiet"] if quiet else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(re.findall(r":(\d+)/", process.stdout.readline())[0])
        assert exchange(port, BOOK_REQUEST)[246:] == PNG
        exchange(port, b"GET /bytes/1 HTTP/1.0\r\n\r\n")
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert "Traceback" not in err
    logged = [line for line in err.splitlines() if '"GET ' in line]
    # The log line is written before the connection closes: both are there by now.
    assert len(logged) == (0 if quiet else 2)
