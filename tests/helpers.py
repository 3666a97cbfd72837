"""Shared test helpers for portfolios: evidence details, criteria by number, stored files."""

import datetime
import hashlib

from portfolio.models import EvidenceVersion, Method, StoredFile, VersionFile
from portfolio.services.evidence import EvidenceDetails
from units.models import AssessmentCriterion

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
