"""The import of a million invoices against the SQL import floor and the bare COPY."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import Invoice
from compapp.benchmarks.common import median_seconds

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


def bench_import(rows, runs):
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
