"""The recompute through a real Celery worker and a real Redis broker."""

import datetime
import time
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker

from compapp.celery import app
from payouts import tasks
from payouts.models import AttainmentSnapshot, RecomputeRun
from tests.conftest import assign, invoice, make_account

D = datetime.date


def wait_for(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def worker(transactional_db):
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.mark.django_db(transaction=True)
def test_a_worker_fans_out_the_quarter_and_a_second_run_adds_nothing(people, worker):
    alice, bob = people["alice"], people["bob"]
    for n, owner in enumerate([alice, bob]):
        acc = make_account(f"W-{n}")
        assign(acc, owner, start=D(2024, 1, 1))
        for month in (1, 2, 3):
            invoice(acc, f"W{n}-{month}", D(2025, month, 1), "1000.00")
        for month in (4, 5, 6):
            invoice(acc, f"W{n}-{month}", D(2025, month, 1), "1200.00")

    run_id = tasks.recompute_quarter.delay("2025Q2", "2025-07-14").get(timeout=30)
    assert wait_for(lambda: RecomputeRun.objects.get(id=run_id).status == "done")
    run = RecomputeRun.objects.get(id=run_id)
    # alice and bob (CSMs) and charlie (AE) have a plan; the managers and finance do not.
    assert (run.total, run.done) == (3, 3)
    snap = AttainmentSnapshot.objects.get(person=alice, quarter="2025Q2")
    # Retention 14,400 / 12,000 = 120% -> 100% of $2,500.
    assert snap.amount == Decimal("2500.00")

    second = tasks.recompute_quarter.delay("2025Q2", "2025-07-14").get(timeout=30)
    assert wait_for(lambda: RecomputeRun.objects.get(id=second).status == "done")
    assert AttainmentSnapshot.objects.filter(quarter="2025Q2").count() == 3
