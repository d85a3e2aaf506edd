import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Assignment, ImportRun, Lead, RowChange
from accounts.quarters import add_months, last_complete_month
from tests.conftest import assign, invoice, make_account, make_person, make_user, usage

TODAY = timezone.localdate()
LAST = last_complete_month(TODAY)  # first day of the last complete month
MONTHS = [add_months(LAST, -2), add_months(LAST, -1), LAST]


def text(response):
    """The page's text without tags or runs of white space."""
    content = response.content.decode()
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content)))


@pytest.fixture
def books(people):
    """alice holds Acme (monthly, invoiced) and Globex (red health, annual); bob holds
    Initech; charlie (another team) holds Umbrella."""
    acme = make_account(
        "ACME",
        name="Acme",
        segment="20k+",
        health_score=8,
        sentiment="positive",
        products=["session replay", "surveys"],
    )
    globex = make_account(
        "GLOBEX",
        name="Globex",
        billing="annual",
        segment="small",
        health_score=2,
        sentiment="neutral",
    )
    initech = make_account("INITECH", name="Initech", health_score=9)
    umbrella = make_account("UMBRELLA", name="Umbrella", health_score=9)
    assign(acme, people["alice"], start=datetime.date(2024, 1, 1))
    assign(globex, people["alice"], start=datetime.date(2024, 1, 1))
    assign(initech, people["bob"], start=datetime.date(2024, 1, 1))
    assign(umbrella, people["charlie"], role="ae", start=datetime.date(2024, 1, 1))
    # Acme's last three complete months: 100.10 + 200.20 + 300.30 = 600.60, x 4 = 2,402.40.
    for n, (month, amount) in enumerate(zip(MONTHS, ["100.10", "200.20", "300.30"], strict=True)):
        invoice(acme, f"INV-{n}", month, amount)
    invoice(acme, "INV-VOID", LAST, "5000.00", status="void")  # never revenue
    invoice(acme, "INV-CONTRACT", LAST, "9000.00", kind="contract")  # never revenue
    usage(globex, LAST, "1000.00")  # 1,000 x 4 = 4,000.00
    return dict(acme=acme, globex=globex, initech=initech, umbrella=umbrella)


@pytest.mark.django_db
def test_alice_sees_her_book_with_arr_to_the_cent(client_for, books):
    response = client_for("alice").get(reverse("home"))
    assert response.status_code == 200
    page = text(response)
    assert "My book" in page
    assert "Acme" in page and "Globex" in page
    assert "Initech" not in page and "Umbrella" not in page
    assert "$2,402.40" in page
    assert "$4,000.00" in page
    assert "$6,402.40" in page  # the ARR of the accounts shown
    assert reverse("account_detail", args=[books["acme"].id]) in response.content.decode()
    # her size against the CSM target of 30
    assert "28 below the target of 30" in page
    # Globex is red: at risk, with the reason
    assert "health 2 (red)" in page


@pytest.mark.django_db
def test_the_book_filters_by_health_billing_and_segment(client_for, books):
    client = client_for("alice")
    red = text(client.get(reverse("home"), {"health": "red"}))
    assert "Globex" in red and "Acme" not in red
    green = text(client.get(reverse("home"), {"health": "green"}))
    assert "Acme" in green and "Globex" not in green
    annual = text(client.get(reverse("home"), {"billing": "annual"}))
    assert "Globex" in annual and "Acme" not in annual
    segment = text(client.get(reverse("home"), {"segment": "20k+"}))
    assert "Acme" in segment and "Globex" not in segment
    assert "$2,402.40" in segment


@pytest.mark.django_db
def test_the_book_sorts_by_arr_and_paginates_by_25(client_for, people, books):
    client = client_for("alice")
    by_arr = client.get(reverse("home"), {"sort": "-arr"}).content.decode()
    assert by_arr.index("Globex") < by_arr.index("Acme")
    by_arr = client.get(reverse("home"), {"sort": "arr"}).content.decode()
    assert by_arr.index("Acme") < by_arr.index("Globex")
    for i in range(30):
        assign(make_account(f"Z-{i:02}", name=f"Zeta {i:02}"), people["alice"])
    first = text(client.get(reverse("home")))
    assert "Zeta 22" in first and "Zeta 23" not in first  # 2 + 23 = 25 rows
    second = text(client.get(reverse("home"), {"page": 2}))
    assert "Zeta 23" in second and "Zeta 29" in second and "Acme" not in second


