"""`{% calendar_warnings %}`: the admin home's calendar warnings, for those who keep calendars."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from interfaces.admin.calendars import calendar_warnings as warning_lines

register = template.Library()


@register.simple_tag(takes_context=True)
def calendar_warnings(context) -> str:
    request = context.get("request")
    if request is None or not request.user.has_perm("dispatch.view_businesscalendar"):
        return ""

    found = warning_lines()
    if not found:
        return ""
    items = format_html_join("", '<li class="warning">{}</li>', ((line,) for line in found))
    return format_html('<ul class="messagelist calendar-warnings">{}</ul>', items)
