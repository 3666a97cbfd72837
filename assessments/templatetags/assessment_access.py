"""Ask the access policy from a template, so pages never restate who may do what.

    {% load assessment_access %}
    {% may "assess" enrolment as can_assess %}

No queries: the policy compares ids already on the enrolment.
"""

from django import template

from accounts.policy import Action, allows
from portfolio.models import Enrolment

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context: template.Context, action: str, enrolment: Enrolment) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user is not None and allows(user, Action(action), enrolment)
