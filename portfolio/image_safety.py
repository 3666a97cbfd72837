"""Images checked before they are stored: not a pixel flood, not damaged, and without the place they were taken.

Location is blanked in place (the GPS part of EXIF, GPS fields in XMP), never by re-encoding: the
picture's own bytes are kept, so nothing is lost to recompression and a photo uploaded twice still
has one hash. Every container keeps its layout and lengths; PNG chunk checksums are recomputed.
"""

import re
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from django.conf import settings
from PIL import Image, ImageFile, UnidentifiedImageError

from portfolio.filetypes import FileKind, UnsupportedFile

# Above this, Pillow's decoders are not asked to check the whole picture: a full decode would cost
# the web process hundreds of megabytes. JPEG is decoded at one eighth of its size, so always checked.
FULL_DECODE_PIXELS = 25_000_000
_DECODABLE = {"image/jpeg", "image/png", "image/gif", "image/webp"}


def check_image(file: IO[bytes], kind: FileKind) -> None:
    """Refuse an image too big to show or too damaged to open, with a message that says which."""
    if kind.content_type not in _DECODABLE:
        return  # HEIC: no decoder here; it is stored and offered for download as it is
    limit = settings.EVIDENCE_MAX_IMAGE_PIXELS
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                width, height = image.size
                if width * height > limit:
                    raise UnsupportedFile(_too_big(width, height, limit))
                _decode(image, kind)
    except UnsupportedFile:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsupportedFile(_too_big(0, 0, limit)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError):
        raise UnsupportedFile(
            f"This {kind.label} is damaged or incomplete, so it cannot be shown. "
            "Save or export it again and upload the new copy."
        ) from None
    finally:
        file.seek(0)


@contextmanager
def _truncation_is_an_error() -> Iterator[None]:
    """WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process when it is imported;
    here a truncated image must fail. Processes that serve requests are single-threaded."""
    before, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before


def _decode(image: Image.Image, kind: FileKind) -> None:
    """Read the whole picture, so a truncated file is found now rather than in a verifier's PDF."""
    with _truncation_is_an_error():
        _decode_all(image, kind)


