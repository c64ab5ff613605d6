"""The Stripe.js stand-in's backend: what real Stripe.js asks of Stripe's API with a publishable
key, answered from localstripe.

Confirming a PaymentIntent with a new card needs the secret key (localstripe accepts a
publishable key only for 3-D Secure completion), so the card comes here, is created, saved to
the customer (Cloudflare keeps it for the next top-up) and the payment confirmed.
"""

import re
import secrets

import stripe

from sandbox.payments import Payments

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
SETTLED = ("succeeded", "processing", "canceled")


class BrowserPaymentError(Exception):
    """An error for the Stripe.js stand-in, shaped like Stripe's `{error: {...}}`."""

    def __init__(self, http_status: int, type_: str, code: str, message: str, payment_intent=None):
        super().__init__(message)
        self.http_status = http_status
        self.error = {"type": type_, "code": code, "message": message}
        if payment_intent is not None:
            self.error["payment_intent"] = payment_intent


def public(intent) -> dict:
    everything = intent.to_dict(for_json=True)
    data = {key: everything.get(key) for key in PUBLIC_PAYMENT_INTENT_FIELDS}
    # localstripe may expand the PaymentMethod; Stripe.js gets its id.
    method = data.get("payment_method")
    if isinstance(method, dict):
        data["payment_method"] = method.get("id")
    return data


def _unexpected_state(message: str, intent) -> BrowserPaymentError:
    return BrowserPaymentError(
        400, "invalid_request_error", "payment_intent_unexpected_state", message, public(intent)
    )


class StripeJsBackend:
    def __init__(self, payments: Payments):
        self.payments = payments
        self.stripe = payments.stripe.v1

    async def intent_for_secret(self, client_secret) -> stripe.PaymentIntent:
        """The payment a client secret opens (its current PaymentIntent), or Stripe's 404."""
        match = CLIENT_SECRET_RE.match(client_secret) if isinstance(client_secret, str) else None
        if not match:
            raise BrowserPaymentError(
                400, "invalid_request_error", "resource_missing", "Invalid client_secret."
            )
        missing = BrowserPaymentError(
            404, "invalid_request_error", "resource_missing", "No such payment_intent."
        )
        try:
            first = await self.stripe.payment_intents.retrieve_async(match.group(1))
        except stripe.InvalidRequestError as exc:
            raise missing from exc
        if not secrets.compare_digest(first.client_secret, client_secret):
            raise missing
        if self.payments.current(first.id) == first.id:
            return first
        return await self.payments.retrieve_current(first.id)

    async def public_intent(self, client_secret: str) -> dict:
        return public(await self.intent_for_secret(client_secret))

    async def confirm(self, client_secret: str, card: dict | None) -> dict:
        """Confirm a payment from the browser, with a new card or the one already on it.

        Returns the public PaymentIntent; a decline raises BrowserPaymentError with the intent.
        """
        intent = await self.intent_for_secret(client_secret)
        if intent.status in SETTLED:
            # As Stripe: a settled intent cannot be confirmed again (e.g. from a second tab).
            raise _unexpected_state(
                f"You cannot confirm this PaymentIntent because it has a status of "
                f"{intent.status}.",
                intent,
            )
        if intent.status == "requires_action" and card is None:
            # Nothing to confirm: 3-D Secure is finished by the browser against localstripe.
            return public(intent)
        if card is not None:
            intent = await self._with_new_card(intent, card)
        elif not intent.to_dict().get("payment_method"):
            raise _unexpected_state(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                intent,
            )
        try:
            intent = await self.stripe.payment_intents.confirm_async(intent.id)
        except stripe.CardError as exc:
            intent = await self.stripe.payment_intents.retrieve_async(intent.id)
            raise self._declined(exc, intent) from exc
        if intent.status == "succeeded":
            await self._make_default(intent)
        return public(intent)

    async def _with_new_card(self, intent, card: dict):
        method = await self._attach_new_card(intent, card)
        everything = intent.to_dict()
        if everything.get("latest_charge") or everything.get("next_action"):
            # Declined, or waiting for 3-D Secure: Stripe takes the new card on the same intent,
            # localstripe cannot (see sandbox.payments).
            replacement = await self.payments.replace(intent, method.id)
            await self._cancel_quietly(intent)
            return replacement
        return await self.stripe.payment_intents.update_async(
            intent.id, params={"payment_method": method.id}
        )

    async def _cancel_quietly(self, intent) -> None:
        if intent.status == "requires_action":
            await self.stripe.payment_intents.cancel_async(intent.id)

    async def _attach_new_card(self, intent, card: dict):
        try:
            method = await self.stripe.payment_methods.create_async(
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
            await self.stripe.payment_methods.attach_async(
                method.id, params={"customer": intent.customer}
            )
        except stripe.CardError as exc:
            raise self._declined(exc, intent) from exc
        return method

    @staticmethod
    def _declined(exc: stripe.CardError, intent) -> BrowserPaymentError:
        return BrowserPaymentError(
            402,
            "card_error",
            exc.code or "card_declined",
            exc.user_message or "Your card was declined.",
            public(intent),
        )

    async def after_authentication(self, client_secret: str) -> dict:
        """Called by the stand-in after 3-D Secure: a succeeded card becomes the default."""
        intent = await self.intent_for_secret(client_secret)
        if intent.status == "succeeded":
            await self._make_default(intent)
        return public(intent)

    async def _make_default(self, intent) -> None:
        method = intent.to_dict().get("payment_method")
        method_id = method.get("id") if isinstance(method, dict) else method
        if method_id and intent.customer:
            await self.stripe.customers.update_async(
                intent.customer, params={"invoice_settings": {"default_payment_method": method_id}}
            )
