"""Reads of the finance desk: the queue of top-ups needing a person, by kind, with counts."""

import operator
from datetime import date
from functools import reduce

from django.db.models import Count, Q, QuerySet

from accounts.models import CloudflareAccount
from topups.models import TopUp
from topups.selectors import created_between
from topups.states import TopUpState

# kind -> (label, which top-ups). "attention" is all of them; "all" lists every top-up.
QUEUE_KINDS = {
    "unknown": ("Outcome unknown", Q(state=TopUpState.UNKNOWN)),
    "stale": ("Needs attention", Q(state=TopUpState.STALE)),
    "failed_after_payment": (
        "Failed after a payment was created",
        Q(state=TopUpState.FAILED, payment_intent_id__isnull=False, resolved_at__isnull=True)
        & ~Q(invoice_status="paid"),
    ),
    # As reconciliation last read the invoices.
    "not_charged_but_paid": (
        "Resolved as not charged, but Cloudflare's invoice is paid",
        Q(state=TopUpState.FAILED, invoice_status="paid"),
    ),
    "unconfirmed": (
        "Completed, not confirmed",
        Q(state=TopUpState.COMPLETED, confirmed_at__isnull=True),
    ),
}
ATTENTION = reduce(operator.or_, (condition for _, condition in QUEUE_KINDS.values()))
KIND_CHOICES = [
    ("attention", "Everything needing attention"),
    *[(kind, label) for kind, (label, _) in QUEUE_KINDS.items()],
    ("all", "All top-ups"),
]


def finance_topup_list(
    *,
    accounts: QuerySet[CloudflareAccount],
    kind: str = "attention",
    account: CloudflareAccount | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
) -> QuerySet[TopUp]:
    """Top-ups of `accounts` (the user's finance accounts), narrowed by the filters."""
    topups = _in_scope(accounts, account, created_from, created_to)
    if kind == "attention":
        topups = topups.filter(ATTENTION)
    elif kind in QUEUE_KINDS:
        topups = topups.filter(QUEUE_KINDS[kind][1])
    return topups.select_related(
        "account", "created_by", "recorded_by", "confirmed_by", "resolved_by"
    )


def finance_queue_counts(
    *,
    accounts: QuerySet[CloudflareAccount],
    account: CloudflareAccount | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
) -> dict[str, int]:
    """How many top-ups of each kind, in one query."""
    counts = _in_scope(accounts, account, created_from, created_to).aggregate(
        **{kind: Count("pk", filter=condition) for kind, (_, condition) in QUEUE_KINDS.items()},
        all=Count("pk"),
    )
    counts["attention"] = sum(counts[kind] for kind in QUEUE_KINDS)
    return counts


def _in_scope(
    accounts: QuerySet[CloudflareAccount],
    account: CloudflareAccount | None,
    created_from: date | None,
    created_to: date | None,
) -> QuerySet[TopUp]:
    topups = TopUp.objects.filter(account__in=accounts)
    if account is not None:
        topups = topups.filter(account=account)
    return created_between(topups, created_from, created_to)
