"""The worker's side of a PDF export, one function per Celery task: plan, render a section, merge.

Each reads the job row, does its part through portfolio.report, stores what it made in private
storage and records it (portfolio.services.exports and export_sections), which decide whether
the work still counts. Intermediate files live under the attempt's folder until the merge.
"""

import tempfile
from functools import partial

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from portfolio.models import ExportJob
from portfolio.report.merge import RenderedSection, merge_report
from portfolio.report.plan import ReportPlan, plan_report
from portfolio.report.sections import SectionLayout, front_length, render_section
from portfolio.services import export_sections, exports


def export_plan(job_id: int, attempt: int) -> None:
    """Read the portfolio once and queue its sections: every section draws this same reading."""
    job = _job(job_id)
    plan = plan_report(
        job.enrolment,
        exported_by=job.requested_by,
        exported_at=job.started_at or timezone.now(),  # the cover's "exported" time: when this attempt began
        include_originals=job.include_originals,
    )
    name = exports.plan_name(job, attempt)
    default_storage.delete(name)  # a retry of this step writes the same name
    stored = default_storage.save(name, ContentFile(plan.dumps()))
    if not export_sections.sections_start(job_id, attempt, plan.sections):
        default_storage.delete(stored)
        return
    # The sections are queued: while other workers start on them, measure the contents' length
    # so the merge, which nothing runs beside, lays them out only once.
    export_sections.front_measured(job_id, attempt, front_length(plan))


def export_section(job_id: int, attempt: int, index: int, tries: int) -> None:
    job = _job(job_id)
    plan = _plan(job, attempt)
    with tempfile.TemporaryFile() as pdf:
        layout = render_section(
            plan,
            plan.section(index),
            pdf,
            on_stage=lambda _stage: export_sections.section_heartbeat(job_id, attempt, index, tries),
        )
        pdf.seek(0)
        # A taken-over section saves under a new name (storage never overwrites), so a stale
        # try deleting its own file never touches the file that counts.
        name = default_storage.save(exports.section_name(job, attempt, index), File(pdf))
    if not export_sections.section_finish(job_id, attempt, index, tries, storage_name=name, layout=layout):
        default_storage.delete(name)


def export_merge(job_id: int, attempt: int, tries: int) -> None:
    job = _job(job_id)
    plan = _plan(job, attempt)
    front_pages, sections = export_sections.merged_sections(job_id, attempt)
    body = [
        RenderedSection(
            SectionLayout(section.page_count or 0, section.bookmarks, section.anchors),
            partial(default_storage.open, section.storage_name, "rb"),
        )
        for section in sections
    ]
    with tempfile.TemporaryFile() as output:
        result = merge_report(
            plan,
            body,
            output,
            progress=lambda percent, stage: exports.report_progress(job_id, attempt, percent, stage),
            front_pages=front_pages,
        )
        output.seek(0)
        name = exports.store_output(job, attempt, File(output, name="portfolio.pdf"))
    finished = export_sections.merge_finish(
        job_id, attempt, tries, storage_name=name, size=result.size, sha256=result.sha256, page_count=result.page_count
    )
    if not finished:
        default_storage.delete(name)  # another attempt took over and won


def _job(job_id: int) -> ExportJob:
    return ExportJob.objects.select_related("enrolment", "requested_by").get(pk=job_id)


def _plan(job: ExportJob, attempt: int) -> ReportPlan:
    with default_storage.open(exports.plan_name(job, attempt), "rb") as stored:
        return ReportPlan.loads(stored.read())
