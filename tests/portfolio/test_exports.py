"""PDF export jobs: the job row is the record; the task is idempotent, retries only what is
transient, and a stalled attempt can be taken over. Rendering itself is tested in tests/portfolio/report."""

import datetime
import hashlib

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from portfolio import tasks
from portfolio.models import AuditEvent, ExportJob
from portfolio.services import export_render, exports
from portfolio.services.evidence import evidence_create
from portfolio.services.grants import access_grant, access_revoke
from tests.factories import UserFactory
from tests.helpers import details

pytestmark = pytest.mark.django_db
State = ExportJob.State


@pytest.fixture
def portfolio(enrolment, learner):
    evidence_create(enrolment=enrolment, by=learner, details=details(title="Rota for the spring launch"))
    return enrolment


def request_export(enrolment, by, capture, **kwargs) -> ExportJob:
    with capture(execute=True):  # the tasks are queued on commit and run eagerly here
        job = exports.export_request(enrolment=enrolment, by=by, **kwargs)
    job.refresh_from_db()
    return job


def run_export(job: ExportJob, capture) -> None:
    """Deliver the job's message: its sections and merge are queued on commit, and run eagerly."""
    with capture(execute=True):
        tasks.render_export.apply(args=[job.pk])
    job.refresh_from_db()


def test_an_export_renders_once_and_records_its_output(portfolio, assessor, django_capture_on_commit_callbacks):
    job = request_export(portfolio, assessor, django_capture_on_commit_callbacks)

    assert (job.state, job.progress, job.attempts, job.error) == (State.DONE, 100, 1, "")
    with default_storage.open(job.storage_name, "rb") as stored:
        content = stored.read()
    assert content.startswith(b"%PDF-")
    assert (job.size, job.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    assert job.page_count >= 3
    actions = list(AuditEvent.objects.filter(enrolment=portfolio).values_list("action", flat=True).order_by("id"))
    assert actions[-2:] == [AuditEvent.Action.EXPORT_REQUESTED, AuditEvent.Action.EXPORT_COMPLETED]


def test_a_repeated_message_changes_nothing(portfolio, assessor, django_capture_on_commit_callbacks):
    job = request_export(portfolio, assessor, django_capture_on_commit_callbacks)
    before = ExportJob.objects.filter(pk=job.pk).values().get()
    events = AuditEvent.objects.count()
    files = default_storage.listdir(f"exports/{portfolio.uuid}")[1]

    sections = list(job.sections.values())
    tasks.render_export.apply(args=[job.pk])
    for section in sections:
        tasks.render_export_section.apply(args=[job.pk, 1, section["index"]])
    tasks.merge_export.apply(args=[job.pk, 1])

    assert ExportJob.objects.filter(pk=job.pk).values().get() == before
    assert list(job.sections.values()) == sections
    assert AuditEvent.objects.count() == events
    assert default_storage.listdir(f"exports/{portfolio.uuid}")[1] == files == [f"{job.uuid}-1.pdf"]
    assert default_storage.listdir(f"exports/{portfolio.uuid}")[0] == [], "no section folders left"


def test_a_second_click_returns_the_pending_job(portfolio, assessor):
    first = exports.export_request(enrolment=portfolio, by=assessor)  # on_commit never runs: still queued
    again = exports.export_request(enrolment=portfolio, by=assessor)
    with_files = exports.export_request(enrolment=portfolio, by=assessor, include_originals=True)
    assert again == first
    assert with_files != first
    assert ExportJob.objects.count() == 2


def test_a_failure_is_recorded_with_a_clear_message_and_can_be_retried(
    portfolio, assessor, monkeypatch, django_capture_on_commit_callbacks
):
    real = export_render.render_section
    monkeypatch.setattr(export_render, "render_section", lambda *a, **k: 1 / 0)
    job = request_export(portfolio, assessor, django_capture_on_commit_callbacks)

    assert job.state == State.FAILED
    assert "could not be made" in job.error
    assert str(job.uuid) in job.error, "the message gives a reference support can look up"
    assert "ZeroDivision" not in job.error, "internals stay in the log"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT_FAILED, object_uuid=job.uuid).exists()

    assert default_storage.listdir(f"exports/{portfolio.uuid}") == ([], []), "the failed attempt left nothing"

    monkeypatch.setattr(export_render, "render_section", real)
    with django_capture_on_commit_callbacks(execute=True):
        exports.export_retry(job=job, by=assessor)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.error) == (State.DONE, 2, "")


def test_only_transient_errors_are_retried(portfolio, assessor, monkeypatch, django_capture_on_commit_callbacks):
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(export_render, "render_section", flaky)
    monkeypatch.setattr(tasks, "RETRY_DELAYS", (0, 0))
    monkeypatch.setattr(tasks.render_export_section, "max_retries", 2)
    job = exports.export_request(enrolment=portfolio, by=assessor)
    run_export(job, django_capture_on_commit_callbacks)
    assert len(calls) == 3, "the first try and two retries; the other sections see the job failed"
    assert job.state == State.FAILED
    assert "service was unavailable" in job.error
    assert job.sections.get(index=1).tries == 3

    calls.clear()
    monkeypatch.setattr(export_render, "render_section", lambda *a, **k: calls.append(1) or 1 / 0)
    other = exports.export_request(enrolment=portfolio, by=assessor, include_originals=True)
    run_export(other, django_capture_on_commit_callbacks)
    assert len(calls) == 1, "a bug is not retried"
    assert other.state == State.FAILED


