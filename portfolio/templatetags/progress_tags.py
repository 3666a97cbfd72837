"""The state of a criterion or claim as a badge: words and a decorative icon, never colour alone.

A filter rather than an include because the tracking grid shows one per cell, hundreds to a page,
and an include costs a template render each time. `portfolio/_state.html` renders through it too,
so there is one definition of the markup.

    {% load progress_tags %}{{ row.state|state_badge }}
    {{ row.cells|grid_cells }}   (a row of the tracking grid: one <td> per evidence column)
"""

from functools import cache

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@cache
def _badge(slug: str, icon: str, label: str) -> SafeString:
    markup = '<span class="state state-{}"><span aria-hidden="true" class="state-icon">{}</span> {}</span>'
    return format_html(markup, slug, icon, label)


@register.filter
def state_badge(state: object) -> SafeString:
    """Anything with `slug`, `icon` and `label` (a progress `State`, a judging page's badge)."""
    return _badge(state.slug, state.icon, state.label)  # type: ignore[attr-defined]


NO_CLAIM = '<td><span class="visually-hidden">No claim</span></td>'


@register.filter
def grid_cells(cells: list[object | None]) -> SafeString:
    """One tracking-grid row's cells: each state's badge, or "No claim" for the screen reader."""
    # Safe to join: every badge is built by format_html, and NO_CLAIM is a constant.
    return mark_safe("".join(f"<td>{state_badge(c)}</td>" if c else NO_CLAIM for c in cells))
