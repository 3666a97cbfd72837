"""The audit trail: every write service records one event in its own transaction, events are
append-only, and the portfolio's trail page (and its CSV) shows them to the people allowed to read it.
"""

import csv
import datetime
import io
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from accounts.models import AccessGrant, Centre, User
from assessments.models import Decision
from assessments.services import decisions as decision_services
from assessments.services.decisions import Addition, Judgement, decisions_record
from assessments.services.plans import ActivityInput, plan_create, plan_sign, review_create, review_sign
from assessments.services.records import RecordDetails, assessor_record_confirm, assessor_record_create
from assessments.services.signoff import unit_countersign, unit_sign_off
from portfolio.models import AuditEvent, Claim, Enrolment, EvidenceVersion
from portfolio.services.audit import audit
from portfolio.services.enrolments import enrolment_reassign
from portfolio.services.evidence import (
    evidence_create,
    evidence_new_version,
    evidence_submit,
    evidence_update,
    mapping_set,
)
from portfolio.services.files import file_attach, file_detach
from tests.assessments.test_signoff import make_ready
from tests.browser.conftest import assert_accessible
from tests.browser.test_learner_reads_a_unit import log_in_with_the_keyboard
from tests.factories import UserFactory
from tests.helpers import MANAGE, PLAN, criterion, details, enrol
from units.models import Unit

Action = AuditEvent.Action
UTC = datetime.UTC


# --- Helpers -----------------------------------------------------------------------------------


class Recorded:
    """The events written inside a `one_event` block (filled in when it ends)."""

    event: AuditEvent


@contextmanager
def one_event(action: AuditEvent.Action) -> Iterator[Recorded]:
    """Exactly one new audit event, of `action`, must be written inside the block."""
    seen = set(AuditEvent.objects.values_list("pk", flat=True))
    recorded = Recorded()
    yield recorded
    new = list(AuditEvent.objects.exclude(pk__in=seen).order_by("pk"))
    assert [e.action for e in new] == [action]
    recorded.event = new[0]


def assert_event(event: AuditEvent, *, actor: User | None, enrolment: Enrolment, obj: object, ip: str | None = None):
    assert event.actor == actor
    assert event.enrolment == enrolment
    assert event.centre_id == enrolment.centre_id
    assert event.object_type == obj._meta.model_name
    assert event.object_uuid == obj.uuid
    assert event.ip_address == ip
    assert event.at.tzinfo is not None
    assert abs((timezone.now() - event.at).total_seconds()) < 60


def pdf_bytes(colour: str = "white") -> bytes:
    buffer = io.BytesIO()
    fixed = time.gmtime(datetime.datetime(2026, 1, 1, tzinfo=UTC).timestamp())  # equal calls, equal bytes
    Image.new("RGB", (8, 8), colour).save(buffer, "PDF", creationDate=fixed, modDate=fixed)
    return buffer.getvalue()


def png_bytes(colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(buffer, "PNG")
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def submitted(enrolment: Enrolment, numbers=("1.1", "1.2"), title="Team briefing notes") -> EvidenceVersion:
    learner = enrolment.learner
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details(title=title))
    version = evidence.current_version
    mapping_set(
        version=version, by=learner, accounts={criterion(PLAN, n): f"How it shows {n}" for n in numbers}, items=[]
    )
    return evidence_submit(version=version, by=learner, declared=True)


def make_event(enrolment: Enrolment, *, at: datetime.datetime, actor: User | None = None, **fields) -> AuditEvent:
    """An event written straight to the table (inserts are allowed), with a chosen time."""
    values = {
        "action": Action.EVIDENCE_CREATED,
        "object_type": "evidence",
        "summary": "Something happened",
        "ip_address": "192.0.2.10",
    }
    return AuditEvent.objects.create(
        at=at, actor=actor, enrolment=enrolment, centre_id=enrolment.centre_id, **{**values, **fields}
    )


def audit_url(enrolment: Enrolment, **params) -> str:
    url = reverse("portfolio:audit", args=[enrolment.uuid])
    return f"{url}?{urlencode(params)}" if params else url


@pytest.fixture
def grant(eqa, centre, centre_admin) -> AccessGrant:
    now = timezone.now()
    return AccessGrant.objects.create(
        centre=centre,
        eqa=eqa,
        whole_centre=True,
        granted_by=centre_admin,
        granted_at=now,
        expires_at=now + datetime.timedelta(days=30),
    )


# --- Enrolments --------------------------------------------------------------------------------


