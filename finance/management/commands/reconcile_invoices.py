"""Reconcile every account's top-ups with Cloudflare's invoices (run from cron), within the
shared API budget: see finance.services.account_reconcile; then notify the top-ups waiting for
finance longer than FINANCE_WAIT_HOURS (finance.waiting). Exits non-zero, after its summary,
when an account's invoices could not be read, so cron notices (one reconciled elsewhere a
moment ago is fine)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import CloudflareAccount
from finance.services import account_reconcile
from finance.waiting import topups_waiting_for_finance_notify


class Command(BaseCommand):
    help = "Settle unknown and stale top-ups from Cloudflare's invoices; report what disagrees."

    def handle(self, *args, **options):
        settled = mismatched = unmatched = unread = failed = 0
        for account in CloudflareAccount.objects.all():
            report = account_reconcile(account=account)
            if report.throttled_until:
                unread += 1
                self.stdout.write(f"  {account.name}: reconciled less than a minute ago")
                continue
            if not report.invoices_read:
                unread += 1
                failed += 1
                self.stdout.write(f"  {account.name}: Cloudflare's invoices could not be read")
                continue
            if not report.complete:  # cut at the page limit; unsettled top-ups looked further
                self.stdout.write(f"  {account.name}: older invoices not read")
            settled += len(report.settled)
            mismatched += len(report.mismatched)
            unmatched += len(report.unmatched_invoices)
            for topup, state in report.settled:
                self.stdout.write(f"  {account.name}: top-up #{topup.pk} is {state} by its invoice")
            for topup, invoice in report.mismatched:
                self.stdout.write(
                    f"  {account.name}: top-up #{topup.pk} and invoice {invoice.id} disagree on "
                    "the amount"
                )
        waiting = topups_waiting_for_finance_notify()
        self.stdout.write(
            f"{settled} settled by their invoice, {mismatched} amount(s) disagree, "
            f"{unmatched} invoice(s) with no top-up here, {unread} account(s) not read; "
            f"{waiting} top-up(s) newly waiting for finance over {settings.FINANCE_WAIT_HOURS} "
            "hours notified."
        )
        if failed:
            raise CommandError(
                f"{failed} account(s) whose invoices could not be read (Cloudflare could not be "
                "asked, or the API budget is spent); the next run tries again."
            )
