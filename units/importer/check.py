"""What stops a unit from being published as it stands: numbering gaps, duplicates, outcomes
without criteria. Run on the parsed unit and again after every correction."""

from collections.abc import Callable
from typing import Any


def _gaps(numbers: list[int], name: Callable[[int], str]) -> list[str]:
    found = []
    seen: set[int] = set()
    for n in numbers:
        if n in seen:
            found.append(f"{name(n)} appears twice.")
        seen.add(n)
    found += [f"{name(n)} is missing." for n in range(1, max(numbers, default=0) + 1) if n not in seen]
    return found


def problems(data: dict[str, Any]) -> list[str]:
    found: list[str] = []
    outcomes = data.get("outcomes") or []
    if not outcomes:
        found.append("No learning outcomes were found.")
    found += _gaps([o["number"] for o in outcomes], lambda n: f"Learning outcome {n}")
    for o in outcomes:
        if not o["text"].strip():
            found.append(f"Learning outcome {o['number']} has no text.")
        if not o["criteria"]:
            found.append(f"Learning outcome {o['number']} has no assessment criteria.")
        ordinals = []
        for c in o["criteria"]:
            head, _, tail = c["number"].partition(".")
            if head != str(o["number"]):
                found.append(f"Criterion {c['number']} is listed under learning outcome {o['number']}.")
            ordinals.append(int(tail) if tail.isdigit() else 0)
        found += _gaps(ordinals, lambda n, lo=o["number"]: f"Criterion {lo}.{n}")
    requirements = data.get("evidence_requirements") or []
    found += _gaps([r["number"] for r in requirements], lambda n: f"Evidence requirement {n}")
    return found
