"""Input of the account's pages."""

from decimal import Decimal

from django import forms

from cloudflare_client.auto_topup import MIN_AMOUNT_CENTS, MIN_THRESHOLD_CENTS


class AutoTopUpForm(forms.Form):
    """Auto top-up in dollars; Cloudflare's minimums are checked before anything is sent."""

    threshold = forms.DecimalField(
        label="When the balance falls below (US dollars)",
        min_value=Decimal(MIN_THRESHOLD_CENTS) / 100,
        max_digits=9,
        decimal_places=2,
        error_messages={"min_value": "The threshold is at least $5.00."},
    )
    amount = forms.DecimalField(
        label="Add this much (US dollars)",
        min_value=Decimal(MIN_AMOUNT_CENTS) / 100,
        max_digits=9,
        decimal_places=2,
        error_messages={"min_value": "The amount is at least $10.00."},
    )

    def cents(self) -> tuple[int, int]:
        """(amount, threshold) in whole cents."""
        data = self.cleaned_data
        return int(data["amount"] * 100), int(data["threshold"] * 100)


class LowBalanceAlertForm(forms.Form):
    threshold = forms.DecimalField(
        label="Email admins and finance when the balance falls below (US dollars)",
        required=False,
        min_value=Decimal("0.01"),
        max_digits=9,
        decimal_places=2,
        help_text="Leave empty for no alert.",
        error_messages={"min_value": "Enter an amount above $0.00, or leave it empty."},
    )

    def cents(self) -> int | None:
        threshold = self.cleaned_data["threshold"]
        return None if threshold is None else int(threshold * 100)
