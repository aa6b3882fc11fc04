"""What kind of body this is, and the body made ready to show: a picture, text or hex.

The kind comes from the Content-Type, then from the first bytes: a PNG served as
`application/octet-stream` (or as anything else) is still a picture, because its first
bytes say so. Pictures are decoded with Pillow, whose decompression-bomb guard stays on
and is made stricter: a picture of more than `MAX_PIXELS` is refused before it is
decoded. At most `MAX_READ` bytes of a body are read. Nothing here draws: the app turns
a `Picture` into half-block cells and `Text` into a syntax-coloured view.
"""

from __future__ import annotations

import io
import json
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageFile, UnidentifiedImageError

from sockview.core.text import visible_lines

MAX_READ = 64 * 1024 * 1024
"""Body bytes the preview reads at most."""
MAX_PIXELS = 50_000_000
"""Largest picture the preview decodes (Pillow warns above this, and refuses twice it)."""
MAX_TEXT = 512 * 1024
"""Characters of text shown; a longer body is cut, and the view says where."""
MAX_HEX = 64 * 1024
"""Bytes shown as hex for a body that is neither a picture nor text."""
MAX_PRETTY = 4 * 1024 * 1024
"""Largest JSON body that is parsed to be pretty-printed."""
SNIFF_BYTES = 4096

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Above the limit Pillow only warns; a warning is not a guard, so it is made an error.
warnings.simplefilter("error", Image.DecompressionBombWarning)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
_PICTURE_TYPES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/pjpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/bmp": "BMP",
    "image/x-ms-bmp": "BMP",
}
_LEXERS = {
    "application/json": "json",
    "application/javascript": "javascript",
    "application/ecmascript": "javascript",
    "application/x-javascript": "javascript",
    "text/javascript": "javascript",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/xhtml+xml": "html",
    "text/html": "html",
    "text/css": "css",
    "image/svg+xml": "xml",
}
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
"""The only decoders Pillow may use: never one that hands a server's bytes to another
program (EPS runs Ghostscript) or that the preview was not made for."""
_truncated_lock = threading.Lock()


class BodyKind(StrEnum):
    PICTURE = "picture"
    TEXT = "text"
    BINARY = "binary"


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: BodyKind
    media_type: str
    """The Content-Type without parameters, lower case; empty if there was none."""
    format: str | None = None
    """For a picture: PNG, JPEG, GIF, WEBP or BMP, as the first bytes or the type say."""
    lexer: str | None = None
    """For text: the syntax to colour it as (json, xml, html, javascript, css), if any."""
    charset: str = "utf-8"
    by_bytes: bool = False
    """True when the first bytes decided, not the Content-Type."""


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """The media type (lower case) and the charset parameter, if any."""
    if not content_type:
        return "", None
    kind, *params = content_type.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return kind.strip().lower(), charset


def _picture_by_bytes(first: bytes) -> str | None:
    for magic, name in _MAGIC:
        if first.startswith(magic):
            return name
    if first[:4] == b"RIFF" and first[8:12] == b"WEBP":
        return "WEBP"
    return None


def _is_text_type(media: str) -> bool:
    return (
        media.startswith("text/")
        or media in _LEXERS
        or media.endswith(("+json", "+xml"))
        or media in ("application/x-www-form-urlencoded",)
    )


def _looks_like_text(first: bytes) -> bool:
    if b"\x00" in first:
        return False
    try:
        first.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut at the end of the sample is still text.
        return exc.start >= len(first) - 3
    return True


def sniff(content_type: str | None, first: bytes) -> Sniffed:
    """The kind of a body from its Content-Type and its first bytes (`SNIFF_BYTES`)."""
    media, charset = _media_type(content_type)
    by_bytes = _picture_by_bytes(first)
    if by_bytes is not None:
        # The bytes are a picture whatever the header claims.
        claimed = _PICTURE_TYPES.get(media)
        return Sniffed(BodyKind.PICTURE, media, by_bytes, by_bytes=claimed != by_bytes)
    if media in _PICTURE_TYPES:
        return Sniffed(BodyKind.PICTURE, media, _PICTURE_TYPES[media])
    lexer = _LEXERS.get(media)
    if lexer is None and media.endswith("+json"):
        lexer = "json"
    elif lexer is None and media.endswith("+xml"):
        lexer = "xml"
    if _is_text_type(media):
        return Sniffed(BodyKind.TEXT, media, lexer=lexer, charset=charset or "utf-8")
    if media in ("", "application/octet-stream", "binary/octet-stream") and _looks_like_text(first):
        stripped = first.lstrip()
        lexer = "json" if stripped[:1] in (b"{", b"[") else None
        return Sniffed(BodyKind.TEXT, media, lexer=lexer, by_bytes=True)
    return Sniffed(BodyKind.BINARY, media)


# -- text ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextBody:
    text: str
    """Control characters escaped (`text.visible`), line breaks kept."""
    lexer: str | None
    note: str = ""


