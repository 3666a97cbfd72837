"""Race 3: the assessor signs a unit off while a centre admin reassigns the learner to someone else.

Allowed outcomes: the sign-off commits while the assessor is still assigned and the reassignment
waits for it, or the sign-off is refused with a message because the reassignment committed first.
Never a sign-off written by someone who was no longer the assessor, and the reassignment is never lost.
"""

import datetime
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from accounts.models import User
from assessments.models import Decision, SignOff
from assessments.selectors import unit_readiness
from assessments.services.decisions import Judgement, decisions_record
from assessments.services.signoff import unit_sign_off
from assessments.views import signoff as signoff_views
from portfolio.models import Assignment, AuditEvent, Enrolment
from portfolio.services.enrolments import enrolment_create, enrolment_reassign
from portfolio.services.evidence import evidence_create, evidence_submit, mapping_set
from tests.factories import AssessmentCriterionFactory, UserFactory, qualification_with_units
from tests.helpers import details
from tests.races.harness import ROUNDS, Tally, head_starts, race
from tests.workers import needs_postgres
from units.models import Qualification, Unit

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]

NOT_THE_ASSESSOR = "Only the learner's assigned assessor can sign off their units."


@pytest.fixture
def unit(db) -> Unit:
    """A one-criterion unit with no evidence-requirement items: one met decision makes it ready."""
    return AssessmentCriterionFactory(number="1.1").outcome.unit


@pytest.fixture
def qualification(unit) -> Qualification:
    return qualification_with_units(unit)


def ready_portfolio(qualification: Qualification, unit: Unit, assessor: User, iqa: User) -> Enrolment:
    """A new learner on `qualification` (just `unit`), its one criterion met: ready to sign off."""
    learner = UserFactory(role=User.Role.LEARNER, centre=assessor.centre)
    enrolment = enrolment_create(
        learner=learner,
        qualification=qualification,
        units=[unit],
        assessor=assessor,
        iqa=iqa,
        start_date=datetime.date(2026, 9, 1),
        planned_end_date=datetime.date(2027, 8, 31),
    )
    version = evidence_create(enrolment=enrolment, by=learner, details=details()).current_version
    criterion = unit.outcomes.get().criteria.get()
    mapping_set(version=version, by=learner, accounts={criterion: "I planned the rota."}, items=[])
    version = evidence_submit(version=version, by=learner, declared=True)
    judgement = Judgement(claim=version.claims.get(), outcome=Decision.Outcome.MET, feedback="", expected=None)
    decisions_record(version=version, assessor=assessor, judgements=[judgement], additions=[], reauthenticated=True)
    assert unit_readiness(enrolment, unit).is_ready
    return enrolment


def sign(enrolment: Enrolment, unit: Unit, assessor: User) -> SignOff:
    return unit_sign_off(enrolment=enrolment, unit=unit, assessor=assessor, reauthenticated=True)


def reassign(enrolment: Enrolment, successor: User, admin: User) -> Enrolment:
    return enrolment_reassign(
        enrolment=enrolment, role=Assignment.Role.ASSESSOR, person=successor, by=admin, reason="Caseload moved"
    )


def test_a_sign_off_and_a_reassignment_at_once(qualification, unit, assessor, iqa, centre_admin):
    successor = UserFactory(role=User.Role.ASSESSOR, centre=assessor.centre)
    tally = Tally(
        "3 sign-off vs reassignment (service)",
        keys=["rounds", "sign_offs_by_a_former_assessor", "lost_updates", "losers_with_message", "unexpected_errors"],
    )
    for delays in head_starts(ROUNDS, seed=5):
        enrolment = ready_portfolio(qualification, unit, assessor, iqa)
        sides = partial(sign, enrolment, unit, assessor), partial(reassign, enrolment, successor, centre_admin)
        signed, reassigned = race(*sides, delays=delays)
        tally.add("rounds")
        enrolment.refresh_from_db()
        assignments = list(Assignment.objects.filter(enrolment=enrolment, role=Assignment.Role.ASSESSOR))
        ended = [a for a in assignments if a.person_id == assessor.pk and a.ended_at is not None]
        current = [a for a in assignments if a.ended_at is None]
        # The reassignment always happens, exactly once, and is audited.
        if (
            not isinstance(reassigned, Enrolment)
            or enrolment.assessor_id != successor.pk
            or [a.person_id for a in current] != [successor.pk]
            or len(ended) != 1
            or not AuditEvent.objects.filter(action=AuditEvent.Action.REASSIGNED, enrolment=enrolment).exists()
        ):
            tally.add("lost_updates", ("the reassignment", reassigned, assignments))
            continue
        sign_offs = list(SignOff.objects.filter(enrolment=enrolment))
        if isinstance(signed, SignOff):
            tally.add("sign_off_first")
            audited = AuditEvent.objects.filter(action=AuditEvent.Action.UNIT_SIGNED_OFF, object_uuid=signed.uuid)
            if [s.pk for s in sign_offs] != [signed.pk] or not audited.exists():
                tally.add("lost_updates", ("the sign-off", sign_offs))
            # Both times are taken under the enrolment lock, so they order the two transactions.
            if signed.signed_at >= ended[0].ended_at:
                tally.add("sign_offs_by_a_former_assessor", (signed.signed_at, ended[0].ended_at))
        elif isinstance(signed, ValidationError):
            tally.add("reassignment_first")
            if sign_offs:
                tally.add("sign_offs_by_a_former_assessor", ("refused, yet signed off", sign_offs))
            if signed.messages == [NOT_THE_ASSESSOR]:
                tally.add("losers_with_message", signed.messages[0])
        else:
            tally.add("unexpected_errors", signed)

    report = tally.show()
    counts = tally.counts
    assert counts["rounds"] == ROUNDS, report
    assert counts["sign_offs_by_a_former_assessor"] == 0, report
    assert counts["lost_updates"] == 0, report
    assert counts["unexpected_errors"] == 0, report
    assert counts["losers_with_message"] == counts["reassignment_first"], report


def test_the_sign_off_page_tells_a_reassigned_assessor(
    client, qualification, unit, assessor, iqa, centre_admin, monkeypatch
):
    """The page's own check passes, then the reassignment commits, then the service runs: the
    assessor sees why nothing was signed, on the page, not an error page."""
    enrolment = ready_portfolio(qualification, unit, assessor, iqa)
    successor = UserFactory(role=User.Role.ASSESSOR, centre=assessor.centre)

    def reassigned_first(**kwargs: object) -> SignOff:
        reassign(enrolment, successor, centre_admin)  # commits at once: the request has no transaction
        return unit_sign_off(**kwargs)

    monkeypatch.setattr(signoff_views, "unit_sign_off", reassigned_first)
    client.force_login(assessor)
    url = reverse("assessments:sign_off", args=[enrolment.uuid, unit.uuid])
    response = client.post(url, {"password": "correct-horse-battery"})
    assert response.status_code == 200
    assert escape(NOT_THE_ASSESSOR) in response.content.decode()
    assert not SignOff.objects.exists()