@pytest.mark.django_db
def test_an_inherited_account_shows_its_grace_window(client_for, people, books):
    start = TODAY - datetime.timedelta(days=10)
    Assignment.objects.filter(account=books["initech"]).update(
        end_date=start - datetime.timedelta(days=1)
    )
    assign(books["initech"], people["alice"], start=start, inherited=True)
    page = text(client_for("alice").get(reverse("home")))
    grace_end = add_months(start, 3) - datetime.timedelta(days=1)
    assert f"yes, in grace until {grace_end:%Y-%m-%d}" in page


@pytest.mark.django_db
def test_the_grace_window_is_the_plans_grace_months(client_for, people, books):
    # A plan whose terms give 2 months of grace: the book says so, and after the second
    # month the account is no longer in grace (SPEC 3, the plan's `grace_months`).
    from payouts.models import PlanVersion

    PlanVersion.objects.filter(plan="csm_revenue_retention").update(grace_months=2)
    start = TODAY - datetime.timedelta(days=10)
    Assignment.objects.filter(account=books["initech"]).update(
        end_date=start - datetime.timedelta(days=1)
    )
    assign(books["initech"], people["alice"], start=start, inherited=True)
    page = text(client_for("alice").get(reverse("home")))
    grace_end = add_months(start, 2) - datetime.timedelta(days=1)
    assert f"yes, in grace until {grace_end:%Y-%m-%d}" in page
    after = grace_end + datetime.timedelta(days=1)
    later = text(client_for("alice").get(reverse("home"), {"on": after.isoformat()}))
    assert "in grace until" not in later


@pytest.mark.django_db
def test_the_book_shows_when_each_kind_of_data_was_last_imported(client_for, books):
    ImportRun.objects.create(kind="invoices", filename="invoices-june.csv", sha256="x" * 64)
    page = text(client_for("alice").get(reverse("home")))
    assert "invoices-june.csv" in page
    assert "Data last imported" in page


@pytest.mark.django_db
def test_an_ae_sees_open_leads_against_the_cap(client_for, people, books):
    Lead.objects.create(
        external_id="L-1", owner=people["charlie"], segment="20k+", created_on=TODAY
    )
    Lead.objects.create(
        external_id="L-2", owner=people["charlie"], segment="20k+", created_on=TODAY, status="lost"
    )
    page = text(client_for("charlie").get(reverse("home")))
    assert "1 accounts + 1 open leads" in page
    assert "2 / 20 cap" in page


@pytest.mark.django_db
def test_someone_without_a_book_sees_an_explanation(client_for, users, people, books):
    users["nobody"] = make_user("nobody@example.com", "rep")
    page = text(client_for("nobody").get(reverse("home")))  # a rep login without a person
    assert "not linked to a person" in page
    # A manager lands on the team page; their own book page still says why it is empty.
    page = text(client_for("maria").get(reverse("person_book", args=[people["maria"].id])))
    assert "no book role" in page


@pytest.mark.django_db
def test_reps_see_only_their_own_accounts(client_for, people, books):
    client = client_for("alice")
    assert client.get(reverse("account_detail", args=[books["initech"].id])).status_code == 404
    assert client.get(reverse("account_detail", args=[books["acme"].id])).status_code == 200
    assert client.get(reverse("person_book", args=[people["bob"].id])).status_code == 404
    assert client.get(reverse("person_book", args=[people["alice"].id])).status_code == 200


@pytest.mark.django_db
def test_a_rep_no_longer_opens_an_account_she_held_before(client_for, people, books):
    Assignment.objects.filter(account=books["acme"]).update(end_date=datetime.date(2024, 6, 30))
    assign(books["acme"], people["bob"], start=datetime.date(2024, 7, 1))
    client = client_for("alice")
    assert client.get(reverse("account_detail", args=[books["acme"].id])).status_code == 404
    assert "Acme" not in text(client.get(reverse("home")))
    # Her manager still opens it: it was in the book of someone on her team.
    assert client_for("maria").get(
        reverse("account_detail", args=[books["acme"].id])).status_code == 200


