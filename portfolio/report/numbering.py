""" "Page N" in every page's footer of the joined PDF, drawn exactly as WeasyPrint would have drawn it.

Sections are laid out before anyone knows on which page each will start, so they carry no numbers
and the merge stamps them. Laying out an empty N-page document just for its footers costs WeasyPrint
~10 ms a page: six seconds for a 600-page portfolio, all of it in the merge, which nothing else can
run beside. Instead WeasyPrint lays out two calibration pages whose footers read "Page 1234567890"
and "Page 5", with the report's own style sheets; every page number is the first page's drawing with
the digits swapped: the same embedded font subset (it holds every digit), the same baseline, moved
right by one digit's advance for each digit fewer (the footer is right-aligned and the digits are
tabular, the same width each, as the second page confirms).

Each number is a form XObject drawn after the page's own content, which is wrapped in q … Q so the
form sees the page's original coordinate system.
"""

import functools
import io
import re

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
)
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from portfolio.report.fetcher import ReportURLFetcher, static_url
from portfolio.report.sections import STYLESHEET

NUMBERS_STYLESHEET = "css/report-page-numbers.css"
_LONG, _SHORT = "1234567890", "5"
_CALIBRATION_CSS = f"@page :first {{ counter-reset: page {_LONG} }} @page :nth(2) {{ counter-reset: page {_SHORT} }}"
_TM = re.compile(rb"(-?[\d.]+) (-?[\d.]+) Tm")
_TJ = re.compile(rb"\[([^\]]*)\] TJ")
_GLYPH = re.compile(rb"<[0-9A-Fa-f]+>-?[\d.]*")
_PREFIX = len("Page ")


class CalibrationError(RuntimeError):
    """WeasyPrint drew the calibration footer in a way this module does not recognise."""


class PageNumbers:
    """Stamps pages added to `writer` with their numbers."""

    def __init__(self, writer: PdfWriter) -> None:
        long_page, short_page = PdfReader(io.BytesIO(_calibration_pdf())).pages
        self._content = long_page.get_contents().get_data()
        tm, tj = _TM.search(self._content), _TJ.search(self._content)
        short = short_page.get_contents().get_data()
        short_tm, short_tj = _TM.search(short), _TJ.search(short)
        if not (tm and tj and short_tm and short_tj):
            raise CalibrationError("no positioned text in the calibration footer")
        self._tm, self._tj = tm, tj
        glyphs = _GLYPH.findall(tj.group(1))
        short_glyphs = _GLYPH.findall(short_tj.group(1))
        if len(glyphs) != _PREFIX + len(_LONG) or short_glyphs[:_PREFIX] != glyphs[:_PREFIX]:
            raise CalibrationError(f"unexpected glyph runs {tj.group(1)!r} / {short_tj.group(1)!r}")
        self._prefix = b"".join(glyphs[:_PREFIX])
        self._digits = dict(zip(_LONG, glyphs[_PREFIX:], strict=True))
        if short_glyphs[_PREFIX:] != [self._digits[_SHORT]]:
            raise CalibrationError("the second page drew its digit with another glyph")
        self._x = float(tm.group(1))
        self._advance = (float(short_tm.group(1)) - self._x) / (len(_LONG) - len(_SHORT))

        # pypdf has no public way to add a bare object; _add_object is what its own helpers use.
        self._writer = writer
        self._resources = long_page["/Resources"].clone(writer).indirect_reference
        self._bbox = ArrayObject(long_page.mediabox)
        self._save = writer._add_object(_stream(b"q\n"))

    def stamp(self, page: PageObject, number: int) -> None:
        """Draw "Page `number`" on `page`, a page already added to the writer."""
        name = NameObject(f"/PageNumber{number}")
        if "/Resources" not in page:
            page[NameObject("/Resources")] = DictionaryObject()
        resources = page["/Resources"].get_object()
        if "/XObject" not in resources:
            resources[NameObject("/XObject")] = DictionaryObject()
        resources["/XObject"].get_object()[name] = self._form(number)
        contents = page.raw_get("/Contents") if "/Contents" in page else ArrayObject()
        existing = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [contents]
        restore = self._writer._add_object(_stream(b"\nQ " + name.encode() + b" Do\n"))
        page[NameObject("/Contents")] = ArrayObject([self._save, *existing, restore])

    def _form(self, number: int) -> IndirectObject:
        text = str(number)
        x = self._x + (len(_LONG) - len(text)) * self._advance
        run = self._prefix + b"".join(self._digits[digit] for digit in text)
        c, tm, tj = self._content, self._tm, self._tj
        content = c[: tm.start(1)] + f"{x:.6f}".encode() + c[tm.end(1) : tj.start(1)] + run + c[tj.end(1) :]
        form = _stream(content)
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): self._bbox,
                NameObject("/Resources"): self._resources,
            }
        )
        return self._writer._add_object(form.flate_encode())


@functools.cache
def _calibration_pdf() -> bytes:
    """Two pages with nothing but their footer numbers, laid out with the report's own style sheets."""
    fetcher = ReportURLFetcher({})
    fonts = FontConfiguration()
    sheets = [
        CSS(url=static_url(name), url_fetcher=fetcher, font_config=fonts) for name in (STYLESHEET, NUMBERS_STYLESHEET)
    ]
    sheets.append(CSS(string=_CALIBRATION_CSS, font_config=fonts))
    html = '<html lang="en-GB"><body><div></div><div style="break-before: page"></div></body></html>'
    return HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=sheets, font_config=fonts)


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream
