"""Finance's pages and services: the queue, reviews, statements, inquiries, plan
acknowledgements, the payroll download and the differences found after approval."""

import csv
import datetime
import html
import io
import re
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.models import Invoice
from accounts.quarters import Quarter
from payouts import explain, finance
from payouts.models import (
    Inquiry,
    Payout,
    PayoutAdjustment,
    PayoutEvent,
    PersonPlan,
    PlanAcceptance,
    ProposedAdjustment,
)
from payouts.services import PayoutError, payout_adjust, payout_approve, quarter_close
from tests.conftest import make_person, make_user
from tests.payouts.test_recompute import alice_book  # noqa: F401 - fixture

D = datetime.date
Q2 = Quarter.parse("2025Q2")
Q3 = Quarter.parse("2025Q3")
AFTER_Q2_CUTOFF = D(2025, 7, 20)


def close(quarter=Q2, today=AFTER_Q2_CUTOFF):
    return quarter_close(quarter=quarter, today=today)


def payout_of(person, quarter=Q2):
    return Payout.objects.get(person=person, quarter=str(quarter))


def emails(response):
    return [row.person.email for row in response.context["table"].data]


def texts(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def closed(alice_book, users, people):  # noqa: F811
    """2025Q2 closed: alice $1,250.00; bob (no accounts) and charlie (AE, no deals) $0."""
    close()
    return people


# --- the queue ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_queue_shows_every_payout_with_totals_to_the_cent(closed, users, client_for):
    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-06-10",
                 stdout=io.StringIO())  # projected: A-3 has left, April and May complete
    alice = payout_of(closed["alice"])
    payout_adjust(payout_id=alice.id, user=users["fiona"], amount=Decimal("-100.50"),
                  reason="refund of Customer A-1")
    response = client_for("fiona").get("/finance/2025Q2/")
    assert response.status_code == 200
    rows = {row.person.email: row for row in response.context["table"].data}
    assert set(rows) == {"alice@example.com", "bob@example.com", "charlie@example.com"}
    assert rows["alice@example.com"].lines_total == Decimal("1250.00")
    assert rows["alice@example.com"].total_amount == Decimal("1149.50")
    assert rows["alice@example.com"].projected == Decimal("1250.00")
    assert finance.projected_gap(rows["alice@example.com"]) == Decimal("-100.50")
    assert rows["bob@example.com"].total_amount == Decimal("0.00")
    html = response.content.decode()
    assert "$1,149.50" in html and "-$100.50" in html
    assert response.context["grand_total"] == "$1,149.50"
    # Charlie is an AE long past his ramp with no quota for the quarter.
    assert "AE past ramp, no quota" in html
    assert not finance.needs_quota(rows["alice@example.com"], Q2)
    assert finance.needs_quota(rows["charlie@example.com"], Q2)


@pytest.mark.django_db
def test_the_grand_total_shows_its_change_against_last_quarter_and_who_moved_it(
        closed, users, client_for):
    alice = payout_of(closed["alice"])
    payout_adjust(payout_id=alice.id, user=users["fiona"], amount=Decimal("-100.50"),
                  reason="refund of Customer A-1")
    close(Q3, today=D(2025, 10, 20))
    totals = {p.person.email: p.total_amount for p in finance.payouts_with_totals(
        Payout.objects.filter(quarter=str(Q3)).select_related("person"))}
    alice_q3 = totals["alice@example.com"]
    assert totals["bob@example.com"] == totals["charlie@example.com"] == Decimal("0.00")
    html = client_for("fiona").get("/finance/2025Q3/").content.decode()
    change = alice_q3 - Decimal("1149.50")  # only Alice's total moved: bob and charlie $0 both
    shown = f"{'+' if change > 0 else '-'}${abs(change):,.2f}"
    assert re.search(rf'id="total-change">{re.escape(shown)}</span> <span class="muted">vs 2025Q2',
                     html)
    assert f"<strong>Against 2025Q2</strong>, the largest moves: Alice {shown}." in html
    # 2025Q1 had no payouts: nothing to compare with, so no change is shown.
    html = client_for("fiona").get("/finance/2025Q2/").content.decode()
    assert 'id="total-change"' not in html


