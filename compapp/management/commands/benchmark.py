"""Measure the product at a given scale and print a table (and JSON with --json FILE).

Each figure is the median of --runs runs. Run it against a database of its own: it writes a
data set (people ending in @scale.example, accounts S-...) and a scratch import table.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from accounts.quarters import Quarter, add_months
from compapp.benchmarks import fresh, imports, pages, recompute
from compapp.demo.scale import SCALES, database_bytes, seed_scale
from payouts import services

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
            results.update(recompute.bench_recompute(quarter, as_of, runs))
        if "incremental" not in o["skip"]:
            results.update(recompute.bench_incremental(quarter, as_of, runs))
        if "fresh" not in o["skip"]:
            results.update(fresh.bench_fresh(scale, runs))
        if "import" not in o["skip"]:
            rows = o["import_rows"] or (1_000_000 if scale.name in ("large", "xlarge") else 100_000)
            results.update(imports.bench_import(rows, runs))
        if "pages" not in o["skip"]:
            results.update(pages.bench_pages(quarter, as_of, runs))
        if "memory" not in o["skip"]:
            results.update(self.bench_memory(o, today, results))
        self.print_table(results)
        if o["json_file"]:
            Path(o["json_file"]).write_text(json.dumps(results, indent=1, default=str))
            self.stdout.write(f"written to {o['json_file']}")

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
            recompute.fingerprints_clear(quarter, as_of)
            services.attainment_recompute(quarter=quarter, as_of=as_of)
            recompute.cleared_remove(quarter, as_of)
        elif part == "import":
            # One run of the import measure: import_csv of the file (and the floor's COPY,
            # which streams the file in 1 MB chunks).
            imports.bench_import(o["import_rows"], 1)
        else:
            # The page requests only: the parent has already recomputed the quarter and closed
            # the previous one, the two steps bench_pages takes before its requests.
            services.attainment_recompute = lambda **kwargs: None
            services.quarter_close = lambda **kwargs: None
            pages.bench_pages(quarter, as_of, 1)
        # VmHWM, not getrusage's ru_maxrss: on Linux the latter carries over the parent's
        # high-water mark across fork and exec, so it would report the parent's size.
        peak = rss_mb("VmHWM")
        self.stdout.write(json.dumps({"peak_rss_mb": peak, "start_rss_mb": start_rss}))

    def print_table(self, r):
        def fmt(key, unit=""):
            value = r.get(key)
            if value is None:
                return "-"
            return f"{value:.3f}{unit}" if isinstance(value, float | Decimal) else f"{value}{unit}"

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
