"""Reads of the finance desk: the queue of top-ups needing a person, by kind, with counts."""

from datetime import date

from django.db.models import Count, QuerySet

from accounts.models import CloudflareAccount
from topups.models import ATTENTION, NEEDS_ATTENTION, TopUp
from topups.selectors import created_between

# kind -> (label, which top-ups). "attention" is all of them; "all" lists every top-up.
QUEUE_KINDS = {
    "unknown": ("Outcome unknown", NEEDS_ATTENTION["unknown"]),
    "stale": ("Needs attention", NEEDS_ATTENTION["stale"]),
    "failed_after_payment": (
        "Failed after a payment was created",
        NEEDS_ATTENTION["failed_after_payment"],
    ),
    "not_charged_but_paid": (
        "Resolved as not charged, but Cloudflare's invoice is paid",
        NEEDS_ATTENTION["not_charged_but_paid"],
    ),
    "unconfirmed": ("Completed, not confirmed", NEEDS_ATTENTION["unconfirmed"]),
}
# Counting every top-up reads every top-up (a second at a million): past this many, the desk
# says "10000+" rather than how many.
COUNT_CAP = 10_000
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
    """How many top-ups of each kind, in one query over the newest COUNT_CAP + 1 needing
    attention (read in the order of their index, which keeps PostgreSQL from planning for the
    hundred thousand it guesses there are); and how many in all, up to COUNT_CAP + 1. A total
    over COUNT_CAP means "more than COUNT_CAP", and then the kinds' counts are at least that."""
    scope = _in_scope(accounts, account, created_from, created_to)
    newest = scope.filter(ATTENTION).order_by("-created_at", "-id")[: COUNT_CAP + 1]
    counts = newest.aggregate(
        **{kind: Count("pk", filter=condition) for kind, (_, condition) in QUEUE_KINDS.items()}
    )
    counts["attention"] = sum(counts[kind] for kind in QUEUE_KINDS)
    counts["all"] = scope.order_by().values("pk")[: COUNT_CAP + 1].count()
    return counts


def _in_scope(
    accounts: QuerySet[CloudflareAccount],
    account: CloudflareAccount | None,
    created_from: date | None,
    created_to: date | None,
) -> QuerySet[TopUp]:
    # Their ids, not a subquery: given one, PostgreSQL reads the top-ups account by account
    # instead of through the index of the few needing attention.
    topups = TopUp.objects.filter(account_id__in=[a.pk for a in accounts])
    if account is not None:
        topups = topups.filter(account=account)
    return created_between(topups, created_from, created_to)
