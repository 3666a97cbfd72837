"""Evidence files in S3-compatible storage: a real moto server on loopback, a real bucket.

The storage settings come from config/settings.py itself, read in a subprocess with S3_BUCKET and
friends set, so the test covers the environment switch as well as the upload and download.
"""

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from portfolio.models import Method, StoredFile
from portfolio.services.evidence import EvidenceDetails, evidence_create
from portfolio.services.files import file_attach, file_detach
from tests.factories import EnrolmentFactory, UnitFactory

pytestmark = pytest.mark.slow  # starts a real S3 server process; runs in `make test` like the rest

BUCKET = "portfolio-evidence"
REGION = "eu-west-2"
KEYS = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **KEYS},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"moto server exited: {server.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start within 30 s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def s3_client(s3_endpoint):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **_lower(KEYS))
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


def _lower(keys: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in keys.items()}


def storage_from_environment(endpoint: str) -> dict[str, object]:
    """STORAGES["default"] as config/settings.py builds it from the environment."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        **KEYS,
        "DEBUG": "1",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": REGION,
    }
    code = "import json, config.settings as s; print(json.dumps(s.STORAGES['default']))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


@pytest.fixture
def s3_storage(settings, s3_endpoint, s3_client):
    default = storage_from_environment(s3_endpoint)
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    assert default["OPTIONS"]["default_acl"] == "private"
    settings.STORAGES = {**settings.STORAGES, "default": default}
    return s3_client


@pytest.fixture
def evidence(learner, assessor):
    enrolment = EnrolmentFactory(learner=learner, assessor=assessor, units=[UnitFactory()])
    details = EvidenceDetails(
        title="Customer complaint log",
        description="",
        method=Method.WORK_PRODUCT,
        activity_date=timezone.localdate() - timedelta(days=1),
        activity_end_date=None,
        location="",
    )
    return evidence_create(enrolment=enrolment, by=learner, details=details)


def test_files_go_to_the_bucket_privately_and_come_back_through_the_view(
    s3_storage, client, learner, evidence, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("complaints.pdf", PDF, content_type="text/html")
    stored = file_attach(version=evidence.current_version, upload=upload, by=learner).file

    now = timezone.now()
    assert stored.storage_name == f"evidence/{now:%Y}/{now:%m}/{stored.uuid}"
    keys = [o["Key"] for o in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [stored.storage_name]
    obj = s3_storage.get_object(Bucket=BUCKET, Key=stored.storage_name)
    assert obj["Body"].read() == PDF
    assert obj["ContentType"] == "application/pdf"  # the sniffed type, not the browser's text/html
    assert obj["ContentDisposition"] == "attachment"
    grants = s3_storage.get_object_acl(Bucket=BUCKET, Key=stored.storage_name)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner only: nothing public
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()

    client.force_login(learner)
    response = client.get(reverse("portfolio:file_download", args=[stored.uuid]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="complaints.pdf"'
    assert response["Content-Type"] == "application/pdf"

    with django_capture_on_commit_callbacks(execute=True):
        file_detach(version=evidence.current_version, file=stored, by=learner)
    assert not StoredFile.objects.exists()
    assert s3_storage.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
