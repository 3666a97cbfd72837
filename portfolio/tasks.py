"""Celery tasks for portfolios: render a PDF export.

Acknowledged late (settings): if the worker dies mid-render the broker hands the message out
again, and `claim` lets the new attempt take over once the dead one's lease has lapsed.
"""

import logging
import tempfile

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import OperationalError

from portfolio.models import ExportJob
from portfolio.report.render import render_portfolio_pdf
from portfolio.services import exports

logger = logging.getLogger(__name__)

# Worth another try: the database or storage was briefly unreachable. Anything else is a bug
# or bad data, and retrying would fail the same way.
TRANSIENT = (OperationalError, ConnectionError, TimeoutError)
RETRY_DELAYS = (10, 30, 90)


@shared_task(bind=True, max_retries=len(RETRY_DELAYS))
def render_export(self, job_id: int) -> None:
    attempt = exports.claim(job_id)
    if attempt is None:
        return
    try:
        _render(job_id, attempt)
    except SoftTimeLimitExceeded:
        exports.fail(job_id, attempt, exports.TOO_SLOW.format(minutes=settings.CELERY_TASK_SOFT_TIME_LIMIT // 60))
    except TRANSIENT as error:
        if self.request.retries >= self.max_retries:
            logger.exception("Export job %s failed after %s retries", job_id, self.request.retries)
            exports.fail(job_id, attempt, f"The PDF could not be made: a service was unavailable ({error}).")
            return
        exports.wait_to_retry(job_id, attempt, type(error).__name__)
        raise self.retry(exc=error, countdown=RETRY_DELAYS[self.request.retries]) from error
    except Exception:
        logger.exception("Export job %s failed", job_id)
        job_uuid = ExportJob.objects.values_list("uuid", flat=True).get(pk=job_id)
        exports.fail(job_id, attempt, exports.INTERNAL_ERROR.format(uuid=job_uuid))


def _render(job_id: int, attempt: int) -> None:
    job = ExportJob.objects.select_related("enrolment", "requested_by").get(pk=job_id)
    with tempfile.TemporaryFile() as output:
        result = render_portfolio_pdf(
            job.enrolment,
            exported_by=job.requested_by,
            output=output,
            include_originals=job.include_originals,
            progress=lambda percent, stage: exports.report_progress(job_id, attempt, percent, stage),
        )
        output.seek(0)
        name = exports.store_output(job, attempt, File(output, name="portfolio.pdf"))
    finished = exports.finish(
        job_id, attempt, storage_name=name, size=result.size, sha256=result.sha256, page_count=result.page_count
    )
    if not finished:
        default_storage.delete(name)  # another attempt took over and won
