"""Writes on accounts: an account and its first admin, the top-up limits Cloudflare sets
(cached in the database), auto top-up."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.cloudflare import client_for_account
from accounts.models import CloudflareAccount, Membership
from accounts.money import format_cents
from accounts.snapshots import account_snapshots_expire, account_topup_limits
from cloudflare_client import (
    CloudflareAuthError,
    CloudflareClient,
    CloudflareConfigurationError,
    CloudflareError,
    CloudflareValidationError,
)
from cloudflare_client.minimums import TOPUP_MIN_CENTS

logger = logging.getLogger(__name__)

# --- adding an account -------------------------------------------------------------------------


class AccountAddRefused(Exception):
    """Nothing was written; the message says why, for the operator."""


@dataclass(frozen=True)
class AccountAdded:
    account: CloudflareAccount
    admin: User
    user_created: bool
    changed: bool  # False: the account and its admin were there already, as asked


ENVIRONMENT_CREDENTIALS = (
    CloudflareAccount.Credential.API_TOKEN,
    CloudflareAccount.Credential.GLOBAL_KEY,
)


def account_add(
    *, account_id: str, name: str, admin_email: str, credential: str, password: str | None = None
) -> AccountAdded:
    """The account, a user for `admin_email` (unless one has that email or username already) and
    their admin membership, in one transaction. A new user gets `password`, or none they can sign
    in with until one is set; an existing user's password is never touched. Running it again
    with the same arguments (a password included, when it is the user's) changes nothing; an
    account that exists otherwise is refused."""
    name, email = name.strip(), admin_email.strip().lower()
    account = _account_to_add(account_id=account_id, name=name, credential=credential, email=email)
    user, user_is_new = _admin_to_add(email=email, password=password)
    existing = CloudflareAccount.objects.filter(account_id=account_id).first()
    if existing is not None:
        _refuse_unless_the_same_again(
            existing, account=account, user=user, user_is_new=user_is_new, password=password
        )
        return AccountAdded(existing, user, user_created=False, changed=False)
    if not user_is_new and password is not None:
        raise _keeps_password(user)
    try:
        with transaction.atomic():
            account.save()
            if user_is_new:
                if password is None:
                    user.set_unusable_password()
                else:
                    user.set_password(password)
                user.save()
            Membership.objects.create(user=user, account=account, role=Membership.Role.ADMIN)
    except IntegrityError:  # added meanwhile by someone else
        raise AccountAddRefused(
            f"The account {account_id} (or the user {email}) was added meanwhile; run it again."
        ) from None
    return AccountAdded(account, user, user_created=user_is_new, changed=True)


def _account_to_add(
    *, account_id: str, name: str, credential: str, email: str
) -> CloudflareAccount:
    """The account row, checked but not saved; the admin's email is checked here too so that
    the refusals come in the order the command's options are read."""
    if not name:
        raise AccountAddRefused("Give the account a name with --name.")
    if credential not in ENVIRONMENT_CREDENTIALS:
        raise AccountAddRefused(
            "The credential is api_token or global_key (from the environment); an account's "
            "own credential is typed into its page in the Django admin."
        )
    account = CloudflareAccount(account_id=account_id, name=name, credential=credential)
    try:
        validate_email(email)
        account.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise AccountAddRefused(" ".join(exc.messages)) from None
    return account


def _admin_to_add(*, email: str, password: str | None) -> tuple[User, bool]:
    """The user with that email or username, or a new one (checked, not saved), and whether
    it is new."""
    User = get_user_model()
    users = list(User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email))[:2])
    if len(users) > 1:
        raise AccountAddRefused(
            f"Several users have the email {email}: give one of them the admin role in the "
            "Django admin instead."
        )
    if users:
        return users[0], False
    user = User(username=email, email=email)
    try:
        user.full_clean(exclude=["password"])
        if password is not None:
            validate_password(password, user)
    except ValidationError as exc:
        raise AccountAddRefused(" ".join(exc.messages)) from None
    return user, True


def _refuse_unless_the_same_again(
    existing: CloudflareAccount,
    *,
    account: CloudflareAccount,
    user: User,
    user_is_new: bool,
    password: str | None,
) -> None:
    same = (existing.name, existing.credential) == (account.name, account.credential) and (
        not user_is_new
        and Membership.objects.filter(
            account=existing, user=user, role=Membership.Role.ADMIN
        ).exists()
    )
    if not same:
        raise AccountAddRefused(
            f"The account {existing.account_id} already exists (“{existing.name}”) and differs "
            "from what was asked: change it, and its members, in the Django admin."
        )
    # The same run again, password included; the hashers' check, not the user's, which would
    # save an upgraded hash.
    if password is not None and not check_password(password, user.password):
        raise _keeps_password(user)


def _keeps_password(user: User) -> AccountAddRefused:
    return AccountAddRefused(
        f"{user.get_username()} has a user already and keeps their password; to change it, "
        f"run: python manage.py changepassword {user.get_username()}"
    )


# --- checking the connection -------------------------------------------------------------------

