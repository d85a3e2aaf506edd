"""Celery entry points: take ids and dates, re-read the world, call one service.

Every task is idempotent (a snapshot is stored once per distinct inputs), acknowledged late
and rejected back to the queue if its worker dies, so a lost worker's work is redone.
"""

import datetime

from celery import shared_task
from django.db import OperationalError

from accounts.models import Person
from accounts.quarters import Quarter
from payouts import runs, selectors, services
from payouts.models import RecomputeRun

TASK_OPTIONS = dict(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
)


@shared_task(**TASK_OPTIONS)
def recompute_person(person_id: int, quarter: str, as_of: str, run_id: int | None = None):
    q = Quarter.parse(quarter)
    day = datetime.date.fromisoformat(as_of)
    run = RecomputeRun.objects.filter(id=run_id).first() if run_id else None
    people = list(Person.objects.filter(id=person_id))
    services.attainment_recompute(quarter=q, as_of=day, people=people, run=run)
    return person_id


@shared_task(**TASK_OPTIONS)
def refresh_people(person_ids: list[int], quarter: str, as_of: str, cause: str = ""):
    """The figures of some people after a change of their inputs (`payouts.fresh`)."""
    people = list(Person.objects.filter(id__in=person_ids))
    snapshots = services.attainment_refresh(
        quarter=Quarter.parse(quarter), as_of=datetime.date.fromisoformat(as_of),
        people=people, cause=cause,
    )
    return len(snapshots)


@shared_task(**TASK_OPTIONS)
def recompute_quarter(quarter: str, as_of: str, user_id: int | None = None):
    """Fan out one task per person; a second start while one runs joins the running one,
    or resumes it if it has stalled (lost its worker). Returns the run's id."""
    user = None if user_id is None else _user(user_id)
    return runs.recompute_start(
        quarter=Quarter.parse(quarter), as_of=datetime.date.fromisoformat(as_of), user=user
    ).run.id


@shared_task(**TASK_OPTIONS)
def resume_run(run_id: int):
    """Requeue the people a stalled run still lacks; nothing if it is not stalled (or another
    resume just claimed it). Returns how many were requeued."""
    run = RecomputeRun.objects.filter(id=run_id).first()
    return 0 if run is None else runs.recompute_resume(run)


@shared_task(**TASK_OPTIONS)
def resume_stalled_runs():
    """Beat, every few minutes: resume every stalled run (the workers are asked once)."""
    return runs.recompute_resume_stalled()


@shared_task(**TASK_OPTIONS)
def nightly_recompute(today: str | None = None):
    """The current quarter, and the previous one until its cutoff has passed."""
    day = datetime.date.fromisoformat(today) if today else datetime.date.today()
    current = Quarter.containing(day)
    quarters = [q for q in (current, current.previous()) if selectors.nightly_covers(q, day)]
    return [recompute_quarter(str(q), day.isoformat()) for q in quarters]


def _user(user_id):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(id=user_id).first()
