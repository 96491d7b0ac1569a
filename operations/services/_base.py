"""The skeleton every lifecycle operation follows.

lock the row → check who may → run the transition → write history →
queue side effects, all inside one transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from django.core.files.storage import default_storage
from django.db import IntegrityError, router, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from accounts.models import Department, User
from core.errors import Conflict, InvalidInput, NotFound
from core.inserts import insert_new
from core.stored_files import keep_until_commit
from dispatch import sla
from dispatch.models import RoutingSuggestion
from incidents import history
from incidents.models import (
    REQUEST_STATES,
    ApprovalRequest,
    Attachment,
    AttachmentKind,
    Event,
    EventRecord,
    RequestStatus,
    State,
)
from incidents.permissions import Acting
from incidents.photos import ProcessedPhoto
from incidents.related import remember_related
from incidents.selectors import events_for_user
from operations.outbox import outbox_put, outbox_put_many

REASON_MAX = 2000


def require_reason(reason: str | None, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({field: _("A reason is required.")})
    if len(reason) > REASON_MAX:
        raise InvalidInput({field: _("At most %(n)d characters.") % {"n": REASON_MAX}})
    return reason


def optional_text(text: str | None, field: str, limit: int = REASON_MAX) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise InvalidInput({field: _("At most %(n)d characters.") % {"n": limit}})
    return text


@contextlib.contextmanager
def locked_event(event_id: int, expected_version: int | None = None, viewer: User | None = None) -> Iterator[Event]:
    """Open a transaction holding the event's row lock; a stale version is a conflict.

    The second of two concurrent operators waits here for the first to
    commit, then finds the event changed and gets Conflict. An event outside
    the `viewer`'s scope does not exist for them (NotFound, not "forbidden").
    """
    with transaction.atomic():
        try:
            event = Event.objects.select_for_update().get(pk=event_id)
        except (Event.DoesNotExist, ValueError, TypeError):
            raise NotFound(_("No such event.")) from None
        if viewer is not None and not events_for_user(viewer).filter(pk=event.pk).exists():
            raise NotFound(_("No such event."))
        if expected_version is not None and event.version != expected_version:
            raise Conflict(
                _("Someone else changed event %(code)s while you were working on it; reload and try again.")
                % {"code": event.code},
                code="stale_version",
            )
        try:
            yield event
        except ConcurrentTransition:
            raise Conflict(
                _("Event %(code)s changed at the same moment; reload and try again.") % {"code": event.code}
            ) from None
        except IntegrityError as exc:
            if "eventrecord" in str(exc).lower() or "seq" in str(exc).lower():
                raise Conflict(
                    _("Event %(code)s changed at the same moment; reload and try again.") % {"code": event.code}
                ) from None
            raise


def run_transition(event: Event, method: Callable[[], None], what: str) -> str:
    """Run an FSM transition; a transition the current state does not allow is a conflict."""
    before = event.state
    try:
        method()
    except TransitionNotAllowed:
        raise Conflict(
            _("Cannot %(what)s event %(code)s while it is %(state)s.")
            % {"what": what, "code": event.code, "state": State(before).label},
            code="invalid_transition",
        ) from None
    return before


@contextlib.contextmanager
def written_files() -> Iterator[list[str]]:
    """Collect names of files stored in a transaction; delete them if it fails.

    Wrap it around the transaction, so a rollback leaves no orphan photo.
    """
    names: list[str] = []
    try:
        yield names
    except BaseException:
        for name in names:
            default_storage.delete(name)
        raise
    if transaction.get_connection().in_atomic_block:  # our transaction was a savepoint
        keep_until_commit(names)


def save_photos(
    event: Event, photos: Sequence[ProcessedPhoto], kind: str, acting: Acting, now: datetime, written: list[str]
) -> list[Attachment]:
    """Store already-validated photos under their generated names."""
    saved: list[Attachment] = []
    for photo in photos:
        attachment = Attachment(
            event=event,
            kind=kind,
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            size=photo.size,
            sha256=photo.sha256,
            uploaded_by=acting.user,
            created_at=now,
        )
        # Both names are set (process_photo names the content, save() the field); the stubs type them optional.
        attachment.file.save(photo.content.name, photo.content, save=False)  # type: ignore[arg-type]
        written.append(attachment.file.name)  # type: ignore[arg-type]
        attachment.thumbnail.save(photo.thumbnail.name, photo.thumbnail, save=False)  # type: ignore[arg-type]
        written.append(attachment.thumbnail.name)  # type: ignore[arg-type]
        attachment.save()
        saved.append(attachment)
    return saved


def record(
    event: Event,
    acting: Acting,
    action: str,
    *,
    from_state: str,
    reason: str = "",
    data: dict | None = None,
    at: datetime | None = None,
    save_anchor: bool = True,
) -> EventRecord:
    """Append the history record of a change to an event whose row is saved (see history.append)."""
    return history.append(
        event,
        save_anchor=save_anchor,
        action=action,
        actor=acting.user,
        actor_role=acting.role,
        actor_unit=acting.unit,
        actor_department=acting.department,
        from_state=from_state,
        to_state=event.state,
        reason=reason,
        data=data or {},
        created_at=at or timezone.now(),
    )


def commit(
    event: Event,
    acting: Acting,
    action: str,
    *,
    from_state: str,
    reason: str = "",
    data: dict | None = None,
    topic: str | None = None,
    at: datetime | None = None,
) -> EventRecord:
    """Move the event's clocks, append its history record, save it (version + 1, anchored), queue the side effect."""
    at = at or timezone.now()
    data = dict(data or {})
    if moot := withdraw_moot(event, acting, at):
        data["withdrawn_requests"] = sorted({*data.get("withdrawn_requests", []), *moot})
    event.version += 1
    # The clocks first: they fill in facts the anchor binds (the on-time flag, the handling time).
    sla.on_action(event, action, at)
    rec = record(event, acting, action, from_state=from_state, reason=reason, data=data, at=at, save_anchor=False)
    # Then one UPDATE: the row as anchored, its new version and the anchor over the new head.
    event.save()
    outbox_put(
        topic or f"event.{action}",
        event=event,
        payload={
            "event": event.pk,
            "code": event.code,
            "action": action,
            "record": rec.seq,
            "state": event.state,
            # Who was responsible at this moment: delivery may run later, after further changes.
            **departments_now(event),
        },
    )
    return rec