def test_enrolling_records_who_enrolled_whom_with_the_people_and_units(
    specifications, learner, assessor, iqa, centre_admin
):
    with one_event(Action.ENROLLED) as recorded:
        enrolment = enrol(learner, assessor=assessor, iqa=iqa, by=centre_admin)
    event = recorded.event
    assert_event(event, actor=centre_admin, enrolment=enrolment, obj=enrolment)
    assert event.summary == f"{centre_admin} enrolled {learner} on {enrolment.qualification.title}"
    assert event.detail["learner"] == {"uuid": str(learner.uuid), "name": str(learner)}
    assert event.detail["assessor"]["uuid"] == str(assessor.uuid)
    assert event.detail["iqa"]["uuid"] == str(iqa.uuid)
    assert len(event.detail["units"]) == 2
    assert event.detail["start_date"] == "2026-09-01"


def test_reassigning_records_the_old_and_the_new_person_and_why(enrolment, assessor, centre_admin, centre):
    successor = UserFactory(role=User.Role.ASSESSOR, centre=centre)
    with one_event(Action.REASSIGNED) as recorded:
        enrolment_reassign(enrolment=enrolment, role="assessor", person=successor, by=centre_admin, reason="Leave")
    event = recorded.event
    assert_event(event, actor=centre_admin, enrolment=enrolment, obj=enrolment)
    assert event.detail == {
        "role": "assessor",
        "from": {"uuid": str(assessor.uuid), "name": str(assessor)},
        "to": {"uuid": str(successor.uuid), "name": str(successor)},
        "reason": "Leave",
    }
    assert (
        event.summary
        == f"{centre_admin} changed the assessor from {assessor} to {successor} for {enrolment.learner}: Leave"
    )


def test_unassigning_records_nobody_as_the_new_person(enrolment, iqa, centre_admin):
    with one_event(Action.REASSIGNED) as recorded:
        enrolment_reassign(enrolment=enrolment, role="iqa", person=None, by=centre_admin, reason="Gone")
    assert recorded.event.detail["from"]["uuid"] == str(iqa.uuid)
    assert recorded.event.detail["to"] is None
    assert recorded.event.summary.startswith(f"{centre_admin} unassigned {iqa} as IQA")


# --- Evidence ----------------------------------------------------------------------------------


def test_each_evidence_service_writes_its_own_event(enrolment, learner):
    with one_event(Action.EVIDENCE_CREATED) as created:
        evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    assert_event(created.event, actor=learner, enrolment=enrolment, obj=evidence)
    assert created.event.summary == f"{learner} created the evidence “Team briefing notes”"
    assert created.event.detail == {"version": 1, "method": "work_product"}

    version = evidence.current_version
    with one_event(Action.EVIDENCE_EDITED) as edited:
        evidence_update(version=version, by=learner, details=details(title="Monday briefing", location="Leeds"))
    assert_event(edited.event, actor=learner, enrolment=enrolment, obj=evidence)
    assert edited.event.detail == {"version": 1, "changed": ["title", "location"]}

    accounts = {criterion(PLAN, "1.1"): "I planned it.", criterion(MANAGE, "1.1"): "And managed it."}
    with one_event(Action.MAPPING_CHANGED) as mapped:
        mapping_set(version=version, by=learner, accounts=accounts, items=[])
    assert_event(mapped.event, actor=learner, enrolment=enrolment, obj=evidence)
    plan_title, manage_title = Unit.objects.get(key=PLAN).title, Unit.objects.get(key=MANAGE).title
    assert mapped.event.detail["criteria"] == {manage_title: ["1.1"], plan_title: ["1.1"]}
    assert mapped.event.detail["added"] == mapped.event.detail["criteria"]
    assert mapped.event.detail["removed"] == {}

    with one_event(Action.MAPPING_CHANGED) as remapped:
        mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.2"): "Better."}, items=[])
    assert remapped.event.detail["added"] == {plan_title: ["1.2"]}
    assert remapped.event.detail["removed"] == {manage_title: ["1.1"], plan_title: ["1.1"]}
    assert "to 1.2" in remapped.event.summary

    with one_event(Action.EVIDENCE_SUBMITTED) as sent:
        evidence_submit(version=version, by=learner, declared=True)
    assert_event(sent.event, actor=learner, enrolment=enrolment, obj=evidence)
    assert sent.event.summary == f"{learner} submitted “Monday briefing” version 1"
    assert sent.event.detail["version"] == 1
    assert len(sent.event.detail["files_sha256"]) == 64

    with one_event(Action.EVIDENCE_VERSIONED) as versioned:
        draft = evidence_new_version(evidence=evidence, by=learner)
    assert_event(versioned.event, actor=learner, enrolment=enrolment, obj=evidence)
    assert versioned.event.detail == {"version": 2, "from_version": 1}
    assert draft.number == 2

    # Asking again while the draft exists changes nothing, so records nothing.
    before = AuditEvent.objects.count()
    evidence_new_version(evidence=evidence, by=learner)
    assert AuditEvent.objects.count() == before


