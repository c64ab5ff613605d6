"""Every sentence the finance desk shows but its form fields' own errors (which sit with the
fields), in one place; tests assert them exactly."""

from finance.outcomes import ConfirmResult, RecordResult, ResolveOutcome

CONFIRM_RESULTS = {
    ConfirmResult.CONFIRMED: "Top-up #{pk} confirmed: Cloudflare says it is completed.",
    ConfirmResult.NOT_COMPLETED: (
        "Top-up #{pk} was not confirmed: Cloudflare says it is still pending."
    ),
    ConfirmResult.UNREACHABLE: (
        "Top-up #{pk} was not confirmed: Cloudflare could not be asked just now. "
        "Try again in a minute."
    ),
    ConfirmResult.GONE: (
        "Top-up #{pk} was not confirmed: Cloudflare no longer knows this top-up (neither its "
        "status nor its invoices). Check it with Cloudflare before anything else."
    ),
    ConfirmResult.MISMATCH: (
        "Top-up #{pk} was not confirmed: Cloudflare's invoice for it is for another amount. "
        "See the reconciliation page; a person decides."
    ),
    ConfirmResult.NOT_PAID: (
        "Top-up #{pk} was not confirmed: Cloudflare's invoice for it is not paid."
    ),
    ConfirmResult.OWN: (
        "Top-up #{pk} was not confirmed: you started, recorded or resolved it (or made its "
        "invoice), so another finance member must."
    ),
    ConfirmResult.ALREADY: "Top-up #{pk} was already confirmed or settled.",
}
BULK_SUMMARY = "{confirmed} of {total} confirmed."
BULK_NOTHING_SELECTED = "Select the top-ups to confirm first."

RESOLVED = {
    ResolveOutcome.CHARGED: "Top-up #{pk} resolved as charged: it now counts as completed.",
    ResolveOutcome.NOT_CHARGED: "Top-up #{pk} resolved as not charged: it now counts as failed.",
}
RESOLVED_FAILED_MESSAGE = "Finance found that this top-up was not charged."
CANNOT_RESOLVE_OWN = "You started this top-up, so another finance member must resolve it."
CANNOT_RESOLVE_STATE = (
    "Only a top-up whose outcome is unknown or that needs attention is resolved by hand."
)
CHANGED_MEANWHILE = "This top-up changed while you were looking at it; check it again."
NOTE_REFUSED = "The note looks like it holds a secret (a key or token); leave that out."
INVOICE_ONLY_FOR_CHARGED_LOST_CREATE = (
    "An invoice is named only for a charged top-up whose create answer was lost."
)
INVOICE_PAID_REFUSES_NOT_CHARGED = (
    "Cloudflare's invoice {invoice} for this top-up is paid: it was charged. Resolve it as charged."
)
CLOUDFLARE_SAYS_COMPLETED = (
    "Cloudflare says this top-up is completed: it was charged, and now counts as completed."
)
INVOICE_TAKEN = "That invoice already belongs to another top-up here."
INVOICE_NOT_A_CANDIDATE = (
    "That invoice is not a paid invoice of this top-up's amount and time; pick one of those listed."
)
CLOUDFLARE_NOT_ASKED_NOT_CHARGED = (
    'Cloudflare could not be asked about this top-up just now, so "not charged" cannot be '
    "checked against it. Try again in a minute."
)
INVOICES_NOT_READ_SINCE = (
    'Cloudflare\'s invoices have not been read since this top-up was started, so "not charged" '
    "cannot be checked against them. Reconcile now, then resolve it."
)
INVOICE_NO_LONGER_FREE = (
    "That invoice is no longer free: another top-up here carries it now. Check this one again."
)
NO_INVOICE_REASON_REQUIRED = (
    "Cloudflare has invoices that could be this top-up: pick the one that charged it, or say why "
    "none of them is it."
)

RECORD_RESULTS = {
    RecordResult.RECORDED: "{n} invoice(s) recorded as top-ups.",
    RecordResult.ALREADY: "{n} already recorded.",
    RecordResult.CLAIMED: (
        "{n} could be a top-up here whose outcome is unknown, so not recorded: resolve that "
        "top-up with it instead."
    ),
    RecordResult.NOT_PAID: "{n} not paid (or not in whole cents), so not recorded.",
    RecordResult.NOT_FOUND: "{n} no longer among Cloudflare's top-up invoices.",
}
RECORD_NOTHING_SELECTED = "Select the invoices to record first."
RECONCILED = (
    "{account}: {settled} top-up(s) settled by their invoice, {mismatched} amount(s) disagree, "
    "{unmatched} invoice(s) with no top-up here."
)
INVOICES_UNREADABLE = (
    "{account}: Cloudflare could not be asked for the invoices just now, so nothing was read or "
    "settled. Try again in a few minutes."
)
RECONCILE_THROTTLED = (
    "{account}: reconciled less than a minute ago, so nothing was read or settled now. "
    "Try again after {after:%H:%M:%S} UTC."
)

ONLY_FINANCE = "Only finance members can do this."
