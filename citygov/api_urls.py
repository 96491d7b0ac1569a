from django.urls import path

from dispatch.api import RoutingSimulationView

app_name = "api"

urlpatterns = [
    path("routing/simulate", RoutingSimulationView.as_view(), name="routing-simulate"),
]
