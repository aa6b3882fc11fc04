"""Saving: safe names, never outside the folder, never overwrite, never a half file."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import BinaryIO

import pytest

from sockview.core import save as save_module
from sockview.core.save import (
    MAX_NAME_BYTES,
    PendingFile,
    Saved,
    SaveError,
    default_name,
    partial_name,
    resolve_destination,
    safe_name,
    save_file,
)
from sockview.core.url import parse_url

BODY = b"\x89PNG body bytes\x00\r\n" * 100


def writer(data: bytes = BODY):  # type: ignore[no-untyped-def]
    def write(out: BinaryIO) -> None:
        out.write(data)

    return write


def tree(root: Path) -> dict[str, bytes | str]:
    """Everything under `root`: file contents, and symlinks as `-> target`."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[key] = path.read_bytes()
        else:
            found[key] = "dir"
    return found


# -- names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://h/cover.png", "cover.png"),
        ("http://h/a/b/stuff.jpg?size=large", "stuff.jpg"),
        ("http://h/a/b/stuff.jpg#frag", "stuff.jpg"),
        ("http://h/bytes/1000", "1000"),
        ("http://h/my%20photo.png", "my photo.png"),
        ("http://h/caf%C3%A9.txt", "caf\u00e9.txt"),
        ("http://h/a%2fb.png", "a_b.png"),
        ("http://h/%2e%2e%2fetc%2fpasswd", "_etc_passwd"),
        ("http://h/..%5c..%5cwin.ini", "_.._win.ini"),
        ("http://h/.bashrc", "bashrc"),
        ("http://h/x%00y.png", "x_y.png"),
    ],
)
def test_default_name_is_the_last_path_segment_made_safe(url: str, name: str) -> None:
    assert default_name(parse_url(url)) == name


@pytest.mark.parametrize(
    ("url", "content_type", "name"),
    [
        ("http://example.com/", None, "example.com-index.bin"),
        ("http://example.com/dir/", "image/png", "example.com-index.png"),
        ("http://example.com/%2e%2e", "text/html; charset=utf-8", "example.com-index.html"),
        ("http://[::1]:8080/", "image/jpeg", "__1-index.jpg"),
        ("http://h/bytes/1000", "application/octet-stream", "1000.bin"),
        ("http://h/report", "text/html", "report.html"),
        ("http://h/cover.png", "image/jpeg", "cover.png"),
    ],
)
def test_default_name_without_a_segment(url: str, content_type: str | None, name: str) -> None:
    assert default_name(parse_url(url), content_type) == name


HOSTILE = [
    "..",
    ".",
    "...",
    "../../etc/passwd",
    "%2e%2e%2f",
    "%2e%2e%2f%2e%2e%2fvictim.txt",
    "%252e%252e%252f",
    "/",
    "/etc/passwd",
    "/tmp",
    "\\",
    "..\\..\\victim.txt",
    "C:\\Windows\\win.ini",
    "",
    "   ",
    "\x00",
    "a\x00/../b",
    "%00",
    "x" * 5000 + ".png",
    "\u00e9" * 500,
    "\u202egnp.exe",
    "line\nbreak",
    "~",
    "~/victim.txt",
    "-rf",
    "$(touch pwned)",
    "name.partial.png",
]
HOSTILE_IDS = [ascii(name)[:24] for name in HOSTILE]


@pytest.mark.parametrize("raw", HOSTILE, ids=HOSTILE_IDS)
def test_safe_name_is_one_plain_file_name(raw: str) -> None:
    name = safe_name(raw)
    assert name
    assert name not in (".", "..")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".")
    assert all(c.isprintable() for c in name)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert Path(name).name == name


@pytest.mark.parametrize("raw", HOSTILE, ids=HOSTILE_IDS)
def test_hostile_names_never_escape_the_folder(tmp_path: Path, raw: str) -> None:
    folder = tmp_path / "inside"
    folder.mkdir()
    (tmp_path / "victim.txt").write_bytes(b"victim")
    saved = save_file(writer(), folder, raw)
    assert saved.path.parent == folder
    assert saved.path.resolve().parent == folder.resolve()
    assert saved.path.read_bytes() == BODY
    # Nothing else changed anywhere under tmp_path, and no temporary file is left.
    assert tree(tmp_path) == {
        "inside": "dir",
        f"inside/{saved.path.name}": BODY,
        "victim.txt": b"victim",
    }


def test_long_names_keep_their_extension() -> None:
    name = safe_name("a" * 1000 + ".png")
    assert name.endswith(".png")
    assert len(name.encode()) == MAX_NAME_BYTES


def test_a_huge_name_is_cut_quickly() -> None:
    # A million-character segment must not cost a byte-by-byte loop over all of it.
    assert len(safe_name("y" * 1_000_000 + ".bin").encode()) == MAX_NAME_BYTES


