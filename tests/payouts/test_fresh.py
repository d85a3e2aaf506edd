"""Figures fresh after a change (payouts/fresh.py): an import, a reassignment, an approved
hand-off or a quota amendment queues, on commit, a recompute of exactly the people and
quarters whose inputs changed; the new snapshot names the change, and "what changed" on
the person's page says so.

The import is followed through a real Celery worker (a separate process on the tests' Redis
and PostgreSQL, as in tests/system/test_faults.py); the other triggers run their queued
tasks in this process (Celery eager), from the callbacks captured at commit.
"""

import calendar
import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

import tests.system.test_faults as faults
from accounts.imports import changed
from accounts.models import ImportRun
from accounts.quarters import Quarter, add_months
from accounts.services import account_reassign
from compapp.celery import app
from compapp.imports import import_csv
from compapp.workspace.handoffs import handoff_approve, handoff_propose
from payouts import fingerprints, fresh, rule_inputs, rules, selectors, services
from payouts.explain import month_figures
from payouts.models import AttainmentSnapshot, PersonPlan, RecomputeRun
from tests.conftest import assign, invoice, make_account, make_user

TODAY = datetime.date.today()
QUARTER = Quarter.containing(TODAY)
MONTH = TODAY.replace(day=1)
MONTH_END = MONTH.replace(day=calendar.monthrange(MONTH.year, MONTH.month)[1])

INVOICE_HEADER = ("external_id,account_external_id,issued_on,period_start,period_end,amount,"
                  "kind,status,paid_on")


@pytest.fixture
def books(people):
    """Alice and Bob (CSMs) each hold a monthly customer billed the three months before this
    one; Charlie (AE) holds an annual customer with a contract this quarter. Everyone's
    figures of the quarter are stored as of today."""
    for n, owner in enumerate([people["alice"], people["bob"]]):
        account = make_account(f"FR-{n}")
        assign(account, owner)
        for back in (3, 2, 1):
            month = add_months(MONTH, -back)
            invoice(account, f"FR{n}-{month:%Y%m}", month, f"{1000 + 100 * n}.00")
    annual = make_account("FR-AE", billing="annual")
    assign(annual, people["charlie"], role="ae", start=datetime.date(2024, 1, 1))
    services.attainment_recompute(quarter=QUARTER, as_of=TODAY)
    return people


def write_invoices(path, *rows):
    path.write_text("\n".join([INVOICE_HEADER, *rows]) + "\n")
    return path


def todays_invoice(external_id, account, amount):
    return (f"{external_id},{account},{TODAY},{MONTH},{MONTH_END},{amount},usage,paid,{TODAY}")


def snapshot_rows():
    """Every stored snapshot: {id: (email, quarter, as_of, digest, amount, computed_at)}."""
    return {
        pk: rest for pk, *rest in AttainmentSnapshot.objects.values_list(
            "id", "person__email", "quarter", "as_of", "inputs_digest", "amount", "computed_at")
    }


def latest(person, quarter=QUARTER):
    return selectors.latest_snapshots(quarter, people=[person]).get()


def computed_here(person, quarter=QUARTER):
    """(digest, amount, payable) as a recompute in this process finds them now."""
    [(_person, _version, _pp, inputs)] = rule_inputs.gather_inputs(quarter, TODAY, [person])
    result = rules.compute(inputs)
    keys = fingerprints.input_fingerprints(Quarter.parse(str(quarter)), TODAY,
                                        selectors.plans_for(Quarter.parse(str(quarter)),
                                                            people=[person]))
    return keys[person.id], result.amount, result.payable


def revenue_of(snapshot, external_id, month=MONTH):
    account = next(a for a in snapshot.inputs["accounts"] if a["external_id"] == external_id)
    return month_figures(account).get(month.isoformat(), (Decimal(0),))[0]


# --- an import, followed by a real worker --------------------------------------------------


@pytest.fixture
def worker(transactional_db, tmp_path, monkeypatch):
    """A real worker on a queue of this test's, which this process publishes to."""
    monkeypatch.setattr(faults, "BROKER", settings.REDIS_URL)
    cluster = faults.Cluster(tmp_path)
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = cluster.queue
    try:
        cluster.start("fresh")
        yield cluster
    finally:
        app.conf.task_default_queue = default_queue
        cluster.close()