@pytest.mark.django_db
def test_the_queue_reads_the_same_number_of_queries_whatever_the_number_of_payouts(
        closed, client_for):
    from django.test.utils import CaptureQueriesContext

    for i in range(10):  # joined in 2025Q3: payouts there, not in 2025Q2
        make_person(f"new{i}@example.com", roles=["ae"], team="sales", start=D(2025, 7, 1))
    close(Q3, D(2025, 10, 20))
    client = client_for("fiona")
    client.get("/finance/2025Q2/")  # warm up the session (its renewal is a write)
    counts = []
    for quarter, payouts in (("2025Q2", 3), ("2025Q3", 13)):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/finance/{quarter}/")
        assert len(response.context["table"].data) == payouts
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_the_queue_defaults_to_the_previous_quarter(closed, client_for):
    response = client_for("fiona").get("/finance/")
    previous = Quarter.containing(datetime.date.today()).previous()
    assert response.status_code == 302 and response["Location"] == f"/finance/{previous}/"


@pytest.mark.django_db
def test_the_queue_filters_by_status_team_and_role(closed, users, client_for):
    payout_approve(payout_id=payout_of(closed["alice"]).id, user=users["fiona"])
    client = client_for("fiona")
    assert emails(client.get("/finance/2025Q2/?status=approved")) == ["alice@example.com"]
    assert emails(client.get("/finance/2025Q2/?status=pending_approval")) == [
        "bob@example.com", "charlie@example.com"]
    assert emails(client.get("/finance/2025Q2/?team=sales")) == ["charlie@example.com"]
    assert emails(client.get("/finance/2025Q2/?role=csm")) == [
        "alice@example.com", "bob@example.com"]
    assert client.get("/finance/2025Q2/?role=ae").context["grand_total"] == "$0.00"


@pytest.mark.django_db
def test_closing_through_the_page_before_the_cutoff_is_refused_with_the_reason(
        alice_book, client_for):  # noqa: F811
    current = Quarter.containing(datetime.date.today())
    response = client_for("fiona").post(f"/finance/{current}/close/", follow=True)
    assert any("cannot be closed before its cutoff day" in m for m in texts(response))
    assert not Payout.objects.exists()
    response = client_for("fiona").post("/finance/2025Q2/close/", follow=True)
    assert any("2025Q2 closed: 3 new payout(s)" in m for m in texts(response))
    assert payout_of(alice_book).lines.get().amount == Decimal("1250.00")


# --- status changes through the page -----------------------------------------------------


@pytest.mark.django_db
def test_finance_approves_rejects_resubmits_and_marks_paid_through_the_page(
        closed, users, client_for):
    client = client_for("fiona")
    alice, bob = payout_of(closed["alice"]), payout_of(closed["bob"])
    client.post(f"/finance/payouts/{alice.id}/approve/")
    response = client.post(f"/finance/payouts/{bob.id}/reject/", {"comment": ""}, follow=True)
    assert any("needs a comment" in m for m in texts(response))
    client.post(f"/finance/payouts/{bob.id}/reject/", {"comment": "missing account B-9"})
    assert Payout.objects.get(id=bob.id).status == "rejected"
    client.post(f"/finance/payouts/{bob.id}/resubmit/")
    client.post(f"/finance/payouts/{alice.id}/paid/", {"paid_on": "2025-07-31"})

    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.status == "paid" and alice.paid_on == D(2025, 7, 31)
    assert alice.approved_by == users["fiona"]
    assert bob.status == "pending_approval" and bob.rejection_comment == "missing account B-9"
    assert [(e.from_status, e.to_status, e.by) for e in alice.events.all()] == [
        ("", "pending_approval", None),
        ("pending_approval", "approved", users["fiona"]),
        ("approved", "paid", users["fiona"]),
    ]
    assert [e.to_status for e in bob.events.all()] == [
        "pending_approval", "rejected", "pending_approval"]
    # A second approval is refused with the reason, and nothing changes.
    response = client.post(f"/finance/payouts/{alice.id}/approve/", follow=True)
    assert any("paid now" in m for m in texts(response))
    assert alice.events.count() == 3


