"""The upload handlers' part in large uploads: 1 MB reads, and the SHA-256 taken while the file is written."""

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from portfolio.models import Method, StoredFile
from portfolio.services.evidence import EvidenceDetails, evidence_create
from portfolio.services.files import FileRefused, file_attach
from portfolio.uploads import CHUNK_SIZE, HashedTemporaryUploadedFile, HashingTemporaryFileUploadHandler
from tests.factories import EnrolmentFactory, UnitFactory

FRAGMENT = {"X-Upload-Fragment": "1"}


def big_mp4(size: int) -> bytes:
    """An MP4 header, then random bytes: bigger than FILE_UPLOAD_MAX_MEMORY_SIZE, so it goes to a temporary file."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + (size - 24).to_bytes(4, "big") + b"mdat"
    return head + os.urandom(size - len(head))


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def evidence(learner, assessor):
    enrolment = EnrolmentFactory(learner=learner, assessor=assessor, units=[UnitFactory()])
    details = EvidenceDetails(
        title="Recording of the briefing",
        description="",
        method=Method.OBSERVATION,
        activity_date=timezone.localdate() - timedelta(days=1),
        activity_end_date=None,
        location="",
    )
    return evidence_create(enrolment=enrolment, by=learner, details=details)


def handled(data: bytes) -> HashedTemporaryUploadedFile:
    """`data` as the temporary-file handler leaves it, fed in CHUNK_SIZE pieces as the parser does."""
    handler = HashingTemporaryFileUploadHandler()
    handler.new_file("files", "briefing.mp4", "video/mp4", len(data))
    for start in range(0, len(data), CHUNK_SIZE):
        handler.receive_data_chunk(data[start : start + CHUNK_SIZE], start)
    return handler.file_complete(len(data))


def test_the_parser_reads_the_body_a_megabyte_at_a_time():
    # The multipart parser takes the smallest chunk size of its handlers: one left at Django's
    # 64 KB would make gunicorn re-buffer every megabyte it receives sixteen times.
    handlers = [import_string(path)() for path in django_settings.FILE_UPLOAD_HANDLERS]
    parser = MultiPartParser({"CONTENT_TYPE": "multipart/form-data; boundary=x", "CONTENT_LENGTH": "1"}, None, handlers)
    assert parser._chunk_size == CHUNK_SIZE == 1024 * 1024


def test_the_temporary_file_carries_the_hash_of_exactly_its_bytes():
    data = big_mp4(3 * CHUNK_SIZE + 12345)
    upload = handled(data)
    assert upload.size == len(data)
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    with open(upload.temporary_file_path(), "rb") as written:
        assert written.read() == data
    upload.close()


def test_attaching_a_hashed_upload_does_not_read_it_back(evidence, learner, monkeypatch):
    data = big_mp4(3 * CHUNK_SIZE)
    upload = handled(data)

    def no_second_read(*args, **kwargs):
        raise AssertionError("the file was read again to hash it")

    monkeypatch.setattr(upload, "chunks", no_second_read)
    stored = file_attach(version=evidence.current_version, upload=upload, by=learner).file
    upload.close()  # as the request does: the temporary file was moved into storage
    assert (stored.size, stored.content_type) == (len(data), "video/mp4")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


def test_the_service_still_holds_a_hashed_upload_to_the_size_limit(evidence, learner, settings, media_root):
    upload = handled(big_mp4(2 * CHUNK_SIZE))
    settings.EVIDENCE_MAX_FILE_SIZE = CHUNK_SIZE
    with pytest.raises(FileRefused, match="is too large: each file can be at most 1 MB"):
        file_attach(version=evidence.current_version, upload=upload, by=learner)
    upload.close()
    assert not StoredFile.objects.exists()


def test_files_held_in_memory_are_hashed_by_the_service(evidence, learner):
    data = b"Notes from the briefing.\n"
    stored = file_attach(
        version=evidence.current_version, upload=SimpleUploadedFile("notes.txt", data), by=learner
    ).file
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


def test_a_large_upload_through_the_view_is_stored_with_its_true_hash(client, learner, evidence, media_root):
    data = big_mp4(4 * CHUNK_SIZE + 1)  # past FILE_UPLOAD_MAX_MEMORY_SIZE: a temporary file, then a rename
    client.force_login(learner)
    response = client.post(
        reverse("portfolio:file_upload", args=[evidence.uuid]),
        {"files": [SimpleUploadedFile("briefing.mp4", data, content_type="video/mp4")]},
        headers=FRAGMENT,
    )
    assert response.status_code == 200
    stored = StoredFile.objects.get()
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert (media_root / stored.storage_name).read_bytes() == data
