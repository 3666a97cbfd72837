"""Building portfolios for the report tests and the export benchmark, through the real services."""

import datetime
import io
from collections.abc import Iterable, Mapping

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import User
from assessments.models import Countersignature, Decision, SampleItem, SampleReview, SamplingPlan, SignOff, Stage
from assessments.services.decisions import Judgement, decisions_record
from portfolio.models import Enrolment, Evidence, StoredFile
from portfolio.services.evidence import evidence_create, evidence_submit, mapping_set
from portfolio.services.files import file_attach
from tests.helpers import criterion, details
from units.models import EvidenceRequirementItem, Unit


def photo_bytes(width: int, height: int, seed: int = 0) -> bytes:
    """A JPEG photo that does not compress to nothing: noise over gradients, different per seed."""
    noise = Image.effect_noise((width, height), 40 + seed % 30)
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (noise, gradient, gradient.rotate(90 + seed % 180).resize((width, height))))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def png_bytes(width: int = 64, height: int = 48, colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def pdf_bytes(text: str = "minutes") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(buffer, "PDF", title=text)
    return buffer.getvalue()


def requirement_items(labels: Iterable[str], unit_key: str) -> list[EvidenceRequirementItem]:
    wanted = set(labels)
    found = EvidenceRequirementItem.objects.filter(requirement__unit__key=unit_key).select_related("requirement")
    return [i for i in found if f"{i.requirement.number}{i.letter}" in wanted]


def add_evidence(
    enrolment: Enrolment,
    *,
    title: str,
    accounts: Mapping[tuple[str, str], str],
    files: Iterable[tuple[str, bytes]] = (),
    covers: Iterable[str] = (),
    covers_unit: str = "",
    submit: bool = True,
    **detail_overrides: object,
) -> Evidence:
    """Evidence claiming {(unit key, AC number): account}, with files, submitted unless told not to."""
    learner = enrolment.learner
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details(title=title, **detail_overrides))
    version = evidence.current_version
    for name, content in files:
        file_attach(version=version, upload=SimpleUploadedFile(name, content), by=learner)
    mapping_set(
        version=version,
        by=learner,
        accounts={criterion(unit, number): account for (unit, number), account in accounts.items()},
        items=requirement_items(covers, covers_unit) if covers else [],
    )
    if submit:
        evidence_submit(version=version, by=learner, declared=True)
    evidence.refresh_from_db()
    return evidence


def judge(evidence: Evidence, assessor: User, outcomes: Mapping[str, tuple[str, str]]) -> list[Decision]:
    """Decide claims of the current version: {AC number: (outcome, feedback)}."""
    version = evidence.current_version
    judgements = []
    for claim in version.claims.select_related("criterion"):
        if claim.criterion.number in outcomes:
            outcome, feedback = outcomes[claim.criterion.number]
            latest = claim.decisions.order_by("-decided_at", "-id").first()
            judgements.append(Judgement(claim, outcome, feedback, latest.uuid if latest else None))
    return decisions_record(
        version=version, assessor=assessor, judgements=judgements, additions=[], reauthenticated=True
    )


def sign_off_rows(enrolment: Enrolment, unit: Unit, assessor: User, *, countersign: bool) -> SignOff:
    """A sign-off as rows: the report shows what is recorded, however it came to be."""
    sign_off = SignOff.objects.create(
        enrolment=enrolment, unit=unit, assessor=assessor, signed_at=timezone.now(), reauthenticated=True
    )
    if countersign:
        Countersignature.objects.create(
            sign_off=sign_off, learner=enrolment.learner, signed_at=timezone.now(), reauthenticated=False
        )
    return sign_off


def iqa_review(enrolment: Enrolment, unit: Unit, iqa: User, *, comments: str, actions: str = "") -> SampleReview:
    plan = SamplingPlan.objects.create(
        centre=enrolment.centre, iqa=iqa, title="Autumn interim sample", stage=Stage.INTERIM, default_rate=25
    )
    item = SampleItem.objects.create(
        plan=plan,
        enrolment=enrolment,
        unit=unit,
        assessor=enrolment.assessor,
        added_by=iqa,
        added_at=timezone.now(),
    )
    return SampleReview.objects.create(
        item=item,
        stage=Stage.INTERIM,
        outcome=SampleReview.Outcome.DISAGREE if actions else SampleReview.Outcome.AGREE,
        comments=comments,
        actions=actions,
        action_due=datetime.date(2026, 12, 1) if actions else None,
        reviewed_by=iqa,
        reviewed_at=timezone.now(),
        reauthenticated=True,
    )


def stored(enrolment: Enrolment, name: str) -> StoredFile:
    return StoredFile.objects.get(enrolment=enrolment, original_name=name)
