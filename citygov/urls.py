from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from interfaces import attachments as event_photos
from interfaces.health import healthz
from interfaces.web import events as event_views
from interfaces.web import queues as dispatch_views
from interfaces.web import ranking as ranking_views
from interfaces.web import reports as report_views
from interfaces.web import supervision as supervision_views
from interfaces.web import vitals as vitals_views
from interfaces.web.dispatch_accuracy import dispatch_accuracy_page
from interfaces.web.home import favicon, home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("report/", event_views.report_event, name="event-report"),
    path("report/hotline/", event_views.report_hotline, name="event-report-hotline"),
    path("report/duplicates", event_views.duplicates_json, name="event-duplicates"),
    path("report/stash/<str:token>", event_views.stashed_photo, name="event-report-stash"),
    path("places/search", event_views.place_search_json, name="place-search"),
    path("mine/", event_views.my_events, name="my-events"),
    path("verify/", event_views.verify_queue, name="verify-queue"),
    path("events/<int:pk>/", event_views.event_detail, name="event-detail"),
    path("events/<int:pk>/act/<slug:name>", event_views.event_action, name="event-action"),
    path("events/<int:pk>/decide/<int:request_id>", event_views.event_decide, name="event-decide"),
    path("events/<int:pk>/extension-deadline", event_views.extension_deadline_json, name="event-extension-deadline"),
    path("events/<int:pk>/reveal", event_views.reveal_contact, name="event-reveal"),
    path("events/<int:pk>/photos/<int:attachment_id>", event_photos.event_photo, name="event-photo"),
    path("console/", dispatch_views.console, name="console"),
    path("console/dispatch/<int:pk>", dispatch_views.quick_dispatch, name="console-quick-dispatch"),
    path("console/bulk-dispatch", dispatch_views.bulk_dispatch, name="console-bulk-dispatch"),
    path("inbox/", dispatch_views.inbox, name="inbox"),
    path("supervise/", supervision_views.supervise, name="supervise"),
    path("supervise/events/", supervision_views.supervise_events, name="supervise-events"),
    path("supervise/urge/<int:pk>", supervision_views.urge, name="supervise-urge"),
    path("notifications/", dispatch_views.notifications, name="notifications"),
    path("notifications/read", dispatch_views.notifications_read, name="notifications-read"),
    path("reports/sla/", report_views.sla_report_page, name="sla-report"),
    path("reports/dispatch-accuracy/", dispatch_accuracy_page, name="dispatch-accuracy"),
    path("reports/sla.csv", report_views.sla_report_csv, name="sla-report-csv"),
    path("reports/sla.xlsx", report_views.sla_report_xlsx, name="sla-report-xlsx"),
    path("reports/trend.json", ranking_views.trend_json, name="report-trend-json"),
    path("reports/ranking/", ranking_views.ranking_page, name="ranking"),
    path("reports/ranking.csv", ranking_views.ranking_csv, name="ranking-csv"),
    path("reports/ranking.xlsx", ranking_views.ranking_xlsx, name="ranking-xlsx"),
    path("vitals/", vitals_views.vitals_dashboard, name="vitals"),
    path("vitals/data.json", vitals_views.vitals_data, name="vitals-data"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("citygov.api_urls")),
    path("open311/v2/", include("interfaces.open311.urls")),
]

# No route serves MEDIA_ROOT, in development or production: photos go through event-photo,
# which checks that the viewer may see the event (interfaces.attachments).

# An outage raised outside a view (a middleware saving the session) is a 503, not a 500.
handler500 = "interfaces.outage.server_error"
