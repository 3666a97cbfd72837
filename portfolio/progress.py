"""Where a portfolio stands: the state of every criterion, computed in a fixed number of queries.

A criterion takes the best state any claim gives it, in this order: met, awaiting a decision,
not yet met, claimed in a draft, not evidenced. A claim on a superseded version that was never
judged counts for nothing: the newer version replaced it before anyone looked. A requirement item
is covered only by submitted evidence, as sign-off requires; a draft's coverage is still a plan.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from django.db.models import OuterRef, Subquery

from assessments.models import Decision
from portfolio.models import Claim, EnrolledUnit, Enrolment, Evidence, EvidenceVersion, RequirementCoverage
from units.models import AssessmentCriterion, EvidenceRequirementItem, LearningOutcome, Unit


class State(Enum):
    # value: (rank, label, icon); a lower rank is better. Icons are decorative: the label is always shown.
    MET = (0, "Met", "✓")
    AWAITING = (1, "Awaiting decision", "◔")
    NOT_YET_MET = (2, "Not yet met", "↻")
    DRAFT = (3, "Claimed in a draft", "✎")
    NOT_EVIDENCED = (4, "Not yet evidenced", "○")

    @property
    def rank(self) -> int:
        return self.value[0]

    @property
    def label(self) -> str:
        return self.value[1]

    @property
    def icon(self) -> str:
        return self.value[2]

    @property
    def slug(self) -> str:
        return self.name.lower().replace("_", "-")


def claim_state(version_status: str, latest_outcome: str | None) -> State | None:
    if latest_outcome == Decision.Outcome.REMOVED:
        return None  # the assessor found the evidence does not show this criterion at all
    if latest_outcome == Decision.Outcome.MET:
        return State.MET
    if latest_outcome == Decision.Outcome.NOT_YET_MET:
        return State.NOT_YET_MET
    if version_status == EvidenceVersion.Status.SUBMITTED:
        return State.AWAITING
    if version_status == EvidenceVersion.Status.DRAFT:
        return State.DRAFT
    return None  # superseded before a decision


def best(states: Iterable[State]) -> State:
    return min(states, key=lambda s: s.rank, default=State.NOT_EVIDENCED)


@dataclass
class UnitProgress:
    unit: Unit
    criteria: dict[int, State] = field(default_factory=dict)  # criterion id -> state
    items_total: int = 0
    items_covered: int = 0

    @property
    def total(self) -> int:
        return len(self.criteria)

    def count(self, state: State) -> int:
        return sum(1 for s in self.criteria.values() if s is state)

    @property
    def segments(self) -> list[tuple[State, int, float]]:
        """(state, count, percent) for the progress bar, in rank order, including empty states."""
        total = self.total or 1
        return [(s, self.count(s), round(100 * self.count(s) / total, 1)) for s in State]

    @property
    def met(self) -> int:
        return self.count(State.MET)


def _claim_rows(enrolment_ids: list[int]) -> list[dict]:
    latest = Decision.objects.filter(claim=OuterRef("pk")).order_by("-decided_at", "-id").values("outcome")[:1]
    return list(
        Claim.objects.filter(version__evidence__enrolment_id__in=enrolment_ids)
        .annotate(latest_outcome=Subquery(latest))
        .values(
            "pk",
            "criterion_id",
            "version__status",
            "version__evidence_id",
            "version__evidence__enrolment_id",
            "latest_outcome",
        )
    )


def progress_for(enrolments: Iterable[Enrolment]) -> dict[int, list[UnitProgress]]:
    """Progress per enrolled unit for each enrolment, keyed by enrolment id (five queries in all)."""
    enrolment_ids = [e.pk for e in enrolments]
    enrolled = list(
        EnrolledUnit.objects.filter(enrolment_id__in=enrolment_ids).select_related("unit").order_by("unit__title")
    )
    unit_ids = {e.unit_id for e in enrolled}
    criteria_by_unit: dict[int, list[int]] = defaultdict(list)
    for criterion_id, unit_id in AssessmentCriterion.objects.filter(outcome__unit_id__in=unit_ids).values_list(
        "pk", "outcome__unit_id"
    ):
        criteria_by_unit[unit_id].append(criterion_id)
    items_by_unit: dict[int, set[int]] = defaultdict(set)
    for item_id, unit_id in EvidenceRequirementItem.objects.filter(requirement__unit_id__in=unit_ids).values_list(
        "pk", "requirement__unit_id"
    ):
        items_by_unit[unit_id].add(item_id)
    covered: dict[int, set[int]] = defaultdict(set)  # enrolment id -> item ids
    for enrolment_id, item_id in (
        RequirementCoverage.objects.filter(version__evidence__enrolment_id__in=enrolment_ids)
        .filter(version__status=EvidenceVersion.Status.SUBMITTED)
        .values_list("version__evidence__enrolment_id", "item_id")
    ):
        covered[enrolment_id].add(item_id)
    states: dict[tuple[int, int], list[State]] = defaultdict(list)  # (enrolment id, criterion id)
    for row in _claim_rows(enrolment_ids):
        if state := claim_state(row["version__status"], row["latest_outcome"]):
            states[(row["version__evidence__enrolment_id"], row["criterion_id"])].append(state)

    result: dict[int, list[UnitProgress]] = {pk: [] for pk in enrolment_ids}
    for entry in enrolled:
        items = items_by_unit[entry.unit_id]
        result[entry.enrolment_id].append(
            UnitProgress(
                unit=entry.unit,
                criteria={c: best(states[(entry.enrolment_id, c)]) for c in criteria_by_unit[entry.unit_id]},
                items_total=len(items),
                items_covered=len(items & covered[entry.enrolment_id]),
            )
        )
    return result


@dataclass
class GridRow:
    criterion: AssessmentCriterion
    state: State
    cells: list[State | None]  # one per evidence column; None where it makes no claim
    evidence: list[Evidence]  # the evidence that claims it


@dataclass
class TrackingGrid:
    unit: Unit
    outcomes: list[tuple[LearningOutcome, list[GridRow]]]
    columns: list[Evidence]
    uncovered_items: list[EvidenceRequirementItem]

    @property
    def gaps(self) -> list[GridRow]:
        """Criteria that nothing yet shows or awaits judgement on."""
        return [r for o in self.outcomes for r in o[1] if r.state not in (State.MET, State.AWAITING)]


def tracking_grid(enrolment: Enrolment, unit: Unit) -> TrackingGrid:
    """Criteria down, evidence across, for one unit of one portfolio (six queries)."""
    outcomes = list(LearningOutcome.objects.filter(unit=unit).prefetch_related("criteria"))
    rows = [
        r
        for r in _claim_rows([enrolment.pk])
        if r["criterion_id"] in {c.pk for o in outcomes for c in o.criteria.all()}
    ]
    column_ids = {r["version__evidence_id"] for r in rows}
    columns = list(
        Evidence.objects.filter(pk__in=column_ids).select_related("current_version").order_by("created_at", "pk")
    )
    position = {e.pk: i for i, e in enumerate(columns)}
    cell_states: dict[tuple[int, int], list[State]] = defaultdict(list)
    for row in rows:
        if state := claim_state(row["version__status"], row["latest_outcome"]):
            cell_states[(row["criterion_id"], row["version__evidence_id"])].append(state)

    grid_outcomes = []
    for outcome in outcomes:
        grid_rows = []
        for criterion in outcome.criteria.all():
            cells: list[State | None] = [None] * len(columns)
            for evidence in columns:
                if found := cell_states.get((criterion.pk, evidence.pk)):
                    cells[position[evidence.pk]] = best(found)
            claimed_by = [columns[i] for i, cell in enumerate(cells) if cell is not None]
            grid_rows.append(GridRow(criterion, best(c for c in cells if c is not None), cells, claimed_by))
        grid_outcomes.append((outcome, grid_rows))

    covered = set(
        RequirementCoverage.objects.filter(version__evidence__enrolment=enrolment, item__requirement__unit=unit)
        .filter(version__status=EvidenceVersion.Status.SUBMITTED)
        .values_list("item_id", flat=True)
    )
    items = EvidenceRequirementItem.objects.filter(requirement__unit=unit).select_related("requirement")
    return TrackingGrid(
        unit=unit,
        outcomes=grid_outcomes,
        columns=columns,
        uncovered_items=[i for i in items.order_by("requirement__number", "letter") if i.pk not in covered],
    )
