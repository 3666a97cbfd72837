"""Reads of portfolios, always scoped by the access policy."""

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from accounts.policy import Action, scope_q
from portfolio.models import EnrolledUnit, Enrolment


def enrolments_for_user(user: User, action: Action = Action.VIEW_PORTFOLIO) -> QuerySet[Enrolment]:
    """The portfolios `user` may act on, shaped for listing (fixed query count)."""
    return (
        Enrolment.objects.filter(scope_q(user, action))
        .select_related("learner", "qualification", "centre", "assessor", "iqa")
        .prefetch_related(Prefetch("enrolled_units", queryset=EnrolledUnit.objects.select_related("unit")))
        .order_by("learner__last_name", "learner__first_name", "start_date")
    )
