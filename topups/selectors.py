"""Reads."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Count, Exists, FloatField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import CachedRead, CloudflareAccount, Membership
from accounts.runway import (
    LOW_RUNWAY_DAYS,
    AutoTopUpForecast,
    AutoTopUpHealth,
    Outlook,
    Runway,
    auto_topup_forecast,
    auto_topup_health,
    runway,
)
from accounts.snapshots import (
    GLANCE_READS,
    Snapshot,
    account_invoice,
    account_snapshots_refresh_few,
    snapshot_held,
    snapshot_is_old,
)
from cloudflare_client import CreditBalance, Invoice
from notifications.models import BalanceThreshold
from topups.models import ATTENTION, TopUp
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


# --- the home page: every account at a glance --------------------------------------------------

# Cloudflare reads (a balance or a usage) a home page view may spend on the accounts whose
# figures are due, two accounts' worth: with more, the others show what is held, with its time.
HOME_READS_PER_VIEW = 4


class LowBalance(StrEnum):
    RUN_OUT = "run_out"  # at or below zero
    ALERT = "alert"  # below one of the account's notification thresholds
    RUNWAY = "runway"  # runs out within LOW_RUNWAY_DAYS, and no working auto top-up


@dataclass(frozen=True)
class AccountGlance:
    membership: Membership
    balance: Snapshot[CreditBalance] | None
    balance_old: bool  # older than its age, or a later read failed: the page gives its time
    runway: Runway | None
    auto_topup: AutoTopUpHealth | None
    forecast: AutoTopUpForecast | None
    alert_cents: int | None  # the lowest of the account's thresholds the balance is below
    needs_finance: int | None  # finance members only: its top-ups that need a person

    @property
    def account(self) -> CloudflareAccount:
        return self.membership.account

    @property
    def low(self) -> LowBalance | None:
        if self.runway is None:
            return None
        if self.runway.outlook == Outlook.RUN_OUT:
            return LowBalance.RUN_OUT
        if self.alert_cents is not None:
            return LowBalance.ALERT
        short = self.runway.days_left is not None and self.runway.days_left < LOW_RUNWAY_DAYS
        return LowBalance.RUNWAY if short and self.forecast is None else None

    @property
    def auto_topup_trouble(self) -> bool:
        return self.auto_topup in (AutoTopUpHealth.FAILING, AutoTopUpHealth.DISABLED)


def account_glance_list(*, memberships: list[Membership]) -> list[AccountGlance]:
    """Each account's balance, runway and auto top-up from what the database holds (one query
    for all of them); HOME_READS_PER_VIEW of those due are read afresh first."""
    accounts = [m.account for m in memberships]
    rows = _held_reads(accounts)
    held = {(a, kind): rows.get((a.pk, kind)) for a in accounts for kind in GLANCE_READS}
    if account_snapshots_refresh_few(held=held, limit=HOME_READS_PER_VIEW):
        rows = _held_reads(accounts)
    finance = [m.account_id for m in memberships if m.role == Membership.Role.FINANCE]
    needs_finance = _needing_finance(finance) if finance else {}  # no key: not theirs to do
    now = timezone.now()
    return [
        _glance(
            membership,
            rows.get((membership.account_id, "balance")),
            rows.get((membership.account_id, "usage_day")),
            needs_finance.get(membership.account_id),
            now,
        )
        for membership in memberships
    ]


def _glance(
    membership: Membership,
    balance_row: CachedRead | None,
    usage_row: CachedRead | None,
    needs_finance: int | None,
    now: datetime,
) -> AccountGlance:
    balance = snapshot_held(balance_row) if balance_row else None
    usage = snapshot_held(usage_row) if usage_row else None
    estimate = forecast = health = None
    if balance:
        estimate = runway(
            balance_cents=balance.value.balance_cents,
            daily=usage.value if usage else None,
            now=now,
        )
        health = auto_topup_health(balance.value.auto_topup)
        forecast = auto_topup_forecast(balance=balance.value, estimate=estimate, now=now)
    return AccountGlance(
        membership=membership,
        balance=balance,
        balance_old=balance is not None and snapshot_is_old(balance, "balance"),
        runway=estimate,
        auto_topup=health,
        forecast=forecast,
        alert_cents=getattr(balance_row, "alert_cents", None),  # _held_reads annotates it
        needs_finance=needs_finance,
    )


def _held_reads(accounts: list[CloudflareAccount]) -> dict[tuple[int, str], CachedRead]:
    """The rows held of the accounts' glance reads, each balance with the lowest of its
    account's notification thresholds it is below (compared in the query, so that 50 accounts
    cost one query)."""
    below = BalanceThreshold.objects.filter(
        account_id=OuterRef("account_id"), cents__gt=OuterRef("held_balance")
    ).order_by("cents")
    rows = (
        CachedRead.objects.filter(account_id__in=[a.pk for a in accounts], kind__in=GLANCE_READS)
        .annotate(held_balance=Cast(KT("value__balance"), FloatField()))
        .annotate(alert_cents=Subquery(below.values("cents")[:1]))
    )
    return {(row.account_id, row.kind): row for row in rows}


def _needing_finance(account_ids: list[int]) -> dict[int, int]:
    """How many top-ups of each account need a person at the finance desk (its queue), in one
    query over the few rows that do (their index, on PostgreSQL)."""
    counts = (
        TopUp.objects.filter(account_id__in=account_ids)
        .filter(ATTENTION)
        .order_by()
        .values("account_id")
        .annotate(n=Count("pk"))
    )
    return {pk: 0 for pk in account_ids} | {row["account_id"]: row["n"] for row in counts}
