"""Notices: marking one as read from the home page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from assessments.selectors import notice_for_user
from assessments.services.notices import notice_mark_read


@require_POST
@login_required
def notice_read(request: HttpRequest, uuid: object) -> HttpResponse:
    """Only the recipient may mark a notice read; anyone else's notice is a 404."""
    notice = notice_for_user(request.user, uuid)
    notice_mark_read(notice=notice, by=request.user)
    messages.success(request, "Notice marked as read.")
    return redirect(reverse("portfolio:home"))
