"""Turn an uploaded unit specification (PDF, Word .docx, HTML or plain text) into source text.

Why: the unit parser (units/importer/parse.py) reads ONE text format, so every kind of upload is
converted to it here first, and the parser never sees bytes, markup or files. Source text is:

- plain lines in reading order; a list item outside a table is a line starting with "• ";
- a table row is ONE line whose cells are separated by a tab; inside a cell, paragraphs are
  written as ``<p>…</p>`` and list items as ``<ul><li>…</li></ul>`` (no attributes);
- except from a PDF, where a row is one PHYSICAL line of the table: each cell holds the plain
  text of its column on that line ("" where the column has none there; a bullet keeps its "•"),
  so a cell's text carries on in the same column of the rows below;
- a blank line between paragraphs; table rows and list items follow one another directly;
- characters as decoded: the parser repairs mis-encodings and quotes itself.

A text upload is already source text (our seed documents are), so it is only decoded. The real
type is sniffed from the bytes; the file name's extension only breaks ties and words messages.
Anything that cannot be read raises ExtractError with a sentence a centre admin can act on.
"""

from __future__ import annotations

import bisect
import codecs
import io
import itertools
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePath

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from pypdf import PdfReader
from pypdf.errors import DependencyError

MAX_PDF_PAGES = 200
MAX_TEXT_CHARS = 2_000_000
MAX_DOCX_UNPACKED_BYTES = 200 * 1024 * 1024
# A page of a unit specification holds well over a thousand characters; a scan's text layer is
# empty or holds only a stray page number.
MIN_PDF_CHARS_PER_PAGE = 25

NOT_SUPPORTED = "This is not a PDF, Word (.docx), HTML or text file."


class ExtractError(Exception):
    """The upload cannot be turned into text; the message says why, for a centre admin."""


def extract_text(data: bytes, filename: str = "") -> str:
    """The source text of one uploaded document. Raises ExtractError when it cannot be read."""
    if not data.strip():
        raise ExtractError("The file is empty.")
    ext = PurePath(filename).suffix.lower()
    kind = _sniff(data, ext)
    if kind == "pdf":
        text = _pdf_text(data)
    elif kind == "docx":
        text = _docx_text(data)
    else:
        decoded = _decode(data)
        _refuse_binary(decoded, ext)
        text = _html_text(decoded) if _looks_like_html(decoded, ext) else decoded
    if len(text) > MAX_TEXT_CHARS:
        raise ExtractError(_too_long())
    if not text.strip():
        raise ExtractError("The document has no text in it.")
    return text


def _too_long() -> str:
    return (
        f"The document holds more than {MAX_TEXT_CHARS // 1_000_000} MB of text, far more than one unit. "
        "Upload the specification of a single unit."
    )


def _reason(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).strip().rstrip(".")[:200]


# ---------------------------------------------------------------------------------------------
# Sniffing and decoding

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PICTURE_HINT = "It looks like a picture: upload the document itself (PDF or Word), not a photo or scan of it."
SAVE_AS_HINT = "Open it in its program, save it as Word (.docx) or PDF, and upload that."
BINARY_MAGIC = [
    (b"\x89PNG", PICTURE_HINT),
    (b"\xff\xd8\xff", PICTURE_HINT),
    (b"GIF8", PICTURE_HINT),
    (b"II*\x00", PICTURE_HINT),
    (b"MM\x00*", PICTURE_HINT),
    (b"{\\rtf", "It looks like a Rich Text (.rtf) file. " + SAVE_AS_HINT),
]
HTML_EXTENSIONS = {".html", ".htm", ".xhtml"}
# Only a document's own opening tags make it HTML: source text may hold <p> cells (seed 003).
HTML_START = re.compile(
    r"<(?:!doctype\s+html|html|head|body|table|div|meta|title|section|article|main|h[1-6]|style|script)\b", re.I
)
HTML_WEAK_START = re.compile(r"<(?:p|ul|ol|span|b|strong|em|i|a|font|br)\b", re.I)
HTML_PREAMBLE = re.compile(r"\A(?:\s|\ufeff|<\?xml[^>]*>|<!--.*?-->)*", re.S)


def _sniff(data: bytes, ext: str) -> str:
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        _check_docx_package(data, ext)
        return "docx"
    if data.startswith(OLE2_MAGIC):
        raise ExtractError(_ole2_message(data))
    for magic, hint in BINARY_MAGIC:
        if data.startswith(magic):
            raise ExtractError(f"{NOT_SUPPORTED} {hint}")
    return "text"


def _ole2_message(data: bytes) -> str:
    if "EncryptedPackage".encode("utf-16-le") in data:
        return (
            "This Word file is password-protected. Remove the password in Word "
            "(File, Info, Protect Document, Encrypt with Password), save, and upload it again."
        )
    return f"{NOT_SUPPORTED} It looks like an old Word (.doc) or Excel file. {SAVE_AS_HINT}"


