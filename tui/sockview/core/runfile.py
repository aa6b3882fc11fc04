"""Write and read a run file: one `Run`, kept, to replay or compare later.

A run file is a ZIP archive, so that any tool with a standard library can read it:

    manifest.json    {"format": "sockview-run", "version": "1.0", "sockview": "0.1.0"}
    run.json         everything but the arrays and the body (see `_describe`)
    recv_times.i64   each recv's time, nanoseconds from the connect: int64, little-endian
    recv_sizes.u32   each recv's size in bytes: uint32, little-endian
    kernel_*.i64     (1.1) the kernel samples, one array a field (`KERNEL_ARRAYS`): int64,
                     little-endian, -1 where the field was not read
    sender_*.i64     (1.1) the demo sender's history (`SENDER_ARRAYS`), when it was known
    body.bin         the body, when it was kept (absent with --record-without-body)
    wire.bin         (1.1) every raw byte received, when they were kept and are not just
                     the head's bytes followed by body.bin (a chunked body, say)

`version` is MAJOR.MINOR: a reader takes any minor version of its major (fields it does
not know are ignored) and refuses a newer major. Writing goes through `save.save_file`:
atomic, never over an existing file. Reading trusts nothing: every size is checked
against a cap before it is read, every field's type before it is used, and the figures
against each other (the sizes add up to the total, the head fits in what came), so a
truncated, corrupt or hostile file ends in one `RunFileError` line.
"""

from __future__ import annotations

import base64
import itertools
import json
import sys
import zipfile
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from sockview import __version__
from sockview.core.body import SpooledBody
from sockview.core.events import Failed, Finished, Framing, HeadersComplete, InterimResponse
from sockview.core.kernel import ABSENT, KernelLog
from sockview.core.parse import StoreFailure
from sockview.core.records import RecvLog
from sockview.core.request import RequestStyle
from sockview.core.run import DelayChange, FetchState, Phases, Run, SenderStats
from sockview.core.save import Saved, destination, save_file
from sockview.core.url import UrlError, parse_url
from sockview.core.wire import WireStore

FORMAT = "sockview-run"
MAJOR = 1
MINOR = 1
"""1.1 adds the phases, the connection's details, the kernel samples and the sender."""
KERNEL_ARRAYS = ("index", "queued", "rcv_wnd", "rcv_space", "rtt_us", "rcv_mss", "bytes_received")
"""`KernelLog`'s arrays, each kept as `kernel_NAME.i64`."""
SENDER_ARRAYS = {"times_ns": "times", "sent_at": "sent", "blocked_at": "blocked"}
"""`SenderStats`' arrays, each kept as `sender_NAME.i64`."""
PHASES = (
    "dns_ns",
    "connect_ns",
    "tls_ns",
    "request_ns",
    "first_byte_ns",
    "header_ns",
    "body_ns",
    "recv_origin_ns",
)
CONNECTION_TEXT = ("peer_address", "family", "tls_cipher", "cert_subject", "cert_issuer")
_MAX_NS = 1 << 62
SUFFIX = ".svrun"
"""The usual ending of a run file's name."""

MAX_JSON = 64 * 1024 * 1024
"""Largest run.json read (a head is at most 64 MiB, --max-header's own cap)."""
MAX_RECVS = 200_000_000
MAX_HEADERS = 1_000_000
_COPY = 1024 * 1024
_LITTLE = sys.byteorder == "little"


