"""Top-ups: create (moves money, sent once), status and limits (reads).

Contract: Cloudflare's API reference (https://developers.cloudflare.com/api/, AI Gateway billing):
"topup", "topup/status" and "topup/limits".
"""

from __future__ import annotations

import logging
from typing import Any

from cloudflare_client.parsing import MalformedResult, accepted_by, require, require_object
from cloudflare_client.transport import Transport
from cloudflare_client.types import (
    STATUS_COMPLETED,
    STATUS_PENDING,
    TopUpCreated,
    TopUpLimits,
    TopUpStatus,
)

logger = logging.getLogger(__name__)


def billing_path(account_id: str, rest: str) -> str:
    return f"/accounts/{account_id}/ai-gateway/billing/{rest}"


class TopUps:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    # Reference: POST /accounts/{account_id}/ai-gateway/billing/topup
    def create(
        self, account_id: str, *, amount_cents: int, payment_method_id: str | None = None
    ) -> TopUpCreated:
        """Ask Cloudflare to charge `amount_cents`. Sent once, never retried: a lost answer is
        `CloudflareOutcomeUnknown`, because a saved card may already have been charged."""
        if type(amount_cents) is not int:
            raise TypeError("amount_cents must be an int")
        body: dict[str, Any] = {"amount": amount_cents}
        if payment_method_id:
            body["payment_method_id"] = payment_method_id
        return self._transport.send_once(
            "POST", billing_path(account_id, "topup"), body, parse=parse_created, moves_money=True
        )

    # Reference: POST /accounts/{account_id}/ai-gateway/billing/topup/status
    def status(self, account_id: str, payment_intent_id: str) -> TopUpStatus:
        return self._transport.read(
            "POST",
            billing_path(account_id, "topup/status"),
            {"payment_intent_id": payment_intent_id},
            parse=parse_status,
        )

    def limits(self, account_id: str) -> TopUpLimits:
        return parse_limits(self.limits_result(account_id))

    # Reference: GET /accounts/{account_id}/ai-gateway/billing/topup/limits
    def limits_result(self, account_id: str) -> Any:
        """Cloudflare's `result` as sent, once parse_limits accepts it."""
        path = billing_path(account_id, "topup/limits")
        return self._transport.read("GET", path, parse=accepted_by(parse_limits))


def parse_created(result: object) -> TopUpCreated:
    result = require_object(result)
    payment_intent_id = require(result, "payment_intent_id", (str,))
    if not payment_intent_id:
        raise MalformedResult("empty 'payment_intent_id'")
    client_secret = require(result, "client_secret", (str,), nullable=True)
    onboarding = require(result, "onboarding", (bool,))
    # brand/last4 are null when there is no saved card; tolerate them being left out entirely.
    brand = result.get("brand")
    last4 = result.get("last4")
    if brand is not None and not isinstance(brand, str):
        raise MalformedResult("'brand' is not a string")
    if last4 is not None and not (isinstance(last4, str) and len(last4) == 4 and last4.isdigit()):
        raise MalformedResult("'last4' is not four digits")
    return TopUpCreated(
        payment_intent_id=payment_intent_id,
        client_secret=client_secret or None,
        onboarding=onboarding,
        brand=brand or None,
        last4=last4,
    )


def parse_status(result: object) -> TopUpStatus:
    result = require_object(result)
    payment_intent_id = require(result, "payment_intent_id", (str,))
    status = require(result, "status", (str,))
    if status not in (STATUS_COMPLETED, STATUS_PENDING):
        # Anything new is treated as "not completed": never mark money as arrived on a guess.
        logger.warning("Unknown top-up status %r treated as pending", status)
        status = STATUS_PENDING
    return TopUpStatus(payment_intent_id=payment_intent_id, status=status)


def parse_limits(result: object) -> TopUpLimits:
    result = require_object(result)
    min_cents = require(result, "min_cents", (int,))
    max_cents = require(result, "max_cents", (int,))
    if not 0 < min_cents <= max_cents:
        raise MalformedResult("limits are not an increasing pair of positive integers")
    currency = require(result, "currency", (str,))
    return TopUpLimits(currency=currency.lower(), min_cents=min_cents, max_cents=max_cents)
