"""Writes for internal quality assurance: sampling plans, what they sample, and the IQA's signed reviews.

An IQA never samples their own assessment decisions: roles change over time, so someone who
decided on (or signed off) a learner's unit as an assessor is refused when they come back to it
as its IQA. A review is a signed record like a decision: the IQA types their password again, the
decisions and sign-off they looked at are copied into it, and a later review is a new row.
Every write records an audit event in its own transaction.
"""

import datetime
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Centre, User
from accounts.policy import Action, allows, scope_q
from assessments.models import Notice, SampleItem, SampleReview, SamplingPlan, SamplingTarget, SignOff, Stage
from assessments.sampling_selectors import (
    UnitFacts,
    decisions_snapshot,
    fingerprint,
    is_eligible,
    learner_unit_facts,
    name_of,
    own_part,
    plan_scope,
    portfolio_label,
    sampled_assessor,
    scope_refusal,
    unit_decisions,
)
from assessments.services.notices import notify
from assessments.services.plans import clean_title
from portfolio.models import AuditEvent, EnrolledUnit, Enrolment, Method
from portfolio.services.audit import audit
from units.models import Unit

Outcome = SampleReview.Outcome

ACTIONS_REQUIRED = "Say what the assessor must do: disagreeing needs actions for the assessor."


def _rate_error(rate: object) -> str | None:
    if not isinstance(rate, int) or isinstance(rate, bool) or not 1 <= rate <= 100:
        return "A rate is a whole percentage from 1 to 100."
    return None


def _own_refusal(part: str, enrolment: Enrolment, unit: Unit) -> ValidationError:
    return ValidationError(
        f"You cannot sample “{unit.title}” for {name_of(enrolment.learner)}: you {part}. "
        "An IQA never samples their own assessment decisions; another IQA must sample this unit."
    )


# --- Plans -----------------------------------------------------------------------------------------


@transaction.atomic
def sampling_plan_create(
    *,
    iqa: User,
    title: str,
    stage: str,
    units: Iterable[Unit],
    methods: Iterable[str],
    default_rate: int,
    assessor_rates: Mapping[User, int | None],
    enrolments: Iterable[Enrolment] = (),
) -> SamplingPlan:
    """Write an IQA's sampling plan for the portfolios they quality-assure.

    `enrolments` (the learners' portfolios), `units` and `methods` narrow the plan (empty: every one).
    `assessor_rates` names the assessors sampled, each with their own rate or None for `default_rate`
    (empty: every assessor, at it).
    """
    learners, units, methods = list(dict.fromkeys(enrolments)), list(dict.fromkeys(units)), list(dict.fromkeys(methods))
    if iqa.role != User.Role.IQA or iqa.centre_id is None:
        raise ValidationError("Only an IQA at a centre can build a sampling plan.")
    ours = Enrolment.objects.filter(scope_q(iqa, Action.QUALITY_ASSURE))
    errors: dict[str, list[str]] = {}
    title = clean_title(title, errors)
    if stage not in Stage.values:
        errors["stage"] = ["Choose interim or summative sampling."]
    if error := _rate_error(default_rate):
        errors["default_rate"] = [error]
    if learners:
        assured = set(ours.filter(pk__in=[e.pk for e in learners]).values_list("pk", flat=True))
        if foreign_learners := [e for e in learners if e.pk not in assured]:
            errors["enrolments"] = [
                f"{portfolio_label(e)} is not a portfolio you quality-assure, so a plan of yours cannot sample it."
                for e in foreign_learners
            ]
    our_units = set(EnrolledUnit.objects.filter(enrolment__in=ours).values_list("unit_id", flat=True))
    if foreign := [u for u in units if u.pk not in our_units]:
        errors["units"] = [f"“{u.title}” is not a unit on any portfolio you quality-assure." for u in foreign]
    if unknown := [m for m in methods if m not in Method.values]:
        errors["methods"] = [f"“{m}” is not an assessment method." for m in unknown]
    assessing = set(ours.exclude(assessor=None).values_list("assessor_id", flat=True))
    for assessor, rate in assessor_rates.items():
        if assessor.pk not in assessing:
            errors.setdefault("assessors", []).append(f"{name_of(assessor)} assesses none of your portfolios.")
        elif rate is not None and (error := _rate_error(rate)):
            errors.setdefault("assessors", []).append(f"{name_of(assessor)}: {error}")
    if errors:
        raise ValidationError(errors)

    plan = SamplingPlan.objects.create(
        centre_id=iqa.centre_id, iqa=iqa, title=title, stage=stage, methods=methods, default_rate=default_rate
    )
    plan.enrolments.set(learners)
    plan.units.set(units)
    targets = SamplingTarget.objects.bulk_create(
        SamplingTarget(plan=plan, assessor=assessor, rate=default_rate if rate is None else rate)
        for assessor, rate in assessor_rates.items()
    )
    audit(
        iqa,
        AuditEvent.Action.SAMPLING_PLAN_CREATED,
        plan,
        summary=f"Sampling plan “{title}” ({plan.get_stage_display().lower()}) created",
        centre=Centre(pk=plan.centre_id),
        detail={
            "stage": stage,
            "default_rate": default_rate,
            "enrolments": [str(e.uuid) for e in learners],
            "units": [str(u.uuid) for u in units],
            "methods": methods,
            "targets": {str(t.assessor.uuid): t.rate for t in targets},
        },
    )
    return plan