class RunFileError(Exception):
    """The run file cannot be written or read; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class RecordOptions:
    """What a run file keeps."""

    with_body: bool = True


# -- writing ---------------------------------------------------------------------------


def default_run_name(run: Run) -> str:
    """`cover.png.svrun`: the body's name, with the run file's ending."""
    return run.default_name() + SUFFIX


def write_run(run: Run, chosen: str | None, *, with_body: bool = True) -> Saved:
    """Write `run` to a new file at `chosen` (a file or a folder; None for the current
    folder), never over an existing one. Raises `RunFileError` or `save.SaveError`."""
    folder, name, typed = destination(chosen, default_run_name(run))
    return save_file(lambda out: dump_run(run, out, with_body=with_body), folder, name, typed=typed)


def dump_run(run: Run, out: BinaryIO | IO[bytes], *, with_body: bool = True) -> None:
    """Write `run` as a run file into the binary stream `out`."""
    body = run.body
    copy_to = getattr(body, "copy_to", None)
    keep_body = with_body and copy_to is not None
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        manifest = {"format": FORMAT, "version": f"{MAJOR}.{MINOR}", "sockview": __version__}
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        archive.writestr("run.json", json.dumps(_describe(run, keep_body), indent=1))
        rows = len(run.log.sizes)
        archive.writestr("recv_times.i64", _little(run.log.times_ns[:rows]))
        archive.writestr("recv_sizes.u32", _little(run.log.sizes[:rows]))
        samples = _kernel_count(run)
        for name in KERNEL_ARRAYS:
            values: array[int] = getattr(run.kernel, name)
            archive.writestr(f"kernel_{name}.i64", _little(values[:samples]))
        sender = run.sender
        if sender is not None:
            points = len(sender.times_ns)
            for attribute, name in SENDER_ARRAYS.items():
                values = getattr(sender, attribute)
                archive.writestr(f"sender_{name}.i64", _little(values[:points]))
        if keep_body:
            assert copy_to is not None
            # Stored, not deflated: most bodies worth keeping are compressed already.
            info = zipfile.ZipInfo("body.bin")
            info.compress_type = zipfile.ZIP_STORED
            with archive.open(info, "w", force_zip64=True) as member:
                copy_to(member)
            wire = run.wire
            if wire is not None and not wire.closed and not _wire_is_head_and_body(run):
                info = zipfile.ZipInfo("wire.bin")
                info.compress_type = zipfile.ZIP_STORED
                with archive.open(info, "w", force_zip64=True) as member:
                    wire.copy_to(member, 0, run.total)


def _wire_is_head_and_body(run: Run) -> bool:
    """True when the raw bytes are the head's then the body's: the run can rebuild them
    (`Run.raw_bytes`) from what the file holds anyway, so they are not written twice."""
    head = run.head
    return (
        head is not None
        and head.framing in (Framing.CONTENT_LENGTH, Framing.UNTIL_CLOSE)
        and len(run.head_bytes) == head.body_offset
        and run.total == head.body_offset + run.body.size
    )


def _little(values: array[int]) -> bytes:
    if _LITTLE:
        return values.tobytes()
    swapped = array(values.typecode, values)
    swapped.byteswap()
    return swapped.tobytes()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _describe(run: Run, keep_body: bool) -> dict[str, Any]:
    head = run.head
    result = run.result
    return {
        "url": run.target.url,
        "bufsize": run.bufsize,
        "style": run.style.value,
        "request": _b64(run.request),
        "started_at": run.started_at,
        "state": run.state.value,
        "peer": run.peer,
        "local": run.local,
        "tls_version": run.tls_version,
        "interims": [
            {"status": i.status, "status_line": i.status_line, "headers": list(i.headers)}
            for i in run.interims
        ],
        "head": None
        if head is None
        else {
            "status": head.status,
            "reason": head.reason,
            "http_version": head.http_version,
            "status_line": head.status_line,
            "headers": list(head.headers),
            "head_text": head.head_text,
            "header_length": head.header_length,
            "body_offset": head.body_offset,
            "head_index": head.head_index,
            "framing": head.framing.value,
            "content_length": head.content_length,
        },
        "head_bytes": _b64(run.head_bytes),
        "delays": [
            {"index": d.index, "enabled": d.enabled, "seconds": d.seconds} for d in run.delays
        ],
        "result": None
        if result is None
        else {
            "kind": "finished" if isinstance(result, Finished) else "failed",
            "total": result.total,
            "recv_count": result.recv_count,
            "body_bytes": result.body_bytes,
            "elapsed": result.elapsed,
            "reason": result.reason if isinstance(result, Failed) else None,
            "cancelled": result.cancelled if isinstance(result, Failed) else False,
        },
        "recvs": len(run.log.sizes),
        "body": {"kept": keep_body, "size": run.body.size},
        # 1.1
        "phases": {name: getattr(run.phases, name) for name in PHASES},
        "connection": {
            **{name: getattr(run, name) for name in CONNECTION_TEXT},
            "rcvbuf_asked": run.rcvbuf_asked,
            "rcvbuf": run.rcvbuf,
        },
        "clock_origin_ns": run.clock_origin_ns,
        "kernel_samples": _kernel_count(run),
        "kernel_note": run.kernel_note,
        "sender": None
        if run.sender is None
        else {
            "sent": run.sender.sent,
            "blocked_ns": run.sender.blocked_ns,
            "sndbuf": run.sender.sndbuf,
            "points": len(run.sender.times_ns),
        },
    }


def _kernel_count(run: Run) -> int:
    """Samples complete in every array (the loop appends `index` last), below the recvs."""
    kernel, rows = run.kernel, len(run.log.sizes)
    count = min(len(getattr(kernel, name)) for name in KERNEL_ARRAYS)
    while count and kernel.index[count - 1] > rows:
        count -= 1
    return count


# -- reading ---------------------------------------------------------------------------


def read_run(path: str | Path) -> Run:
    """The run in the file at `path`; `RunFileError` with one line if it cannot be read."""
    shown = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return _load(archive, shown)
    except RunFileError as exc:
        raise RunFileError(f"{shown}: {exc}") from None
    except FileNotFoundError:
        raise RunFileError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise RunFileError(f"{shown}: that is a folder, not a run file") from None
    except PermissionError:
        raise RunFileError(f"{shown}: permission denied") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError):
        raise RunFileError(
            f"{shown}: not a sockview run file, or a truncated or damaged one"
        ) from None
    except (OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise RunFileError(f"{shown}: cannot read it: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _member(archive: zipfile.ZipFile, name: str, cap: int, required: bool = True) -> bytes | None:
    """A member's bytes, read no further than `cap` (a member's declared size may lie)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        if required:
            raise RunFileError(f"{name} is missing") from None
        return None
    if info.file_size > cap:
        raise RunFileError(f"{name} is larger than a run file allows ({info.file_size} bytes)")
    with archive.open(info) as member:
        data = member.read(cap + 1)
    if len(data) > cap:
        raise RunFileError(f"{name} is larger than a run file allows")
    return data


