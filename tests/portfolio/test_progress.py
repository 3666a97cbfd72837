import pytest
from django.utils import timezone

from assessments.models import Decision
from portfolio.models import EvidenceVersion
from portfolio.progress import State, best, claim_state, progress_for, tracking_grid
from portfolio.services.evidence import evidence_create, evidence_new_version, evidence_submit, mapping_set
from tests.helpers import PLAN, attach_file, criterion, details
from units.models import EvidenceRequirementItem, Unit


def claim(enrolment, learner, numbers: list[str], *, submit: bool, items=()):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details(title=f"Evidence for {numbers}"))
    version = evidence.current_version
    attach_file(version, name=f"{'-'.join(numbers)}.pdf", content=f"%PDF {numbers}".encode())
    mapping_set(version=version, by=learner, accounts={criterion(PLAN, n): "account" for n in numbers}, items=items)
    if submit:
        evidence_submit(version=version, by=learner, declared=True)
    return evidence


def decide(evidence, number: str, outcome: str, assessor):
    claim_row = evidence.versions.get(status=EvidenceVersion.Status.SUBMITTED).claims.get(criterion__number=number)
    Decision.objects.create(claim=claim_row, outcome=outcome, decided_by=assessor, decided_at=timezone.now())


@pytest.mark.parametrize(
    ("status", "outcome", "expected"),
    [
        ("draft", None, State.DRAFT),
        ("submitted", None, State.AWAITING),
        ("submitted", "met", State.MET),
        ("submitted", "not_yet_met", State.NOT_YET_MET),
        ("superseded", "met", State.MET),
        ("superseded", None, None),
    ],
)
def test_claim_states(status, outcome, expected):
    assert claim_state(status, outcome) is expected


def test_best_state_wins():
    assert best([State.DRAFT, State.NOT_YET_MET, State.AWAITING]) is State.AWAITING
    assert best([]) is State.NOT_EVIDENCED


def test_progress_counts_each_state(enrolment, learner, assessor):
    six_c = EvidenceRequirementItem.objects.get(requirement__unit__key=PLAN, requirement__number=6, letter="c")
    decided = claim(enrolment, learner, ["1.1", "1.2"], submit=True, items=[six_c])
    decide(decided, "1.1", Decision.Outcome.MET, assessor)
    decide(decided, "1.2", Decision.Outcome.NOT_YET_MET, assessor)
    claim(enrolment, learner, ["1.3"], submit=True)
    claim(enrolment, learner, ["1.4", "1.1"], submit=False)

    plan = next(p for p in progress_for([enrolment])[enrolment.pk] if p.unit.key == PLAN)

    assert plan.total == 27
    assert {s: plan.count(s) for s in State} == {
        State.MET: 1,
        State.NOT_YET_MET: 1,
        State.AWAITING: 1,
        State.DRAFT: 1,
        State.NOT_EVIDENCED: 23,
    }
    assert (plan.items_covered, plan.items_total) == (1, 12)
    assert sum(count for _, count, _ in plan.segments) == 27


def test_a_new_draft_does_not_undo_a_met_decision(enrolment, learner, assessor):
    evidence = claim(enrolment, learner, ["2.1"], submit=True)
    decide(evidence, "2.1", Decision.Outcome.MET, assessor)
    evidence_new_version(evidence=evidence, by=learner)
    plan = next(p for p in progress_for([enrolment])[enrolment.pk] if p.unit.key == PLAN)
    assert plan.met == 1


def test_tracking_grid_rows_cells_and_gaps(enrolment, learner, assessor):
    first = claim(enrolment, learner, ["1.1", "2.1"], submit=True)
    decide(first, "1.1", Decision.Outcome.MET, assessor)
    second = claim(enrolment, learner, ["1.1"], submit=False)

    grid = tracking_grid(enrolment, Unit.objects.get(key=PLAN))

    assert grid.columns == [first, second]
    rows = {r.criterion.number: r for _, rs in grid.outcomes for r in rs}
    assert rows["1.1"].cells == [State.MET, State.DRAFT]
    assert rows["1.1"].state is State.MET
    assert rows["2.1"].cells == [State.AWAITING, None]
    assert rows["4.10"].evidence == []
    gap_numbers = [r.criterion.number for r in grid.gaps]
    assert "1.1" not in gap_numbers
    assert "2.1" not in gap_numbers
    assert len(gap_numbers) == 25
    assert len(grid.uncovered_items) == 12


@pytest.mark.parametrize("pieces", [1, 8])
def test_progress_query_count_is_fixed(enrolment, learner, django_assert_num_queries, pieces):
    for i in range(pieces):
        claim(enrolment, learner, [f"2.{i % 8 + 1}", f"3.{i % 5 + 1}"], submit=bool(i % 2))
    with django_assert_num_queries(5):
        progress_for([enrolment])


@pytest.mark.parametrize("pieces", [1, 8])
def test_tracking_grid_query_count_is_fixed(enrolment, learner, django_assert_num_queries, pieces):
    for i in range(pieces):
        claim(enrolment, learner, [f"2.{i % 8 + 1}", f"1.{i % 4 + 1}"], submit=bool(i % 2))
    unit = Unit.objects.get(key=PLAN)
    with django_assert_num_queries(6):
        tracking_grid(enrolment, unit)


def test_a_removed_mapping_counts_for_nothing(enrolment, learner, assessor):
    evidence = claim(enrolment, learner, ["3.1"], submit=True)
    decide(evidence, "3.1", Decision.Outcome.REMOVED, assessor)
    plan = next(p for p in progress_for([enrolment])[enrolment.pk] if p.unit.key == PLAN)
    assert plan.count(State.NOT_EVIDENCED) == 27


def test_only_submitted_evidence_covers_requirement_items(enrolment, learner):
    six_a = EvidenceRequirementItem.objects.get(requirement__unit__key=PLAN, requirement__number=6, letter="a")
    claim(enrolment, learner, ["2.1"], submit=False, items=[six_a])
    plan = next(p for p in progress_for([enrolment])[enrolment.pk] if p.unit.key == PLAN)
    assert plan.items_covered == 0
    assert len(tracking_grid(enrolment, Unit.objects.get(key=PLAN)).uncovered_items) == 12
