from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Installed so Django finds the project's own management commands
    (demo_load); it has no models."""

    name = "onsale.config"
    label = "onsale_config"
    verbose_name = "onsale project wiring"
