"""Input of the finance desk."""

from django import forms

from finance.selectors import KIND_CHOICES
from topups.forms import DateRangeMixin


class DeskFilterForm(DateRangeMixin, forms.Form):
    """Which top-ups the desk lists and exports; in the query string, so links keep them."""

    kind = forms.ChoiceField(choices=KIND_CHOICES, required=False, label="Show")
    account = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Account",
        empty_label="All accounts",
        to_field_name="account_id",
    )

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        # Date fields come after the kind and the account.
        self.order_fields(["kind", "account", "created_from", "created_to"])


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            ("charged", "Charged: the money arrived (for example, seen on Cloudflare's invoice)"),
            ("not_charged", "Not charged: no payment was taken"),
        ],
        widget=forms.RadioSelect,
        label="What happened",
        error_messages={"required": "Choose whether the card was charged."},
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        label="Note for the record",
        help_text="What you checked, for example the invoice number. It is kept with the top-up.",
        error_messages={"required": "Write a note: say what you checked."},
    )
