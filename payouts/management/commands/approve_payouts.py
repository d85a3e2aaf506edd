from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.quarters import Quarter
from payouts.models import Payout
from payouts.services import PayoutError, payout_approve


class Command(BaseCommand):
    help = "Approve every pending payout of a quarter as a finance user (not their own)."

    def add_arguments(self, parser):
        parser.add_argument("quarter")
        parser.add_argument("--by", required=True, help="email of the finance user approving")

    def handle(self, *args, quarter, by, **options):
        q = Quarter.parse(quarter)
        user = get_user_model().objects.filter(email__iexact=by).first()
        if user is None:
            raise CommandError(f"no user with email {by}")
        approved, refused = 0, []
        for payout in Payout.objects.filter(quarter=str(q), status="pending_approval"):
            try:
                payout_approve(payout_id=payout.id, user=user)
                approved += 1
            except PayoutError as exc:
                refused.append(f"{payout.person.email}: {exc}")
        self.stdout.write(f"{approved} payout(s) approved.")
        for line in refused:
            self.stdout.write(f"not approved: {line}")
