from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "onsale.checkout"
    label = "checkout"
