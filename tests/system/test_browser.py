"""The pages in a real browser: Playwright drives Debian's Chromium (/usr/bin/chromium)
against the live server. Skipped, with the reason, when Chromium is not installed
(`apt-get install -y chromium`).

Each test collects the console: a page whose script or style the content security policy
blocked says so there, and fails the test. Each test saves a screenshot of its last page
in BROWSER_ARTIFACTS (default /tmp/browser-artifacts); the rep's dashboard at 1280 and 390
pixels wide.
"""

import csv
import datetime
import io
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import Assignment, Handoff
from accounts.quarters import Quarter
from payouts.models import Payout
from payouts.services import quarter_close
from tests.compapp.test_metrics import world  # noqa: F401 - fixture
from tests.conftest import assign, invoice, make_account
from tests.payouts.test_recompute import alice_book  # noqa: F401 - fixture

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", "/tmp/browser-artifacts"))
PASSWORD = "pw-for-tests-1"
D = datetime.date

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: apt-get install -y chromium"),
]


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module. Playwright's sync API keeps an event loop running in
    this thread, so Django would take the tests' own (synchronous, safe) database calls for
    async code: allow them while the browser runs."""
    sync_api = pytest.importorskip("playwright.sync_api")
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


class Session:
    """One user's browser context, with the console messages of every page it opened."""

    def __init__(self, browser, base_url, *, width=1280, height=900):
        self.context = browser.new_context(base_url=base_url, accept_downloads=True,
                                           viewport={"width": width, "height": height})
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.console = []
        self.page.on("console", lambda message: self.console.append(message.text))
        self.page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def login(self, email):
        page = self.page
        page.goto("/login/")
        page.fill("#id_username", email)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("form.card button[type=submit]")
        assert "/login/" not in page.url, f"{email} could not log in"
        return page

    def csp_violations(self):
        return [m for m in self.console
                if "Content Security Policy" in m or "Refused to" in m or "page error" in m]

    def screenshot(self, name):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self):
        self.context.close()


@pytest.fixture
def open_session(browser, live_server):
    sessions = []

    def start(email, **kw):
        session = Session(browser, live_server.url, **kw)
        sessions.append(session)
        session.login(email)
        return session

    yield start
    for session in sessions:
        session.close()


def charts_drawn(page):
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => c.dataset.rendered === 'true')")
    return page.eval_on_selector_all(
        "canvas[data-chart]", "cs => cs.map(c => [c.dataset.chart, c.width, c.height])")


def mark_page(page):
    """A mark that a full page load would wipe out."""
    page.evaluate("() => { window.__stillHere = true; }")


def still_same_page(page):
    return page.evaluate("() => window.__stillHere === true")


# --- a CSM ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_csm_sees_her_book_her_account_chart_and_the_projected_bonus_of_the_export(
    alice_book, users, open_session  # noqa: F811
):
    today = datetime.date.today()
    acme = make_account("ACME", name="Acme", segment="20k+", health_score=8)
    assign(acme, alice_book, start=D(2024, 1, 1))
    for months_back, amount in ((3, "1000.00"), (2, "1100.00"), (1, "1200.00")):
        month = (today.replace(day=1) - datetime.timedelta(days=28 * months_back)).replace(day=1)
        invoice(acme, f"ACME-{months_back}", month, amount)
    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-06-10",
                 stdout=io.StringIO())  # projected: before the cutoff
    out = io.StringIO()
    call_command("attainment", "2025Q2", "--format", "json", stdout=out)
    exported = {row["email"]: row for row in json.loads(out.getvalue())}
    projected = Decimal(exported["alice@example.com"]["amount"])
    assert exported["alice@example.com"]["final"] is False

    session = open_session("alice@example.com")
    page = session.page
    assert page.locator("h1").first.inner_text().startswith("My book")
    book_arr = page.locator(".shown-arr").inner_text()
    assert re.fullmatch(r"\$[\d,]+\.\d\d", book_arr) and book_arr != "$0.00"
    assert page.locator("table.book").get_by_text("Acme", exact=True).count() == 1

    page.click("table.book >> text=Acme")
    page.wait_for_url(re.compile(r"/accounts/\d+/$"))
    assert page.locator(".account-arr").inner_text() == "$13,200.00"  # 4 x 3,300
    drawn = charts_drawn(page)
    assert [name for name, *_ in drawn] == ["chart-arr"]
    assert all(width > 0 and height > 0 for _name, width, height in drawn)
    session.screenshot("csm-account-1280")

    page.goto("/attainment/?quarter=2025Q2")
    assert page.locator("#amount").inner_text() == f"${projected:,.2f}"
    assert page.locator(".status-projected").count() == 1
    charts_drawn(page)
    session.screenshot("csm-attainment-1280")
    page.goto("/")
    session.screenshot("csm-book-1280")
    assert session.csp_violations() == []

    narrow = open_session("alice@example.com", width=390, height=844)
    assert narrow.page.locator(".shown-arr").inner_text() == book_arr
    narrow.screenshot("csm-book-390")
    assert narrow.csp_violations() == []


