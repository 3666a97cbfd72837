"""Recording an assessor's signed decisions on the claims of a submitted version.

Decisions are append-only: a new decision supersedes the latest one on its claim and nothing is
ever updated or deleted. Two people deciding at once is settled twice over: the claim rows are
locked while the latest decisions are compared with what the assessor saw, and the database's
unique constraints (one first decision per claim, one successor per decision) catch anything
that slips past, e.g. on a database without row locks. Either way the loser gets
`DecisionConflict` and nothing of their submission is saved.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.policy import Action, allows
from assessments.models import Decision, Notice
from assessments.services.notices import notify
from portfolio.models import AuditEvent, Claim, Declaration, Enrolment, EvidenceVersion
from portfolio.services.audit import audit
from portfolio.services.evidence import files_digest, simulation_refusal
from units.models import AssessmentCriterion

Outcome = Decision.Outcome

FEEDBACK_REQUIRED = "Say what is missing so the learner can act on it."
# Outcomes that send the learner back to work: they must be told what to do.
NEEDS_FEEDBACK = frozenset({Outcome.NOT_YET_MET, Outcome.REMOVED})
# An assessor adds a criterion because the evidence shows it (or nearly does); "the mapping
# does not hold" makes no sense for a mapping they are making themselves.
ADDITION_OUTCOMES = frozenset({Outcome.MET, Outcome.NOT_YET_MET})


@dataclass(frozen=True)
class Judgement:
    """The assessor's decision on one claim, with the latest decision they saw on it (None if none)."""

    claim: Claim
    outcome: str
    feedback: str
    expected: UUID | None


@dataclass(frozen=True)
class Addition:
    """A criterion the learner did not claim but the assessor finds in the evidence."""

    criterion: AssessmentCriterion
    reason: str
    outcome: str
    feedback: str = ""


class DecisionConflict(ValidationError):
    """Someone else decided (or added) a criterion after the assessor loaded the page."""

    def __init__(self, numbers: Sequence[str]) -> None:
        self.numbers = list(dict.fromkeys(numbers))  # unique, in order
        super().__init__(
            f"Someone else recorded a decision on {', '.join(self.numbers)} while you were working. "
            "Here is the current state; nothing of yours was saved."
        )


class VersionChanged(ValidationError):
    """The learner started or submitted a newer version while the assessor was judging this one."""


def decisions_record(
    *,
    version: EvidenceVersion,
    assessor: User,
    judgements: list[Judgement],
    additions: list[Addition],
    reauthenticated: bool,
) -> list[Decision]:
    """Record the assessor's decisions (and added criteria) on a submitted version, all or nothing."""
    try:
        with transaction.atomic():
            return _record(version, assessor, judgements, additions, reauthenticated)
    except IntegrityError as error:
        # The savepoint/transaction is rolled back by now, so the winner's rows are visible.
        raise _conflict_after_race(version, judgements, additions) from error


def _record(
    version: EvidenceVersion,
    assessor: User,
    judgements: list[Judgement],
    additions: list[Addition],
    reauthenticated: bool,
) -> list[Decision]:
    version = _lock_submitted(version)
    # Read afresh, under that lock: the assessor may have been reassigned since the page was loaded.
    enrolment = version.evidence.enrolment
    if not allows(assessor, Action.ASSESS, enrolment):
        raise ValidationError("Only the learner's assigned assessor can judge this evidence.")
    _validate(version, enrolment, judgements, additions)
    heads = _lock_claims_and_read_heads([j.claim.pk for j in judgements])
    _check_expected(judgements, heads)

    now = timezone.now()
    files_sha256 = _judged_files_sha256(version)

    def decide(claim: Claim, outcome: str, feedback: str, supersedes: Decision | None) -> Decision:
        return Decision.objects.create(
            claim=claim,
            outcome=outcome,
            feedback=feedback.strip(),
            decided_by=assessor,
            decided_at=now,
            supersedes=supersedes,
            version_number=version.number,
            files_sha256=files_sha256,
            reauthenticated=reauthenticated,
        )

    decisions = [decide(j.claim, j.outcome, j.feedback, heads.get(j.claim.pk)) for j in judgements]
    for addition in additions:
        claim = Claim.objects.create(
            version=version, criterion=addition.criterion, account=addition.reason.strip(), added_by=assessor
        )
        decisions.append(decide(claim, addition.outcome, addition.feedback, None))
    _audit_decisions(version, enrolment, assessor, decisions, added={c.claim_id for c in decisions[len(judgements) :]})
    _notify_learner(version, enrolment, decisions)
    return decisions


