from django.conf import settings
from django.db import models


class Ticket(models.Model):
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=16)
    latitude = models.FloatField()
    longitude = models.FloatField()
    status = models.CharField(max_length=16, default="new")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title
