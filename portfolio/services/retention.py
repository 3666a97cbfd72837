"""Retention: the rules per awarding body, certification (which starts the clocks), legal holds,
and the purge.

Two stages, each counted from the certification date under the qualification's awarding body's
rule (`RetentionPolicy`):

- **Evidence** (e.g. 12 weeks): the evidence files' bytes are deleted from storage and each
  `StoredFile` row is marked purged. The rows keep name, size and SHA-256, so every decision's
  and declaration's file hashes still describe what was judged. PDF exports (which embed the
  evidence) are deleted, rows and bytes.
- **Records** (e.g. 3 years): everything recorded under the portfolio is deleted (see
  `portfolio.retention_selectors.records_to_delete`). The enrolment row stays as a tombstone,
  because the append-only audit trail refers to it and must keep saying what happened.

Each portfolio is purged in its own transaction with its row locked, after reading again what
is due (a legal hold placed a moment ago wins). The audit event with counts and file hashes is
written in that transaction; the bytes are deleted only once it commits, so a purge that fails
or rolls back never loses a file. An active legal hold stops both stages.
"""

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.policy import Action as Policy
from accounts.policy import allows, is_platform_staff
from assessments.models import Decision
from portfolio.filetypes import format_size
from portfolio.models import (
    AuditEvent,
    Enrolment,
    Evidence,
    ExportJob,
    ExportSection,
    LegalHold,
    LegalHoldRelease,
    RetentionPolicy,
    StoredFile,
)
from portfolio.retention_selectors import (
    PURGES,
    RetentionEntry,
    Verdict,
    records_to_delete,
    retention_review,
)
from portfolio.services import exports
from portfolio.services.audit import audit

logger = logging.getLogger(__name__)
Action = AuditEvent.Action
REASON_MAX_LENGTH: int = LegalHold._meta.get_field("reason").max_length
BATCH = 500  # rows per UPDATE ... WHERE pk IN (...)


# --- Who may act -------------------------------------------------------------------------------


def check_may_act_for(user: User, enrolment: Enrolment, what: str) -> None:
    if not allows(user, Policy.MANAGE_RETENTION, enrolment):
        raise ValidationError(f"Only an administrator at the learner's centre, or platform staff, can {what}.")


def _name(person: User) -> str:
    return person.get_full_name() or person.username


def _clean_reason(reason: str, field_name: str = "reason") -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({field_name: "Give a reason."})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({field_name: f"Keep the reason to {REASON_MAX_LENGTH} characters."})
    return reason


# --- Rules -------------------------------------------------------------------------------------


def _policy_values(policy: RetentionPolicy) -> dict[str, Any]:
    return {
        "awarding_body": policy.awarding_body,
        "evidence_weeks_after_certification": policy.evidence_weeks_after_certification,
        "records_years_after_completion": policy.records_years_after_completion,
    }


def retention_policy_save(*, policy: RetentionPolicy, by: User) -> RetentionPolicy:
    """Create or change an awarding body's rule (validated, audited with the values before)."""
    if not is_platform_staff(by):
        raise ValidationError("Only platform staff can set retention rules.")
    policy.awarding_body = policy.awarding_body.strip()
    with transaction.atomic():
        before = None
        if policy.pk is not None:
            previous = RetentionPolicy.objects.select_for_update().filter(pk=policy.pk).first()
            before = _policy_values(previous) if previous is not None else None
        policy.updated_by, policy.updated_at = by, timezone.now()
        policy.full_clean()
        policy.save()
        audit(
            by,
            Action.RETENTION_POLICY_CHANGED,
            policy,
            summary=f"{_name(by)} set the retention rule for {policy}",
            detail={"before": before, "after": _policy_values(policy)},
        )
    return policy


def retention_policy_delete(*, policy: RetentionPolicy, by: User) -> None:
    """Remove a rule: that awarding body's portfolios are then never purged."""
    if not is_platform_staff(by):
        raise ValidationError("Only platform staff can remove retention rules.")
    with transaction.atomic():
        audit(
            by,
            Action.RETENTION_POLICY_CHANGED,
            policy,
            summary=f"{_name(by)} removed the retention rule for {policy.awarding_body}: "
            "its portfolios are no longer purged",
            detail={"before": _policy_values(policy), "after": None},
        )
        policy.delete()


