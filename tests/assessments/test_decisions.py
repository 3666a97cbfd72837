"""The decision service: every rule, the append-only chain, and two assessors at the same moment."""

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections
from django.urls import reverse

from accounts.models import User
from assessments.models import Decision, Notice
from assessments.services import decisions as service
from assessments.services.decisions import Addition, DecisionConflict, Judgement, decisions_record
from portfolio.models import Claim, EvidenceVersion, Method
from portfolio.services.enrolments import enrolment_reassign
from portfolio.services.evidence import evidence_create, evidence_new_version, evidence_submit, mapping_set
from tests.factories import AssessmentCriterionFactory, UserFactory
from tests.helpers import MANAGE, PLAN, attach_file, criterion, details

Outcome = Decision.Outcome
Status = EvidenceVersion.Status


def submit(enrolment, learner, numbers=("1.1", "1.2"), method=Method.WORK_PRODUCT) -> EvidenceVersion:
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details(method=method))
    version = evidence.current_version
    attach_file(version, f"{evidence.uuid}.pdf", f"%PDF-1.4 {evidence.uuid}".encode())  # unique per portfolio
    accounts = {criterion(PLAN, n): f"My account of {n}." for n in numbers}
    mapping_set(version=version, by=learner, accounts=accounts, items=[])
    return evidence_submit(version=version, by=learner, declared=True)


def claim_of(version: EvidenceVersion, number: str, unit: str = PLAN) -> Claim:
    return Claim.objects.select_related("criterion").get(
        version=version, criterion__number=number, criterion__outcome__unit__key=unit
    )


def judge(version, number, outcome=Outcome.MET, feedback="", expected=None) -> Judgement:
    return Judgement(claim=claim_of(version, number), outcome=outcome, feedback=feedback, expected=expected)


def record(version, assessor, *judgements, additions=(), reauthenticated=True) -> list[Decision]:
    return decisions_record(
        version=version,
        assessor=assessor,
        judgements=list(judgements),
        additions=list(additions),
        reauthenticated=reauthenticated,
    )


def learner_notices(learner: User, kind: Notice.Kind) -> list[Notice]:
    return list(Notice.objects.filter(recipient=learner, kind=kind))


@pytest.fixture
def version(enrolment, learner) -> EvidenceVersion:
    return submit(enrolment, learner)


# What a decision records


def test_a_decision_copies_what_was_judged_and_who_signed(version, assessor):
    (decision,) = record(version, assessor, judge(version, "1.1"))
    decision.refresh_from_db()
    assert decision.outcome == Outcome.MET
    assert decision.decided_by == assessor
    assert decision.supersedes is None
    assert decision.version_number == 1
    assert decision.files_sha256 == version.declaration.files_sha256
    assert len(decision.files_sha256) == 64
    assert decision.reauthenticated is True


def test_reauthenticated_is_recorded_as_given(version, assessor):
    (decision,) = record(version, assessor, judge(version, "1.1"), reauthenticated=False)
    assert Decision.objects.get(pk=decision.pk).reauthenticated is False


def test_feedback_is_stored_trimmed(version, assessor):
    (decision,) = record(version, assessor, judge(version, "1.2", Outcome.NOT_YET_MET, "  Show the rota.  "))
    assert Decision.objects.get(pk=decision.pk).feedback == "Show the rota."


# Refusals


def test_a_draft_cannot_be_judged(enrolment, learner, assessor):
    draft = evidence_create(enrolment=enrolment, by=learner, details=details()).current_version
    mapping_set(version=draft, by=learner, accounts={criterion(PLAN, "1.1"): "Mine."}, items=[])
    with pytest.raises(ValidationError, match="has not submitted this version yet"):
        record(draft, assessor, judge(draft, "1.1"))
    assert not Decision.objects.exists()


def test_a_superseded_version_cannot_be_judged(version, learner, assessor):
    draft = evidence_new_version(evidence=version.evidence, by=learner)
    evidence_submit(version=draft, by=learner, declared=True)
    with pytest.raises(ValidationError, match="replaced by a newer submission"):
        record(version, assessor, judge(version, "1.1"))
    assert not Decision.objects.exists()


@pytest.mark.parametrize("who", ["other_assessor", "iqa", "learner", "centre_admin"])
def test_only_the_assigned_assessor_can_decide(version, who, request, enrolment):
    people = {
        "other_assessor": lambda: UserFactory(role=User.Role.ASSESSOR, centre=enrolment.centre),
        "iqa": lambda: request.getfixturevalue("iqa"),
        "learner": lambda: request.getfixturevalue("learner"),
        "centre_admin": lambda: request.getfixturevalue("centre_admin"),
    }
    with pytest.raises(ValidationError, match="Only the learner's assigned assessor"):
        record(version, people[who](), judge(version, "1.1"))
    assert not Decision.objects.exists()