def prepare_text(data: bytes, sniffed: Sniffed, *, size: int, complete: bool) -> TextBody:
    """The body as text to show: decoded, JSON pretty-printed, controls escaped, cut at
    `MAX_TEXT` characters. `size` is the whole body's size, `complete` whether it all came.

    Only as much is decoded as can be shown (a character takes at most 4 bytes), and JSON
    is parsed only up to `MAX_PRETTY` bytes: parsed, 64 MiB of JSON would take gigabytes.
    """
    notes: list[str] = []
    lexer = sniffed.lexer
    pretty = lexer == "json" and len(data) <= MAX_PRETTY
    if lexer == "json" and not pretty:
        notes.append(f"larger than {MAX_PRETTY // (1024 * 1024)} MiB: shown as it came")
    shown = data if pretty else data[: MAX_TEXT * 4]
    try:
        text = shown.decode(sniffed.charset, errors="replace")
    except LookupError:  # a charset Python does not know
        text = shown.decode("utf-8", errors="replace")
    if pretty:
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            notes.append("not valid JSON: shown as it came")
    if len(data) < size:
        notes.append(f"only the first {len(data):,} of {size:,} bytes were read")
    if not complete:
        notes.append(f"the body is incomplete: cut at byte {size:,}")
    if len(text) > MAX_TEXT:
        notes.append(f"showing the first {MAX_TEXT:,} characters")
        text = text[:MAX_TEXT]
    return TextBody(visible_lines(text), lexer, "; ".join(notes))


# -- pictures ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Picture:
    image: Image.Image
    """RGB or RGBA, already sized to the cells it will fill (one pixel wide, two to a cell
    high: half blocks)."""
    width: int
    height: int
    """The picture's own size, in pixels."""
    format: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class NotAPicture:
    """The body claims or looks like a picture and is none: one line says why."""

    reason: str


def fit(width: int, height: int, columns: int, rows: int) -> tuple[int, int]:
    """The pixel size for a `width` x `height` picture in `columns` x `rows` cells of half
    blocks (a cell is one pixel wide and two high), in proportion, at least 1 x 2."""
    box_w, box_h = max(1, columns), max(2, rows * 2)
    scale = min(box_w / width, box_h / height)
    return max(1, round(width * scale)), max(2, round(height * scale))


def decode_picture(
    data: bytes,
    sniffed: Sniffed,
    columns: int,
    rows: int,
    *,
    size: int,
    complete: bool,
    cancelled: Callable[[], bool] = lambda: False,
) -> Picture | NotAPicture:
    """Decode a picture and scale it to `columns` x `rows` cells.

    A body cut short (`complete` False, or longer than was read) is drawn as far as it
    decodes, and the note says where it is cut. Never raises for bad input.
    """
    claimed = sniffed.media_type or "a picture type"
    try:
        image: Image.Image = Image.open(io.BytesIO(data), formats=FORMATS)
        width, height = image.size
        if width * height > MAX_PIXELS:
            return NotAPicture(
                f"not drawn: {width} x {height} pixels is more than the"
                f" {MAX_PIXELS // 1_000_000} megapixel limit"
            )
        # JPEG can decode at a fraction of its size: far less work for a small view.
        image.draft("RGB", (columns, rows * 2))
        notes: list[str] = []
        cut = not complete or len(data) < size
        try:
            image.load()
        except (OSError, SyntaxError, ValueError):
            if not cut and len(data) >= size:
                raise
            image = _load_truncated(data)
        if cut:
            where = len(data) if complete else size
            notes.append(f"the picture is cut at byte {where:,}: drawn as far as it decodes")
        if cancelled():
            return NotAPicture("cancelled")
        if getattr(image, "is_animated", False):
            notes.append(f"the first of {getattr(image, 'n_frames', 2)} frames")
        mode = (
            "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else "RGB"
        )
        image = image.convert(mode)
        target = fit(width, height, columns, rows)
        resample = Image.Resampling.NEAREST if target[0] > image.width else Image.Resampling.LANCZOS
        image = image.resize(target, resample=resample)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return NotAPicture(
            f"not drawn: the picture is larger than the {MAX_PIXELS // 1_000_000}"
            " megapixel limit (a decompression bomb?)"
        )
    except UnidentifiedImageError:
        return NotAPicture(f"not a valid picture, although it is served as {claimed}")
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        detail = " ".join(str(exc).split())[:120]
        return NotAPicture(
            f"not a valid {sniffed.format or 'picture'} ({visible_lines(detail)}),"
            f" although it is served as {claimed}"
        )
    fmt = sniffed.format or "picture"
    if sniffed.by_bytes and sniffed.media_type:
        notes.append(f"a {fmt} by its first bytes, though served as {sniffed.media_type}")
    return Picture(image, width, height, fmt, "; ".join(notes))


def _load_truncated(data: bytes) -> Image.Image:
    """Decode as much of a cut picture as there is; Pillow's switch for that is global."""
    with _truncated_lock:
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            image.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = False
    return image
