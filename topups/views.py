from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from topups import selectors


@login_required
def home(request):
    memberships = list(selectors.membership_list_for_user(user=request.user))
    recent = selectors.topup_list_recent(account_ids=[m.account_id for m in memberships])
    return render(request, "topups/home.html", {"memberships": memberships, "recent": recent})
