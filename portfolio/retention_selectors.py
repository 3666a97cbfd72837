"""Reads for retention: which certified portfolios are due for purging, under which rule, and
exactly what a purge of each would delete.

The purge command's dry run prints `retention_review()`; the real run calls it again for each
portfolio with the portfolio's row locked and acts on what it returns, so the two cannot disagree.
Nothing here writes.
"""

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db.models import Exists, Model, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from assessments.models import (
    AssessmentPlan,
    AssessorRecord,
    Countersignature,
    Decision,
    PlannedActivity,
    ProgressReview,
    SampleItem,
    SampleReview,
    SignOff,
)
from portfolio.models import (
    Assignment,
    Claim,
    Declaration,
    Enrolment,
    Evidence,
    EvidenceVersion,
    ExportJob,
    ExportSection,
    LegalHold,
    RequirementCoverage,
    RetentionPolicy,
    StoredFile,
    VersionFile,
)


class Verdict(StrEnum):
    PURGE_RECORDS = "purge_records"  # the records are due (and the evidence with them, if still there)
    PURGE_EVIDENCE = "purge_evidence"  # the evidence files are due
    HELD = "held"  # a legal hold stops everything
    NO_RULE = "no_rule"  # the awarding body has no retention rule: nothing is purged
    BUSY = "busy"  # due, but a PDF export is rendering from the files now: the next run does it
    NOT_DUE = "not_due"


PURGES = frozenset({Verdict.PURGE_RECORDS, Verdict.PURGE_EVIDENCE})


@dataclass(frozen=True)
class FileItem:
    pk: int
    uuid: uuid.UUID
    sha256: str
    size: int
    storage_name: str  # internal: never printed or audited

    def as_json(self) -> dict[str, Any]:
        return {"uuid": str(self.uuid), "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class ExportItem:
    pk: int
    uuid: uuid.UUID
    state: str
    size: int | None
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"uuid": str(self.uuid), "state": self.state, "size": self.size, "sha256": self.sha256 or None}


@dataclass(frozen=True)
class HoldItem:
    uuid: uuid.UUID
    reason: str
    placed_by: str
    placed_at: datetime.datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "uuid": str(self.uuid),
            "reason": self.reason,
            "placed_by": self.placed_by,
            "placed_at": self.placed_at.isoformat(),
        }


@dataclass(frozen=True)
class Rule:
    awarding_body: str
    evidence_weeks: int
    records_years: int

    def as_json(self) -> dict[str, Any]:
        return {
            "awarding_body": self.awarding_body,
            "evidence_weeks_after_certification": self.evidence_weeks,
            "records_years_after_completion": self.records_years,
        }

    def __str__(self) -> str:
        weeks = "1 week" if self.evidence_weeks == 1 else f"{self.evidence_weeks} weeks"
        years = "1 year" if self.records_years == 1 else f"{self.records_years} years"
        return f"{self.awarding_body}: evidence {weeks} after certification, records {years}"


@dataclass
class RetentionEntry:
    """One certified portfolio: what retention does to it today, and why."""

    enrolment_id: int
    enrolment_uuid: uuid.UUID
    learner: str
    learner_username: str
    centre: str
    qualification: str
    awarding_body: str
    certified_on: datetime.date
    rule: Rule | None
    evidence_due: datetime.date | None
    records_due: datetime.date | None
    evidence_purged_at: datetime.datetime | None
    verdict: Verdict
    reason: str
    holds: list[HoldItem] = field(default_factory=list)
    # Filled in for a purge: the files whose bytes go (those not purged before), the PDF exports
    # that go (rows and bytes), and for a records purge every row deleted, by model label, in the
    # order they are deleted (the files' and exports' rows among them).
    files: list[FileItem] = field(default_factory=list)
    exports: list[ExportItem] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def file_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def as_json(self) -> dict[str, Any]:
        return {
            "enrolment": str(self.enrolment_uuid),
            "learner": {"name": self.learner, "username": self.learner_username},
            "centre": self.centre,
            "qualification": self.qualification,
            "awarding_body": self.awarding_body,
            "rule": self.rule.as_json() if self.rule else None,
            "certified_on": self.certified_on.isoformat(),
            "evidence_due": _iso(self.evidence_due),
            "records_due": _iso(self.records_due),
            "evidence_purged_at": _iso(self.evidence_purged_at),
            "verdict": str(self.verdict),
            "reason": self.reason,
            "holds": [h.as_json() for h in self.holds],
            "files": {"count": len(self.files), "bytes": self.file_bytes, "items": [f.as_json() for f in self.files]},
            "exports": {"count": len(self.exports), "items": [e.as_json() for e in self.exports]},
            "records": dict(self.records),
            "error": self.error or None,
        }


