"""PDF exports rendered by real Celery worker processes over the real broker (Redis in CI), reading
and writing real files: two workers sharing one export's sections, and surviving a worker being
killed mid-render."""

import datetime
import io
import os
import re
import signal

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from pypdf import PdfReader

from accounts.models import User
from assessments.models import Decision
from portfolio.models import Enrolment, ExportJob, ExportSection, StoredFile
from portfolio.services.evidence import evidence_create, evidence_submit, mapping_set
from portfolio.services.exports import export_request
from portfolio.services.grants import access_grant
from tests.helpers import PLAN, criterion, details, enrol
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
    fast = {"EXPORT_LEASE_SECONDS": "2", "CELERY_VISIBILITY_TIMEOUT": "4", "CELERY_RESTORE_INTERVAL": "1"}
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


@pytest.fixture
def small(specifications, transactional_db, learner, assessor, iqa, eqa, centre_admin):
    """A portfolio of three pieces of evidence: quick to render, so ten kills take a minute, not ten."""
    enrolment = enrol(learner, assessor=assessor, iqa=iqa)
    for n in range(3):
        evidence = evidence_create(enrolment=enrolment, by=learner, details=details(title=f"Briefing {n}"))
        mapping_set(version=evidence.current_version, by=learner, accounts={criterion(PLAN, "1.1"): "Shown"}, items=[])
        evidence_submit(version=evidence.current_version, by=learner, declared=True)
    soon = datetime.date.today() + datetime.timedelta(days=30)
    access_grant(admin=centre_admin, eqa=eqa, whole_centre=True, expires_on=soon)
    return enrolment


# Where each round kills the pool process: planning, a body section, or the merge (cover and contents).
KILL_POINTS = {
    "planning": lambda job: job.state == State.RUNNING and not job.sections.exists(),
    "a section": lambda job: job.sections.filter(index__gt=0, state=ExportSection.State.RUNNING).exists(),
    "the merge": lambda job: job.sections.filter(index=0, state=ExportSection.State.RUNNING).exists(),
}


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="redelivery after a worker dies is the Redis broker's")
def test_ten_pool_processes_killed_mid_export_and_each_export_finishes_exactly_once(tmp_path, small, eqa):
    """Prefork, as `make worker` runs: a killed pool process's message comes back at once, while the
    dead process's lease still holds; the task looks again when the lease lapses and takes over."""
    kills: list[str] = []
    finished: list[ExportJob] = []
    with celery_worker(tmp_path, "phoenix", pool="prefork", EXPORT_LEASE_SECONDS="2") as worker:
        for round_number in range(30):
            if len(kills) == 10:
                break
            point, reached = list(KILL_POINTS.items())[round_number % len(KILL_POINTS)]
            job = export_request(enrolment=small, by=eqa)
            fresh = ExportJob.objects.filter(pk=job.pk)
            wait_for(lambda q=fresh, r=reached: r(q.get()) or q.get().is_finished, f"{point} to start", every=0.005)
            for pid in worker.pool_processes():
                os.kill(pid, signal.SIGKILL)
            if not fresh.get().is_finished:
                kills.append(point)
            wait_for(lambda q=fresh: q.get().is_finished, "the export to finish", timeout=90)
            job.refresh_from_db()
            assert job.state == State.DONE, job.error
            finished.append(job)
    assert len(kills) == 10, f"only {len(kills)} kills landed mid-export in {len(finished)} rounds"
    # Exactly once: one final PDF per export, nothing else left behind, each one whole.
    names = sorted(job.storage_name.rsplit("/", 1)[1] for job in finished)
    folders, files = default_storage.listdir(f"exports/{small.uuid}")
    assert (folders, sorted(files)) == ([], names)
    for job in finished:
        text = pdf_text(job)
        assert all(f"Page {n}" in text for n in range(1, job.page_count + 1))
    print(f"\n{len(kills)} pool processes killed mid-export in {len(finished)} rounds: {sorted(set(kills))}")
