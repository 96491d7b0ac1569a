from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Category, Source, Urgency


class SimulationForm(forms.Form):
    """ "Who would get this?" — the inputs of a hypothetical event."""

    category = forms.ModelChoiceField(
        label=_("category"), queryset=Category.objects.filter(parent__isnull=False, is_active=True).order_by("code")
    )
    latitude = forms.FloatField(label=_("latitude"), min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("longitude"), min_value=-180, max_value=180)
    urgency = forms.TypedChoiceField(
        label=_("urgency"),
        choices=[("", _("category default")), *Urgency.choices],
        coerce=int,
        required=False,
        empty_value=None,
    )
    source = forms.ChoiceField(label=_("source"), choices=Source.choices, initial=Source.GRID_WORKER)
    at = forms.DateTimeField(label=_("time"), required=False, help_text=_("Empty = now."))
    text = forms.CharField(label=_("title and description"), required=False, max_length=4000)

    def clean_at(self):
        return self.cleaned_data.get("at") or timezone.now()