# --- Certification -----------------------------------------------------------------------------


def certification_problem(enrolment: Enrolment, certified_on: datetime.date) -> str | None:
    """Why `certified_on` cannot be recorded for `enrolment`, or None."""
    if enrolment.evidence_purged_at is not None or enrolment.records_purged_at is not None:
        return "The evidence has been purged under this certification date; it stands."
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        return "The learner withdrew; a withdrawn enrolment is not certified."
    if certified_on > timezone.localdate():
        return "The certification date is in the future."
    if certified_on < enrolment.start_date:
        return "The certification date is before the enrolment started."
    return None


def enrolment_certify(*, enrolment: Enrolment, certified_on: datetime.date, by: User) -> Enrolment:
    """Record the date the awarding body certified the learner: the portfolio is completed and
    the retention clocks start. A wrong date can be corrected until the evidence is purged."""
    check_may_act_for(by, enrolment, "record a certification")
    with transaction.atomic():
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        previous = locked.certified_on
        if previous == certified_on:
            return locked
        problem = certification_problem(locked, certified_on)
        if problem:
            raise ValidationError({"certified_on": problem})
        locked.status, locked.certified_on = Enrolment.Status.COMPLETED, certified_on
        locked.save(update_fields=["status", "certified_on"])
        learner = locked.learner
        if previous is None:
            summary = f"{_name(by)} recorded that {learner} was certified on {certified_on:%d %B %Y}"
        else:
            summary = (
                f"{_name(by)} corrected {learner}'s certification date "
                f"from {previous:%d %B %Y} to {certified_on:%d %B %Y}"
            )
        audit(
            by,
            Action.ENROLMENT_CERTIFIED,
            locked,
            enrolment=locked,
            summary=summary,
            detail={"certified_on": certified_on.isoformat(), "previous": previous.isoformat() if previous else None},
        )
    return locked


# --- Legal holds -------------------------------------------------------------------------------


def legal_hold_place(*, enrolment: Enrolment, reason: str, by: User) -> LegalHold:
    """Stop retention purging a portfolio until the hold is released."""
    check_may_act_for(by, enrolment, "place a legal hold")
    reason = _clean_reason(reason)
    with transaction.atomic():
        # The purge locks the same row, so a hold and a purge of one portfolio never overlap.
        locked = Enrolment.objects.select_for_update(of=("self",)).select_related("learner").get(pk=enrolment.pk)
        if locked.records_purged_at is not None:
            purged = timezone.localdate(locked.records_purged_at)
            raise ValidationError(
                f"{locked.learner}'s records were purged on {purged:%d %B %Y}: nothing is left to hold."
            )
        hold = LegalHold.objects.create(enrolment=locked, reason=reason, placed_by=by, placed_at=timezone.now())
        audit(
            by,
            Action.LEGAL_HOLD_PLACED,
            hold,
            enrolment=locked,
            summary=f"{_name(by)} placed a legal hold on {locked.learner}'s portfolio: {reason}",
            detail={"reason": reason},
        )
    return hold


def legal_hold_release(*, hold: LegalHold, reason: str, by: User) -> LegalHoldRelease:
    """End a hold. The next purge run treats the portfolio by its rule again."""
    check_may_act_for(by, hold.enrolment, "release a legal hold")
    reason = _clean_reason(reason)
    with transaction.atomic():
        holds = LegalHold.objects.select_for_update(of=("self",)).select_related("enrolment__learner", "placed_by")
        locked = holds.get(pk=hold.pk)
        if LegalHoldRelease.objects.filter(hold=locked).exists():
            raise ValidationError("This legal hold has already been released.")
        release = LegalHoldRelease.objects.create(
            hold=locked, reason=reason, released_by=by, released_at=timezone.now()
        )
        audit(
            by,
            Action.LEGAL_HOLD_RELEASED,
            locked,
            enrolment=locked.enrolment,
            summary=f"{_name(by)} released the legal hold on {locked.enrolment.learner}'s portfolio "
            f"(placed by {_name(locked.placed_by)} on {locked.placed_at:%d %B %Y}): {reason}",
            detail={"reason": reason, "hold_reason": locked.reason},
        )
    return release