# --- a manager -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_manager_reassigns_in_place_and_the_new_owner_sees_the_account(
    people, users, open_session
):
    acme = make_account("ACME", name="Acme", health_score=8)
    assign(acme, people["alice"], start=D(2024, 1, 1))
    session = open_session("maria@example.com")
    page = session.page
    page.goto(f"/accounts/{acme.id}/")
    mark_page(page)
    form = page.locator("form.reassign")
    form.locator("select[name=role]").select_option("csm")
    form.locator("select[name=new_owner]").select_option(label="Bob (CSM)")
    form.locator("textarea[name=reason]").fill("Alice's book is full")
    form.locator("button[type=submit]").click()
    result = page.locator("#reassign-result .success")
    result.wait_for()
    assert f"Acme is Bob's (CSM) from {datetime.date.today():%Y-%m-%d}." in result.inner_text()
    assert still_same_page(page), "the page reloaded"
    assert page.locator("#current-owners").inner_text() == "CSM: Bob"  # swapped in too
    assert page.locator("#owners tbody tr").count() == 2
    session.screenshot("manager-reassigned")
    assert session.csp_violations() == []

    bob = open_session("bob@example.com")
    assert bob.page.locator("table.book").get_by_text("Acme", exact=True).count() == 1
    assert Assignment.objects.get(account=acme, owner=people["bob"]).inherited is True


@pytest.mark.django_db(transaction=True)
def test_an_ae_proposes_a_hand_off_and_the_manager_approves_it(people, users, open_session):
    umbrella = make_account("UMB", name="Umbrella", active_users=1,
                            products=["product analytics"])
    assign(umbrella, people["charlie"], role="ae", start=D(2024, 1, 1))
    effective = datetime.date.today() + datetime.timedelta(days=7)
    ae = open_session("charlie@example.com")
    page = ae.page
    page.goto(f"/accounts/{umbrella.id}/")
    page.click("text=Propose a hand-off to a CSM")
    page.fill("[name=contact-0-user]", "ann@umbrella.example")
    page.check("[name=contact-0-contacted]")
    page.fill("[name=contact-0-notes]", "three emails, one call")
    page.select_option("[name=to_csm]", label="Alice")
    page.fill("[name=effective_date]", effective.isoformat())
    page.select_option("[name=other_team_could_use]", "no")
    page.select_option("[name=teams_enterprise_would_help]", "no")
    with page.expect_navigation():
        page.click("text=Propose the hand-off")
    handoff = Handoff.objects.get(account=umbrella)
    assert page.url.endswith(f"/team/handoffs/{handoff.id}/")
    assert ae.csp_violations() == []

    manager = open_session("omar@example.com")
    page = manager.page
    page.goto("/team/handoffs/")
    page.click(f"a[href='/team/handoffs/{handoff.id}/']")
    page.fill("#id_comment", "Expansion done.")
    with page.expect_navigation():
        page.click("text=Approve the move")
    assert f"Umbrella is Alice's (CSM, inherited) from {effective:%Y-%m-%d}" in \
        page.locator(".messages").inner_text()
    manager.screenshot("manager-approved-handoff")
    assert manager.csp_violations() == []
    handoff.refresh_from_db()
    assert handoff.status == "approved"


# --- finance -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_finance_approves_a_payout_in_place_and_downloads_the_export(
    alice_book, people, users, open_session  # noqa: F811
):
    quarter_close(quarter=Quarter.parse("2025Q2"), today=D(2025, 7, 20))
    payout = Payout.objects.get(person=people["alice"], quarter="2025Q2")
    session = open_session("fiona@example.com")
    page = session.page
    page.goto("/finance/2025Q2/")
    mark_page(page)
    row = page.locator(f"tr#payout-{payout.id}")
    row.locator("button:has-text('Approve')").click()
    page.locator(f"tr#payout-{payout.id}[data-status=approved]").wait_for()
    row = page.locator(f"tr#payout-{payout.id}")
    assert "Approved" in row.locator(".badge").first.inner_text()
    assert "Alice's 2025Q2 payout approved." in row.inner_text()
    assert still_same_page(page), "the page reloaded"
    payout.refresh_from_db()
    assert payout.status == "approved" and payout.approved_by == users["fiona"]

    with page.expect_download() as download:
        page.click("text=Payroll CSV")
    assert download.value.suggested_filename == "payouts-2025Q2.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert {row["email"] for row in rows} == {"alice@example.com"}  # approved ones only
    with page.expect_download() as table_export:
        page.click(".table-export >> text=Export CSV")
    exported = Path(table_export.value.path()).read_text()
    assert exported.startswith("Person,Team,Plan,Status")
    session.screenshot("finance-queue")
    assert session.csp_violations() == []


# --- everyone: the metrics ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_metrics_page_draws_its_charts(world, users, open_session):  # noqa: F811
    session = open_session("rita@example.com")
    page = session.page
    page.goto("/metrics/?on=2025-05-15")
    drawn = charts_drawn(page)
    assert {name for name, *_ in drawn} == {
        "chart-revenue", "chart-win-rate", "chart-time-to-close", "chart-leads",
        "chart-pipeline-trend", "chart-pipeline-owners"}
    assert all(width > 0 and height > 0 for _name, width, height in drawn)
    assert "$5,100.00" in page.locator("table.metrics-trend").inner_text()
    page.select_option("#id_segment", "smb")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert "segment=smb" in page.url
    charts_drawn(page)
    page.goto("/metrics/?on=2025-05-15")
    session.screenshot("metrics")
    assert session.csp_violations() == []
