"""Measure the product at a given scale and print a table (and JSON with --json FILE).

Each figure is the median of --runs runs. Run it against a database of its own: it writes a
data set (people ending in @scale.example, accounts S-...) and a scratch import table.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, reset_queries, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Assignment, Invoice, Person
from accounts.quarters import Quarter, add_months
from compapp.demo.scale import SCALES, database_bytes, seed_scale
from payouts import selectors, services
from payouts.models import AttainmentSnapshot, Payout, ProposedAdjustment

FLOOR_SQL = """
SELECT account_id, month, sum(amount) FROM (
    SELECT account_id, date_trunc('month', period_start)::date AS month, amount
      FROM accounts_invoice
     WHERE account_id = ANY(%(ids)s) AND kind = 'usage' AND status <> 'void'
       AND period_start >= %(first)s AND period_start < %(after)s
    UNION ALL
    SELECT account_id, month, amount FROM accounts_usage
     WHERE account_id = ANY(%(ids)s) AND month >= %(first)s AND month < %(after)s
) rows GROUP BY 1, 2
"""


INVOICE_COLUMNS = ("external_id", "account_external_id", "issued_on", "period_start",
                   "period_end", "amount", "kind", "status", "paid_on")
INVOICE_UPSERT = """
INSERT INTO accounts_invoice (external_id, account_id, issued_on, period_start, period_end,
                              amount, kind, status, paid_on, deal_external_id)
SELECT s.external_id, a.id, s.issued_on, s.period_start, s.period_end, s.amount, s.kind,
       s.status, s.paid_on, coalesce(s.deal_external_id, '')
  FROM benchmark_stage s JOIN accounts_account a ON a.external_id = s.account_external_id
ON CONFLICT (external_id) DO UPDATE SET
    account_id = excluded.account_id, issued_on = excluded.issued_on,
    period_start = excluded.period_start, period_end = excluded.period_end,
    amount = excluded.amount, kind = excluded.kind, status = excluded.status,
    paid_on = excluded.paid_on, deal_external_id = excluded.deal_external_id
"""


# The parts whose peak memory is measured, each in a fresh child process of its own.
CHILD_PARTS = ("recompute", "import", "pages")


def rss_mb(field: str) -> float | None:
    """VmRSS (resident now) or VmHWM (the high-water mark) of this process, in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def median_seconds(fn, runs: int, setup=None) -> float:
    times = []
    for _ in range(runs):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fingerprints_clear(quarter, as_of) -> None:
    """Make every snapshot of the quarter and day unfindable by its fingerprint, so that the
    next recompute gathers and computes everyone (the snapshots stay, as history)."""
    AttainmentSnapshot.objects.filter(quarter=str(quarter), as_of=as_of).exclude(
        inputs_digest__startswith="cleared-"
    ).update(inputs_digest=Concat(Value("cleared-"), Cast("id", CharField())))


def cleared_remove(quarter, as_of) -> None:
    """Delete the snapshots `fingerprints_clear` left that nothing refers to."""
    AttainmentSnapshot.objects.filter(
        quarter=str(quarter), as_of=as_of, inputs_digest__startswith="cleared-"
    ).exclude(id__in=Payout.objects.values("snapshot_id")).exclude(
        id__in=ProposedAdjustment.objects.values("snapshot_id")
    ).delete()


