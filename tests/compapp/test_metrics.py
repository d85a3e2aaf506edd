"""The metrics page (SPEC 8) with figures worked by hand, as of 15 May 2025: the last four
quarters are 2024Q3, 2024Q4, 2025Q1 and 2025Q2 (to date)."""

import csv
import datetime
import io
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Deal, Lead
from accounts.quarters import Quarter
from compapp.workspace import metrics
from tests.conftest import invoice, make_account, make_person, usage

D = datetime.date
AS_OF = D(2025, 5, 15)
QUARTERS = ["2024Q3", "2024Q4", "2025Q1", "2025Q2"]


def deal(external_id, account, owner, stage, *, created, closed=None, demo=None, arr="1000",
         probability=None):
    return Deal.objects.create(
        external_id=external_id, account=account, owner=owner, kind="new_annual",
        arr=Decimal(arr), stage=stage, created_on=created, demo_on=demo, closed_on=closed,
        probability=None if probability is None else Decimal(probability),
    )


def lead(external_id, owner, segment, created):
    return Lead.objects.create(external_id=external_id, owner=owner, segment=segment,
                               created_on=created)


@pytest.fixture
def world(people):
    """Two $20k+ accounts, one SMB account; Charlie's and Dave's deals; leads."""
    charlie = people["charlie"]
    dave = make_person("dave@example.com", roles=["ae"], team="sales", manager=people["omar"])
    big1 = make_account("BIG-1", name="Big One", segment="20k+", billing="annual")
    big2 = make_account("BIG-2", name="Big Two", segment="20k+")
    small = make_account("SMALL-1", name="Small One", segment="smb")

    # BIG-1 (usage rows): 2024Q3 3 x 1,000; 2025Q1 2,000; 2025Q2 2,500 + 2,600 (May).
    for month, amount in ((D(2024, 7, 1), "1000"), (D(2024, 8, 1), "1000"),
                          (D(2024, 9, 1), "1000"), (D(2025, 1, 1), "2000"),
                          (D(2025, 4, 1), "2500"), (D(2025, 5, 1), "2600")):
        usage(big1, month, amount)
    # A usage invoice in a month with a usage row: the row wins, the invoice is not added.
    invoice(big1, "I-BIG1-07", D(2024, 7, 1), "300")
    # BIG-2 (usage invoices): 500 paid + 700 open in 2024Q4; a void one and a contract
    # invoice never count; May 2025's is issued after the as-of day.
    invoice(big2, "I-BIG2-10", D(2024, 10, 1), "500")
    invoice(big2, "I-BIG2-11", D(2024, 11, 1), "700", status="open")
    invoice(big2, "I-BIG2-12", D(2024, 12, 1), "999", status="void")
    invoice(big2, "I-BIG2-C", D(2024, 12, 1), "5000", kind="contract")
    invoice(big2, "I-BIG2-05", D(2025, 5, 1), "800", status="open", issued_on=D(2025, 5, 31))
    # SMALL-1 is not $20k+.
    usage(small, D(2025, 1, 1), "10000")

    # 2024Q4: won with demo (30 days), lost with demo, won without demo (30 days), lost
    # without demo.
    deal("D1", big1, charlie, "won", created=D(2024, 10, 1), closed=D(2024, 10, 31),
         demo=D(2024, 10, 5), probability="1")
    deal("D2", big1, charlie, "lost", created=D(2024, 10, 1), closed=D(2024, 11, 15),
         demo=D(2024, 10, 10), probability="0")
    deal("D3", big2, charlie, "won", created=D(2024, 11, 1), closed=D(2024, 12, 1),
         probability="1")
    deal("D4", big2, charlie, "lost", created=D(2024, 11, 1), closed=D(2024, 12, 5),
         probability="0")
    # 2025Q1: three won with demo (40, 50 and 29 days), one lost with demo (SMB).
    deal("D5", big1, charlie, "won", created=D(2024, 12, 1), closed=D(2025, 1, 10),
         demo=D(2024, 12, 10), arr="10000", probability="1")
    deal("D6", big2, dave, "won", created=D(2025, 1, 1), closed=D(2025, 2, 20),
         demo=D(2025, 1, 15), probability="1")
    deal("D7", big2, dave, "won", created=D(2025, 2, 1), closed=D(2025, 3, 2),
         demo=D(2025, 2, 10), probability="1")
    deal("D8", small, dave, "lost", created=D(2025, 1, 5), closed=D(2025, 3, 10),
         demo=D(2025, 2, 1), probability="0")
    # 2025Q2 to date: two won with demo (10 and 60 days); one won after the as-of day.
    deal("D9", big1, charlie, "won", created=D(2025, 4, 1), closed=D(2025, 4, 11),
         demo=D(2025, 4, 5), probability="1")
    deal("D10", big1, dave, "won", created=D(2025, 3, 1), closed=D(2025, 4, 30),
         demo=D(2025, 3, 20), arr="12000", probability="1")
    deal("D11", big2, charlie, "won", created=D(2025, 4, 15), closed=D(2025, 5, 20),
         demo=D(2025, 4, 20), arr="4000", probability="1")
    # Open deals: 10,000 x 0.1 + 20,000 x 0.3 (Charlie), 50,000 x 0.6 + 8,000 x none (Dave).
    deal("P1", big1, charlie, "lead", created=D(2025, 4, 1), arr="10000", probability="0.1")
    deal("P2", big2, charlie, "demo", created=D(2024, 12, 15), arr="20000", probability="0.3",
         closed=D(2025, 6, 30))  # an open deal's close date is only expected
    deal("P3", big2, dave, "proposal", created=D(2025, 2, 1), arr="50000", probability="0.6")
    deal("P4", small, dave, "proposal", created=D(2025, 2, 1), arr="8000")

    for i, (segment, created) in enumerate([
        ("20k+", D(2024, 7, 3)), ("20k+", D(2024, 9, 30)), ("smb", D(2025, 1, 2)),
        ("smb", D(2025, 2, 2)), ("smb", D(2025, 3, 31)), ("20k+", D(2025, 4, 1)),
        ("20k+", D(2025, 5, 20)),  # after the as-of day
        ("20k+", D(2024, 6, 30)),  # before the four quarters
    ]):
        lead(f"L-{i}", charlie, segment, created)
    return dict(charlie=charlie, dave=dave, big1=big1, big2=big2, small=small)


