"""The weekly stand-ups (SPEC 8): one AE of the region picked at random, every AE once before
anyone twice; the picked AE's path to quota (weighted pipeline to the cent), accounts at
risk and cross-adoption; the CS stand-up's accounts at risk; who may see them."""

import datetime
import html
import random
import re
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Deal, StandupPick
from accounts.quarters import Quarter
from compapp.workspace.standups import StandupError, cs_standup, standup_pick
from payouts.models import PersonPlan
from payouts.services import attainment_recompute
from tests.conftest import assign, make_account, make_person, usage

D = datetime.date
ON = D(2025, 5, 20)  # a Tuesday of 2025Q2
Q2 = Quarter(2025, 2)


def text(response) -> str:
    content = response.content.decode()
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content)))


@pytest.fixture
def europe(people):
    """Omar's Europe AEs: Charlie and four more. Hank is in the US; Ivan (Europe) has left;
    Jade (Europe) starts after the stand-up day."""
    omar = people["omar"]
    aes = [people["charlie"]]
    for name in ("dave", "erin", "frank", "gina"):
        aes.append(make_person(f"{name}@example.com", roles=["ae"], team="sales", manager=omar,
                               region="Europe"))
    make_person("hank@example.com", roles=["ae"], team="sales", manager=omar, region="US")
    make_person("ivan@example.com", roles=["ae"], team="sales", manager=omar, region="Europe",
                start=D(2023, 1, 1), end_date=D(2025, 3, 31))
    make_person("jade@example.com", roles=["ae"], team="sales", manager=omar, region="Europe",
                start=D(2025, 6, 1))
    return aes


@pytest.mark.django_db
def test_every_ae_is_picked_once_before_anyone_twice(users, europe):
    rng = random.Random(20250520)
    picks = [
        standup_pick(region="Europe", by_user=users["omar"], on=ON, rng=rng) for _ in range(20)
    ]
    names = [p.person.name for p in picks]
    everyone = sorted(p.name for p in europe)
    for cycle in range(4):
        window = picks[cycle * 5:(cycle + 1) * 5]
        assert sorted(p.person.name for p in window) == everyone, names
        assert {p.cycle for p in window} == {cycle + 1}
    # A new cycle never opens with the AE who closed the previous one.
    for n in (5, 10, 15):
        assert names[n] != names[n - 1]
    assert Counter(names) == dict.fromkeys(everyone, 4)
    assert StandupPick.objects.filter(region="Europe").count() == 20
    assert all(p.picked_by == users["omar"] for p in picks)
    # The order is random: not simply the people in turn.
    assert names[:5] != names[5:10] or names[5:10] != names[10:15]


@pytest.mark.django_db
def test_someone_joining_mid_cycle_is_picked_in_that_cycle(people, users, europe):
    rng = random.Random(7)
    first = [standup_pick(region="Europe", by_user=users["omar"], on=ON, rng=rng)
             for _ in range(3)]
    kim = make_person("kim@example.com", roles=["ae"], team="sales", manager=people["omar"],
                      region="Europe")
    rest = [standup_pick(region="Europe", by_user=users["omar"], on=ON, rng=rng)
            for _ in range(3)]
    cycle_one = [p.person for p in first + rest]
    assert kim in cycle_one and len(set(cycle_one)) == 6
    assert {p.cycle for p in first + rest} == {1}
    assert standup_pick(region="Europe", by_user=users["omar"], on=ON, rng=rng).cycle == 2


@pytest.mark.django_db
def test_only_a_manager_picks_and_only_in_a_region_with_aes(people, users, europe):
    with pytest.raises(StandupError, match="Only a manager"):
        standup_pick(region="Europe", by_user=users["fiona"], on=ON)
    with pytest.raises(StandupError, match="no AE in US"):
        standup_pick(region="US", by_user=users["maria"], on=ON)  # none in Maria's team
    assert not StandupPick.objects.exists()


