"""Writes to assessment plans and progress reviews.

A plan is written once by the assessor and then only signed: nothing edits its title or
activities, so what the learner agreed to is exactly what stays on record. To change a plan the
assessor writes a new one (the plan page offers to start one from the old). A signature is a
timestamp each party sets once, with a conditional UPDATE so two tabs cannot both sign.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.policy import Action, allows, require
from assessments.models import AssessmentPlan, Notice, PlannedActivity, ProgressReview
from assessments.services.notices import notify
from portfolio.models import AuditEvent, Enrolment, Method
from portfolio.services.audit import audit
from units.models import AssessmentCriterion

TITLE_MAX_LENGTH = 200


def clean_title(title: str, errors: dict[str, list[str]]) -> str:
    """A plan's title, stripped; a missing or overlong one is added to `errors` under "title"."""
    title = title.strip()
    if not title:
        errors["title"] = ["Give the plan a title."]
    elif len(title) > TITLE_MAX_LENGTH:
        errors["title"] = [f"Keep the title to {TITLE_MAX_LENGTH} characters."]
    return title


MAX_ACTIVITIES = 30


@dataclass(frozen=True)
class ActivityInput:
    description: str
    target_date: date
    method: str = ""  # a portfolio.models.Method value, or blank while the method is still open
    criteria: Sequence[AssessmentCriterion] = field(default_factory=tuple)


class Signer(StrEnum):
    """Which signature a person gives; the value names the model field `<value>_signed_at`."""

    ASSESSOR = "assessor"
    LEARNER = "learner"


def signer_for(user: User, enrolment: Enrolment) -> Signer | None:
    """The signature `user` may give on this portfolio's plans and reviews, if any (from the policy)."""
    if allows(user, Action.ASSESS, enrolment):
        return Signer.ASSESSOR
    if allows(user, Action.LEARNER_SIGN, enrolment):
        return Signer.LEARNER
    return None


def _activity_errors(enrolment: Enrolment, activities: Sequence[ActivityInput]) -> list[str]:
    errors = []
    if not activities:
        errors.append("Add at least one activity.")
    if len(activities) > MAX_ACTIVITIES:
        errors.append(f"A plan can have at most {MAX_ACTIVITIES} activities.")
    enrolled = set(enrolment.enrolled_units.values_list("unit_id", flat=True))
    criterion_ids = {c.pk for a in activities for c in a.criteria}
    # One query for every activity's criteria, rather than trusting prefetched objects.
    foreign = set(
        AssessmentCriterion.objects.filter(pk__in=criterion_ids)
        .exclude(outcome__unit_id__in=enrolled)
        .values_list("pk", flat=True)
    )
    for number, activity in enumerate(activities, start=1):
        if not activity.description.strip():
            errors.append(f"Activity {number}: describe what the learner will do.")
        if activity.method and activity.method not in Method.values:
            errors.append(f"Activity {number}: choose a method from the list.")
        if any(c.pk in foreign for c in activity.criteria):
            errors.append(f"Activity {number}: choose criteria from the units on this portfolio.")
    return errors


@transaction.atomic
def plan_create(
    *, enrolment: Enrolment, assessor: User, title: str, activities: Sequence[ActivityInput]
) -> AssessmentPlan:
    """Write a plan with its activities and tell the learner it awaits their signature."""
    require(assessor, Action.ASSESS, enrolment)  # the views check too; no other caller can skip it
    errors: dict[str, list[str]] = {}
    title = clean_title(title, errors)
    if activity_errors := _activity_errors(enrolment, activities):
        errors["activities"] = activity_errors
    if errors:
        raise ValidationError(errors)

    plan = AssessmentPlan.objects.create(enrolment=enrolment, title=title, created_by=assessor)
    rows = PlannedActivity.objects.bulk_create(
        PlannedActivity(
            plan=plan,
            position=position,
            description=activity.description.strip(),
            method=activity.method,
            target_date=activity.target_date,
        )
        for position, activity in enumerate(activities, start=1)
    )
    through = PlannedActivity.criteria.through
    through.objects.bulk_create(
        through(plannedactivity_id=row.pk, assessmentcriterion_id=criterion.pk)
        for row, activity in zip(rows, activities, strict=True)
        for criterion in {c.pk: c for c in activity.criteria}.values()  # a criterion once per activity
    )
    count = len(rows)
    audit(
        assessor,
        AuditEvent.Action.PLAN_CREATED,
        plan,
        enrolment=enrolment,
        summary=f"{assessor} wrote the assessment plan “{title}” with {count} activit{'y' if count == 1 else 'ies'}",
        detail={"activities": count, "target_dates": sorted({a.target_date.isoformat() for a in activities})},
    )
    notify(
        recipients=[enrolment.learner],
        kind=Notice.Kind.RECORD_TO_CONFIRM,
        text=f"{assessor} has written an assessment plan, “{title}”. Please read it and sign it if you agree.",
        url=reverse("assessments:plan", args=[plan.uuid]),
    )
    return plan


