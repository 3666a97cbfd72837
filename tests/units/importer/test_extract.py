"""extract_text on real documents built here: PDFs from WeasyPrint, Word files from python-docx,
HTML, text in several encodings, and binaries it must refuse."""

import base64
import io
import os
import zipfile
from pathlib import Path

import docx
import pytest
import weasyprint
from PIL import Image
from pypdf import PdfReader, PdfWriter

from units.importer.extract import NOT_SUPPORTED, ExtractError, extract_text

REPO_ROOT = Path(__file__).resolve().parents[3]
SEEDS_DIR = Path(os.environ.get("SEEDS_DIR", REPO_ROOT.parent / "shared" / "seeds"))
SEED_003 = SEEDS_DIR / "003_2ed901b2afcafdf3.txt"


def lines(text: str) -> list[str]:
    return text.split("\n")


def pdf_from_html(html: str) -> bytes:
    return weasyprint.HTML(string=html).write_pdf()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), "navy").save(buffer, format="PNG")
    return buffer.getvalue()


def encrypted(pdf: bytes, user_password: str, owner_password: str, algorithm: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


UNIT_HTML = """
<h1>Plan, organise and control customer service operations</h1>
<p>Unit purpose and aim</p>
<p>Delivering effective customer service is key to winning and maintaining customer loyalty.</p>
<p>This unit is about managing the delivery of services to the customer.</p>
"""


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_text_comes_back_in_order():
    text = extract_text(pdf_from_html(UNIT_HTML), "unit.pdf")

    # The PDF wraps long lines where the page did; the words come back whole and in order.
    assert " ".join(text.split()) == " ".join(
        [
            "Plan, organise and control customer service operations",
            "Unit purpose and aim",
            "Delivering effective customer service is key to winning and maintaining customer loyalty.",
            "This unit is about managing the delivery of services to the customer.",
        ]
    )
    assert lines(text)[-1] == ""
    assert "\t" not in text


def test_pdf_is_sniffed_from_the_bytes_not_the_name():
    assert "Unit purpose and aim" in extract_text(pdf_from_html(UNIT_HTML), "unit.txt")


def test_pdf_pages_are_joined_in_order():
    html = '<p>First page text, long enough to count.</p><p style="break-before: page">Second page text here.</p>'
    pdf = pdf_from_html(html)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2

    text = extract_text(pdf)

    assert text.index("First page text") < text.index("Second page text")


def test_pdf_with_a_user_password_is_refused():
    pdf = encrypted(pdf_from_html(UNIT_HTML), "secret", "owner", "AES-128")

    with pytest.raises(ExtractError, match="password-protected"):
        extract_text(pdf, "unit.pdf")


def test_pdf_locked_only_by_an_owner_password_is_read():
    pdf = encrypted(pdf_from_html(UNIT_HTML), "", "owner", "AES-256")

    assert "Unit purpose and aim" in extract_text(pdf, "unit.pdf")


def test_image_only_pdf_is_refused_as_a_scan():
    src = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    pdf = pdf_from_html(f'<img src="{src}" style="width: 15cm">')

    with pytest.raises(ExtractError, match="no text layer: it looks like a scan"):
        extract_text(pdf, "scan.pdf")


def test_damaged_pdf_is_refused():
    with pytest.raises(ExtractError, match="The PDF file is damaged"):
        extract_text(b"%PDF-1.7\n1 0 obj <<>> endobj\ngarbage", "unit.pdf")


def test_pdf_with_too_many_pages_is_refused():
    pdf = pdf_from_html("".join(f'<p style="break-before: page">Page {n}</p>' for n in range(201)))

    with pytest.raises(ExtractError, match="at most 200"):
        extract_text(pdf, "big.pdf")


# --- Word (.docx) -------------------------------------------------------------------------------


def build_docx() -> bytes:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "OCR header furniture"
    document.add_heading("Unit 429: Plan, organise and control customer service operations", level=1)
    document.add_paragraph("This unit is about managing the delivery of services to the customer.")
    document.add_paragraph("internal and external customers", style="List Bullet")
    document.add_paragraph("specialist groups", style="List Bullet")
    table = document.add_table(rows=3, cols=3)
    for cell, text in zip(table.rows[0].cells, ["Learning Outcomes", "Assessment Criteria", "Knowledge"], strict=True):
        cell.text = text
    outcome, criteria, knowledge = table.rows[1].cells
    outcome.text = "The Learner will:"
    outcome.add_paragraph("1 plan customer service operations")
    criteria.text = "1.1 analyse customer expectations"
    knowledge.text = "Typical customers eg:"
    knowledge.add_paragraph("internal and external", style="List Bullet")
    knowledge.add_paragraph("ages", style="List Bullet")
    merged = table.cell(2, 0).merge(table.cell(2, 2))  # python-docx repeats this cell three times
    merged.text = "Assessment guidance"
    document.add_paragraph("Guided learning hours: 67")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_lists_and_tables_in_document_order():
    text = extract_text(build_docx(), "unit.docx")

    assert lines(text) == [
        "Unit 429: Plan, organise and control customer service operations",
        "",
        "This unit is about managing the delivery of services to the customer.",
        "",
        "• internal and external customers",
        "• specialist groups",
        "",
        "<p>Learning Outcomes</p>\t<p>Assessment Criteria</p>\t<p>Knowledge</p>",
        "<p>The Learner will:</p> <p>1 plan customer service operations</p>"
        "\t<p>1.1 analyse customer expectations</p>"
        "\t<p>Typical customers eg:</p> <ul><li>internal and external</li><li>ages</li></ul>",
        "",
        "Assessment guidance",
        "",
        "Guided learning hours: 67",
        "",
    ]
    assert "header furniture" not in text


def test_docx_vertical_merge_and_nested_table_are_not_duplicated():
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(1, 0)).text = "1 plan operations"
    table.cell(0, 1).text = "1.1 analyse"
    table.cell(1, 1).text = "1.2 develop plans"
    nested = table.cell(1, 1).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "eg internal"
    nested.cell(0, 1).text = "eg external"
    buffer = io.BytesIO()
    document.save(buffer)

    assert lines(extract_text(buffer.getvalue(), "unit.docx")) == [
        "<p>1 plan operations</p>\t<p>1.1 analyse</p>",
        "\t<p>1.2 develop plans</p> <p>eg internal</p> <p>eg external</p>",
        "",
    ]


