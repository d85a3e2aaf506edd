"""Faults, with real Celery workers (separate processes) on a real Redis and PostgreSQL.

(a) Two recomputes of one quarter started at once, on two workers: they meet at the run's
    creation (the test holds it back until both are waiting there); one starts the run, the
    other joins it; one snapshot per person, the figures of an uninterrupted run.
(b) A worker is killed (SIGKILL) in the middle of a recompute: one person's snapshot is being
    written (the test holds that write back) while others are done or queued. Nothing of
    that person is written; a new worker takes the task again once the broker's visibility
    timeout has passed (acks_late) and the run completes with the figures of an uninterrupted
    run, each snapshot once.
(c) The database is unreachable while a task runs (the worker reaches PostgreSQL through a
    TCP relay the test closes): the task retries on OperationalError and succeeds once the
    database is back.

The workers consume a queue of their own on Redis database 14 (never the demo's or the other
tests'), with the test's database; the test publishes to that queue. Each is started by a
few lines of Python equal to `celery -A compapp worker --pool solo -Q <queue>`, which also
route the tasks a worker sends (the quarter's fan-out) to that queue and, for (b), shorten
the visibility timeout: production code is not changed for the tests.
"""

import datetime
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection

from accounts.quarters import Quarter
from compapp.celery import app
from payouts import fingerprints, rule_inputs, rules, selectors, tasks
from payouts.models import AttainmentSnapshot, RecomputeRun
from tests.conftest import assign, invoice, make_account

ROOT = Path(__file__).resolve().parents[2]
QUARTER, AS_OF = "2025Q2", "2025-07-14"
BROKER = os.environ.get("FAULTS_REDIS_URL") or settings.REDIS_URL.rsplit("/", 1)[0] + "/14"

LAUNCHER = r"""
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compapp.settings")
django.setup()
from compapp.celery import app
queue = os.environ["FAULT_QUEUE"]
app.conf.task_default_queue = queue  # the quarter's fan-out stays on the test's queue
if os.environ.get("FAULT_VISIBILITY_TIMEOUT"):
    app.conf.broker_transport_options = {
        **(app.conf.broker_transport_options or {}),
        "visibility_timeout": int(os.environ["FAULT_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1, "unacked_restore_throttle": 1,
    }
app.worker_main(["worker", "--pool", "solo", "--concurrency", "1", "-Q", queue,
                 "-n", os.environ["FAULT_NAME"] + "@%h", "--without-mingle",
                 "--without-gossip", "--without-heartbeat", "--loglevel", "INFO"])
"""


def wait_for(predicate, timeout=30, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def database_url(application_name, *, host=None, port=None):
    db = settings.DATABASES["default"]
    user = quote(db["USER"] or "")
    password = quote(db["PASSWORD"] or "")
    # A Unix socket directory (the embedded PostgreSQL) goes in the URL percent-encoded.
    host = quote(host or db["HOST"] or "127.0.0.1", safe="")
    return (f"postgres://{user}:{password}@{host}:"
            f"{port or db['PORT'] or 5432}/{db['NAME']}?application_name={application_name}")


def backends(application_name, waiting_on_a_lock=False):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s AND (NOT %s OR wait_event_type = 'Lock')",
            [application_name, waiting_on_a_lock],
        )
        return [pid for (pid,) in cursor.fetchall()]


def terminate(application_name):
    """End a killed worker's sessions at once (a backend waiting on a lock would otherwise
    notice that its client is gone only when the lock is released)."""
    for pid in backends(application_name):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda: not backends(application_name), 10, f"{application_name}'s sessions")


