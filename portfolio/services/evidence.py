"""Writes to evidence: drafts, versions, mapping to criteria and submission.

A draft version is the only thing that changes in place. Submitting locks it; changing submitted
evidence starts a new draft version that copies the last one, so what an assessor judged stays on
record exactly as it was.

Each public service writes one audit event in its own transaction. The steps an assessor's record
is built from (`create_rows`, `replace_mapping`, `submit_version`) write none: the record's
services in `assessments.services.records` record the act as a whole, once.
"""

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from assessments.models import Notice
from assessments.services.notices import notify
from portfolio.models import (
    AuditEvent,
    Claim,
    Declaration,
    Enrolment,
    Evidence,
    EvidenceVersion,
    Method,
    RequirementCoverage,
    VersionFile,
)
from portfolio.services.audit import audit
from units.models import AssessmentCriterion, EvidenceRequirementItem, LearningOutcome

AuditAction = AuditEvent.Action

DECLARATION_STATEMENT = (
    "I declare that this evidence is my own work, that it comes from my own job, and that the "
    "account I have given of how it meets each criterion is true."
)


class VersionLocked(ValidationError):
    """The version was submitted (perhaps by another tab) and can no longer change."""

    def __init__(self) -> None:
        super().__init__(
            "This version has been submitted and can no longer be changed. Start a new version to edit it."
        )


@dataclass(frozen=True)
class EvidenceDetails:
    title: str
    description: str
    method: str
    activity_date: date
    activity_end_date: date | None
    location: str


def _validate_details(details: EvidenceDetails) -> None:
    errors: dict[str, str] = {}
    if not details.title.strip():
        errors["title"] = "Give the evidence a title."
    if details.method not in Method.values:
        errors["method"] = "Choose how the evidence was produced."
    if details.activity_end_date and details.activity_end_date < details.activity_date:
        errors["activity_end_date"] = "The end date is before the start date."
    if details.activity_date > timezone.localdate():
        errors["activity_date"] = "Evidence is of work already done: the date cannot be in the future."
    if errors:
        raise ValidationError(errors)


def _lock_draft(version: EvidenceVersion) -> EvidenceVersion:
    """Re-read the version under a row lock and insist it is still a draft."""
    locked = EvidenceVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != EvidenceVersion.Status.DRAFT:
        raise VersionLocked()
    return locked


def create_rows(*, enrolment: Enrolment, by: User, details: EvidenceDetails) -> Evidence:
    """Evidence with its first draft version. No audit event: callers record their own."""
    _validate_details(details)
    evidence = Evidence.objects.create(enrolment=enrolment, created_by=by)
    version = EvidenceVersion.objects.create(evidence=evidence, number=1, **details.__dict__)
    evidence.current_version = version
    evidence.save(update_fields=["current_version"])
    return evidence


@transaction.atomic
def evidence_create(*, enrolment: Enrolment, by: User, details: EvidenceDetails) -> Evidence:
    evidence = create_rows(enrolment=enrolment, by=by, details=details)
    audit(
        by,
        AuditAction.EVIDENCE_CREATED,
        evidence,
        enrolment=enrolment,
        summary=f"{by} created the evidence “{details.title}”",
        detail={"version": 1, "method": details.method},
    )
    return evidence


@transaction.atomic
def evidence_update(*, version: EvidenceVersion, by: User, details: EvidenceDetails) -> EvidenceVersion:
    _validate_details(details)
    version = _lock_draft(version)
    changed = [field for field, value in details.__dict__.items() if getattr(version, field) != value]
    for field, value in details.__dict__.items():
        setattr(version, field, value)
    version.save(update_fields=[*details.__dict__])
    _check_claims_allowed(version, version.claims.select_related("criterion__outcome__unit"))
    evidence = version.evidence
    audit(
        by,
        AuditAction.EVIDENCE_EDITED,
        evidence,
        enrolment=evidence.enrolment,
        summary=f"{by} edited the draft of “{version.title}” (version {version.number})"
        + (f": {', '.join(_field_label(f) for f in changed)}" if changed else ", changing nothing"),
        detail={"version": version.number, "changed": changed},
    )
    return version


def _field_label(name: str) -> str:
    return str(EvidenceVersion._meta.get_field(name).verbose_name)