def _decode_all(image: Image.Image, kind: FileKind) -> None:
    if kind.content_type == "image/jpeg":
        image.draft("RGB", (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
        image.load()
    elif kind.content_type == "image/png":
        image.verify()  # every chunk's checksum and the closing chunk, without holding the pixels
    elif image.size[0] * image.size[1] <= FULL_DECODE_PIXELS:
        image.load()


def _too_big(width: int, height: int, limit: int) -> str:
    size = f" ({width:,} by {height:,} pixels)" if width else ""
    return (
        f"This image is too large to show{size}: at most {limit // 1_000_000} megapixels. "
        "Save it at a smaller size and upload that."
    )


# --- Location ---------------------------------------------------------------------------------------

_TIFF = re.compile(rb"Exif\x00\x00(?=II\*\x00|MM\x00\*)")
_XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\x00"
_GPS_TAG = 0x8825
# XMP location fields in either form, by any prefix (exif:GPSLatitude, drone-dji:GpsLongitude, …).
_XMP_NAME = rb"[A-Za-z][\w.-]*:(?:[Gg][Pp][Ss]\w*|\w*(?:Latitude|Longitude|Altitude))"
_XMP_ATTRIBUTE = re.compile(rb"\s" + _XMP_NAME + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*')")
_XMP_ELEMENT = re.compile(rb"<(" + _XMP_NAME + rb")(?:\s[^>]*)?(?:/>|>.*?</\1\s*>)", re.DOTALL)
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


def remove_location(data: bytes, kind: FileKind) -> bytes | None:
    """`data` with its GPS location blanked, or None when it records no location."""
    buf = bytearray(data)
    if kind.content_type == "image/png":
        found = _png(buf)  # its EXIF chunk has no "Exif" marker to search for
    elif kind.content_type == "image/webp":
        found = _webp(buf)
    elif kind.content_type in {"image/jpeg", "image/heic", "image/heif"}:
        # The whole file, not just the segments a strict walk reaches: readers skip damaged
        # segments to find EXIF further on, so a damaged photo must not keep its location.
        found = _anywhere(buf, 0, len(buf))
    else:
        found = False  # GIF has no EXIF or XMP location
    return bytes(buf) if found else None


def _png(buf: bytearray) -> bool:
    found, at = False, 8
    while at + 12 <= len(buf):
        length = int.from_bytes(buf[at : at + 4], "big")
        kind, start, end = bytes(buf[at + 4 : at + 8]), at + 8, at + 8 + length
        if end + 4 > len(buf):
            break
        changed = False
        if kind == b"eXIf":
            changed = _blank_tiff(buf, start, end)
        elif kind in {b"iTXt", b"tEXt", b"zTXt"}:
            changed = _png_text(buf, kind, start, end)
        if changed:
            buf[end : end + 4] = zlib.crc32(bytes(buf[at + 4 : end])).to_bytes(4, "big")
            found = True
        at = end + 4
    return found


def _png_text(buf: bytearray, kind: bytes, start: int, end: int) -> bool:
    """XMP in iTXt is blanked; compressed XMP, or EXIF as text (ImageMagick's), is blanked whole."""
    keyword = bytes(buf[start : min(end, start + 80)]).split(b"\x00", 1)[0].lower()
    if keyword not in {b"xml:com.adobe.xmp", b"raw profile type exif", b"raw profile type xmp", b"exif"}:
        return False
    flag = start + len(keyword) + 1  # iTXt: the compression flag follows the keyword's NUL
    compressed = kind == b"zTXt" or (kind == b"iTXt" and buf[flag : flag + 1] == b"\x01")
    if kind == b"iTXt" and keyword == b"xml:com.adobe.xmp" and not compressed:
        return _blank_xmp(buf, start, end)
    text_start = start + len(keyword) + 1
    buf[text_start:end] = b" " * (end - text_start)
    return True


def _webp(buf: bytearray) -> bool:
    found, at = False, 12
    while at + 8 <= len(buf):
        kind, size = bytes(buf[at : at + 4]), int.from_bytes(buf[at + 4 : at + 8], "little")
        start, end = at + 8, min(at + 8 + size, len(buf))
        if kind == b"EXIF":
            found |= _blank_tiff(buf, start, end) or _anywhere(buf, start, end)
        elif kind == b"XMP ":
            found |= _blank_xmp(buf, start, end)
        at = start + size + (size & 1)
    return found


def _anywhere(buf: bytearray, start: int, end: int) -> bool:
    """Every EXIF block ("Exif\\0\\0" then a TIFF header) and XMP packet between `start` and `end`."""
    found = False
    for match in _TIFF.finditer(buf, start, end):
        found |= _blank_tiff(buf, match.end(), _exif_end(buf, match.start(), end))
    return _blank_xmp(buf, start, end) or found


def _exif_end(buf: bytearray, marker: int, end: int) -> int:
    """Where the EXIF block starting at `marker` ends: its JPEG segment's end, else at most 64 KB on.
    Offsets past it are damage, and zeroing there would break the picture itself."""
    if marker >= 4 and buf[marker - 4 : marker - 2] == b"\xff\xe1":
        return min(marker - 2 + int.from_bytes(buf[marker - 2 : marker], "big"), end)
    return min(marker + 65536, end)


def _blank_tiff(buf: bytearray, tiff: int, end: int) -> bool:
    """Empty the GPS directory of the TIFF structure at `tiff` and zero what it pointed to."""
    if bytes(buf[tiff : tiff + 4]) not in {b"II*\x00", b"MM\x00*"}:
        return False
    order = "<" if buf[tiff] == ord("I") else ">"
    try:
        ifd0 = tiff + struct.unpack_from(order + "I", buf, tiff + 4)[0]
        for entry in range(ifd0 + 2, ifd0 + 2 + 12 * struct.unpack_from(order + "H", buf, ifd0)[0], 12):
            if struct.unpack_from(order + "H", buf, entry)[0] == _GPS_TAG:
                gps = tiff + struct.unpack_from(order + "I", buf, entry + 8)[0]
                return _blank_directory(buf, tiff, gps, end, order)
    except struct.error:
        return False  # not a TIFF structure after all (or cut short): nothing we can read as a location
    return False


def _blank_directory(buf: bytearray, tiff: int, ifd: int, end: int, order: str) -> bool:
    if not tiff <= ifd < end - 2:
        return False
    declared = struct.unpack_from(order + "H", buf, ifd)[0]
    # A damaged count is read as far as the block goes, as lenient readers (Pillow among them) do.
    count = min(declared, (end - ifd - 2) // 12)
    table_end = min(ifd + 2 + 12 * count + 4, end)  # the entries, then the next directory's offset
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        kind, items = struct.unpack_from(order + "HI", buf, entry + 2)
        size = _TYPE_SIZES.get(kind, 1) * items
        if size > 4:  # the value lives elsewhere: zero it there too
            value = tiff + struct.unpack_from(order + "I", buf, entry + 8)[0]
            if tiff <= value and value + size <= end:
                buf[value : value + size] = bytes(size)
    # An empty directory (no entries, no next directory), then zeros where its entries were.
    buf[ifd:table_end] = bytes(table_end - ifd)
    return declared > 0


def _blank_xmp(buf: bytearray, start: int, end: int) -> bool:
    """Location fields of any XMP between `start` and `end` become spaces, which XML ignores there."""
    region = bytes(buf[start:end])
    if b"<x:xmpmeta" not in region and b"<rdf:RDF" not in region and not region.startswith(_XMP_JPEG):
        return False
    found = False
    for pattern in (_XMP_ELEMENT, _XMP_ATTRIBUTE):
        for match in pattern.finditer(region):
            buf[start + match.start() : start + match.end()] = b" " * (match.end() - match.start())
            found = True
        region = bytes(buf[start:end])
    return found
