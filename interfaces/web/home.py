from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

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
