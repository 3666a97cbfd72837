"""Race 2: the assessor signs a decision on version 1 while the learner replaces it.

The assessor loaded the marking page for version 1. At the same moment the learner starts
version 2 (and, in the second variant, submits it straight away, which supersedes version 1). Allowed
outcomes: the decision lands on version 1 and version 2 starts after it, or the decision is
refused with `VersionChanged` and a message. Never a decision written on version 1 after the
learner had already started replacing it, and never a lost write on either side.
"""

from functools import partial

import pytest
from django.urls import reverse

from accounts.models import User
from assessments.models import Decision
from assessments.services.decisions import Judgement, VersionChanged, decisions_record
from assessments.views import judging
from portfolio.models import AuditEvent, Claim, EvidenceVersion
from portfolio.services.evidence import evidence_new_version, evidence_submit
from tests.races.harness import ROUNDS, Tally, claims_of, head_starts, race, submitted
from tests.workers import needs_postgres

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]

Outcome = Decision.Outcome
Status = EvidenceVersion.Status
KEYS = [
    "rounds",
    "decisions_on_a_replaced_version",
    "lost_updates",
    "losers_with_message",
    "unexpected_errors",
]


def decide(version: EvidenceVersion, claim: Claim, assessor: User) -> list[Decision]:
    return decisions_record(
        version=version,
        assessor=assessor,
        judgements=[Judgement(claim=claim, outcome=Outcome.MET, feedback="", expected=None)],
        additions=[],
        reauthenticated=True,
    )


def replace(version: EvidenceVersion, learner: User, then_submit: bool) -> EvidenceVersion:
    draft = evidence_new_version(evidence=version.evidence, by=learner)
    if then_submit:
        draft = evidence_submit(version=draft, by=learner, declared=True)
    return draft


def check_round(tally: Tally, version: EvidenceVersion, results: list[object], then_submit: bool) -> None:
    decided, replaced = results
    tally.add("rounds")
    if not isinstance(replaced, EvidenceVersion):
        tally.add("lost_updates", ("the learner's new version failed", replaced))
        return
    new = EvidenceVersion.objects.select_related("evidence").get(pk=replaced.pk)
    evidence = new.evidence
    # The learner's side is never lost: version 2 is current, copies version 1's claims, is audited.
    if (
        evidence.current_version_id != new.pk
        or new.number != 2
        or new.status != (Status.SUBMITTED if then_submit else Status.DRAFT)
        or sorted(claims_of(new)) != sorted(claims_of(version))
        or not AuditEvent.objects.filter(action=AuditEvent.Action.EVIDENCE_VERSIONED, object_uuid=evidence.uuid)
    ):
        tally.add("lost_updates", ("version 2 is not as the learner made it", new))
    decisions = list(Decision.objects.filter(claim__version__evidence=evidence).select_related("claim__version"))
    if isinstance(decided, list):
        tally.add("decision_first")
        (decision,) = decided
        stored = [d for d in decisions if d.pk == decision.pk]
        if not stored or not AuditEvent.objects.filter(
            action=AuditEvent.Action.DECISION_RECORDED, object_uuid=decision.uuid
        ):
            tally.add("lost_updates", ("the decision reported success but is not on record", decision))
        # Version 2 must have started after the decision was written (the timestamps are taken
        # under the locks, so they order the two transactions).
        if decision.claim.version_id != version.pk or new.created_at <= decision.decided_at:
            tally.add("decisions_on_a_replaced_version", (decision.decided_at, new.created_at))
    elif isinstance(decided, VersionChanged):
        tally.add("new_version_first")
        if decisions:
            tally.add("lost_updates", ("refused, yet a decision was saved", decisions))
        message = decided.messages[0]
        if "Nothing of yours was saved" in message or "replaced by a newer submission" in message:
            tally.add("losers_with_message", message)
    else:
        tally.add("unexpected_errors", decided)


def assert_figures(tally: Tally) -> None:
    report = tally.show()
    counts = tally.counts
    assert counts["rounds"] == ROUNDS, report
    assert counts["decisions_on_a_replaced_version"] == 0, report
    assert counts["lost_updates"] == 0, report
    assert counts["unexpected_errors"] == 0, report
    assert counts["losers_with_message"] == counts["new_version_first"], report  # every refusal says why


@pytest.mark.parametrize("then_submit", [False, True], ids=["starts-version-2", "starts-and-submits-version-2"])
def test_a_decision_and_a_new_version_at_once(enrolment, assessor, then_submit):
    what = "starts and submits" if then_submit else "starts"
    tally = Tally(f"2 decision vs learner {what} a new version (service)", keys=KEYS)
    for delays in head_starts(ROUNDS, seed=3 + then_submit):
        version = submitted(enrolment)
        results = race(
            partial(decide, version, claims_of(version)["1.1"], assessor),
            partial(replace, version, enrolment.learner, then_submit),
            delays=delays,
        )
        check_round(tally, version, results, then_submit)
    assert_figures(tally)


@pytest.mark.parametrize(
    ("then_submit", "message"),
    [
        (False, "Nothing of yours was saved: this evidence changed while you were working."),
        (True, "The learner submitted version 2 while you were working. Here it is; nothing of yours was saved."),
    ],
    ids=["starts-version-2", "starts-and-submits-version-2"],
)
def test_the_marking_page_tells_the_assessor_the_evidence_changed(
    client, enrolment, assessor, monkeypatch, then_submit, message
):
    """The view's side of a refusal, with the interleaving forced: the page's own check has passed,
    then the learner's new version commits, then the service runs. The assessor gets 409 and why."""
    version = submitted(enrolment)
    claim = claims_of(version)["1.1"]

    def learner_acts_first(**kwargs: object) -> list[Decision]:
        replace(version, enrolment.learner, then_submit)  # commits at once: the request has no transaction
        return decisions_record(**kwargs)

    monkeypatch.setattr(judging, "decisions_record", learner_acts_first)
    client.force_login(assessor)
    data = {
        "version": str(version.uuid),
        "password": "correct-horse-battery",
        f"outcome-{claim.uuid}": Outcome.MET,
        f"expected-{claim.uuid}": "",
    }
    response = client.post(reverse("assessments:assess", args=[version.evidence.uuid]), data)
    assert response.status_code == 409
    assert message in response.content.decode()
    assert not Decision.objects.exists()
