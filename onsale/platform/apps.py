from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "onsale.platform"
    # "platform" would clash with nothing inside Django, but it reads badly
    # next to the standard library module; the label says whose it is.
    label = "onsale_platform"
    verbose_name = "onsale platform"
