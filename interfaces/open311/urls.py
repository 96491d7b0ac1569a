from django.urls import path, re_path

from interfaces.open311 import views as open311

FMT = r"(?P<fmt>[a-z]+)"

urlpatterns = [
    path("", open311.root, name="open311-root"),
    re_path(rf"^discovery\.{FMT}$", open311.discovery, name="open311-discovery"),
    re_path(rf"^services\.{FMT}$", open311.service_list, name="open311-services"),
    re_path(rf"^services/(?P<code>[^/.]+)\.{FMT}$", open311.service_definition, name="open311-service"),
    re_path(rf"^requests\.{FMT}$", open311.request_list, name="open311-requests"),
    re_path(rf"^requests/(?P<request_id>[^/.]+)\.{FMT}$", open311.request_detail, name="open311-request"),
    re_path(rf"^tokens/(?P<token>[^/.]+)\.{FMT}$", open311.token_detail, name="open311-token"),
    re_path(rf"^servicerequestupdates\.{FMT}$", open311.request_updates, name="open311-updates"),
]
