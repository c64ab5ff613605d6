"""Refreshing every unfinished top-up from Cloudflare at once (the refresh_topups command), a
batch at a time, through the same rationed status checks as the pages (topups.services.status)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from topups.models import TopUp
from topups.services.status import topup_refresh_many
from topups.states import LIVE_STATES, TopUpState

BATCH = 50


@dataclass(frozen=True)
class RefreshSummary:
    """What a refresh of every unfinished top-up came to."""

    unfinished: int  # looked at: live, or unknown with a late create answer's id
    checked: int  # due for a check (or for expiring, or for marking stale)
    completed: int  # moved to completed by this run
    stale: int  # moved to needs attention
    unknown: int  # moved to outcome unknown
    still_unfinished: int
    # Due for a check, yet no answer came (Cloudflare, or the spent API budget).
    unanswered: int


def topups_refresh_all(*, progress: Callable[[int, int], None] | None = None) -> RefreshSummary:
    """Refresh the status of every unfinished top-up (and of each recent `unknown` one whose
    create answer came late with its id), oldest first, in batches; the due ones are asked
    about, expired or marked stale (topup_refresh_many). `progress(done, total)` after each
    batch."""
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
        if progress:
            progress(min(start + BATCH, len(pks)), len(pks))
    after = dict(TopUp.objects.filter(pk__in=pks).values_list("pk", "state"))
    moved = {pk: state for pk, state in after.items() if state != before[pk]}.values()
    return RefreshSummary(
        unfinished=len(pks),
        checked=checked,
        completed=sum(1 for state in moved if state == TopUpState.COMPLETED),
        stale=sum(1 for state in moved if state == TopUpState.STALE),
        unknown=sum(1 for state in moved if state == TopUpState.UNKNOWN),
        still_unfinished=sum(1 for state in after.values() if state in LIVE_STATES),
        unanswered=unanswered,
    )
