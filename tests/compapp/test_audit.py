"""The audit trail: every change of assignments and payouts is recorded by the database with
who, when, before and after, whatever the path (a page, the admin, a service, a bulk update),
and finance and managers read it on the history pages."""

import datetime

import pghistory
import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from accounts.models import Assignment
from accounts.quarters import Quarter
from accounts.services import account_reassign
from compapp.workspace import audit
from payouts.models import Payout, PayoutLine
from payouts.services import quarter_close
from tests.conftest import assign, make_account
from tests.payouts.test_recompute import alice_book  # noqa: F401 - fixture

D = datetime.date


@pytest.fixture
def account(people):
    account = make_account("H-1", name="Hooli")
    assign(account, people["alice"], start=D(2024, 1, 1))
    return account


def only(rows, **match):
    found = [r for r in rows if all(getattr(r, k) == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


@pytest.mark.django_db
def test_a_change_in_the_admin_is_recorded_with_who_before_and_after(client, account):
    root = User.objects.create_superuser("root", "root@example.com", "pw-root-1")
    client.force_login(root)
    assignment = account.assignments.get()
    url = reverse("admin:accounts_assignment_change", args=[assignment.id])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update(end_date="2025-06-30", reason="customer churned", inherited="")
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]

    rows = audit.account_history(account)
    created = only(rows, action="created")
    assert created.who == ""  # made by the test's factory, outside any request
    assert created.change("owner").after == "Alice (alice@example.com)"
    changed = only(rows, action="changed")
    assert changed.who == "root@example.com"
    assert changed.via == url
    assert changed.changed_fields == {"end_date", "reason"}
    assert changed.change("end_date").before == ""
    assert changed.change("end_date").after == "2025-06-30"
    assert changed.change("reason").after == "customer churned"


@pytest.mark.django_db
def test_a_reassignment_on_the_page_records_both_assignments_with_the_manager(
    client_for, people, users, account
):
    response = client_for("maria").post(
        reverse("account_reassign", args=[account.id]),
        {"role": "csm", "new_owner": people["bob"].id, "effective_date": "2025-05-01",
         "reason": "balance the books"},
    )
    assert response.status_code == 302
    assert account.assignments.count() == 2
    rows = audit.account_history(account)
    ended = only(rows, action="changed")
    assert ended.who == "maria@example.com"
    assert ended.change("end_date").after == "2025-04-30"
    started = [r for r in rows if r.action == "created" and r.who == "maria@example.com"]
    assert len(started) == 1
    assert started[0].change("owner").after == "Bob (bob@example.com)"
    assert started[0].change("start_date").after == "2025-05-01"
    assert started[0].change("inherited").after == "yes"

    page = client_for("maria").get(reverse("account_history", args=[account.id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "2025-04-30" in html and "Bob (bob@example.com)" in html
    assert "maria@example.com" in html


@pytest.mark.django_db
def test_a_service_called_outside_a_request_is_recorded_without_a_user(people, users, account):
    account_reassign(account=account, role="csm", new_owner=people["bob"],
                     effective_date=D(2025, 5, 1), reason="moved", by_user=users["maria"])
    rows = audit.account_history(account)
    assert [r.action for r in rows] == ["created", "changed", "created"]
    assert rows[1].change("end_date").after == "2025-04-30"
    # The service records who asked on the row itself (created_by), the event has no request.
    assert rows[2].change("created_by").after == "maria@example.com"
    assert all(r.who == "" for r in rows)


@pytest.mark.django_db
def test_a_bulk_update_is_recorded_and_names_the_user_of_its_context(people, users, account):
    Assignment.objects.filter(account=account).update(reason="bulk fix")
    with pghistory.context(user=users["fiona"].id, url="/a/script/"):
        Assignment.objects.filter(account=account).update(end_date=D(2025, 3, 31))
    rows = audit.account_history(account)
    first, second = [r for r in rows if r.action == "changed"]
    assert first.who == "" and first.changed_fields == {"reason"}
    assert first.change("reason").before == "" and first.change("reason").after == "bulk fix"
    assert second.who == "fiona@example.com" and second.via == "/a/script/"
    assert second.changes == (audit.FieldChange("end_date", "", "2025-03-31"),)


@pytest.mark.django_db
def test_a_deleted_assignment_keeps_its_history(people, account):
    Assignment.objects.filter(account=account).delete()
    rows = audit.account_history(account)
    assert [r.action for r in rows] == ["created", "deleted"]
    assert rows[1].change("owner").before == "Alice (alice@example.com)"


@pytest.mark.django_db
def test_the_payout_history_shows_lines_adjustments_approval_and_inquiries(
    alice_book, users, client_for  # noqa: F811
):
    quarter_close(quarter=Quarter.parse("2025Q2"), today=D(2025, 7, 20))
    payout = Payout.objects.get(person=alice_book, quarter="2025Q2")
    # A bulk update while the payout is open (approved payouts refuse any change).
    PayoutLine.objects.filter(payout=payout).update(source="corrected source")
    fiona = client_for("fiona")
    fiona.post(reverse("finance_payout_adjust", args=[payout.id]),
               {"amount": "-100.50", "reason": "refund of Customer A-1"})
    client_for("alice").post(reverse("finance_inquiry_raise", args=[alice_book.id, "2025Q2"]),
                             {"bucket": "", "text": "Why the refund?"})
    fiona = client_for("fiona")
    fiona.post(reverse("finance_payout_approve", args=[payout.id]))
    assert Payout.objects.get(id=payout.id).status == "approved"

    rows = audit.payout_history(payout)
    kinds = [(r.kind, r.action) for r in rows]
    assert ("payout", "created") in kinds and ("payout line", "created") in kinds
    line_change = only(rows, kind="payout line", action="changed")
    assert line_change.change("source").after == "corrected source"
    adjustment = only(rows, kind="adjustment", action="created")
    assert adjustment.who == "fiona@example.com"
    assert adjustment.change("amount").after == "-$100.50"
    assert adjustment.change("created_by").after == "fiona@example.com"
    inquiry = only(rows, kind="inquiry", action="created")
    assert inquiry.who == "alice@example.com"
    approval = only(rows, kind="payout", action="changed")
    assert approval.who == "fiona@example.com"
    assert approval.change("status").before == "Pending approval"
    assert approval.change("status").after == "Approved"
    assert approval.change("approved_by").after == "fiona@example.com"

    for name in ("fiona", "alice", "maria"):
        page = client_for(name).get(reverse("payout_history", args=[payout.id]))
        assert page.status_code == 200, name
        html = page.content.decode()
        assert "Pending approval" in html and "-$100.50" in html and "corrected source" in html
        assert "pending_approval" not in html
    for name in ("bob", "omar", "rita"):
        page = client_for(name).get(reverse("payout_history", args=[payout.id]))
        assert page.status_code == 404, name


@pytest.mark.django_db
def test_only_finance_and_the_owners_managers_read_an_accounts_history(client_for, account):
    url = reverse("account_history", args=[account.id])
    expected = {"maria": 200, "fiona": 200, "omar": 404, "alice": 403, "bob": 403, "rita": 403}
    for name, status in expected.items():
        assert client_for(name).get(url).status_code == status, name


@pytest.mark.django_db
def test_the_history_is_read_in_a_fixed_number_of_queries(
    people, users, account, django_assert_max_num_queries
):
    owners = [people["bob"], people["alice"]] * 5
    for n, owner in enumerate(owners):
        account_reassign(account=account, role="csm", new_owner=owner,
                         effective_date=D(2025, 1, 1) + datetime.timedelta(days=10 * n),
                         reason=f"move {n}", by_user=users["maria"])
    Assignment.objects.filter(account=account).update(inherited=False)
    with django_assert_max_num_queries(5):
        rows = audit.account_history(account)
    # 11 assignments created, 10 ended, 10 of them no longer inherited (the first was not).
    assert [r.action for r in rows].count("created") == 11
    assert [r.action for r in rows].count("changed") == 20
    assert rows[-1].change("inherited") == audit.FieldChange("inherited", "yes", "no")
