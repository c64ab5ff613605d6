"""gunicorn's access log as one JSON object per request, from gunicorn's own atoms, with the path
only: the query string can carry a PaymentIntent's client secret (Stripe's return URL)."""

import json
import logging
from datetime import UTC, datetime


class AccessJsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        atoms = record.args if isinstance(record.args, dict) else {}
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds"
                ),
                "remote": atoms.get("h"),
                "method": atoms.get("m"),
                "path": atoms.get("U"),
                "status": _int(atoms.get("s")),
                "bytes": _int(atoms.get("B")),
                "duration_ms": _int(atoms.get("M")),
                "user_agent": atoms.get("a"),
            }
        )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
