import datetime
import io
import re
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import Sum

from accounts.models import (
    OPEN_LEAD_STATUSES,
    Account,
    Assignment,
    Deal,
    Invoice,
    Lead,
    Person,
    Usage,
)
from accounts.quarters import Quarter, add_months, first_months_end
from compapp.demo.builder import demo_build
from compapp.demo.people import EMAIL_DOMAIN
from payouts.models import PersonPlan

TODAY = datetime.date(2025, 5, 20)
QUARTER = Quarter.containing(TODAY)  # 2025Q2
PREVIOUS = QUARTER.previous()  # 2025Q1
MODELS = (Person, User, Account, Assignment, Invoice, Usage, Deal, Lead, PersonPlan)


def seed(today=TODAY):
    out = io.StringIO()
    call_command("seed_demo", "--today", today.isoformat(), stdout=out)
    return out.getvalue()


def held_on(rows, day):
    return [r for r in rows if r.start_date <= day and (r.end_date is None or day <= r.end_date)]


def people_with(role):
    return Person.objects.filter(roles__contains=[role])


def snapshot():
    return dict(
        counts={model.__name__: model.objects.count() for model in MODELS},
        invoices=sorted(Invoice.objects.values_list("external_id", "amount", "status", "paid_on")),
        invoice_total=Invoice.objects.aggregate(total=Sum("amount"))["total"],
        usage_total=Usage.objects.aggregate(total=Sum("amount"))["total"],
        arr_total=Deal.objects.aggregate(total=Sum("arr"))["total"],
        assignments=sorted(
            Assignment.objects.values_list(
                "account__external_id", "role", "owner__email", "start_date", "end_date"
            )
        ),
    )


def wipe():
    for model in (Invoice, Usage, Deal, Lead, PersonPlan, Assignment, Account):
        model.objects.all().delete()
    User.objects.filter(email__endswith=EMAIL_DOMAIN).delete()
    Person.objects.all().delete()


@pytest.fixture
def seeded(db):
    return seed()


def test_the_same_day_always_makes_up_the_same_company():
    assert demo_build(TODAY) == demo_build(TODAY)
    assert demo_build(TODAY) != demo_build(TODAY + datetime.timedelta(days=40))


def test_it_builds_the_team_with_its_roles(seeded):
    roles = Counter(role for p in Person.objects.all() for role in p.roles)
    assert roles == {"ae": 6, "csm": 7, "onboarding": 2, "manager": 2, "finance": 1, "revops": 1}
    assert people_with("csm").filter(end_date__isnull=True).count() == 6
    leaver = people_with("csm").get(end_date__isnull=False)
    assert PREVIOUS.start <= leaver.end_date <= PREVIOUS.end
    aes = people_with("ae")
    assert Counter(aes.values_list("region", flat=True)) == {"Europe": 3, "US": 3}
    for ae in aes:
        assert Decimal(150000) <= ae.ote <= Decimal(220000)
        assert ae.variable_share == Decimal("0.5") and ae.team == "sales"
        assert ae.manager.has_role("manager") and ae.manager.team == "sales"
    for person in people_with("csm") | people_with("onboarding"):
        assert person.variable_share == Decimal("0.1") and person.team == "cs"
        assert person.manager.has_role("manager") and person.manager.team == "cs"
    recent = add_months(TODAY, -3)
    assert aes.filter(start_date__gt=recent).count() == 1
    assert people_with("csm").filter(start_date__gt=recent).count() == 1
    assert sorted(Person.objects.values_list("employee_id", flat=True))[0] == "E1001"


def test_every_person_has_a_login_in_the_group_of_their_role(seeded):
    group_of = {
        "ae": "rep",
        "csm": "rep",
        "onboarding": "rep",
        "manager": "manager",
        "finance": "finance",
        "revops": "revops",
    }
    for person in Person.objects.all():
        user = User.objects.get(username=person.email)
        assert user.email == person.email
        assert f"{user.first_name} {user.last_name}" == person.name
        assert list(user.groups.values_list("name", flat=True)) == [group_of[person.roles[0]]]
        assert user.is_active == (person.end_date is None)
        assert user.is_superuser == user.is_staff == person.has_role("finance")


