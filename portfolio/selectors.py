"""Reads of portfolios, always scoped by the access policy.

The `*_for_user` helpers are the one way a view loads a portfolio object by its public id: out of
the user's scope it does not exist (404).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.policy import Action, require, scope_q
from portfolio.models import EnrolledUnit, Enrolment, Evidence, StoredFile


def enrolments_for_user(user: User, action: Action = Action.VIEW_PORTFOLIO) -> QuerySet[Enrolment]:
    """The portfolios `user` may act on, shaped for listing (fixed query count)."""
    return (
        Enrolment.objects.filter(scope_q(user, action))
        .select_related("learner", "qualification", "centre", "assessor", "iqa")
        .prefetch_related(Prefetch("enrolled_units", queryset=EnrolledUnit.objects.select_related("unit")))
        .order_by("learner__last_name", "learner__first_name", "start_date")
    )


def enrolment_for_user(user: User, uuid: object) -> Enrolment:
    enrolment = enrolments_for_user(user).filter(uuid=uuid).first()
    if enrolment is None:
        raise Http404("No such portfolio")
    return enrolment


def evidence_for_user(user: User, uuid: object) -> Evidence:
    evidence = (
        Evidence.objects.filter(scope_q(user, Action.VIEW_PORTFOLIO, prefix="enrolment__"), uuid=uuid)
        .select_related("enrolment__learner", "enrolment__centre", "enrolment__qualification", "current_version")
        .first()
    )
    if evidence is None:
        raise Http404("No such evidence")
    return evidence


def evidence_to_edit(user: User, uuid: object) -> Evidence:
    """Evidence the learner may change: 404 out of scope, 403 for read-only roles, and 403 for a
    record the assessor wrote (the learner confirms those on their own page; they never edit them)."""
    evidence = evidence_for_user(user, uuid)
    require(user, Action.EDIT_EVIDENCE, evidence.enrolment)
    if Evidence.objects.filter(pk=evidence.pk, assessor_record__isnull=False).exists():
        raise PermissionDenied("Your assessor wrote this record. Confirm it is accurate; it cannot be edited.")
    return evidence


def file_for_user(user: User, uuid: object) -> StoredFile:
    stored = (
        StoredFile.objects.filter(scope_q(user, Action.VIEW_PORTFOLIO, prefix="enrolment__"), uuid=uuid)
        .select_related("enrolment")
        .first()
    )
    if stored is None:
        raise Http404("No such file")
    return stored


def evidence_list(enrolment: Enrolment) -> QuerySet[Evidence]:
    """A portfolio's evidence, newest first, with what its list row shows (one query)."""
    return (
        Evidence.objects.filter(enrolment=enrolment)
        .select_related("current_version")
        .annotate(
            claim_count=Count("current_version__claims", distinct=True),
            file_count=Count("current_version__version_files", distinct=True),
        )
        .order_by("-created_at", "-pk")
    )