def test_a_refused_write_records_nothing(enrolment, learner):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        evidence_create(enrolment=enrolment, by=learner, details=details(title="  "))
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    with pytest.raises(ValidationError):
        evidence_submit(version=evidence.current_version, by=learner, declared=False)
    assert AuditEvent.objects.count() == before + 1  # the create only


def test_an_event_rolls_back_with_its_change(enrolment, learner):
    before = AuditEvent.objects.count()

    class Undone(Exception):
        pass

    def create_then_fail() -> None:
        with transaction.atomic():
            evidence_create(enrolment=enrolment, by=learner, details=details(title="Rolled back"))
            assert AuditEvent.objects.count() == before + 1
            raise Undone

    with pytest.raises(Undone):
        create_then_fail()
    assert AuditEvent.objects.count() == before
    assert not EvidenceVersion.objects.filter(title="Rolled back").exists()


def test_a_validation_error_after_the_audit_call_leaves_no_event(enrolment, assessor, monkeypatch):
    version = submitted(enrolment)
    before = AuditEvent.objects.count()

    def refuse(*args, **kwargs):
        raise ValidationError("The learner could not be told.")

    monkeypatch.setattr(decision_services, "_notify_learner", refuse)  # runs after the events are written
    claim = Claim.objects.select_related("criterion").get(version=version, criterion__number="1.1")
    with pytest.raises(ValidationError):
        decisions_record(
            version=version,
            assessor=assessor,
            judgements=[Judgement(claim=claim, outcome=Decision.Outcome.MET, feedback="", expected=None)],
            additions=[],
            reauthenticated=True,
        )
    assert AuditEvent.objects.count() == before
    assert not Decision.objects.exists()


# --- Files -------------------------------------------------------------------------------------


def test_attaching_removing_and_attaching_again_are_each_recorded(enrolment, learner):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    version = evidence.current_version
    content = pdf_bytes()
    with one_event(Action.FILE_ATTACHED) as attached:
        stored = file_attach(version=version, upload=upload("rota.pdf", content), by=learner).file
    assert_event(attached.event, actor=learner, enrolment=enrolment, obj=stored)
    assert attached.event.detail["evidence"] == str(evidence.uuid)
    assert attached.event.detail["sha256"] == stored.sha256
    assert attached.event.detail["reused"] is False
    assert attached.event.summary == f"{learner} attached “rota.pdf” to “Team briefing notes” (version 1)"

    # Submit and start version 2, so the file stays held by version 1 when taken off the draft.
    mapping_set(version=version, by=learner, accounts={criterion(PLAN, "1.1"): "x"}, items=[])
    evidence_submit(version=version, by=learner, declared=True)
    draft = evidence_new_version(evidence=evidence, by=learner)
    with one_event(Action.FILE_REMOVED) as removed:
        file_detach(version=draft, file=stored, by=learner)
    assert_event(removed.event, actor=learner, enrolment=enrolment, obj=stored)
    assert removed.event.detail["deleted"] is False
    assert removed.event.detail["version"] == 2

    with one_event(Action.FILE_ATTACHED) as again:
        file_attach(version=draft, upload=upload("rota.pdf", content), by=learner)
    assert again.event.detail["reused"] is True
    assert again.event.object_uuid == stored.uuid


def test_removing_a_files_last_use_records_that_it_was_deleted(enrolment, learner):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    stored = file_attach(version=evidence.current_version, upload=upload("a.pdf", pdf_bytes()), by=learner).file
    with one_event(Action.FILE_REMOVED) as removed:
        file_detach(version=evidence.current_version, file=stored, by=learner)
    assert removed.event.detail["deleted"] is True
    assert removed.event.object_uuid == stored.uuid


def test_a_refused_upload_records_nothing(enrolment, learner):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        file_attach(version=evidence.current_version, upload=upload("empty.pdf", b""), by=learner)
    assert AuditEvent.objects.count() == before


