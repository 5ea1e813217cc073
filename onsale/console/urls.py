"""The organizer console's URLs: its JSON API beside the organizer event API
(same /api/v1/organizer/events/{id}/ prefix) and its pages under /organizer/.
Mounted by the seatselection service, whose routes these have always been."""

from django.urls import path

from onsale.console import apis, pages

app_name = "console"

urlpatterns = [
    path(
        "api/v1/organizer/events/<int:event_id>/audit",
        apis.OrganizerAuditApi.as_view(),
        name="api-organizer-audit",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>/seatmap.csv",
        apis.OrganizerSeatMapCsvApi.as_view(),
        name="api-organizer-seatmap-csv",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>/sales.csv",
        apis.OrganizerSalesCsvApi.as_view(),
        name="api-organizer-sales-csv",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>/live",
        apis.OrganizerLiveApi.as_view(),
        name="api-organizer-live",
    ),
    path("organizer/", pages.console_event_list, name="console-events"),
    path(
        "organizer/events/<int:event_id>/",
        pages.console_event_edit,
        name="console-event-edit",
    ),
    path(
        "organizer/events/<int:event_id>/live",
        pages.console_control_room,
        name="console-control-room",
    ),
]
