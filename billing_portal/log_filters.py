"""Logging filters. Stripe appends `payment_intent_client_secret` to the return URL of
redirect-based payments; request logs must never keep it."""

import logging
import re

SECRET_IN_URL = re.compile(r"(payment_intent_client_secret|client_secret)=[^&\s\"']+")


def redact(text: str) -> str:
    return SECRET_IN_URL.sub(r"\1=[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