@pytest.mark.django_db
def test_reps_get_403_on_the_team_page(client_for, books):
    assert client_for("alice").get(reverse("team")).status_code == 403


@pytest.mark.django_db
def test_maria_sees_her_team_with_sizes_and_notes(client_for, people, books):
    response = client_for("maria").get(reverse("team"))
    assert response.status_code == 200
    page = text(response)
    assert "Alice" in page and "Bob" in page
    assert "Charlie" not in page
    assert "28 below the target of 30" in page  # alice: 2 accounts
    assert "29 below the target of 30" in page  # bob: 1 account
    assert "$6,402.40" in page  # alice's book ARR
    # she can open alice's book and account
    client = client_for("maria")
    alice_book = client.get(reverse("person_book", args=[people["alice"].id]))
    assert alice_book.status_code == 200
    assert "Alice's book" in text(alice_book)
    assert "$2,402.40" in text(alice_book)
    assert client.get(reverse("account_detail", args=[books["acme"].id])).status_code == 200


@pytest.mark.django_db
def test_an_ae_over_the_cap_is_flagged_bad_on_the_team_page(client_for, people, books):
    for i in range(19):
        assign(make_account(f"C-{i}"), people["charlie"], role="ae")
    Lead.objects.create(
        external_id="L-1", owner=people["charlie"], segment="20k+", created_on=TODAY
    )
    response = client_for("omar").get(reverse("team"))
    page = text(response)
    assert "Charlie" in page and "Alice" not in page
    # 20 accounts + 1 open lead = 21 against the cap of 20
    assert "Charlie AE 20 1 21 20 (cap) over the cap of 20 by 1" in page
    assert re.search(r'class="bad">\s*over the cap of 20 by 1', response.content.decode())


@pytest.mark.django_db
def test_finance_and_revops_see_everyone_on_the_team_page(client_for, books):
    for name in ("fiona", "rita"):
        page = text(client_for(name).get(reverse("team")))
        assert all(who in page for who in ("Alice", "Bob", "Charlie"))


@pytest.mark.django_db
def test_the_team_page_runs_a_fixed_number_of_queries(client_for, people, books):
    client = client_for("maria")
    client.get(reverse("team"))  # warm up the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("team")).status_code == 200
        return len(queries)

    small = count()
    for i in range(10):
        rep = make_person(f"rep{i}@example.com", roles=["csm"], manager=people["maria"])
        for j in range(3):
            acc = make_account(f"R{i}-{j}")
            assign(acc, rep)
            invoice(acc, f"RI{i}-{j}", LAST, "10.00")
    assert count() == small


@pytest.mark.django_db
def test_another_manager_gets_404_for_alices_book_and_accounts(client_for, people, books):
    client = client_for("omar")
    assert client.get(reverse("person_book", args=[people["alice"].id])).status_code == 404
    assert client.get(reverse("account_detail", args=[books["acme"].id])).status_code == 404
    assert client.get(reverse("account_detail", args=[books["umbrella"].id])).status_code == 200


@pytest.mark.django_db
def test_the_account_page_shows_owners_invoices_and_revenue_by_month(client_for, people, books):
    acme = books["acme"]
    Assignment.objects.filter(account=acme).update(end_date=datetime.date(2024, 12, 31))
    assign(
        acme,
        people["bob"],
        start=datetime.date(2025, 1, 1),
        inherited=True,
        reason="Alice moved to enterprise",
        created_by=None,
    )
    page = text(client_for("maria").get(reverse("account_detail", args=[acme.id])))
    assert "Owners over time" in page
    assert "CSM Alice 2024-01-01 2024-12-31 no" in page
    assert "CSM Bob 2025-01-01 now yes Alice moved to enterprise" in page
    # invoices, all kinds
    for external_id in ("INV-0", "INV-1", "INV-2", "INV-VOID", "INV-CONTRACT"):
        assert external_id in page
    assert "$9,000.00" in page
    # revenue by month: usage invoices only
    assert f"{LAST:%Y-%m} $300.30 usage invoices" in page
    assert f"{MONTHS[0]:%Y-%m} $100.10 usage invoices" in page
    assert f"{add_months(LAST, -3):%Y-%m} $0.00 none" in page
    assert "$2,402.40" in page