def test_docx_automatic_numbering_is_written_out():
    document = docx.Document()
    document.add_paragraph("plan customer service operations", style="List Number")
    document.add_paragraph("supervise customer service operations", style="List Number")
    buffer = io.BytesIO()
    document.save(buffer)

    assert lines(extract_text(buffer.getvalue())) == [
        "1. plan customer service operations",
        "2. supervise customer service operations",
        "",
    ]


def test_damaged_docx_is_refused():
    data = build_docx()
    with pytest.raises(ExtractError, match="The Word file is damaged"):
        extract_text(data[: len(data) // 2], "unit.docx")


# --- HTML ---------------------------------------------------------------------------------------


def test_html_document_becomes_lines_and_table_rows():
    html = """<!DOCTYPE html>
<html><head><title>Unit B13</title><style>td { color: red }</style></head>
<body>
<nav>Home | Units</nav>
<script>document.write("<p>not text</p>");</script>
<h1>Plan, organise &amp; control
    customer   service operations</h1>
<p>Level:&nbsp;4 &ndash; Credit value: 10</p>
<ul><li>internal &lt;and&gt; external</li><li>ages</li></ul>
<table>
  <thead><tr><th>Learning Outcomes</th><th>Assessment Criteria</th><th>Knowledge</th></tr></thead>
  <tbody>
    <tr>
      <td>The Learner will: <p>1 plan</p></td>
      <td><p>1.1 analyse</p><p>1.2 develop</p></td>
      <td><p>Customers eg:</p><ul><li>internal</li><li>ages</li></ul></td>
    </tr>
  </tbody>
</table>
<footer>&copy; OCR</footer>
</body></html>"""

    assert lines(extract_text(html.encode(), "unit.html")) == [
        "Plan, organise & control customer service operations",
        "",
        "Level: 4 \u2013 Credit value: 10",
        "",
        "• internal <and> external",
        "• ages",
        "",
        "<p>Learning Outcomes</p>\t<p>Assessment Criteria</p>\t<p>Knowledge</p>",
        "<p>The Learner will:</p> <p>1 plan</p>\t<p>1.1 analyse</p> <p>1.2 develop</p>"
        "\t<p>Customers eg:</p> <ul><li>internal</li><li>ages</li></ul>",
        "",
    ]


def test_html_rendering_of_seed_003_table_gives_its_row_format():
    html = """<table>
<tr><td><p>The Learner will:</p><p>1 plan customer service operations</p></td>
<td><p>The Learner can:</p>
  <p>1.1 analyse customer expectations and define the service offer designed to meet those expectations</p>
  <p>1.2 develop specific plans that will ensure sustainable and consistent delivery of customer service</p></td>
<td><p>Candidates should have an understanding of:</p>
  <ul style="list-style-type: none"><li>internal and external</li><li>ages</li></ul></td></tr>
<tr><td></td><td></td><td><p>products, services and environment</p></td></tr>
</table>"""

    assert lines(extract_text(html.encode("utf-8"), "unit.htm")) == [
        "<p>The Learner will:</p> <p>1 plan customer service operations</p>\t"
        "<p>The Learner can:</p> "
        "<p>1.1 analyse customer expectations and define the service offer designed to meet those expectations</p> "
        "<p>1.2 develop specific plans that will ensure sustainable and consistent delivery of customer service</p>\t"
        "<p>Candidates should have an understanding of:</p> <ul><li>internal and external</li><li>ages</li></ul>",
        "\t\t<p>products, services and environment</p>",
        "",
    ]


def test_html_spans_keep_columns_in_place():
    html = """<table>
<tr><td colspan="3">Learning outcome 1</td></tr>
<tr><td rowspan="2">1 plan</td><td>1.1 analyse</td><td>eg ages</td></tr>
<tr><td>1.2 develop</td><td>eg gender</td></tr>
</table>"""

    assert lines(extract_text(html.encode())) == [
        "Learning outcome 1",
        "",
        "<p>1 plan</p>\t<p>1.1 analyse</p>\t<p>eg ages</p>",
        "\t<p>1.2 develop</p>\t<p>eg gender</p>",
        "",
    ]


# --- Text ---------------------------------------------------------------------------------------


def test_seed_003_is_text_and_comes_back_unchanged():
    data = SEED_003.read_bytes()

    assert extract_text(data, SEED_003.name) == data.decode("utf-8")
    assert extract_text(data) == data.decode("utf-8")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param("\ufeffLevel: 4\r\nCredit value: 10\r\n".encode(), "Level: 4\nCredit value: 10\n", id="utf-8-bom"),
        pytest.param("Learner\u2019s plan\r\n".encode("utf-16"), "Learner\u2019s plan\n", id="utf-16-bom"),
        pytest.param("Learner\u2019s plan\n".encode("utf-16-le"), "Learner\u2019s plan\n", id="utf-16-le-no-bom"),
        pytest.param(
            b"The learner\x92s plan \x96 caf\xe9\rnext", "The learner\u2019s plan \u2013 café\nnext", id="cp1252"
        ),
        pytest.param("café ✓\n".encode(), "café ✓\n", id="utf-8"),
    ],
)
def test_text_encodings_decode(data, expected):
    assert extract_text(data, "unit.txt") == expected


