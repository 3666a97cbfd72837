"""IQA sampling: plans, what may be sampled, signed reviews, ready to claim, coverage and query counts.

Portfolios are built the way they happen for real: evidence through the evidence services, signed
decisions through the decision service, sign-off through the sign-off service.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from assessments.models import Decision, Notice, SampleItem, SampleReview, SamplingPlan, SignOff, Stage
from assessments.sampling_selectors import (
    current_fingerprint,
    iqa_feedback,
    plan_coverage,
    portfolio_quality_records,
    sample_page,
)
from assessments.selectors import SignOffStatus, is_ready_to_claim, sign_off_for, sign_off_status
from assessments.services.decisions import Judgement, decisions_record
from assessments.services.sampling import sample_add, sample_review_sign, sampling_plan_create
from assessments.services.signoff import unit_sign_off
from portfolio.models import AuditEvent, Enrolment, Evidence, Method
from portfolio.services.enrolments import enrolment_create
from portfolio.services.evidence import evidence_create, evidence_submit, mapping_set
from tests.assessments.test_signoff import make_ready
from tests.factories import UnitFactory, UserFactory
from tests.helpers import MANAGE, PLAN, attach_file, criterion, details
from units.models import Qualification, Unit

Outcome = SampleReview.Outcome
SAMPLING_ACTIONS = (
    AuditEvent.Action.SAMPLING_PLAN_CREATED,
    AuditEvent.Action.SAMPLE_ADDED,
    AuditEvent.Action.SAMPLE_REVIEWED,
)


# --- Building portfolios ---------------------------------------------------------------------------


def decided(
    enrolment: Enrolment,
    by: User,
    numbers=("1.1", "1.2"),
    unit_key: str = PLAN,
    method: str = Method.WORK_PRODUCT,
    outcome: str = Decision.Outcome.MET,
    feedback: str = "",
) -> Evidence:
    """Submitted evidence claiming `numbers` of a unit, each judged by `by` through the decision service."""
    learner = enrolment.learner
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details(method=method))
    version = evidence.current_version
    attach_file(version, f"{evidence.uuid}.pdf", f"%PDF-1.4 {evidence.uuid}".encode())
    accounts = {criterion(unit_key, n): f"My account of {n}." for n in numbers}
    mapping_set(version=version, by=learner, accounts=accounts, items=[])
    evidence_submit(version=version, by=learner, declared=True)
    judgements = [Judgement(c, outcome, feedback, None) for c in version.claims.select_related("criterion")]
    decisions_record(version=version, assessor=by, judgements=judgements, additions=[], reauthenticated=True)
    evidence.refresh_from_db()
    return evidence


def portfolio(centre, iqa: User, assessor: User, first_name: str) -> Enrolment:
    learner = UserFactory(role=User.Role.LEARNER, centre=centre, first_name=first_name, last_name="Learner")
    return enrolment_create(
        learner=learner,
        qualification=Qualification.objects.get(),
        units=list(Unit.objects.all()),
        assessor=assessor,
        iqa=iqa,
        start_date=datetime.date(2026, 9, 1),
        planned_end_date=datetime.date(2027, 8, 31),
    )


def new_plan(iqa: User, stage: str = Stage.INTERIM, **overrides) -> SamplingPlan:
    values = {
        "title": "Autumn sample",
        "stage": stage,
        "units": [],
        "methods": [],
        "default_rate": 50,
        "assessor_rates": {},
        **overrides,
    }
    return sampling_plan_create(iqa=iqa, **values)


def review(item: SampleItem, by: User, outcome: str = Outcome.AGREE, **overrides) -> SampleReview:
    values = {
        "outcome": outcome,
        "comments": "Decisions are valid and sufficient.",
        "actions": "",
        "action_due": None,
        "reauthenticated": True,
        **overrides,
    }
    return sample_review_sign(item=item, by=by, **values)


def sampling_events() -> list[str]:
    return list(AuditEvent.objects.filter(action__in=SAMPLING_ACTIONS).values_list("action", flat=True))


@pytest.fixture
def plan_unit(enrolment) -> Unit:
    return Unit.objects.get(key=PLAN)


@pytest.fixture
def manage_unit(enrolment) -> Unit:
    return Unit.objects.get(key=MANAGE)


def sampled_interim(enrolment: Enrolment, assessor: User, iqa: User) -> SampleItem:
    """The PLAN unit, decided by `assessor`, in a new interim plan of `iqa`'s."""
    decided(enrolment, assessor)
    return sample_add(plan=new_plan(iqa), enrolment=enrolment, unit=Unit.objects.get(key=PLAN), by=iqa)


