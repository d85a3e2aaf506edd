import argparse
import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.quarters import Quarter, add_months, month_start
from compapp.demo.builder import demo_build
from compapp.demo.draft import HISTORY_MONTHS
from compapp.demo.logins import demo_logins
from compapp.demo.seeding import DemoConflict, SeedResult, demo_seed


def _date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-05-20") from None


class Command(BaseCommand):
    help = (
        "Build a realistic demo company (people and logins, accounts, books, 24 months of "
        "invoices and usage, deals, leads, plans). Always the same data for the same "
        "--today; running it again creates nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=_date,
            default=None,
            help="YYYY-MM-DD: the demo's today; history runs to the last complete month "
            "before it (default: today, UTC)",
        )
        parser.add_argument(
            "--keep-existing",
            action="store_true",
            help="when the database already holds the demo of another day, keep it as it is "
            "and print the logins (what the run command does on a later day)",
        )

    def handle(self, *args, today=None, keep_existing=False, **options):
        today = today or timezone.now().date()
        try:
            result = demo_seed(today=today)
        except DemoConflict as exc:
            if not keep_existing:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{exc} Kept as it is (--keep-existing).")
            result = SeedResult(today=today, created={}, logins=demo_logins(demo_build(today)))
        first = add_months(month_start(today), -HISTORY_MONTHS)
        last = add_months(month_start(today), -1)
        quarter = Quarter.containing(today)
        self.stdout.write(
            f"Demo company as of {today} (quarter {quarter}, previous {quarter.previous()}; "
            f"history {first:%Y-%m} to {last:%Y-%m})."
        )
        if result.anything_created:
            made = ", ".join(f"{count} {name}" for name, count in result.created.items())
            self.stdout.write(self.style.SUCCESS(f"Created {made}."))
        else:
            self.stdout.write("The demo data is already here: nothing was changed.")
        self.stdout.write("")
        self.stdout.write("Demo logins (the finance login is also a Django admin):")
        width = max(len(row["name"]) for row in result.logins)
        email_width = max(len(row["email"]) for row in result.logins)
        self.stdout.write(
            f"  {'role':<11}{'name':<{width + 2}}{'email':<{email_width + 2}}password"
        )
        for row in result.logins:
            admin = "  (admin)" if row["admin"] else ""
            self.stdout.write(
                f"  {row['role']:<11}{row['name']:<{width + 2}}{row['email']:<{email_width + 2}}"
                f"{row['password']}{admin}"
            )
