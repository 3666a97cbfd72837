"""PDF exports rendered by real Celery worker processes over the real broker (Redis in CI), reading
and writing real files: two workers sharing one export's sections, and surviving a worker being
killed mid-render."""

import io
import os
import re

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from pypdf import PdfReader

from accounts.models import User
from assessments.models import Decision
from portfolio.models import Enrolment, ExportJob, ExportSection, StoredFile
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


def test_two_workers_share_one_exports_sections(tmp_path, demo):
    eqa = User.objects.get(username="eqa")
    with celery_worker(tmp_path, "left"), celery_worker(tmp_path, "right"):
        job = export_request(enrolment=demo, by=eqa)
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).is_finished, "the export to finish", timeout=120)
    job.refresh_from_db()
    assert job.state == State.DONE, job.error

    body = ExportSection.objects.filter(job=job).exclude(index=0)
    workers = set(body.values_list("rendered_by", flat=True))
    assert workers == {"celery@left", "celery@right"}
    text = pdf_text(job)
    for number in AssessmentCriterion.objects.filter(outcome__unit__in=demo.units.all()).values_list(
        "number", flat=True
    ):
        assert number in text, number
    pages = [f"Page {n}" for n in range(1, job.page_count + 1)]
    assert all(page in text for page in pages)
    assert default_storage.listdir(f"exports/{demo.uuid}") == ([], [job.storage_name.rsplit("/", 1)[1]])


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="redelivery after a worker dies is the Redis broker's")
def test_a_worker_killed_mid_render_is_replaced_and_the_job_finishes_once(tmp_path, demo):
    # A short lease and visibility timeout so the test need not wait the production minutes.
    fast = {"EXPORT_LEASE_SECONDS": "2", "CELERY_VISIBILITY_TIMEOUT": "4"}
    eqa = User.objects.get(username="eqa")
    rendering = ExportSection.objects.filter(job__enrolment=demo, index__gt=0, state=ExportSection.State.RUNNING)
    with celery_worker(tmp_path, "doomed", **fast) as doomed:
        job = export_request(enrolment=demo, by=eqa, include_originals=True)
        wait_for(rendering.exists, "a section to start rendering", every=0.02)
        doomed.kill()
    job.refresh_from_db()
    assert (job.state, job.attempts) == (State.RUNNING, 1), "killed before it could finish"
    killed = rendering.get()

    with celery_worker(tmp_path, "survivor", **fast):
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).is_finished, "the export to finish", timeout=120)
    job.refresh_from_db()
    assert job.state == State.DONE, job.error
    killed.refresh_from_db()
    assert killed.tries == 2, "the section the dead worker held was rendered again"
    assert killed.rendered_by == "celery@survivor"
    assert job.attempts == 1, "the sections finished before the kill were kept"
    # One final PDF; the plan, the sections' files and their folders are gone.
    assert default_storage.listdir(f"exports/{demo.uuid}") == ([], [job.storage_name.rsplit("/", 1)[1]])
    assert "Priya Shah" in pdf_text(job)