@pytest.mark.django_db
def test_the_four_quarters_end_with_the_as_of_days_quarter():
    assert [str(q) for q in metrics.metric_quarters(AS_OF)] == QUARTERS
    assert [str(q) for q in metrics.metric_quarters(D(2025, 1, 1))] == [
        "2024Q2", "2024Q3", "2024Q4", "2025Q1"]


@pytest.mark.django_db
def test_revenue_of_the_20k_segment_by_quarter(world):
    rows = metrics.segment_revenue("20k+", metrics.metric_quarters(AS_OF), AS_OF)
    # 2024Q3: BIG-1's usage rows 3 x 1,000 (its invoice of 300 in July is not added: the
    # usage row is the month's revenue). 2024Q4: BIG-2's usage invoices 500 + 700 (open
    # counts; the void 999 and the contract 5,000 do not). 2025Q1: 2,000. 2025Q2 to date:
    # 2,500 + 2,600 (BIG-2's May invoice is issued after the as-of day).
    assert [(str(r.quarter), r.revenue, r.to_date) for r in rows] == [
        ("2024Q3", Decimal("3000.00"), False),
        ("2024Q4", Decimal("1200.00"), False),
        ("2025Q1", Decimal("2000.00"), False),
        ("2025Q2", Decimal("5100.00"), True),
    ]
    assert all(isinstance(r.revenue, Decimal) for r in rows)


