from rest_framework import generics, serializers

from .models import Ticket


class TicketSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "title", "category", "latitude", "longitude", "status", "created_at"]
        read_only_fields = ["id", "status", "created_at"]


class TicketCreate(generics.CreateAPIView):
    serializer_class = TicketSerializer

    def perform_create(self, serializer):
        serializer.save(reporter=self.request.user)