def test_a_transient_error_while_planning_is_retried(
    portfolio, assessor, monkeypatch, django_capture_on_commit_callbacks
):
    real, calls = export_render.plan_report, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("the database restarted")
        return real(*args, **kwargs)

    monkeypatch.setattr(export_render, "plan_report", flaky)
    monkeypatch.setattr(tasks, "RETRY_DELAYS", (0, 0))
    job = exports.export_request(enrolment=portfolio, by=assessor)
    run_export(job, django_capture_on_commit_callbacks)
    assert (job.state, job.attempts, len(calls)) == (State.DONE, 2, 2)


def test_the_time_limit_fails_the_job_with_a_message(
    portfolio, assessor, monkeypatch, django_capture_on_commit_callbacks
):
    def slow(*args, **kwargs):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(export_render, "render_section", slow)
    job = exports.export_request(enrolment=portfolio, by=assessor)
    run_export(job, django_capture_on_commit_callbacks)
    assert job.state == State.FAILED
    assert "took longer than" in job.error


def test_a_live_attempt_is_left_alone_and_a_stalled_one_taken_over(portfolio, assessor, settings):
    job = exports.export_request(enrolment=portfolio, by=assessor)
    assert exports.claim(job.pk) == 1
    assert exports.claim(job.pk) is None, "another worker is rendering it"

    stale = timezone.now() - datetime.timedelta(seconds=settings.EXPORT_LEASE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale)
    assert exports.claim(job.pk) == 2

    exports.report_progress(job.pk, 1, 80, "the old attempt")
    assert not exports.finish(job.pk, 1, storage_name="x.pdf", size=1, sha256="0" * 64, page_count=1)
    job.refresh_from_db()
    assert (job.state, job.progress, job.attempts) == (State.RUNNING, 0, 2), "the dead attempt wrote nothing"


def test_a_stalled_job_can_be_retried_by_its_owner(portfolio, assessor, settings, django_capture_on_commit_callbacks):
    job = exports.export_request(enrolment=portfolio, by=assessor)
    exports.claim(job.pk)
    assert not exports.can_retry(ExportJob.objects.get(pk=job.pk))
    stale = timezone.now() - datetime.timedelta(seconds=settings.EXPORT_LEASE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale)
    job.refresh_from_db()
    assert exports.can_retry(job)
    with django_capture_on_commit_callbacks(execute=True):
        exports.export_retry(job=job, by=assessor)
    job.refresh_from_db()
    assert (job.state, job.attempts) == (State.DONE, 2)


# The pages


def test_export_from_the_portfolio_page_and_download(client, portfolio, assessor, django_capture_on_commit_callbacks):
    client.force_login(assessor)
    page = client.get(reverse("portfolio:portfolio", args=[portfolio.uuid])).content.decode()
    assert "Export PDF" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portfolio:export_create", args=[portfolio.uuid]))
    job = ExportJob.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("portfolio:export", args=[job.uuid])

    detail = client.get(response["Location"]).content.decode()
    assert "Download the PDF" in detail
    assert job.sha256 in detail
    status = client.get(reverse("portfolio:export_status", args=[job.uuid])).content.decode()
    assert "hx-trigger" not in status, "a finished job stops polling"

    download = client.get(reverse("portfolio:export_download", args=[job.uuid]))
    body = b"".join(download.streaming_content)
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert hashlib.sha256(body).hexdigest() == job.sha256
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT_DOWNLOADED, actor=assessor).count() == 1


def test_an_unfinished_job_polls_and_cannot_be_downloaded(client, portfolio, assessor):
    job = exports.export_request(enrolment=portfolio, by=assessor)
    client.force_login(assessor)
    status = client.get(reverse("portfolio:export_status", args=[job.uuid])).content.decode()
    assert 'hx-trigger="every 1s"' in status
    assert client.get(reverse("portfolio:export_download", args=[job.uuid])).status_code == 404


def test_a_failed_job_shows_its_message_and_a_retry_button(
    client, portfolio, assessor, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(export_render, "render_section", lambda *a, **k: 1 / 0)
    job = exports.export_request(enrolment=portfolio, by=assessor)
    run_export(job, django_capture_on_commit_callbacks)
    client.force_login(assessor)
    html = client.get(reverse("portfolio:export", args=[job.uuid])).content.decode()
    assert "The export failed." in html
    assert "Try again" in html


def test_someone_elses_export_is_not_found(client, portfolio, assessor, iqa, learner):
    job = exports.export_request(enrolment=portfolio, by=assessor)
    for person in (iqa, learner):  # both may export this portfolio themselves
        client.force_login(person)
        assert client.get(reverse("portfolio:export", args=[job.uuid])).status_code == 404


def test_an_eqa_exports_while_granted_and_loses_the_export_when_revoked(
    client, portfolio, centre_admin, eqa, django_capture_on_commit_callbacks
):
    grant = access_grant(
        admin=centre_admin,
        eqa=eqa,
        whole_centre=True,
        expires_on=timezone.localdate() + datetime.timedelta(days=10),
    )
    client.force_login(eqa)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portfolio:export_create", args=[portfolio.uuid]))
    job = ExportJob.objects.get(requested_by=eqa)
    assert client.get(reverse("portfolio:export_download", args=[job.uuid])).status_code == 200

    access_revoke(grant=grant, admin=centre_admin)
    assert client.get(reverse("portfolio:export_download", args=[job.uuid])).status_code == 404
    assert client.post(reverse("portfolio:export_create", args=[portfolio.uuid])).status_code == 404


def test_a_learner_may_export_their_own_portfolio(client, portfolio, learner):
    client.force_login(learner)
    assert client.post(reverse("portfolio:export_create", args=[portfolio.uuid])).status_code == 303


def test_a_classmate_cannot_export_it(client, portfolio):
    classmate = UserFactory(role=User.Role.LEARNER, centre=portfolio.centre)
    client.force_login(classmate)
    assert client.post(reverse("portfolio:export_create", args=[portfolio.uuid])).status_code == 404
    assert not ExportJob.objects.exists()
