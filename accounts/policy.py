"""The access policy, written down once.

A table of role x action x relation to the portfolio (enrolment). Views ask `allows()` for one
object and selectors filter lists with `scope_q()`, so a page and a list can never disagree about
who sees what. Anything out of scope is a 404 to the caller (see `portfolio.selectors`).
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import AccessGrant, User

if TYPE_CHECKING:
    from portfolio.models import Enrolment

Role = User.Role
ViewFunc = Callable[..., HttpResponse]


class Relation(StrEnum):
    OWN = "own"  # the learner whose portfolio it is
    ASSESSING = "assessing"  # the assessor assigned to it
    QUALITY_ASSURING = "quality_assuring"  # the IQA assigned to it
    SAME_CENTRE = "same_centre"  # anyone at the learner's centre
    VERIFYING = "verifying"  # an EQA with an unexpired, unrevoked grant covering the learner
    # Everyone else: another centre's staff and learners. No rule grants it; it is listed so
    # the table reads as complete.
    OTHER_CENTRE = "other_centre"


class Action(StrEnum):
    VIEW_SPECIFICATIONS = "view_specifications"
    ENROL_LEARNERS = "enrol_learners"
    VIEW_PORTFOLIO = "view_portfolio"  # the portfolio, its evidence, files, progress and grids
    EDIT_EVIDENCE = "edit_evidence"  # create, attach files, map, declare and submit
    MANAGE_ENROLMENT = "manage_enrolment"  # reassign assessor / IQA
    VIEW_CASELOAD = "view_caseload"  # the assessor's queue across their learners
    ASSESS = "assess"  # judge claims, sign units off, write plans, reviews and assessor records
    LEARNER_SIGN = "learner_sign"  # countersign units, sign plans and reviews, confirm assessor records
    PLAN_SAMPLING = "plan_sampling"  # build IQA sampling plans
    QUALITY_ASSURE = "quality_assure"  # sample a portfolio's units and sign IQA reviews
    VIEW_QUALITY_RECORDS = "view_quality_records"  # IQA sample reviews and their actions
    EXPORT_PORTFOLIO = "export_portfolio"  # render the portfolio as a PDF and download it
    VIEW_AUDIT = "view_audit"  # the portfolio's audit trail
    GRANT_ACCESS = "grant_access"  # give EQAs time-limited access to the centre's portfolios
    MANAGE_RETENTION = "manage_retention"  # record certification, place and release legal holds
    MANAGE_SPECIFICATIONS = "manage_specifications"  # import, correct and publish unit specifications


NONE: frozenset[Relation] = frozenset()

# Actions that are not about one portfolio: which roles may take them.
CATALOGUE_ROLES: dict[Action, frozenset[str]] = {
    Action.VIEW_SPECIFICATIONS: frozenset(Role.values),
    Action.ENROL_LEARNERS: frozenset({Role.CENTRE_ADMIN}),  # at their own centre
    Action.VIEW_CASELOAD: frozenset({Role.ASSESSOR}),
    Action.PLAN_SAMPLING: frozenset({Role.IQA}),
    Action.GRANT_ACCESS: frozenset({Role.CENTRE_ADMIN}),  # at their own centre
    Action.MANAGE_SPECIFICATIONS: frozenset({Role.CENTRE_ADMIN}),
}

# Actions on a portfolio: the relations that let each role act. Anything not listed is refused.
PORTFOLIO_POLICY: dict[Action, dict[str, frozenset[Relation]]] = {
    Action.VIEW_PORTFOLIO: {
        Role.LEARNER: frozenset({Relation.OWN}),
        Role.ASSESSOR: frozenset({Relation.ASSESSING}),
        Role.IQA: frozenset({Relation.QUALITY_ASSURING}),
        Role.CENTRE_ADMIN: frozenset({Relation.SAME_CENTRE}),
        Role.EQA: frozenset({Relation.VERIFYING}),
    },
    Action.EDIT_EVIDENCE: {
        Role.LEARNER: frozenset({Relation.OWN}),
        Role.ASSESSOR: NONE,
        Role.IQA: NONE,
        Role.CENTRE_ADMIN: NONE,
        Role.EQA: NONE,
    },
    Action.MANAGE_ENROLMENT: {
        Role.LEARNER: NONE,
        Role.ASSESSOR: NONE,
        Role.IQA: NONE,
        Role.CENTRE_ADMIN: frozenset({Relation.SAME_CENTRE}),
        Role.EQA: NONE,
    },
    Action.ASSESS: {
        Role.LEARNER: NONE,
        Role.ASSESSOR: frozenset({Relation.ASSESSING}),
        Role.IQA: NONE,
        Role.CENTRE_ADMIN: NONE,
        Role.EQA: NONE,
    },
    Action.LEARNER_SIGN: {
        Role.LEARNER: frozenset({Relation.OWN}),
        Role.ASSESSOR: NONE,
        Role.IQA: NONE,
        Role.CENTRE_ADMIN: NONE,
        Role.EQA: NONE,
    },
    Action.QUALITY_ASSURE: {
        Role.LEARNER: NONE,
        Role.ASSESSOR: NONE,
        Role.IQA: frozenset({Relation.QUALITY_ASSURING}),
        Role.CENTRE_ADMIN: NONE,
        Role.EQA: NONE,
    },
    Action.VIEW_QUALITY_RECORDS: {
        Role.LEARNER: NONE,
        Role.ASSESSOR: frozenset({Relation.ASSESSING}),  # to act on the IQA's feedback
        Role.IQA: frozenset({Relation.QUALITY_ASSURING}),
        Role.CENTRE_ADMIN: frozenset({Relation.SAME_CENTRE}),
        Role.EQA: frozenset({Relation.VERIFYING}),
    },
    Action.EXPORT_PORTFOLIO: {
        Role.LEARNER: frozenset({Relation.OWN}),
        Role.ASSESSOR: frozenset({Relation.ASSESSING}),
        Role.IQA: frozenset({Relation.QUALITY_ASSURING}),
        Role.CENTRE_ADMIN: frozenset({Relation.SAME_CENTRE}),
        Role.EQA: frozenset({Relation.VERIFYING}),
    },
    Action.VIEW_AUDIT: {
        Role.LEARNER: NONE,
        Role.ASSESSOR: NONE,
        Role.IQA: frozenset({Relation.QUALITY_ASSURING}),
        Role.CENTRE_ADMIN: frozenset({Relation.SAME_CENTRE}),
        Role.EQA: frozenset({Relation.VERIFYING}),
    },
    Action.MANAGE_RETENTION: {
        Role.LEARNER: NONE,
        Role.ASSESSOR: NONE,
        Role.IQA: NONE,
        Role.CENTRE_ADMIN: frozenset({Relation.SAME_CENTRE}),
        Role.EQA: NONE,
    },
}
# Portfolio actions platform staff (see is_platform_staff) may also take, on any portfolio.
STAFF_ACTIONS: frozenset[Action] = frozenset({Action.MANAGE_RETENTION})


def is_platform_staff(user: User) -> bool:
    """Staff of the platform itself: admin-site users with no role at a centre. They alone set the
    awarding bodies' retention rules."""
    return user.is_authenticated and user.is_active and user.is_staff and not user.role


