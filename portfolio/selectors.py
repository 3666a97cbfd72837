"""Reads of portfolios, always scoped by the access policy.

The `*_for_user` helpers are the one way a view loads a portfolio object by its public id: out of
the user's scope it does not exist (404).
"""

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import AccessGrant, User
from accounts.policy import Action, require, scope_q
from portfolio.models import AuditEvent, EnrolledUnit, Enrolment, Evidence, ExportJob, StoredFile


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
        .filter(purged_at=None)  # retention deleted its bytes (portfolio.services.retention)
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


# EQA access grants: a centre admin sees their centre's; an EQA sees their own.


def grants_for_centre(user: User) -> QuerySet[AccessGrant]:
    return (
        AccessGrant.objects.filter(centre_id=user.centre_id)
        .select_related("eqa", "granted_by", "revocation__revoked_by")
        .prefetch_related("learners")
        .order_by("-granted_at", "-id")
    )


def grant_for_admin(user: User, uuid: object) -> AccessGrant:
    grant = grants_for_centre(user).filter(uuid=uuid).first() if user.centre_id else None
    if grant is None:
        raise Http404("No such access grant")
    return grant


def active_grants_for_eqa(user: User) -> QuerySet[AccessGrant]:
    return (
        AccessGrant.objects.filter(eqa=user, expires_at__gt=timezone.now(), revocation__isnull=True)
        .select_related("centre")
        .order_by("expires_at")
    )


# PDF export jobs belong to the person who asked, and only while they may still export the portfolio.


def export_job_for_user(user: User, uuid: object) -> ExportJob:
    job = (
        ExportJob.objects.filter(scope_q(user, Action.EXPORT_PORTFOLIO, prefix="enrolment__"), uuid=uuid)
        .filter(requested_by_id=user.pk)
        .select_related("enrolment__learner", "enrolment__qualification", "requested_by")
        .first()
    )
    if job is None:
        raise Http404("No such export")
    return job


def recent_exports(user: User, enrolment: Enrolment, limit: int = 5) -> list[ExportJob]:
    return list(
        ExportJob.objects.filter(enrolment=enrolment, requested_by_id=user.pk).order_by("-requested_at")[:limit]
    )


# ---------------------------------------------------------------------------------------------
# The audit trail (IQA, centre admins and EQAs with a grant; the view checks Action.VIEW_AUDIT)
# ---------------------------------------------------------------------------------------------


def _utc_day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def audit_events_for(
    user: User, enrolment: Enrolment, filters: Mapping[str, Any] | None = None
) -> QuerySet[AuditEvent]:
    """A portfolio's audit events that `user` may read, newest first, with who acted loaded.

    `filters` is an `AuditFilterForm`'s cleaned data; blank values are ignored. `action`,
    `object_type`: exact; `actor`: a User; `date_from`, `date_to`: calendar days in UTC, both
    included; `text`: found anywhere in the summary, ignoring case.
    """
    given = {name: value for name, value in (filters or {}).items() if value not in (None, "")}
    events = AuditEvent.objects.filter(scope_q(user, Action.VIEW_AUDIT, prefix="enrolment__"), enrolment=enrolment)
    if "action" in given:
        events = events.filter(action=given["action"])
    if "actor" in given:
        events = events.filter(actor=given["actor"])
    if "object_type" in given:
        events = events.filter(object_type=given["object_type"])
    if "date_from" in given:
        events = events.filter(at__gte=_utc_day_start(given["date_from"]))
    if "date_to" in given:
        events = events.filter(at__lt=_utc_day_start(given["date_to"] + datetime.timedelta(days=1)))
    if "text" in given:
        events = events.filter(summary__icontains=given["text"])
    return events.select_related("actor").order_by("-at", "-id")


def audit_actors_for(enrolment: Enrolment) -> QuerySet[User]:
    """The people who appear in a portfolio's audit trail, by name: the choices for "who"."""
    acted = AuditEvent.objects.filter(enrolment=enrolment, actor__isnull=False).values("actor_id")
    return User.objects.filter(pk__in=acted).order_by("last_name", "first_name", "username")


def audit_object_types_for(enrolment: Enrolment) -> list[str]:
    """The kinds of object a portfolio's audit events are about ("evidence", "decision", ...)."""
    types = AuditEvent.objects.filter(enrolment=enrolment).values_list("object_type", flat=True)
    return list(types.order_by("object_type").distinct())
