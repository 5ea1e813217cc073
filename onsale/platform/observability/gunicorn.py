"""gunicorn's error and access logs in the JSON shape of every other line
(`logger_class` in gunicorn.conf.py)."""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from onsale.platform.observability.logging import (
    ContextFilter,
    JsonFormatter,
    process_role_set,
)


class GunicornLogger(glogging.Logger):
    """gunicorn's error and access logs as JSON lines of the same shape.

    The access line is `{"logger": "gunicorn.access", "message": "access",
    "method", "path", "status", "duration_ms", "response_bytes",
    "request_id"}`: the server's record of each response, next to the
    application's own `onsale.request` line (which also knows the route and
    the user).
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        process_role_set("web", override=False)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
                if not any(isinstance(item, ContextFilter) for item in handler.filters):
                    handler.addFilter(ContextFilter())

    def access(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> None:
        if not self.access_log.handlers:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        request_id = next(
            (value for name, value in resp.headers if name.lower() == "x-request-id"),
            None,
        )
        try:
            self.access_log.info(
                "access",
                extra={
                    "method": environ.get("REQUEST_METHOD"),
                    "path": environ.get("PATH_INFO"),
                    "status": status,
                    "duration_ms": round(request_time.total_seconds() * 1000, 2),
                    "response_bytes": getattr(resp, "sent", None),
                    "request_id": request_id,
                },
            )
        except Exception:
            self.error_log.exception("could not write the access log line")
