"""A former owner no longer sees the customer (issue 10): a rep opens an account, its
invoices and its exports only while it is in their book. What they held earlier they see
through their own figures only: the lines of their attainment, statements and payouts for
the quarters they held it, named but not linked, and nothing dated after their time.

The world: Acme had three CSMs on Maria's team. Ezra held it until two years ago, Alice
from then until yesterday, Bob from today. Its usage doubles every quarter from the one Ezra
last held whole (quarter E), so each full quarter's holder is at 200% retention against the
120% target: bonus fraction 5 x $2,500.00 quarterly target pay = $12,500.00.
"""

import csv
import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Assignment, Person
from accounts.quarters import Quarter, add_months
from payouts.models import AttainmentSnapshot, PersonPlan
from payouts.risk import at_risk
from payouts.services import quarter_close
from tests.conftest import assign, make_account, make_person, make_user, usage

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)
EZRA_UNTIL = TODAY - datetime.timedelta(days=730)
E = Quarter.containing(EZRA_UNTIL).previous()  # Ezra's last whole quarter with Acme
CURRENT = Quarter.containing(YESTERDAY)  # the quarter in which Alice handed Acme over
BONUS = "$12,500.00"


def quarters_back(quarter: Quarter, n: int) -> list[Quarter]:
    found = [quarter]
    for _ in range(n):
        found.append(found[-1].previous())
    return found[1:]


LOOK_BACK = quarters_back(CURRENT, 4)  # the four quarters before the current one


def text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode()


def quarter_index(quarter: Quarter) -> int:
    return quarter.year * 4 + quarter.number - 1


@pytest.fixture
def acme(people, users):
    ezra = make_person("ezra@example.com", roles=["csm"], manager=people["maria"],
                       start=datetime.date(2022, 1, 1))
    users["ezra"] = make_user("ezra@example.com", "rep")
    account = make_account("ACME", name="Acme", health_score=2)  # red: at risk
    assign(account, ezra, start=datetime.date(2022, 1, 1), end=EZRA_UNTIL)
    assign(account, people["alice"], start=EZRA_UNTIL + datetime.timedelta(days=1),
           end=YESTERDAY)
    assign(account, people["bob"], start=TODAY, inherited=True)
    month = datetime.date(2022, 1, 1)
    while month <= TODAY:
        doublings = max(0, quarter_index(Quarter.containing(month)) - quarter_index(E) + 1)
        usage(account, month, str(1000 * 2**doublings))
        month = add_months(month, 1)
    return account


def account_urls(account):
    page = reverse("account_detail", args=[account.id])
    return [page, f"{page}?on={YESTERDAY}", f"{page}?_export=csv&_table=inv-"]


def attainment(client, person, quarter):
    return client.get(reverse("person_attainment", args=[person.id]),
                      {"quarter": str(quarter)})


def account_row(html: str, external_id: str) -> list[str]:
    match = re.search(rf'<tr[^>]*data-account="{external_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row for {external_id}"
    return re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)


# --- the account page and its exports ----------------------------------------------------


@pytest.mark.django_db
def test_a_rep_whose_assignment_ended_two_years_ago_gets_404(client_for, acme):
    client = client_for("ezra")
    for url in account_urls(acme):
        assert client.get(url).status_code == 404, url
    # nor may he log a feature request or propose anything about it
    new_request = reverse("feature_request_new", args=[acme.id])
    assert client.get(new_request).status_code == 404


@pytest.mark.django_db
def test_a_rep_who_handed_over_yesterday_gets_404_as_of_today(client_for, acme):
    client = client_for("alice")
    for url in account_urls(acme):
        assert client.get(url).status_code == 404, url


@pytest.mark.django_db
def test_the_new_owner_and_the_team_manager_still_open_the_account(client_for, acme):
    for who in ("bob", "maria"):
        client = client_for(who)
        page = client.get(reverse("account_detail", args=[acme.id]))
        assert page.status_code == 200, who
        # the owners' history keeps every former owner, for those who may open the page
        assert "Ezra" in text(page) and "Alice" in text(page)
        export = client.get(account_urls(acme)[2])
        assert export["Content-Type"].startswith("text/csv")


@pytest.mark.django_db
def test_an_assignment_starting_tomorrow_does_not_open_the_account_today(client_for, acme):
    Assignment.objects.filter(account=acme, owner__email="bob@example.com").update(
        start_date=TODAY + datetime.timedelta(days=1))
    assert client_for("bob").get(reverse("account_detail", args=[acme.id])).status_code == 404


# --- the book and at-risk pages ------------------------------------------------------------


@pytest.mark.django_db
def test_a_reps_book_on_an_earlier_day_lists_only_what_she_holds_today(client_for, people,
                                                                       acme):
    still = make_account("KEPT", name="Kept Co")
    assign(still, people["alice"], start=datetime.date(2024, 1, 1))
    client = client_for("alice")
    page = text(client.get(reverse("home"), {"on": str(YESTERDAY)}))
    assert "Kept Co" in page and "Acme" not in page
    assert "Only the accounts in the book today are listed" in page
    export = client.get(reverse("home"), {"on": str(YESTERDAY), "_export": "csv"})
    rows = list(csv.reader(io.StringIO(text(export))))
    assert [r[0] for r in rows[1:]] == ["Kept Co"]
    # her manager sees her book of that day as it was
    book = text(client_for("maria").get(reverse("person_book", args=[people["alice"].id]),
                                        {"on": str(YESTERDAY)}))
    assert "Acme" in book and "Kept Co" in book
    assert "Only the accounts in the book today" not in book


