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


class CoverDaysForm(forms.Form):
    """`?days=` on the overview: how many days of spending the suggested top-up covers. Any
    other value is the default, as the page's links only ever send a choice."""

    CHOICES = (7, 30, 90)
    DEFAULT = 30

    days = forms.TypedChoiceField(
        choices=[(days, f"{days} days") for days in CHOICES], coerce=int, required=False
    )

    def value(self) -> int:
        if self.is_valid() and self.cleaned_data["days"]:
            return self.cleaned_data["days"]
        return self.DEFAULT


class InvoiceKindForm(forms.Form):
    """`?type=` on the invoices page: which invoices it lists; any other value lists them all."""

    KINDS = (("all", "All"), ("manual", "Top-ups by hand"), ("auto", "Auto top-ups"))
    DEFAULT = "all"

    type = forms.ChoiceField(choices=KINDS, required=False)

    def value(self) -> str:
        if self.is_valid() and self.cleaned_data["type"]:
            return self.cleaned_data["type"]
        return self.DEFAULT
