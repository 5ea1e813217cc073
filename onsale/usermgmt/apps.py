from django.apps import AppConfig


class UsermgmtConfig(AppConfig):
    name = "onsale.usermgmt"
    label = "usermgmt"