def sign_off_plan_unit(enrolment: Enrolment, assessor: User) -> SignOff:
    make_ready(enrolment, assessor)
    unit = Unit.objects.get(key=PLAN)
    return unit_sign_off(enrolment=enrolment, unit=unit, assessor=assessor, reauthenticated=True)


def sampled_summative(enrolment: Enrolment, iqa: User) -> SampleItem:
    """The signed-off PLAN unit in a new summative plan of `iqa`'s."""
    plan = new_plan(iqa, Stage.SUMMATIVE)
    return sample_add(plan=plan, enrolment=enrolment, unit=Unit.objects.get(key=PLAN), by=iqa)


@pytest.fixture
def interim_item(enrolment, assessor, iqa) -> SampleItem:
    return sampled_interim(enrolment, assessor, iqa)


@pytest.fixture
def signed_off(enrolment, assessor) -> SignOff:
    return sign_off_plan_unit(enrolment, assessor)


@pytest.fixture
def summative_item(enrolment, iqa, signed_off) -> SampleItem:
    return sampled_summative(enrolment, iqa)


# --- Plans -----------------------------------------------------------------------------------------


def test_an_iqa_builds_a_plan_with_units_methods_and_rates_per_assessor(enrolment, iqa, assessor, plan_unit):
    plan = new_plan(
        iqa,
        Stage.SUMMATIVE,
        title="  Spring summative  ",
        units=[plan_unit],
        methods=[Method.OBSERVATION, Method.WORK_PRODUCT],
        default_rate=20,
        assessor_rates={assessor: 100},
    )
    assert plan.title == "Spring summative"
    assert plan.centre == iqa.centre
    assert plan.stage == Stage.SUMMATIVE
    assert list(plan.units.all()) == [plan_unit]
    assert plan.methods == [Method.OBSERVATION, Method.WORK_PRODUCT]
    assert [(t.assessor, t.rate) for t in plan.targets.all()] == [(assessor, 100)]
    event = AuditEvent.objects.get(action=AuditEvent.Action.SAMPLING_PLAN_CREATED)
    assert (event.actor, event.centre_id, event.object_uuid) == (iqa, iqa.centre_id, plan.uuid)
    assert event.detail["targets"] == {str(assessor.uuid): 100}


def test_an_assessor_without_a_rate_of_their_own_gets_the_default(enrolment, iqa, assessor):
    plan = new_plan(iqa, default_rate=30, assessor_rates={assessor: None})
    assert plan.targets.get().rate == 30


def test_a_plan_refuses_what_is_not_the_iqas_and_says_why(enrolment, iqa, centre):
    stranger = UserFactory(role=User.Role.ASSESSOR, centre=centre, first_name="Sam", last_name="Stranger")
    other_unit = UnitFactory(title="Unit elsewhere")
    with pytest.raises(ValidationError) as caught:
        new_plan(
            iqa,
            title=" ",
            stage="final",
            default_rate=0,
            units=[other_unit],
            methods=["telepathy"],
            assessor_rates={stranger: 50},
        )
    errors = caught.value.message_dict
    assert errors["title"] == ["Give the plan a title."]
    assert errors["stage"] == ["Choose interim or summative sampling."]
    assert errors["default_rate"] == ["A rate is a whole percentage from 1 to 100."]
    assert errors["units"] == ["“Unit elsewhere” is not a unit on any portfolio you quality-assure."]
    assert errors["methods"] == ["“telepathy” is not an assessment method."]
    assert errors["assessors"] == ["Sam Stranger assesses none of your portfolios."]
    assert not SamplingPlan.objects.exists()
    assert sampling_events() == []


def test_only_an_iqa_builds_a_plan(enrolment, assessor):
    with pytest.raises(ValidationError, match="Only an IQA at a centre"):
        new_plan(assessor)


# --- Choosing what to sample ------------------------------------------------------------------------


