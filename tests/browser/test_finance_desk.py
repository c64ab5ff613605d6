"""The finance desk in Chromium: the queue with its counts, resolving with a note, confirming
one and many, the export dialog; desktop and 375 px."""

from functools import partial

from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import CloudflareAccount
from tests import factories
from tests.browser import flow
from tests.topups.steps import paid_at_cloudflare
from topups.models import TopUp
from topups.states import TopUpState


def seed_queue(sandbox) -> dict[str, TopUp]:
    account = CloudflareAccount.objects.get(account_id=flow.DEMO_ACCOUNT_ID)
    admin = get_user_model().objects.get(username="admin")
    finance = get_user_model().objects.get(username="finance")

    make = partial(factories.topup, account=account, created_by=admin)

    paid_ids = [paid_at_cloudflare(account, sandbox) for _ in range(2)]
    return {
        "unknown": make(state=TopUpState.UNKNOWN, amount_cents=5000),
        "stale": make(
            state=TopUpState.STALE,
            amount_cents=2500,
            payment_intent_id="in_gone",
            stale_reason="Cloudflare no longer knows this top-up's id.",
        ),
        "paid_1": make(
            state=TopUpState.COMPLETED, amount_cents=5000, payment_intent_id=paid_ids[0]
        ),
        "paid_2": make(
            state=TopUpState.COMPLETED, amount_cents=5000, payment_intent_id=paid_ids[1]
        ),
        "own": make(state=TopUpState.UNKNOWN, amount_cents=1000, created_by=finance),
    }


def open_desk(page, app):
    flow.sign_in(page, app, "finance", "finance-sandbox")
    page.get_by_role("link", name="Finance desk").click()
    expect(page.get_by_role("heading", name="Finance desk")).to_be_visible()


def test_resolve_confirm_and_bulk_confirm(app, page, sandbox, screenshot):
    rows = seed_queue(sandbox)
    open_desk(page, app)
    tabs = page.get_by_role("navigation", name="Kinds of top-ups")
    expect(tabs).to_contain_text("5 Everything needing attention")
    expect(tabs).to_contain_text("2 Completed, not confirmed")
    own_row = page.locator(f"#desk-row-{rows['own'].pk}")
    expect(own_row).to_contain_text("You started it: another finance member acts on it")
    expect(own_row.get_by_role("button")).to_have_count(0)
    screenshot(page, "finance-desk-desktop")

    page.locator(f"#desk-row-{rows['unknown'].pk}").get_by_role("link", name="Resolve").click()
    expect(
        page.get_by_role("heading", name=f"Resolve top-up #{rows['unknown'].pk}")
    ).to_be_visible()
    page.get_by_role("button", name=f"Resolve top-up #{rows['unknown'].pk}").click()
    expect(page.get_by_text("Choose whether the card was charged.")).to_be_visible()
    page.get_by_label("Charged: the money arrived").check()
    page.get_by_label("Note for the record").fill("Seen on invoice in_abc123, paid")
    screenshot(page, "finance-resolve-desktop")
    page.get_by_role("button", name=f"Resolve top-up #{rows['unknown'].pk}").click()
    expect(page.get_by_text(f"Top-up #{rows['unknown'].pk} resolved as charged")).to_be_visible()

    page.get_by_label(f"Select top-up #{rows['paid_1'].pk}").check()
    page.get_by_label(f"Select top-up #{rows['paid_2'].pk}").check()
    page.get_by_role("button", name="Confirm selected payments").click()
    expect(page.get_by_text("2 of 2 confirmed.")).to_be_visible()
    # The one resolved as charged waits for a second finance member.
    expect(tabs).to_contain_text("3 Everything needing attention")
    expect(page.locator(f"#desk-row-{rows['unknown'].pk}")).to_contain_text(
        "You resolved it: another finance member confirms it"
    )

    for name in ("unknown", "paid_1", "paid_2"):
        rows[name].refresh_from_db()
    assert rows["unknown"].state == TopUpState.COMPLETED
    assert rows["unknown"].resolution_note == "Seen on invoice in_abc123, paid"
    assert rows["paid_1"].confirmed_by.username == "finance"
    assert rows["paid_2"].confirmed_at is not None
    # The one refused form answered 400, which Chromium logs; nothing else went wrong.
    assert [e for e in page.console_errors if "status of 400" not in e] == []


