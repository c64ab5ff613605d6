"""The sandbox's payments, kept in localstripe and driven with the `stripe` package (async).

Shared by the Cloudflare emulator (which creates top-ups) and the Stripe.js stand-in's backend
(which confirms them in the browser's stead). What localstripe cannot do the way Stripe does is
emulated here, in one place:
- Stripe lets a PaymentIntent be confirmed again with a new card after a decline or a failed
  3-D Secure; localstripe does not. The sandbox then moves the payment to a fresh PaymentIntent
  (same amount, customer and metadata) and follows that chain wherever the first one is asked
  about, so from the outside it is one payment, as on Stripe.
- Cloudflare documents `payment_intent_id` as an invoice id (`in_...`): the sandbox mints such
  ids and maps them to the PaymentIntent.

Everything runs on the event loop's one thread, so the maps need no lock; state is only read or
written between awaits, and no lock is ever held over a network call.
"""

import secrets
import string
from dataclasses import dataclass

import stripe

from sandbox.config import STRIPE_SECRET_KEY

CREATED_PAYMENT_FIELDS = ("amount", "currency", "customer", "metadata")


@dataclass
class TopUpRecord:
    invoice_id: str  # the `in_...` id handed to the client as `payment_intent_id`
    account_id: str
    payment_intent: str  # the first PaymentIntent; see Payments.current
    invoiced: bool = False  # entered in the account's books as a paid invoice


def mint_invoice_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "in_" + "".join(secrets.choice(alphabet) for _ in range(24))


class Payments:
    def __init__(self, localstripe_url: str):
        self.http_client = stripe.AIOHTTPClient()
        self.stripe = stripe.StripeClient(
            STRIPE_SECRET_KEY,
            base_addresses={"api": localstripe_url},
            http_client=self.http_client,
            max_network_retries=0,
        )
        self._customers: dict[str, str] = {}  # Cloudflare account id -> Stripe customer
        self.topups: dict[str, TopUpRecord] = {}  # invoice id -> record
        self._replaced_by: dict[str, str] = {}  # PaymentIntent id -> the one that took over

    async def close(self) -> None:
        await self.http_client.close_async()

    async def forget_everything(self) -> None:
        """Empty localstripe's store and every map of the sandbox."""
        try:
            await self.stripe.raw_request_async("delete", "/_config/data")
        except stripe.APIError as exc:
            # localstripe answers the flush with an empty 200, which is not JSON.
            if exc.http_status != 200:
                raise
        self._customers.clear()
        self.topups.clear()
        self._replaced_by.clear()

    async def customer_for(self, account_id: str) -> str:
        """One Stripe customer per Cloudflare account, even when two creates race for it."""
        if account_id in self._customers:
            return self._customers[account_id]
        created = await self.stripe.v1.customers.create_async(
            params={
                "description": f"Cloudflare account {account_id}",
                "metadata": {"cloudflare_account_id": account_id},
            }
        )
        winner = self._customers.setdefault(account_id, created.id)
        if winner != created.id:  # another create got there first while we awaited
            await self.stripe.v1.customers.delete_async(created.id)
        return winner

    async def default_card(self, account_id: str) -> dict | None:
        """`{"brand", "last4"}` of the account's saved default card, if it has one."""
        method = await self.default_method(account_id)
        return {"brand": method.card.brand, "last4": method.card.last4} if method else None

    async def charge_default_card(self, account_id: str, amount: int, *, description: str):
        """Charge the saved default card server-side. False when no card is saved; a decline
        raises stripe.CardError."""
        method = await self.default_method(account_id)
        if method is None:
            return False
        await self.stripe.v1.payment_intents.create_async(
            params={
                "amount": amount,
                "currency": "usd",
                "customer": self._customers[account_id],
                "payment_method": method.id,
                "confirm": True,
                "metadata": {"cloudflare_account_id": account_id, "purpose": description},
            }
        )
        return True

    async def default_method(self, account_id: str):
        customer_id = self._customers.get(account_id)
        if customer_id is None:
            return None
        customer = (await self.stripe.v1.customers.retrieve_async(customer_id)).to_dict()
        default = (customer.get("invoice_settings") or {}).get("default_payment_method")
        return await self.stripe.v1.payment_methods.retrieve_async(default) if default else None

    def current(self, payment_intent_id: str) -> str:
        """The PaymentIntent that carries this payment now (see the module doc)."""
        while payment_intent_id in self._replaced_by:
            payment_intent_id = self._replaced_by[payment_intent_id]
        return payment_intent_id

    async def retrieve_current(self, payment_intent_id: str) -> stripe.PaymentIntent:
        return await self.stripe.v1.payment_intents.retrieve_async(self.current(payment_intent_id))

    async def replace(self, intent: stripe.PaymentIntent, payment_method: str):
        """A fresh PaymentIntent for the same payment, with `payment_method`, not yet confirmed."""
        everything = intent.to_dict()
        params = {key: everything[key] for key in CREATED_PAYMENT_FIELDS if everything.get(key)}
        replacement = await self.stripe.v1.payment_intents.create_async(
            params={**params, "payment_method": payment_method}
        )
        self._replaced_by[intent.id] = replacement.id
        return replacement
