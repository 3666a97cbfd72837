"""Centre admins give external quality assurers (EQAs) time-limited, read-only access, and end it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.policy import Action, role_required
from config.http import see_other
from portfolio.forms import GrantForm, RevokeForm
from portfolio.selectors import grant_for_admin, grants_for_centre
from portfolio.services.grants import access_grant, access_revoke, default_expiry


@require_http_methods(["GET"])
@role_required(Action.GRANT_ACCESS)
def grant_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    grants = list(grants_for_centre(request.user))
    context = {
        "current": [g for g in grants if not hasattr(g, "revocation") and g.expires_at > now],
        "ended": [g for g in grants if hasattr(g, "revocation") or g.expires_at <= now],
        "revoke_form": RevokeForm(),
    }
    return render(request, "portfolio/grants/list.html", context)


@require_http_methods(["GET", "POST"])
@role_required(Action.GRANT_ACCESS)
def grant_create(request: HttpRequest) -> HttpResponse:
    form = GrantForm(request.POST or None, centre_id=request.user.centre_id, initial={"expires_on": default_expiry()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant = access_grant(
                admin=request.user,
                eqa=data["eqa"],
                whole_centre=data["scope"] == GrantForm.WHOLE_CENTRE,
                learners=list(data["learners"]),
                expires_on=data["expires_on"],
                reason=data["reason"],
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, f"{grant.eqa} has read-only access until {data['expires_on']:%d %B %Y}.")
            return see_other(reverse("portfolio:grants"))
    return render(request, "portfolio/grants/form.html", {"form": form})


@require_POST
@role_required(Action.GRANT_ACCESS)
def grant_revoke(request: HttpRequest, uuid: object) -> HttpResponse:
    grant = grant_for_admin(request.user, uuid)
    form = RevokeForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        access_revoke(grant=grant, admin=request.user, reason=reason)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{grant.eqa}'s access has ended.")
    return see_other(reverse("portfolio:grants"))
