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
from django.db import connection, reset_queries
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Assignment, Invoice, Person
from accounts.quarters import Quarter, add_months
from compapp.demo.scale import SCALES, seed_scale
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
                            choices=["recompute", "incremental", "import", "pages", "memory"])
        parser.add_argument("--child-recompute", action="store_true", help="internal")

    def handle(self, *args, **o):
        today = datetime.date.fromisoformat(o["today"]) if o["today"] else datetime.date.today()
        quarter = Quarter.containing(add_months(today.replace(day=1), -1))
        as_of = today
        if o["child_recompute"]:  # the peak of a cold recompute: everyone computed
            fingerprints_clear(quarter, as_of)
            services.attainment_recompute(quarter=quarter, as_of=as_of)
            cleared_remove(quarter, as_of)
            import resource

            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.stdout.write(json.dumps({"peak_rss_mb": rss}))
            return
        scale = SCALES[o["scale"]]
        settings.DEBUG = False
        self.stdout.write(f"Scale '{scale.name}': seeding if needed ...")
        started = time.perf_counter()
        counts = seed_scale(scale, today=today, progress=lambda m: self.stdout.write(f"  {m}"))
        seed_seconds = time.perf_counter() - started
        self.stdout.write(f"  data set: {counts} ({seed_seconds:.1f} s)")
        results = {"scale": scale.name, "rows": counts, "quarter": str(quarter),
                   "as_of": as_of.isoformat(), "runs": o["runs"],
                   "machine": f"{os.cpu_count()} cores, {sys.platform}"}
        runs = o["runs"]
        if "recompute" not in o["skip"]:
            results.update(self.bench_recompute(quarter, as_of, runs))
        if "incremental" not in o["skip"]:
            results.update(self.bench_incremental(quarter, as_of, runs))
        if "import" not in o["skip"]:
            rows = o["import_rows"] or (1_000_000 if scale.name == "large" else 100_000)
            results.update(self.bench_import(rows, runs))
        if "pages" not in o["skip"]:
            results.update(self.bench_pages(quarter, as_of, runs))
        if "memory" not in o["skip"]:
            results.update(self.bench_memory(o, today))
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

        imported = median_seconds(run_import, runs, setup=remove_imported)
        copied = median_seconds(run_copy, runs)
        return {"import_rows": rows, "import_s": imported, "import_floor_s": copied,
                "import_ratio": imported / copied if copied else None}

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
    def bench_memory(self, o, today):
        output = subprocess.run(
            [sys.executable, "manage.py", "benchmark", "--child-recompute",
             "--today", today.isoformat()],
            capture_output=True, text=True, cwd=settings.BASE_DIR, check=True,
        ).stdout
        return json.loads(output.strip().splitlines()[-1])

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
            (f"import {r.get('import_rows', '-')} invoices", fmt("import_s", " s"),
             fmt("import_floor_s", " s"), f"{fmt('import_ratio')} (target <= 3)"),
        ]
        for page in ("rep_book", "rep_attainment", "manager_team", "finance_queue"):
            lines.append((f"page {page.replace('_', ' ')}", fmt(f"page_{page}_ms", " ms"),
                          f"{fmt(f'page_{page}_queries')} queries",
                          "target < 100 ms, <= 12 queries"))
        lines.append(("recompute peak memory (cold)", fmt("peak_rss_mb", " MB"), "",
                      "target < 500 MB"))
        widths = [max(len(str(line[i])) for line in lines) for i in range(4)]
        for line in lines:
            self.stdout.write("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))
