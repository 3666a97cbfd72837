"""The sections of a PDF export: how the Celery tasks that render them coordinate, through the database.

An attempt at a job (`exports.claim`) is split into section rows, one task each. A section's task
claims its row, renders, stores its PDF and records where its headings and anchors fell; the task
that completes the last outstanding section, deciding with the job's row locked, queues the merge.
The merge claims row 0 (the cover and contents, which it renders) the same way, so it runs once
however many messages arrive. There is no result backend: nothing waits on a task.

A running section has a lease like the job's: a heartbeat older than EXPORT_LEASE_SECONDS means
its worker died, and the redelivered message (acks late) takes it over. Every write checks that
the job is still running this attempt, so an attempt that lost its lease, or a failed job, changes
nothing. Locks are always taken job row first, then section row.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from portfolio.models import ExportJob, ExportSection
from portfolio.report.plan import FRONT, Section
from portfolio.report.render import BODY_END, BODY_START
from portfolio.report.sections import SectionLayout
from portfolio.services import exports

State = ExportSection.State


def sections_start(job_id: int, attempt: int, sections: Sequence[Section]) -> bool:
    """Record the attempt's sections and queue each body section's task once this commits."""
    with transaction.atomic():
        job = _running(job_id, attempt)
        if job is None or job.sections.filter(attempt=attempt).exists():
            return False
        ExportSection.objects.bulk_create(
            [ExportSection(job=job, attempt=attempt, index=FRONT, stage="Numbering the contents")]
            + [
                ExportSection(job=job, attempt=attempt, index=s.index, stage=s.stage[:200], weight=s.weight)
                for s in sections
            ]
        )
        job.progress, job.heartbeat_at = BODY_START, timezone.now()
        job.stage = f"Rendering {len(sections)} sections"
        job.save(update_fields=["progress", "stage", "heartbeat_at"])
        indexes = [s.index for s in sections]
        transaction.on_commit(lambda: _enqueue_sections(job_id, attempt, indexes))
    return True


def front_measured(job_id: int, attempt: int, pages: int) -> None:
    """How long the cover and contents will be, measured while the body renders: the merge then
    lays them out once. Recorded on their row until the merge records the real count."""
    ExportSection.objects.filter(job_id=job_id, attempt=attempt, index=FRONT, state=State.PENDING).update(
        page_count=pages
    )


def section_claim(job_id: int, attempt: int, index: int, *, worker: str) -> int | None:
    """Start rendering a body section: the number of this try, or None when there is nothing to do
    (the section is done, another worker is rendering it now, or the attempt is over)."""
    if index == FRONT:
        return None  # the cover and contents are the merge's: merge_claim
    return _claim(job_id, attempt, index, worker)


def merge_claim(job_id: int, attempt: int, *, worker: str) -> int | None:
    """Start the merge (it renders section 0, the cover and contents): the number of this try, or
    None if it is done, running elsewhere, not due yet (a body section is not done) or not wanted."""
    return _claim(job_id, attempt, FRONT, worker)


def _claim(job_id: int, attempt: int, index: int, worker: str) -> int | None:
    with transaction.atomic():
        job = _running(job_id, attempt)
        section = _section(job_id, attempt, index) if job is not None else None
        if section is None or section.state == State.DONE:
            return None
        if section.state == State.RUNNING and not _lapsed(section.heartbeat_at):
            return None
        if index == FRONT and job.sections.filter(attempt=attempt, index__gt=FRONT).exclude(state=State.DONE).exists():
            return None
        now = timezone.now()
        section.state, section.heartbeat_at, section.rendered_by = State.RUNNING, now, worker[:200]
        section.tries += 1
        section.save(update_fields=["state", "heartbeat_at", "rendered_by", "tries"])
        job.heartbeat_at = now
        job.save(update_fields=["heartbeat_at"])
        return section.tries


def section_heartbeat(job_id: int, attempt: int, index: int, tries: int) -> None:
    """Still rendering: keeps the section's lease and the job's. The bar moves as sections finish."""
    now = timezone.now()
    ExportSection.objects.filter(job_id=job_id, attempt=attempt, index=index, tries=tries, state=State.RUNNING).update(
        heartbeat_at=now
    )
    ExportJob.objects.filter(pk=job_id, attempts=attempt, state=ExportJob.State.RUNNING).update(heartbeat_at=now)


def section_release(job_id: int, attempt: int, index: int, tries: int, reason: str) -> None:
    """A temporary problem: the section waits for its retry; the other sections go on."""
    with transaction.atomic():
        job = _running(job_id, attempt)
        if job is None:
            return
        ExportSection.objects.filter(
            job_id=job_id, attempt=attempt, index=index, tries=tries, state=State.RUNNING
        ).update(state=State.PENDING)
        job.stage = f"Waiting to try a section again after a temporary problem ({reason})"[:200]
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["stage", "heartbeat_at"])


def section_finish(
    job_id: int, attempt: int, index: int, tries: int, *, storage_name: str, layout: SectionLayout
) -> bool:
    """Record a rendered section; the call that completes the last one queues the merge. False:
    this try no longer counts (the attempt is over, or the section was taken over), and its file is
    the caller's to delete."""
    with transaction.atomic():
        job = _running(job_id, attempt)
        section = _section(job_id, attempt, index) if job is not None else None
        if section is None or section.state != State.RUNNING or section.tries != tries:
            return False
        section.state, section.storage_name, section.finished_at = State.DONE, storage_name, timezone.now()
        section.page_count, section.bookmarks, section.anchors = layout.page_count, layout.bookmarks, layout.anchors
        section.save()
        body = list(job.sections.filter(attempt=attempt, index__gt=FRONT).values_list("state", "weight"))
        done = [weight for state, weight in body if state == State.DONE]
        job.progress = BODY_START + (BODY_END - BODY_START) * sum(done) // sum(weight for _, weight in body)
        job.stage = f"Rendered {len(done)} of {len(body)} sections"
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["progress", "stage", "heartbeat_at"])
        if len(done) == len(body):  # under the job's lock: exactly one call sees the last one done
            transaction.on_commit(lambda: _enqueue_merge(job_id, attempt))
    return True


