"""What-if figures by the plans' own rules, writing nothing (issue 12: what-if)."""

import datetime
from decimal import Decimal

import pytest

from accounts.models import Deal
from accounts.quarters import Quarter
from payouts import rules, whatif
from payouts.models import AttainmentSnapshot, PersonPlan
from tests.conftest import assign, make_account, usage

D = datetime.date
Q2 = Quarter.parse("2025Q2")
MID_JUNE = D(2025, 6, 15)


@pytest.fixture
def pipeline(people):
    """charlie (AE, target pay 12,500.00, quota 50,000: rate 0.25) won 20,000 of new annual
    ARR on 1 May and has two open deals."""
    charlie = people["charlie"]
    PersonPlan.objects.create(person=charlie, quarter="2025Q2", plan="ae_commission",
                              quota=Decimal("50000"))
    acc = make_account("NEW-1", billing="annual")
    assign(acc, charlie, role="ae", start=D(2025, 4, 1))
    Deal.objects.create(external_id="D-WON", account=acc, owner=charlie, kind="new_annual",
                        arr=Decimal("20000"), stage="won", created_on=D(2025, 3, 1),
                        closed_on=D(2025, 5, 1))
    big = Deal.objects.create(external_id="D-BIG", account=acc, owner=charlie,
                              kind="expansion_annual", arr=Decimal("10000"), stage="proposal",
                              created_on=D(2025, 5, 1))
    Deal.objects.create(external_id="D-SMALL", account=acc, owner=charlie, kind="new_annual",
                        arr=Decimal("2000"), stage="demo", created_on=D(2025, 5, 1))
    return charlie, big


@pytest.mark.django_db
def test_an_ae_sees_what_each_open_deal_would_add_if_it_closed_this_quarter(pipeline):
    charlie, big = pipeline
    inputs = whatif.inputs_of(charlie, Q2, MID_JUNE)
    now = rules.compute(inputs)
    rows = whatif.open_deals(charlie, inputs)
    assert (now.amount, now.metric) == (Decimal("5000.00"), Decimal("0.4"))
    assert [(r.external_id, r.arr, r.amount, r.amount_change, r.metric) for r in rows] == [
        # 10,000 x 0.25 = 2,500.00 more; attainment (20,000 + 10,000) / 50,000
        ("D-BIG", Decimal("10000"), Decimal("7500.00"), Decimal("2500.00"), Decimal("0.6")),
        ("D-SMALL", Decimal("2000"), Decimal("5500.00"), Decimal("500.00"), Decimal("0.44")),
    ]
    # Another ARR typed for a deal: 36,000 x 0.25 = 9,000.00 more.
    rows = whatif.open_deals(charlie, inputs, arr_of={big.id: Decimal("36000")})
    assert (rows[0].arr, rows[0].amount, rows[0].metric) == (
        Decimal("36000"), Decimal("14000.00"), Decimal("1.12"))
    assert not AttainmentSnapshot.objects.exists()  # nothing was written


@pytest.mark.django_db
def test_a_csm_sees_their_bonus_if_an_account_churned_or_recovered(people):
    # alice (CSM, target pay 2,500.00; retention above 100%, target 120%). Two accounts,
    # each $1,000 a month before the quarter (baseline 24,000 together). In the quarter,
    # to mid-June: GROW at 1,300 a month (end ARR 15,600), DROP at 500 (6,000): retention
    # 0.9, no bonus.
    alice = people["alice"]
    grow, drop = make_account("GROW"), make_account("DROP")
    for acc, q2 in ((grow, "1300.00"), (drop, "500.00")):
        assign(acc, alice, start=D(2024, 1, 1))
        for month in (1, 2, 3):
            usage(acc, D(2025, month, 1), "1000.00")
        for month in (4, 5):
            usage(acc, D(2025, month, 1), q2)
    (row,) = whatif.accounts(whatif.inputs_of(alice, Q2, MID_JUNE), [drop.id])
    assert row.external_id == "DROP"
    # Churned now: DROP's end ARR is 4 x 1,000 (no revenue after mid-June): still no bonus.
    assert row.if_churned == Decimal("0.00")
    # Back to its baseline (12,000): retention 27,600 / 24,000 = 1.15, fraction
    # (1.15 - 1) / (1.2 - 1) = 0.75, x 2,500.00 = 1,875.00.
    assert row.if_recovered == Decimal("1875.00")
    assert not AttainmentSnapshot.objects.exists()


@pytest.mark.django_db
def test_the_what_if_page_shows_an_ae_their_open_deals_and_takes_another_arr(
    pipeline, users, client_for
):
    from django.urls import reverse

    charlie, big = pipeline
    url = reverse("person_what_if", args=[charlie.id])
    day = {"on": MID_JUNE.isoformat()}
    html = client_for("charlie").get(url, day).content.decode()
    assert "Commission now" in html and "$5,000.00" in html and "40.00%" in html
    assert "D-BIG" in html and "Expansion annual" in html and "Proposal" in html
    assert "$7,500.00" in html and "+$2,500.00" in html and "60.00%" in html
    typed = client_for("charlie").get(url, {**day, f"arr-{big.id}": "36,000"}).content.decode()
    assert "$14,000.00" in typed and "+$9,000.00" in typed and "112.00%" in typed
    bad = client_for("charlie").get(url, {**day, f"arr-{big.id}": "lots"}).content.decode()
    assert "&#x27;lots&#x27; is not an amount: write ARR like 48000 or 48,000.00" in bad
    assert "$7,500.00" in bad  # the deal's own ARR is used instead
    assert client_for("alice").get(url).status_code == 404  # not hers to see
