"""Web forms. They collect input; the services validate and decide, and their errors land beside the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput
from incidents.models import Category, Source, State, Urgency
from interfaces.inputs import MAX_DAY, MIN_DAY


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos in one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ServiceForm(forms.Form):
    """A form that can take a service's InvalidInput and show each message beside its field."""

    # Service fields that have another name on the form.
    field_aliases: dict[str, str] = {}

    def add_service_errors(self, exc: InvalidInput) -> None:
        for field, messages in exc.errors.items():
            field = self.field_aliases.get(field, field)
            target = field if field in self.fields else None
            for message in messages:
                self.add_error(target, message if target else f"{message}")


def _category_choices():
    groups = []
    majors = Category.objects.filter(parent__isnull=True, is_active=True).prefetch_related("subcategories")
    for major in majors.order_by("code"):
        subs = [(c.pk, f"{c.name} · {c.code}") for c in major.subcategories.all() if c.is_active]
        if subs:
            groups.append((f"{major.name}（{major.get_kind_display()}）", subs))
    return [("", _("— choose —")), *groups]


class ReportForm(ServiceForm):
    field_aliases = {"location": "latitude"}

    category = forms.TypedChoiceField(label=_("category"), coerce=int)
    title = forms.CharField(label=_("title"), max_length=120)
    description = forms.CharField(
        label=_("description"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    urgency = forms.TypedChoiceField(
        label=_("urgency"),
        choices=[("", _("category default")), *Urgency.choices],
        coerce=int,
        required=False,
        empty_value=None,
    )
    latitude = forms.FloatField(label=_("latitude"), widget=forms.NumberInput(attrs={"step": "any"}))
    longitude = forms.FloatField(label=_("longitude"), widget=forms.NumberInput(attrs={"step": "any"}))
    address = forms.CharField(label=_("address"), required=False, max_length=200)
    source = forms.ChoiceField(label=_("source"), initial="grid_worker")
    reporter_name = forms.CharField(label=_("caller's name"), required=False, max_length=64)
    reporter_phone = forms.CharField(label=_("caller's phone"), required=False, max_length=32)
    photos = MultipleFileField(label=_("photos"))
    fixed_on_spot = forms.BooleanField(label=_("fixed on the spot"), required=False)
    result_note = forms.CharField(
        label=_("what was done"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    file_anyway = forms.BooleanField(label=_("this is not one of the events above: file it anyway"), required=False)

    def __init__(self, *args, from_text: bool = False, **kwargs):
        """`from_text`: the filer is an operator, who may leave the category to the dispatch model."""
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices()
        if from_text:
            category = self.fields["category"]
            category.required = False
            category.empty_value = None
            category.help_text = _("Leave it empty to have it chosen from the title and description by the model.")
        self.fields["source"].choices = [(v, label) for v, label in Source.choices if v != Source.OPEN311]


class DecisionForm(ServiceForm):
    approve = forms.TypedChoiceField(
        label=_("decision"), choices=[("1", _("approve")), ("0", _("refuse"))], coerce=lambda v: v == "1"
    )
    note = forms.CharField(label=_("note (required to refuse)"), required=False, max_length=2000)


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("state"), required=False)
    category = forms.ModelChoiceField(
        label=_("category"), required=False, queryset=Category.objects.filter(is_active=True).order_by("code")
    )
    urgency = forms.TypedChoiceField(
        label=_("urgency"), choices=[("", "—"), *Urgency.choices], coerce=int, required=False, empty_value=None
    )
    light = forms.ChoiceField(
        label=_("traffic light"),
        required=False,
        choices=[("", "—"), ("green", _("green")), ("yellow", _("yellow")), ("red", _("red"))],
    )
    tier = forms.TypedChoiceField(
        label=_("owning tier"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), (1, _("city")), (2, _("district")), (3, _("street / town")), (4, _("community"))],
    )
    source = forms.ChoiceField(label=_("source"), required=False)
    since = forms.DateField(
        label=_("reported from"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("reported until"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    q = forms.CharField(label=_("search"), required=False, max_length=100)

    def clean(self):
        data = super().clean()
        for name in ("since", "until"):
            if data.get(name) and not (MIN_DAY <= data[name] <= MAX_DAY):
                self.add_error(name, _("Between %(a)s and %(b)s.") % {"a": MIN_DAY, "b": MAX_DAY})
                data.pop(name, None)
        return data

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("needs action")), ("all", _("all states")), *State.choices]
        self.fields["source"].choices = [("", "—"), *Source.choices]
