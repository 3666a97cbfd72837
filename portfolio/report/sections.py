"""One section of the report, laid out by WeasyPrint and written as a PDF file of its own.

A section never knows on which page it will start (in the parallel export, sections before it may
not be rendered yet), so it draws no page numbers (the merge stamps them) and records, instead,
where its headings and anchors fell: page index within the section and position in PDF points.
That record is what the merge needs for the contents, the bookmarks and the links between sections.

Links to an anchor in another section (a unit's matrix to its evidence, the contents to
everything) would be dropped by WeasyPrint as pointing nowhere. The missing anchors are declared
on the section's last page so the link annotations are written; the merge then points each name at
the page where it really is.
"""

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration

from portfolio.report.fetcher import ReportURLFetcher, evidence_url, static_url
from portfolio.report.images import ThumbnailStore
from portfolio.report.plan import FRONT, ReportPlan, Section
from portfolio.report.tree import EvidenceEntry, FileEntry

STYLESHEET = "css/report.css"
PLACEHOLDER_PAGE = 8888  # as wide as any real page number, so the contents keep their length
PAGES_PER_REPORT = 20
PX_TO_PT = 0.75  # WeasyPrint lays out in CSS pixels (96 an inch); PDF points are 72 an inch

StageCallback = Callable[[str], None]
HtmlCallback = Callable[[int, str], None]  # (section index, the final HTML WeasyPrint laid out)


@dataclass(frozen=True)
class Thumbnail:
    file: FileEntry
    src: str | None  # None: no preview could be made


@dataclass(frozen=True)
class TocEntry:
    title: str
    anchor: str
    level: int
    page: int


@dataclass(frozen=True)
class SectionLayout:
    """Where things fell in one section's PDF. Positions are PDF points from the page's bottom left."""

    page_count: int
    bookmarks: list[list]  # [[level, label, page index, x, y], …] in document order
    anchors: dict[str, list]  # {anchor id: [page index, x, y]}


def render_section(
    plan: ReportPlan,
    section: Section,
    output: BinaryIO,
    *,
    thumbnails: ThumbnailStore | None = None,
    anchor_pages: dict[str, int] | None = None,
    on_stage: StageCallback | None = None,
    on_html: HtmlCallback | None = None,
) -> SectionLayout:
    """Write `section` as a PDF to `output`. The front (cover and contents) needs `anchor_pages`,
    the page number each anchor landed on in the whole document. Thumbnails go to a temporary
    folder of the section's own unless the caller lends a store (made ahead, kept for the run)."""
    with _store(thumbnails) as thumbnails:
        html = section_html(plan, section, thumbnails, anchor_pages=anchor_pages)
        if on_html is not None:
            on_html(section.index, html)
        document = _layout(html, thumbnails)
        layout = _where_things_fell(document)
        _keep_links_to_other_sections(document, layout.anchors)
        if on_stage is not None:
            _report_while_drawing(document, section.stage, on_stage)
        # Inside the store's lifetime: WeasyPrint reads the thumbnails while writing.
        document.write_pdf(output)
    return layout


def make_thumbnails(store: ThumbnailStore, section: Section) -> None:
    """Every thumbnail `section` shows, made ahead of its layout."""
    for evidence in section.evidence or ():
        for file in evidence.images:
            store.ensure(file)


@contextmanager
def _store(lent: ThumbnailStore | None) -> Iterator[ThumbnailStore]:
    if lent is not None:
        yield lent
        return
    with tempfile.TemporaryDirectory(prefix="portfolio-section-") as directory:
        yield ThumbnailStore(Path(directory))


def front_length(plan: ReportPlan) -> int:
    """Pages the cover and contents take: laid out with placeholder numbers as wide as real ones."""
    return len(_layout(section_html(plan, plan.front, None, anchor_pages={}), None).pages)


