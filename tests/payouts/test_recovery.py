"""Recovery: a recompute whose worker was killed is found stalled and resumed in minutes
(not after the broker's one-hour visibility timeout); an import that loses its database
says so in one line.

The worker tests use the real workers of tests/system/test_faults.py (separate processes, real
Redis and PostgreSQL), on the tests' own Redis database so that this process asks the very
workers that hold the tasks, and with the threads pool so that a worker busy with a task
still answers "which tasks do you hold?" as a deployed (prefork) worker does.
"""

import datetime
import io
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

import tests.system.test_faults as faults
from accounts.models import Account, ImportRun
from accounts.quarters import Quarter
from payouts import rule_inputs, selectors, services, tasks
from payouts.models import AttainmentSnapshot, RecomputeRun
from tests.system.test_faults import (
    AS_OF,
    QUARTER,
    ROOT,
    Cluster,
    backends,
    books,  # noqa: F401 - fixture
    database_url,
    raw_connection,
    stored,
    terminate,
    uninterrupted,
    wait_for,
)

STALL_SECONDS = 3
DAY = datetime.date.fromisoformat(AS_OF)


@pytest.fixture
def stall_window(settings, monkeypatch):
    settings.RECOMPUTE_STALL_SECONDS = STALL_SECONDS
    monkeypatch.setenv("RECOMPUTE_STALL_SECONDS", str(STALL_SECONDS))  # for the workers


@pytest.fixture
def cluster(transactional_db, tmp_path, monkeypatch, stall_window):
    monkeypatch.setattr(faults, "BROKER", settings.REDIS_URL)
    monkeypatch.setattr(faults, "LAUNCHER", faults.LAUNCHER.replace('"solo"', '"threads"'))
    made = Cluster(tmp_path)
    yield made
    made.close()
    _forget_unacked(made.queue)


def _forget_unacked(queue):
    """Drop the killed worker's unacknowledged messages of this test's queue, so that no
    later worker restores them into a queue nobody reads."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for tag, raw in client.hgetall("unacked").items():
        _message, _exchange, routing_key = json.loads(raw)
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.close()


def _unacked_of(queue) -> int:
    client = redis.Redis.from_url(settings.REDIS_URL)
    held = [raw for raw in client.hvals("unacked") if json.loads(raw)[2] == queue]
    client.close()
    return len(held)


def _hold_snapshot_of(person, digest):
    """An uncommitted snapshot with the key the person's write will use: that write waits."""
    version = rule_inputs.gather_inputs(Quarter.parse(QUARTER), DAY, [person])[0][1]
    gate = raw_connection()
    gate.execute(
        "INSERT INTO payouts_attainmentsnapshot (person_id, quarter, as_of, final, "
        "plan_version_id, inputs_digest, bonus_fraction, amount, payable, accounts_counted, "
        "accounts_excluded, inputs, explanation, computed_at) VALUES (%s, %s, %s, true, %s, "
        "%s, 0, 0, 0, 0, 0, '{}', '{}', now())",
        [person.id, QUARTER, AS_OF, version.id, digest])
    return gate


# --- a worker killed mid-run, a fresh worker, the run found stalled and resumed --------------


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_was_killed_is_found_stalled_and_resume_finishes_it(
    books, cluster  # noqa: F811
):
    expected = uninterrupted()
    gate = _hold_snapshot_of(books["bob"], expected["bob@example.com"][0])
    doomed = cluster.start("doomed")
    cluster.send(tasks.recompute_quarter, QUARTER, AS_OF)
    wait_for(lambda: backends(doomed.name, True), 30, "Bob's snapshot to be written")
    run = RecomputeRun.objects.get(quarter=QUARTER, as_of=AS_OF)
    assert run.person_ids and len(run.person_ids) == run.total == 3

    # Quiet for longer than the window, but Bob's task is active on a live worker: not stalled.
    RecomputeRun.objects.filter(id=run.id).update(
        progressed_at=timezone.now() - timedelta(seconds=STALL_SECONDS + 1))
    run.refresh_from_db()
    assert run.id in selectors.recompute_runs_live()
    assert not selectors.recompute_run_stalled(run)

    doomed.kill()  # SIGKILL: Bob's message stays unacknowledged in Redis for an hour
    terminate(doomed.name)
    gate.rollback()
    gate.close()

    # A fresh worker (the deployed one-hour visibility timeout) finishes what was queued...
    cluster.start("fresh")
    wait_for(lambda: "charlie@example.com" in stored(), 30, "the queued tasks to be done")
    wait_for(lambda: RecomputeRun.objects.get(id=run.id).done == 2, 10, "the run to count two")
    run.refresh_from_db()
    assert run.status == "running" and run.done == 2
    assert "bob@example.com" not in stored()
    # Bob's task, held for the dead worker (the fresh worker acks Charlie's just after).
    wait_for(lambda: _unacked_of(cluster.queue) == 1, 10, "only Bob's task to stay unacked")
    # ...and the run, having just progressed, is not stalled yet; it is once the window passes.
    assert not selectors.recompute_run_stalled(run)
    wait_for(lambda: selectors.recompute_run_stalled(RecomputeRun.objects.get(id=run.id)),
             STALL_SECONDS + 15, "the run to be seen as stalled")

    resumed = cluster.send(tasks.resume_run, run.id)
    wait_for(lambda: RecomputeRun.objects.get(id=run.id).status == "done", 60,
             "the resumed run to finish")
    assert faults.returned(faults.logs_of(*cluster.workers), resumed.id) == "1"  # Bob only
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == ("done", 3, 3)
    assert stored() == expected  # one snapshot per person, the uninterrupted figures
    assert AttainmentSnapshot.objects.filter(run=run).count() == 3

    # A plain recompute in this process finds the same figures: it stores nothing new.
    call_command("recompute", "--quarter", QUARTER, "--as-of", AS_OF, stdout=io.StringIO())
    assert stored() == expected


