"""Portfolios with every kind of record and real bytes in storage, certified on a fixed date, and a
way to run the purge with its after-commit work carried out as a real commit would."""

import datetime
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import User
from assessments.models import (
    AssessmentPlan,
    AssessorRecord,
    Countersignature,
    Decision,
    PlannedActivity,
    ProgressReview,
    SampleItem,
    SampleReview,
    SamplingPlan,
    SignOff,
    Stage,
)
from portfolio.models import (
    AuditEvent,
    EnrolledUnit,
    Enrolment,
    EvidenceVersion,
    ExportJob,
    ExportSection,
    LegalHold,
    LegalHoldRelease,
    RetentionPolicy,
    StoredFile,
    VersionFile,
)
from portfolio.retention_selectors import records_to_delete
from portfolio.services import exports
from portfolio.services.evidence import evidence_create, evidence_new_version, evidence_submit, mapping_set
from portfolio.services.retention import PurgeRun, enrolment_certify, retention_purge
from tests.factories import UserFactory
from tests.helpers import PLAN, criterion, details, enrol
from units.models import EvidenceRequirementItem, Unit

OCR_DEFAULTS = import_module("portfolio.migrations.0008_retention_policy_defaults").DEFAULTS
CERTIFIED = datetime.date(2026, 10, 1)
EVIDENCE_DUE = datetime.date(2026, 12, 24)  # 12 weeks on: the seeded OCR rule
RECORDS_DUE = datetime.date(2029, 10, 1)  # 3 years on


@dataclass
class Portfolio:
    enrolment: Enrolment
    files: list[StoredFile]
    export: ExportJob
    export_names: list[str]  # the export's PDF and an intermediate file of its attempt

    @property
    def storage_names(self) -> list[str]:
        return [f.storage_name for f in self.files] + self.export_names


@pytest.fixture(autouse=True)
def ocr_rule(db) -> RetentionPolicy:
    """The rule migration 0008 seeds, made again when missing: a transactional test elsewhere in
    the suite flushes the database, and migration-made rows go with it."""
    return RetentionPolicy.objects.get_or_create(
        awarding_body__iexact=OCR_DEFAULTS["awarding_body"], defaults={**OCR_DEFAULTS, "updated_at": timezone.now()}
    )[0]


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Storage of this test's own, so "every stored file" means the files this test made."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> set[str]:
    return {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}


def _store(version: EvidenceVersion, name: str, content: bytes) -> StoredFile:
    enrolment = version.evidence.enrolment
    storage_name = default_storage.save(f"evidence/2026/10/{uuid.uuid4()}", ContentFile(content))
    stored = StoredFile.objects.create(
        enrolment=enrolment,
        storage_name=storage_name,
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=enrolment.learner,
    )
    VersionFile.objects.create(version=version, file=stored, position=version.version_files.count())
    return stored


