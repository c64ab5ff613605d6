"""Cloudflare's documented minimums, in cents (its API reference, AI Gateway billing): the one
place the client's own checks, the portal's forms and limits, and the top-up table's
constraint take them from."""

# A top-up, started here or by auto top-up ("amount" of topup/config).
TOPUP_MIN_CENTS = 1000
# The balance below which auto top-up fires ("threshold" of topup/config).
AUTO_TOPUP_THRESHOLD_MIN_CENTS = 500