class Command(BaseCommand):
    help = "Benchmark recompute, import and pages at a scale; prints a table of medians."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--import-rows", type=int, default=None,
                            help="rows of the invoices import (default 1,000,000 at large)")
        parser.add_argument("--json", dest="json_file")
        parser.add_argument("--today", help="YYYY-MM-DD (default today)")
        parser.add_argument("--skip", action="append", default=[],
                            choices=["recompute", "incremental", "fresh", "import", "pages",
                                     "memory"])
        parser.add_argument("--child", choices=CHILD_PARTS, help="internal: run one part in "
                            "this process and print its peak memory as JSON")

    def handle(self, *args, **o):
        today = datetime.date.fromisoformat(o["today"]) if o["today"] else datetime.date.today()
        quarter = Quarter.containing(add_months(today.replace(day=1), -1))
        as_of = today
        if o["child"]:
            self.run_child(o["child"], quarter, as_of, o)
            return
        scale = SCALES[o["scale"]]
        settings.DEBUG = False
        self.stdout.write(f"Scale '{scale.name}': seeding if needed ...")
        started = time.perf_counter()
        counts = seed_scale(scale, today=today, progress=lambda m: self.stdout.write(f"  {m}"))
        seed_seconds = time.perf_counter() - started
        size_mb = database_bytes() / 2**20
        self.stdout.write(f"  data set: {counts} ({seed_seconds:.1f} s, "
                          f"database {size_mb:,.0f} MB)")
        results = {"scale": scale.name, "rows": counts, "seed_s": seed_seconds,
                   "database_mb": size_mb, "quarter": str(quarter),
                   "as_of": as_of.isoformat(), "runs": o["runs"],
                   "machine": f"{os.cpu_count()} cores, {sys.platform}"}
        runs = o["runs"]
        if "recompute" not in o["skip"]:
            results.update(self.bench_recompute(quarter, as_of, runs))
        if "incremental" not in o["skip"]:
            results.update(self.bench_incremental(quarter, as_of, runs))
        if "fresh" not in o["skip"]:
            results.update(self.bench_fresh(scale, runs))
        if "import" not in o["skip"]:
            rows = o["import_rows"] or (1_000_000 if scale.name in ("large", "xlarge") else 100_000)
            results.update(self.bench_import(rows, runs))
        if "pages" not in o["skip"]:
            results.update(self.bench_pages(quarter, as_of, runs))
        if "memory" not in o["skip"]:
            results.update(self.bench_memory(o, today, results))
        self.print_table(results)
        if o["json_file"]:
            Path(o["json_file"]).write_text(json.dumps(results, indent=1, default=str))
            self.stdout.write(f"written to {o['json_file']}")

    # -- recompute ------------------------------------------------------------------------
    def bench_recompute(self, quarter, as_of, runs):
        """The full recompute of the quarter, against one SQL aggregate of the same rows:
        warm (nothing changed since the last run: the nightly case, every fingerprint found)
        and cold (every stored fingerprint cleared first: everyone's inputs gathered and
        their figures computed and written)."""
        people = [p for p, *_ in selectors.plans_for(quarter)]
        ids = list(Assignment.objects.filter(owner__in=people).values_list(
            "account_id", flat=True).distinct())
        params = {"ids": ids, "first": add_months(quarter.start, -3),
                  "after": add_months(quarter.start, 3)}

        def floor():
            with connection.cursor() as cursor:
                cursor.execute(FLOOR_SQL, params)
                cursor.fetchall()

        def recompute():
            services.attainment_recompute(quarter=quarter, as_of=as_of)

        recompute()  # the fingerprints stored are those of the rows as they are now
        warm = median_seconds(recompute, runs)
        cold = median_seconds(recompute, runs,
                              setup=lambda: fingerprints_clear(quarter, as_of))
        cleared_remove(quarter, as_of)
        floor_s = median_seconds(floor, runs)
        return {"recompute_s": warm, "recompute_floor_s": floor_s,
                "recompute_ratio": warm / floor_s if floor_s else None,
                "recompute_cold_s": cold,
                "recompute_cold_ratio": cold / floor_s if floor_s else None,
                "recompute_people": len(people), "recompute_accounts": len(ids)}

    def bench_incremental(self, quarter, as_of, runs):
        invoice = (Invoice.objects.filter(account__assignments__role="csm",
                                          period_start__gte=quarter.start)
                   .order_by("id").first())
        if invoice is None:
            return {}

        def change_and_recompute():
            Invoice.objects.filter(id=invoice.id).update(amount=invoice.amount + Decimal("1.00"))
            affected = services.people_affected_by_accounts([invoice.account_id], quarter)
            services.attainment_recompute(quarter=quarter, as_of=as_of, people=affected)
            Invoice.objects.filter(id=invoice.id).update(amount=invoice.amount)

        return {"incremental_s": median_seconds(change_and_recompute, runs)}

    # -- import to fresh figures ------------------------------------------------------------
    def bench_fresh(self, scale, runs):
        """From the commit of an import of one day's invoices (3% of the accounts, dated
        today) to the fresh snapshot of every person they concern, recomputed by a real
        Celery worker (`celery -A compapp worker`, started here on this database and Redis,
        on a queue of its own). One warm-up import, then the median of `runs`."""
        import uuid

        from django.db import transaction
        from django.utils import timezone

        from compapp.celery import app
        from compapp.imports import import_csv
        from payouts.models import AttainmentSnapshot

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
            latencies, imports, busy, warm_up = [], [], [], 0.0
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
                    busy.append(self._worker_seconds(log) - sum(busy) - warm_up)
                else:
                    warm_up = self._worker_seconds(log)
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

    @staticmethod
    def _worker_seconds(log) -> float:
        """The seconds the worker's refresh tasks took so far, from its log."""
        import re

        return sum(float(s) for s in re.findall(
            r"refresh_people\[[^\]]+\] succeeded in ([0-9.]+)s", log.read_text(errors="replace")))

    # -- import ---------------------------------------------------------------------------
    def bench_import(self, rows, runs):
        account_ids = list(Invoice.objects.none().values_list("id", flat=True))
        with connection.cursor() as cursor:
            cursor.execute("SELECT external_id FROM accounts_account "
                           "WHERE external_id LIKE 'S-%%' ORDER BY id LIMIT 5000")
            account_ids = [r[0] for r in cursor.fetchall()]
        path = Path(tempfile.gettempdir()) / f"benchmark-invoices-{rows}.csv"
        if not path.exists():
            with path.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["external_id", "account_external_id", "issued_on",
                                 "period_start", "period_end", "amount", "kind", "status",
                                 "paid_on"])
                for n in range(rows):
                    account = account_ids[n % len(account_ids)]
                    writer.writerow([f"B-INV-{n}", account, "2020-02-01", "2020-01-01",
                                     "2020-01-31", f"{100 + n % 1000}.{n % 100:02d}", "usage",
                                     "paid", "2020-02-03"])

        def remove_imported():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM accounts_invoice WHERE external_id LIKE 'B-INV-%%'")
                cursor.execute("VACUUM ANALYZE accounts_invoice")

        def run_import():
            call_command("import_csv", "invoices", str(path), stdout=open(os.devnull, "w"),
                         stderr=open(os.devnull, "w"))

        def run_copy():
            """The bare COPY: the file into a table without key, index or reference."""
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS benchmark_scratch")
                cursor.execute(
                    "CREATE TABLE benchmark_scratch (external_id text, account_external_id "
                    "text, issued_on date, period_start date, period_end date, amount "
                    "numeric(14,2), kind text, status text, paid_on date)")
                with path.open("rb") as handle, cursor.copy(
                        "COPY benchmark_scratch FROM STDIN WITH (FORMAT csv, HEADER)") as copy:
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
                cursor.execute("DROP TABLE benchmark_scratch")

        def run_sql_import():
            """The SQL floor: the file into the real table by the fastest correct SQL. COPY
            into a staging table LIKE accounts_invoice (its types; the account by its
            external id), then one upsert that resolves the account and meets the unique
            key, the indexes and the foreign key, in one transaction."""
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "CREATE TEMP TABLE benchmark_stage (LIKE accounts_invoice) ON COMMIT DROP")
                cursor.execute(
                    "ALTER TABLE benchmark_stage DROP COLUMN id, DROP COLUMN account_id, "
                    "ALTER COLUMN deal_external_id DROP NOT NULL, "
                    "ADD COLUMN account_external_id varchar(64)")
                with path.open("rb") as handle, cursor.copy(
                        f"COPY benchmark_stage ({', '.join(INVOICE_COLUMNS)}) FROM STDIN "
                        "WITH (FORMAT csv, HEADER)") as copy:
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
                cursor.execute(INVOICE_UPSERT)

        imported = median_seconds(run_import, runs, setup=remove_imported)
        sql_floor = median_seconds(run_sql_import, runs, setup=remove_imported)
        copied = median_seconds(run_copy, runs)
        remove_imported()
        return {"import_rows": rows, "import_s": imported, "import_floor_s": sql_floor,
                "import_ratio": imported / sql_floor if sql_floor else None,
                "import_copy_s": copied,
                "import_copy_ratio": imported / copied if copied else None}

    # -- pages ----------------------------------------------------------------------------
    def bench_pages(self, quarter, as_of, runs):
        from django.contrib.auth.models import User
        from django.db.models import Count, Q

        services.attainment_recompute(quarter=quarter, as_of=as_of)
        previous = quarter.previous()
        if as_of > previous.cutoff:
            services.quarter_close(quarter=previous, today=as_of)
        largest = (
            Person.objects.filter(email__endswith="@scale.example")
            .annotate(n=Count("assignments", filter=Q(assignments__end_date__isnull=True)))
            .order_by("-n", "id").first()
        )
        manager = largest.manager
        pages = [
            ("rep book", largest.email, "/"),
            ("rep attainment", largest.email, f"/attainment/?quarter={quarter}"),
            ("manager team", manager.email, "/team/"),
            ("finance queue", "finance@scale.example", f"/finance/{previous}/"),
        ]
        results = {}
        for label, email, url in pages:
            client = Client()
            client.force_login(User.objects.get(username=email))
            client.get(url)  # warm up
            times, queries, status = [], [], None
            for _ in range(max(runs, 5)):
                reset_queries()
                with CaptureQueriesContext(connection) as ctx:
                    start = time.perf_counter()
                    response = client.get(url)
                    times.append(time.perf_counter() - start)
                queries.append(len(ctx.captured_queries))
                status = response.status_code
            key = label.replace(" ", "_")
            results[f"page_{key}_ms"] = statistics.median(times) * 1000
            results[f"page_{key}_queries"] = statistics.median(queries)
            results[f"page_{key}_status"] = status
        return results

    # -- memory ---------------------------------------------------------------------------
    def bench_memory(self, o, today, results):
        """Peak resident memory of each part, each run once in a fresh child process (so one
        part's memory does not hide another's): the child's high-water RSS (VmHWM), its RSS just
        before the part (Django and the code loaded, connected) to show what the part adds.
        The database server's own memory is not in these figures."""
        parts = [("recompute", [])]
        if results.get("import_rows"):
            parts.append(("import", ["--import-rows", str(results["import_rows"])]))
        if "page_rep_book_ms" in results:
            parts.append(("pages", []))
        measured = {}
        for part, extra in parts:
            output = subprocess.run(
                [sys.executable, "manage.py", "benchmark", "--child", part,
                 "--today", today.isoformat(), *extra],
                capture_output=True, text=True, cwd=settings.BASE_DIR, check=True,
            ).stdout
            figures = json.loads(output.strip().splitlines()[-1])
            measured[f"{part}_peak_rss_mb"] = figures["peak_rss_mb"]
            measured[f"{part}_start_rss_mb"] = figures["start_rss_mb"]
        return measured

    def run_child(self, part, quarter, as_of, o):
        settings.DEBUG = False
        connection.ensure_connection()
        start_rss = rss_mb("VmRSS")
        if part == "recompute":  # the peak of a cold recompute: everyone computed
            fingerprints_clear(quarter, as_of)
            services.attainment_recompute(quarter=quarter, as_of=as_of)
            cleared_remove(quarter, as_of)
        elif part == "import":
            # One run of the import measure: import_csv of the file (and the floor's COPY,
            # which streams the file in 1 MB chunks).
            self.bench_import(o["import_rows"], 1)
        else:
            # The page requests only: the parent has already recomputed the quarter and closed
            # the previous one, the two steps bench_pages takes before its requests.
            services.attainment_recompute = lambda **kwargs: None
            services.quarter_close = lambda **kwargs: None
            self.bench_pages(quarter, as_of, 1)
        # VmHWM, not getrusage's ru_maxrss: on Linux the latter carries over the parent's
        # high-water mark across fork and exec, so it would report the parent's size.
        peak = rss_mb("VmHWM")
        self.stdout.write(json.dumps({"peak_rss_mb": peak, "start_rss_mb": start_rss}))

    def print_table(self, r):
        def fmt(key, unit=""):
            value = r.get(key)
            if value is None:
                return "-"
            return f"{value:.3f}{unit}" if isinstance(value, float) else f"{value}{unit}"

        lines = [
            ("measure", "value", "floor", "ratio / target"),
            (f"full recompute of {r['quarter']}, warm (nothing changed)",
             fmt("recompute_s", " s"), fmt("recompute_floor_s", " s"),
             f"{fmt('recompute_ratio')} (target <= 2)"),
            (f"full recompute of {r['quarter']}, cold (fingerprints cleared)",
             fmt("recompute_cold_s", " s"), fmt("recompute_floor_s", " s"),
             fmt("recompute_cold_ratio")),
            ("incremental recompute (1 invoice)", fmt("incremental_s", " s"), "",
             "target < 1 s"),
            (f"import-to-fresh latency ({r.get('fresh_invoices', '-')} invoices, "
             f"{r.get('fresh_people', '-')} people)", fmt("fresh_s", " s"),
             f"tasks {fmt('fresh_worker_s', ' s')}", "target < 1 s median"),
            (f"import {r.get('import_rows', '-')} invoices (floor: SQL import)",
             fmt("import_s", " s"), fmt("import_floor_s", " s"),
             f"{fmt('import_ratio')} (target <= 2)"),
            ("  same, floor: bare COPY", "", fmt("import_copy_s", " s"),
             fmt("import_copy_ratio")),
        ]
        for page in ("rep_book", "rep_attainment", "manager_team", "finance_queue"):
            lines.append((f"page {page.replace('_', ' ')}", fmt(f"page_{page}_ms", " ms"),
                          f"{fmt(f'page_{page}_queries')} queries",
                          "target < 100 ms, <= 12 queries"))
        for part in CHILD_PARTS:
            label = f"{part} peak memory (RSS of a child{', cold' if part == 'recompute' else ''})"
            lines.append((label, fmt(f"{part}_peak_rss_mb", " MB"),
                          f"from {fmt(f'{part}_start_rss_mb', ' MB')}",
                          "target < 500 MB" if part == "recompute" else ""))
        lines.append(("data set", f"{fmt('seed_s', ' s')} to seed",
                      f"{fmt('database_mb', ' MB')} database", ""))
        widths = [max(len(str(line[i])) for line in lines) for i in range(4)]
        for line in lines:
            self.stdout.write("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))
