"""The account's credit balance, card on file and auto top-up state.

Contract: Cloudflare's API reference (https://developers.cloudflare.com/api/, AI Gateway billing)
and its published schema `aig-billing_GetCreditBalanceResult`. Every amount is in cents and may be
fractional.
"""

from __future__ import annotations

from typing import Any

from cloudflare_client.auto_topup import parse_auto_topup
from cloudflare_client.parsing import (
    MalformedResult,
    accepted_by,
    cents,
    require,
    require_object,
)
from cloudflare_client.topups import billing_path
from cloudflare_client.transport import Transport
from cloudflare_client.types import CreditBalance, PaymentMethod


class Balance:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def get(self, account_id: str) -> CreditBalance:
        return parse_balance(self.result(account_id))

    # Reference: GET /accounts/{account_id}/ai-gateway/billing/credit-balance
    def result(self, account_id: str) -> Any:
        """Cloudflare's `result` as sent, once parse_balance accepts it."""
        path = billing_path(account_id, "credit-balance")
        return self._transport.read("GET", path, parse=accepted_by(parse_balance))


def parse_balance(result: object) -> CreditBalance:
    result = require_object(result)
    method = require(result, "payment_method", (dict,), nullable=True)
    first = result.get("first_topup_success")
    if first is not None and type(first) is not bool:
        raise MalformedResult("'first_topup_success' is not a boolean")
    return CreditBalance(
        balance_cents=cents(result, "balance"),
        has_default_payment_method=require(result, "has_default_payment_method", (bool,)),
        payment_method=_parse_method(method) if method else None,
        auto_topup=parse_auto_topup(require(result, "topup_config", (dict,))),
        first_topup_success=first,
    )


def _parse_method(method: dict[str, Any]) -> PaymentMethod:
    return PaymentMethod(brand=str(method.get("brand") or ""), last4=str(method.get("last4") or ""))
