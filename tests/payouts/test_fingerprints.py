"""The recompute keeps a person's stored figure only while the fingerprint of their inputs
(taken in SQL) is unchanged: every kind of input, changed, gives the new figure to the cent,
the same as inputs gathered afresh; nothing changed writes nothing."""

import datetime
from decimal import Decimal

import pytest

from accounts.models import Account, Assignment, Deal, Invoice, Person, Usage
from accounts.quarters import Quarter
from payouts import fingerprints as fingerprint_sql
from payouts import rule_inputs, rules, selectors, services
from payouts.models import AttainmentSnapshot, PersonPlan, PlanVersion, QuotaAmendment
from payouts.rules import to_ratio
from payouts.serialize import jsonable
from tests.conftest import assign, invoice, make_account, make_person, usage

D = datetime.date
Q2 = Quarter(2025, 2)
FINAL = D(2025, 7, 14)  # the cutoff day: final figures
PROJECTED = D(2025, 5, 20)


@pytest.fixture
def world(people):
    """Alice (CSM): the hand-worked book of test_recompute, and A-4 inherited in April.
    Charlie (AE, quota $50,000): D-1 won in May on B-1, half its contract invoices paid;
    B-2 a monthly customer he converted to annual in May; B-3 a monthly customer with one
    paid invoice, converted in June by someone else. Olga (onboarding): a cohort of two
    accounts onboarded until 31 May and 30 June."""
    alice, charlie = people["alice"], people["charlie"]
    olga = make_person("olga@example.com", roles=["onboarding"])
    a1, a2, a3 = make_account("A-1"), make_account("A-2", billing="annual"), make_account("A-3")
    a4 = make_account("A-4")
    assign(a1, alice, start=D(2024, 1, 1))
    assign(a2, alice, start=D(2024, 1, 1))
    assign(a3, alice, start=D(2024, 1, 1), end=D(2025, 5, 15))
    assign(a4, alice, start=D(2025, 4, 10), inherited=True)
    for month in (1, 2, 3):
        invoice(a1, f"A1-{month}", D(2025, month, 1), "1000.00")
        usage(a2, D(2025, month, 1), "2000.00")
        invoice(a3, f"A3-{month}", D(2025, month, 1), "500.00")
        invoice(a4, f"A4-{month}", D(2025, month, 1), "700.00")
    for month in (4, 5, 6):
        invoice(a1, f"A1-{month}", D(2025, month, 1), "1100.00")
        usage(a2, D(2025, month, 1), "2200.00")
        invoice(a4, f"A4-{month}", D(2025, month, 1), "750.00")

    PersonPlan.objects.create(person=charlie, quarter="2025Q2", plan="ae_commission",
                              quota=Decimal("50000"))
    b1, b2 = make_account("B-1", billing="annual"), make_account("B-2")
    assign(b1, charlie, role="ae", start=D(2024, 1, 1))
    assign(b2, charlie, role="ae", start=D(2024, 1, 1))
    Deal.objects.create(external_id="D-1", account=b1, owner=charlie, kind="new_annual",
                        arr=Decimal("40000"), stage="won", created_on=D(2025, 3, 1),
                        closed_on=D(2025, 5, 2), payment_schedule="quarterly")
    invoice(b1, "C-1", D(2025, 5, 1), "10000.00", kind="contract", paid_on=D(2025, 5, 20),
            deal_external_id="D-1")
    invoice(b1, "C-2", D(2025, 5, 1), "10000.00", kind="contract", status="open",
            deal_external_id="D-1")
    invoice(b2, "B2-old", D(2024, 1, 1), "300.00", status="open")
    for month in range(1, 7):
        invoice(b2, f"B2-{month}", D(2025, month, 1), "900.00")
    Deal.objects.create(external_id="CONV-1", account=b2, owner=charlie,
                        kind="monthly_to_annual", arr=Decimal("12000"), stage="won",
                        created_on=D(2025, 3, 1), closed_on=D(2025, 5, 10))

    b3 = make_account("B-3")  # one paid invoice: not yet a customer by the 2-invoice rule
    assign(b3, charlie, role="ae", start=D(2024, 1, 1))
    invoice(b3, "B3-1", D(2025, 1, 1), "500.00")
    invoice(b3, "B3-over", D(2024, 12, 1), "50.00", kind="overage", status="open")
    Deal.objects.create(external_id="CONV-2", account=b3, owner=people["bob"],
                        kind="monthly_to_annual", arr=Decimal("6000"), stage="won",
                        created_on=D(2025, 3, 1), closed_on=D(2025, 6, 5))

    o1, o2 = make_account("O-1"), make_account("O-2")
    for account, end in ((o1, D(2025, 5, 31)), (o2, D(2025, 6, 30))):
        assign(account, olga, role="onboarding", start=D(2025, 3, 1), end=end)
        for month in (3, 4, 5, 6):
            invoice(account, f"{account.external_id}-{month}", D(2025, month, 1), "800.00")
    return dict(alice=alice, charlie=charlie, olga=olga, bob=people["bob"])


