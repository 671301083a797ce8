"""Log records: one JSON object per line in production, readable lines in debug, each with the request id.

No Django imports: gunicorn's master process uses these too (config/gunicorn.conf.py), before Django is set up.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import datetime, timezone

# The id of the request (or RQ job) this code runs for; "-" outside both. Set by config.middleware.RequestId.
request_id: ContextVar[str] = ContextVar("request_id", default="-")

# Fields a record may carry beyond the message (`logger.info(..., extra={...})`) that the JSON lines keep.
EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "job_id")

# A last line of defence: whatever the code around it does, a value after one of these names is masked.
# (PINs have no such name: they are kept out of log calls altogether, which tests/config/test_logs.py checks.)
_SECRET_VALUE = re.compile(
    r"(?i)\b(authorization|access_token|refresh_token|access_secret|client_secret|secret|password|passwd|sign)"
    r"(\"?'?\s*[:=]\s*\"?'?(?:bearer\s+)?)[^\s\"',;&}]+"
)


# The links that are their own key (a guest's page, a unit's arrival link and calendar export: bookings/guest_urls.py)
# carry the token in the path, which the request line, Django's 404 warnings and a CSRF refusal would otherwise write.
_TOKEN_PATH = re.compile(r"(/(?:g|u|calendar)/)[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(r"\1***", _SECRET_VALUE.sub(r"\1\2***", text))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a request's 4xx/5xx after the middleware returned, with the request attached.
            from_request = getattr(getattr(record, "request", None), "request_id", None)
            record.request_id = from_request if isinstance(from_request, str) else request_id.get()
        return True


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        path = getattr(record, "path", None)
        if isinstance(path, str):
            record.path = redact(path)
        return True


class RefusalsWithoutTraceback(logging.Filter):
    """django.request logs a refused request (403 Permission denied, 400) with the exception's traceback: a refusal
    (another organisation's admin page, a role that may not) is an answer, not a fault. The warning line stays;
    the traceback is left to server errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, known extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        for field in EXTRA_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatException(self, ei: object) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))  # type: ignore[arg-type]


def logging_config(log_format: str, level: str) -> dict[str, object]:
    """The dictConfig for Django's LOGGING (and gunicorn's logconfig_dict): everything to stderr via the root."""
    if log_format not in ("json", "plain"):
        raise ValueError(f"LOG_FORMAT must be json or plain, got {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "config.logs.RequestIdFilter"},
            "redact": {"()": "config.logs.RedactFilter"},
            "refusals_without_traceback": {"()": "config.logs.RefusalsWithoutTraceback"},
        },
        "formatters": {
            "json": {"()": "config.logs.JsonFormatter"},
            "plain": {"()": "config.logs.PlainFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id", "redact"]}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own defaults print to the console in debug and mail admins: one path for all, the root's.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.request": {"filters": ["refusals_without_traceback"]},
            "django.server": {"level": "WARNING"},  # runserver's line per request: ours (doors.request) says it all
            "django.db.backends": {"level": "WARNING"},  # SQL with its parameters: ciphertext, but noise
            "urllib3": {"level": "WARNING"},  # URLs and headers of the Tuya calls at DEBUG
            "axes": {"level": "WARNING"},  # its start-up banner in every process; lockouts are warnings
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
