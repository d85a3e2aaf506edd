"""Two people acting on the same thing at the same moment, on two real database connections:
exactly one wins, the other is told why, and nothing overlaps or is done twice."""

import datetime
import threading
import time

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from accounts import services
from accounts.models import Assignment
from accounts.quarters import Quarter
from accounts.services import ReassignError, account_reassign
from compapp.workspace import audit
from payouts.models import Payout, PayoutEvent
from payouts.services import PayoutError, payout_approve, quarter_close
from tests.conftest import assign, make_account, make_person, make_user
from tests.payouts.test_recompute import alice_book  # noqa: F401 - fixture

D = datetime.date
EFFECTIVE = D(2025, 5, 1)


def at_once(*calls, timeout=30):
    """Run each call in its own thread (its own connection), all released together by a
    barrier; returns each call's result or the exception it raised, in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=timeout)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread is stuck (a deadlock?)"
    return results


@pytest.fixture
def slow_inside_the_lock(monkeypatch):
    """Hold whoever gets the account's lock first for a moment, so that the other request
    really arrives while the first one is inside its transaction."""
    original = services._check_cap
    inside = threading.Event()

    def check_cap(*args, **kwargs):
        inside.set()
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_check_cap", check_cap)
    return inside


@pytest.fixture
def two_managers(people):
    """Victor runs Maria, who runs Alice and Bob: both Victor and Maria may move Alice's
    account. Carol is another CSM of Maria's team."""
    victor = make_person("victor@example.com", roles=["manager"])
    people["maria"].manager = victor
    people["maria"].save()
    carol = make_person("carol@example.com", roles=["csm"], manager=people["maria"])
    maria_user = make_user("maria@example.com", "manager")
    victor_user = make_user("victor@example.com", "manager")
    account = make_account("RACE-1", name="Racing Co")
    assign(account, people["alice"], start=D(2024, 1, 1))
    return dict(account=account, maria=maria_user, victor=victor_user, bob=people["bob"],
                carol=carol, alice=people["alice"])


def reassign(world, user, new_owner):
    def call():
        return account_reassign(account=world["account"], role="csm", new_owner=new_owner,
                                effective_date=EFFECTIVE, reason="same moment", by_user=user)
    return call


def no_overlap(account):
    rows = list(Assignment.objects.filter(account=account, role="csm").order_by("start_date"))
    for earlier, later in zip(rows, rows[1:], strict=False):
        assert earlier.end_date is not None and earlier.end_date < later.start_date, rows
    return rows


@pytest.mark.django_db(transaction=True)
def test_two_managers_moving_one_account_to_different_people_one_wins(
    transactional_db, two_managers, slow_inside_the_lock
):
    w = two_managers
    results = at_once(reassign(w, w["maria"], w["bob"]), reassign(w, w["victor"], w["carol"]))
    won = [r for r in results if isinstance(r, Assignment)]
    lost = [r for r in results if isinstance(r, ReassignError)]
    assert len(won) == 1 and len(lost) == 1, results
    winner = won[0].owner.name
    # The loser is told who has it now and why their move cannot be made.
    assert str(lost[0]) == (
        f"The effective date must be after {winner}'s assignment started (2025-05-01); on or "
        "before it the two would overlap."
    )
    rows = no_overlap(w["account"])
    assert [(r.owner.name, r.start_date, r.end_date) for r in rows] == [
        ("Alice", D(2024, 1, 1), D(2025, 4, 30)),
        (winner, EFFECTIVE, None),
    ]
    # The history holds one move: Alice's assignment ended once, one new assignment.
    history = audit.account_history(w["account"])
    assert [r.action for r in history] == ["created", "changed", "created"]
    assert history[1].changes == (audit.FieldChange("end_date", "", "2025-04-30"),)


@pytest.mark.django_db(transaction=True)
def test_two_managers_making_the_same_move_do_it_once(
    transactional_db, two_managers, slow_inside_the_lock
):
    w = two_managers
    results = at_once(reassign(w, w["maria"], w["bob"]), reassign(w, w["victor"], w["bob"]))
    won = [r for r in results if isinstance(r, Assignment)]
    lost = [r for r in results if isinstance(r, ReassignError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert str(lost[0]) == "Bob already owns Racing Co as CSM."
    rows = no_overlap(w["account"])
    assert len(rows) == 2


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_overlapping_owners_even_without_the_service(
    transactional_db, two_managers
):
    """The last word is the exclusion constraint: two raw inserts of overlapping owners on
    two connections, held open together, cannot both commit."""
    w = two_managers
    Assignment.objects.filter(account=w["account"]).update(end_date=D(2025, 4, 30))
    both_inserted = threading.Barrier(2)

    def insert(owner):
        def call():
            with transaction.atomic():
                Assignment.objects.create(account=w["account"], owner=owner, role="csm",
                                          start_date=EFFECTIVE, inherited=True)
                try:
                    both_inserted.wait(timeout=2)  # the second insert waits on the first
                except threading.BrokenBarrierError:
                    pass
            return owner.name
        return call

    results = at_once(insert(w["bob"]), insert(w["carol"]))
    # PostgreSQL refuses the second insert either as a violation of the constraint or, when
    # both checks wait on each other, by breaking the deadlock: either way one is refused.
    refused = (IntegrityError, OperationalError)
    assert sum(isinstance(r, refused) for r in results) == 1, results
    assert sum(isinstance(r, str) for r in results) == 1, results
    assert len(no_overlap(w["account"])) == 2


@pytest.mark.django_db(transaction=True)
def test_two_finance_users_approving_one_payout_one_wins(transactional_db, alice_book, users):  # noqa: F811
    quarter_close(quarter=Quarter.parse("2025Q2"), today=D(2025, 7, 20))
    payout = Payout.objects.get(person=alice_book, quarter="2025Q2")
    make_person("fred@example.com", roles=["finance"])
    fred = make_user("fred@example.com", "finance")

    def approve(user):
        return lambda: payout_approve(payout_id=payout.id, user=user)

    results = at_once(approve(users["fiona"]), approve(fred))
    won = [r for r in results if isinstance(r, Payout)]
    lost = [r for r in results if isinstance(r, PayoutError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert str(lost[0]) == "This payout is approved now; it was not approved."
    payout.refresh_from_db()
    assert payout.status == "approved"
    assert payout.approved_by_id == won[0].approved_by_id
    approvals = PayoutEvent.objects.filter(payout=payout, to_status="approved")
    assert approvals.count() == 1
    assert approvals.get().by_id == payout.approved_by_id
