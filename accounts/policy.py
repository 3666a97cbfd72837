"""The access policy, written down once.

A table of role x action x relation to the portfolio (enrolment). Views ask `allows()` for one
object and selectors filter lists with `scope_q()`, so a page and a list can never disagree about
who sees what. Anything out of scope is a 404 to the caller (see `portfolio.selectors`).
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse

from accounts.models import User

Role = User.Role
ViewFunc = Callable[..., HttpResponse]


class Relation(StrEnum):
    OWN = "own"  # the learner whose portfolio it is
    ASSESSING = "assessing"  # the assessor assigned to it
    QUALITY_ASSURING = "quality_assuring"  # the IQA assigned to it
    SAME_CENTRE = "same_centre"  # anyone else at the learner's centre


class Action(StrEnum):
    VIEW_SPECIFICATIONS = "view_specifications"
    VIEW_PORTFOLIO = "view_portfolio"


# Actions on the specification catalogue, which is not anyone's portfolio.
CATALOGUE_ROLES: dict[Action, frozenset[str]] = {
    Action.VIEW_SPECIFICATIONS: frozenset(Role.values),
}

# Actions on a portfolio: which relations let each role act.
PORTFOLIO_POLICY: dict[Action, dict[str, frozenset[Relation]]] = {
    Action.VIEW_PORTFOLIO: {
        Role.LEARNER: frozenset({Relation.OWN}),
        Role.ASSESSOR: frozenset({Relation.ASSESSING}),
        Role.IQA: frozenset({Relation.QUALITY_ASSURING}),
        Role.CENTRE_ADMIN: frozenset({Relation.SAME_CENTRE}),
        # EQAs see portfolios only through time-limited grants from a centre.
        Role.EQA: frozenset(),
    },
}


def may_use_catalogue(user: User, action: Action) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or user.role in CATALOGUE_ROLES[action]


def _relation_q(user: User, relation: Relation) -> Q:
    match relation:
        case Relation.OWN:
            return Q(learner_id=user.pk)
        case Relation.ASSESSING:
            return Q(assessor_id=user.pk)
        case Relation.QUALITY_ASSURING:
            return Q(iqa_id=user.pk)
        case Relation.SAME_CENTRE:
            return Q(centre_id=user.centre_id) if user.centre_id else Q(pk__in=[])


def scope_q(user: User, action: Action) -> Q:
    """A filter on Enrolment for the portfolios `user` may act on with `action`."""
    nothing = Q(pk__in=[])
    if not user.is_authenticated or not user.is_active:
        return nothing
    relations = PORTFOLIO_POLICY[action].get(user.role, frozenset())
    q = nothing
    for relation in sorted(relations):
        q |= _relation_q(user, relation)
    return q


def catalogue_view(action: Action) -> Callable[[ViewFunc], ViewFunc]:
    """The role gate for catalogue pages: anonymous users log in, others need the role."""

    def decorate(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not may_use_catalogue(request.user, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
