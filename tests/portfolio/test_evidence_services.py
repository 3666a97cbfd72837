import datetime
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assessments.models import Decision
from portfolio.models import Claim, EvidenceVersion, Method
from portfolio.services.evidence import (
    VersionLocked,
    evidence_create,
    evidence_new_version,
    evidence_submit,
    evidence_update,
    files_digest,
    mapping_set,
)
from tests.factories import AssessmentCriterionFactory, LearningOutcomeFactory, UnitFactory
from tests.helpers import MANAGE, PLAN, attach_file, criterion, details
from units.models import EvidenceRequirementItem


def test_create_makes_a_draft_first_version(enrolment, learner):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    version = evidence.current_version
    assert (version.number, version.status, version.title) == (1, EvidenceVersion.Status.DRAFT, "Team briefing notes")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"method": "telepathy"}, "method"),
        ({"activity_end_date": datetime.date(2026, 10, 1)}, "activity_end_date"),
        ({"activity_date": timezone.localdate() + datetime.timedelta(days=2)}, "activity_date"),
    ],
)
def test_create_rejects_bad_details(enrolment, learner, overrides, field):
    with pytest.raises(ValidationError) as excinfo:
        evidence_create(enrolment=enrolment, by=learner, details=details(**overrides))
    assert field in excinfo.value.message_dict


def test_mapping_crosses_units_with_an_account_each(enrolment, learner):
    version = evidence_create(enrolment=enrolment, by=learner, details=details()).current_version
    item = EvidenceRequirementItem.objects.get(requirement__unit__key=PLAN, requirement__number=6, letter="c")
    mapping_set(
        version=version,
        by=learner,
        accounts={
            criterion(PLAN, "2.4"): "I briefed the team on targets.",
            criterion(PLAN, "2.1"): "I agreed cover with the senior manager.",
            criterion(MANAGE, "2.5"): "The briefing communicated objectives.",
        },
        items=[item],
    )
    assert sorted(c.criterion.number for c in version.claims.select_related("criterion")) == ["2.1", "2.4", "2.5"]
    assert list(version.coverage.values_list("item__text", flat=True)) == ["senior managers."]


def test_mapping_needs_an_account_for_each_criterion(enrolment, learner):
    version = evidence_create(enrolment=enrolment, by=learner, details=details()).current_version
    target = criterion(PLAN, "1.1")
    with pytest.raises(ValidationError) as excinfo:
        mapping_set(version=version, by=learner, accounts={target: "  "}, items=[])
    assert excinfo.value.message_dict[f"account-{target.uuid}"] == ["Say briefly how this evidence shows 1.1."]


def test_mapping_refuses_criteria_of_units_not_on_the_portfolio(enrolment, learner):
    version = evidence_create(enrolment=enrolment, by=learner, details=details()).current_version
    stranger = UnitFactory()
    foreign = AssessmentCriterionFactory(outcome=LearningOutcomeFactory(unit=stranger, number=1), ordinal=1)
    with pytest.raises(ValidationError, match="is not in a unit on this portfolio"):
        mapping_set(version=version, by=learner, accounts={foreign: "claim"}, items=[])


def test_simulation_cannot_claim_competence_where_the_unit_forbids_it(enrolment, learner):
    version = evidence_create(
        enrolment=enrolment, by=learner, details=details(method=Method.SIMULATION)
    ).current_version
    with pytest.raises(ValidationError) as excinfo:
        mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.1"): "role play"}, items=[])
    assert "simulation is not allowed as performance evidence" in str(excinfo.value)
    assert not version.claims.exists()


def test_simulation_can_support_knowledge_outcomes_and_units_that_allow_or_do_not_say(enrolment, learner):
    version = evidence_create(
        enrolment=enrolment, by=learner, details=details(method=Method.SIMULATION)
    ).current_version
    mapping_set(
        version=version,
        by=learner,
        accounts={
            criterion(PLAN, "4.3"): "knowledge outcome: explained in a role play debrief",
            criterion(MANAGE, "3.1"): "the Manage unit does not forbid simulation",
        },
        items=[],
    )
    assert version.claims.count() == 2


def test_changing_a_draft_to_simulation_is_refused_when_claims_forbid_it(enrolment, learner):
    version = evidence_create(enrolment=enrolment, by=learner, details=details()).current_version
    mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.1"): "plan"}, items=[])
    with pytest.raises(ValidationError, match="simulation is not allowed"):
        evidence_update(version=version, by=learner, details=details(method=Method.SIMULATION))
    version.refresh_from_db()
    assert version.method == Method.WORK_PRODUCT


