"""What each person sees in a real browser on the pages they open every day: the AE's and the
CSM's figures and their explanations, finance's close and bulk approval, the what-if and the
search. Figures to the cent, the wording of the key explanation, no console error, nothing
wider than the window.
"""

import datetime
import io
import re

import pytest
from django.core.management import call_command

from accounts.models import Account
from payouts.models import Payout
from tests.conftest import assign, make_account
from tests.payouts.test_attainment_pages import charlie_deals  # noqa: F401 - fixture
from tests.payouts.test_recompute import alice_book  # noqa: F401 - fixture
from tests.payouts.test_whatif import MID_JUNE, pipeline  # noqa: F401 - fixture
from tests.system.test_browser import (  # noqa: F401 - fixtures
    CHROMIUM,
    browser,
    open_session,
)

D = datetime.date

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: apt-get install -y chromium"),
]


def recompute(as_of, quarter="2025Q2"):
    call_command("recompute", "--quarter", quarter, "--as-of", as_of, stdout=io.StringIO())


def fits(page) -> None:
    width = page.evaluate("() => document.documentElement.clientWidth")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, \
        f"{page.url} is wider than the window"


def squashed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.django_db(transaction=True)
def test_an_ae_reads_commission_payable_attainment_and_why_they_differ(
        charlie_deals, open_session):  # noqa: F811
    recompute("2025-07-14")
    for width in (1366, 390):
        session = open_session("charlie@example.com", width=width, height=800)
        page = session.page
        page.goto("/attainment/?quarter=2025Q2")
        assert page.locator("#amount").inner_text() == "$10,000.00"
        assert page.locator("#fraction").inner_text() == "80.00%"
        assert page.locator(".figure.payable .value").inner_text() == "$2,500.00"
        assert "$7,500.00 waits for contract invoices to be paid" in \
            page.locator(".figure.payable").inner_text()
        assert squashed(page.locator("#why-two").inner_text()) == (
            "Commission pays each bucket's ARR at its rate: $10,000.00, 80.00% of quarterly "
            "target pay. Attainment is the ARR added, $40,000.00, over the quota: 80.00%.")
        bucket = page.locator(".figure.bucket", has_text="New annual deals")
        assert "$10,000.00" in bucket.inner_text() and "$40,000.00 of ARR × 25.00%" in \
            bucket.inner_text()
        fits(page)
        session.screenshot(f"ae-attainment-{width}")
        assert session.csp_violations() == []
    # The deal opens its account's page on the deal and its invoices.
    page.click("table.attainment-deals >> text=D-1")
    page.wait_for_url(re.compile(r"/accounts/\d+/\?deal=D-1"))
    assert "Deal D-1" in page.locator(".deal-focus").inner_text()


@pytest.mark.django_db(transaction=True)
def test_a_csm_reads_her_bonus_its_change_and_what_moved_it(alice_book, users, open_session):  # noqa: F811
    from accounts.models import Invoice

    Invoice.objects.filter(external_id="A1-6").update(status="open", paid_on=None)
    recompute("2025-07-14")
    Invoice.objects.filter(external_id="A1-6").update(status="paid", paid_on=D(2025, 7, 10))
    recompute("2025-07-14")
    session = open_session("alice@example.com", width=390, height=844)
    page = session.page
    page.goto("/attainment/?quarter=2025Q2")
    assert page.locator("#amount").inner_text() == "$1,250.00"
    assert page.locator("#fraction").inner_text() == "50.00%"
    assert page.locator(".figure.metric .value").inner_text() == "110.00%"
    assert page.locator(".figure.amount .deltas").inner_text().startswith("+$1,250.00 since ")
    assert "the largest moves: Customer A-1 +$1,527.78." in page.locator("#glance").inner_text()
    assert "Final figures as of 2025-07-14" in page.locator(".card.status").inner_text()
    fits(page)
    session.screenshot("csm-attainment-change-390")
    assert session.csp_violations() == []


