from django.urls import path

from dispatch import department_api as dept
from dispatch.api import RoutingSimulationView, SlaReportView

app_name = "api"

urlpatterns = [
    path("routing/simulate", RoutingSimulationView.as_view(), name="routing-simulate"),
    path("reports/sla", SlaReportView.as_view(), name="sla-report"),
    path("department-system/events", dept.DepartmentInboxView.as_view(), name="dept-inbox"),
    path("department-system/events/<str:code>/accept", dept.DepartmentAcceptView.as_view(), name="dept-accept"),
    path("department-system/events/<str:code>/return", dept.DepartmentReturnView.as_view(), name="dept-return"),
    path(
        "department-system/events/<str:code>/extension", dept.DepartmentExtensionView.as_view(), name="dept-extension"
    ),
    path("department-system/events/<str:code>/result", dept.DepartmentResultView.as_view(), name="dept-result"),
]
