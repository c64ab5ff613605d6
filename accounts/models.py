import json
from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

account_id_validator = RegexValidator(
    r"^[0-9a-f]{32}$", "A Cloudflare account ID is 32 lowercase hexadecimal characters."
)


class CloudflareAccount(models.Model):
    """A Cloudflare account whose AI Gateway credits this portal tops up."""

    class Credential(models.TextChoices):
        API_TOKEN = "api_token", "API token (CLOUDFLARE_API_TOKEN)"
        GLOBAL_KEY = "global_key", "Global API key (CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY)"
        STORED = "stored", "This account's own credential, stored encrypted"

    name = models.CharField(max_length=100)
    account_id = models.CharField(
        "Cloudflare account ID", max_length=32, unique=True, validators=[account_id_validator]
    )
    # Which credential to call Cloudflare with: one from the environment (the default), or the
    # account's own, for another Cloudflare organisation, sealed with a key that only the
    # environment holds (accounts/credentials.py). Write-only: no page ever shows it.
    credential = models.CharField(
        max_length=20, choices=Credential.choices, default=Credential.API_TOKEN
    )
    sealed_credential = models.TextField(blank=True, editable=False)
    credential_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # When reconciliation last claimed a fresh read of the invoices: at most one a minute per
    # account, whoever clicks on whichever worker (finance.reconcile).
    reconciled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(account_id__regex=r"^[0-9a-f]{32}$"),
                name="account_id_is_32_hex",
            ),
            models.CheckConstraint(
                condition=Q(credential__in=["api_token", "global_key"], sealed_credential="")
                | (Q(credential="stored") & ~Q(sealed_credential="")),
                name="account_credential_valid",
            ),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user's role on one account. Roles do not nest: each lists what it may do."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin (top up, view)"
        FINANCE = "finance", "Finance (view)"
        VIEWER = "viewer", "Viewer (view)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    account = models.ForeignKey(
        CloudflareAccount, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="one_membership_per_account"),
            models.CheckConstraint(
                condition=Q(role__in=["admin", "finance", "viewer"]), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.account}"

    @property
    def can_top_up(self) -> bool:
        return self.role == self.Role.ADMIN


class ApiBudget(models.Model):
    """Calls sent to Cloudflare with one credential in the current window, and any cool-down
    Cloudflare asked for: one row per credential, shared by every worker and machine.

    Cloudflare limits each token to about 1,200 calls per 5 minutes and blocks *every* call for
    5 minutes past that, top-ups included; see accounts.budget for how the row is spent."""

    # A fingerprint of the credential and base URL (accounts.budget), never the secret itself.
    credential = models.CharField(max_length=64, unique=True)
    window_started_at = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)
    cooldown_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Cloudflare API budget"

    def __str__(self):
        return f"{self.credential[:12]}… · {self.calls} calls since {self.window_started_at:%H:%M}"


class ResultEncoder(json.JSONEncoder):
    """Cloudflare's `result` back to JSON. The client reads a number with a fraction as Decimal
    (never a float, for arithmetic); Cloudflare's numbers are doubles, so each is written back
    as the same number."""

    def default(self, o):
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


class ResultDecoder(json.JSONDecoder):
    """Numbers with a fraction read as Decimal, as the client reads Cloudflare's answers."""

    def __init__(self, **kwargs):
        super().__init__(parse_float=Decimal, **kwargs)


class CachedRead(models.Model):
    """The last answer of one of Cloudflare's account reads (balance, usage, invoices, top-up
    limits), shared by every worker so that pages do not spend the API budget on each view
    (accounts.snapshots)."""

    account = models.ForeignKey(
        CloudflareAccount, on_delete=models.CASCADE, related_name="cached_reads"
    )
    kind = models.CharField(max_length=40)
    # When `value` was read: the last read that succeeded (it may have found nothing to hold:
    # an endpoint that does not exist).
    fetched_at = models.DateTimeField()
    # Cloudflare's `result` as it was sent (for the invoices, the objects of the pages read,
    # accounts.snapshots.HeldInvoices), parsed by the client's own `parse_*` when read back;
    # empty until a read succeeded, or when it found nothing to hold.
    value = models.JSONField(null=True, blank=True, encoder=ResultEncoder, decoder=ResultDecoder)
    # Nobody reads again before this time: a read is in flight (held for the longest it can
    # take), or the last one failed (backing off).
    attempt_until = models.DateTimeField(null=True, blank=True)
    # The last read failed at this time (after `fetched_at`): pages say the value is older.
    failed_at = models.DateTimeField(null=True, blank=True)
    # Something changed it (a top-up completed): read again at the next view, whatever its age.
    expired = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "kind"], name="one_cached_read_per_kind")
        ]

    def __str__(self):
        return f"{self.account} · {self.kind} · {self.fetched_at:%H:%M:%S}"
