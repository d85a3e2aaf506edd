"""Shared people for the tests: a CSM (alice), her teammate (bob), an AE on another team
(charlie), their managers, finance and revops; and small factories for data."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from accounts.models import Account, Assignment, Invoice, Person, Usage


def make_person(email, *, roles, team="cs", manager=None, start=datetime.date(2023, 1, 1), **kw):
    return Person.objects.create(
        email=email,
        name=kw.pop("name", email.split("@")[0].title()),
        roles=roles,
        team=team,
        start_date=start,
        ote=kw.pop("ote", Decimal("100000")),
        manager=manager,
        **kw,
    )


def make_user(email, *groups):
    user = User.objects.create_user(username=email, email=email, password="pw-for-tests-1")
    for g in groups:
        user.groups.add(Group.objects.get(name=g))
    return user


def make_account(external_id, *, billing="monthly", **kw):
    return Account.objects.create(
        external_id=external_id, name=kw.pop("name", f"Customer {external_id}"),
        billing=billing, **kw,
    )


def assign(account, owner, role="csm", start=datetime.date(2024, 1, 1), end=None, **kw):
    return Assignment.objects.create(
        account=account, owner=owner, role=role, start_date=start, end_date=end, **kw
    )


def usage(account, month, amount):
    return Usage.objects.create(account=account, month=month, amount=Decimal(amount))


def invoice(account, external_id, period_start, amount, *, kind="usage", status="paid",
            paid_on=None, issued_on=None, **kw):
    import calendar

    last = calendar.monthrange(period_start.year, period_start.month)[1]
    issued = issued_on or period_start.replace(day=last)
    if status == "paid" and paid_on is None:
        paid_on = issued
    return Invoice.objects.create(
        external_id=external_id,
        account=account,
        issued_on=issued,
        period_start=period_start,
        period_end=kw.pop("period_end", period_start.replace(day=last)),
        amount=Decimal(amount),
        kind=kind,
        status=status,
        paid_on=paid_on,
        **kw,
    )


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Groups and default plan versions come from data migrations; a transactional test's
    flush removes them, so put them back for every test that touches the database."""
    if not {"db", "transactional_db", "django_db_reset_sequences"} & set(request.fixturenames) \
            and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("db") if "transactional_db" not in request.fixturenames else None
    from accounts.permissions import GROUPS
    from payouts.defaults import default_plans_ensure
    from payouts.models import PlanVersion

    for name in GROUPS:
        Group.objects.get_or_create(name=name)
    default_plans_ensure(PlanVersion)


@pytest.fixture
def people(db):
    """Two teams. Manager Maria runs alice and bob (CSMs); manager Omar runs charlie (AE)."""
    maria = make_person("maria@example.com", roles=["manager"], team="cs")
    omar = make_person("omar@example.com", roles=["manager"], team="sales")
    alice = make_person("alice@example.com", roles=["csm"], manager=maria)
    bob = make_person("bob@example.com", roles=["csm"], manager=maria)
    charlie = make_person("charlie@example.com", roles=["ae"], team="sales", manager=omar,
                          region="Europe")
    fiona = make_person("fiona@example.com", roles=["finance"], team="cs")
    return dict(maria=maria, omar=omar, alice=alice, bob=bob, charlie=charlie, fiona=fiona)


@pytest.fixture
def users(people):
    return dict(
        maria=make_user("maria@example.com", "manager"),
        omar=make_user("omar@example.com", "manager"),
        alice=make_user("alice@example.com", "rep"),
        bob=make_user("bob@example.com", "rep"),
        charlie=make_user("charlie@example.com", "rep"),
        fiona=make_user("fiona@example.com", "finance"),
        rita=make_user("rita@example.com", "revops"),
    )


@pytest.fixture
def client_for(client, users):
    def login(name):
        client.force_login(users[name])
        return client

    return login
