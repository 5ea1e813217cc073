from django.apps import AppConfig


class WaitingroomConfig(AppConfig):
    name = "onsale.waitingroom"
    label = "waitingroom"

    def ready(self) -> None:
        # A missing or unreadable signing key stops the process at start, not
        # at the first admitted fan.
        from onsale.platform.observability.metrics import register_queue_state_provider
        from onsale.waitingroom.selectors import queue_states_list
        from onsale.waitingroom.signing import keyring

        keyring()
        register_queue_state_provider(queue_states_list, name="waitingroom")
