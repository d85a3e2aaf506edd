"""Import to fresh figures: one day's invoices imported, a real Celery worker refreshing
the people they concern."""

from __future__ import annotations

import csv
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from accounts.quarters import Quarter, add_months
from payouts import selectors, services
from payouts.models import AttainmentSnapshot


def bench_fresh(scale, runs):
    """From the commit of an import of one day's invoices (3% of the accounts, dated
    today) to the fresh snapshot of every person they concern, recomputed by a real
    Celery worker (`celery -A compapp worker`, started here on this database and Redis,
    on a queue of its own). One warm-up import, then the median of `runs`."""
    import uuid

    from django.utils import timezone

    from compapp.celery import app
    from compapp.imports import import_csv

    today = datetime.date.today()  # the refresh's as-of day
    quarter = Quarter.containing(today)
    rows = max(50, scale.accounts * 3 // 100)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, external_id FROM accounts_account "
                       "WHERE external_id LIKE 'S-%%' ORDER BY md5(id::text) LIMIT %s",
                       [rows])
        accounts = cursor.fetchall()
    planned = {p.id for p, *_ in selectors.plans_for(quarter)}
    affected = sorted({p.id for p in services.people_affected_by_accounts(
        [pk for pk, _ in accounts], quarter)} & planned)
    services.attainment_recompute(quarter=quarter, as_of=today)  # everyone's figures today
    path = Path(tempfile.gettempdir()) / f"benchmark-fresh-{os.getpid()}.csv"
    month = today.replace(day=1)
    month_end = add_months(month, 1) - datetime.timedelta(days=1)

    def write_file(run):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_invoice WHERE external_id LIKE 'BF-%%'")
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["external_id", "account_external_id", "issued_on",
                             "period_start", "period_end", "amount", "kind", "status",
                             "paid_on"])
            for n, (_pk, external_id) in enumerate(accounts):
                writer.writerow([f"BF-{n}", external_id, today, month, month_end,
                                 f"{100 + run + n % 900}.{n % 100:02d}", "usage", "paid",
                                 today])

    queue = f"benchmark-fresh-{uuid.uuid4().hex[:8]}"
    log = Path(tempfile.gettempdir()) / f"{queue}.log"
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    with log.open("wb") as handle:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "compapp", "worker", "-Q", queue,
             "-n", f"{queue}@%h", "--without-mingle", "--without-gossip",
             "--without-heartbeat", "--loglevel", "INFO"],
            cwd=settings.BASE_DIR, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True, env=dict(os.environ, DEBUG="false"))
    try:
        deadline = time.monotonic() + 120
        while " ready." not in log.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log.read_text()}")
            time.sleep(0.1)
        latencies, imports, busy, warm_up = [], [], [], Decimal(0)
        for run in range(runs + 1):  # the first warms the worker up
            write_file(run)
            committed = []
            started = time.perf_counter()
            with transaction.atomic():
                transaction.on_commit(lambda marks=committed: marks.append(
                    (time.perf_counter(), timezone.now())))
                result = import_csv("invoices", str(path))
            assert result.ok and result.created == len(accounts), result.errors[:3]
            at, since = committed[0]
            deadline = time.monotonic() + 300
            while AttainmentSnapshot.objects.filter(
                quarter=str(quarter), as_of=today, person_id__in=affected,
                computed_at__gte=since,
            ).values("person_id").distinct().count() < len(affected):
                if time.monotonic() > deadline:
                    raise RuntimeError("the affected people were not refreshed in 300 s")
                time.sleep(0.01)
            if run:
                latencies.append(time.perf_counter() - at)
                imports.append(at - started)
                busy.append(_settled_worker_seconds(log) - sum(busy) - warm_up)
            else:
                warm_up = _settled_worker_seconds(log)
    finally:
        app.conf.task_default_queue = default_queue
        os.killpg(worker.pid, 15)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
            worker.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_invoice WHERE external_id LIKE 'BF-%%'")
        path.unlink(missing_ok=True)
        log.unlink(missing_ok=True)
        with app.connection_for_write() as conn:
            conn.default_channel.client.delete(queue)
    return {"fresh_s": statistics.median(latencies), "fresh_runs_s": latencies,
            "fresh_import_s": statistics.median(imports), "fresh_invoices": len(accounts),
            "fresh_people": len(affected), "fresh_worker_s": statistics.median(busy)}


def _worker_seconds(log) -> Decimal:
    """The seconds the worker's refresh tasks took so far, as its log prints them."""
    return sum((Decimal(s) for s in re.findall(
        r"refresh_people\[[^\]]+\] succeeded in ([0-9.]+)s", log.read_text(errors="replace"))),
        Decimal(0))


def _settled_worker_seconds(log) -> Decimal:
    """`_worker_seconds` once the worker has logged its last task: a snapshot is visible a
    moment before its task's "succeeded" line is written, so read until the sum stops
    growing for half a second (ten seconds at most; outside the measured latency)."""
    seen, steady_since, deadline = _worker_seconds(log), time.monotonic(), time.monotonic() + 10
    while time.monotonic() - steady_since < 0.5 and time.monotonic() < deadline:
        time.sleep(0.05)
        now = _worker_seconds(log)
        if now != seen:
            seen, steady_since = now, time.monotonic()
    return seen