@pytest.fixture
def charlie_quarter(people):
    """Charlie's 2025Q2 as of 20 May: quota $200,000; a $30,000 new annual deal won; open
    deals expected this quarter:
    | deal | stage    | close      | ARR        | probability | weighted   |
    | P-1  | lead     | 2025-06-15 | 12,345.67  | 35%         |  4,320.98  (4,320.9845)
    | P-2  | proposal | none       | 50,000.00  | 80%         | 40,000.00
    | P-3  | demo     | 2025-04-30 |  1,000.01  | 12.5%       |    125.00  (125.00125)
    Weighted pipeline = 44,445.98575 -> $44,445.99. Not counted: P-4 (next quarter), P-5
    (lost), P-6 (Dave's)."""
    charlie = people["charlie"]
    PersonPlan.objects.create(person=charlie, quarter="2025Q2", plan="ae_commission",
                              quota=Decimal("200000"))
    umbrella = make_account("UMB", name="Umbrella", health_score=2, active_users=5,
                            products=["product analytics", "session replay"])
    globex = make_account("GLX", name="Globex", health_score=8, sentiment="negative",
                          active_users=4,
                          products=["product analytics", "web analytics", "surveys"])
    quiet = make_account("QUI", name="Quiet", health_score=9, active_users=0,
                         products=list(("product analytics", "web analytics", "session replay",
                                        "feature flags", "experiments", "surveys",
                                        "data warehouse", "error tracking")))
    calm = make_account("CLM", name="Calm", health_score=9, sentiment="positive",
                        active_users=12, products=["feature flags", "llm analytics"])
    for account in (umbrella, globex, quiet, calm):
        assign(account, charlie, role="ae", start=D(2024, 1, 1))
        for month in (1, 2, 3, 4):
            usage(account, D(2025, month, 1), "1000")
    dave = make_person("dave@example.com", roles=["ae"], team="sales", manager=people["omar"],
                       region="Europe")

    def deal(external_id, stage, arr, probability, closed_on, owner=charlie, kind="new_annual"):
        Deal.objects.create(
            external_id=external_id, account=umbrella, owner=owner, kind=kind,
            arr=Decimal(arr), stage=stage,
            probability=Decimal(probability) if probability is not None else None,
            created_on=D(2025, 1, 10), closed_on=closed_on,
        )

    deal("W-1", "won", "30000", "1", D(2025, 5, 2))
    deal("P-1", "lead", "12345.67", "0.35", D(2025, 6, 15))
    deal("P-2", "proposal", "50000", "0.8", None, kind="expansion_annual")
    deal("P-3", "demo", "1000.01", "0.125", D(2025, 4, 30))
    deal("P-4", "proposal", "90000", "0.9", D(2025, 7, 1))
    deal("P-5", "lost", "70000", "0", D(2025, 5, 1))
    deal("P-6", "proposal", "80000", "0.5", D(2025, 6, 1), owner=dave)
    attainment_recompute(quarter=Q2, as_of=ON, people=[charlie])
    return charlie


