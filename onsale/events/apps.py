from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "onsale.events"
    label = "events"
