"""Switches the New Relic agent on when a license key or config file is given.

With neither, nothing is imported into the request path and nothing is sent.
The web image may also start under `newrelic-admin run-program`, which does
the same from outside; calling `initialize()` twice is harmless.
"""

from __future__ import annotations

import os


def newrelic_enabled() -> bool:
    return bool(
        os.environ.get("NEW_RELIC_LICENSE_KEY")
        or os.environ.get("NEW_RELIC_CONFIG_FILE")
    )


def newrelic_initialize() -> bool:
    """Initialise the agent if configured; report whether it was."""
    if not newrelic_enabled():
        return False
    import newrelic.agent

    config_file = os.environ.get("NEW_RELIC_CONFIG_FILE") or None
    newrelic.agent.initialize(config_file)
    return True
