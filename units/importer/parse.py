"""Read one unit specification from its text: the fields, the outcomes table and the sections
after it. Everything it reads carries the source lines it came from; everything it cannot place
is a warning; numbering gaps and duplicates are errors."""

import re
from itertools import pairwise
from typing import Any

from units.importer.check import problems
from units.importer.guidance_page import is_guidance_page, parse_guidance_page
from units.importer.lines import RUNNING_HEADER, Line, is_furniture, is_table_row, is_title_case, to_lines
from units.importer.normalise import normalise, squash
from units.importer.result import ImportResult, Span
from units.importer.sections import (
    Section,
    evidence_requirements,
    flags,
    nos,
    paragraphs,
)
from units.importer.table import Outcome, OutcomesTable
from units.importer.third_column import criterion_guidance, knowledge_sections
from units.specs import KNOWLEDGE_OUTCOME

FIELD_LABELS: list[tuple[str, re.Pattern[str]]] = [
    ("title", re.compile(r"^unit title:?\s*(?P<v>.+)$", re.IGNORECASE)),
    ("reference_number", re.compile(r"^(?:unit reference number|urn):?\s*(?P<v>[A-Z]/\d{3}/\d{4})$", re.IGNORECASE)),
    ("code", re.compile(
        r"^(?P<issuer>[A-Z][\w&]*(?: [A-Z][\w&]*)*)? ?unit (?:number|no\.?|code):?\s*(?P<v>[A-Z0-9/]+)$", re.IGNORECASE
    )),
    ("level", re.compile(r"^level:?\s*(?P<v>\d+)$", re.IGNORECASE)),
    ("credit_value", re.compile(r"^credit(?: value)?:?\s*(?P<v>\d+)$", re.IGNORECASE)),
    ("guided_learning_hours", re.compile(r"^(?:guided learning hours|glh):?\s*(?P<v>\d+)$", re.IGNORECASE)),
]  # fmt: skip

HEADINGS: list[tuple[str, re.Pattern[str]]] = [
    ("purpose", re.compile(r"^(?:unit )?(?:purpose(?: and aim)?|aims?(?: and purpose)?)$", re.IGNORECASE)),
    ("outcomes", re.compile(r"^learning outcomes?\b", re.IGNORECASE)),
    ("assessment", re.compile(r"^assessment$", re.IGNORECASE)),
    ("assessment_guidance", re.compile(r"^guidance on assessment\b.*$", re.IGNORECASE)),
    ("evidence", re.compile(r"^evidence requirements$", re.IGNORECASE)),
    ("nos", re.compile(r"^(?:national occupational standards|nos)\b.*\b(?:mapping|signposting)\b.*$", re.IGNORECASE)),
    ("additional", re.compile(r"^additional information$", re.IGNORECASE)),
]  # fmt: skip


def heading_of(text: str) -> str | None:
    text = text.rstrip(":").strip()
    for name, pattern in HEADINGS:
        if pattern.match(text):
            return name
    return None


def parse_text(text: str, *, source_name: str = "") -> ImportResult:
    normalised = normalise(text)
    lines = to_lines(normalised)
    if is_guidance_page(lines):
        result = parse_guidance_page(lines)
    else:
        result = _Reader(lines, normalised.split("\n"), source_name).read()
    result.source_text = normalised
    result.errors[:0] = [e for e in problems(result.data) if e not in result.errors]
    return result


