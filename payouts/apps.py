from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "Plans and payouts"

    def ready(self):
        # Register the Celery tasks in every process (web included), so that a run's fan-out
        # can send them by name (`payouts.runs`) wherever it starts.
        from payouts import tasks  # noqa: F401
