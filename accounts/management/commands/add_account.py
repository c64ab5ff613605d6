"""Add a Cloudflare account and its first admin in one step (the README's *First run*)."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.cloudflare import credential_problem
from accounts.services import ENVIRONMENT_CREDENTIALS, AccountAddRefused, account_add


class Command(BaseCommand):
    help = (
        "Add a Cloudflare account and make the user with the given email its admin (creating "
        "that user when there is none). Safe to run again: the same arguments change nothing."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument(
            "account_id",
            nargs="?",
            help="The Cloudflare account ID (32 hexadecimal characters); "
            "CLOUDFLARE_ACCOUNT_ID when left out.",
        )
        parser.add_argument("--name", required=True, help="The account's name on this site.")
        parser.add_argument(
            "--admin",
            required=True,
            metavar="EMAIL",
            help="Email of the account's first admin; a new user's username is the email.",
        )
        parser.add_argument(
            "--credential",
            choices=[str(choice) for choice in ENVIRONMENT_CREDENTIALS],
            default="api_token",
            help="Which credential of the environment to call Cloudflare with: "
            "CLOUDFLARE_API_TOKEN (api_token, the default) or CLOUDFLARE_EMAIL and "
            "CLOUDFLARE_API_KEY (global_key).",
        )
        parser.add_argument(
            "--password-from-stdin",
            action="store_true",
            help="Read a new user's password from the first line of standard input.",
        )

    def handle(self, *args, **options):
        account_id = (options["account_id"] or settings.CLOUDFLARE_ACCOUNT_ID).strip().lower()
        if not account_id:
            raise CommandError("Name the Cloudflare account ID, or set CLOUDFLARE_ACCOUNT_ID.")
        password = None
        if options["password_from_stdin"]:
            password = options.get("stdin", sys.stdin).readline().rstrip("\r\n")  # type: ignore[union-attr]
            if not password:
                raise CommandError("No password on standard input.")
        try:
            added = account_add(
                account_id=account_id,
                name=options["name"],
                admin_email=options["admin"],
                credential=options["credential"],
                password=password,
            )
        except AccountAddRefused as exc:
            raise CommandError(str(exc)) from None
        account, username = added.account, added.admin.get_username()
        if not added.changed:
            self.stdout.write(
                f"{account.name} ({account.account_id}) exists with {username} as its admin: "
                "nothing changed."
            )
            return
        self.stdout.write(
            f"Added {account.name} ({account.account_id}), called with "
            f"{account.get_credential_display()}; {username} is its admin."
        )
        if added.user_created and password is None:
            self.stdout.write(
                f"{username} has no password yet: set one with "
                f"python manage.py changepassword {username}"
            )
        elif not added.user_created:
            self.stdout.write(f"{username} had a user already; their password is unchanged.")
        problem = credential_problem(account)
        if problem:
            self.stdout.write(self.style.WARNING(f"Cloudflare cannot be asked yet: {problem}"))
        self.stdout.write(f"They sign in at {settings.SITE_URL}/login/")