@pytest.mark.django_db
def test_the_account_page_lists_why_an_account_is_at_risk(client_for, people, books):
    globex = books["globex"]
    globex.sentiment = "negative"
    globex.active_users = 0
    globex.save()
    invoice(
        globex,
        "LATE-1",
        add_months(LAST, -3),
        "50.00",
        status="open",
        issued_on=TODAY - datetime.timedelta(days=45),
    )
    page = text(client_for("alice").get(reverse("account_detail", args=[globex.id])))
    assert "at risk" in page
    assert "health 2 (red)" in page
    assert "negative sentiment" in page
    assert "invoice LATE-1 unpaid 45 days after issue" in page
    assert "no active users in the last month" in page


@pytest.mark.django_db
def test_maria_reassigns_from_the_account_page(client_for, people, users, books):
    client = client_for("maria")
    url = reverse("account_detail", args=[books["acme"].id])
    page = client.get(url)
    assert 'action="{}"'.format(reverse("account_reassign", args=[books["acme"].id])) in (
        page.content.decode()
    )
    effective = TODAY + datetime.timedelta(days=1)
    response = client.post(
        reverse("account_reassign", args=[books["acme"].id]),
        {
            "role": "csm",
            "new_owner": people["bob"].id,
            "effective_date": effective.isoformat(),
            "reason": "Balance the books",
            "cap_override_reason": "",
        },
        follow=True,
    )
    page = text(response)
    assert f"Acme is Bob's (CSM) from {effective:%Y-%m-%d}" in page
    new = Assignment.objects.get(account=books["acme"], end_date=None)
    assert (new.owner, new.start_date, new.inherited, new.created_by) == (
        people["bob"],
        effective,
        True,
        users["maria"],
    )
    assert Assignment.objects.get(account=books["acme"], owner=people["alice"]).end_date == TODAY
    assert RowChange.objects.filter(key="ACME/csm", source="reassign").count() == 1


@pytest.mark.django_db
def test_the_reassign_form_shows_the_services_refusal(client_for, people, books):
    response = client_for("maria").post(
        reverse("account_reassign", args=[books["acme"].id]),
        {
            "role": "csm",
            "new_owner": people["bob"].id,
            "effective_date": "2024-01-01",
            "reason": "Too early",
        },
        follow=True,
    )
    page = text(response)
    assert (
        "Not reassigned. The effective date must be after Alice's assignment started "
        "(2024-01-01)" in page
    )
    assert Assignment.objects.filter(account=books["acme"]).count() == 1
    assert not RowChange.objects.exists()


@pytest.mark.django_db
def test_reps_and_other_managers_cannot_post_a_reassignment(client_for, people, books):
    data = {
        "role": "csm",
        "new_owner": people["bob"].id,
        "effective_date": TODAY.isoformat(),
        "reason": "x",
    }
    url = reverse("account_reassign", args=[books["acme"].id])
    assert client_for("alice").post(url, data).status_code == 403
    assert client_for("fiona").post(url, data).status_code == 403
    assert client_for("omar").post(url, data).status_code == 404
    assert Assignment.objects.filter(account=books["acme"]).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["home", "team"])
def test_anonymous_users_are_redirected_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_the_book_page_runs_a_fixed_number_of_queries(client_for, people, books):
    client = client_for("alice")
    client.get(reverse("home"))  # warm up the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("home")).status_code == 200
        return len(queries)

    small = count()
    for i in range(30):
        acc = make_account(f"X-{i}", health_score=1)
        assign(acc, people["alice"])
        invoice(acc, f"XI-{i}", LAST, "1.00")
    assert count() == small


@pytest.mark.django_db
def test_the_book_says_once_that_nothing_was_imported_yet(client_for, books):
    page = text(client_for("alice").get(reverse("home")))
    assert "No file imported yet" in page
    assert "never" not in page and "Data last imported" not in page
