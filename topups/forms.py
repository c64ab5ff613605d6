"""Input validation. Amounts are read by accounts.fields.DollarsField, as text, never float."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User

from accounts.fields import DollarsField
from accounts.money import format_cents
from accounts.services import AmountLimits
from topups.states import TopUpState

AMOUNT_ERRORS = {
    "required": "Enter an amount, for example 50 or 49.99.",
    "min_value": "The minimum top-up is {minimum}.",
    "max_value": "The maximum top-up is {maximum}.",
}


def amount_field(limits: AmountLimits) -> DollarsField:
    """The amount within the account's limits: as typed on the amount page, and checked again
    when the review page's form is sent."""
    return DollarsField(
        label="Amount in US dollars",
        min_cents=limits.min_cents,
        max_cents=limits.max_cents,
        help_text=f"Between {format_cents(limits.min_cents)} and {format_cents(limits.max_cents)}.",
        error_messages=AMOUNT_ERRORS,
    )


class AmountForm(forms.Form):
    """Step 1: the amount in dollars, as typed or picked from a preset."""

    PRESETS = (1000, 2500, 5000, 10000)

    def __init__(self, *args, limits: AmountLimits, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.fields["amount"] = amount_field(limits)


class ConfirmForm(forms.Form):
    """Step 2: "Confirm and pay". The request key was minted when the review page rendered."""

    amount_cents = forms.IntegerField(widget=forms.HiddenInput)
    request_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, limits: AmountLimits, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits

    def clean_amount_cents(self) -> int:
        amount_cents = self.cleaned_data["amount_cents"]
        amount_field(self.limits).validate(amount_cents)
        return amount_cents


class DateRangeMixin(forms.Form):
    """A range of UTC days, both ends optional."""

    created_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    error_messages = {"backwards": "The end date is before the start date."}

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and end < start:
            raise forms.ValidationError(self.error_messages["backwards"], code="backwards")
        return cleaned

    def filters(self) -> dict:
        """What to pass to a selector: the valid filters, none when the form is invalid."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


class HistoryFilterForm(DateRangeMixin, forms.Form):
    """The history's filters. They travel in the query string, so they survive pagination and
    can be bookmarked."""

    state = forms.ChoiceField(
        choices=[("", "Any state"), *TopUpState.choices], required=False, label="State"
    )
    creator: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Started by",
        empty_label="Anyone",
        to_field_name="username",
    )

    def __init__(self, *args, creators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["creator"].queryset = creators  # type: ignore[attr-defined]
        self.order_fields(["state", "created_from", "created_to", "creator"])
