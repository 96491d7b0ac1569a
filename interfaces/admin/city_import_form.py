"""The admin's "Import a city" form: the same three files as `manage.py import_city`.

DEPARTMENTS and PEOPLE may also come as a spreadsheet (.xlsx): django-import-export's
tablib formats turn its first sheet into CSV, so the one service reads one format
and its row numbers are the sheet's.
"""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import XLSX

from accounts.city_import import Source


def _source(upload: UploadedFile | None) -> Source | None:
    if upload is None:
        return None
    content = upload.read()
    name = upload.name or "upload"
    if name.lower().endswith(".xlsx"):
        dataset = XLSX().create_dataset(content)
        return Source(name, dataset.export("csv").encode("utf-8"))
    return Source(name, content)


class CityImportForm(forms.Form):
    units = forms.FileField(
        label=_("Org units (UNITS.geojson)"),
        required=False,
        help_text=_("GeoJSON FeatureCollection; properties code, name, parent (and optionally tier)."),
    )
    departments = forms.FileField(
        label=_("Departments (DEPARTMENTS.csv)"),
        required=False,
        help_text=_("UTF-8 CSV or .xlsx with the header code,name,type,unit."),
    )
    people = forms.FileField(
        label=_("People (PEOPLE.csv)"),
        required=False,
        help_text=_("UTF-8 CSV or .xlsx with the header username,full_name,phone,role,unit,department."),
    )
    dry_run = forms.BooleanField(label=_("Dry run: check only, write nothing"), required=False, initial=True)

    def clean(self) -> dict:
        data = super().clean()
        if not any(data.get(name) for name in ("units", "departments", "people")):
            raise forms.ValidationError(_("Choose at least one file."))
        for name in ("departments", "people"):
            upload = data.get(name)
            if upload is not None:
                try:
                    data[f"{name}_source"] = _source(upload)
                except Exception:  # openpyxl raises many kinds for a file that is not a workbook
                    self.add_error(name, _("This .xlsx file cannot be read as a spreadsheet."))
        data["units_source"] = _source(data.get("units"))
        return data

    def sources(self) -> dict[str, Source | None]:
        return {name: self.cleaned_data.get(f"{name}_source") for name in ("units", "departments", "people")}
