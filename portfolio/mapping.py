"""The mapping form: every criterion and evidence-requirement item of the portfolio's units.

Field names carry public UUIDs: `claim-<criterion>` (checkbox), `account-<criterion>` (text) and
`item-<requirement item>` (checkbox). Unknown UUIDs in a post are ignored, never looked up
elsewhere, so a post cannot reach another unit's criteria.
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.http import QueryDict

from portfolio.models import Enrolment, EvidenceVersion
from portfolio.services.evidence import simulation_refusal
from units.models import AssessmentCriterion, EvidenceRequirement, EvidenceRequirementItem, LearningOutcome, Unit


@dataclass
class Selection:
    accounts: dict[str, str] = field(default_factory=dict)  # criterion uuid -> account
    items: set[str] = field(default_factory=set)  # item uuids


def units_for_mapping(enrolment: Enrolment) -> list[Unit]:
    return list(
        Unit.objects.filter(enrolled_units__enrolment=enrolment)
        .order_by("title")
        .prefetch_related(
            Prefetch("outcomes", queryset=LearningOutcome.objects.prefetch_related("criteria")),
            Prefetch("evidence_requirements", queryset=EvidenceRequirement.objects.prefetch_related("items")),
        )
    )


def _criteria(units: list[Unit]) -> dict[str, AssessmentCriterion]:
    return {str(c.uuid): c for u in units for o in u.outcomes.all() for c in o.criteria.all()}


def _items(units: list[Unit]) -> dict[str, EvidenceRequirementItem]:
    return {str(i.uuid): i for u in units for r in u.evidence_requirements.all() for i in r.items.all()}


def selection_from_post(post: QueryDict) -> Selection:
    selection = Selection()
    for key in post:
        if key.startswith("claim-"):
            uuid = key.removeprefix("claim-")
            selection.accounts[uuid] = post.get(f"account-{uuid}", "")
        elif key.startswith("item-"):
            selection.items.add(key.removeprefix("item-"))
    return selection


def selection_from_version(version: EvidenceVersion) -> Selection:
    return Selection(
        accounts={str(u): a for u, a in version.claims.values_list("criterion__uuid", "account")},
        items={str(u) for u in version.coverage.values_list("item__uuid", flat=True)},
    )


def read_mapping(
    post: QueryDict, units: list[Unit]
) -> tuple[dict[AssessmentCriterion, str], list[EvidenceRequirementItem]]:
    selection = selection_from_post(post)
    criteria, items = _criteria(units), _items(units)
    accounts = {criteria[u]: a for u, a in selection.accounts.items() if u in criteria}
    return accounts, [items[u] for u in sorted(selection.items) if u in items]


@dataclass
class CriterionRow:
    criterion: AssessmentCriterion
    checked: bool
    account: str
    errors: list[str]
    refusal: str | None  # why this evidence's method cannot claim it


def mapping_rows(
    units: list[Unit], method: str, selection: Selection, errors: dict[str, list[str]]
) -> list[dict[str, object]]:
    rows = []
    for unit in units:
        outcomes = []
        for outcome in unit.outcomes.all():
            criteria = []
            for criterion in outcome.criteria.all():
                key = str(criterion.uuid)
                criteria.append(
                    CriterionRow(
                        criterion=criterion,
                        checked=key in selection.accounts,
                        account=selection.accounts.get(key, ""),
                        errors=errors.get(f"account-{key}", []),
                        refusal=simulation_refusal(method, criterion),
                    )
                )
            outcomes.append({"outcome": outcome, "criteria": criteria})
        requirements = [
            {"requirement": r, "items": [(i, str(i.uuid) in selection.items) for i in r.items.all()]}
            for r in unit.evidence_requirements.all()
            if r.items.all()
        ]
        rows.append({"unit": unit, "outcomes": outcomes, "requirements": requirements})
    return rows
