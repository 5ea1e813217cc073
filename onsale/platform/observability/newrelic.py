"""Switches the New Relic agent on when a license key or config file is given.

With neither, nothing is imported into the request path and nothing is sent.
The web image may also start under `newrelic-admin run-program`, which does
the same from outside; calling `initialize()` twice is harmless.

Everything else in onsale reaches the agent through `newrelic_agent()`, which
is None unless `newrelic_initialize()` switched the agent on in this process:
that one check is all an unmonitored process pays (no import, no call).
"""

from __future__ import annotations

import logging
import os
from types import ModuleType

logger = logging.getLogger(__name__)

# The `newrelic.agent` module once the agent runs in this process, else None.
_agent: ModuleType | None = None


def newrelic_enabled() -> bool:
    return bool(
        os.environ.get("NEW_RELIC_LICENSE_KEY")
        or os.environ.get("NEW_RELIC_CONFIG_FILE")
    )


def newrelic_initialize() -> bool:
    """Initialise the agent if configured; report whether it was."""
    global _agent
    if not newrelic_enabled():
        return False
    import newrelic.agent

    config_file = os.environ.get("NEW_RELIC_CONFIG_FILE") or None
    newrelic.agent.initialize(config_file)
    _agent = newrelic.agent
    return True


def newrelic_agent() -> ModuleType | None:
    """The agent API module when the agent is on in this process, else None."""
    return _agent


def newrelic_trace_id() -> str | None:
    """The distributed trace id of the current transaction, for log lines
    (New Relic's logs-in-context joins on it). None without the agent."""
    agent = _agent
    if agent is None:
        return None
    try:
        trace_id = agent.current_trace_id()
    except Exception:  # the agent must never break a log line
        return None
    return str(trace_id) if trace_id else None


def newrelic_transaction_name(route: str) -> None:
    """Name the current web transaction by its route template, so New Relic
    groups `/events/1/queue` and `/events/2/queue` as one transaction."""
    agent = _agent
    if agent is None:
        return
    try:
        agent.set_transaction_name(route.lstrip("/") or "/", group="Route")
    except Exception:  # naming is cosmetic; never fail a request over it
        logger.debug("could not name the New Relic transaction", exc_info=True)
