"""Unit sign-off by the assigned assessor, and the learner's countersignature.

Both are signed acts: the signer types their password again (accounts.forms.SignatureForm).
Anyone who cannot see the portfolio gets 404; people who can see it but may not sign get 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import SignatureForm
from accounts.policy import Action, require
from assessments.selectors import sign_off_for, sign_off_status, unit_readiness
from assessments.services.signoff import unit_countersign, unit_sign_off
from portfolio.models import Enrolment
from portfolio.selectors import enrolment_for_user
from units.models import Unit


def _unit_on(enrolment: Enrolment, unit_uuid: object) -> Unit:
    """The unit, if it is on this portfolio (the enrolled units are already prefetched)."""
    unit = next((e.unit for e in enrolment.enrolled_units.all() if e.unit.uuid == unit_uuid), None)
    if unit is None:
        raise Http404("That unit is not on this portfolio")
    return unit


def _to_tracking(enrolment: Enrolment, unit: Unit) -> HttpResponse:
    return redirect(reverse("portfolio:unit_tracking", args=[enrolment.uuid, unit.uuid]))


@require_http_methods(["GET", "POST"])
@login_required
def sign_off(request: HttpRequest, uuid: object, unit_uuid: object) -> HttpResponse:
    enrolment = enrolment_for_user(request.user, uuid)
    unit = _unit_on(enrolment, unit_uuid)
    require(request.user, Action.ASSESS, enrolment)
    form = SignatureForm(request.user, request.POST if request.method == "POST" else None)
    refusals: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            unit_sign_off(enrolment=enrolment, unit=unit, assessor=request.user, reauthenticated=True)
        except ValidationError as error:
            refusals = error.messages  # shown above the same readiness list the service checked
        else:
            messages.success(request, f"You signed off “{unit.title}”. The learner has been asked to countersign.")
            return _to_tracking(enrolment, unit)
    existing = sign_off_for(enrolment, unit)  # read after any attempt, so a sign-off made meanwhile shows
    context = {
        "enrolment": enrolment,
        "unit": unit,
        "existing": existing,
        "status": sign_off_status(existing),
        "readiness": unit_readiness(enrolment, unit),
        "form": form,
        "refusals": refusals,
    }
    return render(request, "assessments/signoff.html", context)


@require_POST
@login_required
def countersign(request: HttpRequest, uuid: object, unit_uuid: object) -> HttpResponse:
    enrolment = enrolment_for_user(request.user, uuid)
    unit = _unit_on(enrolment, unit_uuid)
    require(request.user, Action.LEARNER_SIGN, enrolment)
    existing = sign_off_for(enrolment, unit)
    if existing is None:
        messages.error(request, f"“{unit.title}” has not been signed off yet, so there is nothing to countersign.")
        return _to_tracking(enrolment, unit)
    form = SignatureForm(request.user, request.POST)
    if not form.is_valid():
        # The form normally sits on the tracking page; a wrong password comes back here, beside the field.
        context = {"enrolment": enrolment, "unit": unit, "sign_off": existing, "form": form}
        return render(request, "assessments/countersign.html", context)
    try:
        unit_countersign(sign_off=existing, learner=request.user, reauthenticated=True)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, f"You countersigned “{unit.title}”. It now goes to quality assurance.")
    return _to_tracking(enrolment, unit)
