"""Cloudflare's billing behaviour, emulated on top of localstripe.

What Cloudflare does (as documented) and how it is modelled here:
- one Stripe customer per Cloudflare account, created on the first top-up;
- no saved card: a PaymentIntent is created and its `client_secret` returned, `onboarding`
  false (not yet onboarded), no brand/last4;
- a saved default card: it is charged server-side (`client_secret` null, brand/last4 set), unless
  the card needs 3-D Secure, in which case `client_secret` comes back with brand/last4;
- `payment_intent_id` is documented as an invoice id (`in_...`): the sandbox mints such ids and
  maps them to the PaymentIntent, so clients that treat it as opaque keep working;
- status is `completed` once the PaymentIntent succeeded and `settle_seconds` have passed.

It also serves the Stripe.js stand-in: confirming a PaymentIntent with a new card needs the
secret key (localstripe accepts a publishable key only for 3-D Secure completion), so the card
goes to `confirm_for_browser`, which creates the PaymentMethod, attaches it and confirms.
"""

import logging
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass

import requests
import stripe

from sandbox import contract
from sandbox.config import STRIPE_SECRET_KEY, SandboxConfig

logger = logging.getLogger(__name__)

CLIENT_SECRET_RE = re.compile(r"^(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$")
# The fields real Stripe.js gets back for a PaymentIntent retrieved with its client secret.
PUBLIC_PAYMENT_INTENT_FIELDS = (
    "id",
    "object",
    "amount",
    "currency",
    "status",
    "client_secret",
    "created",
    "livemode",
    "payment_method",
    "next_action",
    "last_payment_error",
    "capture_method",
)


@dataclass
class TopUpRecord:
    payment_intent_id: str  # the `in_...` id handed to the client
    stripe_payment_intent: str
    account_id: str


class BrowserPaymentError(Exception):
    """An error for the Stripe.js stand-in, shaped like Stripe's `{error: {...}}`."""

    def __init__(self, http_status: int, type_: str, code: str, message: str, payment_intent=None):
        super().__init__(message)
        self.http_status = http_status
        self.error = {"type": type_, "code": code, "message": message}
        if payment_intent is not None:
            self.error["payment_intent"] = payment_intent


def _mint_invoice_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "in_" + "".join(secrets.choice(alphabet) for _ in range(24))


