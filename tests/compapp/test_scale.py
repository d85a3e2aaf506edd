"""The benchmark's data sets (compapp/demo/scale.py): the sizes each scale states, the rows a
seed writes, the tables' indexes and keys rebuilt after the bulk write, and the pages reading
the same number of queries at two sizes of the same shape."""

import datetime
from dataclasses import replace

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from accounts.models import Account, Assignment, Deal, Invoice, Person, Usage
from accounts.quarters import Quarter, add_months
from compapp.benchmarks.pages import bench_pages
from compapp.demo.scale import BULK_TABLES, SCALES, Scale, _id_width, seed_scale
from payouts import selectors

TODAY = datetime.date(2025, 11, 20)
# A scale small enough for a test, with every kind of person and book.
TINY = Scale("tiny", aes=3, csms=2, onboarding=1, accounts=120, months=6,
             ae_book=4, csm_book=6, onboarding_book=10)


def quiet(_message):
    pass


def test_xlarge_is_a_thousand_reps_half_a_million_accounts_and_12_million_rows_each():
    xlarge = SCALES["xlarge"]
    assert xlarge.reps == 1_000
    assert xlarge.accounts == 500_000
    assert xlarge.invoices == 12_000_000
    assert xlarge.usage_rows == 12_000_000
    assert xlarge.managers == 100


def test_xlarge_keeps_the_proportions_of_large():
    large, xlarge = SCALES["large"], SCALES["xlarge"]
    factor = xlarge.reps // large.reps
    assert factor == 5
    assert (xlarge.aes, xlarge.csms, xlarge.onboarding) == (
        large.aes * factor, large.csms * factor, large.onboarding * factor)
    assert xlarge.accounts == large.accounts * factor
    assert xlarge.booked_accounts == large.booked_accounts * factor
    assert xlarge.months == large.months
    assert (xlarge.ae_book, xlarge.csm_book, xlarge.onboarding_book) == (
        large.ae_book, large.csm_book, large.onboarding_book)


def test_account_numbers_keep_six_digits_below_a_million_and_widen_from_there():
    assert _id_width(SCALES["xlarge"]) == 6
    assert _id_width(replace(SCALES["xlarge"], accounts=999_999)) == 6
    assert _id_width(replace(SCALES["xlarge"], accounts=1_000_000)) == 7
    assert _id_width(replace(SCALES["xlarge"], accounts=5_000_000)) == 7


def table_definitions():
    """Every index and constraint of the bulk-written tables, by name, with its definition."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
             WHERE indrelid = ANY(%(tables)s::regclass[])
            UNION ALL
            SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conrelid = ANY(%(tables)s::regclass[])
             ORDER BY 1, 2
            """,
            {"tables": list(BULK_TABLES)},
        )
        return cursor.fetchall()


@pytest.mark.django_db
def test_seed_scale_writes_exactly_the_rows_the_scale_states():
    before = table_definitions()
    counts = seed_scale(TINY, today=TODAY, progress=quiet)
    booked = 3 * 4 + 2 * 6 + 1 * 10
    assert TINY.booked_accounts == booked
    assert counts == {"person": TINY.reps + TINY.managers, "account": 120,
                      "assignment": booked, "invoice": 120 * 6, "usage": 120 * 6,
                      "deal": 3 * 4}
    assert Person.objects.filter(roles__contains=["manager"]).count() == 2
    assert Person.objects.filter(roles__contains=["ae"]).count() == 3
    assert Person.objects.filter(roles__contains=["csm"]).count() == 2
    assert Person.objects.filter(roles__contains=["onboarding"]).count() == 1
    # Every AE, CSM and onboarding specialist has a manager, and a book of the stated size.
    assert not Person.objects.exclude(roles__contains=["manager"]).filter(manager=None).exists()
    for role, size in (("ae", 4), ("csm", 6), ("onboarding", 10)):
        for person in Person.objects.filter(roles__contains=[role]):
            assert Assignment.objects.filter(owner=person, role=role).count() == size
    # Six months of one invoice and one usage row per account, up to last month.
    months = list(Usage.objects.order_by("month").values_list("month", flat=True).distinct())
    assert months == [datetime.date(2025, m, 1) for m in range(5, 11)]
    assert list(Invoice.objects.order_by("period_start")
                .values_list("period_start", flat=True).distinct()) == months
    assert Invoice.objects.filter(account__external_id="S-000120").count() == 6
    # A login for every person, and finance's.
    assert User.objects.filter(username__endswith="@scale.example").count() == 8 + 1
    # The indexes, unique keys and foreign keys dropped for the bulk write are all back.
    assert table_definitions() == before


@pytest.mark.django_db
def test_a_second_seed_at_the_same_scale_writes_nothing():
    first = seed_scale(TINY, today=TODAY, progress=quiet)
    messages = []
    assert seed_scale(TINY, today=TODAY, progress=messages.append) == first
    assert messages == ["scale data set 'tiny' already present: nothing written"]
    assert Account.objects.count() == 120 and Deal.objects.count() == 12


@pytest.mark.django_db
def test_a_seed_that_fails_leaves_neither_rows_nor_dropped_indexes(monkeypatch):
    from compapp.demo import scale

    before = table_definitions()

    def broken(_params):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(scale, "STEPS", (*scale.STEPS[:4], ("usage", broken)))
    with pytest.raises(RuntimeError):
        seed_scale(TINY, today=TODAY, progress=quiet)
    assert Invoice.objects.count() == 0 and Account.objects.count() == 0
    assert table_definitions() == before


class Rollback(Exception):
    pass


def page_queries(scale):
    """The benchmark's page measurement on a data set at `scale`, rolled back afterwards."""
    try:
        with transaction.atomic():
            seed_scale(scale, today=TODAY, progress=quiet)
            # The quarter the benchmark measures: the one holding last month.
            quarter = Quarter.containing(add_months(TODAY.replace(day=1), -1))
            results = bench_pages(quarter, TODAY, 1)
            raise Rollback(results)
    except Rollback as done:
        return done.args[0]


@pytest.mark.django_db
def test_the_benchmark_pages_read_the_same_queries_at_twice_the_scale():
    small = page_queries(TINY)
    double = page_queries(replace(TINY, name="tiny x2", aes=6, csms=4, onboarding=2,
                                  accounts=240))
    for results in (small, double):
        assert {k: v for k, v in results.items() if k.endswith("_status")} == {
            "page_rep_book_status": 200, "page_rep_attainment_status": 200,
            "page_manager_team_status": 200, "page_finance_queue_status": 200}
    queries = {k: v for k, v in small.items() if k.endswith("_queries")}
    assert len(queries) == 4
    assert queries == {k: v for k, v in double.items() if k.endswith("_queries")}
    assert max(queries.values()) <= 12


@pytest.mark.django_db
def test_every_rep_has_started_before_the_measured_quarter_at_any_size():
    """More than a hundred reps of a role (xlarge has 500 AEs): start dates cycle, so none is
    hired after the quarter the benchmark measures and every rep has a plan."""
    many = Scale("many", aes=150, csms=1, onboarding=1, accounts=160, months=1,
                 ae_book=1, csm_book=1, onboarding_book=1)
    seed_scale(many, today=TODAY, progress=quiet)
    reps = Person.objects.filter(email__endswith="@scale.example").exclude(
        roles__contains=["manager"])
    assert reps.count() == 152
    assert max(reps.values_list("start_date", flat=True)) == datetime.date(2022, 12, 2)
    # The first hundred are as before (a week apart from 2021-01-08), then the cycle restarts.
    assert reps.get(email="ae1@scale.example").start_date == datetime.date(2021, 1, 8)
    assert reps.get(email="ae101@scale.example").start_date == datetime.date(2021, 1, 8)
    quarter = Quarter.containing(add_months(TODAY.replace(day=1), -1))
    planned = {person.email for person, *_ in selectors.plans_for(quarter)}
    assert planned == set(reps.values_list("email", flat=True))
