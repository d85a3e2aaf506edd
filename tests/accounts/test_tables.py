"""Every table sorts, pages and exports to CSV (`accounts.display.tables`): the export has the rows
of the page's filters and sort, all of them rather than one page, and its cells cannot run
as spreadsheet formulas."""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from accounts.display.tables import export_cell
from accounts.quarters import Quarter
from payouts.services import quarter_close
from tests.compapp.test_book_pages import LAST, MONTHS, books  # noqa: F401 - fixture
from tests.conftest import assign, invoice, make_account
from tests.payouts.test_recompute import alice_book  # noqa: F401 - fixture

D = datetime.date


def read_csv(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize(("cell", "safe"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+cmd", "'+cmd"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("-1250.50", "-1250.50"),  # a number stays a number
    ("Acme", "Acme"),
    (None, ""),
])
def test_a_cell_a_spreadsheet_would_run_is_quoted(cell, safe):
    assert export_cell(cell) == safe


def test_html_of_a_rendered_cell_is_dropped_but_raw_text_is_kept():
    from django.utils.html import format_html

    assert export_cell(format_html('<a href="/x">{}</a> <span>{}</span>', "A&B", "ID-1")) \
        == "A&B ID-1"
    assert export_cell("a <b> c") == "a <b> c"  # data, not markup


@pytest.mark.django_db
def test_a_book_exports_its_rows_with_a_formula_looking_name_neutralised(
    books, people, client_for  # noqa: F811
):
    evil = make_account("EVIL", name='=HYPERLINK("http://evil.example","click")',
                        segment="20k+", health_score=5)
    assign(evil, people["alice"], start=D(2024, 1, 1))
    invoice(evil, "INV-EVIL", LAST, "10.00")
    client = client_for("alice")
    page = client.get(reverse("home"))
    assert 'href="/?_export=csv"' in page.content.decode()
    rows = read_csv(client.get(reverse("home"), {"_export": "csv"}))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["Account", "External id", "Billing", "Segment", "ARR"]
    by_id = {row[1]: row for row in body}
    assert set(by_id) == {"ACME", "GLOBEX", "EVIL"}  # alice's book, nobody else's
    assert by_id["EVIL"][0] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert by_id["ACME"][0] == "Acme"
    assert by_id["ACME"][4] == "2402.40"  # the number to the cent, not "$2,402.40"
    assert by_id["GLOBEX"][header.index("At risk")].startswith("health 2 (red)")
    # The filters of the page apply to the export.
    rows = read_csv(client.get(reverse("home"), {"_export": "csv", "segment": "small"}))
    assert [row[1] for row in rows[1:]] == ["GLOBEX"]
    # So does the sort.
    rows = read_csv(client.get(reverse("home"), {"_export": "csv", "sort": "-arr"}))
    assert [row[1] for row in rows[1:]] == ["GLOBEX", "ACME", "EVIL"]


@pytest.mark.django_db
def test_the_export_has_every_row_not_only_the_page(people, client_for):
    for i in range(30):
        assign(make_account(f"X-{i:02}", name=f"Customer {i:02}"), people["alice"],
               start=D(2024, 1, 1))
    client = client_for("alice")
    page = client.get(reverse("home"))
    assert page.context["table"].paginator.num_pages == 2
    assert "all 30 rows, not only this page" in page.content.decode()
    rows = read_csv(client.get(reverse("home"), {"_export": "csv", "page": "2"}))
    assert len(rows) == 31


@pytest.mark.django_db
def test_a_page_with_several_tables_exports_the_one_asked_for(books, client_for):  # noqa: F811
    client = client_for("alice")
    url = reverse("account_detail", args=[books["acme"].id])
    page = client.get(url).content.decode()
    assert "_export=csv&amp;_table=inv-" in page
    rows = read_csv(client.get(url, {"_export": "csv", "_table": "inv-"}))
    assert rows[0][0] == "Invoice"
    assert {row[0] for row in rows[1:]} == {"INV-0", "INV-1", "INV-2", "INV-VOID",
                                             "INV-CONTRACT"}
    # Without the table's prefix, the page itself.
    assert client.get(url, {"_export": "csv"})["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_the_finance_queue_pages_sorts_and_exports(alice_book, people, client_for):  # noqa: F811
    quarter_close(quarter=Quarter.parse("2025Q2"), today=D(2025, 7, 20))
    client = client_for("fiona")
    page = client.get("/finance/2025Q2/", {"sort": "-total_amount"})
    assert page.status_code == 200
    first = page.context["table"].page.object_list[0].record
    assert first.person.email == "alice@example.com"
    rows = read_csv(client.get("/finance/2025Q2/", {"_export": "csv", "sort": "person"}))
    assert rows[0][:4] == ["Person", "Team", "Plan", "Status"]
    assert "" not in rows[0]  # the actions column is not exported
    assert [row[0] for row in rows[1:]] == ["Alice", "Bob", "Charlie"]
    alice = rows[1]
    assert alice[3] == "Pending approval"
    assert alice[rows[0].index("Total")] == "1250.00"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "user", "url"), [
    ("team", "maria", "/team/"),
    ("feature requests", "maria", "/team/feature-requests/"),
    ("recompute runs", "maria", "/recompute/"),
    ("plan acknowledgements", "fiona", "/finance/plans/2025Q2/"),
])
def test_other_tables_export_too(people, client_for, name, user, url):
    client = client_for(user)
    page = client.get(url)
    assert page.status_code == 200
    table = page.context["table"] if "table" in page.context else page.context["runs"]
    # The link shows under a table with rows; an empty table exports its header.
    assert ("Export CSV" in page.content.decode()) == bool(len(table.data)), name
    params = {"_export": "csv"}
    if table.prefix:
        params["_table"] = table.prefix
    rows = read_csv(client.get(url, params))
    assert rows[0], name


@pytest.mark.django_db
def test_attainment_tables_sort_and_export(alice_book, client_for):  # noqa: F811
    from django.core.management import call_command

    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-14",
                 stdout=io.StringIO())
    client = client_for("alice")
    url = reverse("my_attainment")
    page = client.get(url, {"quarter": "2025Q2", "acc-sort": "-contribution"})
    assert page.status_code == 200
    rows = read_csv(client.get(url, {"quarter": "2025Q2", "_export": "csv", "_table": "acc-",
                                     "acc-sort": "-contribution"}))
    assert rows[0][0] == "Account"
    contributions = [row[rows[0].index("Contribution")] for row in rows[1:]]
    assert contributions == sorted(contributions, key=lambda c: -float(c or 0))
    assert Quarter.parse("2025Q2")  # the quarter of the figures
