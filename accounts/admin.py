from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from accounts import credentials as sealed
from accounts.models import CloudflareAccount, Membership
from accounts.services import account_connection_check
from cloudflare_client import CloudflareConfigurationError, Credentials

WRITE_ONLY = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class CloudflareAccountForm(forms.ModelForm):
    """The account's own credential is write-only: typed in, sealed, never shown again. Leaving
    the fields empty keeps what is stored; choosing an environment credential forgets it."""

    api_token = forms.CharField(
        label="API token", required=False, strip=True, widget=WRITE_ONLY,
        help_text="For “This account's own credential”. Write-only: it is never shown again.",
    )  # fmt: skip
    email = forms.EmailField(label="Email (global API key)", required=False)
    api_key = forms.CharField(
        label="Global API key", required=False, strip=True, widget=WRITE_ONLY,
        help_text="Only if this account uses an email and global API key instead of a token.",
    )  # fmt: skip

    class Meta:
        model = CloudflareAccount
        fields = ["name", "account_id", "credential"]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        token, email, key = (cleaned.get(name) for name in ("api_token", "email", "api_key"))
        stored = cleaned.get("credential") == CloudflareAccount.Credential.STORED
        typed = token or email or key
        self.new_credentials = None
        if typed and not stored:
            raise forms.ValidationError(
                "A credential was typed but the account is set to use one from the environment: "
                "choose “This account's own credential” to store it."
            )
        if not stored:
            return cleaned
        if token and (email or key):
            raise forms.ValidationError("Enter an API token, or an email and global API key.")
        if bool(email) != bool(key):
            raise forms.ValidationError("A global API key needs both the email and the key.")
        if not typed:
            if self.instance.sealed_credential:
                return cleaned  # keep the stored one
            raise forms.ValidationError(
                "Enter the account's API token (or its email and global API key) to store it."
            )
        if not sealed.encryption_configured():
            raise forms.ValidationError(sealed.NO_KEY)
        try:
            self.new_credentials = Credentials(api_token=token or "", email=email, api_key=key)  # type: ignore[arg-type]
            sealed.seal(self.new_credentials)  # a bad key fails here, not after saving
        except CloudflareConfigurationError as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned

    def save(self, commit=True):
        account = super().save(commit=False)
        if account.credential != CloudflareAccount.Credential.STORED:
            if account.sealed_credential:
                account.sealed_credential = ""
                account.credential_changed_at = timezone.now()
        elif self.new_credentials is not None:
            account.sealed_credential = sealed.seal(self.new_credentials)
            account.credential_changed_at = timezone.now()
        if commit:
            account.save()
            self.save_m2m()
        return account


@admin.register(CloudflareAccount)
class CloudflareAccountAdmin(admin.ModelAdmin):
    form = CloudflareAccountForm
    list_display = ["name", "account_id", "credential", "created_at"]
    list_filter = ["credential"]
    search_fields = ["name", "account_id"]
    readonly_fields = ["stored_credential"]
    fieldsets = [
        (None, {"fields": ["name", "account_id"]}),
        (
            "Cloudflare credential",
            {"fields": ["credential", "stored_credential", "api_token", "email", "api_key"]},
        ),
    ]
    inlines = [MembershipInline]
    actions = ["check_connection"]

    @admin.action(description="Check connection")
    def check_connection(self, request, queryset):
        for account in queryset:
            check = account_connection_check(account=account)
            level = messages.SUCCESS if check.works else messages.ERROR
            self.message_user(request, f"{account.name}: {check.message}", level)

    @admin.display(description="Stored credential")
    def stored_credential(self, account):
        if not account.sealed_credential:
            return "None stored."
        return f"Stored, encrypted, since {account.credential_changed_at:%Y-%m-%d %H:%M} UTC."


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role", "created_at"]
    list_filter = ["role", "account"]
    search_fields = ["user__username", "user__email", "account__name", "account__account_id"]
    autocomplete_fields = ["user", "account"]
