"""Signing a unit off (the assessor) and countersigning it (the learner).

Both are signed acts recorded once: the database's unique constraints are the final word, so two
tabs or two people acting at once cannot sign the same unit twice. Readiness is checked again
inside the transaction with the portfolio locked, because the page the assessor looked at may be
out of date by the time they sign.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import dateformat, timezone

from accounts.models import User
from assessments.models import Countersignature, Notice, SignOff
from assessments.selectors import unit_readiness
from assessments.services.notices import notify
from portfolio.models import AuditEvent, Enrolment
from portfolio.services.audit import audit
from units.models import Unit


def _name(person: User) -> str:
    return person.get_full_name() or person.username


def _day(moment: datetime.datetime) -> str:
    return dateformat.format(timezone.localtime(moment), "j M Y")


def _tracking_url(enrolment: Enrolment, unit: Unit) -> str:
    return reverse("portfolio:unit_tracking", args=[enrolment.uuid, unit.uuid])


def _already_signed_off(enrolment: Enrolment, unit: Unit) -> SignOff | None:
    return SignOff.objects.filter(enrolment=enrolment, unit=unit).select_related("assessor").first()


def _signed_off_twice(unit: Unit, existing: SignOff | None = None) -> ValidationError:
    when = f" by {_name(existing.assessor)} on {_day(existing.signed_at)}" if existing else ""
    return ValidationError(f"“{unit.title}” has already been signed off{when}. A unit is signed off only once.")


def _lock(enrolment: Enrolment) -> Enrolment:
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins to assessor and IQA.
    return (
        Enrolment.objects.select_for_update(of=("self",))
        .select_related("learner", "assessor", "iqa")
        .get(pk=enrolment.pk)
    )


@transaction.atomic
def unit_sign_off(*, enrolment: Enrolment, unit: Unit, assessor: User, reauthenticated: bool) -> SignOff:
    """Sign `unit` off for `enrolment` if every criterion is met and every evidence item covered.

    Raises ValidationError listing exactly what is missing, or saying it was signed off already.
    """
    enrolment = _lock(enrolment)
    if enrolment.assessor_id != assessor.pk:
        raise ValidationError("Only the learner's assigned assessor can sign off their units.")
    if not enrolment.enrolled_units.filter(unit=unit).exists():
        raise ValidationError(f"“{unit.title}” is not a unit on this portfolio.")
    if existing := _already_signed_off(enrolment, unit):
        raise _signed_off_twice(unit, existing)
    readiness = unit_readiness(enrolment, unit)
    if not readiness.is_ready:
        raise ValidationError([f"“{unit.title}” is not ready to sign off. Still missing:", *readiness.problems])
    try:
        with transaction.atomic():  # a savepoint, so the outer transaction survives the violation
            sign_off = SignOff.objects.create(
                enrolment=enrolment,
                unit=unit,
                assessor=assessor,
                signed_at=timezone.now(),
                reauthenticated=reauthenticated,
                snapshot=readiness.snapshot(),
            )
    except IntegrityError:
        # Someone signed it off between our check and our insert: the constraint decides.
        raise _signed_off_twice(unit) from None
    audit(
        assessor,
        AuditEvent.Action.UNIT_SIGNED_OFF,
        sign_off,
        enrolment=enrolment,
        summary=f"{_name(assessor)} signed off “{unit.title}” for {_name(enrolment.learner)}",
        detail={**_unit_detail(unit), "reauthenticated": reauthenticated},
    )
    _tell_signed_off(enrolment, unit, assessor)
    return sign_off


def _unit_detail(unit: Unit) -> dict[str, str]:
    return {"unit": str(unit.uuid), "unit_title": unit.title, "unit_reference": unit.reference_number}


def _tell_signed_off(enrolment: Enrolment, unit: Unit, assessor: User) -> None:
    url = _tracking_url(enrolment, unit)
    notify(
        recipients=[enrolment.learner],
        kind=Notice.Kind.SIGNED_OFF,
        text=f"{_name(assessor)} signed off “{unit.title}”. Please countersign.",
        url=url,
    )
    notify(
        recipients=[enrolment.iqa],
        kind=Notice.Kind.SIGNED_OFF,
        text=f"{_name(assessor)} signed off “{unit.title}” for {_name(enrolment.learner)}.",
        url=url,
    )


def _already_countersigned(sign_off: SignOff) -> bool:
    return Countersignature.objects.filter(sign_off=sign_off).exists()


@transaction.atomic
def unit_countersign(*, sign_off: SignOff, learner: User, reauthenticated: bool) -> Countersignature:
    """The learner's countersignature on a sign-off, made once. Tells the assessor and the IQA."""
    sign_off = (
        SignOff.objects.select_for_update(of=("self",))
        .select_related("unit", "assessor", "enrolment__learner", "enrolment__assessor", "enrolment__iqa")
        .get(pk=sign_off.pk)
    )
    enrolment, unit = sign_off.enrolment, sign_off.unit
    if enrolment.learner_id != learner.pk:
        raise ValidationError("Only the learner whose portfolio it is can countersign a unit.")
    twice = ValidationError(f"You have already countersigned “{unit.title}”. A unit is countersigned only once.")
    if _already_countersigned(sign_off):
        raise twice
    try:
        with transaction.atomic():
            countersignature = Countersignature.objects.create(
                sign_off=sign_off, learner=learner, signed_at=timezone.now(), reauthenticated=reauthenticated
            )
    except IntegrityError:
        raise twice from None
    # The sign-off is the object: a countersignature has no public id of its own.
    audit(
        learner,
        AuditEvent.Action.UNIT_COUNTERSIGNED,
        sign_off,
        enrolment=enrolment,
        summary=f"{_name(learner)} countersigned the sign-off of “{unit.title}” by {_name(sign_off.assessor)}",
        detail={**_unit_detail(unit), "reauthenticated": reauthenticated},
    )
    notify(
        # The assessor who signed and the one assigned now, if someone else has taken over since.
        recipients=[sign_off.assessor, enrolment.assessor, enrolment.iqa],
        kind=Notice.Kind.COUNTERSIGNED,
        text=f"{_name(learner)} countersigned “{unit.title}”. It is now with quality assurance.",
        url=_tracking_url(enrolment, unit),
    )
    return countersignature
