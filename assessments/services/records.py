"""Evidence the assessor writes: observation, professional discussion, question-and-answer and
witness-testimony records.

Such a record is ordinary evidence in the learner's portfolio (so progress, the tracking grid and
the assessor's queue treat it like any other), created by the assessor as a draft with its claims
and an `AssessorRecord` row saying what kind of record it is. It is submitted only when the
learner confirms it is accurate: their confirmation is the version's declaration.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from accounts.policy import Action, require
from assessments.models import AssessorRecord, Notice
from assessments.services.notices import notify
from portfolio.models import AuditEvent, Claim, Enrolment, Evidence, EvidenceVersion, Method
from portfolio.services.audit import audit
from portfolio.services.evidence import (
    EvidenceDetails,
    create_rows,
    mapping_detail,
    numbers_of,
    replace_mapping,
    submit_version,
)
from units.models import AssessmentCriterion, EvidenceRequirementItem

Kind = AssessorRecord.Kind

# The evidence method each kind of record is; an expert witness's testimony is its own method.
KIND_METHODS: dict[str, Method] = {
    Kind.OBSERVATION: Method.OBSERVATION,
    Kind.PROFESSIONAL_DISCUSSION: Method.PROFESSIONAL_DISCUSSION,
    Kind.QUESTION_AND_ANSWER: Method.QUESTION_AND_ANSWER,
    Kind.WITNESS_TESTIMONY: Method.WITNESS_TESTIMONY,
}

# What the learner ticks to confirm a record. The learner did not write the record or its
# accounts, so the learner-evidence declaration ("my own work ... the account I have given") would
# not be true of it; this is the statement kept in the version's Declaration instead.
RECORD_CONFIRMATION_STATEMENT = (
    "I confirm that this record, written by my assessor, is an accurate account of what I did, "
    "and that the work it describes is my own, done in my own job."
)


@dataclass(frozen=True)
class RecordDetails:
    title: str
    description: str  # what was observed or discussed, or the questions and the learner's answers
    activity_date: date
    location: str = ""


@dataclass(frozen=True)
class WitnessDetails:
    name: str
    statement: str
    role: str = ""
    relationship: str = ""
    contact: str = ""
    is_expert: bool = False


def method_for(kind: str, witness: WitnessDetails | None = None) -> Method:
    if kind == Kind.WITNESS_TESTIMONY and witness is not None and witness.is_expert:
        return Method.EXPERT_WITNESS
    return KIND_METHODS[kind]


def claims_errors(accounts: Mapping[AssessmentCriterion, str]) -> dict[str, list[str]]:
    """Problems with the criteria a record claims, keyed like the mapping form's fields.

    Shared by the view, so the page can show these beside the criteria together with any other
    errors in the same post, and by the service, which decides.
    """
    if not accounts:
        return {"criteria": ["Choose at least one criterion this record shows, and say how it shows it."]}
    return {
        f"account-{criterion.uuid}": [f"Say briefly how this record shows {criterion.number}."]
        for criterion, account in accounts.items()
        if not account.strip()
    }


def _record_errors(kind: str, details: RecordDetails, witness: WitnessDetails | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = ["Choose the kind of record."]
    if not details.description.strip():
        errors["description"] = ["Write the record: what you observed or discussed, or the questions and answers."]
    if kind == Kind.WITNESS_TESTIMONY:
        if witness is None or not witness.name.strip():
            errors["witness_name"] = ["Give the witness's name."]
        if witness is None or not witness.statement.strip():
            errors["statement"] = ["Write the witness's statement, in their words."]
    elif witness is not None:
        errors["kind"] = ["Witness details belong to a witness testimony only."]
    return errors


@transaction.atomic
def assessor_record_create(
    *,
    enrolment: Enrolment,
    assessor: User,
    kind: str,
    details: RecordDetails,
    witness: WitnessDetails | None = None,
    accounts: Mapping[AssessmentCriterion, str],
    items: Iterable[EvidenceRequirementItem] = (),
) -> Evidence:
    """Write a record as draft evidence in the learner's portfolio and ask the learner to confirm it."""
    require(assessor, Action.ASSESS, enrolment)  # the views check too; no other caller can skip it
    errors = _record_errors(kind, details, witness) | claims_errors(accounts)
    if errors:
        raise ValidationError(errors)
    evidence = create_rows(
        enrolment=enrolment,
        by=assessor,
        details=EvidenceDetails(
            title=details.title.strip(),
            description=details.description.strip(),
            method=method_for(kind, witness),
            activity_date=details.activity_date,
            activity_end_date=None,
            location=details.location.strip(),
        ),
    )
    AssessorRecord.objects.create(evidence=evidence, kind=kind, **_witness_fields(witness))
    items = list(items)
    version = replace_mapping(version=evidence.current_version, accounts=accounts, items=items)
    # Every account on a record is the assessor's, not the learner's: say so on the claims.
    Claim.objects.filter(version=version).update(added_by=assessor)
    # One event for the record as a whole (its evidence, claims and coverage), not one per step.
    detail = {"kind": kind, **mapping_detail(version, (c.pk for c in accounts), (i.pk for i in items))}
    if witness is not None:
        detail["witness"] = witness.name.strip()
    audit(
        assessor,
        AuditEvent.Action.RECORD_CREATED,
        evidence,
        enrolment=enrolment,
        summary=f"{assessor} wrote {_a(Kind(kind).label)} “{version.title}” showing {numbers_of(detail['criteria'])}",
        detail=detail,
    )
    notify(
        recipients=[enrolment.learner],
        kind=Notice.Kind.RECORD_TO_CONFIRM,
        text=(
            f"{assessor} has written a record in your portfolio: {Kind(kind).label}, “{details.title.strip()}”. "
            "Please check it and confirm it is accurate."
        ),
        url=reverse("assessments:record_confirm", args=[evidence.uuid]),
    )
    return evidence


