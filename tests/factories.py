"""The one way tests make top-ups and members: rows as the app leaves them.

`topup()` fills in what the app writes along with a state: a completed top-up has its
completion time; a stale one given no reason is stale the commonest way (pending past the
window, and its reason says so); one `from_invoice` is what finance records from Cloudflare's
invoice (that origin, no creator, a recorder, the invoice's id, completed at the invoice's
time). Any field given wins, so a test of a database constraint can still ask for a row the app
never writes. Fixtures in tests/conftest.py bind these to the demo account and its people
(`make_topup`, `make_member`, `admin_user`, ...).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from accounts.models import CachedRead, CloudflareAccount, Membership
from topups.models import TopUp
from topups.services.status import STALE_REASONS
from topups.states import TopUpState


def member(*, username: str, account: CloudflareAccount, role: str | None) -> AbstractBaseUser:
    """A new user, password "pw-<username>", with `role` on `account` (no role: no membership)."""
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    if role:
        Membership.objects.create(user=user, account=account, role=role)
    return user


def unsaved_topup(
    *,
    account: CloudflareAccount,
    created_by: AbstractBaseUser | None = None,
    state: str | None = None,
    amount_cents: int = 5000,
    from_invoice: str | None = None,
    recorded_by: AbstractBaseUser | None = None,
    **fields,
) -> TopUp:
    """The row `topup()` saves, for `bulk_create`. `from_invoice`: TopUp.Origin.ELSEWHERE or
    AUTO; then `recorded_by` and the invoice's `payment_intent_id` belong with it. `state`:
    creating (the app's first), or completed for a row recorded from an invoice."""
    if from_invoice:
        fields["origin"] = from_invoice
    state = state or (TopUpState.COMPLETED if from_invoice else TopUpState.CREATING)
    now = timezone.now()
    if state == TopUpState.STALE and "stale_reason" not in fields:
        minutes = settings.TOPUP_STALE_AFTER_MINUTES
        fields["stale_reason"] = STALE_REASONS["age"].format(minutes=minutes)
        fields.setdefault("created_at", now - timedelta(minutes=minutes + 1))
    if state == TopUpState.COMPLETED:
        # A recorded top-up completed when Cloudflare invoiced it (finance.services).
        fields.setdefault("completed_at", fields.get("created_at", now) if from_invoice else now)
    return TopUp(
        account=account,
        created_by=created_by,
        state=state,
        amount_cents=amount_cents,
        recorded_by=recorded_by,
        **fields,
    )


def topup(**fields) -> TopUp:
    """A saved top-up; takes what `unsaved_topup` takes."""
    row = unsaved_topup(**fields)
    row.save(force_insert=True)
    return row


def cached_reads(
    *,
    account: CloudflareAccount,
    balance_cents: float = 4200,
    spend_per_day_cents: float = 600,
    auto_topup: dict | None = None,
    fetched_at=None,
) -> None:
    """What accounts.snapshots holds once the account's balance and daily usage were read (as
    Cloudflare sends them), read at `fetched_at` (now): 30 whole days at the same spend and
    today so far. `auto_topup`: Cloudflare's `topup_config` fields to set."""
    fetched_at = fetched_at or timezone.now()
    config = {"amount": None, "threshold": None, "disabledReason": None, "error": None}
    config = {**config, "lastFailedAt": None, **(auto_topup or {})}
    midnight = fetched_at.replace(hour=0, minute=0, second=0, microsecond=0)
    days = [midnight - timedelta(days=n) for n in range(30, -1, -1)]
    balance = {
        "balance": balance_cents,
        "has_default_payment_method": True,
        "payment_method": {"brand": "visa", "last4": "4242"},
        "topup_config": config,
        "first_topup_success": True,
    }
    usage = {
        "history": [
            {
                "id": f"day-{start:%Y%m%d}",
                "aggregated_value": spend_per_day_cents,
                "start_time": int(start.timestamp() * 1000),
                "end_time": int((start + timedelta(days=1)).timestamp() * 1000),
            }
            for start in days
        ]
    }
    for kind, value in (("balance", balance), ("usage_day", usage)):
        CachedRead.objects.update_or_create(
            account=account, kind=kind, defaults={"value": value, "fetched_at": fetched_at}
        )