def test_submit_needs_the_declaration_a_claim_and_a_file_or_description(enrolment, learner):
    version = evidence_create(enrolment=enrolment, by=learner, details=details(description="")).current_version
    with pytest.raises(ValidationError) as excinfo:
        evidence_submit(version=version, by=learner, declared=False)
    assert set(excinfo.value.message_dict) == {"declared", "__all__"}
    mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.1"): "plan"}, items=[])
    with pytest.raises(ValidationError, match="Attach a file or describe the evidence"):
        evidence_submit(version=version, by=learner, declared=True)


def test_submit_locks_the_version_and_records_the_declaration_with_the_files_hash(enrolment, learner):
    version = evidence_create(enrolment=enrolment, by=learner, details=details()).current_version
    attach_file(version, "a.pdf", b"%PDF-1.4 a")
    attach_file(version, "b.pdf", b"%PDF-1.4 b")
    mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.1"): "plan"}, items=[])

    evidence_submit(version=version, by=learner, declared=True)

    version.refresh_from_db()
    assert version.status == EvidenceVersion.Status.SUBMITTED
    assert version.submitted_at is not None
    expected = hashlib.sha256(
        "".join(
            f"{hashlib.sha256(c).hexdigest()}  {n}\n" for n, c in [("a.pdf", b"%PDF-1.4 a"), ("b.pdf", b"%PDF-1.4 b")]
        ).encode()
    ).hexdigest()
    assert version.declaration.files_sha256 == expected == files_digest(version)
    assert version.declaration.learner == learner
    with pytest.raises(VersionLocked):
        evidence_update(version=version, by=learner, details=details(title="changed"))
    with pytest.raises(VersionLocked):
        mapping_set(version=version, by=learner, accounts={}, items=[])
    with pytest.raises(VersionLocked):
        evidence_submit(version=version, by=learner, declared=True)


def test_a_change_after_submission_is_a_new_version_and_the_old_one_stays(enrolment, learner, assessor):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    v1 = evidence.current_version
    attach_file(v1)
    mapping_set(version=v1, by=learner, accounts={criterion(PLAN, "1.1"): "first account"}, items=[])
    evidence_submit(version=v1, by=learner, declared=True)
    Decision.objects.create(
        claim=v1.claims.get(),
        outcome=Decision.Outcome.NOT_YET_MET,
        feedback="Show the plan itself",
        decided_by=assessor,
        decided_at=timezone.now(),
    )

    v2 = evidence_new_version(evidence=evidence, by=learner)
    assert evidence_new_version(evidence=evidence, by=learner) == v2  # one draft at a time
    mapping_set(version=v2, by=learner, accounts={criterion(PLAN, "1.1"): "second account"}, items=[])
    evidence_submit(version=v2, by=learner, declared=True)

    for obj in (v1, v2, evidence):
        obj.refresh_from_db()
    assert evidence.current_version == v2
    assert (v1.status, v2.number, v2.status) == (EvidenceVersion.Status.SUPERSEDED, 2, EvidenceVersion.Status.SUBMITTED)
    assert v1.claims.get().account == "first account"
    assert v1.claims.get().decisions.get().feedback == "Show the plan itself"
    assert list(v2.files.all()) == list(v1.files.all())
    assert Claim.objects.filter(version__evidence=evidence).count() == 2


def test_a_new_version_keeps_who_added_each_claim(enrolment, learner, assessor):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    v1 = evidence.current_version
    attach_file(v1)
    mapping_set(version=v1, by=learner, accounts={criterion(PLAN, "1.1"): "learner's claim"}, items=[])
    evidence_submit(version=v1, by=learner, declared=True)
    Claim.objects.create(version=v1, criterion=criterion(PLAN, "2.4"), account="assessor found it", added_by=assessor)

    v2 = evidence_new_version(evidence=evidence, by=learner)

    added = {c.criterion.number: c.added_by for c in v2.claims.select_related("criterion")}
    assert added == {"1.1": None, "2.4": assessor}


def test_submitting_tells_the_assessor(enrolment, learner, assessor):
    from assessments.models import Notice

    version = evidence_create(enrolment=enrolment, by=learner, details=details()).current_version
    attach_file(version)
    mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.1"): "plan"}, items=[])
    evidence_submit(version=version, by=learner, declared=True)
    notice = Notice.objects.get(recipient=assessor)
    assert notice.kind == Notice.Kind.SUBMITTED
    assert "Team briefing notes" in notice.text
    assert notice.url == f"/evidence/{version.evidence.uuid}/assess/"
