import datetime

import pytest

from accounts.models import Assignment, Lead, RowChange
from accounts.services import ReassignError, account_reassign, assignment_create
from tests.conftest import assign, make_account, make_person

D = datetime.date


def state(account):
    """Everything a refusal must leave untouched."""
    return (
        list(
            Assignment.objects.filter(account=account)
            .order_by("role", "start_date")
            .values_list("owner__email", "role", "start_date", "end_date")
        ),
        RowChange.objects.count(),
    )


@pytest.fixture
def account(people):
    acc = make_account("ACME-1", name="Acme")
    assign(acc, people["alice"], start=D(2025, 1, 1))
    return acc


@pytest.mark.django_db
def test_a_manager_reassigns_an_account_of_her_team(people, users, account):
    new = account_reassign(
        account=account,
        role="csm",
        new_owner=people["bob"],
        effective_date=D(2025, 5, 1),
        reason="Alice's book is full",
        by_user=users["maria"],
    )
    old = Assignment.objects.get(account=account, owner=people["alice"])
    assert old.start_date == D(2025, 1, 1)
    assert old.end_date == D(2025, 4, 30)
    new.refresh_from_db()
    assert (new.owner, new.role, new.start_date, new.end_date) == (
        people["bob"],
        "csm",
        D(2025, 5, 1),
        None,
    )
    assert new.inherited is True
    assert new.created_by == users["maria"]
    assert new.created_at is not None
    assert new.reason == "Alice's book is full"
    change = RowChange.objects.get()
    assert change.model == "Assignment"
    assert change.key == "ACME-1/csm"
    assert change.source == "reassign"
    assert change.changed_by == users["maria"]
    assert change.before == {
        "assignments": [
            {
                "owner": "alice@example.com",
                "role": "csm",
                "start_date": "2025-01-01",
                "end_date": None,
                "inherited": False,
                "reason": "",
                "cap_override_reason": "",
            }
        ]
    }
    after_owners = [
        (a["owner"], a["start_date"], a["end_date"]) for a in change.after["assignments"]
    ]
    assert after_owners == [
        ("alice@example.com", "2025-01-01", "2025-04-30"),
        ("bob@example.com", "2025-05-01", None),
    ]


@pytest.mark.django_db
def test_it_refuses_a_rep_reassigning_even_to_themselves(people, users, account):
    before = state(account)
    for new_owner in (people["bob"], people["alice"]):
        with pytest.raises(ReassignError, match="Only a manager"):
            account_reassign(
                account=account,
                role="csm",
                new_owner=new_owner,
                effective_date=D(2025, 5, 1),
                reason="mine now",
                by_user=users["alice"],
            )
    assert state(account) == before


@pytest.mark.django_db
def test_it_refuses_finance_and_a_manager_of_another_team(people, users, account):
    before = state(account)
    with pytest.raises(ReassignError, match="Only a manager"):
        account_reassign(
            account=account,
            role="csm",
            new_owner=people["bob"],
            effective_date=D(2025, 5, 1),
            reason="x",
            by_user=users["fiona"],
        )
    with pytest.raises(ReassignError, match="not in your team"):
        account_reassign(
            account=account,
            role="csm",
            new_owner=people["bob"],
            effective_date=D(2025, 5, 1),
            reason="x",
            by_user=users["omar"],
        )
    # Even to someone of his own team: the current owner is not his.
    dora = make_person("dora@example.com", roles=["csm"], manager=people["omar"])
    with pytest.raises(ReassignError, match="Alice, the current CSM owner, is not in your team"):
        account_reassign(
            account=account,
            role="csm",
            new_owner=dora,
            effective_date=D(2025, 5, 1),
            reason="x",
            by_user=users["omar"],
        )
    assert state(account) == before


@pytest.mark.django_db
@pytest.mark.parametrize("effective", [D(2025, 1, 1), D(2024, 12, 31)])
def test_it_refuses_an_effective_date_on_or_before_the_current_start(
    people, users, account, effective
):
    before = state(account)
    with pytest.raises(ReassignError, match="must be after Alice's assignment started"):
        account_reassign(
            account=account,
            role="csm",
            new_owner=people["bob"],
            effective_date=effective,
            reason="x",
            by_user=users["maria"],
        )
    assert state(account) == before