@pytest.mark.django_db
def test_the_picked_ae_page_shows_path_to_quota_risk_and_adoption(client_for, users,
                                                                  charlie_quarter):
    standup_pick(region="Europe", by_user=users["omar"], on=ON, rng=random.Random(1))
    response = client_for("omar").get(
        reverse("standup_sales", args=["europe"]), {"on": ON.isoformat()}
    )
    assert response.status_code == 200
    content = response.content.decode()
    page = text(response)
    picked = re.search(r'<h2 class="picked">(.*?)<span', content, re.S).group(1).strip()
    assert picked in ("Charlie", "Dave")
    if picked == "Dave":  # pick again until Charlie's turn (once per cycle)
        client_for("omar").post(reverse("standup_sales", args=["europe"]) + f"?on={ON}")
        page = text(client_for("omar").get(reverse("standup_sales", args=["europe"]),
                                           {"on": ON.isoformat()}))
    assert "Path to quota, 2025Q2" in page
    assert "Quota (ARR to add) $200,000.00" in page
    assert "ARR added so far $30,000.00" in page
    assert "Attainment so far 15.0%" in page
    assert "still to add: $170,000.00" in page
    assert "Weighted pipeline this quarter $44,445.99" in page
    assert "of $63,345.68 ARR in 3 open deals" in page
    # (30,000 + 44,445.98575) / 200,000 = 37.2%
    assert "Attainment with the weighted pipeline 37.2%" in page
    assert "P-1 Umbrella New annual Lead 2025-06-15 $12,345.67 35.0% $4,320.98" in page
    assert "P-2 Umbrella Expansion annual Proposal no date $50,000.00 80.0% $40,000.00" in page
    assert "P-3 Umbrella New annual Demo 2025-04-30 $1,000.01 12.5% $125.00" in page
    for hidden in ("P-4", "P-5", "P-6", "W-1"):
        assert hidden not in page
    # At risk: red health and negative sentiment first, then the rest.
    at_risk = re.search(r'<table class="at-risk">(.*?)</table>', content, re.S).group(1)
    order = re.findall(r">(Umbrella|Globex|Quiet|Calm)</a>", at_risk)
    assert set(order[:2]) == {"Umbrella", "Globex"} and order[2:] == ["Quiet"]
    assert "health 2 (red)" in at_risk and "negative sentiment" in at_risk
    assert "no active users in the last month" in at_risk
    # Cross-adoption against the catalogue of 8.
    adoption = text_of(content, "adoption")
    assert "Umbrella 2 / 8 product analytics, session replay web analytics, feature flags" in (
        adoption
    )
    assert "Calm 1 / 8 feature flags (also llm analytics)" in adoption
    assert "Quiet 8 / 8" in adoption
    # (2 + 3 + 8 + 1) / 32 products
    assert "43.8% of the catalogue across 4 accounts" in page


def text_of(content: str, css_class: str) -> str:
    match = re.search(rf'<table class="{css_class}">(.*?)</table>', content, re.S)
    assert match, css_class
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))))


@pytest.mark.django_db
def test_a_manager_picks_from_the_page(client_for, people, europe):
    client = client_for("omar")
    url = reverse("standup_sales", args=["europe"]) + f"?on={ON}"
    page = text(client.get(url))
    assert "Nobody picked yet." in page and "Pick an AE at random" in page
    response = client.post(url)
    assert response["Location"] == url
    pick = StandupPick.objects.get()
    assert pick.person in europe and pick.cycle == 1  # not Hank (US), Ivan (left), Jade (later)
    page = text(client.get(url))
    assert f"{pick.person.name} is up (cycle 1)." in page
    assert f"{pick.person.name} picked" in page
    assert "Still to come:" in page and "Jade" not in page


@pytest.mark.django_db
def test_standup_pages_are_for_managers_finance_and_revops(client_for, people, europe):
    europe_url = reverse("standup_sales", args=["europe"])
    for name in ("alice", "charlie"):
        client = client_for(name)
        assert client.get(europe_url).status_code == 403
        assert client.post(europe_url).status_code == 403
        assert client.get(reverse("standup_cs")).status_code == 403
    for name in ("fiona", "rita"):
        client = client_for(name)
        page = client.get(europe_url)
        assert page.status_code == 200 and "Pick an AE at random" not in text(page)
        assert client.post(europe_url).status_code == 403  # only a manager picks
        assert client.get(reverse("standup_cs")).status_code == 200
    assert not StandupPick.objects.exists()
    assert client_for("omar").get(reverse("standup_sales", args=["asia"])).status_code == 404
    assert client_for("omar").get(reverse("standup_sales", args=["US"])).status_code == 200