def _a(label: str) -> str:
    """ "an observation record", "a witness testimony"."""
    return f"{'an' if label[0].lower() in 'aeiou' else 'a'} {label.lower()}"


def _witness_fields(witness: WitnessDetails | None) -> dict[str, object]:
    if witness is None:
        return {}
    return {
        "witness_name": witness.name.strip(),
        "witness_role": witness.role.strip(),
        "witness_relationship": witness.relationship.strip(),
        "witness_contact": witness.contact.strip(),
        "witness_is_expert": witness.is_expert,
        "statement": witness.statement.strip(),
    }


def record_draft(evidence: Evidence) -> EvidenceVersion | None:
    """The record's version awaiting the learner's confirmation, or None once confirmed."""
    return evidence.versions.filter(status=EvidenceVersion.Status.DRAFT).first()


@transaction.atomic
def assessor_record_confirm(*, evidence: Evidence, learner: User, confirmed: bool) -> EvidenceVersion:
    """The learner confirms the assessor's record is accurate: the record is submitted for judgement."""
    require(learner, Action.LEARNER_SIGN, evidence.enrolment)
    if not AssessorRecord.objects.filter(evidence=evidence).exists():
        raise PermissionDenied("Only an assessor's record is confirmed this way.")
    draft = record_draft(evidence)
    if draft is None:
        raise ValidationError("This record has already been confirmed.")
    if not confirmed:
        raise ValidationError({"confirmed": ["Tick the box to confirm the record is accurate."]})
    version = submit_version(version=draft, by=learner, declared=True, statement=RECORD_CONFIRMATION_STATEMENT)
    audit(
        learner,
        AuditEvent.Action.RECORD_CONFIRMED,
        evidence,
        enrolment=evidence.enrolment,
        summary=f"{learner} confirmed the assessor's record “{version.title}” is accurate (version {version.number})",
        detail={"version": version.number, "files_sha256": version.declaration.files_sha256},
    )
    return version
