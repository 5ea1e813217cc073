"""The image's HEALTHCHECK: exit 0 when this container is healthy.

A web container (gunicorn, the `web` command) is healthy when it answers
/healthz; worker, beat and migrate containers have no web server and are
healthy while they run (Kubernetes ignores HEALTHCHECK and probes them its own
way). ONSALE_HEALTHCHECK=auto (default) tells them apart by process 1's
command line; `on` always asks /healthz, `off` never does. Standard library
only, so it costs the image nothing.
"""

from __future__ import annotations

import http.client
import os
import sys
from pathlib import Path


def serves_http() -> bool:
    mode = os.environ.get("ONSALE_HEALTHCHECK", "auto")
    if mode in ("on", "off"):
        return mode == "on"
    try:
        command = Path("/proc/1/cmdline").read_bytes()
    except OSError:
        return True
    return b"gunicorn" in command


def main() -> int:
    if not serves_http():
        return 0
    port = int(os.environ.get("PORT", "8000"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        # "localhost" is in every ALLOWED_HOSTS the deployment sets; the
        # container's own address may not be.
        connection.request("GET", "/healthz", headers={"Host": "localhost"})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"healthz unreachable: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"healthz answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