def test_interim_sampling_needs_a_decision_on_the_unit(enrolment, iqa, assessor, plan_unit):
    plan = new_plan(iqa)
    with pytest.raises(ValidationError, match="no assessment decisions on “Plan, organise"):
        sample_add(plan=plan, enrolment=enrolment, unit=plan_unit, by=iqa)
    decided(enrolment, assessor)
    item = sample_add(plan=plan, enrolment=enrolment, unit=plan_unit, by=iqa)
    assert (item.assessor, item.added_by, item.enrolment, item.unit) == (assessor, iqa, enrolment, plan_unit)
    event = AuditEvent.objects.get(action=AuditEvent.Action.SAMPLE_ADDED)
    assert (event.actor, event.enrolment, event.object_uuid) == (iqa, enrolment, item.uuid)


def test_summative_sampling_needs_a_sign_off(enrolment, iqa, assessor, plan_unit):
    plan = new_plan(iqa, Stage.SUMMATIVE)
    make_ready(enrolment, assessor)
    with pytest.raises(ValidationError, match="has not been signed off for"):
        sample_add(plan=plan, enrolment=enrolment, unit=plan_unit, by=iqa)
    unit_sign_off(enrolment=enrolment, unit=plan_unit, assessor=assessor, reauthenticated=True)
    assert sample_add(plan=plan, enrolment=enrolment, unit=plan_unit, by=iqa).assessor == assessor


def test_the_sample_is_of_whoever_decided_not_whoever_is_assigned_now(enrolment, iqa, assessor, plan_unit, centre):
    decided(enrolment, assessor)
    newcomer = UserFactory(role=User.Role.ASSESSOR, centre=centre)
    Enrolment.objects.filter(pk=enrolment.pk).update(assessor=newcomer)
    enrolment.refresh_from_db()
    item = sample_add(plan=new_plan(iqa), enrolment=enrolment, unit=plan_unit, by=iqa)
    assert item.assessor == assessor


def test_a_unit_is_sampled_once_per_plan(interim_item, iqa):
    with pytest.raises(ValidationError, match="is already in this sample"):
        sample_add(plan=interim_item.plan, enrolment=interim_item.enrolment, unit=interim_item.unit, by=iqa)
    assert SampleItem.objects.count() == 1


def test_only_the_plans_iqa_adds_and_only_to_their_portfolios(enrolment, iqa, assessor, plan_unit, centre):
    decided(enrolment, assessor)
    colleague = UserFactory(role=User.Role.IQA, centre=centre)
    with pytest.raises(ValidationError, match="Only the IQA whose plan this is"):
        sample_add(plan=new_plan(iqa), enrolment=enrolment, unit=plan_unit, by=colleague)
    with pytest.raises(ValidationError, match="You are not the IQA for"):
        sample_add(plan=new_plan(colleague, title="Theirs"), enrolment=enrolment, unit=plan_unit, by=colleague)
    assert not SampleItem.objects.exists()


def test_the_plans_scope_limits_units_assessors_and_methods(enrolment, iqa, assessor, centre, plan_unit, manage_unit):
    decided(enrolment, assessor, ("1.1",), unit_key=MANAGE)
    decided(enrolment, assessor, ("1.1",), method=Method.WORK_PRODUCT)
    with pytest.raises(ValidationError, match="is not one of this plan's units"):
        sample_add(plan=new_plan(iqa, units=[plan_unit]), enrolment=enrolment, unit=manage_unit, by=iqa)
    other = UserFactory(role=User.Role.ASSESSOR, centre=centre)
    Enrolment.objects.create(
        learner=UserFactory(role=User.Role.LEARNER, centre=centre),
        centre=centre,
        qualification=enrolment.qualification,
        assessor=other,
        iqa=iqa,
        start_date=enrolment.start_date,
        planned_end_date=enrolment.planned_end_date,
    )
    only_other = new_plan(iqa, title="Other only", assessor_rates={other: 100})
    with pytest.raises(ValidationError, match="This plan does not sample"):
        sample_add(plan=only_other, enrolment=enrolment, unit=plan_unit, by=iqa)
    observations = new_plan(iqa, title="Observations", methods=[Method.OBSERVATION])
    with pytest.raises(ValidationError, match=r"uses a method this plan covers \(Direct observation\)"):
        sample_add(plan=observations, enrolment=enrolment, unit=plan_unit, by=iqa)