def test_the_printed_logins_work(db, client, settings):
    # A fast hasher: checking 18 passwords with the real one takes seconds by design.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seeded = seed()
    logins = re.findall(rf"(\S+@{re.escape(EMAIL_DOMAIN)})\s+(\S+)", seeded)
    assert len(logins) == 18  # everyone but the leaver
    assert [e for e, _ in logins] != sorted(e for e, _ in logins)  # sorted by role, then name
    for email, password in logins:
        assert client.login(username=email, password=password), email
        client.logout()
    assert seed().splitlines()[3:] == seeded.splitlines()[3:]  # the same block every time


def test_every_ae_stays_within_20_accounts_and_open_leads_on_any_day(seeded):
    for ae in people_with("ae"):
        rows = list(Assignment.objects.filter(owner=ae, role="ae"))
        open_leads = Lead.objects.filter(owner=ae, status__in=OPEN_LEAD_STATUSES)
        for day in {r.start_date for r in rows} | {TODAY}:
            leads = open_leads.filter(created_on__lte=day).count()
            assert len(held_on(rows, day)) + leads <= 20, (ae, day)
        assert 5 <= len(held_on(rows, TODAY)) <= 14
        assert Lead.objects.filter(owner=ae).exists()


def test_books_have_the_sizes_of_the_handbook(seeded):
    for csm in people_with("csm").filter(end_date__isnull=True):
        book = held_on(Assignment.objects.filter(owner=csm, role="csm"), TODAY)
        assert 25 <= len(book) <= 45, csm
    three_months_ago = add_months(TODAY, -3)
    for specialist in people_with("onboarding"):
        rows = Assignment.objects.filter(owner=specialist, role="onboarding")
        recent = [r for r in rows if r.end_date is None or r.end_date >= three_months_ago]
        assert 75 <= len(recent) <= 110
        ended = [r for r in recent if r.end_date is not None]
        assert any(r.end_date >= QUARTER.start for r in ended)
        assert any(PREVIOUS.start <= r.end_date <= PREVIOUS.end for r in ended)
        assert any(r.end_date is None for r in recent)
    assert Account.objects.filter(segment="CSM managed").count() >= 100
    assert set(Account.objects.values_list("segment", flat=True)) == {
        "20k+",
        "CSM managed",
        "onboarding",
        "self-serve",
    }


def test_no_two_assignments_of_an_account_and_role_overlap(seeded):
    spans = {}
    for row in Assignment.objects.order_by("start_date"):
        spans.setdefault((row.account_id, row.role), []).append(row)
        assert row.start_date <= TODAY
    for rows in spans.values():
        for before, after in zip(rows, rows[1:], strict=False):
            assert before.end_date is not None and before.end_date < after.start_date
            if after.inherited:
                assert before.end_date == after.start_date - datetime.timedelta(days=1)
                assert after.reason


def test_there_is_history_grace_and_ramp(seeded):
    inherited = Assignment.objects.filter(inherited=True)
    recent = [r for r in inherited if first_months_end(r.start_date) >= TODAY]
    assert {r.role for r in recent} == {"ae", "csm"}
    assert any(r.reason.startswith("Hand-off from") for r in recent)
    assert inherited.filter(start_date__lt=PREVIOUS.start).exists()
    ramp = people_with("ae").get(start_date__gt=add_months(TODAY, -3))
    assert not PersonPlan.objects.filter(person=ramp).exists()
    assert Deal.objects.filter(owner=ramp, stage="won", arr__gte=20000).exists()


def test_plans_name_a_quota_for_each_ae_past_ramp_and_a_target_for_each_csm(seeded):
    for quarter in (PREVIOUS, QUARTER):
        plans = PersonPlan.objects.filter(quarter=str(quarter))
        aes = plans.filter(plan="ae_commission")
        assert aes.count() == 5
        assert all(Decimal(150000) <= p.quota <= Decimal(250000) for p in aes)
        csm_plans = Counter(plans.exclude(plan="ae_commission").values_list("plan", "target"))
        assert csm_plans[("logo_retention", None)] == 1
        assert csm_plans[("csm_revenue_retention", Decimal("1.2"))] >= 5
    assert PersonPlan.objects.filter(person__end_date__isnull=False).get().quarter == str(PREVIOUS)


