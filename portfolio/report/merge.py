"""The sections' PDFs joined into the one the person downloads, with everything that spans sections.

Given every body section's PDF and layout record (pages, headings, anchors), the merge:
1. lays out the cover and contents, now that every anchor's page is known. The contents' own
   length decides where the body starts, so it is measured first with placeholder numbers as wide
   as real ones (the parallel export does that while the body renders), then laid out with the
   real numbers (again, should that ever change its length);
2. copies the pages in order and stamps "Page N" on each (portfolio.report.numbering);
3. names every anchor at its real page, so links between sections (contents to evidence, matrix to
   evidence, manifest to evidence) land where they should;
4. builds the bookmarks from the sections' headings, nested by heading level across sections;
5. optionally embeds the original files, copied from storage while the file is written.

Both the command line (sections rendered in this process) and the parallel export (sections
rendered by other workers) end here, so both produce the same PDF.
"""

import hashlib
import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import BinaryIO

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    Fit,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from portfolio.report.attachments import embed_originals
from portfolio.report.numbering import PageNumbers
from portfolio.report.plan import ReportPlan
from portfolio.report.sections import HtmlCallback, SectionLayout, front_length, render_section
from portfolio.report.tree import FileEntry

ProgressCallback = Callable[[int, str], None]
PAGES_PER_REPORT = 20


@dataclass(frozen=True)
class RenderResult:
    page_count: int
    size: int
    sha256: str


@dataclass(frozen=True)
class RenderedSection:
    """A body section's layout record, and a way to open its PDF."""

    layout: SectionLayout
    open: Callable[[], AbstractContextManager[BinaryIO]]


