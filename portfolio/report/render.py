"""Render a portfolio as one PDF, section by section.

Each section (cover and contents, each unit, each batch of evidence, IQA, the file manifest) is
laid out by WeasyPrint on its own, so progress moves as sections finish and thumbnails are made
just before the batch that shows them. The sections' pages are then joined into one document
(`Document.copy`) and written once: bookmarks and internal links resolve across the whole file.

Page numbers: every section's CSS resets the page counter on its first page to where that section
will start (`@page :first { counter-reset: page N }`), so the footer numbering runs on. The
contents list needs the body's page numbers and the body needs to know how long the contents are,
so the front matter is laid out first with wide placeholder numbers, the body after it, and the
front again with the real numbers, taken from the page each anchor landed on. If the real numbers
ever changed the front's length, the body is laid out again with the new start.
"""

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import pydyf
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration

from accounts.models import User
from portfolio.models import Enrolment
from portfolio.report.attachments import attachments_finisher
from portfolio.report.data import portfolio_report
from portfolio.report.fetcher import ReportURLFetcher, evidence_url, static_url
from portfolio.report.images import ThumbnailStore
from portfolio.report.tree import MATRIX_LEGEND, EvidenceEntry, FileEntry, PortfolioReport, person_name

ProgressCallback = Callable[[int, str], None]

EVIDENCE_PER_SECTION = 25
PAGES_PER_REPORT = 20
STYLESHEET = "css/report.css"
PLACEHOLDER_PAGE = 8888  # as wide as any real page number, so the contents keep their length
COMMAND_LINE = "the command line (no signed-in user)"


@dataclass(frozen=True)
class RenderResult:
    page_count: int
    size: int
    sha256: str


@dataclass(frozen=True)
class TocEntry:
    title: str
    anchor: str
    level: int
    page: int


@dataclass(frozen=True)
class Thumbnail:
    file: FileEntry
    src: str | None  # None: no preview could be made


@dataclass(frozen=True)
class _Section:
    template: str
    stage: str
    weight: int
    context: dict
    evidence: tuple[EvidenceEntry, ...] | None = None  # an evidence batch: make its thumbnails first


def render_portfolio_pdf(
    enrolment: Enrolment,
    *,
    exported_by: User | None,
    output: BinaryIO,
    include_originals: bool = False,
    progress: ProgressCallback | None = None,
    exported_at: datetime | None = None,
) -> RenderResult:
    """Write the portfolio's PDF to `output`. `exported_by` None means the command line."""
    tracker = _Progress(progress)
    tracker.report(0, "Reading the portfolio")
    report = portfolio_report(enrolment)
    with tempfile.TemporaryDirectory(prefix="portfolio-report-") as directory:
        renderer = _Renderer(
            report,
            ThumbnailStore(Path(directory)),
            exported_by=exported_by,
            exported_at=exported_at or timezone.now(),
            include_originals=include_originals,
        )
        document = renderer.document(tracker)
        _report_while_drawing(document, tracker)
        # Inside the temporary folder's lifetime: WeasyPrint reads the thumbnails while writing.
        writer = _DigestingWriter(output)
        document.write_pdf(writer, finisher=renderer.finisher(tracker))
    tracker.report(100, f"Done: {len(document.pages)} pages")
    return RenderResult(page_count=len(document.pages), size=writer.size, sha256=writer.sha256.hexdigest())


