from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "Plans and payouts"

    def ready(self):
        # Register the Celery tasks in every process (web included), so that a run's fan-out
        # can send them by name (`payouts.runs`) wherever it starts. The books announce a
        # reassignment (`accounts.signals`); the figures it moves are recomputed on commit.
        from accounts.signals import book_changed
        from payouts import tasks  # noqa: F401
        from payouts.fresh import on_book_changed

        book_changed.connect(on_book_changed, dispatch_uid="payouts.fresh")
