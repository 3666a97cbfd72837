"""Records the assessor writes as evidence, and the learner's confirmation that submits them."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from assessments.models import AssessorRecord, Notice
from assessments.services.records import (
    RECORD_CONFIRMATION_STATEMENT,
    RecordDetails,
    WitnessDetails,
    assessor_record_confirm,
    assessor_record_create,
)
from portfolio.models import Claim, Declaration, Evidence, EvidenceVersion, Method
from portfolio.progress import State, progress_for
from portfolio.services.evidence import evidence_create
from tests.factories import UserFactory
from tests.helpers import MANAGE, PLAN, criterion, details

Kind = AssessorRecord.Kind
Status = EvidenceVersion.Status
DAY = datetime.date(2026, 10, 6)


@pytest.fixture
def other_assessor(enrolment):
    return UserFactory(username="otis", role=User.Role.ASSESSOR, centre=enrolment.centre)


def person(name: str, request) -> User:
    return request.getfixturevalue(name)


def record_details(**overrides) -> RecordDetails:
    values = {
        "title": "Observation: Monday team briefing",
        "description": "Lena briefed six advisers on the new returns policy and checked their understanding.",
        "activity_date": DAY,
        "location": "Leeds contact centre",
    }
    return RecordDetails(**{**values, **overrides})


@pytest.fixture
def record(enrolment, assessor):
    return assessor_record_create(
        enrolment=enrolment,
        assessor=assessor,
        kind=Kind.OBSERVATION,
        details=record_details(),
        accounts={criterion(PLAN, "1.1"): "Explained the service offer.", criterion(MANAGE, "2.1"): "Briefed."},
    )


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------


def test_a_record_is_draft_evidence_in_the_learners_portfolio_written_by_the_assessor(record, assessor, learner):
    version = record.current_version
    assert record.created_by == assessor
    assert record.enrolment.learner == learner
    assert version.status == Status.DRAFT
    assert version.method == Method.OBSERVATION
    assert version.title == "Observation: Monday team briefing"
    assert record.assessor_record.kind == Kind.OBSERVATION
    claims = {c.criterion.number: c for c in version.claims.select_related("criterion")}
    assert set(claims) == {"1.1", "2.1"}
    assert all(c.added_by == assessor for c in claims.values())  # the accounts are the assessor's


def test_the_learner_is_asked_to_confirm_a_new_record(record, learner):
    notice = Notice.objects.get(recipient=learner)
    assert notice.kind == Notice.Kind.RECORD_TO_CONFIRM
    assert "Observation record" in notice.text
    assert "confirm" in notice.text
    assert notice.url == reverse("assessments:record_confirm", args=[record.uuid])


@pytest.mark.parametrize(
    ("kind", "method"),
    [
        (Kind.PROFESSIONAL_DISCUSSION, Method.PROFESSIONAL_DISCUSSION),
        (Kind.QUESTION_AND_ANSWER, Method.QUESTION_AND_ANSWER),
    ],
)
def test_each_kind_is_its_method(enrolment, assessor, kind, method):
    evidence = assessor_record_create(
        enrolment=enrolment,
        assessor=assessor,
        kind=kind,
        details=record_details(),
        accounts={criterion(PLAN, "1.1"): "x"},
    )
    assert evidence.current_version.method == method


@pytest.mark.parametrize(("expert", "method"), [(False, Method.WITNESS_TESTIMONY), (True, Method.EXPERT_WITNESS)])
def test_witness_testimony_keeps_the_witness_and_an_expert_is_its_own_method(enrolment, assessor, expert, method):
    witness = WitnessDetails(
        name=" Sam Patel ",
        statement="I saw Lena handle the complaint calmly.",
        role="Store manager",
        relationship="Line manager",
        contact="sam@example.org",
        is_expert=expert,
    )
    evidence = assessor_record_create(
        enrolment=enrolment,
        assessor=assessor,
        kind=Kind.WITNESS_TESTIMONY,
        details=record_details(title="Witness: complaint call"),
        witness=witness,
        accounts={criterion(PLAN, "1.1"): "x"},
    )
    row = evidence.assessor_record
    assert (row.witness_name, row.witness_role, row.witness_relationship, row.witness_contact) == (
        "Sam Patel",
        "Store manager",
        "Line manager",
        "sam@example.org",
    )
    assert row.witness_is_expert is expert
    assert row.statement == "I saw Lena handle the complaint calmly."
    assert evidence.current_version.method == method


def test_witness_testimony_needs_a_named_witness_and_their_statement(enrolment, assessor):
    with pytest.raises(ValidationError) as caught:
        assessor_record_create(
            enrolment=enrolment,
            assessor=assessor,
            kind=Kind.WITNESS_TESTIMONY,
            details=record_details(),
            witness=WitnessDetails(name="  ", statement=""),
            accounts={criterion(PLAN, "1.1"): "x"},
        )
    assert caught.value.message_dict["witness_name"] == ["Give the witness's name."]
    assert "statement" in caught.value.message_dict
    assert not Evidence.objects.exists()
    assert not Notice.objects.exists()


def test_a_record_must_show_a_criterion_with_an_account(enrolment, assessor):
    c11 = criterion(PLAN, "1.1")
    with pytest.raises(ValidationError) as caught:
        assessor_record_create(
            enrolment=enrolment, assessor=assessor, kind=Kind.OBSERVATION, details=record_details(), accounts={}
        )
    assert "criteria" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        assessor_record_create(
            enrolment=enrolment,
            assessor=assessor,
            kind=Kind.OBSERVATION,
            details=record_details(description=""),
            accounts={c11: " "},
        )
    assert caught.value.message_dict[f"account-{c11.uuid}"] == ["Say briefly how this record shows 1.1."]
    assert "description" in caught.value.message_dict
    assert not Evidence.objects.exists()


def test_a_record_of_future_work_is_refused_and_nothing_is_left_behind(enrolment, assessor):
    with pytest.raises(ValidationError):
        assessor_record_create(
            enrolment=enrolment,
            assessor=assessor,
            kind=Kind.OBSERVATION,
            details=record_details(activity_date=timezone.localdate() + datetime.timedelta(days=2)),
            accounts={criterion(PLAN, "1.1"): "x"},
        )
    assert not Evidence.objects.exists()
    assert not AssessorRecord.objects.exists()


@pytest.mark.parametrize("who", ["learner", "iqa", "other_assessor", "centre_admin"])
def test_only_the_assigned_assessor_writes_a_record(enrolment, who, request):
    with pytest.raises(PermissionDenied):
        assessor_record_create(
            enrolment=enrolment,
            assessor=person(who, request),
            kind=Kind.OBSERVATION,
            details=record_details(),
            accounts={criterion(PLAN, "1.1"): "x"},
        )
    assert not Evidence.objects.exists()


def test_the_learners_confirmation_submits_the_record_with_a_declaration(record, learner):
    version = assessor_record_confirm(evidence=record, learner=learner, confirmed=True)
    version.refresh_from_db()
    assert version.status == Status.SUBMITTED
    assert version.submitted_at is not None
    declaration = Declaration.objects.get(version=version)
    assert declaration.learner == learner
    assert declaration.statement == RECORD_CONFIRMATION_STATEMENT
    # Submitted like any evidence: its criteria now await the assessor's decision.
    states = {cid: s for up in progress_for([record.enrolment])[record.enrolment_id] for cid, s in up.criteria.items()}
    assert states[criterion(PLAN, "1.1").pk] is State.AWAITING


def test_confirmation_needs_the_tick_and_is_given_once(record, learner):
    with pytest.raises(ValidationError) as caught:
        assessor_record_confirm(evidence=record, learner=learner, confirmed=False)
    assert "confirmed" in caught.value.message_dict
    assert record.versions.get().status == Status.DRAFT
    assessor_record_confirm(evidence=record, learner=learner, confirmed=True)
    with pytest.raises(ValidationError, match="already been confirmed"):
        assessor_record_confirm(evidence=record, learner=learner, confirmed=True)
    assert Declaration.objects.count() == 1


@pytest.mark.parametrize("who", ["assessor", "iqa", "centre_admin"])
def test_only_the_learner_confirms(record, who, request):
    with pytest.raises(PermissionDenied):
        assessor_record_confirm(evidence=record, learner=person(who, request), confirmed=True)
    assert record.versions.get().status == Status.DRAFT


def test_the_learners_own_evidence_is_not_confirmed_this_way(enrolment, learner):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    with pytest.raises(PermissionDenied):
        assessor_record_confirm(evidence=evidence, learner=learner, confirmed=True)


# ---------------------------------------------------------------------------------------------
# Writing a record: the page
# ---------------------------------------------------------------------------------------------


def record_post(**overrides) -> dict:
    c11 = criterion(PLAN, "1.1")
    return {
        "kind": "observation",
        "title": "Observation: complaint call",
        "activity_date": "2026-10-06",
        "location": "Leeds",
        "description": "Lena took a complaint call and resolved it.",
        f"claim-{c11.uuid}": "1",
        f"account-{c11.uuid}": "She explained the service offer.",
        **overrides,
    }


def test_assessor_writes_an_observation_and_lands_on_the_evidence(client, enrolment, assessor, learner):
    client.force_login(assessor)
    url = reverse("assessments:record_create", args=[enrolment.uuid])
    html = client.get(url, {"kind": "observation"}).content.decode()
    assert '<option value="observation" selected>' in html
    assert "The witness" not in html
    assert "How does this record show 1.1?" in html
    response = client.post(url, record_post())
    evidence = Evidence.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("portfolio:evidence", args=[evidence.uuid])
    assert evidence.assessor_record.kind == Kind.OBSERVATION
    assert evidence.current_version.claims.get().account == "She explained the service offer."
    assert Notice.objects.filter(recipient=learner, kind=Notice.Kind.RECORD_TO_CONFIRM).exists()


def test_witness_fields_appear_for_a_witness_testimony(client, enrolment, assessor):
    client.force_login(assessor)
    url = reverse("assessments:record_create", args=[enrolment.uuid])
    html = client.get(url, {"kind": "witness_testimony"}).content.decode()
    assert "<legend" in html
    assert "The witness" in html
    assert "Witness&#x27;s name" in html or "Witness's name" in html
    assert "An expert witness" in html
    assert 'id="witness-fields"' in client.get(url, {"kind": "bogus"}).content.decode()


def test_witness_name_is_required_and_every_problem_is_shown_at_once(client, enrolment, assessor):
    client.force_login(assessor)
    c11 = criterion(PLAN, "1.1")
    data = record_post(
        kind="witness_testimony",
        witness_role="Store manager",
        statement="I saw it.",
        title="",
        **{f"account-{c11.uuid}": ""},
    )
    response = client.post(reverse("assessments:record_create", args=[enrolment.uuid]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "The record was not saved" in html
    assert "Give the witness&#x27;s name." in html
    assert 'aria-describedby="id_witness_name_error"' in html
    assert "Give the record a title." in html
    assert "Say briefly how this record shows 1.1." in html
    assert f'aria-describedby="account-{c11.uuid}-error"' in html
    assert "Store manager" in html
    assert "I saw it." in html
    assert f'id="claim-{c11.uuid}" value="1" checked' in html
    assert not Evidence.objects.exists()


def test_a_record_with_no_criteria_says_so(client, enrolment, assessor):
    client.force_login(assessor)
    data = {k: v for k, v in record_post().items() if not k.startswith(("claim-", "account-"))}
    html = client.post(reverse("assessments:record_create", args=[enrolment.uuid]), data).content.decode()
    assert "Choose at least one criterion this record shows" in html
    assert not Evidence.objects.exists()


def test_expert_witness_from_the_page(client, enrolment, assessor):
    client.force_login(assessor)
    data = record_post(kind="witness_testimony", witness_name="Dr Rao", statement="Competent.", witness_is_expert="on")
    assert client.post(reverse("assessments:record_create", args=[enrolment.uuid]), data).status_code == 303
    evidence = Evidence.objects.get()
    assert evidence.assessor_record.witness_is_expert
    assert evidence.current_version.method == Method.EXPERT_WITNESS


def test_witness_fields_are_ignored_for_other_kinds(client, enrolment, assessor):
    client.force_login(assessor)
    data = record_post(witness_name="Nobody", statement="Stray")
    assert client.post(reverse("assessments:record_create", args=[enrolment.uuid]), data).status_code == 303
    row = AssessorRecord.objects.get()
    assert (row.witness_name, row.statement) == ("", "")


@pytest.mark.parametrize(
    ("who", "status"),
    # Another assessor at the centre cannot see the portfolio at all (accounts.policy), so 404.
    [("learner", 403), ("iqa", 403), ("centre_admin", 403), ("other_assessor", 404), ("outsider", 404)],
)
def test_only_the_assigned_assessor_opens_the_record_form(client, enrolment, who, status, request):
    client.force_login(person(who, request))
    url = reverse("assessments:record_create", args=[enrolment.uuid])
    assert client.get(url).status_code == status
    assert client.post(url, record_post()).status_code == status
    assert not Evidence.objects.exists()


# ---------------------------------------------------------------------------------------------
# Confirming a record: the page
# ---------------------------------------------------------------------------------------------


def test_learner_reads_and_confirms_the_record(client, record, learner):
    client.force_login(learner)
    url = reverse("assessments:record_confirm", args=[record.uuid])
    html = client.get(url).content.decode()
    assert "Lena briefed six advisers" in html
    assert "Explained the service offer." in html
    assert RECORD_CONFIRMATION_STATEMENT in html

    response = client.post(url, {})
    assert response.status_code == 200
    assert "Tick the box to confirm the record is accurate." in response.content.decode()
    assert record.versions.get().status == Status.DRAFT

    response = client.post(url, {"confirmed": "on"})
    assert response.status_code == 303
    assert response["Location"] == reverse("portfolio:evidence", args=[record.uuid])
    version = record.versions.get()
    assert version.status == Status.SUBMITTED
    assert version.declaration.statement == RECORD_CONFIRMATION_STATEMENT

    again = client.get(url)  # a second visit, e.g. from the notice: nothing left to confirm
    assert again.status_code == 303
    assert Declaration.objects.count() == 1


def test_witness_testimony_is_shown_in_full_to_the_learner(client, enrolment, assessor, learner):
    evidence = assessor_record_create(
        enrolment=enrolment,
        assessor=assessor,
        kind=Kind.WITNESS_TESTIMONY,
        details=record_details(),
        witness=WitnessDetails(name="Sam Patel", statement="Calm and clear.", contact="sam@example.org"),
        accounts={criterion(PLAN, "1.1"): "x"},
    )
    client.force_login(learner)
    html = client.get(reverse("assessments:record_confirm", args=[evidence.uuid])).content.decode()
    assert "Sam Patel" in html
    assert "Calm and clear." in html
    assert "sam@example.org" in html


@pytest.mark.parametrize(("who", "status"), [("assessor", 403), ("iqa", 403), ("centre_admin", 403), ("outsider", 404)])
def test_only_the_learner_confirms_a_record_page(client, record, who, status, request):
    client.force_login(person(who, request))
    url = reverse("assessments:record_confirm", args=[record.uuid])
    assert client.get(url).status_code == status
    assert client.post(url, {"confirmed": "on"}).status_code == status
    assert record.versions.get().status == Status.DRAFT


def test_the_learners_own_evidence_has_nothing_to_confirm(client, enrolment, learner):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    client.force_login(learner)
    response = client.post(reverse("assessments:record_confirm", args=[evidence.uuid]), {"confirmed": "on"})
    assert response.status_code == 303
    assert evidence.versions.get().status == Status.DRAFT
    assert not Declaration.objects.exists()


def test_portfolio_page_asks_the_learner_to_confirm_a_record(client, record, learner, assessor):
    url = reverse("portfolio:portfolio", args=[record.enrolment.uuid])
    client.force_login(learner)
    html = client.get(url).content.decode()
    assert "Awaiting the learner\u2019s confirmation" in html
    assert reverse("assessments:record_confirm", args=[record.uuid]) in html
    client.force_login(assessor)
    html = client.get(url).content.decode()
    assert "Awaiting the learner\u2019s confirmation" in html
    assert reverse("assessments:record_confirm", args=[record.uuid]) not in html


def test_confirmed_record_claims_stay_the_assessors(record, learner, assessor):
    assessor_record_confirm(evidence=record, learner=learner, confirmed=True)
    assert set(Claim.objects.filter(version__evidence=record).values_list("added_by", flat=True)) == {assessor.pk}
