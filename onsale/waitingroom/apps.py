from django.apps import AppConfig


class WaitingroomConfig(AppConfig):
    name = "onsale.waitingroom"
    label = "waitingroom"
