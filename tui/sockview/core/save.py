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
import stat
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast
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
    no copy, only an fsync and a name. The folder is held open and every name is made
    relative to it (`dir_fd`): if the folder is renamed, or a symlink to it retargeted,
    during a download, the file still lands in the folder it was started in, the temporary
    file is still removed, and the path reported is where the file is now. The temporary
    file is opened with O_EXCL and O_NOFOLLOW; `close` removes it unless `keep` gave it a
    name. Only a process killed outright leaves it behind, as
    `.<name>.<random>.sockview-tmp`.
    """

    def __init__(self, folder: Path, hint: str = "download") -> None:
        self.folder = Path(folder)
        self.where = str(self.folder)
        self.size = 0
        self._dir = _open_folder(self.folder)
        self._temp: str | None = f".{safe_name(hint)[:40]}.{secrets.token_hex(6)}.sockview-tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self._temp, flags, 0o644, dir_fd=self._dir)
        except OSError as exc:
            os.close(self._dir)
            raise SaveError(
                f"cannot save in {self.folder}: {_reason(exc)}; nothing was written"
            ) from None
        # Unbuffered: the body comes in large batches, and after a failed write `size`
        # is exactly what is in the file.
        self.file: BinaryIO = os.fdopen(fd, "wb", buffering=0)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        while view:
            written = self.file.write(view) or 0
            self.size += written
            view = view[written:]

    def keep(self, name: str, *, partial: bool = False, typed: bool = False) -> Saved:
        """Write it out to the disk and give it the first free variant of `name`.

        A name from the network is made safe first; one the user `typed` is used as it is.
        """
        name = _checked_name(name) if typed else safe_name(name)
        if partial:
            name = partial_name(name)
        try:
            if self._temp is None:
                raise ValueError("this file was already kept or closed")
            os.fsync(self.file.fileno())
            # What is in the file: after a failed write, more than `size` may have landed.
            self.size = os.fstat(self.file.fileno()).st_size
            claimed = _claim_name(self._temp, self._dir, self.folder, name)
            path = self._folder_now() / claimed
        except OSError as exc:
            raise SaveError(
                f"saving to {self.folder} failed: {_reason(exc)}; nothing was written"
            ) from None
        finally:
            self.close()
        return Saved(path=path, size=self.size, partial=partial)

    def _folder_now(self) -> Path:
        """The folder's path now: the one given, unless it was moved or retargeted."""
        with contextlib.suppress(OSError):
            given, held = os.stat(self.folder), os.fstat(self._dir)
            if (given.st_dev, given.st_ino) == (held.st_dev, held.st_ino):
                return self.folder
        with contextlib.suppress(OSError):
            return Path(os.readlink(f"/proc/self/fd/{self._dir}"))
        return self.folder

    def close(self) -> None:
        """Remove the temporary file, whether or not it was kept under a name."""
        with contextlib.suppress(OSError):
            self.file.close()
        temp, self._temp = self._temp, None
        if temp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp, dir_fd=self._dir)
        if self._dir >= 0:
            with contextlib.suppress(OSError):
                os.close(self._dir)
            self._dir = -1


def _open_folder(folder: Path) -> int:
    try:
        return os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
    except OSError as exc:
        raise SaveError(f"cannot save in {folder}: {_reason(exc)}; nothing was written") from None


