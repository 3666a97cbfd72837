"""Race 1: the assessor signs decisions on the same claims in two tabs at the same moment.

Both tabs loaded the page before either signed, so both expect "no decision yet" on every claim.
Exactly one submission may be recorded, whole; the other gets `DecisionConflict`, which the
marking page turns into a 409 with the decisions that won and a message naming the criteria.
"""

from functools import partial

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from assessments.models import Decision
from assessments.services.decisions import DecisionConflict, Judgement, decisions_record
from portfolio.models import AuditEvent, Claim, EvidenceVersion
from tests.races.harness import ROUNDS, Tally, claims_of, head_starts, race, submitted
from tests.workers import needs_postgres

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]

Outcome = Decision.Outcome
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
CONFLICT = "Someone else recorded a decision on"


def sign(version: EvidenceVersion, assessor: User, *judged: tuple[Claim, str, str]) -> list[Decision]:
    judgements = [Judgement(claim=c, outcome=o, feedback=f, expected=None) for c, o, f in judged]
    return decisions_record(
        version=version, assessor=assessor, judgements=judgements, additions=[], reauthenticated=True
    )


def recorded(version: EvidenceVersion) -> dict[str, list[str]]:
    """Every decision on the version's claims: criterion number -> outcomes, oldest first."""
    found: dict[str, list[str]] = {}
    for decision in Decision.objects.filter(claim__version=version).select_related("claim__criterion"):
        found.setdefault(decision.claim.criterion.number, []).append(decision.outcome)
    return found


def audited(version: EvidenceVersion) -> set:
    return set(
        AuditEvent.objects.filter(
            action=AuditEvent.Action.DECISION_RECORDED, detail__evidence=str(version.evidence.uuid)
        ).values_list("object_uuid", flat=True)
    )


def test_two_tabs_signing_the_same_claims_record_one_submission(enrolment, assessor):
    tally = Tally(
        "1 decision vs decision (service)",
        keys=["rounds", "double_decisions", "lost_updates", "losers_with_message", "unexpected_errors"],
    )
    for delays in head_starts(ROUNDS, seed=1):
        version = submitted(enrolment)
        claims = claims_of(version)
        # Tab A finds both met; tab B sends 1.2 back. They list the claims in opposite orders, so
        # a service that locked them in the order given could deadlock.
        tab_a = [(claims["1.1"], Outcome.MET, ""), (claims["1.2"], Outcome.MET, "")]
        tab_b = [(claims["1.2"], Outcome.NOT_YET_MET, "Add the staffing budget."), (claims["1.1"], Outcome.MET, "")]
        tabs = [partial(sign, version, assessor, *tab) for tab in (tab_a, tab_b)]
        results = race(*tabs, delays=delays)

        tally.add("rounds")
        wins = [(i, r) for i, r in enumerate(results) if isinstance(r, list)]
        losers = [r for r in results if isinstance(r, DecisionConflict)]
        for other in (r for r in results if not isinstance(r, list | DecisionConflict)):
            tally.add("unexpected_errors", other)
        state = recorded(version)
        doubles = [n for n, outcomes in state.items() if len(outcomes) > 1]
        if len(wins) > 1 or doubles:
            tally.add("double_decisions", state)
        if len(wins) == 1:
            tally.add(f"won_by_tab_{'ab'[wins[0][0]]}")
            winner = tab_a if wins[0][0] == 0 else tab_b
            expected = {c.criterion.number: [o] for c, o, _ in winner}
            written = {d.uuid for d in wins[0][1]}
            # The winner's submission is there exactly as sent, with an audit event per decision,
            # and nothing of the loser's was mixed into it.
            if state != expected or audited(version) != written:
                tally.add("lost_updates", (state, expected))
        elif not wins:
            tally.add("lost_updates", ("nobody won", results))
        for loser in losers:
            if CONFLICT in loser.messages[0] and {"1.1", "1.2"} & set(loser.numbers):
                tally.add("losers_with_message", loser.messages[0])

    report = tally.show()
    counts = tally.counts
    assert counts["rounds"] == ROUNDS, report
    assert counts["double_decisions"] == 0, report
    assert counts["lost_updates"] == 0, report
    assert counts["unexpected_errors"] == 0, report
    assert counts["losers_with_message"] == ROUNDS, report  # every round had exactly one loser, told why


# The same race through the marking page: two logged-in tabs post the form at once.

HTTP_ROUNDS = 5


def form_data(version: EvidenceVersion, **judged: tuple[str, str]) -> dict[str, str]:
    """What the page posts: judgements as number=(outcome, feedback) with "_" for ".", e.g. _1_1=("met", "")."""
    data = {"version": str(version.uuid), "password": PASSWORD}
    for number, claim in claims_of(version).items():
        outcome, feedback = judged.get("_" + number.replace(".", "_"), ("", ""))
        data |= {f"outcome-{claim.uuid}": outcome, f"feedback-{claim.uuid}": feedback, f"expected-{claim.uuid}": ""}
    return data


def test_two_tabs_posting_the_marking_page_at_once(enrolment, assessor):
    tally = Tally(
        "1 decision vs decision (HTTP)",
        keys=["rounds", "double_decisions", "server_errors", "winners_redirected", "losers_409_with_message"],
    )
    for delays in head_starts(HTTP_ROUNDS, seed=2):
        version = submitted(enrolment)
        url = reverse("assessments:assess", args=[version.evidence.uuid])
        tabs = [Client(raise_request_exception=False), Client(raise_request_exception=False)]
        for tab in tabs:
            tab.force_login(assessor)
        posts = [
            form_data(version, _1_1=("met", ""), _1_2=("met", "")),
            form_data(version, _1_1=("not_yet_met", "Show the rota you drew up.")),
        ]
        responses = race(partial(tabs[0].post, url, posts[0]), partial(tabs[1].post, url, posts[1]), delays=delays)

        tally.add("rounds")
        statuses = sorted(getattr(r, "status_code", 500) for r in responses)
        if 500 in statuses or any(isinstance(r, BaseException) for r in responses):
            tally.add("server_errors", responses)
        if any(len(outcomes) > 1 for outcomes in recorded(version).values()):
            tally.add("double_decisions", recorded(version))
        for response in responses:
            status = getattr(response, "status_code", None)
            if status == 302 and response["Location"] == reverse("portfolio:evidence", args=[version.evidence.uuid]):
                tally.add("winners_redirected")
            elif status == 409:
                html = response.content.decode()
                if "Your decisions were not saved" in html and f"{CONFLICT} 1.1" in html:
                    tally.add("losers_409_with_message")
                else:
                    tally.add("losers_without_message", html[:300])
            else:
                tally.add(f"status_{status}", response)

    report = tally.show()
    counts = tally.counts
    assert counts["rounds"] == HTTP_ROUNDS, report
    assert counts["server_errors"] == 0, report
    assert counts["double_decisions"] == 0, report
    assert counts["winners_redirected"] == HTTP_ROUNDS, report
    assert counts["losers_409_with_message"] == HTTP_ROUNDS, report
