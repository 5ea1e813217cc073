from django.urls import path

from onsale.seatselection import apis, console, console_apis, views

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
    path("events/<int:event_id>/seats", views.seat_page, name="seats"),
]

# The organizer console (APIs and pages), kept in their own modules.
urlpatterns += [
    path(
        "api/v1/organizer/events/<int:event_id>/audit",
        console_apis.OrganizerAuditApi.as_view(),
        name="api-organizer-audit",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>/seatmap.csv",
        console_apis.OrganizerSeatMapCsvApi.as_view(),
        name="api-organizer-seatmap-csv",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>/sales.csv",
        console_apis.OrganizerSalesCsvApi.as_view(),
        name="api-organizer-sales-csv",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>/live",
        console_apis.OrganizerLiveApi.as_view(),
        name="api-organizer-live",
    ),
    path("organizer/", console.console_event_list, name="console-events"),
    path(
        "organizer/events/<int:event_id>/",
        console.console_event_edit,
        name="console-event-edit",
    ),
    path(
        "organizer/events/<int:event_id>/live",
        console.console_control_room,
        name="console-control-room",
    ),
]
