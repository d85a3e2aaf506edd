"""The attainment, at-risk and recompute pages: the figures of the stored snapshot, to the
cent, adding up; who may see them; what changed between two snapshots and why."""

import datetime
import html as html_module
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Deal, Invoice
from accounts.quarters import Quarter
from compapp.celery import app
from payouts.models import AttainmentSnapshot, PersonPlan, QuotaAmendment, RecomputeRun
from tests.conftest import assign, invoice, make_account
from tests.payouts.test_recompute import alice_book  # noqa: F401  (the CSM book worked by hand)
from tests.payouts.test_risk import risky_book  # noqa: F401

D = datetime.date


def recompute(as_of, quarter="2025Q2"):
    call_command("recompute", "--quarter", quarter, "--as-of", as_of, stdout=io.StringIO())


def attainment_json(quarter="2025Q2"):
    out = io.StringIO()
    call_command("attainment", quarter, "--format", "json", stdout=out)
    return {row["email"]: row for row in json.loads(out.getvalue())}


def page(client, person, quarter="2025Q2"):
    url = reverse("person_attainment", args=[person.id])
    return client.get(url, {"quarter": quarter} if quarter else {})


def text(response) -> str:
    return response.content.decode()


def dollars(cell: str) -> Decimal:
    """'$1,234.56' or '-$1,234.56' as a Decimal."""
    cell = re.sub(r"<[^>]+>", "", cell).strip()
    sign = -1 if cell.startswith("-") else 1
    return sign * Decimal(cell.lstrip("+-").lstrip("$").replace(",", ""))


def table(html: str, css_class: str) -> str:
    match = re.search(rf'<table[^>]*class="[^"]*\b{css_class}\b[^"]*"[^>]*>(.*?)</table>', html,
                      re.S)
    assert match, f"no table {css_class}"
    return match.group(1)


def row(html: str, external_id: str) -> list[str]:
    """The cells of the accounts table's row of one account."""
    match = re.search(rf'<tr[^>]*data-account="{external_id}"[^>]*>(.*?)</tr>',
                      table(html, "attainment-accounts"), re.S)
    assert match, f"no row for {external_id}"
    return re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)


def money_cells(fragment: str) -> list[Decimal]:
    return [dollars(c) for c in re.findall(r'<td class="num"[^>]*>(.*?)</td>', fragment, re.S)]


# ---------------------------------------------------------------------------------------
# The figures


@pytest.mark.django_db
def test_alices_page_shows_the_amount_of_the_attainment_json(alice_book, client_for):  # noqa: F811
    recompute("2025-07-14")
    assert attainment_json()["alice@example.com"]["amount"] == "1250.00"
    response = client_for("alice").get(reverse("my_attainment"), {"quarter": "2025Q2"})
    assert response.status_code == 200
    html = text(response)
    assert re.search(r'id="amount">\$1,250\.00<', html)
    assert re.search(r'id="fraction">50\.000000%|id="fraction">50\.00%', html)
    assert "of $2,500.00 quarterly target pay" in html
    assert "110.00%" in html  # revenue retention


@pytest.mark.django_db
def test_each_account_shows_its_contribution_and_they_add_up_to_the_amount(
    alice_book, client_for  # noqa: F811
):
    recompute("2025-07-14")
    html = text(page(client_for("alice"), alice_book))
    # Contribution = (end - baseline) x $2,500 / (36,000 x 0.2):
    # A-1 (13,200 - 12,000) -> $416.67; A-2 (26,400 - 24,000) -> $833.33; A-3 left: $0.00.
    a1, a2, a3 = row(html, "A-1"), row(html, "A-2"), row(html, "A-3")
    assert dollars(a1[5]) == Decimal("416.67") and "$12,000.00" in a1[1]
    assert "2025-01 to 2025-03" in a1[1] and dollars(a1[3]) == Decimal("13200.00")
    assert dollars(a2[5]) == Decimal("833.33")
    assert dollars(a3[5]) == Decimal("0.00") and "left the book" in a3[7]
    assert 'href="/accounts/' in a1[0]
    parts = money_cells(table(html, "adds-up"))
    assert sum(parts) == Decimal("1250.00")
    assert re.search(r'id="adds-up-total">\$1,250\.00<', html)