@pytest.mark.django_db
def test_it_refuses_giving_an_account_to_its_owner_or_without_a_reason(people, users, account):
    before = state(account)
    with pytest.raises(ReassignError, match="already owns"):
        account_reassign(
            account=account,
            role="csm",
            new_owner=people["alice"],
            effective_date=D(2025, 5, 1),
            reason="x",
            by_user=users["maria"],
        )
    with pytest.raises(ReassignError, match="reason"):
        account_reassign(
            account=account,
            role="csm",
            new_owner=people["bob"],
            effective_date=D(2025, 5, 1),
            reason="  ",
            by_user=users["maria"],
        )
    assert state(account) == before


@pytest.mark.django_db
def test_it_refuses_a_move_overlapping_a_later_assignment_and_writes_nothing(people, users):
    acc = make_account("ACME-2")
    assign(acc, people["alice"], start=D(2025, 1, 1), end=D(2025, 6, 30))
    assign(acc, people["bob"], start=D(2025, 9, 1))
    carol = make_person("carol@example.com", roles=["csm"], manager=people["maria"])
    before = state(acc)
    # The current owner on 1 March is alice (ended in June); the new open assignment would
    # run into bob's, which starts in September.
    with pytest.raises(ReassignError, match="overlap") as refused:
        account_reassign(
            account=acc,
            role="csm",
            new_owner=carol,
            effective_date=D(2025, 3, 1),
            reason="x",
            by_user=users["maria"],
        )
    assert "Bob from 2025-09-01" in str(refused.value)
    # alice's assignment was not shortened: the whole move was rolled back.
    assert state(acc) == before


@pytest.fixture
def full_ae(people):
    """Charlie (AE, Omar's team) holds 19 accounts and 1 open lead: 20, the cap."""
    for i in range(19):
        assign(make_account(f"C-{i}"), people["charlie"], role="ae", start=D(2025, 1, 1))
    Lead.objects.create(
        external_id="L-1", owner=people["charlie"], segment="20k+", created_on=D(2025, 1, 1)
    )
    # Leads that are closed do not count.
    Lead.objects.create(
        external_id="L-2",
        owner=people["charlie"],
        segment="20k+",
        created_on=D(2025, 1, 1),
        status="converted",
    )
    dan = make_person("dan@example.com", roles=["ae"], team="sales", manager=people["omar"])
    acc = make_account("MOVE-1")
    assign(acc, dan, role="ae", start=D(2025, 1, 1))
    return acc


@pytest.mark.django_db
def test_it_refuses_putting_an_ae_over_the_cap_without_an_override_reason(people, users, full_ae):
    before = state(full_ae)
    with pytest.raises(ReassignError, match="would hold 21 accounts and open leads") as refused:
        account_reassign(
            account=full_ae,
            role="ae",
            new_owner=people["charlie"],
            effective_date=D(2025, 5, 1),
            reason="x",
            by_user=users["omar"],
        )
    assert "over the cap of 20" in str(refused.value)
    assert state(full_ae) == before


@pytest.mark.django_db
def test_it_allows_the_cap_to_be_passed_with_a_recorded_reason(people, users, full_ae):
    new = account_reassign(
        account=full_ae,
        role="ae",
        new_owner=people["charlie"],
        effective_date=D(2025, 5, 1),
        reason="Dan leaves",
        cap_override_reason="Only until Dan's successor starts",
        by_user=users["omar"],
    )
    new.refresh_from_db()
    assert new.cap_override_reason == "Only until Dan's successor starts"
    assert (
        Assignment.objects.filter(owner=people["charlie"], role="ae", end_date=None).count() == 20
    )
    change = RowChange.objects.get()
    assert change.after["assignments"][1]["cap_override_reason"] == (
        "Only until Dan's successor starts"
    )


@pytest.mark.django_db
def test_the_cap_counts_the_book_on_the_effective_date(people, users, full_ae):
    # One of charlie's accounts leaves his book at the end of April: on 1 May he holds 18
    # accounts + 1 lead, so the move fits under the cap.
    Assignment.objects.filter(account__external_id="C-0").update(end_date=D(2025, 4, 30))
    new = account_reassign(
        account=full_ae,
        role="ae",
        new_owner=people["charlie"],
        effective_date=D(2025, 5, 1),
        reason="x",
        by_user=users["omar"],
    )
    assert new.cap_override_reason == ""


