from django.apps import AppConfig


class SeatselectionConfig(AppConfig):
    name = "onsale.seatselection"
    label = "seatselection"

    def ready(self) -> None:
        from onsale.platform.observability.metrics import register_collector
        from onsale.seatselection.live import seat_gauges_collect

        # Capacity, sold, held and orders by state on /metrics and in New
        # Relic: the oversell alert reads these (docs/observability.md).
        register_collector(seat_gauges_collect, name="seatselection")
