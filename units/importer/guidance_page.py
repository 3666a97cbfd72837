"""A revision or guidance page about a unit (seed 004's kind): no outcomes table, but headed
lists for learners (what assessors look for, tips, common mistakes, key terms). Each list becomes
the unit's learner guidance of that kind; everything else is reported as not placed."""

from typing import Any

from units.importer.lines import Line, is_furniture
from units.importer.result import ImportResult, Span
from units.importer.table import AC_START

GUIDANCE_HEADINGS = {
    "topic synopsis": "synopsis",
    "synopsis": "synopsis",
    "assessment criteria": "assessor_focus",
    "what assessors look for": "assessor_focus",
    "assessment guidance": "assessment_tip",
    "exam tips": "assessment_tip",
    "common mistakes": "common_mistake",
    "before you start": "prerequisite",
    "prerequisites": "prerequisite",
    "key terminology": "key_term",
    "key terms": "key_term",
}
OTHER_HEADINGS = {
    "key concepts",
    "learning objectives",
    "topic overview",
    "frequently asked questions",
    "key concepts & core principles",
    "exam tips & revision strategies",
    "common misconceptions & mistakes to avoid",
    "examiner marking points",
    "ready to learn?",
}


def _heading(line: Line) -> str | None:
    key = line.text.lower().rstrip(":")
    if line.bullet:
        return None
    if key in GUIDANCE_HEADINGS:
        return GUIDANCE_HEADINGS[key]
    return "" if key in OTHER_HEADINGS else None


def is_guidance_page(lines: list[Line]) -> bool:
    if any(AC_START.match(ln.text) for ln in lines):
        return False
    kinds = {_heading(ln) for ln in lines if not ln.blank}
    return len(kinds & set(GUIDANCE_HEADINGS.values())) >= 3


def _title(lines: list[Line]) -> Line | None:
    """The page's title line: a line standing alone that also opens the document's first line,
    where a web page's title and site name run together."""
    content = [ln for ln in lines if not ln.blank]
    if not content:
        return None
    first = content[0].text
    candidates = [ln for ln in content[1:] if first.startswith(ln.text) and len(ln.text) > 10]
    return max(candidates, key=lambda ln: len(ln.text), default=content[0])


def parse_guidance_page(lines: list[Line]) -> ImportResult:
    from units.importer.parse import empty_unit  # the one definition of an empty unit

    data: dict[str, Any] = empty_unit()
    locations: dict[str, Span] = {}
    unplaced: list[Line] = []
    title = _title(lines)
    if title:
        data["title"] = title.text
        locations["title"] = Span(title.no, title.no)
    sections: list[tuple[str | None, list[Line]]] = [(None, [])]
    for line in lines:
        if line.blank or is_furniture(line.text):
            continue
        kind = _heading(line)
        if kind is not None:
            sections.append((kind, []))
        else:
            sections[-1][1].append(line)
    guidance = data["learner_guidance"]
    taken_synopsis = False
    for kind, body in sections:
        bullets = [ln for ln in body if ln.bullet]
        if kind and bullets and kind != "synopsis":
            unplaced += [ln for ln in body if not ln.bullet][1:]  # the first is the list's subtitle
            for ln in bullets:
                locations[f"learner_guidance.{len(guidance)}"] = Span(ln.no, ln.no)
                guidance.append({"kind": kind, "text": ln.text})
        elif kind == "synopsis" and body and not taken_synopsis:
            taken_synopsis = True
            locations[f"learner_guidance.{len(guidance)}"] = Span(body[0].no, body[0].no)
            guidance.append({"kind": "synopsis", "text": body[0].text})
            unplaced += body[1:]
        else:
            unplaced += [ln for ln in body if ln is not title]
    warnings = [
        f"{str(Span(first.no, last.no)).capitalize()}: not placed: “{text[:80]}”"
        for first, last, text in _runs(unplaced)
    ]
    warnings.append("This is a guidance page, not a specification: it gives no outcomes or criteria.")
    return ImportResult(data, locations, warnings, [])


def _runs(lines: list[Line]) -> list[tuple[Line, Line, str]]:
    """Consecutive unplaced lines reported together."""
    runs: list[list[Line]] = []
    for ln in lines:
        if runs and ln.no - runs[-1][-1].no <= 2:
            runs[-1].append(ln)
        else:
            runs.append([ln])
    return [(run[0], run[-1], " ".join(ln.text for ln in run)) for run in runs]
