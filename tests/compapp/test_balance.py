"""The monthly book balance review (SPEC 8): every book against its role's cap or target,
its ARR, accounts at risk and in grace, with moves suggested from over-full books to
under-full ones of the same role; managers only."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Lead
from compapp.workspace.balance import balance_rows, balance_suggestions
from tests.conftest import assign, make_account, make_person

TODAY = timezone.localdate()


def text(response) -> str:
    content = response.content.decode()
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content)))


@pytest.fixture
def team(people):
    """Maria: Alice holds 53 CSM accounts (3 above the usual 50, two red, one inherited 10
    days ago), Bob 28 (2 under the target of 30), Carol 29 (1 under). Omar: Charlie holds
    20 AE accounts and 1 open lead (over the cap of 20 by 1), Dave 12 (within range)."""
    maria, omar = people["maria"], people["omar"]
    carol = make_person("carol@example.com", roles=["csm"], manager=maria)
    dave = make_person("dave@example.com", roles=["ae"], team="sales", manager=omar)
    for i in range(53):
        account = make_account(f"AL-{i:02}", name=f"Alice {i:02}", health_score=2 if i < 2 else 8)
        if i == 52:
            assign(account, people["alice"], start=TODAY - datetime.timedelta(days=10),
                   inherited=True)
        else:
            assign(account, people["alice"])
    for owner, count, prefix in ((people["bob"], 28, "BO"), (carol, 29, "CA")):
        for i in range(count):
            assign(make_account(f"{prefix}-{i:02}", health_score=8), owner)
    for i in range(20):
        assign(make_account(f"CH-{i:02}", health_score=8), people["charlie"], role="ae")
    Lead.objects.create(external_id="L-1", owner=people["charlie"], segment="20k+",
                        created_on=TODAY)
    for i in range(12):
        assign(make_account(f"DA-{i:02}", health_score=8), dave, role="ae")
    return dict(carol=carol, dave=dave)


@pytest.mark.django_db
def test_it_pairs_over_full_books_with_under_full_ones_of_the_same_role(users, team):
    rows = balance_rows(users["maria"], TODAY)
    alice = next(r for r in rows if r.row.name == "Alice")
    assert (alice.row.size, alice.excess, alice.at_risk, alice.in_grace) == (53, 3, 2, 1)
    suggestions = [(s.source.row.name, s.target.row.name if s.target else None, s.count)
                   for s in balance_suggestions(rows)]
    assert suggestions == [("Alice", "Bob", 2), ("Alice", "Carol", 1)]


@pytest.mark.django_db
def test_the_page_shows_suggestions_counts_and_links(client_for, people, team):
    response = client_for("maria").get(reverse("balance"))
    assert response.status_code == 200
    page = text(response)
    assert ("Move 2 accounts of CSM Alice (53, above the usual 30 to 50) to Bob "
            "(28, 2 below the target of 30)") in page
    assert "Move 1 account of CSM Alice (53, above the usual 30 to 50) to Carol" in page
    assert "Alice CSM 53 — 53 30 (target) above the usual 30 to 50 over-full $0.00 2 1" in page
    assert "Bob CSM 28 — 28 30 (target) 2 below the target of 30 $0.00 0 0" in page
    content = response.content.decode()
    for account in ("AL-00", "AL-52"):
        account_id = Account.objects.get(external_id=account).id
        assert f'href="{reverse("account_detail", args=[account_id])}#reassign"' in content
    assert "Charlie" not in page  # Omar's team


@pytest.mark.django_db
def test_an_ae_over_the_cap_is_paired_with_an_ae_with_room(client_for, people, team):
    page = text(client_for("omar").get(reverse("balance")))
    # Dave (12) is within range, not under the ~10 accounts: nobody has room.
    assert "Charlie (AE) has 1 account too many and nobody of that role has room" in page
    assert "Charlie AE 20 1 21 20 (cap) over the cap of 20 by 1 over-full" in page
    erin = make_person("erin@example.com", roles=["ae"], team="sales", manager=people["omar"])
    assign(make_account("ER-1"), erin, role="ae")
    page = text(client_for("omar").get(reverse("balance")))
    assert "Move 1 account of AE Charlie (21, over the cap of 20 by 1) to Erin" in page


@pytest.mark.django_db
def test_the_balance_page_is_for_managers(client_for, team):
    for name in ("alice", "charlie", "fiona", "rita"):
        assert client_for(name).get(reverse("balance")).status_code == 403


@pytest.mark.django_db
def test_the_balance_page_reads_a_fixed_number_of_queries(client_for, people, team):
    client = client_for("maria")
    client.get(reverse("balance"))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("balance")).status_code == 200
        return len(queries)

    small = count()
    for i in range(5):
        csm = make_person(f"csm{i}@example.com", roles=["csm"], manager=people["maria"])
        for j in range(3):
            assign(make_account(f"X{i}-{j}", health_score=1), csm)
    assert count() == small