def section_html(
    plan: ReportPlan,
    section: Section,
    thumbnails: ThumbnailStore | None,
    *,
    anchor_pages: dict[str, int] | None = None,
) -> str:
    context = {**plan.common, **section.context}
    if section.evidence is not None:
        assert thumbnails is not None
        context["items"] = [(e, _thumbnails(thumbnails, e)) for e in section.evidence]
    if section.index == FRONT:
        context["toc"] = contents(plan, anchor_pages or {})
    return render_to_string(section.template, context)


def contents(plan: ReportPlan, anchor_pages: dict[str, int]) -> list[TocEntry]:
    """The contents list; anchors without a page yet show a placeholder."""

    def entry(title: str, anchor: str, level: int = 1) -> TocEntry:
        return TocEntry(title, anchor, level, anchor_pages.get(anchor, PLACEHOLDER_PAGE))

    report = plan.report
    entries = [entry(f"Unit {i}: {unit.title}", unit.anchor) for i, unit in enumerate(report.units, start=1)]
    entries.append(entry("Evidence", "evidence"))
    entries += [entry(f"{e.ref.ref} · {e.title}", e.ref.anchor, level=2) for e in report.evidence]
    entries.append(entry("Internal quality assurance", "iqa"))
    entries.append(entry("File manifest", "files"))
    return entries


def stylesheet(fetcher: ReportURLFetcher, font_config: FontConfiguration) -> CSS:
    return CSS(url=static_url(STYLESHEET), url_fetcher=fetcher, font_config=font_config)


def _layout(html: str, thumbnails: ThumbnailStore | None) -> Document:
    fetcher = ReportURLFetcher(thumbnails.paths if thumbnails is not None else {})
    font_config = FontConfiguration()
    return HTML(string=html, url_fetcher=fetcher).render(
        font_config=font_config, stylesheets=[stylesheet(fetcher, font_config)]
    )


def _thumbnails(store: ThumbnailStore, evidence: EvidenceEntry) -> list[Thumbnail]:
    return [Thumbnail(file, evidence_url(file.uuid) if store.ensure(file) else None) for file in evidence.images]


def _where_things_fell(document: Document) -> SectionLayout:
    """Bookmarks and anchors in PDF points, as WeasyPrint itself converts them when it writes."""
    bookmarks: list[list] = []
    anchors: dict[str, list] = {}
    for index, page in enumerate(document.pages):
        for level, label, (x, y), _state in page.bookmarks:
            bookmarks.append([level, label, index, *_points(x, y, page.height)])
        for anchor, (x, y, _width, _height) in page.anchors.items():
            anchors.setdefault(anchor, [index, *_points(x, y, page.height)])
    return SectionLayout(len(document.pages), bookmarks, anchors)


def _points(x: float, y: float, page_height: float) -> tuple[float, float]:
    """CSS pixels from the top left to PDF points from the bottom left."""
    return round(x * PX_TO_PT, 3), round((page_height - y) * PX_TO_PT, 3)


def _keep_links_to_other_sections(document: Document, anchors: dict[str, list]) -> None:
    targets = {target for page in document.pages for kind, target, _rect, _box in page.links if kind == "internal"}
    elsewhere = document.pages[-1].anchors
    for name in targets - anchors.keys():
        elsewhere.setdefault(name, (0, 0, 0, 0))  # a stand-in; the merge points the name at the real page


def _report_while_drawing(document: Document, stage: str, on_stage: StageCallback) -> None:
    """Keep reporting while WeasyPrint draws a long section: the export job's heartbeat comes from
    these reports. Each page's `paint` is wrapped; the pages are this render's own objects."""
    total = len(document.pages)
    for index, page in enumerate(document.pages):
        if index % PAGES_PER_REPORT:
            continue

        def paint(stream: object, scale: float = 1, *, _paint: Callable = page.paint, _index: int = index) -> None:
            on_stage(f"{stage}: drawing page {_index + 1} of {total}")
            _paint(stream, scale)

        page.paint = paint  # type: ignore[method-assign]
