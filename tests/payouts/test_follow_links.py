"""Find and follow: every invoice id, deal and payout line on a page links to its source (the
invoice's row on its account's page, the deal's invoices, the computation behind a line)."""

import datetime
import io
import re

import pytest
from django.core.management import call_command

from accounts.models import Account, Invoice
from accounts.quarters import Quarter
from payouts.models import AttainmentSnapshot, Payout
from payouts.services import quarter_close
from tests.payouts.test_attainment_pages import charlie_deals, page, recompute, text  # noqa: F401
from tests.payouts.test_attainment_pages import table as html_table
from tests.payouts.test_recompute import alice_book  # noqa: F401

D = datetime.date


@pytest.mark.django_db
def test_an_ae_deal_opens_its_account_page_on_the_deal_and_its_invoices(
        charlie_deals, client_for):  # noqa: F811
    recompute("2025-07-14")
    client = client_for("charlie")
    html = text(page(client, charlie_deals))
    b1 = Account.objects.get(external_id="B-1").id
    deals = html_table(html, "attainment-deals")
    link = f"/accounts/{b1}/?deal=D-1#invoices"
    assert f'<a href="{link}">D-1</a>' in deals
    account_page = client.get(link.split("#")[0]).content.decode()
    card = re.search(r'<div class="card deal-focus" id="deal-D-1">(.*?)</div>', account_page,
                     re.S).group(1)
    assert "Deal D-1" in card and "ARR $40,000.00" in card and "2025-05-02" in card
    assert "Showing the invoices of deal D-1 only" in account_page
    assert sorted(re.findall(r"<td[^>]*>(C-\d)</td>", account_page)) == ["C-1", "C-2"]


@pytest.mark.django_db
def test_an_invoice_id_opens_the_account_page_on_that_invoice_alone(alice_book, client_for):  # noqa: F811
    client = client_for("alice")
    a1 = Account.objects.get(external_id="A-1").id
    html = client.get(f"/accounts/{a1}/").content.decode()
    # The month table links each invoice id to its row.
    assert '<a href="?invoice=A1-5#invoices">A1-5</a>' in html
    focused = client.get(f"/accounts/{a1}/", {"invoice": "A1-5"}).content.decode()
    assert re.findall(r"<td[^>]*>(A1-\d)</td>", focused) == ["A1-5"]
    assert "Showing invoice A1-5 only" in focused and "show all invoices" in focused


@pytest.mark.django_db
def test_a_payout_line_links_to_the_computation_that_produced_it(alice_book, client_for):  # noqa: F811
    recompute("2025-07-14")
    quarter_close(quarter=Quarter.parse("2025Q2"), today=D(2025, 7, 20))
    payout = Payout.objects.get(person=alice_book, quarter="2025Q2")
    client = client_for("alice")
    statement = client.get(f"/finance/statements/{alice_book.id}/2025Q2/").content.decode()
    link = f"/people/{alice_book.id}/attainment/?quarter=2025Q2&amp;snapshot={payout.snapshot_id}"
    assert f'<a href="{link}" class="line-source">2025Q2 final figures as of 2025-07-14</a>' \
        in statement
    # A later recompute (an invoice changed after the close) makes a newer snapshot; the
    # line still opens the one the payout was made from, and says a newer one exists.
    Invoice.objects.filter(external_id="A1-4").update(amount="1200.00")
    recompute("2025-07-14")
    assert AttainmentSnapshot.objects.filter(person=alice_book, quarter="2025Q2").count() == 2
    opened = client.get(link.replace("&amp;", "&")).content.decode()
    assert 'id="older-computation"' in opened
    assert re.search(r'id="amount">\$1,250\.00<', opened)
    latest = text(page(client, alice_book))
    assert 'id="older-computation"' not in latest
    # Someone else's computation, or one of another quarter, is not found.
    other = client.get(f"/people/{alice_book.id}/attainment/",
                       {"quarter": "2025Q1", "snapshot": payout.snapshot_id})
    assert other.status_code == 404
    assert client.get(f"/people/{alice_book.id}/attainment/",
                      {"quarter": "2025Q2", "snapshot": "x"}).status_code == 404


@pytest.mark.django_db
def test_a_carried_line_links_the_invoices_it_names(alice_book, client_for):  # noqa: F811
    # A1-6 paid after the 2025Q2 cutoff: its money reaches the 2025Q3 payout as a late line.
    Invoice.objects.filter(external_id="A1-6").update(paid_on=D(2025, 7, 20))
    recompute("2025-07-14")
    quarter_close(quarter=Quarter.parse("2025Q2"), today=D(2025, 7, 20))
    call_command("recompute", "--quarter", "2025Q3", "--as-of", "2025-10-14",
                 stdout=io.StringIO())
    quarter_close(quarter=Quarter.parse("2025Q3"), today=D(2025, 10, 20))
    line = Payout.objects.get(person=alice_book, quarter="2025Q3").lines.get(
        bucket="late_payment")
    assert "A1-6" in line.source
    statement = client_for("alice").get(
        f"/finance/statements/{alice_book.id}/2025Q3/").content.decode()
    a1 = Account.objects.get(external_id="A-1").id
    assert f'<a href="/accounts/{a1}/?invoice=A1-6#invoices">A1-6</a>' in statement
    # The carried money's computation is 2025Q2's figures, not 2025Q3's.
    assert f'href="/people/{alice_book.id}/attainment/?quarter=2025Q2" class="line-source"' \
        in statement
