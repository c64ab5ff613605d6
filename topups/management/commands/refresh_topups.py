"""Refresh every unfinished top-up from Cloudflare (run from cron or a systemd timer): see
topups.services.refresh. Prints how far it got after each batch, then a summary of what moved.

Safe to run from several machines at once: each status check is claimed in the database first,
so a top-up is asked about once per interval whoever runs this, and every call spends the same
per-credential API budget as the web pages (status checks stop short of the reserve kept for
creates; the top-ups left then are not asked about).
Exits non-zero, after its summary, when a top-up due for a check got no answer, so cron notices.
"""

from django.core.management.base import BaseCommand, CommandError

from topups.services.refresh import topups_refresh_all


class Command(BaseCommand):
    help = "Ask Cloudflare for the status of unfinished top-ups, within the shared API budget."

    def handle(self, *args, verbosity=1, **options):
        def progress(done: int, total: int) -> None:
            if verbosity:
                self.stdout.write(f"  {done}/{total} looked at")

        summary = topups_refresh_all(progress=progress)
        self.stdout.write(
            f"{summary.unfinished} unfinished, {summary.checked} due for a check: "
            f"{summary.completed} completed, {summary.stale} need attention, "
            f"{summary.unknown} outcome unknown, {summary.still_unfinished} still unfinished."
        )
        if summary.unanswered:
            raise CommandError(
                f"{summary.unanswered} top-up(s) could not be asked about (Cloudflare did not "
                "answer, or the API budget is spent); the next run tries again."
            )
