"""Reads."""

from collections.abc import Iterable
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import CloudflareAccount
from accounts.snapshots import account_invoice
from cloudflare_client import Invoice
from topups.models import TopUp
from topups.states import FINAL_STATES, TopUpState


def topup_get(*, account: CloudflareAccount, pk: int) -> TopUp | None:
    """The account's top-up `pk`; another tenant's id is simply not there."""
    return (
        TopUp.objects.select_related("account", "created_by").filter(pk=pk, account=account).first()
    )


def topup_list_recent(*, account_ids: Iterable[int], limit: int = 5) -> QuerySet[TopUp]:
    return TopUp.objects.filter(account_id__in=account_ids).select_related("account")[:limit]


def topup_list(
    *,
    account_ids: Iterable[int],
    state: str = "",
    created_from: date | None = None,
    created_to: date | None = None,
    creator: User | None = None,
) -> QuerySet[TopUp]:
    """Top-ups of the accounts `account_ids`, newest first. The caller has checked that the user
    is a member of each (accounts.access): another tenant's rows are never asked for."""
    topups = TopUp.objects.filter(account_id__in=account_ids)
    if state:
        topups = topups.filter(state=state)
    topups = created_between(topups, created_from, created_to)
    if creator is not None:
        topups = topups.filter(created_by=creator)
    return topups.select_related("account", "created_by", "confirmed_by")


def created_between(
    topups: QuerySet[TopUp], start: date | None, end: date | None
) -> QuerySet[TopUp]:
    """Top-ups created on UTC days from `start` to `end`, both included, either open."""
    if start:
        topups = topups.filter(created_at__date__gte=start)
    if end:
        topups = topups.filter(created_at__date__lte=end)
    return topups


def topup_creator_list(*, account_ids: Iterable[int]) -> QuerySet[User]:
    """The people who started a top-up on the accounts `account_ids` (for the creator filter):
    one index probe per user, however many top-ups there are."""
    started = TopUp.objects.filter(account_id__in=account_ids, created_by=OuterRef("pk"))
    return get_user_model().objects.filter(Exists(started)).order_by("username")


def topup_open_duplicate(
    *, account: CloudflareAccount, user: User, amount_cents: int
) -> TopUp | None:
    """This user's unfinished top-up of the same amount from the last few minutes, if any:
    most likely the same intent in another tab."""
    return (
        TopUp.objects.filter(
            account=account,
            created_by=user,
            amount_cents=amount_cents,
            state__in=[TopUpState.CREATING, TopUpState.AWAITING_PAYMENT, TopUpState.PROCESSING],
            created_at__gte=timezone.now() - timedelta(minutes=15),
        )
        .order_by("-created_at")
        .first()
    )


def amounts_agree(topup: TopUp, invoice: Invoice) -> bool:
    """Whether the invoice is for the top-up's amount (and, once paid, was paid that much)."""
    paid_as_due = invoice.status != "paid" or invoice.amount_paid_cents == invoice.amount_due_cents
    return invoice.amount_due_cents == topup.amount_cents and paid_as_due


def topup_invoice(*, topup: TopUp) -> Invoice | None:
    """Cloudflare's invoice of a settled top-up (its id is create's `payment_intent_id`), from
    the account's invoices held, or looked for further back; None while pending, or when it
    cannot be read."""
    if not topup.payment_intent_id or topup.state not in FINAL_STATES:
        return None
    return account_invoice(
        account=topup.account, invoice_id=topup.payment_intent_id, made_after=topup.created_at
    )
