"""Auto top-up: when the balance falls below a threshold, Cloudflare charges an amount to the
default card.

Contract: Cloudflare's API reference (https://developers.cloudflare.com/api/, AI Gateway billing),
"topup/config". Cloudflare documents the writes (POST, DELETE) as dashboard-only: API tokens are
refused with 403, which arrives here as CloudflareAuthError for the caller to explain. A write is
sent once (it changes what the card may be charged later); a lost answer is CloudflareUnavailable,
and the next read tells.
"""

from __future__ import annotations

from cloudflare_client.minimums import AUTO_TOPUP_THRESHOLD_MIN_CENTS, TOPUP_MIN_CENTS
from cloudflare_client.parsing import (
    MalformedResult,
    cents,
    optional,
    require_object,
    timestamp,
)
from cloudflare_client.topups import billing_path
from cloudflare_client.transport import Transport
from cloudflare_client.types import AutoTopUp


class AutoTopUps:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    # Reference: GET /accounts/{account_id}/ai-gateway/billing/topup/config
    def get(self, account_id: str) -> AutoTopUp:
        path = billing_path(account_id, "topup/config")
        return self._transport.read("GET", path, parse=parse_auto_topup)

    # Reference: POST /accounts/{account_id}/ai-gateway/billing/topup/config
    def set(self, account_id: str, *, amount_cents: int, threshold_cents: int) -> None:
        if type(amount_cents) is not int or type(threshold_cents) is not int:
            raise TypeError("amount_cents and threshold_cents must be ints")
        if amount_cents < TOPUP_MIN_CENTS or threshold_cents < AUTO_TOPUP_THRESHOLD_MIN_CENTS:
            raise ValueError(
                f"Cloudflare's minimums: amount {TOPUP_MIN_CENTS} cents, "
                f"threshold {AUTO_TOPUP_THRESHOLD_MIN_CENTS} cents"
            )
        self._transport.send_once(
            "POST",
            billing_path(account_id, "topup/config"),
            {"amount": amount_cents, "threshold": threshold_cents},
            parse=_parse_written,
            moves_money=False,
        )

    # Reference: DELETE /accounts/{account_id}/ai-gateway/billing/topup/config
    def delete(self, account_id: str) -> None:
        self._transport.send_once(
            "DELETE",
            billing_path(account_id, "topup/config"),
            parse=lambda result: None,
            moves_money=False,
        )


def parse_auto_topup(result: object) -> AutoTopUp:
    result = require_object(result)
    missing = {"amount", "threshold", "disabledReason", "error", "lastFailedAt"} - set(result)
    if missing:  # all present, each may be null
        raise MalformedResult(f"missing {', '.join(sorted(missing))}")
    return AutoTopUp(
        amount_cents=cents(result, "amount", nullable=True),
        threshold_cents=cents(result, "threshold", nullable=True),
        disabled_reason=optional(result, "disabledReason", (str,)),
        error=optional(result, "error", (str,)),
        last_failed_at=timestamp(result["lastFailedAt"]),
    )


def _parse_written(result: object) -> None:
    result = require_object(result)
    cents(result, "amount")
    cents(result, "threshold")