class BillingEmulator:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.stripe = stripe.StripeClient(
            STRIPE_SECRET_KEY,
            base_addresses={"api": config.localstripe_url},
            max_network_retries=0,
        )
        self._lock = threading.RLock()
        self._customers: dict[str, str] = {}
        self._topups: dict[str, TopUpRecord] = {}

    # --- control ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every customer, card and payment (localstripe's store included)."""
        with self._lock:
            requests.delete(f"{self.config.localstripe_url}/_config/data", timeout=5)
            self._customers.clear()
            self._topups.clear()

    # --- Cloudflare endpoints -----------------------------------------------------------------

    def limits(self, account_id: str) -> dict:
        self._check_account(account_id)
        return {
            "currency": "usd",
            "min_cents": self.config.min_cents,
            "max_cents": self.config.max_cents,
        }

    def create_topup(self, account_id: str, body) -> dict:
        self._check_account(account_id)
        if not isinstance(body, dict):
            raise contract.invalid(contract.INVALID_BODY, "Request body must be a JSON object")
        amount = body.get("amount")
        if "amount" not in body:
            raise contract.invalid(contract.INVALID_AMOUNT, "amount is required")
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

        with self._lock:
            customer_id = self._customer_for(account_id)
        method = self._method_to_charge(customer_id, requested_method)
        params = {
            "amount": amount,
            "currency": "usd",
            "customer": customer_id,
            "metadata": {"cloudflare_account_id": account_id},
        }
        if method is None:
            intent = self.stripe.v1.payment_intents.create(params=params)
        else:
            try:
                intent = self.stripe.v1.payment_intents.create(
                    params={**params, "payment_method": method.id, "confirm": True}
                )
            except stripe.CardError as exc:
                raise contract.invalid(
                    contract.CARD_DECLINED, exc.user_message or "Your card was declined.", 402
                ) from exc

        invoice_id = _mint_invoice_id()
        with self._lock:
            self._topups[invoice_id] = TopUpRecord(invoice_id, intent.id, account_id)

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

    def topup_status(self, account_id: str, body) -> dict:
        self._check_account(account_id)
        if not isinstance(body, dict) or not isinstance(body.get("payment_intent_id"), str):
            raise contract.invalid(contract.INVALID_BODY, "payment_intent_id is required")
        invoice_id = body["payment_intent_id"]
        with self._lock:
            record = self._topups.get(invoice_id)
        if record is None or record.account_id != account_id:
            raise contract.invalid(
                contract.TOPUP_NOT_FOUND, f"No top-up found for payment_intent_id {invoice_id}", 404
            )
        intent = self.stripe.v1.payment_intents.retrieve(record.stripe_payment_intent)
        return {"payment_intent_id": invoice_id, "status": self._status_of(intent)}

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

    def _customer_for(self, account_id: str) -> str:
        customer_id = self._customers.get(account_id)
        if customer_id is None:
            customer = self.stripe.v1.customers.create(
                params={
                    "description": f"Cloudflare account {account_id}",
                    "metadata": {"cloudflare_account_id": account_id},
                }
            )
            customer_id = self._customers[account_id] = customer.id
        return customer_id

    def _method_to_charge(self, customer_id: str, requested: str | None):
        if requested is not None:
            try:
                method = self.stripe.v1.payment_methods.retrieve(requested)
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
        customer = self.stripe.v1.customers.retrieve(customer_id).to_dict()
        default = (customer.get("invoice_settings") or {}).get("default_payment_method")
        return self.stripe.v1.payment_methods.retrieve(default) if default else None

    # --- Stripe.js stand-in -------------------------------------------------------------------

    def _intent_for_secret(self, client_secret) -> stripe.PaymentIntent:
        match = (
            CLIENT_SECRET_RE.match(client_secret or "") if isinstance(client_secret, str) else None
        )
        if not match:
            raise BrowserPaymentError(
                400, "invalid_request_error", "resource_missing", "Invalid client_secret."
            )
        try:
            intent = self.stripe.v1.payment_intents.retrieve(match.group(1))
        except stripe.InvalidRequestError as exc:
            raise BrowserPaymentError(
                404, "invalid_request_error", "resource_missing", "No such payment_intent."
            ) from exc
        if not secrets.compare_digest(intent.client_secret, client_secret):
            raise BrowserPaymentError(
                404, "invalid_request_error", "resource_missing", "No such payment_intent."
            )
        return intent

    def public_intent(self, client_secret: str) -> dict:
        return self._public(self._intent_for_secret(client_secret))

    @staticmethod
    def _public(intent) -> dict:
        everything = intent.to_dict(for_json=True)
        data = {key: everything.get(key) for key in PUBLIC_PAYMENT_INTENT_FIELDS}
        # localstripe may expand the PaymentMethod; Stripe.js gets its id.
        method = data.get("payment_method")
        if isinstance(method, dict):
            data["payment_method"] = method.get("id")
        return data

    def confirm_for_browser(self, client_secret: str, card: dict | None) -> dict:
        """Confirm a PaymentIntent from the browser, with a new card or the one already on it.

        Returns the public PaymentIntent; a decline raises BrowserPaymentError with the intent.
        """
        intent = self._intent_for_secret(client_secret)
        if intent.status in ("succeeded", "processing", "canceled"):
            # As Stripe: a settled intent cannot be confirmed again (e.g. from a second tab).
            raise BrowserPaymentError(
                400,
                "invalid_request_error",
                "payment_intent_unexpected_state",
                f"You cannot confirm this PaymentIntent because it has a status of "
                f"{intent.status}.",
                self._public(intent),
            )
        if intent.status == "requires_action" and card is None:
            # Nothing to confirm: 3-D Secure is finished by the browser against localstripe.
            return self._public(intent)

        if card is not None:
            method = self._attach_new_card(intent, card)
            # localstripe will not re-confirm an intent whose last charge failed or that awaits
            # 3-D Secure, while Stripe does: clear that state (localstripe's update takes JSON).
            requests.post(
                f"{self.config.localstripe_url}/v1/payment_intents/{intent.id}",
                json={"payment_method": method.id, "latest_charge": None, "next_action": None},
                headers={"Authorization": f"Bearer {STRIPE_SECRET_KEY}"},
                timeout=5,
            ).raise_for_status()
        elif not intent.to_dict().get("payment_method"):
            raise BrowserPaymentError(
                400,
                "invalid_request_error",
                "payment_intent_unexpected_state",
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                self._public(intent),
            )

        try:
            intent = self.stripe.v1.payment_intents.confirm(intent.id)
        except stripe.CardError as exc:
            intent = self.stripe.v1.payment_intents.retrieve(intent.id)
            raise self._declined(exc, intent) from exc
        if intent.status == "succeeded":
            self._make_default(intent)
        return self._public(intent)

    def _attach_new_card(self, intent, card: dict):
        try:
            method = self.stripe.v1.payment_methods.create(
                params={
                    "type": "card",
                    "card": {
                        "number": str(card.get("number", "")),
                        "exp_month": int(card.get("exp_month", 0)),
                        "exp_year": int(card.get("exp_year", 0)),
                        "cvc": str(card.get("cvc", "")),
                    },
                }
            )
        except (stripe.InvalidRequestError, ValueError, TypeError) as exc:
            raise BrowserPaymentError(
                400, "card_error", "invalid_number", "Your card number is invalid."
            ) from exc
        try:
            # Cloudflare keeps the card for the next top-up: it is saved to the customer.
            self.stripe.v1.payment_methods.attach(method.id, params={"customer": intent.customer})
        except stripe.CardError as exc:
            raise self._declined(exc, intent) from exc
        return method

    def _declined(self, exc: stripe.CardError, intent) -> BrowserPaymentError:
        return BrowserPaymentError(
            402,
            "card_error",
            exc.code or "card_declined",
            exc.user_message or "Your card was declined.",
            self._public(intent),
        )

    def make_default_after_authentication(self, client_secret: str) -> dict:
        """Called by the stand-in after 3-D Secure: a succeeded card becomes the default."""
        intent = self._intent_for_secret(client_secret)
        if intent.status == "succeeded":
            self._make_default(intent)
        return self._public(intent)

    def _make_default(self, intent) -> None:
        method = intent.to_dict().get("payment_method")
        method_id = method.get("id") if isinstance(method, dict) else method
        if method_id and intent.customer:
            self.stripe.v1.customers.update(
                intent.customer, params={"invoice_settings": {"default_payment_method": method_id}}
            )
