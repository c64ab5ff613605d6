"""Log lines as JSON objects, one a line, each with its time (UTC) and what an operator filters on.

gunicorn's access log is built from gunicorn's own atoms, with the path only: the query string can
carry a PaymentIntent's client secret (Stripe's return URL). Its client address follows the proxy
chain by the rule of sign-in throttling. gunicorn's own lines (start-up, workers, errors) are
redacted the same way, since they can quote a request's URL."""

import json
import logging
from datetime import UTC, datetime
from types import SimpleNamespace

from accounts.lockout import sign_in_client_address
from billing_portal.log_filters import redact


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry)


class AccessJsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        atoms = record.args if isinstance(record.args, dict) else {}
        return json.dumps(
            {
                "time": _time(record),
                "remote": _client_address(atoms),
                "method": atoms.get("m"),
                "path": atoms.get("U"),
                "status": _int(atoms.get("s")),
                "bytes": _int(atoms.get("B")),
                "duration_ms": _int(atoms.get("M")),
                "user_agent": atoms.get("a"),
            }
        )


def _client_address(atoms: dict) -> str | None:
    # The atoms hold the request's WSGI environ, as "{key}e" in lower case.
    meta = {
        "REMOTE_ADDR": atoms.get("h"),
        "HTTP_X_FORWARDED_FOR": atoms.get("{http_x_forwarded_for}e", ""),
    }
    return sign_in_client_address(SimpleNamespace(META=meta))


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
