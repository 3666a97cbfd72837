"""The outcomes table's third column: knowledge notes grouped under their headings, or guidance
paragraphs that belong to particular criteria."""

import re
from typing import Any

from units.importer.table import Item, Outcome

# Words too common to say which criterion a guidance note is about.
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "both", "by", "can", "for", "from", "how", "in", "is", "it",
    "its", "may", "of", "on", "or", "should", "such", "that", "the", "their", "this", "to", "used", "using",
    "which", "will", "with",
})  # fmt: skip
DEFAULT_HEADING = "Knowledge, understanding and skills"


def knowledge_sections(notes: list[tuple[str, Item]]) -> list[dict[str, Any]]:
    """Headings open sections; paragraphs are points; a bullet belongs to the point before it when
    that point introduces a list ("eg:"), and is a point of its own otherwise."""
    sections: list[dict[str, Any]] = []
    for kind, item in notes:
        if kind == "heading" or not sections:
            sections.append({"heading": item.text if kind == "heading" else DEFAULT_HEADING, "points": []})
            if kind == "heading":
                continue
        points = sections[-1]["points"]
        if kind == "bullet" and points and points[-1]["text"].endswith(":"):
            points[-1]["bullets"].append(item.text)
        else:
            points.append({"text": item.text, "bullets": []})
    return [s for s in sections if s["points"]]


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP}


def criterion_guidance(outcome: Outcome) -> tuple[dict[int, Item], list[str]]:
    """Give each guidance paragraph to a criterion. The column keeps the criteria's order, so
    this is the in-order pairing that shares the most words."""
    paras = [item for _, item in outcome.notes]
    criteria = [c.item.text for c in outcome.criteria]
    n, m = len(paras), len(criteria)
    warnings: list[str] = []
    if n > m:
        extra = paras[m - 1 :]
        merged = Item(" ".join(p.text for p in extra), extra[0].first, extra[-1].last)
        paras = [*paras[: m - 1], merged]
        warnings.append(
            f"Lines {merged.first}–{merged.last}: more guidance paragraphs than criteria in outcome "
            f"{outcome.number}; the last ones were joined."
        )
        n = len(paras)
    score = [[len(_words(p.text) & _words(c)) for c in criteria] for p in paras]
    # best[i][j]: the best total pairing paragraphs i.. with criteria j..
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        best[i][m] = -(10**6)
        for j in range(m - 1, -1, -1):
            best[i][j] = max(best[i][j + 1], score[i][j] + best[i + 1][j + 1])
    placed: dict[int, Item] = {}
    j = 0
    for i, para in enumerate(paras):
        while best[i][j] != score[i][j] + best[i + 1][j + 1]:
            j += 1
        placed[j] = para
        if score[i][j] == 0:
            warnings.append(
                f"Lines {para.first}–{para.last}: guidance “{para.text[:60]}” shares no words with criterion "
                f"{outcome.criteria[j].number}; check where it belongs."
            )
        j += 1
    return placed, warnings
