"""Input of the account's pages."""

from django import forms

from accounts.fields import DollarsField
from cloudflare_client.minimums import AUTO_TOPUP_THRESHOLD_MIN_CENTS, TOPUP_MIN_CENTS


class AutoTopUpForm(forms.Form):
    """Auto top-up in dollars; Cloudflare's minimums are checked before anything is sent."""

    threshold = DollarsField(
        label="When the balance falls below (US dollars)",
        min_cents=AUTO_TOPUP_THRESHOLD_MIN_CENTS,
        error_messages={"min_value": "The threshold is at least {minimum}."},
    )
    amount = DollarsField(
        label="Add this much (US dollars)",
        min_cents=TOPUP_MIN_CENTS,
        error_messages={"min_value": "The amount is at least {minimum}."},
    )

    def cents(self) -> tuple[int, int]:
        """(amount, threshold) in whole cents."""
        return self.cleaned_data["amount"], self.cleaned_data["threshold"]


class LowBalanceAlertForm(forms.Form):
    threshold = DollarsField(
        label="Email admins and finance when the balance falls below (US dollars)",
        required=False,
        min_cents=1,
        help_text="Leave empty for no alert.",
        error_messages={"min_value": "Enter an amount above $0.00, or leave it empty."},
    )

    def cents(self) -> int | None:
        return self.cleaned_data["threshold"]
