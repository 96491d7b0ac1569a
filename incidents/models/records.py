"""The event's history: append-only records in a per-event hash chain, and how each action reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Department, OrgUnit

from .events import Event
from .states import State

ACTION_LABELS = {
    "file": pgettext_lazy("history", "filed"),
    "self_handle": pgettext_lazy("history", "fixed on the spot"),
    "dispatch": pgettext_lazy("history", "dispatched"),
    "redispatch": pgettext_lazy("history", "redispatched"),
    "escalate": pgettext_lazy("history", "escalated"),
    "accept": pgettext_lazy("history", "accepted"),
    "return": pgettext_lazy("history", "returned"),
    "submit_result": pgettext_lazy("history", "result submitted"),
    "verify_pass": pgettext_lazy("history", "verified: passed"),
    "verify_fail": pgettext_lazy("history", "verified: rework"),
    "close": pgettext_lazy("history", "closed"),
    "reopen": pgettext_lazy("history", "reopened"),
    "urge": pgettext_lazy("history", "urged"),
    "note": pgettext_lazy("history", "co-handler note"),
    "merge": pgettext_lazy("history", "merged into another event"),
    "absorb": pgettext_lazy("history", "absorbed a duplicate"),
    "extension_request": pgettext_lazy("history", "extension requested"),
    "extension_approve": pgettext_lazy("history", "extension approved"),
    "extension_refuse": pgettext_lazy("history", "extension refused"),
    "suspension_request": pgettext_lazy("history", "suspension requested"),
    "suspend": pgettext_lazy("history", "suspended"),
    "suspension_refuse": pgettext_lazy("history", "suspension refused"),
    "resume": pgettext_lazy("history", "resumed"),
    "invalidation_request": pgettext_lazy("history", "invalidation proposed"),
    "invalidate": pgettext_lazy("history", "invalidated"),
    "invalidation_refuse": pgettext_lazy("history", "invalidation refused"),
    # Sensor warnings (城市体征) on the event they filed.
    "warning_join": pgettext_lazy("history", "another sensor warning joined"),
    "warning_change": pgettext_lazy("history", "warning level changed"),
    "warning_red": pgettext_lazy("history", "warning raised to red"),
    "warning_lift": pgettext_lazy("history", "warning lifted"),
}


class EventRecord(models.Model):
    """One append-only line of an event's history, linked into a per-event hash chain.

    `hash` is the SHA-256 of the record's canonical content including
    `prev_hash`, so changing, removing or reordering any record breaks every
    hash after it. On PostgreSQL a trigger refuses UPDATE and DELETE.
    """

    # Indexed by the (event, seq) constraint below, which leads with it.
    event = models.ForeignKey(
        Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="records", db_index=False
    )
    seq = models.PositiveIntegerField(_("sequence"))
    action = models.CharField(_("action"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT
    )
    actor_role = models.CharField(_("role"), max_length=32, blank=True)
    actor_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("actor's unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_department = models.ForeignKey(
        Department,
        verbose_name=_("actor's department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    from_state = models.CharField(_("from state"), max_length=16, blank=True)
    to_state = models.CharField(_("to state"), max_length=16, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"))
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    # Not unique on its own: it covers the event and the sequence, which eventrecord_event_seq
    # already keeps unique, and an index on random SHA-256 keys cost every intake a page read and
    # a full-page WAL image (#20). Nothing looks a record up by its hash.
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("history record")
        verbose_name_plural = _("history records")
        ordering = ["event_id", "seq"]
        constraints = [
            # Two writers can never both append record N: the second insert fails.
            models.UniqueConstraint(fields=["event", "seq"], name="eventrecord_event_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}#{self.seq} {self.action}"

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def from_label(self) -> str:
        return State(self.from_state).label if self.from_state in State.values else ""

    @property
    def to_label(self) -> str:
        return State(self.to_state).label if self.to_state in State.values else ""
