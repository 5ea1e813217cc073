from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _account_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Signals: the only hook that sees every save (admin, changepassword,
    # set_password, services). Saving only last_login (each sign-in) changes
    # nothing the cache holds.
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    from onsale.usermgmt import services

    services.account_cache_invalidate(user_id=instance.pk)


class UsermgmtConfig(AppConfig):
    name = "onsale.usermgmt"
    label = "usermgmt"

    def ready(self) -> None:
        from onsale.usermgmt.models import User

        post_save.connect(_account_changed, sender=User, dispatch_uid="account-cache")
        post_delete.connect(
            _account_changed, sender=User, dispatch_uid="account-cache-delete"
        )
