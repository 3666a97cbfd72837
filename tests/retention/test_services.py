"""Certification, legal holds and retention rules: who may, what is refused, and the audit trail."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from portfolio.models import AuditEvent, Enrolment, LegalHold, RetentionPolicy
from portfolio.services.retention import (
    enrolment_certify,
    legal_hold_place,
    legal_hold_release,
    retention_policy_delete,
    retention_policy_save,
)
from tests.factories import UserFactory

Action = AuditEvent.Action


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-id").first()


@pytest.fixture
def platform_staff(db) -> User:
    return UserFactory(username="pat", role="", centre=None, is_staff=True)


@pytest.fixture
def other_admin(other_centre) -> User:
    return UserFactory(username="oscar", role=User.Role.CENTRE_ADMIN, centre=other_centre)


# --- Certification -------------------------------------------------------------------------------


def test_certifying_completes_the_enrolment_and_is_audited(enrolment, centre_admin):
    day = timezone.localdate() - datetime.timedelta(days=3)

    enrolment_certify(enrolment=enrolment, certified_on=day, by=centre_admin)

    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.certified_on) == (Enrolment.Status.COMPLETED, day)
    event = last_event()
    assert (event.action, event.actor, event.enrolment) == (Action.ENROLMENT_CERTIFIED, centre_admin, enrolment)
    assert event.detail == {"certified_on": day.isoformat(), "previous": None}


def test_a_certification_date_can_be_corrected_until_the_evidence_is_purged(enrolment, centre_admin):
    today = timezone.localdate()
    enrolment_certify(enrolment=enrolment, certified_on=today - datetime.timedelta(days=9), by=centre_admin)
    enrolment_certify(enrolment=enrolment, certified_on=today - datetime.timedelta(days=8), by=centre_admin)
    assert last_event().detail["previous"] == (today - datetime.timedelta(days=9)).isoformat()

    Enrolment.objects.filter(pk=enrolment.pk).update(evidence_purged_at=timezone.now())
    with pytest.raises(ValidationError, match="stands"):
        enrolment_certify(enrolment=enrolment, certified_on=today, by=centre_admin)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"days": 1}, "in the future"),
        ({"start": True}, "before the enrolment started"),
        ({"withdrawn": True}, "withdrew"),
    ],
)
def test_certification_refusals(enrolment, centre_admin, change, message):
    day = timezone.localdate() + datetime.timedelta(days=change.get("days", 0))
    if change.get("start"):
        day = enrolment.start_date - datetime.timedelta(days=1)
    if change.get("withdrawn"):
        Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.WITHDRAWN)
        enrolment.refresh_from_db()
    with pytest.raises(ValidationError, match=message):
        enrolment_certify(enrolment=enrolment, certified_on=day, by=centre_admin)
    assert Enrolment.objects.get(pk=enrolment.pk).certified_on is None


@pytest.mark.parametrize("who", ["assessor", "learner", "other_admin"])
def test_only_the_centre_admin_or_platform_staff_certify(enrolment, request, who, platform_staff):
    with pytest.raises(ValidationError, match="Only an administrator at the learner's centre"):
        enrolment_certify(enrolment=enrolment, certified_on=timezone.localdate(), by=request.getfixturevalue(who))
    enrolment_certify(enrolment=enrolment, certified_on=timezone.localdate(), by=platform_staff)


# --- Legal holds ---------------------------------------------------------------------------------


def test_a_hold_and_its_release_are_separate_rows_each_audited(enrolment, centre_admin, platform_staff):
    hold = legal_hold_place(enrolment=enrolment, reason="  Employment tribunal  ", by=centre_admin)

    assert (hold.reason, hold.placed_by) == ("Employment tribunal", centre_admin)
    placed = last_event()
    assert (placed.action, placed.object_uuid, placed.enrolment) == (Action.LEGAL_HOLD_PLACED, hold.uuid, enrolment)
    assert placed.detail == {"reason": "Employment tribunal"}

    release = legal_hold_release(hold=hold, reason="Tribunal closed", by=platform_staff)

    assert LegalHold.objects.get().reason == "Employment tribunal", "the hold as placed is unchanged"
    assert (release.hold, release.released_by, release.reason) == (hold, platform_staff, "Tribunal closed")
    released = last_event()
    assert (released.action, released.object_uuid) == (Action.LEGAL_HOLD_RELEASED, hold.uuid)
    assert released.detail == {"reason": "Tribunal closed", "hold_reason": "Employment tribunal"}

    with pytest.raises(ValidationError, match="already been released"):
        legal_hold_release(hold=hold, reason="again", by=centre_admin)


@pytest.mark.parametrize("who", ["assessor", "iqa", "eqa", "other_admin"])
def test_others_cannot_place_or_release_holds(enrolment, centre_admin, request, who):
    person = request.getfixturevalue(who)
    with pytest.raises(ValidationError, match="Only an administrator"):
        legal_hold_place(enrolment=enrolment, reason="Because", by=person)
    hold = legal_hold_place(enrolment=enrolment, reason="Appeal", by=centre_admin)
    with pytest.raises(ValidationError, match="Only an administrator"):
        legal_hold_release(hold=hold, reason="Because", by=person)


def test_a_hold_needs_a_reason_and_something_to_hold(enrolment, centre_admin):
    with pytest.raises(ValidationError, match="Give a reason"):
        legal_hold_place(enrolment=enrolment, reason="   ", by=centre_admin)
    Enrolment.objects.filter(pk=enrolment.pk).update(records_purged_at=timezone.now())
    with pytest.raises(ValidationError, match="nothing is left to hold"):
        legal_hold_place(enrolment=enrolment, reason="Too late", by=centre_admin)
    assert not LegalHold.objects.exists()


# --- Rules ---------------------------------------------------------------------------------------


def test_platform_staff_set_rules_with_the_change_on_the_trail(db, platform_staff):
    rule = retention_policy_save(
        policy=RetentionPolicy(
            awarding_body=" Pearson ", evidence_weeks_after_certification=26, records_years_after_completion=5
        ),
        by=platform_staff,
    )
    assert (rule.awarding_body, rule.updated_by) == ("Pearson", platform_staff)
    assert last_event().detail["before"] is None

    rule.evidence_weeks_after_certification = 12
    retention_policy_save(policy=rule, by=platform_staff)
    event = last_event()
    assert (event.action, event.centre, event.enrolment) == (Action.RETENTION_POLICY_CHANGED, None, None)
    assert (
        event.detail["before"]["evidence_weeks_after_certification"],
        event.detail["after"]["evidence_weeks_after_certification"],
    ) == (26, 12)

    retention_policy_delete(policy=rule, by=platform_staff)
    assert last_event().detail["after"] is None
    assert not RetentionPolicy.objects.filter(awarding_body="Pearson").exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"awarding_body": "ocr"}, "already a retention rule"),
        ({"evidence_weeks_after_certification": 53, "records_years_after_completion": 1}, "longer than the records"),
        ({"records_years_after_completion": 0, "evidence_weeks_after_certification": 0}, "at least a year"),
    ],
)
def test_rules_that_make_no_sense_are_refused(db, platform_staff, values, message):
    fields = {"awarding_body": "City & Guilds", "evidence_weeks_after_certification": 12}
    fields |= {"records_years_after_completion": 3} | values
    with pytest.raises(ValidationError, match=message):
        retention_policy_save(policy=RetentionPolicy(**fields), by=platform_staff)


def test_only_platform_staff_set_rules(db, centre_admin):
    centre_admin.is_staff = True  # the demo centre admin uses the admin site too
    with pytest.raises(ValidationError, match="Only platform staff"):
        retention_policy_save(
            policy=RetentionPolicy(
                awarding_body="Pearson", evidence_weeks_after_certification=1, records_years_after_completion=1
            ),
            by=centre_admin,
        )