def _audit_decisions(
    version: EvidenceVersion, enrolment: Enrolment, assessor: User, decisions: list[Decision], added: set[int]
) -> None:
    """One event per decision, each naming its criterion, unit and outcome."""
    units = dict(
        AssessmentCriterion.objects.filter(pk__in=[d.claim.criterion_id for d in decisions]).values_list(
            "pk", "outcome__unit__title"
        )
    )
    for decision in decisions:
        criterion = decision.claim.criterion
        outcome = OUTCOME_WORDS[Outcome(decision.outcome)]
        judged = f"“{version.title}” (version {version.number})"
        if decision.claim_id in added:
            what = f"added {criterion.number} to {judged} as {outcome}"
        elif decision.outcome == Outcome.REMOVED:
            what = f"removed {criterion.number} from {judged}: the evidence does not show it"
        else:
            what = f"judged {criterion.number} {outcome} on {judged}"
        audit(
            assessor,
            AuditEvent.Action.DECISION_RECORDED,
            decision,
            enrolment=enrolment,
            summary=f"{assessor} {what}",
            detail={
                "evidence": str(version.evidence.uuid),
                "version": version.number,
                "unit": units.get(criterion.pk, ""),
                "criterion": criterion.number,
                "outcome": decision.outcome,
                "feedback": decision.feedback,
                "added": decision.claim_id in added,
                "supersedes": str(decision.supersedes.uuid) if decision.supersedes else None,
                "reauthenticated": decision.reauthenticated,
            },
        )


def _lock_submitted(version: EvidenceVersion) -> EvidenceVersion:
    """Re-read the version under a row lock, with its evidence's and portfolio's, and insist it is still current.

    Submitting a newer version updates this row, and starting one locks the evidence, so neither
    can slip in between this check and the decisions. Decisions on one version are serialised by
    the same lock; the claim locks below still guard callers that arrive by another path.

    "Current" matters as much as "submitted": a learner who has started version N+1 is replacing
    N, and the marking page refuses N then. The page checks before this lock is taken, so only
    this check, under the lock `evidence_new_version` also takes, keeps a decision from landing
    on N after N+1 has begun.

    The portfolio (enrolment) is locked because `enrolment_reassign` locks it too: a reassignment
    either waits for these decisions or commits first and the assessor check sees it. NO KEY
    UPDATE still conflicts with all of those locks and with itself, but lets other transactions
    insert rows that merely refer to these (audit events, files) without waiting.
    """
    locked = (
        EvidenceVersion.objects.select_for_update(of=("self", "evidence", "evidence__enrolment"), no_key=True)
        .select_related("evidence__enrolment__learner")
        .get(pk=version.pk)
    )
    if locked.status == EvidenceVersion.Status.DRAFT:
        raise ValidationError("The learner has not submitted this version yet: there is nothing to judge.")
    if locked.status != EvidenceVersion.Status.SUBMITTED:
        raise VersionChanged(
            f"Version {locked.number} has been replaced by a newer submission. Judge the current version instead."
        )
    if locked.evidence.current_version_id != locked.pk:
        raise VersionChanged(
            f"The learner started a new version of “{locked.title}” while you were working, so version "
            f"{locked.number} is being replaced. Nothing of yours was saved: it comes back to you when they submit."
        )
    return locked


def _validate(
    version: EvidenceVersion, enrolment: Enrolment, judgements: list[Judgement], additions: list[Addition]
) -> None:
    errors: dict[str, list[str]] = {}
    if not judgements and not additions:
        errors["__all__"] = ["Choose an outcome for at least one criterion, or add a criterion."]
    seen_claims: set[int] = set()
    for judgement in judgements:
        key = judgement.claim.uuid
        if judgement.claim.version_id != version.pk:
            errors.setdefault("__all__", []).append(f"{judgement.claim} is not a claim of this version.")
        elif judgement.claim.pk in seen_claims:
            errors.setdefault("__all__", []).append(f"{judgement.claim} was judged twice in one submission.")
        seen_claims.add(judgement.claim.pk)
        _merge(
            errors,
            _outcome_errors(
                (f"outcome-{key}", f"feedback-{key}"), judgement.outcome, judgement.feedback, Outcome.values
            ),
        )
    if additions:
        _merge(errors, _addition_errors(version, enrolment, additions))
    if errors:
        raise ValidationError(errors)


