import pytest
from django.db.models.signals import post_save

from accounts.models import CloudflareAccount
from notifications.receivers import email_channel_for_new_account

DISPATCH_UID = "notifications.email_channel_for_new_account"


@pytest.fixture(autouse=True)
def accounts_start_without_channels(request):
    """Each test here states the channels it needs: accounts made here do not get the email
    channel every new account gets, unless the test is marked `default_channels`."""
    if "default_channels" in request.keywords:
        yield
        return
    post_save.disconnect(sender=CloudflareAccount, dispatch_uid=DISPATCH_UID)
    try:
        yield
    finally:
        post_save.connect(
            email_channel_for_new_account, sender=CloudflareAccount, dispatch_uid=DISPATCH_UID
        )
