"""Reads of assessment plans and reviews, always scoped by the access policy.

`plan_for_user` and `review_for_user` are the one way a view loads them by public id: outside the
user's portfolios they do not exist (404). `plan_page` shapes one plan for its page in a fixed
number of queries, however many activities and reviews it has.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404

from accounts.models import User
from accounts.policy import Action, scope_q
from assessments.models import AssessmentPlan, PlannedActivity, ProgressReview
from portfolio.models import Enrolment, Method
from portfolio.progress import State, progress_for
from units.models import AssessmentCriterion

_PLAN_RELATED = (
    "enrolment__learner",
    "enrolment__assessor",
    "enrolment__qualification",
    "created_by",
    "assessor_signed_by",
    "learner_signed_by",
)


def plan_for_user(user: User, uuid: object) -> AssessmentPlan:
    plan = (
        AssessmentPlan.objects.filter(scope_q(user, Action.VIEW_PORTFOLIO, prefix="enrolment__"), uuid=uuid)
        .select_related(*_PLAN_RELATED)
        .first()
    )
    if plan is None:
        raise Http404("No such plan")
    return plan


def review_for_user(user: User, uuid: object) -> ProgressReview:
    review = (
        ProgressReview.objects.filter(scope_q(user, Action.VIEW_PORTFOLIO, prefix="plan__enrolment__"), uuid=uuid)
        .select_related(*(f"plan__{path}" for path in _PLAN_RELATED))
        .first()
    )
    if review is None:
        raise Http404("No such review")
    return review


def plan_to_copy(enrolment: Enrolment, uuid: object) -> AssessmentPlan | None:
    """An earlier plan of the same portfolio to start a new one from; None for anything else."""
    if not uuid:
        return None
    try:
        return AssessmentPlan.objects.filter(enrolment=enrolment, uuid=uuid).first()
    except ValidationError:  # a malformed id in the query string is simply no plan
        return None


@dataclass(frozen=True)
class CriterionLine:
    criterion: AssessmentCriterion
    state: State  # where the portfolio stands on it now, whatever evidence shows it


@dataclass(frozen=True)
class ActivityLine:
    activity: PlannedActivity
    criteria: list[CriterionLine]

    @property
    def method_label(self) -> str:
        # PlannedActivity.method is a plain field (blank while undecided), so no get_..._display.
        method = self.activity.method
        return Method(method).label if method in Method.values else ""

    @property
    def met(self) -> int:
        return sum(1 for line in self.criteria if line.state is State.MET)


@dataclass(frozen=True)
class PlanPage:
    plan: AssessmentPlan
    activities: list[ActivityLine]
    reviews: list[ProgressReview]


def plan_page(plan: AssessmentPlan) -> PlanPage:
    """The plan's activities with each criterion's current state, and its reviews (eight queries)."""
    criteria = AssessmentCriterion.objects.select_related("outcome__unit").order_by(
        "outcome__unit__title", "outcome__number", "ordinal"
    )
    activities = list(plan.activities.prefetch_related(Prefetch("criteria", queryset=criteria)))
    states = {
        criterion_id: state
        for unit_progress in progress_for([plan.enrolment])[plan.enrolment_id]
        for criterion_id, state in unit_progress.criteria.items()
    }
    return PlanPage(
        plan=plan,
        activities=[
            ActivityLine(
                activity=a,
                # A criterion of a unit no longer on the portfolio has no state there: not evidenced.
                criteria=[CriterionLine(c, states.get(c.pk, State.NOT_EVIDENCED)) for c in a.criteria.all()],
            )
            for a in activities
        ],
        reviews=list(
            plan.reviews.select_related("created_by", "assessor_signed_by", "learner_signed_by").order_by(
                "reviewed_on", "id"
            )
        ),
    )