def _merge(errors: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for key, messages in more.items():
        errors.setdefault(key, []).extend(messages)


def _outcome_errors(keys: tuple[str, str], outcome: str, feedback: str, allowed: Iterable[str]) -> dict[str, list[str]]:
    """Errors keyed (like `mapping_set`'s) by the assess page's field names, so they land beside the field."""
    outcome_key, feedback_key = keys
    if outcome not in allowed:
        return {outcome_key: ["Choose an outcome."]}
    if outcome in NEEDS_FEEDBACK and not feedback.strip():
        return {feedback_key: [FEEDBACK_REQUIRED]}
    return {}


def _addition_errors(version: EvidenceVersion, enrolment: Enrolment, additions: list[Addition]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    enrolled_units = set(enrolment.enrolled_units.values_list("unit_id", flat=True))
    claimed = set(version.claims.values_list("criterion_id", flat=True))
    for addition in additions:
        criterion = addition.criterion
        if criterion.outcome.unit_id not in enrolled_units:
            errors.setdefault("add-criterion", []).append(f"{criterion.number} is not in a unit on this portfolio.")
        elif criterion.pk in claimed:
            errors.setdefault("add-criterion", []).append(f"{criterion.number} is already claimed by this version.")
        elif refusal := simulation_refusal(version.method, criterion):
            errors.setdefault("add-criterion", []).append(refusal)
        claimed.add(criterion.pk)
        if not addition.reason.strip():
            errors.setdefault("add-reason", []).append(f"Say how this evidence shows {criterion.number}.")
        _merge(
            errors,
            _outcome_errors(("add-outcome", "add-feedback"), addition.outcome, addition.feedback, ADDITION_OUTCOMES),
        )
    return errors


def _lock_claims_and_read_heads(claim_ids: list[int]) -> dict[int, Decision]:
    """Lock the judged claims (in id order, so two submissions cannot deadlock) and read their latest decisions.

    The latest decision is the head of the chain: the one nothing supersedes yet.
    """
    list(Claim.objects.select_for_update().filter(pk__in=claim_ids).order_by("pk").values_list("pk", flat=True))
    return _current_heads(claim_ids)


def _current_heads(claim_ids: Iterable[int]) -> dict[int, Decision]:
    heads = Decision.objects.filter(claim_id__in=list(claim_ids), superseded_by__isnull=True)
    return {d.claim_id: d for d in heads}


def _check_expected(judgements: list[Judgement], heads: dict[int, Decision]) -> None:
    conflicts = [j.claim.criterion.number for j in judgements if _head_uuid(heads.get(j.claim.pk)) != j.expected]
    if conflicts:
        raise DecisionConflict(conflicts)


def _head_uuid(head: Decision | None) -> UUID | None:
    return head.uuid if head else None


def _conflict_after_race(
    version: EvidenceVersion, judgements: list[Judgement], additions: list[Addition]
) -> DecisionConflict:
    """Name what the other person decided first, now that their transaction has committed."""
    heads = _current_heads(j.claim.pk for j in judgements)
    numbers = [j.claim.criterion.number for j in judgements if _head_uuid(heads.get(j.claim.pk)) != j.expected]
    claimed = set(Claim.objects.filter(version=version).values_list("criterion_id", flat=True))
    numbers += [a.criterion.number for a in additions if a.criterion.pk in claimed]
    # If the race left no visible trace, still refuse rather than guess: every criterion is named.
    return DecisionConflict(numbers or [j.claim.criterion.number for j in judgements])


def _judged_files_sha256(version: EvidenceVersion) -> str:
    """The fingerprint the learner declared; recomputed only for a version submitted without one."""
    declared = Declaration.objects.filter(version=version).values_list("files_sha256", flat=True).first()
    return declared or files_digest(version)


def _notify_learner(version: EvidenceVersion, enrolment: Enrolment, decisions: list[Decision]) -> None:
    returned = [d for d in decisions if d.outcome == Outcome.NOT_YET_MET]
    if returned:
        details = "; ".join(f"{d.claim.criterion.number}: {d.feedback}" for d in returned)
        kind, text = Notice.Kind.RETURNED, f"Your assessor returned “{version.title}” with feedback on {details}"
    else:
        kind, text = Notice.Kind.JUDGED, f"Your assessor judged “{version.title}”: {_summary(decisions)}."
    if len(text) > 300:
        text = text[:299] + "…"
    url = reverse("portfolio:evidence", args=[version.evidence.uuid])
    notify(recipients=[enrolment.learner], kind=kind, text=text, url=url)


OUTCOME_WORDS = {Outcome.MET: "met", Outcome.NOT_YET_MET: "not yet met", Outcome.REMOVED: "mapping removed"}


def _summary(decisions: list[Decision]) -> str:
    """e.g. "met 1.1, 1.2; mapping removed 2.3"."""
    parts = []
    for outcome, word in OUTCOME_WORDS.items():
        numbers = [d.claim.criterion.number for d in decisions if d.outcome == outcome]
        if numbers:
            parts.append(f"{word} {', '.join(numbers)}")
    return "; ".join(parts)