@pytest.mark.django_db
def test_adjustments_and_rounding_make_a_projection_add_up(alice_book, client_for):  # noqa: F811
    recompute("2025-05-10")
    html = text(page(client_for("alice"), alice_book))
    # Baselines 42,000 (A-3 still in the book), end 39,600: retention 94.29% pays $0.00.
    # Contributions x $2,500 / 8,400: A-1 $357.14, A-2 $714.29, A-3 -$1,785.71; the floor
    # adds back $714.29; printed to the cent they leave -$0.01 of rounding.
    assert [dollars(row(html, x)[5]) for x in ("A-1", "A-2", "A-3")] == [
        Decimal("357.14"), Decimal("714.29"), Decimal("-1785.71")]
    adds_up = table(html, "adds-up")
    assert "Floor or cap" in adds_up and "Rounding" in adds_up
    assert money_cells(adds_up) == [Decimal("-714.28"), Decimal("714.29"), Decimal("-0.01")]
    assert sum(money_cells(adds_up)) == Decimal("0.00")
    assert re.search(r'id="adds-up-total">\$0\.00<', html)


@pytest.mark.django_db
def test_a_projection_says_projected_and_how(alice_book, client_for):  # noqa: F811
    recompute("2025-05-10")
    html = text(page(client_for("alice"), alice_book))
    assert 'class="badge amber status-projected">projected<' in html
    assert "status-final" not in html
    assert "until the cutoff on 2025-07-14" in html
    assert "open invoices count, marked unpaid" in html
    assert html.count("Projected as of 2025-05-10") == 1  # said once, not twice


@pytest.mark.django_db
def test_final_figures_say_final(alice_book, client_for):  # noqa: F811
    recompute("2025-07-14")
    html = text(page(client_for("alice"), alice_book))
    assert 'class="badge green status-final">final<' in html
    assert "status-projected" not in html


@pytest.mark.django_db
def test_the_curve_shows_floor_target_and_where_alice_stands(alice_book, client_for):  # noqa: F811
    recompute("2025-07-14")
    html = text(page(client_for("alice"), alice_book))
    assert "<svg" in html and "floor 100%" in html and "target 120%" in html
    assert "110.00% → 50.00%" in html
    assert "uncapped" in html


@pytest.mark.django_db
def test_the_payout_lines_add_up_to_the_amount(alice_book, client_for):  # noqa: F811
    recompute("2025-07-14")
    html = text(page(client_for("alice"), alice_book))
    lines = table(html, "payout-lines")
    assert "Retention bonus" in lines
    assert money_cells(lines) == [Decimal("1250.00")]


@pytest.mark.django_db
def test_without_a_snapshot_the_page_says_so_and_offers_a_manager_the_recompute(
    people, client_for
):
    # 2025Q2 is long past: no nightly run will come, so the page does not promise one.
    html = text(page(client_for("alice"), people["alice"]))
    assert ("No figures have been computed for Alice in 2025Q2. The nightly job computes only "
            "the current quarter (and the previous one until its cutoff): a manager, finance "
            "or RevOps can recompute 2025Q2.") in " ".join(html.split())
    assert "nightly recompute" not in html
    assert reverse("recompute") + "?quarter=2025Q2" not in html
    html = text(page(client_for("maria"), people["alice"]))
    assert reverse("recompute") + "?quarter=2025Q2" in html
    # The current quarter: the nightly job will compute it.
    current = Quarter.containing(datetime.date.today())
    html = text(client_for("alice").get(f"/attainment/?quarter={current}"))
    assert f"No figures have been computed for Alice in {current} yet. They appear after the" \
        in " ".join(html.split())
    # A person without a plan: nothing to compute, nothing promised.
    html = text(client_for("maria").get(f"/people/{people['maria'].id}/attainment/"))
    assert f"Maria has no plan in {current}: there is nothing to compute." in html


@pytest.mark.django_db
def test_the_page_never_recomputes(alice_book, client_for):  # noqa: F811
    recompute("2025-07-14")
    Invoice.objects.filter(external_id="A1-6").update(status="open", paid_on=None)
    html = text(page(client_for("alice"), alice_book))
    assert re.search(r'id="amount">\$1,250\.00<', html)
    assert AttainmentSnapshot.objects.filter(person=alice_book).count() == 1


