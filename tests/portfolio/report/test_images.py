"""Thumbnails: small, upright, on white, made from storage one at a time; a broken file loses only its preview."""

import io
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, JpegImagePlugin

from portfolio.report.images import THUMBNAIL_MAX, ThumbnailStore, make_thumbnail
from portfolio.report.tree import FileEntry
from tests.portfolio.report.builders import photo_bytes


def entry(content: bytes, content_type: str = "image/jpeg") -> FileEntry:
    name = default_storage.save(f"evidence/test/{uuid.uuid4()}", ContentFile(content))
    return FileEntry(
        ref="F1",
        uuid=uuid.uuid4(),
        name="photo.jpg",
        content_type=content_type,
        size=len(content),
        sha256="0" * 64,
        storage_name=name,
        uploaded_by="Lena",
        uploaded_at=timezone.now(),
    )


def test_a_large_jpeg_is_decoded_at_reduced_scale_and_cut_down(tmp_path, monkeypatch):
    drafts = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        drafts.append((self.format, size))
        return real_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    size = make_thumbnail(io.BytesIO(photo_bytes(3000, 2000)), tmp_path / "t.jpg")
    assert size == (THUMBNAIL_MAX, round(THUMBNAIL_MAX * 2 / 3))
    # Ours comes first; Pillow ignores thumbnail()'s own later, gentler draft request.
    assert drafts[0] == ("JPEG", (THUMBNAIL_MAX, THUMBNAIL_MAX))
    with Image.open(tmp_path / "t.jpg") as written:
        assert written.format == "JPEG"
        assert written.size == size


def test_a_sideways_phone_photo_is_turned_upright(tmp_path):
    image = Image.new("RGB", (1200, 800), "white")
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    assert make_thumbnail(io.BytesIO(buffer.getvalue()), tmp_path / "t.jpg") == (667, 1000)


def test_transparency_becomes_white(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 30), (255, 0, 0, 0)).save(buffer, "PNG")
    make_thumbnail(io.BytesIO(buffer.getvalue()), tmp_path / "t.jpg")
    with Image.open(tmp_path / "t.jpg") as written:
        assert written.size == (40, 30)  # never scaled up
        assert all(channel > 245 for channel in written.getpixel((20, 15)))


def test_the_store_reads_through_storage_and_survives_a_broken_image(tmp_path):
    store = ThumbnailStore(tmp_path)
    good = entry(photo_bytes(1600, 1200))
    broken = entry(b"\xff\xd8\xff\xe0 not really a JPEG")
    not_an_image = entry(b"%PDF-1.4", content_type="application/pdf")

    assert store.ensure(good) == tmp_path / f"{good.uuid}.jpg"
    assert store.ensure(broken) is None
    assert store.ensure(not_an_image) is None
    assert store.paths == {good.uuid: tmp_path / f"{good.uuid}.jpg"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{good.uuid}.jpg"]
