from django.urls import path

from onsale.seatselection import apis, views

app_name = "seatselection"

urlpatterns = [
    path(
        "api/v1/events/<int:event_id>/seats",
        apis.SeatMapApi.as_view(),
        name="api-seatmap",
    ),
    path(
        "api/v1/events/<int:event_id>/seats/availability",
        apis.AvailabilityApi.as_view(),
        name="api-availability",
    ),
    path(
        "api/v1/events/<int:event_id>/holds",
        apis.HoldCreateApi.as_view(),
        name="api-hold-create",
    ),
    path(
        "api/v1/events/<int:event_id>/holds/current",
        apis.HoldCurrentApi.as_view(),
        name="api-hold-current",
    ),
    path(
        "api/v1/events/<int:event_id>/holds/<int:hold_id>",
        apis.HoldDetailApi.as_view(),
        name="api-hold-detail",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>/seatmap",
        apis.OrganizerSeatMapApi.as_view(),
        name="api-organizer-seatmap",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>/seatmap/blocked",
        apis.OrganizerSeatBlockApi.as_view(),
        name="api-organizer-seat-block",
    ),
    path("events/<int:event_id>/", views.event_page, name="event"),
    path("events/<int:event_id>/seats", views.seat_page, name="seats"),
]
