from django.apps import AppConfig


class SeatselectionConfig(AppConfig):
    name = "onsale.seatselection"
    label = "seatselection"
