"""What every page's top bar needs: the unread badge and the links for the user's roles."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Role
from dispatch.models import Notification


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    roles = set(user.memberships.values_list("role", flat=True))
    if user.is_superuser:
        roles |= {Role.ADMIN}
    return {
        "unread_count": Notification.objects.filter(user=user, read_at__isnull=True).count(),
        "nav_roles": roles,
    }
