"""The event (事件): a problem in the street, its facts, and the lifecycle graph of its state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.models import Department, OrgUnit

from .categories import Category, Urgency
from .states import INVALIDATABLE_STATES, OPEN_STATES, State


class Source(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    HOTLINE = "hotline_12345", _("12345 hotline")
    SENSOR = "sensor", _("IoT sensor")
    VIDEO_AI = "video_ai", _("video AI")
    OPEN311 = "open311", _("Open311 client")
    OTHER = "other", _("other")


class Event(ConcurrentTransitionMixin, models.Model):
    """A problem in the street, from report to closure.

    `state` is protected: only the transition methods below change it, and
    only the service functions in operations.services call those.
    """

    code = models.CharField(_("code"), max_length=32, unique=True, null=True, editable=False)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    # No index of its own on category, owner_unit or lead_department: the composite indexes in Meta
    # lead with them, and each index more is one more entry written per intake (#20).
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="events", db_index=False
    )
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices, default=Urgency.NORMAL)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.GRID_WORKER)

    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    grid = models.ForeignKey(OrgUnit, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="grid_events")
    # Copy of the grid's materialized path: "events inside my jurisdiction" is
    # one prefix scan on this indexed column, with no join.
    area_path = models.CharField(_("area path"), max_length=255, editable=False)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_events",
    )
    reporter_name = models.CharField(_("reporter name"), max_length=64, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=32, blank=True)

    state = FSMField(_("state"), default=State.REPORTED, choices=State.choices, protected=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    owner_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("owning unit"),
        on_delete=models.PROTECT,
        related_name="owned_events",
        help_text=_("The tier whose operators dispatch and close the event now."),
        db_index=False,
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_events",
        db_index=False,
    )
    co_departments = models.ManyToManyField(
        Department, verbose_name=_("co-handling departments"), blank=True, related_name="co_events"
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    self_handled = models.BooleanField(_("fixed on the spot"), default=False)
    rework_count = models.PositiveSmallIntegerField(_("rework count"), default=0)
    return_count = models.PositiveSmallIntegerField(_("return count"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("reopen count"), default=0)
    urge_count = models.PositiveSmallIntegerField(_("urge count"), default=0)
    result_note = models.TextField(_("result"), blank=True)
    # Copies of the SLA clocks' state (dispatch.sla keeps them in step) so
    # queues sort and filter by deadline without joining the clocks.
    due_at = models.DateTimeField(_("next due"), null=True, blank=True)
    light = models.CharField(_("traffic light"), max_length=8, default="green")
    # Facts the evaluation report reads without replaying history.
    first_dispatched_at = models.DateTimeField(_("first dispatched at"), null=True, blank=True)
    handling_minutes = models.FloatField(_("handling time (working minutes)"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("closed on time"), null=True, blank=True)
    extension_count = models.PositiveSmallIntegerField(_("extensions"), default=0, db_default=0)
    suspension_count = models.PositiveSmallIntegerField(_("suspensions"), default=0, db_default=0)
    # The history chain's head sealed with the row's report facts (incidents.history): two keyed
    # MACs, so a missing or rewritten last record and a row changed behind the services both show.
    history_anchor = models.CharField(
        _("history anchor"), max_length=64, blank=True, default="", db_default="", editable=False
    )

    reported_at = models.DateTimeField(_("reported at"))
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-reported_at"]
        indexes = [
            # Jurisdiction scans: area_path LIKE 'prefix%' (pattern ops for PostgreSQL).
            models.Index(fields=["area_path"], name="event_area_path", opclasses=["varchar_pattern_ops"]),
            # Operator queues: open events of a tier, newest or most urgent first.
            models.Index(fields=["owner_unit", "state"], name="event_owner_state"),
            # Department inboxes.
            models.Index(fields=["lead_department", "state"], name="event_lead_state"),
            # Duplicate detection: same category, recent, open.
            models.Index(fields=["category", "reported_at"], name="event_category_reported"),
            # The duplicate search at intake (incidents.duplicates): open events only, a latitude
            # band read as a range, longitude and time checked inside the index.
            models.Index(
                fields=["category", "latitude", "longitude", "reported_at"],
                condition=models.Q(state__in=[s.value for s in OPEN_STATES]),
                name="event_open_duplicate_box",
            ),
            models.Index(fields=["state", "reported_at"], name="event_state_reported"),
            # Events reported in a period: the evaluation's live days (dispatch.figures) and the
            # newest-first lists. Without it a day's read walked all of event_category_reported.
            models.Index(fields=["reported_at"], name="event_reported"),
            # Queues sorted by deadline.
            models.Index(fields=["owner_unit", "due_at"], name="event_owner_due"),
            # The operators' "needs action" queue (to dispatch, to close): walked in deadline
            # order for the whole city, read index-only per owning unit for a street or district.
            models.Index(
                fields=["due_at", "reported_at"],
                condition=models.Q(state__in=["reported", "verified"]),
                name="event_needs_action_due",
            ),
            models.Index(
                fields=["owner_unit", "due_at", "reported_at", "area_path"],
                condition=models.Q(state__in=["reported", "verified"]),
                name="event_needs_action_owner",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="event_coordinates_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(state="merged") | Q(merged_into__isnull=False), name="event_merged_has_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code or '—'} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # --- the lifecycle graph (source → target). Services call these; nothing else does.

    @transition(field=state, source=State.REPORTED, target=State.DISPATCHED)
    def to_dispatched(self) -> None:
        pass

    @transition(field=state, source=[State.DISPATCHED, State.ACCEPTED], target=State.DISPATCHED)
    def to_redispatched(self) -> None:
        pass

    @transition(field=state, source=State.REPORTED, target=State.REPORTED)
    def to_escalated(self) -> None:
        pass

    @transition(field=state, source=State.DISPATCHED, target=State.ACCEPTED)
    def to_accepted(self) -> None:
        pass

    @transition(field=state, source=[State.DISPATCHED, State.ACCEPTED], target=State.REPORTED)
    def to_returned(self) -> None:
        pass

    @transition(field=state, source=State.ACCEPTED, target=State.SUSPENDED)
    def to_suspended(self) -> None:
        pass

    @transition(field=state, source=State.SUSPENDED, target=State.ACCEPTED)
    def to_resumed(self) -> None:
        pass

    @transition(field=state, source=State.ACCEPTED, target=State.HANDLED)
    def to_handled(self) -> None:
        pass

    @transition(field=state, source=State.REPORTED, target=State.HANDLED)
    def to_self_handled(self) -> None:
        pass

    @transition(field=state, source=State.HANDLED, target=State.VERIFIED)
    def to_verified(self) -> None:
        pass

    @transition(field=state, source=State.HANDLED, target=State.ACCEPTED)
    def to_rework(self) -> None:
        pass

    @transition(field=state, source=State.HANDLED, target=State.REPORTED)
    def to_rework_undispatched(self) -> None:
        pass

    @transition(field=state, source=State.VERIFIED, target=State.CLOSED)
    def to_closed(self) -> None:
        pass

    @transition(field=state, source=list(INVALIDATABLE_STATES), target=State.INVALIDATED)
    def to_invalidated(self) -> None:
        pass

    @transition(field=state, source=[State.REPORTED, State.DISPATCHED], target=State.MERGED)
    def to_merged(self) -> None:
        pass

    @transition(field=state, source=State.CLOSED, target=State.REPORTED)
    def to_reopened(self) -> None:
        pass
