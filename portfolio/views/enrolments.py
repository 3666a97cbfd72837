"""Enrolling learners, and changing a portfolio's assessor or IQA."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.policy import Action, allows, require, role_required
from config.http import see_other
from portfolio.forms import EnrolmentForm, ReassignForm
from portfolio.models import Assignment, Enrolment
from portfolio.selectors import enrolment_for_user
from portfolio.services.enrolments import enrolment_create, enrolment_reassign, role_name


def _portfolio_url(enrolment: Enrolment) -> str:
    return reverse("portfolio:portfolio", args=[enrolment.uuid])


# Read helpers for the portfolio page, which includes portfolio/enrolments/_assignments.html.


def assignments_for(enrolment: Enrolment) -> list[Assignment]:
    """The portfolio's whole assessor and IQA history, oldest first (one query)."""
    return list(
        Assignment.objects.filter(enrolment=enrolment)
        .select_related("person", "assigned_by", "ended_by")
        .order_by("started_at", "id")
    )


def reassign_form_for(user: User, enrolment: Enrolment, can_manage: bool | None = None) -> ReassignForm | None:
    """An empty reassign form for people who may manage the enrolment, else None."""
    if can_manage is None:
        can_manage = allows(user, Action.MANAGE_ENROLMENT, enrolment)
    return ReassignForm(centre_id=enrolment.centre_id) if can_manage else None


def assignments_context(user: User, enrolment: Enrolment, can_manage: bool | None = None) -> dict[str, Any]:
    """Everything `_assignments.html` needs, for merging into the portfolio page's context.

    Pass `can_manage` when the caller has already asked the policy; otherwise it is asked here.
    """
    form = reassign_form_for(user, enrolment, can_manage)
    return {
        "enrolment": enrolment,
        "assignments": assignments_for(enrolment),
        "can_manage": form is not None,
        "reassign_form": form,
    }


@require_http_methods(["GET", "POST"])
@role_required(Action.ENROL_LEARNERS)
def enrol(request: HttpRequest) -> HttpResponse:
    centre_id = request.user.centre_id
    if centre_id is None:  # e.g. platform staff: enrolment is always at one's own centre
        raise PermissionDenied
    if request.method == "POST":
        form = EnrolmentForm(request.POST, centre_id=centre_id)
        if form.is_valid():
            try:
                enrolment = enrolment_create(**form.cleaned_data, by=request.user)
            except ValidationError as error:
                form.add_error(None, error)  # a dict of field errors lands beside each field
            else:
                messages.success(request, f"{enrolment.learner} is enrolled on {enrolment.qualification.title}.")
                return see_other(_portfolio_url(enrolment))
    else:
        # ?qualification=<uuid> picks which units to list (the htmx swap sends it).
        form = EnrolmentForm(initial={"qualification": request.GET.get("qualification")}, centre_id=centre_id)
    return render(request, "portfolio/enrolments/enrol.html", {"form": form})


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_POST
@login_required
def reassign(request: HttpRequest, uuid: str) -> HttpResponse:
    enrolment = enrolment_for_user(request.user, uuid)
    require(request.user, Action.MANAGE_ENROLMENT, enrolment)
    form = ReassignForm(request.POST, centre_id=enrolment.centre_id)
    if not form.is_valid():
        problems = " ".join(m for errors in form.errors.values() for m in errors)
        messages.error(request, f"The assignment was not changed. {problems}")
        return see_other(_portfolio_url(enrolment))
    role, person = form.cleaned_data["role"], form.cleaned_data["person"]
    try:
        enrolment_reassign(
            enrolment=enrolment, role=role, person=person, by=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, f"The assignment was not changed. {_error_text(error)}")
    else:
        done = f"{person} is now the {role_name(role)}." if person else f"The {role_name(role)} is unassigned."
        messages.success(request, done)
    return see_other(_portfolio_url(enrolment))
