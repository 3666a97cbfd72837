"""Outcomes tables in PDFs, read through pypdf's layout mode: real PDFs made with WeasyPrint from the
fixture units' specification pages (render.py), imported end to end, and the table rows that
extract_text makes of them (one row per physical line, one cell per column)."""

import functools
import io
import json
import logging
import re
from pathlib import Path

import pytest
import weasyprint
from pypdf import PdfReader

from tests.units.importer.render import notes, spec_html, third_column
from units.importer import import_document
from units.importer.extract import extract_text

FIXTURES_DIR = Path(__file__).resolve().parents[3] / "fixtures" / "units"
PLAN = "plan-organise-and-control-customer-service-operations"
MANAGE = "manage-customer-service-operations"
UNITS = [PLAN, MANAGE]


@pytest.fixture(autouse=True, scope="module")
def quiet_pdf_libraries():
    """WeasyPrint and fontTools log each font they subset; only errors matter here."""
    loggers = [logging.getLogger(name) for name in ("weasyprint", "fontTools")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def unit(key: str) -> dict:
    return json.loads((FIXTURES_DIR / f"{key}.json").read_text(encoding="utf-8"))


@functools.cache
def unit_pdf(key: str) -> bytes:
    return weasyprint.HTML(string=spec_html(unit(key))).write_pdf()


def rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.split("\n") if "\t" in line]


def words(text: str) -> str:
    """Text as its words, bullet marks dropped and a word wrapped after "-" or "/" joined again."""
    return re.sub(r"([-/]) ", r"\1", " ".join(text.replace("•", " ").split()))


def test_both_fixture_units_are_tested():
    assert sorted(path.stem for path in FIXTURES_DIR.glob("*.json")) == sorted(UNITS)


@pytest.mark.parametrize("key", UNITS)
def test_unit_comes_back_from_its_pdf(key):
    expected = unit(key)

    data = import_document(unit_pdf(key), "unit.pdf").data

    for field in ("title", "level", "credit_value", "guided_learning_hours"):
        assert data[field] == expected[field], field
    assert data["outcomes"] == expected["outcomes"]
    assert data["evidence_requirements"] == expected["evidence_requirements"]


def test_the_plan_units_table_runs_over_several_pages():
    # The premise of the page-break cases: rows of the table are split between pages.
    pages = PdfReader(io.BytesIO(unit_pdf(PLAN))).pages
    assert len(pages) >= 4
    assert all("\t" in line for line in extract_text(unit_pdf(PLAN)).split("\n") if "4.10 explain" in line)


@pytest.mark.parametrize("key", UNITS)
def test_each_column_of_the_table_reads_as_the_units_column(key):
    expected = unit(key)

    table = rows(extract_text(unit_pdf(key), "unit.pdf"))

    assert {len(row) for row in table} == {3}
    columns = [words(" ".join(row[i] for row in table)) for i in range(3)]
    outcomes = expected["outcomes"]
    assert columns[0] == words("Learning Outcomes " + " ".join(f"{o['number']} {o['text']}" for o in outcomes))
    criteria = [f"{c['number']} {c['text']}" for o in outcomes for c in o["criteria"]]
    assert columns[1] == words("Assessment Criteria " + " ".join(criteria))
    # pypdf runs the wrapped header cell's last two words together ("Understandingand Skills").
    third = [text for o in outcomes for _, text in notes(o)]
    assert columns[2].replace(" ", "") == words(third_column(expected) + " " + " ".join(third)).replace(" ", "")


@pytest.mark.parametrize("key", UNITS)
def test_each_number_starts_a_line_in_its_own_column(key):
    table = rows(extract_text(unit_pdf(key), "unit.pdf"))

    for outcome in unit(key)["outcomes"]:
        starts = [row[0] for row in table if re.match(rf"{outcome['number']}\s", row[0])]
        assert len(starts) == 1
        assert f"{outcome['number']} {outcome['text']}".startswith(starts[0])
        for criterion in outcome["criteria"]:
            starts = [row[1] for row in table if re.match(rf"{re.escape(criterion['number'])}\s", row[1])]
            assert len(starts) == 1
            assert f"{criterion['number']} {criterion['text']}".startswith(starts[0])
    assert not any(re.match(r"\d+\.\d+\s", cell) for row in table for cell in (row[0], row[2]))