@pytest.mark.django_db
def test_earlier_quarters_are_listed_with_their_latest_figures(alice_book, client_for):  # noqa: F811
    recompute("2025-07-14")
    recompute("2025-09-30", quarter="2025Q3")
    html = text(page(client_for("alice"), alice_book, quarter="2025Q3"))
    earlier = table(html, "previous-quarters")
    assert "2025Q2" in earlier and "$1,250.00" in earlier and "final" in earlier


# ---------------------------------------------------------------------------------------
# Who may see it


@pytest.mark.django_db
@pytest.mark.parametrize("viewer, status", [
    ("alice", 200), ("bob", 404), ("maria", 200), ("omar", 404), ("fiona", 200), ("rita", 200),
])
def test_only_alice_her_managers_finance_and_revops_see_her_figures(
    alice_book, client_for, viewer, status  # noqa: F811
):
    recompute("2025-07-14")
    response = page(client_for(viewer), alice_book)
    assert response.status_code == status
    if status == 200:
        assert "$1,250.00" in text(response)
    at_risk = client_for(viewer).get(reverse("person_at_risk", args=[alice_book.id]))
    assert at_risk.status_code == status


@pytest.mark.django_db
def test_a_malformed_quarter_is_not_found(people, client_for):
    assert page(client_for("alice"), people["alice"], quarter="2025Q9").status_code == 404


# ---------------------------------------------------------------------------------------
# What changed since the previous snapshot


@pytest.mark.django_db
def test_it_names_an_invoice_paid_since_the_previous_snapshot(alice_book, client_for):  # noqa: F811
    Invoice.objects.filter(external_id="A1-5").update(status="open", paid_on=None)
    recompute("2025-06-10")
    Invoice.objects.filter(external_id="A1-5").update(status="paid", paid_on=D(2025, 6, 12))
    recompute("2025-06-15")
    html = text(page(client_for("alice"), alice_book))
    # The invoice is linked to its row on the account's page.
    a1 = Invoice.objects.get(external_id="A1-5").account_id
    assert (f'invoice <a href="/accounts/{a1}/?invoice=A1-5#invoices">A1-5</a> paid on '
            "2025-06-12: +$1,100.00") in html
    assert "The as-of date moved from 2025-06-10 to 2025-06-15" in html
    # Open invoices count in a projection: paying it changes what is unpaid, not the amount.
    assert re.search(r'id="amount-delta">\$0\.00<', html)


@pytest.mark.django_db
def test_a_late_recorded_payment_is_named_with_the_change_it_made(alice_book, client_for):  # noqa: F811
    Invoice.objects.filter(external_id="A1-6").update(status="open", paid_on=None)
    recompute("2025-07-14")
    assert attainment_json()["alice@example.com"]["amount"] == "0.00"
    # The billing export catches up: A1-6 was paid on 10 July, before the cutoff.
    Invoice.objects.filter(external_id="A1-6").update(status="paid", paid_on=D(2025, 7, 10))
    recompute("2025-07-14")
    html = text(page(client_for("alice"), alice_book))
    assert re.search(r'id="amount-delta">\+\$1,250\.00<', html)
    assert "A-1 2025-06: revenue $0.00 → $1,100.00" in html
    assert "A1-6 $1,100.00 paid on 2025-07-10" in re.sub(r"<[^>]+>", "", html)
    a1 = Invoice.objects.get(external_id="A1-6").account_id
    assert f'<a href="/accounts/{a1}/?invoice=A1-6#invoices">A1-6</a> $1,100.00' in html
    changes = table(html, "attainment-changes")
    # A-1's end ARR: 4 x (1,100 + 1,100) = 8,800 -> 13,200.
    assert "$8,800.00" in changes and "$13,200.00" in changes and "+$4,400.00" in changes


@pytest.mark.django_db
def test_the_first_snapshot_has_nothing_to_compare_with(alice_book, client_for):  # noqa: F811
    recompute("2025-07-14")
    html = text(page(client_for("alice"), alice_book))
    assert "This is the first snapshot of 2025Q2" in html


# ---------------------------------------------------------------------------------------
# An AE's page


