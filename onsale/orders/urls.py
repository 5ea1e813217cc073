from django.urls import path

from onsale.orders import apis, views

app_name = "orders"

urlpatterns = [
    path("api/v1/orders", apis.OrderListApi.as_view(), name="api-order-list"),
    path(
        "api/v1/orders/<int:order_id>",
        apis.OrderDetailApi.as_view(),
        name="api-order-detail",
    ),
    path(
        "api/v1/orders/<int:order_id>/cancel",
        apis.OrderCancelApi.as_view(),
        name="api-order-cancel",
    ),
    path(
        "api/v1/orders/<int:order_id>/tickets.pdf",
        apis.OrderPdfApi.as_view(),
        name="api-order-pdf",
    ),
    path(
        "api/v1/tickets/<int:ticket_id>/qr.<str:image_format>",
        apis.TicketQrApi.as_view(),
        name="api-ticket-qr",
    ),
    path(
        "api/v1/organizer/events/<int:event_id>/sales",
        apis.EventSalesApi.as_view(),
        name="api-event-sales",
    ),
    path("orders/", views.order_list_page, name="order-list-page"),
    path("orders/<int:order_id>/", views.order_detail_page, name="order-detail-page"),
    path(
        "orders/<int:order_id>/cancel/",
        views.order_cancel_page,
        name="order-cancel-page",
    ),
]