def test_a_page_that_carries_on_only_the_middle_column_keeps_it_in_the_middle():
    # pypdf measures each page from its leftmost text: the last page holds only criteria, so
    # its layout text starts them at the margin.
    last_page = PdfReader(io.BytesIO(unit_pdf(MANAGE))).pages[-1]
    assert last_page.extract_text(extraction_mode="layout").startswith("5.4 Address identified")

    table = rows(extract_text(unit_pdf(MANAGE), "unit.pdf"))

    assert ["", "5.4 Address identified", ""] in table
    assert table[-1] == ["", "customer service", ""]


def test_heading_after_the_table_is_a_plain_line():
    lines = extract_text(unit_pdf(PLAN), "unit.pdf").split("\n")

    heading = lines.index("Evidence requirements")
    assert "\t" in lines[heading - 2]
    assert lines[heading - 1] == ""
    assert not any("\t" in line for line in lines[heading:])
    assert lines[heading + 2].startswith("1. Your evidence should be collected")


def test_table_between_paragraphs_becomes_rows():
    # Cells top-aligned and without margins share baselines, so WeasyPrint draws a row's lines as
    # one run of text; a heading at the margin fits in the first column.
    html = """<style>body { font-size: 10pt } td { width: 33%; vertical-align: top }
    th { text-align: left; font-weight: normal } p, ul { margin: 0 }</style>
    <p>The learner plans, organises and controls the customer service operations.<br>Short end.</p>
    <table>
    <tr><th>Learning Outcomes</th><th>Assessment Criteria</th><th>Knowledge</th></tr>
    <tr><td>1 plan operations</td><td><p>1.1 analyse customers</p><p>1.2 develop plans</p></td>
    <td><p>Customers eg:</p><ul><li>internal</li><li>ages</li></ul></td></tr>
    <tr><td>2 supervise</td><td>2.1 negotiate</td><td>How to negotiate.</td></tr>
    </table>
    <p>Assessment</p>
    <p>Specified in the Customer Service Assessment Strategy 2010 for every unit.</p>"""

    text = extract_text(weasyprint.HTML(string=html).write_pdf(), "unit.pdf")

    assert text.split("\n") == [
        "The learner plans, organises and controls the customer service operations.",
        "Short end.",
        "",
        "Learning Outcomes\tAssessment Criteria\tKnowledge",
        "1 plan operations\t1.1 analyse customers\tCustomers eg:",
        "\t1.2 develop plans\t• internal",
        "\t\t• ages",
        "2 supervise\t2.1 negotiate\tHow to negotiate.",
        "",
        "Assessment",
        "Specified in the Customer Service Assessment Strategy 2010 for every unit.",
        "",
    ]


def test_page_furniture_between_rows_stays_a_plain_line():
    css = (
        '@page { @bottom-left { content: counter(page) " \\00A9 OCR 2010" }'
        ' @top-left { content: "Unit CU782 Plan, organise and control customer service operations" } }'
    )
    pdf = weasyprint.HTML(string=spec_html(unit(PLAN)).replace("</style>", css + "</style>")).write_pdf()

    lines = extract_text(pdf, "unit.pdf").split("\n")

    footer = lines.index("1 ©OCR 2010")
    assert lines[footer + 1].startswith("Unit CU782")
    assert "\t" in lines[footer - 1]
    assert "\t" in lines[footer + 2]
    assert {len(row) for row in rows("\n".join(lines))} == {3}


def test_pdf_without_a_table_gives_plain_paragraphs():
    html = (
        "<p>Delivering effective customer service is key to winning and maintaining customer loyalty. "
        "This requires careful planning and organisation.</p>"
        "<p>This unit is about managing the delivery of services to the customer.</p>"
    )

    text = extract_text(weasyprint.HTML(string=html).write_pdf(), "unit.pdf")

    assert "\t" not in text
    paragraphs = [" ".join(block.split()) for block in text.strip().split("\n\n")]
    assert paragraphs == [
        "Delivering effective customer service is key to winning and maintaining customer loyalty. "
        "This requires careful planning and organisation.",
        "This unit is about managing the delivery of services to the customer.",
    ]