def test_an_assessor_reassigned_away_can_no_longer_decide(version, assessor, enrolment, centre_admin):
    successor = UserFactory(role=User.Role.ASSESSOR, centre=enrolment.centre)
    enrolment_reassign(enrolment=enrolment, by=centre_admin, role="assessor", person=successor, reason="Caseload")
    with pytest.raises(ValidationError, match="assigned assessor"):
        record(version, assessor, judge(version, "1.1"))
    record(version, successor, judge(version, "1.1"))
    assert Decision.objects.get().decided_by == successor


@pytest.mark.parametrize("outcome", [Outcome.NOT_YET_MET, Outcome.REMOVED])
@pytest.mark.parametrize("feedback", ["", "   \n "])
def test_feedback_is_required_unless_met(version, assessor, outcome, feedback):
    claim = claim_of(version, "1.1")
    with pytest.raises(ValidationError) as excinfo:
        record(version, assessor, judge(version, "1.1", outcome, feedback))
    assert excinfo.value.message_dict == {f"feedback-{claim.uuid}": [service.FEEDBACK_REQUIRED]}
    assert not Decision.objects.exists()


def test_an_unknown_outcome_is_refused(version, assessor):
    claim = claim_of(version, "1.1")
    with pytest.raises(ValidationError) as excinfo:
        record(version, assessor, judge(version, "1.1", "brilliant"))
    assert f"outcome-{claim.uuid}" in excinfo.value.message_dict


def test_one_bad_judgement_saves_none_of_the_others(version, assessor, learner):
    with pytest.raises(ValidationError):
        record(version, assessor, judge(version, "1.1"), judge(version, "1.2", Outcome.NOT_YET_MET, ""))
    assert not Decision.objects.exists()
    assert not learner_notices(learner, Notice.Kind.JUDGED)


def test_nothing_to_record_is_refused(version, assessor):
    with pytest.raises(ValidationError, match="at least one criterion"):
        record(version, assessor)


def test_a_claim_of_another_version_is_refused(version, assessor, enrolment, learner):
    other = submit(enrolment, learner, numbers=("1.1",))
    with pytest.raises(ValidationError, match="not a claim of this version"):
        record(version, assessor, judge(other, "1.1"))


def test_a_claim_judged_twice_in_one_submission_is_refused(version, assessor):
    with pytest.raises(ValidationError, match="judged twice"):
        record(version, assessor, judge(version, "1.1"), judge(version, "1.1", Outcome.NOT_YET_MET, "More."))


# The append-only chain


def test_each_decision_supersedes_the_one_the_assessor_saw(version, assessor):
    (first,) = record(version, assessor, judge(version, "1.1", Outcome.NOT_YET_MET, "Show the budget."))
    (second,) = record(version, assessor, judge(version, "1.1", Outcome.REMOVED, "Not a plan.", first.uuid))
    (third,) = record(version, assessor, judge(version, "1.1", Outcome.MET, "", second.uuid))
    assert (second.supersedes, third.supersedes) == (first, second)
    # Nothing was changed in place: the earlier rows still say what they said.
    first.refresh_from_db()
    assert (first.outcome, first.feedback) == (Outcome.NOT_YET_MET, "Show the budget.")
    assert Decision.objects.count() == 3


def test_a_stale_expectation_is_a_conflict_that_saves_nothing(version, assessor, learner):
    (first,) = record(version, assessor, judge(version, "1.2"))
    with pytest.raises(DecisionConflict) as excinfo:
        record(version, assessor, judge(version, "1.1"), judge(version, "1.2", Outcome.NOT_YET_MET, "No.", None))
    assert excinfo.value.numbers == ["1.2"]
    assert "Someone else recorded a decision on 1.2 while you were working" in excinfo.value.messages[0]
    assert "nothing of yours was saved" in excinfo.value.messages[0]
    assert list(Decision.objects.all()) == [first]  # 1.1, which had no conflict, was not saved either
    assert len(learner_notices(learner, Notice.Kind.JUDGED)) == 1


