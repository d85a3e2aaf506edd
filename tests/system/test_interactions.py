"""Interactions without full page reloads (htmx): a request with the HX-Request header gets
the fragment the page swaps in; the same form without JavaScript still posts and redirects.
The browser tests (test_browser.py) drive the same in Chromium."""

import datetime
import html as htmllib
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Assignment
from accounts.quarters import Quarter
from payouts.finance import inquiry_raise
from payouts.models import Inquiry, Payout, RecomputeRun
from payouts.services import quarter_close
from tests.conftest import assign, make_account
from tests.payouts.test_recompute import alice_book  # noqa: F401 - fixture

D = datetime.date
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def acme(people):
    account = make_account("ACME", name="Acme")
    assign(account, people["alice"], start=D(2024, 1, 1))
    return account


def move(account, owner, **extra):
    return {"role": "csm", "new_owner": owner.id, "effective_date": "2025-05-01",
            "reason": "Alice's book is full", "cap_override_reason": "", **extra}


@pytest.mark.django_db
def test_a_reassignment_from_the_account_page_answers_the_result_and_the_owners(
    acme, people, client_for
):
    client = client_for("maria")
    page = client.get(reverse("account_detail", args=[acme.id])).content.decode()
    assert f'hx-post="/accounts/{acme.id}/reassign/' in page
    assert 'hx-target="#reassign-result"' in page
    response = client.post(reverse("account_reassign", args=[acme.id]),
                           move(acme, people["bob"]), **HX)
    assert response.status_code == 200
    html = htmllib.unescape(response.content.decode())
    assert "Acme is Bob's (CSM) from 2025-05-01." in html
    assert 'class="success"' in html
    assert '<table class="owners" id="owners" hx-swap-oob="true">' in html
    assert "Bob" in html.split('id="owners"')[1]
    assert Assignment.objects.get(account=acme, owner=people["bob"]).start_date == D(2025, 5, 1)
    # No message is left behind for the next page: it was shown in place.
    assert "Bob's" not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_a_refused_reassignment_says_why_in_place(acme, people, client_for):
    client = client_for("maria")
    response = client.post(reverse("account_reassign", args=[acme.id]),
                           move(acme, people["bob"], reason=""), **HX)
    assert response.status_code == 200
    assert "Not reassigned." in response.content.decode()
    assert 'class="error"' in response.content.decode()
    assert not Assignment.objects.filter(owner=people["bob"]).exists()