def merge_if_due(job_id: int, attempt: int) -> bool:
    """Queue the merge if every body section is done and the merge has not started: the worker that
    finished the last section may have died between its commit and queueing the merge. A repeated
    message for a done section calls this; a second merge message would find nothing to do."""
    with transaction.atomic():
        job = _running(job_id, attempt)
        if job is None:
            return False
        states = dict(job.sections.filter(attempt=attempt).values_list("index", "state").order_by())
        due = states.get(FRONT) == State.PENDING and all(
            state == State.DONE for index, state in states.items() if index != FRONT
        )
        if due:
            transaction.on_commit(lambda: _enqueue_merge(job_id, attempt))
    return due


def merged_sections(job_id: int, attempt: int) -> tuple[int | None, list[ExportSection]]:
    """The front's measured length (None if it was not measured) and the body sections, in order."""
    rows = list(ExportSection.objects.filter(job_id=job_id, attempt=attempt).order_by("index"))
    return rows[0].page_count, rows[1:]


def merge_finish(
    job_id: int, attempt: int, tries: int, *, storage_name: str, size: int, sha256: str, page_count: int
) -> bool:
    """The job is done (`exports.finish`, which also clears the intermediate files) and so is the
    front section. False: another attempt took over; the caller deletes its file."""
    with transaction.atomic():
        if not exports.finish(
            job_id, attempt, storage_name=storage_name, size=size, sha256=sha256, page_count=page_count
        ):
            return False
        body_pages = sum(s.page_count or 0 for s in merged_sections(job_id, attempt)[1])
        ExportSection.objects.filter(job_id=job_id, attempt=attempt, index=FRONT, tries=tries).update(
            state=State.DONE, page_count=page_count - body_pages, finished_at=timezone.now()
        )
    return True


def _running(job_id: int, attempt: int) -> ExportJob | None:
    """The job, locked, if it is still running this attempt."""
    return (
        ExportJob.objects.select_for_update()
        .select_related("enrolment")
        .filter(pk=job_id, attempts=attempt, state=ExportJob.State.RUNNING)
        .first()
    )


def _section(job_id: int, attempt: int, index: int) -> ExportSection | None:
    return ExportSection.objects.select_for_update().filter(job_id=job_id, attempt=attempt, index=index).first()


def _lapsed(heartbeat: datetime | None) -> bool:
    return exports.lease_left(heartbeat) == 0


def held_for(job_id: int, attempt: int, index: int) -> float | None:
    """Seconds until the lease on a section another worker is rendering lapses, when a claim was
    refused for that; None when it was refused for any other reason (done, not due, not wanted)."""
    heartbeat = (
        ExportSection.objects.filter(
            job_id=job_id,
            attempt=attempt,
            index=index,
            state=State.RUNNING,
            job__attempts=attempt,
            job__state=ExportJob.State.RUNNING,
        )
        .values_list("heartbeat_at", flat=True)
        .first()
    )
    return exports.lease_left(heartbeat) or None


def _enqueue_sections(job_id: int, attempt: int, indexes: list[int]) -> None:
    from portfolio.tasks import render_export_section  # the task module imports this one

    for index in indexes:  # in document order: units, the longest, go first
        render_export_section.delay(job_id, attempt, index)


def _enqueue_merge(job_id: int, attempt: int) -> None:
    from portfolio.tasks import merge_export

    merge_export.delay(job_id, attempt)