def fresh(as_of):
    """Everyone's inputs and figures gathered afresh, no snapshot read: {email: (..)}."""
    return {
        person.email: (inputs, rules.compute(inputs))
        for person, _version, _pp, inputs in rule_inputs.gather_inputs(Q2, as_of)
    }


def fingerprints(as_of):
    keys = fingerprint_sql.input_fingerprints(Q2, as_of, selectors.plans_for(Q2))
    return {Person.objects.get(id=pid).email: key for pid, key in keys.items()}


def figures(snapshot_or_result):
    s = snapshot_or_result
    metric = s.metric if isinstance(s, AttainmentSnapshot) else to_ratio(s.metric)
    fraction = (s.bonus_fraction if isinstance(s, AttainmentSnapshot)
                else to_ratio(s.bonus_fraction))
    return (s.amount, s.payable, metric, fraction, s.accounts_counted, s.accounts_excluded,
            s.final)


def recompute_and_check(as_of):
    """Recompute everyone; each stored figure and its inputs must be those gathered afresh.
    Returns {email: the figures stored}."""
    stored = {s.person.email: s for s in services.attainment_recompute(quarter=Q2, as_of=as_of)}
    expected = fresh(as_of)
    assert set(stored) == set(expected)
    for email, (inputs, result) in expected.items():
        snapshot = AttainmentSnapshot.objects.get(id=stored[email].id)
        assert snapshot.inputs == jsonable(inputs), email
        assert figures(snapshot) == figures(result), email
    return {email: figures(s) for email, s in stored.items()}


def _invoice(external_id, **changes):
    Invoice.objects.filter(external_id=external_id).update(**changes)


def _assignment(account, holder, **changes):
    Assignment.objects.filter(account__external_id=account, owner__email=holder).update(
        **changes)


def _amend_quota(new):
    plan = PersonPlan.objects.get(person__email="charlie@example.com", quarter="2025Q2")
    QuotaAmendment.objects.create(person_plan=plan, previous_quota=plan.quota,
                                  new_quota=Decimal(new), reason="territory moved")
    PersonPlan.objects.filter(id=plan.id).update(quota=Decimal(new))


def _new_plan_version(plan, **terms):
    current = PlanVersion.objects.filter(plan=plan).order_by("-version").first()
    fields = {f.name: getattr(current, f.name) for f in PlanVersion._meta.fields
              if f.name not in ("id", "created_at")}
    fields.update(version=current.version + 1, effective_from=D(2025, 4, 1), **terms)
    PlanVersion.objects.create(**fields)


ALICE, CHARLIE, OLGA = "alice@example.com", "charlie@example.com", "olga@example.com"

