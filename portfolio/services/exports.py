"""PDF exports: request one, and the worker's side of rendering it.

The job row is the record. The Celery message only carries the job's id, and every step checks
the row first, so a repeated message, a redelivery after a worker died, or a retry by the person
all end in one rendered PDF. An attempt is rendered in sections by several tasks; how they share
the work is portfolio.services.export_sections.
"""

import contextlib
import logging
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import AccessGrant, User
from accounts.policy import Action as Policy
from accounts.policy import allows
from portfolio.models import Enrolment, ExportJob
from portfolio.services.audit import Action, audit

logger = logging.getLogger(__name__)
State = ExportJob.State

INTERNAL_ERROR = (
    "The PDF could not be made because of a problem on our side (reference {uuid}). "
    "Try again; if it fails again, contact support with that reference."
)
TOO_SLOW = "The PDF took longer than {minutes} minutes to make and was stopped. Try again later."


def _enqueue(job: ExportJob) -> None:
    from portfolio.tasks import render_export  # the task module imports this one

    transaction.on_commit(lambda: render_export.delay(job.pk))


class AccessEnded(PermissionDenied):
    """The person's access to the portfolio ended (an EQA's grant revoked) after the page checked it."""


def _lock_access(enrolment: Enrolment, by: User) -> None:
    """Check again, inside the transaction, that `by` may export, so a revocation cannot slip in.

    The view checked before this transaction began. An EQA's access is their grants: lock them
    (`access_revoke` locks the grant it revokes), then ask the policy afresh, in a new statement
    that sees anything committed while we waited. A revocation either commits first and is seen
    here, or waits until this job has committed. Locked in id order, so two requests cannot deadlock.
    """
    if by.role == User.Role.EQA:
        grants = AccessGrant.objects.select_for_update().filter(eqa=by, centre_id=enrolment.centre_id)
        list(grants.order_by("pk").values_list("pk", flat=True))
    if not allows(by, Policy.EXPORT_PORTFOLIO, enrolment):
        raise AccessEnded("Your access to this portfolio has ended, so it cannot be exported.")


def export_request(*, enrolment: Enrolment, by: User, include_originals: bool = False) -> ExportJob:
    """A new export job, queued once the transaction commits. A second click while one of the
    same kind is still waiting or rendering returns that one instead of starting another.

    Raises AccessEnded (a PermissionDenied, so a 403) if `by` may no longer export it."""
    with transaction.atomic():
        _lock_access(enrolment, by)
        pending = (
            ExportJob.objects.select_for_update()
            .filter(
                enrolment=enrolment,
                requested_by=by,
                include_originals=include_originals,
                state__in=[State.QUEUED, State.RUNNING],
            )
            .first()
        )
        if pending is not None and not is_stalled(pending):
            return pending
        job = ExportJob.objects.create(
            enrolment=enrolment, requested_by=by, requested_at=timezone.now(), include_originals=include_originals
        )
        audit(
            by,
            Action.EXPORT_REQUESTED,
            job,
            enrolment=enrolment,
            summary=f"{by} asked for a PDF of {enrolment.learner}'s portfolio"
            + (" with original files attached" if include_originals else ""),
            detail={"include_originals": include_originals},
        )
        _enqueue(job)
    return job


def lease_left(heartbeat: datetime | None) -> float:
    """Seconds until a lease last renewed at `heartbeat` lapses; 0 once it has."""
    if heartbeat is None:
        return 0.0
    return max(0.0, settings.EXPORT_LEASE_SECONDS - (timezone.now() - heartbeat).total_seconds())


def is_stalled(job: ExportJob) -> bool:
    """Rendering, but no word from the worker for longer than the lease: it has died."""
    return job.state == State.RUNNING and lease_left(job.heartbeat_at) == 0


def held_for(job_id: int) -> float | None:
    """Seconds until a running job's lease lapses, when `claim` refused it for being held; else None."""
    heartbeat = ExportJob.objects.filter(pk=job_id, state=State.RUNNING).values_list("heartbeat_at", flat=True).first()
    return lease_left(heartbeat) or None  # no such running job reads as no heartbeat: nothing holds it


def can_retry(job: ExportJob) -> bool:
    return job.state == State.FAILED or is_stalled(job)


def export_retry(*, job: ExportJob, by: User) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        if not can_retry(job):
            return job
        job.state, job.progress, job.stage, job.error = State.QUEUED, 0, "Waiting for a worker", ""
        job.save(update_fields=["state", "progress", "stage", "error"])
        audit(
            by,
            Action.EXPORT_REQUESTED,
            job,
            enrolment=job.enrolment,
            summary=f"{by} tried the PDF export again",
            detail={"retry": True, "attempts_so_far": job.attempts},
        )
        _enqueue(job)
    return job


# The worker's side. Each step is its own short transaction; rendering holds no lock.