@pytest.fixture
def charlie_deals(people, users):
    """Charlie (AE, $12,500 quarterly target pay), quota $50,000 amended from $40,000: one
    $40,000 deal, a quarter of it paid -> commission $10,000.00, payable $2,500.00."""
    charlie = people["charlie"]
    plan = PersonPlan.objects.create(person=charlie, quarter="2025Q2", plan="ae_commission",
                                     quota=Decimal("50000"))
    QuotaAmendment.objects.create(person_plan=plan, previous_quota=Decimal("40000"),
                                  new_quota=Decimal("50000"), reason="took over B-2 on 1 May",
                                  amended_by=users["omar"])
    acc = make_account("B-1", billing="annual")
    assign(acc, charlie, role="ae", start=D(2024, 1, 1))
    moved = make_account("B-2", billing="annual")
    assign(moved, charlie, role="ae", start=D(2025, 5, 1), inherited=True)
    Deal.objects.create(external_id="D-1", account=acc, owner=charlie, kind="new_annual",
                        arr=Decimal("40000"), stage="won", created_on=D(2025, 3, 1),
                        closed_on=D(2025, 5, 2), payment_schedule="quarterly")
    invoice(acc, "C-1", D(2025, 5, 1), "10000.00", kind="contract", paid_on=D(2025, 5, 20),
            deal_external_id="D-1")
    invoice(acc, "C-2", D(2025, 5, 1), "10000.00", kind="contract", status="open",
            deal_external_id="D-1")
    return charlie


@pytest.mark.django_db
def test_an_ae_sees_deals_quota_amendments_and_moved_accounts(charlie_deals, client_for):
    recompute("2025-07-14")
    html = text(page(client_for("charlie"), charlie_deals))
    deals = table(html, "attainment-deals")
    assert "D-1" in deals and "New annual deals" in deals
    assert "$40,000.00" in deals and "$10,000.00" in deals and "25.00%" in deals
    assert "$2,500.00" in deals
    assert re.search(r'id="amount">\$10,000\.00<', html)
    assert "$7,500.00 waits for contract invoices to be paid" in html
    assert "Quota for 2025Q2: <strong>$50,000.00</strong>" in html
    assert "took over B-2 on 1 May" in html and "$40,000.00" in html
    assert re.search(r"2025-05-01: <a [^>]*>Customer B-2</a>.*moved in \(inherited\)", html)
    assert sum(money_cells(table(html, "adds-up"))) == Decimal("10000.00")


@pytest.mark.django_db
def test_a_contract_invoice_paid_later_is_named_on_the_ae_page(charlie_deals, client_for):
    recompute("2025-06-01")
    Invoice.objects.filter(external_id="C-2").update(status="paid", paid_on=D(2025, 6, 5))
    recompute("2025-06-10")
    html = text(page(client_for("charlie"), charlie_deals))
    assert "invoice C-2 of deal D-1 paid on 2025-06-05: +$10,000.00" in re.sub(
        r"<[^>]+>", "", html)
    b1 = Invoice.objects.get(external_id="C-2").account_id
    assert f'invoice <a href="/accounts/{b1}/?invoice=C-2#invoices">C-2</a> of deal D-1' in html
    assert "deal D-1: payable now $2,500.00 → $5,000.00 (50.00% paid)" in html


# ---------------------------------------------------------------------------------------
# At risk on its own page


@pytest.mark.django_db
def test_the_at_risk_page_ranks_accounts_by_what_their_churn_would_cost(
    risky_book, client_for  # noqa: F811
):
    response = client_for("maria").get(reverse("person_at_risk", args=[risky_book.id]),
                                       {"on": "2025-05-20"})
    html = text(response)
    rows = re.findall(r'data-account="([^"]+)"', table(html, "at-risk"))
    assert rows == ["R-2", "R-4", "R-1", "R-3", "R-5"]
    assert money_cells(table(html, "at-risk")) == [
        Decimal("2000.00"), Decimal("1500.00"), Decimal("1000.00"), Decimal("500.00"),
        Decimal("250.00")]
    assert "invoice R4-APR unpaid 40 days after issue" in html
    assert "5 accounts at risk" in html


# ---------------------------------------------------------------------------------------
# Recompute from the site


