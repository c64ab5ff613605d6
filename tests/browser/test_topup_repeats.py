"""One intent, one charge: double clicks, repeated POSTs, back buttons, reloads and two tabs."""

import requests
from playwright.sync_api import expect

from tests.browser import flow
from topups.models import TopUp


def test_double_click_on_confirm_and_pay_creates_one_top_up(app, page, sandbox):
    sandbox.configure(latency_ms=500)  # keep the first request in flight while the second lands
    flow.sign_in(page, app)
    flow.open_amount_page(page, app)
    flow.review(page, "50")

    posts = []
    page.on(
        "request", lambda r: r.method == "POST" and "/topup/confirm/" in r.url and posts.append(r)
    )

    page.get_by_role("button", name="Confirm and pay").dblclick()

    expect(page.get_by_role("heading", name="Pay $50.00")).to_be_visible()
    assert len(posts) == 1, "the page sends the form once"
    assert TopUp.objects.count() == 1
    assert len(sandbox.requests("create")) == 1


def test_two_posts_of_one_review_form_reach_the_server_and_make_one_top_up(app, page, sandbox):
    """Without the page's guard (an old browser, a script, a proxy replaying): the server alone
    must turn two POSTs of the same form into one top-up and one create."""
    sandbox.configure(latency_ms=500)  # the second POST lands while the first is mid-create
    flow.sign_in(page, app)
    flow.open_amount_page(page, app)
    flow.review(page, "50")

    landed = page.evaluate("""async () => {
        const form = document.querySelector("form[data-submit-once]");
        const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
        const answers = await Promise.all([send(), send()]);
        return answers.map((answer) => [answer.status, new URL(answer.url).pathname]);
    }""")

    topup = flow.only_topup()
    pay_path = f"/accounts/{flow.DEMO_ACCOUNT_ID}/topups/{topup.pk}/pay/"
    detail_path = f"/accounts/{flow.DEMO_ACCOUNT_ID}/topups/{topup.pk}/"
    assert len(landed) == 2
    assert {status for status, _ in landed} == {200}
    assert {path for _, path in landed} <= {pay_path, detail_path}
    assert len(sandbox.requests("create")) == 1
    assert [e.kind for e in topup.events.all()] == ["created", "create_answered"]


def test_back_and_resubmit_lands_on_the_same_top_up(app, page, sandbox):
    flow.sign_in(page, app)
    flow.start_topup(page, app, "50")
    expect(page.get_by_role("heading", name="Pay $50.00")).to_be_visible()
    pay_url = page.url

    page.go_back()
    expect(page.get_by_role("heading", name="Review your top-up")).to_be_visible()
    flow.confirm_and_pay(page)

    expect(page.get_by_role("heading", name="Pay $50.00")).to_be_visible()
    assert page.url == pay_url
    expect(page.get_by_text("This top-up was already submitted; here it is.")).to_be_visible()
    assert TopUp.objects.count() == 1
    assert len(sandbox.requests("create")) == 1


def test_reloading_the_pay_page_never_creates_a_top_up(app, page, sandbox):
    flow.sign_in(page, app)
    flow.start_topup(page, app, "50")
    expect(flow.pay_button(page)).to_be_enabled()

    page.reload()
    page.reload()

    expect(flow.pay_button(page)).to_be_enabled()
    assert TopUp.objects.count() == 1
    assert len(sandbox.requests("create")) == 1


def test_two_tabs_paying_the_same_top_up_charge_once(app, page, sandbox, screenshot):

    flow.sign_in(page, app)
    flow.start_topup(page, app, "50")
    expect(flow.pay_button(page)).to_be_enabled()
    second_tab = page.context.new_page()
    second_tab.goto(page.url)
    expect(flow.pay_button(second_tab)).to_be_enabled()

    flow.fill_card(page, flow.GOOD)
    flow.pay_button(page).click()
    expect(flow.status_panel(page)).to_contain_text("credits added")
    flow.fill_card(second_tab, flow.GOOD)
    flow.pay_button(second_tab).click()

    expect(flow.status_panel(second_tab)).to_contain_text("$50.00 of credits added")
    charges = requests.get(
        f"{sandbox.localstripe_url}/v1/charges",
        timeout=10,
        headers={"Authorization": "Bearer sk_test_sandbox"},
    ).json()["data"]
    assert [c["amount"] for c in charges] == [5000]
    assert TopUp.objects.count() == 1


def test_a_deliberate_second_top_up_of_the_same_amount_is_a_new_one(app, page, sandbox):
    flow.sign_in(page, app)
    flow.pay_new_card(page, app, "50", flow.GOOD)
    expect(flow.status_panel(page)).to_contain_text("credits added")

    first = flow.only_topup()

    flow.start_topup(page, app, "50")  # same amount, same links, minutes later

    second = TopUp.objects.exclude(pk=first.pk).get()
    expect(page.get_by_role("heading", name=f"Top-up #{second.pk}")).to_be_visible()
    expect(page.get_by_text("already submitted")).to_have_count(0)
    assert len(sandbox.requests("create")) == 2


def test_the_hourly_cap_is_explained_on_the_amount_page(
    app, page, phone_page, sandbox, settings, screenshot
):
    settings.TOPUP_CAP_PER_HOUR = 1
    flow.sign_in(page, app)
    flow.start_topup(page, app, "50")
    expect(page.get_by_role("heading", name="Pay $50.00")).to_be_visible()

    for device, browser_page in (("desktop", page), ("phone", phone_page)):
        if browser_page is phone_page:
            flow.sign_in(phone_page, app)
        flow.start_topup(browser_page, app, "25")
        expect(browser_page.get_by_role("heading", name="Add AI Gateway credits")).to_be_visible()
        message = browser_page.locator(".message--error")
        expect(message).to_contain_text("has started 1 top-up in the last hour, the most allowed")
        expect(message).to_contain_text("You can start another at")
        screenshot(browser_page, f"flow-cap-reached-{device}")
    assert TopUp.objects.count() == 1
    assert len(sandbox.requests("create")) == 1