def _json(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    raw = _member(archive, name, MAX_JSON)
    assert raw is not None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise RunFileError(f"{name} is not valid JSON ({_one_line(exc)})") from None
    if not isinstance(value, dict):
        raise RunFileError(f"{name} is not a JSON object")
    return value


def _load(archive: zipfile.ZipFile, shown: str) -> Run:
    manifest = _json(archive, "manifest.json")
    if manifest.get("format") != FORMAT:
        raise RunFileError("not a sockview run file (its manifest names another format)")
    version = manifest.get("version")
    major, _, _minor = str(version).partition(".")
    if not major.isdigit():
        raise RunFileError(f"unknown run file version {str(version)[:20]!r}")
    if int(major) > MAJOR:
        raise RunFileError(
            f"run file version {str(version)[:20]} is newer than this sockview reads"
            f" ({MAJOR}.x): update sockview to read it"
        )
    if int(major) < MAJOR:
        raise RunFileError(f"run file version {str(version)[:20]} is no longer read")
    fields = Fields(_json(archive, "run.json"))
    recvs = fields.integer("recvs", 0, MAX_RECVS)
    times = _array(archive, "recv_times.i64", "q", recvs)
    sizes = _array(archive, "recv_sizes.u32", "I", recvs)
    try:
        target = parse_url(fields.text("url"))
    except UrlError as exc:
        raise RunFileError(f"its URL cannot be used: {exc}") from None
    try:
        style = RequestStyle(fields.text("style"))
        state = FetchState(fields.text("state"))
    except ValueError as exc:
        raise RunFileError(f"run.json: {_one_line(exc)}") from None
    log = RecvLog()
    log.times_ns.extend(times)
    log.sizes.extend(sizes)
    run = Run(
        target=target,
        bufsize=fields.integer("bufsize", 1, 1 << 31),
        style=style,
        request=fields.b64("request"),
        started_at=fields.number("started_at"),
        state=state,
        peer=fields.text("peer"),
        local=fields.text("local", optional=True),
        tls_version=fields.text("tls_version", optional=True),
        interims=[_interim(Fields(item, "interims")) for item in fields.items("interims")],
        head=_head(fields.child("head")),
        head_bytes=fields.b64("head_bytes"),
        log=log,
        delays=[_delay(Fields(item, "delays")) for item in fields.items("delays")],
        result=_result(fields.child("result")),
        recorded_from=shown,
    )
    _check(run)
    _load_observed(archive, fields, run)
    body = fields.child("body")
    if body is None:
        raise RunFileError("run.json: body is missing")
    if body.flag("kept"):
        run.body = _body(archive, body.integer("size", 0, 1 << 62))
        if "wire.bin" in archive.namelist():
            run.wire = _wire(archive, run.total)
    return run


def _load_observed(archive: zipfile.ZipFile, fields: Fields, run: Run) -> None:
    """What version 1.1 added: phases, connection, kernel samples, sender; a 1.0 file has
    none of them, and its run keeps the defaults (no phases, no samples)."""
    phases = fields.child("phases")
    if phases is not None:
        run.phases = Phases(**{name: phases.integer(name, 0, _MAX_NS, True) for name in PHASES})
    connection = fields.child("connection")
    if connection is not None:
        for name in CONNECTION_TEXT:
            setattr(run, name, connection.text(name, optional=True))
        run.rcvbuf_asked = connection.integer("rcvbuf_asked", 0, 1 << 31, optional=True)
        run.rcvbuf = connection.integer("rcvbuf", 0, 1 << 32, optional=True)
    run.clock_origin_ns = fields.integer("clock_origin_ns", -_MAX_NS, _MAX_NS, optional=True)
    run.kernel_note = fields.text("kernel_note", optional=True)
    samples = fields.integer("kernel_samples", 0, MAX_RECVS + 1, optional=True)
    if samples is None:  # a 1.0 file
        return
    kernel = KernelLog()
    for name in KERNEL_ARRAYS:
        values = _array(archive, f"kernel_{name}.i64", "q", samples)
        if any(v < ABSENT for v in values):
            raise RunFileError(f"kernel_{name}.i64 holds a negative figure")
        getattr(kernel, name).extend(values)
    index = kernel.index
    if any(b < a for a, b in itertools.pairwise(index)) or any(
        i > len(run.log) for i in index[-1:]
    ):
        raise RunFileError("the kernel samples name recvs out of order or not there")
    run.kernel = kernel
    sender = fields.child("sender")
    if sender is not None:
        points = sender.integer("points", 0, MAX_RECVS)
        stats = SenderStats(
            sent=sender.integer("sent", 0, _MAX_NS),
            blocked_ns=sender.integer("blocked_ns", 0, _MAX_NS),
            sndbuf=sender.integer("sndbuf", 0, 1 << 32, optional=True),
        )
        for attribute, name in SENDER_ARRAYS.items():
            getattr(stats, attribute).extend(_array(archive, f"sender_{name}.i64", "q", points))
        if any(b < a for a, b in itertools.pairwise(stats.times_ns)):
            raise RunFileError("the sender's history goes back in time")
        run.sender = stats


def _wire(archive: zipfile.ZipFile, size: int) -> WireStore:
    """The raw bytes, into a store of their own; exactly as many as the recvs add up to."""
    store = WireStore()
    try:
        with archive.open("wire.bin") as member:
            while chunk := member.read(min(_COPY, size - store.size + 1)):
                if store.size + len(chunk) > size:
                    raise RunFileError(f"wire.bin is larger than the {size} bytes received")
                store.write(chunk)
        if store.size != size:
            raise RunFileError(f"wire.bin holds {store.size} bytes, not the {size} received")
    except StoreFailure as exc:
        store.close()
        raise RunFileError(f"cannot read wire.bin: {exc}") from None
    except BaseException:
        store.close()
        raise
    return store


def _array(archive: zipfile.ZipFile, name: str, typecode: str, count: int) -> array[int]:
    values = array(typecode)
    raw = _member(archive, name, count * values.itemsize)
    assert raw is not None
    if len(raw) != count * values.itemsize:
        raise RunFileError(f"{name} holds {len(raw)} bytes where {count} recvs need more")
    values.frombytes(raw)
    if not _LITTLE:
        values.byteswap()
    return values


def _body(archive: zipfile.ZipFile, size: int) -> SpooledBody:
    """The body, copied into a store of its own (memory up to 4 MiB, then a temporary
    file), never past the size that run.json declares."""
    store = SpooledBody()
    try:
        info = archive.getinfo("body.bin")
    except KeyError:
        store.close()
        raise RunFileError("body.bin is missing although run.json says the body was kept") from None
    try:
        with archive.open(info) as member:
            while chunk := member.read(min(_COPY, size - store.size + 1)):
                if store.size + len(chunk) > size:
                    raise RunFileError(f"body.bin is larger than the {size} bytes declared")
                store.write(chunk)
        if store.size != size:
            raise RunFileError(f"body.bin holds {store.size} bytes, not the {size} declared")
    except BaseException:
        store.close()
        raise
    return store


def _check(run: Run) -> None:
    """The figures agree with each other: what a replay and its views rely on."""
    log, head, result = run.log, run.head, run.result
    times = log.times_ns
    if any(t < 0 for t in times[:1]) or any(b < a for a, b in itertools.pairwise(times)):
        raise RunFileError("recv times go backwards")
    total = log.total
    if result is not None and (result.total != total or result.recv_count != len(log)):
        raise RunFileError(
            f"the recvs add up to {total} bytes in {len(log)} recvs,"
            f" but the result says {result.total} in {result.recv_count}"
        )
    if head is not None:
        if not 0 <= head.header_length <= head.body_offset <= total:
            raise RunFileError("the header's offsets do not fit in the bytes received")
        if len(run.head_bytes) != head.body_offset:
            raise RunFileError("the raw header is not as long as the header's offsets say")
        if not 0 <= head.head_index < len(log):
            raise RunFileError("the header ends in a recv that is not there")
    if any(not 0 <= d.index <= len(log) for d in run.delays):
        raise RunFileError("a delay change names a recv that is not there")


class Fields:
    """Typed access to one JSON object of run.json; a wrong type is a `RunFileError`."""

    def __init__(self, data: object, where: str = "run.json") -> None:
        if not isinstance(data, dict):
            raise RunFileError(f"{where}: an entry is not an object")
        self.data: dict[str, Any] = data
        self.where = where

    def _get(self, key: str, kinds: tuple[type, ...], what: str, optional: bool) -> Any:
        value = self.data.get(key)
        if value is None and optional:
            return None
        # bool is an int to Python, never to a run file.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise RunFileError(f"{self.where}: {key} is missing or not {what}")
        return value

    def text(self, key: str, optional: bool = False) -> Any:
        return self._get(key, (str,), "text", optional)

    def integer(self, key: str, low: int, high: int, optional: bool = False) -> Any:
        value = self._get(key, (int,), "a whole number", optional)
        if value is not None and not low <= value <= high:
            raise RunFileError(f"{self.where}: {key} is out of range")
        return value

    def number(self, key: str) -> float:
        return float(self._get(key, (int, float), "a number", False))

    def flag(self, key: str) -> bool:
        return bool(self._get(key, (bool,), "true or false", False))

    def b64(self, key: str) -> bytes:
        try:
            return base64.b64decode(self.text(key), validate=True)
        except ValueError:
            raise RunFileError(f"{self.where}: {key} is not base64") from None

    def items(self, key: str) -> list[Any]:
        value = self._get(key, (list,), "a list", False)
        assert isinstance(value, list)
        return value

    def child(self, key: str) -> Fields | None:
        value = self.data.get(key)
        return None if value is None else Fields(value, f"{self.where}: {key}")

    def headers(self, key: str) -> tuple[tuple[str, str], ...]:
        pairs = self.items(key)
        if len(pairs) > MAX_HEADERS:
            raise RunFileError(f"{self.where}: more than {MAX_HEADERS} headers")
        if not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
            for p in pairs
        ):
            raise RunFileError(f"{self.where}: {key} are not name and value pairs")
        return tuple((name, value) for name, value in pairs)