# --- the services, without workers (none answers: no task is live) --------------------------


def _stalled_run(people, *, done_people=(), quiet_for=STALL_SECONDS + 5):
    covered = [p.id for p, _plan, _pp, _v in selectors.plans_for(Quarter.parse(QUARTER))]
    run, started = services.recompute_run_start(
        quarter=Quarter.parse(QUARTER), as_of=DAY, total=len(covered), person_ids=covered)
    assert started
    if done_people:
        services.attainment_recompute(
            quarter=Quarter.parse(QUARTER), as_of=DAY, people=list(done_people), run=run)
    RecomputeRun.objects.filter(id=run.id).update(
        progressed_at=timezone.now() - timedelta(seconds=quiet_for))
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_resuming_twice_requeues_the_missing_people_once_and_counts_each_once(
    books, stall_window  # noqa: F811
):
    run = _stalled_run(books, done_people=[books["alice"]])
    assert run.done == 1
    first = services.recompute_run_resume(run=run)
    assert sorted(first) == sorted([books["bob"].id, books["charlie"].id])
    assert services.recompute_run_resume(run=run) == []  # claimed: the second gets nobody

    # Both resumes' work done twice over (a redelivered task): still one per person.
    for _ in range(2):
        services.attainment_recompute(
            quarter=Quarter.parse(QUARTER), as_of=DAY,
            people=[books["bob"], books["charlie"], books["alice"]], run=run)
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == ("done", 3, 3)
    assert AttainmentSnapshot.objects.filter(run=run).count() == 3


@pytest.mark.django_db
def test_the_resume_task_twice_sends_the_missing_people_once(
    books, stall_window, django_capture_on_commit_callbacks  # noqa: F811
):
    run = _stalled_run(books, done_people=[books["alice"]])
    with django_capture_on_commit_callbacks() as sent:
        assert tasks.resume_run(run.id) == 2
        assert tasks.resume_run(run.id) == 0
    assert len(sent) == 1  # one group of two tasks


@pytest.mark.django_db
def test_a_run_with_progress_inside_the_window_is_not_stalled(books, stall_window):  # noqa: F811
    run = _stalled_run(books, quiet_for=1)
    assert not selectors.recompute_run_stalled(run)
    assert services.recompute_run_resume(run=run) == []
    run.progressed_at = timezone.now() - timedelta(seconds=STALL_SECONDS + 1)
    assert selectors.recompute_run_stalled(run)


@pytest.mark.django_db
def test_a_finished_run_is_never_stalled(books, stall_window):  # noqa: F811
    run = _stalled_run(books)
    services.recompute_run_finish(run=run)
    run.refresh_from_db()
    assert not selectors.recompute_run_stalled(run)
    assert services.recompute_run_resume(run=run) == []


@pytest.mark.django_db
def test_the_command_resumes_a_stalled_run_and_marks_it_done(books, stall_window):  # noqa: F811
    run = _stalled_run(books, done_people=[books["alice"]])
    out = io.StringIO()
    call_command("recompute", "--quarter", QUARTER, "--as-of", AS_OF, stdout=out)
    assert f"2 people recomputed (resumed stalled run {run.id}, done)" in out.getvalue()
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == ("done", 3, 3)
    assert RecomputeRun.objects.count() == 1
    assert stored() == uninterrupted()


@pytest.mark.django_db
def test_the_command_still_refuses_a_run_that_is_progressing(books, stall_window):  # noqa: F811
    run = _stalled_run(books, quiet_for=0)
    with pytest.raises(CommandError, match=f"already running \\(run {run.id}\\)"):
        call_command("recompute", "--quarter", QUARTER, "--as-of", AS_OF, stdout=io.StringIO())


@pytest.mark.django_db
def test_the_nightly_start_resumes_a_stalled_run_instead_of_joining_it(
    books, stall_window, django_capture_on_commit_callbacks  # noqa: F811
):
    run = _stalled_run(books, done_people=[books["alice"]])
    with django_capture_on_commit_callbacks() as sent:
        assert tasks.recompute_quarter(QUARTER, AS_OF) == run.id
    assert len(sent) == 1
    run.refresh_from_db()
    assert timezone.now() - run.progressed_at < timedelta(seconds=STALL_SECONDS)  # claimed