@pytest.mark.django_db
def test_closed_won_rate_from_demo_and_median_time_to_close(world):
    rows = metrics.closed_deals(metrics.metric_quarters(AS_OF), AS_OF)
    by_quarter = {str(r.quarter): r for r in rows}
    assert by_quarter["2024Q3"].win_rate is None and by_quarter["2024Q3"].median_days is None
    # 2024Q4: D1 won, D2 lost among deals with a demo: 1 / 2. Won: D1 and D3, 30 days each.
    q4 = by_quarter["2024Q4"]
    assert (q4.won, q4.lost, q4.win_rate) == (1, 1, Decimal("0.5"))
    assert (q4.median_days, q4.won_counted) == (Decimal("30"), 2)
    # 2025Q1: D5, D6, D7 won and D8 lost: 3 / 4. Median of 40, 50 and 29 days: 40.
    q1 = by_quarter["2025Q1"]
    assert (q1.won, q1.lost, q1.win_rate) == (3, 1, Decimal("0.75"))
    assert q1.median_days == Decimal("40")
    # 2025Q2 to date: D9 (10 days) and D10 (60 days) won; D11 closes after the as-of day.
    q2 = by_quarter["2025Q2"]
    assert (q2.won, q2.lost, q2.win_rate, q2.to_date) == (2, 0, Decimal(1), True)
    assert q2.median_days == Decimal("35")


@pytest.mark.django_db
def test_the_segment_filter_reads_the_deals_accounts_and_the_leads_segment(world):
    quarters = metrics.metric_quarters(AS_OF)
    smb = {str(r.quarter): r for r in metrics.closed_deals(quarters, AS_OF, "smb")}
    assert (smb["2025Q1"].won, smb["2025Q1"].lost, smb["2025Q1"].win_rate) == (0, 1, Decimal(0))
    assert smb["2024Q4"].decided == 0
    leads = metrics.lead_volume(quarters, AS_OF, "smb")
    assert leads.rows == [("smb", [0, 0, 3, 0])]
    revenue = metrics.segment_revenue("smb", quarters, AS_OF)
    assert [r.revenue for r in revenue] == [Decimal(0), Decimal(0), Decimal("10000.00"),
                                            Decimal(0)]


@pytest.mark.django_db
def test_lead_volume_per_segment_by_quarter_of_creation(world):
    volume = metrics.lead_volume(metrics.metric_quarters(AS_OF), AS_OF)
    # The lead of 20 May (after the as-of day) and the one of June 2024 are outside.
    assert volume.rows == [("20k+", [2, 0, 0, 1]), ("smb", [0, 0, 3, 0])]
    assert volume.totals == [2, 0, 3, 1]


@pytest.mark.django_db
def test_weighted_pipeline_by_owner_and_stage_and_on_each_quarters_last_day(world):
    pipeline = metrics.weighted_pipeline(metrics.metric_quarters(AS_OF), AS_OF)
    # On 15 May: Charlie's lead 10,000 x 0.1 = 1,000 and demo 20,000 x 0.3 = 6,000, and D11
    # (won on 20 May, open on the 15th) 4,000 x 1; Dave's proposals 50,000 x 0.6 = 30,000
    # and 8,000 without a probability, 0.
    rows = [(r.owner, {k: v for k, v in r.by_stage.items()}, r.deals, r.weighted)
            for r in pipeline.rows]
    assert rows == [
        ("Dave", {"proposal": Decimal("30000")}, 2, Decimal("30000")),
        ("Charlie", {"lead": Decimal("1000"), "demo": Decimal("6000"),
                     "closed_later": Decimal("4000")}, 3, Decimal("11000")),
    ]
    assert pipeline.stages == ["lead", "demo", "proposal", "closed_later"]
    assert pipeline.total == Decimal("41000")
    # 30 Sep 2024: nothing created yet. 31 Dec 2024: P2 6,000 and D5 (closed 10 Jan)
    # 10,000. 31 Mar 2025: P2 6,000 + P3 30,000 + P4 0 + D10 (closed 30 Apr) 12,000.
    # 15 May 2025: 41,000 as above.
    assert [(str(q), day, value) for q, day, value in pipeline.trend] == [
        ("2024Q3", D(2024, 9, 30), Decimal("0")),
        ("2024Q4", D(2024, 12, 31), Decimal("16000")),
        ("2025Q1", D(2025, 3, 31), Decimal("48000")),
        ("2025Q2", AS_OF, Decimal("41000")),
    ]


