"""PDF exports rendered by a real Celery worker process over the real broker (Redis in CI),
reading and writing real files, and surviving the worker being killed mid-render."""

import io
import os
import re

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from pypdf import PdfReader

from accounts.models import User
from assessments.models import Decision
from portfolio.models import Enrolment, ExportJob, StoredFile
from portfolio.services.exports import export_request
from tests.workers import celery_worker, needs_postgres, wait_for
from units.models import AssessmentCriterion

pytestmark = [pytest.mark.slow, needs_postgres]
State = ExportJob.State


@pytest.fixture
def demo(specifications, transactional_db):
    call_command("seed_demo")
    return Enrolment.objects.get(learner__username="learner")


def pdf_text(job: ExportJob) -> str:
    with default_storage.open(job.storage_name, "rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_worker_renders_the_demo_portfolio(tmp_path, demo):
    eqa = User.objects.get(username="eqa")
    with celery_worker(tmp_path):
        job = export_request(enrolment=demo, by=eqa)
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).is_finished, "the export to finish", timeout=120)
    job.refresh_from_db()
    assert job.state == State.DONE, job.error

    text = pdf_text(job)
    flat = re.sub(r"\s+", "", text)
    assert "Priya Shah" in text
    for number in AssessmentCriterion.objects.filter(outcome__unit__in=demo.units.all()).values_list(
        "number", flat=True
    ):
        assert number in text, number
    feedback = Decision.objects.filter(outcome="not_yet_met").values_list("feedback", flat=True).first()
    assert re.sub(r"\s+", "", feedback) in flat
    assert StoredFile.objects.filter(enrolment=demo).first().sha256 in flat


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="redelivery after a worker dies is the Redis broker's")
def test_a_worker_killed_mid_render_is_replaced_and_the_job_finishes_once(tmp_path, demo):
    # A short lease and visibility timeout so the test need not wait the production minutes.
    fast = {"EXPORT_LEASE_SECONDS": "2", "CELERY_VISIBILITY_TIMEOUT": "4"}
    eqa = User.objects.get(username="eqa")
    with celery_worker(tmp_path, "doomed", **fast) as doomed:
        job = export_request(enrolment=demo, by=eqa, include_originals=True)
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).state == State.RUNNING, "rendering to start", every=0.02)
        doomed.kill()
    job.refresh_from_db()
    assert (job.state, job.attempts) == (State.RUNNING, 1), "killed before it could finish"

    with celery_worker(tmp_path, "survivor", **fast):
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).is_finished, "the export to finish", timeout=120)
    job.refresh_from_db()
    assert job.state == State.DONE, job.error
    assert job.attempts == 2
    assert default_storage.listdir(f"exports/{demo.uuid}")[1] == [job.storage_name.rsplit("/", 1)[1]]
    assert "Priya Shah" in pdf_text(job)