def test_downloads_and_pdf_previews_are_recorded_with_the_address(client, enrolment, learner, iqa):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    pdf = file_attach(version=evidence.current_version, upload=upload("a.pdf", pdf_bytes()), by=learner).file
    png = file_attach(version=evidence.current_version, upload=upload("b.png", png_bytes()), by=learner).file
    client.force_login(iqa)

    with one_event(Action.FILE_DOWNLOADED) as downloaded:
        response = client.get(reverse("portfolio:file_download", args=[pdf.uuid]))
        b"".join(response.streaming_content)
    assert response.status_code == 200
    assert_event(downloaded.event, actor=iqa, enrolment=enrolment, obj=pdf, ip="127.0.0.1")
    assert downloaded.event.detail["preview"] is False
    assert downloaded.event.summary == f"{iqa} downloaded “a.pdf”"

    with one_event(Action.FILE_DOWNLOADED) as previewed:
        client.get(reverse("portfolio:file_preview", args=[pdf.uuid]))
    assert previewed.event.detail["preview"] is True

    # Thumbnails load by themselves with every evidence page: not recorded.
    before = AuditEvent.objects.count()
    assert client.get(reverse("portfolio:file_preview", args=[png.uuid])).status_code == 200
    assert AuditEvent.objects.count() == before


def test_a_download_refused_or_missing_records_nothing(client, enrolment, learner, outsider):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    pdf = file_attach(version=evidence.current_version, upload=upload("a.pdf", pdf_bytes()), by=learner).file
    before = AuditEvent.objects.count()
    client.force_login(outsider)
    assert client.get(reverse("portfolio:file_download", args=[pdf.uuid])).status_code == 404
    default_storage.delete(pdf.storage_name)
    client.force_login(learner)
    assert client.get(reverse("portfolio:file_download", args=[pdf.uuid])).status_code == 404
    assert AuditEvent.objects.count() == before


# --- Through the pages: who and from where ----------------------------------------------------


def test_creating_and_submitting_through_the_pages_records_the_address(client, enrolment, learner):
    client.force_login(learner)
    form = {
        "title": "Rota I wrote",
        "method": "work_product",
        "description": "The December rota.",
        "activity_date": "2026-10-05",
        "activity_end_date": "",
        "location": "",
    }
    with one_event(Action.EVIDENCE_CREATED) as created:
        client.post(reverse("portfolio:evidence_create", args=[enrolment.uuid]), form)
    evidence = enrolment.evidence.get()
    assert_event(created.event, actor=learner, enrolment=enrolment, obj=evidence, ip="127.0.0.1")
    mapping_set(version=evidence.current_version, by=learner, accounts={criterion(PLAN, "1.1"): "x"}, items=[])

    with one_event(Action.EVIDENCE_SUBMITTED) as sent:
        response = client.post(
            reverse("portfolio:evidence_submit", args=[evidence.uuid]), {"declared": "on"}, REMOTE_ADDR="203.0.113.7"
        )
    assert response.status_code == 302
    assert_event(sent.event, actor=learner, enrolment=enrolment, obj=evidence, ip="203.0.113.7")


def test_a_forwarded_address_is_ignored_unless_the_proxy_is_trusted(client, enrolment, learner, settings):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    pdf = file_attach(version=evidence.current_version, upload=upload("a.pdf", pdf_bytes()), by=learner).file
    client.force_login(learner)
    url = reverse("portfolio:file_download", args=[pdf.uuid])
    with one_event(Action.FILE_DOWNLOADED) as untrusted:
        client.get(url, headers={"X-Forwarded-For": "198.51.100.1"})
    assert untrusted.event.ip_address == "127.0.0.1"
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    with one_event(Action.FILE_DOWNLOADED) as trusted:
        client.get(url, headers={"X-Forwarded-For": "198.51.100.1, 192.0.2.99"})
    assert trusted.event.ip_address == "192.0.2.99"


# --- Assessment --------------------------------------------------------------------------------