# Cloudflare's code for a credential it knows that may not touch the account asked about.
ACCOUNT_FORBIDDEN = 9109
CONNECTION_MESSAGES = {
    "works": (
        "the connection works. Cloudflare answered with this account's credential: the balance "
        "is {balance}. Top-ups also need the “AI Gateway Write” permission, which a read cannot "
        "test."
    ),
    "authentication": (
        "Cloudflare refused the credential ({said}). The token (or global API key) is wrong or "
        "revoked, or it lacks the “AI Gateway Read” permission on this account; top-ups need "
        "“AI Gateway Write”."
    ),
    "forbidden": (
        "Cloudflare refused this credential access to the account ({said}). Give the token the "
        "“AI Gateway Read” and “AI Gateway Write” permissions on account {account_id}, or check "
        "the account ID."
    ),
    "refused": "Cloudflare refused the request: {reason}",
    "unavailable": "{reason} Nothing is known about the credential yet: try again in a minute.",
}


@dataclass(frozen=True)
class ConnectionCheck:
    works: bool
    message: str  # a sentence for the operator, with no secret in it


def account_connection_check(*, account: CloudflareAccount) -> ConnectionCheck:
    """Read the balance with the account's own credential, within its API budget, and say
    whether that works and, if not, why."""
    try:
        balance = client_for_account(account).balance.get(account.account_id)
    except CloudflareConfigurationError as exc:  # not configured, or cannot be opened
        return ConnectionCheck(False, str(exc))
    except CloudflareAuthError as exc:
        codes = [error.code for error in exc.errors]
        said = f"HTTP {exc.status_code}" + "".join(
            f", code {error.code}: {error.message}" for error in exc.errors
        )
        key = "forbidden" if ACCOUNT_FORBIDDEN in codes else "authentication"
        message = CONNECTION_MESSAGES[key].format(said=said, account_id=account.account_id)
        return ConnectionCheck(False, message)
    except CloudflareValidationError as exc:
        return ConnectionCheck(
            False, CONNECTION_MESSAGES["refused"].format(reason=exc.user_message)
        )
    except CloudflareError as exc:
        logger.warning("Account %s: connection check failed (%s)", account.pk, exc)
        return ConnectionCheck(
            False, CONNECTION_MESSAGES["unavailable"].format(reason=exc.user_message)
        )
    balance_display = format_cents(balance.balance_cents)
    return ConnectionCheck(True, CONNECTION_MESSAGES["works"].format(balance=balance_display))


# --- top-up limits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AmountLimits:
    min_cents: int
    max_cents: int


def account_limits(*, account: CloudflareAccount) -> AmountLimits:
    """Cloudflare's limits for this account, a cached read (accounts.snapshots): asked at most
    hourly, by one worker for all. Where the (optional, deprecated) endpoint does not exist,
    TOPUP_MIN_CENTS and TOPUP_MAX_CENTS apply until the next hourly try; when it fails, Cloudflare's
    last answer (or that fallback) applies and it is asked again a minute later."""
    snapshot = account_topup_limits(account=account)
    if snapshot is None:
        return AmountLimits(TOPUP_MIN_CENTS, settings.TOPUP_MAX_CENTS)
    # Never below Cloudflare's documented minimum, whatever an answer said.
    return AmountLimits(
        min_cents=max(snapshot.value.min_cents, TOPUP_MIN_CENTS),
        max_cents=snapshot.value.max_cents,
    )


# --- auto top-up ------------------------------------------------------------------------------

AUTO_TOPUP_DASHBOARD_URL = "https://dash.cloudflare.com/{account_id}/ai/ai-gateway"


class AutoTopUpRefused(Exception):
    """Cloudflare did not take the change; the message says why and what to do, for the user."""

    def __init__(self, message: str, dashboard_url: str = ""):
        super().__init__(message)
        self.dashboard_url = dashboard_url


AUTO_TOPUP_MESSAGES = {
    "dashboard_only": (
        "Cloudflare only lets its own dashboard change auto top-up: it refuses API tokens like "
        "this portal's. Nothing was changed here. Make the change on the AI Gateway page of the "
        "Cloudflare dashboard."
    ),
    "unavailable": (
        "Cloudflare could not be reached, so nothing was changed. Try again in a few minutes."
    ),
    "refused": "Cloudflare refused the change: {reason}",
    "saved": "Auto top-up is on: below {threshold}, Cloudflare adds {amount}.",
    "removed": "Auto top-up is off.",
}


def account_auto_topup_set(
    *, account: CloudflareAccount, amount_cents: int, threshold_cents: int
) -> None:
    _write_auto_topup(
        account,
        lambda client: client.auto_topup.set(
            account.account_id, amount_cents=amount_cents, threshold_cents=threshold_cents
        ),
    )


def account_auto_topup_remove(*, account: CloudflareAccount) -> None:
    _write_auto_topup(account, lambda client: client.auto_topup.delete(account.account_id))


def _write_auto_topup(
    account: CloudflareAccount, write: Callable[[CloudflareClient], None]
) -> None:
    try:
        write(client_for_account(account))
    except CloudflareAuthError as exc:
        raise AutoTopUpRefused(
            AUTO_TOPUP_MESSAGES["dashboard_only"],
            AUTO_TOPUP_DASHBOARD_URL.format(account_id=account.account_id),
        ) from exc
    except CloudflareValidationError as exc:
        raise AutoTopUpRefused(
            AUTO_TOPUP_MESSAGES["refused"].format(reason=exc.user_message)
        ) from exc
    except CloudflareError as exc:
        raise AutoTopUpRefused(AUTO_TOPUP_MESSAGES["unavailable"]) from exc
    # A threshold above the balance fires auto top-up at once: a new invoice, a new balance.
    account_snapshots_expire(account=account, kinds=("balance", "invoices"))
