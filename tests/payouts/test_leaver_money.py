"""Money earned is never silently dropped (SPEC 4.4): a leaver whose deal invoices are paid
after they left gets a payout of its own at the next close, for finance to approve or
reject, and the accrual on the finance queue includes them."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import Deal
from accounts.quarters import Quarter
from payouts.accrual import accruals
from payouts.models import Payout, PersonPlan
from payouts.services import PayoutError, payout_approve, payout_reject
from tests.conftest import assign, invoice, make_account, make_person

D = datetime.date


def close(quarter, today):
    call_command("close_quarter", quarter, "--today", today, stdout=io.StringIO())


@pytest.fixture
def dana(people):
    """Dana, AE on OTE 100,000 x 0.5 / 4 = 12,500 a quarter, left on 31 March 2025 (all of
    Q1 employed). Quota 200,000: rate 0.0625. D-1 (new annual, 100,000 ARR, 10 February)
    earns 6,250.00; its contract invoice X1-C of 100,000 is paid on 10 May, after Q1's
    cutoff (14 April): at Q1's close nothing of it is payable."""
    dana = make_person("dana@example.com", name="Dana Leaver", roles=["ae"], team="sales",
                       end_date=D(2025, 3, 31), variable_share=Decimal("0.5"))
    account = make_account("X-1", billing="annual")
    assign(account, dana, role="ae", start=D(2024, 1, 1), end=D(2025, 3, 31))
    Deal.objects.create(external_id="D-1", account=account, owner=dana, kind="new_annual",
                        arr=Decimal("100000"), stage="won", created_on=D(2025, 1, 5),
                        closed_on=D(2025, 2, 10))
    invoice(account, "X1-C", D(2025, 2, 1), "100000.00", kind="contract",
            paid_on=D(2025, 5, 10), deal_external_id="D-1")
    PersonPlan.objects.create(person=dana, quarter="2025Q1", plan="ae_commission",
                              quota=Decimal("200000"))
    return dana


@pytest.mark.django_db
def test_a_leavers_carried_forward_money_is_a_payout_of_its_own(dana, users):
    close("2025Q1", "2025-04-20")
    q1 = Payout.objects.get(person=dana, quarter="2025Q1")
    assert {line.bucket: line.amount for line in q1.lines.all()} == {
        "new_annual": Decimal("6250.00"), "not_yet_payable": Decimal("-6250.00")}
    (owed,) = [r for r in accruals(Quarter(2025, 2)) if r.email == "dana@example.com"]
    assert (owed.quarter, owed.still_owed, owed.left_on) == ("2025Q1", Decimal("6250.00"),
                                                            D(2025, 3, 31))

    close("2025Q2", "2025-07-20")  # Dana has no plan in Q2: she had left
    q2 = Payout.objects.get(person=dana, quarter="2025Q2")
    (line,) = q2.lines.all()
    assert (line.bucket, line.amount) == ("carried_forward", Decimal("6250.00"))
    assert line.source.startswith("2025Q1: paid after its cutoff: X1-C")
    assert "earned before leaving on 2025-03-31" in line.source
    assert q2.status == "pending_approval"
    assert q2.events.get().comment.startswith("quarter closed: money that became payable")
    assert not [r for r in accruals(Quarter(2025, 2)) if r.email == "dana@example.com"]

    close("2025Q2", "2025-07-21")  # closing again creates nothing new
    assert Payout.objects.filter(person=dana).count() == 2
    payout_approve(payout_id=q2.id, user=users["fiona"])
    assert Payout.objects.get(id=q2.id).status == "approved"


@pytest.mark.django_db
def test_finance_may_reject_a_leavers_payout_with_a_reason(dana, users):
    close("2025Q1", "2025-04-20")
    close("2025Q2", "2025-07-20")
    q2 = Payout.objects.get(person=dana, quarter="2025Q2")
    with pytest.raises(PayoutError):
        payout_reject(payout_id=q2.id, user=users["fiona"], comment=" ")
    payout_reject(payout_id=q2.id, user=users["fiona"], comment="clawed back under contract")
    assert Payout.objects.get(id=q2.id).rejection_comment == "clawed back under contract"


@pytest.mark.django_db
def test_a_leaver_with_nothing_newly_payable_gets_no_payout(dana):
    from accounts.models import Invoice

    Invoice.objects.filter(external_id="X1-C").update(paid_on=D(2025, 8, 1))
    close("2025Q1", "2025-04-20")
    close("2025Q2", "2025-07-20")
    assert not Payout.objects.filter(person=dana, quarter="2025Q2").exists()
    (owed,) = [r for r in accruals(Quarter(2025, 2)) if r.email == "dana@example.com"]
    assert owed.still_owed == Decimal("6250.00")
    close("2025Q3", "2025-10-20")  # paid on 1 August: payable by Q3's cutoff
    q3 = Payout.objects.get(person=dana, quarter="2025Q3")
    assert [(x.bucket, x.amount) for x in q3.lines.all()] == [
        ("carried_forward", Decimal("6250.00"))]


@pytest.mark.django_db
def test_the_finance_queue_shows_the_accrual_with_leavers(dana, client_for):
    close("2025Q1", "2025-04-20")
    page = client_for("fiona").get("/finance/2025Q1/").content.decode()
    assert "Earned, not yet payable" in page
    assert "Dana Leaver" in page and "left on 2025-03-31" in page
    assert "$6,250.00" in page
