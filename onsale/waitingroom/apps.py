from django.apps import AppConfig


class WaitingroomConfig(AppConfig):
    name = "onsale.waitingroom"
    label = "waitingroom"

    def ready(self) -> None:
        # A missing or unreadable signing key stops a serving process at
        # start, not at the first admitted fan. A management command that
        # serves nothing (migrate, check) meets the same error only if it
        # signs or verifies a token.
        from django.conf import settings

        from onsale.platform.observability.metrics import register_queue_state_provider
        from onsale.waitingroom.selectors import queue_states_list
        from onsale.waitingroom.signing import keyring

        if settings.ONSALE_SERVES:
            keyring()
        register_queue_state_provider(queue_states_list, name="waitingroom")
