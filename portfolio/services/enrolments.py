"""Writes to enrolments: enrolling a learner, and (re)assigning their assessor and IQA.

Every rule is checked before anything is written, and all problems are reported together under the
enrolment form's field names, so the page can show each message beside its field.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import dateformat, timezone

from accounts.models import User
from portfolio.models import Assignment, AuditEvent, EnrolledUnit, Enrolment
from portfolio.services.audit import audit
from units.models import GroupUnit, Qualification, RuleGroup, Unit

# The enrolment field that holds the current person for each assignment role, and the role they need.
ROLE_FIELD: dict[str, str] = {Assignment.Role.ASSESSOR: "assessor", Assignment.Role.IQA: "iqa"}
ROLE_NEEDED: dict[str, User.Role] = {Assignment.Role.ASSESSOR: User.Role.ASSESSOR, Assignment.Role.IQA: User.Role.IQA}
REASON_MAX_LENGTH: int = Assignment._meta.get_field("reason").max_length

# For portfolios enrolled before assignments were recorded: their first person gets a history row.
BACKFILL_REASON = "Assigned before assignment history was kept."


class _Errors(dict[str, list[str]]):
    """Problems by form field; raised together so the admin sees everything wrong at once."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def role_name(role: Assignment.Role) -> str:
    """ "assessor", "IQA": for the middle of a sentence."""
    return role.label if role == Assignment.Role.IQA else role.label.lower()


def _person(person: User | None) -> dict[str, Any] | None:
    """How a person appears in an audit event's detail: public id and name, never the integer key."""
    return None if person is None else {"uuid": str(person.uuid), "name": str(person)}


def _credits(n: int) -> str:
    return f"{n} credit" if n == 1 else f"{n} credits"


def _check_person(errors: _Errors, field: str, person: User | None, role: User.Role, centre_id: int | None) -> None:
    if person is None:
        return
    if person.role != role:
        errors.add(field, f"{person} does not have the {role.label.lower()} role.")
    elif person.centre_id != centre_id:
        errors.add(field, f"{person} works at another centre.")
    elif not person.is_active:
        errors.add(field, f"{person}'s account is closed.")


def _rule_groups(qualification: Qualification) -> list[RuleGroup]:
    memberships = GroupUnit.objects.select_related("unit").order_by("position")
    return list(qualification.groups.prefetch_related(Prefetch("memberships", queryset=memberships)))


def _units_for(qualification: Qualification, chosen: Sequence[Unit], errors: _Errors) -> list[Unit]:
    """The units to enrol on: the chosen ones plus every mandatory unit, checked against the rules."""
    groups = _rule_groups(qualification)
    offered = {m.unit_id: m.unit for group in groups for m in group.memberships.all()}
    outside = [u.title for u in chosen if u.pk not in offered]
    if outside:
        errors.add("units", f"Not part of {qualification.title}: {', '.join(outside)}.")
    mandatory = {m.unit_id for g in groups if g.kind == RuleGroup.Kind.MANDATORY for m in g.memberships.all()}
    selected = mandatory | {u.pk for u in chosen if u.pk in offered}
    if not selected:
        errors.add("units", "Choose at least one unit.")
    for group in groups:
        if group.minimum_credits is None:
            continue
        got = sum(m.unit.credit_value for m in group.memberships.all() if m.unit_id in selected)
        if got < group.minimum_credits:
            errors.add("units", f"{group.name}: {_credits(got)} chosen, at least {group.minimum_credits} needed.")
    total = sum(offered[pk].credit_value for pk in selected)
    if qualification.minimum_credits is not None and total < qualification.minimum_credits:
        errors.add(
            "units",
            f"{qualification.title} as a whole: {_credits(total)} chosen, "
            f"at least {qualification.minimum_credits} needed.",
        )
    return sorted((offered[pk] for pk in selected), key=lambda u: (u.title, u.pk))


