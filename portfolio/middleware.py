from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from portfolio.services.audit import request_ip


class AuditContextMiddleware:
    """Makes the client's address available to `audit()` for the length of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy REMOTE_ADDR is the proxy; trust X-Forwarded-For only when told the proxy sets it.
    if settings.AUDIT_TRUST_X_FORWARDED_FOR:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None
