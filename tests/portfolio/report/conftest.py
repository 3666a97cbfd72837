"""A small but complete portfolio (both real units, photos, decisions with feedback, a sign-off, IQA)
and helpers to render it and read the PDF back."""

import io
import re
from dataclasses import dataclass, field

import pytest
from pypdf import PdfReader

from accounts.models import User
from assessments.models import Decision
from portfolio.models import Enrolment, Evidence
from portfolio.report.render import RenderResult, render_portfolio_pdf
from tests.helpers import MANAGE, PLAN
from tests.portfolio.report.builders import (
    add_evidence,
    iqa_review,
    judge,
    pdf_bytes,
    photo_bytes,
    png_bytes,
    sign_off_rows,
)
from units.models import Unit

MET = Decision.Outcome.MET
NOT_YET_MET = Decision.Outcome.NOT_YET_MET
FEEDBACK = "Show how the plan allowed for the Christmas peak in staffing."
IQA_COMMENTS = "Decisions on 1.1 are well evidenced; feedback is actionable."
PHOTO_SIZE = (2000, 1500)


@dataclass
class Portfolio:
    enrolment: Enrolment
    photo: Evidence
    minutes: Evidence
    draft: Evidence
    files: dict[str, bytes] = field(default_factory=dict)  # original name -> bytes


@pytest.fixture
def portfolio(enrolment, assessor, iqa) -> Portfolio:
    files = {"whiteboard.jpg": photo_bytes(*PHOTO_SIZE), "rota.pdf": pdf_bytes(), "chart.png": png_bytes()}
    photo = add_evidence(
        enrolment,
        title="Whiteboard plan for the peak season",
        accounts={
            (PLAN, "1.1"): "The plan starts from what our customers told us in the survey.",
            (PLAN, "1.2"): "I set the staffing levels for each week.",
            (MANAGE, "3.1"): "The same plan shows how I allocate the team's time.",
        },
        files=[("whiteboard.jpg", files["whiteboard.jpg"]), ("rota.pdf", files["rota.pdf"])],
        covers=["6c"],
        covers_unit=PLAN,
    )
    judge(photo, assessor, {"1.1": (MET, "Clear link to the survey results."), "1.2": (NOT_YET_MET, FEEDBACK)})
    minutes = add_evidence(
        enrolment,
        title="Minutes of the service review",
        accounts={(MANAGE, "2.3"): "I chaired the review and agreed the actions."},
        files=[("chart.png", files["chart.png"])],
        location="Head office",
    )
    judge(minutes, assessor, {"2.3": (MET, "")})
    draft = add_evidence(
        enrolment,
        title="Draft reflective account",
        accounts={(PLAN, "2.1"): "Still writing this."},
        covers=["4a"],
        covers_unit=PLAN,
        submit=False,
    )
    sign_off_rows(enrolment, Unit.objects.get(key=MANAGE), assessor, countersign=True)
    iqa_review(enrolment, Unit.objects.get(key=PLAN), iqa, comments=IQA_COMMENTS)
    return Portfolio(enrolment, photo, minutes, draft, files)


@dataclass
class Rendered:
    data: bytes
    result: RenderResult
    progress: list[tuple[int, str]]
    reader: PdfReader
    pages: list[str]  # each page's text, whitespace collapsed

    @property
    def text(self) -> str:
        return " ".join(self.pages)

    def bookmarks(self) -> list[tuple[str, int, int]]:
        """(title, page number from 1, depth from 0) for every outline entry, in order."""
        found: list[tuple[str, int, int]] = []

        def walk(entries: list, depth: int) -> None:
            for entry in entries:
                if isinstance(entry, list):
                    walk(entry, depth + 1)
                else:
                    found.append((entry.title, self.reader.get_destination_page_number(entry) + 1, depth))

        walk(self.reader.outline, 0)
        return found


def render(enrolment: Enrolment, *, exported_by: User | None = None, **options: object) -> Rendered:
    output = io.BytesIO()
    progress: list[tuple[int, str]] = []
    result = render_portfolio_pdf(
        enrolment,
        exported_by=exported_by,
        output=output,
        progress=lambda percent, stage: progress.append((percent, stage)),
        **options,
    )
    data = output.getvalue()
    reader = PdfReader(io.BytesIO(data))
    pages = [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]
    return Rendered(data, result, progress, reader, pages)