def _check_learner(errors: _Errors, learner: User, qualification: Qualification) -> None:
    if learner.role != User.Role.LEARNER or learner.centre_id is None:
        errors.add("learner", f"{learner} is not a learner at a centre.")
        return
    if not learner.is_active:
        errors.add("learner", f"{learner}'s account is closed.")
    active = Enrolment.objects.filter(learner=learner, qualification=qualification, status=Enrolment.Status.ACTIVE)
    existing = active.only("start_date").first()
    if existing is not None:
        since = dateformat.format(existing.start_date, "j F Y")
        errors.add(
            "qualification",
            f"{learner} already has an active enrolment on {qualification.title} (started {since}).",
        )


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
    by: User | None = None,
) -> Enrolment:
    # Locking the learner serialises enrolments of one person, so the "no active enrolment" check
    # cannot race; the partial unique constraint is the backstop.
    learner = User.objects.select_for_update().get(pk=learner.pk)
    errors = _Errors()
    _check_learner(errors, learner, qualification)
    _check_person(errors, "assessor", assessor, User.Role.ASSESSOR, learner.centre_id)
    _check_person(errors, "iqa", iqa, User.Role.IQA, learner.centre_id)
    if planned_end_date <= start_date:
        errors.add("planned_end_date", "The planned end date must be after the start date.")
    enrolled_units = _units_for(qualification, units, errors)
    errors.raise_if_any()

    enrolment = Enrolment.objects.create(
        learner=learner,
        centre_id=learner.centre_id,
        qualification=qualification,
        assessor=assessor,
        iqa=iqa,
        start_date=start_date,
        planned_end_date=planned_end_date,
    )
    EnrolledUnit.objects.bulk_create(EnrolledUnit(enrolment=enrolment, unit=u) for u in enrolled_units)
    now = timezone.now()
    Assignment.objects.bulk_create(
        Assignment(enrolment=enrolment, role=role, person=person, assigned_by=by, started_at=now)
        for role, person in ((Assignment.Role.ASSESSOR, assessor), (Assignment.Role.IQA, iqa))
        if person is not None
    )
    audit(
        by,
        AuditEvent.Action.ENROLLED,
        enrolment,
        enrolment=enrolment,
        summary=f"{by or 'The system'} enrolled {learner} on {qualification.title}",
        detail={
            "learner": _person(learner),
            "qualification": {"uuid": str(qualification.uuid), "title": qualification.title},
            "units": [{"uuid": str(u.uuid), "title": u.title} for u in enrolled_units],
            "assessor": _person(assessor),
            "iqa": _person(iqa),
            "start_date": start_date.isoformat(),
            "planned_end_date": planned_end_date.isoformat(),
        },
    )
    return enrolment


def _end_current(enrolment: Enrolment, role: Assignment.Role, now: datetime, by: User, reason: str) -> None:
    """End the current assignment for `role`, recording who ended it and why. Rows are never rewritten."""
    current = Assignment.objects.filter(enrolment=enrolment, role=role, ended_at__isnull=True).first()
    if current is None:
        # An enrolment made before assignment history was kept: record the person it had.
        person_id = getattr(enrolment, f"{ROLE_FIELD[role]}_id")
        if person_id is not None:
            Assignment.objects.create(
                enrolment=enrolment,
                role=role,
                person_id=person_id,
                started_at=enrolment.created_at,
                reason=BACKFILL_REASON,
                ended_at=now,
                ended_by=by,
                end_reason=reason,
            )
        return
    current.ended_at, current.ended_by, current.end_reason = now, by, reason
    current.save(update_fields=["ended_at", "ended_by", "end_reason"])


@transaction.atomic
def enrolment_reassign(
    *, enrolment: Enrolment, role: Assignment.Role, person: User | None, by: User, reason: str
) -> Enrolment:
    """Give the portfolio a new assessor or IQA (or none), ending the current one with a reason."""
    role = Assignment.Role(role)
    reason = reason.strip()
    locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    current_id = getattr(locked, f"{ROLE_FIELD[role]}_id")
    errors = _Errors()
    if not reason:
        errors.add("reason", "Give a reason for the change, for example “Daniel has left the centre”.")
    elif len(reason) > REASON_MAX_LENGTH:
        errors.add("reason", f"Keep the reason to {REASON_MAX_LENGTH} characters.")
    if person is None and current_id is None:
        errors.add("person", f"No {role_name(role)} is assigned, so there is nobody to unassign.")
    elif person is not None and person.pk == current_id:
        errors.add("person", f"{person} is already the {role_name(role)} for this portfolio.")
    else:
        _check_person(errors, "person", person, ROLE_NEEDED[role], locked.centre_id)
    errors.raise_if_any()

    now = timezone.now()
    previous = User.objects.filter(pk=current_id).first() if current_id is not None else None
    _end_current(locked, role, now, by, reason)
    if person is not None:
        Assignment.objects.create(
            enrolment=locked, role=role, person=person, assigned_by=by, started_at=now, reason=reason
        )
    setattr(locked, ROLE_FIELD[role], person)
    locked.save(update_fields=[ROLE_FIELD[role]])
    name = role_name(role)
    if person is None:
        change = f"unassigned {previous} as {name}"
    elif previous is None:
        change = f"assigned {person} as {name}"
    else:
        change = f"changed the {name} from {previous} to {person}"
    audit(
        by,
        AuditEvent.Action.REASSIGNED,
        locked,
        enrolment=locked,
        summary=f"{by} {change} for {locked.learner}: {reason}",
        detail={"role": str(role), "from": _person(previous), "to": _person(person), "reason": reason},
    )
    return locked
