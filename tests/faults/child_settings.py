"""Settings of a drill's child process: the test settings on the running
test's database (REDIS_URL and REDIS_KEY_PREFIX come from the environment)."""

from __future__ import annotations

import os

from onsale.config.settings_test import *  # noqa: F403
from onsale.config.settings_test import DATABASES

DATABASES["default"]["NAME"] = os.environ["ONSALE_FAULT_DATABASE_NAME"]
