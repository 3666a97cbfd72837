"""What changed between two versions of a unit, criterion by criterion.

Outcomes and evidence requirements are matched by number, criteria by their number ("2.3") and
requirement items by letter: the awarding body's numbering is what people refer to, so "2.3
changed" means what an assessor expects it to mean. Both units are read in a fixed number of
queries, however many criteria they have.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from django.db.models import Prefetch

from units.models import AssessmentCriterion, EvidenceRequirement, LearningOutcome, Unit
from units.specs import UnitSpec


class Status(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"

    @property
    def label(self) -> str:
        return self.value.capitalize()


def _status(old: object, new: object, same: bool) -> Status:
    if old is None:
        return Status.ADDED
    if new is None:
        return Status.REMOVED
    return Status.UNCHANGED if same else Status.CHANGED


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str

    @property
    def status(self) -> Status:
        return Status.UNCHANGED if self.old == self.new else Status.CHANGED


@dataclass(frozen=True)
class CriterionChange:
    number: str
    status: Status
    old_text: str | None
    new_text: str | None
    old_guidance: str | None
    new_guidance: str | None

    @property
    def text_changed(self) -> bool:
        return self.status == Status.CHANGED and self.old_text != self.new_text

    @property
    def guidance_changed(self) -> bool:
        return self.status == Status.CHANGED and self.old_guidance != self.new_guidance


@dataclass(frozen=True)
class OutcomeChange:
    number: int
    status: Status  # of the outcome's own wording and kind; its criteria carry their own
    old_text: str | None
    new_text: str | None
    old_kind: str | None
    new_kind: str | None
    criteria: list[CriterionChange] = field(default_factory=list)

    @property
    def kind_changed(self) -> bool:
        return self.status == Status.CHANGED and self.old_kind != self.new_kind

    @property
    def text_changed(self) -> bool:
        return self.status == Status.CHANGED and self.old_text != self.new_text

    @property
    def touched(self) -> bool:
        """The outcome or any of its criteria changed."""
        return self.status != Status.UNCHANGED or any(c.status != Status.UNCHANGED for c in self.criteria)


@dataclass(frozen=True)
class ItemChange:
    letter: str
    status: Status
    old_text: str | None
    new_text: str | None


@dataclass(frozen=True)
class RequirementChange:
    number: int
    status: Status
    old_text: str | None
    new_text: str | None
    items: list[ItemChange] = field(default_factory=list)

    @property
    def touched(self) -> bool:
        return self.status != Status.UNCHANGED or any(i.status != Status.UNCHANGED for i in self.items)


@dataclass(frozen=True)
class UnitDiff:
    old: Unit
    new: Unit
    fields: list[FieldChange]
    outcomes: list[OutcomeChange]
    requirements: list[RequirementChange]

    @property
    def changed_fields(self) -> list[FieldChange]:
        return [f for f in self.fields if f.status == Status.CHANGED]

    @property
    def criteria_counts(self) -> dict[str, int]:
        """How many criteria were added, removed, changed and left alone: for the summary line."""
        counts = dict.fromkeys(Status, 0)
        for outcome in self.outcomes:
            for criterion in outcome.criteria:
                counts[criterion.status] += 1
        return {status.value: n for status, n in counts.items()}

    @property
    def has_changes(self) -> bool:
        return bool(
            self.changed_fields or any(o.touched for o in self.outcomes) or any(r.touched for r in self.requirements)
        )


K = TypeVar("K")
T = TypeVar("T")


def _pairs(old: Iterable[T], new: Iterable[T], key: Callable[[T], K], order: Callable[[K], Any]) -> list[tuple]:
    """(old, new) per key in both lists, either side None where it is missing, in natural order."""
    before = {key(x): x for x in old}
    after = {key(x): x for x in new}
    return [(k, before.get(k), after.get(k)) for k in sorted(before.keys() | after.keys(), key=order)]


def _ordinal(number: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in number.split("."))


def _criteria(old: LearningOutcome | None, new: LearningOutcome | None) -> list[CriterionChange]:
    changes = []
    old_criteria = old.criteria.all() if old else []
    new_criteria = new.criteria.all() if new else []
    for number, a, b in _pairs(old_criteria, new_criteria, key=lambda c: c.number, order=_ordinal):
        same = a is not None and b is not None and (a.text, a.guidance) == (b.text, b.guidance)
        changes.append(
            CriterionChange(
                number=number,
                status=_status(a, b, same),
                old_text=a.text if a else None,
                new_text=b.text if b else None,
                old_guidance=a.guidance if a else None,
                new_guidance=b.guidance if b else None,
            )
        )
    return changes


def _outcomes(old: Unit, new: Unit) -> list[OutcomeChange]:
    changes = []
    for number, a, b in _pairs(old.outcomes.all(), new.outcomes.all(), key=lambda o: o.number, order=int):
        same = a is not None and b is not None and (a.text, a.kind) == (b.text, b.kind)
        changes.append(
            OutcomeChange(
                number=number,
                status=_status(a, b, same),
                old_text=a.text if a else None,
                new_text=b.text if b else None,
                old_kind=a.get_kind_display() if a else None,
                new_kind=b.get_kind_display() if b else None,
                criteria=_criteria(a, b),
            )
        )
    return changes


def _requirements(old: Unit, new: Unit) -> list[RequirementChange]:
    changes = []
    pairs = _pairs(old.evidence_requirements.all(), new.evidence_requirements.all(), key=lambda r: r.number, order=int)
    for number, a, b in pairs:
        items = []
        old_items = a.items.all() if a else []
        new_items = b.items.all() if b else []
        for letter, x, y in _pairs(old_items, new_items, key=lambda i: i.letter, order=str):
            same = x is not None and y is not None and x.text == y.text
            items.append(ItemChange(letter, _status(x, y, same), x.text if x else None, y.text if y else None))
        same = a is not None and b is not None and a.text == b.text
        changes.append(
            RequirementChange(number, _status(a, b, same), a.text if a else None, b.text if b else None, items)
        )
    return changes


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _simulation(value: bool | None) -> str:
    return "Not stated" if value is None else ("Allowed" if value else "Not allowed")


def _scalars(unit: Unit) -> list[tuple[str, str]]:
    codes = ", ".join(f"{c.issuer} {c.code}".strip() for c in unit.codes.all())
    standards = "; ".join(f"{n.code} {n.title}" for n in unit.nos_standards.all())
    return [
        ("Title", unit.title),
        ("Level", str(unit.level)),
        ("Credit value", str(unit.credit_value)),
        ("Guided learning hours", str(unit.guided_learning_hours)),
        ("Unit reference number", unit.reference_number),
        ("Unit numbers", codes),
        ("Purpose and aim", unit.purpose),
        ("Assessment", "\n\n".join(unit.assessment_notes)),
        ("Guidance on assessment", "\n\n".join(unit.assessment_guidance)),
        ("NOS mapping statement", unit.nos_statement),
        ("NOS standards", standards),
        ("Additional information", unit.additional_information),
        ("Evidence from real work only", _yes_no(unit.real_work_only)),
        ("Simulation for performance evidence", _simulation(unit.simulation_allowed)),
        ("Evidence over a sufficient period", _yes_no(unit.sufficient_period_required)),
    ]


def _diff_queryset():
    return Unit.objects.prefetch_related(
        "codes",
        "nos_standards",
        Prefetch(
            "outcomes",
            queryset=LearningOutcome.objects.order_by("number").prefetch_related(
                Prefetch("criteria", queryset=AssessmentCriterion.objects.order_by("ordinal"))
            ),
        ),
        Prefetch("evidence_requirements", queryset=EvidenceRequirement.objects.prefetch_related("items")),
    )


def unit_diff(old: Unit, new: Unit) -> UnitDiff:
    """`new` against `old`: every field, outcome, criterion, requirement and item, each with its status."""
    units = {u.pk: u for u in _diff_queryset().filter(pk__in=[old.pk, new.pk])}
    old, new = units[old.pk], units[new.pk]
    fields = [FieldChange(label, a, b) for (label, a), (_, b) in zip(_scalars(old), _scalars(new), strict=True)]
    return UnitDiff(old=old, new=new, fields=fields, outcomes=_outcomes(old, new), requirements=_requirements(old, new))


def previous_version(unit: Unit) -> Unit | None:
    """The version published before `unit`, if any."""
    return Unit.objects.filter(key=unit.key, version__lt=unit.version).order_by("-version").first()


def _counted(counts: dict[str, int], what: str, plural: str) -> list[str]:
    return [f"{n} {what if n == 1 else plural} {status}" for status, n in counts.items() if n]


def _tally(old: dict[Any, Any], new: dict[Any, Any]) -> dict[str, int]:
    counts = {"added": 0, "removed": 0, "changed": 0}
    for key in old.keys() | new.keys():
        if key not in old:
            counts["added"] += 1
        elif key not in new:
            counts["removed"] += 1
        elif old[key] != new[key]:
            counts["changed"] += 1
    return counts


SPEC_DETAILS = {
    "title": "title",
    "level": "level",
    "credit_value": "credit value",
    "guided_learning_hours": "guided learning hours",
    "reference_number": "unit reference number",
    "codes": "unit numbers",
    "purpose": "purpose and aim",
    "assessment_notes": "assessment notes",
    "assessment_guidance": "guidance on assessment",
    "nos_statement": "NOS mapping statement",
    "nos_standards": "NOS standards",
    "additional_information": "additional information",
    "real_work_only": "real-work rule",
    "simulation_allowed": "simulation rule",
    "sufficient_period_required": "period-of-time rule",
    "learner_guidance": "guidance for learners",
}


def spec_change_summary(old: UnitSpec, new: UnitSpec) -> list[str]:
    """What publishing `new` over `old` changes, in a few phrases (for the confirmation page,
    before there is a second Unit to compare in full)."""
    a, b = old.model_dump(mode="json"), new.model_dump(mode="json")
    phrases = []
    details = [label for name, label in SPEC_DETAILS.items() if a[name] != b[name]]
    if details:
        phrases.append("changed: " + ", ".join(details))
    outcomes_a = {o["number"]: (o["text"], o["kind"], o["knowledge"]) for o in a["outcomes"]}
    outcomes_b = {o["number"]: (o["text"], o["kind"], o["knowledge"]) for o in b["outcomes"]}
    phrases += _counted(_tally(outcomes_a, outcomes_b), "learning outcome", "learning outcomes")
    criteria_a = {c["number"]: c for o in a["outcomes"] for c in o["criteria"]}
    criteria_b = {c["number"]: c for o in b["outcomes"] for c in o["criteria"]}
    phrases += _counted(_tally(criteria_a, criteria_b), "assessment criterion", "assessment criteria")
    requirements_a = {r["number"]: r for r in a["evidence_requirements"]}
    requirements_b = {r["number"]: r for r in b["evidence_requirements"]}
    phrases += _counted(_tally(requirements_a, requirements_b), "evidence requirement", "evidence requirements")
    return phrases