# --- The purge ---------------------------------------------------------------------------------


@dataclass
class PurgeRun:
    today: datetime.date
    dry_run: bool
    entries: list[RetentionEntry]
    not_certified: int
    # Storage names (or exports) whose bytes could not be deleted after the commit: the rows say
    # purged, so delete these by hand. Empty when all went well.
    undeleted: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[RetentionEntry]:
        return [e for e in self.entries if e.error]

    def count(self, verdict: Verdict) -> int:
        return sum(1 for e in self.entries if e.verdict == verdict and not e.error)


def retention_purge(*, today: datetime.date | None = None, dry_run: bool = False) -> PurgeRun:
    """Purge every portfolio past its retention, or with `dry_run` only say what would go.

    A portfolio that fails is left as it was (its transaction rolls back, its bytes stay) and
    reported with its error; the others go ahead.
    """
    today = today or timezone.localdate()
    review = retention_review(today=today)
    run = PurgeRun(today=today, dry_run=dry_run, entries=review.entries, not_certified=review.not_certified)
    if dry_run:
        return run
    for position, entry in enumerate(run.entries):
        if entry.verdict not in PURGES:
            continue
        try:
            done = _purge_one(entry.enrolment_id, today, run.undeleted)
        except Exception as error:
            logger.exception("Retention purge of enrolment %s failed; nothing of it was changed", entry.enrolment_uuid)
            entry.error = f"{type(error).__name__}: {error}"
            continue
        if done is None:
            entry.verdict, entry.reason = Verdict.NOT_DUE, "purged by another run meanwhile"
        else:
            run.entries[position] = done
    return run


def _purge_one(enrolment_id: int, today: datetime.date, undeleted: list[str]) -> RetentionEntry | None:
    """Purge one portfolio as it stands now, under its row lock; the entry acted on."""
    with transaction.atomic():
        list(Enrolment.objects.select_for_update().filter(pk=enrolment_id).values_list("pk"))
        fresh = retention_review(today=today, enrolment_ids=[enrolment_id]).entries
        if not fresh:
            return None  # another run purged it a moment ago
        entry = fresh[0]
        if entry.verdict not in PURGES:
            return entry  # held, or otherwise changed since the review
        enrolment = Enrolment.objects.select_related("learner", "qualification").get(pk=enrolment_id)
        now = timezone.now()
        # A records purge deletes every export row, even one requested since the review: its bytes go too.
        jobs_due = ExportJob.objects.filter(enrolment_id=enrolment_id).select_related("enrolment")
        if entry.verdict == Verdict.PURGE_EVIDENCE:
            jobs_due = jobs_due.filter(pk__in=[x.pk for x in entry.exports])
        jobs = list(jobs_due)
        names = [f.storage_name for f in entry.files]
        if entry.verdict == Verdict.PURGE_EVIDENCE:
            _purge_evidence(enrolment, entry, jobs, now)
        else:
            names += _purge_records(enrolment, entry, now)
        transaction.on_commit(lambda: _delete_bytes(names, jobs, undeleted))
    return entry


def _mark_files_purged(entry: RetentionEntry, now: datetime.datetime) -> int:
    pks = [f.pk for f in entry.files]
    marked = 0
    for start in range(0, len(pks), BATCH):
        marked += StoredFile.objects.filter(pk__in=pks[start : start + BATCH], purged_at__isnull=True).update(
            purged_at=now
        )
    return marked


def _rule_detail(entry: RetentionEntry) -> dict[str, Any]:
    return {
        "rule": entry.rule.as_json() if entry.rule else None,
        "certified_on": entry.certified_on.isoformat(),
        "evidence_due": entry.evidence_due.isoformat() if entry.evidence_due else None,
        "records_due": entry.records_due.isoformat() if entry.records_due else None,
    }


def _files_detail(entry: RetentionEntry) -> dict[str, Any]:
    return {"count": len(entry.files), "bytes": entry.file_bytes, "items": [f.as_json() for f in entry.files]}


