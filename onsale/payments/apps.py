from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """The payment gateway interface and the webhooks it receives. Imports
    only onsale.platform: orders and checkout sit above it."""

    name = "onsale.payments"
    label = "payments"
