"""Refresh every unfinished top-up from Cloudflare (run from cron or a systemd timer).

Safe to run from several machines at once: each status check is claimed in the database first,
so a top-up is asked about once per interval whoever runs this, and every call spends the same
per-credential API budget as the web pages (a spent budget ends the run early, never a create).
Exits non-zero, after its summary, when a top-up due for a check got no answer, so cron notices.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from topups.models import TopUp
from topups.services.status import topup_refresh_many
from topups.states import LIVE_STATES, TopUpState

BATCH = 50


class Command(BaseCommand):
    help = "Ask Cloudflare for the status of unfinished top-ups, within the shared API budget."

    def handle(self, *args, verbosity=1, **options):
        recent = timezone.now() - timedelta(minutes=settings.TOPUP_STALE_AFTER_MINUTES)
        late_answer = Q(
            state=TopUpState.UNKNOWN, payment_intent_id__isnull=False, created_at__gte=recent
        )
        pks = list(
            TopUp.objects.filter(Q(state__in=LIVE_STATES) | late_answer)
            .order_by("created_at")
            .values_list("pk", flat=True)
        )
        before = dict(TopUp.objects.filter(pk__in=pks).values_list("pk", "state"))
        checked = unanswered = 0
        for start in range(0, len(pks), BATCH):
            batch = list(
                TopUp.objects.filter(pk__in=pks[start : start + BATCH]).select_related("account")
            )
            due = topup_refresh_many(topups=batch)
            checked += len(due)
            # status_problem: why the last check got no answer (Cloudflare, or the budget); a
            # row marked stale for its age just now was not asked, and needs no answer.
            unanswered += sum(
                1 for topup in due if topup.status_problem and topup.state != TopUpState.STALE
            )
            if verbosity:
                self.stdout.write(f"  {min(start + BATCH, len(pks))}/{len(pks)} looked at")
        after = dict(TopUp.objects.filter(pk__in=pks).values_list("pk", "state"))
        moved: dict[str, int] = {
            state: 0 for state in (TopUpState.COMPLETED, TopUpState.STALE, TopUpState.UNKNOWN)
        }
        for pk, state in after.items():
            if state != before[pk] and state in moved:
                moved[state] += 1
        self.stdout.write(
            f"{len(pks)} unfinished, {checked} due for a check: "
            f"{moved[TopUpState.COMPLETED]} completed, {moved[TopUpState.STALE]} need attention, "
            f"{moved[TopUpState.UNKNOWN]} outcome unknown, "
            f"{sum(1 for state in after.values() if state in LIVE_STATES)} still unfinished."
        )
        if unanswered:
            raise CommandError(
                f"{unanswered} top-up(s) could not be asked about (Cloudflare did not answer, or "
                "the API budget is spent); the next run tries again."
            )
