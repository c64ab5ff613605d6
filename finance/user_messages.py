"""Every sentence the finance desk shows, in one place; tests assert them exactly."""

CONFIRM_RESULTS = {
    "confirmed": "Top-up #{pk} confirmed: Cloudflare says it is completed.",
    "not_completed": "Top-up #{pk} was not confirmed: Cloudflare says it is still pending.",
    "unreachable": (
        "Top-up #{pk} was not confirmed: Cloudflare could not be asked just now "
        "(or has no record of it). Try again in a minute, or resolve it by hand."
    ),
    "own": "Top-up #{pk} was not confirmed: you started it, so another finance member must.",
    "already": "Top-up #{pk} was already confirmed or settled.",
}
BULK_SUMMARY = "{confirmed} of {total} confirmed."
BULK_NOTHING_SELECTED = "Select the top-ups to confirm first."

RESOLVED = {
    "charged": "Top-up #{pk} resolved as charged: it now counts as completed.",
    "not_charged": "Top-up #{pk} resolved as not charged: it now counts as failed.",
}
RESOLVED_FAILED_MESSAGE = "Finance found that this top-up was not charged."
CANNOT_RESOLVE_OWN = "You started this top-up, so another finance member must resolve it."
CANNOT_RESOLVE_STATE = (
    "Only a top-up whose outcome is unknown or that needs attention is resolved by hand."
)
CHANGED_MEANWHILE = "This top-up changed while you were looking at it; check it again."
NOTE_REFUSED = "The note looks like it holds a secret (a key or token); leave that out."

ONLY_FINANCE = "Only finance members can do this."
