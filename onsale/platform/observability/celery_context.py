"""Celery's side of the logs: Django's LOGGING in worker and beat, the process
role, and the request context carried from the request that queued a task to
the lines the task writes.

The context travels as message headers (`onsale_request_id`, `onsale_user_id`,
`onsale_event_id`) set at publish and read back before the task runs.
django-structlog's Celery integration does the same, but it is not installed
and would bring structlog along with it for this one job; these few signal
handlers are the whole of it.
"""

from __future__ import annotations

import contextlib
import logging
import logging.config
from typing import TYPE_CHECKING, Any

from onsale.platform import context
from onsale.platform.observability.logging import process_role_set

if TYPE_CHECKING:
    from celery import Celery

# The project's Celery app, registered by onsale/config/celery.py when it is
# created (platform imports no project wiring); /metrics and the ops status
# read the queue names from its routes.
_app: Celery | None = None


def celery_app_register(app: Celery) -> None:
    """Name the project's Celery app for the platform's readers."""
    global _app
    _app = app


def celery_app() -> Celery | None:
    """The registered Celery app, or None before config/celery.py ran."""
    return _app


_task_contexts: dict[str, context.TaskContext] = {}
_HEADER_PREFIX = "onsale_"


def _celery_setup_logging(**_: Any) -> None:
    # Connecting to `setup_logging` stops Celery from configuring logging (and
    # from redirecting stdout into a plain-text logger): Django's LOGGING is the
    # one configuration for web, worker and beat.
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    # Python warnings become log lines too (Django does the same at setup).
    logging.captureWarnings(True)


def _celery_before_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is None:
        return
    for name, var in (
        ("request_id", context.request_id_var),
        ("user_id", context.user_id_var),
        ("event_id", context.event_id_var),
    ):
        value = var.get()
        if value is not None:
            headers.setdefault(_HEADER_PREFIX + name, value)


def _celery_task_prerun(
    task_id: str | None = None,
    task: Any = None,
    kwargs: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    request = getattr(task, "request", None)

    def header(name: str) -> Any:
        value = getattr(request, _HEADER_PREFIX + name, None)
        if value is None:
            headers = getattr(request, "headers", None) or {}
            value = headers.get(_HEADER_PREFIX + name)
        return value

    event_id = (kwargs or {}).get("event_id", header("event_id"))
    if event_id is None:
        event_id = context.event_id_var.get()
    user_id = header("user_id")
    if user_id is None:
        user_id = context.user_id_var.get()
    entered = context.task_context_enter(
        task_name=getattr(task, "name", None),
        task_id=task_id,
        retries=getattr(request, "retries", None),
        request_id=header("request_id") or context.request_id_var.get(),
        user_id=context.as_int(user_id),
        event_id=context.as_int(event_id),
    )
    if task_id:
        _task_contexts[task_id] = entered


def _celery_task_postrun(task_id: str | None = None, **_: Any) -> None:
    entered = _task_contexts.pop(task_id, None) if task_id else None
    if entered is None:
        return
    # Post-run in another context than pre-run (a pool quirk) cannot reset
    # the tokens; the task's context then dies with its own context.
    with contextlib.suppress(ValueError):
        entered.restore()


def _celery_worker_role(**_: Any) -> None:
    process_role_set("worker")


def _celery_beat_role(**_: Any) -> None:
    process_role_set("beat")


def celery_logging_connect() -> None:
    """Wire Celery's signals: JSON logging from Django's LOGGING in worker and
    beat, the task context (name, id, retries, and the publishing request's
    id, user and event) on every line a task writes, and the process role."""
    from celery import signals

    signals.setup_logging.connect(
        _celery_setup_logging, weak=False, dispatch_uid="onsale-logging"
    )
    signals.before_task_publish.connect(
        _celery_before_publish, weak=False, dispatch_uid="onsale-context-publish"
    )
    signals.task_prerun.connect(
        _celery_task_prerun, weak=False, dispatch_uid="onsale-context-prerun"
    )
    signals.task_postrun.connect(
        _celery_task_postrun, weak=False, dispatch_uid="onsale-context-postrun"
    )
    signals.celeryd_init.connect(
        _celery_worker_role, weak=False, dispatch_uid="onsale-role-worker"
    )
    signals.beat_init.connect(
        _celery_beat_role, weak=False, dispatch_uid="onsale-role-beat"
    )
