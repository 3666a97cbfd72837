"""A worked demo portfolio for `make run`: evidence with photos, decisions with feedback, one
unit signed off and countersigned, and an EQA's access. Built through the real services, so it
is exactly what people would have made in the browser (and the audit trail shows it)."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import AccessGrant, User
from assessments.services.decisions import Judgement, decisions_record
from assessments.services.signoff import unit_countersign, unit_sign_off
from portfolio.models import Enrolment, Evidence, Method
from portfolio.services.evidence import EvidenceDetails, evidence_create, evidence_submit, mapping_set
from portfolio.services.files import file_attach
from portfolio.services.grants import access_grant, default_expiry
from units.models import AssessmentCriterion, EvidenceRequirementItem, Unit


def photo(caption: str, size: tuple[int, int] = (1600, 1200)) -> SimpleUploadedFile:
    """A JPEG that looks like a photographed whiteboard: enough detail not to compress to nothing."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 80, size[0] - 80, size[1] - 80), outline=(20, 60, 120), width=12)
    for row in range(6):
        draw.line((160, 240 + row * 130, size[0] - 160, 240 + row * 130), fill=(40, 40, 40), width=6)
    draw.text((160, 150), caption, fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    name = caption.lower().replace(" ", "-") + ".jpg"
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _criteria(unit: Unit) -> list[AssessmentCriterion]:
    return list(
        AssessmentCriterion.objects.filter(outcome__unit=unit)
        .select_related("outcome")
        .order_by("outcome__number", "ordinal")
    )


def _submitted_evidence(
    enrolment: Enrolment, learner: User, title: str, criteria: list[AssessmentCriterion], items, days_ago: int
) -> Evidence:
    evidence = evidence_create(
        enrolment=enrolment,
        by=learner,
        details=EvidenceDetails(
            title=title,
            description=f"{title}: what I did at work, with the documents and photos to show it.",
            method=Method.WORK_PRODUCT,
            activity_date=timezone.localdate() - datetime.timedelta(days=days_ago),
            activity_end_date=None,
            location="Riverside customer contact centre",
        ),
    )
    version = evidence.current_version
    file_attach(version=version, upload=photo(f"{title} whiteboard"), by=learner)
    mapping_set(
        version=version,
        by=learner,
        accounts={c: f"In “{title}” I {c.text[0].lower()}{c.text[1:].rstrip('.')}." for c in criteria},
        items=items,
    )
    evidence_submit(version=version, by=learner, declared=True)
    return evidence


def _judge(evidence: Evidence, assessor: User, outcome_for) -> None:
    version = evidence.current_version
    claims = list(version.claims.select_related("criterion"))
    decisions_record(
        version=version,
        assessor=assessor,
        judgements=[Judgement(claim, *outcome_for(claim.criterion), expected=None) for claim in claims],
        additions=[],
        reauthenticated=True,
    )


@transaction.atomic
def demo_portfolio_ensure(enrolment: Enrolment, people: dict[str, User]) -> list[str]:
    created: list[str] = []
    learner, assessor = people["learner"], people["assessor"]
    units = list(enrolment.units.order_by("title"))
    if not Evidence.objects.filter(enrolment=enrolment).exists() and len(units) >= 2:
        finished, started = units[1], units[0]
        # The finished unit: one piece of evidence per learning outcome, all met, signed off.
        criteria = _criteria(finished)
        items = list(EvidenceRequirementItem.objects.filter(requirement__unit=finished))
        outcomes = sorted({c.outcome for c in criteria}, key=lambda o: o.number)
        for position, outcome in enumerate(outcomes):
            evidence = _submitted_evidence(
                enrolment,
                learner,
                f"Outcome {outcome.number}: {outcome.text[:60].rstrip()}",
                [c for c in criteria if c.outcome_id == outcome.pk],
                items if position == 0 else [],
                days_ago=50 - position * 5,
            )
            _judge(evidence, assessor, lambda c: ("met", f"Met: your account and the photo show {c.number} clearly."))
        sign_off = unit_sign_off(enrolment=enrolment, unit=finished, assessor=assessor, reauthenticated=True)
        unit_countersign(sign_off=sign_off, learner=learner, reauthenticated=True)
        # The unit in progress: one piece, partly met.
        first_two = _criteria(started)[:2]
        evidence = _submitted_evidence(enrolment, learner, "Team briefing notes", first_two, [], days_ago=10)
        _judge(
            evidence,
            assessor,
            lambda c: (
                ("met", "Met: the notes show this.")
                if c == first_two[0]
                else ("not_yet_met", "Not yet: add the targets you agreed and how you will check them.")
            ),
        )
        created.append(f"demo evidence, decisions and the sign-off of {finished.title}")
    eqa, admin = people["eqa"], people["centreadmin"]
    if not AccessGrant.objects.filter(eqa=eqa, centre=enrolment.centre).exists():
        access_grant(
            admin=admin, eqa=eqa, whole_centre=True, expires_on=default_expiry(), reason="Demo: the EQA's visit"
        )
        created.append(f"EQA access for {eqa.username}")
    return created
