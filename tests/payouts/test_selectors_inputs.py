"""The rules' inputs as the database gives them: the same for a person whoever else is in
the batch, and cut at a leaver's last day (SPEC 3)."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import Deal
from accounts.quarters import Quarter
from payouts import rule_inputs, selectors, services
from payouts.models import AttainmentSnapshot, PersonPlan
from tests.conftest import assign, invoice, make_account, make_person

D = datetime.date
Q1 = Quarter(2025, 1)
Q2 = Quarter(2025, 2)


def won(external_id, account, owner, kind, arr, closed_on):
    return Deal.objects.create(external_id=external_id, account=account, owner=owner, kind=kind,
                               arr=Decimal(arr), stage="won", created_on=D(2024, 12, 1),
                               closed_on=closed_on)


@pytest.fixture
def shared_book(people):
    """Charlie (AE), Alice (CSM) and Olga (onboarding) share accounts: S-1 a monthly
    customer with paid invoices, converted to annual by Charlie in May; S-2 onboarded by
    Olga until 30 April, then Alice's."""
    charlie, alice = people["charlie"], people["alice"]
    olga = make_person("olga@example.com", roles=["onboarding"])
    s1, s2 = make_account("S-1"), make_account("S-2")
    assign(s1, charlie, role="ae", start=D(2024, 1, 1))
    assign(s1, alice, role="csm", start=D(2024, 1, 1))
    assign(s2, olga, role="onboarding", start=D(2025, 2, 1), end=D(2025, 4, 30))
    assign(s2, alice, role="csm", start=D(2025, 5, 1))
    for month in range(1, 7):
        invoice(s1, f"S1-{month}", D(2025, month, 1), "1000.00")
        invoice(s2, f"S2-{month}", D(2025, month, 1), "800.00")
    won("CONV-1", s1, charlie, "monthly_to_annual", "30000", D(2025, 5, 10))
    PersonPlan.objects.create(person=charlie, quarter="2025Q2", plan="ae_commission",
                              quota=Decimal("200000"))
    return dict(charlie=charlie, alice=alice, olga=olga)


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", [D(2025, 5, 20), D(2025, 7, 14)])
def test_a_persons_inputs_are_the_same_alone_and_in_a_batch(shared_book, as_of):
    together = {p.email: inputs for p, _v, _pp, inputs in rule_inputs.gather_inputs(Q2, as_of)}
    plans = set()
    for person in shared_book.values():
        (alone,) = rule_inputs.gather_inputs(Q2, as_of, [person])
        assert alone[3] == together[person.email], person.email
        plans.add(alone[3].terms.plan)
    assert plans == {"ae_commission", "csm_revenue_retention", "logo_retention"}
    # What only the AE plan reads is the AE's alone: 6 paid invoices (counted to 2), converted.
    (s1,) = [a for a in together["charlie@example.com"].accounts if a.external_id == "S-1"]
    assert (s1.paid_invoices_ever, s1.converted_in_quarter) == (2, True)
    (s1,) = [a for a in together["alice@example.com"].accounts if a.external_id == "S-1"]
    assert (s1.paid_invoices_ever, s1.converted_in_quarter) == (0, False)


@pytest.mark.django_db
def test_the_command_and_the_per_person_tasks_store_one_snapshot_per_person(shared_book):
    as_of = D(2025, 7, 14)
    services.attainment_recompute(quarter=Q2, as_of=as_of)
    for person in shared_book.values():
        services.attainment_recompute(quarter=Q2, as_of=as_of, people=[person])
    # everyone with a plan in the quarter: the three above and the people fixture's bob
    people_with_plans = len(selectors.plans_for(Q2))
    assert AttainmentSnapshot.objects.filter(quarter="2025Q2").count() == people_with_plans


@pytest.mark.django_db
def test_a_deal_closed_after_an_ae_left_counts_for_nobody(people):
    # Dana left on 27 February 2025: employed 58 of Q1's 90 days; OTE 100000 x 0.5 / 4
    # x 58 / 90 = 8055.5555...; quota 200000. Her D-1 (100000, 10 February) pays
    # 100000 x 8055.5555... / 200000 = 4027.7777... -> 4027.78. The 60000 expansion she
    # owns in the CRM closed on 1 March, after her last day: attainment 0.5, not 0.8.
    dana = make_person("dana@example.com", roles=["ae"], team="sales",
                       end_date=D(2025, 2, 27), variable_share=Decimal("0.5"))
    account = make_account("X-1", billing="annual")
    later = make_account("X-2", billing="annual")
    assign(account, dana, role="ae", start=D(2024, 1, 1))
    assign(later, dana, role="ae", start=D(2025, 3, 2))  # assigned after she left
    won("D-1", account, dana, "new_annual", "100000", D(2025, 2, 10))
    won("D-2", account, dana, "expansion_annual", "60000", D(2025, 3, 1))
    invoice(account, "X1-C", D(2025, 2, 1), "100000.00", kind="contract",
            deal_external_id="D-1")
    PersonPlan.objects.create(person=dana, quarter="2025Q1", plan="ae_commission",
                              quota=Decimal("200000"))
    call_command("recompute", "--quarter", "2025Q1", "--as-of", "2025-04-14",
                 stdout=io.StringIO())
    out = io.StringIO()
    call_command("attainment", "2025Q1", "--format", "json", stdout=out)
    (row,) = [r for r in json.loads(out.getvalue()) if r["email"] == "dana@example.com"]
    assert (row["metric"], row["amount"], row["payable"]) == ("0.500000", "4027.78", "4027.78")
    assert (row["accounts_counted"], row["accounts_excluded"]) == (1, 0)
    (_p, _v, _pp, inputs), = rule_inputs.gather_inputs(Q1, D(2025, 4, 14), [dana])
    assert [d.external_id for d in inputs.deals] == ["D-1"]
    assert [a.external_id for a in inputs.accounts] == ["X-1"]
