from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from interfaces.api import department as dept
from interfaces.api import events, vitals
from interfaces.api import operations as operation_views
from interfaces.api.dispatch import RoutingSimulationView, SlaReportView
from interfaces.api.dispatch_accuracy import DispatchAccuracyView
from interfaces.api.docs import RedocView
from interfaces.api.ranking import RankingView, TrendView
from interfaces.api.suggest import DispatchSuggestView
from interfaces.attachments import EventPhotoView

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="api:schema"), name="redoc"),
    path("events", events.EventListCreateView.as_view(), name="events"),
    path("events/<str:code>", events.EventDetailView.as_view(), name="event"),
    path("events/<str:code>/history", events.EventHistoryView.as_view(), name="event-history"),
    path("events/<str:code>/photos/<int:attachment_id>", EventPhotoView.as_view(), name="event-photo"),
    *[
        path(f"events/<str:code>/{name}", view.as_view(), name=f"event-{name}")
        for name, view in operation_views.OPERATION_VIEWS.items()
    ],
    path("requests", events.PendingRequestsView.as_view(), name="requests"),
    path("requests/<int:pk>/decide", events.RequestDecideView.as_view(), name="request-decide"),
    path("categories", events.CategoryListView.as_view(), name="categories"),
    path("org-units", events.OrgUnitListView.as_view(), name="org-units"),
    path("departments", events.DepartmentListView.as_view(), name="departments"),
    path("routing/simulate", RoutingSimulationView.as_view(), name="routing-simulate"),
    path("dispatch/suggest", DispatchSuggestView.as_view(), name="dispatch-suggest"),
    path("reports/sla", SlaReportView.as_view(), name="sla-report"),
    path("reports/ranking", RankingView.as_view(), name="ranking"),
    path("reports/trend", TrendView.as_view(), name="report-trend"),
    path("indicators", vitals.IndicatorListCreateView.as_view(), name="indicators"),
    path("indicators/<str:code>", vitals.IndicatorDetailView.as_view(), name="indicator"),
    path("sensors", vitals.SensorListCreateView.as_view(), name="sensors"),
    path("sensors/<str:code>", vitals.SensorDetailView.as_view(), name="sensor"),
    path("readings", vitals.ReadingsView.as_view(), name="readings"),
    path("warnings", vitals.WarningListView.as_view(), name="warnings"),
    path("warnings/<int:pk>", vitals.WarningDetailView.as_view(), name="warning"),
    path("reports/dispatch-accuracy", DispatchAccuracyView.as_view(), name="dispatch-accuracy"),
    path("department-system/events", dept.DepartmentInboxView.as_view(), name="dept-inbox"),
    *[
        path(f"department-system/events/<str:code>/{slug}", view.as_view(), name=f"dept-{slug}")
        for slug, view in dept.DEPARTMENT_VIEWS.items()
    ],
]
