"""The site's URLs plus `bench/floor/`, the floor page every benchmark figure is divided by.

Only `bench.settings` uses this module; production's `config.urls` never serves the floor page.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.decorators.http import require_GET


@require_GET
@login_required
def floor(request: HttpRequest) -> HttpResponse:
    """The base layout for a signed-in person and nothing else: no queries of its own."""
    return render(request, "base.html")


urlpatterns = [
    path("bench/floor/", floor, name="bench_floor"),
    path("", include("config.urls")),
]
