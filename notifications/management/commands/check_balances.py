"""Read the balance of every account with a balance threshold (run from cron or a systemd
timer), so that an account nobody looks at is still told when its credits run low.

Each read goes through the shared cache (accounts.snapshots), whose every fresh answer is checked
against the thresholds (notifications.balance); an account whose balance was read recently (a
page view reads it too) is skipped. Safe to run from several machines at once: a read and each
crossing are claimed in the database. A credential whose API budget is spent is left for the
next run, never pushed past its share. Exits non-zero, after its summary, when an account due for
a read was not read, so cron notices.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from accounts.budget import DatabaseBudget, credential_fingerprint
from accounts.cloudflare import credentials_for_account
from accounts.models import CachedRead, CloudflareAccount
from accounts.snapshots import account_balance
from cloudflare_client import CloudflareConfigurationError
from notifications.events import EventType
from notifications.models import BalanceThreshold, Notification


class Command(BaseCommand):
    help = (
        "Read the balance of every account with a balance threshold, within the shared API "
        "budget, and write the balance.low notifications due."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--skip-read-within",
            type=int,
            default=15,
            metavar="MINUTES",
            help="Skip accounts whose balance was read this recently (default: 15).",
        )

    def handle(self, *args: Any, skip_read_within: int = 15, **options: Any) -> None:
        recent = timezone.now() - timedelta(minutes=skip_read_within)
        last_read = CachedRead.objects.filter(
            account=OuterRef("pk"), kind="balance", value__isnull=False
        ).values("fetched_at")
        # The longest unread first: a run cut short by the budget reaches them next time.
        accounts = list(
            CloudflareAccount.objects.filter(
                Exists(BalanceThreshold.objects.filter(account=OuterRef("pk")))
            )
            .annotate(balance_read_at=Subquery(last_read))
            .order_by(F("balance_read_at").asc(nulls_first=True), "pk")
        )
        counts = dict.fromkeys(("read", "skipped", "failed", "left", "notified"), 0)
        spent_budgets: set[str] = set()
        for account in accounts:
            if account.balance_read_at and account.balance_read_at >= recent:
                counts["skipped"] += 1
                continue
            try:
                budget = DatabaseBudget(
                    credential_fingerprint(
                        credentials_for_account(account), settings.CLOUDFLARE_BASE_URL
                    )
                )
            except CloudflareConfigurationError as exc:
                self.stderr.write(f"{account.name}: {exc}")
                counts["failed"] += 1
                continue
            if budget.fingerprint in spent_budgets or not budget.has_room(moves_money=False):
                spent_budgets.add(budget.fingerprint)
                counts["left"] += 1
                continue
            started = timezone.now()
            snapshot = account_balance(account=account)
            if snapshot is None or snapshot.fetched_at == account.balance_read_at:
                counts["failed"] += 1  # the last answer is kept; snapshots logged why
                continue
            counts["read"] += 1
            counts["notified"] += Notification.objects.filter(
                account=account, type=EventType.BALANCE_LOW, created_at__gte=started
            ).count()
        self.stdout.write(
            f"{len(accounts)} account(s) with a balance threshold: "
            f"{counts['read']} read, {counts['skipped']} skipped (read in the last "
            f"{skip_read_within} min), {counts['failed']} not read (Cloudflare could not be "
            f"asked), {counts['left']} left for later (API budget spent); "
            f"{counts['notified']} balance.low notification(s) written."
        )
        if unread := counts["failed"] + counts["left"]:
            raise CommandError(
                f"{unread} account(s) not read (Cloudflare could not be asked, or the API budget "
                "is spent); the next run tries again."
            )
