"""Resetting a forgotten password by email: Django's views, only where EMAIL_URL is set (else
404, and no page links to them). Changing one's password needs nothing beyond Django's own."""

from functools import wraps

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import Http404


def _by_email_only(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.PASSWORD_RESET_BY_EMAIL:
            raise Http404("Passwords are not reset by email here: EMAIL_URL is not set.")
        return view(request, *args, **kwargs)

    return wrapped


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, which answers alike whether or not the email belongs to someone; the link
    points at SITE_URL, like every link in this site's emails, never at the request's Host."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        # The new password proves the mailbox: the user's sign-in lockout (django-axes) ends.
        axes_reset(username=form.user.get_username())
        return response


reset = _by_email_only(PasswordResetView.as_view())
reset_sent = _by_email_only(auth_views.PasswordResetDoneView.as_view())
reset_confirm = _by_email_only(PasswordResetConfirmView.as_view())
reset_complete = _by_email_only(auth_views.PasswordResetCompleteView.as_view())