# --- Never one's own decisions --------------------------------------------------------------------


@pytest.fixture
def former_assessor(enrolment, assessor, centre):
    """`assessor` decided on the PLAN unit, then became an IQA and this learner's IQA; a colleague assesses now."""
    decided(enrolment, assessor)
    User.objects.filter(pk=assessor.pk).update(role=User.Role.IQA)
    colleague = UserFactory(role=User.Role.ASSESSOR, centre=centre)
    Enrolment.objects.filter(pk=enrolment.pk).update(iqa=assessor, assessor=colleague)
    assessor.refresh_from_db()
    enrolment.refresh_from_db()
    return assessor


def test_an_iqa_cannot_sample_decisions_they_made_as_an_assessor(former_assessor, enrolment, plan_unit):
    plan = new_plan(former_assessor)
    with pytest.raises(ValidationError) as caught:
        sample_add(plan=plan, enrolment=enrolment, unit=plan_unit, by=former_assessor)
    (message,) = caught.value.messages
    assert message.startswith("You cannot sample “Plan, organise and control customer service operations”")
    assert "you made assessment decisions on it" in message
    assert "another IQA must sample this unit" in message
    assert not SampleItem.objects.exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SAMPLE_ADDED).count() == 0


def test_an_iqa_cannot_sample_a_unit_they_signed_off(enrolment, assessor, centre, plan_unit):
    make_ready(enrolment, assessor)
    unit_sign_off(enrolment=enrolment, unit=plan_unit, assessor=assessor, reauthenticated=True)
    User.objects.filter(pk=assessor.pk).update(role=User.Role.IQA)
    Enrolment.objects.filter(pk=enrolment.pk).update(iqa=assessor)
    assessor.refresh_from_db()
    enrolment.refresh_from_db()
    with pytest.raises(ValidationError, match="you made assessment decisions on it and signed it off"):
        sample_add(plan=new_plan(assessor, Stage.SUMMATIVE), enrolment=enrolment, unit=plan_unit, by=assessor)


def test_an_iqa_cannot_review_their_own_decisions_either(former_assessor, enrolment, plan_unit):
    # However the item came to be (here: written directly), the review is refused too.
    item = SampleItem.objects.create(
        plan=new_plan(former_assessor),
        enrolment=enrolment,
        unit=plan_unit,
        assessor=former_assessor,
        added_by=former_assessor,
        added_at=timezone.now(),
    )
    with pytest.raises(ValidationError, match="you made assessment decisions on it"):
        review(item, former_assessor)
    assert not SampleReview.objects.exists()


def test_other_units_of_the_same_learner_can_still_be_sampled(former_assessor, enrolment, manage_unit):
    colleague = enrolment.assessor
    decided(enrolment, colleague, ("1.1",), unit_key=MANAGE)
    item = sample_add(plan=new_plan(former_assessor), enrolment=enrolment, unit=manage_unit, by=former_assessor)
    assert item.assessor == colleague


# --- Reviews ---------------------------------------------------------------------------------------


def test_an_interim_review_is_signed_with_a_snapshot_of_the_decisions(interim_item, iqa, assessor):
    review_row = review(interim_item, iqa, comments="  Checked both claims.  ")
    assert (review_row.stage, review_row.outcome, review_row.comments) == (
        Stage.INTERIM,
        Outcome.AGREE,
        "Checked both claims.",
    )
    assert (review_row.reviewed_by, review_row.reauthenticated, review_row.sign_off) == (iqa, True, None)
    decisions = list(Decision.objects.order_by("decided_at", "id"))
    snapped = review_row.snapshot["decisions"]
    assert [d["uuid"] for d in snapped] == [str(d.uuid) for d in decisions]
    first = snapped[0]
    assert first["outcome"] == "met"
    assert first["decided_by"] == assessor.get_full_name()
    assert first["decided_at"] == decisions[0].decided_at.isoformat()
    assert first["version_number"] == 1
    assert len(first["files_sha256"]) == 64
    assert first["criterion"] == "1.1"
    assert "sign_off" not in review_row.snapshot
    event = AuditEvent.objects.get(action=AuditEvent.Action.SAMPLE_REVIEWED)
    assert (event.actor, event.enrolment, event.object_uuid) == (iqa, interim_item.enrolment, review_row.uuid)


