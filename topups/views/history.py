"""The history of top-ups, per account or across all of the user's accounts, whose unfinished
rows refresh themselves: the page sends one request for all of them (see history-live.js)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.access import AccountRequest, AuthenticatedHttpRequest, account_view, memberships_of
from billing_portal.converters import parse_id
from billing_portal.pagination import PAGE_PARAMS, keyset_page, query_without
from topups import selectors
from topups.forms import HistoryFilterForm
from topups.services.status import topup_refresh_many
from topups.states import LIVE_STATES, TopUpState

PAGE_SIZE = 25
MAX_LIVE_ROWS = 100  # more than a page can show


@login_required
@require_GET
def topup_history_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = memberships_of(request)
    context = _history_context(
        request,
        account_ids=[m.account_id for m in memberships],
        live_url=reverse("topups:history_live_all"),
    )
    return render(request, "topups/history.html", {**context, "memberships": memberships})


@login_required
@require_GET
@account_view()
def topup_history(request: AccountRequest, account_id: str) -> HttpResponse:
    context = _history_context(
        request,
        account_ids=[request.account.pk],
        live_url=reverse("topups:history_live", args=[account_id]),
    )
    return render(request, "topups/history.html", context)


def _history_context(request: HttpRequest, *, account_ids: list[int], live_url: str) -> dict:
    form = HistoryFilterForm(
        request.GET or None, creators=selectors.topup_creator_list(account_ids=account_ids)
    )
    topups = selectors.topup_list(account_ids=account_ids, **form.filters())
    return {
        "form": form,
        "page": keyset_page(topups, request.GET, PAGE_SIZE),
        "filter_query": query_without(request.GET, *PAGE_PARAMS),
        "filtered": bool(form.filters()),
        "live_url": live_url,
        "live_states": LIVE_STATES,
    }


@login_required
@never_cache
@require_GET
def topup_history_live_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _live_rows(request, account_ids=[m.account_id for m in memberships_of(request)])


@login_required
@never_cache
@require_GET
@account_view()
def topup_history_live(request: AccountRequest, account_id: str) -> HttpResponse:
    return _live_rows(request, account_ids=[request.account.pk])


def _live_rows(request: HttpRequest, *, account_ids: list[int]) -> JsonResponse:
    """`?rows=12:processing,13:creating` — the unfinished rows a page shows, with the state it
    shows. Refreshes the due ones (within the API budget) and answers the rows that changed as
    server-rendered HTML, plus which are still unfinished."""
    shown = _parse_rows(request.GET.get("rows", ""))
    topups = list(selectors.topup_list(account_ids=account_ids).filter(pk__in=shown))
    if len(topups) != len(shown):
        raise Http404("No such top-up.")  # another tenant's, or never existed: the same answer
    topup_refresh_many(topups=[topup for topup in topups if topup.state in LIVE_STATES])
    changed = {
        str(topup.pk): render_to_string(
            "topups/_history_row.html", {"topup": topup, "live_states": LIVE_STATES}
        )
        for topup in topups
        if topup.state != shown[topup.pk]
    }
    live = [topup for topup in topups if topup.state in LIVE_STATES]
    delays = [topup.status_delay for topup in live if topup.status_delay]
    response = JsonResponse(
        {"rows": changed, "live": [t.pk for t in live], "delayed": delays[0] if delays else ""}
    )
    response["Cache-Control"] = "no-store"
    return response


def _parse_rows(raw: str) -> dict[int, str]:
    shown = {}
    for item in filter(None, raw.split(",")):
        raw_pk, _, state = item.partition(":")
        pk = parse_id(raw_pk)
        if pk is None or state not in TopUpState.values:
            raise BadRequest("rows must look like 12:processing,13:creating")
        shown[pk] = state
    if not shown or len(shown) > MAX_LIVE_ROWS:
        raise BadRequest(f"Between 1 and {MAX_LIVE_ROWS} rows.")
    return shown