def test_each_decision_is_recorded_with_its_criterion_and_outcome(enrolment, assessor):
    version = submitted(enrolment)
    claims = {c.criterion.number: c for c in Claim.objects.select_related("criterion").filter(version=version)}
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    decisions = decisions_record(
        version=version,
        assessor=assessor,
        judgements=[
            Judgement(claim=claims["1.1"], outcome=Decision.Outcome.MET, feedback="", expected=None),
            Judgement(claim=claims["1.2"], outcome=Decision.Outcome.NOT_YET_MET, feedback="More.", expected=None),
        ],
        additions=[Addition(criterion=criterion(PLAN, "1.3"), reason="It shows it.", outcome=Decision.Outcome.MET)],
        reauthenticated=True,
    )
    events = list(AuditEvent.objects.exclude(pk__in=before).order_by("pk"))
    assert [e.action for e in events] == [Action.DECISION_RECORDED] * 3
    for event, decision in zip(events, decisions, strict=True):
        assert_event(event, actor=assessor, enrolment=enrolment, obj=decision)
    plan_title = Unit.objects.get(key=PLAN).title
    assert [(e.detail["criterion"], e.detail["outcome"], e.detail["added"]) for e in events] == [
        ("1.1", "met", False),
        ("1.2", "not_yet_met", False),
        ("1.3", "met", True),
    ]
    assert {e.detail["unit"] for e in events} == {plan_title}
    assert events[1].detail["feedback"] == "More."
    assert events[0].detail["evidence"] == str(version.evidence.uuid)
    assert events[0].summary == f"{assessor} judged 1.1 met on “Team briefing notes” (version 1)"
    assert events[2].summary == f"{assessor} added 1.3 to “Team briefing notes” (version 1) as met"


def test_sign_off_and_countersignature_are_recorded(enrolment, assessor, learner):
    make_ready(enrolment, assessor)
    unit = Unit.objects.get(key=PLAN)
    with one_event(Action.UNIT_SIGNED_OFF) as signed:
        sign_off = unit_sign_off(enrolment=enrolment, unit=unit, assessor=assessor, reauthenticated=True)
    assert_event(signed.event, actor=assessor, enrolment=enrolment, obj=sign_off)
    assert signed.event.detail["unit"] == str(unit.uuid)
    assert signed.event.detail["reauthenticated"] is True
    with one_event(Action.UNIT_COUNTERSIGNED) as countersigned:
        unit_countersign(sign_off=sign_off, learner=learner, reauthenticated=True)
    assert_event(countersigned.event, actor=learner, enrolment=enrolment, obj=sign_off)


def test_a_refused_sign_off_records_nothing(enrolment, assessor):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        unit_sign_off(enrolment=enrolment, unit=Unit.objects.get(key=PLAN), assessor=assessor, reauthenticated=True)
    assert AuditEvent.objects.count() == before


def test_plans_and_reviews_record_their_writing_and_each_signature(enrolment, assessor, learner):
    activity = ActivityInput("Plan the rota", datetime.date(2026, 12, 1), criteria=(criterion(PLAN, "1.1"),))
    with one_event(Action.PLAN_CREATED) as created:
        plan = plan_create(enrolment=enrolment, assessor=assessor, title="Rota plan", activities=[activity])
    assert_event(created.event, actor=assessor, enrolment=enrolment, obj=plan)
    assert created.event.detail["activities"] == 1
    for person, signer in ((assessor, "assessor"), (learner, "learner")):
        with one_event(Action.PLAN_SIGNED) as signed:
            plan_sign(plan=plan, by=person, reauthenticated=True)
        assert_event(signed.event, actor=person, enrolment=enrolment, obj=plan)
        assert signed.event.detail == {"signer": signer}
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        plan_sign(plan=plan, by=learner, reauthenticated=True)  # a signature is given once
    assert AuditEvent.objects.count() == before

    with one_event(Action.REVIEW_CREATED) as reviewed:
        review = review_create(
            plan=plan, assessor=assessor, reviewed_on=datetime.date(2026, 11, 2), achieved="Done.", next_steps=""
        )
    assert_event(reviewed.event, actor=assessor, enrolment=enrolment, obj=review)
    assert reviewed.event.detail == {"plan": str(plan.uuid), "reviewed_on": "2026-11-02"}
    with one_event(Action.REVIEW_SIGNED) as review_signed:
        review_sign(review=review, by=learner, reauthenticated=True)
    assert_event(review_signed.event, actor=learner, enrolment=enrolment, obj=review)
    assert review_signed.event.detail["signer"] == "learner"


def test_an_assessor_record_is_one_event_written_and_one_confirmed(enrolment, assessor, learner):
    with one_event(Action.RECORD_CREATED) as created:
        evidence = assessor_record_create(
            enrolment=enrolment,
            assessor=assessor,
            kind="observation",
            details=RecordDetails(
                title="Briefing observed",
                description="Lena ran the briefing.",
                activity_date=datetime.date(2026, 10, 1),
            ),
            accounts={criterion(PLAN, "1.1"): "Seen doing it."},
        )
    assert_event(created.event, actor=assessor, enrolment=enrolment, obj=evidence)
    assert created.event.detail["kind"] == "observation"
    assert created.event.detail["criteria"] == {Unit.objects.get(key=PLAN).title: ["1.1"]}
    assert created.event.summary == f"{assessor} wrote an observation record “Briefing observed” showing 1.1"
    with one_event(Action.RECORD_CONFIRMED) as confirmed:
        assessor_record_confirm(evidence=evidence, learner=learner, confirmed=True)
    assert_event(confirmed.event, actor=learner, enrolment=enrolment, obj=evidence)
    assert confirmed.event.detail["version"] == 1