# --- Choosing what to sample ------------------------------------------------------------------------


def sample_add(*, plan: SamplingPlan, enrolment: Enrolment, unit: Unit, by: User) -> SampleItem:
    """Add one learner's unit to the plan's sample, if the plan covers it and `by` may sample it.

    Interim sampling needs at least one decision on the unit; summative needs its sign-off. The
    assessor recorded is the one whose decisions are checked: the signer, or whoever decided last.
    """
    try:
        with transaction.atomic():
            return _add(plan, enrolment, unit, by)
    except IntegrityError:
        # The same unit added twice at once (two tabs): the unique constraint decided.
        raise _twice(enrolment, unit) from None


def _twice(enrolment: Enrolment, unit: Unit) -> ValidationError:
    return ValidationError(f"“{unit.title}” for {name_of(enrolment.learner)} is already in this sample.")


def _add(plan: SamplingPlan, enrolment: Enrolment, unit: Unit, by: User) -> SampleItem:
    learner = name_of(enrolment.learner)
    if plan.iqa_id != by.pk:
        raise ValidationError("Only the IQA whose plan this is can add to its sample.")
    if not allows(by, Action.QUALITY_ASSURE, enrolment):
        raise ValidationError(f"You are not the IQA for {learner}'s portfolio, so you cannot sample it.")
    if not EnrolledUnit.objects.filter(enrolment=enrolment, unit=unit).exists():
        raise ValidationError(f"“{unit.title}” is not a unit on {learner}'s portfolio.")
    facts, sign_off = learner_unit_facts(enrolment, unit)
    if part := own_part(by, facts, sign_off):
        raise _own_refusal(part, enrolment, unit)
    if not is_eligible(plan.stage, facts, sign_off):
        if plan.stage == Stage.SUMMATIVE:
            raise ValidationError(
                f"“{unit.title}” has not been signed off for {learner}: a summative sample checks a signed-off unit."
            )
        raise ValidationError(
            f"There are no assessment decisions on “{unit.title}” for {learner} yet: "
            "an interim sample checks decisions already made."
        )
    assessor_id = sampled_assessor(plan.stage, facts, sign_off)
    assessor = User.objects.get(pk=assessor_id)
    if refusal := scope_refusal(plan_scope(plan), enrolment, unit, assessor_id, name_of(assessor), facts):
        raise ValidationError(refusal)
    if SampleItem.objects.filter(plan=plan, enrolment=enrolment, unit=unit).exists():
        raise _twice(enrolment, unit)
    item = SampleItem.objects.create(
        plan=plan, enrolment=enrolment, unit=unit, assessor=assessor, added_by=by, added_at=timezone.now()
    )
    audit(
        by,
        AuditEvent.Action.SAMPLE_ADDED,
        item,
        summary=f"“{unit.title}” added to the sample “{plan.title}” ({name_of(assessor)}'s decisions)",
        enrolment=enrolment,
        detail={"plan": str(plan.uuid), "unit": str(unit.uuid), "stage": plan.stage},
    )
    return item


# --- Reviewing a sampled unit -------------------------------------------------------------------------