def test_expecting_a_decision_that_was_superseded_is_a_conflict(version, assessor):
    (first,) = record(version, assessor, judge(version, "1.1", Outcome.NOT_YET_MET, "More."))
    record(version, assessor, judge(version, "1.1", Outcome.MET, "", first.uuid))
    with pytest.raises(DecisionConflict, match=r"1\.1"):
        record(version, assessor, judge(version, "1.1", Outcome.REMOVED, "Wrong unit.", first.uuid))
    assert Decision.objects.count() == 2


def test_a_conflict_is_a_validation_error(version, assessor):
    record(version, assessor, judge(version, "1.1"))
    with pytest.raises(ValidationError):
        record(version, assessor, judge(version, "1.1"))


def test_the_database_constraint_catches_a_race_the_check_missed(version, assessor, monkeypatch):
    """If the lock-and-compare step ever let a stale reader through, the unique constraint still refuses."""
    record(version, assessor, judge(version, "1.1"))
    monkeypatch.setattr(service, "_lock_claims_and_read_heads", lambda claim_ids: {})  # "saw" no decision
    with pytest.raises(DecisionConflict) as excinfo:
        record(version, assessor, judge(version, "1.2"), judge(version, "1.1"))
    assert excinfo.value.numbers == ["1.1"]
    assert Decision.objects.count() == 1


# Criteria the learner missed


def test_the_assessor_adds_a_criterion_the_learner_missed(version, assessor):
    addition = Addition(criterion=criterion(PLAN, "2.1"), reason="  The rota shows cover agreed.  ", outcome="met")
    (decision,) = record(version, assessor, additions=[addition])
    claim = decision.claim
    assert (claim.version, claim.criterion.number, claim.added_by) == (version, "2.1", assessor)
    assert claim.account == "The rota shows cover agreed."
    assert (decision.outcome, decision.supersedes, decision.version_number) == (Outcome.MET, None, 1)


def test_an_added_criterion_from_another_unit_of_the_portfolio(version, assessor):
    addition = Addition(criterion=criterion(MANAGE, "2.5"), reason="Objectives briefed.", outcome="not_yet_met")
    with pytest.raises(ValidationError) as excinfo:
        record(version, assessor, additions=[addition])
    assert excinfo.value.message_dict == {"add-feedback": [service.FEEDBACK_REQUIRED]}
    record(version, assessor, additions=[Addition(**{**addition.__dict__, "feedback": "Name the objectives."})])
    assert claim_of(version, "2.5", MANAGE).decisions.get().feedback == "Name the objectives."


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"criterion": "1.1"}, "add-criterion", "already claimed"),
        ({"reason": " "}, "add-reason", "Say how this evidence shows 2.1"),
        ({"outcome": Outcome.REMOVED}, "add-outcome", "Choose an outcome"),
    ],
)
def test_an_addition_is_checked(version, assessor, change, key, message):
    values = {"criterion": "2.1", "reason": "It shows it.", "outcome": Outcome.MET, **change}
    addition = Addition(**{**values, "criterion": criterion(PLAN, values["criterion"])})
    with pytest.raises(ValidationError) as excinfo:
        record(version, assessor, additions=[addition])
    assert message in " ".join(excinfo.value.message_dict[key])
    assert Claim.objects.filter(version=version).count() == 2


def test_a_criterion_outside_the_portfolio_cannot_be_added(version, assessor):
    stranger = AssessmentCriterionFactory()
    with pytest.raises(ValidationError, match="not in a unit on this portfolio"):
        record(version, assessor, additions=[Addition(criterion=stranger, reason="Hm.", outcome=Outcome.MET)])


def test_simulated_evidence_cannot_be_given_a_performance_criterion(enrolment, learner, assessor):
    simulated = submit(enrolment, learner, numbers=("4.1",), method=Method.SIMULATION)
    addition = Addition(criterion=criterion(PLAN, "1.1"), reason="Role play.", outcome=Outcome.MET)
    with pytest.raises(ValidationError, match="simulation is not allowed"):
        record(simulated, assessor, additions=[addition])


# Removing a mapping


def test_the_assessor_records_that_a_mapping_does_not_hold(version, assessor, learner):
    (decision,) = record(version, assessor, judge(version, "1.2", Outcome.REMOVED, "This is about 2.1, not 1.2."))
    assert Decision.objects.get(pk=decision.pk).outcome == Outcome.REMOVED
    assert Claim.objects.filter(pk=decision.claim_id).exists()  # the learner's claim stays on record
    (notice,) = learner_notices(learner, Notice.Kind.JUDGED)
    assert notice.text == "Your assessor judged “Team briefing notes”: mapping removed 1.2."


# Telling the learner


