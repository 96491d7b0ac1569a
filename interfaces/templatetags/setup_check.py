"""`{% setup_findings %}`: the admin home's list of what the city still lacks (as `manage.py setup_check`)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from dispatch.setup_checks import setup_findings as find

register = template.Library()

SHOWN_PER_KIND = 10  # a city of 100,000 grids would otherwise list them all; the command lists every one


@register.simple_tag(takes_context=True)
def setup_findings(context) -> str:
    request = context.get("request")
    if request is None or not request.user.is_staff:
        return ""
    found = find(limit=SHOWN_PER_KIND)
    if not found:
        return ""
    items = format_html_join(
        "",
        '<li class="{}"><strong>{}</strong> {} <em>{}</em></li>',
        (("error" if f.blocking else "warning", f.severity.upper(), f.what, f"Fix: {f.fix}") for f in found),
    )
    return format_html(
        '<ul class="messagelist setup-check" aria-label="Setup check">{}</ul>',
        items,
    )
