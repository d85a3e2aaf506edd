"""Query budgets of the four busiest pages (issue 6): the same number of SQL queries with a
small and a larger book, and never more than 12, so an N+1 cannot come back unnoticed."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Deal
from payouts.models import PersonPlan
from tests.conftest import assign, invoice, make_account, usage

D = datetime.date
BUDGET = 12
PAGES = [
    ("alice", "/"),
    ("alice", "/attainment/?quarter=2025Q2"),
    ("charlie", "/attainment/?quarter=2025Q2"),
    ("maria", "/team/"),
    ("fiona", "/finance/2025Q2/"),
]


def grow(people, size, start=0):
    """`size` more accounts in alice's (CSM) and charlie's (AE) books, with billing."""
    for n in range(start, start + size):
        for owner, role in ((people["alice"], "csm"), (people["charlie"], "ae")):
            acc = make_account(f"{role}-{n}", billing="monthly" if n % 2 else "annual")
            assign(acc, owner, role=role, start=D(2024, 1, 1))
            for month in range(1, 7):
                invoice(acc, f"{role}-{n}-{month}", D(2025, month, 1), f"{100 + n}.00")
            usage(acc, D(2025, 6, 1), "120.00") if n % 2 == 0 else None
            if role == "ae":
                Deal.objects.create(external_id=f"D-{n}", account=acc, owner=owner,
                                    kind="new_annual", arr=1000, stage="won",
                                    created_on=D(2025, 3, 1), closed_on=D(2025, 5, 1))


def measure(client_for, users, people):
    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-14",
                 stdout=io.StringIO())
    counts = {}
    for who, url in PAGES:
        client = client_for(who)
        assert client.get(url).status_code == 200, url  # warm up the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[(who, url)] = len(queries)
    return counts


@pytest.mark.django_db
def test_the_busiest_pages_read_a_fixed_small_number_of_queries(client_for, users, people):
    PersonPlan.objects.create(person=people["charlie"], quarter="2025Q2", plan="ae_commission",
                              quota=50000)
    grow(people, 3)
    call_command("close_quarter", "2025Q2", "--today", "2025-07-20", stdout=io.StringIO())
    small = measure(client_for, users, people)
    grow(people, 12, start=3)
    larger = measure(client_for, users, people)
    assert larger == small
    over = {page: n for page, n in larger.items() if n > BUDGET}
    assert not over, f"pages over the budget of {BUDGET} queries: {over}"
