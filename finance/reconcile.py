"""Reconciliation of local top-ups with Cloudflare's invoices, matched by id: create's
`payment_intent_id` is documented as the invoice id.

- An unknown or stale top-up whose invoice is found is settled by it: paid → completed,
  void or uncollectible → failed, with the invoice as evidence in the event trail. Never when
  the invoice is for another amount than the top-up: that is listed for a person to decide.
- An unknown top-up without an id (create's answer was lost) cannot be matched by id: finance is
  offered the candidate invoices — same account, same amount, made around the same time, and
  not already any local top-up's. Such an invoice is that top-up's to take, never recorded as a
  top-up of its own: one payment, one top-up (the unique (account, payment_intent_id) holds it
  in the database once taken).

These are the reads: what the invoices say (`reconciliation_report`, from those held), and
which invoice could be a top-up's. Settling what they prove is finance.services.account_reconcile.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from accounts.models import CloudflareAccount
from accounts.snapshots import Snapshot, account_invoice, account_invoices
from cloudflare_client import Invoice, InvoiceHistory
from topups.models import TopUp
from topups.selectors import amounts_agree
from topups.states import RESOLVABLE_STATES, TopUpState

# The state an invoice's status proves for its top-up.
SETTLES: dict[str | None, TopUpState] = {"paid": TopUpState.COMPLETED, "void": TopUpState.FAILED}
SETTLES["uncollectible"] = TopUpState.FAILED
CANDIDATE_WINDOW = (timedelta(minutes=-10), timedelta(days=1))

RECORDABLE_ORIGINS: dict[str | None, TopUp.Origin] = {
    "manual": TopUp.Origin.ELSEWHERE,
    "auto": TopUp.Origin.AUTO,
}


@dataclass
class Reconciliation:
    """What Cloudflare's invoices say about an account's top-ups."""

    invoices_read: bool = True
    # Set when another reconciliation read the invoices less than RECONCILE_INTERVAL ago:
    # nothing was read or settled, until then.
    throttled_until: datetime | None = None
    # Every top-up here whose invoice was read, with it.
    matched: list[tuple[TopUp, Invoice]] = field(default_factory=list)
    settleable: list[tuple[TopUp, Invoice]] = field(default_factory=list)
    settled: list[tuple[TopUp, str]] = field(default_factory=list)  # (top-up, new state)
    mismatched: list[tuple[TopUp, Invoice]] = field(default_factory=list)
    # Failed here (resolved as not charged, or by a void invoice since paid) yet paid.
    contradicted: list[tuple[TopUp, Invoice]] = field(default_factory=list)
    # Top-up invoices (by hand or auto) that no top-up here carries.
    unmatched_invoices: list[Invoice] = field(default_factory=list)
    # Which of them could be a lost create's (invoice id -> those top-ups): not recordable.
    claims: dict[str | None, list[TopUp]] = field(default_factory=dict)
    fetched_at: datetime | None = None
    failed_at: datetime | None = None  # a later read failed: these invoices may be out of date
    # Every invoice of the account was read; else older ones are not listed here.
    complete: bool = True

    @property
    def unmatched(self) -> list[tuple[Invoice, list[TopUp]]]:
        """Each unmatched invoice with the top-ups it could be (none: it is recordable)."""
        return [(invoice, self.claims.get(invoice.id, [])) for invoice in self.unmatched_invoices]


def reconciliation_report(*, account: CloudflareAccount) -> Reconciliation:
    """Compare the account's top-ups with the invoices held (no call while they are young,
    then only the newest pages): what could be settled, and what disagrees. Writes nothing."""
    snapshot = account_invoices(account=account)
    if snapshot is None:
        return Reconciliation(invoices_read=False)
    return reconciliation_of(account=account, snapshot=snapshot)


def reconciliation_of(
    *, account: CloudflareAccount, snapshot: Snapshot[InvoiceHistory]
) -> Reconciliation:
    """What `snapshot`, the account's invoices as read, says about its top-ups."""
    report = Reconciliation(
        fetched_at=snapshot.fetched_at,
        failed_at=snapshot.failed_at,
        complete=snapshot.value.complete,
    )
    by_id: dict[str | None, Invoice] = {
        invoice.id: invoice for invoice in snapshot.value if invoice.id
    }
    local = (
        TopUp.objects.filter(account=account, payment_intent_id__in=list(by_id))
        .select_related("account")
        .order_by("pk")
    )
    report.matched = [(topup, by_id[topup.payment_intent_id]) for topup in local]
    for topup, invoice in report.matched:
        if topup.state == TopUpState.FAILED and invoice.status == "paid":
            report.contradicted.append((topup, invoice))
        if not amounts_agree(topup, invoice):
            report.mismatched.append((topup, invoice))
        elif topup.state in RESOLVABLE_STATES and SETTLES.get(invoice.status or ""):
            report.settleable.append((topup, invoice))
    known = {topup.payment_intent_id for topup, _ in report.matched}
    report.unmatched_invoices = [
        invoice
        for invoice in snapshot.value
        if invoice.invoice_origin in RECORDABLE_ORIGINS and invoice.id not in known
    ]
    report.claims = invoice_claims(account=account, invoices=report.unmatched_invoices)
    return report