class _Reader:
    def __init__(self, lines: list[Line], raws: list[str], source_name: str) -> None:
        self.lines = lines
        self.raws = raws
        self.source_name = source_name
        self.data: dict[str, Any] = empty_unit()
        self.locations: dict[str, Span] = {}
        self.warnings: list[str] = []
        self.errors: list[str] = []

    def read(self) -> ImportResult:
        self._drop_running_headers()
        regions = self._regions()
        for name, section in regions:
            getattr(self, f"_read_{name}")(section)
        if not self.data["title"]:
            self.warnings.append("No unit title found: enter it.")
        for name, label in (
            ("level", "level"),
            ("credit_value", "credit value"),
            ("guided_learning_hours", "guided learning hours"),
        ):
            if self.data[name] is None:
                self.warnings.append(f"No {label} found: enter it.")
        self.data.update(flags(self.data["evidence_requirements"]))
        return ImportResult(self.data, self.locations, self.warnings, self.errors)

    # -- splitting the document into regions --------------------------------------------------

    def _regions(self) -> list[tuple[str, Section]]:
        regions: list[tuple[str, Section]] = []
        current = Section("preamble", [])
        content = [ln for ln in self.lines if not ln.blank]
        after = {a.no: b for a, b in pairwise(content)}
        wrapped_heading_ends: set[int] = set()
        for line in self.lines:
            if line.no in wrapped_heading_ends:
                current.lines.append(line)  # the second half of a heading wrapped in two
                continue
            raw = self.raws[line.no - 1]
            name = None if is_table_row(raw) else heading_of(line.text)
            following = after.get(line.no)
            if not name and following and not line.blank and len(line.text) < 40:
                name = heading_of(f"{line.text} {following.text}")
                if name:
                    wrapped_heading_ends.add(following.no)
            if name and not (current.name == "outcomes" and name == "outcomes"):
                regions.append((current.name, current))
                current = Section(name, [], heading=line)
                if name == "outcomes":
                    current.lines.append(line)
                continue
            if current.name in ("purpose", "preamble") and self._field(line):
                if current.name == "purpose":
                    regions.append((current.name, current))
                    current = Section("preamble", [])
                continue
            if current.name in ("purpose", "preamble") and (is_table_row(raw) or self._starts_outcomes(line)):
                regions.append((current.name, current))
                current = Section("outcomes", [])
            current.lines.append(line)
        regions.append((current.name, current))
        return [(n, s) for n, s in regions if s.lines or s.heading]

    def _drop_running_headers(self) -> None:
        """A page header naming the unit ("Unit CU782 Plan, Organise and …") gives its code and
        title once and is furniture everywhere it repeats, including mid-table."""
        kept: list[Line] = []
        header: Line | None = None
        for line in self.lines:
            if header is not None and not line.blank and is_title_case(line.text) and len(line.text) < 40:
                self.data["title"] = f"{self.data['title']} {line.text}"
                self.locations["title"] = Span(header.no, line.no)
                header = None
                continue
            m = None if is_table_row(self.raws[line.no - 1]) else RUNNING_HEADER.match(line.text)
            if m and is_title_case(m.group(2)):
                self._code("", m.group(1), line)
                if not self.data["title"]:
                    self._set("title", m.group(2), line)
                    header = line
                continue
            if not line.blank:
                header = None
            kept.append(line)
        self.lines = kept

    @staticmethod
    def _starts_outcomes(line: Line) -> bool:
        return bool(re.match(r"^the learner will:?$", line.text, re.IGNORECASE))

    def _field(self, line: Line) -> bool:
        text = line.text
        for name, pattern in FIELD_LABELS:
            m = pattern.match(text)
            if not m:
                continue
            value = m.group("v").strip()
            if name == "code":
                self._code((m.group("issuer") or "").strip(), value, line)
            elif name in ("level", "credit_value", "guided_learning_hours"):
                self._set(name, int(value), line)
            else:
                self._set(name, value, line)
            return True
        return False

    def _set(self, name: str, value: Any, line: Line) -> None:
        if self.data[name] not in (None, "") and self.data[name] != value:
            self.warnings.append(f"Line {line.no}: a second {name.replace('_', ' ')} “{value}”; kept the first.")
            return
        self.data[name] = value
        self.locations[name] = Span(line.no, line.no)

    def _code(self, issuer: str, code: str, line: Line) -> None:
        codes = self.data["codes"]
        if any(c["code"] == code and c["issuer"] == issuer for c in codes):
            return
        self.locations[f"codes.{len(codes)}"] = Span(line.no, line.no)
        codes.append({"issuer": issuer, "code": code, "source": self.source_name})

    # -- each region --------------------------------------------------------------------------

    def _read_preamble(self, section: Section) -> None:
        content = [ln for ln in self.lines if not ln.blank]
        before = {b.no: a for a, b in pairwise(content)}
        for line in section.lines:
            if line.blank or is_furniture(line.text):
                continue
            title = self.locations.get("title")
            previous = before.get(line.no)
            if title and previous and previous.no == title.end and line.text[0].islower():
                self.data["title"] = f"{self.data['title']} {line.text}"  # a title wrapped onto a second line
                self.locations["title"] = Span(title.start, line.no)
                continue
            self.warnings.append(f"Line {line.no}: “{line.text}” is not part of any field; not placed.")

    def _read_purpose(self, section: Section) -> None:
        paras = paragraphs(section.lines)
        if paras:
            self.data["purpose"] = "\n\n".join(p.text for p in paras)
            self.locations["purpose"] = Span(paras[0].first, paras[-1].last)

    def _read_outcomes(self, section: Section) -> None:
        words = re.findall(r"[\w’'/-]+", " ".join(ln.text for ln in self.lines).lower())
        table = OutcomesTable(section.lines, self.raws, words)
        table.parse()
        self.warnings += table.warnings
        self.errors += table.errors
        for i, outcome in enumerate(table.outcomes):
            self.data["outcomes"].append(self._outcome(i, outcome, table.notes_kind))

    def _outcome(self, i: int, outcome: Outcome, notes_kind: str) -> dict[str, Any]:
        text = outcome.item.text
        self.locations[f"outcomes.{i}.text"] = outcome.item.span
        kind = "knowledge" if KNOWLEDGE_OUTCOME.match(text) else "competence"
        criteria = []
        for j, criterion in enumerate(outcome.criteria):
            self.locations[f"outcomes.{i}.criteria.{j}.text"] = criterion.item.span
            criteria.append({"number": criterion.number, "text": criterion.item.text, "guidance": ""})
        knowledge: list[dict[str, Any]] = []
        has_headings = any(kind_ == "heading" for kind_, _ in outcome.notes)
        if outcome.notes and (notes_kind == "knowledge" or (has_headings and notes_kind != "guidance")):
            knowledge = knowledge_sections(outcome.notes)
            first = min(item.first for _, item in outcome.notes)
            last = max(item.last for _, item in outcome.notes)
            self.locations[f"outcomes.{i}.knowledge"] = Span(first, last)
        elif outcome.notes:
            placed, warnings = criterion_guidance(outcome)
            self.warnings += warnings
            for j, item in placed.items():
                criteria[j]["guidance"] = item.text
                self.locations[f"outcomes.{i}.criteria.{j}.guidance"] = item.span
        return {"number": outcome.number, "text": text, "kind": kind, "knowledge": knowledge, "criteria": criteria}

    def _read_assessment(self, section: Section) -> None:
        self._list("assessment_notes", section)

    def _read_assessment_guidance(self, section: Section) -> None:
        self._list("assessment_guidance", section)

    def _list(self, name: str, section: Section) -> None:
        for i, para in enumerate(paragraphs(section.lines)):
            self.data[name].append(para.text)
            self.locations[f"{name}.{i}"] = Span(para.first, para.last)

    def _read_evidence(self, section: Section) -> None:
        requirements, locations, warnings, errors = evidence_requirements(section.lines)
        self.data["evidence_requirements"] = requirements
        self.locations.update(locations)
        self.warnings += warnings
        self.errors += errors

    def _read_nos(self, section: Section) -> None:
        statement, standards, locations, warnings = nos(section.lines)
        self.data["nos_statement"] = statement
        self.data["nos_standards"] = standards
        self.locations.update(locations)
        self.warnings += warnings

    def _read_additional(self, section: Section) -> None:
        paras = paragraphs(section.lines)
        if paras:
            self.data["additional_information"] = "\n\n".join(p.text for p in paras)
            self.locations["additional_information"] = Span(paras[0].first, paras[-1].last)


def empty_unit() -> dict[str, Any]:
    return {
        "title": "",
        "level": None,
        "credit_value": None,
        "guided_learning_hours": None,
        "reference_number": "",
        "codes": [],
        "purpose": "",
        "assessment_notes": [],
        "assessment_guidance": [],
        "nos_statement": "",
        "nos_standards": [],
        "additional_information": "",
        "real_work_only": False,
        "simulation_allowed": None,
        "sufficient_period_required": False,
        "outcomes": [],
        "evidence_requirements": [],
        "learner_guidance": [],
    }


__all__ = ["parse_text", "squash"]
