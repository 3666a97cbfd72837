"""Where a portfolio stands: the state of every criterion, computed in a fixed number of queries.

A criterion takes the best state any claim gives it, in this order: met, awaiting a decision,
not yet met, claimed in a draft, not evidenced. A claim on a superseded version that was never
judged counts for nothing: the newer version replaced it before anyone looked. A requirement item
is covered only by submitted evidence, as sign-off requires; a draft's coverage is still a plan.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

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

    @cached_property
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


# claim_state for every (version status, latest outcome): a list page reads thousands of claims, and a
# lookup costs a fraction of the call.
_CLAIM_STATES: dict[tuple[str, str | None], State | None] = {
    (status, outcome): claim_state(status, outcome)
    for status in EvidenceVersion.Status.values
    for outcome in [None, *Decision.Outcome.values]
}


def _best_states(rows: Iterable[tuple[int, str, int, int, str | None]]) -> dict[tuple[int, int], State]:
    """The best state of each (enrolment id, criterion id) that `_claim_rows` gives a state."""
    found: dict[tuple[int, int], State] = {}
    for criterion_id, status, _, enrolment_id, outcome in rows:
        state = _CLAIM_STATES[(status, outcome)]
        if state is not None:
            key = (enrolment_id, criterion_id)
            held = found.get(key)
            if held is None or state.rank < held.rank:
                found[key] = state
    return found


@dataclass
class UnitProgress:
    unit: Unit
    criteria: dict[int, State] = field(default_factory=dict)  # criterion id -> state
    items_total: int = 0
    items_covered: int = 0

    @property
    def total(self) -> int:
        return len(self.criteria)

    @cached_property
    def _counts(self) -> Counter[State]:
        # Built once: a page asks for the counts many times (bar, words, summary), never after a change.
        return Counter(self.criteria.values())

    def count(self, state: State) -> int:
        return self._counts[state]

    @property
    def segments(self) -> list[tuple[State, int, float]]:
        """(state, count, percent) for the progress bar, in rank order, including empty states."""
        total = self.total or 1
        return [(s, self.count(s), round(100 * self.count(s) / total, 1)) for s in State]

    @property
    def met(self) -> int:
        return self.count(State.MET)


def _claim_rows(enrolment_ids: list[int]) -> list[tuple[int, str, int, int, str | None]]:
    """Every claim of the portfolios with its version's status and its latest decision's outcome (one query).

    Tuples of (criterion id, version status, evidence id, enrolment id, latest outcome).
    """
    latest = Decision.objects.filter(claim=OuterRef("pk")).order_by("-decided_at", "-id").values("outcome")[:1]
    return list(
        Claim.objects.filter(version__evidence__enrolment_id__in=enrolment_ids)
        .annotate(latest_outcome=Subquery(latest))
        .order_by()
        .values_list(
            "criterion_id",
            "version__status",
            "version__evidence_id",
            "version__evidence__enrolment_id",
            "latest_outcome",
        )
    )


def _enrolled_units(enrolments: Sequence[Enrolment]) -> list[EnrolledUnit]:
    """The portfolios' units, each portfolio's by title: the ones the caller prefetched (as the list
    selectors do), or one query."""
    if enrolments and all("enrolled_units" in getattr(e, "_prefetched_objects_cache", {}) for e in enrolments):
        return [entry for e in enrolments for entry in e.enrolled_units.all()]  # ordered by unit title
    ids = [e.pk for e in enrolments]
    return list(EnrolledUnit.objects.filter(enrolment_id__in=ids).select_related("unit").order_by("unit__title"))


def progress_for(enrolments: Iterable[Enrolment]) -> dict[int, list[UnitProgress]]:
    """Progress per enrolled unit for each enrolment, keyed by enrolment id (five queries in all; four when
    the enrolments come with their units prefetched)."""
    enrolments = list(enrolments)
    enrolment_ids = [e.pk for e in enrolments]
    enrolled = _enrolled_units(enrolments)
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
    states = _best_states(_claim_rows(enrolment_ids))
    unevidenced = State.NOT_EVIDENCED

    result: dict[int, list[UnitProgress]] = {pk: [] for pk in enrolment_ids}
    for entry in enrolled:
        items = items_by_unit[entry.unit_id]
        result[entry.enrolment_id].append(
            UnitProgress(
                unit=entry.unit,
                criteria={c: states.get((entry.enrolment_id, c), unevidenced) for c in criteria_by_unit[entry.unit_id]},
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
    in_unit = {c.pk for o in outcomes for c in o.criteria.all()}
    rows = [r for r in _claim_rows([enrolment.pk]) if r[0] in in_unit]
    column_ids = {evidence_id for _, _, evidence_id, _, _ in rows}
    columns = list(
        Evidence.objects.filter(pk__in=column_ids).select_related("current_version").order_by("created_at", "pk")
    )
    position = {e.pk: i for i, e in enumerate(columns)}
    cell_states: dict[tuple[int, int], list[State]] = defaultdict(list)
    for criterion_id, status, evidence_id, _, outcome in rows:
        if state := claim_state(status, outcome):
            cell_states[(criterion_id, evidence_id)].append(state)

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