class Cluster:
    """The test's workers and queue."""

    def __init__(self, tmp_path):
        self.queue = f"faults-{uuid.uuid4().hex[:10]}"
        self.tmp_path = tmp_path
        self.workers: list[Worker] = []

    def start(self, name, *, visibility_timeout=None, db_host=None, db_port=None):
        app_name = f"{self.queue}-{name}"
        env = dict(os.environ, DATABASE_URL=database_url(app_name, host=db_host, port=db_port),
                   REDIS_URL=BROKER, FAULT_QUEUE=self.queue, FAULT_NAME=app_name,
                   DJANGO_SETTINGS_MODULE="compapp.settings", DEBUG="false")
        if visibility_timeout:
            env["FAULT_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        log = self.tmp_path / f"{name}.log"
        handle = open(log, "wb")  # noqa: SIM115 - the worker writes it until it stops
        process = subprocess.Popen([sys.executable, "-c", LAUNCHER], cwd=ROOT, env=env,
                                   stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        worker = Worker(app_name, process, log)
        self.workers.append(worker)
        wait_for(lambda: " ready." in worker.text() or process.poll() is not None, 60,
                 f"worker {name} to start")
        assert process.poll() is None, worker.text()
        return worker

    def send(self, task, *args):
        with app.connection_for_write(BROKER) as conn:
            return task.apply_async(args=args, queue=self.queue, connection=conn)

    def close(self):
        for worker in self.workers:
            worker.kill()
        for worker in self.workers:
            terminate(worker.name)
        client = redis.Redis.from_url(BROKER)
        client.delete(self.queue, f"_kombu.binding.{self.queue}",
                      f"_kombu.binding_permanent.{self.queue}")
        client.close()


@pytest.fixture
def cluster(transactional_db, tmp_path):
    made = Cluster(tmp_path)
    yield made
    made.close()


@pytest.fixture
def books(people):
    """Alice and Bob (CSMs) each hold a monthly customer growing 20%; Charlie (AE) none."""
    for n, owner in enumerate([people["alice"], people["bob"]]):
        account = make_account(f"F-{n}")
        assign(account, owner)
        for month in Quarter.parse(QUARTER).previous().months:
            invoice(account, f"F{n}-{month:%m}", month, "1000.00")
        for month in Quarter.parse(QUARTER).months:
            invoice(account, f"F{n}-{month:%m}", month, f"{1200 + 100 * n}.00")
    return people


def uninterrupted():
    """Each person's figures as a recompute computes them, read without writing anything:
    {email: (inputs digest, amount, payable)}."""
    figures = {}
    quarter, as_of = Quarter.parse(QUARTER), datetime.date.fromisoformat(AS_OF)
    keys = fingerprints.input_fingerprints(quarter, as_of, selectors.plans_for(quarter))
    for person, _version, _pp, inputs in rule_inputs.gather_inputs(quarter, as_of, None):
        result = rules.compute(inputs)
        figures[person.email] = (keys[person.id], result.amount, result.payable)
    return figures


def stored():
    rows = AttainmentSnapshot.objects.filter(quarter=QUARTER, as_of=AS_OF).values_list(
        "person__email", "inputs_digest", "amount", "payable")
    by_person = {}
    for email, *figures in rows:
        assert email not in by_person, f"two snapshots of {email}"
        by_person[email] = tuple(figures)
    return by_person


def logs_of(*workers):
    return "".join(w.text() for w in workers)


def returned(logs, task_id):
    """What a task returned, from its worker's log (None while it has not succeeded)."""
    match = re.search(rf"\[{re.escape(task_id)}\] succeeded in [0-9.]+s: (.*)", logs)
    return match.group(1).strip() if match else None


def raw_connection():
    db = settings.DATABASES["default"]
    return psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
                           host=db["HOST"] or None, port=db["PORT"] or None)


# --- (a) two recomputes at once -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_recomputes_of_a_quarter_at_once_give_one_result_per_person(books, cluster):
    expected = uninterrupted()
    assert set(expected) == {"alice@example.com", "bob@example.com", "charlie@example.com"}
    one, two = cluster.start("a1"), cluster.start("a2")
    # Hold the run's creation back (an uncommitted run of the same quarter and day), so that
    # both recomputes are inside it at the same moment.
    gate = raw_connection()
    gate.execute("INSERT INTO payouts_recomputerun (quarter, as_of, status, total, done, "
                 "started_at) VALUES (%s, %s, 'running', 0, 0, now())", [QUARTER, AS_OF])
    first = cluster.send(tasks.recompute_quarter, QUARTER, AS_OF)
    second = cluster.send(tasks.recompute_quarter, QUARTER, AS_OF)
    wait_for(lambda: backends(one.name, True) and backends(two.name, True), 30,
             "both recomputes to wait at the run's creation")
    gate.rollback()  # both go on together: one creates the run, the other finds it
    gate.close()

    runs = RecomputeRun.objects.filter(quarter=QUARTER, as_of=AS_OF)
    wait_for(lambda: runs.filter(status="done").count() == 1, 60, "the run to finish")
    assert runs.count() == 1
    run = runs.get()
    # Each start returned the same run: the second joined the first.
    for sent in (first, second):
        wait_for(lambda sent=sent: returned(logs_of(one, two), sent.id) is not None, 30,
                 f"task {sent.id} to finish")
        assert returned(logs_of(one, two), sent.id) == str(run.id), logs_of(one, two)
    assert (run.total, run.done) == (3, 3)
    assert stored() == expected


# --- (b) a worker killed in the middle of a recompute ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_recompute_is_replaced_and_the_rerun_matches(books, cluster):
    expected = uninterrupted()
    bob = books["bob"]
    digest = expected["bob@example.com"][0]
    version = rule_inputs.gather_inputs(Quarter.parse(QUARTER),
                                      datetime.date.fromisoformat(AS_OF), [bob])[0][1]
    # Hold Bob's snapshot back: an uncommitted row with the very key his write will use
    # makes that write wait, inside the worker's transaction.
    gate = raw_connection()
    gate.execute(
        "INSERT INTO payouts_attainmentsnapshot (person_id, quarter, as_of, final, "
        "plan_version_id, inputs_digest, bonus_fraction, amount, payable, accounts_counted, "
        "accounts_excluded, inputs, explanation, computed_at) VALUES (%s, %s, %s, true, %s, "
        "%s, 0, 0, 0, 0, 0, '{}', '{}', now())",
        [bob.id, QUARTER, AS_OF, version.id, digest])
    doomed = cluster.start("b1")
    cluster.send(tasks.recompute_quarter, QUARTER, AS_OF)
    wait_for(lambda: backends(doomed.name, True), 30, "Bob's snapshot to be written")
    doomed.kill()  # SIGKILL: no goodbye, no acknowledgement
    terminate(doomed.name)
    gate.rollback()
    gate.close()

    # Nothing of Bob was written; the run is still open.
    assert "bob@example.com" not in stored()
    run = RecomputeRun.objects.get(quarter=QUARTER, as_of=AS_OF)
    assert run.status == "running" and run.done < run.total == 3
    unacked = redis.Redis.from_url(BROKER)
    assert unacked.hlen("unacked") >= 1  # the message is held by the broker, not lost
    unacked.close()

    # A new worker takes the task again once the visibility timeout (2 s here) has passed.
    cluster.start("b2", visibility_timeout=2)
    wait_for(lambda: RecomputeRun.objects.get(id=run.id).status == "done", 60,
             "the redelivered recompute to finish")
    run.refresh_from_db()
    assert (run.total, run.done) == (3, 3)
    assert stored() == expected


# --- (c) the database unreachable during a task --------------------------------------------


class Relay:
    """A TCP relay to PostgreSQL on 127.0.0.1 that the test can cut and restore."""

    def __init__(self, target):
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener = None
        self.sockets = []
        self.lock = threading.Lock()

    def open(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.1)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self):
        """Refuse new connections and break the open ones."""
        listener, self.listener = self.listener, None
        with self.lock:  # no connection is being accepted while the door closes
            listener.close()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets.clear()

    def _accept(self, listener):
        while self.listener is listener:
            try:
                with self.lock:
                    if self.listener is not listener:
                        return
                    client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by cut()
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass


@pytest.mark.django_db(transaction=True)
def test_a_task_retries_while_the_database_is_unreachable_and_then_succeeds(books, cluster):
    db = settings.DATABASES["default"]
    if (db["HOST"] or "").startswith("/"):
        pytest.skip("the database is reached through a Unix socket: no TCP relay to cut")
    expected = uninterrupted()
    relay = Relay((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    relay.open()
    worker = cluster.start("c1", db_host="127.0.0.1", db_port=relay.port)
    relay.cut()  # the database is now unreachable from the worker
    cluster.send(tasks.recompute_quarter, QUARTER, AS_OF)
    wait_for(lambda: worker.text().count("Retry in") >= 2, 60, "two retries")
    assert "OperationalError" in worker.text()
    assert not RecomputeRun.objects.exists()
    relay.open()  # the database is back
    wait_for(lambda: RecomputeRun.objects.filter(status="done").exists(), 90,
             "the recompute to succeed")
    assert "succeeded" in worker.text()
    assert stored() == expected
    relay.cut()
