"""Writes to EQA access: a centre admin grants an external quality assurer read-only access to
chosen learners or the whole centre until an expiry date, and may revoke it at once.
"""

import datetime
from collections.abc import Sequence

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import AccessGrant, GrantRevocation, User
from portfolio.services.audit import Action, audit

DEFAULT_TERM = relativedelta(months=6)
LONGEST_TERM = relativedelta(years=2)


def default_expiry(today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) + DEFAULT_TERM


def end_of_day(day: datetime.date) -> datetime.datetime:
    """Access lasts to the end of its last day, in the centre's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def _validate(admin: User, eqa: User, whole_centre: bool, learners: Sequence[User], expires_on: datetime.date) -> None:
    errors: dict[str, list[str]] = {}
    if admin.role != User.Role.CENTRE_ADMIN or admin.centre_id is None:
        raise ValidationError("Only a centre administrator can grant access to their centre.")
    if eqa.role != User.Role.EQA or not eqa.is_active:
        errors.setdefault("eqa", []).append(f"{eqa} is not an active external quality assurer.")
    if whole_centre and learners:
        errors.setdefault("learners", []).append("Choose either the whole centre or some learners, not both.")
    if not whole_centre and not learners:
        errors.setdefault("learners", []).append("Choose at least one learner, or the whole centre.")
    strangers = [str(p) for p in learners if p.role != User.Role.LEARNER or p.centre_id != admin.centre_id]
    if strangers:
        errors.setdefault("learners", []).append(f"Not learners at your centre: {', '.join(strangers)}.")
    today = timezone.localdate()
    if expires_on < today:
        errors.setdefault("expires_on", []).append("The expiry date is in the past.")
    elif expires_on > today + LONGEST_TERM:
        errors.setdefault("expires_on", []).append("Access can last at most two years; grant it again later.")
    if errors:
        raise ValidationError(errors)


def access_grant(
    *,
    admin: User,
    eqa: User,
    whole_centre: bool,
    learners: Sequence[User] = (),
    expires_on: datetime.date,
    reason: str = "",
) -> AccessGrant:
    _validate(admin, eqa, whole_centre, learners, expires_on)
    with transaction.atomic():
        grant = AccessGrant.objects.create(
            centre_id=admin.centre_id,
            eqa=eqa,
            whole_centre=whole_centre,
            reason=reason,
            granted_by=admin,
            granted_at=timezone.now(),
            expires_at=end_of_day(expires_on),
        )
        grant.learners.set(learners)
        scope = "the whole centre" if whole_centre else ", ".join(sorted(str(p) for p in learners))
        audit(
            admin,
            Action.ACCESS_GRANTED,
            grant,
            centre=grant.centre,
            summary=f"{admin} gave {eqa} read-only access to {scope} until {expires_on:%d %B %Y}",
            detail={
                "eqa": eqa.username,
                "whole_centre": whole_centre,
                "learners": sorted(p.username for p in learners),
                "expires_at": grant.expires_at.isoformat(),
            },
        )
    return grant


def access_revoke(*, grant: AccessGrant, admin: User, reason: str = "") -> GrantRevocation:
    if admin.role != User.Role.CENTRE_ADMIN or admin.centre_id != grant.centre_id:
        raise ValidationError("Only an administrator at the grant's centre can revoke it.")
    with transaction.atomic():
        locked = AccessGrant.objects.select_for_update().get(pk=grant.pk)
        if GrantRevocation.objects.filter(grant=locked).exists():
            raise ValidationError("This access has already been revoked.")
        if locked.expires_at <= timezone.now():
            raise ValidationError("This access has already expired.")
        revocation = GrantRevocation.objects.create(
            grant=locked, revoked_by=admin, revoked_at=timezone.now(), reason=reason
        )
        audit(
            admin,
            Action.ACCESS_REVOKED,
            locked,
            centre=locked.centre,
            summary=f"{admin} revoked {locked.eqa}'s access",
            detail={"eqa": locked.eqa.username, "reason": reason},
        )
    return revocation
