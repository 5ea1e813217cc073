from django.urls import path

from onsale.events import apis

app_name = "events"

urlpatterns = [
    path("api/v1/events", apis.EventListApi.as_view(), name="api-event-list"),
    path(
        "api/v1/events/<int:event_id>",
        apis.EventDetailApi.as_view(),
        name="api-event-detail",
    ),
    path(
        "api/v1/organizer/events",
        apis.OrganizerEventCollectionApi.as_view(),
        name="api-organizer-events",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>",
        apis.OrganizerEventDetailApi.as_view(),
        name="api-organizer-event-detail",
    ),
]