@pytest.mark.django_db
def test_a_manager_gets_403_on_the_queue_and_the_approve_url(closed, client_for):
    payout = payout_of(closed["alice"])
    client = client_for("maria")
    assert client.get("/finance/2025Q2/").status_code == 403
    assert client.get(f"/finance/payouts/{payout.id}/").status_code == 403
    assert client.post(f"/finance/payouts/{payout.id}/approve/").status_code == 403
    assert client.get("/finance/2025Q2/export.csv").status_code == 403
    assert Payout.objects.get(id=payout.id).status == "pending_approval"


@pytest.mark.django_db
def test_a_rep_cannot_approve_even_their_own_payout(closed, client_for):
    payout = payout_of(closed["alice"])
    assert client_for("alice").post(f"/finance/payouts/{payout.id}/approve/").status_code == 403
    assert client_for("alice").post("/finance/2025Q2/close/").status_code == 403
    assert Payout.objects.get(id=payout.id).status == "pending_approval"


@pytest.mark.django_db
def test_two_finance_users_approving_the_same_payout_only_one_wins(closed, users):
    fred = make_user("fred@example.com", "finance")
    payout = payout_of(closed["alice"])
    payout_approve(payout_id=payout.id, user=users["fiona"])
    with pytest.raises(PayoutError, match="approved now"):
        payout_approve(payout_id=payout.id, user=fred)
    payout.refresh_from_db()
    assert payout.approved_by == users["fiona"]
    assert payout.events.filter(to_status="approved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_the_same_moment_in_two_connections_only_one_wins(
        alice_book, users):  # noqa: F811
    fred = make_user("fred@example.com", "finance")
    close()
    payout_id = payout_of(alice_book).id
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        try:
            barrier.wait()
            payout_approve(payout_id=payout_id, user=user)
            outcomes.append("approved")
        except PayoutError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (users["fiona"], fred)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("approved") == 1
    assert "approved now" in next(o for o in outcomes if o != "approved")
    assert PayoutEvent.objects.filter(payout_id=payout_id, to_status="approved").count() == 1


# --- adjustments, statements and inquiries -----------------------------------------------


