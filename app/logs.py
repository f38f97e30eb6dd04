"""Structured logs: one JSON object a line, times in the business zone, a request id on every
line of a request, and no full tracking code anywhere (uvicorn's access log included).

Standard library only: a `logging.Formatter` that writes JSON, a context variable for the
request id (set by the request middleware in app.main), and uvicorn's own log config pointed
at the same formatter.
"""

import json
import logging
import logging.config
import re
import traceback
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# A tracking code (16 characters of the unambiguous alphabet, any case) wherever it appears:
# in a path (/api/v1/reports/{code}), a query string or a message. The first four characters
# stay, enough to tell two requests apart, far too few to read the report.
_CODE_CHARACTER = "[2-9A-HJKMNP-Za-hjkmnp-z]"
TRACKING_CODE = re.compile(
    rf"(?<![0-9A-Za-z])({_CODE_CHARACTER}{{4}}){_CODE_CHARACTER}{{12}}(?![0-9A-Za-z])"
)
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

# LogRecord's own attributes; anything else on a record came in through `extra=`.
# uvicorn's color_message repeats the message with terminal colours.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
}


def mask_tracking_codes(text: str) -> str:
    return TRACKING_CODE.sub(r"\1************", text)


def accepted_request_id(header: str | None) -> str | None:
    """A client's X-Request-ID if it is sane (short, printable, no spaces), else None."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return None


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: time, level, logger, message, request_id, extras, exception."""

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        super().__init__()
        self._tz = ZoneInfo(timezone)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, self._tz).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # uvicorn passes (client address, method, path with query, HTTP version, status).
            client, method, path, _version, status = record.args
            path = mask_tracking_codes(str(path))
            entry.update(
                message=f"{method} {path} {status}",
                client=client,
                method=method,
                path=path,
                status=status,
            )
        else:
            entry["message"] = mask_tracking_codes(record.getMessage())
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in entry and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exception"] = mask_tracking_codes(
                "".join(traceback.format_exception(*record.exc_info))
            )
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(timezone: str, level: str = "INFO") -> dict[str, Any]:
    """A logging.config dict for the service and uvicorn alike (uvicorn's `log_config`)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "timezone": timezone}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # uvicorn's loggers go to the root handler, in the same format.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
            "apscheduler": {"level": "WARNING"},
            # Reading the revision for every /readyz probe would log two lines each time.
            "alembic.runtime.migration": {"level": "WARNING"},
        },
    }


def configure_logging(timezone: str, level: str = "INFO") -> None:
    """JSON lines on stderr for every logger of this process (the CLI and the scheduler)."""
    logging.config.dictConfig(log_config(timezone, level))