# (what changes, whose figure it is, the change, whether the figure itself moves)
CHANGES = [
    ("invoice amount", ALICE, lambda: _invoice("A1-6", amount=Decimal("1500.00")), True),
    ("invoice voided", ALICE, lambda: _invoice("A1-5", status="void"), True),
    ("invoice unpaid", ALICE, lambda: _invoice("A1-6", status="open", paid_on=None), True),
    ("invoice paid after the cutoff", ALICE,
     lambda: _invoice("A1-6", paid_on=D(2025, 7, 15)), True),
    ("invoice issued after as_of", ALICE, lambda: _invoice("A1-6", issued_on=D(2025, 7, 20)),
     True),
    ("invoice moved to another month", ALICE,
     lambda: _invoice("A1-6", period_start=D(2025, 3, 1), period_end=D(2025, 3, 31)), True),
    ("invoice added", ALICE,
     lambda: invoice(Account.objects.get(external_id="A-1"), "A1-6b", D(2025, 6, 1),
                     "400.00"), True),
    ("invoice deleted", ALICE, lambda: Invoice.objects.filter(external_id="A1-4").delete(),
     True),
    ("usage amount", ALICE,
     lambda: Usage.objects.filter(account__external_id="A-2", month=D(2025, 6, 1))
     .update(amount=Decimal("3000.00")), True),
    ("usage row deleted", ALICE,
     lambda: Usage.objects.filter(account__external_id="A-2", month=D(2025, 5, 1)).delete(),
     True),
    ("usage row added", OLGA,
     lambda: usage(Account.objects.get(external_id="O-1"), D(2025, 5, 1), "100.00"), True),
    ("account renamed", ALICE,
     lambda: Account.objects.filter(external_id="A-1").update(name="Renamed"), False),
    ("account billing", CHARLIE,
     lambda: Account.objects.filter(external_id="B-2").update(billing="annual"), False),
    ("account contract end", CHARLIE,
     lambda: Account.objects.filter(external_id="B-1").update(contract_end=D(2025, 6, 30)),
     False),
    ("account contract value", CHARLIE,
     lambda: Account.objects.filter(external_id="B-1")
     .update(annual_contract_value=Decimal("30000")), False),
    ("assignment ended earlier", ALICE,
     lambda: _assignment("A-1", ALICE, end_date=D(2025, 5, 31)), True),
    ("assignment started later", ALICE,
     lambda: _assignment("A-4", ALICE, start_date=D(2025, 6, 10)), False),
    ("assignment no longer inherited", ALICE,
     lambda: _assignment("A-4", ALICE, inherited=False), False),
    ("assignment added", ALICE,
     lambda: assign(Account.objects.get(external_id="O-2"), Person.objects.get(email=ALICE),
                    start=D(2024, 1, 1)), True),
    ("assignment moved to another owner", ALICE,
     lambda: _assignment("A-2", ALICE, owner=Person.objects.get(email="bob@example.com")),
     True),
    ("deal ARR", CHARLIE, lambda: Deal.objects.filter(external_id="D-1")
     .update(arr=Decimal("60000")), True),
    ("deal lost", CHARLIE, lambda: Deal.objects.filter(external_id="D-1").update(stage="lost"),
     True),
    ("deal closed after the quarter", CHARLIE,
     lambda: Deal.objects.filter(external_id="D-1").update(closed_on=D(2025, 7, 2)), True),
    ("deal kind", CHARLIE,
     lambda: Deal.objects.filter(external_id="D-1").update(kind="expansion_annual"), False),
    ("deal added", CHARLIE, lambda: Deal.objects.create(
        external_id="D-2", account=Account.objects.get(external_id="B-1"),
        owner=Person.objects.get(email=CHARLIE), kind="expansion_annual",
        arr=Decimal("8000"), stage="won", created_on=D(2025, 3, 1), closed_on=D(2025, 6, 3)),
     True),
    ("contract invoice paid", CHARLIE,
     lambda: _invoice("C-2", status="paid", paid_on=D(2025, 6, 30)), True),
    ("contract invoice amount", CHARLIE, lambda: _invoice("C-1", amount=Decimal("5000.00")),
     True),
    ("conversion undone", CHARLIE,
     lambda: Deal.objects.filter(external_id="CONV-1").update(stage="lost"), True),
    ("someone else's conversion of the AE's account undone", CHARLIE,
     lambda: Deal.objects.filter(external_id="CONV-2").update(stage="lost"), False),
    ("an old invoice paid (the 2-invoice rule)", CHARLIE,
     lambda: _invoice("B3-over", status="paid", paid_on=D(2025, 1, 20)), False),
    ("quota amendment", CHARLIE, lambda: _amend_quota("40000"), True),
    ("plan target of the person", ALICE,
     lambda: PersonPlan.objects.create(person=Person.objects.get(email=ALICE),
                                       quarter="2025Q2", plan="csm_revenue_retention",
                                       target=Decimal("1.05")), True),
    ("plan terms edited", ALICE,
     lambda: PlanVersion.objects.filter(plan="csm_revenue_retention")
     .update(target=Decimal("1.10")), True),
    ("new plan version in effect", OLGA,
     lambda: _new_plan_version("logo_retention", retained_threshold=Decimal("900")), True),
    ("person OTE", ALICE,
     lambda: Person.objects.filter(email=ALICE).update(ote=Decimal("120000")), True),
    ("person variable share", CHARLIE,
     lambda: Person.objects.filter(email=CHARLIE).update(variable_share=Decimal("0.4")), True),
    ("person left", ALICE,
     lambda: Person.objects.filter(email=ALICE).update(end_date=D(2025, 5, 31)), True),
]


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", [FINAL, PROJECTED], ids=["final", "projected"])
@pytest.mark.parametrize("label, whose, change, moves", CHANGES, ids=[c[0] for c in CHANGES])
def test_a_changed_input_gives_the_new_figure(world, as_of, label, whose, change, moves):
    before = recompute_and_check(as_of)
    keys_before = fingerprints(as_of)
    inputs_before = fresh(as_of)[whose][0]
    change()
    inputs_after = fresh(as_of)[whose][0]
    if as_of == FINAL:  # every change is one of the final figure's inputs
        assert inputs_after != inputs_before, label
    if inputs_after != inputs_before:  # (a projection in May reads no June row)
        assert fingerprints(as_of)[whose] != keys_before[whose], label
    after = recompute_and_check(as_of)  # stored figures and inputs = gathered afresh
    if moves and as_of == FINAL:
        assert after[whose] != before[whose], label


