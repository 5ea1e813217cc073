from django.urls import path

from onsale.waitingroom import apis, views

app_name = "waitingroom"

urlpatterns = [
    path(
        "api/v1/events/<int:event_id>/queue",
        apis.QueueJoinApi.as_view(),
        name="api-queue-join",
    ),
    path(
        "api/v1/events/<int:event_id>/queue/status",
        apis.QueueStatusApi.as_view(),
        name="api-queue-status",
    ),
    path(
        "api/v1/events/<int:event_id>/queue/me",
        apis.QueueMeApi.as_view(),
        name="api-queue-me",
    ),
    path(
        "api/v1/events/<int:event_id>/queue/done",
        apis.QueueDoneApi.as_view(),
        name="api-queue-done",
    ),
    path(
        "api/v1/events/<int:event_id>/queue/reclaim",
        apis.QueueReclaimApi.as_view(),
        name="api-queue-reclaim",
    ),
    path(
        "api/v1/events/<int:event_id>/queue/rejoin",
        apis.QueueRejoinApi.as_view(),
        name="api-queue-rejoin",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>/waitingroom",
        apis.OrganizerWaitingRoomApi.as_view(),
        name="api-organizer-waitingroom",
    ),
    path(".well-known/jwks.json", apis.JwksApi.as_view(), name="jwks"),
    path("events/<int:event_id>/queue", views.queue_page, name="queue-page"),
]