def _finding_errors(
    outcome: str, comments: str, actions: str, action_due: datetime.date | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = ["Choose whether you agree with the assessor's decisions."]
    if not comments.strip():
        errors["comments"] = ["Say what you checked and what you found."]
    if outcome == Outcome.DISAGREE and not actions.strip():
        errors["actions"] = [ACTIONS_REQUIRED]
    if action_due is not None and action_due < timezone.localdate():
        errors["action_due"] = ["The date the actions are due cannot be in the past."]
    return errors


def sample_review_sign(
    *,
    item: SampleItem,
    by: User,
    outcome: str,
    comments: str,
    actions: str,
    action_due: datetime.date | None,
    reauthenticated: bool,
    seen: str | None = None,
) -> SampleReview:
    """Record the IQA's signed finding on a sampled unit: agree, or disagree with actions for the assessor.

    `seen` is the fingerprint of the decisions and sign-off on the page the IQA read
    (`sampling_selectors.fingerprint`); if the record has moved on since, nothing is signed.
    """
    if not reauthenticated:
        raise ValidationError({"password": ["Type your password to sign the review."]})
    with transaction.atomic():
        # One review at a time per sampled unit: a second tab waits, then signs against what is there.
        item = (
            SampleItem.objects.select_for_update(of=("self",))
            .select_related("plan", "enrolment__learner", "enrolment__assessor", "unit", "assessor")
            .get(pk=item.pk)
        )
        enrolment, unit, plan = item.enrolment, item.unit, item.plan
        if plan.iqa_id != by.pk:
            raise ValidationError("Only the IQA whose sample this is can review it.")
        if not allows(by, Action.QUALITY_ASSURE, enrolment):
            raise ValidationError(f"You are no longer the IQA for {name_of(enrolment.learner)}'s portfolio.")
        decisions = unit_decisions(enrolment, unit)
        sign_off = _sign_off(enrolment, unit)
        deciders = UnitFacts(deciders={d.decided_by_id: (d.decided_at, "") for d in decisions})
        if part := own_part(by, deciders, sign_off):
            raise _own_refusal(part, enrolment, unit)
        if errors := _finding_errors(outcome, comments, actions, action_due):
            raise ValidationError(errors)
        if plan.stage == Stage.SUMMATIVE and sign_off is None:
            raise ValidationError(f"“{unit.title}” has not been signed off, so there is nothing to review summatively.")
        if seen is not None and seen != fingerprint(decisions, sign_off):
            raise ValidationError(
                "The assessor's record on this unit changed while you were reviewing it. "
                "Nothing was signed: read the current decisions below and sign again."
            )
        review = SampleReview.objects.create(
            item=item,
            stage=plan.stage,
            outcome=outcome,
            comments=comments.strip(),
            actions=actions.strip(),
            action_due=action_due,
            reviewed_by=by,
            reviewed_at=timezone.now(),
            reauthenticated=reauthenticated,
            sign_off=sign_off if plan.stage == Stage.SUMMATIVE else None,
            snapshot=decisions_snapshot(decisions, sign_off if plan.stage == Stage.SUMMATIVE else None),
        )
        audit(
            by,
            AuditEvent.Action.SAMPLE_REVIEWED,
            review,
            summary=f"IQA review signed on “{unit.title}” ({plan.stage}): {review.get_outcome_display().lower()}",
            enrolment=enrolment,
            detail={"item": str(item.uuid), "outcome": outcome, "stage": plan.stage, "decisions": len(decisions)},
        )
        # The assessor whose decisions were sampled, and whoever assesses the learner now.
        notify(
            recipients=list({p.pk: p for p in (item.assessor, enrolment.assessor) if p is not None}.values()),
            kind=Notice.Kind.IQA_REVIEWED,
            text=f"{name_of(by)} reviewed the decisions on “{unit.title}” for {name_of(enrolment.learner)}: "
            f"{review.get_outcome_display().lower()}.",
            url=reverse("assessments:sample_review", args=[item.uuid]),
        )
    return review


def _sign_off(enrolment: Enrolment, unit: Unit) -> SignOff | None:
    return SignOff.objects.filter(enrolment=enrolment, unit=unit).select_related("assessor", "countersignature").first()
