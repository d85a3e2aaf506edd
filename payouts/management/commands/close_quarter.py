import datetime

from django.core.management.base import BaseCommand, CommandError

from accounts.quarters import Quarter
from payouts.services import PayoutError, quarter_close


class Command(BaseCommand):
    help = "Create the quarter's payouts (pending approval) from final figures as of the cutoff."

    def add_arguments(self, parser):
        parser.add_argument("quarter", help="e.g. 2025Q2")
        parser.add_argument("--today", help=argparse_suppress())

    def handle(self, *args, quarter, today=None, **options):
        try:
            q = Quarter.parse(quarter)
            day = datetime.date.fromisoformat(today) if today else None
            created = quarter_close(quarter=q, today=day)
        except (ValueError, PayoutError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{q} closed as of {q.cutoff}: {len(created)} payout(s) created, pending approval."
        )


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS
