import datetime
from decimal import Decimal

import pytest

from accounts.revenue import NO_REVENUE, monthly_revenue, run_rate_arr
from tests.conftest import invoice, make_account, usage

D = datetime.date


@pytest.mark.django_db
def test_a_usage_row_wins_over_invoices_and_void_or_non_usage_invoices_never_count():
    acc = make_account("R-1")
    usage(acc, D(2025, 4, 1), "1200.00")
    invoice(acc, "I-1", D(2025, 4, 1), "999.00")  # ignored: the usage row wins
    invoice(acc, "I-2", D(2025, 5, 1), "300.00")
    invoice(acc, "I-3", D(2025, 5, 1), "50.00", status="void")
    invoice(acc, "I-4", D(2025, 5, 1), "70.00", kind="overage")
    invoice(acc, "I-5", D(2025, 5, 1), "-20.00", kind="refund")
    rev = monthly_revenue([acc.id], D(2025, 4, 1), D(2025, 6, 1), as_of=D(2025, 7, 14))
    assert rev[(acc.id, D(2025, 4, 1))].amount == Decimal("1200.00")
    assert rev[(acc.id, D(2025, 4, 1))].source == "usage"
    assert rev[(acc.id, D(2025, 5, 1))].amount == Decimal("300.00")
    assert rev[(acc.id, D(2025, 5, 1))].invoices == ("I-2",)
    assert rev.get((acc.id, D(2025, 6, 1)), NO_REVENUE).amount == Decimal("0")


@pytest.mark.django_db
def test_paid_counts_only_invoices_paid_by_the_given_day():
    acc = make_account("R-2")
    invoice(acc, "I-1", D(2025, 6, 1), "100.00", paid_on=D(2025, 7, 14))
    invoice(acc, "I-2", D(2025, 6, 1), "40.00", paid_on=D(2025, 7, 15))
    invoice(acc, "I-3", D(2025, 6, 1), "5.00", status="open")
    key = (acc.id, D(2025, 6, 1))
    rev = monthly_revenue([acc.id], D(2025, 6, 1), D(2025, 6, 1), as_of=D(2025, 7, 20),
                          paid_by=D(2025, 7, 14))
    assert rev[key].paid == Decimal("100.00")
    assert rev[key].amount == Decimal("145.00")
    assert rev[key].unpaid == Decimal("45.00")
    by_as_of = monthly_revenue([acc.id], D(2025, 6, 1), D(2025, 6, 1), as_of=D(2025, 7, 20))
    assert by_as_of[key].paid == Decimal("140.00")


@pytest.mark.django_db
def test_invoices_issued_after_the_as_of_date_have_not_happened_yet():
    acc = make_account("R-3")
    invoice(acc, "I-1", D(2025, 6, 1), "100.00", issued_on=D(2025, 7, 1), status="open")
    rev = monthly_revenue([acc.id], D(2025, 6, 1), D(2025, 6, 1), as_of=D(2025, 6, 30))
    assert rev == {}


@pytest.mark.django_db
def test_run_rate_arr_is_four_times_the_last_three_complete_months():
    acc = make_account("R-4")
    for month, amount in [(3, "100.00"), (4, "200.00"), (5, "300.00"), (6, "999.00")]:
        invoice(acc, f"I-{month}", D(2025, month, 1), amount)
    # As of 2025-06-30 June is not complete: March..May.
    assert run_rate_arr([acc.id], D(2025, 6, 30)) == {acc.id: Decimal("2400.00")}
