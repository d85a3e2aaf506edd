"""Errors, with DEBUG off as the run command and a deployment serve: an unknown address, an
object that is not yours, a page your role does not open and a server error each show the
product's own page with its navigation, never Django's debug pages (URL patterns, settings,
tracebacks); the favicon answers before any login."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client, override_settings
from django.urls import path, reverse

import compapp.urls
from tests.conftest import assign, make_account

DEBUG_PAGE_MARKS = ("URLconf", "Traceback", "Django tried these URL patterns", "SECRET_KEY",
                    "compapp.urls", "Request Method")
NAVIGATION = ('href="/attainment/"', "My attainment", "Log out")


def boom(request):
    raise RuntimeError("internal detail of the failure: do not show")


def broken_database(request):
    """A view whose query fails: the transaction is aborted, so every later query of the
    request (the navigation's roles among them) fails as well."""
    with connection.cursor() as cursor:
        try:
            cursor.execute("SELECT 1 / 0")
        except Exception:
            pass
    raise RuntimeError("after a database error")


def refused(request):
    raise PermissionDenied("Only the account's AE or CSM, or their manager, logs requests.")


# This module is the URLconf of the tests below: the product's, with views that fail.
urlpatterns = [
    path("test-only/boom/", boom),
    path("test-only/broken-database/", broken_database),
    path("test-only/refused/", refused),
    *compapp.urls.urlpatterns,
]
handler500 = compapp.urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("debug_off")]


@pytest.fixture
def debug_off():
    with override_settings(DEBUG=False, ROOT_URLCONF=__name__):
        yield


def text(response):
    return response.content.decode()


def main(response):
    page = text(response)
    return page[page.index("<main>"):page.index("</main>")]


def assert_products_page(response, status, heading, *, navigation=True):
    page = text(response)
    assert response.status_code == status
    assert heading in page
    assert '<a class="brand" href="/">Compensation</a>' in page
    assert 'href="/static/css/app.css"' in page  # styled like every page
    for mark in DEBUG_PAGE_MARKS:
        assert mark not in page, mark
    for item in NAVIGATION:
        assert (item in page) is navigation, item


def test_an_unknown_address_shows_the_products_404_with_the_navigation(client_for):
    response = client_for("alice").get("/no-such-page/")
    assert_products_page(response, 404, "This page does not exist")
    assert [t.name for t in response.templates][0] == "404.html"


def test_an_account_that_is_not_yours_answers_the_same_404_as_a_missing_one(client_for, people):
    bobs = make_account("A-BOB")
    assign(bobs, people["bob"])
    alices = make_account("A-ALICE")
    assign(alices, people["alice"])
    client = client_for("alice")
    assert client.get(reverse("account_detail", args=[alices.id])).status_code == 200
    not_hers = client.get(reverse("account_detail", args=[bobs.id]))
    assert_products_page(not_hers, 404, "This page does not exist")
    assert "A-BOB" not in text(not_hers)
    missing = client.get(reverse("account_detail", args=[bobs.id + alices.id + 1000]))
    assert missing.status_code == 404
    assert main(missing) == main(not_hers)  # nothing tells an outsider that it exists


def test_a_page_the_role_does_not_open_shows_the_products_403(client_for):
    response = client_for("alice").get(reverse("finance_home"))
    assert_products_page(response, 403, "Your role does not open this page")


def test_a_refusal_with_a_reason_shows_the_reason(client_for):
    response = client_for("alice").get("/test-only/refused/")
    assert_products_page(response, 403, "Your role does not open this page")
    assert "Only the account&#x27;s AE or CSM, or their manager, logs requests." in text(response)


def test_a_server_error_shows_the_products_500_with_the_navigation(users):
    client = Client(raise_request_exception=False)
    client.force_login(users["alice"])
    response = client.get("/test-only/boom/")
    assert_products_page(response, 500, "Something went wrong on our side")
    assert "internal detail" not in text(response)


def test_a_server_error_that_breaks_the_database_still_shows_the_products_500(users):
    """The navigation needs the database (the user's roles); the page renders without it."""
    client = Client(raise_request_exception=False)
    client.force_login(users["alice"])
    response = client.get("/test-only/broken-database/")
    assert_products_page(response, 500, "Something went wrong on our side", navigation=False)
    assert "after a database error" not in text(response)


def test_a_form_sent_without_its_token_shows_the_products_403():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "x@example.com", "password": "x"})
    assert_products_page(response, 403, "This form has expired", navigation=False)


def test_the_favicon_answers_before_any_login_and_every_page_links_it(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/x-icon"
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    login = text(client.get(reverse("login")))
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200
    assert b"<svg" in b"".join(svg.streaming_content)