def looked_for_since(*, account: CloudflareAccount) -> datetime | None:
    """How far back an unsettled top-up's invoice (by id, or a lost create's candidates) can
    be: from the oldest of them, with the candidates' margin."""
    oldest = (
        TopUp.objects.filter(account=account, state__in=RESOLVABLE_STATES)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return oldest + CANDIDATE_WINDOW[0] if oldest else None


def invoice_of(*, topup: TopUp) -> Invoice | None:
    """The top-up's invoice (by its id), whatever its state: from the invoices held, or looked
    for further back than they reach."""
    if not topup.payment_intent_id:
        return None
    return account_invoice(
        account=topup.account, invoice_id=topup.payment_intent_id, made_after=topup.created_at
    )


def candidate_invoices(*, topup: TopUp) -> list[Invoice]:
    """Invoices that could be this top-up's: same account and amount, made around the time it
    was started, and not any local top-up's (from the invoices held, read further back when
    they do not reach that time)."""
    back_to = topup.created_at + CANDIDATE_WINDOW[0]
    snapshot = account_invoices(account=topup.account, back_to=back_to)
    if snapshot is None:
        return []
    taken = _local_invoice_ids(topup.account, [invoice.id for invoice in snapshot.value])
    return [
        invoice
        for invoice in snapshot.value
        if invoice.id not in taken and _could_be(topup, invoice)
    ]


def invoice_claims(
    *, account: CloudflareAccount, invoices: list[Invoice]
) -> dict[str | None, list[TopUp]]:
    """Which lost creates (outcome unknown, or a create still in flight: no id yet) each of
    `invoices` could be."""
    lost = TopUp.objects.filter(
        account=account,
        state__in=[TopUpState.UNKNOWN, TopUpState.CREATING],
        payment_intent_id__isnull=True,
    ).order_by("pk")
    claims: dict[str | None, list[TopUp]] = {}
    for topup in lost if invoices else ():
        for invoice in invoices:
            if _could_be(topup, invoice):
                claims.setdefault(invoice.id, []).append(topup)
    return claims


def _could_be(topup: TopUp, invoice: Invoice) -> bool:
    """Paid, for the same amount, made around the time the top-up was started: only a paid
    invoice can show that a lost create charged the card."""
    start, end = (topup.created_at + edge for edge in CANDIDATE_WINDOW)
    return (
        invoice.status == "paid"
        and invoice.amount_due_cents == topup.amount_cents
        and invoice.created is not None
        and start <= invoice.created <= end
    )


def _local_invoice_ids(
    account: CloudflareAccount, invoice_ids: list[str | None]
) -> set[str | None]:
    """Which of `invoice_ids` some top-up here already carries (create's `payment_intent_id`)."""
    return set(
        TopUp.objects.filter(account=account, payment_intent_id__in=invoice_ids).values_list(
            "payment_intent_id", flat=True
        )
    )
