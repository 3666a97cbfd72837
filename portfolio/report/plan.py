"""What one export renders, fixed once: the portfolio read at one moment, and its split into sections.

Every section of an export must draw the same portfolio: evidence numbers (E1, E2 …) follow creation
order, so a piece added between two sections would shift every later batch. The plan is read once,
by whoever starts the export, and each section (in this process or in another worker) draws from it.

Sections: 0 is the cover and contents, laid out last because it lists the page every other section
landed on; 1 … n are the body in order: each unit (in parts, when its tracking matrix is long),
each batch of evidence, IQA, the file manifest.

Between processes the plan travels as a pickle in private storage, signed with the secret key so a
worker never unpickles bytes it did not write itself.
"""

import hmac
import math
import pickle
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.crypto import salted_hmac

from accounts.models import User
from portfolio.models import Enrolment
from portfolio.report.data import portfolio_report
from portfolio.report.tree import MATRIX_LEGEND, EvidenceEntry, PortfolioReport, UnitReport, person_name

EVIDENCE_PER_SECTION = 25
MATRIX_TABLES_PER_SECTION = 10  # of MATRIX_COLUMNS evidence each: a unit's part stays the size of an evidence batch
COMMAND_LINE = "the command line (no signed-in user)"
FRONT = 0  # the section index of the cover and contents

_SIGNING_SALT = "portfolio.report.plan"
_MAC_LENGTH = 64  # hex SHA-256


@dataclass(frozen=True)
class Section:
    index: int
    template: str
    stage: str  # what the progress bar says while it renders
    weight: int  # its share of the rendering work, for progress
    context: dict = field(default_factory=dict)
    evidence: tuple[EvidenceEntry, ...] | None = None  # an evidence batch: its thumbnails are made first


@dataclass(frozen=True)
class ReportPlan:
    report: PortfolioReport
    exported_at: datetime
    exported_by: str
    include_originals: bool

    @property
    def common(self) -> dict:
        """What every section's template sees."""
        return {
            "report": self.report,
            "exported_at": self.exported_at,
            "exported_by": self.exported_by,
            "include_originals": self.include_originals,
        }

    @property
    def front(self) -> Section:
        return Section(FRONT, "portfolio/report/front.html", "Numbering the contents", weight=1)

    @property
    def sections(self) -> list[Section]:
        """The body sections, numbered from 1 in the order they appear."""
        report = self.report
        sections: list[Section] = []
        for number, unit in enumerate(report.units, start=1):
            sections += _unit_sections(len(sections) + 1, number, unit, len(report.units))
        batches = [
            report.evidence[start : start + EVIDENCE_PER_SECTION]
            for start in range(0, len(report.evidence), EVIDENCE_PER_SECTION)
        ] or [[]]
        for number, batch in enumerate(batches):
            first = number * EVIDENCE_PER_SECTION + 1
            stage = (
                f"Rendering evidence {first} to {first + len(batch) - 1} of {len(report.evidence)}"
                if batch
                else "Rendering evidence"
            )
            sections.append(
                Section(
                    len(sections) + 1,
                    "portfolio/report/evidence.html",
                    stage,
                    weight=1 + len(batch) + sum(len(e.images) for e in batch),
                    context={"first_batch": number == 0},
                    evidence=tuple(batch),
                )
            )
        sections.append(Section(len(sections) + 1, "portfolio/report/iqa.html", "Rendering IQA records", 1))
        sections.append(
            Section(
                len(sections) + 1,
                "portfolio/report/files.html",
                "Rendering the file manifest",
                1 + len(report.files) // 25,
            )
        )
        return sections

    def section(self, index: int) -> Section:
        return self.front if index == FRONT else self.sections[index - 1]

    def dumps(self) -> bytes:
        data = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
        return _mac(data).encode() + data

    @classmethod
    def loads(cls, signed: bytes) -> "ReportPlan":
        mac, data = signed[:_MAC_LENGTH], signed[_MAC_LENGTH:]
        if not hmac.compare_digest(mac, _mac(data).encode()):
            raise ValueError("the export plan's signature does not match: not written by this site")
        plan = pickle.loads(data)  # signed above with SECRET_KEY: our own bytes
        if not isinstance(plan, cls):
            raise TypeError(f"not a report plan: {type(plan).__name__}")
        return plan


def plan_report(
    enrolment: Enrolment, *, exported_by: User | None, exported_at: datetime, include_originals: bool
) -> ReportPlan:
    """Read the portfolio (a fixed number of queries) and fix what the export will show."""
    by = f"{person_name(exported_by)} ({exported_by.role_label})" if exported_by else COMMAND_LINE
    return ReportPlan(portfolio_report(enrolment), exported_at, by, include_originals)


def _unit_sections(first_index: int, number: int, unit: UnitReport, units: int) -> list[Section]:
    """A unit in one section, or, when its tracking matrix is long, in parts split between matrix
    tables: no section then grows with the portfolio, and the parts render side by side."""
    tables = unit.matrix_chunks
    parts = max(1, math.ceil(len(tables) / MATRIX_TABLES_PER_SECTION))
    per_part = math.ceil(len(tables) / parts)
    stage = f"Rendering unit {number} of {units}: {unit.title}"
    return [
        Section(
            first_index + part,
            "portfolio/report/unit.html",
            stage if parts == 1 else f"{stage} (part {part + 1} of {parts})",
            weight=(2 if part == 0 else 0) + len(tables[part * per_part : (part + 1) * per_part]),
            context={
                "unit": unit,
                "number": number,
                "legend": MATRIX_LEGEND,
                "chunks": tables[part * per_part : (part + 1) * per_part],
                "first_part": part == 0,
                "last_part": part == parts - 1,
            },
        )
        for part in range(parts)
    ]


def _mac(data: bytes) -> str:
    return salted_hmac(_SIGNING_SALT, data, algorithm="sha256").hexdigest()