def test_disagreeing_needs_actions_for_the_assessor(interim_item, iqa):
    with pytest.raises(ValidationError) as caught:
        review(interim_item, iqa, Outcome.DISAGREE, actions="  ")
    assert caught.value.message_dict == {
        "actions": ["Say what the assessor must do: disagreeing needs actions for the assessor."]
    }
    assert not SampleReview.objects.exists()
    due = timezone.localdate() + datetime.timedelta(days=14)
    found = review(interim_item, iqa, Outcome.DISAGREE, actions="Re-judge 1.2 against the range.", action_due=due)
    assert (found.actions, found.action_due) == ("Re-judge 1.2 against the range.", due)


def test_a_review_needs_comments_and_a_due_date_not_in_the_past(interim_item, iqa):
    with pytest.raises(ValidationError) as caught:
        review(interim_item, iqa, "maybe", comments="", action_due=datetime.date(2000, 1, 1))
    assert set(caught.value.message_dict) == {"outcome", "comments", "action_due"}


def test_without_the_password_nothing_is_signed_or_written(interim_item, iqa):
    before = sampling_events()
    with pytest.raises(ValidationError) as caught:
        review(interim_item, iqa, reauthenticated=False)
    assert caught.value.message_dict == {"password": ["Type your password to sign the review."]}
    assert not SampleReview.objects.exists()
    assert sampling_events() == before


def test_a_review_of_a_page_gone_stale_is_refused(interim_item, iqa, assessor, enrolment):
    seen = current_fingerprint(interim_item)
    decided(enrolment, assessor, ("2.1",))  # the assessor decides more while the IQA reads
    with pytest.raises(ValidationError, match="changed while you were reviewing"):
        review(interim_item, iqa, seen=seen)
    assert review(interim_item, iqa, seen=current_fingerprint(interim_item)).outcome == Outcome.AGREE


def test_only_the_plans_iqa_reviews(interim_item, centre):
    colleague = UserFactory(role=User.Role.IQA, centre=centre)
    with pytest.raises(ValidationError, match="Only the IQA whose sample this is"):
        review(interim_item, colleague)


def test_a_summative_review_keeps_the_sign_off(summative_item, iqa, signed_off):
    found = review(summative_item, iqa)
    assert found.stage == Stage.SUMMATIVE
    assert found.sign_off == signed_off
    assert found.snapshot["sign_off"]["uuid"] == str(signed_off.uuid)
    assert found.snapshot["sign_off"]["countersigned_at"] is None
    assert len(found.snapshot["decisions"]) == 27


# --- Ready to claim --------------------------------------------------------------------------------


def test_a_summative_agreement_makes_the_unit_ready_to_claim(summative_item, iqa, enrolment, plan_unit):
    assert not is_ready_to_claim(sign_off_for(enrolment, plan_unit))
    review(summative_item, iqa)
    sign_off = sign_off_for(enrolment, plan_unit)
    assert is_ready_to_claim(sign_off)
    assert sign_off_status(sign_off) is SignOffStatus.READY_TO_CLAIM
    (row,) = plan_coverage(summative_item.plan, iqa).sampled
    assert row.ready_to_claim
    assert row.review_status == "Agree with the assessor"


def test_the_latest_summative_review_decides(summative_item, iqa, enrolment, plan_unit):
    review(summative_item, iqa)
    later = summative_item.plan
    assert later.stage == Stage.SUMMATIVE
    review(summative_item, iqa, Outcome.DISAGREE, actions="Recheck 3.2.")
    assert not is_ready_to_claim(sign_off_for(enrolment, plan_unit))
    review(summative_item, iqa)
    assert is_ready_to_claim(sign_off_for(enrolment, plan_unit))


def test_the_portfolios_quality_records_show_ready_to_claim_on_the_agreement_that_decides(
    summative_item, iqa, enrolment, plan_unit
):
    review(summative_item, iqa)
    (record,) = portfolio_quality_records(enrolment)
    assert (record.item, record.outcome, record.reviewer, record.ready_to_claim) == (
        summative_item,
        "Agree with the assessor",
        iqa.get_full_name(),
        True,
    )
    again = sample_add(plan=new_plan(iqa, Stage.SUMMATIVE, title="Again"), enrolment=enrolment, unit=plan_unit, by=iqa)
    records = portfolio_quality_records(enrolment)
    assert [(r.item, r.outcome, r.ready_to_claim) for r in records] == [
        (summative_item, "Agree with the assessor", True),
        (again, "Not reviewed yet", False),
    ]
    review(again, iqa, Outcome.DISAGREE, actions="Recheck 3.2.")  # the newest summative review decides
    assert [r.ready_to_claim for r in portfolio_quality_records(enrolment)] == [False, False]


