import datetime

from django.core.management.base import BaseCommand, CommandError

from accounts.quarters import Quarter
from payouts.services import quarter_recompute_sync


class Command(BaseCommand):
    help = "Compute every person's attainment for a quarter as of a date (the nightly job's code)."

    def add_arguments(self, parser):
        parser.add_argument("--quarter", help="e.g. 2025Q2 (default: the quarter of --as-of)")
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today, UTC)")

    def handle(self, *args, quarter=None, as_of=None, **options):
        try:
            day = datetime.date.fromisoformat(as_of) if as_of else datetime.date.today()
        except ValueError:
            raise CommandError(f"--as-of {as_of!r} is not a date like 2025-05-15") from None
        try:
            q = Quarter.parse(quarter) if quarter else Quarter.containing(day)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        try:
            run, snapshots, resumed = quarter_recompute_sync(quarter=q, as_of=day)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        state = "final" if q.is_final(day) else "projected"
        how = f"resumed stalled run {run.id}, done" if resumed else f"run {run.id}"
        self.stdout.write(
            f"{q} as of {day} ({state}): {len(snapshots)} people recomputed ({how})."
        )