@pytest.fixture
def eager_celery():
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["alice", "charlie"])
def test_a_rep_may_not_recompute(people, client_for, viewer):
    client = client_for(viewer)
    assert client.get(reverse("recompute")).status_code == 403
    assert client.post(reverse("recompute"), {"quarter": "2025Q2", "as_of": "2025-07-14"}
                       ).status_code == 403
    assert not RecomputeRun.objects.exists()


@pytest.mark.django_db
def test_a_manager_recomputes_a_quarter_and_follows_its_progress(
    alice_book, client_for, eager_celery, django_capture_on_commit_callbacks  # noqa: F811
):
    client = client_for("maria")
    form = client.get(reverse("recompute"))
    assert form.status_code == 200 and 'name="as_of"' in text(form)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("recompute"), {"quarter": "2025Q2", "as_of": "2025-07-14"})
    run = RecomputeRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("recompute_run", args=[run.id])
    assert run.started_by.username == "maria@example.com"
    # alice and bob (CSMs) and charlie (AE) have a plan.
    progress = client.get(reverse("recompute_progress", args=[run.id])).json()
    assert progress == {"status": "done", "done": 3, "total": 3}
    assert "3</span> of <span id=\"run-total\">3" in text(client.get(response["Location"]))
    assert attainment_json()["alice@example.com"]["amount"] == "1250.00"


@pytest.mark.django_db
def test_a_started_run_shows_its_progress_and_refreshes_itself(people, client_for):
    client = client_for("fiona")
    response = client.post(reverse("recompute"), {"quarter": "2025Q2", "as_of": "2025-07-14"})
    run = RecomputeRun.objects.get()  # fanned out; the tasks wait for the commit
    assert response.status_code == 302
    progress = client.get(reverse("recompute_progress", args=[run.id])).json()
    assert progress == {"status": "running", "done": 0, "total": 3}
    html = text(client.get(reverse("recompute_run", args=[run.id])))
    assert reverse("recompute_progress", args=[run.id]) in html
    assert 'http-equiv="refresh" content="2"' in html
    # A second start while it runs joins it.
    again = client.post(reverse("recompute"), {"quarter": "2025Q2", "as_of": "2025-07-14"})
    assert again["Location"] == reverse("recompute_run", args=[run.id])
    assert RecomputeRun.objects.count() == 1


@pytest.mark.django_db
def test_the_recompute_form_refuses_a_bad_quarter_or_date(people, client_for):
    client = client_for("rita")
    html = text(client.post(reverse("recompute"), {"quarter": "2025Q5", "as_of": "2025-07-14"}))
    assert "is not a quarter like 2025Q2" in html
    html = text(client.post(reverse("recompute"), {"quarter": "2025Q2", "as_of": "2025-03-01"}))
    assert "2025Q2 starts on 2025-04-01" in html
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    html = text(client.post(reverse("recompute"), {"quarter": "2025Q2", "as_of": tomorrow}))
    assert "cannot be in the future" in html
    assert not RecomputeRun.objects.exists()


def test_month_figures_read_alike_whichever_way_they_were_stored():
    from payouts.explain import _month_figures

    mapping = {"accounts": [{"account_id": 1, "revenue": {
        "2025-06-01": {"amount": "1100.00", "history": "1100.00", "unpaid": "0", "late": "0"}}}]}
    compact = {"accounts": [{"account_id": 1, "revenue": {
        "2025-06-01": ["1100.00", None, "0", "0"]}}]}
    assert _month_figures(mapping) == _month_figures(compact) == {
        (1, D(2025, 6, 1)): (Decimal("1100.00"), Decimal("1100.00"), Decimal("0"), Decimal("0"))}


