"""Ask the access policy from a template, so pages never restate who may do what.

    {% load assessment_access %}
    {% may "assess" enrolment as can_assess %}
    {% may_take "plan_sampling" as can_sample %}

No queries: the policy compares ids already on the enrolment, or the person's role.
"""

from django import template

from accounts.policy import Action, allows, may_take
from portfolio.models import Enrolment

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context: template.Context, action: str, enrolment: Enrolment) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user is not None and allows(user, Action(action), enrolment)


@register.simple_tag(takes_context=True, name="may_take")
def may_take_tag(context: template.Context, action: str) -> bool:
    """For actions not about one portfolio (accounts.policy.CATALOGUE_ROLES)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return user is not None and may_take(user, Action(action))
