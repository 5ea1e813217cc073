"""Per-request (or per-task) context carried into every log line.

The request middleware and the Celery task signals set these variables; the
log formatter and `telemetry.record_event` read them. Context variables (not
thread locals) so that a value set in one request never leaks into another
request served by the same thread, and so eager tasks restore their caller's
context when they finish.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)
event_id_var: ContextVar[int | None] = ContextVar("event_id", default=None)
# The route template of the current request ("/api/v1/events/<int:event_id>/queue"),
# known once the URL has been resolved.
route_var: ContextVar[str | None] = ContextVar("route", default=None)
task_name_var: ContextVar[str | None] = ContextVar("task_name", default=None)
task_id_var: ContextVar[str | None] = ContextVar("task_id", default=None)
task_retries_var: ContextVar[int | None] = ContextVar("task_retries", default=None)


def event_bind(event_id: int | str | None) -> None:
    """Tag the rest of this request or task with an event id (for views whose
    URL names it otherwise than `event_id`, and for tasks given an event)."""
    event_id_var.set(as_int(event_id))


def user_bind(user_id: int | str | None) -> None:
    """Tag the rest of this request or task with a user id."""
    user_id_var.set(as_int(user_id))


def as_int(value: int | str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class TaskContext:
    """The tokens to restore when a task finishes (eager tasks run inside the
    caller's request, whose context must come back afterwards)."""

    tokens: tuple[Token[Any], ...]

    def restore(self) -> None:
        for token in reversed(self.tokens):
            token.var.reset(token)


def task_context_enter(
    *,
    task_name: str | None,
    task_id: str | None,
    retries: int | None,
    request_id: str | None,
    user_id: int | None,
    event_id: int | None,
) -> TaskContext:
    """Set the context of a task that starts running. The caller's request id
    travels in the task headers, so a task's lines join the request's in ELK;
    without one, the task id is the request id."""
    tokens: list[Token[Any]] = [
        task_name_var.set(task_name),
        task_id_var.set(task_id),
        task_retries_var.set(retries),
        request_id_var.set(request_id or task_id),
        user_id_var.set(user_id),
        event_id_var.set(event_id),
        route_var.set(None),
    ]
    return TaskContext(tokens=tuple(tokens))


def context_snapshot() -> dict[str, Any]:
    """The current context as log fields (None where unknown)."""
    return {
        "request_id": request_id_var.get(),
        "user_id": user_id_var.get(),
        "event_id": event_id_var.get(),
        "route": route_var.get(),
        "task_name": task_name_var.get(),
        "task_id": task_id_var.get(),
        "task_retries": task_retries_var.get(),
    }
