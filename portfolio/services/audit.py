"""The audit trail's one writer.

Services call `audit()` inside the transaction that makes the change, so the event and the change
commit or roll back together. Where the request came from is set per request by
`portfolio.middleware.AuditContextMiddleware`, so services need not carry the request around.
"""

from contextvars import ContextVar
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from accounts.models import Centre, User
from portfolio.models import AuditEvent, Enrolment

Action = AuditEvent.Action

# The client address of the request being handled; None in commands and Celery tasks.
request_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)


def audit(
    actor: User | None,
    action: AuditEvent.Action,
    obj: models.Model,
    *,
    summary: str,
    enrolment: Enrolment | None = None,
    centre: Centre | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one state change. Must run inside the change's own transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit() must run in the transaction that makes the change")
    if centre is None and enrolment is not None:
        centre = Centre(pk=enrolment.centre_id)
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        enrolment=enrolment,
        centre=centre,
        object_type=obj._meta.model_name,
        object_uuid=getattr(obj, "uuid", None),
        summary=summary[:300],
        detail=detail or {},
        ip_address=request_ip.get(),
    )
