"""Hostile files: a curated corpus through the real upload view, and thousands of mutations of real files.

Whatever arrives, the answer is a stored file of an allowed, passive kind, served so that no browser
runs it, or a refusal in words; never a server error, never bytes without a row. Photos lose their
location unless the learner keeps it on purpose.
"""

import hashlib
import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from portfolio.filetypes import ALLOWED
from portfolio.models import AuditEvent, StoredFile, VersionFile
from portfolio.services.files import FileRefused
from tests.portfolio.test_files import attach, ooxml_bytes, pdf_bytes, upload, wav_bytes
from tests.portfolio.test_files import enrolment as enrolment  # the fixtures, shared
from tests.portfolio.test_files import evidence as evidence
from tests.portfolio.test_files import media_root as media_root

# Pillow warns about every mangled EXIF block it skips: expected here by the thousand.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL")

# Kinds a browser would never run as a page or script, whatever the bytes inside.
PASSIVE = set(ALLOWED) - {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml"}
GPS = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}


# --- Samples -------------------------------------------------------------------------------------


def photo(fmt: str = "JPEG", size=(64, 48), gps: dict | None = GPS, orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneCam"
    if gps:
        exif[0x8825] = gps
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, fmt, exif=exif)
    return buffer.getvalue()


def jpeg_with_xmp_location() -> bytes:
    xmp = (
        b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF><rdf:Description "
        b'exif:GPSLatitude="51,30.2N" exif:GPSLongitude="0,7.6W" dc:format="image/jpeg">'
        b"<drone-dji:GpsAltitude>+12.5</drone-dji:GpsAltitude></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    plain = photo(gps=None)
    segment = b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp
    return plain[:2] + segment + plain[2:]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge canvas in a few bytes: a pixel flood."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def pdf_with(body: bytes) -> bytes:
    return (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R " + body + b" >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def pdf_with_compressed_script() -> bytes:
    """The script sits in a compressed object stream, where a plain byte search cannot see it."""
    objects = b"3 0 << /S /JavaScript /JS (app.alert(1)) >>"
    stream = zlib.compress(objects)
    return (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"4 0 obj << /Type /ObjStm /N 1 /First 8 /Filter /FlateDecode /Length "
        + str(len(stream)).encode()
        + b" >>\nstream\n"
        + stream
        + b"\nendstream\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def docx_with_bomb() -> bytes:
    """A real Word file with a part that inflates to 200 MB: it must never be inflated."""
    buffer = io.BytesIO(ooxml_bytes("word/document.xml"))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/bomb.bin", b"\0" * (200 * 1024 * 1024))
    return buffer.getvalue()


def xml_bomb_manifest() -> bytes:
    laughs = "".join(f'<!ENTITY l{i} "{"&l" + str(i - 1) + ";" * 10}">' for i in range(1, 10))
    types = f'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY l0 "lol">{laughs}]><Types>&l9;</Types>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


REFUSED = [
    (
        "svg-script.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
        "SVG",
    ),
    ("innocent.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>', "SVG"),
    ("holiday.jpg", b"<!doctype html><html><body><script>fetch('/')</script></body></html>", "web page"),
    ("notes.txt", b"Meeting notes\n<iframe src=//evil.example></iframe>\n", "web page"),
    ("script.pdf", pdf_with(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "scripts"),
    ("escaped.pdf", pdf_with(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"), "scripts"),
    ("names.pdf", pdf_with(b"/Names << /JavaScript << /Names [(a) 5 0 R] >> >>"), "scripts"),
    ("launch.pdf", pdf_with(b"/OpenAction << /S /Launch /F (cmd.exe) >>"), "starts a program"),
    ("compressed.pdf", pdf_with_compressed_script(), "scripts"),
    ("macros.docm", ooxml_bytes("word/document.docm.xml"), "macros"),
    ("flood.png", png_header_only(60_000, 60_000), "too large"),
    ("truncated.jpg", photo(size=(640, 480))[:3000], "damaged"),
    ("truncated.png", photo("PNG", size=(640, 480))[:-20], "damaged"),
    ("program.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 200, "program"),
    ("archive.docx", xml_bomb_manifest(), "not accepted"),
]


@pytest.mark.parametrize(("name", "data", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_the_corpus_is_refused_through_the_view_with_a_clear_message(
    client, learner, evidence, media_root, name, data, words
):
    client.force_login(learner)
    response = client.post(reverse("portfolio:file_upload", args=[evidence.uuid]), {"files": upload(name, data)})
    assert response.status_code == 303
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(shown) == 1, shown
    assert words in shown[0], shown
    assert not StoredFile.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.FILE_ATTACHED).exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]


def test_a_polyglot_is_stored_as_what_it_is_and_never_served_as_a_page(client, learner, evidence):
    polyglot = photo(gps=None) + b"<html><script>alert(document.cookie)</script></html>"
    stored = attach(evidence, learner, "page.html", polyglot, "text/html").file
    assert stored.content_type == "image/jpeg"
    assert stored.original_name == "page.jpg"
    client.force_login(learner)
    for view in ("portfolio:file_preview", "portfolio:file_download"):
        response = client.get(reverse(view, args=[stored.uuid]))
        assert response["Content-Type"] == "image/jpeg"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]


def test_a_zip_bomb_inside_a_word_file_is_never_inflated(evidence, learner):
    stored = attach(evidence, learner, "report.docx", docx_with_bomb()).file
    assert stored.content_type.endswith("wordprocessingml.document")
    assert stored.size < 2 * 1024 * 1024  # stored as it came: compressed


def test_a_hostile_name_is_cleaned_and_shown_escaped(client, learner, evidence):
    client.force_login(learner)
    name = "<img src=x onerror=alert(1)>\u202egpj.exe"
    response = client.post(
        reverse("portfolio:file_upload", args=[evidence.uuid]), {"files": upload(name, photo(gps=None))}, follow=True
    )
    assert b"<img src=x" not in response.content
    stored = StoredFile.objects.get()
    assert "\u202e" not in stored.original_name
    assert stored.original_name.endswith(".jpg")


def test_truncated_audio_is_accepted_as_a_download_only(evidence, learner):
    stored = attach(evidence, learner, "interview.wav", wav_bytes()[:60]).file
    assert stored.content_type == "audio/wav"
    assert not stored.is_image


def test_a_truncated_photo_is_refused_even_after_weasyprint_is_loaded(evidence, learner, monkeypatch):
    import weasyprint  # noqa: F401  (its import tells Pillow to accept truncated images)

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(FileRefused, match="damaged or incomplete"):
        attach(evidence, learner, "cut.jpg", photo(size=(640, 480))[:3000])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # and it is left as it was


def test_the_image_limit_comes_from_the_settings(evidence, learner, settings):
    settings.EVIDENCE_MAX_IMAGE_PIXELS = 1000
    with pytest.raises(FileRefused, match=r"too large to show \(64 by 48 pixels\): at most 0 megapixels"):
        attach(evidence, learner, "wide.jpg", photo(gps=None))


# --- Location ------------------------------------------------------------------------------------


def stored_bytes(stored: StoredFile, media_root: Path) -> bytes:
    return (media_root / stored.storage_name).read_bytes()


def gps_of(data: bytes) -> dict:
    """The location a reader gets from the image: none when its EXIF is too broken to read at all."""
    with Image.open(io.BytesIO(data)) as image:
        try:
            exif = image.getexif()
        except SyntaxError:  # Pillow's word for "no TIFF structure here"
            return {}
        return dict(exif.get_ifd(0x8825))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_gps_is_removed_from_photos_and_nothing_else_changes(evidence, learner, media_root, fmt):
    original = photo(fmt)
    assert gps_of(original) == GPS
    result = attach(evidence, learner, f"site.{fmt.lower()}", original)
    kept = stored_bytes(result.file, media_root)
    assert gps_of(kept) == {}
    assert len(kept) == len(original)  # blanked in place, never re-encoded
    with Image.open(io.BytesIO(kept)) as image:
        assert image.getexif()[0x0112] == 6
        assert image.getexif()[0x010F] == "PhoneCam"
        assert image.convert("RGB").getpixel((0, 0)) == Image.open(io.BytesIO(original)).convert("RGB").getpixel((0, 0))
    assert result.file.sha256 == hashlib.sha256(kept).hexdigest()
    assert any("location (GPS)" in n and "removed" in n for n in result.notices)
    event = AuditEvent.objects.get(action=AuditEvent.Action.FILE_ATTACHED)
    assert event.detail["location"] == "removed"


def test_location_in_xmp_is_removed_too(evidence, learner, media_root):
    kept = stored_bytes(attach(evidence, learner, "drone.jpg", jpeg_with_xmp_location()).file, media_root)
    for trace in (b"GPSLatitude", b"51,30.2N", b"GPSLongitude", b"GpsAltitude", b"+12.5"):
        assert trace not in kept
    assert b'dc:format="image/jpeg"' in kept  # the rest of the XMP stays


def test_the_learner_may_keep_the_location_on_purpose(client, learner, evidence, media_root):
    client.force_login(learner)
    response = client.post(
        reverse("portfolio:file_upload", args=[evidence.uuid]),
        {"files": upload("site.jpg", photo()), "keep_location": "on"},
        follow=True,
    )
    assert "kept as you chose" in response.content.decode()
    assert gps_of(stored_bytes(StoredFile.objects.get(), media_root)) == GPS
    assert AuditEvent.objects.get(action=AuditEvent.Action.FILE_ATTACHED).detail["location"] == "kept as you chose"


def test_a_photo_without_location_is_stored_byte_for_byte(evidence, learner, media_root):
    original = photo(gps=None)
    result = attach(evidence, learner, "plain.jpg", original)
    assert stored_bytes(result.file, media_root) == original
    assert result.notices == []


def test_the_same_photo_twice_is_still_one_file(evidence, learner):
    attach(evidence, learner, "one.jpg", photo())
    with pytest.raises(FileRefused, match="already"):
        attach(evidence, learner, "two.jpg", photo())


# --- Mutations -----------------------------------------------------------------------------------

# Per seed file; FUZZ_EXAMPLES=20000 for a longer hunt.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
SEEDS = {
    "jpeg": photo(size=(32, 24)),
    "png": photo("PNG", size=(32, 24)),
    "pdf": pdf_bytes(),
    "docx": ooxml_bytes("word/document.xml"),
}
SNIPPETS = [
    b"<script>alert(1)</script>",
    b"<html>",
    b"<svg onload=alert(1)>",
    b"/JavaScript",
    b"/J#61vaScript",
    b"PK\x03\x04",
    b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff",
    b"\x00" * 64,
    b"\xff" * 64,
]
edits = st.lists(
    st.tuples(
        st.sampled_from(["flip", "cut", "insert", "splice", "repeat"]),
        st.floats(min_value=0, max_value=1),
        st.binary(max_size=24),
        st.sampled_from(SNIPPETS),
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, changes) -> bytes:
    out = bytearray(data)
    for op, where, noise, snippet in changes:
        at = int(where * len(out))
        if op == "flip" and out:
            at = min(at, len(out) - 1)
            out[at] ^= 0xFF
        elif op == "cut":
            del out[at:]
        elif op == "insert":
            out[at:at] = noise
        elif op == "splice":
            out[at : at + len(snippet)] = snippet
        elif op == "repeat":
            out[at:at] = out[at : at + 512]
    return bytes(out)


def check_outcome(evidence, learner, media_root, name: str, data: bytes) -> None:
    try:
        result = attach(evidence, learner, name, data)
    except FileRefused as refusal:
        message = refusal.message
    else:
        message = None
    if message is not None:
        assert 20 < len(message) < 400
        assert "Traceback" not in message
        return
    stored = result.file
    assert stored.content_type in PASSIVE
    on_disk = stored_bytes(stored, media_root)
    assert hashlib.sha256(on_disk).hexdigest() == stored.sha256
    assert len(on_disk) == stored.size
    if stored.content_type.startswith("image/"):
        assert gps_of(on_disk) == {}
    VersionFile.objects.filter(file=stored).delete()  # so the next example may be the same bytes again
    StoredFile.objects.filter(pk=stored.pk).delete()


@pytest.mark.parametrize("seed", list(SEEDS))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=edits)
def test_mutations_of_real_files_are_stored_safely_or_refused_in_words(evidence, learner, media_root, seed, changes):
    check_outcome(evidence, learner, media_root, f"mutant.{seed}", mutate(SEEDS[seed], changes))
