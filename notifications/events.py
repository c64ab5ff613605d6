"""The events a team can be told about, by every channel alike. Each is written once to the
outbox (notifications.services.notify) by the code that changed the state it reports."""

from django.db import models


class EventType(models.TextChoices):
    BALANCE_LOW = "balance.low", "The balance fell below a threshold"
    AUTO_TOPUP_FAILED = "auto_topup.failed", "Auto top-up failed"
    AUTO_TOPUP_DISABLED = "auto_topup.disabled", "Auto top-up was turned off by Cloudflare"
    AUTO_TOPUP_CHARGED = "auto_topup.charged", "Auto top-up charged the card"
    TOPUP_COMPLETED = "topup.completed", "A top-up completed"
    TOPUP_FAILED = "topup.failed", "A top-up failed"
    TOPUP_OUTCOME_UNKNOWN = "topup.outcome_unknown", "A top-up ended with its outcome unknown"
    TOPUP_WAITING_FOR_FINANCE = (
        "topup.waiting_for_finance",
        "A top-up waited for finance too long",
    )
    TEST = "test", "Test event (sent from the notifications page)"
