"""What the finance desk's services come to, as types: finance.services returns them and
finance.user_messages says each (a module of its own, as both import it). StrEnum values are
the strings stored in the event trail and compared in templates, so they never change."""

from enum import StrEnum


class ConfirmResult(StrEnum):
    """What confirming a top-up came to (topup_confirm_payment)."""

    CONFIRMED = "confirmed"
    NOT_COMPLETED = "not_completed"  # Cloudflare says still pending
    UNREACHABLE = "unreachable"  # Cloudflare could not be asked
    GONE = "gone"  # Cloudflare no longer knows it
    MISMATCH = "mismatch"  # its invoice is for another amount: a person decides
    NOT_PAID = "not_paid"  # the invoice it was recorded from is not paid
    OWN = "own"  # four eyes: started, recorded or resolved by this user
    ALREADY = "already"  # confirmed or settled before


class ResolveOutcome(StrEnum):
    """How finance resolved a top-up by hand (topup_resolve)."""

    CHARGED = "charged"
    NOT_CHARGED = "not_charged"


class RecordResult(StrEnum):
    """What recording one invoice as a top-up came to (topups_record_from_invoices)."""

    RECORDED = "recorded"
    ALREADY = "already"
    CLAIMED = "claimed"  # could be a lost create's: that top-up takes it
    NOT_PAID = "not_paid"
    NOT_FOUND = "not_found"
