"""Celery entry points: take ids and dates, re-read the world, call one service.

Every task is idempotent (a snapshot is stored once per distinct inputs), acknowledged late
and rejected back to the queue if its worker dies, so a lost worker's work is redone.
"""

import datetime

from celery import group, shared_task
from django.db import OperationalError, transaction

from accounts.models import Person
from payouts import selectors, services
from payouts.models import RecomputeRun
from payouts.quarters import Quarter

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
def recompute_quarter(quarter: str, as_of: str, user_id: int | None = None):
    """Fan out one task per person; a second start while one runs joins the running one,
    or resumes it if it has stalled (lost its worker)."""
    q = Quarter.parse(quarter)
    day = datetime.date.fromisoformat(as_of)
    people = [p.id for p, _plan, _pp, _v in selectors.plans_for(q)]
    run, started = services.recompute_run_start(
        quarter=q, as_of=day, user=None if user_id is None else _user(user_id),
        total=len(people), person_ids=people,
    )
    if started:
        if not people:
            services.recompute_run_finish(run=run)
        else:
            _fan_out(run, people)
    elif selectors.recompute_run_stalled(run):
        _fan_out(run, services.recompute_run_resume(run=run))
    return run.id


@shared_task(**TASK_OPTIONS)
def resume_run(run_id: int):
    """Requeue the people a stalled run still lacks; nothing if it is not stalled (or another
    resume just claimed it). Returns how many were requeued."""
    run = RecomputeRun.objects.filter(id=run_id).first()
    if run is None or not selectors.recompute_run_stalled(run):
        return 0
    missing = services.recompute_run_resume(run=run)
    _fan_out(run, missing)
    return len(missing)


@shared_task(**TASK_OPTIONS)
def resume_stalled_runs():
    """Beat, every few minutes: resume every stalled run (the workers are asked once)."""
    running = list(RecomputeRun.objects.filter(status=RecomputeRun.Status.RUNNING))
    stalled = selectors.recompute_runs_stalled(running)
    resumed = []
    for run in running:
        if run.id in stalled:
            _fan_out(run, services.recompute_run_resume(run=run))
            resumed.append(run.id)
    return resumed


def _fan_out(run: RecomputeRun, person_ids: list[int]) -> None:
    if person_ids:
        jobs = group(recompute_person.s(pid, run.quarter, run.as_of.isoformat(), run.id)
                     for pid in person_ids)
        transaction.on_commit(jobs.delay)


@shared_task(**TASK_OPTIONS)
def nightly_recompute(today: str | None = None):
    """The current quarter, and the previous one until its cutoff has passed."""
    day = datetime.date.fromisoformat(today) if today else datetime.date.today()
    current = Quarter.containing(day)
    quarters = [current]
    if day <= current.previous().cutoff:
        quarters.append(current.previous())
    return [recompute_quarter(str(q), day.isoformat()) for q in quarters]


def _user(user_id):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(id=user_id).first()
