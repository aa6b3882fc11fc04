"""The body preview's core: what kind of body it is, and the body made ready to show."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from sockview.core.preview import (
    MAX_PIXELS,
    MAX_PRETTY,
    MAX_TEXT,
    BodyKind,
    NotAPicture,
    Picture,
    decode_picture,
    fit,
    prepare_text,
    sniff,
)
from sockview.core.sample_image import HEIGHT, WIDTH, sample_png


def encoded(fmt: str, size: tuple[int, int] = (64, 32), **options: object) -> bytes:
    image = Image.new("RGB", size)
    for x in range(size[0]):
        for y in range(size[1]):
            image.putpixel((x, y), (x * 4 % 256, y * 8 % 256, 128))
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def draw(data: bytes, content_type: str | None, *, size: int | None = None, complete: bool = True):
    sniffed = sniff(content_type, data[:4096])
    assert sniffed.kind is BodyKind.PICTURE
    return decode_picture(
        data, sniffed, 80, 20, size=len(data) if size is None else size, complete=complete
    )


def test_the_demo_png_is_drawn_in_proportion() -> None:
    picture = draw(sample_png(), "image/png")
    assert isinstance(picture, Picture)
    assert (picture.width, picture.height, picture.format) == (WIDTH, HEIGHT, "PNG")
    # 320 x 200 in 80 columns and 20 rows of half blocks (40 pixels high): 64 x 40.
    assert picture.image.size == (64, 40) == fit(WIDTH, HEIGHT, 80, 20)
    assert picture.note == ""


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp"), ("BMP", "image/bmp")],
)
def test_other_picture_formats(fmt: str, content_type: str) -> None:
    picture = draw(encoded(fmt), content_type)
    assert isinstance(picture, Picture), picture
    assert picture.format == fmt
    assert (picture.width, picture.height) == (64, 32)
    assert picture.image.size == fit(64, 32, 80, 20) == (80, 40)


@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain", None])
def test_a_png_with_a_lying_content_type_is_still_a_picture(content_type: str | None) -> None:
    picture = draw(sample_png(), content_type)
    assert isinstance(picture, Picture)
    if content_type:
        assert picture.note == f"a PNG by its first bytes, though served as {content_type}"


def test_a_truncated_png_draws_its_decoded_part_and_says_where_it_is_cut() -> None:
    whole = sample_png()
    cut = whole[: len(whole) // 2]
    picture = draw(cut, "image/png", size=len(cut), complete=False)
    assert isinstance(picture, Picture)
    assert picture.note.startswith(f"the picture is cut at byte {len(cut):,}")
    # The top half is decoded: its pixels are not all the same black.
    image = picture.image
    assert len({image.getpixel((x, 2)) for x in range(image.width)}) > 1


def test_a_body_that_claims_to_be_a_picture_and_is_not_says_so_in_one_line() -> None:
    result = draw(b"<html>sorry, no picture here</html>", "image/png")
    assert isinstance(result, NotAPicture)
    assert result.reason == "not a valid picture, although it is served as image/png"


@pytest.mark.parametrize("fmt", ["TIFF", "ICO", "PPM"])
def test_only_the_five_formats_are_decoded(fmt: str) -> None:
    """Pillow knows many formats, some of which hand the bytes to another program (EPS):
    a body that claims to be a PNG is decoded as one of the five, or not at all."""
    result = draw(encoded(fmt), "image/png")
    assert isinstance(result, NotAPicture)
    assert result.reason == "not a valid picture, although it is served as image/png"


def test_a_picture_with_a_broken_inside_says_so_in_one_line() -> None:
    data = bytearray(sample_png())
    data[200:260] = b"\xff" * 60  # inside the compressed pixels
    result = draw(bytes(data), "image/png")
    assert isinstance(result, NotAPicture)
    assert "\n" not in result.reason and "image/png" in result.reason


@pytest.mark.parametrize(
    ("width", "height"), [(10_000, 6_000), (20_000, 20_000), (2**31 - 1, 2**31 - 1)]
)
def test_a_decompression_bomb_is_refused_before_it_is_decoded(width: int, height: int) -> None:
    assert width * height > MAX_PIXELS
    result = draw(png_claiming(width, height), "image/png")
    assert isinstance(result, NotAPicture)
    assert "megapixel limit" in result.reason


def test_json_is_pretty_printed_and_coloured_as_json() -> None:
    data = b'{"name":"sockview","sizes":[5120,5120,4998],"esc":"\\u001b[31m"}'
    sniffed = sniff("application/json; charset=utf-8", data)
    assert (sniffed.kind, sniffed.lexer) == (BodyKind.TEXT, "json")
    text = prepare_text(data, sniffed, size=len(data), complete=True)
    assert text.lexer == "json"
    assert text.text.splitlines()[:3] == ["{", '  "name": "sockview",', '  "sizes": [']
    # An escape in a JSON string stays escaped: it never reaches the terminal raw.
    assert "\x1b" not in text.text and '"esc": "\\u001b[31m"' in text.text


def test_long_text_is_cut_and_says_so() -> None:
    data = b"x" * (MAX_TEXT * 8)
    text = prepare_text(data, sniff("text/plain", data), size=len(data), complete=True)
    assert len(text.text) == MAX_TEXT
    assert text.note == f"showing the first {MAX_TEXT:,} characters"
    big = b"[" + b"1," * (MAX_PRETTY // 2) + b"1]"
    text = prepare_text(big, sniff("application/json", big), size=len(big), complete=True)
    assert text.text.startswith("[1,1,1")  # not parsed: as it came
    assert "shown as it came" in text.note


def test_invalid_json_is_shown_as_it_came() -> None:
    data = b'{"cut": [1, 2'
    text = prepare_text(data, sniff("application/json", data), size=100, complete=False)
    assert text.text == '{"cut": [1, 2'
    assert "not valid JSON" in text.note and "cut at byte 100" in text.note


@pytest.mark.parametrize(
    ("content_type", "lexer"),
    [
        ("text/plain; charset=utf-8", None),
        ("text/html", "html"),
        ("application/xml", "xml"),
        ("application/javascript", "javascript"),
        ("text/css", "css"),
        ("application/problem+json", "json"),
    ],
)
def test_text_types(content_type: str, lexer: str | None) -> None:
    sniffed = sniff(content_type, b"hello")
    assert (sniffed.kind, sniffed.lexer) == (BodyKind.TEXT, lexer)


def test_text_controls_are_escaped_and_markup_is_plain_text() -> None:
    data = b"[bold red]not markup[/]\r\nbell\x07 tab\t esc\x1b[2J end\n"
    text = prepare_text(data, sniff("text/plain", data), size=len(data), complete=True)
    assert text.text == "[bold red]not markup[/]\nbell\\x07 tab\\x09 esc\\x1b[2J end\n"


def test_text_in_a_declared_charset() -> None:
    data = "café".encode("latin-1")
    text = prepare_text(data, sniff("text/plain; charset=ISO-8859-1", data), size=5, complete=True)
    assert text.text == "café"


def test_binary_is_binary_and_untyped_text_is_text() -> None:
    assert sniff("application/octet-stream", bytes(range(256))).kind is BodyKind.BINARY
    assert sniff("application/zip", b"PK\x03\x04").kind is BodyKind.BINARY
    assert sniff(None, b"just words\n").kind is BodyKind.TEXT
    assert sniff("application/octet-stream", b'{"a": 1}').lexer == "json"
