"""Mark top-ups stuck in `creating` as `unknown` (run every few minutes from cron).

A row stays `creating` only if the process that sent the create died before recording the
answer; whether Cloudflare charged the card is then unknown and finance must reconcile it.
"""

from django.core.management.base import BaseCommand

from topups.services.create import topup_expire_stale


class Command(BaseCommand):
    help = "Mark top-ups stuck in 'creating' as 'unknown' so finance reconciles them."

    def handle(self, *args, **options):
        count = topup_expire_stale()
        self.stdout.write(f"{count} stale top-up(s) marked unknown.")