@pytest.mark.django_db(transaction=True)
def test_finance_closes_a_quarter_after_confirming_then_approves_every_payout_at_once(
        alice_book, people, users, open_session):  # noqa: F811
    recompute("2025-07-14")
    session = open_session("fiona@example.com", width=1366, height=768)
    page = session.page
    page.goto("/finance/2025Q2/")
    page.click("text=Close 2025Q2…")
    page.wait_for_url("**/close/")
    assert "Closing computes everyone's final figures for 2025Q2" in page.inner_text("main")
    assert not Payout.objects.exists()  # asking changed nothing
    with page.expect_navigation():
        page.click("button:has-text('Close 2025Q2')")
    assert "2025Q2 closed: 3 new payout(s) pending approval." in \
        page.locator(".messages").inner_text()
    assert page.locator(".grand-total").inner_text() == "$1,250.00"
    assert page.locator("text=Close 2025Q2…").count() == 0  # closed: the button is gone
    assert page.locator(".badge", has_text="2025Q2 closed").count() == 1

    page.click("text=Approve pending payouts…")
    page.wait_for_url("**/approve/")
    boxes = page.locator("table.bulk-approve input[type=checkbox]")
    assert boxes.count() == 3 and all(boxes.nth(i).is_checked() for i in range(3))
    assert page.locator("table.bulk-approve tfoot").inner_text().replace("\t", " ").endswith(
        "$1,250.00")
    fits(page)
    with page.expect_navigation():
        page.click("text=Approve the selected payouts")
    assert "3 payout(s) of 2025Q2 approved." in page.locator(".messages").inner_text()
    assert set(Payout.objects.values_list("status", flat=True)) == {"approved"}
    assert Payout.objects.get(person=people["alice"]).approved_by.username == "fiona@example.com"
    session.screenshot("finance-closed-and-approved")
    assert session.csp_violations() == []


@pytest.mark.django_db(transaction=True)
def test_an_ae_works_out_what_an_open_deal_would_pay_at_another_arr(pipeline, users, open_session):  # noqa: F811
    charlie, big = pipeline
    session = open_session("charlie@example.com", width=1366, height=768)
    page = session.page
    page.goto(f"/people/{charlie.id}/what-if/?on={MID_JUNE.isoformat()}")
    assert page.locator(".figure", has_text="Commission now").locator(".value").inner_text() \
        == "$5,000.00"
    row = page.locator("table.what-if-deals tr", has_text="D-BIG")
    # 10,000 x 0.25 = 2,500.00 more; attainment (20,000 + 10,000) / 50,000.
    assert row.locator("td.num").all_inner_texts()[1:4] == ["$7,500.00", "+$2,500.00", "60.00%"]
    page.fill(f"input[name=arr-{big.id}]", "36,000")
    with page.expect_navigation():
        page.click("button:has-text('Work it out')")
    row = page.locator("table.what-if-deals tr", has_text="D-BIG")
    # 36,000 x 0.25 = 9,000.00 more; attainment 56,000 / 50,000.
    assert row.locator("td.num").all_inner_texts()[1:4] == [
        "$14,000.00", "+$9,000.00", "112.00%"]
    fits(page)
    assert session.csp_violations() == []


@pytest.mark.django_db(transaction=True)
def test_the_search_box_finds_only_accounts_the_rep_may_open(
        alice_book, people, users, open_session):  # noqa: F811
    bobs = make_account("A-9", name="Another Bob account")
    assign(bobs, people["bob"], start=D(2024, 1, 1))
    session = open_session("alice@example.com", width=390, height=844)
    page = session.page
    page.click("nav >> text=Find")
    page.fill("#account-search", "A-")
    with page.expect_navigation():
        page.click("form[role=search] button")
    found = page.locator("table.search-results tbody tr")
    assert sorted(found.locator("td:nth-child(2)").all_inner_texts()) == ["A-1", "A-2"]
    assert "A-9" not in page.inner_text("main")  # Bob's account is not hers to find
    page.click("table.search-results >> text=Customer A-1")
    page.wait_for_url(f"**/accounts/{Account.objects.get(external_id='A-1').id}/")
    fits(page)
    assert session.csp_violations() == []
