"""The event page's action forms, built from the operations table (operations.table).

One Django form class per shared set of inputs; the fields follow each input's kind. The
department choices are the ones the user may dispatch to for this event.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from dispatch.models import RoutingSuggestion
from incidents.models import Event
from incidents.permissions import OPERATOR
from interfaces.web.forms import MultipleFileField, ServiceForm
from operations.table import Field, Inputs, Operation

TEXT_MAX = 2000


def _form_field(field: Field) -> forms.Field:
    label, required = field.label, field.required
    if field.kind == "text":
        return forms.CharField(
            label=label, required=required, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
        )
    if field.kind == "short_text":
        return forms.CharField(label=label, required=required, max_length=32, help_text=field.help_text)
    if field.kind == "photos":
        return MultipleFileField(label=label)
    if field.kind == "department":
        return forms.ModelChoiceField(label=label, required=required, queryset=Department.objects.none())
    if field.kind == "departments":
        return forms.ModelMultipleChoiceField(label=label, required=required, queryset=Department.objects.none())
    if field.kind == "hours":
        return forms.IntegerField(label=label, required=required, min_value=1, max_value=720, help_text=field.help_text)
    if field.kind == "passed":
        return forms.TypedChoiceField(
            label=label,
            choices=[("1", _("fixed: pass")), ("0", _("not fixed: send back for rework"))],
            coerce=lambda v: v == "1",
            widget=forms.RadioSelect,
        )
    if field.kind == "event_code":
        return forms.CharField(label=label, required=required, max_length=32)
    raise ValueError(f"no web form field for input kind {field.kind!r}")


_classes: dict[str, type[ServiceForm]] = {}


def form_class(inputs: Inputs) -> type[ServiceForm]:
    """The form class of one set of inputs (made once per process)."""
    if inputs.name not in _classes:
        attrs = {f.name: _form_field(f) for f in inputs.fields}
        _classes[inputs.name] = type(inputs.name.replace("Input", "Form"), (ServiceForm,), attrs)
    return _classes[inputs.name]


def dispatchable_departments(user, event: Event):
    """Departments serving the event's place, at the operator's tier or below."""
    acting = OPERATOR.acting(user, event)
    if acting is None or acting.unit is None:
        return Department.objects.none()
    return (
        Department.objects.filter(is_active=True, org_unit__code__in=event.grid.depth_codes)
        .filter(org_unit__path__startswith=acting.unit.path)
        .select_related("type", "org_unit")
        .order_by("-org_unit__tier", "type__code")
    )


def action_form(op: Operation, user, event: Event, data=None, files=None) -> ServiceForm | None:
    """The bound or unbound form of `op` (None when the operation takes no input)."""
    if not op.inputs.fields:
        return None
    form = form_class(op.inputs)(data, files, prefix=op.name)
    kinds = {f.kind for f in op.inputs.fields}
    if kinds & {"department", "departments"}:
        departments = dispatchable_departments(user, event)
        for field in form.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = departments
        if data is None and op.name == "dispatch":
            suggestion = RoutingSuggestion.objects.filter(event=event).first()
            if suggestion:
                form.initial = {
                    "department": suggestion.department_id,
                    "co_departments": list(suggestion.co_departments.all()),
                }
    return form


def values_of(op: Operation, form: ServiceForm | None) -> dict:
    """The form's cleaned inputs, keyed by input name, as the table's `perform` takes them."""
    if form is None:
        return {}
    return {f.name: form.cleaned_data.get(f.name) for f in op.inputs.fields}