@pytest.fixture
def cs_books(people):
    """Alice: Globex (red) and Acme (healthy); Bob: Initech (no active users, inherited
    10 days ago so in grace); Olga (onboarding): Hooli (negative sentiment)."""
    today = datetime.date.today()
    olga = make_person("olga@example.com", roles=["onboarding"], manager=people["maria"])
    globex = make_account("GLOBEX", name="Globex", health_score=2)
    acme = make_account("ACME", name="Acme", health_score=9)
    initech = make_account("INITECH", name="Initech", health_score=9, active_users=0)
    hooli = make_account("HOOLI", name="Hooli", sentiment="negative")
    assign(globex, people["alice"])
    assign(acme, people["alice"])
    assign(initech, people["bob"], start=today - datetime.timedelta(days=10), inherited=True)
    assign(hooli, olga, role="onboarding", start=today - datetime.timedelta(days=20))
    return dict(olga=olga, globex=globex, acme=acme, initech=initech, hooli=hooli)


@pytest.mark.django_db
def test_the_cs_standup_lists_everyones_accounts_at_risk(client_for, people, cs_books):
    response = client_for("maria").get(reverse("standup_cs"))
    assert response.status_code == 200
    page = text(response)
    assert "3 accounts at risk across 3 books" in page
    assert "Alice Technical CSM, 2 accounts 1 at risk" in page
    assert "Globex GLOBEX $0.00 health 2 (red)" in page
    assert "Initech INITECH $0.00 no active users in the last month inherited, in grace" in page
    assert "Olga Onboarding specialist, 1 account 1 at risk" in page
    assert "Hooli HOOLI $0.00 negative sentiment" in page
    assert "Acme" not in page
    # Omar's team has no CSM: he sees none of Maria's.
    assert "Globex" not in text(client_for("omar").get(reverse("standup_cs")))


@pytest.mark.django_db
def test_the_cs_standup_reads_a_fixed_number_of_queries(users, people, cs_books):
    def count():
        with CaptureQueriesContext(connection) as queries:
            rows = cs_standup(users["maria"], datetime.date.today())
        return len(queries), sum(len(r.at_risk) for r in rows)

    count()  # the user's roles and person are read once, then cached
    small, flagged = count()
    assert flagged == 3
    for i in range(5):
        csm = make_person(f"csm{i}@example.com", roles=["csm"], manager=people["maria"])
        for j in range(4):
            assign(make_account(f"C{i}-{j}", health_score=1), csm)
    large, flagged = count()
    assert flagged == 23
    assert large == small


@pytest.mark.django_db
def test_the_heading_names_the_weekday_of_its_date(client_for, people, europe):
    tuesday, friday = datetime.date(2025, 6, 10), datetime.date(2025, 6, 13)
    client = client_for("omar")
    sales = text(client.get(reverse("standup_sales", args=["europe"]), {"on": str(tuesday)}))
    assert "Tuesday, 2025-06-10" in sales and "Wednesday, 2025-06-10" not in sales
    us = text(client.get(reverse("standup_sales", args=["us"]), {"on": str(friday)}))
    assert "Friday, 2025-06-13" in us
    cs = text(client_for("maria").get(reverse("standup_cs"), {"on": str(tuesday)}))
    assert "Tuesday, 2025-06-10" in cs


@pytest.mark.django_db
def test_the_cycle_reads_as_one_story_before_and_after_the_first_pick(client_for, users,
                                                                      charlie_quarter):
    url = reverse("standup_sales", args=["europe"])
    before = text(client_for("omar").get(url, {"on": ON.isoformat()}))
    assert ("Nobody has been picked yet: the first pick starts cycle 1, and every AE is "
            "picked once before anyone twice.") in before
    assert "Everyone has had a turn" not in before and "Cycle not started" not in before
    standup_pick(region="Europe", by_user=users["omar"], on=ON, rng=random.Random(1))
    after = text(client_for("omar").get(url, {"on": ON.isoformat()}))
    assert "Cycle 1: every AE once before anyone twice." in after
    assert "Still to come:" in after and "Everyone has had a turn" not in after