def test_export_dialog_and_download(app, page, sandbox, screenshot):
    seed_queue(sandbox)
    open_desk(page, app)
    page.get_by_role("link", name="Stale", exact=False)  # the tabs are links: no reload needed
    page.get_by_role("link", name="Export CSV").click()

    dialog = page.get_by_role("dialog", name="Export 5 top-ups as CSV")
    expect(dialog).to_be_visible()
    screenshot(page, "finance-export-dialog-desktop")
    with page.expect_download() as download_info:
        dialog.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "topups-all-accounts-all-dates.csv"
    lines = open(download.path()).read().splitlines()  # noqa: SIM115
    assert len(lines) == 1 + 5
    expect(dialog).to_be_hidden()


def test_the_desk_on_a_phone(app, phone_page, sandbox, screenshot):
    seed_queue(sandbox)
    open_desk(phone_page, app)
    screenshot(phone_page, "finance-desk-phone")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    phone_page.get_by_role("link", name="Export CSV").click()
    expect(phone_page.get_by_role("dialog")).to_be_visible()
    screenshot(phone_page, "finance-export-dialog-phone")


def test_reconciliation_records_an_auto_top_up(app, page, phone_page, sandbox, screenshot):
    """The demo past has invoices made outside this portal; finance records one from the page."""
    sandbox.reset(demo_history=True)
    seed_queue(sandbox)
    open_desk(page, app)
    page.get_by_role("link", name="Reconciliation with invoices").click()
    expect(page.get_by_role("heading", name="Reconciliation", exact=True)).to_be_visible()
    unmatched = page.locator(".table--unmatched").first
    auto_row = unmatched.locator("tr", has_text="Auto top-up").filter(has_text="Paid").first
    invoice_id = auto_row.locator("code").inner_text()
    screenshot(page, "finance-reconciliation-desktop")

    auto_row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Record selected as top-ups").first.click()

    expect(page.get_by_text("1 invoice(s) recorded as top-ups.")).to_be_visible()
    expect(page.get_by_text(invoice_id)).to_have_count(0)
    recorded = TopUp.objects.get(payment_intent_id=invoice_id)
    assert (recorded.origin, recorded.recorded_by.username, recorded.confirmed_by) == (
        TopUp.Origin.AUTO,
        "finance",
        None,
    )

    page.get_by_role("button", name="Reconcile now").click()
    expect(page.locator(".message--success")).to_have_count(2)  # one line per finance account
    expect(page.locator(".message--success").first).to_contain_text("settled by their invoice")
    assert page.console_errors == []

    open_desk(phone_page, app)
    phone_page.goto(page.url)
    screenshot(phone_page, "finance-reconciliation-phone")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_top_up_shows_its_invoice_and_a_lost_create_takes_one(app, page, sandbox, screenshot):
    rows = seed_queue(sandbox)
    paid = rows["paid_1"]
    # $50.00 charged at Cloudflare with no row here: the lost create's one candidate.
    invoice_id = paid_at_cloudflare(paid.account, sandbox)
    flow.sign_in(page, app, "finance", "finance-sandbox")
    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/topups/{paid.pk}/")
    expect(page.locator("#topup-invoice")).to_contain_text("Paid · $50.00 paid")
    screenshot(page, "topup-detail-invoice-desktop")

    lost = rows["unknown"]
    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/topups/{lost.pk}/resolve/")
    choices = page.get_by_role("group", name="Which invoice charged it")
    expect(choices.get_by_role("radio")).to_have_count(2)  # the invoice, or none of these
    choices.get_by_label(invoice_id).check()
    page.get_by_label("Charged: the money arrived").check()
    page.get_by_label("Note for the record").fill("Its invoice, same amount and minute.")
    screenshot(page, "finance-resolve-candidates-desktop")
    page.get_by_role("button", name=f"Resolve top-up #{lost.pk}").click()

    expect(page.get_by_text(f"Top-up #{lost.pk} resolved as charged")).to_be_visible()
    lost.refresh_from_db()
    assert lost.payment_intent_id == invoice_id


