"""Home, the portfolio page and the per-unit tracking grid."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.models import User
from accounts.policy import Action, allows, may_take
from assessments.sampling_selectors import iqa_feedback, portfolio_quality_records
from assessments.selectors import unread_notices
from portfolio.progress import State, progress_for, tracking_grid
from portfolio.selectors import (
    active_grants_for_eqa,
    enrolment_for_user,
    enrolments_for_user,
    evidence_list,
    recent_exports,
)
from portfolio.views import enrolments as enrolment_views

LEGEND = list(State)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Everyone's landing page: unread notices, then the portfolios this person may see, with progress per unit."""
    enrolments = list(enrolments_for_user(request.user))
    progress = progress_for(enrolments)
    context = {
        "notices": unread_notices(request.user),
        "portfolios": [(e, progress[e.pk]) for e in enrolments],
        "legend": LEGEND,
        "can_enrol": may_take(request.user, Action.ENROL_LEARNERS),
        "can_view_caseload": may_take(request.user, Action.VIEW_CASELOAD),
        # An assessor's IQA feedback: one query, and only for assessors.
        "iqa_feedback": iqa_feedback(request.user) if request.user.role == User.Role.ASSESSOR else None,
        "can_grant_access": may_take(request.user, Action.GRANT_ACCESS),
        # An EQA's access and when it ends: one query, and only for EQAs.
        "eqa_grants": list(active_grants_for_eqa(request.user)) if request.user.role == User.Role.EQA else None,
    }
    return render(request, "portfolio/home.html", context)


@require_GET
@login_required
def portfolio_detail(request: HttpRequest, uuid: object) -> HttpResponse:
    enrolment = enrolment_for_user(request.user, uuid)
    can_manage = allows(request.user, Action.MANAGE_ENROLMENT, enrolment)
    can_export = allows(request.user, Action.EXPORT_PORTFOLIO, enrolment)
    can_view_quality = allows(request.user, Action.VIEW_QUALITY_RECORDS, enrolment)
    context = {
        "enrolment": enrolment,
        "progress": progress_for([enrolment])[enrolment.pk],
        "legend": LEGEND,
        "evidence_list": evidence_list(enrolment),
        "can_edit": allows(request.user, Action.EDIT_EVIDENCE, enrolment),
        "can_export": can_export,
        "exports": recent_exports(request.user, enrolment) if can_export else [],
        # IQA samples and their latest reviews: one query, and only for those who may read them.
        "can_view_quality": can_view_quality,
        "quality_records": portfolio_quality_records(enrolment) if can_view_quality else [],
        **enrolment_views.assignments_context(request.user, enrolment, can_manage),
    }
    return render(request, "portfolio/portfolio.html", context)


@require_GET
@login_required
def unit_tracking(request: HttpRequest, uuid: object, unit_uuid: object) -> HttpResponse:
    enrolment = enrolment_for_user(request.user, uuid)
    unit = next((e.unit for e in enrolment.enrolled_units.all() if e.unit.uuid == unit_uuid), None)
    if unit is None:
        raise Http404("That unit is not on this portfolio")
    grid = tracking_grid(enrolment, unit)
    for evidence in grid.columns:  # each column's link, reversed once rather than in every row that cites it
        evidence.detail_url = reverse("portfolio:evidence", args=[evidence.uuid])
    context = {"enrolment": enrolment, "grid": grid, "legend": LEGEND}
    return render(request, "portfolio/tracking.html", context)
