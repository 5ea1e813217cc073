from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "onsale.orders"
    label = "orders"