def test_reconciliation_shows_what_a_person_must_decide(app, page, phone_page, sandbox, screenshot):
    """An invoice for another amount, an invoice that could be a lost create's, and a top-up
    resolved as not charged whose invoice is paid: each shown for a person, none settled."""
    account = CloudflareAccount.objects.get(account_id=flow.DEMO_ACCOUNT_ID)
    admin = get_user_model().objects.get(username="admin")
    finance = get_user_model().objects.get(username="finance")

    make = partial(factories.topup, account=account, created_by=admin)

    mismatched = make(
        state=TopUpState.STALE,
        amount_cents=5000,
        payment_intent_id=paid_at_cloudflare(account, sandbox, 7500),
    )
    lost = make(state=TopUpState.UNKNOWN, amount_cents=4200)
    lost_invoice = paid_at_cloudflare(account, sandbox, 4200)
    not_charged = make(
        state=TopUpState.FAILED,
        amount_cents=3000,
        payment_intent_id=paid_at_cloudflare(account, sandbox, 3000),
        resolved_by=finance,
        resolved_at=timezone.now(),
        resolution_note="Nothing on the statement.",
    )

    flow.sign_in(page, app, "finance", "finance-sandbox")
    page.goto(f"{app}/finance/reconciliation/")
    mismatch_row = page.locator(".table--mismatches tr", has_text=f"#{mismatched.pk}")
    expect(mismatch_row).to_contain_text("$50.00")
    expect(mismatch_row).to_contain_text("$75.00")
    expect(mismatch_row).to_contain_text("Not settled: a person decides.")
    lost_row = page.locator(".table--unmatched tr", has_text=lost_invoice)
    expect(lost_row).to_contain_text(f"Could be top-up #{lost.pk}, outcome unknown")
    expect(lost_row.get_by_role("checkbox")).to_have_count(0)
    flagged = page.locator(".table--contradicted tr", has_text=f"#{not_charged.pk}")
    expect(flagged).to_contain_text("Resolved as not charged, but Cloudflare's invoice is paid.")
    screenshot(page, "finance-reconciliation-decisions-desktop")

    page.get_by_role("button", name="Reconcile now").click()
    expect(page.locator(".message--success").first).to_contain_text("0 top-up(s) settled")
    mismatched.refresh_from_db()
    assert mismatched.state == TopUpState.STALE

    page.goto(f"{app}/finance/")
    tabs = page.get_by_role("navigation", name="Kinds of top-ups")
    expect(tabs).to_contain_text("1 Resolved as not charged, but Cloudflare's invoice is paid")
    screenshot(page, "finance-desk-not-charged-but-paid-desktop")

    mismatch_row = page.locator(f"#desk-row-{mismatched.pk}")
    mismatch_row.get_by_role("link", name="Resolve").click()
    expect(page.locator("#resolve-invoice")).to_contain_text("invoiced $75.00, not $50.00")
    expect(page.locator("#resolve-invoice-paid")).to_be_visible()
    expect(page.locator("#resolve-status")).to_contain_text("Not asked")
    screenshot(page, "finance-resolve-mismatch-desktop")
    page.get_by_label("Not charged: no payment was taken").check()
    page.get_by_label("Note for the record").fill("No charge seen.")
    page.get_by_role("button", name=f"Resolve top-up #{mismatched.pk}").click()
    expect(page.get_by_role("alert")).to_contain_text("is paid: it was charged")
    screenshot(page, "finance-resolve-invoice-paid-desktop")
    mismatched.refresh_from_db()
    assert mismatched.state == TopUpState.STALE

    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/topups/{lost.pk}/resolve/")
    page.get_by_label("Charged: the money arrived").check()
    page.get_by_role("radio", name="None of these").check()
    page.get_by_label("Note for the record").fill("The card statement shows it.")
    page.get_by_role("button", name=f"Resolve top-up #{lost.pk}").click()
    expect(page.get_by_text("say why none of them is it")).to_be_visible()
    screenshot(page, "finance-resolve-reason-needed-desktop")
    assert [e for e in page.console_errors if "status of 400" not in e] == []

    flow.sign_in(phone_page, app, "finance", "finance-sandbox")
    phone_page.goto(f"{app}/finance/reconciliation/")
    expect(phone_page.locator(".table--contradicted")).to_be_visible()
    screenshot(phone_page, "finance-reconciliation-decisions-phone")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