@pytest.mark.django_db
def test_without_javascript_the_form_posts_and_redirects(acme, people, client_for):
    client = client_for("maria")
    response = client.post(reverse("account_reassign", args=[acme.id]), move(acme, people["bob"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_detail", args=[acme.id])


@pytest.mark.django_db
def test_a_manager_reassigns_from_a_row_of_a_book(acme, people, client_for):
    client = client_for("maria")
    book = client.get(reverse("person_book", args=[people["alice"].id]), {"on": "2025-05-01"})
    html = book.content.decode()
    assert 'class="row-reassign"' in html and 'name="from" value="row"' in html
    assert f'<option value="{people["bob"].id}">Bob</option>' in html
    assert f'<option value="{people["alice"].id}">' not in html  # not to the book's owner
    response = client.post(reverse("account_reassign", args=[acme.id]),
                           move(acme, people["bob"], **{"from": "row"}), **HX)
    assert response.content.decode().strip().startswith('<div class="row-reassign row-result')
    assert "Acme is Bob's" in htmllib.unescape(response.content.decode())
    # Without JavaScript, back to the book the row was in.
    back = f"{reverse('person_book', args=[people['alice'].id])}?on=2025-05-01"
    other = make_account("OTHER", name="Other")
    assign(other, people["alice"], start=D(2024, 1, 1))
    response = client.post(reverse("account_reassign", args=[other.id]),
                           move(other, people["bob"], **{"from": "row", "next": back}))
    assert response.status_code == 302 and response["Location"] == back
    # Nobody else gets the row's form: a rep on her own book, a manager on his own.
    own = client_for("alice").get(reverse("home")).content.decode()
    assert "row-reassign" not in own


@pytest.fixture
def queue(alice_book, people):  # noqa: F811
    quarter_close(quarter=Quarter.parse("2025Q2"), today=D(2025, 7, 20))
    return Payout.objects.get(person=people["alice"], quarter="2025Q2")


@pytest.mark.django_db
def test_finance_approves_from_the_queue_and_gets_the_row_back(queue, client_for):
    client = client_for("fiona")
    page = client.get("/finance/2025Q2/").content.decode()
    assert 'hx-target="closest tr"' in page and 'name="from" value="queue"' in page
    response = client.post(reverse("finance_payout_approve", args=[queue.id]),
                           {"from": "queue", "next": "/finance/2025Q2/"}, **HX)
    assert response.status_code == 200
    html = htmllib.unescape(response.content.decode().strip())
    assert html.startswith(f'<tr id="payout-{queue.id}" data-status="approved"')
    assert '<span class="badge green">Approved</span>' in html
    assert "Alice's 2025Q2 payout approved." in html
    assert "Mark paid" in html  # the next action of the row
    queue.refresh_from_db()
    assert queue.status == "approved"
    # Approving again is refused, and the row says so.
    again = client.post(reverse("finance_payout_approve", args=[queue.id]),
                        {"from": "queue"}, **HX).content.decode()
    assert 'class="row-result error"' in again


@pytest.mark.django_db
def test_the_review_page_keeps_its_plain_forms(queue, client_for):
    client = client_for("fiona")
    page = client.get(reverse("finance_payout", args=[queue.id])).content.decode()
    actions = page.split('<div class="card">')[1].split("</div>")[0]
    assert "hx-post" not in actions
    response = client.post(reverse("finance_payout_approve", args=[queue.id]))
    assert response.status_code == 302


@pytest.mark.django_db
def test_finance_answers_an_inquiry_in_place(queue, users, client_for):
    inquiry = inquiry_raise(payout_id=queue.id, user=users["alice"], bucket="",
                            text="Why not more?")
    client = client_for("fiona")
    page = client.get(reverse("finance_payout", args=[queue.id])).content.decode()
    assert f'hx-target="#inquiry-{inquiry.id}"' in page
    refused = client.post(reverse("finance_inquiry_resolve", args=[inquiry.id]),
                          {"answer": ""}, **HX).content.decode()
    assert f'id="inquiry-{inquiry.id}"' in refused and "Not answered." in refused
    response = client.post(reverse("finance_inquiry_resolve", args=[inquiry.id]),
                           {"answer": "Retention was 110%."}, **HX)
    html = htmllib.unescape(response.content.decode())
    assert html.strip().startswith(f'<div class="card inquiry" id="inquiry-{inquiry.id}">')
    assert "Inquiry resolved." in html and "Retention was 110%." in html
    assert "<form" not in html  # resolved: nothing left to answer
    assert "HX-Refresh" not in response
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.RESOLVED


@pytest.mark.django_db
def test_an_answer_with_an_adjustment_reloads_the_page(queue, users, client_for):
    inquiry = inquiry_raise(payout_id=queue.id, user=users["alice"], bucket="", text="Refund?")
    response = client_for("fiona").post(
        reverse("finance_inquiry_resolve", args=[inquiry.id]),
        {"answer": "Refunded.", "adjustment_amount": "25.00"}, **HX)
    assert response["HX-Refresh"] == "true"
    assert queue.adjustments.get().amount == Decimal("25.00")


@pytest.mark.django_db
def test_recompute_progress_polls_a_fragment_while_the_run_runs(people, users, client_for):
    run = RecomputeRun.objects.create(quarter="2025Q2", as_of=D(2025, 7, 14), total=4, done=1,
                                      started_by=users["maria"])
    client = client_for("maria")
    page = client.get(reverse("recompute_run", args=[run.id])).content.decode()
    assert "<script>" not in page and 'style="' not in page
    assert 'hx-trigger="every 2s"' in page
    assert '<progress class="run-bar" id="run-bar" max="100" value="25">' in page
    fragment = client.get(reverse("recompute_run", args=[run.id]), **HX).content.decode()
    assert fragment.strip().startswith('<div class="card narrow run" id="run-progress"')
    assert 'hx-trigger="every 2s"' in fragment and "<h1>" not in fragment
    RecomputeRun.objects.filter(id=run.id).update(done=4, status=RecomputeRun.Status.DONE)
    done = client.get(reverse("recompute_run", args=[run.id]), **HX).content.decode()
    assert "hx-trigger" not in done  # finished: the polling stops
    assert 'id="recent-runs" hx-swap-oob="true"' in done
    assert re.search(r'value="100"', done)


@pytest.mark.django_db
def test_every_page_sends_the_csrf_token_with_htmx_requests(people, client_for):
    html = client_for("alice").get(reverse("home")).content.decode()
    assert re.search(r"<body[^>]*hx-headers='\{\"X-CSRFToken\": \"[A-Za-z0-9]+\"\}'", html)
    assert 'name="htmx-config"' in html and '"includeIndicatorStyles": false' in html
    assert "static/vendor/htmx/htmx.min.js" in html


@pytest.mark.django_db
def test_the_team_page_charts_the_attainment_distribution(alice_book, client_for):  # noqa: F811
    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-14",
                 stdout=io.StringIO())
    response = client_for("maria").get(reverse("team"), {"on": "2025-06-30"})
    page = response.content.decode()
    assert 'data-chart="chart-distribution"' in page
    bands = {band.label: band.people for band in response.context["bands"]}
    # Alice: retention 110% pays 50% of her target pay; Bob, no accounts: 0%.
    assert bands["50% to 75%"] == ["Alice"] and bands["under 25%"] == ["Bob"]
    assert sum(len(people) for people in bands.values()) == 2  # Maria's team only
    assert bands["150% and more"] == []
