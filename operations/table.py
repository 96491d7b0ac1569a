"""The lifecycle operations, declared once.

Each entry says what an operation is called, which service function performs it, which FSM
transition it runs (so which states it starts from), who may perform it, whether it needs a
reason, which inputs it takes, its label, and which channels offer it. Everything else is
derived from this table: the web page's action forms and `available_actions`, the REST API's
`POST /api/v1/events/{code}/{name}` endpoints and their OpenAPI schema, the department-system
API, the operations table of docs/PERMISSIONS.md and the lifecycle graph of docs/LIFECYCLE.md.

Adding an operation is one entry here plus one service function in `operations.services`.
The services stay the authority: they check the same `Who`, run the transition and refuse
what the table only hides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from incidents.models import INVALIDATABLE_STATES, OPEN_STATES, Event, State
from incidents.permissions import (
    HANDLER,
    LEAD_HANDLER,
    OPERATOR,
    SUPERVISOR,
    SUPERVISOR_OR_LEAD,
    VERIFIER,
    Acting,
    Who,
)
from operations import services

WEB, API, DEPARTMENT = "web", "api", "department"


@dataclass(frozen=True)
class Field:
    """One input of an operation. `kind` decides how each channel renders and parses it."""

    name: str
    kind: str  # text | photos | department | departments | hours | passed | event_code | short_text
    label: Promise
    required: bool = False
    arg: str = ""  # the service's keyword, when it differs from `name`
    help_text: Promise | str = ""

    @property
    def service_arg(self) -> str:
        return self.arg or self.name


@dataclass(frozen=True)
class Inputs:
    """A named set of inputs several operations share; its name is the API schema component."""

    name: str
    fields: tuple[Field, ...] = ()


REASON = Field("reason", "text", _("reason"), required=True)
NOTE = Field("note", "text", _("note"))
PHOTOS = Field("photos", "photos", _("photos"))
DEPARTMENT_FIELD = Field("department", "department", _("lead department"), required=True)
CO_DEPARTMENTS = Field("co_departments", "departments", _("co-handling departments"))

VERSION_ONLY = Inputs("VersionInput")
DISPATCH = Inputs("DispatchInput", (DEPARTMENT_FIELD, CO_DEPARTMENTS))
REDISPATCH = Inputs("RedispatchInput", (DEPARTMENT_FIELD, CO_DEPARTMENTS, REASON))
WITH_REASON = Inputs("ReasonInput", (REASON,))
NOTE_AND_PHOTOS = Inputs("NoteInput", (NOTE, PHOTOS))
RESULT = Inputs(
    "ResultInput",
    (Field("note", "text", _("note"), required=True), Field("photos", "photos", _("photos"), required=True)),
)
COMMENT = Inputs("CommentInput", (NOTE,))
VERIFY = Inputs(
    "VerifyInput", (Field("passed", "passed", _("result of the on-site check"), required=True), NOTE, PHOTOS)
)
EXTENSION = Inputs(
    "ExtensionInput",
    (
        Field(
            "hours",
            "hours",
            _("extra working hours"),
            required=True,
            help_text=_("Working hours (工作时) on a working-time limit; the new deadline shows before you ask."),
        ),
        REASON,
    ),
)
SUSPENSION = Inputs(
    "SuspensionInput",
    (REASON, Field("until", "short_text", _("until"), help_text=_("When the work can go on, e.g. 2027-03-31"))),
)
MERGE = Inputs(
    "MergeInput",
    (
        Field("into", "event_code", _("duplicate of"), required=True, arg="into_event_id"),
        Field("reason", "text", _("reason")),
    ),
)


@dataclass(frozen=True)
class Operation:
    name: str
    service: str  # the function in operations.services, looked up at call time
    label: Promise
    who: Who
    inputs: Inputs = VERSION_ONLY
    transition: str = ""  # the Event method it runs; empty for operations that change no state
    states: tuple[str, ...] = ()  # where an operation without a transition is offered
    reason: str = ""  # the input that carries the required reason or note, if any
    channels: frozenset[str] = frozenset({WEB, API})
    department_path: str = ""  # its path under /api/v1/department-system/events/{code}/, if offered there
    guard: Callable[[User | AnonymousUser, Event], bool] | None = field(
        default=None, compare=False
    )  # extra "not for you"
    meaning: str = ""  # one line for the docs, in the domain's words

    @property
    def sources(self) -> tuple[str, ...]:
        """The states the operation starts from: its transition's sources, or the declared states."""
        if not self.transition:
            return self.states
        meta = getattr(Event, self.transition)._django_fsm
        return tuple(s for s in State.values if s in meta.transitions)

    @property
    def target(self) -> str | None:
        """The state the operation leads to (None: it changes no state)."""
        if not self.transition:
            return None
        meta = getattr(Event, self.transition)._django_fsm
        return str(next(iter(meta.transitions.values())).target)

    def offered_to(self, user: User | AnonymousUser, event: Event) -> bool:
        """Show this action to `user` on `event`? (The service decides; this avoids dead buttons.)"""
        return (
            event.state in self.sources
            and self.who.acting(user, event) is not None
            and (self.guard is None or self.guard(user, event))
        )


