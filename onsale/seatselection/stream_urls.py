"""The live seat stream's URL: the `seatstream` service mounts only this (and
the platform's probes), served by the ASGI application; see streams.py."""

from django.urls import path

from onsale.seatselection import streams

app_name = "seatstream"

urlpatterns = [
    path(
        "api/v1/events/<int:event_id>/seats/stream",
        streams.seat_stream,
        name="api-seat-stream",
    ),
]