def _interim(fields: Fields) -> InterimResponse:
    return InterimResponse(
        status=fields.integer("status", 100, 199),
        status_line=fields.text("status_line"),
        headers=fields.headers("headers"),
    )


def _head(fields: Fields | None) -> HeadersComplete | None:
    if fields is None:
        return None
    try:
        framing = Framing(fields.text("framing"))
    except ValueError:
        raise RunFileError(f"{fields.where}: unknown framing") from None
    big = 1 << 62
    return HeadersComplete(
        status=fields.integer("status", 100, 999),
        reason=fields.text("reason"),
        http_version=fields.text("http_version"),
        status_line=fields.text("status_line"),
        headers=fields.headers("headers"),
        head_text=fields.text("head_text"),
        header_length=fields.integer("header_length", 0, big),
        body_offset=fields.integer("body_offset", 0, big),
        head_index=fields.integer("head_index", 0, big),
        framing=framing,
        content_length=fields.integer("content_length", 0, big, optional=True),
    )


def _delay(fields: Fields) -> DelayChange:
    seconds = fields.number("seconds")
    if not 0 <= seconds <= 3600:
        raise RunFileError(f"{fields.where}: seconds is out of range")
    return DelayChange(fields.integer("index", 0, 1 << 62), fields.flag("enabled"), seconds)


def _result(fields: Fields | None) -> Finished | Failed | None:
    if fields is None:
        return None
    big = 1 << 62
    common: dict[str, Callable[[], Any]] = {
        "total": lambda: fields.integer("total", 0, big),
        "recv_count": lambda: fields.integer("recv_count", 0, big),
        "body_bytes": lambda: fields.integer("body_bytes", 0, big),
        "elapsed": lambda: fields.number("elapsed"),
    }
    values = {key: read() for key, read in common.items()}
    kind = fields.text("kind")
    if kind == "finished":
        return Finished(**values)
    if kind == "failed":
        return Failed(reason=fields.text("reason"), cancelled=fields.flag("cancelled"), **values)
    raise RunFileError(f"{fields.where}: unknown result {kind[:20]!r}")
