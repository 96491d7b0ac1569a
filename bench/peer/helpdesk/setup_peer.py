"""Prints the bench queue's id and the tokens of eight staff users who may create tickets in it (after migrate).

TicketViewSet lets staff users (IsAdminUser) create tickets, as helpdesk's own agents do.
"""

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from helpdesk.models import Queue  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

Queue.objects.get_or_create(slug="bench", defaults={"title": "Bench"})
users = [get_user_model().objects.create_user(f"bench{i}", is_staff=True) for i in range(8)]
print(Queue.objects.get(slug="bench").pk, *(Token.objects.create(user=u).key for u in users))
