from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("org_unit", "department__org_unit").order_by("role")
    return render(request, "accounts/home.html", {"memberships": memberships})
