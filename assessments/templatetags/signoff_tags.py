"""The sign-off section of a unit's tracking page.

A tag rather than view context because the tracking page's view belongs to `portfolio`; the
section brings its own (single) query and asks the policy what the viewer may do.
"""

from typing import Any

from django import template

from accounts.forms import SignatureForm
from accounts.policy import Action, allows
from assessments.selectors import countersignature_of, sign_off_for, sign_off_status
from portfolio.models import Enrolment
from units.models import Unit

register = template.Library()


@register.inclusion_tag("assessments/_signoff_status.html", takes_context=True)
def unit_sign_off_status(context: template.Context, enrolment: Enrolment, unit: Unit) -> dict[str, Any]:
    user = context["request"].user
    sign_off = sign_off_for(enrolment, unit)
    countersignature = countersignature_of(sign_off) if sign_off else None
    return {
        "enrolment": enrolment,
        "unit": unit,
        "sign_off": sign_off,
        "countersignature": countersignature,
        "status": sign_off_status(sign_off),
        "can_sign_off": sign_off is None and allows(user, Action.ASSESS, enrolment),
        "can_countersign": sign_off is not None
        and countersignature is None
        and allows(user, Action.LEARNER_SIGN, enrolment),
        "form": SignatureForm(user),
    }
