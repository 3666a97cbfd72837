"""What the importer hands back: the unit as the fixture format describes it, where each field came
from, and everything it could not place."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    """Lines of the normalised source text (1-based, inclusive) that a field was read from."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"line {self.start}" if self.start == self.end else f"lines {self.start}–{self.end}"


@dataclass
class ImportResult:
    # The unit in the shape of a fixture file (fixtures/README.md), without `key`, `version` and
    # `sources`, which belong to whoever saves it. A field the document does not give is None (for
    # level, credit_value, guided_learning_hours) or empty.
    data: dict[str, Any]
    # Field path -> span: "title", "outcomes.0.text", "outcomes.0.criteria.2.text",
    # "outcomes.0.criteria.2.guidance", "evidence_requirements.3.items.1.text", "purpose", ...
    locations: dict[str, Span] = field(default_factory=dict)
    # Text it could not place, and placements it had to infer; each names the source lines.
    warnings: list[str] = field(default_factory=list)
    # Numbering gaps and duplicates, missing outcomes: the unit cannot be published as it stands.
    errors: list[str] = field(default_factory=list)
    # The normalised text whose lines the spans count.
    source_text: str = ""
