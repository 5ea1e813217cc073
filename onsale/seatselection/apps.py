from django.apps import AppConfig


class SeatselectionConfig(AppConfig):
    name = "onsale.seatselection"
    label = "seatselection"

    def ready(self) -> None:
        # The waiting room (an app below this one) asks whether anything is
        # left before it gives a lapsed turn back or a new place at the back.
        from onsale.seatselection.selectors import event_sold_out_get
        from onsale.waitingroom.stock import sold_out_probe_register

        sold_out_probe_register(lambda event_id: event_sold_out_get(event_id=event_id))