def may_take(user: User, action: Action) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or user.role in CATALOGUE_ROLES[action]


def _relation_q(user: User, relation: Relation, prefix: str) -> Q:
    match relation:
        case Relation.OWN:
            return Q(**{f"{prefix}learner_id": user.pk})
        case Relation.ASSESSING:
            return Q(**{f"{prefix}assessor_id": user.pk})
        case Relation.QUALITY_ASSURING:
            return Q(**{f"{prefix}iqa_id": user.pk})
        case Relation.SAME_CENTRE if user.centre_id:
            return Q(**{f"{prefix}centre_id": user.centre_id})
        case Relation.VERIFYING:
            return Q(Exists(_active_grants(user, OuterRef(f"{prefix}centre_id"), OuterRef(f"{prefix}learner_id"))))
    return Q(pk__in=[])


def _active_grants(user: User, centre: Any, learner: Any) -> "QuerySet[AccessGrant]":
    """Grants that let EQA `user` see `learner`'s portfolio at `centre` now (values or OuterRefs)."""
    return AccessGrant.objects.filter(
        Q(whole_centre=True) | Q(learners=learner),
        eqa=user,
        centre=centre,
        expires_at__gt=timezone.now(),
        revocation__isnull=True,
    )


def scope_q(user: User, action: Action, prefix: str = "") -> Q:
    """A filter for the portfolios `user` may act on with `action`.

    `prefix` is the path to the Enrolment from the model being filtered, e.g. "enrolment__".
    """
    q = Q(pk__in=[])
    if not user.is_authenticated or not user.is_active:
        return q
    if action in STAFF_ACTIONS and is_platform_staff(user):
        return Q()
    for relation in sorted(PORTFOLIO_POLICY[action].get(user.role, NONE)):
        q |= _relation_q(user, relation, prefix)
    return q


def relations(user: User, enrolment: "Enrolment") -> set[Relation]:
    found = set()
    if enrolment.learner_id == user.pk:
        found.add(Relation.OWN)
    if enrolment.assessor_id == user.pk:
        found.add(Relation.ASSESSING)
    if enrolment.iqa_id == user.pk:
        found.add(Relation.QUALITY_ASSURING)
    found.add(Relation.SAME_CENTRE if user.centre_id == enrolment.centre_id else Relation.OTHER_CENTRE)
    # Only EQAs can hold grants, so only they pay for the query.
    if user.role == Role.EQA and _active_grants(user, enrolment.centre_id, enrolment.learner_id).exists():
        found.add(Relation.VERIFYING)
    return found


def allows(user: User, action: Action, enrolment: "Enrolment") -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if action in STAFF_ACTIONS and is_platform_staff(user):
        return True
    return bool(PORTFOLIO_POLICY[action].get(user.role, NONE) & relations(user, enrolment))


def require(user: User, action: Action, enrolment: "Enrolment") -> None:
    """For an object the user can already see: a write they may not make is 403, not 404."""
    if not allows(user, action, enrolment):
        raise PermissionDenied


def role_required(action: Action) -> Callable[[ViewFunc], ViewFunc]:
    """The role gate for actions not about one portfolio: anonymous users log in, others need the role."""

    def decorate(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not may_take(request.user, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
