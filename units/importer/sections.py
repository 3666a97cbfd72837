"""The sections after the outcomes table: assessment notes, evidence requirements, NOS mapping."""

import re
from dataclasses import dataclass, field
from typing import Any

from units.importer.lines import Line, is_furniture
from units.importer.result import Span
from units.importer.table import continues

REQUIREMENT = re.compile(r"^(\d{1,2})[.)]\s+(\S.*)$")
LETTERED = re.compile(r"^\(?([a-z])[).]?\s+(\S.*)$")
NOS_CODE = re.compile(r"^(?=[A-Z0-9]*\d)([A-Z][A-Z0-9]{4,11})(?:\s+(\S.*))?$")
NOS_TABLE_HEADER = re.compile(
    r"^(?:Occupational standards(?: Unit)?|(?:Unit )?number|Title|NOS code|Code)$", re.IGNORECASE
)


@dataclass
class Section:
    name: str
    lines: list[Line]
    heading: Line | None = None


@dataclass
class Para:
    text: str
    first: int
    last: int
    lines: list[Line] = field(default_factory=list)


def _content(lines: list[Line]) -> list[Line]:
    return [ln for ln in lines if not ln.blank and not is_furniture(ln.text)]


def paragraphs(lines: list[Line]) -> list[Para]:
    """Lines joined into paragraphs. A new paragraph starts at a bullet, or where a sentence
    ends at a line's end, a blank line follows and the next line opens with a capital. A page
    footer between two lines is not a paragraph break."""
    paras: list[Para] = []
    gap = page_break = False
    for line in lines:
        if line.blank:
            gap = not page_break
            continue
        if is_furniture(line.text):
            gap, page_break = False, True
            continue
        previous = paras[-1] if paras else None
        ends_sentence = previous is not None and previous.text.endswith((".", "!", "?", ":"))
        if previous is None or line.bullet or (gap and ends_sentence and line.text[:1].isupper()):
            paras.append(Para(line.text, line.no, line.no, [line]))
        else:
            previous.text = f"{previous.text} {line.text}"
            previous.last = line.no
            previous.lines.append(line)
        gap = page_break = False
    return paras


def evidence_requirements(
    lines: list[Line],
) -> tuple[list[dict[str, Any]], dict[str, Span], list[str], list[str]]:
    requirements: list[dict[str, Any]] = []
    spans: list[list[int]] = []
    item_spans: list[list[list[int]]] = []
    warnings: list[str] = []
    for line in _content(lines):
        m = REQUIREMENT.match(line.text)
        if m and not line.bullet:
            requirements.append({"number": int(m.group(1)), "text": m.group(2), "items": []})
            spans.append([line.no, line.no])
            item_spans.append([])
            continue
        if not requirements:
            warnings.append(f"Line {line.no}: “{line.text}” comes before the first evidence requirement; not placed.")
            continue
        current = requirements[-1]
        items = current["items"]
        expected = chr(ord("a") + len(items))
        lettered = LETTERED.match(line.text)
        if lettered and lettered.group(1) == expected and (line.indented or items or current["text"].endswith(":")):
            items.append({"letter": expected, "text": lettered.group(2)})
            item_spans[-1].append([line.no, line.no])
        elif line.bullet:
            items.append({"letter": expected, "text": line.text})
            item_spans[-1].append([line.no, line.no])
        elif items and continues(line.text):
            items[-1]["text"] += f" {line.text}"
            item_spans[-1][-1][1] = line.no
        elif items:
            warnings.append(
                f"Line {line.no}: “{line.text}” follows the lettered items of requirement "
                f"{current['number']}; not placed."
            )
        else:
            current["text"] += f" {line.text}"
            spans[-1][1] = line.no
    locations: dict[str, Span] = {}
    for i, (first, last) in enumerate(spans):
        locations[f"evidence_requirements.{i}.text"] = Span(first, last)
        for j, (a, b) in enumerate(item_spans[i]):
            locations[f"evidence_requirements.{i}.items.{j}.text"] = Span(a, b)
    return requirements, locations, warnings, []


def flags(requirements: list[dict[str, Any]]) -> dict[str, Any]:
    """What the evidence requirements say about where evidence may come from."""
    text = " ".join([r["text"] for r in requirements] + [i["text"] for r in requirements for i in r["items"]]).lower()
    if re.search(r"simulation (is|will be) not (allowed|permitted|acceptable)|simulation is forbidden", text):
        simulation = False
    elif re.search(r"simulation (is|may be) (allowed|permitted|acceptable)", text):
        simulation = True
    else:
        simulation = None
    return {
        "real_work_only": bool(re.search(r"\breal job\b|work placement is not permissible", text)),
        "simulation_allowed": simulation,
        "sufficient_period_required": "sufficient period" in text,
    }


def nos(lines: list[Line]) -> tuple[str, list[dict[str, str]], dict[str, Span], list[str]]:
    """The mapping statement, then the table of standards: a suite, codes and titles, either a
    row per standard or (flattened) all the codes followed by all the titles."""
    content = _content(lines)
    table_at = next(
        (i for i, ln in enumerate(content) if NOS_TABLE_HEADER.match(ln.text) or NOS_CODE.match(ln.text)),
        len(content),
    )
    table_line = content[table_at].no if table_at < len(content) else None
    statement = paragraphs([ln for ln in lines if table_line is None or ln.no < table_line])
    locations: dict[str, Span] = {}
    if statement:
        locations["nos_statement"] = Span(statement[0].first, statement[-1].last)
    suite_parts: list[str] = []
    codes: list[tuple[str, str, int]] = []
    titles: list[list[Any]] = []
    for line in content[table_at:]:
        code = NOS_CODE.match(line.text)
        if code:
            codes.append((code.group(1), code.group(2) or "", line.no))
        elif NOS_TABLE_HEADER.match(line.text) and not codes:
            continue
        elif not codes:
            suite_parts.append(line.text)
        elif line.indented or line.bullet or not titles or not continues(line.text):
            titles.append([line.text, line.no])
        else:
            titles[-1][0] += f" {line.text}"
    warnings: list[str] = []
    untitled = [c for c in codes if not c[1]]
    if untitled and len(titles) != len(untitled):
        warnings.append(f"NOS table: {len(untitled)} codes but {len(titles)} titles; check the pairs.")
    suite = " ".join(suite_parts).rstrip(":").strip()
    standards = []
    pending = iter(titles)
    for i, (code, title, no) in enumerate(codes):
        if not title:
            title, _ = next(pending, ["", no])
        standards.append({"code": code, "title": title, "suite": suite})
        locations[f"nos_standards.{i}"] = Span(no, no)
    return "\n\n".join(p.text for p in statement), standards, locations, warnings