@pytest.mark.django_db(transaction=True)
def test_an_import_is_followed_by_fresh_figures_of_exactly_the_people_it_concerns(
    books, worker, tmp_path, client_for
):
    alice, bob = books["alice"], books["bob"]
    before = snapshot_rows()
    old = latest(alice)
    path = write_invoices(tmp_path / "day.csv", todays_invoice("FR0-TODAY", "FR-0", "1234.56"))

    result = import_csv("invoices", path)

    assert result.ok and result.created == 1
    run = ImportRun.objects.get(id=result.import_run_id)
    cause = f"import #{run.id}: invoices from day.csv"
    faults.wait_for(lambda: latest(alice).cause == cause, 60, "Alice's fresh figures")
    fresh_one = latest(alice)
    assert fresh_one.id not in before and fresh_one.as_of == TODAY
    assert "payouts.tasks.refresh_people" in faults.logs_of(*worker.workers)  # the worker's
    # Her figures include the imported invoice, to the cent, as a recompute finds them.
    assert revenue_of(fresh_one, "FR-0") == Decimal("1234.56")
    assert revenue_of(old, "FR-0") == Decimal("0")
    assert (fresh_one.inputs_digest, fresh_one.amount, fresh_one.payable) == computed_here(alice)
    # Nobody else's snapshot moved (Bob's and Charlie's rows are as they were).
    after = snapshot_rows()
    assert {pk: row for pk, row in after.items() if pk != fresh_one.id} == before
    assert latest(bob).id == AttainmentSnapshot.objects.get(person=bob, quarter=str(QUARTER)).id

    # Her page shows the new figure and names the import in "what changed".
    page = client_for("alice").get(reverse("my_attainment"), {"quarter": str(QUARTER)})
    html = re.sub(r"\s+", " ", page.content.decode())
    assert f"Recomputed after {cause}." in html
    assert f"after {cause}" in html
    assert f" UTC (recomputed after {cause})</strong>" in html  # the headline's change too

    # The same file again changes nothing and queues nothing: the figures stay.
    again = import_csv("invoices", path)
    assert again.ok and (again.created, again.updated) == (0, 0) and not again.changed
    assert snapshot_rows().keys() == after.keys()


# --- what an import changed ----------------------------------------------------------------


@pytest.mark.django_db
def test_an_import_lists_the_accounts_its_changed_rows_concern_with_their_days(
    books, tmp_path
):
    first = write_invoices(tmp_path / "a.csv", todays_invoice("FR0-TODAY", "FR-0", "10.00"),
                           todays_invoice("FR1-TODAY", "FR-1", "20.00"))
    result = import_csv("invoices", first)
    ids = {a.external_id: a.id for a in (books["alice"].assignments.get().account,
                                         books["bob"].assignments.get().account)}
    assert result.changed.accounts == {ids["FR-0"]: (MONTH, MONTH_END),
                                       ids["FR-1"]: (MONTH, MONTH_END)}
    # One row moved to another month: its days before and after; the unchanged row is out.
    earlier = add_months(MONTH, -4)
    moved = (f"FR1-TODAY,FR-1,{TODAY},{earlier},{earlier.replace(day=28)},20.00,usage,paid,"
             f"{TODAY}")
    second = write_invoices(tmp_path / "b.csv", todays_invoice("FR0-TODAY", "FR-0", "10.00"),
                            moved)
    result = import_csv("invoices", second)
    assert result.updated == 1
    assert result.changed.accounts == {ids["FR-1"]: (earlier, MONTH_END)}
    assert result.import_run_id == ImportRun.objects.latest("id").id
    # A dry run lists nothing.
    assert not import_csv("invoices", first, dry_run=True).changed


