from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "onsale.console"
    label = "console"

    def ready(self) -> None:
        from onsale.console.live import seat_gauges_collect
        from onsale.platform.observability.metrics import register_collector

        # Capacity, sold, held and orders by state on /metrics and in New
        # Relic: the oversell alert reads these (docs/observability.md). The
        # collector keeps the name it had before the console was its own app:
        # it is the `collector` label of `onsale_collector_up` and an entry of
        # the ops status' `failed_collectors`, which dashboards match.
        register_collector(seat_gauges_collect, name="seatselection")
