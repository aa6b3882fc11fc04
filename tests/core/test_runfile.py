"""Run files: a fetch written and read back whole; bad files refused in one line."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from sockview.cli import main
from sockview.core.body import SpooledBody
from sockview.core.demo import DemoServer
from sockview.core.fetch import DelaySwitch
from sockview.core.run import FetchState, Run
from sockview.core.runfile import MAJOR, RunFileError, dump_run, read_run, write_run
from sockview.core.sample_image import sample_png
from tests.core.fetching import fetch_now


def demo_run(server: DemoServer, path: str = "/cover.png", **options: object) -> Run:
    running = fetch_now(server.url(path), body=SpooledBody(), **options)
    return running.fetch.run


def same_run(a: Run, b: Run) -> None:
    """Every field of two runs equal (the body by its bytes)."""
    for name in (
        "target",
        "bufsize",
        "style",
        "request",
        "started_at",
        "state",
        "peer",
        "local",
        "tls_version",
        "interims",
        "head",
        "head_bytes",
        "delays",
        "result",
    ):
        assert getattr(a, name) == getattr(b, name), name
    assert a.log.times_ns == b.log.times_ns
    assert a.log.sizes == b.log.sizes


def test_round_trip_keeps_every_field(demo: DemoServer, tmp_path: Path) -> None:
    run = demo_run(demo)
    assert run.state is FetchState.DONE and run.local is not None
    saved = write_run(run, str(tmp_path))
    assert saved.path == tmp_path / "cover.png.svrun"
    back = read_run(saved.path)
    same_run(run, back)
    assert isinstance(back.body, SpooledBody)
    assert back.body.read_all() == sample_png()
    assert back.recorded_from == str(saved.path)
    assert back.replayed and not run.replayed


def test_round_trip_of_a_failed_run_with_interims_and_delay_changes(serve, tmp_path: Path) -> None:
    def script(conn) -> None:  # type: ignore[no-untyped-def]
        conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")

    server = serve(script)
    delay = DelaySwitch(seconds=0.01, enabled=True)
    running = fetch_now(server.url("/"), delay=delay)
    run = running.fetch.run
    assert run.state is FetchState.FAILED and run.interims and run.delays[0].enabled
    back = read_run(write_run(run, str(tmp_path / "failed.svrun")).path)
    same_run(run, back)
    assert back.reason == run.reason and "closed" in (back.reason or "")


def test_without_body_leaves_it_out(demo: DemoServer, tmp_path: Path) -> None:
    run = demo_run(demo)
    kept = write_run(run, str(tmp_path / "with.svrun"))
    bare = write_run(run, str(tmp_path / "without.svrun"), with_body=False)
    assert bare.size < kept.size - 60000
    back = read_run(bare.path)
    same_run(run, back)
    assert back.body.size == 0
    assert "body.bin" not in zipfile.ZipFile(bare.path).namelist()


def test_never_overwrites(demo: DemoServer, tmp_path: Path) -> None:
    run = demo_run(demo)
    first = write_run(run, str(tmp_path / "a.svrun"))
    second = write_run(run, str(tmp_path / "a.svrun"))
    assert (first.path.name, second.path.name) == ("a.svrun", "a-1.svrun")
    assert read_run(first.path).log.sizes == read_run(second.path).log.sizes


def test_readable_with_the_standard_library_alone(demo: DemoServer, tmp_path: Path) -> None:
    run = demo_run(demo)
    path = write_run(run, str(tmp_path)).path
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        described = json.loads(archive.read("run.json"))
        sizes = archive.read("recv_sizes.u32")
    assert manifest["format"] == "sockview-run" and manifest["version"].startswith("1.")
    assert described["url"] == run.target.url and described["head"]["header_length"] == 242
    assert sum(int.from_bytes(sizes[i : i + 4], "little") for i in range(0, len(sizes), 4)) == (
        run.total
    )


# -- bad files ---------------------------------------------------------------------------


def members(run: Run) -> dict[str, bytes]:
    buffer = io.BytesIO()
    dump_run(run, buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def pack(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def edited(parts: dict[str, bytes], **changes: object) -> dict[str, bytes]:
    described = json.loads(parts["run.json"])
    for key, value in changes.items():
        target, _, field = key.partition("__")
        if field:
            described[target][field] = value
        else:
            described[key] = value
    return {**parts, "run.json": json.dumps(described).encode()}


def refused(path: Path) -> str:
    with pytest.raises(RunFileError) as caught:
        read_run(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


@pytest.fixture(scope="module")
def good(demo: DemoServer) -> dict[str, bytes]:
    return members(demo_run(demo))


def test_truncated_file(good: dict[str, bytes], tmp_path: Path) -> None:
    whole = pack(tmp_path / "whole.svrun", good).read_bytes()
    for cut in (10, len(whole) // 2, len(whole) - 30):
        path = tmp_path / f"cut{cut}.svrun"
        path.write_bytes(whole[:cut])
        assert "truncated or damaged" in refused(path) or "cannot read" in refused(path)


def test_not_a_run_file(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(sample_png())
    assert "not a sockview run file" in refused(tmp_path / "x.png")
    assert "no such file" in refused(tmp_path / "missing.svrun")
    assert "folder" in refused(tmp_path)
    other = pack(tmp_path / "other.zip", {"manifest.json": b'{"format": "other"}'})
    assert "another format" in refused(other)


def test_newer_major_version_is_refused_with_what_to_do(
    good: dict[str, bytes], tmp_path: Path
) -> None:
    manifest = json.dumps({"format": "sockview-run", "version": f"{MAJOR + 1}.0"}).encode()
    path = pack(tmp_path / "new.svrun", {**good, "manifest.json": manifest})
    message = refused(path)
    assert f"version {MAJOR + 1}.0 is newer" in message and "update sockview" in message
    # A newer minor version of the same major is read; its unknown fields are ignored.
    minor = json.dumps({"format": "sockview-run", "version": f"{MAJOR}.9"}).encode()
    newer = edited({**good, "manifest.json": minor}, extra_field={"x": 1})
    assert read_run(pack(tmp_path / "minor.svrun", newer)).total == 70303


def test_corrupt_json_and_wrong_types(good: dict[str, bytes], tmp_path: Path) -> None:
    assert "not valid JSON" in refused(pack(tmp_path / "a.svrun", {**good, "run.json": b"{"}))
    for key, value in [
        ("bufsize", "5120"),
        ("bufsize", True),
        ("recvs", -1),
        ("url", "javascript:alert(1)"),
        ("state", "exploded"),
        ("head__header_length", "242"),
        ("result__kind", "maybe"),
        ("request", "not base64!"),
        ("interims", {"a": 1}),
    ]:
        path = pack(tmp_path / f"{key}.svrun", edited(good, **{key: value}))
        refused(path)


def test_figures_that_do_not_add_up(good: dict[str, bytes], tmp_path: Path) -> None:
    lying_total = edited(good, result__total=1)
    assert "add up" in refused(pack(tmp_path / "total.svrun", lying_total))
    short_sizes = {**good, "recv_sizes.u32": good["recv_sizes.u32"][:-4]}
    assert "recv_sizes.u32" in refused(pack(tmp_path / "sizes.svrun", short_sizes))
    far_head = edited(good, head__body_offset=10**9)
    assert "header" in refused(pack(tmp_path / "head.svrun", far_head))


def test_a_body_size_that_lies(good: dict[str, bytes], tmp_path: Path) -> None:
    smaller = edited(good, body__size=100)
    assert "larger than the 100 bytes declared" in refused(pack(tmp_path / "s.svrun", smaller))
    larger = edited(good, body__size=10**6)
    assert "not the 1000000 declared" in refused(pack(tmp_path / "l.svrun", larger))
    missing = {k: v for k, v in good.items() if k != "body.bin"}
    assert "body.bin is missing" in refused(pack(tmp_path / "m.svrun", missing))


def test_a_million_headers_are_refused(good: dict[str, bytes], tmp_path: Path) -> None:
    described = json.loads(good["run.json"])
    described["head"]["headers"] = [["X", "y"]] * 1_000_001
    parts = {**good, "run.json": json.dumps(described).encode()}
    assert "more than 1000000 headers" in refused(pack(tmp_path / "many.svrun", parts))


def test_escapes_in_text_are_kept_as_data_and_shown_escaped(
    good: dict[str, bytes], tmp_path: Path, capsys
) -> None:
    described = json.loads(good["run.json"])
    described["head"]["head_text"] += "\r\nX-Evil: \x1b[2J[bold]hi[/]"
    path = pack(tmp_path / "evil.svrun", {**good, "run.json": json.dumps(described).encode()})
    assert "\x1b[2J" in (read_run(path).head.head_text)  # type: ignore[union-attr]
    assert main(["--replay", str(path), "--plain", "--speed", "0"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "X-Evil: \\x1b[2J[bold]hi[/]" in out


def test_a_bad_run_file_is_one_line_on_stderr(tmp_path: Path, capsys) -> None:
    (tmp_path / "bad.svrun").write_bytes(b"PK\x03\x04 nothing more")
    with pytest.raises(SystemExit) as exited:
        main(["--replay", str(tmp_path / "bad.svrun"), "--plain"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sockview: ") and "Traceback" not in err


def test_a_typed_name_is_used_as_typed(demo: DemoServer, tmp_path: Path) -> None:
    run = demo_run(demo, "/bytes/10")
    saved = write_run(run, str(tmp_path / ".100%25 run"))
    assert saved.path == tmp_path / ".100%25 run"
    # A name from the network is made safe: the default comes from the URL.
    assert write_run(run, str(tmp_path)).path.name == "10.bin.svrun"


# -- 1.1: phases, connection, kernel samples, sender --------------------------------------


def test_round_trip_keeps_what_the_fetch_observed(demo: DemoServer, tmp_path: Path) -> None:
    run = demo_run(demo, "/bytes/30000", delay=DelaySwitch(0.01, enabled=True), rcvbuf=4096)
    assert len(run.kernel) > 1 and run.phases.body_ns is not None
    # The app attaches the demo's figures for its connection; the run file keeps them.
    assert run.local is not None
    run.sender = demo.sender_for(run.local)
    assert run.sender is not None and len(run.sender.times_ns) > 0
    back = read_run(write_run(run, str(tmp_path)).path)
    assert back.phases == run.phases
    for name in ("peer_address", "family", "rcvbuf_asked", "rcvbuf", "clock_origin_ns"):
        assert getattr(back, name) == getattr(run, name), name
    assert back.rcvbuf_asked == 4096
    for name in ("index", "queued", "rcv_wnd", "rcv_space", "rtt_us", "rcv_mss"):
        assert getattr(back.kernel, name) == getattr(run.kernel, name), name
    assert back.csv_text() == run.csv_text()
    assert back.sender is not None
    assert (back.sender.sent, back.sender.blocked_ns) == (run.sender.sent, run.sender.blocked_ns)
    assert back.sender.times_ns == run.sender.times_ns
    assert back.sender.blocked_at == run.sender.blocked_at


def test_a_version_1_0_file_reads_without_them(good: dict[str, bytes], tmp_path: Path) -> None:
    old = {name: data for name, data in good.items() if not name.startswith(("kernel_", "sender_"))}
    described = json.loads(old["run.json"])
    for key in ("phases", "connection", "clock_origin_ns", "kernel_samples", "kernel_note"):
        described.pop(key)
    old["run.json"] = json.dumps(described).encode()
    old["manifest.json"] = json.dumps({"format": "sockview-run", "version": "1.0"}).encode()
    back = read_run(pack(tmp_path / "old.svrun", old))
    assert len(back.kernel) == 0 and back.phases.dns_ns is None and back.sender is None
    assert back.total == 70303


def test_kernel_samples_that_lie_are_refused(good: dict[str, bytes], tmp_path: Path) -> None:
    samples = json.loads(good["run.json"])["kernel_samples"]
    assert samples >= 1
    far = (10**9).to_bytes(8, "little") * samples
    message = refused(pack(tmp_path / "far.svrun", {**good, "kernel_index.i64": far}))
    assert "kernel samples" in message
    negative = (-5).to_bytes(8, "little", signed=True) * samples
    message = refused(pack(tmp_path / "neg.svrun", {**good, "kernel_queued.i64": negative}))
    assert "negative" in message
    short = {**good, "kernel_rcv_wnd.i64": b""}
    assert "kernel_rcv_wnd.i64" in refused(pack(tmp_path / "short.svrun", short))
    for key, value in [("phases__dns_ns", -1), ("connection__family", 4), ("kernel_samples", -1)]:
        refused(pack(tmp_path / f"{key}.svrun", edited(good, **{key: value})))