@pytest.mark.django_db
def test_an_aes_page_says_at_a_glance_why_commission_and_attainment_differ(
    people, users, client_for
):
    # charlie: target pay 12,500.00, quota 50,000 (rate 25% of ARR). Won 20,000 of new annual
    # ARR; an annual customer's contract of 12,000 ended on 31 May, not renewed (churn).
    from django.core.management import call_command

    from accounts.models import Deal
    from payouts.models import PersonPlan
    from tests.conftest import assign, make_account

    charlie = people["charlie"]
    PersonPlan.objects.create(person=charlie, quarter="2025Q2", plan="ae_commission",
                              quota=Decimal("50000"))
    gone = make_account("GONE", billing="annual", annual_contract_value=Decimal("12000"),
                        contract_end=D(2025, 5, 31))
    assign(gone, charlie, role="ae", start=D(2024, 1, 1))
    new = make_account("NEW", billing="annual")
    assign(new, charlie, role="ae", start=D(2025, 4, 1))
    Deal.objects.create(external_id="D-1", account=new, owner=charlie, kind="new_annual",
                        arr=Decimal("20000"), stage="won", created_on=D(2025, 3, 1),
                        closed_on=D(2025, 5, 1))
    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-20",
                 stdout=io.StringIO())
    html = client_for("charlie").get("/attainment/?quarter=2025Q2").content.decode()
    why = re.search(r'<p class="card why-two" id="why-two">(.*?)</p>', html, re.S).group(1)
    assert html_module.unescape(" ".join(why.split())) == (
        "Commission pays each bucket's ARR at its rate: $5,000.00, 40.00% of quarterly target "
        "pay. Attainment is the ARR added, $8,000.00, over the quota: 16.00%. Churn "
        "($12,000.00 of ARR) lowers attainment, not commission: that is why the two "
        "percentages differ."
    )
    assert "New annual deals" in html and "$20,000.00 of ARR × 25.00%" in html
    assert "Against the plan's curve" not in html  # an AE's pay is not a curve
    assert "0.250000" not in html  # the deal's rate reads as a share of ARR


# ---------------------------------------------------------------------------------------
# Change at a glance: each headline card against the previous computation and last quarter


def glance(html: str) -> str:
    match = re.search(r'<div class="card glance" id="glance">(.*?)</div>', html, re.S)
    assert match, "no change-at-a-glance card"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def card_deltas(html: str, figure: str) -> list[str]:
    match = re.search(rf'<div class="figure {figure}">(.*?)</ul>', html, re.S)
    assert match, f"no changes on the {figure} card"
    return [re.sub(r"<[^>]+>", "", item).strip()
            for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


@pytest.mark.django_db
def test_each_headline_card_shows_its_change_since_the_previous_computation(
        alice_book, client_for):  # noqa: F811
    Invoice.objects.filter(external_id="A1-6").update(status="open", paid_on=None)
    recompute("2025-07-14")
    Invoice.objects.filter(external_id="A1-6").update(status="paid", paid_on=D(2025, 7, 10))
    recompute("2025-07-14")
    first, latest = AttainmentSnapshot.objects.filter(person=alice_book).order_by("computed_at")
    when = f"{first.computed_at:%Y-%m-%d %H:%M}"
    html = text(page(client_for("alice"), alice_book))
    # $0.00 -> $1,250.00 and 0% -> 50% of target pay, once A1-6's $1,100.00 counts as paid
    # by the cutoff (retention 97.78% -> 110.00%).
    assert card_deltas(html, "amount") == [f"+$1,250.00 since {when}"]
    assert card_deltas(html, "fraction") == [f"+50.00 points since {when}"]
    # Only A-1's contribution moved (A-2's is the same both times), by what the table of
    # what changed below gives for it.
    assert glance(html) == (f"Since the computation of {when} UTC, the largest moves: "
                            "Customer A-1 +$1,527.78.")
    changes = table(html, "attainment-changes")
    assert re.search(r'A-1.*?\+\$1,527\.78', changes, re.S)


@pytest.mark.django_db
def test_each_headline_card_shows_its_change_against_last_quarter(alice_book, client_for):  # noqa: F811
    recompute("2025-04-14", quarter="2025Q1")
    recompute("2025-07-14")
    q1, q2 = attainment_json("2025Q1")["alice@example.com"], attainment_json()["alice@example.com"]
    html = text(page(client_for("alice"), alice_book))
    change = Decimal(q2["amount"]) - Decimal(q1["amount"])
    sign = "+" if change > 0 else "-"
    assert card_deltas(html, "amount") == [f"{sign}${abs(change):,.2f} vs 2025Q1"]
    points = (Decimal(q2["bonus_fraction"]) - Decimal(q1["bonus_fraction"])) * 100
    shown = "no change" if not points else f"{'+' if points > 0 else ''}{points:.2f} points"
    assert card_deltas(html, "fraction") == [f"{shown} vs 2025Q1"]
    assert glance(html).startswith("Against 2025Q1 (final)")