# --- Append-only -------------------------------------------------------------------------------


def test_events_cannot_be_saved_again_or_deleted(enrolment):
    event = AuditEvent.objects.filter(enrolment=enrolment).first() or make_event(enrolment, at=timezone.now())
    event.summary = "Rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).summary != "Rewritten"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE portfolio_auditevent SET summary = 'Rewritten' WHERE id = %s",
        "DELETE FROM portfolio_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_event(enrolment, sql):
    event = make_event(enrolment, at=timezone.now())
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="Rewritten")  # the ORM's bulk paths too
    assert AuditEvent.objects.get(pk=event.pk).summary == "Something happened"


@pytest.mark.django_db(transaction=True)
def test_audit_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="transaction"):
        audit(None, Action.ENROLLED, Centre(name="Nowhere"), summary="Outside")
    assert not AuditEvent.objects.exists()


# --- The trail page ----------------------------------------------------------------------------


@pytest.fixture
def trail(enrolment, learner, assessor) -> list[AuditEvent]:
    """Four events at known times (UTC), by known people, beside whatever enrolling wrote."""
    return [
        make_event(
            enrolment,
            at=datetime.datetime(2026, 7, 1, 23, 30, tzinfo=UTC),  # 2 July 00:30 in London (BST)
            actor=learner,
            summary="Lena created the evidence “Rota”",
            object_type="evidence",
        ),
        make_event(
            enrolment,
            at=datetime.datetime(2026, 7, 2, 9, 0, tzinfo=UTC),
            actor=learner,
            action=Action.EVIDENCE_SUBMITTED,
            summary="Lena submitted “Rota” version 1",
        ),
        make_event(
            enrolment,
            at=datetime.datetime(2026, 7, 3, 14, 5, 9, tzinfo=UTC),
            actor=assessor,
            action=Action.DECISION_RECORDED,
            object_type="decision",
            summary="Asha judged 1.1 met on “Rota” (version 1)",
        ),
        make_event(
            enrolment,
            at=datetime.datetime(2026, 7, 4, 8, 0, tzinfo=UTC),
            actor=None,
            action=Action.EXPORT_FAILED,
            object_type="exportjob",
            summary='=HYPERLINK("http://example.com") export failed',
            ip_address=None,
        ),
    ]


def shown(response) -> list[str]:
    """The summaries in the trail's table, in order."""
    page = response.content.decode()
    table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [row.split('<td class="text-break">', 1)[1].split("</td>", 1)[0] for row in table.split("<tr>")[1:]]


def test_the_trail_shows_events_newest_first_with_utc_times(client, iqa, enrolment, trail):
    client.force_login(iqa)
    response = client.get(audit_url(enrolment))
    assert response.status_code == 200
    html = response.content.decode()
    assert [s for s in shown(response) if not s.startswith("The system enrolled")] == [
        "=HYPERLINK(&quot;http://example.com&quot;) export failed",
        "Asha judged 1.1 met on “Rota” (version 1)",
        "Lena submitted “Rota” version 1",
        "Lena created the evidence “Rota”",
    ]
    assert "2026-07-03 14:05:09 UTC" in html
    assert "2026-07-01 23:30:00 UTC" in html  # UTC, not London's 00:30 the next day
    assert "<caption>" in html
    assert 'scope="col"' in html
    assert 'scope="row"' in html
    assert "192.0.2.10" in html
    assert "Not recorded" in html
    assert "Assessment decision signed" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "evidence_submitted"}, ["Lena submitted “Rota” version 1"]),
        ({"object_type": "decision"}, ["Asha judged 1.1 met on “Rota” (version 1)"]),
        ({"text": "JUDGED"}, ["Asha judged 1.1 met on “Rota” (version 1)"]),
        # Days are UTC days: 23:30 UTC on 1 July is on 1 July, though it is 2 July in London.
        (
            {"date_from": "2026-07-02", "date_to": "2026-07-03"},
            ["Asha judged 1.1 met on “Rota” (version 1)", "Lena submitted “Rota” version 1"],
        ),
        ({"date_to": "2026-07-01"}, ["Lena created the evidence “Rota”"]),
        ({"date_from": "2026-07-01", "date_to": "2026-07-01"}, ["Lena created the evidence “Rota”"]),
    ],
)
def test_the_filters(client, centre_admin, enrolment, trail, params, expected):
    client.force_login(centre_admin)
    response = client.get(audit_url(enrolment, **params))
    assert response.status_code == 200
    assert shown(response) == expected