def departments_now(event: Event) -> dict:
    return {
        "lead": lead.code if (lead := event.lead_department) is not None else None,
        "co": sorted(event.co_departments.values_list("code", flat=True)),
    }


def photo_data(attachments: Sequence[Attachment]) -> list[dict]:
    return [{"id": a.pk, "sha256": a.sha256, "kind": a.kind} for a in attachments]


def withdraw_moot(event: Event, acting: Acting, at: datetime) -> list[int]:
    """Withdraw pending requests that the event's new state makes moot (e.g. an invalidation
    request on an event whose result was just submitted): approving them later could only fail."""
    moot = [kind for kind, states in REQUEST_STATES.items() if event.state not in states]
    if not moot:
        return []
    return withdraw_pending(
        event, acting, at, moot, _("Withdrawn: the event is now %(state)s.") % {"state": State(event.state).label}
    )


def withdraw_pending(event: Event, acting: Acting, at: datetime, kinds: Sequence[str], why: str) -> list[int]:
    """Refuse pending requests that no longer make sense (e.g. a returned event's extension request).

    Returns their ids for the history record of the change that withdrew them: one record per
    change keeps version == number of records.
    """
    pending = list(ApprovalRequest.objects.filter(event=event, status=RequestStatus.PENDING, kind__in=list(kinds)))
    for request in pending:
        request.status = RequestStatus.REFUSED
        request.decided_by, request.decided_at, request.decision_note = acting.user, at, why
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return [r.pk for r in pending]