def _not_the_submitter(user: User | AnonymousUser, event: Event) -> bool:
    return services.result_submitter_id(event) != user.pk


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "dispatch",
        "event_dispatch",
        _("Dispatch"),
        OPERATOR,
        DISPATCH,
        transition="to_dispatched",
        meaning="派遣: to a lead department that serves the place, at the operator's tier or below",
    ),
    Operation(
        "redispatch",
        "event_redispatch",
        _("Redispatch"),
        OPERATOR,
        REDISPATCH,
        transition="to_redispatched",
        reason="reason",
        meaning="改派: to another department; its pending extension and suspension requests lapse",
    ),
    Operation(
        "escalate",
        "event_escalate",
        _("Escalate to the tier above"),
        OPERATOR,
        WITH_REASON,
        transition="to_escalated",
        reason="reason",
        meaning="上报上级: to the parent tier's operators (the SLA sweep does it when nobody dispatched in time)",
    ),
    Operation(
        "accept",
        "event_accept",
        _("Accept"),
        LEAD_HANDLER,
        transition="to_accepted",
        channels=frozenset({WEB, API, DEPARTMENT}),
        department_path="accept",
        meaning="签收: the handling clock starts",
    ),
    Operation(
        "return",
        "event_return",
        _("Return (not ours)"),
        LEAD_HANDLER,
        WITH_REASON,
        transition="to_returned",
        reason="reason",
        channels=frozenset({WEB, API, DEPARTMENT}),
        department_path="return",
        meaning="退回: back to the dispatching tier; the department loses sight of it",
    ),
    Operation(
        "extension-request",
        "extension_request",
        _("Ask for an extension"),
        LEAD_HANDLER,
        EXTENSION,
        states=(State.DISPATCHED, State.ACCEPTED),
        reason="reason",
        channels=frozenset({WEB, API, DEPARTMENT}),
        department_path="extension",
        meaning="延期: before the deadline of the step and of the overall limit; a supervisor decides",
    ),
    Operation(
        "suspension-request",
        "suspension_request",
        _("Ask to suspend"),
        LEAD_HANDLER,
        SUSPENSION,
        states=(State.ACCEPTED,),
        reason="reason",
        channels=frozenset({WEB, API, DEPARTMENT}),
        department_path="suspension",
        meaning="挂账: before the deadline; a supervisor decides; the clocks pause",
    ),
    Operation(
        "submit-result",
        "event_submit_result",
        _("Submit the result"),
        LEAD_HANDLER,
        RESULT,
        transition="to_handled",
        reason="note",
        channels=frozenset({WEB, API, DEPARTMENT}),
        department_path="result",
        meaning="处置反馈: note and at least one after-photo; only the lead department",
    ),
    Operation(
        "note",
        "event_add_note",
        _("Add a note"),
        HANDLER,
        NOTE_AND_PHOTOS,
        states=(State.DISPATCHED, State.ACCEPTED, State.SUSPENDED),
        reason="note",
        meaning="协办意见: from the lead or a co-handling department; no state change",
    ),
    Operation(
        "resume",
        "event_resume",
        _("Resume"),
        SUPERVISOR_OR_LEAD,
        COMMENT,
        transition="to_resumed",
        meaning="恢复: the paused clocks run again",
    ),
    Operation(
        "verify",
        "event_verify",
        _("Verify on site"),
        VERIFIER,
        VERIFY,
        transition="to_verified",
        guard=_not_the_submitter,
        meaning="核查: pass → verified; fail (note required) → rework; never by whoever submitted the result",
    ),
    Operation(
        "close",
        "event_close",
        _("Close"),
        OPERATOR,
        COMMENT,
        transition="to_closed",
        meaning="结案: a verified event; the closing note is public on Open311",
    ),
    Operation(
        "reopen",
        "event_reopen",
        _("Reopen"),
        OPERATOR,
        WITH_REASON,
        transition="to_reopened",
        reason="reason",
        meaning="回访不满意: back to dispatch, with a new overall clock",
    ),
    Operation(
        "urge",
        "event_urge",
        _("Urge"),
        SUPERVISOR,
        COMMENT,
        states=OPEN_STATES,
        reason="note",
        meaning="督办: recorded and notified; no state change",
    ),
    Operation(
        "invalidation-request",
        "invalidation_request",
        _("Propose invalidation"),
        OPERATOR,
        WITH_REASON,
        states=INVALIDATABLE_STATES,
        reason="reason",
        meaning="作废 proposed: a supervisor decides",
    ),
    Operation(
        "invalidate",
        "event_invalidate",
        _("Invalidate"),
        SUPERVISOR,
        WITH_REASON,
        transition="to_invalidated",
        reason="reason",
        meaning="作废: not a real case; pending requests are withdrawn",
    ),
    Operation(
        "merge",
        "event_merge",
        _("Merge into another event"),
        OPERATOR,
        MERGE,
        transition="to_merged",
        channels=frozenset({API}),
        meaning="合并: a duplicate of another open event inside the operator's jurisdiction",
    ),
)

BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}


def service_of(op: Operation) -> Callable[..., object]:
    return getattr(services, op.service)


def perform(
    op: Operation,
    *,
    actor: User | None,
    event_id: int,
    values: dict[str, object],
    expected_version: int | None,
    acting: Acting | None = None,
) -> object:
    """Call the operation's service with the channel's parsed inputs (keyed by input name)."""
    kwargs = {f.service_arg: values[f.name] for f in op.inputs.fields if f.name in values}
    if acting is not None:
        kwargs["acting"] = acting
    return service_of(op)(actor=actor, event_id=event_id, expected_version=expected_version, **kwargs)


def offered(channel: str) -> list[Operation]:
    return [op for op in OPERATIONS if channel in op.channels]


def available_actions(user: User | AnonymousUser, event: Event) -> list[Operation]:
    """The web actions to show `user` on `event`, in table order."""
    return [op for op in offered(WEB) if op.offered_to(user, event)]


# FSM transitions that no table entry runs directly: intake, the failed check, and decisions on requests.
OTHER_TRANSITIONS: dict[str, str] = {
    "to_self_handled": "file, fixed on the spot (自处理)",
    "to_rework": "verify: fail (返工)",
    "to_rework_undispatched": "verify: fail, fixed on the spot before (返工)",
    "to_suspended": "decide: approve a suspension (挂账)",
}


def fsm_transitions() -> list[tuple[str, str]]:
    """Every transition method of Event and its target, from django-fsm's own records."""
    found = []
    for name in sorted(dir(Event)):
        meta = getattr(getattr(Event, name, None), "_django_fsm", None)
        if meta is not None:
            found.append((name, str(next(iter(meta.transitions.values())).target)))
    return found


def transitions() -> list[tuple[str, str, str]]:
    """(source, target, what runs it) for every transition of the state machine: the lifecycle graph.

    Read from django-fsm and labelled from this table, so the drawing cannot drift from either.
    """
    edges = []
    for method, target in fsm_transitions():
        meta = getattr(Event, method)._django_fsm
        names = [op.name for op in OPERATIONS if op.transition == method]
        if method == "to_invalidated":
            names.append("decide: approve an invalidation")
        label = ", ".join(names) or OTHER_TRANSITIONS.get(method, method)
        edges += [(source, target, label) for source in State.values if source in meta.transitions]
    return edges