@pytest.mark.django_db
def test_the_at_risk_page_of_an_earlier_day_leaves_out_a_handed_over_account(
    client_for, people, users, acme
):
    url = reverse("person_at_risk", args=[people["alice"].id])
    # Acme is red and was in her book yesterday: the rule finds it...
    assert [r.external_id for r in at_risk(people["alice"], CURRENT, YESTERDAY)] == ["ACME"]
    # ...but she is shown nothing of it, on the page or in its export
    client = client_for("alice")
    page = text(client.get(url, {"on": str(YESTERDAY)}))
    assert "0 accounts at risk" in page and "Acme" not in page
    export = text(client.get(url, {"on": str(YESTERDAY), "_export": "csv", "_table": "risk-"}))
    assert "Acme" not in export and len(export.strip().splitlines()) == 1  # the header only
    assert at_risk(people["alice"], CURRENT, YESTERDAY, viewer=users["alice"]) == []
    # her manager sees her at-risk list of that day as it was
    managed = text(client_for("maria").get(url, {"on": str(YESTERDAY)}))
    assert "1 account at risk" in managed and "Acme" in managed


# --- their own figures ------------------------------------------------------------------------


@pytest.mark.django_db
def test_statements_and_attainment_of_their_own_quarters_still_show_their_lines(
    client_for, people, users, acme
):
    ezra = Person.objects.get(email="ezra@example.com")
    for quarter in [E, *LOOK_BACK]:
        quarter_close(quarter=quarter, today=quarter.cutoff + datetime.timedelta(days=1))
    account_page = reverse("account_detail", args=[acme.id])
    checks = [("ezra", ezra, E)] + [("alice", people["alice"], q) for q in LOOK_BACK]
    for who, person, quarter in checks:
        client = client_for(who)
        statement = client.get(reverse("finance_statement", args=[person.id, str(quarter)]))
        assert statement.status_code == 200, (who, quarter)
        lines = re.search(r'<table class="lines">(.*?)</table>', text(statement), re.S).group(1)
        assert "Retention bonus" in lines and BONUS in lines, (who, quarter)
        page = attainment(client, person, quarter)
        html = text(page)
        assert page.status_code == 200 and f'id="amount">{BONUS}<' in html, (who, quarter)
        cells = account_row(html, "ACME")
        assert cells[0].startswith("Acme") and "href" not in cells[0], (who, quarter)
        assert account_page not in html
        assert cells[2] == "", "no live run rate of an account they no longer hold"
        assert "yes" in cells[6]  # counted: their own line of that quarter
    # the lines' export is theirs too
    response = client_for("ezra").get(reverse("person_attainment", args=[ezra.id]),
                                      {"quarter": str(E), "_export": "csv", "_table": "acc-"})
    assert "Acme (ACME)" in text(response)


@pytest.mark.django_db
def test_this_quarters_attainment_of_whoever_just_handed_over_keeps_the_line(
    client_for, people, acme
):
    call_command("recompute", "--quarter", str(CURRENT), "--as-of", str(TODAY),
                 stdout=io.StringIO())
    html = text(attainment(client_for("alice"), people["alice"], CURRENT))
    cells = account_row(html, "ACME")
    assert cells[0].startswith("Acme") and "href" not in cells[0]
    assert "left the book during the quarter" in cells[7]
    assert cells[2] == ""
    # Her manager opens the account from the same line, with its run rate now.
    managed = text(attainment(client_for("maria"), people["alice"], CURRENT))
    cells = account_row(managed, "ACME")
    assert f'href="{reverse("account_detail", args=[acme.id])}"' in cells[0]
    assert cells[2].startswith("$")


@pytest.mark.django_db
def test_an_ae_sees_an_account_moved_out_this_quarter_named_not_linked(client_for, people,
                                                                       acme):
    charlie = people["charlie"]
    PersonPlan.objects.create(person=charlie, quarter=str(CURRENT), plan="ae_commission",
                              quota=50000)
    moved = make_account("MOVED", name="Moved Co")
    assign(moved, charlie, role="ae", start=datetime.date(2024, 1, 1), end=YESTERDAY)
    call_command("recompute", "--quarter", str(CURRENT), "--as-of", str(TODAY),
                 stdout=io.StringIO())
    assert AttainmentSnapshot.objects.filter(person=charlie, quarter=str(CURRENT)).exists()
    html = text(attainment(client_for("charlie"), charlie, CURRENT))
    if YESTERDAY < CURRENT.end:  # moved out during the quarter (not on its last day)
        assert re.search(r"<li>[^<]*: Moved Co <span", html), "the move is named, unlinked"
    assert reverse("account_detail", args=[moved.id]) not in html
