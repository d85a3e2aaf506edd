"""Customers' feature requests (SPEC 5 and 8): the account's AE or CSM (or their manager)
logs them; a churn-risk one, while open or planned, makes the account at risk; managers see
them across accounts by the ARR of the accounts asking."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.feature_requests import FeatureRequestError, feature_request_log
from accounts.models import FeatureRequest, RowChange
from accounts.quarters import add_months, last_complete_month
from accounts.risk import at_risk_reasons
from tests.conftest import assign, invoice, make_account

TODAY = timezone.localdate()
LAST = last_complete_month(TODAY)


def text(response) -> str:
    content = response.content.decode()
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content)))


@pytest.fixture
def accounts(people):
    """Alice (CSM) holds Acme ($1,200.00 ARR) and Globex ($4,800.00 ARR); Charlie (AE,
    Omar's team) holds Umbrella."""
    acme = make_account("ACME", name="Acme", health_score=8)
    globex = make_account("GLOBEX", name="Globex", health_score=8)
    umbrella = make_account("UMB", name="Umbrella", health_score=8)
    assign(acme, people["alice"])
    assign(globex, people["alice"])
    assign(umbrella, people["charlie"], role="ae")
    for n, month in enumerate([add_months(LAST, -2), add_months(LAST, -1), LAST]):
        invoice(acme, f"A-{n}", month, "100.00")
        invoice(globex, f"G-{n}", month, "400.00")
    return dict(acme=acme, globex=globex, umbrella=umbrella)


def log(account, user, text="SSO with Okta", **kw):
    return feature_request_log(
        account=account, request=text, importance=kw.pop("importance", "high"),
        by_user=user, on=TODAY, **kw,
    )


@pytest.mark.django_db
def test_the_csm_logs_a_request_from_the_account_page(client_for, users, accounts):
    client = client_for("alice")
    acme_url = reverse("account_detail", args=[accounts["acme"].id])
    new_url = reverse("feature_request_new", args=[accounts["acme"].id])
    assert new_url in client.get(acme_url).content.decode()
    response = client.post(
        new_url,
        {"request": "Funnels by cohort", "importance": "medium", "status": "open"},
        follow=True,
    )
    fr = FeatureRequest.objects.get()
    assert (fr.account, fr.request, fr.importance, fr.status, fr.churn_risk, fr.logged_by) == (
        accounts["acme"], "Funnels by cohort", "medium", "open", False, users["alice"],
    )
    assert RowChange.objects.filter(model="FeatureRequest", changed_by=users["alice"]).exists()
    page = text(response)
    assert "Feature request logged for Acme." in page
    assert "Funnels by cohort Important" in page
    assert "not at risk" in page  # not a churn risk


@pytest.mark.django_db
def test_a_churn_risk_request_makes_the_account_at_risk(client_for, users, accounts):
    acme = accounts["acme"]
    fr = log(acme, users["alice"], churn_risk=True)
    reason = "feature request marked as a churn risk: SSO with Okta"
    assert at_risk_reasons(acme, TODAY) == [reason]
    client = client_for("alice")
    assert reason in text(client.get(reverse("account_detail", args=[acme.id])))
    assert reason in text(client.get(reverse("home")))  # the book page too
    # Planned still counts; shipped no longer does.
    client.post(reverse("feature_request_update", args=[fr.id]),
                {"status": "planned", "churn_risk": "on"})
    assert at_risk_reasons(acme, TODAY) == [reason]
    client.post(reverse("feature_request_update", args=[fr.id]), {"status": "shipped"})
    fr.refresh_from_db()
    assert (fr.status, fr.churn_risk) == ("shipped", False)
    assert at_risk_reasons(acme, TODAY) == []
    assert RowChange.objects.filter(source="feature_request_update").count() == 2


@pytest.mark.django_db
def test_a_request_logged_after_the_as_of_date_is_not_counted_then(users, accounts):
    log(accounts["acme"], users["alice"], churn_risk=True)
    assert at_risk_reasons(accounts["acme"], TODAY - datetime.timedelta(days=1)) == []


@pytest.mark.django_db
def test_a_churn_risk_request_shows_on_the_at_risk_ranking(users, people, accounts):
    from accounts.quarters import Quarter
    from payouts.risk import at_risk

    log(accounts["globex"], users["alice"], text="EU data residency", churn_risk=True)
    rows = at_risk(people["alice"], Quarter.containing(TODAY), TODAY)
    assert [(r.external_id, r.reasons) for r in rows] == [
        ("GLOBEX", ["feature request marked as a churn risk: EU data residency"])
    ]


@pytest.mark.django_db
def test_who_may_log_a_request(client_for, users, accounts):
    acme = accounts["acme"]
    log(acme, users["maria"], text="From the manager")  # Alice's manager may
    with pytest.raises(FeatureRequestError, match="Only Acme's AE or CSM, or their manager"):
        log(acme, users["bob"])  # a teammate does not own it
    with pytest.raises(FeatureRequestError):
        log(acme, users["fiona"])  # finance sees it but does not log
    new_url = reverse("feature_request_new", args=[acme.id])
    assert client_for("bob").get(new_url).status_code == 404
    assert client_for("omar").get(new_url).status_code == 404
    assert client_for("fiona").get(new_url).status_code == 403
    assert client_for("bob").post(new_url, {"request": "x", "importance": "low",
                                            "status": "open"}).status_code == 404
    fr = FeatureRequest.objects.get()
    assert client_for("omar").post(reverse("feature_request_update", args=[fr.id]),
                                   {"status": "declined"}).status_code == 404
    fr.refresh_from_db()
    assert fr.status == "open" and FeatureRequest.objects.count() == 1


@pytest.mark.django_db
def test_managers_see_requests_across_accounts_by_arr(client_for, users, accounts):
    log(accounts["acme"], users["alice"], text="Cohort funnels", importance="low")
    log(accounts["globex"], users["alice"], text="EU data residency", churn_risk=True)
    log(accounts["umbrella"], users["charlie"], text="Terraform provider")
    client = client_for("maria")
    url = reverse("feature_request_list")
    content = client.get(url).content.decode()
    page = text(client.get(url))
    assert "2 accounts asking, $6,000.00 ARR between them" in page
    assert "Globex $4,800.00 EU data residency Critical to them Open churn risk" in page
    assert "Acme $1,200.00 Cohort funnels Nice to have Open" in page
    assert "Terraform provider" not in page  # Charlie is not in Maria's team
    assert content.index("EU data residency") < content.index("Cohort funnels")
    ascending = client.get(url, {"sort": "arr"}).content.decode()
    assert ascending.index("Cohort funnels") < ascending.index("EU data residency")
    only_churn = text(client.get(url, {"churn_risk": "on"}))
    assert "EU data residency" in only_churn and "Cohort funnels" not in only_churn
    # RevOps sees every account; reps and finance get 403.
    assert "Terraform provider" in text(client_for("rita").get(url))
    for name in ("alice", "charlie", "fiona"):
        assert client_for(name).get(url).status_code == 403


@pytest.mark.django_db
def test_the_list_reads_a_fixed_number_of_queries(client_for, users, people, accounts):
    client = client_for("maria")
    url = reverse("feature_request_list")
    client.get(url)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    log(accounts["acme"], users["alice"])
    small = count()
    for i in range(10):
        account = make_account(f"F-{i}")
        assign(account, people["bob"])
        log(account, users["bob"], text=f"request {i}")
    assert count() == small