@pytest.mark.django_db
def test_an_assignments_import_names_the_owners_before_and_after(books, tmp_path):
    path = tmp_path / "assignments.csv"
    path.write_text("account_external_id,owner_email,role,start_date,end_date\n"
                    "FR-0,bob@example.com,csm,2024-01-01,\n")
    result = import_csv("assignments", path)
    assert result.updated == 1
    assert result.changed.people == {
        books["alice"].id: (datetime.date(2024, 1, 1), datetime.date.max),
        books["bob"].id: (datetime.date(2024, 1, 1), datetime.date.max),
    }


@pytest.mark.django_db
def test_a_plans_import_names_the_person_and_the_days_of_the_quarter(books, tmp_path):
    path = tmp_path / "plans.csv"
    path.write_text(f"email,quarter,plan,quota\ncharlie@example.com,{QUARTER},ae_commission,"
                    "50000.00\n")
    result = import_csv("plans", path)
    assert result.changed.people == {books["charlie"].id: (QUARTER.start, QUARTER.end)}


def test_the_quarters_refreshed_are_the_open_ones_the_days_reach():
    day = datetime.date(2025, 7, 10)  # Q3, and Q2 until its cutoff on 14 July
    q2, q3 = Quarter.parse("2025Q2"), Quarter.parse("2025Q3")
    assert fresh.open_quarters(day) == [q3, q2]
    assert fresh.open_quarters(datetime.date(2025, 7, 15)) == [q3]
    change = fresh.Change(cause="x", people={
        1: (datetime.date(2025, 7, 1), datetime.date.max),  # from Q3 on
        2: (datetime.date(2025, 4, 1), datetime.date(2025, 6, 30)),  # Q2's plan
        3: (datetime.date(2025, 10, 1), datetime.date.max),  # a later quarter: none open
    })
    assert fresh.people_to_refresh(change, day) == [(q3, [1]), (q2, [2])]


@pytest.fixture
def unreachable_broker():
    """This process's Celery publishes to a port nobody listens on."""

    def point_at(url):
        app.conf.broker_url = url
        app._pool, app.amqp._producer_pool = None, None

    previous = app.conf.broker_url
    point_at("redis://127.0.0.1:9/0")
    yield
    point_at(previous)


@pytest.mark.django_db
def test_nothing_is_sent_when_the_broker_is_unreachable(books, unreachable_broker, caplog):
    change = fresh.Change(cause="a test", people={books["alice"].id: fresh.EVERY_DAY})
    assert fresh.refresh_send(change) == 0
    assert "figures not refreshed after a test (the nightly run will)" in caplog.text