def build_portfolio(enrolment: Enrolment, assessor: User, iqa: User) -> Portfolio:
    """Evidence in two versions with files, claims, coverage, declarations and a superseded
    decision; an assessor's record; a signed-off, countersigned and IQA-sampled unit; a plan with
    an activity and a review; a finished PDF export with its files in storage."""
    learner, now, tag = enrolment.learner, timezone.now(), str(enrolment.uuid).encode()
    unit = Unit.objects.get(key=PLAN)
    first, second = criterion(PLAN, "1.1"), criterion(PLAN, "1.2")
    item = EvidenceRequirementItem.objects.filter(requirement__unit=unit).first()

    evidence = evidence_create(enrolment=enrolment, by=learner, details=details(title="Team briefing notes"))
    v1 = evidence.current_version
    files = [_store(v1, "briefing.pdf", b"%PDF-1.4 briefing " + tag), _store(v1, "rota.pdf", b"%PDF-1.4 rota " + tag)]
    mapping_set(version=v1, by=learner, accounts={first: "I planned it", second: "I checked it"}, items=[item])
    evidence_submit(version=v1, by=learner, declared=True)
    claim = v1.claims.get(criterion=first)
    not_yet = Decision.objects.create(
        claim=claim,
        outcome=Decision.Outcome.NOT_YET_MET,
        feedback="Add the targets",
        decided_by=assessor,
        decided_at=now,
    )
    Decision.objects.create(
        claim=claim, outcome=Decision.Outcome.MET, decided_by=assessor, decided_at=now, supersedes=not_yet
    )
    v2 = evidence_new_version(evidence=evidence, by=learner)
    files.append(_store(v2, "targets.pdf", b"%PDF-1.4 targets " + tag))
    evidence_submit(version=v2, by=learner, declared=True)
    Decision.objects.create(
        claim=v2.claims.get(criterion=first), outcome=Decision.Outcome.MET, decided_by=assessor, decided_at=now
    )

    observed = evidence_create(enrolment=enrolment, by=assessor, details=details(title="Observation"))
    AssessorRecord.objects.create(evidence=observed, kind=AssessorRecord.Kind.OBSERVATION, statement="Ran the huddle")

    sign_off = SignOff.objects.create(enrolment=enrolment, unit=unit, assessor=assessor, signed_at=now)
    Countersignature.objects.create(sign_off=sign_off, learner=learner, signed_at=now)
    plan = AssessmentPlan.objects.create(enrolment=enrolment, title="Autumn plan", created_by=assessor)
    activity = PlannedActivity.objects.create(
        plan=plan, position=1, description="Observe a briefing", target_date=CERTIFIED
    )
    activity.criteria.add(first)
    ProgressReview.objects.create(plan=plan, reviewed_on=CERTIFIED, achieved="Briefing observed", created_by=assessor)
    sampling = SamplingPlan.objects.get_or_create(
        centre=enrolment.centre, iqa=iqa, title="Summative sample", stage=Stage.SUMMATIVE, default_rate=50
    )[0]
    sampling.enrolments.add(enrolment)
    sampled = SampleItem.objects.create(
        plan=sampling, enrolment=enrolment, unit=unit, assessor=assessor, added_by=iqa, added_at=now
    )
    SampleReview.objects.create(
        item=sampled,
        stage=Stage.SUMMATIVE,
        outcome=SampleReview.Outcome.AGREE,
        comments="Sound decisions",
        reviewed_by=iqa,
        reviewed_at=now,
        sign_off=sign_off,
    )

    job = ExportJob.objects.create(enrolment=enrolment, requested_by=assessor, requested_at=now, attempts=1)
    pdf = b"%PDF-1.4 the whole portfolio " + tag
    output = default_storage.save(exports.output_name(job, 1), ContentFile(pdf))
    leftover = default_storage.save(exports.section_name(job, 1, 1), ContentFile(b"%PDF-1.4 a section"))
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.DONE,
        progress=100,
        storage_name=output,
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        page_count=3,
        finished_at=now,
    )
    ExportSection.objects.create(job=job, attempt=1, index=1, stage="Evidence", state="done", page_count=2)
    job.refresh_from_db()
    return Portfolio(enrolment=enrolment, files=files, export=job, export_names=[output, leftover])


@pytest.fixture
def portfolio(enrolment, assessor, iqa, centre_admin) -> Portfolio:
    """`learner`'s full portfolio, certified on CERTIFIED."""
    built = build_portfolio(enrolment, assessor, iqa)
    enrolment_certify(enrolment=enrolment, certified_on=CERTIFIED, by=centre_admin)
    built.enrolment.refresh_from_db()
    return built


@pytest.fixture
def classmate(enrolment, assessor, iqa, centre) -> Portfolio:
    """Another learner at the centre with a full portfolio, still in progress (never certified)."""
    other = enrol(UserFactory(username="cleo", role=User.Role.LEARNER, centre=centre), assessor=assessor, iqa=iqa)
    return build_portfolio(other, assessor, iqa)


@pytest.fixture
def purge(django_capture_on_commit_callbacks) -> Callable[..., PurgeRun]:
    """Run the purge as the command does; its after-commit work runs when the purge returns."""

    def run(today: datetime.date, *, dry_run: bool = False) -> PurgeRun:
        with django_capture_on_commit_callbacks(execute=True):
            result = retention_purge(today=today, dry_run=dry_run)
        return result

    return run


def snapshot(portfolio: Portfolio, media: Path) -> dict[str, object]:
    """Everything retention could change for one portfolio: its rows per model, its files' purge
    marks, its own fields and its bytes in storage."""
    enrolment = Enrolment.objects.get(pk=portfolio.enrolment.pk)
    rows = {label: queryset.count() for label, queryset in records_to_delete(enrolment.pk)}
    rows.update(
        {
            "enrolled units": EnrolledUnit.objects.filter(enrolment=enrolment).count(),
            "audit events": AuditEvent.objects.filter(enrolment=enrolment).count(),
            "legal holds": LegalHold.objects.filter(enrolment=enrolment).count(),
            "releases": LegalHoldRelease.objects.filter(hold__enrolment=enrolment).count(),
            "sampling plans": SamplingPlan.objects.filter(enrolments=enrolment).count(),
        }
    )
    purged = StoredFile.objects.filter(enrolment=enrolment, purged_at__isnull=False).values_list("uuid", flat=True)
    return {
        "rows": rows,
        "purged": sorted(map(str, purged)),
        "enrolment": (
            enrolment.status,
            enrolment.certified_on,
            enrolment.evidence_purged_at,
            enrolment.records_purged_at,
        ),
        "storage": stored_files(media) & set(portfolio.storage_names),
    }
