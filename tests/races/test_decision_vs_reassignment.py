"""Race 3b: the assessor signs decisions while a centre admin reassigns the learner to someone else.

The same rule as for sign-off (race 3), for the other signed act an assessor makes: a decision is
recorded only if its author is still the learner's assessor when it commits. Either the decision
commits first and the reassignment waits, or the decision is refused with a message.
"""

from functools import partial

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from assessments.models import Decision
from assessments.services.decisions import Judgement, decisions_record
from portfolio.models import Assignment, AuditEvent, Claim, Enrolment, EvidenceVersion
from portfolio.services.enrolments import enrolment_reassign
from tests.factories import UserFactory
from tests.races.harness import ROUNDS, Tally, claims_of, head_starts, race, submitted
from tests.workers import needs_postgres

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]

NOT_THE_ASSESSOR = "Only the learner's assigned assessor can judge this evidence."


def decide(version: EvidenceVersion, claim: Claim, assessor: User) -> list[Decision]:
    judgement = Judgement(claim=claim, outcome=Decision.Outcome.MET, feedback="", expected=None)
    return decisions_record(
        version=version, assessor=assessor, judgements=[judgement], additions=[], reauthenticated=True
    )


def reassign(enrolment: Enrolment, person: User, admin: User) -> Enrolment:
    return enrolment_reassign(
        enrolment=enrolment, role=Assignment.Role.ASSESSOR, person=person, by=admin, reason="Caseload moved"
    )


def test_a_decision_and_a_reassignment_at_once(enrolment, assessor, centre_admin):
    successor = UserFactory(role=User.Role.ASSESSOR, centre=assessor.centre)
    tally = Tally(
        "3b decision vs reassignment (service)",
        keys=["rounds", "decisions_by_a_former_assessor", "lost_updates", "losers_with_message", "unexpected_errors"],
    )
    for delays in head_starts(ROUNDS, seed=6):
        enrolment.refresh_from_db()
        if enrolment.assessor_id != assessor.pk:
            reassign(enrolment, assessor, centre_admin)  # give the portfolio back before the next round
        version = submitted(enrolment)
        sides = (
            partial(decide, version, claims_of(version)["1.1"], assessor),
            partial(reassign, enrolment, successor, centre_admin),
        )
        decided, reassigned = race(*sides, delays=delays)
        tally.add("rounds")
        enrolment.refresh_from_db()
        ended = Assignment.objects.filter(
            enrolment=enrolment, role=Assignment.Role.ASSESSOR, person=assessor, ended_by=centre_admin
        ).latest("ended_at")
        if not isinstance(reassigned, Enrolment) or enrolment.assessor_id != successor.pk:
            tally.add("lost_updates", ("the reassignment", reassigned))
            continue
        decisions = list(Decision.objects.filter(claim__version=version))
        if isinstance(decided, list):
            tally.add("decision_first")
            audited = AuditEvent.objects.filter(
                action=AuditEvent.Action.DECISION_RECORDED, object_uuid__in=[d.uuid for d in decided]
            )
            if len(decisions) != 1 or audited.count() != 1:
                tally.add("lost_updates", ("the decision", decisions))
            # decided_at is taken under the service's locks, ended_at under the reassignment's.
            if decided[0].decided_at >= ended.ended_at:
                tally.add("decisions_by_a_former_assessor", (decided[0].decided_at, ended.ended_at))
        elif isinstance(decided, ValidationError):
            tally.add("reassignment_first")
            if decisions:
                tally.add("decisions_by_a_former_assessor", ("refused, yet recorded", decisions))
            if decided.messages == [NOT_THE_ASSESSOR]:
                tally.add("losers_with_message", decided.messages[0])
        else:
            tally.add("unexpected_errors", decided)

    report = tally.show()
    counts = tally.counts
    assert counts["rounds"] == ROUNDS, report
    assert counts["decisions_by_a_former_assessor"] == 0, report
    assert counts["lost_updates"] == 0, report
    assert counts["unexpected_errors"] == 0, report
    assert counts["losers_with_message"] == counts["reassignment_first"], report
