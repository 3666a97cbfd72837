"""Shared test helpers for portfolios: evidence details, criteria by number, stored files."""

import datetime
import hashlib

from accounts.models import User
from portfolio.models import Enrolment, EvidenceVersion, Method, StoredFile, VersionFile
from portfolio.services.enrolments import enrolment_create
from portfolio.services.evidence import EvidenceDetails
from units.models import AssessmentCriterion, Qualification, Unit

PLAN = "plan-organise-and-control-customer-service-operations"
MANAGE = "manage-customer-service-operations"


def details(**overrides) -> EvidenceDetails:
    values = {
        "title": "Team briefing notes",
        "description": "Notes from the Monday briefing I ran.",
        "method": Method.WORK_PRODUCT,
        "activity_date": datetime.date(2026, 10, 5),
        "activity_end_date": None,
        "location": "Leeds contact centre",
    }
    return EvidenceDetails(**{**values, **overrides})


def criterion(unit_key: str, number: str) -> AssessmentCriterion:
    return AssessmentCriterion.objects.select_related("outcome__unit").get(outcome__unit__key=unit_key, number=number)


def attach_file(version: EvidenceVersion, name: str = "notes.pdf", content: bytes = b"%PDF-1.4 test") -> StoredFile:
    stored = StoredFile.objects.create(
        enrolment=version.evidence.enrolment,
        storage_name=f"evidence/test/{name}",
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=version.evidence.enrolment.learner,
    )
    VersionFile.objects.create(version=version, file=stored, position=version.version_files.count())
    return stored


def enrol(learner: User, *, assessor: User | None = None, iqa: User | None = None, by: User | None = None) -> Enrolment:
    """`learner` on the real OCR qualification with both units (the specifications must be loaded)."""
    return enrolment_create(
        learner=learner,
        qualification=Qualification.objects.get(),
        units=list(Unit.objects.all()),
        assessor=assessor,
        iqa=iqa,
        start_date=datetime.date(2026, 9, 1),
        planned_end_date=datetime.date(2027, 8, 31),
        by=by,
    )