def test_partial_name() -> None:
    assert partial_name("photo.png") == "photo.partial.png"
    assert partial_name("archive.tar.gz") == "archive.tar.partial.gz"
    assert partial_name("README") == "README.partial"


# -- never overwrite ----------------------------------------------------------------


def test_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "cover.png").write_bytes(b"first")
    (tmp_path / "cover-1.png").write_bytes(b"second")
    saved = save_file(writer(), tmp_path, "cover.png")
    assert saved == Saved(path=tmp_path / "cover-2.png", size=len(BODY), partial=False)
    assert (tmp_path / "cover.png").read_bytes() == b"first"
    assert (tmp_path / "cover-1.png").read_bytes() == b"second"
    assert (tmp_path / "cover-2.png").read_bytes() == BODY
    again = save_file(writer(b"4"), tmp_path, "cover.png")
    assert again.path == tmp_path / "cover-3.png"


def test_never_overwrites_a_name_without_extension(tmp_path: Path) -> None:
    (tmp_path / "data").write_bytes(b"old")
    assert save_file(writer(), tmp_path, "data").path == tmp_path / "data-1"
    assert (tmp_path / "data").read_bytes() == b"old"


def test_a_folder_at_the_name_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "cover.png").mkdir()
    assert save_file(writer(), tmp_path, "cover.png").path == tmp_path / "cover-1.png"
    assert (tmp_path / "cover.png").is_dir()


@pytest.mark.parametrize("dangling", [False, True])
def test_a_planted_symlink_is_not_followed(tmp_path: Path, dangling: bool) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    if not dangling:
        victim.write_bytes(b"precious")
    (folder / "cover.png").symlink_to(victim)
    saved = save_file(writer(), folder, "cover.png")
    assert saved.path == folder / "cover-1.png"
    assert not saved.path.is_symlink()
    assert saved.path.read_bytes() == BODY
    assert (folder / "cover.png").is_symlink()
    if dangling:
        assert not victim.exists()
    else:
        assert victim.read_bytes() == b"precious"


def test_without_hard_links_the_name_is_still_claimed_exclusively(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Some file systems (FAT, some network mounts) refuse link(): the fallback reserves
    # the name with O_EXCL, which fails on an existing file or symlink alike.
    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    (tmp_path / "cover.png").symlink_to(victim)
    (tmp_path / "cover-1.png").write_bytes(b"first")
    saved = save_file(writer(), tmp_path, "cover.png")
    assert saved.path == tmp_path / "cover-2.png"
    assert saved.path.read_bytes() == BODY
    assert victim.read_bytes() == b"precious"
    assert (tmp_path / "cover-1.png").read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cover-1.png",
        "cover-2.png",
        "cover.png",
        "victim.txt",
    ]


def test_concurrent_saves_of_one_name_get_distinct_files(tmp_path: Path) -> None:
    results: list[Saved] = []
    lock = threading.Lock()
    go = threading.Barrier(8)

    def one(i: int) -> None:
        go.wait()
        saved = save_file(writer(b"%d" % i), tmp_path, "same.bin")
        with lock:
            results.append(saved)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    paths = {saved.path for saved in results}
    assert len(paths) == 8
    assert sorted(p.read_bytes() for p in paths) == [b"%d" % i for i in range(8)]
    assert len(list(tmp_path.iterdir())) == 8


# -- atomic: a failed save leaves nothing ---------------------------------------------


def test_disk_full_midway_leaves_no_file(tmp_path: Path) -> None:
    (tmp_path / "cover.png").write_bytes(b"old")

    def write(out: BinaryIO) -> None:
        out.write(BODY)
        out.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(SaveError, match="the disk is full; nothing was written"):
        save_file(write, tmp_path, "cover.png")
    assert tree(tmp_path) == {"cover.png": b"old"}


