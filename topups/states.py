"""The top-up state machine: every state, and every transition the code makes.

    creating ──► awaiting_payment ──► processing ──► completed ◄──┐
       │                │    │             │                ▲      │
       │                │    └─────────────┼────────────────┤      │
       │                └──────────────────┴──► stale ──────┤      │
       ├──► processing                                  │   │      │
       ├──► failed ◄────────────────────────────────────┘   │      │
       └──► unknown ────────────────────────────────────────┴──────┘
                └──► failed

- creating: the row exists and Cloudflare's create has been (or is being) called. The row is
  written *before* the call so that no answer, however lost, leaves a payment untracked.
- awaiting_payment: create returned a client_secret; the browser must confirm with Stripe.js.
  A status check may find it completed directly (paid from another tab, or a redirect).
- processing: the money is moving (charged server-side, or confirmed in the browser) and only
  Cloudflare's status endpoint may say it is done.
- completed: the status endpoint said `completed`, or finance resolved the top-up as charged
  (seen on Cloudflare's invoice). Final.
- failed: Cloudflare refused the create (nothing was charged), or finance resolved the top-up as
  not charged. Final.
- unknown: the create request may have reached Cloudflare but its answer was lost; the card may
  or may not be charged. Never retried automatically; finance resolves it by hand.
- stale ("needs attention"): still pending long past TOPUP_STALE_AFTER, or Cloudflare no longer
  knows its id. Pages stop polling it; a later status check (finance's confirm) may still find
  it completed, or finance resolves it by hand.
"""

from django.db import models


class TopUpState(models.TextChoices):
    CREATING = "creating", "Creating"
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Outcome unknown"
    STALE = "stale", "Needs attention"


ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    TopUpState.CREATING: frozenset(
        {
            TopUpState.AWAITING_PAYMENT,
            TopUpState.PROCESSING,
            TopUpState.FAILED,
            TopUpState.UNKNOWN,
        }
    ),
    TopUpState.AWAITING_PAYMENT: frozenset(
        {TopUpState.PROCESSING, TopUpState.COMPLETED, TopUpState.STALE}
    ),
    TopUpState.PROCESSING: frozenset({TopUpState.COMPLETED, TopUpState.STALE}),
    TopUpState.UNKNOWN: frozenset({TopUpState.COMPLETED, TopUpState.FAILED}),
    TopUpState.STALE: frozenset({TopUpState.COMPLETED, TopUpState.FAILED}),
    TopUpState.COMPLETED: frozenset(),
    TopUpState.FAILED: frozenset(),
}

FINAL_STATES = frozenset({TopUpState.COMPLETED, TopUpState.FAILED})
# States whose truth lives at Cloudflare: a status check can move them on.
PENDING_STATES = frozenset({TopUpState.AWAITING_PAYMENT, TopUpState.PROCESSING})
# States that move on by themselves, so a page showing one keeps asking.
LIVE_STATES = PENDING_STATES | {TopUpState.CREATING}
# States only a person can settle: finance resolves them, charged or not.
RESOLVABLE_STATES = frozenset({TopUpState.UNKNOWN, TopUpState.STALE})


def can_transition(from_state: str, to_state: str) -> bool:
    return to_state in ALLOWED_TRANSITIONS[from_state]