def check_folder(folder: Path) -> None:
    """Raise the SaveError a save into `folder` would raise now, before any download."""
    os.close(_open_folder(folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        error = OSError(errno.EACCES, os.strerror(errno.EACCES))
        raise SaveError(f"cannot save in {folder}: {_reason(error)}; nothing was written")


def _checked_name(name: str) -> str:
    """A name the user typed, as typed; only what cannot be one file name is refused."""
    if name in ("", ".", "..") or "/" in name or os.sep in name or "\0" in name:
        raise SaveError(f"{name!r} is not a file name")
    return name


class DeviceFile:
    """An existing file that is not a regular one (a device, a FIFO): written as such.

    `-o /dev/null` writes to the device rather than a new file named null-1 beside it.
    Nothing is created, renamed or removed; a FIFO's open waits for its reader.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.size = 0
        own = own_descriptor(str(self.path))
        try:
            # Ours (/dev/stdout, /dev/fd/N): a copy of the descriptor goes on where it
            # stands; opening the path anew would write a regular file from its start.
            fd = os.dup(own) if own is not None else os.open(self.path, os.O_WRONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise SaveError(f"cannot write to {self.path}: {_reason(exc)}") from None
        self.file: BinaryIO = os.fdopen(fd, "wb", buffering=0)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """All of `data`, as a file's write would; also for writers such as zipfile."""
        view = memoryview(data)
        while view:
            written = self.file.write(view) or 0
            self.size += written
            view = view[written:]
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def keep(self, name: str = "", *, partial: bool = False, typed: bool = False) -> Saved:
        """Done writing; nothing to name."""
        self.close()
        return Saved(path=self.path, size=self.size, partial=partial)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()


def special_file(chosen: str | None) -> Path | None:
    """The path `chosen` names, if it is an existing file that is neither regular nor a
    folder, or one of our open descriptors (`own_descriptor`), whatever it leads to."""
    if not chosen or chosen == "-":
        return None
    path = Path(chosen).expanduser()
    if own_descriptor(chosen) is not None:
        return path
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else path


_FD_FOLDERS = ("/proc/self/fd", "/dev/fd")


def own_descriptor(chosen: str | None) -> int | None:
    """The number of our open descriptor that `chosen` names (`/dev/stdout`, `/dev/stderr`,
    `/dev/fd/N`, `/proc/self/fd/N`, or a symlink to one), else None.

    Such a path is a stream of ours, not a file to name: `--log /dev/stdout > out.txt`
    leads to out.txt, a regular file, that is still written as stdout, never renamed.
    """
    if not chosen or chosen == "-":
        return None
    folders = {os.path.realpath(folder) for folder in _FD_FOLDERS if os.path.isdir(folder)}
    path = Path(chosen).expanduser()
    for _ in range(40):  # the kernel's limit on a chain of symlinks
        try:
            if os.path.realpath(path.parent) in folders and path.name.isdigit():
                fd = int(path.name)
                os.fstat(fd)
                return fd
            path = path.parent / os.readlink(path)
        except (OSError, ValueError):
            return None
    return None


def name_for_status(name: str, status: int, content_type: str | None = None) -> str:
    """An error response's name, that does not claim to be the file asked for.

    `cover.png` answered by a 404 HTML page becomes `cover.404.html`.
    """
    if status < 400:
        return name
    stem, ext = _split(name)
    known = _CONTENT_TYPE_EXT.get((content_type or "").split(";")[0].strip().lower())
    return f"{stem}.{status}{known or ext}"


def save_file(
    write: Callable[[BinaryIO], None],
    folder: Path,
    name: str,
    *,
    partial: bool = False,
    typed: bool = False,
) -> Saved:
    """Write a new file in `folder` with `write`, atomically, under a free variant of `name`.

    A name the user `typed` is used as typed; any other is made safe.
    """
    special = special_file(str(folder / name))
    if special is not None:
        device = DeviceFile(special)
        try:
            write(cast(BinaryIO, device))
        except OSError as exc:
            device.close()
            raise SaveError(f"writing to {special} failed: {_reason(exc)}") from None
        return device.keep(partial=partial)
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
    return pending.keep(name, partial=partial, typed=typed)


def _claim_name(temp: str, folder_fd: int, folder: Path, name: str) -> str:
    """Give `temp` the first free name; link() never replaces, never follows a symlink."""
    at = {"src_dir_fd": folder_fd, "dst_dir_fd": folder_fd}
    for candidate in candidates(name):
        try:
            os.link(temp, candidate, **at, follow_symlinks=False)
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
        # No hard links on this file system: reserve the name, then rename over it.
        try:
            reserved = os.open(
                candidate,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                0o644,
                dir_fd=folder_fd,
            )
        except FileExistsError:
            continue
        os.close(reserved)
        os.replace(temp, candidate, **at)
        return candidate
    raise SaveError(f"no free name for {name} in {folder}")


def resolve_destination(chosen: str | None, default: str) -> tuple[Path, str]:
    """The folder and name for a user's `-o` choice (a file, a folder, or nothing)."""
    folder, name, _ = destination(chosen, default)
    return folder, name


def destination(chosen: str | None, default: str) -> tuple[Path, str, bool]:
    """The folder and name for a user's `-o` choice, and whether the user typed the name.

    A typed name is used as typed (`100%25.txt`, `.myconfig`, `x:y.bin`); the default
    comes from the network and is made safe when the file is named.
    """
    if not chosen:
        return Path.cwd(), default, False
    path = Path(chosen).expanduser()
    if chosen.endswith(("/", os.sep)) or path.is_dir():
        return path, default, False
    return path.parent, path.name, True