def test_an_interim_agreement_does_not_make_a_unit_ready(enrolment, assessor, iqa, plan_unit, signed_off):
    item = sample_add(plan=new_plan(iqa), enrolment=enrolment, unit=plan_unit, by=iqa)
    review(item, iqa)
    assert not is_ready_to_claim(sign_off_for(enrolment, plan_unit))


# --- Coverage --------------------------------------------------------------------------------------


@pytest.fixture
def caseloads(enrolment, assessor, iqa, centre):
    """Asha assesses Lena (the `enrolment`) and Bo; Dev assesses Cy. Units decided here and there."""
    dev = UserFactory(role=User.Role.ASSESSOR, centre=centre, first_name="Dev", last_name="Assessor")
    bo = portfolio(centre, iqa, assessor, "Bo")
    cy = portfolio(centre, iqa, dev, "Cy")
    decided(enrolment, assessor, ("1.1",))  # Lena, PLAN: work product
    decided(enrolment, assessor, ("1.1",), unit_key=MANAGE, method=Method.OBSERVATION)  # Lena, MANAGE
    decided(bo, assessor, ("1.1",))  # Bo, PLAN
    decided(cy, dev, ("1.1",), method=Method.PROFESSIONAL_DISCUSSION)  # Cy, PLAN
    return {"lena": enrolment, "bo": bo, "cy": cy, "asha": assessor, "dev": dev}


def test_coverage_counts_eligible_sampled_and_the_shortfall_per_assessor(caseloads, iqa):
    plan = new_plan(iqa, default_rate=50, assessor_rates={caseloads["dev"]: 100, caseloads["asha"]: None})
    plan_unit = Unit.objects.get(key=PLAN)
    sample_add(plan=plan, enrolment=caseloads["lena"], unit=plan_unit, by=iqa)
    coverage = plan_coverage(plan, iqa)
    by_name = {a.name: a for a in coverage.assessors}
    asha, dev = by_name[caseloads["asha"].get_full_name()], by_name["Dev Assessor"]
    assert (asha.rate, asha.eligible, asha.sampled, asha.target, asha.shortfall) == (50, 3, 1, 2, 1)
    assert (dev.rate, dev.eligible, dev.sampled, dev.target, dev.shortfall) == (100, 1, 0, 1, 1)
    assert len(coverage.candidates) == 3
    assert {(c.learner_name, c.unit.key) for c in coverage.candidates} == {
        (caseloads["lena"].learner.get_full_name(), MANAGE),
        ("Bo Learner", PLAN),
        ("Cy Learner", PLAN),
    }
    assert {(u.unit.key, u.eligible, u.sampled) for u in coverage.units} == {(PLAN, 3, 1), (MANAGE, 1, 0)}
    assert {(m.value, m.eligible, m.sampled) for m in coverage.methods} == {
        (Method.WORK_PRODUCT, 2, 1),
        (Method.OBSERVATION, 1, 0),
        (Method.PROFESSIONAL_DISCUSSION, 1, 0),
    }
    assert {(learner.name, learner.eligible, learner.sampled) for learner in coverage.learners} == {
        (caseloads["lena"].learner.get_full_name(), 2, 1),
        ("Bo Learner", 1, 0),
        ("Cy Learner", 1, 0),
    }
    lacks = coverage.lacks
    assert (
        f"Sample 1 more of {caseloads['asha'].get_full_name()}'s units to reach 50% (1 of 2 needed from 3 eligible)."
        in lacks
    )
    assert "Sample 1 more of Dev Assessor's units to reach 100% (0 of 1 needed from 1 eligible)." in lacks
    assert "“Manage customer service operations” has not been sampled (1 eligible)." in lacks
    assert "No sampled unit has direct observation evidence (1 eligible units do)." in lacks
    assert "Bo Learner has not been sampled." in lacks


