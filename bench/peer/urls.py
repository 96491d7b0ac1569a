from django.urls import path
from tickets.views import TicketCreate

urlpatterns = [path("tickets", TicketCreate.as_view())]
