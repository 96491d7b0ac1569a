from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_safe

# Where each role starts its day.
START_PAGES = [("operator", "console"), ("supervisor", "supervise"), ("handler", "inbox"), ("grid_worker", "my-events")]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("org_unit", "department__org_unit").order_by("role")
    roles = {m.role for m in memberships}
    if request.GET.get("stay") is None:
        for role, page in START_PAGES:
            if role in roles:
                return redirect(page)
    return render(request, "accounts/home.html", {"memberships": memberships})


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on every page (the admin's and the API docs' too): the
    static icon, so the production console shows no 404 (the browser smoke test fails on one)."""
    return redirect(static("favicon.svg"), permanent=True)
