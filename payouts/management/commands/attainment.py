import json

from django.core.management.base import BaseCommand, CommandError

from accounts.quarters import Quarter
from payouts.services import attainment_json_rows


class Command(BaseCommand):
    help = "Print the latest attainment snapshot of every person for a quarter."

    def add_arguments(self, parser):
        parser.add_argument("quarter", help="e.g. 2025Q2")
        parser.add_argument("--format", choices=["json", "table"], default="table")

    def handle(self, *args, quarter, format, **options):
        try:
            q = Quarter.parse(quarter)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        rows = attainment_json_rows(q)
        if format == "json":
            self.stdout.write(json.dumps(rows, indent=1))
            return
        for r in rows:
            self.stdout.write(
                f"{r['email']:<32} {r['plan']:<22} metric {str(r['metric']):>9}  "
                f"fraction {r['bonus_fraction']:>9}  amount {r['amount']:>10}  "
                f"payable {r['payable']:>10}  {'final' if r['final'] else 'projected'}"
            )