class NewEvent:
    """An event being filed, and what happens to it before its transaction ends, written once.

    Intake's hot path (#20): the event row is inserted once, already in its final state (code,
    version, due time, light, anchor, department), and its clocks, records and outbox messages
    go in one INSERT each. Nothing is read back: a new event has no records (the chain starts at
    GENESIS), no pending requests and no co-handlers but those set here. The actions are the same
    ones the services run on a stored event (file, then the auto-dispatch's `apply_dispatch`).
    """

    def __init__(self, event: Event, acting: Acting) -> None:
        self.event = event
        self.acting = acting
        self.actions: list[str] = []
        self.entries: list[dict] = []
        self.messages: list[tuple[str, Event, dict]] = []
        self.photos: Sequence[ProcessedPhoto] = ()
        self.co_departments: list[Department] = []
        self.suggestion: tuple[RoutingSuggestion, list[Department]] | None = None

    def suggest(self, suggestion: RoutingSuggestion, co_departments: list[Department]) -> None:
        """What a suggest-mode rule proposes, written with the event."""
        self.suggestion = (suggestion, co_departments)

    def add(
        self,
        action: str,
        acting: Acting,
        *,
        from_state: str,
        at: datetime,
        data: dict,
        reason: str = "",
        topic: str | None = None,
        payload: dict | None = None,
    ) -> None:
        """One more change to the new event: its history record and its outbox message."""
        if self.entries:
            self.event.version += 1  # one record per change, as commit() keeps it
        self.actions.append(action)
        self.entries.append(
            {
                "action": action,
                "actor": acting.user,
                "actor_role": acting.role,
                "actor_unit": acting.unit,
                "actor_department": acting.department,
                "from_state": from_state,
                "to_state": self.event.state,
                "reason": reason,
                "data": data,
                "created_at": at,
            }
        )
        event = self.event
        self.messages.append(
            (
                topic or f"event.{action}",
                event,
                payload
                if payload is not None
                else {
                    "event": event.pk,
                    "code": event.code,
                    "action": action,
                    "record": len(self.entries),
                    "state": event.state,
                    "lead": event.lead_department.code if event.lead_department is not None else None,
                    "co": sorted(d.code for d in self.co_departments),
                },
            )
        )

    def write(self, at: datetime, written: list[str]) -> None:
        """Insert it all: the photos (the filing record names their ids), the event, then one
        INSERT each for clocks, records, co-handlers and outbox messages.

        The photos go first: Django's foreign keys are checked at commit (DEFERRABLE INITIALLY
        DEFERRED on PostgreSQL and SQLite), and their ids are part of the first record's hash.
        """
        event = self.event
        before = save_photos(event, self.photos, AttachmentKind.BEFORE, self.acting, at, written)
        self.entries[0]["data"]["photos"] = photo_data(before)
        clocks = sla.plan_new_event(event, self.actions, at)
        records = history.chain_new(event, self.entries)
        # The INSERT that save(force_insert=True) sends, without compiling it per intake; the
        # receivers of save() (the roll-up mark) hear of it as of any save.
        pre_save.send(sender=Event, instance=event, raw=False, using=router.db_for_write(Event), update_fields=None)
        insert_new([event])
        event._update_initial_state()  # django-fsm's: a later save in this transaction starts from here
        post_save.send(sender=Event, instance=event, created=True, update_fields=None, raw=False, using=event._state.db)
        insert_new(clocks)
        insert_new(records)
        through = Event.co_departments.through
        if self.co_departments:
            insert_new([through(event=event, department=d) for d in self.co_departments])
        if self.suggestion is not None:
            suggestion, co = self.suggestion
            insert_new([suggestion])  # no receivers listen to its save
            if co:
                link = RoutingSuggestion.co_departments.through
                insert_new([link(routingsuggestion=suggestion, department=d) for d in co])
        outbox_put_many(self.messages)
        # What the response shows, as written: nobody reads it back.
        remember_related(event, "co_departments", self.co_departments)
        remember_related(event, "attachments", before)
