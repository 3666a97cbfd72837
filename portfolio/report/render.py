"""Render a portfolio as one PDF in this process: the `export_portfolio` command's way.

The web export renders the same sections in parallel Celery tasks (portfolio.tasks); this renders
them one after another, then runs the same merge, so both produce the same PDF. The pieces:
- portfolio.report.plan: the portfolio read once, and its split into sections;
- portfolio.report.sections: one section laid out by WeasyPrint and written as its own PDF;
- portfolio.report.merge: the cover and contents, page numbers, bookmarks, links, attachments.

Only one section is laid out at a time, so memory is that of the largest section (a unit or a
batch of evidence) however long the portfolio grows, and not that of the whole document.
"""

import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO

from django.utils import timezone

from accounts.models import User
from portfolio.models import Enrolment
from portfolio.report.images import ThumbnailStore
from portfolio.report.merge import RenderedSection, RenderResult, merge_report
from portfolio.report.plan import ReportPlan, plan_report
from portfolio.report.sections import HtmlCallback, make_thumbnails, render_section

__all__ = ["ProgressCallback", "RenderResult", "render_plan", "render_portfolio_pdf"]

ProgressCallback = Callable[[int, str], None]
BODY_START, BODY_END = 5, 88  # percent: reading before, numbering and joining after


def render_portfolio_pdf(
    enrolment: Enrolment,
    *,
    exported_by: User | None,
    output: BinaryIO,
    include_originals: bool = False,
    progress: ProgressCallback | None = None,
    exported_at: datetime | None = None,
    on_html: HtmlCallback | None = None,
) -> RenderResult:
    """Write the portfolio's PDF to `output`. `exported_by` None means the command line.

    `on_html` hears each final HTML document WeasyPrint lays out, by section index (0 is the cover
    and contents): the benchmark renders exactly these on their own to measure the floor."""
    tracker = _Progress(progress)
    tracker.report(0, "Reading the portfolio")
    plan = plan_report(
        enrolment,
        exported_by=exported_by,
        exported_at=exported_at or timezone.now(),
        include_originals=include_originals,
    )
    return render_plan(plan, output, progress=tracker.report, on_html=on_html)


def render_plan(
    plan: ReportPlan, output: BinaryIO, *, progress: ProgressCallback, on_html: HtmlCallback | None = None
) -> RenderResult:
    """The body sections one after another, then the merge.

    While WeasyPrint lays out one section, a thread makes the next section's thumbnails: Pillow
    decodes and scales without holding the GIL, so on a second core a hundred phone photos cost
    the export next to nothing. Only ever one section's thumbnails are in the making, and the
    section being laid out only reads thumbnails that are finished."""
    sections = plan.sections
    total = sum(s.weight for s in sections)
    done = 0
    rendered: list[RenderedSection] = []
    with (
        tempfile.TemporaryDirectory(prefix="portfolio-report-") as directory,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="thumbnails") as ahead,
    ):
        thumbnails = ThumbnailStore(Path(directory))
        next_thumbnails = ahead.submit(make_thumbnails, thumbnails, sections[0])
        for number, section in enumerate(sections):
            progress(BODY_START + (BODY_END - BODY_START) * done // total, section.stage)
            next_thumbnails.result()
            if number + 1 < len(sections):
                next_thumbnails = ahead.submit(make_thumbnails, thumbnails, sections[number + 1])
            path = Path(directory) / f"section-{section.index}.pdf"
            with path.open("wb") as pdf:
                layout = render_section(plan, section, pdf, thumbnails=thumbnails, on_html=on_html)
            rendered.append(RenderedSection(layout, partial(path.open, "rb")))
            done += section.weight
        return merge_report(plan, rendered, output, progress=progress, on_html=on_html)


class _Progress:
    """Hands the caller whole percents that never go backwards."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.percent = 0

    def report(self, percent: int, stage: str) -> None:
        self.percent = max(self.percent, min(100, int(percent)))
        if self.callback is not None:
            self.callback(self.percent, stage)