@pytest.mark.django_db
def test_an_adjustment_appears_on_the_reps_statement_with_its_reason(closed, client_for):
    payout = payout_of(closed["alice"])
    response = client_for("fiona").post(
        f"/finance/payouts/{payout.id}/adjust/",
        {"amount": "-100.50", "reason": "Refund to Customer A-1, case 42"}, follow=True)
    assert "Adjustment added." in texts(response)
    adjustment = PayoutAdjustment.objects.get(payout=payout)
    assert adjustment.amount == Decimal("-100.50") and adjustment.created_by.username == \
        "fiona@example.com"

    alice = closed["alice"]
    response = client_for("alice").get(f"/finance/statements/{alice.id}/2025Q2/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Refund to Customer A-1, case 42" in html and "-$100.50" in html
    assert response.context["s"].total == Decimal("1149.50") and "$1,149.50" in html
    assert "retention_bonus" in html and "2025Q2 final figures as of 2025-07-14" in html
    assert f"/people/{alice.id}/attainment/?quarter=2025Q2" in html
    assert "Pending approval" in html and "2025-07-31" in html
    printable = client_for("alice").get(f"/finance/statements/{alice.id}/2025Q2/?print=1")
    assert printable.context["printable"] and b"Question a line" not in printable.content


@pytest.mark.django_db
def test_a_refused_adjustment_keeps_what_was_typed_and_names_the_field(closed, client_for):
    payout = payout_of(closed["alice"])
    response = client_for("fiona").post(
        f"/finance/payouts/{payout.id}/adjust/",
        {"amount": "12,50", "reason": "Refund to Customer A-1, case 42"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not adjusted. Amount: Enter a number." in texts(response)
    assert 'value="12,50"' in html  # what was typed is still there
    assert "Refund to Customer A-1, case 42</textarea>" in html
    assert not PayoutAdjustment.objects.exists()


@pytest.mark.django_db
def test_the_rep_raises_an_inquiry_finance_sees_it_and_resolves_it_with_an_adjustment(
        closed, users, client_for):
    alice = closed["alice"]
    payout = payout_of(alice)
    response = client_for("alice").post(
        f"/finance/statements/{alice.id}/2025Q2/inquiries/",
        {"bucket": "retention_bonus", "text": "A-2 grew more than this shows"}, follow=True)
    assert "Your question was sent to finance." in texts(response)
    inquiry = Inquiry.objects.get(payout=payout)
    assert inquiry.status == "open" and inquiry.raised_by == users["alice"]

    queue = client_for("fiona").get("/finance/2025Q2/")
    assert "A-2 grew more than this shows" in queue.content.decode()
    assert {r.person.email: r.open_inquiries for r in queue.context["table"].data}[
        "alice@example.com"] == 1
    review = client_for("fiona").get(f"/finance/payouts/{payout.id}/")
    assert "A-2 grew more than this shows" in review.content.decode()
    # Still open: the rep sees it too.
    assert b"Open" in client_for("alice").get(f"/finance/statements/{alice.id}/2025Q2/").content

    client_for("fiona").post(f"/finance/inquiries/{inquiry.id}/resolve/", {
        "answer": "Usage of June was invoiced late", "adjustment_amount": "75.25"})
    inquiry.refresh_from_db()
    assert inquiry.status == "resolved" and inquiry.answered_by == users["fiona"]
    assert inquiry.resolved_at is not None
    assert inquiry.adjustment.payout == payout and inquiry.adjustment.amount == Decimal("75.25")
    assert "Usage of June was invoiced late" in inquiry.adjustment.reason
    statement = client_for("alice").get(f"/finance/statements/{alice.id}/2025Q2/")
    assert statement.context["s"].total == Decimal("1325.25")
    assert "Usage of June was invoiced late" in statement.content.decode()
    assert statement.context["s"].open_inquiries == []
    with pytest.raises(PayoutError, match="already resolved"):
        finance.inquiry_resolve(inquiry_id=inquiry.id, user=users["fiona"], answer="again")


@pytest.mark.django_db
def test_only_the_rep_raises_inquiries_and_only_finance_resolves_them(closed, users, client_for):
    alice = closed["alice"]
    payout = payout_of(alice)
    assert client_for("bob").post(f"/finance/statements/{alice.id}/2025Q2/inquiries/",
                                  {"text": "hello"}).status_code == 404
    with pytest.raises(PayoutError):
        finance.inquiry_raise(payout_id=payout.id, user=users["maria"], bucket="", text="why")
    inquiry = finance.inquiry_raise(payout_id=payout.id, user=users["alice"], bucket="",
                                    text="why")
    with pytest.raises(PayoutError):
        finance.inquiry_resolve(inquiry_id=inquiry.id, user=users["alice"], answer="self")
    assert client_for("maria").post(f"/finance/inquiries/{inquiry.id}/resolve/",
                                    {"answer": "x"}).status_code == 403


@pytest.mark.django_db
def test_resolving_an_inquiry_on_an_approved_payout_adjusts_the_next_open_quarter(
        closed, users):
    alice = closed["alice"]
    payout = payout_of(alice)
    inquiry = finance.inquiry_raise(payout_id=payout.id, user=users["alice"],
                                    bucket="retention_bonus", text="too low")
    payout_approve(payout_id=payout.id, user=users["fiona"])
    with pytest.raises(PayoutError, match="close 2025Q3 first"):
        finance.inquiry_resolve(inquiry_id=inquiry.id, user=users["fiona"], answer="yes",
                                adjustment_amount=Decimal("10"))
    assert Inquiry.objects.get(id=inquiry.id).status == "open"  # nothing half done
    close(Q3, D(2025, 10, 20))
    finance.inquiry_resolve(inquiry_id=inquiry.id, user=users["fiona"], answer="yes",
                            adjustment_amount=Decimal("10"))
    assert PayoutAdjustment.objects.get().payout == payout_of(alice, Q3)


@pytest.mark.django_db
def test_the_statement_of_another_rep_is_404(closed, client_for):
    alice = closed["alice"]
    url = f"/finance/statements/{alice.id}/2025Q2/"
    assert client_for("bob").get(url).status_code == 404
    assert client_for("charlie").get(url).status_code == 404
    assert client_for("omar").get(url).status_code == 404  # another team's manager
    assert client_for("rita").get(url).status_code == 404  # revops does not read pay
    assert client_for("maria").get(url).status_code == 200  # her manager
    assert client_for("fiona").get(url).status_code == 200
    assert client_for("bob").get("/finance/statements/999999/2025Q2/").status_code == 404


@pytest.mark.django_db
def test_my_statements_lists_the_persons_payouts(closed, users, client_for):
    alice = closed["alice"]
    response = client_for("alice").get("/finance/statements/")
    assert [p.quarter for p in response.context["payouts"]] == ["2025Q2"]
    assert f"/finance/statements/{alice.id}/2025Q2/" in response.content.decode()
    team = client_for("maria").get("/finance/statements/?quarter=2025Q2").context["team"]
    assert sorted(p.person.email for p in team) == ["alice@example.com", "bob@example.com"]


@pytest.mark.django_db
def test_my_statements_print_the_quota_as_money(closed, client_for):
    PersonPlan.objects.update_or_create(person=closed["charlie"], quarter="2025Q2",
                                        defaults={"plan": "ae_commission",
                                                  "quota": Decimal("185000")})
    page = client_for("charlie").get("/finance/statements/").content.decode()
    assert "$185,000.00" in page and "$185000" not in page


@pytest.mark.django_db
def test_statements_are_emailed_for_approved_payouts_with_their_total(closed, users, client_for):
    alice = payout_of(closed["alice"])
    payout_adjust(payout_id=alice.id, user=users["fiona"], amount=Decimal("-100.50"),
                  reason="refund of Customer A-1")
    payout_approve(payout_id=alice.id, user=users["fiona"])
    payout_approve(payout_id=payout_of(closed["charlie"]).id, user=users["fiona"])
    response = client_for("fiona").post("/finance/2025Q2/statements/email/", follow=True)
    assert any("2 statement(s) of 2025Q2 emailed; 1 not approved yet" in m
               for m in texts(response))
    assert len(mail.outbox) == 2
    to_alice = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    assert to_alice.subject == "Your compensation statement for 2025Q2"
    assert "Total: $1,149.50" in to_alice.body
    assert "Retention bonus: $1,250.00" in to_alice.body
    assert "-$100.50: refund of Customer A-1" in to_alice.body
    assert f"/people/{closed['alice'].id}/attainment/?quarter=2025Q2" in to_alice.body
    assert alice.events.filter(comment="statement emailed to alice@example.com",
                               by=users["fiona"]).count() == 1
    assert client_for("maria").post("/finance/2025Q2/statements/email/").status_code == 403


# --- the payroll download ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_export_download_equals_the_commands_output(closed, users, client_for):
    alice = payout_of(closed["alice"])
    payout_adjust(payout_id=alice.id, user=users["fiona"], amount=Decimal("-100.50"),
                  reason="=HYPERLINK refund")
    payout_approve(payout_id=alice.id, user=users["fiona"])
    response = client_for("fiona").get("/finance/2025Q2/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="payouts-2025Q2.csv"' in response["Content-Disposition"]
    out = io.StringIO()
    call_command("export_payouts", "2025Q2", stdout=out)
    assert response.content.decode("utf-8") == out.getvalue()
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[-1][6:8] == ["total", "1149.50"]


# --- plan acknowledgement ----------------------------------------------------------------


@pytest.mark.django_db
def test_plan_acceptance_is_recorded_once_and_listed(closed, users, client_for):
    alice = closed["alice"]
    client = client_for("alice")
    first = client.post("/finance/plans/2025Q2/accept/", follow=True)
    assert any("You acknowledged CSM revenue retention v1 for 2025Q2" in m
               for m in texts(first))
    second = client.post("/finance/plans/2025Q2/accept/", follow=True)
    assert any("already acknowledged" in m for m in texts(second))
    acceptance = PlanAcceptance.objects.get()
    assert acceptance.person == alice and acceptance.quarter == "2025Q2"
    assert acceptance.accepted_by == users["alice"]
    assert acceptance.plan_version.plan == "csm_revenue_retention"

    with pytest.raises(PayoutError, match="themselves"):
        finance.plan_accept(person=alice, quarter=Q2, user=users["bob"])
    with pytest.raises(PayoutError, match="no plan"):
        finance.plan_accept(person=closed["maria"], quarter=Q2, user=users["maria"])

    response = client_for("fiona").get("/finance/plans/2025Q2/")
    rows = {r.person.email: r for r in response.context["table"].data}
    assert set(rows) == {"alice@example.com", "bob@example.com", "charlie@example.com"}
    assert rows["alice@example.com"].acceptance == acceptance
    assert rows["bob@example.com"].acceptance is None
    assert response.context["accepted"] == 1
    assert client_for("alice").get("/finance/plans/2025Q2/").status_code == 403


# --- differences after approval (SPEC 4.4) -----------------------------------------------


@pytest.mark.django_db
def test_a_changed_invoice_after_approval_becomes_a_difference_applied_to_the_next_quarter(
        closed, users, client_for):
    alice = closed["alice"]
    q2 = payout_of(alice)
    payout_approve(payout_id=q2.id, user=users["fiona"])
    # The billing system corrects June's usage invoice of A-1 after the approval.
    Invoice.objects.filter(external_id="A1-6").update(amount=Decimal("1500.00"))
    response = client_for("fiona").post("/finance/2025Q2/differences/", follow=True)
    assert any("1 new difference(s)" in m for m in texts(response))
    difference = ProposedAdjustment.objects.get()
    # End ARR 4 x (1,100 + 1,100 + 1,500) + 26,400 = 41,200 / 36,000 = 114.4444%:
    # fraction 0.722222..., x 2,500 = 1,805.56; 1,250.00 was paid.
    assert difference.payout == q2 and difference.amount == Decimal("555.56")
    assert difference.status == "open"
    assert "A-1 2025-06 revenue 1100.00 → 1500.00" in difference.cause
    assert "A1-6" in difference.cause
    # Once per snapshot: running it again finds nothing new.
    assert finance.differences_detect(Q2, user=users["fiona"]) == []

    # No open payout after 2025Q2 yet: refused, and nothing changes.
    with pytest.raises(PayoutError, match="close 2025Q3 first"):
        finance.difference_apply(difference.id, users["fiona"])
    assert ProposedAdjustment.objects.get().status == "open"

    close(Q3, D(2025, 10, 20))
    q3 = payout_of(alice, Q3)
    review = client_for("fiona").get(f"/finance/payouts/{q2.id}/")
    assert "$555.56" in review.content.decode()
    client_for("fiona").post(f"/finance/differences/{difference.id}/apply/")
    difference.refresh_from_db()
    assert difference.status == "applied"
    assert difference.applied_to.payout == q3
    assert difference.applied_to.amount == Decimal("555.56")
    assert difference.applied_to.created_by == users["fiona"]
    assert "2025Q2" in difference.applied_to.reason
    # The approved payout itself never changed; the next one carries the difference.
    assert [(x.bucket, x.amount) for x in q2.lines.all()] == [
        ("retention_bonus", Decimal("1250.00"))]
    assert finance.statement_for(alice, Q3).adjustments[0].amount == Decimal("555.56")
    # Everything is accounted for now.
    assert finance.differences_detect(Q2, user=users["fiona"]) == []
    with pytest.raises(PayoutError, match="applied already"):
        finance.difference_apply(difference.id, users["fiona"])


@pytest.mark.django_db
def test_an_invoice_paid_late_is_carried_by_the_next_close_not_proposed_twice(
        alice_book, users):  # noqa: F811
    Invoice.objects.filter(external_id="A1-6").update(status="open", paid_on=None)
    close()
    q2 = payout_of(alice_book)
    total = finance.payouts_with_totals().get(id=q2.id).total_amount
    assert total == Decimal("0")  # retention 97.78% without June's A-1 money
    payout_approve(payout_id=q2.id, user=users["fiona"])
    Invoice.objects.filter(external_id="A1-6").update(status="paid", paid_on=D(2025, 8, 1))
    # The 2025Q3 close will carry it: no difference to apply by hand.
    assert finance.differences_detect(Q2) == []
    close(Q3, D(2025, 10, 20))
    late = payout_of(alice_book, Q3).lines.get(bucket="late_payment")
    assert late.amount == Decimal("1250.00") and late.source.startswith("2025Q2:")
    assert finance.differences_detect(Q2) == []


@pytest.mark.django_db
def test_a_difference_can_be_dismissed_with_a_reason(closed, users):
    q2 = payout_of(closed["alice"])
    payout_approve(payout_id=q2.id, user=users["fiona"])
    Invoice.objects.filter(external_id="A1-6").update(amount=Decimal("1000.00"))
    [difference] = finance.differences_detect(Q2)
    # End ARR 4 x 3,200 + 26,400 = 39,200 / 36,000: fraction 0.444444... -> 1,111.11.
    assert difference.amount == Decimal("-138.89")
    with pytest.raises(PayoutError):
        finance.difference_dismiss(difference.id, users["maria"], "no")
    finance.difference_dismiss(difference.id, users["fiona"], "within tolerance")
    assert ProposedAdjustment.objects.get().status == "dismissed"
    assert q2.events.filter(comment__contains="dismissed: within tolerance").exists()
    # Dismissed is decided: the same figure is not proposed again.
    assert finance.differences_detect(Q2) == []


@pytest.mark.django_db
def test_only_finance_looks_for_differences(closed, users, client_for):
    with pytest.raises(PayoutError):
        finance.differences_detect(Q2, user=users["maria"])
    assert client_for("maria").post("/finance/2025Q2/differences/").status_code == 403


def test_a_difference_names_the_changed_months_whichever_way_the_inputs_were_stored():
    old = {"accounts": [{"external_id": "A-1", "revenue": {
        "2025-06-01": {"amount": "1100.00", "history": "1100.00", "unpaid": "0", "late": "0"}}}]}
    new = {"accounts": [{"external_id": "A-1", "revenue": {
        "2025-06-01": ["1500.00", "1500.00", "0", "0"]}}]}
    notes, months = explain.input_changes(old, new)
    assert notes == ["A-1 2025-06 revenue 1100.00 → 1500.00"]
    assert months == [("A-1", "2025-06-01")]
    assert explain.input_changes(old, old) == ([], [])


# --- closing asks first; approving in bulk ---------------------------------------------


@pytest.mark.django_db
def test_closing_a_quarter_asks_first_and_the_button_goes_once_it_is_closed(
    alice_book, users, client_for  # noqa: F811
):
    finance_client = client_for("fiona")
    queue = finance_client.get("/finance/2025Q2/").content.decode()
    assert 'href="/finance/2025Q2/close/"' in queue and "Close 2025Q2…" in queue
    confirm = finance_client.get("/finance/2025Q2/close/").content.decode()
    assert "Close 2025Q2?" in confirm
    assert "creates one payout per person, <strong>pending approval</strong>" in confirm
    assert not Payout.objects.exists()  # asking wrote nothing
    assert finance_client.post("/finance/2025Q2/close/").status_code == 302
    assert Payout.objects.filter(quarter="2025Q2").count() == 3
    queue = finance_client.get("/finance/2025Q2/").content.decode()
    assert "2025Q2 closed" in queue and 'href="/finance/2025Q2/close/"' not in queue
    again = finance_client.get("/finance/2025Q2/close/").content.decode()
    assert "3 payout(s) of 2025Q2 exist already" in again


@pytest.mark.django_db
def test_finance_approves_every_pending_payout_at_once_after_seeing_them(
    closed, users, client_for
):
    finance_client = client_for("fiona")
    page = finance_client.get("/finance/2025Q2/approve/")
    rows = page.context["rows"]
    assert [r["payout"].person.email for r in rows] == [
        "alice@example.com", "bob@example.com", "charlie@example.com"]
    assert page.context["total"] == "$1,250.00"
    html = page.content.decode()
    assert html.count('type="checkbox" name="payout"') == 3 and html.count(" checked>") == 3
    assert not Payout.objects.filter(status="approved").exists()  # the page wrote nothing
    ids = [str(r["payout"].id) for r in rows]
    response = finance_client.post("/finance/2025Q2/approve/", {"payout": ids, "confirm": "yes"})
    assert response.status_code == 302
    assert texts(finance_client.get("/finance/2025Q2/")) == ["3 payout(s) of 2025Q2 approved."]
    assert set(Payout.objects.values_list("status", flat=True)) == {"approved"}
    assert PayoutEvent.objects.filter(to_status="approved", by=users["fiona"]).count() == 3


@pytest.mark.django_db
def test_a_bulk_approval_with_one_refusal_approves_none(closed, users):
    from payouts.services import payouts_approve

    alice, bob = payout_of(closed["alice"]), payout_of(closed["bob"])
    payout_approve(payout_id=bob.id, user=users["fiona"])  # approved meanwhile
    with pytest.raises(PayoutError, match="approved now; it was not approved"):
        payouts_approve(payout_ids=[alice.id, bob.id], user=users["fiona"])
    alice.refresh_from_db()
    assert alice.status == "pending_approval"
    assert not PayoutEvent.objects.filter(payout=alice, to_status="approved").exists()


@pytest.mark.django_db
def test_a_bulk_approval_with_nothing_ticked_approves_nothing(closed, client_for):
    finance_client = client_for("fiona")
    response = finance_client.post("/finance/2025Q2/approve/", {"confirm": "yes"}, follow=True)
    assert "No payout was selected: nothing was approved." in texts(response)
    assert not Payout.objects.filter(status="approved").exists()


# --- words, not keys ---------------------------------------------------------------------

KEYS = ("pending_approval", "csm_revenue_retention", "ae_commission", "logo_retention",
        "retention_bonus", "new_annual", "monthly_to_annual")


def visible_text(response) -> str:
    """What a reader sees: the page without its tags (attributes may carry keys)."""
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.django_db
def test_pay_pages_show_statuses_plans_and_buckets_as_words(closed, users, client_for):
    alice = payout_of(closed["alice"])
    payout_adjust(payout_id=alice.id, user=users["fiona"], amount=Decimal("-100.50"),
                  reason="refund of Customer A-1")
    client = client_for("fiona")
    pages = ["/finance/2025Q2/", f"/finance/payouts/{alice.id}/",
             f"/finance/statements/{closed['alice'].id}/2025Q2/", "/finance/plans/2025Q2/",
             reverse("payout_history", args=[alice.id]),
             f"/people/{closed['alice'].id}/attainment/?quarter=2025Q2"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        shown = visible_text(response)
        assert [key for key in KEYS if key in shown] == [], url
    statement = visible_text(client.get(f"/finance/statements/{closed['alice'].id}/2025Q2/"))
    assert "Retention bonus" in statement and "$1,250.00" in statement
