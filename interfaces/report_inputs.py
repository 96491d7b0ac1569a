"""The report's inputs (area and period), shared by the report page, its exports and the API."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import OrgUnit, Tier, User
from accounts.selectors import units_granting
from dispatch.scores import PeriodKind
from interfaces.inputs import MAX_DAY, MIN_DAY


def report_units(user: User):
    """Units whose report the user may read: the units where they may read events (a community or
    a grid included), and inside those everything down to streets."""
    roots = units_granting(user, "view_events")
    if user.is_superuser:
        roots = list(OrgUnit.objects.filter(tier=Tier.CITY))
    if not roots:
        return OrgUnit.objects.none()
    q = Q()
    for root in roots:
        q |= Q(path__startswith=root.path)
    return OrgUnit.objects.filter(q & (Q(tier__lte=Tier.STREET) | Q(pk__in=[r.pk for r in roots]))).order_by("path")


class ReportForm(forms.Form):
    unit = forms.ModelChoiceField(label=gettext_lazy("area"), queryset=OrgUnit.objects.none(), to_field_name="code")
    # ISO dates: what <input type="date"> needs, whatever the locale's display format.
    start = forms.DateField(
        label=gettext_lazy("from"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("to"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

    def __init__(self, user: User, data=None):
        today = timezone.localdate()
        units = report_units(user)
        initial = {"unit": units.first(), "start": today.replace(day=1), "end": today}
        bound = {**{k: (v.code if isinstance(v, OrgUnit) else v) for k, v in initial.items() if v}, **(data or {})}
        super().__init__(bound)
        self.fields["unit"].queryset = units

    def clean(self):
        data = super().clean()

        for name in ("start", "end"):
            if data.get(name) and not (MIN_DAY <= data[name] <= MAX_DAY):
                self.add_error(name, _("Between %(a)s and %(b)s.") % {"a": MIN_DAY, "b": MAX_DAY})
                data.pop(name, None)
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                self.add_error("end", _("The end is before the start."))
            elif (data["end"] - data["start"]).days > 366 * 3:
                self.add_error("end", _("At most three years at a time."))
        return data


class RankingForm(forms.Form):
    """The ranking's area, period kind (month, quarter, year) and a day inside the period."""

    unit = forms.ModelChoiceField(label=gettext_lazy("area"), queryset=OrgUnit.objects.none(), to_field_name="code")
    period = forms.ChoiceField(label=gettext_lazy("period"), choices=PeriodKind.choices)
    date = forms.DateField(
        label=gettext_lazy("in the period of"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )

    def __init__(self, user: User, data=None):
        units = report_units(user)
        first = units.first()
        initial = {"period": PeriodKind.MONTH, "date": timezone.localdate().isoformat()}
        if first is not None:
            initial["unit"] = first.code
        super().__init__({**initial, **(data or {})})
        self.fields["unit"].queryset = units

    def clean_date(self):
        day = self.cleaned_data["date"]
        if not (MIN_DAY <= day <= MAX_DAY):
            raise forms.ValidationError(_("Between %(a)s and %(b)s.") % {"a": MIN_DAY, "b": MAX_DAY})
        return day


class TrendForm(forms.Form):
    """The monthly trend's area and year."""

    unit = forms.ModelChoiceField(label=gettext_lazy("area"), queryset=OrgUnit.objects.none(), to_field_name="code")
    year = forms.IntegerField(label=gettext_lazy("year"), min_value=MIN_DAY.year, max_value=MAX_DAY.year)

    def __init__(self, user: User, data=None):
        units = report_units(user)
        first = units.first()
        initial: dict[str, object] = {"year": timezone.localdate().year}
        if first is not None:
            initial["unit"] = first.code
        super().__init__({**initial, **(data or {})})
        self.fields["unit"].queryset = units
