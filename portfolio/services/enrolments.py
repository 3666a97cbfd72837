"""Writes to portfolios."""

from collections.abc import Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from portfolio.models import EnrolledUnit, Enrolment
from units.models import Qualification, Unit


def _check_role(person: User | None, role: User.Role, centre_id: int, what: str) -> None:
    if person is None:
        return
    if person.role != role:
        raise ValidationError({what: f"{person} is not a {role.label.lower()}."})
    if person.centre_id != centre_id:
        raise ValidationError({what: f"{person} works at another centre."})


@transaction.atomic
def enrolment_create(
    *,
    learner: User,
    qualification: Qualification,
    units: Sequence[Unit],
    assessor: User | None,
    iqa: User | None,
    start_date: date,
    planned_end_date: date,
) -> Enrolment:
    if learner.role != User.Role.LEARNER or learner.centre_id is None:
        raise ValidationError({"learner": f"{learner} is not a learner at a centre."})
    _check_role(assessor, User.Role.ASSESSOR, learner.centre_id, "assessor")
    _check_role(iqa, User.Role.IQA, learner.centre_id, "iqa")
    if planned_end_date < start_date:
        raise ValidationError({"planned_end_date": "The planned end date is before the start date."})
    offered = set(Unit.objects.filter(rule_groups__qualification=qualification).values_list("pk", flat=True))
    outside = [u for u in units if u.pk not in offered]
    if outside:
        names = ", ".join(u.title for u in outside)
        raise ValidationError({"units": f"Not part of {qualification.title}: {names}."})
    enrolment = Enrolment.objects.create(
        learner=learner,
        centre_id=learner.centre_id,
        qualification=qualification,
        assessor=assessor,
        iqa=iqa,
        start_date=start_date,
        planned_end_date=planned_end_date,
    )
    EnrolledUnit.objects.bulk_create(EnrolledUnit(enrolment=enrolment, unit=u) for u in units)
    return enrolment
