"""Accounts at risk (SPEC 5): why, and ranked by what the projected bonus would lose if each
account churned now, to the cent; in a fixed number of queries whatever the book's size."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.quarters import Quarter
from payouts.risk import at_risk
from tests.conftest import assign, invoice, make_account, usage

D = datetime.date
Q2 = Quarter(2025, 2)
AS_OF = D(2025, 5, 20)  # projected: April is the quarter's only complete month


def monthly_book(owner, external_id, *, base, april, **fields):
    """An account with usage of `base` a month in January to March and `april` in April."""
    account = make_account(external_id, name=fields.pop("name", external_id), **fields)
    assign(account, owner, start=D(2024, 1, 1))
    for month in (1, 2, 3):
        usage(account, D(2025, month, 1), base)
    if april is not None:
        usage(account, D(2025, 4, 1), april)
    return account


@pytest.fixture
def risky_book(people):
    """Alice (CSM, $2,500 quarterly target pay, 120% target) as of 20 May 2025.

    Baseline ARR = 12 x the monthly figure; end ARR projected from April = 12 x April.
    | account | why at risk            | base/month | April | baseline | end     |
    | R-1     | health 2               |      1,200 | 1,200 |   14,400 |  14,400 |
    | R-2     | negative sentiment     |      2,400 | 2,400 |   28,800 |  28,800 |
    | R-3     | run rate 40% below     |      1,000 |   600 |   12,000 |   7,200 |
    | R-4     | invoice unpaid 40 days |      1,800 | 1,800 |   21,600 |  21,600 |
    | R-5     | no active users        |        300 |   300 |    3,600 |   3,600 |
    | H-1     | (healthy)              |      3,300 | 6,000 |   39,600 |  72,000 |
    Sums: baseline 120,000, end 147,600. Retention 123%: fraction (1.23 - 1) / 0.2 = 1.15,
    amount $2,875.00.

    Churned now, an account keeps only April's revenue: end = 4 x April, so the sum of end
    ARR drops by 8 x April and the amount by 8 x April x 12,500 / 120,000 = 5/6 x April:
    R-2 $2,000.00, R-4 $1,500.00, R-1 $1,000.00, R-3 $500.00, R-5 $250.00.
    """
    alice = people["alice"]
    monthly_book(alice, "R-1", base="1200", april="1200", health_score=2, active_users=4,
                 name="Red Health")
    monthly_book(alice, "R-2", base="2400", april="2400", sentiment="negative", active_users=9,
                 name="Negative Sentiment")
    monthly_book(alice, "R-3", base="1000", april="600", active_users=3, name="Dropping")
    r4 = monthly_book(alice, "R-4", base="1800", april=None, active_users=7, name="Overdue")
    invoice(r4, "R4-APR", D(2025, 4, 1), "1800.00", status="open", issued_on=D(2025, 4, 10))
    monthly_book(alice, "R-5", base="300", april="300", active_users=0, name="Quiet")
    monthly_book(alice, "H-1", base="3300", april="6000", health_score=8, sentiment="positive",
                 active_users=40, name="Healthy")
    # An account that left her book before the as-of date is not hers to worry about.
    gone = make_account("G-1", name="Gone", health_score=1)
    assign(gone, alice, start=D(2024, 1, 1), end=D(2025, 5, 1))
    return alice


@pytest.mark.django_db
def test_it_ranks_accounts_at_risk_by_what_their_churn_would_cost(risky_book):
    rows = at_risk(risky_book, Q2, AS_OF)
    assert [(r.external_id, r.impact) for r in rows] == [
        ("R-2", Decimal("2000.00")),
        ("R-4", Decimal("1500.00")),
        ("R-1", Decimal("1000.00")),
        ("R-3", Decimal("500.00")),
        ("R-5", Decimal("250.00")),
    ]


@pytest.mark.django_db
def test_it_says_why_each_account_is_at_risk(risky_book):
    reasons = {r.external_id: r.reasons for r in at_risk(risky_book, Q2, AS_OF)}
    assert reasons["R-1"] == ["health 2 (red)"]
    assert reasons["R-2"] == ["negative sentiment"]
    assert reasons["R-3"] == ["run rate $7,200.00 is 40% below baseline $12,000.00"]
    assert reasons["R-4"] == ["invoice R4-APR unpaid 40 days after issue"]
    assert reasons["R-5"] == ["no active users in the last month"]
    assert "H-1" not in reasons and "G-1" not in reasons


@pytest.mark.django_db
def test_a_run_rate_exactly_20_percent_below_is_not_at_risk(people):
    monthly_book(people["alice"], "E-1", base="1000", april="800")
    assert at_risk(people["alice"], Q2, AS_OF) == []


@pytest.mark.django_db
def test_an_invoice_paid_after_the_as_of_date_was_still_unpaid_then(people):
    account = monthly_book(people["alice"], "P-1", base="1000", april=None)
    invoice(account, "P1-APR", D(2025, 4, 1), "1000.00", issued_on=D(2025, 4, 1),
            paid_on=D(2025, 6, 1))
    usage(account, D(2025, 5, 1), "1000")
    [row] = at_risk(people["alice"], Q2, AS_OF)
    assert row.reasons == ["invoice P1-APR unpaid 49 days after issue"]
    assert at_risk(people["alice"], Q2, D(2025, 6, 2)) == []


@pytest.mark.django_db
def test_someone_without_a_plan_has_no_accounts_at_risk(people):
    account = make_account("M-1", health_score=0)
    assign(account, people["maria"], start=D(2024, 1, 1))
    assert at_risk(people["maria"], Q2, AS_OF) == []


@pytest.mark.django_db
def test_it_reads_a_fixed_number_of_queries_whatever_the_size_of_the_book(risky_book):
    with CaptureQueriesContext(connection) as small:
        assert len(at_risk(risky_book, Q2, AS_OF)) == 5
    for n in range(10):
        monthly_book(risky_book, f"X-{n}", base="100", april="100", health_score=1)
    with CaptureQueriesContext(connection) as large:
        assert len(at_risk(risky_book, Q2, AS_OF)) == 15
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(small.captured_queries) <= 12
