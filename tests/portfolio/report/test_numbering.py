"""Page numbers stamped at merge time: the same words, font and place as WeasyPrint's own footer."""

import io
import re

from pypdf import PdfReader, PdfWriter
from weasyprint import HTML

from portfolio.report.numbering import NUMBERS_STYLESHEET, PageNumbers
from portfolio.report.sections import STYLESHEET

TM = re.compile(rb"(-?[\d.]+) (-?[\d.]+) Tm")


def footer_position(data: bytes) -> tuple[float, float]:
    x, y = TM.findall(data)[-1]
    return float(x), float(y)


def test_numbers_of_any_length_read_right_and_end_where_weasyprint_ends_them(settings):
    writer = PdfWriter()
    numbers = PageNumbers(writer)
    for number in (7, 42, 123, 4567):
        page = writer.add_blank_page(width=595.28, height=841.89)
        numbers.stamp(page, number)
    output = io.BytesIO()
    writer.write(output)
    reader = PdfReader(output)
    assert [page.extract_text().strip() for page in reader.pages] == ["Page 7", "Page 42", "Page 123", "Page 4567"]

    # WeasyPrint itself, numbering a page 42: the stamp is drawn at exactly the same place.
    css = [str(settings.BASE_DIR / "static" / name) for name in (STYLESHEET, NUMBERS_STYLESHEET)]
    own = HTML(string="<p></p>").write_pdf(stylesheets=[*css, io.BytesIO(b"@page { counter-reset: page 42 }")])
    expected = footer_position(PdfReader(io.BytesIO(own)).pages[0].get_contents().get_data())
    form = reader.pages[1]["/Resources"]["/XObject"]["/PageNumber42"].get_object()
    assert footer_position(form.get_data()) == expected