def _check_docx_package(data: bytes, ext: str) -> None:
    """A ZIP is only accepted as a Word document: it must hold word/document.xml."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            infos = {info.filename: info for info in package.infolist()}
            mimetype_info = infos.get("mimetype")
            mimetype = package.read(mimetype_info) if mimetype_info and mimetype_info.file_size < 200 else b""
    except Exception as exc:  # zipfile raises many kinds on a damaged archive
        if ext == ".docx":
            raise ExtractError(f"The Word file is damaged: {_reason(exc)}.") from exc
        raise ExtractError(NOT_SUPPORTED) from exc
    if "word/document.xml" not in infos:
        if b"opendocument.text" in mimetype:
            raise ExtractError(f"{NOT_SUPPORTED} It looks like an OpenDocument (.odt) file. {SAVE_AS_HINT}")
        if ext == ".docx":
            raise ExtractError("The Word file is damaged: it has no document text (word/document.xml).")
        raise ExtractError(NOT_SUPPORTED)
    if sum(info.file_size for info in infos.values()) > MAX_DOCX_UNPACKED_BYTES:
        raise ExtractError(
            "The Word file is too large to read: it unpacks to more than "
            f"{MAX_DOCX_UNPACKED_BYTES // (1024 * 1024)} MB. Remove large pictures, or upload a PDF."
        )


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode the bytes that are not UTF-8 as Windows-1252, so a Word export never fails to read."""
    assert isinstance(exc, UnicodeDecodeError)
    return exc.object[exc.start : exc.end].decode("cp1252", "replace"), exc.end


codecs.register_error("importer_cp1252_fallback", _cp1252_fallback)


def _decode(data: bytes) -> str:
    """UTF-8 (BOM stripped), UTF-16 (with a BOM, or plainly so), otherwise Windows-1252.

    Line endings become "\\n"."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8) :].decode("utf-8", "importer_cp1252_fallback")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", "replace")
    elif encoding := _bomless_utf16(data):
        text = data.decode(encoding, "replace")
    else:
        text = data.decode("utf-8", "importer_cp1252_fallback")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: English text has a zero byte beside nearly every character."""
    sample = data[:512]
    if len(sample) < 8:
        return None
    pairs = len(sample) // 2
    if sample[1::2].count(0) > 0.9 * pairs and sample[0::2].count(0) < 0.1 * pairs:
        return "utf-16-le"
    if sample[0::2].count(0) > 0.9 * pairs and sample[1::2].count(0) < 0.1 * pairs:
        return "utf-16-be"
    return None


def _refuse_binary(text: str, ext: str) -> None:
    sample = text[:4096]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\f\v")
    if "\x00" not in sample and controls <= len(sample) // 100:
        return
    if ext == ".pdf":
        raise ExtractError("The PDF file is damaged: it does not start like a PDF.")
    if ext == ".docx":
        raise ExtractError("The Word file is damaged: it is not a Word (.docx) package.")
    if ext == ".doc":
        raise ExtractError(f"{NOT_SUPPORTED} It looks like an old Word (.doc) file. {SAVE_AS_HINT}")
    raise ExtractError(NOT_SUPPORTED)


def _looks_like_html(text: str, ext: str) -> bool:
    start = text[:4096]
    start = start[HTML_PREAMBLE.match(start).end() :]
    if HTML_START.match(start):
        return True
    return ext in HTML_EXTENSIONS and bool(HTML_WEAK_START.match(start))


# ---------------------------------------------------------------------------------------------
# The layout that DOCX and HTML are both read into, and its rendering as source text


@dataclass
class _Block:
    kind: str  # "p" (a paragraph or heading), "num" (an automatically numbered paragraph), "li" (a bullet)
    text: str


@dataclass
class _Row:
    cells: list[list[_Item]]


_Item = _Block | _Row


def _row_items(entries: list[list[_Item] | None]) -> list[_Item]:
    """One table row. An entry is a cell's content, [] for an empty grid position (the rest of a
    cell merged from the row above), or None for a position covered by the cell before it. A row
    that is a single cell (a heading across the table, a one-column box) is ordinary content."""
    while entries and entries[-1] is None:
        entries.pop()
    cells = [entry or [] for entry in entries]
    if len(cells) == 1:
        return cells[0]
    if not any(cells):
        return []
    return [_Row(cells)]


def _flatten(items: list[_Item]) -> Iterator[_Block]:
    for item in items:
        if isinstance(item, _Row):
            for cell in item.cells:
                yield from _flatten(cell)
        else:
            yield item


def _cell_markup(items: list[_Item]) -> str:
    """A cell's content on one line: <p>…</p> for paragraphs, <ul><li>…</li></ul> for bullets.
    A table nested in the cell is read cell by cell."""
    parts: list[str] = []
    bullets: list[str] = []
    for block in _flatten(items):
        text = " ".join(block.text.split())
        if not text:
            continue
        if block.kind == "li":
            bullets.append(f"<li>{text}</li>")
            continue
        if bullets:
            parts.append("<ul>" + "".join(bullets) + "</ul>")
            bullets = []
        parts.append(f"<p>{text}</p>")
    if bullets:
        parts.append("<ul>" + "".join(bullets) + "</ul>")
    return " ".join(parts)


def _item_lines(item: _Item) -> list[str]:
    if isinstance(item, _Row):
        return ["\t".join(_cell_markup(cell) for cell in item.cells)]
    if item.kind == "li":
        return ["• " + " ".join(item.text.split())]
    return [line.strip() for line in item.text.split("\n") if line.strip()]


def _join(items: list[_Item]) -> str:
    """Items as source text: a blank line between paragraphs, none inside a run of rows or list items."""
    lines: list[str] = []
    previous = None
    for item in items:
        item_lines = _item_lines(item)
        if not item_lines:
            continue
        group = "row" if isinstance(item, _Row) else item.kind
        if previous is not None and not (group == previous and group in ("row", "li", "num")):
            lines.append("")
        lines.extend(item_lines)
        previous = group
    return "\n".join(lines) + "\n" if lines else ""


# ---------------------------------------------------------------------------------------------
# PDF
#
# pypdf's layout mode draws each page on a fixed-width grid: a character column stands for a
# fixed width of the page, so the columns of a table come out as runs of text at the same
# character positions, with a blank "gutter" between them. A table region becomes one row per
# physical line (see _PdfTables); everything else becomes plain lines.


def _pdf_text(data: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            _unlock(reader)
        page_count = len(reader.pages)
    except ExtractError:
        raise
    except Exception as exc:
        raise ExtractError(f"The PDF file is damaged: {_reason(exc)}.") from exc
    if page_count > MAX_PDF_PAGES:
        raise ExtractError(
            f"The PDF has {page_count} pages; at most {MAX_PDF_PAGES} can be read. "
            "Upload the pages of the one unit only."
        )
    pages: list[list[str] | None] = []  # a page's layout lines; None where only plain text came out
    plain: dict[int, str] = {}
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        lines, text = _page_text(page, number)
        if lines is None:
            plain[number - 1] = text
        total += len(re.sub(r"\s+", " ", text))
        if total > MAX_TEXT_CHARS:
            raise ExtractError(_too_long())
        pages.append(lines)
    text = _PdfTables(reader, pages, plain).text()
    if sum(not ch.isspace() for ch in text) < MIN_PDF_CHARS_PER_PAGE * max(page_count, 1):
        raise ExtractError(
            "This PDF has no text layer: it looks like a scan. Export it from the original document, or paste the text."
        )
    return text


def _page_text(page, number: int) -> tuple[list[str] | None, str]:
    """A page's lines in layout mode, or (None, its plain text) where layout mode fails or finds
    nothing (pypdf calls layout mode experimental)."""
    try:
        text = page.extract_text(extraction_mode="layout") or ""
        if text.strip():
            return _clean_pdf_text(text).split("\n"), text
    except Exception:
        pass
    try:
        text = page.extract_text() or ""
    except Exception as exc:
        raise ExtractError(f"Page {number} of the PDF cannot be read: {_reason(exc)}.") from exc
    return None, text


def _clean_pdf_text(text: str) -> str:
    """Tabs would read as table cells, so they become spaces; control characters and trailing
    spaces go."""
    text = text.replace("\t", " ").replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _unlock(reader: PdfReader) -> None:
    """Open a PDF locked only against printing or copying (an empty user password)."""
    try:
        unlocked = reader.decrypt("")
    except DependencyError as exc:
        raise ExtractError(
            "This PDF is encrypted in a way the server cannot open. "
            "Export it again without protection, or paste the text."
        ) from exc
    except Exception:
        unlocked = 0
    if not unlocked:
        raise ExtractError("This PDF is password-protected. Save a copy without the password, or paste the text.")


# A table column is a left edge where at least EDGE_MIN_LINES lines start text; a table has a
# column with text to its left on at least TABLE_MIN_LINES of the same lines.
EDGE_MIN_LINES = 2
TABLE_MIN_LINES = 3
# Text a page puts in its margins: "2 © OCR 2010", "Page 3 of 8", a running "Unit CU782 …" header.
PDF_FURNITURE = re.compile(
    r"^(?:\d{1,3}\s*©.*\d{4}|©.*\d{4}(?:\s+\d{1,3})?|page \d+(?: of \d+)?|\d{1,3}"
    r"|oxford cambridge and rsa|www\.ocr\.org\.uk|unit [A-Z]{1,4}\d{1,4}[A-Z]?\s+\S.*)$",
    re.IGNORECASE,
)
PDF_EDGE_LINES = 3  # furniture is looked for among this many lines at the top and the bottom of a page
_FRAGMENT = re.compile(r"\S+(?: \S+)*")


@dataclass(frozen=True)
class _Frag:
    """A run of text on a layout line: words one space apart. Two or more spaces end it."""

    start: int
    end: int
    text: str


def _fragments(line: str) -> list[_Frag]:
    return [_Frag(m.start(), m.end(), m.group()) for m in _FRAGMENT.finditer(line)]


@dataclass(frozen=True)
class _Edge:
    """The left edge of a table column (`start`) and where the gutter before it begins (`gap`),
    in character positions. An edge carried over from another page is only approximately placed,
    so the middle of its gutter divides the columns; an edge found on the page divides exactly."""

    gap: float
    start: float
    own: bool = True
    support: int = 0  # the lines with text on both sides of the gutter

    @property
    def cut(self) -> float:
        return self.start if self.own else (self.gap + self.start) / 2


def _edges(rows: list[list[_Frag]]) -> list[_Edge]:
    """The column edges of a table region: positions where several lines start text, with text to
    the left on some of the same lines, that no line's text crosses.

    A line drawn as one piece of text (a header row; cells whose lines share a baseline) has its
    parts placed by the font's spacing rather than on the grid, so they may cross an edge. Such a
    part starts where few lines start, and is tolerated; text that starts at a column's edge and
    crosses another (an indent inside a column) is not."""
    rows = [row for row in rows if row]
    if not rows:
        return []
    left = min(row[0].start for row in rows)
    starts = Counter(f.start for row in rows for f in row)

    def aligned(position: int) -> bool:
        return position == left or sum(starts.get(position + d, 0) for d in (-1, 0, 1)) >= EDGE_MIN_LINES

    edges: list[_Edge] = []
    for s in sorted(starts):
        if s <= left or (s - 1 in starts and s - 1 > left):
            continue
        count = starts[s] + starts.get(s + 1, 0)  # a column's lines may start one position apart
        if count < EDGE_MIN_LINES:
            continue
        crossed = misplaced = support = 0
        gap = left
        for row in rows:
            crossing = [f for f in row if f.start < s < f.end]
            if len(row) > 1 and crossing and not any(aligned(f.start) for f in crossing):
                misplaced += 1
                support += row[0].start < s
            elif crossing:
                crossed += 1 if len(row) > 1 else count  # a single run of text across it: no edge
            else:
                before = [f.end for f in row if f.end <= s]
                if before:
                    gap = max(gap, *before)
                    support += any(f.start >= s for f in row)
        if crossed <= count // 4 and misplaced <= count and support:
            edges.append(_Edge(gap, s, support=support))
    return edges


def _merge_edges(carried: list[_Edge], own: list[_Edge]) -> list[_Edge] | None:
    """Edges carried over from another page, each replaced by the page's own edge where it found
    one; None where the page has an edge the carried layout does not."""
    merged = list(carried)
    for edge in own:
        matches = [i for i, c in enumerate(merged) if not c.own and c.gap - 2 <= edge.start <= c.start + 2]
        if not matches:
            return None
        merged[matches[0]] = edge
    return merged


def _cuts(edges: list[_Edge]) -> list[float]:
    return sorted(edge.cut for edge in edges)


def _covers_gutter(frag: _Frag, edge: _Edge) -> bool:
    return frag.start < edge.gap and frag.end > edge.start


def _ends_table(row: list[_Frag], edges: list[_Edge]) -> bool:
    """A line whose text runs across a gutter: a heading or paragraph as wide as the table. A
    line of several parts only ends it where a part is wider than any column, since a row drawn
    as one piece of text (see _edges) may cross gutters too."""
    if not edges:
        return False
    cuts = _cuts(edges)
    bounds = [min(cuts[0], row[0].start), *cuts, max(f.end for f in row)]
    widest = max(b - a for a, b in itertools.pairwise(bounds))
    return any(
        any(_covers_gutter(frag, edge) for edge in edges) and (len(row) == 1 or frag.end - frag.start > 1.2 * widest)
        for frag in row
    )


def _row_cells(row: list[_Frag], cuts: list[float]) -> list[str]:
    """A layout line's text split into the table's columns: each run of text goes to the column
    where it starts. A line drawn as one piece of text (see _edges) may have runs that straddle
    a cut: then its runs go to successive columns in order."""
    n = len(cuts) + 1
    columns = [bisect.bisect_right(cuts, f.start) for f in row]
    straddles = any(f.start < cut < f.end - 1 for f in row for cut in cuts)
    if straddles and 1 < len(row) <= n:
        for i in range(1, len(columns)):
            columns[i] = max(columns[i], columns[i - 1] + 1)
        columns[-1] = min(columns[-1], n - 1)
        for i in range(len(columns) - 2, -1, -1):
            columns[i] = min(columns[i], columns[i + 1] - 1)
    cells: list[list[str]] = [[] for _ in range(n)]
    for frag, column in zip(row, columns, strict=True):
        cells[column].append(frag.text)
    return [" ".join(parts) for parts in cells]


@dataclass
class _Region:
    first: int  # line index on the page
    last: int  # exclusive
    edges: list[_Edge]


class _PdfTables:
    """The pages' layout lines as source text: table regions as rows, the rest as plain lines.

    A table region grows from a line of several runs of text (or, on a page that carries on a
    table from the page before, from the top), line by line, for as long as no line runs across
    one of its gutters. A short heading at the margin fits inside the first column, so lines
    that have text only in the first column are left out at a region's top, and at its foot
    where a line running across the table follows them."""

    def __init__(self, reader: PdfReader, pages: list[list[str] | None], plain: dict[int, str]):
        self.reader = reader
        self.pages = pages
        self.plain = plain
        self.frags = [[_fragments(line) for line in lines] if lines is not None else [] for lines in pages]
        self.furniture = [_furniture(lines) if lines is not None else set() for lines in pages]
        self.known: tuple[int, list[_Edge]] | None = None  # the page a table's columns were last seen whole on
        self._geometry: dict[int, tuple[float, float | None] | None] = {}

    def text(self) -> str:
        items: list[tuple[str, str]] = []  # (kind, text): kind is row, text, furniture or blank
        carried = False  # the table on the page before ran to its foot
        for index, lines in enumerate(self.pages):
            if lines is None:
                plain_lines = _clean_pdf_text(self.plain[index]).split("\n")
                items += [("text", line) if line.strip() else ("blank", "") for line in plain_lines]
                carried = False
                continue
            page_items, carried = self._page(index, lines, carried)
            items += page_items
        return _join_pdf_items(items)

    def _page(self, index: int, lines: list[str], carried: bool) -> tuple[list[tuple[str, str]], bool]:
        frags = self.frags[index]
        furniture = self.furniture[index]
        content = [i for i, row in enumerate(frags) if row and i not in furniture]
        regions: list[_Region] = []
        at = 0
        if carried and content and self.known:
            region = self._region(index, content[0], at, self._carried_edges(index))
            if region:
                regions.append(region)
                at = region.last
        while True:
            seed = next((i for i in content if i >= at and len(frags[i]) > 1), None)
            if seed is None:
                break
            region = self._region(index, seed, at, [])
            if region is None:
                at = seed + 1
                continue
            regions.append(region)
            at = region.last
        carried = bool(regions) and bool(content) and regions[-1].last > content[-1]
        items: list[tuple[str, str]] = []
        in_region = {}
        for region in regions:
            for i in range(region.first, region.last):
                in_region[i] = region
        for i, line in enumerate(lines):
            if i in in_region:
                if frags[i]:
                    items.append(("row", "\t".join(_row_cells(frags[i], _cuts(in_region[i].edges)))))
            elif not frags[i]:
                items.append(("blank", ""))
            else:
                items.append(("furniture" if i in furniture else "text", " ".join(line.split())))
        return items, carried

    def _region(self, index: int, seed: int, floor: int, carried: list[_Edge]) -> _Region | None:
        """The table region around line `seed`, no higher than line `floor`; `carried` are the
        edges of a table that continues from the page before."""
        frags = self.frags[index]
        furniture = self.furniture[index]
        rows: list[list[_Frag]] = []
        last, killed = seed, False
        while last < len(frags) and last not in furniture:
            row = frags[last]
            if row:
                own = _edges(rows)
                edges = (_merge_edges(carried, own) or carried + own) if carried else own
                if rows and _ends_table(row, edges):
                    killed = True
                    break
                rows.append(row)
            last += 1
        own = _edges(rows)
        edges = (_merge_edges(carried, own) or carried) if carried else own
        if not carried and not any(edge.support >= TABLE_MIN_LINES for edge in edges):
            return None
        first = seed
        if not carried:
            while first - 1 >= floor and first - 1 not in furniture:
                row = frags[first - 1]
                if row and _ends_table(row, edges):
                    break
                first -= 1
        first, last = self._trim(frags, first, last, _cuts(edges)[0], top=not carried, foot=killed)
        if first >= last:
            return None
        rows = [row for row in frags[first:last] if row]
        own = _edges(rows)
        if carried:
            edges = _merge_edges(carried, own) or (own if len(own) >= len(carried) else carried)
        elif not any(edge.support >= TABLE_MIN_LINES for edge in own):
            return None
        else:
            edges = own
            if self.known and len(own) < len(self.known[1]):
                edges = _merge_edges(self._carried_edges(index), own) or own
        if all(edge.own for edge in edges) and (not self.known or len(edges) >= len(self.known[1])):
            self.known = (index, edges)
        return _Region(first, last, edges)

    @staticmethod
    def _trim(frags, first: int, last: int, first_cut: float, top: bool, foot: bool) -> tuple[int, int]:
        """Leave out a region's lines of one run of text in the first column: at its top, all but
        those that sit directly on its first wider line (a header's first word, wrapped) and do
        not carry on a paragraph from above; at its foot, those after its last blank line, where
        the region ends at a line running across the table (a heading, then a paragraph)."""

        def first_column_only(i: int) -> bool:  # one run of text (a heading, a paragraph's tail)
            return len(frags[i]) == 1 and frags[i][0].start < first_cut

        if top:
            wide = first
            while wide < last and (not frags[wide] or first_column_only(wide)):
                wide += 1
            attached = wide
            while attached > first and frags[attached - 1]:
                attached -= 1
            if attached == first and first > 0 and frags[first - 1]:
                attached = wide
            first = attached
        if foot:
            end = last
            while end > first and not frags[end - 1]:
                end -= 1
            tail = end
            while tail > first and frags[tail - 1] and first_column_only(tail - 1):
                tail -= 1
            if tail < end:
                last = tail
        while last > first and not frags[last - 1]:
            last -= 1
        return first, last

    def _carried_edges(self, index: int) -> list[_Edge]:
        """The last whole table's edges, placed on this page's grid: layout mode measures each
        page from its leftmost text, in a character width of its own."""
        assert self.known
        source, edges = self.known
        if source == index:
            return edges
        src, dst = self._page_geometry(source), self._page_geometry(index)
        if not src or not dst:
            return [_Edge(e.gap, e.start, own=False) for e in edges]
        (m1, c1), (m2, c2) = src, dst
        c1, c2 = c1 or c2, c2 or c1
        if not c1 or not c2:
            return [_Edge(e.gap, e.start, own=False) for e in edges]
        return [_Edge((m1 + e.gap * c1 - m2) / c2, (m1 + e.start * c1 - m2) / c2, own=False) for e in edges]

    def _page_geometry(self, index: int) -> tuple[float, float | None] | None:
        """Where a page's layout grid starts on the page and how wide a character is, in points:
        the leftmost text, and the character width that puts the page's runs of text where its
        layout lines have them (None where no run could be matched)."""
        if index in self._geometry:
            return self._geometry[index]
        chunks: list[tuple[float, str]] = []

        def visit(text, cm, tm, font_dict, font_size):
            if text.strip():
                chunks.append((tm[4] * cm[0] + tm[5] * cm[2] + cm[4], " ".join(text.split())))

        geometry = None
        try:
            self.reader.pages[index].extract_text(visitor_text=visit)
        except Exception:
            chunks = []
        if chunks:
            origin = min(x for x, _ in chunks)
            positions: dict[str, set[int]] = {}
            for row in self.frags[index]:
                for frag in row:
                    if frag.start >= 5 and len(frag.text) >= 4:
                        positions.setdefault(frag.text[:12], set()).add(frag.start)
            estimates = sorted(
                (x - origin) / (p + 0.5) for x, text in chunks for p in positions.get(text[:12], ()) if x - origin > 1
            )
            geometry = (origin, estimates[len(estimates) // 2] if estimates else None)
        self._geometry[index] = geometry
        return geometry


def _furniture(lines: list[str]) -> set[int]:
    """The lines at a page's top and foot that are page furniture."""
    found: set[int] = set()
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    for edge in (nonblank[:PDF_EDGE_LINES], nonblank[::-1][:PDF_EDGE_LINES]):
        for i in edge:
            if not PDF_FURNITURE.match(" ".join(lines[i].split())):
                break
            found.add(i)
    return found


def _join_pdf_items(items: list[tuple[str, str]]) -> str:
    """Lines from the pages: a blank line between table rows and other text (none between rows,
    nor around page furniture that falls between rows), and at most one blank line elsewhere."""
    rowish = [kind == "row" for kind, _ in items]
    previous_solid: bool | None = None  # whether the last row or text line before was a row
    waiting: list[int] = []  # furniture since then
    for i, (kind, _) in enumerate(items):
        if kind == "furniture":
            waiting.append(i)
        elif kind in ("row", "text"):
            for j in waiting:
                rowish[j] = bool(previous_solid) and kind == "row"
            previous_solid, waiting = kind == "row", []
    lines: list[str] = []
    previous_row: bool | None = None
    gap = False
    for i, (kind, text) in enumerate(items):
        if kind == "blank":
            gap = True
            continue
        if previous_row is not None and (rowish[i] != previous_row or (gap and not rowish[i])):
            lines.append("")
        lines.append(text)
        previous_row, gap = rowish[i], False
    return "\n".join(lines) + "\n" if lines else ""


# ---------------------------------------------------------------------------------------------
# Word (.docx)

W_P, W_TBL, W_TR, W_TC, W_R = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:r")
W_VAL = qn("w:val")
# Elements that only wrap content (content controls, custom XML, tracked insertions).
DOCX_WRAPPERS = {qn(tag) for tag in ("w:sdt", "w:sdtContent", "w:customXml", "w:ins", "w:moveTo", "w:smartTag")}
# Runs under these are not the paragraph's own visible text: text boxes, tracked deletions and the
# fallback copy of a drawing.
DOCX_HIDDEN = {
    qn("w:txbxContent"),
    qn("w:del"),
    qn("w:moveFrom"),
    "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
}


def _docx_text(data: bytes) -> str:
    try:
        document = docx.Document(io.BytesIO(data))
        items = _DocxReader(document).blocks(document.element.body)
    except Exception as exc:
        raise ExtractError(f"The Word file is damaged: {_reason(exc)}.") from exc
    return _join(items)


def _children(element, wanted: set[str]) -> Iterator:
    """The children of `element` whose tag is wanted, looking through wrapper elements."""
    for child in element:
        if child.tag in wanted:
            yield child
        elif child.tag in DOCX_WRAPPERS:
            yield from _children(child, wanted)


def _find(element, *tags: str):
    for tag in tags:
        if element is None:
            return None
        element = element.find(qn(tag))
    return element


def _val(element, *tags: str) -> str | None:
    found = _find(element, *tags)
    return None if found is None else found.get(W_VAL)


def _int(value: str | None, default: int, lowest: int = 1, highest: int = 64) -> int:
    """An attribute's number, kept within bounds: uploads can hold anything."""
    try:
        return default if value is None else max(lowest, min(int(value), highest))
    except ValueError:
        return default


class _DocxReader:
    """The body of a Word document, paragraphs and tables in document order. Headers, footers,
    footnotes and text boxes are page furniture and are not read."""

    def __init__(self, document):
        self._styles = document.styles.element
        try:
            numbering = document.part.part_related_by(RT.NUMBERING).element
        except KeyError:
            numbering = None
        self._numbering = _Numbering(numbering, self._styles)

    def blocks(self, container) -> list[_Item]:
        items: list[_Item] = []
        for element in _children(container, {W_P, W_TBL}):
            if element.tag == W_TBL:
                items.extend(self._table(element))
            elif block := self._paragraph(element):
                items.append(block)
        return items

    def _paragraph(self, p) -> _Block | None:
        label = self._numbering.label(p)
        text = "".join(run.text for run in p.iter(W_R) if not _is_hidden(run, p))
        text = re.sub(r"[ \t]*\t[ \t]*", " ", text).strip()  # a tab would read as a cell break
        if not text:
            return None
        if label is None:
            return _Block("li", text)
        return _Block("num", f"{label} {text}") if label else _Block("p", text)

    def _table(self, tbl) -> list[_Item]:
        items: list[_Item] = []
        for tr in _children(tbl, {W_TR}):
            if _find(tr, "w:trPr", "w:del") is not None:
                continue
            grid_before = _int(_val(tr, "w:trPr", "w:gridBefore"), 0, lowest=0)
            entries: list[list[_Item] | None] = [[] for _ in range(grid_before)]
            for tc in _children(tr, {W_TC}):
                entries.append([] if _merged_from_above(tc) else self.blocks(tc))
                entries.extend([None] * (_int(_val(tc, "w:tcPr", "w:gridSpan"), 1) - 1))
            items.extend(_row_items(entries))
        return items


def _merged_from_above(tc) -> bool:
    """The lower part of a vertically merged cell: its text is in the row above."""
    v_merge = _find(tc, "w:tcPr", "w:vMerge")
    return v_merge is not None and v_merge.get(W_VAL) in (None, "continue")


def _is_hidden(run, paragraph) -> bool:
    parent = run.getparent()
    while parent is not None and parent is not paragraph:
        if parent.tag in DOCX_HIDDEN:
            return True
        parent = parent.getparent()
    return False


class _Numbering:
    """Word's automatic list numbers, which are not in the text: "1.1" before a criterion is often
    generated. label() gives a paragraph's number ("1.1"), "" for a plain paragraph, None for a
    bullet."""

    def __init__(self, numbering, styles):
        self._styles = styles
        self._abstract_of: dict[str, str] = {}  # numId -> abstractNumId
        self._restarts: dict[str, dict[int, int]] = {}  # numId -> {level: start}
        self._levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # abstractNumId -> {level: (format, text, start)}
        self._style_links: dict[str, str] = {}  # abstractNumId -> numbering style it takes its levels from
        self._counters: dict[str, dict[int, int]] = {}
        self._started: set[str] = set()
        if numbering is None:
            return
        for abstract in numbering.findall(qn("w:abstractNum")):
            abstract_id = abstract.get(qn("w:abstractNumId"))
            self._levels[abstract_id] = {
                _int(lvl.get(qn("w:ilvl")), 0, lowest=0, highest=8): (
                    _val(lvl, "w:numFmt") or "decimal",
                    _val(lvl, "w:lvlText") or "",
                    _int(_val(lvl, "w:start"), 1, lowest=0, highest=10_000),
                )
                for lvl in abstract.findall(qn("w:lvl"))
            }
            if link := _val(abstract, "w:numStyleLink"):
                self._style_links[abstract_id] = link
        for num in numbering.findall(qn("w:num")):
            num_id = num.get(qn("w:numId"))
            self._abstract_of[num_id] = _val(num, "w:abstractNumId")
            self._restarts[num_id] = {
                _int(override.get(qn("w:ilvl")), 0, lowest=0, highest=8): _int(
                    _val(override, "w:startOverride"), 1, lowest=0, highest=10_000
                )
                for override in num.findall(qn("w:lvlOverride"))
                if _find(override, "w:startOverride") is not None
            }

    def label(self, p) -> str | None:
        num_id, level, style_name = self._number_properties(p)
        if num_id is None:
            return None if style_name.startswith(("list bullet", "list number")) else ""
        if num_id == "0":
            return ""
        abstract_id = self._abstract(num_id)
        levels = self._levels.get(abstract_id) or {}
        if level not in levels or levels[level][0] == "bullet":
            return None
        counters = self._counters.setdefault(abstract_id, {})
        if num_id not in self._started:
            self._started.add(num_id)
            for restart_level, start in self._restarts.get(num_id, {}).items():
                counters[restart_level] = start - 1
        number_format, text, start = levels[level]
        counters[level] = counters[level] + 1 if level in counters else start
        for deeper in [lvl for lvl in counters if lvl > level]:
            del counters[deeper]
        if number_format == "none":
            return ""
        return re.sub(r"%([1-9])", lambda m: self._number(levels, counters, int(m[1]) - 1), text).strip()

    def _number(self, levels, counters, level: int) -> str:
        number_format, _, start = levels.get(level, ("decimal", "", 1))
        return _format_number(counters.get(level, start), number_format)

    def _abstract(self, num_id: str) -> str | None:
        abstract_id = self._abstract_of.get(num_id)
        for _ in range(5):  # a list defined by a numbering style: follow the link to its levels
            style = self._style(self._style_links.get(abstract_id))
            linked_num = _val(style, "w:pPr", "w:numPr", "w:numId")
            if linked_num is None or linked_num not in self._abstract_of:
                break
            abstract_id = self._abstract_of[linked_num]
        return abstract_id

    def _number_properties(self, p) -> tuple[str | None, int, str]:
        """numId, level and style name, from the paragraph or else its style and the styles it is
        based on."""
        num_pr = _find(p, "w:pPr", "w:numPr")
        num_id, level = _val(num_pr, "w:numId"), _val(num_pr, "w:ilvl")
        style = self._style(_val(p, "w:pPr", "w:pStyle"))
        style_name = (_val(style, "w:name") or "").lower()
        for _ in range(10):
            if style is None:
                break
            style_num_pr = _find(style, "w:pPr", "w:numPr")
            num_id = num_id or _val(style_num_pr, "w:numId")
            level = level or _val(style_num_pr, "w:ilvl")
            style = self._style(_val(style, "w:basedOn"))
        return num_id, _int(level, 0, lowest=0, highest=8), style_name

    def _style(self, style_id: str | None):
        return self._styles.get_by_id(style_id) if style_id else None


def _format_number(number: int, number_format: str) -> str:
    if number_format in ("lowerLetter", "upperLetter"):
        letters = chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)
        return letters.upper() if number_format == "upperLetter" else letters
    if number_format in ("lowerRoman", "upperRoman"):
        roman = _roman(number)
        return roman.lower() if number_format == "lowerRoman" else roman
    if number_format == "decimalZero":
        return f"{number:02d}"
    return str(number)


def _roman(number: int) -> str:
    out = ""
    for value, numeral in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        count, number = divmod(number, value)
        out += numeral * count
    return out


# ---------------------------------------------------------------------------------------------
# HTML

HTML_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "wbr"}
HTML_DROP = {"script", "style", "head", "title", "nav", "footer", "noscript", "template", "svg", "iframe", "object"}
HTML_HEAD_ONLY = {"title", "meta", "link", "style", "script", "base", "noscript", "template"}
HTML_BLOCK = {
    *("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "br", "li", "dt", "dd"),
    *("blockquote", "ul", "ol", "dl", "pre", "header", "main", "aside", "figure", "figcaption", "address"),
    *("hr", "caption", "center", "form", "fieldset", "details", "summary", "body", "html"),
    *("table", "thead", "tbody", "tfoot", "tr", "td", "th"),
}
HTML_TABLE_PARTS = {"table", "thead", "tbody", "tfoot", "tr", "td", "th"}
# An opening tag closes an open element of the first set, looking no further up than the second.
HTML_IMPLIED_ENDS = {
    "li": ({"li"}, {"ul", "ol", "table", "td", "th"}),
    "dt": ({"dt", "dd"}, {"dl", "table", "td", "th"}),
    "dd": ({"dt", "dd"}, {"dl", "table", "td", "th"}),
    "tr": ({"tr"}, {"table"}),
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "thead": ({"thead", "tbody", "tfoot"}, {"table"}),
    "tbody": ({"thead", "tbody", "tfoot"}, {"table"}),
    "tfoot": ({"thead", "tbody", "tfoot"}, {"table"}),
}
HTML_MAX_DEPTH = 100


class _Node:
    def __init__(self, tag: str, attrs: list[tuple[str, str | None]] | None = None):
        self.tag = tag
        self.attrs = dict(attrs or ())
        self.children: list[_Node | str] = []


class _TreeBuilder(HTMLParser):
    """A forgiving element tree: implied end tags (p, li, td, tr) are closed as browsers do."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root")
        self._stack = [self.root]

    def handle_starttag(self, tag, attrs):
        if tag not in HTML_HEAD_ONLY and tag != "head":
            self._close("head", HTML_TABLE_PARTS)
        if tag in HTML_BLOCK:
            self._close("p", HTML_BLOCK - {"p"})
        if tag in HTML_IMPLIED_ENDS:
            targets, boundary = HTML_IMPLIED_ENDS[tag]
            self._close(targets, boundary)
        node = _Node(tag, attrs)
        self._stack[-1].children.append(node)
        if tag not in HTML_VOID and len(self._stack) < HTML_MAX_DEPTH:
            self._stack.append(node)

    def handle_endtag(self, tag):
        self._close(tag, {"table"} if tag in HTML_TABLE_PARTS else {"table", "td", "th"})

    def handle_data(self, data):
        self._stack[-1].children.append(data)

    def _close(self, targets: str | set[str], boundary: set[str]) -> None:
        """Close the innermost open element named in targets, unless a boundary comes first."""
        targets = {targets} if isinstance(targets, str) else targets
        for index in range(len(self._stack) - 1, 0, -1):
            tag = self._stack[index].tag
            if tag in targets:
                del self._stack[index:]
                return
            if tag in boundary:
                return


def _html_text(text: str) -> str:
    builder = _TreeBuilder()
    try:
        builder.feed(text)
        builder.close()
    except Exception as exc:
        raise ExtractError(f"The HTML file cannot be read: {_reason(exc)}.") from exc
    return _join(_HtmlRenderer().render(builder.root))


class _HtmlRenderer:
    """An element's content as blocks: block elements end a paragraph, <li> makes a bullet, tables
    become rows; whitespace runs inside a paragraph become one space."""

    def __init__(self):
        self.items: list[_Item] = []
        self._text: list[str] = []
        self._list_items = 0

    def render(self, node: _Node) -> list[_Item]:
        self._walk(node)
        self._flush()
        return self.items

    def _walk(self, node: _Node) -> None:
        for child in node.children:
            if isinstance(child, str):
                self._text.append(child)
            elif child.tag in HTML_DROP:
                continue
            elif child.tag == "table":
                self._flush()
                self.items.extend(_html_table(child))
            elif child.tag not in HTML_BLOCK:
                self._walk(child)
            else:
                self._flush()
                self._list_items += child.tag == "li"
                self._walk(child)
                self._flush()
                self._list_items -= child.tag == "li"

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text.clear()
        if text:
            self.items.append(_Block("li" if self._list_items else "p", text))


def _html_table(table: _Node) -> list[_Item]:
    items: list[_Item] = []
    covered: dict[int, int] = {}  # column -> rows still taken by a rowspan from above
    for part in _elements(table, {"caption"}):
        items.extend(_HtmlRenderer().render(part))
    for tr in _table_rows(table):
        entries: list[list[_Item] | None] = []
        column = _skip_covered(entries, covered, 0)
        for cell in _elements(tr, {"td", "th"}):
            span = _int(cell.attrs.get("colspan"), 1)
            rows = _int(cell.attrs.get("rowspan"), 1, highest=1000)
            entries.append(_HtmlRenderer().render(cell))
            entries.extend([None] * (span - 1))
            for offset in range(span):
                if rows > 1:
                    covered[column + offset] = rows - 1
            column = _skip_covered(entries, covered, column + span)
        _skip_covered(entries, covered, column, to_end=True)
        items.extend(_row_items(entries))
    return items


def _skip_covered(entries: list, covered: dict[int, int], column: int, to_end: bool = False) -> int:
    """Add an empty cell for each column taken by a cell above; the next free column."""
    last = max((col for col, left in covered.items() if left > 0), default=-1) if to_end else column - 1
    while covered.get(column, 0) > 0 or column <= last:
        entries.append([])
        if covered.get(column, 0) > 0:
            covered[column] -= 1
        column += 1
    return column


def _elements(node: _Node, tags: set[str]) -> Iterator[_Node]:
    return (child for child in node.children if isinstance(child, _Node) and child.tag in tags)


def _table_rows(table: _Node) -> Iterator[_Node]:
    for child in _elements(table, {"tr", "thead", "tbody", "tfoot"}):
        if child.tag == "tr":
            yield child
        else:
            yield from _elements(child, {"tr"})