@pytest.mark.django_db
def test_metrics_take_a_fixed_number_of_queries(world, django_assert_num_queries):
    with django_assert_num_queries(7):
        metrics.metrics_for(AS_OF)
    # Ten times the deals, leads and accounts: the same queries.
    for i in range(30):
        account = make_account(f"MORE-{i}", segment="20k+" if i % 2 else "smb")
        usage(account, D(2025, 1, 1), "100")
        deal(f"MD-{i}", account, world["dave"], "won", created=D(2025, 1, 1),
             closed=D(2025, 2, 1), demo=D(2025, 1, 10))
        deal(f"MP-{i}", account, world["charlie"], "demo", created=D(2025, 1, 1),
             probability="0.5")
        lead(f"ML-{i}", world["charlie"], "smb", D(2025, 2, 1))
    with django_assert_num_queries(7):
        found = metrics.metrics_for(AS_OF)
    assert found.revenue[2].revenue == Decimal("2000.00") + 15 * Decimal("100.00")


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.django_db
def test_a_rep_opens_the_metrics_page_with_its_charts(world, client_for):
    response = client_for("alice").get(reverse("metrics"), {"on": "2025-05-15"})
    assert response.status_code == 200
    html = response.content.decode()
    text = page_text(response)
    assert "Revenue from the 20k+ segment" in text
    assert "$3,000.00 $1,200.00 $2,000.00 $5,100.00" in text
    assert "50.0% 1 won / 2" in text and "75.0% 3 won / 4" in text
    assert "30 days" in text and "40 days" in text and "35 days" in text
    # The change compares the last two complete quarters: 2024Q4 -> 2025Q1.
    assert "Change 2024Q4 → 2025Q1" in text
    assert "+$800.00" in text and "+25.0 pts" in text
    assert "$41,000.00 on 2025-05-15" in text
    for chart_id in ("chart-revenue", "chart-win-rate", "chart-time-to-close", "chart-leads",
                     "chart-pipeline-trend", "chart-pipeline-owners"):
        assert f'data-chart="{chart_id}"' in html
        island = re.search(
            rf'<script id="{chart_id}" type="application/json">(.*?)</script>', html, re.S)
        assert island, chart_id
        json.loads(island.group(1))
    revenue = json.loads(re.search(
        r'<script id="chart-revenue" type="application/json">(.*?)</script>', html,
        re.S).group(1))
    assert revenue["labels"] == QUARTERS
    assert revenue["datasets"][0]["data"] == ["3000.00", "1200.00", "2000.00", "5100.00"]
    assert "static/vendor/chartjs/chart.umd.js" in html and "static/js/charts.js" in html
    # A rep may not open other people's books: owners are not links for her.
    assert reverse("person_book", args=[world["dave"].id]) not in html


@pytest.mark.django_db
def test_the_page_filters_by_segment(world, client_for):
    response = client_for("rita").get(reverse("metrics"), {"on": "2025-05-15",
                                                           "segment": "smb"})
    text = page_text(response)
    assert "Revenue from the smb segment" in text
    assert "$0.00 $0.00 $10,000.00 $0.00" in text
    assert "segment smb" in text
    # RevOps may open every book: owners link to them.
    assert reverse("person_book", args=[world["dave"].id]) in response.content.decode()


@pytest.mark.django_db
def test_the_pipeline_exports_to_csv(world, client_for):
    response = client_for("rita").get(reverse("metrics"), {
        "on": "2025-05-15", "_export": "csv", "_table": "pipe-"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Owner", "Open deals", "ARR", "Lead", "Demo", "Proposal",
                       "Won or lost later", "Weighted pipeline"]
    assert rows[1] == ["Dave", "2", "58000.00", "0.00", "0.00", "30000.00", "0.00", "30000.00"]
    assert rows[2] == ["Charlie", "3", "34000.00", "1000.00", "6000.00", "0.00", "4000.00",
                       "11000.00"]


@pytest.mark.django_db
def test_a_quarter_with_no_data_shows_dashes_not_errors(people, client_for):
    response = client_for("alice").get(reverse("metrics"))
    assert response.status_code == 200
    assert "No open deals." in page_text(response)
    assert Quarter.containing(datetime.date.today()).__str__() in page_text(response)
