"""The specification file format (see fixtures/README.md), parsed and checked at the boundary.

The same structures describe a unit whether it comes from a fixture file or from the database, so
"is this file already loaded?" is a plain equality of two `UnitSpec` values.
"""

import json
import re
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

Text = Annotated[str, StringConstraints(min_length=1)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)]
Level = Annotated[int, Field(ge=1, le=8)]
Whole = Annotated[int, Field(ge=0)]

KNOWLEDGE_OUTCOME = re.compile(r"^\s*understand\b", re.IGNORECASE)


class SpecError(Exception):
    """A specification file that cannot be loaded; the message says where and why."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Spec):
    title: Text
    document: str = ""


class Code(_Spec):
    issuer: str
    code: Text
    source: str = ""


class NosRef(_Spec):
    code: Text
    title: Text
    suite: str = ""


class KnowledgePointSpec(_Spec):
    text: str
    bullets: tuple[Text, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.text and not self.bullets:
            raise ValueError("a knowledge point needs text or bullets")
        return self


class KnowledgeSectionSpec(_Spec):
    heading: Text
    points: tuple[KnowledgePointSpec, ...] = Field(min_length=1)


class CriterionSpec(_Spec):
    number: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*\.[1-9][0-9]*$")]
    text: Text
    guidance: str = ""


class OutcomeSpec(_Spec):
    number: Annotated[int, Field(ge=1)]
    text: Text
    kind: Literal["knowledge", "competence"]
    knowledge: tuple[KnowledgeSectionSpec, ...] = ()
    criteria: tuple[CriterionSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        expected_kind = "knowledge" if KNOWLEDGE_OUTCOME.match(self.text) else "competence"
        if self.kind != expected_kind:
            raise ValueError(
                f"outcome {self.number} is worded as a {expected_kind} outcome "
                f"({self.text[:40]!r}...) but its kind is {self.kind!r}"
            )
        for index, criterion in enumerate(self.criteria, start=1):
            expected = f"{self.number}.{index}"
            if criterion.number != expected:
                raise ValueError(
                    f"criteria of outcome {self.number} must be numbered {self.number}.1, "
                    f"{self.number}.2 ... without gaps or repeats: expected {expected}, found {criterion.number}"
                )
        return self


class RequirementItemSpec(_Spec):
    letter: Annotated[str, StringConstraints(pattern=r"^[a-z]$")]
    text: Text


class EvidenceRequirementSpec(_Spec):
    number: Annotated[int, Field(ge=1)]
    text: Text
    items: tuple[RequirementItemSpec, ...] = ()

    @model_validator(mode="after")
    def _letters_in_order(self) -> Self:
        for index, item in enumerate(self.items):
            expected = chr(ord("a") + index)
            if item.letter != expected:
                raise ValueError(
                    f"items of evidence requirement {self.number} must be lettered a, b, c ...: "
                    f"expected {expected}, found {item.letter}"
                )
        return self


class GuidanceSpec(_Spec):
    kind: Literal["synopsis", "assessor_focus", "assessment_tip", "common_mistake", "key_term", "prerequisite"]
    text: Text


def _numbered_from_one(numbers: list[int], what: str) -> None:
    expected = list(range(1, len(numbers) + 1))
    if numbers != expected:
        raise ValueError(f"{what} must be numbered 1, 2, 3 ... without gaps or repeats; found {numbers}")


class UnitSpec(_Spec):
    key: Key
    version: Annotated[int, Field(ge=1)]
    title: Text
    level: Level
    credit_value: Whole
    guided_learning_hours: Whole
    reference_number: str
    codes: tuple[Code, ...]
    purpose: str
    assessment_notes: tuple[Text, ...]
    assessment_guidance: tuple[Text, ...]
    nos_statement: str
    nos_standards: tuple[NosRef, ...]
    additional_information: str
    real_work_only: bool
    simulation_allowed: bool | None
    sufficient_period_required: bool
    outcomes: tuple[OutcomeSpec, ...] = Field(min_length=1)
    evidence_requirements: tuple[EvidenceRequirementSpec, ...]
    learner_guidance: tuple[GuidanceSpec, ...]
    sources: tuple[Source, ...]

    @model_validator(mode="after")
    def _numbering(self) -> Self:
        _numbered_from_one([o.number for o in self.outcomes], "learning outcomes")
        _numbered_from_one([r.number for r in self.evidence_requirements], "evidence requirements")
        return self


class UnitRef(_Spec):
    key: Key
    version: Annotated[int, Field(ge=1)]


class GroupSpec(_Spec):
    name: Text
    kind: Literal["mandatory", "optional"]
    minimum_credits: Whole | None
    units: tuple[UnitRef, ...]
    units_not_loaded: tuple[Text, ...]


class QualificationSpec(_Spec):
    key: Key
    title: Text
    awarding_body: Text
    level: Level
    framework: str
    minimum_credits: Whole | None
    overview: str
    key_concepts: tuple[Text, ...]
    groups: tuple[GroupSpec, ...]
    sources: tuple[Source, ...]


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in item["loc"]).lstrip(".")
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {where or '(top level)'}: {message}")
    return "\n".join(lines)


def read_spec_file(path: Path) -> UnitSpec | QualificationSpec:
    """Parse one fixture file; a unit has outcomes, a qualification has groups."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot be read: {exc}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, dict) or not ({"outcomes", "groups"} & data.keys()):
        raise SpecError(f"{path}: neither a unit (no 'outcomes') nor a qualification (no 'groups')")
    spec_type: type[UnitSpec] | type[QualificationSpec] = UnitSpec if "outcomes" in data else QualificationSpec
    try:
        return spec_type.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"{path}: not a valid {spec_type.__name__}:\n{_describe(exc)}") from None


def dump_spec(spec: UnitSpec | QualificationSpec) -> str:
    """The canonical file text: what `fixtures/` holds and what an export writes."""
    return json.dumps(spec.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
