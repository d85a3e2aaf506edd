"""Where each role lands and what its navigation offers (compapp/navigation.py)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.quarters import Quarter
from compapp.navigation import navigation


def nav_links(response) -> list[str]:
    nav = response.content.decode().split("<nav>", 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)"', nav)


@pytest.mark.django_db
def test_a_rep_lands_on_their_book(client_for, people, users):
    response = client_for("alice").get(reverse("home"))
    assert response.status_code == 200
    assert "My book" in response.content.decode()


@pytest.mark.django_db
def test_finance_lands_on_the_queue_of_the_current_quarter(client_for, people, users):
    response = client_for("fiona").get(reverse("home"))
    quarter = Quarter.containing(timezone.localdate())
    assert response["Location"] == reverse("finance_queue", args=[quarter])


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["maria", "omar", "rita"])
def test_managers_and_revops_land_on_the_team_page(client_for, people, users, who):
    assert client_for(who).get(reverse("home"))["Location"] == reverse("team")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "charlie", "maria", "omar", "fiona", "rita"])
def test_every_link_is_offered_once_and_opens(client_for, people, users, who):
    client = client_for(who)
    links = nav_links(client.get(reverse("my_attainment")))
    assert links and len(links) == len(set(links))
    for url in links:
        assert client.get(url, follow=True).status_code == 200, url


@pytest.mark.django_db
def test_a_rep_reaches_their_accounts_at_risk_and_not_the_managers_pages(people, users):
    urls = [link.url for group in navigation(users["charlie"]) for link in group.links]
    assert reverse("person_at_risk", args=[people["charlie"].id]) in urls
    assert reverse("team") not in urls and reverse("handoff_list") not in urls


@pytest.mark.django_db
def test_stand_ups_open_the_one_of_the_managers_team_and_link_the_others(client_for, people,
                                                                          users):
    cs = {link.label: link.url for group in navigation(users["maria"]) for link in group.links}
    sales = {link.label: link.url for group in navigation(users["omar"]) for link in group.links}
    assert cs["Stand-ups"] == reverse("standup_cs")
    assert sales["Stand-ups"] == reverse("standup_sales", args=["europe"])
    page = client_for("omar").get(sales["Stand-ups"]).content.decode()
    assert reverse("standup_cs") in page and reverse("standup_sales", args=["us"]) in page


@pytest.mark.django_db
def test_finance_sees_statements_once(client_for, people, users):
    quarter = Quarter.containing(timezone.localdate())
    page = client_for("fiona").get(reverse("finance_queue", args=[quarter]))
    assert nav_links(page).count(reverse("finance_my_statements")) == 1