@pytest.mark.django_db
def test_the_hand_worked_figures_follow_their_inputs(world):
    # Charlie: rate 12,500 / 50,000 = 0.25 on D-1 (40,000) and CONV-1 (12,000): 13,000;
    # payable: a quarter of D-1's contract invoices paid, none of CONV-1's: 2,500.
    assert recompute_and_check(FINAL)[CHARLIE][:2] == (Decimal("13000.00"), Decimal("2500.00"))
    _invoice("C-2", status="paid", paid_on=D(2025, 6, 30))  # half of D-1 paid: 5,000
    assert recompute_and_check(FINAL)[CHARLIE][:2] == (Decimal("13000.00"), Decimal("5000.00"))
    _amend_quota("40000")  # rate 0.3125: 16,250; half of D-1's 12,500
    assert recompute_and_check(FINAL)[CHARLIE][:2] == (Decimal("16250.00"), Decimal("6250.00"))
    # Olga: both logos retained: the quarter's target pay, 100,000 x 0.1 / 4; then O-1's May
    # has a usage row of $100 (it replaces the invoices): 1 of 2 is below the 90% floor.
    assert recompute_and_check(FINAL)[OLGA][:2] == (Decimal("2500.00"), Decimal("2500.00"))
    usage(Account.objects.get(external_id="O-1"), D(2025, 5, 1), "100.00")
    assert recompute_and_check(FINAL)[OLGA][:2] == (Decimal("0.00"), Decimal("0.00"))


@pytest.mark.django_db
def test_as_of_is_an_input(world):
    projected, final = recompute_and_check(PROJECTED), recompute_and_check(FINAL)
    assert projected[ALICE] != final[ALICE]
    assert fingerprints(PROJECTED)[ALICE] != fingerprints(FINAL)[ALICE]
    later = D(2025, 5, 27)
    assert fingerprints(later) != fingerprints(PROJECTED)
    recompute_and_check(later)


@pytest.mark.django_db
def test_nothing_changed_writes_nothing_and_keeps_every_figure(world):
    first = recompute_and_check(FINAL)
    rows = AttainmentSnapshot.objects.count()
    assert recompute_and_check(FINAL) == first
    assert AttainmentSnapshot.objects.count() == rows
    # A change to someone else's rows, or to rows nobody's figure reads, leaves them alone.
    keys = fingerprints(FINAL)
    _invoice("B2-3", amount=Decimal("950.00"))  # Charlie's monthly customer
    invoice(make_account("Z-1"), "Z-1", D(2025, 5, 1), "100.00")  # nobody's
    after = fingerprints(FINAL)
    assert after[CHARLIE] != keys[CHARLIE]
    assert {k: v for k, v in after.items() if k != CHARLIE} == {
        k: v for k, v in keys.items() if k != CHARLIE}


@pytest.mark.django_db
def test_a_fingerprint_is_the_same_alone_and_in_the_batch(world):
    together = fingerprints(FINAL)
    for person in world.values():
        planned = selectors.plans_for(Q2, [person])
        assert fingerprint_sql.input_fingerprints(Q2, FINAL, planned) == {
            person.id: together[person.email]}


@pytest.mark.django_db
def test_cleared_fingerprints_recompute_everyone_to_the_same_figures(world):
    warm = recompute_and_check(FINAL)
    AttainmentSnapshot.objects.update(inputs_digest="cleared")
    cold = recompute_and_check(FINAL)
    assert cold == warm
    assert AttainmentSnapshot.objects.exclude(inputs_digest="cleared").count() == len(warm)
