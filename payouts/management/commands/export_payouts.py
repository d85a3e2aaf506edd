import csv
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.quarters import Quarter
from payouts.finance.export import EXPORT_COLUMNS, payouts_export_rows


class Command(BaseCommand):
    help = "Write the payroll CSV of a quarter's approved and paid payouts."

    def add_arguments(self, parser):
        parser.add_argument("quarter", help="e.g. 2025Q2")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, quarter, output=None, **options):
        try:
            q = Quarter.parse(quarter)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        rows = payouts_export_rows(q)
        handle = open(output, "w", newline="", encoding="utf-8") if output else None
        try:
            writer = csv.writer(handle or self.stdout, lineterminator="\n")
            writer.writerow(EXPORT_COLUMNS)
            writer.writerows(rows)
        finally:
            if handle:
                handle.close()
        if output:
            print(f"{len(rows)} row(s) written to {output}", file=sys.stderr)
