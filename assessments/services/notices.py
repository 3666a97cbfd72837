"""Telling people: an in-app notice per recipient, emailed by Celery after the transaction commits."""

from collections.abc import Iterable

from django.db import transaction

from accounts.models import User
from assessments.models import Notice


def notify(*, recipients: Iterable[User | None], kind: Notice.Kind, text: str, url: str = "") -> list[Notice]:
    """Record a notice for each recipient; email them once the caller's transaction commits.

    The request never waits on mail: the task only gets notice ids, and the rows say what was sent.
    """
    from assessments.tasks import email_notices  # the task module imports this one

    people = {r.pk: r for r in recipients if r is not None and r.is_active}
    notices = Notice.objects.bulk_create(
        Notice(recipient=person, kind=kind, text=text[:300], url=url) for person in people.values()
    )
    ids = [n.pk for n in notices]
    if ids:
        transaction.on_commit(lambda: email_notices.delay(ids))
    return notices


def notice_mark_read(*, notice: Notice, by: User) -> None:
    from django.utils import timezone

    Notice.objects.filter(pk=notice.pk, recipient=by, read_at__isnull=True).update(read_at=timezone.now())
