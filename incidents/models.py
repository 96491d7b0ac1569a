"""Events (事件), their categories, history chain and attachments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.models import Department, OrgUnit


class Urgency(models.IntegerChoices):
    NORMAL = 1, _("normal")
    URGENT = 2, _("urgent")
    CRITICAL = 3, _("critical")


class CategoryKind(models.TextChoices):
    EVENT = "event", _("event (事件)")
    COMPONENT = "component", _("component (部件)")


class Category(models.Model):
    """Two levels: a major class (大类, no parent) and its subclasses (小类)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CategoryKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("major class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subcategories",
        limit_choices_to={"parent__isnull": True},
    )
    default_urgency = models.PositiveSmallIntegerField(
        _("default urgency"), choices=Urgency.choices, default=Urgency.NORMAL
    )
    keywords = models.CharField(_("search keywords"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_major(self) -> bool:
        return self.parent_id is None

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.parent_id:
            if self.parent.parent_id:
                raise ValidationError({"parent": _("Categories have two levels: the parent must be a major class.")})
            if self.parent.kind != self.kind:
                raise ValidationError({"kind": _("A subclass has the kind of its major class.")})
            if not self.code.startswith(self.parent.code):
                raise ValidationError({"code": _("A subclass code starts with its major class code.")})


class Source(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    HOTLINE = "hotline_12345", _("12345 hotline")
    SENSOR = "sensor", _("IoT sensor")
    VIDEO_AI = "video_ai", _("video AI")
    OPEN311 = "open311", _("Open311 client")
    OTHER = "other", _("other")


class State(models.TextChoices):
    REPORTED = "reported", _("reported (to dispatch)")
    DISPATCHED = "dispatched", _("dispatched (to accept)")
    ACCEPTED = "accepted", _("accepted (handling)")
    SUSPENDED = "suspended", _("suspended")
    HANDLED = "handled", _("handled (to verify)")
    VERIFIED = "verified", _("verified (to close)")
    CLOSED = "closed", _("closed")
    INVALIDATED = "invalidated", _("invalidated")
    MERGED = "merged", _("merged")


OPEN_STATES = (State.REPORTED, State.DISPATCHED, State.ACCEPTED, State.SUSPENDED, State.HANDLED, State.VERIFIED)
TERMINAL_STATES = (State.CLOSED, State.INVALIDATED, State.MERGED)
# The department holds the event in these states; handlers act on it.
WITH_DEPARTMENT = (State.DISPATCHED, State.ACCEPTED, State.SUSPENDED)
# Not a real case (作废) can be decided until the work is done.
INVALIDATABLE_STATES = (State.REPORTED, State.DISPATCHED, State.ACCEPTED, State.SUSPENDED)
# The states in which a pending request of each kind can still be decided. A change that
# leaves them withdraws the request (services._base.commit), so nothing waits for ever.
REQUEST_STATES: dict[str, tuple[str, ...]] = {
    "extension": (State.DISPATCHED, State.ACCEPTED, State.SUSPENDED),
    "suspension": (State.ACCEPTED,),
    "invalidation": INVALIDATABLE_STATES,
}


class Event(ConcurrentTransitionMixin, models.Model):
    """A problem in the street, from report to closure.

    `state` is protected: only the transition methods below change it, and
    only the service functions in operations.services call those.
    """

    code = models.CharField(_("code"), max_length=32, unique=True, null=True, editable=False)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="events")
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
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_events",
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
            models.Index(fields=["state", "reported_at"], name="event_state_reported"),
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


class RequestKind(models.TextChoices):
    EXTENSION = "extension", _("extension (延期)")
    SUSPENSION = "suspension", _("suspension (挂账)")
    INVALIDATION = "invalidation", _("invalidation (作废)")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")


class ApprovalRequest(models.Model):
    """Something a supervisor must approve: an extension, a suspension or an invalidation."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="requests")
    kind = models.CharField(_("kind"), max_length=16, choices=RequestKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    reason = models.TextField(_("reason"), max_length=2000)
    data = models.JSONField(_("details"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when a department's own system asked."),
    )
    requested_by_department = models.ForeignKey(
        Department,
        verbose_name=_("requesting department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-requested_at"]
        constraints = [
            # One open request of a kind per event: a second would be a double click.
            models.UniqueConstraint(
                fields=["event", "kind"], condition=Q(status="pending"), name="one_pending_request_per_kind"
            ),
        ]
        indexes = [models.Index(fields=["status", "kind"], name="request_status_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.event.code} · {self.get_status_display()}"


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
}


class EventRecord(models.Model):
    """One append-only line of an event's history, linked into a per-event hash chain.

    `hash` is the SHA-256 of the record's canonical content including
    `prev_hash`, so changing, removing or reordering any record breaks every
    hash after it. On PostgreSQL a trigger refuses UPDATE and DELETE.
    """

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="records")
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
    hash = models.CharField(_("hash"), max_length=64, unique=True)

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


def attachment_path(instance: Attachment, filename: str) -> str:
    # `filename` is already server-generated (uuid + format extension).
    return f"events/{instance.created_at:%Y/%m}/{filename}"


class AttachmentKind(models.TextChoices):
    BEFORE = "before", _("before (report)")
    AFTER = "after", _("after (result)")
    VERIFY = "verify", _("on-site verification")
    NOTE = "note", _("co-handler note")


class Attachment(models.Model):
    """A photo, re-encoded on upload (EXIF and GPS stripped) and stored under a generated name."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=16, choices=AttachmentKind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=32)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file.name}"


class ContactReveal(models.Model):
    """Each time someone saw a reporter's full contact details (数据回流: personal data is masked by default)."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="contact_reveals")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    revealed_at = models.DateTimeField(_("revealed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact reveal")
        verbose_name_plural = _("contact reveals")
        ordering = ["-revealed_at"]

    def __str__(self) -> str:
        return f"{self.user} · {self.event_id} · {self.revealed_at:%Y-%m-%d %H:%M}"


class Open311Key(models.Model):
    """An API key for an Open311 GeoReport v2 client (a 311 app, another city's system).

    Only a SHA-256 of the key is stored; the key itself is shown once, when issued.
    """

    name = models.CharField(_("client name"), max_length=100)
    prefix = models.CharField(_("key prefix"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    jurisdiction = models.ForeignKey(
        OrgUnit,
        verbose_name=_("may file within"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Requests outside this unit are refused."),
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def open311_key_id(self) -> int:
        return self.pk
