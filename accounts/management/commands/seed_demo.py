"""Create the demo accounts and users of the sandbox. Safe to run again: it converges."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import CloudflareAccount, Membership

DEMO_ACCOUNTS = [
    # (Cloudflare account id, name) — the ids the sandbox knows (sandbox/config.py).
    ("023e105f4ecef8ad9ca31a8372d0c353", "Acme AI (production)"),
    ("4f1e5cfd2e7a4b9a8c3d6e0f1a2b3c4d", "Acme AI (staging)"),
]
PRODUCTION, STAGING = (account_id for account_id, _ in DEMO_ACCOUNTS)
# username -> (password, {account id: role}, is Django staff/superuser)
DEMO_USERS = {
    "admin": ("admin-sandbox", {PRODUCTION: "admin", STAGING: "admin"}, False),
    "finance": ("finance-sandbox", {PRODUCTION: "finance", STAGING: "finance"}, False),
    "viewer": ("viewer-sandbox", {PRODUCTION: "viewer"}, False),
    "operator": ("operator-sandbox", {}, True),
}


class Command(BaseCommand):
    help = "Seed the sandbox's demo accounts and users (admin, finance, viewer, operator)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though BILLING_SANDBOX is false (never on a real deployment).",
        )

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if not settings.BILLING_SANDBOX and not force:
            raise CommandError(
                "Refusing to create demo users with published passwords outside sandbox mode "
                "(BILLING_SANDBOX is false). Pass --force if you really mean it."
            )
        accounts = {}
        for account_id, name in DEMO_ACCOUNTS:
            accounts[account_id], _ = CloudflareAccount.objects.update_or_create(
                account_id=account_id,
                defaults={"name": name, "credential": CloudflareAccount.Credential.API_TOKEN},
            )
        User = get_user_model()
        for username, (password, roles, is_operator) in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(username=username)
            user.email = f"{username}@example.com"
            user.is_staff = user.is_superuser = is_operator
            user.set_password(password)
            user.save()
            Membership.objects.filter(user=user).exclude(account__account_id__in=roles).delete()
            for account_id, role in roles.items():
                Membership.objects.update_or_create(
                    user=user, account=accounts[account_id], defaults={"role": role}
                )
            self.stdout.write(
                f"  {username:<9} password {password:<17} "
                + (
                    ", ".join(f"{r} on {accounts[a].name}" for a, r in roles.items())
                    or "site operator (Django admin)"
                )
            )
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
