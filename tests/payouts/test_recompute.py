"""The plan engine end to end: rows in the database, the recompute command, the figures of
the data contract's JSON, to the cent."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from payouts.models import AttainmentSnapshot, PersonPlan, RecomputeRun
from tests.conftest import assign, invoice, make_account, usage

D = datetime.date


def attainment_json(quarter):
    out = io.StringIO()
    call_command("attainment", quarter, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def alice_book(people):
    """Alice, CSM since 2023 on OTE $100,000 with a 10% variable share: $2,500 a quarter.

    A-1 (monthly): $1,000 a month in Jan-Mar, $1,100 in Apr-Jun -> baseline 12,000, end 13,200.
    A-2 (annual, usage rows): $2,000 a month, then $2,200 -> baseline 24,000, end 26,400.
    A-3 left her book on 15 May: not counted.
    Retention = 39,600 / 36,000 = 110% -> 50% of $2,500 = $1,250.00.
    """
    alice = people["alice"]
    a1, a2, a3 = make_account("A-1"), make_account("A-2", billing="annual"), make_account("A-3")
    assign(a1, alice, start=D(2024, 1, 1))
    assign(a2, alice, start=D(2024, 1, 1))
    assign(a3, alice, start=D(2024, 1, 1), end=D(2025, 5, 15))
    for month in (1, 2, 3):
        invoice(a1, f"A1-{month}", D(2025, month, 1), "1000.00")
        usage(a2, D(2025, month, 1), "2000.00")
        invoice(a3, f"A3-{month}", D(2025, month, 1), "500.00")
    for month in (4, 5, 6):
        invoice(a1, f"A1-{month}", D(2025, month, 1), "1100.00")
        usage(a2, D(2025, month, 1), "2200.00")
    return alice


@pytest.mark.django_db
def test_final_figures_of_a_csm_match_the_hand_worked_example(alice_book):
    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-14", stdout=io.StringIO())
    rows = {r["email"]: r for r in attainment_json("2025Q2")}
    assert rows["alice@example.com"] == {
        "email": "alice@example.com", "quarter": "2025Q2", "plan": "csm_revenue_retention",
        "plan_version": 1, "as_of": "2025-07-14", "final": True,
        "metric": "1.100000", "bonus_fraction": "0.500000", "amount": "1250.00",
        "payable": "1250.00", "accounts_counted": 2, "accounts_excluded": 1,
    }


@pytest.mark.django_db
def test_a_usage_invoice_paid_after_the_cutoff_does_not_count_in_final_figures(alice_book):
    from accounts.models import Invoice

    Invoice.objects.filter(external_id="A1-6").update(paid_on=D(2025, 7, 15))
    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-14", stdout=io.StringIO())
    row = {r["email"]: r for r in attainment_json("2025Q2")}["alice@example.com"]
    # End ARR = 4 x (1,100 + 1,100 + 0) + 26,400 = 35,200; / 36,000 = 0.977778 -> 0.
    assert row["metric"] == "0.977778"
    assert row["amount"] == "0.00"


@pytest.mark.django_db
def test_projected_figures_estimate_the_quarter_from_its_complete_months(alice_book):
    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-05-10", stdout=io.StringIO())
    row = {r["email"]: r for r in attainment_json("2025Q2")}["alice@example.com"]
    # Only April is complete: A-1 1,100 x 3 x 4 = 13,200; A-2 2,200 x 3 x 4 = 26,400.
    # A-3 is still in the book on 10 May: baseline 6,000, end 0 (no invoices in April).
    # Retention = 39,600 / 42,000 = 0.942857 -> 0.
    assert row["final"] is False
    assert row["metric"] == "0.942857"
    assert row["accounts_counted"] == 3


@pytest.mark.django_db
def test_recomputing_twice_keeps_one_snapshot_per_person_and_the_same_figures(alice_book):
    for _ in range(2):
        call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-14",
                     stdout=io.StringIO())
    assert AttainmentSnapshot.objects.filter(person=alice_book, quarter="2025Q2").count() == 1
    assert RecomputeRun.objects.filter(status="done").count() == 2
    snap = AttainmentSnapshot.objects.get(person=alice_book)
    assert snap.amount == Decimal("1250.00")
    contributions = sum(Decimal(a["contribution"]) for a in snap.explanation["accounts"])
    adjustments = sum(Decimal(a["contribution"]) for a in snap.explanation["adjustments"])
    assert (contributions + adjustments).quantize(Decimal("0.01")) == Decimal("1250.00")


@pytest.mark.django_db
def test_an_ae_is_paid_on_deals_with_the_unpaid_share_held_back(people):
    from accounts.models import Deal

    charlie = people["charlie"]  # AE, OTE 100,000, variable share 0.5: target pay 12,500
    PersonPlan.objects.create(person=charlie, quarter="2025Q2", plan="ae_commission",
                              quota=Decimal("50000"))
    acc = make_account("B-1", billing="annual")
    assign(acc, charlie, role="ae", start=D(2024, 1, 1))
    Deal.objects.create(external_id="D-1", account=acc, owner=charlie, kind="new_annual",
                        arr=Decimal("40000"), stage="won", created_on=D(2025, 3, 1),
                        closed_on=D(2025, 5, 2), payment_schedule="quarterly")
    for n, (paid, status) in enumerate([(D(2025, 5, 20), "paid"), (None, "open")], start=1):
        invoice(acc, f"C-{n}", D(2025, 5, 1), "10000.00", kind="contract", status=status,
                paid_on=paid, deal_external_id="D-1")
    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-14", stdout=io.StringIO())
    row = {r["email"]: r for r in attainment_json("2025Q2")}["charlie@example.com"]
    # Rate = 12,500 / 50,000 = 0.25; commission = 0.25 x 40,000 = 10,000; attainment 0.8.
    # Paid share = 10,000 / max(20,000 invoiced, 40,000 ARR) = 25% -> payable 2,500.
    assert row["metric"] == "0.800000"
    assert row["amount"] == "10000.00"
    assert row["payable"] == "2500.00"
    assert row["bonus_fraction"] == "0.800000"


@pytest.mark.django_db
def test_a_recompute_of_a_quarter_where_nobody_has_a_plan_finishes_and_can_run_again():
    for _ in range(2):
        out = io.StringIO()
        call_command("recompute", "--quarter", "2019Q1", "--as-of", "2019-04-20", stdout=out)
        assert "0 people recomputed" in out.getvalue()
    assert list(RecomputeRun.objects.values_list("status", flat=True)) == ["done", "done"]
    assert attainment_json("2019Q1") == []


@pytest.mark.django_db
def test_written_a_person_at_a_time_the_figures_are_the_same(alice_book, people, monkeypatch):
    """A recompute writes its snapshots in chunks of people (memory stays bounded): a chunk
    of one person stores the same figures for everyone as one chunk of all."""
    from payouts import services

    def figures():
        return sorted(AttainmentSnapshot.objects.filter(quarter="2025Q2").values_list(
            "person__email", "inputs_digest", "amount", "payable", "metric"))

    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-14", stdout=io.StringIO())
    whole = figures()
    assert len(whole) == 3 and ("alice@example.com" in {row[0] for row in whole})
    AttainmentSnapshot.objects.all().delete()
    monkeypatch.setattr(services, "INSERT_CHUNK", 1)
    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-14", stdout=io.StringIO())
    assert figures() == whole
    assert [row[2] for row in whole if row[0] == "alice@example.com"] == [Decimal("1250.00")]
