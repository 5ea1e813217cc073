from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "onsale.platform"
    # "platform" would clash with nothing inside Django, but it reads badly
    # next to the standard library module; the label says whose it is.
    label = "onsale_platform"
    verbose_name = "onsale platform"

    def ready(self) -> None:
        # Celery's autodiscovery looks for an app's `tasks` module only; the
        # platform's beat task lives in its observability package.
        from onsale.platform.observability import tasks  # noqa: F401
