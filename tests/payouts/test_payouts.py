"""Quarter close, approval, immutability and the payroll export, with real rows."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, InternalError, transaction

from payouts.models import Payout, PayoutLine
from payouts.services import (
    PayoutError,
    payout_adjust,
    payout_approve,
    payout_mark_paid,
    payout_reject,
)
from tests.payouts.test_recompute import alice_book  # noqa: F401 - fixture

D = datetime.date


def close(quarter="2025Q2", today="2025-07-20"):
    out = io.StringIO()
    call_command("close_quarter", quarter, "--today", today, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_closing_before_the_cutoff_has_passed_is_refused(alice_book):  # noqa: F811
    with pytest.raises(CommandError, match="cutoff day \\(2025-07-14\\)"):
        close(today="2025-07-14")
    assert not Payout.objects.exists()


@pytest.mark.django_db
def test_closing_creates_one_pending_payout_per_person_once(alice_book):  # noqa: F811
    close()
    close()
    payout = Payout.objects.get(person=alice_book, quarter="2025Q2")
    assert payout.status == "pending_approval"
    assert payout.payout_date == D(2025, 7, 31)
    assert [(line.bucket, line.amount) for line in payout.lines.all()] == [
        ("retention_bonus", Decimal("1250.00"))
    ]
    assert Payout.objects.filter(person=alice_book).count() == 1


@pytest.mark.django_db
def test_finance_approves_and_nobody_else_can(alice_book, users):  # noqa: F811
    close()
    payout = Payout.objects.get(person=alice_book)
    for name in ("maria", "alice"):
        with pytest.raises(PayoutError):
            payout_approve(payout_id=payout.id, user=users[name])
    payout_approve(payout_id=payout.id, user=users["fiona"])
    with pytest.raises(PayoutError, match="approved now"):
        payout_reject(payout_id=payout.id, user=users["fiona"], comment="too late")
    payout.refresh_from_db()
    assert payout.status == "approved" and payout.approved_by == users["fiona"]
    assert [(e.from_status, e.to_status) for e in payout.events.all()] == [
        ("", "pending_approval"), ("pending_approval", "approved")]


@pytest.mark.django_db
def test_an_approved_payout_cannot_change_even_through_a_bulk_update(alice_book, users):  # noqa: F811
    close()
    payout = Payout.objects.get(person=alice_book)
    payout_approve(payout_id=payout.id, user=users["fiona"])
    for attempt in (
        lambda: PayoutLine.objects.filter(payout=payout).update(amount=Decimal("9999.00")),
        lambda: Payout.objects.filter(id=payout.id).update(status="pending_approval"),
        lambda: PayoutLine.objects.create(payout=payout, bucket="extra", amount=Decimal("1")),
        lambda: Payout.objects.filter(id=payout.id).delete(),
    ):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            attempt()
    with pytest.raises(PayoutError):
        payout_adjust(payout_id=payout.id, user=users["fiona"], amount=Decimal("5"), reason="x")
    payout_mark_paid(payout_id=payout.id, user=users["fiona"], paid_on=D(2025, 7, 31))
    assert Payout.objects.get(id=payout.id).status == "paid"
    assert PayoutLine.objects.get(payout=payout).amount == Decimal("1250.00")


@pytest.mark.django_db
def test_the_export_lists_lines_adjustments_and_totals_of_approved_payouts(alice_book, users):  # noqa: F811
    close()
    payout = Payout.objects.get(person=alice_book)
    payout_adjust(payout_id=payout.id, user=users["fiona"], amount=Decimal("-100.50"),
                  reason="refund to =Customer A-1, case by case")
    payout_approve(payout_id=payout.id, user=users["fiona"])
    out = io.StringIO()
    call_command("export_payouts", "2025Q2", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["email", "employee_id", "name", "quarter", "plan", "plan_version",
                       "bucket", "amount", "status", "approved_by", "approved_at",
                       "payout_date"]
    assert [(r[0], r[6], r[7], r[8]) for r in rows[1:]] == [
        ("alice@example.com", "retention_bonus", "1250.00", "approved"),
        ("alice@example.com", "adjustment", "-100.50", "approved"),
        ("alice@example.com", "total", "1149.50", "approved"),
    ]
    assert rows[1][9] == "fiona@example.com" and rows[1][11] == "2025-07-31"


@pytest.mark.django_db
def test_commission_held_back_for_unpaid_contract_invoices_is_carried_forward(people):
    from accounts.models import Deal, Invoice
    from payouts.models import PersonPlan
    from tests.conftest import assign, invoice, make_account

    charlie = people["charlie"]  # target pay 12,500; quota 50,000 -> rate 0.25
    PersonPlan.objects.create(person=charlie, quarter="2025Q2", plan="ae_commission",
                              quota=Decimal("50000"))
    acc = make_account("B-1", billing="annual")
    assign(acc, charlie, role="ae", start=D(2024, 1, 1))
    Deal.objects.create(external_id="D-1", account=acc, owner=charlie, kind="new_annual",
                        arr=Decimal("40000"), stage="won", created_on=D(2025, 3, 1),
                        closed_on=D(2025, 5, 2), payment_schedule="quarterly")
    invoice(acc, "C-1", D(2025, 5, 1), "10000.00", kind="contract", paid_on=D(2025, 5, 20),
            deal_external_id="D-1")
    invoice(acc, "C-2", D(2025, 5, 1), "10000.00", kind="contract", status="open",
            deal_external_id="D-1")
    close("2025Q2", "2025-07-20")
    q2 = Payout.objects.get(person=charlie, quarter="2025Q2")
    # Earned 0.25 x 40,000 = 10,000; 10,000 of max(20,000, 40,000) paid: 2,500 payable now.
    assert {line.bucket: line.amount for line in q2.lines.all()} == {
        "new_annual": Decimal("10000.00"), "not_yet_payable": Decimal("-7500.00")}
    Invoice.objects.filter(external_id="C-2").update(status="paid", paid_on=D(2025, 8, 10))
    close("2025Q3", "2025-10-20")
    q3 = Payout.objects.get(person=charlie, quarter="2025Q3")
    # Now 20,000 of 40,000 paid: 5,000 payable for 2025Q2, 2,500 more than already paid.
    line = q3.lines.get(bucket="carried_forward")
    assert line.amount == Decimal("2500.00")
    assert "2025Q2" in line.source and "C-2" in line.source


@pytest.mark.django_db
def test_an_import_changing_an_approved_quarter_proposes_a_difference(alice_book, users,  # noqa: F811
                                                                    tmp_path):
    from compapp.imports import import_csv
    from payouts.models import ProposedAdjustment

    close()
    payout = Payout.objects.get(person=alice_book)
    payout_approve(payout_id=payout.id, user=users["fiona"])
    # A corrected June invoice of A-1: 1,100 -> 1,460 raises end ARR by 4 x 360 = 1,440:
    # retention (39,600 + 1,440) / 36,000 = 1.14 -> 70% of 2,500 = 1,750.00, 500.00 more.
    path = tmp_path / "invoices.csv"
    path.write_text(
        "external_id,account_external_id,issued_on,period_start,period_end,amount,kind,"
        "status,paid_on\nA1-6,A-1,2025-06-30,2025-06-01,2025-06-30,1460.00,usage,paid,"
        "2025-06-30\n")
    result = import_csv("invoices", path)
    assert result.ok and result.updated == 1 and result.differences == 1
    difference = ProposedAdjustment.objects.get(payout=payout)
    assert difference.amount == Decimal("500.00")
    assert PayoutLine.objects.get(payout=payout).amount == Decimal("1250.00")  # unchanged