def claim(job_id: int) -> int | None:
    """Start an attempt: its number, or None when there is nothing to do (finished, or another
    worker is rendering it now)."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished or (job.state == State.RUNNING and not is_stalled(job)):
            return None
        now = timezone.now()
        job.state, job.progress, job.stage, job.error = State.RUNNING, 0, "Starting", ""
        job.attempts += 1
        job.started_at = job.heartbeat_at = now
        job.save(update_fields=["state", "progress", "stage", "error", "attempts", "started_at", "heartbeat_at"])
        return job.attempts


def report_progress(job_id: int, attempt: int, percent: int, stage: str) -> None:
    # Only the current attempt may write: a worker that lost its lease cannot move the bar back.
    ExportJob.objects.filter(pk=job_id, attempts=attempt, state=State.RUNNING).update(
        progress=max(0, min(percent, 99)), stage=stage[:200], heartbeat_at=timezone.now()
    )


def output_name(job: ExportJob, attempt: int) -> str:
    # One name per attempt: an attempt that lost its lease can never overwrite the winner's file.
    return f"exports/{job.enrolment.uuid}/{job.uuid}-{attempt}.pdf"


def attempt_folder(job: ExportJob, attempt: int) -> str:
    """Where an attempt keeps its intermediate files (the plan, the sections' PDFs) until the merge."""
    return f"exports/{job.enrolment.uuid}/{job.uuid}/{attempt}"


def plan_name(job: ExportJob, attempt: int) -> str:
    return f"{attempt_folder(job, attempt)}/plan.pickle"


def section_name(job: ExportJob, attempt: int, index: int) -> str:
    return f"{attempt_folder(job, attempt)}/section-{index}.pdf"


def store_output(job: ExportJob, attempt: int, content: File) -> str:
    name = output_name(job, attempt)
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, content)


def discard_other_attempts(job: ExportJob, keep: str) -> None:
    """Files a dead or superseded attempt stored before it could finish, and every attempt's
    intermediate files: only the winner's PDF stays."""
    for attempt in range(1, job.attempts + 1):
        name = output_name(job, attempt)
        if name != keep and default_storage.exists(name):
            default_storage.delete(name)
        discard_intermediates(job, attempt)


def discard_intermediates(job: ExportJob, attempt: int) -> None:
    """Everything in one attempt's folder: the plan, the sections' PDFs, and any a worker stored
    before it died. A section still rendering when this runs deletes its own file when it finds
    the attempt over."""
    folder = attempt_folder(job, attempt)
    try:
        files = default_storage.listdir(folder)[1]
    except FileNotFoundError:
        files = []
    for name in files:
        default_storage.delete(f"{folder}/{name}")
    _remove_empty_folders([folder, folder.rsplit("/", 1)[0]])


def _remove_empty_folders(folders: list[str]) -> None:
    """Object stores have no folders; on a local disk, leave no empty ones behind."""
    for folder in folders:
        try:
            path = Path(default_storage.path(folder))
        except NotImplementedError:
            return
        with contextlib.suppress(OSError):  # not empty (another attempt's files), or already gone
            path.rmdir()


def finish(job_id: int, attempt: int, *, storage_name: str, size: int, sha256: str, page_count: int) -> bool:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("enrolment__learner").get(pk=job_id)
        if job.attempts != attempt or job.state != State.RUNNING:
            return False
        job.state, job.progress, job.stage = State.DONE, 100, "Ready"
        job.storage_name, job.size, job.sha256, job.page_count = storage_name, size, sha256, page_count
        job.finished_at = timezone.now()
        job.save()
        discard_other_attempts(job, keep=storage_name)
        audit(
            None,
            Action.EXPORT_COMPLETED,
            job,
            enrolment=job.enrolment,
            summary=f"PDF of {job.enrolment.learner}'s portfolio rendered: {page_count} pages, {size} bytes",
            detail={"sha256": sha256, "size": size, "pages": page_count, "attempt": attempt},
        )
    return True


def fail(job_id: int, attempt: int | None, message: str) -> None:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("enrolment").get(pk=job_id)
        if job.is_finished or (attempt is not None and job.attempts != attempt):
            return
        job.state, job.error, job.stage, job.finished_at = State.FAILED, message, "Failed", timezone.now()
        job.save(update_fields=["state", "error", "stage", "finished_at"])
        discard_intermediates(job, job.attempts)
        audit(None, Action.EXPORT_FAILED, job, enrolment=job.enrolment, summary=f"PDF export failed: {message}")


def wait_to_retry(job_id: int, attempt: int, reason: str) -> None:
    """A temporary problem: back to the queue, so the bar says so rather than freezing."""
    ExportJob.objects.filter(pk=job_id, attempts=attempt, state=State.RUNNING).update(
        state=State.QUEUED, stage=f"Waiting to try again after a temporary problem ({reason})"[:200]
    )