@dataclass
class RetentionReview:
    today: datetime.date
    entries: list[RetentionEntry]
    not_certified: int  # portfolios with no certification date: no retention clock runs for them


def _iso(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _key(awarding_body: str) -> str:
    return awarding_body.strip().casefold()


def policies_by_body() -> dict[str, RetentionPolicy]:
    return {_key(p.awarding_body): p for p in RetentionPolicy.objects.all()}


def policy_for(awarding_body: str, policies: dict[str, RetentionPolicy] | None = None) -> RetentionPolicy | None:
    return (policies if policies is not None else policies_by_body()).get(_key(awarding_body))


def _candidates(enrolment_ids: Iterable[int] | None) -> QuerySet[Enrolment]:
    lease_start = timezone.now() - datetime.timedelta(seconds=settings.EXPORT_LEASE_SECONDS)
    unpurged = StoredFile.objects.filter(enrolment=OuterRef("pk"), purged_at__isnull=True)
    # Rendering now (its worker reported within the lease): its sections are reading the files.
    rendering = ExportJob.objects.filter(
        enrolment=OuterRef("pk"), state=ExportJob.State.RUNNING, heartbeat_at__gt=lease_start
    )
    holds = LegalHold.objects.filter(release__isnull=True).select_related("placed_by").order_by("placed_at", "id")
    queryset = Enrolment.objects.filter(certified_on__isnull=False, records_purged_at__isnull=True)
    if enrolment_ids is not None:
        queryset = queryset.filter(pk__in=list(enrolment_ids))
    return (
        queryset.select_related("learner", "centre", "qualification")
        .annotate(has_unpurged_files=Exists(unpurged), export_rendering=Exists(rendering))
        .prefetch_related(Prefetch("legal_holds", queryset=holds, to_attr="active_holds"))
        .order_by("certified_on", "pk")
    )


def _judge(enrolment: Enrolment, policy: RetentionPolicy | None, today: datetime.date) -> RetentionEntry:
    body = enrolment.qualification.awarding_body
    certified_on = enrolment.certified_on
    assert certified_on is not None  # candidates are certified
    holds = [
        HoldItem(h.uuid, h.reason, h.placed_by.get_full_name() or h.placed_by.username, h.placed_at)
        for h in enrolment.active_holds  # type: ignore[attr-defined]
    ]
    rule = None
    if policy is not None:
        weeks, years = policy.evidence_weeks_after_certification, policy.records_years_after_completion
        rule = Rule(policy.awarding_body, weeks, years)
    evidence_due = policy.evidence_due(certified_on) if policy else None
    records_due = policy.records_due(certified_on) if policy else None
    evidence_left = enrolment.evidence_purged_at is None or enrolment.has_unpurged_files  # type: ignore[attr-defined]

    if holds:
        verdict, reason = Verdict.HELD, "on legal hold: " + "; ".join(h.reason for h in holds)
    elif policy is None:
        verdict, reason = Verdict.NO_RULE, f"no retention rule for the awarding body “{body}”: nothing is purged"
    elif records_due is not None and today >= records_due:
        verdict, reason = Verdict.PURGE_RECORDS, f"records due on {records_due:%Y-%m-%d}"
    elif evidence_due is not None and today >= evidence_due and evidence_left:
        verdict, reason = Verdict.PURGE_EVIDENCE, f"evidence due on {evidence_due:%Y-%m-%d}"
    elif evidence_left:
        verdict, reason = Verdict.NOT_DUE, f"evidence due on {evidence_due:%Y-%m-%d}"
    else:
        purged = timezone.localdate(enrolment.evidence_purged_at)
        reason = f"evidence purged on {purged:%Y-%m-%d}; records due on {records_due:%Y-%m-%d}"
        verdict = Verdict.NOT_DUE
    if verdict in PURGES and enrolment.export_rendering:  # type: ignore[attr-defined]
        verdict, reason = Verdict.BUSY, f"{reason}, but a PDF export is rendering from it now: the next run purges it"

    return RetentionEntry(
        enrolment_id=enrolment.pk,
        enrolment_uuid=enrolment.uuid,
        learner=str(enrolment.learner),
        learner_username=enrolment.learner.username,
        centre=enrolment.centre.name,
        qualification=enrolment.qualification.title,
        awarding_body=body,
        certified_on=certified_on,
        rule=rule,
        evidence_due=evidence_due,
        records_due=records_due,
        evidence_purged_at=enrolment.evidence_purged_at,
        verdict=verdict,
        reason=reason,
        holds=holds,
    )


def _add_contents(entries: list[RetentionEntry]) -> None:
    """The files, exports and (for a records purge) rows each purge would delete."""
    due = {e.enrolment_id: e for e in entries if e.verdict in PURGES}
    if not due:
        return
    files = StoredFile.objects.filter(enrolment_id__in=due, purged_at__isnull=True).order_by("enrolment_id", "pk")
    for row in files.values_list("enrolment_id", "pk", "uuid", "sha256", "size", "storage_name"):
        due[row[0]].files.append(FileItem(*row[1:]))
    exports = ExportJob.objects.filter(enrolment_id__in=due).order_by("enrolment_id", "pk")
    for row in exports.values_list("enrolment_id", "pk", "uuid", "state", "size", "sha256"):
        due[row[0]].exports.append(ExportItem(*row[1:]))
    for entry in due.values():
        if entry.verdict == Verdict.PURGE_RECORDS:
            entry.records = {label: queryset.count() for label, queryset in records_to_delete(entry.enrolment_id)}


def retention_review(*, today: datetime.date, enrolment_ids: Iterable[int] | None = None) -> RetentionReview:
    """Every certified portfolio whose records are not yet purged (or only `enrolment_ids`), with
    its verdict for `today` and, where something is due, exactly what would be deleted."""
    policies = policies_by_body()
    entries = [
        _judge(e, policy_for(e.qualification.awarding_body, policies), today) for e in _candidates(enrolment_ids)
    ]
    _add_contents(entries)
    not_certified = 0 if enrolment_ids is not None else Enrolment.objects.filter(certified_on__isnull=True).count()
    return RetentionReview(today=today, entries=entries, not_certified=not_certified)


def records_to_delete(enrolment_id: int) -> list[tuple[str, QuerySet[Any]]]:
    """Everything recorded under a portfolio, children before parents, as (model label, rows).

    Kept: the enrolment row itself and its enrolled units (the registration: learner, centre,
    qualification, units, dates, certification), its legal holds and releases, and its audit
    events (append-only; they are the record that the purge happened). Deleted: everything else.
    Decisions supersede one another through a protected link, so the purge deletes them newest
    first; evidence points at its current version, which the purge clears first.
    """
    e = enrolment_id
    through: type[Model] = PlannedActivity.criteria.through
    parts: list[tuple[type[Model], QuerySet[Any]]] = [
        (SampleReview, SampleReview.objects.filter(item__enrolment_id=e)),
        (SampleItem, SampleItem.objects.filter(enrolment_id=e)),
        (Countersignature, Countersignature.objects.filter(sign_off__enrolment_id=e)),
        (SignOff, SignOff.objects.filter(enrolment_id=e)),
        (Decision, Decision.objects.filter(claim__version__evidence__enrolment_id=e)),
        (Declaration, Declaration.objects.filter(version__evidence__enrolment_id=e)),
        (AssessorRecord, AssessorRecord.objects.filter(evidence__enrolment_id=e)),
        (Claim, Claim.objects.filter(version__evidence__enrolment_id=e)),
        (RequirementCoverage, RequirementCoverage.objects.filter(version__evidence__enrolment_id=e)),
        (VersionFile, VersionFile.objects.filter(version__evidence__enrolment_id=e)),
        (EvidenceVersion, EvidenceVersion.objects.filter(evidence__enrolment_id=e)),
        (Evidence, Evidence.objects.filter(enrolment_id=e)),
        (StoredFile, StoredFile.objects.filter(enrolment_id=e)),
        (ProgressReview, ProgressReview.objects.filter(plan__enrolment_id=e)),
        (through, through.objects.filter(plannedactivity__plan__enrolment_id=e)),
        (PlannedActivity, PlannedActivity.objects.filter(plan__enrolment_id=e)),
        (AssessmentPlan, AssessmentPlan.objects.filter(enrolment_id=e)),
        (ExportSection, ExportSection.objects.filter(job__enrolment_id=e)),
        (ExportJob, ExportJob.objects.filter(enrolment_id=e)),
        (Assignment, Assignment.objects.filter(enrolment_id=e)),
    ]
    return [(model._meta.label, queryset) for model, queryset in parts]
