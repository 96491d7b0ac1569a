"""The dispatch-accuracy page (派遣准确率): the model, the rules and people side by side, per month and category."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from dispatch.dispatch_accuracy import DECIDERS, DEFINITIONS, dispatch_accuracy
from incidents.selectors import events_for_user
from interfaces.report_inputs import ReportForm


def _cells(row: dict) -> dict:
    return {**row, "sides": [row[d] for d in DECIDERS]}


@login_required
def dispatch_accuracy_page(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.user, request.GET.dict())
    if not form.fields["unit"].queryset.exists():
        raise Http404("No report for you here.")
    report = None
    if form.is_valid():
        unit = form.cleaned_data["unit"]
        events = events_for_user(request.user).filter(area_path__startswith=unit.path)
        report = dispatch_accuracy(events, form.cleaned_data["start"], form.cleaned_data["end"])
    sections = []
    if report is not None:
        sections = [("month", [report.total, *report.by_month]), ("category", report.by_category)]
    return render(
        request,
        "dispatch/dispatch_accuracy.html",
        {
            "form": form,
            "report": report,
            "sections": [(name, [_cells(r.as_dict()) for r in rows]) for name, rows in sections],
            "deciders": DECIDERS,
            "definitions": DEFINITIONS,
        },
    )