def merge_report(
    plan: ReportPlan,
    body: Sequence[RenderedSection],
    output: BinaryIO,
    *,
    progress: ProgressCallback | None = None,
    on_html: HtmlCallback | None = None,
    front_pages: int | None = None,
) -> RenderResult:
    """Write the whole report to `output`: the front, then `body` in order. `front_pages`, when
    known (`sections.front_length`, measured while the body rendered), saves laying it out twice."""

    def report(percent: int, stage: str) -> None:
        if progress is not None:
            progress(percent, stage)

    report(88, "Numbering the contents")
    with tempfile.TemporaryFile() as front_pdf:
        front = _render_front(plan, body, front_pdf, on_html, front_pages or front_length(plan))
        sections = [RenderedSection(front, lambda: nullcontext(front_pdf)), *body]
        starts = _first_pages(sections)
        total = starts[-1] + sections[-1].layout.page_count - 1

        writer = PdfWriter()
        numbers = PageNumbers(writer)
        names = _anchor_names(sections, starts)
        for section, start in zip(sections, starts, strict=True):
            with section.open() as stream:
                stream.seek(0)
                reader = PdfReader(stream)
                if section is sections[0]:
                    _copy_document_info(reader, writer)
                for index, page in enumerate(reader.pages):
                    number = start + index
                    if number % PAGES_PER_REPORT == 1:
                        report(90 + 5 * number // total, f"Joining the sections: page {number} of {total}")
                    # Link annotations are copied by hand: pypdf's own handling looks every named
                    # link up in the source's destinations, one full scan per link.
                    added = writer.add_page(page, excluded_keys=("/Annots",))
                    _copy_links(page, added, writer, names)
                    numbers.stamp(added, number)
    _name_anchors(writer, names)
    _add_bookmarks(writer, sections, starts)
    writer.page_mode = "/UseOutlines"  # open with the bookmarks showing: they are the way round

    if plan.include_originals:

        def embedding(number: int, total: int, entry: FileEntry) -> None:
            report(95 + 4 * number // total, f"Embedding original file {number} of {total}: {entry.name}")

        kept = [entry for entry in plan.report.files if entry.purged_at is None]
        embed_originals(writer, kept, on_embed=embedding)
    report(95, "Writing the PDF")
    digesting = _DigestingWriter(output)
    writer.write(digesting)
    report(100, f"Done: {total} pages")
    return RenderResult(page_count=total, size=digesting.size, sha256=digesting.sha256.hexdigest())


def _render_front(
    plan: ReportPlan, body: Sequence[RenderedSection], output: BinaryIO, on_html: HtmlCallback | None, length: int
) -> SectionLayout:
    final: list[tuple[int, str]] = []  # the HTML of the last layout: the one that is kept
    while True:
        anchor_pages: dict[str, int] = {}
        page = length + 1
        for section in body:
            for anchor, (index, _x, _y) in section.layout.anchors.items():
                anchor_pages.setdefault(anchor, page + index)
            page += section.layout.page_count
        output.seek(0)
        output.truncate()
        final.clear()
        layout = render_section(
            plan, plan.front, output, anchor_pages=anchor_pages, on_html=lambda *html: final.append(html)
        )
        if layout.page_count == length:
            if on_html is not None:
                on_html(*final[0])
            return layout
        length = layout.page_count  # never seen: placeholders are as wide as real numbers


def _first_pages(sections: Sequence[RenderedSection]) -> list[int]:
    starts, page = [], 1
    for section in sections:
        starts.append(page)
        page += section.layout.page_count
    return starts


def _anchor_names(sections: Sequence[RenderedSection], starts: Sequence[int]) -> dict[str, tuple[int, float, float]]:
    """Each anchor's (page number from 1, x, y); the first wins, as within one WeasyPrint document."""
    names: dict[str, tuple[int, float, float]] = {}
    for section, start in zip(sections, starts, strict=True):
        for anchor, (index, x, y) in section.layout.anchors.items():
            names.setdefault(anchor, (start + index, x, y))
    return names


def _copy_links(source: PageObject, added: PageObject, writer: PdfWriter, names: dict) -> None:
    annotations = source.get("/Annots")
    if annotations is None:
        return
    kept = ArrayObject()
    for reference in annotations.get_object():
        annotation = reference.get_object()
        target = annotation.get("/Dest")
        if isinstance(target, str) and str(target) not in names:
            continue  # an anchor that exists nowhere: drop the link, as WeasyPrint would
        cloned = annotation.clone(writer)
        kept.append(cloned.indirect_reference if cloned.indirect_reference is not None else cloned)
    if kept:
        added[NameObject("/Annots")] = kept


def _name_anchors(writer: PdfWriter, names: dict[str, tuple[int, float, float]]) -> None:
    tree = writer.get_named_dest_root()
    for name in sorted(names):  # a PDF name tree is sorted by key
        number, x, y = names[name]
        page = writer.pages[number - 1].indirect_reference
        tree.extend(
            [
                TextStringObject(name),
                ArrayObject([page, NameObject("/XYZ"), FloatObject(x), FloatObject(y), NumberObject(0)]),
            ]
        )


def _add_bookmarks(writer: PdfWriter, sections: Sequence[RenderedSection], starts: Sequence[int]) -> None:
    """One outline across sections: a heading nests under the nearest earlier heading of a higher level."""
    open_items: list[tuple[int, IndirectObject]] = []  # (level, item), outermost first
    for section, start in zip(sections, starts, strict=True):
        for level, label, index, x, y in section.layout.bookmarks:
            while open_items and open_items[-1][0] >= level:
                open_items.pop()
            item = writer.add_outline_item(
                title=label,
                page_number=start + index - 1,
                parent=open_items[-1][1] if open_items else None,
                fit=Fit.xyz(left=x, top=y, zoom=0),
            )
            open_items.append((level, item))


def _copy_document_info(front: PdfReader, writer: PdfWriter) -> None:
    """Title, author, creator and dates as WeasyPrint wrote them for the cover; the language too."""
    if front.metadata:
        writer.add_metadata(dict(front.metadata))
    language = front.trailer["/Root"].get("/Lang")
    if language is not None:
        writer.root_object[NameObject("/Lang")] = TextStringObject(str(language))


class _DigestingWriter:
    """Passes bytes on to the real output, counting and hashing them on the way. pypdf asks where
    it is (`tell`) to index its objects: positions count from the start of the PDF."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.size = 0
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.target.write(data)
        self.size += len(data)
        self.sha256.update(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.target.flush()
