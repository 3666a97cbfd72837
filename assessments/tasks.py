"""Celery tasks: thin wrappers that take ids, load rows and call one function."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from assessments.models import Notice


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_notices(notice_ids: list[int]) -> int:
    """Email each notice not yet emailed. Idempotent: a retried or duplicated task sends nothing twice."""
    sent = 0
    for notice_id in notice_ids:
        with transaction.atomic():
            notice = (
                Notice.objects.select_for_update()
                .select_related("recipient")
                .filter(pk=notice_id, emailed_at__isnull=True)
                .first()
            )
            if notice is None or not notice.recipient.email:
                continue
            link = f"{settings.SITE_URL}{notice.url}" if notice.url else settings.SITE_URL
            send_mail(
                subject=f"[NVQ Portfolio] {notice.get_kind_display()}",
                message=f"{notice.text}\n\n{link}\n",
                from_email=None,
                recipient_list=[notice.recipient.email],
            )
            notice.emailed_at = timezone.now()
            notice.save(update_fields=["emailed_at"])
            sent += 1
    return sent
