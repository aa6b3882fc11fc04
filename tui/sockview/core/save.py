"""Saving the body: safe names, never overwrite, never a half-written file.

The rules, in the order they apply:
- A name that comes from the network (the URL's last path segment) is reduced to one
  plain file name: no separators, no `..`, no control characters, not too long.
- The file is written to a temporary file in the target folder (O_EXCL, O_NOFOLLOW), then
  given its name with link(), which fails rather than replace an existing file or follow
  a planted symlink. Taken names get `-1`, `-2`, ... before the extension.
- Any failure removes the temporary file; the user's files are never touched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from sockview.core.url import Target

MAX_NAME_BYTES = 200
MAX_TRIES = 10000
_CONTENT_TYPE_EXT = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "text/html": ".html",
    "text/plain": ".txt",
    "application/json": ".json",
}


class SaveError(Exception):
    """Saving failed; nothing was written. The message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Saved:
    path: Path
    size: int
    partial: bool

    def describe(self, thousands: bool = False) -> str:
        """`saved the partial body (300 bytes) to PATH`; the path is shown as it is, so
        a view that shows it must escape it (`text.visible`)."""
        what = "partial body" if self.partial else "body"
        size = f"{self.size:,}" if thousands else str(self.size)
        unit = "byte" if self.size == 1 else "bytes"
        return f"saved the {what} ({size} {unit}) to {self.path}"


def safe_name(raw: str, fallback: str = "download") -> str:
    """One plain file name from untrusted text; never a path, never empty."""
    name = unquote(raw, errors="replace")
    name = "".join("_" if (c in "/\\:" or unicodedata.category(c)[0] == "C") else c for c in name)
    name = name.strip().lstrip(".").strip()
    if not name or set(name) <= {".", "_"}:
        name = fallback
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 16:
        stem, ext = name, ""
    ext = f".{ext}" if ext else ""
    # Every character takes a byte at least: cut first, so a huge name costs no more.
    stem = stem[:MAX_NAME_BYTES]
    while len((stem + ext).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + ext


def default_name(target: Target, content_type: str | None = None) -> str:
    """A name from the URL's last path segment, or from the content type.

    A segment without an extension (`/bytes/1000`) gets the content type's, if one is known.
    """
    path = target.path.split("?", 1)[0]
    last = path.rsplit("/", 1)[-1]
    ext = _CONTENT_TYPE_EXT.get((content_type or "").split(";")[0].strip().lower(), ".bin")
    name = safe_name(last, fallback=f"{target.host.replace(':', '_')}-index{ext}")
    if content_type and not _split(name)[1]:
        name = safe_name(name + ext)
    return name


def partial_name(name: str) -> str:
    """`photo.png` becomes `photo.partial.png`."""
    stem, ext = _split(name)
    return f"{stem}.partial{ext}"


def _split(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, "." + ext


def candidates(name: str) -> Iterator[str]:
    """`name`, then `name-1.ext`, `name-2.ext`, ..."""
    yield name
    stem, ext = _split(name)
    for n in range(1, MAX_TRIES):
        yield f"{stem}-{n}{ext}"


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is exceeded"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno == errno.ENOENT:
        return "the folder does not exist"
    if exc.errno == errno.ENOTDIR:
        return "that is not a folder"
    return exc.strerror or str(exc)


class PendingFile:
    """A new file in its target folder, under a hidden temporary name until `keep`.

    A body store for a body saved as it arrives (plain mode's `-o`): at the end there is
    no copy, only an fsync and a name. The temporary file is opened with O_EXCL and
    O_NOFOLLOW; `close` removes it unless `keep` gave it a name. Only a process killed
    outright leaves it behind, as `.<name>.<random>.sockview-tmp`.
    """

    def __init__(self, folder: Path, hint: str = "download") -> None:
        self.folder = Path(folder)
        self.where = str(self.folder)
        self.size = 0
        self._temp: Path | None = self.folder / (
            f".{safe_name(hint)[:40]}.{secrets.token_hex(6)}.sockview-tmp"
        )
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self._temp, flags, 0o644)
        except OSError as exc:
            raise SaveError(
                f"cannot save in {self.folder}: {_reason(exc)}; nothing was written"
            ) from None
        self.file: BinaryIO = os.fdopen(fd, "wb")

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.file.write(data)
        self.size += len(data)

    def keep(self, name: str, *, partial: bool = False) -> Saved:
        """Write it out to the disk and give it the first free variant of `name`."""
        name = safe_name(name)
        if partial:
            name = partial_name(name)
        try:
            if self._temp is None:
                raise ValueError("this file was already kept or closed")
            self.file.flush()
            os.fsync(self.file.fileno())
            # What is in the file: after a failed write, more than `size` may have landed.
            self.size = os.fstat(self.file.fileno()).st_size
            path = _claim_name(self._temp, self.folder, name)
        except OSError as exc:
            raise SaveError(
                f"saving to {self.folder} failed: {_reason(exc)}; nothing was written"
            ) from None
        finally:
            self.close()
        return Saved(path=path, size=self.size, partial=partial)

    def close(self) -> None:
        """Remove the temporary file, whether or not it was kept under a name."""
        with contextlib.suppress(OSError):
            self.file.close()
        temp, self._temp = self._temp, None
        if temp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)


def save_file(
    write: Callable[[BinaryIO], None],
    folder: Path,
    name: str,
    *,
    partial: bool = False,
) -> Saved:
    """Write a new file in `folder` with `write`, atomically, under a free variant of `name`."""
    pending = PendingFile(folder, name)
    try:
        write(pending.file)
    except OSError as exc:
        pending.close()
        raise SaveError(
            f"saving to {pending.folder} failed: {_reason(exc)}; nothing was written"
        ) from None
    except BaseException:
        pending.close()
        raise
    return pending.keep(name, partial=partial)


def _claim_name(temp: Path, folder: Path, name: str) -> Path:
    """Give `temp` the first free name; link() never replaces, never follows a symlink."""
    for candidate in candidates(name):
        path = folder / candidate
        try:
            os.link(temp, path, follow_symlinks=False)
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
        # No hard links on this file system: reserve the name, then rename over it.
        try:
            reserved = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        os.close(reserved)
        os.replace(temp, path)
        return path
    raise SaveError(f"no free name for {name} in {folder}")


def resolve_destination(chosen: str | None, default: str) -> tuple[Path, str]:
    """The folder and name for a user's `-o` choice (a file, a folder, or nothing)."""
    if not chosen:
        return Path.cwd(), default
    path = Path(chosen).expanduser()
    if chosen.endswith(("/", os.sep)) or path.is_dir():
        return path, default
    return path.parent, path.name