def test_a_return_tells_the_learner_what_to_do(version, assessor, learner):
    record(
        version,
        assessor,
        judge(version, "1.1"),
        judge(version, "1.2", Outcome.NOT_YET_MET, "Add the staffing budget."),
    )
    (notice,) = learner_notices(learner, Notice.Kind.RETURNED)
    assert notice.text == "Your assessor returned “Team briefing notes” with feedback on 1.2: Add the staffing budget."
    assert notice.url == reverse("portfolio:evidence", args=[version.evidence.uuid])
    assert not learner_notices(learner, Notice.Kind.JUDGED)


def test_all_met_is_judged_not_returned(version, assessor, learner):
    record(version, assessor, judge(version, "1.1"), judge(version, "1.2"))
    (notice,) = learner_notices(learner, Notice.Kind.JUDGED)
    assert notice.text == "Your assessor judged “Team briefing notes”: met 1.1, 1.2."
    assert not learner_notices(learner, Notice.Kind.RETURNED)
    assert not Notice.objects.filter(kind__in=[Notice.Kind.JUDGED, Notice.Kind.RETURNED]).exclude(recipient=learner)


def test_a_long_return_notice_is_cut_to_fit(version, assessor, learner):
    record(version, assessor, judge(version, "1.1", Outcome.NOT_YET_MET, "Explain more. " * 40))
    (notice,) = learner_notices(learner, Notice.Kind.RETURNED)
    assert len(notice.text) == 300
    assert notice.text.endswith("…")


# Round trip


def test_resubmission_is_judged_again_and_every_round_stays(version, assessor, learner):
    (returned,) = record(version, assessor, judge(version, "1.2", Outcome.NOT_YET_MET, "Add the budget."))
    draft = evidence_new_version(evidence=version.evidence, by=learner)
    attach_file(draft, "budget.pdf", b"%PDF-1.4 budget")
    second = evidence_submit(version=draft, by=learner, declared=True)
    (met,) = record(second, assessor, judge(second, "1.2"))

    assert (met.version_number, met.supersedes) == (2, None)  # a new claim starts a new chain
    assert met.files_sha256 == second.declaration.files_sha256 != returned.files_sha256
    version.refresh_from_db()
    assert version.status == Status.SUPERSEDED
    assert list(Decision.objects.order_by("version_number").values_list("version_number", "outcome")) == [
        (1, Outcome.NOT_YET_MET),
        (2, Outcome.MET),
    ]


# Two assessors (or two tabs) at the same moment, on a real database server


def _run_in_threads(count: int, work: Callable[[], object]) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work()
        except Exception as error:  # the test inspects what each thread got
            results[i] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.skipif(
    connections["default"].vendor == "sqlite",
    reason="SQLite's in-memory test database cannot be shared between threads; run with a PostgreSQL DATABASE_URL",
)
@pytest.mark.parametrize("row_locks", [True, False], ids=["row-locks", "constraint-only"])
def test_two_decisions_at_once_exactly_one_wins(transactional_db, enrolment, learner, assessor, row_locks, monkeypatch):
    """Both threads saw no decision on 1.1 and sign at the same moment.

    With the row locks the second waits, then sees the first's decision. Without them (proving the
    second line of defence) both read "no decision" before either writes, and the unique
    constraint on first decisions refuses the second insert.
    """
    version = submit(enrolment, learner)
    claim = claim_of(version, "1.1")
    if not row_locks:
        both_have_read = threading.Barrier(2)

        def read_without_lock_then_wait(claim_ids: list[int]) -> dict[int, Decision]:
            heads = service._current_heads(claim_ids)
            both_have_read.wait(timeout=10)
            return heads

        monkeypatch.setattr(service, "_lock_submitted", lambda v: EvidenceVersion.objects.get(pk=v.pk))
        monkeypatch.setattr(service, "_lock_claims_and_read_heads", read_without_lock_then_wait)

    def decide() -> list[Decision]:
        judgement = Judgement(claim=claim, outcome=Outcome.MET, feedback="", expected=None)
        return decisions_record(
            version=version, assessor=assessor, judgements=[judgement], additions=[], reauthenticated=True
        )

    results = _run_in_threads(2, decide)
    wins = [r for r in results if isinstance(r, list)]
    conflicts = [r for r in results if isinstance(r, DecisionConflict)]
    assert (len(wins), len(conflicts)) == (1, 1), results
    assert conflicts[0].numbers == ["1.1"]
    assert isinstance(conflicts[0].__cause__, IntegrityError) is not row_locks
    assert Decision.objects.filter(claim=claim).count() == 1
