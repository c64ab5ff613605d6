import operator
import uuid
from datetime import timedelta
from functools import reduce

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import CloudflareAccount
from accounts.money import format_cents
from cloudflare_client.minimums import TOPUP_MIN_CENTS
from topups.states import TopUpState

# A status call still unanswered after this long means Cloudflare is slow: the page says so.
SLOW_CALL = timedelta(seconds=3)


class StatusProblem(models.TextChoices):
    """Why the last status check of a top-up got no answer, in the words its page shows."""

    SLOW = "slow", "Cloudflare is slow to answer; status will refresh."
    UNAVAILABLE = "unavailable", "Cloudflare could not be asked just now; status will refresh."
    BUDGET = (
        "budget",
        (
            "This portal's share of Cloudflare's API budget is spent for a few minutes; "
            "status will refresh after that."
        ),
    )


# What the finance desk lists as needing a person, by kind (labels in finance.selectors); here
# because PostgreSQL uses the index of these rows (TopUp.Meta) only for a query that says the
# very same condition.
NEEDS_ATTENTION = {
    "unknown": Q(state=TopUpState.UNKNOWN),
    "stale": Q(state=TopUpState.STALE),
    "failed_after_payment": Q(
        state=TopUpState.FAILED, payment_intent_id__isnull=False, resolved_at__isnull=True
    )
    & ~Q(invoice_status="paid"),
    # As reconciliation last read the invoices.
    "not_charged_but_paid": Q(state=TopUpState.FAILED, invoice_status="paid"),
    "unconfirmed": Q(state=TopUpState.COMPLETED, confirmed_at__isnull=True),
}
ATTENTION = reduce(operator.or_, NEEDS_ATTENTION.values())