def test_text_file_that_starts_with_a_cell_is_not_html():
    data = b"<p>The Learner will:</p> <p>1 plan</p>\t<p>1.1 analyse</p>\n"

    assert extract_text(data, "unit.txt") == data.decode()


def test_extension_breaks_the_tie_for_an_html_fragment():
    data = b"<p>Unit purpose &amp; aim</p><ul><li>ages</li></ul>"

    assert lines(extract_text(data, "unit.html")) == ["Unit purpose & aim", "", "• ages", ""]
    assert extract_text(data, "unit.txt") == data.decode()


# --- Refused ------------------------------------------------------------------------------------


def test_png_is_refused():
    with pytest.raises(ExtractError, match="picture") as caught:
        extract_text(png_bytes(), "unit.png")
    assert str(caught.value).startswith(NOT_SUPPORTED)


def test_old_word_doc_is_refused():
    doc_like = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 20

    with pytest.raises(ExtractError, match=r"old Word \(\.doc\)") as caught:
        extract_text(doc_like, "unit.doc")
    assert str(caught.value).startswith(NOT_SUPPORTED)


def test_zip_without_a_word_document_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")

    with pytest.raises(ExtractError) as caught:
        extract_text(buffer.getvalue(), "unit.zip")
    assert str(caught.value) == NOT_SUPPORTED


def test_unknown_binary_is_refused():
    with pytest.raises(ExtractError) as caught:
        extract_text(bytes(range(256)) * 8, "unit.bin")
    assert str(caught.value) == NOT_SUPPORTED


@pytest.mark.parametrize("data", [b"", b"  \r\n\t "])
def test_empty_file_is_refused(data):
    with pytest.raises(ExtractError, match="empty"):
        extract_text(data, "unit.txt")