def _sign(
    signable: AssessmentPlan | ProgressReview, *, enrolment: Enrolment, by: User, reauthenticated: bool
) -> Signer:
    """Set the signer's own timestamp, once. Nothing else on the row changes. Returns who signed as."""
    if not reauthenticated:
        raise ValidationError({"password": ["Type your password to sign."]})
    signer = signer_for(by, enrolment)
    if signer is None:
        raise PermissionDenied("Only the assessor and the learner sign.")
    column = f"{signer}_signed_at"
    now = timezone.now()
    # A conditional UPDATE that must touch exactly one row: a second signature (another tab, a
    # double click) finds the column set and changes nothing.
    signed_by = f"{signer}_signed_by"
    signed = (
        type(signable)
        .objects.filter(pk=signable.pk, **{f"{column}__isnull": True})
        .update(**{column: now, signed_by: by})
    )
    if signed != 1:
        raise ValidationError("You have already signed this. A signature is given once.")
    setattr(signable, column, now)
    setattr(signable, signed_by, by)
    return signer


@transaction.atomic
def plan_sign(*, plan: AssessmentPlan, by: User, reauthenticated: bool) -> AssessmentPlan:
    """The assessor or the learner signs the plan (each once, after typing their password)."""
    enrolment = plan.enrolment
    signer = _sign(plan, enrolment=enrolment, by=by, reauthenticated=reauthenticated)
    audit(
        by,
        AuditEvent.Action.PLAN_SIGNED,
        plan,
        enrolment=enrolment,
        summary=f"{by} signed the assessment plan “{plan.title}” as the {signer}",
        detail={"signer": str(signer)},
    )
    return plan


@transaction.atomic
def review_create(
    *, plan: AssessmentPlan, assessor: User, reviewed_on: date, achieved: str, next_steps: str
) -> ProgressReview:
    """Record a progress review against a plan and tell the learner it awaits their signature."""
    enrolment = plan.enrolment
    require(assessor, Action.ASSESS, enrolment)
    errors: dict[str, list[str]] = {}
    if reviewed_on > timezone.localdate():
        errors["reviewed_on"] = ["A review records a meeting that has happened: the date cannot be in the future."]
    if not achieved.strip():
        errors["achieved"] = ["Say what has been achieved against the plan."]
    if errors:
        raise ValidationError(errors)
    review = ProgressReview.objects.create(
        plan=plan,
        reviewed_on=reviewed_on,
        achieved=achieved.strip(),
        next_steps=next_steps.strip(),
        created_by=assessor,
    )
    audit(
        assessor,
        AuditEvent.Action.REVIEW_CREATED,
        review,
        enrolment=enrolment,
        summary=f"{assessor} recorded a progress review of “{plan.title}” ({_day(reviewed_on)})",
        detail={"plan": str(plan.uuid), "reviewed_on": reviewed_on.isoformat()},
    )
    notify(
        recipients=[enrolment.learner],
        kind=Notice.Kind.RECORD_TO_CONFIRM,
        text=(
            f"{assessor} has recorded a progress review of “{plan.title}” "
            f"({reviewed_on.day} {reviewed_on:%b %Y}). Please read it and sign it if you agree."
        ),
        url=reverse("assessments:plan", args=[plan.uuid]) + f"#review-{review.uuid}",
    )
    return review


@transaction.atomic
def review_sign(*, review: ProgressReview, by: User, reauthenticated: bool) -> ProgressReview:
    """The assessor or the learner signs the review (each once, after typing their password)."""
    plan = review.plan
    signer = _sign(review, enrolment=plan.enrolment, by=by, reauthenticated=reauthenticated)
    audit(
        by,
        AuditEvent.Action.REVIEW_SIGNED,
        review,
        enrolment=plan.enrolment,
        summary=f"{by} signed the progress review of “{plan.title}” ({_day(review.reviewed_on)}) as the {signer}",
        detail={"plan": str(plan.uuid), "reviewed_on": review.reviewed_on.isoformat(), "signer": str(signer)},
    )
    return review


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"