@transaction.atomic
def evidence_new_version(*, evidence: Evidence, by: User) -> EvidenceVersion:
    """Start a draft copying the latest version: its details, files, claims and coverage."""
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    latest = evidence.versions.order_by("-number").first()
    if latest is None or latest.status == EvidenceVersion.Status.DRAFT:
        return latest  # there is a draft already: edit that one
    draft = EvidenceVersion.objects.create(
        evidence=evidence,
        number=latest.number + 1,
        title=latest.title,
        description=latest.description,
        method=latest.method,
        activity_date=latest.activity_date,
        activity_end_date=latest.activity_end_date,
        location=latest.location,
    )
    VersionFile.objects.bulk_create(
        VersionFile(version=draft, file_id=vf.file_id, position=vf.position) for vf in latest.version_files.all()
    )
    Claim.objects.bulk_create(
        Claim(version=draft, criterion_id=c.criterion_id, account=c.account, added_by_id=c.added_by_id)
        for c in latest.claims.all()
    )
    RequirementCoverage.objects.bulk_create(
        RequirementCoverage(version=draft, item_id=c.item_id) for c in latest.coverage.all()
    )
    evidence.current_version = draft
    evidence.save(update_fields=["current_version"])
    audit(
        by,
        AuditAction.EVIDENCE_VERSIONED,
        evidence,
        enrolment=evidence.enrolment,
        summary=f"{by} started version {draft.number} of “{draft.title}”",
        detail={"version": draft.number, "from_version": latest.number},
    )
    return draft


def simulation_refusal(method: str, criterion: AssessmentCriterion) -> str | None:
    """Why simulated evidence cannot claim this criterion, or None if it can."""
    outcome = criterion.outcome
    unit = outcome.unit
    if (
        method == Method.SIMULATION
        and unit.simulation_allowed is False
        and outcome.kind == LearningOutcome.Kind.COMPETENCE
    ):
        return (
            f"{criterion.number}: simulation is not allowed as performance evidence for “{unit.title}”. "
            "Simulated evidence can support its knowledge outcomes only."
        )
    return None


def _check_claims_allowed(version: EvidenceVersion, claims: Iterable[Claim]) -> None:
    refusals = [r for c in claims if (r := simulation_refusal(version.method, c.criterion))]
    if refusals:
        raise ValidationError({"method": refusals})


def criteria_by_unit(criterion_ids: Iterable[int]) -> dict[str, list[str]]:
    """Criterion numbers grouped by unit title ("1.1" alone is ambiguous across units). One query."""
    rows = (
        AssessmentCriterion.objects.filter(pk__in=list(criterion_ids))
        .order_by("outcome__unit__title", "outcome__number", "ordinal")
        .values_list("outcome__unit__title", "number")
    )
    grouped: dict[str, list[str]] = {}
    for unit, number in rows:
        grouped.setdefault(unit, []).append(number)
    return grouped


def items_by_unit(item_ids: Iterable[int]) -> dict[str, list[str]]:
    """Evidence-requirement items ("6c") grouped by unit title. One query."""
    rows = (
        EvidenceRequirementItem.objects.filter(pk__in=list(item_ids))
        .order_by("requirement__unit__title", "requirement__number", "letter")
        .values_list("requirement__unit__title", "requirement__number", "letter")
    )
    grouped: dict[str, list[str]] = {}
    for unit, number, letter in rows:
        grouped.setdefault(unit, []).append(f"{number}{letter}")
    return grouped


def numbers_of(grouped: Mapping[str, list[str]]) -> str:
    """ "1.1, 1.2, 2.3" for a summary; the detail keeps which unit each belongs to."""
    return ", ".join(n for numbers in grouped.values() for n in numbers)


def mapping_detail(version: EvidenceVersion, criterion_ids: Iterable[int], item_ids: Iterable[int]) -> dict[str, Any]:
    return {"version": version.number, "criteria": criteria_by_unit(criterion_ids), "items": items_by_unit(item_ids)}


def replace_mapping(
    *,
    version: EvidenceVersion,
    accounts: Mapping[AssessmentCriterion, str],
    items: Iterable[EvidenceRequirementItem],
) -> EvidenceVersion:
    """Replace the draft's claims and coverage. No audit event: callers record their own."""
    version = _lock_draft(version)
    enrolled_units = set(version.evidence.enrolment.enrolled_units.values_list("unit_id", flat=True))
    errors: dict[str, list[str]] = {}
    for criterion, account in accounts.items():
        key = f"account-{criterion.uuid}"
        if criterion.outcome.unit_id not in enrolled_units:
            errors.setdefault(key, []).append(f"{criterion.number} is not in a unit on this portfolio.")
        elif not account.strip():
            errors.setdefault(key, []).append(f"Say briefly how this evidence shows {criterion.number}.")
        elif "\x00" in account:  # read from the raw POST, not a form field that would refuse it
            errors.setdefault(key, []).append(
                f"What you wrote for {criterion.number} holds a null character, which cannot be stored. Type it again."
            )
        elif refusal := simulation_refusal(version.method, criterion):
            errors.setdefault(key, []).append(refusal)
    items = list(items)
    for item in items:
        if item.requirement.unit_id not in enrolled_units:
            errors.setdefault("items", []).append(f"{item} is not in a unit on this portfolio.")
    if errors:
        raise ValidationError(errors)
    version.claims.all().delete()
    Claim.objects.bulk_create(
        Claim(version=version, criterion=criterion, account=account.strip())
        for criterion, account in sorted(accounts.items(), key=lambda kv: kv[0].pk)
    )
    version.coverage.all().delete()
    RequirementCoverage.objects.bulk_create(RequirementCoverage(version=version, item=item) for item in items)
    return version


