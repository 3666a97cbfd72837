"""Celery tasks for portfolios: render a PDF export, in sections, on as many workers as there are.

`render_export` reads the portfolio and queues one `render_export_section` per section; the
section that completes last queues `merge_export`, which lays out the cover and contents and joins
everything into the final PDF (portfolio.services.export_sections says how they coordinate).

Acknowledged late (settings): if a worker dies mid-task the broker hands the message out again,
and the claim lets the new try take over once the dead one's lease has lapsed. Every task is a
no-op when its work is done or no longer wanted, so a repeated message changes nothing.
"""

import logging
import math
from collections.abc import Callable

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from portfolio.models import ExportJob
from portfolio.report.plan import FRONT
from portfolio.services import export_render, export_sections, exports

logger = logging.getLogger(__name__)

# Worth another try: the database or storage was briefly unreachable. Anything else is a bug
# or bad data, and retrying would fail the same way.
TRANSIENT = (OperationalError, ConnectionError, TimeoutError)
RETRY_DELAYS = (10, 30, 90)


def _check_back(task: Task, held_for: float | None) -> None:
    """The work is held under another worker's lease: look again when it lapses, in case that worker
    has died. A pool process that is killed has its message handed out again at once, long before
    its lease lapses; dropping that message would leave the export waiting for a person's "Try again".
    A new message rather than a retry, so the check costs none of the task's retries."""
    if held_for is not None:
        task.apply_async(args=task.request.args, kwargs=task.request.kwargs, countdown=math.ceil(held_for) + 1)


@shared_task(bind=True, max_retries=len(RETRY_DELAYS))
def render_export(self: Task, job_id: int) -> None:
    attempt = exports.claim(job_id)
    if attempt is None:
        _check_back(self, exports.held_for(job_id))
        return
    _run(
        self,
        job_id,
        attempt,
        lambda: export_render.export_plan(job_id, attempt),
        release=lambda reason: exports.wait_to_retry(job_id, attempt, reason),
    )


@shared_task(bind=True, max_retries=len(RETRY_DELAYS))
def render_export_section(self: Task, job_id: int, attempt: int, index: int) -> None:
    tries = export_sections.section_claim(job_id, attempt, index, worker=self.request.hostname or "")
    if tries is None:
        held_for = export_sections.held_for(job_id, attempt, index)
        if held_for is None:
            export_sections.merge_if_due(job_id, attempt)
        _check_back(self, held_for)
        return
    _run(
        self,
        job_id,
        attempt,
        lambda: export_render.export_section(job_id, attempt, index, tries),
        release=lambda reason: export_sections.section_release(job_id, attempt, index, tries, reason),
    )


@shared_task(bind=True, max_retries=len(RETRY_DELAYS))
def merge_export(self: Task, job_id: int, attempt: int) -> None:
    tries = export_sections.merge_claim(job_id, attempt, worker=self.request.hostname or "")
    if tries is None:
        _check_back(self, export_sections.held_for(job_id, attempt, FRONT))
        return
    _run(
        self,
        job_id,
        attempt,
        lambda: export_render.export_merge(job_id, attempt, tries),
        release=lambda reason: export_sections.section_release(job_id, attempt, FRONT, tries, reason),
    )


def _run(task: Task, job_id: int, attempt: int, work: Callable[[], None], *, release: Callable[[str], None]) -> None:
    """Do one step of an export; a failure fails the job with a message a person can act on."""
    try:
        work()
    except SoftTimeLimitExceeded:
        exports.fail(job_id, attempt, exports.TOO_SLOW.format(minutes=settings.CELERY_TASK_SOFT_TIME_LIMIT // 60))
    except TRANSIENT as error:
        if task.request.retries >= task.max_retries:
            logger.exception("Export job %s failed after %s retries", job_id, task.request.retries)
            exports.fail(job_id, attempt, f"The PDF could not be made: a service was unavailable ({error}).")
            return
        release(type(error).__name__)
        raise task.retry(exc=error, countdown=RETRY_DELAYS[task.request.retries]) from error
    except Exception:
        logger.exception("Export job %s failed", job_id)
        job_uuid = ExportJob.objects.values_list("uuid", flat=True).get(pk=job_id)
        exports.fail(job_id, attempt, exports.INTERNAL_ERROR.format(uuid=job_uuid))
