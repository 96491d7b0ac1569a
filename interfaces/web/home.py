from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static

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


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: send them to the static icon (read at
    request time, so the production manifest is only consulted once collectstatic ran)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