@transaction.atomic
def mapping_set(
    *,
    version: EvidenceVersion,
    by: User,
    accounts: Mapping[AssessmentCriterion, str],
    items: Iterable[EvidenceRequirementItem],
) -> EvidenceVersion:
    """Replace the draft's claims (criterion → account) and requirement items it covers."""
    items = list(items)
    version = _lock_draft(version)  # held to the end, so `before` is what this change replaces
    before = set(version.claims.values_list("criterion_id", flat=True))
    version = replace_mapping(version=version, accounts=accounts, items=items)
    after = {c.pk for c in accounts}
    detail = mapping_detail(version, after, (i.pk for i in items))
    detail["added"] = criteria_by_unit(after - before)
    detail["removed"] = criteria_by_unit(before - after)
    claimed = numbers_of(detail["criteria"]) or "no criteria"
    covered = f" and {len(items)} evidence-requirement item{'s' if len(items) != 1 else ''}" if items else ""
    evidence = version.evidence
    audit(
        by,
        AuditAction.MAPPING_CHANGED,
        evidence,
        enrolment=evidence.enrolment,
        summary=f"{by} mapped “{version.title}” (version {version.number}) to {claimed}{covered}",
        detail=detail,
    )
    return version


def files_digest(version: EvidenceVersion) -> str:
    """SHA-256 over the version's file hashes in order: what the learner declared and the assessor judged."""
    digest = hashlib.sha256()
    for vf in version.version_files.select_related("file").order_by("position"):
        digest.update(f"{vf.file.sha256}  {vf.file.original_name}\n".encode())
    return digest.hexdigest()


def submit_version(*, version: EvidenceVersion, by: User, declared: bool, statement: str) -> EvidenceVersion:
    """Lock the draft, record the declaration and tell the assessor. No audit event: callers record their own."""
    version = _lock_draft(version)
    errors: dict[str, str] = {}
    if not declared:
        errors["declared"] = "Tick the declaration to confirm this evidence is your own work."
    if not version.claims.exists():
        errors["__all__"] = "Map the evidence to at least one criterion before submitting it."
    elif not version.version_files.exists() and not version.description.strip():
        errors["__all__"] = "Attach a file or describe the evidence before submitting it."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    EvidenceVersion.objects.filter(evidence_id=version.evidence_id, status=EvidenceVersion.Status.SUBMITTED).update(
        status=EvidenceVersion.Status.SUPERSEDED
    )
    version.status = EvidenceVersion.Status.SUBMITTED
    version.submitted_at = now
    version.save(update_fields=["status", "submitted_at"])
    Declaration.objects.create(
        version=version,
        learner=by,
        statement=statement,
        files_sha256=files_digest(version),
        declared_at=now,
    )
    enrolment = version.evidence.enrolment
    notify(
        recipients=[enrolment.assessor],
        kind=Notice.Kind.SUBMITTED,
        text=f"{enrolment.learner} submitted “{version.title}” (version {version.number}) for assessment.",
        url=reverse("assessments:assess", args=[version.evidence.uuid]),
    )
    return version


@transaction.atomic
def evidence_submit(
    *, version: EvidenceVersion, by: User, declared: bool, statement: str = DECLARATION_STATEMENT
) -> EvidenceVersion:
    """Lock the draft and record the learner's declaration: `statement` is what they ticked."""
    version = submit_version(version=version, by=by, declared=declared, statement=statement)
    evidence = version.evidence
    audit(
        by,
        AuditAction.EVIDENCE_SUBMITTED,
        evidence,
        enrolment=evidence.enrolment,
        summary=f"{by} submitted “{version.title}” version {version.number}",
        detail={"version": version.number, "files_sha256": version.declaration.files_sha256},
    )
    return version