def test_filtering_by_who(client, iqa, enrolment, trail, learner, assessor):
    client.force_login(iqa)
    assert shown(client.get(audit_url(enrolment, actor=assessor.uuid))) == ["Asha judged 1.1 met on “Rota” (version 1)"]
    assert len(shown(client.get(audit_url(enrolment, actor=learner.uuid)))) == 2
    # Only people who appear in this trail are offered.
    html = client.get(audit_url(enrolment)).content.decode()
    assert f'value="{assessor.uuid}"' in html
    assert f'value="{iqa.uuid}"' not in html
    response = client.get(audit_url(enrolment, actor=iqa.uuid))
    assert response.status_code == 400
    assert "Choose someone from the list." in response.content.decode()


def test_dates_the_wrong_way_round_are_explained_not_applied(client, iqa, enrolment, trail):
    client.force_login(iqa)
    response = client.get(audit_url(enrolment, date_from="2026-07-03", date_to="2026-07-01"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "The end date is before the start date." in html
    assert 'href="#id_date_to"' in html
    assert (
        client.get(audit_url(enrolment, date_from="2026-07-03", date_to="2026-07-01", format="csv")).status_code == 400
    )


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_holds_the_filtered_events(client, iqa, enrolment, trail, learner):
    client.force_login(iqa)
    response = client.get(audit_url(enrolment, actor=learner.uuid, format="csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="audit-trail-{enrolment.uuid}.csv"'
    header, *rows = csv_rows(response)
    assert header[:4] == ["When (UTC)", "Who", "Role", "What"]
    submitted_event, created_event = trail[1], trail[0]
    assert rows == [
        [
            "2026-07-02 09:00:00 UTC",
            str(learner),
            "Learner",
            "Evidence submitted",
            "evidence_submitted",
            "Evidence",
            "",
            "Lena submitted “Rota” version 1",
            "{}",
            "192.0.2.10",
            str(submitted_event.uuid),
        ],
        [
            "2026-07-01 23:30:00 UTC",
            str(learner),
            "Learner",
            "Evidence created",
            "evidence_created",
            "Evidence",
            "",
            "Lena created the evidence “Rota”",
            "{}",
            "192.0.2.10",
            str(created_event.uuid),
        ],
    ]


def test_the_csv_matches_the_page_and_defuses_formulas(client, iqa, enrolment, trail):
    client.force_login(iqa)
    _, *rows = csv_rows(client.get(audit_url(enrolment, format="csv")))
    assert len(rows) == AuditEvent.objects.filter(enrolment=enrolment).count()
    assert [r[10] for r in rows] == [
        str(u) for u in AuditEvent.objects.filter(enrolment=enrolment).values_list("uuid", flat=True)
    ]
    failed = next(r for r in rows if r[4] == "export_failed")
    assert failed[7].startswith("'=HYPERLINK")
    assert failed[1] == "System"
    assert failed[9] == ""


def test_real_events_carry_their_detail_into_the_csv(client, iqa, enrolment, learner):
    evidence_create(enrolment=enrolment, by=learner, details=details())
    client.force_login(iqa)
    _, *rows = csv_rows(client.get(audit_url(enrolment, action="evidence_created", format="csv")))
    (row,) = rows
    assert json.loads(row[8]) == {"method": "work_product", "version": 1}
    assert row[6] == str(enrolment.evidence.get().uuid)


# session, user, enrolment, its units, people in the trail (the "who" choices), kinds of object,
# the count, the page of events
TRAIL_PAGE_QUERIES = 8


@pytest.mark.parametrize("count", [5, 60])
def test_the_page_query_count_is_fixed(client, iqa, enrolment, learner, assessor, django_assert_num_queries, count):
    start = datetime.datetime(2026, 7, 1, tzinfo=UTC)
    for i in range(count):
        make_event(enrolment, at=start + datetime.timedelta(minutes=i), actor=(learner, assessor)[i % 2])
    client.force_login(iqa)
    with django_assert_num_queries(TRAIL_PAGE_QUERIES):
        response = client.get(audit_url(enrolment))
    assert len(shown(response)) == min(count + 1, 50)  # + the enrolment's own event
    with django_assert_num_queries(TRAIL_PAGE_QUERIES + 1):  # + finding the chosen person
        client.get(audit_url(enrolment, actor=learner.uuid, text="Something", page=2))


def test_pages_of_fifty_with_navigation(client, iqa, enrolment):
    start = datetime.datetime(2026, 7, 1, tzinfo=UTC)
    for i in range(60):
        make_event(enrolment, at=start + datetime.timedelta(minutes=i), summary=f"Event {i}")
    client.force_login(iqa)
    first = client.get(audit_url(enrolment, text="Event"))
    html = first.content.decode()
    assert len(shown(first)) == 50
    assert '<nav aria-label="Pages of audit events">' in html
    assert 'aria-current="page"' in html
    assert "?text=Event&amp;page=2" in html
    assert "Events 1 to 50 of 60, newest first" in html
    second = client.get(audit_url(enrolment, text="Event", page=2))
    assert shown(second) == [f"Event {i}" for i in range(9, -1, -1)]
    # The CSV link keeps the filters and drops the page.
    assert "?text=Event&amp;format=csv" in second.content.decode()


# --- Who may read it ---------------------------------------------------------------------------


def test_the_iqa_centre_admins_and_a_granted_eqa_may_read_the_trail(client, enrolment, iqa, centre_admin, eqa, grant):
    for person in (iqa, centre_admin, eqa):
        client.force_login(person)
        assert client.get(audit_url(enrolment)).status_code == 200
        assert client.get(audit_url(enrolment, format="csv")).status_code == 200


@pytest.mark.parametrize("role", ["learner", "assessor"])
def test_the_learner_and_assessor_are_refused(client, enrolment, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(audit_url(enrolment)).status_code == 403
    assert client.get(audit_url(enrolment, format="csv")).status_code == 403


def test_another_centres_admin_and_an_eqa_without_a_grant_find_nothing(client, enrolment, other_centre, eqa):
    client.force_login(UserFactory(role=User.Role.CENTRE_ADMIN, centre=other_centre))
    assert client.get(audit_url(enrolment)).status_code == 404
    assert client.get(audit_url(enrolment, format="csv")).status_code == 404
    client.force_login(eqa)
    assert client.get(audit_url(enrolment)).status_code == 404


def test_a_stranger_is_sent_to_log_in(client, enrolment):
    response = client.get(audit_url(enrolment))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_trail_is_only_read(client, iqa, enrolment):
    client.force_login(iqa)
    assert client.post(audit_url(enrolment)).status_code == 405


def test_another_portfolios_events_are_not_shown(client, centre_admin, enrolment, centre, specifications):
    other_learner = UserFactory(role=User.Role.LEARNER, centre=centre)
    other = enrol(other_learner, by=centre_admin)
    make_event(other, at=timezone.now(), summary="Not this portfolio")
    client.force_login(centre_admin)
    assert "Not this portfolio" not in shown(client.get(audit_url(enrolment)))


def test_the_portfolio_page_links_to_the_trail_only_for_those_who_may_read_it(
    client, enrolment, learner, assessor, iqa, centre_admin
):
    url = reverse("portfolio:portfolio", args=[enrolment.uuid])
    link = f'href="{audit_url(enrolment)}"'
    for person, sees in ((learner, False), (assessor, False), (iqa, True), (centre_admin, True)):
        client.force_login(person)
        assert (link in client.get(url).content.decode()) is sees, person.role


@pytest.mark.browser
def test_the_iqa_reads_and_filters_the_trail_in_the_browser(page: Page, demo_site: str):
    enrolment = Enrolment.objects.get(learner__username="learner")
    submitted(enrolment, title="Rota I wrote")
    log_in_with_the_keyboard(page, demo_site, "iqa")
    page.goto(f"{demo_site}{reverse('portfolio:portfolio', args=[enrolment.uuid])}")
    page.get_by_role("link", name="Audit trail").click()
    table = page.get_by_role("table", name=re.compile(r"newest first"))
    expect(table).to_contain_text("Priya Shah submitted “Rota I wrote” version 1")
    assert_accessible(page)

    page.get_by_label("What").select_option(label="Evidence submitted")
    page.get_by_role("button", name="Show events").click()
    expect(page.get_by_text("1 event matches the filters.")).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one event
    assert_accessible(page)

    page.get_by_label("From (UTC date)").fill("2026-07-03")
    page.get_by_label("To (UTC date)").fill("2026-07-01")
    page.get_by_role("button", name="Show events").click()
    expect(page.get_by_role("alert")).to_contain_text("The end date is before the start date.")
    assert_accessible(page)