def test_every_ae_past_ramp_won_deals_in_this_quarter_and_the_last(seeded):
    for plan in PersonPlan.objects.filter(plan="ae_commission", quarter=str(QUARTER)):
        won = Deal.objects.filter(owner=plan.person, stage="won")
        assert won.filter(closed_on__range=(PREVIOUS.start, PREVIOUS.end)).count() >= 2
        assert won.filter(closed_on__range=(QUARTER.start, TODAY)).count() >= 2
    assert not Deal.objects.filter(closed_on__gt=TODAY).exists()
    assert set(Deal.objects.values_list("stage", flat=True)) == {
        "lead",
        "demo",
        "proposal",
        "won",
        "lost",
    }
    assert set(Deal.objects.values_list("kind", flat=True)) == {
        "new_annual",
        "expansion_annual",
        "monthly",
        "monthly_to_annual",
    }
    for deal in Deal.objects.select_related("account"):
        assert Decimal(0) <= deal.probability <= Decimal(1)
        on = deal.closed_on or deal.created_on
        assert held_on(deal.account.assignments.filter(role="ae", owner=deal.owner), on), deal
    deal_ids = set(Deal.objects.values_list("external_id", flat=True))
    paid_by_deals = set(
        Invoice.objects.exclude(deal_external_id="").values_list("deal_external_id", flat=True)
    )
    assert paid_by_deals and paid_by_deals <= deal_ids


def test_it_bills_24_months_up_to_the_last_complete_month(seeded):
    assert 280 <= Account.objects.count() <= 320
    months = [add_months(datetime.date(2023, 5, 1), k) for k in range(24)]
    usage_invoices = Invoice.objects.filter(kind="usage")
    assert sorted(set(usage_invoices.values_list("period_start", flat=True))) == months
    assert sorted(set(Usage.objects.values_list("month", flat=True))) == months
    assert not Invoice.objects.filter(issued_on__gt=TODAY).exists()
    assert not Invoice.objects.filter(paid_on__gt=TODAY).exists()
    for account in Account.objects.filter(billing="annual"):
        assert account.annual_contract_value and account.contract_start and account.contract_end
    ended = Account.objects.filter(contract_end__range=(PREVIOUS.start, TODAY))
    renewed = Account.objects.filter(contract_start__range=(PREVIOUS.start, TODAY))
    assert ended.exists() and renewed.exists()
    last = usage_invoices.filter(period_start=months[-1])
    assert last.filter(status="open").exists() and last.filter(status="paid").exists()
    assert Account.objects.filter(health_score__lte=3).exists()
    assert Account.objects.filter(active_users=0).exists()


def test_amounts_are_cents_and_only_refunds_are_negative(seeded):
    kinds = Counter()
    for amount, kind, status, paid_on in Invoice.objects.values_list(
        "amount", "kind", "status", "paid_on"
    ):
        kinds[kind, status] += 1
        assert isinstance(amount, Decimal) and amount.as_tuple().exponent == -2
        assert (amount < 0) == (kind == "refund")
        assert (status == "paid") == (paid_on is not None)
    assert {kind for kind, _ in kinds} == {"usage", "contract", "overage", "refund"}
    assert kinds["usage", "void"] and kinds["usage", "open"]
    monthly = Invoice.objects.filter(kind="usage").exclude(status="void")
    assert monthly.filter(amount__lt=500).exists()
    assert monthly.filter(amount__gte=10000).exists()
    for amount in Usage.objects.values_list("amount", flat=True):
        assert amount >= 0 and amount.as_tuple().exponent == -2


def test_running_it_again_changes_nothing_and_an_empty_database_gets_the_same(db):
    seed()
    first = snapshot()
    assert "nothing was changed" in seed()
    assert snapshot() == first
    wipe()
    assert Account.objects.count() == 0
    seed()
    assert snapshot() == first


def test_it_refuses_to_mix_in_the_demo_of_another_day(seeded):
    before = snapshot()
    with pytest.raises(CommandError, match="another --today"):
        seed(TODAY + datetime.timedelta(days=90))
    assert snapshot() == before


def test_the_run_command_keeps_the_demo_of_an_earlier_day(seeded):
    # `make run` on a later day: the embedded database already holds yesterday's demo.
    later = TODAY + datetime.timedelta(days=40)
    people = Person.objects.count()
    out = io.StringIO()
    call_command("seed_demo", "--today", later.isoformat(), "--keep-existing", stdout=out)
    assert "Kept as it is" in out.getvalue()
    assert "demo-pass-2025" in out.getvalue()  # the logins are still printed
    assert Person.objects.count() == people