class TopUp(models.Model):
    """One attempt to add credits, from the click on "Confirm and pay" to Cloudflare's verdict.

    Change `state` only through `topups.services.transitions.topup_transition`, which enforces
    the state machine in `topups/states.py` with a conditional UPDATE and writes the audit trail.

    Most top-ups are started here. Finance also records the ones Cloudflare invoiced that were
    not (made in Cloudflare's dashboard, or auto top-ups), so the history is complete: those have
    no creator, a recorder, and their `payment_intent_id` is the invoice's id.
    """

    class Origin(models.TextChoices):
        PORTAL = "portal", "This portal"
        ELSEWHERE = "elsewhere", "Outside this portal"
        AUTO = "auto", "Auto top-up"

    class CreateOutcome(models.TextChoices):
        """What became of the create call, whatever the state says later. Blank: not known (no
        answer yet, an answer lost, or a top-up recorded from an invoice)."""

        MADE = "made", "Cloudflare made the payment"
        NOT_MADE = "not_made", "Refused or never sent: nothing charged"

    account = models.ForeignKey(CloudflareAccount, on_delete=models.PROTECT, related_name="topups")
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.PORTAL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="topups_created",
        help_text="Empty for a top-up recorded from Cloudflare's invoice.",
    )
    # Generated when the review page is rendered; a resubmitted form finds the same row.
    request_key = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    state = models.CharField(
        max_length=20, choices=TopUpState.choices, default=TopUpState.CREATING, db_index=True
    )

    # What Cloudflare's create answered. NULL until known, so the per-account unique constraint
    # ignores rows that have none yet.
    payment_intent_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # Only while the customer must act in the browser; wiped when the payment is settled.
    client_secret = models.CharField(max_length=255, blank=True, editable=False)
    card_brand = models.CharField(max_length=32, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    onboarding = models.BooleanField(null=True)
    # Only a create that did not happen leaves the hourly cap (topups.services.create).
    create_outcome = models.CharField(max_length=10, choices=CreateOutcome.choices, blank=True)
    # Cloudflare's own words when it refused, shown to the user.
    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)

    # A recorded top-up takes its invoice's time.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_checked_at = models.DateTimeField(null=True, blank=True)
    # Nobody asks Cloudflare about this top-up before this time, whoever polls: a status call is
    # in flight (held for the longest it can take), or the last one failed (backing off).
    status_hold_until = models.DateTimeField(null=True, blank=True)
    status_problem = models.CharField(max_length=12, choices=StatusProblem.choices, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Why the row needs attention (state `stale`), in words for finance.
    stale_reason = models.CharField(max_length=200, blank=True)
    # Cloudflare's invoice status for this top-up as reconciliation last read it (finance.
    # reconcile), so the desk can count a failed top-up whose invoice is paid.
    invoice_status = models.CharField(max_length=20, blank=True, editable=False)

    # Finance: who recorded it from Cloudflare's invoice (origin elsewhere or auto), who
    # confirmed the money arrived, and who settled an unknown or stale top-up by hand. Four eyes:
    # the confirmer is never whoever started, recorded or resolved it (the services check it;
    # so does the database).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="topups_recorded",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="topups_confirmed",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="topups_resolved",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Cloudflare's minimum applies to what is started here; an invoice is what it is.
            models.CheckConstraint(
                condition=Q(amount_cents__gte=TOPUP_MIN_CENTS) | ~Q(origin="portal"),
                name="topup_amount_min",
            ),
            models.CheckConstraint(
                condition=Q(origin="portal", created_by__isnull=False)
                | (
                    Q(origin__in=["elsewhere", "auto"])
                    & Q(created_by__isnull=True, payment_intent_id__isnull=False)
                ),
                name="topup_started_here_or_recorded_from_invoice",
            ),
            models.CheckConstraint(
                condition=Q(state__in=TopUpState.values), name="topup_state_valid"
            ),
            models.UniqueConstraint(
                fields=["account", "payment_intent_id"],
                condition=Q(payment_intent_id__isnull=False),
                name="topup_payment_intent_unique_per_account",
            ),
            models.CheckConstraint(
                condition=~Q(state=TopUpState.COMPLETED) | Q(completed_at__isnull=False),
                name="topup_completed_has_timestamp",
            ),
            # A create that did not happen failed and has no payment; one that did has its id.
            models.CheckConstraint(
                condition=~Q(create_outcome="not_made")
                | Q(state=TopUpState.FAILED, payment_intent_id__isnull=True),
                name="topup_not_made_failed_without_payment",
            ),
            models.CheckConstraint(
                condition=~Q(create_outcome="made") | Q(payment_intent_id__isnull=False),
                name="topup_made_has_payment_intent",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True, confirmed_by__isnull=True)
                | Q(
                    confirmed_at__isnull=False,
                    confirmed_by__isnull=False,
                    state=TopUpState.COMPLETED,
                ),
                name="topup_confirmed_when_completed_and_by_someone",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolved_by__isnull=True)
                | (
                    Q(resolved_at__isnull=False, resolved_by__isnull=False) & ~Q(resolution_note="")
                ),
                name="topup_resolution_has_author_and_note",
            ),
            # Four eyes: whoever started a top-up neither confirms nor resolves it.
            models.CheckConstraint(
                condition=~Q(confirmed_by=models.F("created_by")),
                name="topup_not_confirmed_by_its_creator",
            ),
            models.CheckConstraint(
                condition=~Q(resolved_by=models.F("created_by")),
                name="topup_not_resolved_by_its_creator",
            ),
            models.CheckConstraint(
                condition=~Q(confirmed_by=models.F("recorded_by")),
                name="topup_not_confirmed_by_its_recorder",
            ),
            models.CheckConstraint(
                condition=~Q(confirmed_by=models.F("resolved_by")),
                name="topup_not_confirmed_by_its_resolver",
            ),
            models.CheckConstraint(
                condition=Q(origin="portal", recorded_by__isnull=True)
                | Q(origin__in=["elsewhere", "auto"], recorded_by__isnull=False),
                name="topup_recorded_from_invoice_by_someone",
            ),
        ]
        indexes = [
            # The history's pages (billing_portal.pagination) and its creator filter.
            models.Index(fields=["account", "-created_at", "-id"], name="topup_account_recent"),
            models.Index(fields=["created_by", "account"], name="topup_creator_account"),
            # The desk's queue, newest first, and its counts: a few hundred rows of millions.
            models.Index(
                fields=["-created_at", "-id"], condition=ATTENTION, name="topup_needs_attention"
            ),
        ]

    def __str__(self):
        return f"Top-up #{self.pk} · {self.amount_display} · {self.get_state_display()}"

    @property
    def amount_display(self) -> str:
        return format_cents(self.amount_cents)

    @property
    def started_by_display(self) -> str:
        """Who started it: a username, or where a recorded top-up came from."""
        if self.created_by_id:
            return self.created_by.get_username()  # type: ignore[union-attr]  # created_by_id is set
        return self.get_origin_display()

    @property
    def card_display(self) -> str:
        if not self.card_last4:
            return ""
        return f"{self.card_brand.title() or 'Card'} •••• {self.card_last4}"

    @property
    def status_delay(self) -> str:
        """What keeps this top-up's status from updating right now, in words ('' if nothing):
        the last check's problem, or a check that has been waiting on Cloudflare a while."""
        if self.status_problem:
            return self.get_status_problem_display()
        now = timezone.now()
        waiting = self.status_hold_until is not None and self.status_hold_until > now
        if waiting and self.status_checked_at and self.status_checked_at <= now - SLOW_CALL:
            return StatusProblem.SLOW.label
        return ""


class TopUpEvent(models.Model):
    """Append-only audit trail of a top-up. `detail` never holds secrets (see `audit_detail`)."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        CREATE_ANSWERED = "create_answered", "Cloudflare answered create"
        CREATE_REFUSED = "create_refused", "Cloudflare refused create"
        CREATE_OUTCOME_UNKNOWN = "create_outcome_unknown", "Create outcome unknown"
        STATE_CHANGED = "state_changed", "State changed"
        STATUS_CHECKED = "status_checked", "Status checked"
        MARKED_STALE = "marked_stale", "Marked as needing attention"
        FINANCE_CONFIRMED = "finance_confirmed", "Payment confirmed by finance"
        FINANCE_RESOLVED = "finance_resolved", "Resolved by finance"
        RECONCILED = "reconciled", "Reconciled with Cloudflare's invoice"
        RECORDED_FROM_INVOICE = "recorded_from_invoice", "Recorded from Cloudflare's invoice"

    topup = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="Empty when the system acted on its own (e.g. a status refresh).",
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    from_state = models.CharField(max_length=20, choices=TopUpState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=TopUpState.choices, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} · top-up #{self.topup_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("The audit trail is append-only: events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The audit trail is append-only: events are never deleted.")