@pytest.mark.django_db
def test_a_manager_assigns_an_account_without_an_owner_in_that_role(people, users, account):
    olga = make_person("olga@example.com", roles=["onboarding"], manager=people["maria"])
    created = assignment_create(
        account=account,
        role="onboarding",
        owner=olga,
        start_date=D(2025, 2, 1),
        reason="New customer",
        by_user=users["maria"],
    )
    created.refresh_from_db()
    assert (created.owner, created.start_date, created.end_date, created.created_by) == (
        olga,
        D(2025, 2, 1),
        None,
        users["maria"],
    )
    change = RowChange.objects.get()
    assert (change.key, change.source, change.before) == (
        "ACME-1/onboarding",
        "assign",
        {"assignments": []},
    )


@pytest.mark.django_db
def test_assigning_refuses_a_role_already_held_or_not_held_by_the_new_owner(people, users, account):
    before = state(account)
    with pytest.raises(ReassignError, match="Alice already owns Acme as CSM"):
        assignment_create(
            account=account,
            role="csm",
            owner=people["bob"],
            start_date=D(2025, 2, 1),
            reason="x",
            by_user=users["maria"],
        )
    with pytest.raises(ReassignError, match="does not hold the Onboarding role"):
        assignment_create(
            account=account,
            role="onboarding",
            owner=people["bob"],
            start_date=D(2025, 2, 1),
            reason="x",
            by_user=users["maria"],
        )
    assert state(account) == before


@pytest.mark.django_db
def test_the_reassign_form_does_not_offer_people_who_have_left(people, users):
    from accounts.selectors import reassign_team

    bob = people["bob"]
    bob.end_date = D(2025, 3, 31)
    bob.save()
    offered = set(reassign_team(users["maria"], on=D(2025, 4, 1)).values_list("email", flat=True))
    assert "bob@example.com" not in offered and "alice@example.com" in offered
    assert "bob@example.com" in set(
        reassign_team(users["maria"], on=D(2025, 3, 31)).values_list("email", flat=True))


@pytest.mark.django_db
def test_a_reassignment_more_than_a_quarter_ahead_is_refused_and_changes_nothing(
    people, users, account
):
    from django.utils import timezone

    from accounts.quarters import add_months

    latest = add_months(timezone.localdate(), 3)
    before = state(account)
    with pytest.raises(ReassignError) as refused:
        account_reassign(account=account, role="csm", new_owner=people["bob"],
                         effective_date=D(2099, 1, 1), reason="planning ahead",
                         by_user=users["maria"])
    assert refused.value.code == "too_far"
    assert str(refused.value) == (
        f"The effective date 2099-01-01 is more than a quarter ahead: choose a day up to "
        f"{latest:%Y-%m-%d}."
    )
    assert state(account) == before
    # The last day allowed is accepted.
    account_reassign(account=account, role="csm", new_owner=people["bob"],
                     effective_date=latest, reason="planned", by_user=users["maria"])
    assert Assignment.objects.get(account=account, owner=people["bob"]).start_date == latest


@pytest.mark.django_db
def test_the_owner_list_offers_only_people_who_hold_the_role(people, users, account, client):
    from django.urls import reverse

    from accounts.forms import ReassignForm
    from accounts.models import Person

    onboarding = make_person("olga@example.com", roles=["onboarding"], manager=people["maria"])
    team = Person.objects.filter(id__in=[people["bob"].id, onboarding.id])
    form = ReassignForm({"role": "csm", "new_owner": onboarding.id,
                         "effective_date": "2025-05-01", "reason": "x"}, team=team)
    assert not form.is_valid()
    assert form.errors["new_owner"] == ["Olga does not hold the CSM role."]
    assert dict(form.fields["new_owner"].choices)[onboarding.id] == "Olga (Onboarding)"
    # The row form of a CSM's book lists CSMs only.
    client.force_login(users["maria"])
    page = client.get(reverse("person_book", args=[people["alice"].id])).content.decode()
    assert f'<option value="{people["bob"].id}">Bob</option>' in page
    assert f'<option value="{onboarding.id}">' not in page