class _Renderer:
    def __init__(
        self,
        report: PortfolioReport,
        thumbnails: ThumbnailStore,
        *,
        exported_by: User | None,
        exported_at: datetime,
        include_originals: bool,
    ) -> None:
        self.report = report
        self.thumbnails = thumbnails
        self.include_originals = include_originals
        self.font_config = FontConfiguration()
        self.fetcher = ReportURLFetcher(thumbnails.paths)
        self.stylesheet = CSS(url=static_url(STYLESHEET), url_fetcher=self.fetcher, font_config=self.font_config)
        self.common = {
            "report": report,
            "exported_at": exported_at,
            "exported_by": f"{person_name(exported_by)} ({exported_by.role_label})" if exported_by else COMMAND_LINE,
            "include_originals": include_originals,
        }

    def document(self, tracker: "_Progress") -> Document:
        sections = self.sections()
        tracker.report(5, "Laying out the contents")
        front_length = len(self.front({}).pages)
        while True:
            body, anchor_pages = self.body(sections, first_page=front_length + 1, tracker=tracker)
            tracker.report(88, "Numbering the contents")
            front = self.front(anchor_pages)
            if len(front.pages) == front_length:
                break
            front_length = len(front.pages)  # never seen: placeholders are as wide as real numbers
        return front.copy([*front.pages, *(page for document in body for page in document.pages)])

    def sections(self) -> list[_Section]:
        report = self.report
        sections = [
            _Section(
                "portfolio/report/unit.html",
                f"Rendering unit {i} of {len(report.units)}: {unit.title}",
                weight=2 + len(unit.columns) // 10,
                context={"unit": unit, "number": i, "legend": MATRIX_LEGEND},
            )
            for i, unit in enumerate(report.units, start=1)
        ]
        batches = [
            report.evidence[start : start + EVIDENCE_PER_SECTION]
            for start in range(0, len(report.evidence), EVIDENCE_PER_SECTION)
        ] or [[]]
        for batch_number, batch in enumerate(batches):
            first = batch_number * EVIDENCE_PER_SECTION + 1
            stage = (
                f"Rendering evidence {first} to {first + len(batch) - 1} of {len(report.evidence)}"
                if batch
                else "Rendering evidence"
            )
            weight = 1 + len(batch) + sum(len(e.images) for e in batch)
            sections.append(
                _Section(
                    "portfolio/report/evidence.html",
                    stage,
                    weight,
                    {"first_batch": batch_number == 0},
                    evidence=tuple(batch),
                )
            )
        sections.append(_Section("portfolio/report/iqa.html", "Rendering IQA records", 1, {}))
        sections.append(_Section("portfolio/report/files.html", "Rendering the file manifest", 1, {}))
        return sections

    def body(
        self, sections: list[_Section], *, first_page: int, tracker: "_Progress"
    ) -> tuple[list[Document], dict[str, int]]:
        documents: list[Document] = []
        anchor_pages: dict[str, int] = {}
        total = sum(s.weight for s in sections)
        done = 0
        page = first_page
        for section in sections:
            tracker.report(8 + 80 * done // total, section.stage)
            context = dict(section.context)
            if section.evidence is not None:
                context["items"] = [(e, self._thumbnails(e)) for e in section.evidence]
            document = self.layout(section.template, context, first_page=page)
            for index, laid_out in enumerate(document.pages):
                for anchor in laid_out.anchors:
                    anchor_pages.setdefault(anchor, page + index)
            documents.append(document)
            page += len(document.pages)
            done += section.weight
        return documents, anchor_pages

    def front(self, anchor_pages: dict[str, int]) -> Document:
        """Cover and contents; with no `anchor_pages`, placeholders stand in for the page numbers."""
        return self.layout("portfolio/report/front.html", {"toc": self._toc(anchor_pages)}, first_page=1)

    def layout(self, template: str, context: dict, *, first_page: int) -> Document:
        html = self.html(template, context, first_page=first_page)
        return HTML(string=html, url_fetcher=self.fetcher).render(
            font_config=self.font_config, stylesheets=[self.stylesheet]
        )

    def html(self, template: str, context: dict, *, first_page: int) -> str:
        return render_to_string(template, {**self.common, **context, "first_page": first_page})

    def finisher(self, tracker: "_Progress") -> Callable[[Document, pydyf.PDF], None]:
        def embedding(number: int, total: int, entry: FileEntry) -> None:
            tracker.report(95 + 4 * number // total, f"Embedding original file {number} of {total}: {entry.name}")

        embed = attachments_finisher(self.report.files, on_embed=embedding) if self.include_originals else None

        def finish(document: Document, pdf: pydyf.PDF) -> None:
            pdf.catalog["PageMode"] = "/UseOutlines"  # open with the bookmarks showing: they are the way round
            if embed is not None:
                embed(document, pdf)

        return finish

    def _thumbnails(self, evidence: EvidenceEntry) -> list[Thumbnail]:
        return [
            Thumbnail(file, evidence_url(file.uuid) if self.thumbnails.ensure(file) else None)
            for file in evidence.images
        ]

    def _toc(self, anchor_pages: dict[str, int]) -> list[TocEntry]:
        def entry(title: str, anchor: str, level: int = 1) -> TocEntry:
            return TocEntry(title, anchor, level, anchor_pages.get(anchor, PLACEHOLDER_PAGE))

        report = self.report
        entries = [entry(f"Unit {i}: {unit.title}", unit.anchor) for i, unit in enumerate(report.units, start=1)]
        entries.append(entry("Evidence", "evidence"))
        entries += [entry(f"{e.ref.ref} · {e.title}", e.ref.anchor, level=2) for e in report.evidence]
        entries.append(entry("Internal quality assurance", "iqa"))
        entries.append(entry("File manifest", "files"))
        return entries


def _report_while_drawing(document: Document, tracker: "_Progress") -> None:
    """Keep reporting while WeasyPrint draws the pages into the PDF, a minute for a long portfolio:
    the export job's heartbeat comes from these reports. Each page's `paint` is wrapped; the pages
    are this render's own objects, so nothing else sees the change."""
    total = len(document.pages)
    for index, page in enumerate(document.pages):
        if index % PAGES_PER_REPORT:
            continue

        def paint(stream: object, scale: float = 1, *, _paint: Callable = page.paint, _index: int = index) -> None:
            tracker.report(90 + 5 * _index // total, f"Drawing page {_index + 1} of {total}")
            _paint(stream, scale)

        page.paint = paint  # type: ignore[method-assign]


class _Progress:
    """Hands the caller whole percents that never go backwards (the body may be laid out twice)."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.percent = 0

    def report(self, percent: int, stage: str) -> None:
        self.percent = max(self.percent, min(100, int(percent)))
        if self.callback is not None:
            self.callback(self.percent, stage)


class _DigestingWriter:
    """Passes bytes on to the real output, counting and hashing them on the way."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.size = 0
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.target.write(data)
        self.size += len(data)
        self.sha256.update(data)
        return len(data)