@pytest.mark.django_db
def test_an_import_too_big_to_list_starts_a_run_of_each_open_quarter(
    books, tmp_path, monkeypatch, eager, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(changed, "CHANGES_LISTED_UP_TO", 1)
    path = write_invoices(tmp_path / "big.csv", todays_invoice("FR0-TODAY", "FR-0", "10.00"),
                          todays_invoice("FR1-TODAY", "FR-1", "20.00"))
    with django_capture_on_commit_callbacks(execute=True):
        result = import_csv("invoices", path)
    assert result.changed.everything
    runs = RecomputeRun.objects.all()
    assert {(r.quarter, r.as_of, r.status, r.total) for r in runs} == {
        (str(q), TODAY, "done", 3) for q in fresh.open_quarters(TODAY)}
    assert revenue_of(latest(books["bob"]), "FR-1") == Decimal("20.00")


# --- a reassignment, a hand-off, a quota amendment (tasks run here, at commit) -------------


@pytest.fixture
def eager(settings):
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.mark.django_db
def test_a_reassignment_refreshes_both_owners_and_nobody_else(
    books, users, eager, django_capture_on_commit_callbacks
):
    alice, bob, charlie = books["alice"], books["bob"], books["charlie"]
    before = snapshot_rows()
    account = alice.assignments.get().account
    with django_capture_on_commit_callbacks(execute=True) as sent:
        account_reassign(account=account, role="csm", new_owner=bob, effective_date=TODAY,
                         reason="Alice moves to enterprise", by_user=users["maria"])
    assert len(sent) == 1
    cause = f"reassignment of FR-0 (csm) to Bob from {TODAY}"
    for person in (alice, bob):
        snapshot = latest(person)
        assert snapshot.id not in before and snapshot.cause == cause
        assert (snapshot.inputs_digest, snapshot.amount, snapshot.payable) == \
            computed_here(person)
    assert latest(charlie).id in before
    assert {pk: row for pk, row in snapshot_rows().items() if pk in before} == before
    # The same change queued again stores nothing new.
    fresh.refresh_send(fresh.Change(cause=cause, people={alice.id: fresh.EVERY_DAY,
                                                         bob.id: fresh.EVERY_DAY}))
    assert AttainmentSnapshot.objects.filter(cause=cause).count() == 2
    assert AttainmentSnapshot.objects.count() == len(before) + 2


@pytest.mark.django_db
def test_an_approved_hand_off_refreshes_the_ae_and_the_csm(
    books, users, eager, django_capture_on_commit_callbacks
):
    alice, bob, charlie = books["alice"], books["bob"], books["charlie"]
    account = charlie.assignments.get().account
    before = snapshot_rows()
    handoff = handoff_propose(
        account=account, to_csm=alice, effective_date=TODAY,
        contacts=[{"user": "ann@fr.example", "contacted": True, "notes": ""}],
        other_team_could_use=False, teams_enterprise_would_help=False, by_user=users["charlie"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        handoff_approve(handoff=handoff, by_user=users["omar"])
    cause = (f"hand-off #{handoff.id} approved: FR-AE from Charlie (AE) to Alice (CSM) "
             f"from {TODAY}")
    for person in (alice, charlie):
        snapshot = latest(person)
        assert snapshot.id not in before and snapshot.cause == cause
        assert (snapshot.inputs_digest, snapshot.amount) == computed_here(person)[:2]
    assert latest(bob).id in before
    assert {pk: row for pk, row in snapshot_rows().items() if pk in before} == before


@pytest.mark.django_db
def test_a_quota_amended_in_the_admin_refreshes_that_quarter_of_that_ae(
    books, client, eager, django_capture_on_commit_callbacks
):
    charlie = books["charlie"]
    plan = PersonPlan.objects.create(person=charlie, quarter=str(QUARTER), plan="ae_commission",
                                     quota=Decimal("40000"))
    services.attainment_recompute(quarter=QUARTER, as_of=TODAY)
    before = snapshot_rows()
    admin = make_user("admin@example.com", "finance")
    User.objects.filter(id=admin.id).update(is_staff=True, is_superuser=True)
    client.force_login(User.objects.get(id=admin.id))
    data = {
        "person": charlie.id, "quarter": str(QUARTER), "plan": "ae_commission", "target": "",
        "quota": "50000.00",
        "amendments-TOTAL_FORMS": "1", "amendments-INITIAL_FORMS": "0",
        "amendments-MIN_NUM_FORMS": "0", "amendments-MAX_NUM_FORMS": "1000",
        "amendments-0-previous_quota": "40000.00", "amendments-0-new_quota": "50000.00",
        "amendments-0-reason": "took over FR-9", "amendments-0-person_plan": plan.id,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:payouts_personplan_change", args=[plan.id]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    snapshot = latest(charlie)
    assert snapshot.id not in before
    assert snapshot.cause == "quota amendment: $40,000.00 → $50,000.00 (took over FR-9)"
    assert snapshot.inputs["quota"] == "50000.00"
    assert {pk: row for pk, row in snapshot_rows().items() if pk in before} == before


@pytest.mark.django_db
def test_a_refresh_that_finds_the_figures_stored_keeps_the_run_that_stored_them(books):
    alice = books["alice"]
    run, _started = services.recompute_run_start(
        quarter=QUARTER, as_of=TODAY, total=3, person_ids=[p.id for p in books.values()])
    services.attainment_recompute(quarter=QUARTER, as_of=TODAY, people=[alice], run=run)
    stored = latest(alice)
    assert stored.run_id == run.id
    services.attainment_refresh(quarter=QUARTER, as_of=TODAY, people=[alice], cause="a test")
    stored.refresh_from_db()
    assert (stored.run_id, stored.cause) == (run.id, "")  # still counted by its run
    assert services.recompute_run_progress(run=run).done == 1