def test_a_plan_limited_to_one_learner_offers_only_that_learners_units(caseloads, iqa):
    bo, lena = caseloads["bo"], caseloads["lena"]
    plan = new_plan(iqa, enrolments=[bo])
    assert list(plan.enrolments.all()) == [bo]
    event = AuditEvent.objects.get(action=AuditEvent.Action.SAMPLING_PLAN_CREATED)
    assert event.detail["enrolments"] == [str(bo.uuid)]
    coverage = plan_coverage(plan, iqa)
    assert coverage.scope.learners == [f"Bo Learner ({bo.qualification})"]
    assert [(c.learner_name, c.unit.key) for c in coverage.candidates] == [("Bo Learner", PLAN)]
    assert {(u.unit.key, u.eligible) for u in coverage.units} == {(PLAN, 1), (MANAGE, 0)}
    assert [(a.name, a.eligible) for a in coverage.assessors] == [(caseloads["asha"].get_full_name(), 1)]
    # Lena's units are eligible too, but not in this plan.
    with pytest.raises(ValidationError, match=f"This plan does not sample {lena.learner.get_full_name()}'s portfolio"):
        sample_add(plan=plan, enrolment=lena, unit=Unit.objects.get(key=MANAGE), by=iqa)
    assert not SampleItem.objects.exists()


def test_coverage_counts_only_the_learners_the_plan_names(caseloads, iqa):
    bo, cy = caseloads["bo"], caseloads["cy"]
    plan = new_plan(iqa, enrolments=[bo, cy])
    coverage = plan_coverage(plan, iqa)
    assert [(r.name, r.eligible, r.sampled) for r in coverage.learners] == [("Bo Learner", 1, 0), ("Cy Learner", 1, 0)]
    never = [text for text in coverage.lacks if text.endswith("Learner has not been sampled.")]
    assert never == ["Bo Learner has not been sampled.", "Cy Learner has not been sampled."]
    sample_add(plan=plan, enrolment=bo, unit=Unit.objects.get(key=PLAN), by=iqa)
    coverage = plan_coverage(plan, iqa)
    assert [(r.name, r.eligible, r.sampled) for r in coverage.learners] == [("Bo Learner", 1, 1), ("Cy Learner", 1, 0)]
    lena = caseloads["lena"].learner.get_full_name()
    assert "Cy Learner has not been sampled." in coverage.lacks
    assert not [text for text in coverage.lacks if text.startswith((lena, "Bo Learner"))]


def test_a_plan_refuses_a_portfolio_the_iqa_does_not_quality_assure(enrolment, iqa, assessor, centre):
    colleague = UserFactory(role=User.Role.IQA, centre=centre)
    theirs = portfolio(centre, colleague, assessor, "Zed")
    with pytest.raises(ValidationError) as caught:
        new_plan(iqa, enrolments=[enrolment, theirs])
    assert caught.value.message_dict == {
        "enrolments": [
            f"Zed Learner ({theirs.qualification}) is not a portfolio you quality-assure, "
            "so a plan of yours cannot sample it."
        ]
    }
    assert not SamplingPlan.objects.exists()
    assert sampling_events() == []


def test_a_plan_naming_assessors_covers_only_them(caseloads, iqa):
    plan = new_plan(iqa, assessor_rates={caseloads["dev"]: 100})
    coverage = plan_coverage(plan, iqa)
    assert [a.name for a in coverage.assessors] == ["Dev Assessor"]
    assert [c.learner_name for c in coverage.candidates] == ["Cy Learner"]
    assert [learner.name for learner in coverage.learners] == ["Cy Learner"]


def test_a_plan_for_some_methods_offers_only_units_with_that_evidence(caseloads, iqa):
    plan = new_plan(iqa, methods=[Method.OBSERVATION])
    coverage = plan_coverage(plan, iqa)
    assert [(c.learner_name, c.unit.key) for c in coverage.candidates] == [
        (caseloads["lena"].learner.get_full_name(), MANAGE)
    ]
    assert [(m.value, m.eligible, m.sampled) for m in coverage.methods] == [(Method.OBSERVATION, 1, 0)]


def test_a_summative_plan_offers_only_signed_off_units(caseloads, iqa):
    assert plan_coverage(new_plan(iqa, Stage.SUMMATIVE), iqa).candidates == []