def test_failure_while_claiming_the_name_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def quota(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(os, "link", quota)
    with pytest.raises(SaveError, match="quota"):
        save_file(writer(), tmp_path, "cover.png")
    assert tree(tmp_path) == {}


def test_an_exception_in_the_writer_leaves_no_file(tmp_path: Path) -> None:
    def write(out: BinaryIO) -> None:
        out.write(b"half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        save_file(write, tmp_path, "cover.png")
    assert tree(tmp_path) == {}


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.EROFS, "read-only"), (errno.EACCES, "permission denied")],
)
def test_unwritable_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str
) -> None:
    # The tests run as root, for whom chmod 0o555 does not stop a write. So the refusal
    # is made where the kernel would make it: os.open in that folder fails with EROFS or
    # EACCES, as it does on a read-only mount or for a user without write permission.
    real_open = os.open

    def refusing_open(path: object, *args: object, **kwargs: object) -> int:
        # A file in that folder: by its path, or by its name relative to the folder.
        if Path(str(path)).parent == tmp_path or kwargs.get("dir_fd") is not None:
            raise OSError(code, os.strerror(code))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(save_module.os, "open", refusing_open)
    with pytest.raises(SaveError, match=f"{reason}; nothing was written"):
        save_file(writer(), tmp_path, "cover.png")
    monkeypatch.undo()
    assert tree(tmp_path) == {}


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod 0o555")
def test_unwritable_folder_for_real(tmp_path: Path) -> None:
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(SaveError, match="permission denied"):
            save_file(writer(), tmp_path, "cover.png")
    finally:
        tmp_path.chmod(0o755)
    assert tree(tmp_path) == {}


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SaveError, match="does not exist"):
        save_file(writer(), tmp_path / "nope", "cover.png")
    assert tree(tmp_path) == {}


def test_folder_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(SaveError, match="not a folder"):
        save_file(writer(), tmp_path / "file", "cover.png")


# -- partial bodies -------------------------------------------------------------------


def test_a_partial_body_is_named_partial(tmp_path: Path) -> None:
    saved = save_file(writer(b"half"), tmp_path, "cover.png", partial=True)
    assert saved == Saved(path=tmp_path / "cover.partial.png", size=4, partial=True)
    again = save_file(writer(b"half"), tmp_path, "cover.png", partial=True)
    assert again.path == tmp_path / "cover.partial-1.png"
    assert not (tmp_path / "cover.png").exists()


# -- where -o points --------------------------------------------------------------------


def test_resolve_destination(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    assert resolve_destination(None, "d.png") == (tmp_path, "d.png")
    assert resolve_destination("", "d.png") == (tmp_path, "d.png")
    assert resolve_destination(str(tmp_path / "dir"), "d.png") == (tmp_path / "dir", "d.png")
    assert resolve_destination("dir", "d.png") == (Path("dir"), "d.png")
    assert resolve_destination("new/", "d.png") == (Path("new"), "d.png")
    assert resolve_destination("dir/x.jpg", "d.png") == (Path("dir"), "x.jpg")
    assert resolve_destination("x.jpg", "d.png") == (Path("."), "x.jpg")


def test_saved_file_is_not_world_writable(tmp_path: Path) -> None:
    saved = save_file(writer(), tmp_path, "a.bin")
    assert saved.path.stat().st_mode & 0o022 == 0


# -- a body written where it will be saved (plain mode's -o) ----------------------------


def test_a_pending_file_is_hidden_until_kept_then_named_without_clobbering(
    tmp_path: Path,
) -> None:
    (tmp_path / "pic.png").write_bytes(b"mine")
    pending = PendingFile(tmp_path, "pic.png")
    pending.write(BODY[:1000])
    pending.write(memoryview(BODY)[1000:])
    hidden = [path.name for path in tmp_path.iterdir() if path.name != "pic.png"]
    assert len(hidden) == 1 and hidden[0].startswith(".pic.png.")
    assert hidden[0].endswith(".sockview-tmp")
    saved = pending.keep("pic.png")
    assert saved == Saved(path=tmp_path / "pic-1.png", size=len(BODY), partial=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pic-1.png", "pic.png"]
    assert (tmp_path / "pic-1.png").read_bytes() == BODY
    assert (tmp_path / "pic.png").read_bytes() == b"mine"


def test_a_pending_file_kept_as_partial(tmp_path: Path) -> None:
    pending = PendingFile(tmp_path, "pic.png")
    pending.write(b"half")
    saved = pending.keep("pic.png", partial=True)
    assert saved == Saved(path=tmp_path / "pic.partial.png", size=4, partial=True)
    assert list(tmp_path.iterdir()) == [tmp_path / "pic.partial.png"]


def test_a_pending_file_not_kept_leaves_nothing(tmp_path: Path) -> None:
    pending = PendingFile(tmp_path, "pic.png")
    pending.write(BODY)
    pending.close()
    pending.close()
    assert list(tmp_path.iterdir()) == []


def test_a_pending_file_whose_name_cannot_be_claimed_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EIO, "I/O error")

    pending = PendingFile(tmp_path, "pic.png")
    pending.write(BODY)
    monkeypatch.setattr(save_module.os, "link", refuse)
    with pytest.raises(SaveError, match=r"^saving to .* failed: I/O error; nothing was written$"):
        pending.keep("pic.png")
    assert list(tmp_path.iterdir()) == []


def test_a_pending_file_in_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SaveError, match=r"^cannot save in .*: the folder does not exist;"):
        PendingFile(tmp_path / "missing", "pic.png")
