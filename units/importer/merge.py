"""Several renderings of one unit, merged into one specification.

The first source to give a field gives its wording; every later source that gives it too must
say the same, up to rendering noise (case, a closing full stop, quote and dash styles, spacing).
Anything else is a conflict, reported with both wordings: the merge never picks between two
different texts.
"""

import re
from typing import Any

from units.importer.result import ImportResult
from units.importer.sections import flags

SCALARS = [
    "title",
    "level",
    "credit_value",
    "guided_learning_hours",
    "reference_number",
    "purpose",
    "nos_statement",
    "additional_information",
]
LISTS = ["assessment_notes", "assessment_guidance", "nos_standards", "evidence_requirements"]


def comparable(value: Any) -> Any:
    """A value with rendering noise taken out, for deciding whether two sources agree."""
    if isinstance(value, str):
        text = value.casefold()
        text = re.sub(r"[‘’'`´“”\"]", "'", text)
        text = re.sub(r"\s*[-‐‑–—]\s*", "-", text)
        text = re.sub(r"\s+", " ", text).strip()
        return text.rstrip(".").strip()
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k != "source"}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


class _Merge:
    def __init__(self) -> None:
        self.conflicts: list[str] = []

    def pick(self, path: str, values: list[tuple[str, Any]]) -> Any:
        given = [(source, v) for source, v in values if not _empty(v)]
        if not given:
            return values[0][1] if values else None
        first_source, first = given[0]
        for source, value in given[1:]:
            if comparable(value) != comparable(first):
                self.conflicts.append(f"{path}: {first_source} says {_show(first)}, {source} says {_show(value)}")
        return first


def _show(value: Any) -> str:
    return f"“{value[:120]}”" if isinstance(value, str) else repr(value)


def merge(parts: list[tuple[str, ImportResult]]) -> tuple[dict[str, Any], list[str]]:
    """(source name, parsed unit) in order of precedence -> (merged unit, conflicts)."""
    m = _Merge()
    data: dict[str, Any] = {}
    for name in SCALARS + LISTS:
        data[name] = m.pick(name, [(s, r.data[name]) for s, r in parts])
    codes: list[dict[str, str]] = []
    for source, result in parts:
        for code in result.data["codes"]:
            if not any(c["issuer"] == code["issuer"] and c["code"] == code["code"] for c in codes):
                codes.append({"issuer": code["issuer"], "code": code["code"], "source": code["source"] or source})
    data["codes"] = sorted(codes, key=lambda c: not c["issuer"])  # the awarding body's own numbers first
    data["outcomes"] = _outcomes(m, [(s, r.data["outcomes"]) for s, r in parts if r.data["outcomes"]])
    data.update(flags(data["evidence_requirements"]))
    data["learner_guidance"] = [g for _, r in parts for g in r.data["learner_guidance"]]
    return data, m.conflicts


def _outcomes(m: _Merge, sources: list[tuple[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    numbers = sorted({o["number"] for _, outcomes in sources for o in outcomes})
    merged = []
    for number in numbers:
        found = [(s, next((o for o in outcomes if o["number"] == number), None)) for s, outcomes in sources]
        for source, outcome in found:
            if outcome is None:
                m.conflicts.append(f"outcome {number}: {source} does not have it")
        present = [(s, o) for s, o in found if o is not None]
        path = f"outcome {number}"
        outcome = {
            "number": number,
            "text": m.pick(f"{path} text", [(s, o["text"]) for s, o in present]),
            "kind": m.pick(f"{path} kind", [(s, o["kind"]) for s, o in present]),
            "knowledge": m.pick(f"{path} knowledge", [(s, o["knowledge"]) for s, o in present]),
            "criteria": [],
        }
        criterion_numbers = sorted(
            {c["number"] for _, o in present for c in o["criteria"]}, key=lambda n: int(n.split(".")[1])
        )
        for cn in criterion_numbers:
            given = [(s, next((c for c in o["criteria"] if c["number"] == cn), None)) for s, o in present]
            for source, criterion in given:
                if criterion is None:
                    m.conflicts.append(f"criterion {cn}: {source} does not have it")
            given = [(s, c) for s, c in given if c is not None]
            outcome["criteria"].append(
                {
                    "number": cn,
                    "text": m.pick(f"criterion {cn} text", [(s, c["text"]) for s, c in given]),
                    "guidance": m.pick(f"criterion {cn} guidance", [(s, c["guidance"]) for s, c in given]) or "",
                }
            )
        merged.append(outcome)
    return merged
