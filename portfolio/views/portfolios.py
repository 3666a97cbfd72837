from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portfolio.selectors import enrolments_for_user


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Everyone's landing page: the portfolios this person may see, in their role's words."""
    return render(request, "portfolio/home.html", {"enrolments": enrolments_for_user(request.user)})
