from django.urls import path

from onsale.checkout import apis, views

app_name = "checkout"

urlpatterns = [
    path("api/v1/checkout", apis.CheckoutApi.as_view(), name="api-checkout"),
    path(
        "api/v1/payments/webhook",
        apis.PaymentWebhookApi.as_view(),
        name="api-payments-webhook",
    ),
    path(
        "checkout/<int:event_id>/<int:hold_id>/",
        views.checkout_page,
        name="checkout-page",
    ),
]
