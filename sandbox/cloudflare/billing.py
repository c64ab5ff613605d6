"""Cloudflare's billing behaviour, emulated on top of localstripe.

What Cloudflare does (as documented) and how it is modelled here:
- one Stripe customer per Cloudflare account, created on the first top-up;
- no saved card: a PaymentIntent is created and its `client_secret` returned, `onboarding`
  false (not yet onboarded), no brand/last4;
- a saved default card: it is charged server-side (`client_secret` null, brand/last4 set), unless
  the card needs 3-D Secure, in which case `client_secret` comes back with brand/last4;
- `payment_intent_id` is documented as an invoice id (`in_...`): see sandbox.payments;
- status is `completed` once the PaymentIntent succeeded and `settle_seconds` have passed; for
  any other invoice of the account's books (a top-up made in Cloudflare's dashboard, an auto
  top-up) it is `completed` when the invoice is paid, else `pending`, the contract's only values.
"""

import time

import stripe

from sandbox.cloudflare import contract
from sandbox.cloudflare.account import AccountEmulator
from sandbox.config import SandboxConfig
from sandbox.payments import Payments, TopUpRecord, mint_invoice_id


class BillingEmulator:
    def __init__(self, config: SandboxConfig, payments: Payments, books: AccountEmulator):
        self.config = config
        self.payments = payments
        self.books = books

    def limits(self, account_id: str) -> dict:
        self._check_account(account_id)
        return {
            "currency": "usd",
            "min_cents": self.config.min_cents,
            "max_cents": self.config.max_cents,
        }

    async def create_topup(self, account_id: str, body) -> dict:
        self._check_account(account_id)
        amount, requested_method = self._validate_create(body)
        stripe_v1 = self.payments.stripe.v1
        customer_id = await self.payments.customer_for(account_id)
        method = await self._method_to_charge(account_id, customer_id, requested_method)
        params = {
            "amount": amount,
            "currency": "usd",
            "customer": customer_id,
            "metadata": {"cloudflare_account_id": account_id},
        }
        if method is None:
            intent = await stripe_v1.payment_intents.create_async(params=params)
        else:
            try:
                intent = await stripe_v1.payment_intents.create_async(
                    params={**params, "payment_method": method.id, "confirm": True}
                )
            except stripe.CardError as exc:
                raise contract.invalid(
                    contract.CARD_DECLINED, exc.user_message or "Your card was declined.", 402
                ) from exc

        invoice_id = mint_invoice_id()
        self.payments.topups[invoice_id] = TopUpRecord(invoice_id, account_id, intent.id)
        if method is None:
            return {
                "client_secret": intent.client_secret,
                "onboarding": False,
                "payment_intent_id": invoice_id,
                "brand": None,
                "last4": None,
            }
        return {
            # Charged server-side unless the bank wants the customer (3-D Secure).
            "client_secret": intent.client_secret if intent.status == "requires_action" else None,
            "onboarding": True,
            "payment_intent_id": invoice_id,
            "brand": method.card.brand,
            "last4": method.card.last4,
        }

    def _validate_create(self, body) -> tuple[int, str | None]:
        if not isinstance(body, dict):
            raise contract.invalid(contract.INVALID_BODY, "Request body must be a JSON object")
        if "amount" not in body:
            raise contract.invalid(contract.INVALID_AMOUNT, "amount is required")
        amount = body["amount"]
        if type(amount) is not int:
            raise contract.invalid(
                contract.INVALID_AMOUNT, "amount must be an integer number of cents"
            )
        if amount < self.config.min_cents:
            raise contract.invalid(
                contract.INVALID_AMOUNT, f"amount must be at least {self.config.min_cents} cents"
            )
        if amount > self.config.max_cents:
            raise contract.invalid(
                contract.INVALID_AMOUNT, f"amount must be at most {self.config.max_cents} cents"
            )
        requested_method = body.get("payment_method_id")
        if requested_method is not None and (
            not isinstance(requested_method, str) or not requested_method
        ):
            raise contract.invalid(
                contract.INVALID_PAYMENT_METHOD, "payment_method_id must be a non-empty string"
            )
        return amount, requested_method

    async def topup_status(self, account_id: str, body) -> dict:
        self._check_account(account_id)
        if not isinstance(body, dict) or not isinstance(body.get("payment_intent_id"), str):
            raise contract.invalid(contract.INVALID_BODY, "payment_intent_id is required")
        invoice_id = body["payment_intent_id"]
        record = self.payments.topups.get(invoice_id)
        if record is not None and record.account_id == account_id:
            intent = await self.payments.retrieve_current(record.payment_intent)
            return {"payment_intent_id": invoice_id, "status": self._status_of(intent)}
        entry = self.books.invoice(account_id, invoice_id)
        if entry is None:
            raise contract.invalid(
                contract.TOPUP_NOT_FOUND, f"No top-up found for payment_intent_id {invoice_id}", 404
            )
        return {
            "payment_intent_id": invoice_id,
            "status": "completed" if entry.status == "paid" else "pending",
        }

    def _status_of(self, intent) -> str:
        if intent.status != "succeeded":
            return "pending"
        charge = intent.to_dict().get("latest_charge")
        charged_at = charge.get("created", 0) if isinstance(charge, dict) else 0
        if time.time() - charged_at < self.config.settle_seconds:
            return "pending"
        return "completed"

    def _check_account(self, account_id: str) -> None:
        if account_id not in self.config.accounts:
            raise contract.account_forbidden()

    async def _method_to_charge(self, account_id: str, customer_id: str, requested: str | None):
        stripe_v1 = self.payments.stripe.v1
        if requested is not None:
            try:
                method = await stripe_v1.payment_methods.retrieve_async(requested)
            except stripe.InvalidRequestError as exc:
                raise contract.invalid(
                    contract.INVALID_PAYMENT_METHOD, "payment_method_id was not found"
                ) from exc
            if method.customer != customer_id:
                raise contract.invalid(
                    contract.INVALID_PAYMENT_METHOD,
                    "payment_method_id does not belong to this account",
                )
            return method
        return await self.payments.default_method(account_id)
