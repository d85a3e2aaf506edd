"""Recompute runs as the site, the nightly job and beat drive them: start a run of a
quarter and day, join the one already running, or resume it when it has stalled; and the
fan-out of one task per person to the workers.

The tasks are sent by name (`payouts.tasks.recompute_person`), so this module and the tasks
that call it do not import each other.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from celery import current_app, group
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from accounts.quarters import Quarter
from payouts import selectors, services
from payouts.models import RecomputeRun

STARTED, JOINED, RESUMED = "started", "joined", "resumed"


class QueueUnavailable(Exception):
    """The broker could not be reached: nothing was queued (a new run is marked failed)."""


@dataclass(frozen=True)
class RunStart:
    run: RecomputeRun
    outcome: str  # STARTED, JOINED or RESUMED


def fan_out(run: RecomputeRun, person_ids: list[int]) -> None:
    """One `recompute_person` task per person, sent when the transaction commits."""
    if person_ids:
        person = current_app.signature
        jobs = group(
            person("payouts.tasks.recompute_person",
                   args=(pid, run.quarter, run.as_of.isoformat(), run.id))
            for pid in person_ids
        )
        transaction.on_commit(jobs.delay)


def recompute_start(*, quarter: Quarter, as_of: datetime.date, user=None) -> RunStart:
    """Start a run for everyone with a plan, join the one running for the same quarter and
    day, or resume it if it has stalled (lost its worker)."""
    people = [p.id for p, _plan, _pp, _v in selectors.plans_for(quarter)]
    run, started = services.recompute_run_start(
        quarter=quarter, as_of=as_of, user=user, total=len(people), person_ids=people,
    )
    try:
        if started:
            if people:
                fan_out(run, people)
            else:
                services.recompute_run_finish(run=run)
            return RunStart(run, STARTED)
        if selectors.recompute_run_stalled(run):
            fan_out(run, services.recompute_run_resume(run=run))
            return RunStart(run, RESUMED)
    except BrokerError as exc:
        if started:
            # Nothing reached the queue: a retry must start afresh, not join a run that will
            # never progress.
            RecomputeRun.objects.filter(id=run.id, done=0).update(
                status=RecomputeRun.Status.FAILED
            )
        raise QueueUnavailable(str(exc)) from exc
    return RunStart(run, JOINED)


def recompute_resume(run: RecomputeRun) -> int:
    """Requeue the people a stalled run still lacks; 0 if it is not stalled (or another
    resume just claimed it)."""
    if not selectors.recompute_run_stalled(run):
        return 0
    missing = services.recompute_run_resume(run=run)
    try:
        fan_out(run, missing)
    except BrokerError as exc:
        raise QueueUnavailable(str(exc)) from exc
    return len(missing)


def recompute_resume_stalled() -> list[int]:
    """Resume every stalled run (the workers are asked once); the ids resumed."""
    running = list(RecomputeRun.objects.filter(status=RecomputeRun.Status.RUNNING))
    stalled = selectors.recompute_runs_stalled(running)
    resumed = []
    for run in running:
        if run.id in stalled:
            fan_out(run, services.recompute_run_resume(run=run))
            resumed.append(run.id)
    return resumed
