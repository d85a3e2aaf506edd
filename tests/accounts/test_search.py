"""Finding an account by name or external id, among those the person may open."""

import datetime

import pytest
from django.urls import reverse

from tests.conftest import assign, make_account

D = datetime.date


@pytest.fixture
def accounts(people):
    acme = make_account("ACME-1", name="Acme Corp")
    acme_eu = make_account("ACME-EU", name="Acme Europe")
    umbrella = make_account("UMB-7", name="Umbrella")
    former = make_account("OLD-1", name="Acme Archive")
    assign(acme, people["alice"], start=D(2024, 1, 1))
    assign(acme_eu, people["bob"], start=D(2024, 1, 1))
    assign(umbrella, people["charlie"], role="ae", start=D(2024, 1, 1))
    assign(former, people["alice"], start=D(2023, 1, 1), end=D(2024, 6, 30))
    return {"acme": acme, "acme_eu": acme_eu, "umbrella": umbrella, "former": former}


def found(client, q):
    response = client.get(reverse("account_search"), {"q": q})
    assert response.status_code == 200
    return [a.external_id for a in response.context["found"]]


@pytest.mark.django_db
def test_a_rep_finds_only_accounts_in_their_book_today(client_for, accounts):
    alice = client_for("alice")
    assert found(alice, "acme") == ["ACME-1"]  # not bob's, not the one she held in 2024
    assert found(alice, "umbrella") == []
    page = alice.get(reverse("account_search"), {"q": "umbrella"}).content.decode()
    assert "No account you may open matches “umbrella”." in page


@pytest.mark.django_db
def test_a_manager_finds_their_teams_accounts_and_finance_finds_all(client_for, accounts):
    assert found(client_for("maria"), "ACME") == ["OLD-1", "ACME-1", "ACME-EU"]  # by name
    assert found(client_for("fiona"), "um") == ["UMB-7"]
    assert found(client_for("fiona"), "ac") == ["OLD-1", "ACME-1", "ACME-EU"]


@pytest.mark.django_db
def test_an_exact_external_id_opens_the_account(client_for, accounts):
    response = client_for("alice").get(reverse("account_search"), {"q": "acme-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_detail", args=[accounts["acme"].id])
    # An external id the rep may not open is not found (no hint that it exists).
    assert found(client_for("alice"), "UMB-7") == []