@pytest.mark.django_db
def test_beat_resumes_the_stalled_runs_every_few_minutes(
    books, stall_window, django_capture_on_commit_callbacks  # noqa: F811
):
    entry = settings.CELERY_BEAT_SCHEDULE["resume-stalled-recomputes"]
    assert entry["task"] == "payouts.tasks.resume_stalled_runs"
    assert entry["schedule"] <= timedelta(minutes=10)
    run = _stalled_run(books, done_people=[books["alice"]])
    with django_capture_on_commit_callbacks() as sent:
        assert tasks.resume_stalled_runs() == [run.id]
        assert tasks.resume_stalled_runs() == []
    assert len(sent) == 1


# --- the run page ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["fiona", "maria", "rita"])
def test_the_run_page_offers_resume_only_when_stalled(books, users, client, name, stall_window):  # noqa: F811
    client.force_login(users[name])
    run = _stalled_run(books, quiet_for=0)
    page = client.get(f"/recompute/{run.id}/").content.decode()
    assert "Stalled" not in page and "Resume" not in page
    assert re.search(r"<td[^>]*>\s*Running\s*</td>", page)

    RecomputeRun.objects.filter(id=run.id).update(
        progressed_at=timezone.now() - timedelta(seconds=STALL_SECONDS + 5))
    run.refresh_from_db()
    page = client.get(f"/recompute/{run.id}/").content.decode()
    assert f"Stalled: no progress since {run.progressed_at:%H:%M} UTC" in page
    assert f'action="/recompute/{run.id}/resume/"' in page
    assert re.search(r"<td[^>]*>\s*Stalled\s*</td>", page)  # in the recent runs too

    response = client.post(f"/recompute/{run.id}/resume/", follow=True)
    assert "Resumed: 3 people requeued." in response.content.decode()
    page = client.get(f"/recompute/{run.id}/").content.decode()
    assert "Stalled" not in page  # just resumed: progress is awaited again


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["alice", "charlie"])
def test_a_rep_sees_no_run_page_and_cannot_resume(books, users, client, name, stall_window):  # noqa: F811
    run = _stalled_run(books)
    client.force_login(users[name])
    assert client.get(f"/recompute/{run.id}/").status_code == 403
    assert client.post(f"/recompute/{run.id}/resume/").status_code == 403
    run.refresh_from_db()
    assert timezone.now() - run.progressed_at > timedelta(seconds=STALL_SECONDS)  # untouched


@pytest.mark.django_db
def test_the_recent_runs_say_stalled_instead_of_running(books, users, client, stall_window):  # noqa: F811
    _stalled_run(books)
    client.force_login(users["fiona"])
    page = client.get("/recompute/").content.decode()
    assert re.search(r"<td[^>]*>\s*Stalled\s*</td>", page)
    assert not re.search(r"<td[^>]*>\s*Running\s*</td>", page)


# --- a lost database during import_csv -----------------------------------------------------


def _accounts_file(tmp_path, rows=2000):
    path = tmp_path / "accounts.csv"
    lines = ["external_id,name,billing"] + [f"L-{n:05},Lost {n},monthly" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _import(path, app_name, *extra):
    env = dict(os.environ, DATABASE_URL=database_url(app_name), DEBUG="false")
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_csv", "accounts", str(path), *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _import_with_its_backend_terminated(path, *extra):
    """Run the import in its own process and end its database session while it is inside
    its transaction (held at its lock by this test), as a database restart would."""
    app_name = f"import-lost-{uuid.uuid4().hex[:8]}"
    holder = raw_connection()
    holder.execute("SELECT pg_advisory_xact_lock(hashtext('import accounts'))")
    process = _import(path, app_name, *extra)
    try:
        wait_for(lambda: backends(app_name, True), 30, "the import to wait inside its work")
        terminate(app_name)
    finally:
        holder.rollback()
        holder.close()
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


@pytest.mark.django_db(transaction=True)
def test_an_import_that_loses_its_database_says_so_in_one_line_and_writes_nothing(tmp_path):
    path = _accounts_file(tmp_path)
    code, out, err = _import_with_its_backend_terminated(path)
    assert code == 1
    assert err.splitlines() == [
        "import_csv: the database connection was lost during the import; nothing was "
        "imported. Run the same command again."
    ], err
    assert not Account.objects.exists() and not ImportRun.objects.exists()

    # Run the same command again, as it says: it imports.
    process = _import(path, "import-again")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert Account.objects.count() == 2000


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("asking", [["--traceback"], ["-v", "3"]])
def test_an_import_that_loses_its_database_shows_the_traceback_when_asked(tmp_path, asking):
    code, _out, err = _import_with_its_backend_terminated(_accounts_file(tmp_path, 10), *asking)
    assert code == 1
    assert "Traceback (most recent call last)" in err and "OperationalError" in err
    assert not Account.objects.exists()