def test_candidates_the_iqa_decided_on_are_marked_not_hidden(former_assessor, enrolment):
    coverage = plan_coverage(new_plan(former_assessor), former_assessor)
    (candidate,) = coverage.candidates
    assert candidate.own == "made assessment decisions on it"


def test_a_plan_at_its_targets_still_names_units_with_nothing_eligible(interim_item, iqa):
    coverage = plan_coverage(interim_item.plan, iqa)
    # The MANAGE unit has nothing eligible, so it is still listed as not sampled.
    assert coverage.lacks == [
        "“Manage customer service operations” has not been sampled, and nothing on it is eligible yet."
    ]


# --- Query counts ----------------------------------------------------------------------------------


def grow(centre, iqa, assessor, learners: int) -> None:
    """More learners for `iqa`, each with decisions on both units and one unit sampled and reviewed."""
    plan = SamplingPlan.objects.get()
    for n in range(learners):
        e = portfolio(centre, iqa, assessor, f"Extra{n}")
        decided(e, assessor, ("1.1",))
        decided(e, assessor, ("1.1",), unit_key=MANAGE, method=Method.OBSERVATION)
        item = sample_add(plan=plan, enrolment=e, unit=Unit.objects.get(key=PLAN), by=iqa)
        review(item, iqa, Outcome.DISAGREE, actions="Add feedback.")


@pytest.mark.parametrize("learners", [0, 3])
def test_coverage_query_count_does_not_grow(interim_item, iqa, assessor, centre, django_assert_num_queries, learners):
    grow(centre, iqa, assessor, learners)
    plan = SamplingPlan.objects.get()
    # plan learners, units, targets, portfolios, their units, the plan's items, decision facts, sign-offs
    with django_assert_num_queries(8):
        coverage = plan_coverage(plan, iqa)
    assert len(coverage.sampled) == learners + 1


@pytest.mark.parametrize("learners", [0, 3])
def test_sample_page_query_count_does_not_grow(
    interim_item, iqa, assessor, centre, django_assert_num_queries, learners
):
    for _ in range(learners):
        decided(interim_item.enrolment, assessor, ("1.1", "1.2", "2.1"))
    # claims, decisions, files, declarations, sign-off, reviews
    with django_assert_num_queries(6):
        page = sample_page(interim_item)
    assert len(page.versions) == learners + 1


@pytest.mark.parametrize("samples", [0, 3])
def test_a_portfolios_quality_records_are_one_query(
    interim_item, iqa, assessor, enrolment, django_assert_num_queries, samples
):
    review(interim_item, iqa)
    decided(enrolment, assessor, ("1.1",), unit_key=MANAGE)
    for n in range(samples):  # more samples of the same portfolio, reviewed again and again
        item = sample_add(
            plan=new_plan(iqa, title=f"More {n}"), enrolment=enrolment, unit=Unit.objects.get(key=MANAGE), by=iqa
        )
        review(item, iqa)
        review(item, iqa, Outcome.DISAGREE, actions="Add feedback.")
    with django_assert_num_queries(1):
        records = portfolio_quality_records(enrolment)
        assert [r.reviewer for r in records] == [iqa.get_full_name()] * (samples + 1)
    assert [r.outcome for r in records][:samples] == ["Disagree: actions for the assessor"] * samples


@pytest.mark.parametrize("learners", [0, 3])
def test_iqa_feedback_is_one_query(interim_item, iqa, assessor, centre, django_assert_num_queries, learners):
    review(interim_item, iqa)
    grow(centre, iqa, assessor, learners)
    with django_assert_num_queries(1):
        found = iqa_feedback(assessor)
    assert len(found) == learners + 1
    assert iqa_feedback(UserFactory(role=User.Role.ASSESSOR, centre=centre)) == []


def test_the_assessor_is_told_of_a_review(interim_item, iqa, assessor):
    review(interim_item, iqa, Outcome.DISAGREE, actions="Give feedback the learner can act on.")
    notice = Notice.objects.get(recipient=assessor, kind=Notice.Kind.IQA_REVIEWED)
    assert notice.kind == Notice.Kind.IQA_REVIEWED
    assert "disagree" in notice.text.lower()
    assert notice.url == reverse("assessments:sample_review", args=[interim_item.uuid])
