"""X-Accel-Redirect mode: after the permission check and the audit record, nginx sends the file.

The views answer with an empty body and the file's storage name under the prefix; every header the
streamed response would carry is there too. Without access it is the same 404 as ever, with no
X-Accel-Redirect header, so nginx never sends anything.
"""

import hashlib
import io
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image

from accounts.models import User
from portfolio.models import AuditEvent, ExportJob
from portfolio.services.evidence import evidence_create
from portfolio.services.files import file_attach
from portfolio.serving import FILE_CSP
from tests.factories import EnrolmentFactory, UnitFactory, UserFactory
from tests.helpers import details

PREFIX = "/protected/"


@pytest.fixture(autouse=True)
def x_accel(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.EVIDENCE_X_ACCEL_REDIRECT_PREFIX = PREFIX
    return settings


@pytest.fixture
def enrolment(learner, assessor):
    return EnrolmentFactory(learner=learner, assessor=assessor, units=[UnitFactory()])


@pytest.fixture
def evidence(enrolment, learner):
    return evidence_create(enrolment=enrolment, by=learner, details=details(title="Rota"))


def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PDF")
    return buffer.getvalue()


@pytest.fixture
def stored(evidence, learner):
    upload = SimpleUploadedFile("Café rota.pdf", pdf_bytes(), content_type="application/octet-stream")
    return file_attach(version=evidence.current_version, upload=upload, by=learner).file


def assert_handed_to_nginx(response, storage_name: str) -> None:
    assert response.status_code == 200
    assert not response.streaming
    assert response.content == b""
    assert response["X-Accel-Redirect"] == PREFIX + quote(storage_name)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == FILE_CSP
    assert response["Cache-Control"] == "private, no-store"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_a_download_is_handed_to_nginx_after_the_check_and_the_audit(client, learner, stored):
    client.force_login(learner)
    response = client.get(reverse("portfolio:file_download", args=[stored.uuid]))

    assert_handed_to_nginx(response, stored.storage_name)
    assert response["X-Accel-Redirect"].startswith(f"{PREFIX}evidence/")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''Caf%C3%A9%20rota.pdf"
    assert response["X-Frame-Options"] == "DENY"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.FILE_DOWNLOADED, actor=learner).count() == 1


def test_a_preview_is_handed_to_nginx_inline(client, assessor, stored):
    client.force_login(assessor)
    response = client.get(reverse("portfolio:file_preview", args=[stored.uuid]))

    assert_handed_to_nginx(response, stored.storage_name)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "inline; filename*=utf-8''Caf%C3%A9%20rota.pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


@pytest.fixture
def export_job(enrolment, assessor):
    data = pdf_bytes()
    name = default_storage.save("exports/test/portfolio.pdf", ContentFile(data))
    return ExportJob.objects.create(
        enrolment=enrolment,
        requested_by=assessor,
        requested_at=timezone.now(),
        state=ExportJob.State.DONE,
        progress=100,
        finished_at=timezone.now(),
        storage_name=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def test_an_export_is_handed_to_nginx_after_the_check_and_the_audit(client, assessor, learner, export_job):
    client.force_login(assessor)
    response = client.get(reverse("portfolio:export_download", args=[export_job.uuid]))

    assert_handed_to_nginx(response, export_job.storage_name)
    assert response["Content-Type"] == "application/pdf"
    day = timezone.localtime(export_job.finished_at).strftime("%Y-%m-%d")
    name = slugify(learner.get_full_name())
    assert response["Content-Disposition"] == f'attachment; filename="portfolio-{name}-{day}.pdf"'
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT_DOWNLOADED, actor=assessor).count() == 1


@pytest.fixture
def other_assessor(centre):
    return UserFactory(username="unassigned", role=User.Role.ASSESSOR, centre=centre)


@pytest.mark.parametrize("person", ["outsider", "other_assessor", "eqa"])
def test_people_without_access_get_404_and_no_file(client, request, stored, export_job, person):
    client.force_login(request.getfixturevalue(person))
    for url in (
        reverse("portfolio:file_download", args=[stored.uuid]),
        reverse("portfolio:file_preview", args=[stored.uuid]),
        reverse("portfolio:export_download", args=[export_job.uuid]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "X-Accel-Redirect" not in response
        assert b"Page not found" in response.content
    assert not AuditEvent.objects.filter(
        action__in=[AuditEvent.Action.FILE_DOWNLOADED, AuditEvent.Action.EXPORT_DOWNLOADED]
    ).exists()


def test_a_file_missing_from_storage_is_404_not_a_redirect(client, learner, stored):
    default_storage.delete(stored.storage_name)
    client.force_login(learner)
    response = client.get(reverse("portfolio:file_download", args=[stored.uuid]))
    assert response.status_code == 404
    assert "X-Accel-Redirect" not in response
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.FILE_DOWNLOADED).exists()


def test_without_the_prefix_files_stream_as_before(client, learner, stored, x_accel):
    x_accel.EVIDENCE_X_ACCEL_REDIRECT_PREFIX = ""
    client.force_login(learner)
    response = client.get(reverse("portfolio:file_download", args=[stored.uuid]))
    assert response.streaming
    assert "X-Accel-Redirect" not in response
    with default_storage.open(stored.storage_name) as original:
        assert b"".join(response.streaming_content) == original.read()


# --- The setting --------------------------------------------------------------------------------


def settings_with(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"} and not k.startswith(("S3_", "EVIDENCE_"))
    }
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(repr(s.EVIDENCE_X_ACCEL_REDIRECT_PREFIX))"],
        cwd=django_settings.BASE_DIR,
        env={**clean, "DEBUG": "1", "VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_prefix_is_off_unless_set(tmp_path):
    assert settings_with(tmp_path).stdout.strip() == "''"
    assert settings_with(tmp_path, EVIDENCE_X_ACCEL_REDIRECT_PREFIX="/protected/").stdout.strip() == "'/protected/'"


def test_a_prefix_must_be_a_path_ending_in_a_slash(tmp_path):
    result = settings_with(tmp_path, EVIDENCE_X_ACCEL_REDIRECT_PREFIX="protected")
    assert result.returncode != 0
    assert "EVIDENCE_X_ACCEL_REDIRECT_PREFIX must start and end with /" in result.stderr


def test_x_accel_with_s3_storage_stops_start_up(tmp_path):
    result = settings_with(tmp_path, EVIDENCE_X_ACCEL_REDIRECT_PREFIX="/protected/", S3_BUCKET="evidence")
    assert result.returncode != 0
    assert "EVIDENCE_X_ACCEL_REDIRECT_PREFIX works only with files on disk" in result.stderr