def _purge_evidence(enrolment: Enrolment, entry: RetentionEntry, jobs: list[ExportJob], now: datetime.datetime) -> None:
    if _mark_files_purged(entry, now) != len(entry.files):
        raise RuntimeError("the portfolio's files changed while it was being purged; try again")
    job_pks = [job.pk for job in jobs]
    ExportSection.objects.filter(job_id__in=job_pks).delete()
    ExportJob.objects.filter(pk__in=job_pks).delete()
    Enrolment.objects.filter(pk=enrolment.pk).update(evidence_purged_at=now)
    audit(
        None,
        Action.EVIDENCE_PURGED,
        enrolment,
        enrolment=enrolment,
        summary=f"Retention: {len(entry.files)} evidence file(s) ({format_size(entry.file_bytes)}) and "
        f"{len(jobs)} PDF export(s) of {enrolment.learner}'s portfolio deleted, "
        f"under the rule “{entry.rule}” (certified {entry.certified_on:%d %B %Y})",
        detail={
            **_rule_detail(entry),
            "files": _files_detail(entry),
            "exports": {"count": len(entry.exports), "items": [x.as_json() for x in entry.exports]},
        },
    )


def _delete_decisions(queryset: QuerySet[Decision]) -> int:
    """Newest first: each decision protects the one it superseded."""
    deleted = 0
    while True:
        count, _ = queryset.filter(superseded_by__isnull=True).delete()
        if not count:
            return deleted
        deleted += count


def _purge_records(enrolment: Enrolment, entry: RetentionEntry, now: datetime.datetime) -> list[str]:
    """Delete every row under the portfolio but the enrolment itself; the storage names of any
    file whose bytes were not in `entry` (attached since the review) for deleting too."""
    _mark_files_purged(entry, now)
    files = StoredFile.objects.filter(enrolment=enrolment).order_by("pk")
    hashes = [{"uuid": str(u), "sha256": h, "size": s} for u, h, s in files.values_list("uuid", "sha256", "size")]
    stragglers = list(files.filter(purged_at__isnull=True).values_list("storage_name", flat=True))
    deleted: dict[str, int] = {}
    for label, queryset in records_to_delete(enrolment.pk):
        if label == Decision._meta.label:
            count = _delete_decisions(queryset)
        else:
            if label == "portfolio.EvidenceVersion":  # evidence points at its current version
                Evidence.objects.filter(enrolment=enrolment).update(current_version=None)
            count, _ = queryset.delete()
        deleted[label] = count
    update: dict[str, Any] = {"records_purged_at": now}
    if enrolment.evidence_purged_at is None:
        update["evidence_purged_at"] = now
    Enrolment.objects.filter(pk=enrolment.pk).update(**update)
    audit(
        None,
        Action.RECORDS_PURGED,
        enrolment,
        enrolment=enrolment,
        summary=f"Retention: {enrolment.learner}'s portfolio records deleted ({sum(deleted.values())} rows; "
        f"{len(entry.files)} file(s) not purged before, {format_size(entry.file_bytes)}), "
        f"under the rule “{entry.rule}” (certified {entry.certified_on:%d %B %Y})",
        detail={
            **_rule_detail(entry),
            "deleted": deleted,
            "files": _files_detail(entry),
            "exports": {"count": len(entry.exports), "items": [x.as_json() for x in entry.exports]},
            "file_hashes": hashes,
        },
    )
    entry.records = deleted
    return stragglers


def _delete_bytes(names: list[str], jobs: list[ExportJob], undeleted: list[str]) -> None:
    """After the commit: the purged files' bytes and the deleted exports' PDFs. A failure is
    logged and reported, never raised: the rows are already committed as purged."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("Retention could not delete %s from storage", name)
            undeleted.append(name)
    for job in jobs:
        try:
            if job.storage_name:
                default_storage.delete(job.storage_name)
            exports.discard_other_attempts(job, keep="")  # every attempt's output and intermediates
        except Exception:
            logger.exception("Retention could not delete the files of export %s", job.uuid)
            undeleted.append(f"exports/{job.enrolment.uuid}/{job.uuid}*")
